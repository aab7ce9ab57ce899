//! Who may manage whom (domain.md, "Who may manage whom", rules 1–5), and nothing else.
//! Permission checks (`users:update` and the like) happen before these, in
//! `Directory::authorize`.

use crate::error::{Error, Result};
use crate::model::{role, PermissionSet, RoleKey, User};
use std::collections::BTreeSet;

/// Rules 1, 3 and 5 for changing another user's status, issuing their password reset or
/// unlocking them: never oneself; an Owner only by an Owner.
pub fn may_manage(actor: &User, target: &User) -> Result<()> {
    if actor.id == target.id {
        return Err(Error::OwnStatus);
    }
    if target.is_owner() && !actor.is_owner() {
        return Err(Error::OwnerOnly);
    }
    Ok(())
}

/// Rules 1 and 4 for handing out roles (inviting, or adding roles to a user): only an Owner
/// grants Owner, and nobody grants a permission they do not hold.
pub fn may_grant(
    actor: &User,
    actor_permissions: &PermissionSet,
    granted_roles: &[RoleKey],
    granted_permissions: &PermissionSet,
) -> Result<()> {
    if granted_roles.iter().any(|r| r == role::OWNER) && !actor.is_owner() {
        return Err(Error::OwnerOnly);
    }
    if !granted_permissions.is_subset(actor_permissions) {
        return Err(Error::Escalation);
    }
    Ok(())
}

/// Rules 1–4 for replacing `target`'s roles with `new_roles`. `added_permissions` are the
/// permissions of the roles being added; `other_active_owners` counts Active Owners other
/// than the target.
pub fn may_change_roles(
    actor: &User,
    actor_permissions: &PermissionSet,
    target: &User,
    new_roles: &[RoleKey],
    added_permissions: &PermissionSet,
    other_active_owners: usize,
) -> Result<()> {
    let before: BTreeSet<&str> = target.roles.iter().map(String::as_str).collect();
    let after: BTreeSet<&str> = new_roles.iter().map(String::as_str).collect();
    let owner_before = before.contains(role::OWNER);
    let owner_after = after.contains(role::OWNER);
    if actor.id == target.id {
        // Rule 3: the one change to one's own roles is giving up Owner.
        let mut expected = before.clone();
        expected.remove(role::OWNER);
        if !(owner_before && !owner_after && after == expected) {
            return Err(Error::OwnRoles);
        }
    } else if (owner_before || owner_after) && !actor.is_owner() {
        // Rule 1: Owner is granted, removed, and its holders managed, by Owners only.
        return Err(Error::OwnerOnly);
    }
    // Rule 4: no escalation through what is added.
    if !added_permissions.is_subset(actor_permissions) {
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
