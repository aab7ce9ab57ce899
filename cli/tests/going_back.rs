//! `gatehouse` over a store that holds less than it had saved: exit 3 with the sentence and
//! the command that restores the newest good backup; that command works; setup never runs over
//! a data folder that held an organization.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use gatehouse_core::{Directory, SystemClock};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;

const OWNER: &str = "olivia@acme.example";
const PASSWORD: &str = "correct horse battery staple 7";

/// Runs `gatehouse` on the data folder `data`: exit code, stdout, stderr.
fn gatehouse(data: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_gatehouse"))
        .args(args)
        .env("GATEHOUSE_DATA_DIR", data)
        .env("GATEHOUSE_PASSWORD", PASSWORD)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let text = |b: Vec<u8>| String::from_utf8(b).unwrap();
    (out.status.code().unwrap_or(-1), text(out.stdout), text(out.stderr))
}

fn copy_folder(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap().flatten() {
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_folder(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// A data folder set up by the command line, with one automatic backup (as the app makes at
/// every start) taken before a last invitation.
fn set_up_with_backup() -> tempfile::TempDir {
    let data = tempfile::tempdir().unwrap();
    let (code, _, err) = gatehouse(
        data.path(),
        &["setup", "--org", "Acme", "--name", "Olivia Owner", "--email", OWNER],
    );
    assert_eq!(code, 0, "{err}");
    let dir = Directory::open(&data.path().join("store"), Arc::new(SystemClock)).unwrap();
    dir.backup_automatic(&data.path().join("backups")).unwrap();
    data
}

#[test]
fn a_store_gone_back_exits_3_naming_the_backup_whose_restore_brings_it_back() {
    let data = set_up_with_backup();
    let store = data.path().join("store");
    let snapshot = data.path().join("snapshot");
    copy_folder(&store, &snapshot);
    let invite = ["users", "invite", "ana@acme.example", "--role", "reporting", "--as", OWNER];
    assert_eq!(gatehouse(data.path(), &invite).0, 0);
    // sled goes back to the snapshot; the record of what was saved stays.
    let record = std::fs::read(store.join("acknowledged")).unwrap();
    std::fs::remove_dir_all(&store).unwrap();
    copy_folder(&snapshot, &store);
    std::fs::write(store.join("acknowledged"), record).unwrap();

    let (code, out, err) = gatehouse(data.path(), &["users", "list", "--as", OWNER]);
    assert_eq!((code, out.as_str()), (3, ""), "{err}");
    assert!(err.starts_with("error[store_behind]: The Gatehouse data opens holding less"), "{err}");
    let restore = err.lines().last().unwrap().trim().to_string();
    assert!(restore.starts_with("gatehouse restore ") && restore.ends_with(".gatehouse-backup"));
    let (code, out, _) = gatehouse(data.path(), &["users", "list", "--as", OWNER, "--json"]);
    assert_eq!(code, 3);
    let body: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(body["error"]["code"], "store_behind", "{body}");

    let file = restore.trim_start_matches("gatehouse restore ");
    let (code, _, err) = gatehouse(data.path(), &["restore", file]);
    assert_eq!(code, 0, "{err}");
    let (code, out, err) = gatehouse(data.path(), &["users", "list", "--as", OWNER]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains(OWNER) && !out.contains("ana@acme.example"), "{out}");
}

#[test]
fn setup_is_refused_where_the_store_vanished_from_a_folder_with_backups() {
    let data = set_up_with_backup();
    std::fs::remove_dir_all(data.path().join("store")).unwrap();
    let (code, _, err) = gatehouse(
        data.path(),
        &["setup", "--org", "Other", "--name", "Mallory", "--email", "m@evil.example"],
    );
    assert_eq!(code, 3, "{err}");
    assert!(err.starts_with("error[store_behind]: The Gatehouse data folder has backups"), "{err}");
    assert!(err.contains("gatehouse restore "), "{err}");
    assert!(!data.path().join("store").exists(), "no new store was made");
}
