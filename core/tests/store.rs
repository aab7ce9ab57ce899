use crate::support::{Org, OWNER_PASSWORD};
use gatehouse_core::{Directory, ErrorCode, SystemClock};
use std::sync::Arc;

#[test]
fn a_store_cannot_be_opened_twice_at_once() {
    let org = Org::new().with_owner();
    let second = Directory::open(org.tmp.path(), Arc::new(SystemClock));
    assert_eq!(second.err().map(|e| e.code()), Some(ErrorCode::StoreLocked));
    org.verify();
}

#[test]
fn every_change_and_failed_sign_in_is_chained_in_the_audit_log() {
    let org = Org::new().with_owner();
    let _ = org.dir.sign_in("nobody@example.com", OWNER_PASSWORD);
    org.dir.sign_out(org.owner()).unwrap();
    let integrity = org.dir.verify().unwrap();
    assert_eq!(integrity.audit_events, 3, "setup, failed sign-in, sign-out");
    org.verify();
}

#[test]
fn a_store_from_a_newer_version_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    {
        let db = crate::support::open_sled(tmp.path());
        db.open_tree("meta").unwrap().insert("schema_version", &99u32.to_be_bytes()).unwrap();
        db.flush().unwrap();
    }
    let err = Directory::open(tmp.path(), Arc::new(SystemClock)).err().unwrap();
    assert_eq!(err.code(), ErrorCode::StoreTooNew);
}

#[test]
fn verify_detects_an_edited_audit_event() {
    let org = Org::new().with_owner();
    let _ = org.dir.sign_in("nobody@example.com", OWNER_PASSWORD);
    let Org { dir, tmp, .. } = org;
    drop(dir);
    {
        let db = crate::support::open_sled(tmp.path());
        let audit = db.open_tree("audit").unwrap();
        let first = audit.get(1u64.to_be_bytes()).unwrap().unwrap();
        let edited = String::from_utf8(first.to_vec()).unwrap().replace("Olivia Owner", "Mallory");
        audit.insert(1u64.to_be_bytes(), edited.as_bytes()).unwrap();
        db.flush().unwrap();
    }
    let dir = Directory::open_settled(tmp.path(), Arc::new(SystemClock)).unwrap();
    let integrity = dir.verify().unwrap();
    assert!(!integrity.is_intact());
    assert!(
        integrity.problems.iter().any(|p| p.contains("audit event 2")),
        "{:?}",
        integrity.problems
    );
}

/// Writes `value` under `key` in the meta tree of a store set up in a temporary folder, then
/// opens it again.
fn open_with_meta(key: &str, value: &[u8]) -> Result<Directory, gatehouse_core::Error> {
    let org = Org::new().with_owner();
    let Org { dir, tmp, .. } = org;
    drop(dir);
    {
        let db = crate::support::open_sled(tmp.path());
        db.open_tree("meta").unwrap().insert(key, value).unwrap();
        db.flush().unwrap();
    }
    let result = Directory::open_settled(tmp.path(), Arc::new(SystemClock));
    drop(tmp);
    result
}

#[test]
fn a_damaged_record_read_at_open_is_refused_with_a_sentence_never_a_panic() {
    for (key, value) in [
        ("schema_version", &b"\x00\x02"[..]),
        ("schema_version", &b""[..]),
        ("schema_version", &b"\x00\x00\x00\x02\x00"[..]),
        ("store_id", &b"short"[..]),
        ("organization", &b"{not json"[..]),
        ("audit_head", &b"\xff"[..]),
    ] {
        let err = open_with_meta(key, value).err().unwrap_or_else(|| panic!("{key} opened"));
        assert_eq!(err.code(), ErrorCode::StoreDamaged, "{key} = {value:?}");
        assert!(err.to_string().contains("restore it from a backup"), "{err}");
    }
}
