//! Full and failing disks: an invite, a role change, a backup and a restore, each run on the
//! fault-injecting filesystem (`tools/faultfs`) with `ENOSPC`, or `EIO` on a write or on a
//! sync, injected at every point of the operation in turn. Each time: the operation succeeds or
//! fails with `disk_full` (always, for `ENOSPC`), `storage_failed`, or `file_error` for the
//! backup file the person named; the users list still reads; and after a power cut the store
//! opens, verifies, and holds the change whole or not at all (always, when it was reported done).

use crate::support::{setup_input, OWNER_EMAIL, OWNER_PASSWORD};
use faultfs::{Fault, FaultFs};
use gatehouse_core::backup::{self, Opening};
use gatehouse_core::secrets::Keys;
use gatehouse_core::{
    Directory, ErrorCode, InviteOutcome, InviteRequest, Invitee, SessionId, SystemClock,
};
use std::path::Path;
use std::sync::Arc;

const PASSPHRASE: &str = "tangerine orbit cellar 42";
const NEWCOMER: &str = "newcomer@example.com";
const MEMBER: &str = "member@example.com";
/// At most this many points of one operation are failed, spread evenly over all of them (the
/// first and the last always among them): enough to reach every step of the write path.
const MOST_POINTS: u64 = 12;

#[derive(Clone, Copy, Debug)]
enum Op {
    Invite,
    ChangeRoles,
    Backup,
    Restore,
}

/// What the store holds that the operation changes: whether the newcomer is invited, the
/// member's roles, and the number of users (the restore brings back a store without them).
type Seen = (bool, Vec<String>, usize);

fn seen(dir: &Directory) -> Seen {
    let users = dir.users_unchecked().expect("the users list reads");
    let member = users.iter().find(|u| u.email == MEMBER).map(|u| u.roles.clone());
    (users.iter().any(|u| u.email == NEWCOMER), member.unwrap_or_default(), users.len())
}

fn invite(dir: &Directory, session: SessionId, email: &str) -> Result<(), ErrorCode> {
    let request = InviteRequest {
        invitees: vec![Invitee { email: email.into(), name: None }],
        roles: vec!["reporting".into()],
        ..Default::default()
    };
    match dir.invite_users(session, request).map_err(code)?.remove(0) {
        InviteOutcome::Invited { .. } => Ok(()),
        InviteOutcome::Refused { error, .. } => Err(error.code),
    }
}

/// A data folder with a set-up store (the Owner and a member), its backup in `files`, closed.
fn base(data: &Path) {
    let store = gatehouse_core::files::prepare_data_folder(data).unwrap();
    let dir = Directory::open(&store, Arc::new(SystemClock)).unwrap();
    let owner = dir.setup(setup_input()).unwrap().session;
    invite(&dir, owner, MEMBER).unwrap();
    dir.backup(owner, &data.join("kept.gatehouse-backup"), PASSPHRASE).unwrap();
}

/// Runs `op` on the data folder at `data` (on the mount), the store open as `dir` (a restore
/// closes it first: it replaces the store).
fn run(op: Op, data: &Path, dir: Directory, owner: SessionId) -> (Option<Directory>, Outcome) {
    let outcome = match op {
        Op::Invite => invite(&dir, owner, NEWCOMER),
        Op::ChangeRoles => {
            let member = dir.users_unchecked().unwrap().into_iter().find(|u| u.email == MEMBER);
            dir.change_roles(owner, member.unwrap().id, vec!["payment_management".into()])
                .map(drop)
                .map_err(code)
        }
        Op::Backup => dir
            .backup(owner, &data.join("new.gatehouse-backup"), PASSPHRASE)
            .map(drop)
            .map_err(code),
        Op::Restore => {
            let right = match dir.may_restore(owner, OWNER_PASSWORD) {
                Ok(right) => right,
                Err(e) => return (Some(dir), Err(code(e))),
            };
            drop(dir);
            let keys = Keys::system();
            let opening = Opening { passphrase: Some(PASSPHRASE), ..Opening::new(data, &keys) };
            let file = data.join("kept.gatehouse-backup");
            let restored = backup::restore(&file, &data.join("store"), &right, &opening);
            return (None, restored.map(drop).map_err(code));
        }
    };
    (Some(dir), outcome)
}

type Outcome = Result<(), ErrorCode>;

/// An operation's error as its code, its sentence printed (shown when the test fails).
fn code(e: gatehouse_core::Error) -> ErrorCode {
    println!("faults: {:?}: {e}", e.code());
    e.code()
}

/// What the store holds after `op`, from `before`.
fn changed(op: Op, before: &Seen) -> Seen {
    let mut after = before.clone();
    match op {
        Op::Invite => (after.0, after.2) = (true, before.2 + 1),
        Op::ChangeRoles => after.1 = vec!["payment_management".into()],
        Op::Backup => {}
        // Back to the backup's store: without the newcomer invited since.
        Op::Restore => (after.0, after.2) = (false, before.2 - 1),
    }
    after
}

/// One run with `fault` at point `k` of `op` (none when `k` is 0): checks the outcome, that
/// the users list still reads, and what a power cut right after leaves. Returns how many
/// requests of that kind `op` made, and the outcome.
fn one(op: Op, fault: Fault, k: u64, base: &Path, work: &Path) -> (u64, Outcome) {
    let fs = FaultFs::mount(base).expect("mount faultfs");
    let data = fs.path().to_path_buf();
    let store = gatehouse_core::files::prepare_data_folder(&data).unwrap();
    let dir = Directory::open(&store, Arc::new(SystemClock)).unwrap();
    let owner = dir.sign_in(OWNER_EMAIL, OWNER_PASSWORD).unwrap().session;
    if let Op::Restore = op {
        // A change since the backup, for the restore to take away.
        invite(&dir, owner, NEWCOMER).unwrap();
    }
    let before = seen(&dir);
    let start = fs.seen(fault);
    if k > 0 {
        fs.fail_at(fault, k);
    }
    let (dir, result) = run(op, &data, dir, owner);
    let points = fs.seen(fault) - start;
    let context = format!("{op:?} with {fault:?} at point {k} of {points}: {result:?}");
    match (k, fault, &result) {
        (0, _, _) => assert_eq!(result, Ok(()), "{context}"),
        (_, _, Ok(())) => {} // the fault hit nothing that mattered: the change must survive
        // A full disk says so, but for one case: when sled's own log write is the one refused,
        // its flush now and then never returns (see `disk_faults.rs`), and the store gives up
        // after its patience. It then asks the disk: a full one reads `disk_full`
        // (`store::tests`), but here one write is refused on a disk with room, so it is
        // `storage_failed`. Seen once in `make test` (2026-12-06). `every_point_of` still asks
        // for `disk_full` at some point of each operation.
        (_, Fault::NoSpace, Err(code)) => {
            assert!([ErrorCode::DiskFull, ErrorCode::StorageFailed].contains(code), "{context}")
        }
        (_, _, Err(code)) => assert!(
            [ErrorCode::StorageFailed, ErrorCode::DiskFull, ErrorCode::FileError].contains(code),
            "{context}"
        ),
    }
    // The app stays usable for reading: the open store lists its users; after a restore the
    // data folder opens, or is refused with a sentence (and the app offers the newest backup).
    fs.clear_faults();
    match &dir {
        Some(dir) => drop(seen(dir)),
        None => match gatehouse_core::files::prepare_data_folder(&data)
            .and_then(|store| Directory::open_settled(&store, Arc::new(SystemClock)))
        {
            Ok(reopened) => drop(seen(&reopened)),
            // Refused with a sentence: the app offers the newest backup; or, when the disk
            // failed as the store closed for the restore, it asks to be started again.
            Err(e) => assert!(
                [ErrorCode::StoreBehind, ErrorCode::StorageFailed].contains(&e.code()),
                "{context}: {e}"
            ),
        },
    }
    let image = work.join(format!("{op:?}-{fault:?}-{k}"));
    fs.cut_power(&image).expect("cut the power");
    drop(dir);
    let store = gatehouse_core::files::prepare_data_folder(&image).unwrap();
    let dir = Directory::open_settled(&store, Arc::new(SystemClock)).unwrap_or_else(|e| {
        panic!(
            "{context}: after the cut the store does not open: {e}; it holds {:?}",
            files(&store)
        )
    });
    let integrity = dir.verify().unwrap();
    assert!(integrity.is_intact(), "{context}: {:?}", integrity.problems);
    let (now, after) = (seen(&dir), changed(op, &before));
    match &result {
        Ok(()) => assert_eq!(now, after, "{context}: a change reported done is lost"),
        Err(_) => assert!(now == before || now == after, "{context}: half a change: {now:?}"),
    }
    drop(dir);
    let _ = std::fs::remove_dir_all(&image);
    (points, result)
}

/// The files in `dir` with their sizes, for a failure's message.
fn files(dir: &Path) -> Vec<(String, u64)> {
    let entries = std::fs::read_dir(dir).into_iter().flatten().flatten();
    entries
        .map(|e| {
            (e.file_name().to_string_lossy().into_owned(), e.metadata().map_or(0, |m| m.len()))
        })
        .collect()
}

/// Points 1..=n, or `MOST_POINTS` of them spread evenly with the first and last.
fn points(n: u64) -> Vec<u64> {
    if n <= MOST_POINTS {
        return (1..=n).collect();
    }
    (0..MOST_POINTS).map(|i| 1 + i * (n - 1) / (MOST_POINTS - 1)).collect()
}

/// One operation at a time (see `disk_faults.rs`).
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn every_point_of(op: Op) {
    if !FaultFs::available_for_tests() {
        return;
    }
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let tmp = tempfile::tempdir().unwrap();
    let base_dir = tmp.path().join("base");
    base(&base_dir);
    let mut runs = 0;
    for fault in [Fault::Write, Fault::Sync, Fault::NoSpace] {
        let (n, _) = one(op, fault, 0, &base_dir, tmp.path());
        assert!(n > 0, "{op:?} makes {fault:?} requests");
        let mut full = 0;
        for k in points(n) {
            let (_, outcome) = one(op, fault, k, &base_dir, tmp.path());
            full += usize::from(outcome == Err(ErrorCode::DiskFull));
            runs += 1;
        }
        if fault == Fault::NoSpace {
            assert!(full > 0, "{op:?}: no point of a full disk was reported as disk_full");
        }
    }
    println!("faults: {op:?}: {runs} runs, each failed as expected and whole after a cut");
}

#[test]
fn an_invite_on_a_full_or_failing_disk() {
    every_point_of(Op::Invite);
}

#[test]
fn a_role_change_on_a_full_or_failing_disk() {
    every_point_of(Op::ChangeRoles);
}

#[test]
fn a_backup_on_a_full_or_failing_disk() {
    every_point_of(Op::Backup);
}

#[test]
fn a_restore_on_a_full_or_failing_disk() {
    every_point_of(Op::Restore);
}
