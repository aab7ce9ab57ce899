//! Bulk actions (issue #17 item 7): one action on several users, each decided by the ordinary
//! single-user operation, each success and refusal its own audit event, one refusal never
//! stopping the others.

use crate::support::*;
use chrono::Duration;
use gatehouse_core::model::{
    Action, AuditAction, AuditActor, AuditEvent, Module, Outcome, Permission, UserId, UserStatus,
};
use gatehouse_core::ops::MAX_BULK_USERS;
use gatehouse_core::{AcceptInput, AuditQuery, BulkAction, BulkOutcome, ErrorCode, RoleInput};

fn deactivate() -> BulkAction {
    BulkAction::Deactivate { reason: Some("left the company".into()) }
}

/// Events of `action`, oldest first.
fn events(org: &Org, action: AuditAction) -> Vec<AuditEvent> {
    let query = AuditQuery { action: Some(action), limit: Some(500), ..Default::default() };
    let mut events = org.dir.audit_log(org.owner(), query).unwrap().events;
    events.reverse();
    events
}

fn all_events(org: &Org) -> u32 {
    org.dir.verify().unwrap().audit_events
}

fn refused_code(outcome: &BulkOutcome) -> Option<ErrorCode> {
    match outcome {
        BulkOutcome::Refused { error, .. } => Some(error.code),
        BulkOutcome::Done { .. } => None,
    }
}

fn status(outcome: &BulkOutcome) -> Option<UserStatus> {
    match outcome {
        BulkOutcome::Done { status, .. } => *status,
        BulkOutcome::Refused { .. } => None,
    }
}

#[test]
fn an_admin_deactivates_two_users_and_is_refused_the_owner_each_audited_on_its_own() {
    let org = Org::new().with_owner();
    let ada = org.member("ada@example.com", &["admin"]);
    let rex = org.member("rex@example.com", &["reporting"]);
    let pam = org.member("pam@example.com", &["payment_management"]);
    let before = events(&org, AuditAction::Deactivate).len();

    let outcomes = org
        .dir
        .bulk_users(ada.session, deactivate(), vec![rex.id, org.owner_id(), pam.id])
        .unwrap();

    assert_eq!(
        outcomes.iter().map(BulkOutcome::user_id).collect::<Vec<_>>(),
        [rex.id, org.owner_id(), pam.id]
    );
    assert_eq!(status(&outcomes[0]), Some(UserStatus::Inactive));
    // Rule 1: only an Owner changes an Owner; the refusal names who it was for.
    assert_eq!(refused_code(&outcomes[1]), Some(ErrorCode::OwnerOnly));
    match &outcomes[1] {
        BulkOutcome::Refused { email, .. } => {
            assert_eq!(email.as_deref(), Some(OWNER_EMAIL))
        }
        other => panic!("the Owner was not refused: {other:?}"),
    }
    assert_eq!(status(&outcomes[2]), Some(UserStatus::Inactive));
    assert_eq!(org.user(rex.id).status, UserStatus::Inactive);
    assert_eq!(org.user(pam.id).status, UserStatus::Inactive);
    assert_eq!(org.user(org.owner_id()).status, UserStatus::Active);
    // Deactivation ends their sessions, as the single command does.
    assert!(!org.dir.session_is_live(rex.session).unwrap());

    let new: Vec<AuditEvent> =
        events(&org, AuditAction::Deactivate).into_iter().skip(before).collect();
    let seen: Vec<(Option<String>, Outcome, Option<ErrorCode>)> =
        new.iter().map(|e| (e.target.clone(), e.outcome, e.code)).collect();
    assert_eq!(
        seen,
        [
            (Some("rex@example.com".into()), Outcome::Success, None),
            (Some(OWNER_EMAIL.into()), Outcome::Denied, Some(ErrorCode::OwnerOnly)),
            (Some("pam@example.com".into()), Outcome::Success, None),
        ]
    );
    assert!(new.iter().all(|e| e.actor == AuditActor::User(ada.id)), "the admin acted");
    assert!(new[0].summary.contains("reason: left the company"), "{}", new[0].summary);
    org.verify();
}

#[test]
fn someone_who_does_not_dominate_a_target_is_refused_that_one_only() {
    let org = Org::new().with_owner();
    let helpdesk = RoleInput {
        key: Some("helpdesk".into()),
        name: "Helpdesk".into(),
        description: String::new(),
        permissions: [Action::Create, Action::Read, Action::Update]
            .into_iter()
            .map(|action| Permission { module: Module::Users, action })
            .collect(),
    };
    org.dir.create_role(org.owner(), helpdesk).unwrap();
    let hal = org.member("hal@example.com", &["helpdesk"]);
    let ada = org.member("ada@example.com", &["admin"]);
    let hank = org.member("hank@example.com", &["helpdesk"]);
    org.dir.deactivate_user(org.owner(), hank.id, None).unwrap();
    org.dir.deactivate_user(org.owner(), ada.id, None).unwrap();

    let outcomes =
        org.dir.bulk_users(hal.session, BulkAction::Reactivate, vec![ada.id, hank.id]).unwrap();

    // Rule 6: the Admin holds permissions the Helpdesk does not.
    assert_eq!(refused_code(&outcomes[0]), Some(ErrorCode::NotDominant));
    assert_eq!(status(&outcomes[1]), Some(UserStatus::Active));
    assert_eq!(org.user(ada.id).status, UserStatus::Inactive);
    let last = events(&org, AuditAction::Reactivate);
    assert_eq!(last.len(), 2);
    assert_eq!(last[0].code, Some(ErrorCode::NotDominant));
    assert_eq!(last[1].outcome, Outcome::Success);
    org.verify();
}

#[test]
fn an_id_named_twice_is_done_once() {
    let org = Org::new().with_owner();
    let rex = org.member("rex@example.com", &["reporting"]);
    let pam = org.member("pam@example.com", &["reporting"]);
    let before = all_events(&org);

    let outcomes = org
        .dir
        .bulk_users(org.owner(), deactivate(), vec![rex.id, pam.id, rex.id, rex.id])
        .unwrap();

    assert_eq!(outcomes.len(), 2);
    assert!(outcomes.iter().all(BulkOutcome::is_done));
    assert_eq!(all_events(&org), before + 2, "one event for each user");
    org.verify();
}

#[test]
fn an_id_that_names_nobody_is_reported_and_the_others_go_on() {
    let org = Org::new().with_owner();
    let rex = org.member("rex@example.com", &["reporting"]);
    let nobody: UserId = uuid::Uuid::now_v7();

    let outcomes = org.dir.bulk_users(org.owner(), deactivate(), vec![nobody, rex.id]).unwrap();

    match &outcomes[0] {
        BulkOutcome::Refused { user_id, email, name, error } => {
            assert_eq!(*user_id, nobody);
            assert_eq!((email, name), (&None, &None));
            assert_eq!(error.code, ErrorCode::UserNotFound);
            assert!(error.message.ends_with('.'), "a sentence: {}", error.message);
        }
        other => panic!("an unknown id was not refused: {other:?}"),
    }
    assert_eq!(status(&outcomes[1]), Some(UserStatus::Inactive));
    org.verify();
}

#[test]
fn an_empty_request_changes_nothing() {
    let org = Org::new().with_owner();
    let before = all_events(&org);
    let outcomes = org.dir.bulk_users(org.owner(), BulkAction::Reactivate, Vec::new()).unwrap();
    assert!(outcomes.is_empty());
    assert_eq!(all_events(&org), before);
    org.verify();
}

#[test]
fn an_expired_session_refuses_the_whole_request() {
    let org = Org::new().with_owner();
    let ada = org.member("ada@example.com", &["admin"]);
    let rex = org.member("rex@example.com", &["reporting"]);
    org.clock.advance(Duration::minutes(16));
    let err = org.dir.bulk_users(ada.session, deactivate(), vec![rex.id]).unwrap_err();
    assert_eq!(err.code(), ErrorCode::SessionExpired);
    let owner = org.dir.sign_in(OWNER_EMAIL, OWNER_PASSWORD).unwrap().session;
    assert_eq!(org.dir.get_user(owner, rex.id).unwrap().status, UserStatus::Active);
    org.verify();
}

#[test]
fn without_the_permission_the_whole_request_is_refused_and_audited_once() {
    let org = Org::new().with_owner();
    let rex = org.member("rex@example.com", &["reporting"]);
    let pam = org.member("pam@example.com", &["reporting"]);
    let ivy = org.invite("ivy@example.com", &["reporting"]);
    let before = all_events(&org);

    let err = org.dir.bulk_users(rex.session, deactivate(), vec![pam.id, org.owner_id()]);
    assert_eq!(err.unwrap_err().code(), ErrorCode::PermissionDenied);
    let err = org.dir.bulk_users(rex.session, BulkAction::CancelInvitation, vec![ivy.user_id]);
    assert_eq!(err.unwrap_err().code(), ErrorCode::PermissionDenied);

    assert_eq!(all_events(&org), before + 2, "one refusal for each request");
    let refused = events(&org, AuditAction::Deactivate).pop().unwrap();
    assert_eq!(refused.code, Some(ErrorCode::PermissionDenied));
    assert_eq!(refused.actor, AuditActor::User(rex.id));
    assert!(refused.summary.contains("deactivate 2 users at once"), "{}", refused.summary);
    assert_eq!(org.user(pam.id).status, UserStatus::Active);
    assert_eq!(org.user(ivy.user_id).status, UserStatus::Invited);
    org.verify();
}

#[test]
fn more_users_than_a_request_may_name_are_refused_before_any_change() {
    let org = Org::new().with_owner();
    let rex = org.member("rex@example.com", &["reporting"]);
    let mut ids: Vec<UserId> = (0..MAX_BULK_USERS).map(|_| uuid::Uuid::now_v7()).collect();
    ids.push(rex.id);
    let before = all_events(&org);
    let err = org.dir.bulk_users(org.owner(), deactivate(), ids).unwrap_err();
    assert_eq!(err.code(), ErrorCode::TooManyUsers);
    assert!(err.to_string().contains("10,000"), "{err}");
    assert_eq!(org.user(rex.id).status, UserStatus::Active);
    assert_eq!(all_events(&org), before);
    org.verify();
}

#[test]
fn unknown_roles_refuse_the_whole_role_change() {
    let org = Org::new().with_owner();
    let rex = org.member("rex@example.com", &["reporting"]);
    let change = |roles: Vec<String>| BulkAction::ChangeRoles { roles, approval: None };
    let err = org.dir.bulk_users(org.owner(), change(vec!["nope".into()]), vec![rex.id]);
    assert_eq!(err.unwrap_err().code(), ErrorCode::UnknownRole);
    let err = org.dir.bulk_users(org.owner(), change(Vec::new()), vec![rex.id]);
    assert_eq!(err.unwrap_err().code(), ErrorCode::NoRoles);
    assert_eq!(org.user(rex.id).roles, ["reporting"]);
    org.verify();
}

#[test]
fn an_owner_hands_over_in_a_role_change_of_several_users_their_own_change_last() {
    let org = Org::new().with_owner();
    let otto = org.member("otto@example.com", &["owner"]);
    let rex = org.member("rex@example.com", &["reporting"]);
    let pam = org.member("pam@example.com", &["payment_management"]);
    let action = BulkAction::ChangeRoles { roles: vec!["admin".into()], approval: None };

    // Otto names himself first: his own change (which ends his session) is carried out last.
    let outcomes = org.dir.bulk_users(otto.session, action, vec![otto.id, rex.id, pam.id]).unwrap();

    assert_eq!(
        outcomes.iter().map(BulkOutcome::user_id).collect::<Vec<_>>(),
        [otto.id, rex.id, pam.id]
    );
    assert!(outcomes.iter().all(BulkOutcome::is_done), "{outcomes:?}");
    for id in [otto.id, rex.id, pam.id] {
        assert_eq!(org.user(id).roles, ["admin"]);
    }
    assert!(!org.dir.session_is_live(otto.session).unwrap());
    org.verify();
}

#[test]
fn resending_several_invitations_gives_each_a_new_code() {
    let org = Org::new().with_owner();
    let ivy = org.invite("ivy@example.com", &["reporting"]);
    let ian = org.invite("ian@example.com", &["reporting"]);
    let rex = org.member("rex@example.com", &["reporting"]);

    let outcomes = org
        .dir
        .bulk_users(
            org.owner(),
            BulkAction::ResendInvitation,
            vec![ivy.user_id, rex.id, ian.user_id],
        )
        .unwrap();

    assert_eq!(refused_code(&outcomes[1]), Some(ErrorCode::InvalidTransition));
    let codes: Vec<_> = [&outcomes[0], &outcomes[2]]
        .into_iter()
        .map(|o| match o {
            BulkOutcome::Done { issued: Some(issued), status, .. } => {
                assert_eq!(*status, Some(UserStatus::Invited));
                issued.clone()
            }
            other => panic!("no new code: {other:?}"),
        })
        .collect();
    assert_ne!(codes[0].code, ivy.code);
    // The old code stops working; the new one is accepted.
    let old = org.dir.accept_invitation(accept_input("ivy@example.com", &ivy.code));
    assert_eq!(old.unwrap_err().code(), ErrorCode::InvitationReplaced);
    org.dir
        .accept_invitation(AcceptInput { ..accept_input(&codes[1].email, &codes[1].code) })
        .unwrap();
    // Two resends; Rex's refusal is bad input, not a rule's, and is not audited, as when asked
    // for alone.
    assert_eq!(events(&org, AuditAction::ResendInvitation).len(), 2);
    org.verify();
}

#[test]
fn cancelling_several_invitations_removes_those_users_and_names_them() {
    let org = Org::new().with_owner();
    let ivy = org.invite("ivy@example.com", &["reporting"]);
    let ian = org.invite("ian@example.com", &["reporting"]);

    let outcomes = org
        .dir
        .bulk_users(org.owner(), BulkAction::CancelInvitation, vec![ivy.user_id, ian.user_id])
        .unwrap();

    for (outcome, email) in outcomes.iter().zip(["ivy@example.com", "ian@example.com"]) {
        match outcome {
            BulkOutcome::Done { email: done, status: None, issued: None, .. } => {
                assert_eq!(done, email)
            }
            other => panic!("not cancelled: {other:?}"),
        }
    }
    let err = org.dir.get_user(org.owner(), ivy.user_id).unwrap_err();
    assert_eq!(err.code(), ErrorCode::UserNotFound);
    // The email is free to be invited again.
    org.invite("ivy@example.com", &["reporting"]);
    assert_eq!(events(&org, AuditAction::CancelInvitation).len(), 2);
    org.verify();
}
