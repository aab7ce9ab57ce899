//! Files Gatehouse writes: whole or not at all, and readable by the OS user alone (domain.md
//! "Data at rest": 0700 folders and 0600 files on Linux and macOS; Windows keeps its per-user
//! app-data folder's own access rules).
//!
//! Three layers keep the data folder private whatever the umask a person launched with:
//! [`private_process`] sets the process umask to 0o077, so every file anything in the process
//! creates later (sled's snapshots and blobs, the log appender's files, a socket) starts
//! private; the files and folders written here ask for 0600 and 0700 explicitly; and
//! [`tighten`] fixes a folder written by an older Gatehouse or another program.

use crate::error::{Error, Result};
use std::io::Write;
use std::path::{Path, PathBuf};

/// The mode of every folder Gatehouse makes in its data folder.
pub const PRIVATE_DIR: u32 = 0o700;
/// The mode of every file Gatehouse writes.
pub const PRIVATE_FILE: u32 = 0o600;

/// Makes every file and folder this process creates from now on private to the OS user
/// (umask 0o077). Called when a store opens and at the start of the app and the command line:
/// sled creates its files with the process umask, including snapshots long after opening, so
/// a mode set after the fact would miss them. Idempotent; nothing on Windows.
pub fn private_process() {
    #[cfg(unix)]
    {
        use rustix::fs::Mode;
        rustix::process::umask(Mode::from_raw_mode(0o077));
    }
}

/// Creates `dir` (and any missing parents) as a private folder, or makes an existing one
/// private. Error: `file_error`.
pub fn private_dir(dir: &Path) -> Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, PRIVATE_DIR);
    builder.create(dir).map_err(|e| Error::file("create", dir, &e))?;
    set_mode(dir, PRIVATE_DIR).map_err(|e| Error::file("protect", dir, &e))
}

/// Makes `dir` and everything under it private: folders 0700, every other entry 0600.
/// Symbolic links are left alone and not followed (their own mode means nothing on Linux, and
/// what they point at is not Gatehouse's). A missing `dir` is not an error. Only entries whose
/// mode differs are changed, so tightening a private folder costs one `stat` an entry.
/// Error: `file_error` naming the first entry that could not be changed.
pub fn tighten(dir: &Path) -> Result<()> {
    let mut pending = vec![dir.to_path_buf()];
    while let Some(path) = pending.pop() {
        let meta = match std::fs::symlink_metadata(&path) {
            Ok(meta) => meta,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue, // gone meanwhile
            Err(e) => return Err(Error::file("read", &path, &e)),
        };
        if meta.file_type().is_symlink() {
            continue;
        }
        let mode = if meta.is_dir() { PRIVATE_DIR } else { PRIVATE_FILE };
        if mode_of(&meta) != Some(mode) {
            set_mode(&path, mode).map_err(|e| Error::file("protect", &path, &e))?;
        }
        if meta.is_dir() {
            let entries = std::fs::read_dir(&path).map_err(|e| Error::file("read", &path, &e))?;
            for entry in entries {
                let entry = entry.map_err(|e| Error::file("read", &path, &e))?;
                pending.push(entry.path());
            }
        }
    }
    Ok(())
}

/// Prepares the data folder `data` before its store opens: the process made private
/// ([`private_process`]), the folder created 0700 or, when it exists, tightened with all it
/// holds ([`tighten`]). Returns the store's folder, `data/store` (automatic backups live in
/// `data/backups`). The app and the command line both open their store through this.
/// Errors: `file_error`; `store_behind` when the store folder is missing from a data folder
/// that held an organization (a new one is never made there, so setup never runs over it).
pub fn prepare_data_folder(data: &Path) -> Result<PathBuf> {
    private_process();
    private_dir(data)?;
    // Trial and incoming stores a check or restore left when it was cut off hold a whole
    // decrypted copy of a backup: they go.
    for entry in std::fs::read_dir(data).into_iter().flatten().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if ["store.checking-", "store.restoring-", "store.incoming-"]
            .iter()
            .any(|p| name.starts_with(p))
        {
            let path = entry.path();
            let _ = std::fs::remove_dir_all(&path).or_else(|_| std::fs::remove_file(&path));
        }
    }
    tighten(data)?;
    let store = data.join("store");
    if !store.exists() && held_an_organization(data) {
        return Err(Error::StoreMissing);
    }
    Ok(store)
}

/// Whether the data folder `data` shows that it held an organization: a backup in its
/// `backups` folder, or a store a restore kept aside.
fn held_an_organization(data: &Path) -> bool {
    let names = |dir: &Path| -> Vec<String> {
        std::fs::read_dir(dir)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect()
    };
    names(&data.join("backups")).iter().any(|n| n.ends_with(".gatehouse-backup"))
        || names(data).iter().any(|n| n.starts_with("store.replaced-"))
}

/// A private scratch folder inside `parent` (`<parent>/<prefix>-<uuid>`, 0700), removed with
/// everything in it when dropped. For work that must not leave the data folder, such as the
/// trial store a backup check builds: the system's temporary folder is shared with every user
/// of the machine. Error: `file_error`.
pub struct Scratch {
    path: PathBuf,
}

impl Scratch {
    pub fn new(parent: &Path, prefix: &str) -> Result<Scratch> {
        private_dir(parent)?;
        let path = parent.join(format!("{prefix}-{}", uuid::Uuid::now_v7()));
        let mut builder = std::fs::DirBuilder::new();
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, PRIVATE_DIR);
        builder.create(&path).map_err(|e| Error::file("create", &path, &e))?;
        Ok(Scratch { path })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// Writes `bytes` to a temporary file beside `path`, syncs it, renames it over `path` and
/// syncs the folder: a reader sees the old file or the new one, never half of one. The file is
/// 0600 wherever it is written (a file the person chose keeps its place, not its old mode).
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    write_atomically_with(path, |f| f.write_all(bytes))
}

/// As [`write_atomically`], with `write` filling the temporary file (created 0600).
pub fn write_atomically_with<T>(
    path: &Path,
    write: impl FnOnce(&mut std::fs::File) -> std::io::Result<T>,
) -> Result<T> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = dir.join(format!(".{name}.{}.tmp", uuid::Uuid::now_v7()));
    let result = (|| {
        let mut f = create_private(&tmp)?;
        let out = write(&mut f)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)?;
        Ok(out)
    })();
    match result {
        Ok(out) => {
            sync_dir(&dir);
            Ok(out)
        }
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(Error::file("write", path, &e))
        }
    }
}

/// As [`write_atomically`], for a file Gatehouse keeps beside its store: every step's error is
/// returned as it came (the folder's sync included), so that the caller can tell a full disk
/// from a failing one.
pub fn replace_durably(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = dir.join(format!(".{name}.tmp"));
    let result = (|| {
        let _ = std::fs::remove_file(&tmp); // left by a cut-off write
        let mut f = create_private(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)?;
        sync_folder(dir)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Makes the names in `dir` durable (fsync of the folder). Nothing on Windows, where a folder
/// cannot be opened as a file and NTFS keeps its names in its own journal.
pub fn sync_folder(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    std::fs::File::open(dir)?.sync_all()?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// A new file, refused if `path` exists, created 0600 whatever the umask.
fn create_private(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, PRIVATE_FILE);
    let file = options.open(path)?;
    // The mode asked for above passes through the umask, which only ever takes bits away;
    // set it outright so that an odd umask cannot leave the owner unable to read.
    #[cfg(unix)]
    file.set_permissions(std::os::unix::fs::PermissionsExt::from_mode(PRIVATE_FILE))?;
    Ok(file)
}

pub fn sync_dir(dir: &Path) {
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all(); // not supported on every platform; the rename is done either way
    }
}

/// The permission bits of `meta` (unix), or `None` where modes mean nothing.
fn mode_of(meta: &std::fs::Metadata) -> Option<u32> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        Some(meta.permissions().mode() & 0o7777)
    }
    #[cfg(not(unix))]
    {
        let _ = meta;
        None
    }
}

fn set_mode(path: &Path, mode: u32) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
    }
    #[cfg(not(unix))]
    {
        let _ = (path, mode);
        Ok(())
    }
}
