//! Strangers cannot grow the store without limit: failed sign-ins with made-up addresses leave
//! a bounded number of counts and audit events, while every attempt stays accounted for.

use crate::support::{Org, MEMBER_PASSWORD, OWNER_EMAIL, OWNER_PASSWORD};
use chrono::Duration;
use gatehouse_core::auth::throttle::{REFUSALS_LOGGED, TALLY_BUDGET, TALLY_WINDOW_MINUTES};
use gatehouse_core::model::Outcome;
use gatehouse_core::{AuditQuery, ErrorCode};

const WRONG: &str = "definitely not the password";

fn events(org: &Org) -> u32 {
    org.dir.verify().unwrap().audit_events
}

/// The numbers in a coalesced event's summary, e.g. "180 failed and 0 locked-out ...".
fn counted(summary: &str) -> (u32, u32) {
    let words: Vec<&str> = summary.split_whitespace().collect();
    (words[0].parse().unwrap(), words[3].parse().unwrap())
}

#[test]
fn expired_counts_are_swept_by_later_sign_ins() {
    let mut org = Org::new().with_owner();
    for i in 0..40 {
        let _ = org.dir.sign_in(&format!("stranger{i}@example.com"), WRONG);
    }
    assert_eq!(org.dir.sign_in_counts_kept(), 40);
    org.later(Duration::minutes(29)); // a success sweeps too, but nothing has expired yet
    assert_eq!(org.dir.sign_in_counts_kept(), 40, "failures in the window still count");
    org.clock.advance(Duration::minutes(2));
    for _ in 0..5 {
        org.dir.sign_in(OWNER_EMAIL, OWNER_PASSWORD).unwrap();
    }
    assert_eq!(org.dir.sign_in_counts_kept(), 0, "five sign-ins sweep 40 expired counts");
    org.verify();
}

#[test]
fn a_sweep_forgets_nothing_that_still_counts() {
    let org = Org::new().with_owner();
    org.member("rex@example.com", &["reporting"]);
    for _ in 0..4 {
        let _ = org.dir.sign_in("rex@example.com", WRONG);
    }
    for i in 0..30 {
        let _ = org.dir.sign_in(&format!("stranger{i}@example.com"), WRONG);
    }
    org.clock.advance(Duration::minutes(20));
    assert_eq!(org.dir.sweep_throttles().unwrap(), 0);
    let err = org.dir.sign_in("rex@example.com", WRONG).unwrap_err();
    assert_eq!(err.code(), ErrorCode::LockedOut, "the fifth failure within 30 minutes locks");
    org.clock.advance(Duration::minutes(11));
    assert_eq!(org.dir.sweep_throttles().unwrap(), 30, "the strangers' counts are stale");
    assert_eq!(org.dir.sign_in_counts_kept(), 1, "rex's lockout is kept");
    org.verify();
}

#[test]
fn a_flood_of_made_up_addresses_keeps_counts_to_the_last_thirty_minutes() {
    let org = Org::new().with_owner();
    let mut most = 0;
    // 300 attempts, 10 every 3 minutes: 30 minutes hold 100 of them.
    for i in 0..300 {
        let _ = org.dir.sign_in(&format!("flood{i}@example.com"), WRONG);
        if i % 10 == 9 {
            org.clock.advance(Duration::minutes(3));
        }
        most = most.max(org.dir.sign_in_counts_kept());
    }
    // The sweep lags a little behind the clock.
    assert!(most <= 120, "at most about 30 minutes' worth of counts, got {most}");
    org.verify();
}

#[test]
fn strangers_failures_past_the_windows_budget_are_counted_in_one_event() {
    let org = Org::new().with_owner();
    let before = events(&org);
    let flood = 150;
    for i in 0..flood {
        let err = org.dir.sign_in(&format!("guess{i}@example.com"), WRONG).unwrap_err();
        assert_eq!(err.code(), ErrorCode::InvalidCredentials);
    }
    assert_eq!(events(&org), before + TALLY_BUDGET, "the window's budget, then counted");
    org.clock.advance(Duration::minutes(TALLY_WINDOW_MINUTES));
    let _ = org.dir.sign_in("one-more@example.com", WRONG);
    assert_eq!(events(&org), before + TALLY_BUDGET + 2, "the count's event, then the attempt");
    let log = org.dir.audit_log(org.owner(), AuditQuery::default()).unwrap().events;
    let tally = log.iter().find(|e| e.summary.contains("counted rather than")).unwrap();
    assert_eq!(tally.outcome, Outcome::Failed);
    assert!(tally.summary.contains("guess149@example.com") || tally.summary.contains("guess2"));
    let (failed, refused) = counted(&tally.summary);
    assert_eq!(failed + refused + TALLY_BUDGET, flood, "every attempt is accounted for");
    org.verify();
}

#[test]
fn a_locked_users_address_counts_refusals_past_the_first_few_and_audits_them_on_unlock() {
    let org = Org::new().with_owner();
    let rex = org.member("rex@example.com", &["reporting"]);
    for _ in 0..5 {
        let _ = org.dir.sign_in("rex@example.com", WRONG);
    }
    let before = events(&org);
    for _ in 0..40 {
        let err = org.dir.sign_in("rex@example.com", MEMBER_PASSWORD).unwrap_err();
        assert_eq!(err.code(), ErrorCode::LockedOut);
    }
    assert_eq!(events(&org), before + REFUSALS_LOGGED, "the first refusals, one by one");
    org.dir.unlock_user(org.owner(), rex.id).unwrap();
    assert_eq!(events(&org), before + REFUSALS_LOGGED + 2, "the count's event and the unlock");
    let log = org.dir.audit_log(org.owner(), AuditQuery::default()).unwrap().events;
    let closing = log.iter().find(|e| e.summary.contains("more attempts refused")).unwrap();
    assert!(closing.summary.starts_with("35 more attempts"), "{}", closing.summary);
    assert_eq!(closing.code, Some(ErrorCode::LockedOut));
    org.dir.sign_in("rex@example.com", MEMBER_PASSWORD).unwrap();
    org.verify();
}

#[test]
fn a_locked_address_is_refused_without_hashing_the_password() {
    let org = Org::new().with_owner();
    for _ in 0..5 {
        let _ = org.dir.sign_in("ghost@example.com", WRONG);
    }
    let started = std::time::Instant::now();
    for _ in 0..50 {
        let err = org.dir.sign_in("ghost@example.com", WRONG).unwrap_err();
        assert_eq!(err.code(), ErrorCode::LockedOut);
    }
    // 50 argon2id hashes take seconds; 50 refusals without one take a store write each.
    let each = started.elapsed() / 50;
    let started = std::time::Instant::now();
    for i in 0..5 {
        let _ = org.dir.sign_in(&format!("someone{i}@example.com"), WRONG);
    }
    let hash = started.elapsed() / 5;
    assert!(each < hash, "a refusal ({each:?}) costs less than a hash ({hash:?})");
    org.verify();
}
