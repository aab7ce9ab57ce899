//! Changing other users: status, roles, password resets and lockouts.

use crate::auth::code;
use crate::auth::session::SessionId;
use crate::error::{Error, Result};
use crate::mail::outbox::drop_unsent;
use crate::mail::{kept_note, Letter, MessageKind};
use crate::model::invitation::{Invitation, PasswordReset};
use crate::model::{AuditAction, CodeState, IssuedCode, RoleKey, UserId, UserStatus, UserView};
use crate::ops::governance;
use crate::policy::{self, Act};
use crate::Directory;

const MAX_REASON: usize = 500;

impl Directory {
    /// Deactivates an Active user: they can no longer sign in and their sessions end at once;
    /// their history, roles and audit trail stay. Errors: `permission_denied`, `own_status`,
    /// `owner_only`, `not_dominant`, `last_owner`, `invalid_transition`.
    pub fn deactivate_user(
        &self,
        session: SessionId,
        user: UserId,
        reason: Option<String>,
    ) -> Result<UserView> {
        let reason = reason.map(|r| {
            r.trim().chars().filter(|c| !c.is_control()).take(MAX_REASON).collect::<String>()
        });
        let summary = match reason.as_deref() {
            Some(r) if !r.is_empty() => format!("Active → Inactive; reason: {r}"),
            _ => "Active → Inactive".to_string(),
        };
        let act = Act::Deactivate;
        self.changing(session, Some(act.needs()), AuditAction::Deactivate, |change| {
            change.attempt(summary.as_str());
            let mut target = change.on(user, act)?;
            if target.status != UserStatus::Active {
                return Err(Error::InvalidTransition("Only Active users can be deactivated."));
            }
            policy::may_deactivate(&target, self.active_owners_except(target.id)?)?;
            target.status = UserStatus::Inactive;
            target.reset_id = None; // a pending reset code stops working for good
            target.deactivated_at = Some(change.now());
            target.updated_at = change.now();
            change.commit(&summary, |tx| tx.put_user(&target))?;
            self.sessions.end_all_of(target.id);
            change.view(&target)
        })
    }

    /// Reactivates an Inactive user. Errors: `permission_denied`, `own_status`, `owner_only`,
    /// `not_dominant`, `invalid_transition`.
    pub fn reactivate_user(&self, session: SessionId, user: UserId) -> Result<UserView> {
        let act = Act::Reactivate;
        self.changing(session, Some(act.needs()), AuditAction::Reactivate, |change| {
            change.attempt("Inactive → Active");
            let mut target = change.on(user, act)?;
            if target.status != UserStatus::Inactive {
                return Err(Error::InvalidTransition("Only Inactive users can be reactivated."));
            }
            target.status = UserStatus::Active;
            target.deactivated_at = None;
            target.reactivated_at = Some(change.now());
            target.updated_at = change.now();
            change.commit("Inactive → Active", |tx| tx.put_user(&target))?;
            change.view(&target)
        })
    }

    /// [`Directory::change_roles_approved`] without an approval reference.
    pub fn change_roles(
        &self,
        session: SessionId,
        user: UserId,
        roles: Vec<RoleKey>,
    ) -> Result<UserView> {
        self.change_roles_approved(session, user, roles, None)
    }

    /// Replaces a user's roles (an Invited user's pending invitation follows), recording who
    /// approved the grant (`approval`, kept in the audit event). The user's sessions end.
    /// Errors: `permission_denied`, `no_roles`, `unknown_role`, `owner_only`, `own_roles`,
    /// `not_dominant`, `escalation`, `last_owner`, `approval_required` (a newly granted role
    /// the settings name, without a reference).
    pub fn change_roles_approved(
        &self,
        session: SessionId,
        user: UserId,
        roles: Vec<RoleKey>,
        approval: Option<String>,
    ) -> Result<UserView> {
        let act = Act::ChangeRoles;
        self.changing(session, Some(act.needs()), AuditAction::ChangeRoles, |change| {
            change.attempt(format!("roles → {}", roles.join(", ")));
            let roles = self.checked_roles(&roles)?;
            let mut target = change.on(user, act)?;
            let summary = format!("roles {} → {}", target.roles.join(", "), roles.join(", "));
            change.attempt(summary.as_str());
            let settings = self.store.organization()?.ok_or(Error::NotSetUp)?.settings;
            let added: Vec<RoleKey> =
                roles.iter().filter(|r| !target.roles.contains(r)).cloned().collect();
            let approval = governance::approval_for(&settings, &added, approval.as_deref())?;
            let summary = governance::with_approval(summary, approval.as_deref());
            policy::may_change_roles(
                change.party(),
                &target,
                &roles,
                &self.permissions_of_roles(&roles)?,
                self.active_owners_except(target.id)?,
            )?;
            if roles == target.roles {
                return change.view(&target);
            }
            target.roles = roles;
            target.updated_at = change.now();
            let invitation =
                self.current_invitation(&target)?.filter(|i| i.state == CodeState::Pending);
            change.commit(&summary, |tx| {
                if let Some(inv) = &invitation {
                    tx.put_invitation(&Invitation { roles: target.roles.clone(), ..inv.clone() })?;
                }
                tx.put_user(&target)
            })?;
            self.sessions.end_all_of(target.id);
            change.view(&target)
        })
    }

    /// Issues a one-time password reset code for an Active user (any earlier one stops
    /// working) and ends their sessions. Errors: `permission_denied`, `own_status`,
    /// `owner_only`, `not_dominant`, `invalid_transition`.
    pub fn issue_password_reset(&self, session: SessionId, user: UserId) -> Result<IssuedCode> {
        let act = Act::IssueReset;
        self.changing(session, Some(act.needs()), AuditAction::IssuePasswordReset, |change| {
            change.attempt("issue a password reset code");
            let mut target = change.on(user, act)?;
            if target.status != UserStatus::Active {
                return Err(Error::InvalidTransition(
                    "Only Active users can be given a password reset.",
                ));
            }
            let now = change.now();
            let new_code = code::generate()?;
            let expires_at = now + self.code_lifetime()?;
            let org = self.store.organization()?.ok_or(Error::NotSetUp)?;
            let letter = Letter::password_reset(
                &org.name,
                &change.actor.user.shown_name(),
                target.name.trim(),
                &new_code.text,
                expires_at,
            );
            let reset_id = uuid::Uuid::now_v7();
            let (message, keeping) = self.queue_letter(
                MessageKind::PasswordReset,
                reset_id,
                &target,
                &letter,
                change.actor.user.id,
                now,
            )?;
            let reset = PasswordReset {
                id: reset_id,
                user_id: target.id,
                issued_by: change.actor.user.id,
                created_at: now,
                expires_at,
                state: CodeState::Pending,
                code_hash: new_code.hash,
                message: Some(message.id),
            };
            let old = match target.reset_id {
                Some(id) => self.store.reset(id)?.filter(|r| r.state == CodeState::Pending),
                None => None,
            };
            target.reset_id = Some(reset.id);
            target.updated_at = now;
            change.commit("", |tx| {
                if let Some(old) = &old {
                    tx.put_reset(&PasswordReset { state: CodeState::Replaced, ..old.clone() })?;
                    drop_unsent(tx, old.message, "a newer reset code replaced this one", now)?;
                }
                tx.put_reset(&reset)?;
                tx.put_message(&message)?;
                tx.put_user(&target)
            })?;
            self.sessions.end_all_of(target.id);
            Ok(IssuedCode {
                user_id: target.id,
                email: target.email.to_string(),
                code: new_code.text,
                expires_at: reset.expires_at,
                message_id: message.id,
                will_send: org.mail.is_some(),
                code_kept_note: kept_note(&keeping),
            })
        })
    }

    /// Lifts a sign-in lockout on the user's email. Errors: `permission_denied`, `own_status`,
    /// `owner_only`, `not_dominant`.
    pub fn unlock_user(&self, session: SessionId, user: UserId) -> Result<UserView> {
        let act = Act::Unlock;
        self.changing(session, Some(act.needs()), AuditAction::Unlock, |change| {
            change.attempt("lift the sign-in lockout");
            let target = change.on(user, act)?;
            change.commit("", |tx| tx.put_throttle(target.email.key(), &Default::default()))?;
            change.view(&target)
        })
    }

    /// Active Owners other than `except`.
    pub(crate) fn active_owners_except(&self, except: UserId) -> Result<usize> {
        Ok(self.store.index().active_owners_except(except))
    }
}
