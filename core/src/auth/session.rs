//! Sessions live in memory only: a restart signs everybody out.

use crate::model::UserId;
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};
use uuid::Uuid;

/// An opaque handle to a signed-in session. Front ends keep it to themselves; the UI never
/// sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SessionId(Uuid);

#[derive(Debug, Clone)]
pub struct Session {
    pub user_id: UserId,
    pub created_at: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    /// What the person must do before anything else; `None` once signed in fully.
    pub gate: Option<Gate>,
}

/// A step of signing in still to take. A session at a gate is refused by every command but
/// the gate's own (deny by default: [`Gate::refusal`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum Gate {
    /// The password was right: now a code from the authenticator app or a recovery code.
    SecondFactor,
    /// The person's role needs a second factor and they have none: enrol.
    Enrol,
    /// The password is older than the organization allows: choose a new one.
    NewPassword,
}

impl Gate {
    /// The refusal of any other command while the session waits at this gate.
    pub fn refusal(self) -> crate::error::Error {
        use crate::error::Error;
        match self {
            Gate::SecondFactor => Error::SecondFactorRequired,
            Gate::Enrol => Error::EnrolmentRequired,
            Gate::NewPassword => Error::PasswordExpired,
        }
    }
}

/// A session ends this long after sign-in, whatever the activity (ASVS 5.0 7.3.2).
pub const MAX_AGE: chrono::Duration = chrono::Duration::hours(12);

impl Session {
    fn is_live(&self, now: DateTime<Utc>, idle: chrono::Duration) -> bool {
        now - self.last_seen <= idle && now - self.created_at < MAX_AGE
    }
}

#[derive(Debug, Default)]
pub struct Sessions(Mutex<HashMap<SessionId, Session>>);

impl Sessions {
    fn lock(&self) -> MutexGuard<'_, HashMap<SessionId, Session>> {
        self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn start(&self, user_id: UserId, now: DateTime<Utc>, gate: Option<Gate>) -> SessionId {
        // v4: 122 bits from the OS generator; a session id must not be guessable.
        let id = SessionId(Uuid::new_v4());
        self.lock().insert(id, Session { user_id, created_at: now, last_seen: now, gate });
        id
    }

    /// Moves a session on from its gate to `next` (`None`: signed in fully).
    pub fn pass(&self, id: SessionId, next: Option<Gate>) {
        if let Some(s) = self.lock().get_mut(&id) {
            s.gate = next;
        }
    }

    /// Returns the session if it is live (seen within `idle`, and started less than
    /// [`MAX_AGE`] ago). `activity` marks it seen now: only a person's own actions do, never a
    /// background poll. A session that is no longer live is removed.
    pub fn touch(
        &self,
        id: SessionId,
        now: DateTime<Utc>,
        idle: chrono::Duration,
        activity: bool,
    ) -> Touch {
        let mut map = self.lock();
        match map.get_mut(&id) {
            None => Touch::Unknown,
            Some(s) if !s.is_live(now, idle) => {
                map.remove(&id);
                Touch::Expired
            }
            Some(s) => {
                if activity {
                    s.last_seen = now;
                }
                Touch::Live(s.clone())
            }
        }
    }

    /// Whether the session is live, without counting this as activity.
    pub fn is_live(&self, id: SessionId, now: DateTime<Utc>, idle: chrono::Duration) -> bool {
        self.lock().get(&id).is_some_and(|s| s.is_live(now, idle))
    }

    pub fn end(&self, id: SessionId) -> Option<Session> {
        self.lock().remove(&id)
    }

    /// Ends every session of a user (deactivation, role change, password reset).
    pub fn end_all_of(&self, user_id: UserId) {
        self.lock().retain(|_, s| s.user_id != user_id);
    }

    /// Ends the sessions that are no longer live under `idle`: before the idle timeout is
    /// raised, so that a session that already timed out does not come back to life.
    pub fn end_expired(&self, now: DateTime<Utc>, idle: chrono::Duration) {
        self.lock().retain(|_, s| s.is_live(now, idle));
    }

    /// Ends a user's sessions other than `keep` (their own password change).
    pub fn end_others_of(&self, user_id: UserId, keep: SessionId) {
        self.lock().retain(|id, s| s.user_id != user_id || *id == keep);
    }
}

pub enum Touch {
    Live(Session),
    Expired,
    Unknown,
}
