//! Access reviews (PCI DSS v4 7.2.4): a snapshot of every Active and Invited user, a decision
//! per user, the decisions carried out through the ordinary operations, and a sign-off that
//! freezes the review and records the audit chain's head.
//!
//! Stored in the `reviews` tree: a review's header under its id (16 bytes) and each entry under
//! the review id followed by the user id (32 bytes), so that deciding one user writes one
//! record. Reviews are never deleted.

use super::{PermissionSet, RoleKey, UserId, UserStatus};
use crate::error::ErrorBody;
use crate::policy::ActOption;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A review's id (UUID v7, so in the order started).
pub type ReviewId = Uuid;

/// What the reviewer decides for one user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Decision {
    /// The access stays as it is. Always allowed.
    Keep,
    /// Replace the user's roles with these role keys (judged like `change_roles`).
    ChangeRoles { roles: Vec<RoleKey> },
    /// Take the access away: deactivate an Active user, cancel an Invited user's invitation
    /// (judged like `deactivate_user` / `cancel_invitation`).
    Deactivate,
}

/// What applying an entry's decision did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EntryOutcome {
    /// The change was made (its own audit event records it).
    Applied,
    /// Nothing to change: Keep, the roles already were these, or the user already Inactive.
    Unchanged,
    /// The ordinary operation refused it; the entry wants a new decision or another apply.
    Refused { error: ErrorBody },
    /// The user is no longer in the directory (their invitation was cancelled).
    NoLongerEligible,
}

impl EntryOutcome {
    /// Whether the decision is carried out (or needs nothing): a refused one is not.
    pub fn is_settled(&self) -> bool {
        !matches!(self, EntryOutcome::Refused { .. })
    }
}

/// A person as a review names them: who started, applied or signed it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct Reviewer {
    pub id: UserId,
    pub name: String,
    pub email: String,
}

/// The audit chain's head at a moment: the newest event's number and hash
/// ([`super::AuditEvent::hash`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct ChainHead {
    pub seq: u64,
    pub hash: String,
}

/// The sign-off: after it the review never changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct SignOff {
    pub by: Reviewer,
    pub at: DateTime<Utc>,
    /// The newest audit event before the sign-off's own event.
    pub chain_head: ChainHead,
}

/// A review's header, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct ReviewHeader {
    pub id: ReviewId,
    /// 1, 2, 3, ...: how people name it ("access review #3").
    pub number: u32,
    pub started_at: DateTime<Utc>,
    pub started_by: Reviewer,
    /// The last time decisions were applied, and by whom.
    pub applied_at: Option<DateTime<Utc>>,
    pub applied_by: Option<Reviewer>,
    pub signed_off: Option<SignOff>,
}

impl ReviewHeader {
    /// "access review #3": the name events, reasons and reports use.
    pub fn title(&self) -> String {
        format!("access review #{}", self.number)
    }
}

/// One user as they were when the review started. Never changes afterwards.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct ReviewedUser {
    pub id: UserId,
    pub email: String,
    pub name: String,
    pub status: UserStatus,
    pub roles: Vec<RoleKey>,
    /// Their effective permissions (for an Invited user, what the invitation gives).
    pub permissions: PermissionSet,
    pub last_sign_in_at: Option<DateTime<Utc>>,
    pub access_until: Option<NaiveDate>,
    /// Whole days from the last sign-in to the snapshot; `None` if they never signed in.
    pub days_since_sign_in: Option<u32>,
    /// Holds any `*:delete` permission.
    pub holds_delete: bool,
    /// The approval reference of the latest grant of their roles (invitation or role change),
    /// as the audit log holds it (PCI DSS v4 8.2.4); `None` when none was given.
    #[serde(default)]
    pub approval: Option<String>,
}

/// One user of a review: the snapshot, the decision and what applying it did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct ReviewEntry {
    pub user: ReviewedUser,
    pub decision: Option<Decision>,
    /// The reviewer's note: trimmed, control characters made spaces, at most 500 characters.
    pub note: Option<String>,
    pub decided_by: Option<Reviewer>,
    pub decided_at: Option<DateTime<Utc>>,
    /// Set by applying; cleared when the decision changes.
    pub outcome: Option<EntryOutcome>,
    /// For the person reading, on an unsigned review: may they decide Change roles and
    /// Deactivate on this user now, and why not (Keep is always allowed). Recomputed at every
    /// read, never stored; empty on a signed review.
    #[serde(default, deserialize_with = "never_read_back")]
    #[specta(type = Vec<ActOption>)]
    pub options: Vec<ActOption>,
}

/// Reads `ReviewEntry::options` as empty whatever a record holds: they are recomputed at every
/// read. (Not `skip_deserializing`: the bindings export one shape for both directions.)
fn never_read_back<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<ActOption>, D::Error> {
    serde::de::IgnoredAny::deserialize(d)?;
    Ok(Vec::new())
}

impl ReviewEntry {
    /// Decided, and the decision carried out since.
    pub fn is_done(&self) -> bool {
        self.decision.is_some() && self.outcome.as_ref().is_some_and(EntryOutcome::is_settled)
    }
}

/// A whole review: header and entries (sorted by name, then email).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
pub struct Review {
    pub header: ReviewHeader,
    pub entries: Vec<ReviewEntry>,
}

/// A review in the list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
pub struct ReviewSummary {
    pub id: ReviewId,
    pub number: u32,
    pub started_at: DateTime<Utc>,
    pub started_by: Reviewer,
    pub users: u32,
    pub decided: u32,
    /// Entries decided and carried out.
    pub done: u32,
    pub applied_at: Option<DateTime<Utc>>,
    pub signed_off: Option<SignOff>,
}

/// Every review (newest first) and when the next one is due.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
pub struct ReviewList {
    pub reviews: Vec<ReviewSummary>,
    /// `review_months` after the last sign-off (or after the organization was created).
    pub next_due_at: DateTime<Utc>,
    /// Within 14 days before `next_due_at` (false once overdue).
    pub due_soon: bool,
    /// `next_due_at` has passed.
    pub overdue: bool,
}

/// A reviewer's decision on one user, as a front end sends it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct DecisionInput {
    pub user: UserId,
    pub decision: Decision,
    pub note: Option<String>,
}
