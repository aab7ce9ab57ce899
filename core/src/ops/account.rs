//! What every signed-in user may do to themselves, whatever their roles.

use crate::auth::password;
use crate::auth::session::SessionId;
use crate::error::{Error, Result};
use crate::model::audit::AuditEntry;
use crate::model::email::clean_name;
use crate::model::{AuditAction, AuditActor, UserView};
use crate::Directory;

impl Directory {
    /// Changes the signed-in user's own name. Errors: `invalid_name`.
    pub fn change_own_name(&self, session: SessionId, name: &str) -> Result<UserView> {
        let name = clean_name(name, "Your name")?;
        let _writes = self.write_lock();
        let mut user = self.session_user(session)?;
        let now = self.clock.now();
        let summary = format!("name “{}” → “{}”", user.name, name);
        user.name = name;
        user.updated_at = now;
        self.store.write(|tx| {
            tx.put_user(&user)?;
            tx.audit(
                AuditEntry::success(
                    AuditActor::User(user.id),
                    AuditAction::ChangeName,
                    user.email.as_str(),
                    summary.as_str(),
                ),
                now,
            )
        })?;
        self.view(&user)
    }

    /// Changes the signed-in user's own password. Errors: `wrong_password` (the current one),
    /// the password rules', `password_reused` (one of the last ones).
    pub fn change_own_password(&self, session: SessionId, current: &str, new: &str) -> Result<()> {
        let user = self.session_user(session)?;
        let verified =
            user.password_hash.as_deref().is_some_and(|phc| password::verify(current, phc));
        if !verified {
            return Err(Error::WrongPassword);
        }
        password::check_policy(new, &[&user.name, user.email.as_str()])?;
        self.check_not_reused(&user, new)?;
        let hash = password::hash(new)?;
        let _writes = self.write_lock();
        let mut user = self.session_user(session)?;
        let now = self.clock.now();
        user.set_password(hash, now);
        self.store
            .write(|tx| {
                tx.put_user(&user)?;
                tx.audit(
                    AuditEntry::success(
                        AuditActor::User(user.id),
                        AuditAction::ChangePassword,
                        user.email.as_str(),
                        "",
                    ),
                    now,
                )
            })
            .map(|_| ())
    }
}
