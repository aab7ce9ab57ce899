//! The built-in matrix in code must equal the table in shared/spec/permissions.md, cell by cell.

use gatehouse_core::model::role::built_in_roles;
use gatehouse_core::model::{Action, Module, Permission};
use std::collections::BTreeSet;

fn spec_table() -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/spec/permissions.md");
    std::fs::read_to_string(path).expect("shared/spec/permissions.md sits beside the repository")
}

#[test]
fn built_in_roles_match_the_permission_table_cell_by_cell() {
    let table = spec_table();
    let mut rows = table
        .lines()
        .filter(|l| l.starts_with('|'))
        .map(|l| l.trim_matches('|').split('|').map(|c| c.trim().to_string()).collect::<Vec<_>>());
    let header = rows.next().expect("header row");
    let roles = built_in_roles();
    let names: Vec<&str> = roles.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(&header[1..], names.as_slice(), "role columns");
    let mut modules_seen = BTreeSet::new();
    for row in rows.skip(1) {
        let key = row[0].split('`').nth(1).expect("module key in backticks");
        let module = Module::from_key(key).unwrap_or_else(|| panic!("unknown module {key}"));
        modules_seen.insert(module);
        for (role, cell) in roles.iter().zip(&row[1..]) {
            let expected: BTreeSet<Action> = cell.chars().filter_map(Action::from_letter).collect();
            let actual: BTreeSet<Action> =
                role.permissions.iter().filter(|p| p.module == module).map(|p| p.action).collect();
            assert_eq!(actual, expected, "{} on {key}", role.name);
        }
    }
    assert_eq!(modules_seen, Module::ALL.into_iter().collect(), "every module has a row");
}

#[test]
fn no_role_may_delete_users_or_touch_the_audit_log_beyond_reading() {
    for role in built_in_roles() {
        assert!(!role
            .permissions
            .contains(&Permission { module: Module::Users, action: Action::Delete }));
        for action in [Action::Create, Action::Update, Action::Delete] {
            assert!(!role.permissions.contains(&Permission { module: Module::Audit, action }));
        }
    }
}
