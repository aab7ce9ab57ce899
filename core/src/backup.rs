//! Backups: the whole store in one encrypted, authenticated file, and restoring one without
//! ever leaving a half-replaced store.
//!
//! A backup is an age file (<https://age-encryption.org/v1>), so the `age` tool opens it too.
//! Automatic backups are encrypted to an X25519 identity kept in the OS credential store under
//! `backups:<store id>`; a backup meant to leave the machine ("Back up now…", `gatehouse
//! backup`) to a passphrase the Owner chose. age authenticates every 64 KiB chunk and the end
//! of the file: a changed or cut-short backup is refused before anything is restored.
//!
//! Inside (integers big-endian): `GATEHOUSE BACKUP\n`, format version (u32, 2), schema version
//! (u32), creation time (i64, Unix seconds), store id (16 bytes), who made it (16 bytes, zero
//! for the app's automatic backups), the audit chain's head (sequence number u64, then its hash
//! as 64 hex bytes), the number of trees (u16), then each tree: name length (u16), name, entry
//! count (u64), and per entry key length (u32), key, value length (u32), value; last, the
//! SHA-256 of everything before it. Format 1 was written by earlier versions: the same without
//! encryption and without the fields from the store id to the tree count. It is read only after
//! an explicit confirmation ([`Opening::accept_unencrypted`]).

use crate::error::{Error, Result};
use crate::files::{sync_dir, write_atomically_with};
use crate::model::audit::AuditEntry;
use crate::model::{Action, AuditAction, AuditActor, AuditEvent, Module, UserId};
use crate::secrets::{Keeping, Keys};
use crate::store::Store;
use crate::{Clock, Directory, SessionId, SystemClock};
use age::secrecy::{ExposeSecret, SecretString};
use chrono::{DateTime, Utc};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::io::{BufReader, Read, Write};
use std::path::{Path, PathBuf};
use uuid::Uuid;

pub const FORMAT_VERSION: u32 = 2;
const MAGIC: &[u8] = b"GATEHOUSE BACKUP\n";
const AGE_MAGIC: &[u8] = b"age-encryption.org/";
/// The extension backups use.
pub const EXTENSION: &str = "gatehouse-backup";
/// The largest backup Gatehouse reads: a store of a million users is far below it.
pub const MAX_BACKUP_BYTES: u64 = 8 << 30;
/// scrypt's work factor for passphrase backups: about a second on a current computer.
const SCRYPT_LOG_N: u8 = 18;
/// The largest work factor a backup may ask for (4 times the one Gatehouse writes, 1 GiB of
/// memory): more is refused rather than letting a crafted file take minutes and gigabytes.
const SCRYPT_MAX_LOG_N: u8 = 20;
const MAX_TREES: u16 = 64;
/// age's chunk: 64 KiB of plain text, 16 bytes more on disk.
const CHUNK: u64 = 64 << 10;
const MAX_KEY_BYTES: u32 = 4096;
const MAX_VALUE_BYTES: u32 = 64 << 20;

/// What a backup holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
pub struct BackupInfo {
    pub format_version: u32,
    pub schema_version: u32,
    pub created_at: DateTime<Utc>,
    pub users: u32,
    pub audit_events: u32,
    /// The file's size.
    pub bytes: u32,
    /// How it is locked.
    pub sealing: Sealing,
    /// The audit chain's head when it was made: the last event's sequence number and hash. A
    /// later `verify --against` this backup checks that today's log still begins with it.
    pub audit_head_seq: u32,
    pub audit_head_hash: String,
}

/// How a backup is locked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum Sealing {
    /// With a passphrase the Owner chose: it may leave this computer.
    Passphrase,
    /// With a key in this computer's credential store (automatic backups).
    ThisComputer,
    /// Not at all: written by an older Gatehouse.
    None,
}

/// The result of a restore: what came back, and where the replaced store was kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
pub struct Restored {
    pub info: BackupInfo,
    /// The folder the replaced store was moved to (none when there was no store).
    pub kept: Option<String>,
}

/// What `verify --against` a backup found: today's log begins with the backup's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
pub struct AnchorCheck {
    /// The backup's head: the events up to it are today's events, hash for hash.
    pub backup_head_seq: u32,
    pub backup_head_hash: String,
    pub backup_created_at: DateTime<Utc>,
    /// Today's head.
    pub head_seq: u32,
    pub head_hash: String,
}

/// How to open a backup: the passphrase typed, this computer's keys, and what the current
/// store is.
pub struct Opening<'a> {
    /// The data folder: a backup is checked in a trial store built inside it.
    pub data_dir: &'a Path,
    /// The passphrase typed, for a backup locked with one.
    pub passphrase: Option<&'a str>,
    /// Where the key of automatic backups is found.
    pub keys: &'a Keys,
    /// The current store's id, when it opens and is set up: its key opens automatic backups,
    /// and a backup of any other store is refused.
    pub current: Option<Uuid>,
    /// A backup written before backups were encrypted is read only when this is set: the
    /// person confirmed that they accept the risk.
    pub accept_unencrypted: bool,
}

impl<'a> Opening<'a> {
    /// An opening for the data folder `data_dir` with this computer's keys and nothing else.
    pub fn new(data_dir: &'a Path, keys: &'a Keys) -> Self {
        Opening { data_dir, passphrase: None, keys, current: None, accept_unencrypted: false }
    }
}

/// The right to replace the store: proven by the signed-in Owner's password, or, only when the
/// store cannot be opened at all, by the backup itself (its passphrase, or this computer's key).
pub struct RestoreRight {
    by: Option<UserId>,
    current: Option<Uuid>,
}

impl RestoreRight {
    /// The right of whoever holds the backup's own key, given only when the store in
    /// `store_dir` cannot be opened: a store that opens needs its Owner's password
    /// ([`Directory::may_restore`]). Errors: `permission_denied` (the store opens),
    /// `store_locked`.
    pub fn store_unusable(store_dir: &Path) -> Result<RestoreRight> {
        if !store_dir.exists() {
            return Ok(RestoreRight { by: None, current: None });
        }
        match Store::open_settled(store_dir) {
            Ok(store) if store.organization()?.is_none() => {
                // A store nobody has set up holds nothing to protect.
                Ok(RestoreRight { by: None, current: None })
            }
            Ok(_) => Err(Error::PermissionDenied),
            Err(e @ (Error::StoreLocked | Error::StoreTooNew { .. })) => Err(e),
            Err(_) => Ok(RestoreRight { by: None, current: None }),
        }
    }

    /// The current store's id, to be put in the [`Opening`] of the restore.
    pub fn current(&self) -> Option<Uuid> {
        self.current
    }
}

impl Directory {
    /// Writes a backup locked with `passphrase` (judged by the password rules) to `file`. Only
    /// an Active Owner may; the backup and the audit chain's head it holds are recorded in the
    /// audit log. Errors: `owner_required`, the password rules', `file_error`.
    pub fn backup(&self, session: SessionId, file: &Path, passphrase: &str) -> Result<BackupInfo> {
        self.changing(session, None, AuditAction::Backup, |change| {
            let name = file.file_name().map(|n| n.to_string_lossy().into_owned());
            change.target(name.unwrap_or_default()).attempt("back up the store");
            crate::policy::may_back_up(&change.actor.user)?;
            let user = &change.actor.user;
            self.judge_passphrase(user, passphrase)?;
            let mut recipient = age::scrypt::Recipient::new(SecretString::from(passphrase));
            recipient.set_work_factor(SCRYPT_LOG_N);
            let info = self.write_backup(
                file,
                change.now(),
                Some(user.id),
                &recipient,
                Sealing::Passphrase,
            )?;
            let summary = format!(
                "{} users, {} events; audit chain head #{} {}",
                info.users, info.audit_events, info.audit_head_seq, info.audit_head_hash
            );
            change.commit(&summary, |_| Ok(()))?;
            Ok(info)
        })
    }

    /// Whether `passphrase` is strong enough to lock a backup of the signed-in user's: the
    /// password rules, judged also against the organization's and the user's names. Errors:
    /// the password rules'.
    pub fn check_backup_passphrase(&self, session: SessionId, passphrase: &str) -> Result<()> {
        let user = self.session_user_quietly(session)?;
        self.judge_passphrase(&user, passphrase)
    }

    fn judge_passphrase(&self, user: &crate::model::User, passphrase: &str) -> Result<()> {
        let org = self.store.organization()?.map(|o| o.name).unwrap_or_default();
        crate::auth::password::check_policy(passphrase, &[&org, &user.name, user.email.as_str()])
    }

    /// The app's automatic backup into `folder`, locked with this computer's key: no session,
    /// the store's own trusted process. Error: `credential_store_unavailable` where no
    /// credential store answers (an automatic backup nobody could open after a restart is
    /// none).
    pub fn backup_automatic(&self, folder: &Path) -> Result<BackupInfo> {
        let write = self.unattended(); // held while the trees are read: nothing changes under it
        let id = self.store.id()?;
        let identity = automatic_identity(&self.keys, id)?;
        crate::files::private_dir(folder)?;
        let stamp = write.now.format("%Y%m%d-%H%M%S");
        let file = folder.join(format!("gatehouse-{stamp}-{}.{EXTENSION}", id.simple()));
        let recipient = identity.to_public();
        let info = self.write_backup(&file, write.now, None, &recipient, Sealing::ThisComputer)?;
        drop(write);
        prune(folder, &Opening::new(folder, &self.keys), info.created_at)?;
        Ok(info)
    }

    /// Checks that the signed-in user may replace this store with a backup: an Active Owner
    /// who typed their password again. A refusal is audited; a wrong password counts as a
    /// failed sign-in. Errors: `owner_required`, `wrong_password`, `locked_out`.
    pub fn may_restore(&self, session: SessionId, password: &str) -> Result<RestoreRight> {
        let by = self.changing(session, None, AuditAction::Restore, |change| {
            change.attempt("restore a backup");
            crate::policy::may_back_up(&change.actor.user)?;
            Ok(change.actor.user.clone())
        })?;
        self.confirm_password(&by, password)?;
        Ok(RestoreRight { by: Some(by.id), current: Some(self.store.id()?) })
    }

    /// Holds today's audit log against the copy in the backup `file`: every event the backup
    /// holds must be today's event with the same sequence number and hash, so a history
    /// rewritten since (even with every hash recomputed) is found. Needs `audit:read`; the
    /// comparison is audited. Errors: `audit_rewritten` (the first event that differs), the
    /// backup's errors.
    pub fn compare_with_backup(
        &self,
        session: SessionId,
        file: &Path,
        opening: &Opening<'_>,
    ) -> Result<AnchorCheck> {
        let needs = crate::model::Permission { module: Module::Audit, action: Action::Read };
        let name = file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        // The right first (a refusal is audited); the comparison itself holds no lock, as it may
        // read gigabytes, and its outcome is recorded after it, whatever it is.
        self.changing(session, Some(needs), AuditAction::CompareWithBackup, |change| {
            change.target(name.as_str()).attempt("compare the audit log with a backup");
            Ok(())
        })?;
        let opening = Opening { current: Some(self.store.id()?), ..*opening };
        let outcome = self.compare_chain(file, &opening);
        self.changing(session, Some(needs), AuditAction::CompareWithBackup, |change| {
            change.target(name.as_str());
            match &outcome {
                Ok(check) => change.commit(
                    &format!(
                        "today's log begins with the backup's, up to #{} {}",
                        check.backup_head_seq, check.backup_head_hash
                    ),
                    |_| Ok(()),
                ),
                Err(e) => change.record(
                    AuditEntry::success(
                        AuditActor::User(change.actor.user.id),
                        AuditAction::CompareWithBackup,
                        name.as_str(),
                        e.to_string(),
                    )
                    .refused(e.code())
                    .with_outcome(crate::model::Outcome::Failed),
                ),
            }
        })?;
        outcome
    }

    fn compare_chain(&self, file: &Path, opening: &Opening<'_>) -> Result<AnchorCheck> {
        // Today's chain must hold on its own first: the backup then anchors its beginning.
        let integrity = self.store.verify()?;
        if !integrity.is_intact() {
            return Err(Error::AuditChainBroken(integrity.problems.join("; ")));
        }
        let (mut reader, sealing) = open_backup(file, opening)?;
        let header = reader.header(sealing)?;
        if header.store_id != opening.current {
            return Err(Error::BackupOtherOrganization("another store".into()));
        }
        if header.head_seq == 0 {
            return Err(bad("it holds no audit events to compare with"));
        }
        let mut expected = 1u64;
        let mut differs = None;
        reader.trees(&header, |tree, key, value| {
            if tree != "audit" {
                return Ok(());
            }
            let seq = <[u8; 8]>::try_from(key)
                .map(u64::from_be_bytes)
                .map_err(|_| bad("an audit key is invalid"))?;
            if seq != expected {
                return Err(bad("its audit log has a gap"));
            }
            expected += 1;
            if differs.is_some() {
                return Ok(());
            }
            let theirs: AuditEvent =
                serde_json::from_slice(value).map_err(|_| bad("an audit event is invalid"))?;
            let ours = self.store.audit_event(seq)?;
            if theirs.seq != seq || ours.is_none_or(|ours| ours.hash() != theirs.hash()) {
                differs = Some(seq);
            }
            Ok(())
        })?;
        if expected - 1 != header.head_seq {
            return Err(bad("its audit log does not end where its header says"));
        }
        // Only now, with the whole file authenticated, is a difference worth reporting.
        if let Some(seq) = differs {
            return Err(Error::AuditRewritten(seq));
        }
        let (head_seq, head_hash) = self.store.audit_head()?;
        Ok(AnchorCheck {
            backup_head_seq: header.head_seq as u32,
            backup_head_hash: header.head_hash,
            backup_created_at: header.created_at,
            head_seq: head_seq as u32,
            head_hash,
        })
    }

    /// Writes the backup; the caller holds the writer lock.
    fn write_backup(
        &self,
        file: &Path,
        created_at: DateTime<Utc>,
        made_by: Option<UserId>,
        recipient: &dyn age::Recipient,
        sealing: Sealing,
    ) -> Result<BackupInfo> {
        let schema = self.store.schema_version()?.unwrap_or(0);
        let id = self.store.id()?;
        let (head_seq, head_hash) = self.store.audit_head()?;
        let encryptor = age::Encryptor::with_recipients(std::iter::once(recipient))
            .map_err(|e| Error::internal("encrypting the backup", e))?;
        // Streamed tree by tree: a backup never holds the store in memory.
        let (users, audit_events) = write_atomically_with(file, |out| {
            let sealed = encryptor.wrap_output(std::io::BufWriter::new(out))?;
            let mut w = Hashing { inner: sealed, hasher: Sha256::new(), written: 0 };
            let mut counts = (0u32, 0u32);
            w.write_all(MAGIC)?;
            w.write_all(&FORMAT_VERSION.to_be_bytes())?;
            w.write_all(&schema.to_be_bytes())?;
            w.write_all(&created_at.timestamp().to_be_bytes())?;
            w.write_all(id.as_bytes())?;
            w.write_all(made_by.unwrap_or(Uuid::nil()).as_bytes())?;
            w.write_all(&head_seq.to_be_bytes())?;
            w.write_all(&hash_bytes(&head_hash))?;
            let trees = self.store.trees();
            w.write_all(&(trees.len() as u16).to_be_bytes())?;
            for (name, tree) in trees {
                let count = tree.len();
                w.write_all(&(name.len() as u16).to_be_bytes())?;
                w.write_all(name.as_bytes())?;
                w.write_all(&(count as u64).to_be_bytes())?;
                let mut written = 0;
                for entry in tree.iter().take(count) {
                    let (k, v) = entry.map_err(std::io::Error::other)?;
                    w.write_all(&(k.len() as u32).to_be_bytes())?;
                    w.write_all(&k)?;
                    w.write_all(&(v.len() as u32).to_be_bytes())?;
                    w.write_all(&v)?;
                    written += 1;
                }
                if written != count {
                    return Err(std::io::Error::other("the store changed while it was read"));
                }
                match name {
                    "users" => counts.0 = count as u32,
                    "audit" => counts.1 = count as u32,
                    _ => {}
                }
            }
            let sum = w.hasher.finalize();
            w.inner.write_all(&sum)?;
            // Zeros up to whole chunks: every chunk of a backup is full, so a file cut short
            // is told from a damaged one by its size alone.
            let used = (w.written + 32) % CHUNK;
            w.inner.write_all(&vec![0u8; ((CHUNK - used) % CHUNK) as usize])?;
            w.inner.finish()?.flush()?;
            Ok(counts)
        })?;
        let bytes = std::fs::metadata(file).map_err(|e| Error::file("read back", file, &e))?.len();
        Ok(BackupInfo {
            format_version: FORMAT_VERSION,
            schema_version: schema,
            created_at: DateTime::from_timestamp(created_at.timestamp(), 0).unwrap_or(created_at),
            users,
            audit_events,
            bytes: bytes.min(u32::MAX as u64) as u32,
            sealing,
            audit_head_seq: head_seq as u32,
            audit_head_hash: head_hash,
        })
    }

    /// Checks `password` against `user`'s; a wrong one counts as a failed sign-in.
    fn confirm_password(&self, user: &crate::model::User, password: &str) -> Result<()> {
        let verified = user
            .password_hash
            .as_deref()
            .is_some_and(|phc| crate::auth::password::verify(password, phc));
        let write = self.unattended();
        let what = (AuditAction::Restore, " (restore)");
        self.count_sign_in(&write, user.email.key(), user.email.as_str(), verified, what)?;
        if verified {
            Ok(())
        } else {
            Err(Error::WrongPassword)
        }
    }
}

/// The X25519 identity automatic backups of store `id` are locked with, made and saved in the
/// credential store on first use.
fn automatic_identity(keys: &Keys, id: Uuid) -> Result<age::x25519::Identity> {
    let (text, keeping) = keys.get_or_make(&key_name(id), || {
        Ok(age::x25519::Identity::generate().to_string().expose_secret().to_string())
    })?;
    if let Keeping::ThisRun(why) = keeping {
        return Err(Error::CredentialStoreUnavailable(format!(
            "Automatic backups are locked with a key kept in this computer's credential store, \
             and {why}: no automatic backup was made. Make one with a passphrase in Settings."
        )));
    }
    text.parse().map_err(|_| Error::Internal("the backup key in the credential store is damaged"))
}

fn key_name(id: Uuid) -> String {
    format!("backups:{}", id.simple())
}

/// A writer that hashes what passes through it.
struct Hashing<W: Write> {
    inner: W,
    hasher: Sha256,
    written: u64,
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.written += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// A 64-character hex hash as its bytes; anything else (the genesis hash too) as written.
fn hash_bytes(hash: &str) -> [u8; 64] {
    let mut out = [b'0'; 64];
    let bytes = hash.as_bytes();
    out[..bytes.len().min(64)].copy_from_slice(&bytes[..bytes.len().min(64)]);
    out
}

fn bad(why: &str) -> Error {
    Error::BackupInvalid(why.to_string())
}

/// Opens `file` for reading: decrypted and authenticated as it is read. Refuses a file too big,
/// an unencrypted one unless accepted, and one no key or passphrase given opens.
fn open_backup(file: &Path, opening: &Opening<'_>) -> Result<(BackupReader, Sealing)> {
    let f = std::fs::File::open(file).map_err(|e| Error::file("read", file, &e))?;
    let size = f.metadata().map_err(|e| Error::file("read", file, &e))?.len();
    if size > MAX_BACKUP_BYTES {
        return Err(bad(&format!(
            "it is larger than the {} GiB a Gatehouse backup may be",
            MAX_BACKUP_BYTES >> 30
        )));
    }
    let mut input = BufReader::new(f);
    let mut start = [0u8; 19];
    let got = read_up_to(&mut input, &mut start).map_err(|e| Error::file("read", file, &e))?;
    let start = &start[..got];
    let rest = std::io::Cursor::new(start.to_vec()).chain(input);
    if MAGIC.starts_with(start) || start.starts_with(MAGIC) {
        if got < 4 {
            return Err(Error::BackupTruncated);
        }
        if !opening.accept_unencrypted {
            return Err(Error::BackupUnencrypted);
        }
        // Format 1 ends in a SHA-256 of the rest: it is read up to there.
        let body = size.checked_sub(32).ok_or(Error::BackupTruncated)?;
        let reader = BackupReader::new(Box::new(rest), Some(body));
        return Ok((reader, Sealing::None));
    }
    if !start.starts_with(AGE_MAGIC) {
        return Err(bad("it is not a Gatehouse backup"));
    }
    if !whole_chunks(file, size)? {
        return Err(Error::BackupTruncated);
    }
    let decryptor = age::Decryptor::new(rest).map_err(decrypt_error)?;
    if decryptor.is_scrypt() {
        let passphrase = opening.passphrase.ok_or(Error::BackupPassphraseNeeded)?;
        let mut identity = age::scrypt::Identity::new(SecretString::from(passphrase));
        identity.set_max_work_factor(SCRYPT_MAX_LOG_N);
        let plain = decryptor.decrypt(std::iter::once(&identity as &dyn age::Identity)).map_err(
            |e| match e {
                age::DecryptError::NoMatchingKeys | age::DecryptError::DecryptionFailed => {
                    Error::BackupWrongPassphrase
                }
                other => decrypt_error(other),
            },
        )?;
        return Ok((BackupReader::new(Box::new(plain), None), Sealing::Passphrase));
    }
    // Locked with a computer's key: the current store's, or the one the file is named for.
    let mut ids: Vec<Uuid> = opening.current.into_iter().collect();
    ids.extend(id_in_name(file));
    let identities: Vec<age::x25519::Identity> = ids
        .iter()
        .filter_map(|id| opening.keys.find(&key_name(*id)))
        .filter_map(|text| text.parse().ok())
        .collect();
    if identities.is_empty() {
        return Err(Error::BackupKeyMissing);
    }
    let plain = decryptor.decrypt(identities.iter().map(|i| i as &dyn age::Identity)).map_err(
        |e| match e {
            age::DecryptError::NoMatchingKeys => Error::BackupKeyMissing,
            other => decrypt_error(other),
        },
    )?;
    Ok((BackupReader::new(Box::new(plain), None), Sealing::ThisComputer))
}

/// Whether the age file `file` of `size` bytes holds whole chunks after its header, as every
/// backup Gatehouse writes does (see the padding in `write_backup`).
fn whole_chunks(file: &Path, size: u64) -> Result<bool> {
    let mut head = Vec::new();
    std::fs::File::open(file)
        .and_then(|f| f.take(8192).read_to_end(&mut head))
        .map_err(|e| Error::file("read", file, &e))?;
    // The header ends with its MAC line, `--- <mac>\n`; then a 16-byte nonce, then the chunks.
    let Some(mac) = head.windows(5).position(|w| w == b"\n--- ") else {
        return Ok(false);
    };
    let Some(end) = head[mac + 1..].iter().position(|b| *b == b'\n') else {
        return Ok(false);
    };
    let header = (mac + 1 + end + 1) as u64 + 16;
    let chunks = size.saturating_sub(header);
    Ok(size > header && chunks % (CHUNK + 16) == 0)
}

fn decrypt_error(e: age::DecryptError) -> Error {
    match e {
        age::DecryptError::Io(io) => io_error(io),
        age::DecryptError::ExcessiveWork { required, .. } => bad(&format!(
            "its passphrase lock asks for more work (2^{required}) than Gatehouse allows"
        )),
        age::DecryptError::UnknownFormat => bad("it was written by a newer version of age"),
        other => Error::BackupDamaged(format!("its header does not hold: {other}")),
    }
}

/// An error met while reading a backup's contents.
fn io_error(e: std::io::Error) -> Error {
    match e.kind() {
        std::io::ErrorKind::UnexpectedEof => Error::BackupTruncated,
        std::io::ErrorKind::InvalidData => {
            Error::BackupDamaged("a part of it fails its authentication".into())
        }
        _ => Error::internal("reading a backup", e),
    }
}

fn read_up_to(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match r.read(&mut buf[got..])? {
            0 => break,
            n => got += n,
        }
    }
    Ok(got)
}

/// A store id written in a backup's file name (automatic backups name theirs).
fn id_in_name(file: &Path) -> Option<Uuid> {
    let name = file.file_name()?.to_string_lossy().into_owned();
    let stem = name.strip_suffix(&format!(".{EXTENSION}")).unwrap_or(&name).to_string();
    stem.rsplit('-').next().and_then(|last| Uuid::try_parse(last).ok())
}

/// A backup's header.
struct Header {
    format: u32,
    schema: u32,
    created_at: DateTime<Utc>,
    store_id: Option<Uuid>,
    made_by: Option<UserId>,
    head_seq: u64,
    head_hash: String,
    trees: Option<u16>,
    sealing: Sealing,
}

/// Reads a backup's plain contents, hashing them as it goes.
struct BackupReader {
    input: Box<dyn Read>,
    hasher: Sha256,
    /// For format 1: the bytes before the trailing checksum.
    body: Option<u64>,
    read: u64,
}

impl BackupReader {
    fn new(input: Box<dyn Read>, body: Option<u64>) -> Self {
        BackupReader { input, hasher: Sha256::new(), body, read: 0 }
    }

    fn fill(&mut self, buf: &mut [u8]) -> Result<()> {
        self.input.read_exact(buf).map_err(io_error)?;
        self.hasher.update(&*buf);
        self.read += buf.len() as u64;
        Ok(())
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N]> {
        let mut a = [0u8; N];
        self.fill(&mut a)?;
        Ok(a)
    }

    fn u16(&mut self) -> Result<u16> {
        Ok(u16::from_be_bytes(self.array()?))
    }
    fn u32(&mut self) -> Result<u32> {
        Ok(u32::from_be_bytes(self.array()?))
    }
    fn u64(&mut self) -> Result<u64> {
        Ok(u64::from_be_bytes(self.array()?))
    }

    /// `n` bytes, read as they come (a length a file claims is never allocated up front).
    fn bytes(&mut self, n: u32) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        (&mut self.input).take(n as u64).read_to_end(&mut out).map_err(io_error)?;
        if out.len() != n as usize {
            return Err(Error::BackupTruncated);
        }
        self.hasher.update(&out);
        self.read += n as u64;
        Ok(out)
    }

    fn header(&mut self, sealing: Sealing) -> Result<Header> {
        let magic = self.array::<17>()?;
        if magic != MAGIC {
            return Err(bad("it is not a Gatehouse backup"));
        }
        let format = self.u32()?;
        let expected = if sealing == Sealing::None { 1 } else { FORMAT_VERSION };
        if format != expected {
            return Err(bad(&format!(
                "it has format version {format}; this Gatehouse reads version {expected} here"
            )));
        }
        let schema = self.u32()?;
        if schema > crate::store::SCHEMA_VERSION {
            return Err(Error::StoreTooNew { found: schema });
        }
        let created_at = DateTime::from_timestamp(i64::from_be_bytes(self.array()?), 0)
            .ok_or_else(|| bad("its date is invalid"))?;
        let mut header = Header {
            format,
            schema,
            created_at,
            store_id: None,
            made_by: None,
            head_seq: 0,
            head_hash: crate::model::audit::GENESIS_HASH.to_string(),
            trees: None,
            sealing,
        };
        if format >= 2 {
            header.store_id = Some(Uuid::from_bytes(self.array()?));
            let by = Uuid::from_bytes(self.array()?);
            header.made_by = (!by.is_nil()).then_some(by);
            header.head_seq = self.u64()?;
            header.head_hash = String::from_utf8(self.array::<64>()?.to_vec())
                .map_err(|_| bad("its audit head is invalid"))?;
            header.trees = Some(self.u16()?);
        }
        Ok(header)
    }

    /// Reads every tree, handing each entry to `each`, then the checksum and the end.
    fn trees(
        &mut self,
        header: &Header,
        mut each: impl FnMut(&str, &[u8], &[u8]) -> Result<()>,
    ) -> Result<()> {
        let mut seen = 0u16;
        loop {
            let more = match (header.trees, self.body) {
                (Some(count), _) => seen < count,
                (None, Some(body)) => self.read < body,
                (None, None) => false,
            };
            if !more {
                break;
            }
            seen += 1;
            if seen > MAX_TREES {
                return Err(bad("it holds more trees than a Gatehouse store has"));
            }
            let name_len = self.u16()?;
            if name_len > 64 {
                return Err(bad("a tree name is invalid"));
            }
            let name = String::from_utf8(self.bytes(name_len as u32)?)
                .map_err(|_| bad("a tree name is invalid"))?;
            if !crate::store::TREES.contains(&name.as_str()) {
                return Err(bad(&format!("it holds a tree Gatehouse does not know ({name:?})")));
            }
            let count = self.u64()?;
            for _ in 0..count {
                let len = self.u32()?;
                if len > MAX_KEY_BYTES {
                    return Err(bad("a key is longer than any Gatehouse writes"));
                }
                let key = self.bytes(len)?;
                let len = self.u32()?;
                if len > MAX_VALUE_BYTES {
                    return Err(bad("a record is larger than any Gatehouse writes"));
                }
                let value = self.bytes(len)?;
                each(&name, &key, &value)?;
            }
        }
        if self.body.is_some_and(|body| self.read != body) {
            return Err(bad("its last tree runs past its end"));
        }
        let sum = std::mem::take(&mut self.hasher).finalize();
        let mut stored = [0u8; 32];
        self.input.read_exact(&mut stored).map_err(io_error)?;
        if sum.as_slice() != stored {
            return Err(Error::BackupDamaged("its checksum does not match".into()));
        }
        // Only the zeros that fill the last chunk may follow; for an age file, reading to the
        // end also checks that last chunk.
        let mut rest = Vec::new();
        (&mut self.input).take(CHUNK + 1).read_to_end(&mut rest).map_err(io_error)?;
        if rest.len() as u64 > CHUNK || rest.iter().any(|b| *b != 0) {
            return Err(bad("something follows its end"));
        }
        Ok(())
    }
}

/// Reads the whole backup into a new store at `dir` and verifies it.
fn build_store(file: &Path, opening: &Opening<'_>, dir: &Path) -> Result<(Header, BackupInfo)> {
    let (mut reader, sealing) = open_backup(file, opening)?;
    let header = reader.header(sealing)?;
    let mut counts = (0u32, 0u32);
    {
        let db = crate::store::open_sled(dir)?;
        let mut open: Option<(String, sled::Tree)> = None;
        reader.trees(&header, |name, k, v| {
            if open.as_ref().is_none_or(|(n, _)| n != name) {
                open = Some((name.to_string(), db.open_tree(name)?));
            }
            if let Some((_, tree)) = &open {
                tree.insert(k, v)?;
            }
            match name {
                "users" => counts.0 += 1,
                "audit" => counts.1 += 1,
                _ => {}
            }
            Ok(())
        })?;
        crate::store::close_sled(db, dir)?;
    }
    let store = Store::open_settled(dir)?;
    if let Some(id) = header.store_id {
        if store.id()? != id {
            return Err(bad("its store id does not match its contents"));
        }
    }
    if header.format >= 2 && store.audit_head()? != (header.head_seq, header.head_hash.clone()) {
        return Err(bad("its audit head does not match its log"));
    }
    if let Some(current) = opening.current {
        if store.id()? != current {
            let name = store.organization()?.map(|o| o.name).unwrap_or_else(|| "unnamed".into());
            return Err(Error::BackupOtherOrganization(name));
        }
    }
    let integrity = store.verify()?;
    if !integrity.is_intact() {
        return Err(bad(&format!(
            "its contents do not verify ({})",
            integrity.problems.join("; ")
        )));
    }
    let bytes = std::fs::metadata(file).map(|m| m.len()).unwrap_or(0);
    let info = BackupInfo {
        format_version: header.format,
        schema_version: header.schema,
        created_at: header.created_at,
        users: counts.0,
        audit_events: counts.1,
        bytes: bytes.min(u32::MAX as u64) as u32,
        sealing: header.sealing,
        audit_head_seq: header.head_seq as u32,
        audit_head_hash: header.head_hash.clone(),
    };
    Ok((header, info))
}

/// A folder inside the data folder for a trial or incoming store, named by the wall clock.
fn work_folder(data_dir: &Path, what: &str) -> Result<PathBuf> {
    crate::files::private_dir(data_dir)?;
    // No directory is open yet to lend its clock: the wall clock names the folders.
    let stamp = SystemClock.now().format("%Y%m%dT%H%M%S%.3f");
    Ok(data_dir.join(format!("store.{what}-{stamp}-{}", Uuid::new_v4().simple())))
}

/// Reads and fully checks a backup without restoring it: authenticated and decrypted, then a
/// trial store built from it inside the data folder, verified like a live one, and removed.
pub fn check(file: &Path, opening: &Opening<'_>) -> Result<BackupInfo> {
    let trial = work_folder(opening.data_dir, "checking")?;
    let result = build_store(file, opening, &trial);
    let _ = std::fs::remove_dir_all(&trial);
    result.map(|(_, info)| info)
}

/// Replaces the store in `store_dir` with the backup in `file`, with the right `right`. The
/// backup is checked in full first (authenticated and decrypted, then a trial store that must
/// verify); only then is the current store moved aside to `store.replaced-<time>` and the
/// restored one moved into place. The restore is recorded in the restored store's audit log as
/// done by the Owner who proved the right (or who made the backup). Errors: the backup's,
/// `store_locked` (the app or a command has the store open), `file_error`.
pub fn restore(
    file: &Path,
    store_dir: &Path,
    right: &RestoreRight,
    opening: &Opening<'_>,
) -> Result<Restored> {
    let parent = store_dir.parent().ok_or_else(|| bad("the store folder has no parent"))?;
    let opening = Opening { data_dir: parent, current: right.current, ..*opening };
    let fresh = work_folder(parent, "restoring")?;
    let (header, info) = match build_store(file, &opening, &fresh) {
        Ok(found) => found,
        Err(e) => {
            let _ = std::fs::remove_dir_all(&fresh);
            return Err(e);
        }
    };
    let mut kept = None;
    if store_dir.exists() {
        // Refuse while someone has the store open: moving it away under them would lose work.
        match Store::open_settled(store_dir) {
            Err(Error::StoreLocked) => {
                let _ = std::fs::remove_dir_all(&fresh);
                return Err(Error::StoreLocked);
            }
            // The right is judged again now, with nothing open: the backup's own key is a
            // right only over a store that cannot be used, and an Owner's only over their own.
            Ok(store) => {
                let set_up = store.organization()?.is_some();
                let id = store.id()?;
                drop(store);
                if (right.by.is_none() && set_up) || right.current.is_some_and(|c| c != id) {
                    let _ = std::fs::remove_dir_all(&fresh);
                    return Err(Error::PermissionDenied);
                }
            }
            Err(e @ Error::StoreTooNew { .. }) => {
                let _ = std::fs::remove_dir_all(&fresh);
                return Err(e);
            }
            Err(_) => {} // damaged: exactly what a restore is for
        }
        let stamp = SystemClock.now().format("%Y%m%dT%H%M%S%.3f");
        let aside = parent.join(format!("store.replaced-{stamp}"));
        std::fs::rename(store_dir, &aside).map_err(|e| Error::file("move aside", store_dir, &e))?;
        kept = Some(aside);
    }
    std::fs::rename(&fresh, store_dir).map_err(|e| Error::file("move into place", &fresh, &e))?;
    sync_dir(parent);
    crate::files::tighten(parent)?;
    let restored = Directory::open_settled(store_dir, std::sync::Arc::new(SystemClock))?;
    let summary = match &kept {
        Some(aside) => format!(
            "from {} ({} backup made {}); the replaced store is kept in {}",
            file.display(),
            crate::wire_name(&info.sealing),
            info.created_at.to_rfc3339(),
            aside.display()
        ),
        None => format!("from {}", file.display()),
    };
    // Done by the Owner who proved the right; with the backup's own key, nobody signed in: the
    // backup's maker is named in the summary, not made the actor.
    let known =
        |id: Option<UserId>| id.filter(|id| restored.store.user(*id).ok().flatten().is_some());
    let actor = known(right.by).map_or(AuditActor::System, AuditActor::User);
    let summary = match (right.by, known(header.made_by)) {
        (Some(_), _) => summary,
        (None, Some(maker)) => {
            let email =
                restored.store.user(maker)?.map(|u| u.email.to_string()).unwrap_or_default();
            format!("{summary}; opened with the backup's passphrase (made by {email})")
        }
        (None, None) => format!("{summary}; opened with this computer's key"),
    };
    restored.unattended().record(AuditEntry::success(actor, AuditAction::Restore, "", &summary))?;
    Ok(Restored { info, kept: kept.map(|k| k.display().to_string()) })
}

/// The backups in `dir` (any `.gatehouse-backup` file), newest first by the time written
/// inside each; files that cannot be opened are left out.
pub fn list(dir: &Path, opening: &Opening<'_>) -> Vec<(PathBuf, DateTime<Utc>)> {
    let mut found: Vec<(PathBuf, DateTime<Utc>)> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == EXTENSION))
        .filter_map(|path| {
            let (mut reader, sealing) = open_backup(&path, opening).ok()?;
            let at = reader.header(sealing).ok()?.created_at;
            Some((path, at))
        })
        .collect();
    found.sort_by_key(|f| std::cmp::Reverse(f.1));
    found
}

/// Keeps the newest 10 backups in `dir` plus the newest of each of the last 30 days.
fn prune(dir: &Path, opening: &Opening<'_>, now: DateTime<Utc>) -> Result<()> {
    let mut days_kept = std::collections::HashSet::new();
    for (i, (path, at)) in list(dir, opening).into_iter().enumerate() {
        let recent_day = now.signed_duration_since(at) <= chrono::Duration::days(30);
        let first_of_day = days_kept.insert(at.date_naive());
        if i < 10 || (recent_day && first_of_day) {
            continue;
        }
        std::fs::remove_file(&path).map_err(|e| Error::file("remove", &path, &e))?;
    }
    Ok(())
}

/// The newest automatic backup in `dir` (by the time written inside it) that checks out in
/// full, for a store that cannot be opened.
pub fn newest_good(dir: &Path, opening: &Opening<'_>) -> Option<(PathBuf, BackupInfo)> {
    list(dir, opening)
        .into_iter()
        .find_map(|(path, _)| check(&path, opening).ok().map(|info| (path, info)))
}
