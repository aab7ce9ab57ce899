//! Mounts SOURCE through faultfs, prints the mount point, and holds the mount until stdin
//! closes, then unmounts. For trying faultfs by hand, and for the test of a process killed
//! while it holds a mount. With `--leak-after-cut IMAGE` it instead opens a file on the mount,
//! cuts the power into IMAGE, and exits with the file still open (as a store left unclosed on
//! a failed disk does): the test that such a process still exits.
//!
//! Usage: faultfs-hold SOURCE [--leak-after-cut IMAGE]

#[cfg(target_os = "linux")]
fn main() {
    use std::io::{Read, Write};
    let Some(source) = std::env::args_os().nth(1) else {
        eprintln!("usage: faultfs-hold SOURCE");
        std::process::exit(2);
    };
    let leak_into = std::env::args_os().nth(3);
    match faultfs::FaultFs::mount(std::path::Path::new(&source)) {
        Ok(fs) if leak_into.is_some() => {
            let file = std::fs::File::create(fs.path().join("left-open"));
            let cut = leak_into.map(|image| fs.cut_power(std::path::Path::new(&image)));
            if !matches!((&file, &cut), (Ok(_), Some(Ok(())))) {
                eprintln!("faultfs-hold: {file:?} {cut:?}");
                std::process::exit(1);
            }
            std::mem::forget(file); // closed only as the process exits
        }
        Ok(fs) => {
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{}", fs.path().display());
            let _ = out.flush();
            let _ = std::io::stdin().read_to_end(&mut Vec::new());
        }
        Err(e) => {
            eprintln!("faultfs-hold: {e}");
            std::process::exit(1);
        }
    }
}

#[cfg(not(target_os = "linux"))]
fn main() {
    eprintln!("faultfs-hold: Linux only");
    std::process::exit(1);
}
