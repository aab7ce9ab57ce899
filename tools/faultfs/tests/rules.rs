//! faultfs through a real mount: the durability rules, the injected faults, locks, and a cut
//! that leaves programs still using the mount with errors, never a hang. Every test skips
//! (or, with GATEHOUSE_REQUIRE_FUSE=1, fails) where FUSE is unavailable, and every wait has a
//! deadline.

#![cfg(target_os = "linux")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly

use faultfs::{Fault, FaultFs};
use std::fs::{self, File, OpenOptions};
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::fs::{DirBuilderExt, FileExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};
use tempfile::TempDir;

const EIO: i32 = libc::EIO;
const ENOSPC: i32 = libc::ENOSPC;
/// Long enough never to fail a healthy run on a loaded machine; short enough to end a hang.
const DEADLINE: Duration = Duration::from_secs(20);

/// A faultfs over a copy of `files` (name, bytes), or None where FUSE is unavailable.
fn mount_with(files: &[(&str, &[u8])]) -> Option<(FaultFs, TempDir)> {
    if !FaultFs::available_for_tests() {
        return None;
    }
    let scratch = tempfile::tempdir().unwrap();
    let source = scratch.path().join("source");
    fs::create_dir(&source).unwrap();
    for (name, bytes) in files {
        fs::write(source.join(name), bytes).unwrap();
    }
    Some((FaultFs::mount(&source).unwrap(), scratch))
}

/// Cuts the power and returns the folder a cut leaves.
fn cut(fs: FaultFs, scratch: &TempDir) -> PathBuf {
    let image = scratch.path().join("image");
    fs.cut_power(&image).unwrap();
    image
}

fn sync_dir(dir: &Path) {
    File::open(dir).unwrap().sync_all().unwrap();
}

fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> =
        fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    names.sort();
    names
}

fn rw(path: &Path) -> File {
    OpenOptions::new().read(true).write(true).open(path).unwrap()
}

fn mounted(path: &Path) -> bool {
    let mounts = fs::read_to_string("/proc/self/mountinfo").unwrap();
    mounts.lines().any(|l| l.split(' ').nth(4) == Some(path.to_str().unwrap()))
}

#[test]
fn a_file_and_its_folder_fsynced_survive_a_cut() {
    let Some((fs, scratch)) = mount_with(&[]) else { return };
    let mut f = File::create(fs.path().join("kept")).unwrap();
    f.write_all(b"durable").unwrap();
    f.sync_all().unwrap();
    sync_dir(fs.path());
    let image = cut(fs, &scratch);
    assert_eq!(fs::read(image.join("kept")).unwrap(), b"durable");
}

#[test]
fn writes_not_fsynced_are_lost_in_a_cut() {
    let Some((fs, scratch)) = mount_with(&[("data", b"old")]) else { return };
    let f = rw(&fs.path().join("data"));
    f.write_all_at(b"new and longer", 0).unwrap();
    assert_eq!(fs::read(fs.path().join("data")).unwrap(), b"new and longer", "live");
    let image = cut(fs, &scratch);
    assert_eq!(fs::read(image.join("data")).unwrap(), b"old");
}

#[test]
fn a_file_survives_as_of_its_last_fsync_bytes_and_size() {
    let Some((fs, scratch)) = mount_with(&[("log", b"")]) else { return };
    let f = rw(&fs.path().join("log"));
    f.write_all_at(b"first", 0).unwrap();
    f.sync_data().unwrap();
    f.write_all_at(b" second", 5).unwrap();
    f.write_all_at(b"F", 0).unwrap();
    let image = cut(fs, &scratch);
    assert_eq!(fs::read(image.join("log")).unwrap(), b"first");
}

#[test]
fn a_file_fsynced_in_a_folder_never_fsynced_is_gone() {
    let Some((fs, scratch)) = mount_with(&[("old", b"1")]) else { return };
    fs::create_dir(fs.path().join("sub")).unwrap();
    let mut f = File::create(fs.path().join("new")).unwrap();
    f.write_all(b"2").unwrap();
    f.sync_all().unwrap();
    let image = cut(fs, &scratch);
    assert_eq!(names(&image), ["old"], "neither the file nor the folder made it");
}

#[test]
fn a_created_file_whose_folder_was_fsynced_survives_empty_without_its_own_fsync() {
    let Some((fs, scratch)) = mount_with(&[]) else { return };
    let mut f = File::create(fs.path().join("new")).unwrap();
    sync_dir(fs.path());
    f.write_all(b"never fsynced").unwrap();
    let image = cut(fs, &scratch);
    assert_eq!(fs::read(image.join("new")).unwrap(), b"");
}

#[test]
fn a_rename_over_a_file_survives_only_with_the_folder_fsync() {
    for sync_folder in [false, true] {
        let Some((fs, scratch)) = mount_with(&[("conf", b"old")]) else { return };
        let tmp = fs.path().join("conf.tmp");
        let mut f = File::create(&tmp).unwrap();
        f.write_all(b"new").unwrap();
        f.sync_all().unwrap();
        fs::rename(&tmp, fs.path().join("conf")).unwrap();
        if sync_folder {
            sync_dir(fs.path());
        }
        let image = cut(fs, &scratch);
        let want: &[u8] = if sync_folder { b"new" } else { b"old" };
        assert_eq!(fs::read(image.join("conf")).unwrap(), want, "folder fsynced: {sync_folder}");
        assert_eq!(names(&image), ["conf"]);
    }
}

#[test]
fn an_unlink_or_rmdir_is_undone_by_a_cut_before_the_folder_fsync() {
    let Some((fs, scratch)) = mount_with(&[("a", b"still here")]) else { return };
    fs::create_dir(fs.path().join("d")).unwrap();
    sync_dir(fs.path());
    fs::remove_file(fs.path().join("a")).unwrap();
    fs::remove_dir(fs.path().join("d")).unwrap();
    assert!(names(fs.path()).is_empty(), "live");
    let image = cut(fs, &scratch);
    assert_eq!(names(&image), ["a", "d"]);
    assert_eq!(fs::read(image.join("a")).unwrap(), b"still here");
}

#[test]
fn a_mkdir_and_what_it_holds_survive_with_the_fsyncs_of_both_folders() {
    let Some((fs, scratch)) = mount_with(&[]) else { return };
    let sub = fs.path().join("blobs");
    fs::create_dir(&sub).unwrap();
    let mut f = File::create(sub.join("1")).unwrap();
    f.write_all(b"blob").unwrap();
    f.sync_all().unwrap();
    sync_dir(&sub);
    sync_dir(fs.path());
    let image = cut(fs, &scratch);
    assert_eq!(fs::read(image.join("blobs/1")).unwrap(), b"blob");
}

#[test]
fn a_failed_fsync_loses_its_writes_and_a_later_good_one_saves_only_newer_bytes() {
    let Some((fs, scratch)) = mount_with(&[("data", b"aaaa")]) else { return };
    let f = rw(&fs.path().join("data"));
    f.write_all_at(b"bb", 0).unwrap();
    fs.fail_next(Fault::Sync);
    assert_eq!(f.sync_all().unwrap_err().raw_os_error(), Some(EIO));
    f.write_all_at(b"c", 3).unwrap();
    f.sync_all().unwrap();
    assert_eq!(fs::read(fs.path().join("data")).unwrap(), b"bbac", "live");
    let image = cut(fs, &scratch);
    assert_eq!(fs::read(image.join("data")).unwrap(), b"aaac");
}

#[test]
fn writes_fail_with_enospc_beyond_the_byte_budget_until_cleared() {
    let Some((fs, _scratch)) = mount_with(&[]) else { return };
    let f = File::create(fs.path().join("f")).unwrap();
    fs.fail_after_bytes(10);
    f.write_all_at(b"123456", 0).unwrap();
    let err = f.write_all_at(b"789abc", 6).unwrap_err();
    assert_eq!(err.raw_os_error(), Some(ENOSPC));
    f.write_all_at(b"7890", 6).unwrap(); // what is left still fits
    assert_eq!(f.write_all_at(b"x", 10).unwrap_err().raw_os_error(), Some(ENOSPC));
    fs.clear_faults();
    f.write_all_at(b"x", 10).unwrap();
    assert_eq!(fs::read(fs.path().join("f")).unwrap(), b"1234567890x");
}

#[test]
fn the_kth_write_fails_with_eio_once() {
    let Some((fs, _scratch)) = mount_with(&[]) else { return };
    let f = File::create(fs.path().join("f")).unwrap();
    let before = fs.seen(Fault::Write);
    fs.fail_at(Fault::Write, 3);
    f.write_all_at(b"1", 0).unwrap();
    f.write_all_at(b"2", 1).unwrap();
    assert_eq!(f.write_all_at(b"3", 2).unwrap_err().raw_os_error(), Some(EIO));
    f.write_all_at(b"4", 2).unwrap();
    assert_eq!(fs.seen(Fault::Write), before + 4);
    assert_eq!(fs.seen(Fault::NoSpace), before + 4, "the same count");
    assert_eq!(fs::read(fs.path().join("f")).unwrap(), b"124");
}

#[test]
fn the_next_write_fails_with_enospc_once() {
    let Some((fs, _scratch)) = mount_with(&[]) else { return };
    let f = File::create(fs.path().join("f")).unwrap();
    fs.fail_next(Fault::NoSpace);
    assert_eq!(f.write_all_at(b"1", 0).unwrap_err().raw_os_error(), Some(ENOSPC));
    f.write_all_at(b"1", 0).unwrap();
}

#[test]
fn the_kth_fsync_or_fsyncdir_fails_with_eio_once() {
    let Some((fs, _scratch)) = mount_with(&[]) else { return };
    let f = File::create(fs.path().join("f")).unwrap();
    let before = fs.seen(Fault::Sync);
    fs.fail_at(Fault::Sync, 2);
    f.sync_all().unwrap();
    assert_eq!(File::open(fs.path()).unwrap().sync_all().unwrap_err().raw_os_error(), Some(EIO));
    f.sync_data().unwrap();
    sync_dir(fs.path());
    assert_eq!(fs.seen(Fault::Sync), before + 4, "fsync and fsyncdir both count");
}

#[test]
fn seen_counts_each_write_request() {
    let Some((fs, _scratch)) = mount_with(&[]) else { return };
    let f = File::create(fs.path().join("f")).unwrap();
    let before = fs.seen(Fault::Write);
    for i in 0..5 {
        f.write_all_at(b"x", i).unwrap();
    }
    assert_eq!(fs.seen(Fault::Write), before + 5);
    assert_eq!(fs.seen(Fault::Sync), 0, "nothing fsynced yet");
}

#[test]
fn pread_pwrite_truncate_and_modes_work_and_a_clean_unmount_keeps_them() {
    let Some((fs, scratch)) = mount_with(&[]) else { return };
    let dir = fs.path().join("private");
    std::fs::DirBuilder::new().mode(0o700).create(&dir).unwrap();
    let path = dir.join("f");
    let f = OpenOptions::new().read(true).write(true).create_new(true).mode(0o600).open(&path);
    let f = f.unwrap();
    f.write_all_at(b"hello world", 0).unwrap();
    f.write_all_at(b"W", 6).unwrap();
    let mut buf = [0; 5];
    f.read_exact_at(&mut buf, 6).unwrap();
    assert_eq!(&buf, b"World");
    f.set_len(5).unwrap();
    assert_eq!(fs::metadata(&path).unwrap().len(), 5);
    f.set_len(7).unwrap();
    let mut all = Vec::new();
    File::open(&path).unwrap().read_to_end(&mut all).unwrap();
    assert_eq!(all, b"hello\0\0");
    assert_eq!(fs::metadata(&path).unwrap().permissions().mode() & 0o7777, 0o600);
    assert_eq!(fs::metadata(&dir).unwrap().permissions().mode() & 0o7777, 0o700);
    fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).unwrap();
    drop(f);
    let out = scratch.path().join("out");
    fs.unmount(&out).unwrap();
    assert_eq!(fs::read(out.join("private/f")).unwrap(), b"hello\0\0");
    let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o7777;
    assert_eq!(mode(&out.join("private/f")), 0o640);
    assert_eq!(mode(&out.join("private")), 0o700);
}

#[test]
fn a_mode_change_survives_a_cut_only_with_an_fsync() {
    let Some((fs, scratch)) = mount_with(&[("synced", b""), ("unsynced", b"")]) else { return };
    for name in ["synced", "unsynced"] {
        let path = fs.path().join(name);
        fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
    }
    File::open(fs.path().join("synced")).unwrap().sync_all().unwrap();
    let image = cut(fs, &scratch);
    let mode = |n: &str| fs::metadata(image.join(n)).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode("synced"), 0o600);
    assert_ne!(mode("unsynced"), 0o600);
}

#[test]
fn rename_replaces_an_existing_file() {
    let Some((fs, scratch)) = mount_with(&[("a", b"from a"), ("b", b"from b")]) else { return };
    let held = File::open(fs.path().join("b")).unwrap(); // the replaced file stays readable
    fs::rename(fs.path().join("a"), fs.path().join("b")).unwrap();
    assert_eq!(names(fs.path()), ["b"]);
    assert_eq!(fs::read(fs.path().join("b")).unwrap(), b"from a");
    let mut old = Vec::new();
    (&held).read_to_end(&mut old).unwrap();
    assert_eq!(old, b"from b");
    drop(held);
    let out = scratch.path().join("out");
    fs.unmount(&out).unwrap();
    assert_eq!(names(&out), ["b"]);
    assert_eq!(fs::read(out.join("b")).unwrap(), b"from a");
}

/// Runs `command`, killed at the deadline. Its exit code.
fn exit_code(command: &mut Command) -> i32 {
    let mut child = command.stdin(Stdio::null()).spawn().unwrap();
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status.code().unwrap_or(-1);
        }
        if start.elapsed() > DEADLINE {
            child.kill().unwrap();
            child.wait().unwrap();
            panic!("{command:?} did not end within {DEADLINE:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn an_exclusive_flock_excludes_another_process() {
    let Some((fs, _scratch)) = mount_with(&[("db", b"")]) else { return };
    let path = fs.path().join("db");
    let mine = rw(&path);
    rustix::fs::flock(&mine, rustix::fs::FlockOperation::NonBlockingLockExclusive).unwrap();
    // flock(1) -n: fail at once (with -E's code) rather than wait for the lock.
    let other = || exit_code(Command::new("flock").args(["-n", "-E", "42"]).arg(&path).arg("true"));
    assert_eq!(other(), 42, "another process must not get the lock");
    rustix::fs::flock(&mine, rustix::fs::FlockOperation::Unlock).unwrap();
    assert_eq!(other(), 0, "free once released");
}

#[test]
fn after_a_cut_another_thread_gets_an_error_at_once() {
    let Some((fs, scratch)) = mount_with(&[("data", b"some bytes")]) else { return };
    let file = rw(&fs.path().join("data"));
    let (go, wait) = mpsc::channel::<()>();
    let (tx, results) = mpsc::channel();
    std::thread::spawn(move || {
        wait.recv().unwrap();
        let start = Instant::now();
        let read = file.read_at(&mut [0; 4], 0).map_err(|e| e.raw_os_error());
        let write = file.write_at(b"x", 0).map_err(|e| e.raw_os_error());
        let sync = file.sync_all().map_err(|e| e.raw_os_error());
        let _ = tx.send((read, write, sync, start.elapsed()));
    });
    let path = fs.path().to_path_buf();
    cut(fs, &scratch);
    go.send(()).unwrap();
    let (read, write, sync, took) = results.recv_timeout(DEADLINE).expect("no hang after a cut");
    // EIO from the request loop, or ENOTCONN once the cut has aborted the connection.
    for answer in [read.map(drop), write.map(drop), sync] {
        assert!(matches!(answer, Err(Some(EIO | libc::ENOTCONN))), "{answer:?}");
    }
    assert!(took < Duration::from_secs(5), "answered at once, took {took:?}");
    assert!(!mounted(&path), "the mount point is unmounted (lazily, the file being open)");
}

#[test]
fn after_a_cut_another_process_gets_eio_at_once() {
    let Some((fs, scratch)) = mount_with(&[("data", b"some bytes")]) else { return };
    // The shell holds the file open on fd 3 across the cut, then reads and writes through it.
    let script = r#"exec 3<>"$1"; echo opened; read go
        if head -c 1 <&3 >/dev/null 2>&1; then echo read-ok; else echo read-failed; fi
        if head -c 1 /dev/zero >&3 2>/dev/null; then echo write-ok; else echo write-failed; fi"#;
    let mut child = Command::new("sh")
        .args(["-c", script, "sh"])
        .arg(fs.path().join("data"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let next = || lines.recv_timeout(DEADLINE);
    let opened = next();
    if opened.as_deref() != Ok("opened") {
        let _ = child.kill();
        let _ = child.wait();
        panic!("the shell did not open the file: {opened:?}");
    }
    cut(fs, &scratch);
    let start = Instant::now();
    stdin.write_all(b"go\n").unwrap();
    let got = (next(), next());
    let took = start.elapsed();
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(got, (Ok("read-failed".into()), Ok("write-failed".into())));
    assert!(took < Duration::from_secs(10), "answered at once, took {took:?}");
}

#[test]
fn dropping_unmounts_even_with_a_file_open() {
    let Some((fs, _scratch)) = mount_with(&[("data", b"x")]) else { return };
    let path = fs.path().to_path_buf();
    let file = File::open(path.join("data")).unwrap();
    assert!(mounted(&path));
    let start = Instant::now();
    drop(fs);
    assert!(start.elapsed() < DEADLINE);
    assert!(!mounted(&path));
    let answer = file.read_at(&mut [0; 1], 0).unwrap_err().raw_os_error();
    assert!(matches!(answer, Some(EIO | libc::ENOTCONN)), "{answer:?}");
}

#[test]
fn a_mount_left_by_a_killed_process_is_swept_by_the_next_mount() {
    if !FaultFs::available_for_tests() {
        return;
    }
    let scratch = tempfile::tempdir().unwrap();
    let mut holder = Command::new(env!("CARGO_BIN_EXE_faultfs-hold"))
        .arg(scratch.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = holder.stdout.take().unwrap();
    let (tx, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let at = PathBuf::from(lines.recv_timeout(DEADLINE).expect("faultfs-hold mounts"));
    assert!(mounted(&at));
    holder.kill().unwrap(); // SIGKILL: no chance to unmount
    holder.wait().unwrap();
    // Cut off by the kernel (or already swept by a test running beside this one).
    let dead = fs::metadata(&at).unwrap_err().raw_os_error();
    assert!(matches!(dead, Some(libc::ENOTCONN | libc::ENOENT)), "{dead:?}");
    let (fs, _scratch) = mount_with(&[]).unwrap();
    assert!(!mounted(&at), "swept");
    // A sweep by a test running beside this one may still be removing the mount point.
    let start = Instant::now();
    while at.exists() && start.elapsed() < DEADLINE {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(!at.exists(), "its mount point removed");
    drop(fs);
}

#[test]
fn a_process_that_exits_with_a_file_open_on_a_cut_off_mount_still_exits() {
    if !FaultFs::available_for_tests() {
        return;
    }
    let scratch = tempfile::tempdir().unwrap();
    let image = scratch.path().join("image");
    let mut holder = Command::new(env!("CARGO_BIN_EXE_faultfs-hold"))
        .arg(scratch.path().join("source"))
        .arg("--leak-after-cut")
        .arg(&image)
        .stdin(Stdio::null())
        .spawn()
        .unwrap();
    // Closing the file as it exits sends a FLUSH nobody answers unless the connection was
    // aborted when the power was cut: it would never exit.
    let start = Instant::now();
    let status = loop {
        if let Some(status) = holder.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > DEADLINE {
            let _ = holder.kill();
            panic!("the process hung at exit on a file left open on a cut-off mount");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success());
    assert!(image.is_dir(), "the cut wrote its image");
}
