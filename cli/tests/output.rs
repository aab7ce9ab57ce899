//! `gatehouse` when its output cannot be written: a reader that has gone
//! (`gatehouse users list | head -1`) ends the command quietly with exit 0, a full disk ends it
//! with exit 1 and a sentence; never a panic. Through the real binary.
#![cfg(unix)]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::os::fd::OwnedFd;
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::process::{Command, Output, Stdio};

const OWNER: &str = "olivia@acme.example";
const PASSWORD: &str = "correct horse battery staple 7";

fn gatehouse(data: &Path, args: &[&str], stdout: Stdio) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gatehouse"))
        .args(args)
        .env("GATEHOUSE_DATA_DIR", data)
        .env("GATEHOUSE_PASSWORD", PASSWORD)
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(Stdio::piped())
        .output()
        .unwrap()
}

fn set_up() -> tempfile::TempDir {
    let data = tempfile::tempdir().unwrap();
    let setup = ["setup", "--org", "Acme", "--name", "Olivia Owner", "--email", OWNER];
    let out = gatehouse(data.path(), &setup, Stdio::null());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    data
}

/// An output whose reader has already gone: every write to it fails with a broken pipe.
fn reader_gone() -> Stdio {
    let (ours, theirs) = UnixStream::pair().unwrap();
    drop(ours);
    Stdio::from(OwnedFd::from(theirs))
}

#[test]
fn a_reader_that_has_gone_ends_the_command_quietly() {
    let data = set_up();
    for args in [&["users", "list", "--as", OWNER][..], &["--json", "users", "list", "--as", OWNER]]
    {
        let out = gatehouse(data.path(), args, reader_gone());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert!(!stderr.contains("error"), "{args:?}: {stderr}");
    }
    // Still whole: the same command to a reader that stays prints the Owner.
    let out = gatehouse(data.path(), &["users", "list", "--as", OWNER], Stdio::piped());
    assert!(String::from_utf8_lossy(&out.stdout).contains(OWNER));
}

#[test]
fn a_full_disk_behind_the_output_ends_the_command_with_exit_1_and_a_sentence() {
    let Ok(full) = std::fs::OpenOptions::new().write(true).open("/dev/full") else {
        eprintln!("no /dev/full here: skipped");
        return;
    };
    let data = set_up();
    let out = gatehouse(data.path(), &["users", "list", "--as", OWNER], Stdio::from(full));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("error: the output could not be written"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}
