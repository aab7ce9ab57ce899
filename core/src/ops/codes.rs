//! Using a one-time code: accepting an invitation, or setting a password after a reset.

use crate::auth::{code, password};
use crate::error::{Error, Result};
use crate::mail::outbox::drop_unsent;
use crate::model::audit::AuditEntry;
use crate::model::email::clean_name;
use crate::model::invitation::{Invitation, PasswordReset};
use crate::model::{AuditAction, AuditActor, CodeRef, CodeState, Email, Outcome, User, UserStatus};
use crate::ops::session::Actor;
use crate::ops::SignedIn;
use crate::policy::Act;
use crate::Directory;
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize, specta::Type)]
pub struct AcceptInput {
    pub email: String,
    pub code: String,
    pub name: String,
    pub password: String,
}

#[derive(Debug, Clone, Deserialize, specta::Type)]
pub struct ResetInput {
    pub email: String,
    pub code: String,
    pub password: String,
}

impl Directory {
    /// The invitee accepts: sets name and password, becomes Active and is signed in.
    /// Errors: `invalid_code` (unknown, used, or for another email), `invitation_expired`,
    /// `invitation_cancelled`, `invitation_replaced`, and the name and password rules'.
    pub fn accept_invitation(&self, input: AcceptInput) -> Result<SignedIn> {
        let result = self.try_accept(&input);
        self.audit_code_failure(&result, AuditAction::AcceptInvitation, &input.email)?;
        let user = result?;
        let settings = self.store.organization()?.ok_or(Error::NotSetUp)?.settings;
        let gate = crate::ops::session::gate_after_factor(&user, &settings, self.clock.now());
        self.start_session(&user, gate)
    }

    fn try_accept(&self, input: &AcceptInput) -> Result<User> {
        // An end date come since the last hourly check ends the invitation first.
        self.end_access_of(&input.email)?;
        let (invitation, user) = self.invitation_by_code(&input.email, &input.code)?;
        let name = clean_name(&input.name, "Your name")?;
        password::check_policy(&input.password, &[&name, user.email.as_str()])?;
        let hash = password::hash(&input.password)?;
        let write = self.unattended();
        // Read again under the lock: a resend or cancel may have won the race.
        let (invitation, mut user) = match self.invitation_by_code(&input.email, &input.code) {
            Ok(pair) if pair.0.id == invitation.id && pair.1.id == user.id => pair,
            Ok(_) => return Err(Error::InvitationReplaced),
            Err(e) => return Err(e),
        };
        let now = write.now;
        user.name = name;
        user.status = UserStatus::Active;
        user.activated_at = Some(now);
        user.last_sign_in_at = Some(now);
        user.updated_at = now;
        user.password_hash = Some(hash);
        user.invitation_id = None;
        write.commit(|tx| {
            tx.put_invitation(&Invitation { state: CodeState::Used, ..invitation.clone() })?;
            drop_unsent(
                tx,
                invitation.message,
                "the code was used before the message was sent",
                now,
            )?;
            tx.put_user(&user)?;
            let entry = AuditEntry::success(
                AuditActor::User(user.id),
                AuditAction::AcceptInvitation,
                user.email.as_str(),
                format!("joined as {}", user.roles.join(", ")),
            );
            tx.audit(entry, now)
        })?;
        Ok(user)
    }

    /// The pending invitation a code and email point at, and its Invited user.
    fn invitation_by_code(&self, email: &str, typed: &str) -> Result<(Invitation, User)> {
        let email = Email::parse(email).map_err(|_| Error::InvalidCode)?;
        let Some(CodeRef::Invitation(id)) = self.store.code(&code::hash(typed))? else {
            return Err(Error::InvalidCode);
        };
        let invitation = self.store.invitation(id)?.ok_or(Error::InvalidCode)?;
        if invitation.email.key() != email.key() || !code::matches(typed, &invitation.code_hash) {
            return Err(Error::InvalidCode);
        }
        match invitation.state {
            CodeState::Used => return Err(Error::InvalidCode),
            CodeState::Cancelled => return Err(Error::InvitationCancelled),
            CodeState::Replaced => return Err(Error::InvitationReplaced),
            CodeState::Pending if invitation.is_expired(self.clock.now()) => {
                return Err(Error::InvitationExpired)
            }
            CodeState::Pending => {}
        }
        let user = self.store.user(invitation.user_id)?.ok_or(Error::InvitationCancelled)?;
        if user.status != UserStatus::Invited || user.invitation_id != Some(invitation.id) {
            return Err(Error::InvitationReplaced);
        }
        Ok((invitation, user))
    }

    /// Sets a new password with a reset code. All the user's sessions end and any lockout
    /// is lifted. Errors: `invalid_code`, `reset_code_expired`, the password rules',
    /// `password_reused`.
    pub fn reset_password(&self, input: ResetInput) -> Result<()> {
        let result = self.try_reset(&input);
        self.audit_code_failure(&result, AuditAction::ResetPassword, &input.email)?;
        result.map(|_| ())
    }

    fn try_reset(&self, input: &ResetInput) -> Result<User> {
        let (reset, user) = self.reset_by_code(&input.email, &input.code)?;
        password::check_policy(&input.password, &[&user.name, user.email.as_str()])?;
        self.check_not_reused(&user, &input.password)?;
        let hash = password::hash(&input.password)?;
        let write = self.unattended();
        let (reset, mut user) = match self.reset_by_code(&input.email, &input.code) {
            Ok(pair) if pair.0.id == reset.id && pair.1.id == user.id => pair,
            Ok(_) => return Err(Error::ResetCodeExpired),
            Err(e) => return Err(e),
        };
        let now = write.now;
        user.set_password(hash, now);
        user.reset_id = None;
        write.commit(|tx| {
            tx.put_reset(&PasswordReset { state: CodeState::Used, ..reset.clone() })?;
            drop_unsent(tx, reset.message, "the code was used before the message was sent", now)?;
            tx.put_user(&user)?;
            tx.put_throttle(user.email.key(), &Default::default())?;
            tx.audit(
                AuditEntry::success(
                    AuditActor::User(user.id),
                    AuditAction::ResetPassword,
                    user.email.as_str(),
                    "",
                ),
                now,
            )
        })?;
        self.sessions.end_all_of(user.id);
        Ok(user)
    }

    fn reset_by_code(&self, email: &str, typed: &str) -> Result<(PasswordReset, User)> {
        let email = Email::parse(email).map_err(|_| Error::InvalidCode)?;
        let Some(CodeRef::Reset(id)) = self.store.code(&code::hash(typed))? else {
            return Err(Error::InvalidCode);
        };
        let reset = self.store.reset(id)?.ok_or(Error::InvalidCode)?;
        let user = self.store.user(reset.user_id)?.ok_or(Error::InvalidCode)?;
        if user.email.key() != email.key() || !code::matches(typed, &reset.code_hash) {
            return Err(Error::InvalidCode);
        }
        match reset.state {
            CodeState::Used => Err(Error::InvalidCode),
            CodeState::Pending if self.reset_holds(&reset, &user)? => Ok((reset, user)),
            _ => Err(Error::ResetCodeExpired),
        }
    }

    /// Whether a pending reset code still works for `user`, its target: not expired, the
    /// user's latest, the user Active, and its issuer still Active and still allowed to issue
    /// it (rule 6: a code stops working when its issuer loses the right to issue it).
    pub(crate) fn reset_holds(&self, reset: &PasswordReset, user: &User) -> Result<bool> {
        if self.clock.now() >= reset.expires_at
            || user.reset_id != Some(reset.id)
            || user.status != UserStatus::Active
        {
            return Ok(false);
        }
        let Some(issuer) = self.store.user(reset.issued_by)? else { return Ok(false) };
        if issuer.status != UserStatus::Active {
            return Ok(false);
        }
        let issuer = Actor { permissions: self.permissions_of(&issuer)?, user: issuer };
        Ok(self.judge(&issuer, user, Act::IssueReset).is_ok())
    }

    /// Refused when `password` equals the current or one of the 4 previous passwords.
    pub(crate) fn check_not_reused(&self, user: &User, password: &str) -> Result<()> {
        let reused = user
            .password_hash
            .iter()
            .chain(user.previous_hashes.iter())
            .any(|phc| password::verify(password, phc));
        if reused {
            return Err(Error::PasswordReused);
        }
        Ok(())
    }

    /// Audits a refused code (security-relevant), without the code itself.
    fn audit_code_failure<T>(
        &self,
        result: &Result<T>,
        action: AuditAction,
        email: &str,
    ) -> Result<()> {
        let Err(e) = result else { return Ok(()) };
        if !matches!(
            e,
            Error::InvalidCode
                | Error::InvitationExpired
                | Error::InvitationCancelled
                | Error::InvitationReplaced
                | Error::ResetCodeExpired
        ) {
            return Ok(());
        }
        let target: String = email.trim().chars().take(254).collect();
        let entry = AuditEntry::success(
            AuditActor::System,
            action,
            target.as_str(),
            format!("refused: {}", e.to_body().message),
        );
        self.unattended().record(entry.with_outcome(Outcome::Failed))
    }
}

impl User {
    /// Sets a new password hash, keeping the previous 4 for the reuse rule.
    pub(crate) fn set_password(&mut self, hash: String, now: chrono::DateTime<chrono::Utc>) {
        if let Some(old) = self.password_hash.replace(hash) {
            self.previous_hashes.insert(0, old);
            self.previous_hashes.truncate(4);
        }
        self.factors.password_changed_at = Some(now);
        self.updated_at = now;
    }
}
