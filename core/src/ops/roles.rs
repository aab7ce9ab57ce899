//! Roles: reading them, and managing custom roles.

use crate::auth::session::SessionId;
use crate::change::Change;
use crate::error::{Error, Result};
use crate::model::email::clean_name;
use crate::model::{role, Action, AuditAction, Module, Permission, Role, RoleKey};
use crate::{policy, Directory};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
pub struct RoleView {
    pub role: Role,
    /// Users in the list (Active, Inactive or Invited) who hold it.
    pub members: u32,
}

#[derive(Debug, Clone, Deserialize, specta::Type)]
pub struct RoleInput {
    /// The key for a new role (lower-case letters, digits, `_`); made from the name when absent.
    pub key: Option<String>,
    pub name: String,
    pub description: String,
    pub permissions: Vec<Permission>,
}

/// A new custom role copied from an existing one ([`Directory::duplicate_role`]).
#[derive(Debug, Clone, Deserialize, specta::Type)]
pub struct RoleCopy {
    /// The key of the role copied, built-in or custom.
    pub from: RoleKey,
    /// The copy's key (lower-case letters, digits, `_`); made from the name when absent.
    pub key: Option<String>,
    pub name: String,
    /// The copy's description; the source's when absent.
    #[serde(default)]
    pub description: Option<String>,
    /// The copy's permissions as edited before saving; exactly the source's when absent.
    #[serde(default)]
    pub permissions: Option<Vec<Permission>>,
}

const MAX_DESCRIPTION: usize = 500;
const ROLES_CREATE: Permission = Permission { module: Module::Roles, action: Action::Create };

impl Directory {
    /// Every role with its member count, built-in ones first in table order, then custom ones
    /// by name. Needs `roles:read`.
    pub fn list_roles(&self, session: SessionId) -> Result<Vec<RoleView>> {
        self.authorize(session, Module::Roles, Action::Read)?;
        let mut custom = self.store.custom_roles()?;
        custom.sort_by_cached_key(|r| r.name.to_lowercase());
        let mut members: std::collections::HashMap<&str, u32> = std::collections::HashMap::new();
        let index = self.store.index();
        for user in index.in_name_order() {
            for key in user.roles {
                *members.entry(key).or_default() += 1;
            }
        }
        Ok(role::built_in_roles()
            .into_iter()
            .chain(custom)
            .map(|role| {
                let members = members.get(role.key.as_str()).copied().unwrap_or(0);
                RoleView { role, members }
            })
            .collect())
    }

    /// Creates a custom role. Needs `roles:create`. Errors: `invalid_name`, `role_exists`,
    /// `escalation` (a permission the creator does not hold).
    pub fn create_role(&self, session: SessionId, input: RoleInput) -> Result<Role> {
        self.changing(session, Some(ROLES_CREATE), AuditAction::CreateRole, |change| {
            self.new_role(change, input, None)
        })
    }

    /// Creates a custom role as a copy of `copy.from` (built-in or custom): its permissions
    /// (or the edited set the copy gives) under a new key and name, then edited like any custom
    /// role. The ordinary create-role rules apply, rule 4 included: nobody copies a role that
    /// holds a permission they lack. Audited as a role creation naming the source. Needs
    /// `roles:create`. Errors: `unknown_role` (no such source), and [`Directory::create_role`]'s.
    pub fn duplicate_role(&self, session: SessionId, copy: RoleCopy) -> Result<Role> {
        self.changing(session, Some(ROLES_CREATE), AuditAction::CreateRole, |change| {
            let from = copy.from.trim();
            change.attempt(format!("copy of {from}"));
            let source = self.role(from)?.ok_or_else(|| Error::UnknownRole(from.to_string()))?;
            let input = RoleInput {
                key: copy.key,
                name: copy.name,
                description: copy.description.unwrap_or_else(|| source.description.clone()),
                permissions: match copy.permissions {
                    Some(edited) => edited,
                    None => source.permissions.iter().copied().collect(),
                },
            };
            self.new_role(change, input, Some(&source))
        })
    }

    /// Writes a new custom role from `input` as part of `change` (a copy of `source`).
    fn new_role(
        &self,
        change: &mut Change<'_>,
        input: RoleInput,
        source: Option<&Role>,
    ) -> Result<Role> {
        let (name, description) = clean_role_text(&input)?;
        let key = match input.key.as_deref().map(str::trim) {
            Some(k) if !k.is_empty() => valid_key(k)?,
            _ => key_from_name(&name),
        };
        if self.role(&key)?.is_some() || self.role_named(&name)?.is_some() {
            return Err(Error::RoleExists(name));
        }
        let role = Role {
            key,
            name,
            description,
            built_in: false,
            permissions: input.permissions.iter().copied().collect(),
        };
        let summary = match source {
            Some(source) => format!("created as a copy of {} with {}", source.key, describe(&role)),
            None => format!("created with {}", describe(&role)),
        };
        change.target(role.key.as_str()).attempt(summary.as_str());
        policy::may_grant(change.party(), &[], &role.permissions)?;
        change.commit(&summary, |tx| tx.put_role(&role))?;
        Ok(role)
    }

    /// Changes a custom role's name, description and permissions. Needs `roles:update`.
    /// Errors: `built_in_role`, `unknown_role`, `role_exists`, `escalation`.
    pub fn update_role(&self, session: SessionId, key: &str, input: RoleInput) -> Result<Role> {
        let needs = Permission { module: Module::Roles, action: Action::Update };
        self.changing(session, Some(needs), AuditAction::UpdateRole, |change| {
            change.target(key);
            let before = self.custom_role_for_change(key)?;
            let (name, description) = clean_role_text(&input)?;
            if self.role_named(&name)?.is_some_and(|other| other.key != before.key) {
                return Err(Error::RoleExists(name));
            }
            let role = Role {
                name,
                description,
                permissions: input.permissions.iter().copied().collect(),
                ..before.clone()
            };
            let summary = format!("{} → {}", describe(&before), describe(&role));
            change.attempt(summary.as_str());
            // Rule 4 applies to what is added: an Admin may edit a role without holding all of
            // it only if they add nothing they lack.
            let added = role.permissions.difference(&before.permissions).copied().collect();
            policy::may_grant(change.party(), &[], &added)?;
            change.commit(&summary, |tx| tx.put_role(&role))?;
            Ok(role)
        })
    }

    /// Deletes a custom role no user holds. Needs `roles:delete`. Errors: `built_in_role`,
    /// `unknown_role`, `role_in_use` (with the number of holders).
    pub fn delete_role(&self, session: SessionId, key: &str) -> Result<()> {
        let needs = Permission { module: Module::Roles, action: Action::Delete };
        self.changing(session, Some(needs), AuditAction::DeleteRole, |change| {
            change.target(key).attempt("delete the role");
            let role = self.custom_role_for_change(key)?;
            let users = self.store.index().in_name_order().filter(|u| u.holds(&role.key)).count();
            if users > 0 {
                return Err(Error::RoleInUse { users });
            }
            change.commit(&describe(&role), |tx| tx.remove_role(&role.key))
        })
    }

    fn custom_role_for_change(&self, key: &str) -> Result<Role> {
        if role::built_in_role(key).is_some() {
            return Err(Error::BuiltInRole);
        }
        self.store.custom_role(key)?.ok_or_else(|| Error::UnknownRole(key.to_string()))
    }

    fn role_named(&self, name: &str) -> Result<Option<Role>> {
        let wanted = name.to_lowercase();
        Ok(role::built_in_roles()
            .into_iter()
            .chain(self.store.custom_roles()?)
            .find(|r| r.name.to_lowercase() == wanted))
    }
}

fn clean_role_text(input: &RoleInput) -> Result<(String, String)> {
    let name = clean_name(&input.name, "The role name")?;
    let description: String = input.description.trim().chars().take(MAX_DESCRIPTION).collect();
    if description.chars().any(|c| c.is_control() && c != '\n') {
        return Err(Error::InvalidName("The description"));
    }
    Ok((name, description))
}

fn valid_key(key: &str) -> Result<RoleKey> {
    let ok = (1..=40).contains(&key.len())
        && key.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !ok {
        return Err(Error::InvalidName("A role key (lower-case letters, digits and _, up to 40)"));
    }
    Ok(key.to_string())
}

/// `"Support Lead (EU)"` → `"support_lead_eu"`; a name with no letters or digits gets `role`.
fn key_from_name(name: &str) -> RoleKey {
    let mut key = String::new();
    for c in name.to_lowercase().chars() {
        if c.is_ascii_alphanumeric() {
            key.push(c);
        } else if !key.ends_with('_') && !key.is_empty() {
            key.push('_');
        }
    }
    let key: String = key.trim_end_matches('_').chars().take(40).collect();
    if key.is_empty() {
        format!("role_{}", uuid::Uuid::now_v7().simple())
    } else {
        key
    }
}

/// A compact form of a role's permissions for the audit log: `users:r roles:cru`.
fn describe(role: &Role) -> String {
    let mut parts: Vec<String> = Vec::new();
    for module in crate::model::Module::ALL {
        let letters: String = role
            .permissions
            .iter()
            .filter(|p| p.module == module)
            .map(|p| p.action.letter().to_ascii_lowercase())
            .collect();
        if !letters.is_empty() {
            parts.push(format!("{}:{letters}", module.key()));
        }
    }
    if parts.is_empty() {
        "no permissions".into()
    } else {
        parts.join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::key_from_name;

    #[test]
    fn keys_are_made_from_names() {
        assert_eq!(key_from_name("Support Lead (EU)"), "support_lead_eu");
        assert_eq!(key_from_name("  Ops  "), "ops");
        assert!(key_from_name("★★").starts_with("role_"));
    }
}
