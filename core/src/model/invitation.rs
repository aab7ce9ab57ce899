//! Invitations and password resets: one-time codes with an expiry, kept by id and by code
//! hash, never by email.

use super::{role::RoleKey, user::UserId, Email};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum CodeState {
    /// Waiting to be used (it may still have expired: see `is_expired`).
    Pending,
    /// Used: an accepted invitation, or a reset that set a password.
    Used,
    Cancelled,
    /// A resend (or a new reset, or a new invitation after expiry) replaced it.
    Replaced,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Invitation {
    pub id: Uuid,
    pub user_id: UserId,
    pub email: Email,
    pub roles: Vec<RoleKey>,
    pub invited_by: UserId,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub state: CodeState,
    pub code_hash: String,
    /// The email carrying the code, in the outbox.
    #[serde(default)]
    pub message: Option<Uuid>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PasswordReset {
    pub id: Uuid,
    pub user_id: UserId,
    pub issued_by: UserId,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub state: CodeState,
    pub code_hash: String,
    /// The email carrying the code, in the outbox.
    #[serde(default)]
    pub message: Option<Uuid>,
}

/// What a code hash points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum CodeRef {
    Invitation(Uuid),
    Reset(Uuid),
}

impl Invitation {
    /// Expired is derived from time, never stored.
    pub fn is_expired(&self, now: DateTime<Utc>) -> bool {
        self.state == CodeState::Pending && now >= self.expires_at
    }
}

/// What a front end sees of a user's current invitation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
pub struct InvitationInfo {
    pub expires_at: DateTime<Utc>,
    pub expired: bool,
}

/// A code handed out once: shown to the person who issued it, never stored in clear.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
pub struct IssuedCode {
    pub user_id: UserId,
    pub email: String,
    pub code: String,
    pub expires_at: DateTime<Utc>,
    /// The email carrying the code, queued in the outbox.
    pub message_id: Uuid,
    /// Whether Gatehouse will send it (a mail server is set up); otherwise the code is for
    /// the issuer to pass on, or the message to save as a file.
    pub will_send: bool,
    /// Set when this computer's credential store did not answer, so the email's code is
    /// sealed with a key kept only in memory: a sentence saying so, for whoever issued it.
    pub code_kept_note: Option<String>,
}
