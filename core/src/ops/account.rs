//! What every signed-in user may do to themselves, whatever their roles.

use crate::auth::password;
use crate::auth::session::{Gate, SessionId};
use crate::error::{Error, Result};
use crate::model::audit::AuditEntry;
use crate::model::email::clean_name;
use crate::model::{AuditAction, AuditActor, UserView};
use crate::Directory;

impl Directory {
    /// Changes the signed-in user's own name. Errors: `invalid_name`.
    pub fn change_own_name(&self, session: SessionId, name: &str) -> Result<UserView> {
        let name = clean_name(name, "Your name")?;
        self.changing(session, None, AuditAction::ChangeName, |change| {
            let mut user = change.actor.user.clone();
            let summary = format!("name “{}” → “{}”", user.name, name);
            user.name = name.clone();
            user.updated_at = change.now();
            change.target(user.email.as_str()).commit(&summary, |tx| tx.put_user(&user))?;
            change.view(&user)
        })
    }

    /// Changes the signed-in user's own password and ends their other sessions. A wrong
    /// current password counts as a failed sign-in for the address (the lockout applies) and
    /// is audited. Errors: `wrong_password`, `locked_out`, the password rules',
    /// `password_reused` (one of the last ones).
    ///
    /// This is also the way on from the expired-password gate of signing in.
    pub fn change_own_password(&self, session: SessionId, current: &str, new: &str) -> Result<()> {
        let (user, gate) = self.session_user_at(session, Gate::NewPassword)?;
        let verified =
            user.password_hash.as_deref().is_some_and(|phc| password::verify(current, phc));
        if verified {
            password::check_policy(new, &[&user.name, user.email.as_str()])?;
            self.check_not_reused(&user, new)?;
        }
        let hash = if verified { Some(password::hash(new)?) } else { None };
        let write = self.unattended();
        let key = user.email.key();
        let what = (AuditAction::ChangePassword, " (current password)");
        self.count_sign_in(&write, key, user.email.as_str(), verified, what)?;
        // Read again under the lock: the record may have changed since.
        let (mut user, _) = self.session_user_at(session, Gate::NewPassword)?;
        let Some(hash) = hash else { return Err(Error::WrongPassword) };
        user.set_password(hash, write.now);
        write.commit(|tx| {
            tx.put_throttle(key, &Default::default())?;
            tx.put_user(&user)?;
            tx.audit(
                AuditEntry::success(
                    AuditActor::User(user.id),
                    AuditAction::ChangePassword,
                    user.email.as_str(),
                    "",
                ),
                write.now,
            )
        })?;
        drop(write);
        self.sessions.end_others_of(user.id, session);
        if gate.is_some() {
            self.sessions.pass(session, None);
        }
        Ok(())
    }
}
