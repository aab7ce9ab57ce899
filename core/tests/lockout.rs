use crate::support::{Org, MEMBER_PASSWORD};
use chrono::Duration;
use gatehouse_core::ErrorCode;

const WRONG: &str = "definitely not the password";

fn fail(org: &Org, email: &str, times: usize) -> Vec<ErrorCode> {
    (0..times).map(|_| org.dir.sign_in(email, WRONG).unwrap_err().code()).collect()
}

#[test]
fn five_failures_lock_the_address_for_thirty_minutes_even_for_the_right_password() {
    let org = Org::new().with_owner();
    let rex = org.member("rex@example.com", &["reporting"]);
    let codes = fail(&org, "rex@example.com", 5);
    assert_eq!(codes[..4], [ErrorCode::InvalidCredentials; 4]);
    assert_eq!(codes[4], ErrorCode::LockedOut);
    let locked = org.dir.sign_in("rex@example.com", MEMBER_PASSWORD).unwrap_err();
    assert_eq!(locked.code(), ErrorCode::LockedOut);
    assert!(locked.to_string().contains("30 minutes"), "{locked}");
    assert!(org.user(rex.id).locked_until.is_some());
    org.clock.advance(Duration::minutes(29));
    assert_eq!(
        org.dir.sign_in("rex@example.com", MEMBER_PASSWORD).unwrap_err().code(),
        ErrorCode::LockedOut
    );
    org.clock.advance(Duration::minutes(1));
    org.dir.sign_in("rex@example.com", MEMBER_PASSWORD).unwrap();
    org.verify();
}

#[test]
fn an_unknown_address_locks_the_same_way_so_lockout_reveals_nothing() {
    let org = Org::new().with_owner();
    let codes = fail(&org, "ghost@example.com", 6);
    assert_eq!(codes[4..], [ErrorCode::LockedOut; 2]);
    org.verify();
}

#[test]
fn a_success_resets_the_count() {
    let org = Org::new().with_owner();
    org.member("rex@example.com", &["reporting"]);
    fail(&org, "rex@example.com", 4);
    org.dir.sign_in("rex@example.com", MEMBER_PASSWORD).unwrap();
    assert_eq!(fail(&org, "REX@example.com", 4), [ErrorCode::InvalidCredentials; 4]);
    org.verify();
}

#[test]
fn an_admin_unlocks_a_user_they_may_manage() {
    let org = Org::new().with_owner();
    let ada = org.member("ada@example.com", &["admin"]);
    let rex = org.member("rex@example.com", &["reporting"]);
    fail(&org, "rex@example.com", 5);
    let view = org.dir.unlock_user(ada.session, rex.id).unwrap();
    assert_eq!(view.locked_until, None);
    org.dir.sign_in("rex@example.com", MEMBER_PASSWORD).unwrap();
    let owner_id = org.owner_id();
    assert_eq!(
        org.dir.unlock_user(ada.session, owner_id).unwrap_err().code(),
        ErrorCode::OwnerOnly
    );
    org.verify();
}

#[test]
fn failed_and_locked_attempts_are_audited() {
    let org = Org::new().with_owner();
    let before = org.dir.verify().unwrap().audit_events;
    fail(&org, "ghost@example.com", 6);
    assert_eq!(org.dir.verify().unwrap().audit_events, before + 6);
    org.verify();
}
