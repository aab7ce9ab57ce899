//! Modules, actions and permission sets.

use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// A section of the platform that permissions are granted on.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, specta::Type,
)]
#[serde(rename_all = "snake_case")]
pub enum Module {
    Users,
    Roles,
    Settings,
    Audit,
    Transactions,
    RecoveryProfiles,
    RecoveryActivity,
    Analytics,
    Gateways,
    Developer,
    Customers,
}

impl Module {
    pub const ALL: [Module; 11] = [
        Module::Users,
        Module::Roles,
        Module::Settings,
        Module::Audit,
        Module::Transactions,
        Module::RecoveryProfiles,
        Module::RecoveryActivity,
        Module::Analytics,
        Module::Gateways,
        Module::Developer,
        Module::Customers,
    ];

    /// The key used in permissions.md, the CLI and the UI.
    pub fn key(self) -> &'static str {
        match self {
            Module::Users => "users",
            Module::Roles => "roles",
            Module::Settings => "settings",
            Module::Audit => "audit",
            Module::Transactions => "transactions",
            Module::RecoveryProfiles => "recovery_profiles",
            Module::RecoveryActivity => "recovery_activity",
            Module::Analytics => "analytics",
            Module::Gateways => "gateways",
            Module::Developer => "developer",
            Module::Customers => "customers",
        }
    }

    pub fn from_key(key: &str) -> Option<Module> {
        Module::ALL.into_iter().find(|m| m.key() == key)
    }
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, specta::Type,
)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Create,
    Read,
    Update,
    Delete,
}

impl Action {
    pub const ALL: [Action; 4] = [Action::Create, Action::Read, Action::Update, Action::Delete];

    /// The letter used in permissions.md and on the command line (`crud`).
    pub fn letter(self) -> char {
        match self {
            Action::Create => 'C',
            Action::Read => 'R',
            Action::Update => 'U',
            Action::Delete => 'D',
        }
    }

    pub fn from_letter(c: char) -> Option<Action> {
        Action::ALL.into_iter().find(|a| a.letter() == c.to_ascii_uppercase())
    }
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, specta::Type,
)]
pub struct Permission {
    pub module: Module,
    pub action: Action,
}

/// A set of permissions, ordered for stable output.
pub type PermissionSet = BTreeSet<Permission>;

/// Parses a cell of the permission table ("CRU", "—") into the permissions it grants.
pub(crate) fn parse_cell(module: Module, cell: &str) -> PermissionSet {
    cell.chars()
        .filter_map(Action::from_letter)
        .map(|action| Permission { module, action })
        .collect()
}
