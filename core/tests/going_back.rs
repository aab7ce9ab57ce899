//! A store that opens holding less than it acknowledged is refused (`store_behind`), with
//! nothing written to it, and setup never runs over a data folder that held an organization.
//! Each test rolls a real store's sled files back by hand, as a power cut under sled can.

use crate::support::{setup_input, OWNER_EMAIL, OWNER_PASSWORD};
use gatehouse_core::backup::{self, Opening, RestoreRight};
use gatehouse_core::secrets::Keys;
use gatehouse_core::{Directory, ErrorCode, InviteRequest, Invitee, SessionId, SystemClock};
use std::path::{Path, PathBuf};
use std::sync::Arc;

fn open(store: &Path) -> gatehouse_core::Result<Directory> {
    Directory::open_settled(store, Arc::new(SystemClock))
}

fn invite(dir: &Directory, session: SessionId, email: &str) {
    let request = InviteRequest {
        invitees: vec![Invitee { email: email.into(), name: None }],
        roles: vec!["reporting".into()],
        ..Default::default()
    };
    dir.invite_users(session, request).unwrap();
}

/// Copies the folder `from` to `to` (sled's files: `db`, `conf`, `blobs/`, snapshots).
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

/// Puts the sled files of `snapshot` in place of `store`'s, keeping `store`'s record of what it
/// acknowledged: what a power cut under sled leaves when sled goes back to an older state.
fn roll_back(store: &Path, snapshot: &Path) {
    let record = std::fs::read(store.join("acknowledged")).unwrap();
    std::fs::remove_dir_all(store).unwrap();
    copy_folder(snapshot, store);
    std::fs::write(store.join("acknowledged"), record).unwrap();
}

/// A data folder holding a set-up store with `invited` invitations, closed.
fn data_folder(invited: usize) -> (tempfile::TempDir, PathBuf) {
    let data = tempfile::tempdir().unwrap();
    let store = gatehouse_core::files::prepare_data_folder(data.path()).unwrap();
    let dir = open(&store).unwrap();
    let owner = dir.setup(setup_input()).unwrap().session;
    for n in 0..invited {
        invite(&dir, owner, &format!("p{n}@example.com"));
    }
    (data, store)
}

/// The audit head the store reaches, opened as Gatehouse opens it.
fn head(store: &Path) -> u64 {
    gatehouse_core::store::Store::open_settled(store).unwrap().audit_head_seq().unwrap()
}

#[test]
fn a_store_rolled_back_behind_what_it_acknowledged_is_refused_and_left_as_it_is() {
    let (data, store) = data_folder(1);
    let snapshot = data.path().join("snapshot");
    copy_folder(&store, &snapshot);
    let before = head(&store);
    {
        let dir = open(&store).unwrap();
        let owner = dir.sign_in(OWNER_EMAIL, OWNER_PASSWORD).unwrap().session;
        invite(&dir, owner, "late@example.com");
    }
    let acknowledged = head(&store);
    assert!(acknowledged > before);
    roll_back(&store, &snapshot);
    let refused = open(&store).err().expect("refused");
    assert_eq!(refused.code(), ErrorCode::StoreBehind);
    let sentence = refused.to_string();
    assert!(sentence.contains(&format!("#{acknowledged}")), "{sentence}");
    assert!(sentence.contains("restore the newest backup"), "{sentence}");
    // Refused again: the refusal wrote nothing, not even the record.
    assert_eq!(open(&store).err().map(|e| e.code()), Some(ErrorCode::StoreBehind));
    let record = std::fs::read_to_string(store.join("acknowledged")).unwrap();
    assert!(record.contains(&format!("\"seq\":{acknowledged}")), "{record}");
}

#[test]
fn a_store_that_opens_empty_is_refused_and_never_set_up_again() {
    let (_data, store) = data_folder(2);
    // sled's own files gone or unreadable: sled opens an empty store.
    for entry in std::fs::read_dir(&store).unwrap().flatten() {
        if entry.file_name() != "acknowledged" {
            let path = entry.path();
            let _ = std::fs::remove_dir_all(&path).or_else(|_| std::fs::remove_file(&path));
        }
    }
    let refused = open(&store).err().expect("refused");
    assert_eq!(refused.code(), ErrorCode::StoreBehind);
    assert!(refused.to_string().contains("opens empty"), "{refused}");
    assert!(refused.to_string().contains("will not set up"), "{refused}");
}

#[test]
fn a_store_on_another_history_is_refused() {
    let (data, store) = data_folder(1);
    let snapshot = data.path().join("snapshot");
    copy_folder(&store, &snapshot);
    {
        let dir = open(&store).unwrap();
        let owner = dir.sign_in(OWNER_EMAIL, OWNER_PASSWORD).unwrap().session;
        invite(&dir, owner, "this@example.com");
    }
    // The snapshot goes on with another change, as far as the acknowledged one and past it.
    let other = data.path().join("other");
    copy_folder(&snapshot, &other);
    std::fs::remove_file(other.join("acknowledged")).unwrap();
    {
        let dir = open(&other).unwrap();
        let owner = dir.sign_in(OWNER_EMAIL, OWNER_PASSWORD).unwrap().session;
        invite(&dir, owner, "that@example.com");
        invite(&dir, owner, "more@example.com");
    }
    roll_back(&store, &other);
    let refused = open(&store).err().expect("refused");
    assert_eq!(refused.code(), ErrorCode::StoreBehind);
    assert!(refused.to_string().contains("is not the one it recorded"), "{refused}");
}

#[test]
fn a_store_ahead_of_its_record_or_without_one_opens_and_the_record_catches_up() {
    let (data, store) = data_folder(1);
    let old_record = std::fs::read(store.join("acknowledged")).unwrap();
    {
        let dir = open(&store).unwrap();
        let owner = dir.sign_in(OWNER_EMAIL, OWNER_PASSWORD).unwrap().session;
        invite(&dir, owner, "next@example.com");
    }
    // Cut between sled's fsync and the record's: the store is ahead of its record.
    std::fs::write(store.join("acknowledged"), &old_record).unwrap();
    let now = head(&store);
    let record = std::fs::read_to_string(store.join("acknowledged")).unwrap();
    assert!(record.contains(&format!("\"seq\":{now}")), "caught up: {record}");
    // A store from before the record existed.
    std::fs::remove_file(store.join("acknowledged")).unwrap();
    assert_eq!(head(&store), now);
    assert!(store.join("acknowledged").exists());
    drop(data);
}

#[test]
fn a_refused_store_is_restored_from_its_newest_backup_and_opens_again() {
    let (data, store) = data_folder(1);
    let backups = data.path().join("backups");
    {
        let dir = open(&store).unwrap();
        dir.backup_automatic(&backups).unwrap();
    }
    let snapshot = data.path().join("snapshot");
    copy_folder(&store, &snapshot);
    {
        let dir = open(&store).unwrap();
        let owner = dir.sign_in(OWNER_EMAIL, OWNER_PASSWORD).unwrap().session;
        invite(&dir, owner, "late@example.com");
    }
    roll_back(&store, &snapshot);
    assert_eq!(open(&store).err().map(|e| e.code()), Some(ErrorCode::StoreBehind));
    // The backup's own key is the right over a store that cannot be used.
    let keys = Keys::system();
    let opening = Opening::new(data.path(), &keys);
    let (file, _) = backup::newest_good(&backups, &opening).expect("a good backup");
    let right = RestoreRight::store_unusable(&store).unwrap();
    let restored = backup::restore(&file, &store, &right, &opening).unwrap();
    assert!(restored.kept.is_some(), "the refused store is kept aside");
    let dir = open(&store).unwrap();
    assert!(dir.verify().unwrap().is_intact());
    assert!(dir.sign_in(OWNER_EMAIL, OWNER_PASSWORD).is_ok());
}

#[test]
fn a_data_folder_whose_store_is_missing_is_refused_when_it_held_an_organization() {
    let (data, store) = data_folder(0);
    {
        let dir = open(&store).unwrap();
        dir.backup_automatic(&data.path().join("backups")).unwrap();
    }
    std::fs::remove_dir_all(&store).unwrap();
    let refused = gatehouse_core::files::prepare_data_folder(data.path()).expect_err("refused");
    assert_eq!(refused.code(), ErrorCode::StoreBehind);
    assert!(!store.exists(), "no new store is made");
    // A new, empty data folder is simply prepared.
    let fresh = tempfile::tempdir().unwrap();
    assert!(gatehouse_core::files::prepare_data_folder(fresh.path()).is_ok());
}
