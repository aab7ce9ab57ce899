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
}

#[derive(Debug, Default)]
pub struct Sessions(Mutex<HashMap<SessionId, Session>>);

impl Sessions {
    fn lock(&self) -> MutexGuard<'_, HashMap<SessionId, Session>> {
        self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn start(&self, user_id: UserId, now: DateTime<Utc>) -> SessionId {
        // v4: 122 bits from the OS generator; a session id must not be guessable.
        let id = SessionId(Uuid::new_v4());
        self.lock().insert(id, Session { user_id, created_at: now, last_seen: now });
        id
    }

    /// Returns the session if it exists and was seen within `idle`, and marks it seen now.
    /// An idle session is removed.
    pub fn touch(&self, id: SessionId, now: DateTime<Utc>, idle: chrono::Duration) -> Touch {
        let mut map = self.lock();
        match map.get_mut(&id) {
            None => Touch::Unknown,
            Some(s) if now - s.last_seen > idle => {
                map.remove(&id);
                Touch::Expired
            }
            Some(s) => {
                s.last_seen = now;
                Touch::Live(s.clone())
            }
        }
    }

    /// Whether the session is live, without counting this as activity.
    pub fn is_live(&self, id: SessionId, now: DateTime<Utc>, idle: chrono::Duration) -> bool {
        self.lock().get(&id).is_some_and(|s| now - s.last_seen <= idle)
    }

    pub fn end(&self, id: SessionId) -> Option<Session> {
        self.lock().remove(&id)
    }

    /// Ends every session of a user (deactivation, role change, password reset).
    pub fn end_all_of(&self, user_id: UserId) {
        self.lock().retain(|_, s| s.user_id != user_id);
    }
}

pub enum Touch {
    Live(Session),
    Expired,
    Unknown,
}
