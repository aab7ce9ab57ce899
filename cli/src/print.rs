//! Standard output that a closed reader cannot crash. `gatehouse users list | head -1`: once
//! `head` has its line and goes, a write fails with a broken pipe, and `println!` would panic.
//! Here the command ends quietly with exit 0 instead (the reader took what it wanted); any other
//! failure to write (a full disk behind `> file`) ends it with exit 1 and a sentence.

use std::io::{ErrorKind, Write};

/// `println!` for standard output, through [`write`].
macro_rules! say {
    () => { $crate::print::write(format_args!(""), true) };
    ($($arg:tt)*) => { $crate::print::write(format_args!($($arg)*), true) };
}

/// `print!` for standard output, through [`write`].
macro_rules! say_part {
    ($($arg:tt)*) => { $crate::print::write(format_args!($($arg)*), false) };
}

pub(crate) use {say, say_part};

pub fn write(args: std::fmt::Arguments<'_>, line: bool) {
    let mut out = std::io::stdout().lock();
    let written =
        out.write_fmt(args).and_then(|()| if line { out.write_all(b"\n") } else { Ok(()) });
    if let Err(e) = written {
        if e.kind() == ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        // Not through stdout: that is what failed.
        eprintln!("error: the output could not be written: {e}");
        std::process::exit(1);
    }
}
