use super::{decode, encode, AUDIT_HEAD_KEY, ORG_KEY};
use crate::error::Error;
use crate::model::audit::{AuditEntry, GENESIS_HASH};
use crate::model::{AuditEvent, Organization, User};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sled::transaction::{ConflictableTransactionError as TxError, TransactionalTree};

type TxResult<T> = Result<T, TxError<Error>>;

/// Refuses the whole transaction with `e`: nothing of it is written.
pub fn abort<T>(e: Error) -> TxResult<T> {
    Err(TxError::Abort(e))
}

fn lift<T>(r: crate::error::Result<T>) -> TxResult<T> {
    r.map_err(TxError::Abort)
}

/// The last event's number and hash, kept so that a truncated log is detected.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub(crate) struct AuditHead {
    pub seq: u64,
    pub hash: String,
}

/// The trees inside one transaction.
pub struct Tx<'a> {
    pub(super) meta: &'a TransactionalTree,
    pub(super) users: &'a TransactionalTree,
    pub(super) emails: &'a TransactionalTree,
    pub(super) audit: &'a TransactionalTree,
}

impl Tx<'_> {
    pub fn organization(&self) -> TxResult<Option<Organization>> {
        lift(self.meta.get(ORG_KEY)?.map(|v| decode(&v)).transpose())
    }

    pub fn put_organization(&self, org: &Organization) -> TxResult<()> {
        self.meta.insert(ORG_KEY, lift(encode(org))?)?;
        Ok(())
    }

    /// Writes a user and keeps the email index in step. Refused with `email_taken` when
    /// another user holds the email.
    pub fn put_user(&self, user: &User) -> TxResult<()> {
        let key = user.email.key().as_bytes();
        if let Some(holder) = self.emails.get(key)? {
            if holder.as_ref() != user.id.as_bytes() {
                return abort(Error::EmailTaken(user.email.to_string()));
            }
        }
        if let Some(old) = self.users.get(user.id.as_bytes())? {
            let old: User = lift(decode(&old))?;
            if old.email.key() != user.email.key() {
                self.emails.remove(old.email.key().as_bytes())?;
            }
        }
        self.emails.insert(key, user.id.as_bytes().as_slice())?;
        self.users.insert(user.id.as_bytes().as_slice(), lift(encode(user))?)?;
        Ok(())
    }

    /// Appends an audit event after the current head, chaining its hash.
    pub fn audit(&self, entry: AuditEntry, at: DateTime<Utc>) -> TxResult<AuditEvent> {
        let head: Option<AuditHead> =
            lift(self.meta.get(AUDIT_HEAD_KEY)?.map(|v| decode(&v)).transpose())?;
        let (seq, prev_hash) = match head {
            Some(h) => (h.seq + 1, h.hash),
            None => (1, GENESIS_HASH.to_string()),
        };
        let event = AuditEvent {
            seq,
            at,
            actor: entry.actor,
            action: entry.action,
            target: entry.target,
            summary: entry.summary,
            outcome: entry.outcome,
            prev_hash,
        };
        self.audit.insert(&seq.to_be_bytes(), lift(encode(&event))?)?;
        let head = AuditHead { seq, hash: event.hash() };
        self.meta.insert(AUDIT_HEAD_KEY, lift(encode(&head))?)?;
        Ok(event)
    }
}
