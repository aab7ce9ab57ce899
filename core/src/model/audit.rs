//! Audit events: append-only, each carrying the hash of the one before it.

use super::user::UserId;
use crate::error::ErrorCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "snake_case", tag = "kind", content = "id")]
pub enum AuditActor {
    System,
    User(UserId),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum AuditAction {
    Setup,
    SignIn,
    SignOut,
    PermissionDenied,
    Invite,
    ResendInvitation,
    CancelInvitation,
    AcceptInvitation,
    Deactivate,
    Reactivate,
    ChangeRoles,
    ChangeName,
    ChangePassword,
    IssuePasswordReset,
    ResetPassword,
    Unlock,
    CreateRole,
    UpdateRole,
    DeleteRole,
    UpdateSettings,
    ImportUsers,
    Backup,
    Restore,
    UpdateMailSettings,
    TestEmail,
    EmailSent,
    EmailFailed,
    EmailDiscarded,
    EmailSaved,
    EmailRetried,
    ExportUsers,
    ExportAudit,
    /// The audit log held against a backup's copy of it.
    CompareWithBackup,
    /// An authenticator app added (enrolment confirmed with a valid code).
    EnrolSecondFactor,
    /// A user's second factor removed by a person who dominates them.
    RemoveSecondFactor,
    /// A new set of recovery codes (the old set voided).
    NewRecoveryCodes,
    /// An Owner's way back in: a new password set with their recovery kit.
    RecoverAccount,
    /// The date a user's access ends set or cleared (PCI DSS v4 8.2.7).
    SetAccessUntil,
    /// The audit log read or searched (PCI DSS v4 10.2.1.3).
    ReadAudit,
    /// "Who can do X" asked.
    WhoCan,
    /// An access review started (a snapshot taken), PCI DSS v4 7.2.4.
    StartReview,
    /// A reviewer's decision on one user of a review.
    DecideReview,
    /// A review's decisions carried out (each change also has its own event).
    ApplyReview,
    /// A review signed off: read-only from then on.
    SignOffReview,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Success,
    Denied,
    Failed,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct AuditEvent {
    /// 1, 2, 3, ... with no gaps.
    pub seq: u64,
    pub at: DateTime<Utc>,
    pub actor: AuditActor,
    pub action: AuditAction,
    /// What the action was done to, for example a user's email.
    pub target: Option<String>,
    /// Before/after summary or the reason of a refusal; never a secret.
    pub summary: String,
    pub outcome: Outcome,
    /// The error code of a refusal (`not_dominant`, `last_owner`, ...). Absent on other events
    /// and on events written before codes were recorded, so their hashes are unchanged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<ErrorCode>,
    /// Hex SHA-256 of the previous event ([`AuditEvent::hash`]); all zeros for the first.
    pub prev_hash: String,
}

/// What an operation asks to record; the store gives it its number and chain hash.
#[derive(Debug, Clone)]
pub struct AuditEntry {
    pub actor: AuditActor,
    pub action: AuditAction,
    pub target: Option<String>,
    pub summary: String,
    pub outcome: Outcome,
    pub code: Option<ErrorCode>,
}

impl AuditEntry {
    pub fn success(
        actor: AuditActor,
        action: AuditAction,
        target: impl Into<String>,
        summary: impl Into<String>,
    ) -> Self {
        let target = target.into();
        AuditEntry {
            actor,
            action,
            target: (!target.is_empty()).then_some(target),
            summary: summary.into(),
            outcome: Outcome::Success,
            code: None,
        }
    }

    /// A refusal: outcome Denied, with the refusal's code.
    pub fn refused(self, code: ErrorCode) -> Self {
        AuditEntry { outcome: Outcome::Denied, code: Some(code), ..self }
    }

    pub fn with_outcome(self, outcome: Outcome) -> Self {
        AuditEntry { outcome, ..self }
    }
}

pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

impl AuditEvent {
    /// The hash the next event carries: SHA-256 over this event's canonical JSON.
    pub fn hash(&self) -> String {
        let bytes = serde_json::to_vec(self).unwrap_or_default();
        data_encoding::HEXLOWER.encode(&Sha256::digest(&bytes))
    }
}
