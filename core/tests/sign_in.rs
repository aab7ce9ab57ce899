use crate::support::{Org, OWNER_EMAIL, OWNER_PASSWORD};
use chrono::Duration;
use gatehouse_core::ErrorCode;

#[test]
fn the_owner_signs_in_with_any_casing_of_the_email() {
    let org = Org::new().with_owner();
    let signed_in = org.dir.sign_in("  olivia.owner@EXAMPLE.com ", OWNER_PASSWORD).unwrap();
    assert_eq!(signed_in.info.user.email, OWNER_EMAIL);
    assert_eq!(org.dir.current_session(signed_in.session).unwrap().user.name, "Olivia Owner");
    org.verify();
}

#[test]
fn wrong_password_and_unknown_email_fail_alike() {
    let org = Org::new().with_owner();
    let wrong = org.dir.sign_in(OWNER_EMAIL, "correct horse battery stapler").unwrap_err();
    let unknown = org.dir.sign_in("nobody@example.com", OWNER_PASSWORD).unwrap_err();
    let garbage = org.dir.sign_in("not an email", OWNER_PASSWORD).unwrap_err();
    assert_eq!(wrong.code(), ErrorCode::InvalidCredentials);
    assert_eq!(wrong.to_string(), unknown.to_string());
    assert_eq!(garbage.code(), ErrorCode::InvalidCredentials);
    org.verify();
}

#[test]
fn sign_in_records_last_sign_in_time() {
    let org = Org::new().with_owner();
    org.clock.advance(Duration::hours(3));
    let signed_in = org.dir.sign_in(OWNER_EMAIL, OWNER_PASSWORD).unwrap();
    let expected = org.clock_now();
    assert_eq!(signed_in.info.user.last_sign_in_at, Some(expected));
    org.verify();
}

#[test]
fn sign_out_ends_the_session() {
    let org = Org::new().with_owner();
    org.dir.sign_out(org.owner()).unwrap();
    assert_eq!(org.dir.current_session(org.owner()).unwrap_err().code(), ErrorCode::NotSignedIn);
    assert_eq!(org.dir.list_users(org.owner()).unwrap_err().code(), ErrorCode::NotSignedIn);
    org.dir.sign_out(org.owner()).unwrap();
    org.verify();
}

#[test]
fn a_session_ends_after_the_idle_timeout_and_activity_keeps_it_alive() {
    let org = Org::new().with_owner();
    org.clock.advance(Duration::minutes(14));
    org.dir.list_users(org.owner()).unwrap();
    org.clock.advance(Duration::minutes(14));
    org.dir.current_session(org.owner()).unwrap();
    org.clock.advance(Duration::minutes(15) + Duration::seconds(1));
    assert_eq!(org.dir.list_users(org.owner()).unwrap_err().code(), ErrorCode::SessionExpired);
    org.verify();
}

#[test]
fn sessions_do_not_survive_a_restart() {
    let org = Org::new().with_owner();
    let session = org.owner();
    let org = org.reopen();
    assert_eq!(org.dir.current_session(session).unwrap_err().code(), ErrorCode::NotSignedIn);
    org.verify();
}

#[test]
fn checking_whether_a_session_is_live_does_not_keep_it_alive() {
    let org = Org::new().with_owner();
    org.clock.advance(Duration::minutes(10));
    assert!(org.dir.session_is_live(org.owner()).unwrap());
    org.clock.advance(Duration::minutes(6));
    assert!(!org.dir.session_is_live(org.owner()).unwrap(), "the check itself is no activity");
    assert_eq!(org.dir.current_session(org.owner()).unwrap_err().code(), ErrorCode::SessionExpired);
    org.verify();
}
