//! Sign-in (with lockout), sign-out, and resolving a session to an authorized actor.

use crate::auth::password;
use crate::auth::session::{SessionId, Touch};
use crate::error::{Error, Result};
use crate::model::audit::AuditEntry;
use crate::model::{
    Action, AuditAction, AuditActor, Email, Module, Outcome, Permission, PermissionSet, User,
    UserStatus, UserView,
};
use crate::Directory;
use serde::Serialize;

/// A new session: the handle stays with the front end's process, the info goes to the UI.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub session: SessionId,
    pub info: SessionInfo,
}

/// What the UI knows about the signed-in user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
pub struct SessionInfo {
    pub organization: String,
    pub user: UserView,
    pub permissions: Vec<Permission>,
}

/// A signed-in user whose permission for one action was checked. Only [`Directory::authorize`]
/// makes one, so an operation that takes an `Actor` cannot run unchecked.
#[derive(Debug, Clone)]
pub struct Actor {
    pub(crate) user: User,
    pub(crate) permissions: PermissionSet,
}

impl Actor {
    pub fn user(&self) -> UserView {
        self.user.view()
    }

    pub fn can(&self, module: Module, action: Action) -> bool {
        self.permissions.contains(&Permission { module, action })
    }

    pub(crate) fn audit_actor(&self) -> AuditActor {
        AuditActor::User(self.user.id)
    }
}

/// The key lockouts are counted under: the normalized address, or the trimmed, lower-cased
/// text when it is not an address at all.
fn throttle_key(email: &str) -> String {
    match Email::parse(email) {
        Ok(e) => e.key().to_string(),
        Err(_) => email.trim().to_lowercase().chars().take(254).collect(),
    }
}

impl Directory {
    /// Signs in with email and password. A wrong password, an unknown email and a user who
    /// is not Active all give `invalid_credentials`; the fifth failure in a row for one address
    /// locks it for 30 minutes (`locked_out`).
    pub fn sign_in(&self, email: &str, password: &str) -> Result<SignedIn> {
        let key = throttle_key(email);
        let user = self.store.user_by_email(&key)?;
        // Hash before taking the lock: argon2 is slow on purpose.
        let verified = match user.as_ref().and_then(|u| u.password_hash.as_deref()) {
            Some(phc) => password::verify(password, phc),
            None => {
                password::verify_dummy(password);
                false
            }
        };
        let _writes = self.write_lock();
        let now = self.clock.now();
        let throttle = self.store.throttle(&key)?;
        let target = user.as_ref().map(|u| u.email.to_string()).unwrap_or_else(|| key.clone());
        if let Some(minutes) = throttle.minutes_locked(now) {
            self.store.write(|tx| {
                let entry = AuditEntry::success(
                    AuditActor::System,
                    AuditAction::SignIn,
                    target.as_str(),
                    "refused: locked out",
                );
                tx.audit(entry.with_outcome(Outcome::Denied), now)
            })?;
            return Err(Error::LockedOut { minutes });
        }
        let user = match user {
            Some(u) if verified && u.status == UserStatus::Active => u,
            _ => {
                let after = throttle.after_failure(now);
                self.store.write(|tx| {
                    tx.put_throttle(&key, &after)?;
                    let summary = match after.locked_until {
                        Some(_) => {
                            format!("failed attempt {}: locked for 30 minutes", after.failures)
                        }
                        None => format!("failed attempt {}", after.failures),
                    };
                    let entry = AuditEntry::success(
                        AuditActor::System,
                        AuditAction::SignIn,
                        target.as_str(),
                        summary,
                    );
                    tx.audit(entry.with_outcome(Outcome::Failed), now)
                })?;
                return match after.minutes_locked(now) {
                    Some(minutes) => Err(Error::LockedOut { minutes }),
                    None => Err(Error::InvalidCredentials),
                };
            }
        };
        let mut signed_in = user.clone();
        signed_in.last_sign_in_at = Some(now);
        self.store.write(|tx| {
            tx.put_throttle(&key, &Default::default())?;
            tx.put_user(&signed_in)?;
            tx.audit(
                AuditEntry::success(
                    AuditActor::User(user.id),
                    AuditAction::SignIn,
                    user.email.as_str(),
                    "",
                ),
                now,
            )
        })?;
        self.start_session(&signed_in)
    }

    pub(crate) fn start_session(&self, user: &User) -> Result<SignedIn> {
        let session = self.sessions.start(user.id, self.clock.now());
        Ok(SignedIn { session, info: self.session_info(user)? })
    }

    fn session_info(&self, user: &User) -> Result<SessionInfo> {
        let organization = self.store.organization()?.ok_or(Error::NotSetUp)?.name;
        Ok(SessionInfo {
            organization,
            user: self.view(user)?,
            permissions: self.permissions_of(user)?.into_iter().collect(),
        })
    }

    /// Ends the session. Signing out twice is not an error.
    pub fn sign_out(&self, session: SessionId) -> Result<()> {
        if let Some(ended) = self.sessions.end(session) {
            let now = self.clock.now();
            self.store.write(|tx| {
                tx.audit(
                    AuditEntry::success(
                        AuditActor::User(ended.user_id),
                        AuditAction::SignOut,
                        "",
                        "",
                    ),
                    now,
                )
            })?;
        }
        Ok(())
    }

    /// The signed-in user's info, refreshing the idle timer.
    /// Errors: `not_signed_in`, `session_expired`.
    pub fn current_session(&self, session: SessionId) -> Result<SessionInfo> {
        let user = self.session_user(session)?;
        self.session_info(&user)
    }

    /// Whether the session is still live, without refreshing its idle timer: for a front end
    /// that checks in the background whether to show the lock screen.
    pub fn session_is_live(&self, session: SessionId) -> Result<bool> {
        let org = self.store.organization()?.ok_or(Error::NotSetUp)?;
        let idle = chrono::Duration::minutes(i64::from(org.settings.session_idle_minutes));
        Ok(self.sessions.is_live(session, self.clock.now(), idle))
    }

    /// Resolves a session to its Active user, ending it when idle or when the user may no
    /// longer sign in.
    pub(crate) fn session_user(&self, session: SessionId) -> Result<User> {
        let org = self.store.organization()?.ok_or(Error::NotSetUp)?;
        let idle = chrono::Duration::minutes(i64::from(org.settings.session_idle_minutes));
        let live = match self.sessions.touch(session, self.clock.now(), idle) {
            Touch::Live(s) => s,
            Touch::Expired => return Err(Error::SessionExpired),
            Touch::Unknown => return Err(Error::NotSignedIn),
        };
        match self.store.user(live.user_id)? {
            Some(user) if user.status == UserStatus::Active => Ok(user),
            _ => {
                self.sessions.end(session);
                Err(Error::SessionExpired)
            }
        }
    }

    /// Checks that the session's user may do `action` on `module`. A refusal is audited.
    pub fn authorize(&self, session: SessionId, module: Module, action: Action) -> Result<Actor> {
        let user = self.session_user(session)?;
        let permissions = self.permissions_of(&user)?;
        if permissions.contains(&Permission { module, action }) {
            return Ok(Actor { user, permissions });
        }
        let now = self.clock.now();
        self.store.write(|tx| {
            let summary =
                format!("needs {}:{}", module.key(), action.letter().to_ascii_lowercase());
            let entry = AuditEntry::success(
                AuditActor::User(user.id),
                AuditAction::PermissionDenied,
                "",
                summary,
            );
            tx.audit(entry.with_outcome(Outcome::Denied), now)
        })?;
        Err(Error::PermissionDenied)
    }

    /// The union of the permissions of the user's roles.
    pub fn permissions_of(&self, user: &User) -> Result<PermissionSet> {
        self.permissions_of_roles(&user.roles)
    }

    /// Whether the user may do `action` on `module` now: Active, and one of their roles grants
    /// it. The answer the wider platform asks for (`can(user, module, action)`).
    pub fn can(&self, user: crate::model::UserId, module: Module, action: Action) -> Result<bool> {
        match self.store.user(user)? {
            Some(u) if u.status == UserStatus::Active => {
                Ok(self.permissions_of(&u)?.contains(&Permission { module, action }))
            }
            _ => Ok(false),
        }
    }
}
