use crate::support::{Org, MEMBER_PASSWORD, OWNER_EMAIL, OWNER_PASSWORD};
use gatehouse_core::model::UserStatus;
use gatehouse_core::ErrorCode;

#[test]
fn deactivation_keeps_the_user_ends_their_sessions_and_stops_sign_in() {
    let org = Org::new().with_owner();
    let rex = org.member("rex@example.com", &["reporting"]);
    let view =
        org.dir.deactivate_user(org.owner(), rex.id, Some("left the company".into())).unwrap();
    assert_eq!(view.status, UserStatus::Inactive);
    assert_eq!(view.roles, ["reporting"], "roles are kept");
    assert!(view.deactivated_at.is_some());
    assert_eq!(org.dir.current_session(rex.session).unwrap_err().code(), ErrorCode::NotSignedIn);
    let err = org.dir.sign_in("rex@example.com", MEMBER_PASSWORD).unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidCredentials, "does not reveal the status");
    assert_eq!(org.dir.list_users(org.owner()).unwrap().len(), 2, "still listed");
    org.verify();
}

#[test]
fn reactivation_lets_the_user_sign_in_again() {
    let org = Org::new().with_owner();
    let rex = org.member("rex@example.com", &["reporting"]);
    org.dir.deactivate_user(org.owner(), rex.id, None).unwrap();
    let view = org.dir.reactivate_user(org.owner(), rex.id).unwrap();
    assert_eq!(view.status, UserStatus::Active);
    org.dir.sign_in("rex@example.com", MEMBER_PASSWORD).unwrap();
    org.verify();
}

#[test]
fn only_the_allowed_transitions_happen() {
    let org = Org::new().with_owner();
    let rex = org.member("rex@example.com", &["reporting"]);
    let ivy = org.invite("ivy@example.com", &["reporting"]);
    let codes = [
        org.dir.reactivate_user(org.owner(), rex.id).unwrap_err().code(),
        org.dir.deactivate_user(org.owner(), ivy.user_id, None).unwrap_err().code(),
        org.dir.reactivate_user(org.owner(), ivy.user_id).unwrap_err().code(),
    ];
    assert_eq!(codes, [ErrorCode::InvalidTransition; 3]);
    org.dir.deactivate_user(org.owner(), rex.id, None).unwrap();
    let twice = org.dir.deactivate_user(org.owner(), rex.id, None).unwrap_err();
    assert_eq!(twice.code(), ErrorCode::InvalidTransition);
    org.verify();
}

#[test]
fn nobody_changes_their_own_status() {
    let org = Org::new().with_owner();
    let ada = org.member("ada@example.com", &["admin"]);
    assert_eq!(
        org.dir.deactivate_user(ada.session, ada.id, None).unwrap_err().code(),
        ErrorCode::OwnStatus
    );
    let owner_id = org.owner_id();
    assert_eq!(
        org.dir.deactivate_user(org.owner(), owner_id, None).unwrap_err().code(),
        ErrorCode::OwnStatus
    );
    org.verify();
}

#[test]
fn an_admin_manages_non_owners_but_not_owners() {
    let org = Org::new().with_owner();
    let ada = org.member("ada@example.com", &["admin"]);
    let rex = org.member("rex@example.com", &["reporting"]);
    let owner_id = org.owner_id();
    assert_eq!(
        org.dir.deactivate_user(ada.session, owner_id, None).unwrap_err().code(),
        ErrorCode::OwnerOnly
    );
    org.dir.deactivate_user(ada.session, rex.id, None).unwrap();
    org.dir.reactivate_user(ada.session, rex.id).unwrap();
    org.verify();
}

#[test]
fn users_without_users_update_cannot_change_status_and_the_refusal_is_audited() {
    let org = Org::new().with_owner();
    let rex = org.member("rex@example.com", &["reporting"]);
    let sam = org.member("sam@example.com", &["system_integrator"]);
    let before = org.dir.verify().unwrap().audit_events;
    let err = org.dir.deactivate_user(sam.session, rex.id, None).unwrap_err();
    assert_eq!(err.code(), ErrorCode::PermissionDenied);
    assert_eq!(org.dir.verify().unwrap().audit_events, before + 1, "the denied command is audited");
    assert_eq!(org.user(rex.id).status, UserStatus::Active);
    org.verify();
}

#[test]
fn an_owner_deactivates_another_owner_but_never_the_last_active_one() {
    let org = Org::new().with_owner();
    let oscar = org.member("oscar@example.com", &["owner"]);
    let owner_id = org.owner_id();
    // While two are Active, the last-Owner rule does not stand in the way.
    let ada = org.member("ada@example.com", &["admin"]);
    org.dir.deactivate_user(oscar.session, owner_id, None).unwrap();
    // Oscar is now the only Active Owner; he cannot take himself out.
    let olivia_again = org.dir.sign_in(OWNER_EMAIL, OWNER_PASSWORD);
    assert_eq!(olivia_again.unwrap_err().code(), ErrorCode::InvalidCredentials);
    assert_eq!(
        org.dir.deactivate_user(oscar.session, oscar.id, None).unwrap_err().code(),
        ErrorCode::OwnStatus
    );
    // Rule 2 on its own: Oscar made Admin... no: an Owner demoting the last Active Owner.
    // Reactivate Olivia, make her demote Oscar's ownership after deactivating herself is
    // refused; the last Active Owner is never removed by a role change either.
    let err = org.dir.change_roles(oscar.session, oscar.id, vec!["admin".into()]).unwrap_err();
    assert_eq!(err.code(), ErrorCode::LastOwner);
    assert_eq!(
        org.dir.deactivate_user(ada.session, oscar.id, None).unwrap_err().code(),
        ErrorCode::OwnerOnly
    );
    org.dir.reactivate_user(oscar.session, owner_id).unwrap();
    org.verify();
}

#[test]
fn an_unknown_user_is_reported_as_such() {
    let org = Org::new().with_owner();
    let err = org.dir.deactivate_user(org.owner(), uuid::Uuid::now_v7(), None).unwrap_err();
    assert_eq!(err.code(), ErrorCode::UserNotFound);
    org.verify();
}
