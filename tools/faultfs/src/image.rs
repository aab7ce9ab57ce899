//! Real folders in and out: the source copied into memory as durable state, and a view of the
//! tree (durable after a power cut, live after a clean unmount) written back as a folder.

use crate::durable::{Entries, FileData};
use crate::tree::{Body, Node, State};
use std::ffi::OsString;
use std::io;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::time::SystemTime;

/// A tree of files and folders taken from memory at one instant.
pub(crate) enum Image {
    File { mode: u16, data: Vec<u8> },
    Dir { mode: u16, entries: Vec<(OsString, Image)> },
}

/// The folder `source` (missing: empty) as durable state; a missing one is owned like `owner`
/// (the mount point). Symbolic links and special files are left out.
pub(crate) fn load(source: &Path, owner: &Path) -> io::Result<State> {
    let (meta, present) = match std::fs::metadata(source) {
        Ok(meta) if meta.is_dir() => (meta, true),
        Ok(_) => return Err(io::Error::other(format!("{} is not a folder", source.display()))),
        Err(e) if e.kind() == io::ErrorKind::NotFound => (std::fs::metadata(owner)?, false),
        Err(e) => return Err(e),
    };
    let mut state = State::new(node_like(&meta, Body::Dir(Entries::default())));
    if present {
        copy_in(&mut state, crate::tree::ROOT, source)?;
    }
    Ok(state)
}

fn node_like(meta: &std::fs::Metadata, body: Body) -> Node {
    let time = meta.modified().unwrap_or_else(|_| SystemTime::now());
    Node::new(body, (meta.mode() & 0o7777) as u16, (meta.uid(), meta.gid()), time)
}

fn copy_in(state: &mut State, parent: u64, dir: &Path) -> io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let meta = entry.metadata()?; // not following links
        if meta.is_dir() {
            let node = node_like(&meta, Body::Dir(Entries::default()));
            let ino = state.add_durable(parent, &entry.file_name(), node);
            copy_in(state, ino, &entry.path())?;
        } else if meta.is_file() {
            let data = FileData::durable(std::fs::read(entry.path())?);
            state.add_durable(parent, &entry.file_name(), node_like(&meta, Body::File(data)));
        }
    }
    Ok(())
}

impl Image {
    /// Writes this tree (a folder) as the folder `path`, which must be missing or empty.
    pub(crate) fn write_to(&self, path: &Path) -> io::Result<()> {
        match std::fs::read_dir(path) {
            Ok(mut listing) => {
                if listing.next().is_some() {
                    return Err(io::Error::new(
                        io::ErrorKind::AlreadyExists,
                        format!("{} is not empty", path.display()),
                    ));
                }
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => std::fs::create_dir_all(path)?,
            Err(e) => return Err(e),
        }
        self.fill(path)
    }

    fn fill(&self, path: &Path) -> io::Result<()> {
        match self {
            Image::File { mode, data } => {
                std::fs::write(path, data)?;
                set_mode(path, *mode)
            }
            Image::Dir { mode, entries } => {
                for (name, child) in entries {
                    let at = path.join(name);
                    if let Image::Dir { .. } = child {
                        std::fs::create_dir(&at)?;
                    }
                    child.fill(&at)?;
                }
                // Last, so that a read-only folder can still be filled.
                set_mode(path, *mode)
            }
        }
    }
}

fn set_mode(path: &Path, mode: u16) -> io::Result<()> {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(u32::from(mode)))
}
