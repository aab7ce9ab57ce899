//! The user detail: effective permissions with the roles granting them, and history.

use crate::support::Org;
use gatehouse_core::model::{Action, AuditAction, Module};
use gatehouse_core::{ErrorCode, UserDetail};

fn granted_by(detail: &UserDetail, module: Module, action: Action) -> Option<Vec<String>> {
    detail.grants.iter().find(|g| g.module == module && g.action == action).map(|g| g.roles.clone())
}

#[test]
fn each_permission_names_the_roles_that_grant_it() {
    let org = Org::new().with_owner();
    let ana = org.member("ana@example.com", &["payment_management", "reporting"]);
    let detail = org.dir.user_detail(org.owner(), ana.id).unwrap();
    let both = Some(vec!["payment_management".to_string(), "reporting".to_string()]);
    assert_eq!(granted_by(&detail, Module::Transactions, Action::Read), both);
    assert_eq!(
        granted_by(&detail, Module::Analytics, Action::Create),
        Some(vec!["reporting".to_string()])
    );
    assert_eq!(
        granted_by(&detail, Module::Customers, Action::Update),
        Some(vec!["payment_management".to_string()])
    );
    assert_eq!(granted_by(&detail, Module::Users, Action::Read), None);
    assert_eq!(
        detail.grants.len(),
        14,
        "13 cells of Payment Management and Reporting's analytics:create"
    );
    org.verify();
}

#[test]
fn history_holds_what_was_done_by_and_to_the_user_for_readers_of_the_log() {
    let org = Org::new().with_owner();
    let ana = org.member("ana@example.com", &["reporting"]);
    org.member("anastasia@example.com", &["reporting"]);
    org.dir.deactivate_user(org.owner(), ana.id, Some("left".into())).unwrap();
    let detail = org.dir.user_detail(org.owner(), ana.id).unwrap();
    let actions: Vec<AuditAction> = detail.history.unwrap().iter().map(|e| e.action).collect();
    assert_eq!(
        actions,
        [AuditAction::Deactivate, AuditAction::AcceptInvitation, AuditAction::Invite],
        "newest first; nothing about anastasia@, whose email contains ana@'s name"
    );
    org.verify();
}

#[test]
fn a_user_reads_their_own_detail_but_not_others_without_users_read() {
    let org = Org::new().with_owner();
    let ana = org.member("ana@example.com", &["reporting"]);
    let own = org.dir.user_detail(ana.session, ana.id).unwrap();
    assert_eq!(own.user.email, "ana@example.com");
    assert_eq!(own.history, None, "Reporting does not read the audit log");
    let err = org.dir.user_detail(ana.session, org.owner_id()).unwrap_err();
    assert_eq!(err.code(), ErrorCode::PermissionDenied);
    org.verify();
}
