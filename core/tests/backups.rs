//! Backups: automatic ones kept by the 10-plus-30-days rule, the newest good one found past a
//! damaged one, and restores that replace nothing unless the whole backup checks out.

use crate::support::Org;
use chrono::{Duration, TimeZone, Utc};
use gatehouse_core::backup;
use gatehouse_core::ErrorCode;

#[test]
fn automatic_backups_keep_the_last_ten_and_one_a_day_for_thirty_days() {
    let org = Org::new().with_owner();
    let folder = org.tmp.path().join("backups");
    let start = Utc.with_ymd_and_hms(2026, 1, 1, 12, 0, 0).unwrap();
    // One a day for 40 days, then 12 more on the last day, an hour apart.
    for day in 0..40 {
        backup::automatic(&org.dir, &folder, start + Duration::days(day)).unwrap();
    }
    let last_day = start + Duration::days(40);
    for hour in 0..12 {
        backup::automatic(&org.dir, &folder, last_day + Duration::hours(hour)).unwrap();
    }
    let now = last_day + Duration::hours(11);
    let kept = backup::list(&folder);
    let newest: Vec<_> = kept.iter().take(10).map(|(_, at)| *at).collect();
    let expected: Vec<_> = (2..12).rev().map(|h| last_day + Duration::hours(h)).collect();
    assert_eq!(newest, expected, "the last ten, newest first");
    let older: Vec<_> = kept.iter().skip(10).map(|(_, at)| *at).collect();
    assert!(older.iter().all(|at| now - *at <= Duration::days(30)), "nothing past 30 days");
    let days: std::collections::HashSet<_> = older.iter().map(|at| at.date_naive()).collect();
    assert_eq!(days.len(), older.len(), "one a day");
    assert_eq!(older.len(), 29, "one for each earlier day of the 30 that end now");
    org.verify();
}

#[test]
fn the_newest_good_backup_is_found_past_a_damaged_one() {
    let org = Org::new().with_owner();
    org.invite("ana@example.com", &["reporting"]);
    let folder = org.tmp.path().join("backups");
    let t = Utc.with_ymd_and_hms(2026, 1, 1, 12, 0, 0).unwrap();
    backup::automatic(&org.dir, &folder, t).unwrap();
    backup::automatic(&org.dir, &folder, t + Duration::hours(1)).unwrap();
    let (newest, _) = backup::list(&folder).remove(0);
    let mut bytes = std::fs::read(&newest).unwrap();
    bytes.truncate(bytes.len() - 10);
    std::fs::write(&newest, bytes).unwrap();
    let err = backup::check(&newest).unwrap_err();
    assert_eq!(err.code(), ErrorCode::BackupInvalid);
    let (good, info) = backup::newest_good(&folder).unwrap();
    assert_ne!(good, newest);
    assert_eq!(info.users, 2);
}

#[test]
fn a_restore_replaces_nothing_unless_the_backup_checks_out() {
    let org = Org::new().with_owner();
    let file = org.tmp.path().join("b.gatehouse-backup");
    org.dir.backup(org.owner(), &file).unwrap();
    let store = org.tmp.path().join("elsewhere").join("store");
    // Not a backup at all, and a damaged one: refused before anything is touched.
    let other = org.tmp.path().join("other.txt");
    std::fs::write(&other, "hello").unwrap();
    let err = backup::restore(&other, &store).unwrap_err();
    assert_eq!(err.code(), ErrorCode::BackupInvalid);
    assert!(err.to_string().contains("not a Gatehouse backup"), "{err}");
    let mut bytes = std::fs::read(&file).unwrap();
    bytes[40] ^= 0xFF;
    std::fs::write(&other, bytes).unwrap();
    assert_eq!(backup::restore(&other, &store).unwrap_err().code(), ErrorCode::BackupInvalid);
    assert!(!store.exists(), "nothing was created");
    // The store in use is refused: it is held open by `org`.
    let live = org.tmp.path().to_path_buf();
    assert_eq!(backup::restore(&file, &live).unwrap_err().code(), ErrorCode::StoreLocked);
    // A good one into a fresh place.
    let restored = backup::restore(&file, &store).unwrap();
    assert_eq!((restored.info.users, restored.kept), (1, None));
}
