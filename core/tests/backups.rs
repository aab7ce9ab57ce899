//! Backups: encrypted and authenticated (age), automatic ones locked with this computer's key
//! and kept by the 10-plus-30-days rule, the newest found by the time inside, restores that
//! replace nothing unless the whole backup checks out and that need the Owner's password, and
//! the audit log held against a backup's copy.
//!
//! Automatic backups keep their key in the OS credential store: `make test` runs these in a
//! D-Bus session with gnome-keyring unlocked.

use crate::support::{Org, OWNER_EMAIL, OWNER_PASSWORD};
use chrono::{Duration, TimeZone, Utc};
use gatehouse_core::backup::{self, Opening, RestoreRight, Sealing};
use gatehouse_core::secrets::Keys;
use gatehouse_core::{Directory, ErrorCode, SystemClock};
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub const PASSPHRASE: &str = "tangerine orbit cellar 42";

fn opening<'a>(data: &'a Path, keys: &'a Keys) -> Opening<'a> {
    Opening::new(data, keys)
}

/// A passphrase backup of `org` in its folder.
fn passphrase_backup(org: &Org, name: &str) -> PathBuf {
    let file = org.tmp.path().join(name);
    let info = org.dir.backup(org.owner(), &file, PASSPHRASE).unwrap();
    assert_eq!(info.sealing, Sealing::Passphrase);
    file
}

#[test]
fn automatic_backups_keep_the_last_ten_and_one_a_day_for_thirty_days() {
    let org = Org::new().with_owner();
    let folder = org.tmp.path().join("backups");
    let start = org.clock_now();
    // One a day for 40 days, then 12 more on the last day, an hour apart.
    for _ in 0..40 {
        org.dir.backup_automatic(&folder).unwrap();
        org.clock.advance(Duration::days(1));
    }
    let last_day = start + Duration::days(40);
    for hour in 0..12 {
        org.dir.backup_automatic(&folder).unwrap();
        if hour < 11 {
            org.clock.advance(Duration::hours(1));
        }
    }
    let now = last_day + Duration::hours(11);
    let keys = Keys::system();
    let kept = backup::list(&folder, &opening(org.tmp.path(), &keys));
    let newest: Vec<_> = kept.iter().take(10).map(|(_, at)| *at).collect();
    let expected: Vec<_> = (2..12).rev().map(|h| last_day + Duration::hours(h)).collect();
    assert_eq!(newest, expected, "the last ten, newest first");
    let older: Vec<_> = kept.iter().skip(10).map(|(_, at)| *at).collect();
    assert!(older.iter().all(|at| now - *at <= Duration::days(30)), "nothing past 30 days");
    let days: std::collections::HashSet<_> = older.iter().map(|at| at.date_naive()).collect();
    assert_eq!(days.len(), older.len(), "one a day");
    assert_eq!(older.len(), 29, "one for each earlier day of the 30 that end now");
}

#[test]
fn the_newest_backup_is_the_one_whose_time_inside_is_newest_whatever_its_name() {
    let mut org = Org::new().with_owner();
    org.invite("ana@example.com", &["reporting"]);
    let folder = org.tmp.path().join("backups");
    let old = org.dir.backup_automatic(&folder).unwrap();
    org.later(Duration::hours(1));
    org.invite("ben@example.com", &["reporting"]);
    let new = org.dir.backup_automatic(&folder).unwrap();
    assert_eq!((old.users, new.users), (2, 3));
    // Swap the names: the older file now has the newer name.
    let keys = Keys::system();
    let open = opening(org.tmp.path(), &keys);
    let files = backup::list(&folder, &open);
    let (newer_file, older_file) = (files[0].0.clone(), files[1].0.clone());
    let swap = folder.join("swap");
    std::fs::rename(&newer_file, &swap).unwrap();
    std::fs::rename(&older_file, &newer_file).unwrap();
    std::fs::rename(&swap, &older_file).unwrap();
    let (found, info) = backup::newest_good(&folder, &open).unwrap();
    assert_eq!((found, info.users), (older_file.clone(), 3), "chosen by the time inside");
    // A damaged newest one is passed over.
    let mut bytes = std::fs::read(&older_file).unwrap();
    let at = bytes.len() / 2;
    bytes[at] ^= 0x01;
    std::fs::write(&older_file, bytes).unwrap();
    assert_eq!(backup::check(&older_file, &open).unwrap_err().code(), ErrorCode::BackupDamaged);
    let (good, info) = backup::newest_good(&folder, &open).unwrap();
    assert_eq!((good, info.users), (newer_file, 2));
}

#[test]
fn nothing_readable_in_a_backup_and_age_itself_opens_a_passphrase_one() {
    let org = Org::new().with_owner();
    org.invite("ana@example.com", &["reporting"]);
    let file = passphrase_backup(&org, "b.gatehouse-backup");
    let bytes = std::fs::read(&file).unwrap();
    assert!(bytes.starts_with(b"age-encryption.org/v1\n"), "an age file");
    for plain in ["ana@example.com", "Acme Payments", "argon2id", "GATEHOUSE BACKUP"] {
        assert!(!contains(&bytes, plain.as_bytes()), "{plain} is readable in the backup");
    }
    // The `age` tool asks for the passphrase on a terminal: give it one (`script`).
    let out = org.tmp.path().join("plain");
    let command = format!("age -d -o '{}' '{}'", out.display(), file.display());
    let mut child = std::process::Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("run `age` (Debian package age) under `script`");
    use std::io::Write;
    // The terminal is read once the prompt is up: keep typing until age is done.
    let mut stdin = child.stdin.take().unwrap();
    let typist = std::thread::spawn(move || {
        for _ in 0..60 {
            if stdin.write_all(format!("{PASSPHRASE}\n").as_bytes()).is_err() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(500));
        }
    });
    let status = child.wait().unwrap();
    drop(typist);
    assert!(status.success(), "age -d failed");
    let plain = std::fs::read(&out).unwrap();
    assert!(plain.starts_with(b"GATEHOUSE BACKUP\n"), "age gives back the backup inside");
    assert!(contains(&plain, b"ana@example.com"));
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn hostile_and_foreign_backups_are_each_refused_with_their_own_code() {
    let org = Org::new().with_owner();
    let file = passphrase_backup(&org, "b.gatehouse-backup");
    let data = tempfile::tempdir().unwrap();
    let store = data.path().join("store");
    let keys = Keys::system();
    let mut open = opening(data.path(), &keys);
    open.passphrase = Some(PASSPHRASE);
    let try_restore = |path: &Path, open: &Opening<'_>| {
        let right = RestoreRight::store_unusable(&store).unwrap();
        backup::restore(path, &store, &right, open).unwrap_err()
    };
    let bytes = std::fs::read(&file).unwrap();
    let write = |name: &str, bytes: &[u8]| {
        let path = data.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    };

    let not_one = write("not.gatehouse-backup", b"hello");
    let err = try_restore(&not_one, &open);
    assert_eq!(err.code(), ErrorCode::BackupInvalid);
    assert!(err.to_string().contains("not a Gatehouse backup"), "{err}");

    let mut flipped = bytes.clone();
    let at = bytes.len() * 2 / 3;
    flipped[at] ^= 0x01;
    let err = try_restore(&write("flipped.gatehouse-backup", &flipped), &open);
    assert_eq!(err.code(), ErrorCode::BackupDamaged, "{err}");

    let cut = write("cut.gatehouse-backup", &bytes[..bytes.len() - 100]);
    assert_eq!(try_restore(&cut, &open).code(), ErrorCode::BackupTruncated);

    let mut wrong = opening(data.path(), &keys);
    wrong.passphrase = Some("another long passphrase 7");
    assert_eq!(try_restore(&file, &wrong).code(), ErrorCode::BackupWrongPassphrase);
    let none = opening(data.path(), &keys);
    assert_eq!(try_restore(&file, &none).code(), ErrorCode::BackupPassphraseNeeded);

    // An old unencrypted backup (format 1) with an Owner added and its checksum recomputed:
    // nothing proves where it has been, so it is refused unless the risk is accepted.
    let forged = write("forged.gatehouse-backup", &format_1_with_an_added_owner());
    let err = try_restore(&forged, &open);
    assert_eq!(err.code(), ErrorCode::BackupUnencrypted);
    assert!(err.to_string().contains("added an Owner"), "{err}");

    // Another organization's backup over this one.
    let other = Org::new().with_owner();
    let theirs = passphrase_backup(&other, "theirs.gatehouse-backup");
    let right = RestoreRight::store_unusable(&store).unwrap();
    backup::restore(&file, &store, &right, &open).unwrap();
    let dir = Directory::open(&store, Arc::new(SystemClock)).unwrap();
    let me = dir.sign_in(OWNER_EMAIL, OWNER_PASSWORD).unwrap().session;
    let right = dir.may_restore(me, OWNER_PASSWORD).unwrap();
    let users_before = dir.verify().unwrap();
    drop(dir);
    let err = backup::restore(&theirs, &store, &right, &open).unwrap_err();
    assert_eq!(err.code(), ErrorCode::BackupOtherOrganization);
    // Nothing was touched: the store is the one restored before, and no work folder is left.
    let dir = Directory::open(&store, Arc::new(SystemClock)).unwrap();
    assert_eq!(dir.verify().unwrap(), users_before);
    let left: Vec<_> = std::fs::read_dir(data.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("store."))
        .collect();
    assert_eq!(left, Vec::<String>::new(), "no trial or half-restored store is left");
}

/// A format-1 (unencrypted) backup of a fresh organization with an Owner added to its users
/// and its SHA-256 recomputed, as an attacker with write access to a backup would make it.
fn format_1_with_an_added_owner() -> Vec<u8> {
    use sha2::{Digest, Sha256};
    let org = Org::new().with_owner();
    let owner = org.dir.find_user(OWNER_EMAIL).unwrap();
    let mut mallory = owner.clone();
    mallory.id = uuid::Uuid::now_v7();
    mallory.email = gatehouse_core::model::Email::parse("mallory@example.com").unwrap();
    mallory.name = "Mallory".into();
    let mut out = b"GATEHOUSE BACKUP\n".to_vec();
    out.extend(1u32.to_be_bytes());
    out.extend(2u32.to_be_bytes());
    out.extend(Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap().timestamp().to_be_bytes());
    let users = vec![
        (owner.id.as_bytes().to_vec(), serde_json::to_vec(&owner).unwrap()),
        (mallory.id.as_bytes().to_vec(), serde_json::to_vec(&mallory).unwrap()),
    ];
    for (name, entries) in [("users", users)] {
        out.extend((name.len() as u16).to_be_bytes());
        out.extend(name.as_bytes());
        out.extend((entries.len() as u64).to_be_bytes());
        for (k, v) in entries {
            out.extend((k.len() as u32).to_be_bytes());
            out.extend(k);
            out.extend((v.len() as u32).to_be_bytes());
            out.extend(v);
        }
    }
    let sum = Sha256::digest(&out);
    out.extend(sum);
    out
}

#[test]
fn a_restore_over_a_store_that_opens_needs_its_owners_password_and_names_them() {
    let org = Org::new().with_owner();
    org.invite("ana@example.com", &["reporting"]);
    let file = passphrase_backup(&org, "b.gatehouse-backup");
    let data = tempfile::tempdir().unwrap();
    let store = data.path().join("store");
    let keys = Keys::system();
    let mut open = opening(data.path(), &keys);
    open.passphrase = Some(PASSPHRASE);
    // No store yet: the backup's passphrase is the right.
    let restored =
        backup::restore(&file, &store, &RestoreRight::store_unusable(&store).unwrap(), &open)
            .unwrap();
    assert_eq!((restored.info.users, restored.kept), (2, None));
    // Now the store opens: the backup alone is no right any more.
    assert_eq!(
        RestoreRight::store_unusable(&store).err().map(|e| e.code()),
        Some(ErrorCode::PermissionDenied)
    );
    let dir = Directory::open(&store, Arc::new(SystemClock)).unwrap();
    let me = dir.sign_in(OWNER_EMAIL, OWNER_PASSWORD).unwrap().session;
    assert_eq!(
        dir.may_restore(me, "not my password").err().map(|e| e.code()),
        Some(ErrorCode::WrongPassword)
    );
    let owner_id = dir.current_session(me).unwrap().user.id;
    let log = dir.audit_log(me, Default::default()).unwrap();
    assert_eq!(
        (log.events[0].action, log.events[0].outcome),
        (gatehouse_core::model::AuditAction::Restore, gatehouse_core::model::Outcome::Failed),
        "the wrong password is audited as a refused restore"
    );
    let right = dir.may_restore(me, OWNER_PASSWORD).unwrap();
    drop(dir);
    let restored = backup::restore(&file, &store, &right, &open).unwrap();
    assert!(restored.kept.is_some(), "the replaced store is kept");
    let dir = Directory::open(&store, Arc::new(SystemClock)).unwrap();
    let me = dir.sign_in(OWNER_EMAIL, OWNER_PASSWORD).unwrap().session;
    let log = dir.audit_log(me, Default::default()).unwrap();
    let restore = log
        .events
        .iter()
        .find(|e| e.action == gatehouse_core::model::AuditAction::Restore)
        .expect("the restore is in the restored log");
    assert_eq!(restore.actor, gatehouse_core::model::AuditActor::User(owner_id));
    assert!(dir.verify().unwrap().is_intact());
}

#[test]
fn a_backup_needs_an_owner_and_a_passphrase_as_strong_as_a_password() {
    let org = Org::new().with_owner();
    let file = org.tmp.path().join("b.gatehouse-backup");
    let err = org.dir.backup(org.owner(), &file, "short").unwrap_err();
    assert_eq!(err.code(), ErrorCode::PasswordTooShort);
    let err = org.dir.backup(org.owner(), &file, "aaaaaaaaaaaaaaa1").unwrap_err();
    assert_eq!(err.code(), ErrorCode::WeakPassword);
    assert!(!file.exists());
    let ana = org.member("ana@example.com", &["admin"]);
    let err = org.dir.backup(ana.session, &file, PASSPHRASE).unwrap_err();
    assert_eq!(err.code(), ErrorCode::OwnerRequired);
    assert!(!file.exists());
}

#[test]
fn a_rewritten_audit_history_is_caught_against_an_older_backup() {
    let org = Org::new().with_owner();
    org.invite("ana@example.com", &["reporting"]);
    org.invite("ben@example.com", &["reporting"]);
    let file = passphrase_backup(&org, "anchor.gatehouse-backup");
    org.invite("cy@example.com", &["reporting"]);
    let keys = Keys::system();
    let data = org.tmp.path().join("data");
    let mut open = opening(&data, &keys);
    open.passphrase = Some(PASSPHRASE);
    // Untouched: today's log begins with the backup's.
    let check = org.dir.compare_with_backup(org.owner(), &file, &open).unwrap();
    assert!(check.head_seq > check.backup_head_seq, "{check:?}");
    // Another organization's backup anchors nothing here.
    let other = Org::new().with_owner();
    let theirs = passphrase_backup(&other, "theirs.gatehouse-backup");
    let err = org.dir.compare_with_backup(org.owner(), &theirs, &open).unwrap_err();
    assert_eq!(err.code(), ErrorCode::BackupOtherOrganization);

    // Someone with the data folder rewrites event #3 and recomputes every hash after it.
    let Org { dir, clock, tmp, .. } = org;
    drop(dir);
    let store = tmp.path();
    rewrite_event(store, 3);
    // The store no longer holds the history it recorded as saved: refused as it opens.
    let err = Directory::open_settled(store, clock.clone()).err().expect("refused");
    assert_eq!(err.code(), ErrorCode::StoreBehind);
    // One who can rewrite the store can remove that record too; the backup still tells.
    std::fs::remove_file(store.join("acknowledged")).unwrap();
    let dir = Directory::open_settled(store, clock).unwrap();
    assert!(dir.verify().unwrap().is_intact(), "the chain alone no longer tells");
    let me = dir.sign_in(OWNER_EMAIL, OWNER_PASSWORD).unwrap().session;
    let err = dir.compare_with_backup(me, &file, &open).unwrap_err();
    assert_eq!(err.code(), ErrorCode::AuditRewritten);
    assert!(err.to_string().contains("#3"), "{err}");
    let log = dir.audit_log(me, Default::default()).unwrap();
    assert_eq!(log.events[0].action, gatehouse_core::model::AuditAction::CompareWithBackup);
    assert_eq!(log.events[0].code, Some(ErrorCode::AuditRewritten));
}

/// Changes event `seq`'s summary in the store at `dir` and recomputes the chain after it and
/// the head, as an attacker who can write the files would.
fn rewrite_event(dir: &Path, seq: u64) {
    use gatehouse_core::model::AuditEvent;
    let db = crate::support::open_sled(dir);
    let audit = db.open_tree("audit").unwrap();
    let mut prev = None::<String>;
    for entry in audit.iter() {
        let (k, v) = entry.unwrap();
        let mut event: AuditEvent = serde_json::from_slice(&v).unwrap();
        if event.seq == seq {
            event.summary = "nothing happened here".into();
        }
        if let Some(hash) = &prev {
            event.prev_hash = hash.clone();
        }
        prev = Some(event.hash());
        audit.insert(k, serde_json::to_vec(&event).unwrap()).unwrap();
    }
    let last = audit.last().unwrap().unwrap();
    let last: AuditEvent = serde_json::from_slice(&last.1).unwrap();
    let meta = db.open_tree("meta").unwrap();
    let head = serde_json::json!({ "seq": last.seq, "hash": last.hash() });
    meta.insert("audit_head", serde_json::to_vec(&head).unwrap()).unwrap();
    db.flush().unwrap();
}
