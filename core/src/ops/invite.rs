//! Inviting users, resending and cancelling invitations.

use crate::auth::code;
use crate::auth::session::SessionId;
use crate::change::Change;
use crate::error::{Error, ErrorBody, Result};
use crate::mail::outbox::drop_unsent;
use crate::mail::{kept_note, Letter, MessageKind};
use crate::model::email::clean_name;
use crate::model::invitation::Invitation;
use crate::model::{
    Action, AuditAction, CodeState, Email, IssuedCode, Module, Permission, PermissionSet, RoleKey,
    User, UserId, UserStatus,
};
use crate::ops::governance::{approval_for, check_end_date, with_approval};
use crate::policy::{self, Act};
use crate::Directory;
use chrono::{Duration, NaiveDate};
use serde::{Deserialize, Serialize};

/// An Invited user, the only kind with an invitation to resend or cancel.
fn invited(target: User) -> Result<User> {
    if target.status != UserStatus::Invited {
        return Err(Error::InvalidTransition(
            "Only invited users have an invitation to resend or cancel.",
        ));
    }
    Ok(target)
}

/// Who to invite: one or more people, all with the same roles.
#[derive(Debug, Clone, Default, Deserialize, specta::Type)]
pub struct InviteRequest {
    pub invitees: Vec<Invitee>,
    pub roles: Vec<RoleKey>,
    /// Who approved the grant and where it is recorded (PCI DSS v4 8.2.4); required for the
    /// roles the settings name.
    #[serde(default)]
    pub approval: Option<String>,
    /// The date on which the invitees' access ends, if it should (8.2.7).
    #[serde(default)]
    pub access_until: Option<NaiveDate>,
}

#[derive(Debug, Clone, Deserialize, specta::Type)]
pub struct Invitee {
    pub email: String,
    /// Optional: the invitee sets their own name when accepting.
    pub name: Option<String>,
}

/// What goes with a grant of roles: its approval reference and end date, both checked.
#[derive(Debug, Clone, Default)]
pub(crate) struct Terms {
    pub(crate) approval: Option<String>,
    pub(crate) access_until: Option<NaiveDate>,
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
    /// `invalid_email`, `invalid_name`, `email_taken`, `email_inactive`, `already_invited`, or
    /// `not_dominant` / `owner_only` (an expired invitation of someone the inviter may not act
    /// on). An email whose invitation expired is invited afresh (new code, roles and expiry).
    pub fn invite_users(
        &self,
        session: SessionId,
        request: InviteRequest,
    ) -> Result<Vec<InviteOutcome>> {
        let needs = Permission { module: Module::Users, action: Action::Create };
        self.changing(session, Some(needs), AuditAction::Invite, |change| {
            change.attempt(format!("invite with roles {}", request.roles.join(", ")));
            let roles = self.checked_roles(&request.roles)?;
            let granted = self.permissions_of_roles(&roles)?;
            policy::may_grant(change.party(), &roles, &granted)?;
            let settings = self.store.organization()?.ok_or(Error::NotSetUp)?.settings;
            let approval = approval_for(&settings, &roles, request.approval.as_deref())?;
            check_end_date(request.access_until, change.now())?;
            let terms = Terms { approval, access_until: request.access_until };
            let mut outcomes = Vec::with_capacity(request.invitees.len());
            for invitee in &request.invitees {
                let outcome = match self.invite_one(change, invitee, &roles, &terms) {
                    Ok(issued) => InviteOutcome::Invited { email: issued.email.clone(), issued },
                    Err(e) => InviteOutcome::Refused {
                        email: invitee.email.trim().to_string(),
                        error: e.to_body(),
                    },
                };
                outcomes.push(outcome);
            }
            Ok(outcomes)
        })
    }

    /// Invites one person as part of `change`. A refusal under the rules is audited here,
    /// since the change as a whole goes on.
    pub(crate) fn invite_one(
        &self,
        change: &mut Change<'_>,
        invitee: &Invitee,
        roles: &[RoleKey],
        terms: &Terms,
    ) -> Result<IssuedCode> {
        let email = Email::parse(&invitee.email)?;
        change
            .set_action(AuditAction::Invite)
            .target(email.as_str())
            .attempt(format!("invite with roles {}", roles.join(", ")));
        let result = self.try_invite_one(change, &email, invitee, roles, terms);
        match result {
            Err(e) if e.is_policy_refusal() => Err(change.refuse(e)),
            other => other,
        }
    }

    fn try_invite_one(
        &self,
        change: &mut Change<'_>,
        email: &Email,
        invitee: &Invitee,
        roles: &[RoleKey],
        terms: &Terms,
    ) -> Result<IssuedCode> {
        let name = match invitee.name.as_deref().map(str::trim) {
            Some(n) if !n.is_empty() => clean_name(n, "The name")?,
            _ => String::new(),
        };
        let now = change.now();
        let existing = self.store.user_by_email(email.key())?;
        let (user, replaced) = match existing {
            None => (None, None),
            Some(u) if u.status == UserStatus::Active => {
                return Err(Error::EmailTaken(u.email.to_string()))
            }
            Some(u) if u.status == UserStatus::Inactive => {
                return Err(Error::EmailInactive(u.email.to_string()))
            }
            Some(u) => match self.current_invitation(&u)? {
                Some(inv) if !inv.is_expired(now) => {
                    return Err(Error::AlreadyInvited(u.email.to_string()))
                }
                // Replacing an expired invitation acts on the person it was for (rule 6).
                other => (Some(change.on_user(u, Act::ResendInvitation)?), other),
            },
        };
        let mut user = user.unwrap_or_else(|| User {
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
            factors: Default::default(),
            access_until: None,
            reactivated_at: None,
        });
        if !name.is_empty() {
            user.name = name;
        }
        user.roles = roles.to_vec();
        user.access_until = terms.access_until;
        user.updated_at = now;
        let mut summary = format!(
            "invited with roles {}{}",
            roles.join(", "),
            if replaced.is_some() { " (the expired invitation was replaced)" } else { "" }
        );
        if let Some(until) = terms.access_until {
            summary.push_str(&format!("; access until {until}"));
        }
        let summary = with_approval(summary, terms.approval.as_deref());
        self.issue_invitation(change, user, replaced, &summary)
    }

    /// Sends a pending invitation again: a new code and expiry; the old code stops working.
    /// Errors: `permission_denied`, `user_not_found`, `owner_only`, `not_dominant`,
    /// `invalid_transition` (not Invited).
    pub fn resend_invitation(&self, session: SessionId, user: UserId) -> Result<IssuedCode> {
        let act = Act::ResendInvitation;
        self.changing(session, Some(act.needs()), AuditAction::ResendInvitation, |change| {
            change.attempt("new code and expiry");
            let target = change.on_user(invited(self.target(user)?)?, act)?;
            let old = self.current_invitation(&target)?;
            self.issue_invitation(change, target, old, "new code and expiry")
        })
    }

    /// Cancels a pending invitation: the user leaves the list and the email is free again;
    /// the invitation and its audit events remain. Errors as [`Directory::resend_invitation`].
    pub fn cancel_invitation(&self, session: SessionId, user: UserId) -> Result<()> {
        let act = Act::CancelInvitation;
        self.changing(session, Some(act.needs()), AuditAction::CancelInvitation, |change| {
            change.attempt("cancel the invitation");
            let target = change.on_user(invited(self.target(user)?)?, act)?;
            let invitation = self.current_invitation(&target)?;
            let now = change.now();
            change.commit("", |tx| {
                if let Some(inv) = &invitation {
                    tx.put_invitation(&Invitation { state: CodeState::Cancelled, ..inv.clone() })?;
                    drop_unsent(tx, inv.message, "the invitation was cancelled", now)?;
                }
                tx.remove_user(&target)
            })
        })
    }

    /// Writes `user` as Invited with a fresh invitation, marking `replaced` as such.
    fn issue_invitation(
        &self,
        change: &Change<'_>,
        mut user: User,
        replaced: Option<Invitation>,
        summary: &str,
    ) -> Result<IssuedCode> {
        let now = change.now();
        let inviter = &change.actor.user;
        let new_code = code::generate()?;
        let expires_at = now + self.code_lifetime()?;
        let org = self.store.organization()?.ok_or(Error::NotSetUp)?;
        let letter = Letter::invitation(
            &org.name,
            &inviter.shown_name(),
            user.name.trim(),
            &self.role_names(&user.roles)?,
            &new_code.text,
            expires_at,
        );
        let invitation_id = uuid::Uuid::now_v7();
        let (message, keeping) = self.queue_letter(
            MessageKind::Invitation,
            invitation_id,
            &user,
            &letter,
            inviter.id,
            now,
        )?;
        let invitation = Invitation {
            id: invitation_id,
            user_id: user.id,
            email: user.email.clone(),
            roles: user.roles.clone(),
            invited_by: inviter.id,
            created_at: now,
            expires_at,
            state: CodeState::Pending,
            code_hash: new_code.hash,
            message: Some(message.id),
        };
        user.invitation_id = Some(invitation.id);
        user.updated_at = now;
        change.commit(summary, |tx| {
            if let Some(old) = &replaced {
                tx.put_invitation(&Invitation { state: CodeState::Replaced, ..old.clone() })?;
                drop_unsent(tx, old.message, "a new invitation replaced this one", now)?;
            }
            tx.put_invitation(&invitation)?;
            tx.put_message(&message)?;
            tx.put_user(&user)
        })?;
        Ok(IssuedCode {
            user_id: user.id,
            email: user.email.to_string(),
            code: new_code.text,
            expires_at,
            message_id: message.id,
            will_send: org.mail.is_some(),
            code_kept_note: kept_note(&keeping),
        })
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
