//! The spec as the model reads it: the built-in roles' permission table, parsed from
//! `shared/spec/permissions.md` at test time, the numbers of `shared/spec/domain.md`, and the
//! permission rules (the matrix, Owners, rule 6 dominance) over the model's people and roles.

use super::ops::PermPick;
use super::state::{Run, Status, PEOPLE};
use gatehouse_core::model::{Action, Module, Permission, PermissionSet};
use std::collections::BTreeSet;
use std::sync::OnceLock;

pub(super) type Perms = PermissionSet;

pub(super) const OWNER: &str = "owner";
pub(super) const CUSTOM: [(&str, &str); 2] = [("custom_a", "Custom A"), ("custom_b", "Custom B")];

// Numbers from domain.md.
pub(super) const LOCK_AFTER: u32 = 5;
pub(super) const LOCK_MINUTES: i64 = 30;
pub(super) const SESSION_MAX_HOURS: i64 = 12;
pub(super) const DEFAULT_LIFETIME_HOURS: u32 = 7 * 24;
pub(super) const DEFAULT_IDLE_MINUTES: u32 = 15;
pub(super) const PASSWORD_HISTORY: usize = 4;
/// Dormant accounts: "90 recommended", on in a new organization; the setting's range.
pub(super) const DEFAULT_DORMANT_DAYS: u32 = 90;
pub(super) const DORMANT_DAYS: std::ops::RangeInclusive<u32> = 30..=365;
/// How long before the dormant-account rule applies the list warns ("Dormant soon").
pub(super) const DORMANT_WARNING_DAYS: i64 = 14;
/// The furthest end date accepted, in days after today (core's bound: domain.md names none).
pub(super) const END_DATE_MAX_DAYS: i64 = 3660;

fn spec_table() -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/spec/permissions.md");
    std::fs::read_to_string(path).expect("shared/spec/permissions.md sits beside the repository")
}

/// The built-in roles of permissions.md in table order: (key, permissions). A role's key is
/// its name in lower case with `_` for spaces ("System Integrator" → `system_integrator`).
pub(super) fn built_in() -> &'static [(String, Perms)] {
    static TABLE: OnceLock<Vec<(String, Perms)>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let text = spec_table();
        let mut rows = text.lines().map(str::trim).filter(|l| l.starts_with('|')).map(|l| {
            l.trim_matches('|').split('|').map(|c| c.trim().to_string()).collect::<Vec<_>>()
        });
        let header = rows.next().expect("header row");
        let mut roles: Vec<(String, Perms)> = header[1..]
            .iter()
            .map(|name| (name.to_lowercase().replace(' ', "_"), Perms::new()))
            .collect();
        for row in rows {
            if row.iter().all(|c| c.chars().all(|ch| matches!(ch, '-' | ':' | ' '))) {
                continue; // the |---| line
            }
            let key = row[0].split('`').nth(1).expect("module key in backticks");
            let module = Module::ALL
                .into_iter()
                .find(|m| m.key() == key)
                .unwrap_or_else(|| panic!("permissions.md names a module core lacks: {key}"));
            for ((_, perms), cell) in roles.iter_mut().zip(&row[1..]) {
                for letter in cell.chars() {
                    let action = match letter {
                        'C' => Action::Create,
                        'R' => Action::Read,
                        'U' => Action::Update,
                        'D' => Action::Delete,
                        _ => continue,
                    };
                    perms.insert(Permission { module, action });
                }
            }
        }
        assert!(roles.iter().any(|(k, _)| k == OWNER), "permissions.md has an Owner column");
        roles
    })
}

/// Role keys the commands pick from: the built-in ones, then the two custom ones.
fn pool_key(pick: u8) -> String {
    let n = built_in().len();
    let i = usize::from(pick) % (n + CUSTOM.len());
    if i < n {
        built_in()[i].0.clone()
    } else {
        CUSTOM[i - n].0.to_string()
    }
}

pub(super) fn show_perms(perms: &Perms) -> String {
    let parts: Vec<String> = perms
        .iter()
        .map(|p| format!("{}:{}", p.module.key(), p.action.letter().to_ascii_lowercase()))
        .collect();
    format!("{{{}}}", parts.join(" "))
}

impl Run {
    // --- permissions, from the spec's table and the custom roles -------------------------

    pub(super) fn role_perms(&self, key: &str) -> Option<Perms> {
        built_in()
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, p)| p.clone())
            .or_else(|| self.custom.get(key).cloned())
    }

    pub(super) fn roles_perms(&self, roles: &[String]) -> Perms {
        roles.iter().filter_map(|k| self.role_perms(k)).flatten().collect()
    }

    /// A person's effective permissions, whatever their status (for an Invited person, those
    /// the invitation would give): what rule 6 compares.
    pub(super) fn perms(&self, i: usize) -> Perms {
        self.roles_perms(&self.people[i].roles)
    }

    /// What the person may do now: nothing unless Active.
    pub(super) fn live_perms(&self, i: usize) -> Perms {
        if self.people[i].status == Status::Active {
            self.perms(i)
        } else {
            Perms::new()
        }
    }

    pub(super) fn can(&self, i: usize, module: Module, action: Action) -> bool {
        self.live_perms(i).contains(&Permission { module, action })
    }

    pub(super) fn owner(&self, i: usize) -> bool {
        self.people[i].roles.iter().any(|r| r == OWNER)
    }

    /// Rule 6: Owners dominate everyone; anyone else those whose permissions they hold.
    pub(super) fn dominates(&self, a: usize, b: usize) -> bool {
        self.owner(a) || self.perms(b).is_subset(&self.perms(a))
    }

    pub(super) fn active_owners_except(&self, i: usize) -> usize {
        (0..PEOPLE)
            .filter(|&j| j != i && self.people[j].status == Status::Active && self.owner(j))
            .count()
    }

    pub(super) fn role_keys(picks: &[u8]) -> Vec<String> {
        let n = built_in().len() + CUSTOM.len();
        let indexes: BTreeSet<usize> = picks.iter().map(|&p| usize::from(p) % n).collect();
        indexes.into_iter().map(|i| pool_key(i as u8)).collect()
    }

    pub(super) fn template(&self, pick: &PermPick) -> Perms {
        let column = |key: &str| {
            built_in().iter().find(|(k, _)| k == key).map(|(_, p)| p.clone()).unwrap_or_default()
        };
        let mut perms = match pick.template {
            1 => [Action::Create, Action::Read, Action::Update]
                .into_iter()
                .map(|action| Permission { module: Module::Users, action })
                .collect(),
            2 => column(OWNER),
            3 => column("admin"),
            4 => [Permission { module: Module::Users, action: Action::Read }].into(),
            _ => Perms::new(),
        };
        for &(m, a) in &pick.extra {
            perms.insert(Permission { module: Module::ALL[m], action: Action::ALL[a] });
        }
        perms
    }
}
