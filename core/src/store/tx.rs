use super::{decode, encode, uuid_from, AUDIT_HEAD_KEY, ORG_KEY, SIGN_IN_TALLY_KEY};
use crate::auth::throttle::{Tally, Throttle};
use crate::error::{Error, ErrorCode};
use crate::mail::OutboxMessage;
use crate::model::audit::{AuditEntry, GENESIS_HASH};
use crate::model::invitation::{Invitation, PasswordReset};
use crate::model::{
    AuditAction, AuditActor, AuditEvent, CodeRef, Organization, ReviewEntry, ReviewHeader,
    ReviewId, Role, User, UserId,
};
use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use sled::transaction::{ConflictableTransactionError as TxError, TransactionalTree};
use std::cell::RefCell;

pub type TxResult<T> = Result<T, TxError<Error>>;

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

/// The trees inside one transaction, with typed access.
pub struct Tx<'a> {
    meta: &'a TransactionalTree,
    users: &'a TransactionalTree,
    emails: &'a TransactionalTree,
    audit: &'a TransactionalTree,
    roles: &'a TransactionalTree,
    invitations: &'a TransactionalTree,
    resets: &'a TransactionalTree,
    codes: &'a TransactionalTree,
    throttle: &'a TransactionalTree,
    outbox: &'a TransactionalTree,
    audit_actors: &'a TransactionalTree,
    reviews: &'a TransactionalTree,
    /// Users written or removed, for the in-memory index once the transaction commits.
    touched: &'a RefCell<Vec<UserId>>,
    /// The write's one instant, for events the store writes on its own account.
    now: DateTime<Utc>,
}

fn get<T: DeserializeOwned>(tree: &TransactionalTree, key: &[u8]) -> TxResult<Option<T>> {
    lift(tree.get(key)?.map(|v| decode(&v)).transpose())
}

fn put<T: Serialize>(tree: &TransactionalTree, key: &[u8], value: &T) -> TxResult<()> {
    tree.insert(key, lift(encode(value))?)?;
    Ok(())
}

impl<'a> Tx<'a> {
    /// `trees` in the order of `super::TREES`.
    pub(super) fn new(
        trees: &'a [TransactionalTree],
        touched: &'a RefCell<Vec<UserId>>,
        now: DateTime<Utc>,
    ) -> Self {
        let [meta, users, emails, audit, roles, invitations, resets, codes, throttle, outbox, audit_actors, reviews] =
            [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11].map(|i| &trees[i]);
        touched.borrow_mut().clear();
        Tx {
            meta,
            users,
            emails,
            audit,
            roles,
            invitations,
            resets,
            codes,
            throttle,
            outbox,
            audit_actors,
            reviews,
            touched,
            now,
        }
    }

    pub fn organization(&self) -> TxResult<Option<Organization>> {
        get(self.meta, ORG_KEY)
    }

    pub fn put_organization(&self, org: &Organization) -> TxResult<()> {
        put(self.meta, ORG_KEY, org)
    }

    pub fn user(&self, id: UserId) -> TxResult<Option<User>> {
        get(self.users, id.as_bytes())
    }

    /// Writes a user and keeps the email index in step. Refused with `email_taken` when
    /// another user holds the email.
    pub fn put_user(&self, user: &User) -> TxResult<()> {
        let key = user.email.key().as_bytes();
        if let Some(holder) = self.emails.get(key)? {
            if lift(uuid_from(&holder))? != user.id {
                return abort(Error::EmailTaken(user.email.to_string()));
            }
        }
        if let Some(old) = self.user(user.id)? {
            if old.email.key() != user.email.key() {
                self.emails.remove(old.email.key().as_bytes())?;
            }
        }
        self.emails.insert(key, user.id.as_bytes().as_slice())?;
        self.touched.borrow_mut().push(user.id);
        put(self.users, user.id.as_bytes(), user)
    }

    /// Removes a user who was never Active (a cancelled invitation) and frees the email.
    pub fn remove_user(&self, user: &User) -> TxResult<()> {
        self.emails.remove(user.email.key().as_bytes())?;
        self.users.remove(user.id.as_bytes().as_slice())?;
        self.touched.borrow_mut().push(user.id);
        Ok(())
    }

    pub fn put_role(&self, role: &Role) -> TxResult<()> {
        put(self.roles, role.key.as_bytes(), role)
    }

    pub fn remove_role(&self, key: &str) -> TxResult<()> {
        self.roles.remove(key.as_bytes())?;
        Ok(())
    }

    pub fn invitation(&self, id: uuid::Uuid) -> TxResult<Option<Invitation>> {
        get(self.invitations, id.as_bytes())
    }

    /// Writes an invitation and indexes its code hash.
    pub fn put_invitation(&self, invitation: &Invitation) -> TxResult<()> {
        put(self.codes, invitation.code_hash.as_bytes(), &CodeRef::Invitation(invitation.id))?;
        put(self.invitations, invitation.id.as_bytes(), invitation)
    }

    pub fn reset(&self, id: uuid::Uuid) -> TxResult<Option<PasswordReset>> {
        get(self.resets, id.as_bytes())
    }

    /// Writes a password reset and indexes its code hash.
    pub fn put_reset(&self, reset: &PasswordReset) -> TxResult<()> {
        put(self.codes, reset.code_hash.as_bytes(), &CodeRef::Reset(reset.id))?;
        put(self.resets, reset.id.as_bytes(), reset)
    }

    pub fn message(&self, id: uuid::Uuid) -> TxResult<Option<OutboxMessage>> {
        get(self.outbox, id.as_bytes())
    }

    pub fn put_message(&self, message: &OutboxMessage) -> TxResult<()> {
        put(self.outbox, message.id.as_bytes(), message)
    }

    pub fn throttle(&self, email_key: &str) -> TxResult<Throttle> {
        Ok(get(self.throttle, email_key.as_bytes())?.unwrap_or_default())
    }

    /// Writes an address's sign-in count (the default record removes it). When the record it
    /// replaces counted refusals not yet audited, their event is appended first: no attempt
    /// leaves the store unaccounted for.
    pub fn put_throttle(&self, email_key: &str, throttle: &Throttle) -> TxResult<()> {
        let old = self.throttle(email_key)?;
        if old.unlogged_refusals() > 0 && throttle.refused == 0 {
            let entry = AuditEntry::success(
                AuditActor::System,
                AuditAction::SignIn,
                email_key,
                old.refusals_summary(),
            )
            .refused(ErrorCode::LockedOut);
            self.audit(entry, self.now)?;
        }
        if *throttle == Throttle::default() {
            self.throttle.remove(email_key.as_bytes())?;
            return Ok(());
        }
        put(self.throttle, email_key.as_bytes(), throttle)
    }

    /// The count of attempts for addresses no user has, in its window.
    pub fn sign_in_tally(&self) -> TxResult<Option<Tally>> {
        get(self.meta, SIGN_IN_TALLY_KEY)
    }

    pub fn put_sign_in_tally(&self, tally: &Tally) -> TxResult<()> {
        put(self.meta, SIGN_IN_TALLY_KEY, tally)
    }

    /// Ends the tally's window: its counted attempts are audited as one event.
    pub fn close_sign_in_tally(&self, tally: &Tally) -> TxResult<()> {
        if tally.counted() > 0 {
            let entry =
                AuditEntry::success(AuditActor::System, AuditAction::SignIn, "", tally.summary())
                    .with_outcome(crate::model::Outcome::Failed);
            self.audit(entry, self.now)?;
        }
        self.meta.remove(SIGN_IN_TALLY_KEY)?;
        Ok(())
    }

    /// Writes a review's header (under its id).
    pub fn put_review(&self, header: &ReviewHeader) -> TxResult<()> {
        put(self.reviews, header.id.as_bytes(), header)
    }

    /// Writes one entry of review `review` (under the review id and the user id). The
    /// entry's `options` are the reader's and are not stored.
    pub fn put_review_entry(&self, review: ReviewId, entry: &ReviewEntry) -> TxResult<()> {
        let mut key = [0u8; 32];
        key[..16].copy_from_slice(review.as_bytes());
        key[16..].copy_from_slice(entry.user.id.as_bytes());
        put(self.reviews, &key, &ReviewEntry { options: Vec::new(), ..entry.clone() })
    }

    /// Appends an audit event after the current head, chaining its hash.
    pub fn audit(&self, entry: AuditEntry, at: DateTime<Utc>) -> TxResult<AuditEvent> {
        let head: Option<AuditHead> = get(self.meta, AUDIT_HEAD_KEY)?;
        let (seq, prev_hash) = match head {
            // Only a damaged head is at the last number there is.
            Some(h) => match h.seq.checked_add(1) {
                Some(seq) => (seq, h.hash),
                None => return abort(Error::Internal("the audit log's last event is damaged")),
            },
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
            code: entry.code,
            prev_hash,
        };
        put(self.audit, &seq.to_be_bytes(), &event)?;
        if let Some(key) = actor_key(&event) {
            self.audit_actors.insert(key.as_slice(), &[])?;
        }
        put(self.meta, AUDIT_HEAD_KEY, &AuditHead { seq, hash: event.hash() })?;
        Ok(event)
    }
}

/// The actor index's key for an event a user did (none for the system's).
pub(crate) fn actor_key(event: &AuditEvent) -> Option<[u8; 24]> {
    match event.actor {
        AuditActor::User(id) => Some(actor_key_at(id, event.seq)),
        AuditActor::System => None,
    }
}

/// The actor index's key for `actor`'s event number `seq`.
pub(crate) fn actor_key_at(actor: UserId, seq: u64) -> [u8; 24] {
    let mut key = [0u8; 24];
    key[..16].copy_from_slice(actor.as_bytes());
    key[16..].copy_from_slice(&seq.to_be_bytes());
    key
}
