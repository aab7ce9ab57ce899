//! Backups: the whole store in one self-checking file, and restoring one without ever
//! leaving a half-replaced store.
//!
//! File layout (all integers big-endian):
//! `GATEHOUSE BACKUP\n`, format version (u32), schema version (u32), creation time (i64, Unix
//! seconds), then each tree: name length (u16), name, entry count (u64), and per entry key
//! length (u32), key, value length (u32), value; last, the SHA-256 of everything before it.

use crate::error::{Error, Result};
use crate::files::{sync_dir, write_atomically_with};
use crate::model::audit::AuditEntry;
use crate::model::{AuditAction, AuditActor};
use crate::store::Store;
use crate::{Clock, Directory, SessionId, SystemClock};
use chrono::{DateTime, Utc};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::{Path, PathBuf};

pub const FORMAT_VERSION: u32 = 1;
const MAGIC: &[u8] = b"GATEHOUSE BACKUP\n";
/// The extension automatic backups use.
pub const EXTENSION: &str = "gatehouse-backup";

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
}

/// The result of a restore: what came back, and where the replaced store was kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
pub struct Restored {
    pub info: BackupInfo,
    /// The folder the replaced store was moved to (none when there was no store).
    pub kept: Option<String>,
}

use crate::store::Trees;

impl Directory {
    /// Writes a backup of the whole store to `file`. Only an Active Owner may; the backup is
    /// recorded in the audit log. Errors: `owner_required`, `file_error`.
    pub fn backup(&self, session: SessionId, file: &Path) -> Result<BackupInfo> {
        self.changing(session, None, AuditAction::Backup, |change| {
            let name = file.file_name().map(|n| n.to_string_lossy().into_owned());
            change.target(name.unwrap_or_default()).attempt("back up the store");
            crate::policy::may_back_up(&change.actor.user)?;
            let info = self.write_backup(file, change.now())?;
            let summary = format!("{} users, {} events", info.users, info.audit_events);
            change.commit(&summary, |_| Ok(()))?;
            Ok(info)
        })
    }

    /// Checks that the signed-in user may replace this store with a backup: an Active Owner.
    /// A refusal is audited.
    pub fn may_restore(&self, session: SessionId) -> Result<()> {
        self.changing(session, None, AuditAction::Restore, |change| {
            change.attempt("restore a backup");
            crate::policy::may_back_up(&change.actor.user)
        })
    }

    /// The app's automatic backup at start: no session, the store's own trusted process.
    pub fn backup_unchecked(&self, file: &Path) -> Result<BackupInfo> {
        let write = self.unattended(); // held while the trees are read: nothing changes under it
        self.write_backup(file, write.now)
    }

    /// Writes the backup; the caller holds the writer lock.
    fn write_backup(&self, file: &Path, created_at: DateTime<Utc>) -> Result<BackupInfo> {
        let schema = self.store.schema_version()?.unwrap_or(0);
        // Streamed tree by tree: a backup never holds the store in memory.
        let (users, audit_events) = write_atomically_with(file, |out| {
            let mut w = Hashing { inner: std::io::BufWriter::new(out), hasher: Sha256::new() };
            let mut counts = (0u32, 0u32);
            w.write_all(MAGIC)?;
            w.write_all(&FORMAT_VERSION.to_be_bytes())?;
            w.write_all(&schema.to_be_bytes())?;
            w.write_all(&created_at.timestamp().to_be_bytes())?;
            for (name, tree) in self.store.trees() {
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
            w.inner.flush()?;
            Ok(counts)
        })?;
        // Read back what is on disk: a backup whose checksum does not hold is no backup.
        let bytes = checksum_holds(file)?;
        Ok(BackupInfo {
            format_version: FORMAT_VERSION,
            schema_version: schema,
            created_at: DateTime::from_timestamp(created_at.timestamp(), 0).unwrap_or(created_at),
            users,
            audit_events,
            bytes: bytes as u32,
        })
    }
}

/// A writer that hashes what passes through it.
struct Hashing<W: Write> {
    inner: W,
    hasher: Sha256,
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// Reads `file` back in pieces and checks its trailing SHA-256; returns its size.
fn checksum_holds(file: &Path) -> Result<u64> {
    use std::io::Read;
    let fail = |e: std::io::Error| Error::file("read back", file, &e);
    let mut f = std::fs::File::open(file).map_err(fail)?;
    let size = f.metadata().map_err(fail)?.len();
    let body = size.checked_sub(32).ok_or_else(|| bad("the file is cut short"))?;
    let mut hasher = Sha256::new();
    let mut left = body;
    let mut buf = vec![0u8; 1 << 16];
    while left > 0 {
        let want = left.min(buf.len() as u64) as usize;
        f.read_exact(&mut buf[..want]).map_err(fail)?;
        hasher.update(&buf[..want]);
        left -= want as u64;
    }
    let mut sum = [0u8; 32];
    f.read_exact(&mut sum).map_err(fail)?;
    if hasher.finalize().as_slice() != sum {
        return Err(bad("its checksum does not match, so the file is damaged"));
    }
    Ok(size)
}

/// A decoded backup: its header and trees.
struct Decoded {
    schema: u32,
    created_at: DateTime<Utc>,
    trees: Trees,
}

fn bad(why: &str) -> Error {
    Error::BackupInvalid(why.to_string())
}

/// Reads a backup, checking the magic, the format version and the checksum first.
fn decode(bytes: &[u8]) -> Result<Decoded> {
    if !bytes.starts_with(MAGIC) {
        return Err(bad("it is not a Gatehouse backup"));
    }
    if bytes.len() < MAGIC.len() + 16 + 32 {
        return Err(bad("the file is cut short"));
    }
    let (body, sum) = bytes.split_at(bytes.len() - 32);
    if Sha256::digest(body).as_slice() != sum {
        return Err(bad("its checksum does not match, so the file is damaged"));
    }
    let mut r = Reader { bytes: body, at: MAGIC.len() };
    let version = r.u32()?;
    if version != FORMAT_VERSION {
        return Err(bad(&format!(
            "it has format version {version}; this Gatehouse reads version {FORMAT_VERSION}"
        )));
    }
    let schema = r.u32()?;
    let created_at =
        DateTime::from_timestamp(r.i64()?, 0).ok_or_else(|| bad("its date is invalid"))?;
    let mut trees = Vec::new();
    while r.at < body.len() {
        let name_len = r.u16()? as usize;
        let name = String::from_utf8(r.take(name_len)?.to_vec())
            .map_err(|_| bad("a tree name is invalid"))?;
        let count = r.u64()?;
        let mut entries = Vec::new();
        for _ in 0..count {
            let len = r.u32()? as usize;
            let k = r.take(len)?.to_vec();
            let len = r.u32()? as usize;
            let v = r.take(len)?.to_vec();
            entries.push((k, v));
        }
        trees.push((name, entries));
    }
    Ok(Decoded { schema, created_at, trees })
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8]> {
        let end = self
            .at
            .checked_add(n)
            .filter(|e| *e <= self.bytes.len())
            .ok_or_else(|| bad("the file is cut short"))?;
        let out = &self.bytes[self.at..end];
        self.at = end;
        Ok(out)
    }
    fn array<const N: usize>(&mut self) -> Result<[u8; N]> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(N)?);
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
    fn i64(&mut self) -> Result<i64> {
        Ok(i64::from_be_bytes(self.array()?))
    }
}

fn info_of(decoded: &Decoded, bytes: &[u8]) -> Result<BackupInfo> {
    let count = |name: &str| {
        decoded.trees.iter().find(|(n, _)| n == name).map_or(0, |(_, e)| e.len() as u32)
    };
    Ok(BackupInfo {
        format_version: FORMAT_VERSION,
        schema_version: decoded.schema,
        created_at: decoded.created_at,
        users: count("users"),
        audit_events: count("audit"),
        bytes: bytes.len() as u32,
    })
}

/// Reads and fully checks a backup without restoring it: checksum, then a trial store built
/// from it in a temporary folder next to nothing, verified like a live one.
pub fn check(file: &Path) -> Result<BackupInfo> {
    let bytes = std::fs::read(file).map_err(|e| Error::file("read", file, &e))?;
    let decoded = decode(&bytes)?;
    let trial = std::env::temp_dir().join(format!("gatehouse-check-{}", uuid::Uuid::now_v7()));
    let result = build_store(&decoded, &trial);
    let _ = std::fs::remove_dir_all(&trial);
    result?;
    info_of(&decoded, &bytes)
}

/// Writes the trees into a new store at `dir` and verifies it.
fn build_store(decoded: &Decoded, dir: &Path) -> Result<()> {
    {
        let db = sled::Config::new().path(dir).open()?;
        for (name, entries) in &decoded.trees {
            let tree = db.open_tree(name)?;
            for (k, v) in entries {
                tree.insert(k.as_slice(), v.as_slice())?;
            }
        }
        db.flush()?;
    }
    let store = Store::open_settled(dir)?;
    let integrity = store.verify()?;
    if !integrity.is_intact() {
        return Err(bad(&format!(
            "its contents do not verify ({})",
            integrity.problems.join("; ")
        )));
    }
    Ok(())
}

/// Replaces the store in `store_dir` with the backup in `file`. The backup is checked in full
/// first (checksum, then a trial store that must verify); only then is the current store
/// moved aside to `store.replaced-<time>` and the restored one moved into place. The restore
/// is recorded in the restored store's audit log. Errors: `backup_invalid`, `store_locked`
/// (the app or a command has the store open), `file_error`.
pub fn restore(file: &Path, store_dir: &Path) -> Result<Restored> {
    let bytes = std::fs::read(file).map_err(|e| Error::file("read", file, &e))?;
    let decoded = decode(&bytes)?;
    let info = info_of(&decoded, &bytes)?;
    let parent = store_dir.parent().ok_or_else(|| bad("the store folder has no parent"))?;
    std::fs::create_dir_all(parent).map_err(|e| Error::file("create", parent, &e))?;
    // No directory is open yet to lend its clock: the wall clock names the folders.
    let stamp = SystemClock.now().format("%Y%m%dT%H%M%S%.3f");
    let fresh = parent.join(format!("store.restoring-{stamp}"));
    if let Err(e) = build_store(&decoded, &fresh) {
        let _ = std::fs::remove_dir_all(&fresh);
        return Err(e);
    }
    let mut kept = None;
    if store_dir.exists() {
        // Refuse while someone has the store open: moving it away under them would lose work.
        match Store::open_settled(store_dir) {
            Err(Error::StoreLocked) => {
                let _ = std::fs::remove_dir_all(&fresh);
                return Err(Error::StoreLocked);
            }
            Ok(store) => drop(store),
            Err(_) => {} // damaged: exactly what a restore is for
        }
        let aside = parent.join(format!("store.replaced-{stamp}"));
        std::fs::rename(store_dir, &aside).map_err(|e| Error::file("move aside", store_dir, &e))?;
        kept = Some(aside);
    }
    std::fs::rename(&fresh, store_dir).map_err(|e| Error::file("move into place", &fresh, &e))?;
    sync_dir(parent);
    let restored = Directory::open_settled(store_dir, std::sync::Arc::new(SystemClock))?;
    let summary = match &kept {
        Some(aside) => {
            format!("from {}; the replaced store is kept in {}", file.display(), aside.display())
        }
        None => format!("from {}", file.display()),
    };
    restored.unattended().record(AuditEntry::success(
        AuditActor::System,
        AuditAction::Restore,
        "",
        &summary,
    ))?;
    Ok(Restored { info, kept: kept.map(|k| k.display().to_string()) })
}

/// The app's automatic backups in `dir`: one now, then the folder pruned to the newest 10
/// plus the newest of each of the last 30 days.
pub fn automatic(directory: &Directory, dir: &Path, now: DateTime<Utc>) -> Result<BackupInfo> {
    std::fs::create_dir_all(dir).map_err(|e| Error::file("create", dir, &e))?;
    let file = dir.join(format!("gatehouse-{}.{EXTENSION}", now.format("%Y%m%d-%H%M%S")));
    let info = directory.backup_unchecked(&file)?;
    prune(dir, now)?;
    Ok(info)
}

/// Automatic backups in `dir`, newest first, by the time in their names.
pub fn list(dir: &Path) -> Vec<(PathBuf, DateTime<Utc>)> {
    let mut found: Vec<(PathBuf, DateTime<Utc>)> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let stamp = name.strip_prefix("gatehouse-")?.strip_suffix(&format!(".{EXTENSION}"))?;
            let at = chrono::NaiveDateTime::parse_from_str(stamp, "%Y%m%d-%H%M%S").ok()?;
            Some((e.path(), at.and_utc()))
        })
        .collect();
    found.sort_by_key(|f| std::cmp::Reverse(f.1));
    found
}

fn prune(dir: &Path, now: DateTime<Utc>) -> Result<()> {
    let mut days_kept = std::collections::HashSet::new();
    for (i, (path, at)) in list(dir).into_iter().enumerate() {
        let recent_day = now.signed_duration_since(at) <= chrono::Duration::days(30);
        let first_of_day = days_kept.insert(at.date_naive());
        if i < 10 || (recent_day && first_of_day) {
            continue;
        }
        std::fs::remove_file(&path).map_err(|e| Error::file("remove", &path, &e))?;
    }
    Ok(())
}

/// The newest automatic backup in `dir` that checks out in full, for a store that cannot be
/// opened.
pub fn newest_good(dir: &Path) -> Option<(PathBuf, BackupInfo)> {
    list(dir).into_iter().find_map(|(path, _)| check(&path).ok().map(|info| (path, info)))
}
