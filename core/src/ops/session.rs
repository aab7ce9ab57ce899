//! Sign-in, sign-out and resolving a session to an authorized actor.

use crate::auth::password;
use crate::auth::session::{SessionId, Touch};
use crate::error::{Error, Result};
use crate::model::audit::AuditEntry;
use crate::model::{
    role, Action, AuditAction, AuditActor, Email, Module, Outcome, Permission, PermissionSet, User,
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
}

impl Directory {
    /// Signs in with email and password. Every failure is `invalid_credentials`, whether the
    /// email is unknown, the user is not Active or the password is wrong.
    pub fn sign_in(&self, email: &str, password: &str) -> Result<SignedIn> {
        let now = self.clock.now();
        let parsed = Email::parse(email).ok();
        let user = match &parsed {
            Some(e) => self.store.user_by_email(e.key())?,
            None => None,
        };
        let verified = match user.as_ref().and_then(|u| u.password_hash.as_deref()) {
            Some(phc) => password::verify(password, phc),
            None => {
                password::verify_dummy(password);
                false
            }
        };
        let target = parsed
            .map(|e| e.to_string())
            .unwrap_or_else(|| email.trim().chars().take(254).collect());
        let user = match user {
            Some(u) if verified && u.status == UserStatus::Active => u,
            _ => {
                self.store.write(|tx| {
                    tx.audit(
                        AuditEntry {
                            actor: AuditActor::System,
                            action: AuditAction::SignIn,
                            target: Some(target.clone()),
                            summary: "wrong email or password, or the user may not sign in".into(),
                            outcome: Outcome::Failed,
                        },
                        now,
                    )
                })?;
                return Err(Error::InvalidCredentials);
            }
        };
        let mut signed_in = user.clone();
        signed_in.last_sign_in_at = Some(now);
        self.store.write(|tx| {
            tx.put_user(&signed_in)?;
            tx.audit(
                AuditEntry {
                    actor: AuditActor::User(user.id),
                    action: AuditAction::SignIn,
                    target: Some(user.email.to_string()),
                    summary: String::new(),
                    outcome: Outcome::Success,
                },
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
            user: user.view(),
            permissions: self.permissions_of(user).into_iter().collect(),
        })
    }

    /// Ends the session. Signing out twice is not an error.
    pub fn sign_out(&self, session: SessionId) -> Result<()> {
        if let Some(ended) = self.sessions.end(session) {
            let now = self.clock.now();
            self.store.write(|tx| {
                tx.audit(
                    AuditEntry {
                        actor: AuditActor::User(ended.user_id),
                        action: AuditAction::SignOut,
                        target: None,
                        summary: String::new(),
                        outcome: Outcome::Success,
                    },
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

    /// Resolves a session to its Active user, ending it when idle or when the user may no
    /// longer sign in.
    fn session_user(&self, session: SessionId) -> Result<User> {
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
        let permissions = self.permissions_of(&user);
        if permissions.contains(&Permission { module, action }) {
            return Ok(Actor { user, permissions });
        }
        let now = self.clock.now();
        self.store.write(|tx| {
            tx.audit(
                AuditEntry {
                    actor: AuditActor::User(user.id),
                    action: AuditAction::PermissionDenied,
                    target: None,
                    summary: format!("needs {}:{:?}", module.key(), action).to_lowercase(),
                    outcome: Outcome::Denied,
                },
                now,
            )
        })?;
        Err(Error::PermissionDenied)
    }

    /// The union of the permissions of the user's roles.
    pub fn permissions_of(&self, user: &User) -> PermissionSet {
        user.roles
            .iter()
            .filter_map(|key| role::built_in_role(key))
            .flat_map(|r| r.permissions)
            .collect()
    }
}
