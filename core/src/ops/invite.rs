//! Inviting users, resending and cancelling invitations.

use crate::auth::code;
use crate::auth::session::SessionId;
use crate::error::{Error, ErrorBody, Result};
use crate::mail::outbox::drop_unsent;
use crate::mail::{Letter, MessageKind, OutboxMessage};
use crate::model::audit::AuditEntry;
use crate::model::email::clean_name;
use crate::model::invitation::Invitation;
use crate::model::{
    Action, AuditAction, CodeState, Email, IssuedCode, Module, PermissionSet, RoleKey, User,
    UserId, UserStatus,
};
use crate::ops::session::Actor;
use crate::{policy, Directory};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

/// Who to invite: one or more people, all with the same roles.
#[derive(Debug, Clone, Deserialize, specta::Type)]
pub struct InviteRequest {
    pub invitees: Vec<Invitee>,
    pub roles: Vec<RoleKey>,
}

#[derive(Debug, Clone, Deserialize, specta::Type)]
pub struct Invitee {
    pub email: String,
    /// Optional: the invitee sets their own name when accepting.
    pub name: Option<String>,
}

/// One invitee's outcome: invited (with the code, shown once) or refused (with why).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum InviteOutcome {
    Invited { email: String, issued: IssuedCode },
    Refused { email: String, error: ErrorBody },
}

impl Directory {
    /// Invites each invitee with `roles`. The request as a whole is refused (nothing changes)
    /// without `users:create`, with no or unknown roles, or when the roles grant what the
    /// inviter does not hold; otherwise each invitee gets an outcome of their own:
    /// `invalid_email`, `invalid_name`, `email_taken`, `email_inactive` or `already_invited`.
    /// An email whose invitation expired is invited afresh (new code, roles and expiry).
    pub fn invite_users(
        &self,
        session: SessionId,
        request: InviteRequest,
    ) -> Result<Vec<InviteOutcome>> {
        let _writes = self.write_lock();
        let actor = self.authorize(session, Module::Users, Action::Create)?;
        let roles = self.checked_roles(&request.roles)?;
        policy::may_grant(
            &actor.user,
            &actor.permissions,
            &roles,
            &self.permissions_of_roles(&roles)?,
        )?;
        let mut outcomes = Vec::with_capacity(request.invitees.len());
        for invitee in &request.invitees {
            let outcome = match self.invite_one(&actor, invitee, &roles) {
                Ok(issued) => InviteOutcome::Invited { email: issued.email.clone(), issued },
                Err(e) => InviteOutcome::Refused {
                    email: invitee.email.trim().to_string(),
                    error: e.to_body(),
                },
            };
            outcomes.push(outcome);
        }
        Ok(outcomes)
    }

    pub(crate) fn invite_one(
        &self,
        actor: &Actor,
        invitee: &Invitee,
        roles: &[RoleKey],
    ) -> Result<IssuedCode> {
        let email = Email::parse(&invitee.email)?;
        let name = match invitee.name.as_deref().map(str::trim) {
            Some(n) if !n.is_empty() => clean_name(n, "The name")?,
            _ => String::new(),
        };
        let now = self.clock.now();
        let existing = self.store.user_by_email(email.key())?;
        let replaced = match &existing {
            None => None,
            Some(u) if u.status == UserStatus::Active => {
                return Err(Error::EmailTaken(u.email.to_string()))
            }
            Some(u) if u.status == UserStatus::Inactive => {
                return Err(Error::EmailInactive(u.email.to_string()))
            }
            Some(u) => match self.current_invitation(u)? {
                Some(inv) if !inv.is_expired(now) => {
                    return Err(Error::AlreadyInvited(u.email.to_string()))
                }
                other => other,
            },
        };
        let mut user = existing.unwrap_or_else(|| User {
            id: uuid::Uuid::now_v7(),
            name: String::new(),
            email: email.clone(),
            status: UserStatus::Invited,
            roles: Vec::new(),
            created_at: now,
            updated_at: now,
            activated_at: None,
            deactivated_at: None,
            last_sign_in_at: None,
            password_hash: None,
            previous_hashes: Vec::new(),
            invitation_id: None,
            reset_id: None,
        });
        if !name.is_empty() {
            user.name = name;
        }
        user.roles = roles.to_vec();
        user.updated_at = now;
        let summary = format!(
            "invited with roles {}{}",
            roles.join(", "),
            if replaced.is_some() { " (the expired invitation was replaced)" } else { "" }
        );
        self.issue_invitation(actor, user, replaced, now, AuditAction::Invite, summary)
    }

    /// Sends a pending invitation again: a new code and expiry; the old code stops working.
    /// Errors: `permission_denied`, `user_not_found`, `invalid_transition` (not Invited),
    /// `owner_only` (an invitation as Owner, by a non-Owner).
    pub fn resend_invitation(&self, session: SessionId, user: UserId) -> Result<IssuedCode> {
        let _writes = self.write_lock();
        let actor = self.authorize(session, Module::Users, Action::Create)?;
        let target = self.invited_target(&actor, user)?;
        let old = self.current_invitation(&target)?;
        let now = self.clock.now();
        self.issue_invitation(
            &actor,
            target,
            old,
            now,
            AuditAction::ResendInvitation,
            "new code and expiry".into(),
        )
    }

    /// Cancels a pending invitation: the user leaves the list and the email is free again;
    /// the invitation and its audit events remain.
    pub fn cancel_invitation(&self, session: SessionId, user: UserId) -> Result<()> {
        let _writes = self.write_lock();
        let actor = self.authorize(session, Module::Users, Action::Create)?;
        let target = self.invited_target(&actor, user)?;
        let now = self.clock.now();
        let invitation = self.current_invitation(&target)?;
        self.store.write(|tx| {
            if let Some(inv) = &invitation {
                tx.put_invitation(&Invitation { state: CodeState::Cancelled, ..inv.clone() })?;
                drop_unsent(tx, inv.message, "the invitation was cancelled", now)?;
            }
            tx.remove_user(&target)?;
            tx.audit(
                AuditEntry::success(
                    actor.audit_actor(),
                    AuditAction::CancelInvitation,
                    target.email.as_str(),
                    "",
                ),
                now,
            )?;
            Ok(())
        })
    }

    /// Writes `user` as Invited with a fresh invitation, marking `replaced` as such.
    fn issue_invitation(
        &self,
        actor: &Actor,
        mut user: User,
        replaced: Option<Invitation>,
        now: DateTime<Utc>,
        action: AuditAction,
        summary: String,
    ) -> Result<IssuedCode> {
        let new_code = code::generate()?;
        let expires_at = now + self.code_lifetime()?;
        let org = self.store.organization()?.ok_or(Error::NotSetUp)?;
        let letter = Letter::invitation(
            &org.name,
            &Directory::letter_name(&actor.user),
            user.name.trim(),
            &self.role_names(&user.roles)?,
            &new_code.text,
            expires_at,
        );
        let invitation_id = uuid::Uuid::now_v7();
        let message = OutboxMessage::queued(
            MessageKind::Invitation,
            invitation_id,
            &user,
            letter,
            actor.user.id,
            now,
        );
        let invitation = Invitation {
            id: invitation_id,
            user_id: user.id,
            email: user.email.clone(),
            roles: user.roles.clone(),
            invited_by: actor.user.id,
            created_at: now,
            expires_at,
            state: CodeState::Pending,
            code_hash: new_code.hash,
            message: Some(message.id),
        };
        user.invitation_id = Some(invitation.id);
        user.updated_at = now;
        self.store.write(|tx| {
            if let Some(old) = &replaced {
                tx.put_invitation(&Invitation { state: CodeState::Replaced, ..old.clone() })?;
                drop_unsent(tx, old.message, "a new invitation replaced this one", now)?;
            }
            tx.put_invitation(&invitation)?;
            tx.put_message(&message)?;
            tx.put_user(&user)?;
            tx.audit(
                AuditEntry::success(
                    actor.audit_actor(),
                    action,
                    user.email.as_str(),
                    summary.as_str(),
                ),
                now,
            )?;
            Ok(())
        })?;
        Ok(IssuedCode {
            user_id: user.id,
            email: user.email.to_string(),
            code: new_code.text,
            expires_at,
            message_id: message.id,
            will_send: org.mail.is_some(),
        })
    }

    /// An Invited user the actor may handle: Owner invitations are handled by Owners only.
    fn invited_target(&self, actor: &Actor, id: UserId) -> Result<User> {
        let target = self.target(id)?;
        if target.status != UserStatus::Invited {
            return Err(Error::InvalidTransition(
                "Only invited users have an invitation to resend or cancel.",
            ));
        }
        if target.is_owner() && !actor.user.is_owner() {
            return Err(Error::OwnerOnly);
        }
        Ok(target)
    }

    pub(crate) fn current_invitation(&self, user: &User) -> Result<Option<Invitation>> {
        match user.invitation_id {
            Some(id) => self.store.invitation(id),
            None => Ok(None),
        }
    }

    /// How long invitation and reset codes live, from the organization's settings.
    pub(crate) fn code_lifetime(&self) -> Result<Duration> {
        let org = self.store.organization()?.ok_or(Error::NotSetUp)?;
        Ok(Duration::hours(i64::from(org.settings.invitation_lifetime_hours)))
    }

    /// Deduplicates `roles` and checks that each exists. Errors: `no_roles`, `unknown_role`.
    pub(crate) fn checked_roles(&self, roles: &[RoleKey]) -> Result<Vec<RoleKey>> {
        let mut checked: Vec<RoleKey> = Vec::new();
        for key in roles {
            let key = key.trim();
            if self.role(key)?.is_none() {
                return Err(Error::UnknownRole(key.to_string()));
            }
            if !checked.iter().any(|k| k == key) {
                checked.push(key.to_string());
            }
        }
        if checked.is_empty() {
            return Err(Error::NoRoles);
        }
        Ok(checked)
    }

    pub(crate) fn permissions_of_roles(&self, roles: &[RoleKey]) -> Result<PermissionSet> {
        let mut all = PermissionSet::new();
        for key in roles {
            if let Some(role) = self.role(key)? {
                all.extend(role.permissions);
            }
        }
        Ok(all)
    }
}
