//! Sessions only a person keeps alive (domain.md, "Sign-in and sessions").

use crate::support::{Org, MEMBER_PASSWORD, OWNER_EMAIL, OWNER_PASSWORD};
use chrono::Duration;
use gatehouse_core::model::Outcome;
use gatehouse_core::{AuditQuery, ErrorCode};

#[test]
fn a_poll_of_the_outbox_does_not_keep_a_session_alive() {
    let org = Org::new().with_owner();
    org.invite("ivy@example.com", &["reporting"]);
    // Ten minutes of polling every 10 seconds, then five more: 15 minutes without the person.
    for _ in 0..(15 * 6) {
        org.clock.advance(Duration::seconds(10));
        if org.dir.session_is_live(org.owner()).unwrap() {
            org.dir.outbox(org.owner(), 50).unwrap();
        }
    }
    org.clock.advance(Duration::seconds(1));
    assert!(!org.dir.session_is_live(org.owner()).unwrap());
    let err = org.dir.current_session(org.owner()).unwrap_err();
    assert_eq!(err.code(), ErrorCode::SessionExpired);
}

#[test]
fn a_persons_own_actions_keep_the_session_alive_until_twelve_hours() {
    let org = Org::new().with_owner();
    // A command every 10 minutes keeps it alive...
    for _ in 0..(11 * 6) {
        org.clock.advance(Duration::minutes(10));
        org.dir.current_session(org.owner()).unwrap();
    }
    // ...but not past 12 hours after sign-in, whatever the activity.
    for _ in 0..5 {
        org.clock.advance(Duration::minutes(10));
        org.dir.current_session(org.owner()).unwrap();
    }
    org.clock.advance(Duration::minutes(10));
    let err = org.dir.current_session(org.owner()).unwrap_err();
    assert_eq!(err.code(), ErrorCode::SessionExpired);
    // Signing in again starts a new one.
    org.dir.sign_in(OWNER_EMAIL, OWNER_PASSWORD).unwrap();
}

#[test]
fn changing_ones_password_ends_ones_other_sessions() {
    let org = Org::new().with_owner();
    let rex = org.member("rex@example.com", &["reporting"]);
    let other = org.dir.sign_in("rex@example.com", MEMBER_PASSWORD).unwrap().session;
    org.dir.change_own_password(rex.session, MEMBER_PASSWORD, "a brand new passphrase 42").unwrap();
    org.dir.current_session(rex.session).expect("the session that changed it goes on");
    let err = org.dir.current_session(other).unwrap_err();
    assert!(matches!(err.code(), ErrorCode::NotSignedIn | ErrorCode::SessionExpired));
    org.dir.current_session(org.owner()).expect("nobody else is signed out");
}

#[test]
fn a_wrong_current_password_counts_towards_the_lockout_and_is_audited() {
    let org = Org::new().with_owner();
    let rex = org.member("rex@example.com", &["reporting"]);
    let new = "a brand new passphrase 42";
    for attempt in 1..=4 {
        let err = org.dir.change_own_password(rex.session, "guess guess guess", new).unwrap_err();
        assert_eq!(err.code(), ErrorCode::WrongPassword, "attempt {attempt}");
    }
    let err = org.dir.change_own_password(rex.session, "guess guess guess", new).unwrap_err();
    assert_eq!(err.code(), ErrorCode::LockedOut, "the fifth wrong password locks the address");
    // Locked: even the right password is refused, here and at sign-in.
    let err = org.dir.change_own_password(rex.session, MEMBER_PASSWORD, new).unwrap_err();
    assert_eq!(err.code(), ErrorCode::LockedOut);
    let err = org.dir.sign_in("rex@example.com", MEMBER_PASSWORD).unwrap_err();
    assert_eq!(err.code(), ErrorCode::LockedOut);
    let failed = org
        .dir
        .audit_log(org.owner(), AuditQuery { target: Some("rex@".into()), ..Default::default() })
        .unwrap()
        .events
        .into_iter()
        .filter(|e| e.outcome != Outcome::Success)
        .count();
    assert_eq!(failed, 7, "five wrong passwords and two refusals while locked");
}

#[test]
fn a_sign_in_racing_a_deactivation_never_undoes_it() {
    let org = Org::new().with_owner();
    let rex = org.member("rex@example.com", &["reporting"]);
    for (round, delay) in [0u64, 3, 6, 10, 15, 25, 40, 80].into_iter().enumerate() {
        // The sign-in hashes for tens of milliseconds before it takes the writer lock: the
        // deactivation lands before, during or after that. The delays vary where; the rule
        // holds whichever it is.
        let signed_in = std::thread::scope(|s| {
            let signing = s.spawn(|| org.dir.sign_in("rex@example.com", MEMBER_PASSWORD));
            std::thread::sleep(std::time::Duration::from_millis(delay));
            org.dir.deactivate_user(org.owner(), rex.id, None).unwrap();
            signing.join().unwrap()
        });
        let user = org.user(rex.id);
        assert_eq!(user.status, gatehouse_core::model::UserStatus::Inactive, "round {round}");
        if let Ok(session) = signed_in {
            // It won the race: the deactivation after it ended the session.
            let err = org.dir.current_session(session.session).unwrap_err();
            assert!(matches!(err.code(), ErrorCode::NotSignedIn | ErrorCode::SessionExpired));
        }
        org.dir.reactivate_user(org.owner(), rex.id).unwrap();
    }
}
