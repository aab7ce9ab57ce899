//! Mounts SOURCE through faultfs, prints the mount point, and holds the mount until stdin
//! closes, then unmounts. For trying faultfs by hand, and for the test of a process killed
//! while it holds a mount.
//!
//! Usage: faultfs-hold SOURCE

#[cfg(target_os = "linux")]
fn main() {
    use std::io::{Read, Write};
    let Some(source) = std::env::args_os().nth(1) else {
        eprintln!("usage: faultfs-hold SOURCE");
        std::process::exit(2);
    };
    match faultfs::FaultFs::mount(std::path::Path::new(&source)) {
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
