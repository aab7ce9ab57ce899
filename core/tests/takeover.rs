//! The takeovers an insider found (issue "No one takes over a stronger account"), each shut:
//! a small role never reaches a code that signs in as someone stronger.

use crate::support::{Org, MEMBER_PASSWORD};
use chrono::Duration;
use gatehouse_core::model::{Action, Module, Outcome, Permission};
use gatehouse_core::{AuditQuery, ErrorCode, ResetInput, RoleInput};

fn with_helpdesk(org: &Org) {
    let input = RoleInput {
        key: Some("helpdesk".into()),
        name: "Helpdesk".into(),
        description: String::new(),
        permissions: [Action::Create, Action::Read, Action::Update]
            .into_iter()
            .map(|action| Permission { module: Module::Users, action })
            .collect(),
    };
    org.dir.create_role(org.owner(), input).unwrap();
}

#[test]
fn a_helpdesk_holder_cannot_reset_an_admin_and_sign_in_as_them() {
    let org = Org::new().with_owner();
    with_helpdesk(&org);
    let hal = org.member("hal@example.com", &["helpdesk"]);
    let adam = org.member("adam@example.com", &["admin"]);
    let err = org.dir.issue_password_reset(hal.session, adam.id).unwrap_err();
    assert_eq!(err.code(), ErrorCode::NotDominant);
    assert_eq!(err.to_string(), "Member holds permissions you do not have: ask an Owner.");
    // Adam's password still works and his session was not ended.
    org.dir.current_session(adam.session).unwrap();
    org.dir.sign_in("adam@example.com", MEMBER_PASSWORD).unwrap();
}

#[test]
fn an_admin_cannot_reset_a_system_integrator_who_holds_more_on_one_module() {
    let org = Org::new().with_owner();
    let ada = org.member("ada@example.com", &["admin"]);
    let sid = org.member("sid@example.com", &["system_integrator"]);
    let err = org.dir.issue_password_reset(ada.session, sid.id).unwrap_err();
    assert_eq!(err.code(), ErrorCode::NotDominant);
    // An Owner may.
    org.dir.issue_password_reset(org.owner(), sid.id).unwrap();
}

#[test]
fn an_admin_cannot_open_or_save_the_letter_of_an_owner_invitation() {
    let org = Org::new().with_owner();
    let ada = org.member("ada@example.com", &["admin"]);
    let oscar = org.invite("oscar@example.com", &["owner"]);
    let listed = org.dir.outbox(ada.session, 50).unwrap();
    let message = listed.iter().find(|m| m.id == oscar.message_id).unwrap();
    assert!(!message.can_open, "Ada sees that the message exists, not its letter");
    assert_eq!(message.actions, [], "and may do nothing with it");
    let file = org.tmp.path().join("oscar.eml");
    let err = org.dir.save_message(ada.session, oscar.message_id, &file).unwrap_err();
    assert!(matches!(err.code(), ErrorCode::OwnerOnly | ErrorCode::NotDominant), "{err:?}");
    assert!(!file.exists());
    let err = org.dir.retry_message(ada.session, oscar.message_id).unwrap_err();
    assert!(matches!(err.code(), ErrorCode::OwnerOnly | ErrorCode::NotDominant));
    // The Owner may open it.
    let mine = org.dir.outbox(org.owner(), 50).unwrap();
    assert!(mine.iter().find(|m| m.id == oscar.message_id).unwrap().can_open);
    org.dir.save_message(org.owner(), oscar.message_id, &file).unwrap();
    assert!(std::fs::read_to_string(&file).unwrap().contains(&oscar.code));
}

#[test]
fn a_helpdesk_holder_cannot_resend_a_pending_admin_invitation() {
    let org = Org::new().with_owner();
    with_helpdesk(&org);
    let hal = org.member("hal@example.com", &["helpdesk"]);
    let adam = org.invite("adam@example.com", &["admin"]);
    let err = org.dir.resend_invitation(hal.session, adam.user_id).unwrap_err();
    assert_eq!(err.code(), ErrorCode::NotDominant);
    let err = org.dir.cancel_invitation(hal.session, adam.user_id).unwrap_err();
    assert_eq!(err.code(), ErrorCode::NotDominant);
    // The original code still works: nothing changed.
    org.accept(&adam, "Adam Admin");
}

#[test]
fn an_admin_cannot_reinvite_the_email_of_an_expired_owner_invitation() {
    let mut org = Org::new().with_owner();
    let oscar = org.invite("oscar@example.com", &["owner"]);
    org.member("ada@example.com", &["admin"]);
    org.later(Duration::days(8));
    let ada_session = org.dir.sign_in("ada@example.com", MEMBER_PASSWORD).unwrap().session;
    let err = org.invite_as(ada_session, "oscar@example.com", &["reporting"]).unwrap_err();
    assert!(matches!(err, ErrorCode::OwnerOnly | ErrorCode::NotDominant), "{err:?}");
    // Audited, with the code.
    let page = org
        .dir
        .audit_log(org.owner(), AuditQuery { limit: Some(1), ..Default::default() })
        .unwrap();
    assert_eq!(page.events[0].outcome, Outcome::Denied);
    assert_eq!(page.events[0].code, Some(err));
    assert_eq!(org.user(oscar.user_id).roles, ["owner"], "the invitation was not touched");
}

#[test]
fn a_reset_code_stops_working_when_its_issuer_loses_the_right_to_issue_it() {
    let org = Org::new().with_owner();
    let ada = org.member("ada@example.com", &["admin"]);
    let rex = org.member("rex@example.com", &["reporting"]);
    let pam = org.member("pam@example.com", &["reporting"]);
    let reset = |email: &str, code: &str| ResetInput {
        email: email.into(),
        code: code.into(),
        password: "a brand new passphrase 42".into(),
    };
    // The issuer is deactivated.
    let issued = org.dir.issue_password_reset(ada.session, rex.id).unwrap();
    org.dir.deactivate_user(org.owner(), ada.id, None).unwrap();
    let err = org.dir.reset_password(reset("rex@example.com", &issued.code)).unwrap_err();
    assert_eq!(err.code(), ErrorCode::ResetCodeExpired);
    // The issuer no longer dominates the target (the target gained permissions).
    org.dir.reactivate_user(org.owner(), ada.id).unwrap();
    let ada = org.dir.sign_in("ada@example.com", MEMBER_PASSWORD).unwrap().session;
    let issued = org.dir.issue_password_reset(ada, pam.id).unwrap();
    org.dir.change_roles(org.owner(), pam.id, vec!["system_integrator".into()]).unwrap();
    let err = org.dir.reset_password(reset("pam@example.com", &issued.code)).unwrap_err();
    assert_eq!(err.code(), ErrorCode::ResetCodeExpired);
    // The target is deactivated: the code stays dead after reactivation.
    let issued = org.dir.issue_password_reset(org.owner(), rex.id).unwrap();
    org.dir.deactivate_user(org.owner(), rex.id, None).unwrap();
    org.dir.reactivate_user(org.owner(), rex.id).unwrap();
    let err = org.dir.reset_password(reset("rex@example.com", &issued.code)).unwrap_err();
    assert_eq!(err.code(), ErrorCode::ResetCodeExpired);
}

#[test]
fn a_used_code_takes_its_unsent_letter_with_it_and_a_recipient_may_open_their_own() {
    let org = Org::new().with_owner();
    let ada = org.member("ada@example.com", &["admin"]);
    let listed = org.dir.outbox(org.owner(), 50).unwrap();
    let invitation = listed.iter().find(|m| m.to == "ada@example.com").unwrap();
    assert_eq!(invitation.state, gatehouse_core::mail::MessageState::Discarded, "used: gone");
    // A reset for Ada, waiting unsent: Ada may open her own letter (rule 7), as may the Owner.
    let issued = org.dir.issue_password_reset(org.owner(), ada.id).unwrap();
    let ada = org.dir.sign_in("ada@example.com", MEMBER_PASSWORD).unwrap().session;
    let hers = org.dir.outbox(ada, 50).unwrap();
    assert!(hers.iter().find(|m| m.id == issued.message_id).unwrap().can_open);
}
