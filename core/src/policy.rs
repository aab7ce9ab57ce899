//! Who may manage whom (domain.md, "Who may manage whom", rules 1–7), and nothing else. Pure
//! functions over values: the commands enforce them through [`crate::change::Change`], and the
//! same functions tell the front ends which actions to offer on each user.

use crate::error::{Error, ErrorBody, Result};
use crate::model::{role, Action, Module, Permission, PermissionSet, RoleKey, User};
use serde::Serialize;

/// A command aimed at one person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum Act {
    ResendInvitation,
    CancelInvitation,
    ChangeRoles,
    IssueReset,
    Unlock,
    Deactivate,
    Reactivate,
    /// Read, save, retry or discard an Outbox message that carries the person's code (rule 7).
    HandleMessage,
    /// Remove the person's second factor (they enrol again when their role requires it).
    RemoveSecondFactor,
    /// Set or clear the date on which the person's access ends (PCI DSS v4 8.2.7).
    SetAccessUntil,
}

impl Act {
    /// The permission the matrix asks for.
    pub fn needs(self) -> Permission {
        let action = match self {
            Act::ResendInvitation | Act::CancelInvitation | Act::HandleMessage => Action::Create,
            _ => Action::Update,
        };
        Permission { module: Module::Users, action }
    }
}

/// A person as the rules see them: who they are and what they may do.
#[derive(Debug, Clone, Copy)]
pub struct Party<'a> {
    pub user: &'a User,
    pub permissions: &'a PermissionSet,
}

/// Rule 6: `actor` dominates `target` when the target's effective permissions are a subset of
/// the actor's. Owners dominate everyone.
pub fn dominates(actor: Party<'_>, target: Party<'_>) -> bool {
    actor.user.is_owner() || target.permissions.is_subset(actor.permissions)
}

/// The matrix and rules 1, 3, 5 and 6 for `act` by `actor` on `target`, whatever the details
/// of the act (the new roles of a role change are judged by [`may_change_roles`]).
/// Errors: `permission_denied`, `own_status`, `own_roles`, `owner_only`, `not_dominant`.
pub fn may_act(act: Act, actor: Party<'_>, target: Party<'_>) -> Result<()> {
    if !actor.permissions.contains(&act.needs()) {
        return Err(Error::PermissionDenied);
    }
    if actor.user.id == target.user.id {
        // Rule 3: the one change to oneself is an Owner handing over ownership.
        return match act {
            Act::ChangeRoles if actor.user.is_owner() => Ok(()), // details: may_change_roles
            Act::ChangeRoles => Err(Error::OwnRoles),
            // Rule 7: a code may be seen by its own recipient.
            Act::HandleMessage => Ok(()),
            _ => Err(Error::OwnStatus),
        };
    }
    if target.user.is_owner() && !actor.user.is_owner() {
        return Err(Error::OwnerOnly);
    }
    if !dominates(actor, target) {
        return Err(Error::NotDominant(target.user.shown_name()));
    }
    Ok(())
}

/// Rules 1 and 4 for handing out roles (inviting, or a role's permissions): only an Owner
/// grants Owner, and nobody grants a permission they do not hold.
pub fn may_grant(
    actor: Party<'_>,
    granted_roles: &[RoleKey],
    granted_permissions: &PermissionSet,
) -> Result<()> {
    if granted_roles.iter().any(|r| r == role::OWNER) && !actor.user.is_owner() {
        return Err(Error::OwnerOnly);
    }
    if !granted_permissions.is_subset(actor.permissions) {
        return Err(Error::Escalation);
    }
    Ok(())
}

/// Rules 1–4 for replacing `target`'s roles with `new_roles`, whose permissions are
/// `new_permissions`, once [`may_act`] allowed the act itself. `other_active_owners` counts
/// Active Owners other than the target.
pub fn may_change_roles(
    actor: Party<'_>,
    target: &User,
    new_roles: &[RoleKey],
    new_permissions: &PermissionSet,
    other_active_owners: usize,
) -> Result<()> {
    let owner_after = new_roles.iter().any(|r| r == role::OWNER);
    if actor.user.id == target.id {
        // Rule 3: give up Owner, keeping or taking any other roles.
        if !target.is_owner() || owner_after {
            return Err(Error::OwnRoles);
        }
    } else if (target.is_owner() || owner_after) && !actor.user.is_owner() {
        return Err(Error::OwnerOnly);
    }
    if !new_permissions.is_subset(actor.permissions) {
        return Err(Error::Escalation);
    }
    // Rule 2: at least one Active Owner remains.
    if target.is_active_owner() && !owner_after && other_active_owners == 0 {
        return Err(Error::LastOwner);
    }
    Ok(())
}

/// Rule 2 for deactivating `target`.
pub fn may_deactivate(target: &User, other_active_owners: usize) -> Result<()> {
    if target.is_active_owner() && other_active_owners == 0 {
        return Err(Error::LastOwner);
    }
    Ok(())
}

/// The sign-in rules (which roles need a second factor, how long a password lasts) are an
/// Owner's to change: a holder of `settings:update` who is not an Owner could otherwise loosen
/// the rules that guard the Owners.
pub fn may_change_sign_in_rules(actor: &User) -> Result<()> {
    if actor.is_owner() {
        return Ok(());
    }
    Err(Error::OwnerRequired)
}

/// Backing up and restoring the whole store (it holds everyone's records): an Active Owner.
pub fn may_back_up(actor: &User) -> Result<()> {
    match actor.is_active_owner() {
        true => Ok(()),
        false => Err(Error::OwnerRequired),
    }
}

/// One action a front end may offer on a user: allowed, or refused with the reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
pub struct ActOption {
    pub act: Act,
    /// Why the signed-in person may not, when they may not.
    pub refused: Option<ErrorBody>,
}

/// The acts that apply to `target` as they stand (by status and lockout), each judged for
/// `actor` by [`may_act`] (and rule 2 for deactivation).
pub fn options(
    actor: Party<'_>,
    target: Party<'_>,
    locked: bool,
    other_active_owners: usize,
) -> Vec<ActOption> {
    use crate::model::UserStatus as S;
    let acts: &[Act] = match target.user.status {
        S::Invited => {
            &[Act::ResendInvitation, Act::CancelInvitation, Act::ChangeRoles, Act::SetAccessUntil]
        }
        S::Active if locked => {
            &[Act::ChangeRoles, Act::IssueReset, Act::Unlock, Act::Deactivate, Act::SetAccessUntil]
        }
        S::Active => &[Act::ChangeRoles, Act::IssueReset, Act::Deactivate, Act::SetAccessUntil],
        S::Inactive if locked => &[Act::ChangeRoles, Act::Unlock, Act::Reactivate],
        S::Inactive => &[Act::ChangeRoles, Act::Reactivate],
    };
    // Removing a second factor applies to whoever has one.
    let factor = target.user.factors.totp.is_some().then_some(Act::RemoveSecondFactor);
    acts.iter()
        .copied()
        .chain(factor)
        .map(|act| {
            let judged = may_act(act, actor, target).and_then(|()| {
                match act {
                    Act::Deactivate => may_deactivate(target.user, other_active_owners),
                    // Handing over ownership needs another Active Owner (rule 2).
                    Act::ChangeRoles if actor.user.id == target.user.id => {
                        may_deactivate(target.user, other_active_owners)
                    }
                    _ => Ok(()),
                }
            });
            ActOption { act, refused: judged.err().map(|e| e.to_body()) }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Email, UserStatus};

    fn user(roles: &[&str]) -> User {
        let now = chrono::DateTime::UNIX_EPOCH;
        User {
            id: uuid::Uuid::now_v7(),
            name: String::new(),
            email: Email::parse("a@example.com").unwrap(),
            status: UserStatus::Active,
            roles: roles.iter().map(|r| r.to_string()).collect(),
            created_at: now,
            updated_at: now,
            activated_at: Some(now),
            deactivated_at: None,
            last_sign_in_at: None,
            password_hash: None,
            previous_hashes: vec![],
            invitation_id: None,
            reset_id: None,
            factors: Default::default(),
            access_until: None,
            reactivated_at: None,
        }
    }

    fn perms(roles: &[&str]) -> PermissionSet {
        roles.iter().flat_map(|r| role::built_in_role(r).unwrap().permissions).collect()
    }

    #[test]
    fn an_admin_does_not_dominate_a_system_integrator() {
        let (admin, si) = (user(&["admin"]), user(&["system_integrator"]));
        let (pa, ps) = (perms(&["admin"]), perms(&["system_integrator"]));
        let actor = Party { user: &admin, permissions: &pa };
        let target = Party { user: &si, permissions: &ps };
        assert!(!dominates(actor, target));
        let err = may_act(Act::IssueReset, actor, target).unwrap_err();
        assert_eq!(err.code(), crate::error::ErrorCode::NotDominant);
    }

    #[test]
    fn an_owner_with_another_owner_may_hand_over_and_become_admin() {
        let owner = user(&["owner"]);
        let p = perms(&["owner"]);
        let me = Party { user: &owner, permissions: &p };
        let admin = vec!["admin".to_string()];
        assert!(may_act(Act::ChangeRoles, me, me).is_ok());
        let offered = options(me, me, false, 0);
        let roles = offered.iter().find(|o| o.act == Act::ChangeRoles).unwrap();
        assert_eq!(roles.refused.as_ref().unwrap().code, crate::error::ErrorCode::LastOwner);
        assert!(may_change_roles(me, &owner, &admin, &perms(&["admin"]), 1).is_ok());
        let err = may_change_roles(me, &owner, &admin, &perms(&["admin"]), 0).unwrap_err();
        assert_eq!(err.code(), crate::error::ErrorCode::LastOwner);
    }
}
