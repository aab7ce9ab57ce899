use crate::support::{Org, MEMBER_PASSWORD, OWNER_EMAIL, OWNER_PASSWORD};
use gatehouse_core::model::{Action, Module, Permission};
use gatehouse_core::{ErrorCode, RoleInput};

fn perms(list: &[(Module, Action)]) -> Vec<Permission> {
    list.iter().map(|&(module, action)| Permission { module, action }).collect()
}

fn support_role() -> RoleInput {
    RoleInput {
        key: None,
        name: "Support Lead".into(),
        description: "Handles customers".into(),
        permissions: perms(&[
            (Module::Customers, Action::Read),
            (Module::Customers, Action::Update),
        ]),
    }
}

#[test]
fn a_custom_role_grants_its_permissions_to_its_holders() {
    let org = Org::new().with_owner();
    let role = org.dir.create_role(org.owner(), support_role()).unwrap();
    assert_eq!(role.key, "support_lead");
    let sue = org.member("sue@example.com", &["support_lead", "reporting"]);
    assert!(org.dir.can(sue.id, Module::Customers, Action::Update).unwrap());
    assert!(org.dir.can(sue.id, Module::Analytics, Action::Create).unwrap(), "from Reporting");
    assert!(!org.dir.can(sue.id, Module::Customers, Action::Delete).unwrap());
    org.verify();
}

#[test]
fn built_in_roles_cannot_be_edited_or_deleted() {
    let org = Org::new().with_owner();
    assert_eq!(
        org.dir.update_role(org.owner(), "admin", support_role()).unwrap_err().code(),
        ErrorCode::BuiltInRole
    );
    assert_eq!(
        org.dir.delete_role(org.owner(), "reporting").unwrap_err().code(),
        ErrorCode::BuiltInRole
    );
    let mut clash = support_role();
    clash.name = "admin".into();
    assert_eq!(org.dir.create_role(org.owner(), clash).unwrap_err().code(), ErrorCode::RoleExists);
    org.verify();
}

#[test]
fn a_role_in_use_cannot_be_deleted_and_the_error_counts_its_holders() {
    let org = Org::new().with_owner();
    org.dir.create_role(org.owner(), support_role()).unwrap();
    org.member("sue@example.com", &["support_lead"]);
    org.invite("sid@example.com", &["support_lead"]);
    let err = org.dir.delete_role(org.owner(), "support_lead").unwrap_err();
    assert_eq!(err.code(), ErrorCode::RoleInUse);
    assert!(err.to_string().contains("2 users"), "{err}");
    org.verify();
}

#[test]
fn an_unused_custom_role_is_deleted_and_can_be_updated_before() {
    let org = Org::new().with_owner();
    org.dir.create_role(org.owner(), support_role()).unwrap();
    let mut changed = support_role();
    changed.name = "Support".into();
    changed.permissions = perms(&[(Module::Customers, Action::Read)]);
    let role = org.dir.update_role(org.owner(), "support_lead", changed).unwrap();
    assert_eq!(
        (role.key.as_str(), role.name.as_str(), role.permissions.len()),
        ("support_lead", "Support", 1)
    );
    org.dir.delete_role(org.owner(), "support_lead").unwrap();
    let roles = org.dir.list_roles(org.owner()).unwrap();
    assert_eq!(roles.len(), 5);
    assert_eq!(
        org.dir.delete_role(org.owner(), "support_lead").unwrap_err().code(),
        ErrorCode::UnknownRole
    );
    org.verify();
}

#[test]
fn nobody_grants_a_permission_they_do_not_hold() {
    let org = Org::new().with_owner();
    let ada = org.member("ada@example.com", &["admin"]);
    // Admin has no delete on business modules: not through a new role, nor by editing one.
    let mut deleter = support_role();
    deleter.permissions = perms(&[(Module::Customers, Action::Delete)]);
    assert_eq!(
        org.dir.create_role(ada.session, deleter.clone()).unwrap_err().code(),
        ErrorCode::Escalation
    );
    org.dir.create_role(ada.session, support_role()).unwrap();
    assert_eq!(
        org.dir.update_role(ada.session, "support_lead", deleter.clone()).unwrap_err().code(),
        ErrorCode::Escalation
    );
    // The Owner may create it, but the Admin still cannot hand it out.
    deleter.name = "Deleter".into();
    org.dir.create_role(org.owner(), deleter).unwrap();
    assert_eq!(
        org.invite_as(ada.session, "x@example.com", &["deleter"]),
        Err(ErrorCode::Escalation)
    );
    let rex = org.member("rex@example.com", &["reporting"]);
    let err = org
        .dir
        .change_roles(ada.session, rex.id, vec!["reporting".into(), "deleter".into()])
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::Escalation);
    org.verify();
}

#[test]
fn changing_roles_replaces_them_and_signs_the_user_out() {
    let org = Org::new().with_owner();
    let rex = org.member("rex@example.com", &["reporting"]);
    let view = org
        .dir
        .change_roles(org.owner(), rex.id, vec!["payment_management".into(), "reporting".into()])
        .unwrap();
    assert_eq!(view.roles, ["payment_management", "reporting"]);
    assert_eq!(org.dir.current_session(rex.session).unwrap_err().code(), ErrorCode::NotSignedIn);
    let again = org.dir.sign_in("rex@example.com", MEMBER_PASSWORD).unwrap();
    assert!(again
        .info
        .permissions
        .contains(&Permission { module: Module::Transactions, action: Action::Create }));
    assert_eq!(
        org.dir.change_roles(org.owner(), rex.id, vec![]).unwrap_err().code(),
        ErrorCode::NoRoles
    );
    org.verify();
}

#[test]
fn only_an_owner_grants_or_removes_owner_or_changes_an_owner() {
    let org = Org::new().with_owner();
    let ada = org.member("ada@example.com", &["admin"]);
    let rex = org.member("rex@example.com", &["reporting"]);
    let oscar = org.member("oscar@example.com", &["owner"]);
    let grant = org.dir.change_roles(ada.session, rex.id, vec!["owner".into()]).unwrap_err();
    assert_eq!(grant.code(), ErrorCode::OwnerOnly);
    let change_owner =
        org.dir.change_roles(ada.session, oscar.id, vec!["admin".into()]).unwrap_err();
    assert_eq!(change_owner.code(), ErrorCode::OwnerOnly);
    org.dir.change_roles(org.owner(), rex.id, vec!["owner".into()]).unwrap();
    org.dir.change_roles(org.owner(), oscar.id, vec!["admin".into()]).unwrap();
    org.verify();
}

#[test]
fn the_only_change_to_ones_own_roles_is_handing_over_ownership() {
    let org = Org::new().with_owner();
    let owner_id = org.owner_id();
    let ada = org.member("ada@example.com", &["admin"]);
    // Alone, Olivia cannot give up Owner (rule 2), nor keep it and take another role (rule 3).
    let alone = org.dir.change_roles(org.owner(), owner_id, vec!["admin".into()]).unwrap_err();
    assert_eq!(alone.code(), ErrorCode::LastOwner);
    let more = vec!["owner".into(), "admin".into()];
    let err = org.dir.change_roles(org.owner(), owner_id, more).unwrap_err();
    assert_eq!(err.code(), ErrorCode::OwnRoles);
    let last = org.dir.change_roles(org.owner(), owner_id, vec![]).unwrap_err();
    assert_eq!(last.code(), ErrorCode::NoRoles);
    let err = org
        .dir
        .change_roles(ada.session, ada.id, vec!["admin".into(), "reporting".into()])
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::OwnRoles);
    org.verify();
}

#[test]
fn ownership_hand_over_needs_another_active_owner() {
    let org = Org::new().with_owner();
    let owner_id = org.owner_id();
    // Alone, Olivia may not step down (rule 2), even to become an Admin.
    let err = org.dir.change_roles(org.owner(), owner_id, vec!["admin".into()]).unwrap_err();
    assert_eq!(err.code(), ErrorCode::LastOwner);
    let olivia = org.dir.sign_in(OWNER_EMAIL, OWNER_PASSWORD).unwrap();
    let oscar = org.member("oscar@example.com", &["owner"]);
    org.dir.deactivate_user(olivia.session, oscar.id, None).unwrap();
    // Oscar is Inactive: he does not count.
    let err = org.dir.change_roles(olivia.session, owner_id, vec!["admin".into()]).unwrap_err();
    assert_eq!(err.code(), ErrorCode::LastOwner);
    // Reactivated, he counts: an Owner who holds only Owner hands over and becomes Admin.
    org.dir.reactivate_user(olivia.session, oscar.id).unwrap();
    let view = org.dir.change_roles(olivia.session, owner_id, vec!["admin".into()]).unwrap();
    assert_eq!(view.roles, ["admin"]);
    // Changing one's own roles in any other way stays refused.
    let olivia = org.dir.sign_in(OWNER_EMAIL, OWNER_PASSWORD).unwrap();
    let err = org.dir.change_roles(olivia.session, owner_id, vec!["reporting".into()]);
    assert_eq!(err.unwrap_err().code(), ErrorCode::OwnRoles);
}

#[test]
fn an_owner_with_two_roles_hands_over_by_dropping_owner() {
    let org = Org::new().with_owner();
    let owner_id = org.owner_id();
    let oscar = org.member("oscar@example.com", &["owner"]);
    org.dir.change_roles(org.owner(), oscar.id, vec!["owner".into(), "admin".into()]).unwrap();
    let oscar_session = org.dir.sign_in("oscar@example.com", MEMBER_PASSWORD).unwrap().session;
    org.dir.change_roles(oscar_session, owner_id, vec!["owner".into(), "admin".into()]).unwrap();
    let olivia = org.dir.sign_in(OWNER_EMAIL, OWNER_PASSWORD).unwrap();
    let view = org.dir.change_roles(olivia.session, owner_id, vec!["admin".into()]).unwrap();
    assert_eq!(view.roles, ["admin"]);
    // Oscar is now the last Owner: he cannot step down.
    let err = org.dir.change_roles(oscar_session, oscar.id, vec!["admin".into()]);
    assert_eq!(err.unwrap_err().code(), ErrorCode::LastOwner);
    org.verify();
}

#[test]
fn changing_an_invited_users_roles_changes_what_they_join_with() {
    let org = Org::new().with_owner();
    let issued = org.invite("ivy@example.com", &["reporting"]);
    org.dir.change_roles(org.owner(), issued.user_id, vec!["admin".into()]).unwrap();
    let ivy = org.accept(&issued, "Ivy");
    assert!(org.dir.can(ivy.id, Module::Users, Action::Create).unwrap());
    org.verify();
}

#[test]
fn inactive_users_can_nothing() {
    let org = Org::new().with_owner();
    let ada = org.member("ada@example.com", &["admin"]);
    org.dir.deactivate_user(org.owner(), ada.id, None).unwrap();
    assert!(!org.dir.can(ada.id, Module::Users, Action::Read).unwrap());
    org.verify();
}
