//! The sled store: one directory, opened once. Every change goes through [`Store::write`]:
//! one multi-tree transaction holding the change, its index entries and its audit event,
//! flushed to disk before it is reported done.

mod tx;
mod verify;

pub use tx::{abort as tx_abort, Tx};
pub use verify::Integrity;

use crate::error::{Error, Result};
use crate::model::{AuditEvent, Organization, User, UserId};
use serde::de::DeserializeOwned;
use sled::transaction::{ConflictableTransactionError, TransactionalTree};
use sled::{Transactional, Tree};
use std::path::Path;

/// The schema this build writes. Opening an older store migrates it; a newer one is refused.
pub const SCHEMA_VERSION: u32 = 1;

const SCHEMA_KEY: &[u8] = b"schema_version";
const ORG_KEY: &[u8] = b"organization";
const AUDIT_HEAD_KEY: &[u8] = b"audit_head";

pub struct Store {
    db: sled::Db,
    meta: Tree,
    users: Tree,
    /// normalized email -> user id, for every user in the list.
    emails: Tree,
    /// sequence number (u64, big-endian) -> event.
    audit: Tree,
}

impl Store {
    /// Opens (creating if needed) the store in `dir`. Refused with `store_locked` while another
    /// process has it open.
    pub fn open(dir: &Path) -> Result<Self> {
        let db = sled::Config::new().path(dir).open().map_err(|e| match e {
            sled::Error::Io(io) if io.kind() == std::io::ErrorKind::WouldBlock => {
                Error::StoreLocked
            }
            sled::Error::Io(io) if io.to_string().contains("lock") => Error::StoreLocked,
            other => Error::internal("opening the store", other),
        })?;
        let store = Store {
            meta: db.open_tree("meta")?,
            users: db.open_tree("users")?,
            emails: db.open_tree("emails")?,
            audit: db.open_tree("audit")?,
            db,
        };
        store.migrate()?;
        Ok(store)
    }

    fn migrate(&self) -> Result<()> {
        match self.schema_version()? {
            None => {
                self.meta.insert(SCHEMA_KEY, &SCHEMA_VERSION.to_be_bytes())?;
                self.db.flush()?;
            }
            Some(v) if v > SCHEMA_VERSION => return Err(Error::StoreTooNew { found: v }),
            Some(_) => {} // version 1 is the first; later versions add their steps here
        }
        Ok(())
    }

    pub fn schema_version(&self) -> Result<Option<u32>> {
        Ok(self.meta.get(SCHEMA_KEY)?.map(|v| {
            let mut bytes = [0u8; 4];
            bytes.copy_from_slice(&v[..4.min(v.len())]);
            u32::from_be_bytes(bytes)
        }))
    }

    pub fn organization(&self) -> Result<Option<Organization>> {
        self.meta.get(ORG_KEY)?.map(|v| decode(&v)).transpose()
    }

    pub fn user(&self, id: UserId) -> Result<Option<User>> {
        self.users.get(id.as_bytes())?.map(|v| decode(&v)).transpose()
    }

    /// The user holding this normalized email key, if any.
    pub fn user_by_email(&self, key: &str) -> Result<Option<User>> {
        match self.emails.get(key.as_bytes())? {
            Some(id) => {
                let id = UserId::from_slice(&id).map_err(|e| Error::internal("email index", e))?;
                self.user(id)
            }
            None => Ok(None),
        }
    }

    pub fn users(&self) -> Result<Vec<User>> {
        self.users.iter().values().map(|v| decode(&v?)).collect()
    }

    /// Audit events in order, from sequence number `from` (1-based).
    pub fn audit_events(&self, from: u64) -> impl Iterator<Item = Result<AuditEvent>> + '_ {
        self.audit.range(from.to_be_bytes()..).values().map(|v| decode(&v?))
    }

    /// Runs `change` in one transaction over every tree, then flushes. sled may run the
    /// closure more than once: compute clocks, ids and hashes before calling.
    pub fn write<T>(
        &self,
        change: impl Fn(&mut Tx<'_>) -> Result<T, ConflictableTransactionError<Error>>,
    ) -> Result<T> {
        let out = (&self.meta, &self.users, &self.emails, &self.audit).transaction(
            |(meta, users, emails, audit): &(
                TransactionalTree,
                TransactionalTree,
                TransactionalTree,
                TransactionalTree,
            )| { change(&mut Tx { meta, users, emails, audit }) },
        )?;
        self.db.flush()?;
        Ok(out)
    }

    /// Re-checks every invariant; see [`Integrity`].
    pub fn verify(&self) -> Result<Integrity> {
        verify::verify(self)
    }
}

pub(crate) fn encode<T: serde::Serialize>(value: &T) -> Result<Vec<u8>> {
    serde_json::to_vec(value).map_err(|e| Error::internal("encoding a record", e))
}

pub(crate) fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T> {
    serde_json::from_slice(bytes).map_err(|e| Error::internal("reading a record", e))
}
