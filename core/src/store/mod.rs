//! The sled store: one directory, opened once. Every change goes through [`Store::write`]:
//! one multi-tree transaction holding the change, its index entries and its audit event,
//! made durable before it is reported done: sled's log flushed and fsync'd by Gatehouse (sled
//! itself only asks for `sync_file_range`, which survives no power cut), then the audit head
//! reached recorded outside sled ([`saved`]), so that a store which opens with less is refused.

mod index;
mod saved;
mod tx;
mod verify;

pub use index::{Selection, UserEntry, UserIndex};
pub use tx::{abort as tx_abort, Tx, TxResult};
pub use verify::Integrity;

use crate::auth::throttle::Throttle;
use crate::change::Ticket;
use crate::error::{Error, Result};
use crate::mail::OutboxMessage;
use crate::model::invitation::{Invitation, PasswordReset};
use crate::model::{
    AuditEvent, CodeRef, Organization, ReviewEntry, ReviewHeader, ReviewId, Role, User, UserId,
};
use serde::de::DeserializeOwned;
use sled::transaction::{ConflictableTransactionError, TransactionalTree};
use sled::{Transactional, Tree};
use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock, RwLockReadGuard};
use std::time::Duration;
use uuid::Uuid;

/// The schema this build writes. Opening an older store migrates it; a newer one is refused.
/// Version 3 keeps Outbox letters sealed: stores before it may hold them in plain text, which
/// the directory seals when it opens one (the key lives outside the store; see `mail::seal`).
pub const SCHEMA_VERSION: u32 = 3;

const SCHEMA_KEY: &[u8] = b"schema_version";
const ORG_KEY: &[u8] = b"organization";
const AUDIT_HEAD_KEY: &[u8] = b"audit_head";
const STORE_ID_KEY: &[u8] = b"store_id";
/// Failed sign-ins for addresses no user has, counted in the current window.
const SIGN_IN_TALLY_KEY: &[u8] = b"sign_in_tally";

/// sled's page cache. Small: the list reads the in-memory index, and a page of users or audit
/// events reads its records from the system's file cache in a millisecond or two
/// (BENCHMARKS.md); every megabyte here is resident in the app for good (sled keeps to it since
/// vendor/sled's fix).
const CACHE_BYTES: u64 = 2 * 1024 * 1024;

/// How long a flush and fsync may take before the disk is judged to have failed: after a write
/// error sled's flush can wait forever, and a change must be answered.
const SYNC_PATIENCE: Duration = Duration::from_secs(30);

/// The trees, in the order [`Store::write`] hands them to a transaction.
pub(crate) const TREES: [&str; 12] = [
    "meta",
    "users",
    "emails",
    "audit",
    "roles",
    "invitations",
    "resets",
    "codes",
    "throttle",
    "outbox",
    "audit_actors",
    "reviews",
];

/// Every tree's name and entries (key, value), as a backup holds them.
pub type Trees = Vec<(String, Vec<(Vec<u8>, Vec<u8>)>)>;

pub struct Store {
    db: sled::Db,
    /// schema version, organization, audit head
    meta: Tree,
    /// user id -> user
    users: Tree,
    /// normalized email -> user id, for every user in the list
    emails: Tree,
    /// sequence number (u64, big-endian) -> event
    audit: Tree,
    /// custom role key -> role
    roles: Tree,
    /// invitation id -> invitation
    invitations: Tree,
    /// reset id -> password reset
    resets: Tree,
    /// code hash -> what it points at
    codes: Tree,
    /// normalized email -> failed sign-in count and lockout
    throttle: Tree,
    /// message id (UUID v7, so in the order queued) -> outgoing email
    outbox: Tree,
    /// acting user id ++ sequence number (big-endian) -> nothing: each user's events, in order
    audit_actors: Tree,
    /// review id -> review header; review id ++ user id -> that user's entry (never deleted)
    reviews: Tree,
    /// Every user's list fields, in memory; see [`UserIndex`].
    index: RwLock<UserIndex>,
    /// The last throttle key the sweep looked at (empty: start from the first).
    sweep_cursor: Mutex<Vec<u8>>,
    /// The store's folder.
    dir: PathBuf,
    /// sled's log file, fsync'd after every flush.
    log: Arc<std::fs::File>,
    /// What the record outside sled says was acknowledged, as last written or read.
    saved: Mutex<Option<saved::Record>>,
    /// Set when making a change durable failed: no further change is taken until the store is
    /// opened again (what sled holds in memory may be ahead of the disk).
    failed: AtomicBool,
    /// Dropped after every other field: the signal for the thread that closes sled.
    closer: Option<std::sync::mpsc::Sender<()>>,
}

impl Store {
    /// Opens (creating if needed) the store in `dir`, private to the OS user: the process's
    /// umask becomes 0o077 (sled creates snapshot files long after opening) and `dir` is
    /// tightened to 0700 folders and 0600 files ([`crate::files`]). Refused with
    /// `store_locked` while another process has it open, `store_damaged` when a record read at
    /// open is damaged, `store_behind` when it holds less than it had acknowledged (nothing is
    /// written to it then).
    pub fn open(dir: &Path) -> Result<Self> {
        crate::files::private_process();
        crate::files::private_dir(dir)?;
        crate::files::tighten(dir)?;
        wait_for_close(dir)?;
        if failed_here().contains(&folder_key(dir)) {
            return Err(Error::StorageFailed);
        }
        remove_unfinished_snapshots(dir)?;
        let db = open_sled(dir)?;
        // sled has made its files: their names must survive a power cut too.
        crate::files::sync_folder(dir).map_err(|e| crate::error::storage(&e))?;
        if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
            crate::files::sync_folder(parent).map_err(|e| crate::error::storage(&e))?;
        }
        let log = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(dir.join("db"))
            .map_err(|e| crate::error::storage(&e))?;
        let [meta, users, emails, audit, roles, invitations, resets, codes, throttle, outbox, audit_actors, reviews] =
            TREES.map(|name| db.open_tree(name));
        let store = Store {
            meta: meta?,
            users: users?,
            emails: emails?,
            audit: audit?,
            roles: roles?,
            invitations: invitations?,
            resets: resets?,
            codes: codes?,
            throttle: throttle?,
            outbox: outbox?,
            audit_actors: audit_actors?,
            reviews: reviews?,
            index: RwLock::default(),
            sweep_cursor: Mutex::default(),
            dir: dir.to_path_buf(),
            log: Arc::new(log),
            saved: Mutex::new(None),
            failed: AtomicBool::new(false),
            closer: None,
            db,
        };
        store.holds_what_was_saved()?;
        store.migrate()?;
        store.make_durable()?;
        let index = UserIndex::try_build(store.users.iter().values().map(|v| decode(&v?)))?;
        *store.index.write().unwrap_or_else(|p| p.into_inner()) = index;
        Ok(store)
    }

    /// As [`Store::open`], for a store this process may have just closed: sled lets go of its
    /// lock from a background thread a moment after the last handle is dropped, so a lock is
    /// retried for up to two seconds. A store another program holds is still refused.
    pub fn open_settled(dir: &Path) -> Result<Self> {
        let mut tries = 0;
        loop {
            match Store::open(dir) {
                Err(Error::StoreLocked) if tries < 40 => {
                    tries += 1;
                    std::thread::sleep(std::time::Duration::from_millis(50));
                }
                other => return other,
            }
        }
    }

    /// Refuses a store that holds less than its record outside sled says was acknowledged
    /// (see [`saved`]). A store ahead of its record (cut between sled's fsync and the record's)
    /// or without one (made before the record existed) opens, and the record catches up.
    fn holds_what_was_saved(&self) -> Result<()> {
        let Some(record) = saved::Record::read(&self.dir)? else { return Ok(()) };
        let (head, head_hash) =
            self.audit_head().map_err(|_| Error::StoreDamaged("its audit log's head"))?;
        // The head as recorded, or the event the record names when the store is past it.
        let hash_there = match self.audit_event(record.seq) {
            _ if head == record.seq => Some(head_hash),
            Ok(event) => event.map(|e| e.hash()),
            Err(_) => None,
        };
        record.held_by(head, hash_there.as_deref())?;
        *self.saved.lock().unwrap_or_else(|p| p.into_inner()) = Some(record);
        Ok(())
    }

    /// Makes everything written so far durable: sled's log flushed and fsync'd (on a thread,
    /// given [`SYNC_PATIENCE`]), then the audit head recorded outside sled when it moved. A
    /// failure marks the store failed: writes are refused until it is opened again.
    /// Errors: `disk_full`, `storage_failed`.
    fn make_durable(&self) -> Result<()> {
        if self.failed.load(Ordering::SeqCst) {
            return Err(Error::StorageFailed);
        }
        let result = self.sync().and_then(|()| {
            let (seq, hash) = self.audit_head()?;
            let record = saved::Record { seq, hash };
            let mut saved = self.saved.lock().unwrap_or_else(|p| p.into_inner());
            if saved.as_ref() != Some(&record) {
                record.write(&self.dir)?;
                *saved = Some(record);
            }
            Ok(())
        });
        if result.is_err() {
            self.failed.store(true, Ordering::SeqCst);
            failed_here().push(folder_key(&self.dir));
        }
        result
    }

    /// sled's flush, then an fsync of its log file, within [`SYNC_PATIENCE`].
    fn sync(&self) -> Result<()> {
        let (db, log) = (self.db.clone(), Arc::clone(&self.log));
        let (done, answer) = std::sync::mpsc::channel();
        std::thread::Builder::new()
            .name("gatehouse-sync".into())
            .spawn(move || {
                let result = db
                    .flush()
                    .map_err(Error::from)
                    .and_then(|_| log.sync_all().map_err(|e| crate::error::storage(&e)));
                // Let go before answering, so that sled is never closed on this thread.
                drop((db, log));
                let _ = done.send(result);
            })
            .map_err(|e| Error::internal("starting a sync", e))?;
        answer.recv_timeout(SYNC_PATIENCE).unwrap_or_else(|_| {
            tracing::error!("the store's flush did not finish within {SYNC_PATIENCE:?}");
            Err(if out_of_space(&self.dir) { Error::DiskFull } else { Error::StorageFailed })
        })
    }

    fn migrate(&self) -> Result<()> {
        if self.meta.get(STORE_ID_KEY)?.is_none() {
            self.meta.insert(STORE_ID_KEY, uuid::Uuid::new_v4().as_bytes())?;
        }
        // Every record read at open is checked here, so that a damaged one (or a backup built
        // to carry one) is refused with a sentence rather than failing later, or worse.
        self.id()?;
        self.organization().map_err(|_| Error::StoreDamaged("its organization"))?;
        self.audit_head_seq().map_err(|_| Error::StoreDamaged("its audit log's head"))?;
        match self.schema_version()? {
            None => {
                self.meta.insert(SCHEMA_KEY, &SCHEMA_VERSION.to_be_bytes())?;
            }
            Some(v) if v > SCHEMA_VERSION => return Err(Error::StoreTooNew { found: v }),
            Some(v) => {
                if v < 2 {
                    // Version 2 indexes each user's audit events by actor.
                    for event in self.audit_events(1) {
                        let event = event?;
                        if let Some(key) = tx::actor_key(&event) {
                            self.audit_actors.insert(key, &[])?;
                        }
                    }
                }
                if v < SCHEMA_VERSION {
                    self.meta.insert(SCHEMA_KEY, &SCHEMA_VERSION.to_be_bytes())?;
                }
            }
        }
        Ok(())
    }

    /// The schema version the store records, if any. Error: `store_damaged` when the record is
    /// not four bytes (a damaged store, or a backup built to look like one).
    pub fn schema_version(&self) -> Result<Option<u32>> {
        self.meta
            .get(SCHEMA_KEY)?
            .map(|v| {
                <[u8; 4]>::try_from(v.as_ref())
                    .map(u32::from_be_bytes)
                    .map_err(|_| Error::StoreDamaged("its schema version"))
            })
            .transpose()
    }

    /// The store's random id, made when it was first opened. Error: `store_damaged` when it is
    /// not a 16-byte UUID.
    pub fn id(&self) -> Result<Uuid> {
        let bytes = self.meta.get(STORE_ID_KEY)?.ok_or(Error::StoreDamaged("its id"))?;
        Uuid::from_slice(&bytes).map_err(|_| Error::StoreDamaged("its id"))
    }

    pub fn organization(&self) -> Result<Option<Organization>> {
        get(&self.meta, ORG_KEY)
    }

    pub fn user(&self, id: UserId) -> Result<Option<User>> {
        get(&self.users, id.as_bytes())
    }

    /// The user holding this normalized email key, if any.
    pub fn user_by_email(&self, key: &str) -> Result<Option<User>> {
        match self.emails.get(key.as_bytes())? {
            Some(id) => self.user(uuid_from(&id)?),
            None => Ok(None),
        }
    }

    pub fn users(&self) -> Result<Vec<User>> {
        self.users.iter().values().map(|v| decode(&v?)).collect()
    }

    /// Custom roles, by key.
    pub fn custom_roles(&self) -> Result<Vec<Role>> {
        self.roles.iter().values().map(|v| decode(&v?)).collect()
    }

    pub fn custom_role(&self, key: &str) -> Result<Option<Role>> {
        get(&self.roles, key.as_bytes())
    }

    pub fn invitation(&self, id: Uuid) -> Result<Option<Invitation>> {
        get(&self.invitations, id.as_bytes())
    }

    pub fn reset(&self, id: Uuid) -> Result<Option<PasswordReset>> {
        get(&self.resets, id.as_bytes())
    }

    pub fn code(&self, hash: &str) -> Result<Option<CodeRef>> {
        get(&self.codes, hash.as_bytes())
    }

    pub fn message(&self, id: Uuid) -> Result<Option<OutboxMessage>> {
        get(&self.outbox, id.as_bytes())
    }

    /// Every outgoing email, oldest first.
    pub fn messages(&self) -> impl DoubleEndedIterator<Item = Result<OutboxMessage>> + '_ {
        self.outbox.iter().values().map(|v| decode(&v?))
    }

    pub fn throttle(&self, email_key: &str) -> Result<Throttle> {
        Ok(get(&self.throttle, email_key.as_bytes())?.unwrap_or_default())
    }

    /// How many addresses have a sign-in count kept.
    pub fn throttle_records(&self) -> usize {
        self.throttle.len()
    }

    /// The next `batch` addresses after the sweep's cursor (wrapping round) whose records are
    /// [`Throttle::expired`] at `now`. Called under the writer lock; each call moves the
    /// cursor on by `batch` records, so sweeping a few on every sign-in visits every record
    /// while fewer are added than visited (see `Directory::sweep_throttles`).
    pub(crate) fn expired_throttles(
        &self,
        now: chrono::DateTime<chrono::Utc>,
        batch: usize,
    ) -> Result<Vec<String>> {
        let mut cursor = self.sweep_cursor.lock().unwrap_or_else(|p| p.into_inner());
        let mut expired = Vec::new();
        let mut seen = 0;
        let start = cursor.clone();
        let mut wrapped = start.is_empty();
        let after = std::ops::Bound::Excluded(start.clone());
        let mut entries = self.throttle.range::<Vec<u8>, _>((after, std::ops::Bound::Unbounded));
        while seen < batch {
            let (key, value) = match entries.next() {
                Some(entry) => entry?,
                None if wrapped => {
                    cursor.clear(); // every record seen: the next call starts afresh
                    break;
                }
                None => {
                    wrapped = true;
                    entries = self.throttle.range::<Vec<u8>, _>(..=start.clone());
                    continue;
                }
            };
            seen += 1;
            cursor.clear();
            cursor.extend_from_slice(&key);
            // A record that cannot be read counts nothing: it goes too.
            if decode::<Throttle>(&value).map_or(true, |t| t.expired(now)) {
                if let Ok(key) = String::from_utf8(key.to_vec()) {
                    expired.push(key);
                }
            }
        }
        Ok(expired)
    }

    /// The count of attempts for addresses no user has, in its window.
    pub fn sign_in_tally(&self) -> Result<Option<crate::auth::throttle::Tally>> {
        get(&self.meta, SIGN_IN_TALLY_KEY)
    }

    /// Audit events from sequence number `from` (1-based) upwards.
    pub fn audit_events(&self, from: u64) -> impl Iterator<Item = Result<AuditEvent>> + '_ {
        self.audit.range(from.to_be_bytes()..).values().map(|v| decode(&v?))
    }

    /// Audit events below sequence number `before`, newest first.
    pub fn audit_events_rev(&self, before: u64) -> impl Iterator<Item = Result<AuditEvent>> + '_ {
        self.audit.range(..before.to_be_bytes()).values().rev().map(|v| decode(&v?))
    }

    /// The events `actor` did below sequence number `before`, newest first.
    pub fn audit_events_by(
        &self,
        actor: UserId,
        before: u64,
    ) -> impl Iterator<Item = Result<AuditEvent>> + '_ {
        let from = tx::actor_key_at(actor, 0);
        let to = tx::actor_key_at(actor, before);
        self.audit_actors.range(from..to).keys().rev().map(move |key| {
            let key = key?;
            let seq = key.get(16..).unwrap_or_default();
            match self.audit.get(seq)? {
                Some(v) => decode(&v),
                None => Err(Error::internal("the audit actor index", "an event is missing")),
            }
        })
    }

    /// How many events `actor` did, counted to `at_most`: the actor index's keys only.
    pub fn audit_events_by_count(&self, actor: UserId, at_most: u64) -> Result<u64> {
        let range = tx::actor_key_at(actor, 0)..tx::actor_key_at(actor, u64::MAX);
        let mut n = 0;
        for key in self.audit_actors.range(range).keys() {
            if n == at_most {
                break;
            }
            key?;
            n += 1;
        }
        Ok(n)
    }

    /// The number of the last audit event (0 when the log is empty).
    pub fn audit_head_seq(&self) -> Result<u64> {
        Ok(self.audit_head()?.0)
    }

    /// The audit chain's head: the last event's sequence number and hash (0 and the genesis
    /// hash while the log is empty).
    pub fn audit_head(&self) -> Result<(u64, String)> {
        let head: Option<tx::AuditHead> = get(&self.meta, AUDIT_HEAD_KEY)?;
        Ok(head.map_or((0, crate::model::audit::GENESIS_HASH.to_string()), |h| (h.seq, h.hash)))
    }

    /// The audit event with sequence number `seq`.
    pub fn audit_event(&self, seq: u64) -> Result<Option<AuditEvent>> {
        get(&self.audit, &seq.to_be_bytes())
    }

    /// Every review's header, oldest first.
    pub fn reviews(&self) -> Result<Vec<ReviewHeader>> {
        let mut headers = Vec::new();
        for entry in self.reviews.iter() {
            let (key, value) = entry?;
            if key.len() == 16 {
                headers.push(decode(&value)?);
            }
        }
        Ok(headers)
    }

    pub fn review(&self, id: ReviewId) -> Result<Option<ReviewHeader>> {
        get(&self.reviews, id.as_bytes())
    }

    /// The entry for `user` in review `id`.
    pub fn review_entry(&self, id: ReviewId, user: UserId) -> Result<Option<ReviewEntry>> {
        let mut key = [0u8; 32];
        key[..16].copy_from_slice(id.as_bytes());
        key[16..].copy_from_slice(user.as_bytes());
        get(&self.reviews, &key)
    }

    /// The entries of review `id`, in the order of their user ids.
    pub fn review_entries(&self, id: ReviewId) -> Result<Vec<ReviewEntry>> {
        self.reviews
            .scan_prefix(id.as_bytes())
            .filter(|e| e.as_ref().map_or(true, |(k, _)| k.len() == 32))
            .map(|e| decode(&e?.1))
            .collect()
    }

    /// Runs `change` in one transaction over every tree, then makes it durable
    /// ([`Store::make_durable`]) before it is reported done. sled may run the closure more than
    /// once: compute clocks, ids and hashes before calling. The ticket proves the writer lock
    /// is held; only `crate::change` makes one. Errors: `change`'s, `disk_full`,
    /// `storage_failed` (also for every write after one failed, until the store is reopened).
    pub(crate) fn write<T>(
        &self,
        ticket: &Ticket<'_>,
        change: impl Fn(&mut Tx<'_>) -> TxResult<T>,
    ) -> Result<T> {
        if self.failed.load(Ordering::SeqCst) {
            return Err(Error::StorageFailed);
        }
        let trees = self.trees().map(|(_, tree)| tree);
        let touched = RefCell::new(Vec::new());
        let out = trees.as_slice().transaction(|t: &Vec<TransactionalTree>| {
            change(&mut Tx::new(t, &touched, ticket.now)).map_err(|e| match e {
                ConflictableTransactionError::Abort(e) => ConflictableTransactionError::Abort(e),
                other => other,
            })
        })?;
        let durable = self.make_durable();
        let mut index = self.index.write().unwrap_or_else(|p| p.into_inner());
        // The change is committed: a read failure here must not report it as failed (verify()
        // reports the index out of step).
        let changes =
            touched.into_inner().into_iter().filter_map(|id| Some((id, self.user(id).ok()?)));
        index.apply(changes.collect());
        durable.map(|()| out)
    }

    /// The in-memory index of users, for reading lists.
    pub fn index(&self) -> RwLockReadGuard<'_, UserIndex> {
        self.index.read().unwrap_or_else(|p| p.into_inner())
    }

    /// Every tree with its name, in the order of [`TREES`] (which [`Tx`] relies on).
    pub(crate) fn trees(&self) -> [(&'static str, &Tree); 12] {
        let [meta, users, emails, audit, roles, invitations, resets, codes, throttle, outbox, audit_actors, reviews] =
            TREES;
        [
            (meta, &self.meta),
            (users, &self.users),
            (emails, &self.emails),
            (audit, &self.audit),
            (roles, &self.roles),
            (invitations, &self.invitations),
            (resets, &self.resets),
            (codes, &self.codes),
            (throttle, &self.throttle),
            (outbox, &self.outbox),
            (audit_actors, &self.audit_actors),
            (reviews, &self.reviews),
        ]
    }

    /// Re-checks every invariant; see [`Integrity`].
    pub fn verify(&self) -> Result<Integrity> {
        verify::verify(self)
    }
}

/// Removes the snapshots sled began and did not finish (`snap.<lsn>.generating`): sled writes
/// one, fsyncs it and only then renames it, but when it opens it reads the newest `snap.*`
/// file whatever its name, so one cut short by a failed write or a power cut would make it
/// refuse the store as corrupt forever. The finished snapshot before it and the log are what
/// sled recovers from. Errors: `disk_full`, `storage_failed`.
fn remove_unfinished_snapshots(dir: &Path) -> Result<()> {
    let mut removed = false;
    for entry in std::fs::read_dir(dir).map_err(|e| crate::error::storage(&e))?.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with("snap.") && name.ends_with(".generating") {
            std::fs::remove_file(entry.path()).map_err(|e| crate::error::storage(&e))?;
            removed = true;
        }
    }
    if removed {
        crate::files::sync_folder(dir).map_err(|e| crate::error::storage(&e))?;
    }
    Ok(())
}

/// The threads closing sled databases this process opened, by folder (see [`close_on_a_thread`]).
fn closing() -> std::sync::MutexGuard<'static, Vec<(PathBuf, std::thread::JoinHandle<()>)>> {
    static CLOSING: Mutex<Vec<(PathBuf, std::thread::JoinHandle<()>)>> = Mutex::new(Vec::new());
    CLOSING.lock().unwrap_or_else(|p| p.into_inner())
}

/// The stores whose disk failed a sync in this process. After a failed fsync Linux drops the
/// pages it did not write and calls them clean: what this process would read back is not what
/// the disk holds, and a log written on after that hole would not open after a power cut. Such
/// a store is not opened again until Gatehouse is started again (`storage_failed`).
/// Less free space than this under the store reads as a full disk.
const LEAST_FREE: u64 = 1 << 20;

/// Whether the disk under `dir` is full. When sled's own log write is refused, its flush now
/// and then never returns, so the reason never reaches the store: a flush that ran out of
/// patience on a disk with no room left met a full disk, and the person is told to free some
/// space rather than to check the disk.
fn out_of_space(dir: &Path) -> bool {
    fs2::available_space(dir).is_ok_and(|free| free < LEAST_FREE)
}

fn failed_here() -> std::sync::MutexGuard<'static, Vec<PathBuf>> {
    static FAILED: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());
    FAILED.lock().unwrap_or_else(|p| p.into_inner())
}

/// `dir` as the closing threads are filed under: the same folder however it was named.
fn folder_key(dir: &Path) -> PathBuf {
    std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf())
}

/// How long an open waits for this process's earlier close of the same store.
const CLOSE_PATIENCE: Duration = Duration::from_secs(10);

/// sled's own close fsyncs its log and panics (an `unwrap`) when that fails, and its flush can
/// wait forever on a disk that failed a write. So a sled database is let go of on a thread of
/// its own, once `last` has been dropped (it is dropped after every other handle): a failed
/// close costs that thread, never the app. Opening the same folder again waits for it.
fn close_on_a_thread(dir: &Path, db: sled::Db) -> std::sync::mpsc::Sender<()> {
    let (last, dropped) = std::sync::mpsc::channel::<()>();
    let closer = std::thread::Builder::new().name("gatehouse-close".into()).spawn(move || {
        let _ = dropped.recv(); // Err once every other handle is gone
        drop(db);
    });
    if let Ok(closer) = closer {
        let mut closing = closing();
        closing.retain(|(_, thread)| !thread.is_finished());
        closing.push((folder_key(dir), closer));
    }
    last
}

/// Waits for this process's earlier closes of the store in `dir`. Error: `storage_failed` when
/// one has not ended within [`CLOSE_PATIENCE`] (its disk failed: start Gatehouse again).
fn wait_for_close(dir: &Path) -> Result<()> {
    let waiting: Vec<_> = {
        let mut closing = closing();
        let key = folder_key(dir);
        let (mine, others) = closing.drain(..).partition(|(d, _)| *d == key);
        *closing = others;
        mine
    };
    let start = std::time::Instant::now();
    for (_, thread) in waiting {
        while !thread.is_finished() {
            if start.elapsed() > CLOSE_PATIENCE {
                tracing::error!("the store at {} did not close: its disk failed", dir.display());
                return Err(Error::StorageFailed);
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        let _ = thread.join(); // a panic in sled's close stays on its thread
    }
    Ok(())
}

/// Closes a sled database Gatehouse opened with [`open_sled`] outside a [`Store`] (a restore's
/// incoming store), as [`Store`]'s drop does: flushed and fsync'd first, then let go of on a
/// thread of its own. Errors: `disk_full`, `storage_failed`.
pub(crate) fn close_sled(db: sled::Db, dir: &Path) -> Result<()> {
    let synced = db.flush().map_err(Error::from).and_then(|_| {
        std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(dir.join("db"))
            .and_then(|log| log.sync_all())
            .map_err(|e| crate::error::storage(&e))
    });
    drop(close_on_a_thread(dir, db));
    if synced.is_err() {
        failed_here().push(folder_key(dir));
    }
    synced
}

/// Opens sled in `dir` without its flusher thread: its fsync ignores a failure (Linux then
/// reports the lost pages clean to the next fsync), and [`Store::make_durable`] flushes and
/// fsyncs after every change anyway. The page cache defaults to 1 GB; a desktop app keeps to
/// 16 MB (the list is served from the in-memory index; sled holds about three times what it
/// counts, and the backup at start reads every tree through it: 64 MB cost the app 70 MB more).
/// Errors: `store_locked`, `disk_full`, `storage_failed`, `store_damaged` (its files).
pub(crate) fn open_sled(dir: &Path) -> Result<sled::Db> {
    sled::Config::new().path(dir).cache_capacity(CACHE_BYTES).flush_every_ms(None).open().map_err(
        |e| match e {
            sled::Error::Io(io)
                if io.kind() == std::io::ErrorKind::WouldBlock
                    || io.to_string().contains("lock") =>
            {
                Error::StoreLocked
            }
            sled::Error::Io(io) => crate::error::storage(&io),
            other => {
                tracing::error!("opening the store: {other}");
                Error::StoreDamaged("its files")
            }
        },
    )
}

impl Drop for Store {
    /// Syncs what is written (a failure was already answered for), then hands sled's close to
    /// its own thread ([`close_on_a_thread`]); `closer`, the last field, lets it start.
    fn drop(&mut self) {
        if let Err(e) = self.sync() {
            tracing::error!("closing the store at {}: {e}", self.dir.display());
            failed_here().push(folder_key(&self.dir));
        }
        self.closer = Some(close_on_a_thread(&self.dir, self.db.clone()));
    }
}

fn get<T: DeserializeOwned>(tree: &Tree, key: &[u8]) -> Result<Option<T>> {
    tree.get(key)?.map(|v| decode(&v)).transpose()
}

pub(crate) fn uuid_from(bytes: &[u8]) -> Result<Uuid> {
    Uuid::from_slice(bytes).map_err(|e| Error::internal("an index entry", e))
}

pub(crate) fn encode<T: serde::Serialize>(value: &T) -> Result<Vec<u8>> {
    serde_json::to_vec(value).map_err(|e| Error::internal("encoding a record", e))
}

pub(crate) fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T> {
    serde_json::from_slice(bytes).map_err(|e| Error::internal("reading a record", e))
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    #![allow(clippy::unwrap_used)]

    #[test]
    fn a_disk_with_no_room_left_reads_as_full() {
        if !faultfs::FaultFs::available_for_tests() {
            return;
        }
        let source = tempfile::tempdir().unwrap();
        let fs = faultfs::FaultFs::mount(source.path()).unwrap();
        assert!(!super::out_of_space(fs.path()), "room to spare");
        fs.fail_after_bytes(super::LEAST_FREE - 1);
        assert!(super::out_of_space(fs.path()), "less than a megabyte left");
        fs.fail_after_bytes(super::LEAST_FREE * 4);
        assert!(!super::out_of_space(fs.path()), "four megabytes left");
    }
}
