use crate::support::{Org, MEMBER_PASSWORD};
use chrono::Duration;
use gatehouse_core::{ErrorCode, ResetInput};

const NEW_PASSWORDS: [&str; 5] = [
    "violet anchor meadow drum 3",
    "copper falcon winter sails 5",
    "silent harbor maple kite 6",
    "orange glacier velvet horn 8",
    "humble pepper canyon moth 9",
];

fn reset(email: &str, code: &str, password: &str) -> ResetInput {
    ResetInput { email: email.into(), code: code.into(), password: password.into() }
}

#[test]
fn a_user_changes_their_own_password_with_the_current_one() {
    let org = Org::new().with_owner();
    let rex = org.member("rex@example.com", &["reporting"]);
    let wrong = org.dir.change_own_password(rex.session, "not it at all", NEW_PASSWORDS[0]);
    assert_eq!(wrong.unwrap_err().code(), ErrorCode::WrongPassword);
    org.dir.change_own_password(rex.session, MEMBER_PASSWORD, NEW_PASSWORDS[0]).unwrap();
    org.dir.sign_in("rex@example.com", NEW_PASSWORDS[0]).unwrap();
    assert!(org.dir.sign_in("rex@example.com", MEMBER_PASSWORD).is_err());
    org.verify();
}

#[test]
fn none_of_the_last_passwords_may_be_reused() {
    let org = Org::new().with_owner();
    let rex = org.member("rex@example.com", &["reporting"]);
    let mut current = MEMBER_PASSWORD;
    for next in &NEW_PASSWORDS[..4] {
        org.dir.change_own_password(rex.session, current, next).unwrap();
        current = next;
    }
    for old in [MEMBER_PASSWORD, NEW_PASSWORDS[0], NEW_PASSWORDS[3]] {
        let err = org.dir.change_own_password(rex.session, current, old).unwrap_err();
        assert_eq!(err.code(), ErrorCode::PasswordReused, "{old}");
    }
    org.dir.change_own_password(rex.session, current, NEW_PASSWORDS[4]).unwrap();
    org.verify();
}

#[test]
fn a_reset_code_sets_a_new_password_once_and_ends_sessions() {
    let org = Org::new().with_owner();
    let rex = org.member("rex@example.com", &["reporting"]);
    let issued = org.dir.issue_password_reset(org.owner(), rex.id).unwrap();
    assert_eq!(org.dir.current_session(rex.session).unwrap_err().code(), ErrorCode::NotSignedIn);
    let reused = org.dir.reset_password(reset("rex@example.com", &issued.code, MEMBER_PASSWORD));
    assert_eq!(reused.unwrap_err().code(), ErrorCode::PasswordReused);
    let other_email =
        org.dir.reset_password(reset("ada@example.com", &issued.code, NEW_PASSWORDS[0]));
    assert_eq!(other_email.unwrap_err().code(), ErrorCode::InvalidCode);
    org.dir.reset_password(reset("rex@example.com", &issued.code, NEW_PASSWORDS[0])).unwrap();
    org.dir.sign_in("rex@example.com", NEW_PASSWORDS[0]).unwrap();
    let twice = org.dir.reset_password(reset("rex@example.com", &issued.code, NEW_PASSWORDS[1]));
    assert_eq!(twice.unwrap_err().code(), ErrorCode::InvalidCode);
    org.verify();
}

#[test]
fn a_reset_code_expires_and_a_newer_one_replaces_it() {
    let mut org = Org::new().with_owner();
    let rex = org.member("rex@example.com", &["reporting"]);
    let first = org.dir.issue_password_reset(org.owner(), rex.id).unwrap();
    let second = org.dir.issue_password_reset(org.owner(), rex.id).unwrap();
    let replaced = org.dir.reset_password(reset("rex@example.com", &first.code, NEW_PASSWORDS[0]));
    assert_eq!(replaced.unwrap_err().code(), ErrorCode::ResetCodeExpired);
    org.later(Duration::days(7));
    let expired = org.dir.reset_password(reset("rex@example.com", &second.code, NEW_PASSWORDS[0]));
    assert_eq!(expired.unwrap_err().code(), ErrorCode::ResetCodeExpired);
    org.verify();
}

#[test]
fn a_reset_lifts_a_lockout() {
    let org = Org::new().with_owner();
    let rex = org.member("rex@example.com", &["reporting"]);
    for _ in 0..5 {
        org.dir.sign_in("rex@example.com", "wrong wrong wrong").unwrap_err();
    }
    let locked = org.dir.sign_in("rex@example.com", MEMBER_PASSWORD).unwrap_err();
    assert_eq!(locked.code(), ErrorCode::LockedOut, "five failures lock the address");
    assert!(org.user(rex.id).locked_until.is_some());
    let issued = org.dir.issue_password_reset(org.owner(), rex.id).unwrap();
    org.dir.reset_password(reset("rex@example.com", &issued.code, NEW_PASSWORDS[0])).unwrap();
    org.dir.sign_in("rex@example.com", NEW_PASSWORDS[0]).unwrap();
    org.verify();
}

#[test]
fn only_a_manager_of_the_user_issues_a_reset() {
    let org = Org::new().with_owner();
    let ada = org.member("ada@example.com", &["admin"]);
    let rex = org.member("rex@example.com", &["reporting"]);
    let owner_id = org.owner_id();
    assert_eq!(
        org.dir.issue_password_reset(ada.session, owner_id).unwrap_err().code(),
        ErrorCode::OwnerOnly
    );
    assert_eq!(
        org.dir.issue_password_reset(rex.session, ada.id).unwrap_err().code(),
        ErrorCode::PermissionDenied
    );
    assert_eq!(
        org.dir.issue_password_reset(ada.session, ada.id).unwrap_err().code(),
        ErrorCode::OwnStatus
    );
    org.verify();
}

#[test]
fn everyone_changes_their_own_name() {
    let org = Org::new().with_owner();
    let rex = org.member("rex@example.com", &["reporting"]);
    assert_eq!(
        org.dir.change_own_name(rex.session, "  Rex Reporter ").unwrap().name,
        "Rex Reporter"
    );
    assert_eq!(
        org.dir.change_own_name(rex.session, "").unwrap_err().code(),
        ErrorCode::InvalidName
    );
    org.verify();
}
