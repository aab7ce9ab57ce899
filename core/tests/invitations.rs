use crate::support::{accept_input, Org, MEMBER_PASSWORD};
use chrono::Duration;
use gatehouse_core::model::{Settings, UserStatus};
use gatehouse_core::{ErrorCode, InviteOutcome, InviteRequest, Invitee, SettingsInput};

#[test]
fn an_invited_user_is_listed_as_invited_until_they_accept() {
    let org = Org::new().with_owner();
    let issued = org.invite("ivy@example.com", &["reporting"]);
    let ivy = org.user(issued.user_id);
    assert_eq!(ivy.status, UserStatus::Invited);
    assert_eq!(ivy.roles, ["reporting"]);
    let invitation = ivy.invitation.expect("pending invitation shown");
    assert!(!invitation.expired);
    assert_eq!(invitation.expires_at, org.clock_now() + Duration::days(7), "7 days by default");

    let signed_in =
        org.dir.accept_invitation(accept_input("IVY@example.com", &issued.code)).unwrap();
    assert_eq!(signed_in.info.user.status, UserStatus::Active);
    assert_eq!(signed_in.info.user.name, "Ivy Invitee");
    assert_eq!(org.user(issued.user_id).invitation, None);
    org.dir.sign_in("ivy@example.com", MEMBER_PASSWORD).unwrap();
    org.verify();
}

#[test]
fn a_code_works_once_and_only_for_its_own_email() {
    let org = Org::new().with_owner();
    let issued = org.invite("ivy@example.com", &["reporting"]);
    let other = org.invite("ian@example.com", &["reporting"]);
    let err = org.dir.accept_invitation(accept_input("ian@example.com", &issued.code)).unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidCode);
    // Codes are accepted in any case and with the dashes left out.
    let typed = issued.code.to_lowercase().replace('-', "");
    org.dir.accept_invitation(accept_input("ivy@example.com", &typed)).unwrap();
    let again =
        org.dir.accept_invitation(accept_input("ivy@example.com", &issued.code)).unwrap_err();
    assert_eq!(again.code(), ErrorCode::InvalidCode);
    assert_eq!(org.user(other.user_id).status, UserStatus::Invited);
    org.verify();
}

#[test]
fn an_expired_invitation_cannot_be_accepted_and_shows_as_expired() {
    let mut org = Org::new().with_owner();
    let issued = org.invite("ivy@example.com", &["reporting"]);
    org.later(Duration::days(7));
    assert!(org.user(issued.user_id).invitation.unwrap().expired);
    let err = org.dir.accept_invitation(accept_input("ivy@example.com", &issued.code)).unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvitationExpired);
    org.verify();
}

#[test]
fn resend_gives_a_new_code_and_expiry_and_the_old_code_stops_working() {
    let mut org = Org::new().with_owner();
    let first = org.invite("ivy@example.com", &["reporting"]);
    org.later(Duration::days(8));
    let second = org.dir.resend_invitation(org.owner(), first.user_id).unwrap();
    assert_ne!(first.code, second.code);
    assert_eq!(second.expires_at, org.clock_now() + Duration::days(7));
    assert!(!org.user(first.user_id).invitation.unwrap().expired);
    let old = org.dir.accept_invitation(accept_input("ivy@example.com", &first.code)).unwrap_err();
    assert_eq!(old.code(), ErrorCode::InvitationReplaced);
    org.dir.accept_invitation(accept_input("ivy@example.com", &second.code)).unwrap();
    org.verify();
}

#[test]
fn cancelling_removes_the_user_frees_the_email_and_touches_no_one_else() {
    let org = Org::new().with_owner();
    let ivy = org.invite("ivy@example.com", &["reporting"]);
    let ian = org.invite("ian@example.com", &["reporting"]);
    org.dir.cancel_invitation(org.owner(), ivy.user_id).unwrap();
    let emails: Vec<String> =
        org.dir.list_users(org.owner()).unwrap().into_iter().map(|u| u.email).collect();
    assert!(!emails.contains(&"ivy@example.com".to_string()));
    assert!(emails.contains(&"ian@example.com".to_string()));
    let err = org.dir.accept_invitation(accept_input("ivy@example.com", &ivy.code)).unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvitationCancelled);
    // Free to be invited again, and the new invitation works.
    let again = org.invite("ivy@example.com", &["admin"]);
    org.dir.accept_invitation(accept_input("ivy@example.com", &again.code)).unwrap();
    org.dir.accept_invitation(accept_input("ian@example.com", &ian.code)).unwrap();
    org.verify();
}

#[test]
fn cancel_and_resend_refuse_users_who_are_not_invited() {
    let org = Org::new().with_owner();
    let ada = org.member("ada@example.com", &["admin"]);
    for code in [
        org.dir.cancel_invitation(org.owner(), ada.id).unwrap_err().code(),
        org.dir.resend_invitation(org.owner(), ada.id).unwrap_err().code(),
    ] {
        assert_eq!(code, ErrorCode::InvalidTransition);
    }
    org.verify();
}

#[test]
fn inviting_a_known_email_is_refused_by_its_status() {
    let org = Org::new().with_owner();
    let ada = org.member("ada@example.com", &["admin"]);
    org.invite("ivy@example.com", &["reporting"]);
    let ina = org.member("ina@example.com", &["reporting"]);
    org.dir.deactivate_user(org.owner(), ina.id, None).unwrap();

    assert_eq!(
        org.invite_as(org.owner(), "ADA@example.com", &["reporting"]),
        Err(ErrorCode::EmailTaken)
    );
    assert_eq!(
        org.invite_as(org.owner(), " ivy@EXAMPLE.com", &["reporting"]),
        Err(ErrorCode::AlreadyInvited)
    );
    let inactive = org.invite_as(org.owner(), "ina@example.com", &["reporting"]).unwrap_err();
    assert_eq!(inactive, ErrorCode::EmailInactive);
    assert_eq!(org.user(ada.id).status, UserStatus::Active);
    org.verify();
}

#[test]
fn inviting_an_email_whose_invitation_expired_replaces_it_with_the_new_roles() {
    let mut org = Org::new().with_owner();
    let first = org.invite("ivy@example.com", &["reporting"]);
    org.later(Duration::days(7) + Duration::seconds(1));
    let second = org.invite("ivy@example.com", &["payment_management"]);
    assert_eq!(second.user_id, first.user_id, "the same user, invited afresh");
    assert_eq!(org.user(first.user_id).roles, ["payment_management"]);
    let old = org.dir.accept_invitation(accept_input("ivy@example.com", &first.code)).unwrap_err();
    assert_eq!(old.code(), ErrorCode::InvitationReplaced);
    org.dir.accept_invitation(accept_input("ivy@example.com", &second.code)).unwrap();
    org.verify();
}

#[test]
fn several_emails_at_once_each_get_their_own_outcome() {
    let org = Org::new().with_owner();
    org.member("ada@example.com", &["admin"]);
    let request = InviteRequest {
        invitees: [
            "new.one@example.com",
            "not-an-email",
            "ada@example.com",
            "New.One@example.com",
            "two@example.com",
        ]
        .iter()
        .map(|e| Invitee { email: e.to_string(), name: None })
        .collect(),
        roles: vec!["reporting".into()],
        ..Default::default()
    };
    let outcomes = org.dir.invite_users(org.owner(), request).unwrap();
    let summary: Vec<(String, Option<ErrorCode>)> = outcomes
        .into_iter()
        .map(|o| match o {
            InviteOutcome::Invited { email, .. } => (email, None),
            InviteOutcome::Refused { email, error } => (email, Some(error.code)),
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("new.one@example.com".to_string(), None),
            ("not-an-email".to_string(), Some(ErrorCode::InvalidEmail)),
            ("ada@example.com".to_string(), Some(ErrorCode::EmailTaken)),
            ("New.One@example.com".to_string(), Some(ErrorCode::AlreadyInvited)),
            ("two@example.com".to_string(), None),
        ]
    );
    org.verify();
}

#[test]
fn an_invitation_needs_known_roles_and_changes_nothing_otherwise() {
    let org = Org::new().with_owner();
    assert_eq!(org.invite_as(org.owner(), "ivy@example.com", &[]), Err(ErrorCode::NoRoles));
    assert_eq!(
        org.invite_as(org.owner(), "ivy@example.com", &["wizard"]),
        Err(ErrorCode::UnknownRole)
    );
    assert_eq!(org.dir.list_users(org.owner()).unwrap().len(), 1);
    org.verify();
}

#[test]
fn only_an_owner_invites_an_owner_and_only_holders_of_users_create_invite() {
    let org = Org::new().with_owner();
    let ada = org.member("ada@example.com", &["admin"]);
    let rex = org.member("rex@example.com", &["reporting"]);
    assert_eq!(org.invite_as(ada.session, "o2@example.com", &["owner"]), Err(ErrorCode::OwnerOnly));
    assert_eq!(
        org.invite_as(rex.session, "x@example.com", &["reporting"]),
        Err(ErrorCode::PermissionDenied)
    );
    org.invite_as(ada.session, "r2@example.com", &["reporting"]).unwrap();
    let owner_invite = org.invite("o2@example.com", &["owner"]);
    assert_eq!(
        org.dir.cancel_invitation(ada.session, owner_invite.user_id).unwrap_err().code(),
        ErrorCode::OwnerOnly
    );
    org.verify();
}

#[test]
fn the_invitation_lifetime_comes_from_the_settings() {
    let org = Org::new().with_owner();
    let input = SettingsInput {
        name: "Acme Payments".into(),
        settings: Settings {
            invitation_lifetime_hours: 2,
            session_idle_minutes: 15,
            ..Default::default()
        },
    };
    org.dir.update_organization(org.owner(), input).unwrap();
    let issued = org.invite("ivy@example.com", &["reporting"]);
    assert_eq!(issued.expires_at, org.clock_now() + Duration::hours(2));
    org.verify();
}

#[test]
fn accepting_checks_name_and_password_and_leaves_the_invitation_usable() {
    let org = Org::new().with_owner();
    let issued = org.invite("ivy@example.com", &["reporting"]);
    let mut input = accept_input("ivy@example.com", &issued.code);
    input.password = "ivyivyivyivy1".into();
    assert_eq!(org.dir.accept_invitation(input).unwrap_err().code(), ErrorCode::WeakPassword);
    let mut input = accept_input("ivy@example.com", &issued.code);
    input.name = " ".into();
    assert_eq!(org.dir.accept_invitation(input).unwrap_err().code(), ErrorCode::InvalidName);
    org.dir.accept_invitation(accept_input("ivy@example.com", &issued.code)).unwrap();
    org.verify();
}
