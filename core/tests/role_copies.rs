//! "Duplicate role" (issue #17 item 7): a new custom role copied from an existing one, under
//! the ordinary create-role rules, audited as a role creation that names its source.

use crate::support::Org;
use gatehouse_core::model::{Action, AuditAction, Module, Outcome, Permission};
use gatehouse_core::{AuditQuery, ErrorCode, RoleCopy, RoleInput};

fn copy_of(from: &str, name: &str) -> RoleCopy {
    RoleCopy {
        from: from.into(),
        key: None,
        name: name.into(),
        description: None,
        permissions: None,
    }
}

/// Events creating roles, newest first: (outcome, code, target, summary).
fn creations(org: &Org) -> Vec<(Outcome, Option<ErrorCode>, String, String)> {
    let query =
        AuditQuery { action: Some(AuditAction::CreateRole), limit: Some(50), ..Default::default() };
    let page = org.dir.audit_log(org.owner(), query).unwrap();
    page.events
        .into_iter()
        .map(|e| (e.outcome, e.code, e.target.unwrap_or_default(), e.summary))
        .collect()
}

fn permissions_of(org: &Org, key: &str) -> Vec<Permission> {
    let roles = org.dir.list_roles(org.owner()).unwrap();
    let role = roles.into_iter().find(|r| r.role.key == key).expect("role exists");
    role.role.permissions.into_iter().collect()
}

#[test]
fn a_copy_of_a_built_in_role_is_an_editable_custom_role_with_its_permissions() {
    let org = Org::new().with_owner();
    let copy = org.dir.duplicate_role(org.owner(), copy_of("admin", "Copy of Admin")).unwrap();
    assert_eq!(copy.key, "copy_of_admin");
    assert!(!copy.built_in);
    assert_eq!(copy.permissions.iter().copied().collect::<Vec<_>>(), permissions_of(&org, "admin"));
    assert!(!copy.description.is_empty(), "the source's description comes along");
    let (outcome, _, target, summary) = creations(&org).remove(0);
    assert_eq!((outcome, target.as_str()), (Outcome::Success, "copy_of_admin"));
    assert!(summary.starts_with("created as a copy of admin with "), "{summary}");
    // Editable like any custom role.
    let edit = RoleInput {
        key: None,
        name: "Ops Admin".into(),
        description: String::new(),
        permissions: vec![Permission { module: Module::Users, action: Action::Read }],
    };
    let edited = org.dir.update_role(org.owner(), "copy_of_admin", edit).unwrap();
    assert_eq!(edited.permissions.len(), 1);
    org.verify();
}

#[test]
fn a_copy_saved_as_edited_keeps_the_edits_and_its_key() {
    let org = Org::new().with_owner();
    let edited = vec![Permission { module: Module::Analytics, action: Action::Read }];
    let copy = RoleCopy {
        key: Some("analyst".into()),
        description: Some("Reads reports".into()),
        permissions: Some(edited.clone()),
        ..copy_of("reporting", "Analyst")
    };
    let role = org.dir.duplicate_role(org.owner(), copy).unwrap();
    assert_eq!((role.key.as_str(), role.description.as_str()), ("analyst", "Reads reports"));
    assert_eq!(role.permissions.into_iter().collect::<Vec<_>>(), edited);
    org.verify();
}

#[test]
fn nobody_copies_a_role_holding_permissions_they_lack() {
    let org = Org::new().with_owner();
    let ada = org.member("ada@example.com", &["admin"]);
    // Owner holds deletes on business modules that Admin lacks (rule 4).
    let err = org.dir.duplicate_role(ada.session, copy_of("owner", "Copy of Owner")).unwrap_err();
    assert_eq!(err.code(), ErrorCode::Escalation);
    let (outcome, code, _, summary) = creations(&org).remove(0);
    assert_eq!((outcome, code), (Outcome::Denied, Some(ErrorCode::Escalation)));
    assert!(summary.contains("copy of owner"), "{summary}");
    assert!(org.dir.list_roles(ada.session).unwrap().iter().all(|r| r.role.key != "copy_of_owner"));
    // A role within the Admin's own permissions is copied.
    org.dir.duplicate_role(ada.session, copy_of("reporting", "Copy of Reporting")).unwrap();
    org.verify();
}

#[test]
fn a_copy_needs_roles_create_a_known_source_and_a_free_name() {
    let org = Org::new().with_owner();
    let rex = org.member("rex@example.com", &["reporting"]);
    let err = org.dir.duplicate_role(rex.session, copy_of("reporting", "Mine")).unwrap_err();
    assert_eq!(err.code(), ErrorCode::PermissionDenied);
    let err = org.dir.duplicate_role(org.owner(), copy_of("nope", "Copy of Nope")).unwrap_err();
    assert_eq!(err.code(), ErrorCode::UnknownRole);
    let err = org.dir.duplicate_role(org.owner(), copy_of("admin", "Reporting")).unwrap_err();
    assert_eq!(err.code(), ErrorCode::RoleExists);
    let err = org.dir.duplicate_role(org.owner(), copy_of("admin", "  ")).unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidName);
    assert_eq!(org.dir.list_roles(org.owner()).unwrap().len(), 5, "nothing was created");
    org.verify();
}
