//! Data at rest: the data folder and everything Gatehouse writes in it is readable by the OS
//! user alone (0700 folders, 0600 files), whatever the umask, and an older, looser folder is
//! tightened when it opens.
#![cfg(unix)]

use gatehouse_core::files;
use gatehouse_core::{Directory, SystemClock};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// These tests change the process umask: one at a time.
static UMASK: Mutex<()> = Mutex::new(());

fn mode(path: &Path) -> u32 {
    std::fs::symlink_metadata(path).unwrap().permissions().mode() & 0o7777
}

/// Every path under `root` (itself included) whose mode is not 0700 (folders) or 0600.
fn loose(root: &Path) -> Vec<(PathBuf, u32)> {
    let mut out = Vec::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(path) = pending.pop() {
        let meta = std::fs::symlink_metadata(&path).unwrap();
        let want = if meta.is_dir() { 0o700 } else { 0o600 };
        if mode(&path) != want {
            out.push((path.clone(), mode(&path)));
        }
        if meta.is_dir() {
            pending.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
        }
    }
    out
}

fn set(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

#[test]
fn an_existing_loose_data_folder_is_tightened_when_it_opens() {
    let _one = UMASK.lock().unwrap_or_else(|p| p.into_inner());
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("gatehouse");
    let store = files::prepare_data_folder(&data).unwrap();
    drop(Directory::open(&store, Arc::new(SystemClock)).unwrap());
    // As an older Gatehouse, or a copy made with `cp -r` under umask 022, leaves it.
    std::fs::create_dir_all(data.join("backups")).unwrap();
    std::fs::write(data.join("backups/gatehouse-20260101-000000.gatehouse-backup"), b"x").unwrap();
    std::fs::write(data.join("gatehouse.log"), b"x").unwrap();
    let mut pending = vec![data.clone()];
    while let Some(p) = pending.pop() {
        if p.is_dir() {
            set(&p, 0o755);
            pending.extend(std::fs::read_dir(&p).unwrap().map(|e| e.unwrap().path()));
        } else {
            set(&p, 0o644);
        }
    }
    assert!(loose(&data).len() > 5);
    let store = files::prepare_data_folder(&data).unwrap();
    let dir = Directory::open_settled(&store, Arc::new(SystemClock)).unwrap();
    assert_eq!(loose(&data), [], "every folder 0700, every file 0600");
    drop(dir);
}

#[test]
fn a_store_and_the_files_sled_writes_later_are_private_whatever_the_umask() {
    let _one = UMASK.lock().unwrap_or_else(|p| p.into_inner());
    rustix::process::umask(rustix::fs::Mode::from_raw_mode(0));
    let tmp = tempfile::tempdir().unwrap();
    set(tmp.path(), 0o777);
    let store = tmp.path().join("store");
    let dir = Directory::open(&store, Arc::new(SystemClock)).unwrap();
    // Writes enough that sled writes a snapshot and more segments while open.
    let mut signed = None;
    for i in 0..300 {
        let _ = dir.sign_in(&format!("stranger{i}@example.com"), "not a password at all");
        if i == 0 {
            signed = Some(
                dir.setup(gatehouse_core::SetupInput {
                    organization: "Acme".into(),
                    name: "Olivia Owner".into(),
                    email: "olivia@example.com".into(),
                    password: "correct horse battery staple 7".into(),
                })
                .unwrap(),
            );
        }
    }
    assert!(signed.is_some());
    drop(dir);
    let dir = Directory::open_settled(&store, Arc::new(SystemClock)).unwrap();
    assert_eq!(loose(&store), [], "every folder 0700, every file 0600");
    drop(dir);
    // A file written for the person (a save dialog, a FILE argument) keeps its place and is
    // 0600, even where a looser file stood.
    let chosen = tmp.path().join("export.csv");
    std::fs::write(&chosen, b"old").unwrap();
    set(&chosen, 0o644);
    files::write_atomically(&chosen, b"new").unwrap();
    assert_eq!(mode(&chosen), 0o600);
    assert_eq!(std::fs::read(&chosen).unwrap(), b"new");
}

#[test]
fn a_scratch_folder_is_private_inside_its_parent_and_gone_when_dropped() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let scratch = files::Scratch::new(&data, "backup-check").unwrap();
    assert!(scratch.path().starts_with(&data));
    assert_eq!((mode(&data), mode(scratch.path())), (0o700, 0o700));
    std::fs::write(scratch.path().join("trial"), b"x").unwrap();
    let path = scratch.path().to_path_buf();
    drop(scratch);
    assert!(!path.exists());
}
