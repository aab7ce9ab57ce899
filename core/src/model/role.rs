//! Roles. The five built-in roles and their matrix are data, written here once, in the shape
//! of `shared/spec/permissions.md` (a test compares the two cell by cell).

use super::permission::{parse_cell, Module, PermissionSet};
use serde::{Deserialize, Serialize};

/// A role's stable key: `owner`, `admin`, ... or a custom role's key.
pub type RoleKey = String;

pub const OWNER: &str = "owner";
pub const ADMIN: &str = "admin";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct Role {
    pub key: RoleKey,
    pub name: String,
    pub description: String,
    pub built_in: bool,
    pub permissions: PermissionSet,
}

/// Built-in roles in table order: (key, name, description).
const BUILT_IN_ROLES: [(&str, &str, &str); 5] = [
    (OWNER, "Owner", "Full access, including ownership and other Owners."),
    (ADMIN, "Admin", "Accesses, creates and updates all content; manages every non-Owner user."),
    (
        "system_integrator",
        "System Integrator",
        "Sets up gateways, API keys and webhooks; reads the rest of the platform.",
    ),
    (
        "payment_management",
        "Payment Management",
        "Works with transactions, recovery activity and customer support.",
    ),
    ("reporting", "Reporting", "Reads the platform and creates analytics reports."),
];

/// The permission matrix: one row per module, one cell per built-in role, in the order of
/// `BUILT_IN_ROLES`. Letters are C, R, U, D; "" is none.
const MATRIX: [(Module, [&str; 5]); 11] = [
    (Module::Users, ["CRU", "CRU", "", "", ""]),
    (Module::Roles, ["CRUD", "CRUD", "R", "R", "R"]),
    (Module::Settings, ["RU", "RU", "R", "", ""]),
    (Module::Audit, ["R", "R", "", "", ""]),
    (Module::Transactions, ["CRUD", "CRU", "R", "CRU", "R"]),
    (Module::RecoveryProfiles, ["CRUD", "CRU", "R", "R", "R"]),
    (Module::RecoveryActivity, ["CRUD", "CRU", "R", "CRU", "R"]),
    (Module::Analytics, ["CRUD", "CRU", "R", "R", "CR"]),
    (Module::Gateways, ["CRUD", "CRU", "CRU", "R", ""]),
    (Module::Developer, ["CRUD", "CRU", "CRUD", "", ""]),
    (Module::Customers, ["CRUD", "CRU", "", "CRU", "R"]),
];

/// The built-in roles, in the order of the permission table.
pub fn built_in_roles() -> Vec<Role> {
    built_ins().to_vec()
}

pub fn built_in_role(key: &str) -> Option<Role> {
    built_ins().iter().find(|r| r.key == key).cloned()
}

/// Built once: permission checks read these on every command.
fn built_ins() -> &'static [Role] {
    static ROLES: std::sync::OnceLock<Vec<Role>> = std::sync::OnceLock::new();
    ROLES.get_or_init(|| {
        BUILT_IN_ROLES
            .iter()
            .enumerate()
            .map(|(column, (key, name, description))| Role {
                key: (*key).to_string(),
                name: (*name).to_string(),
                description: (*description).to_string(),
                built_in: true,
                permissions: MATRIX
                    .iter()
                    .flat_map(|(module, cells)| parse_cell(*module, cells[column]))
                    .collect(),
            })
            .collect()
    })
}
