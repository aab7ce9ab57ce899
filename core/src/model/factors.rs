//! What a user holds beyond their password: a second factor, recovery codes, and when the
//! password was last set. Stored with the user; never sent to a front end as it is.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Factors {
    /// The authenticator app, once enrolment was confirmed with a valid code.
    #[serde(default)]
    pub totp: Option<Totp>,
    /// An enrolment started and not yet confirmed.
    #[serde(default)]
    pub enrolling: Option<Enrolling>,
    /// The current set of recovery codes (an Owner's recovery kit).
    #[serde(default)]
    pub recovery: Option<RecoveryCodes>,
    /// When the password was last set; `None` on users from before this was kept (their
    /// activation counts instead).
    #[serde(default)]
    pub password_changed_at: Option<DateTime<Utc>>,
    /// Uses of recovery codes by any Owner since this Owner last signed in.
    #[serde(default)]
    pub notices: Vec<RecoveryNotice>,
}

/// An enrolled authenticator: its secret sealed with the store's second-factor key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Totp {
    /// Base64 of the sealed secret.
    pub sealed: String,
    pub enrolled_at: DateTime<Utc>,
    /// The last step whose code was accepted: a code is accepted at most once.
    pub last_step: Option<u64>,
}

/// A secret shown to the user and waiting for its first valid code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Enrolling {
    pub sealed: String,
    pub started_at: DateTime<Utc>,
}

/// Hashes of the unused codes of the current set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecoveryCodes {
    pub hashes: Vec<String>,
    pub issued_at: DateTime<Utc>,
}

/// A use of a recovery code, shown to every Owner at their next sign-in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct RecoveryNotice {
    pub at: DateTime<Utc>,
    /// Who used it: their name and email.
    pub who: String,
    /// What it was used for, as a sentence ("signed in with a recovery code").
    pub what: String,
}

/// At most this many notices wait for one Owner; the oldest go first (the audit log has all).
pub const NOTICES_KEPT: usize = 20;
