//! The files and folders in memory, and the operations the FUSE requests map to. Every
//! operation answers at once: nothing here waits or does I/O.

use crate::durable::{Entries, FileData, Mode};
use crate::faults::Faults;
use crate::image::Image;
use fuser::{Errno, FileAttr, FileType, INodeNo};
use std::collections::HashMap;
use std::ffi::{OsStr, OsString};
use std::time::SystemTime;

pub(crate) const ROOT: u64 = 1;
/// Files grow no larger (a stray offset must not exhaust memory).
const MAX_FILE: u64 = 1 << 30;
const BLOCK: u64 = 4096;

pub(crate) enum Body {
    File(FileData),
    Dir(Entries),
}

pub(crate) struct Node {
    pub(crate) body: Body,
    pub(crate) mode: Mode,
    uid: u32,
    gid: u32,
    atime: SystemTime,
    mtime: SystemTime,
    ctime: SystemTime,
    /// A folder's live parent (for `..`).
    parent: u64,
    /// Live names that point here (files).
    links: u32,
}

impl Node {
    pub(crate) fn new(body: Body, mode: u16, owner: (u32, u32), time: SystemTime) -> Node {
        Node {
            body,
            mode: Mode::new(mode & 0o7777),
            uid: owner.0,
            gid: owner.1,
            atime: time,
            mtime: time,
            ctime: time,
            parent: ROOT,
            links: 0,
        }
    }
}

/// Which state to read: as the programs see it, or as a power cut would leave it.
#[derive(Clone, Copy)]
pub(crate) enum View {
    Live,
    Durable,
}

pub(crate) struct State {
    nodes: HashMap<u64, Node>,
    next_ino: u64,
    pub(crate) faults: Faults,
    /// Cut off (power cut, unmount): every request fails with EIO at once.
    pub(crate) closed: bool,
}

impl State {
    pub(crate) fn new(root: Node) -> State {
        let mut nodes = HashMap::new();
        nodes.insert(ROOT, root);
        State { nodes, next_ino: ROOT + 1, faults: Faults::default(), closed: false }
    }

    /// Adds `node` to `parent` under `name`, durable at once (copied in from a real folder).
    pub(crate) fn add_durable(&mut self, parent: u64, name: &OsStr, mut node: Node) -> u64 {
        let ino = self.next_ino;
        self.next_ino += 1;
        node.parent = parent;
        node.links = 1;
        self.nodes.insert(ino, node);
        if let Some(Body::Dir(entries)) = self.nodes.get_mut(&parent).map(|n| &mut n.body) {
            entries.insert_durable(name, ino);
        }
        ino
    }

    fn node(&self, ino: u64) -> Result<&Node, Errno> {
        self.nodes.get(&ino).ok_or(Errno::ENOENT)
    }

    fn node_mut(&mut self, ino: u64) -> Result<&mut Node, Errno> {
        self.nodes.get_mut(&ino).ok_or(Errno::ENOENT)
    }

    fn entries(&self, ino: u64) -> Result<&Entries, Errno> {
        match &self.node(ino)?.body {
            Body::Dir(entries) => Ok(entries),
            Body::File(_) => Err(Errno::ENOTDIR),
        }
    }

    fn entries_mut(&mut self, ino: u64) -> Result<&mut Entries, Errno> {
        match &mut self.node_mut(ino)?.body {
            Body::Dir(entries) => Ok(entries),
            Body::File(_) => Err(Errno::ENOTDIR),
        }
    }

    fn file_mut(&mut self, ino: u64) -> Result<&mut FileData, Errno> {
        match &mut self.node_mut(ino)?.body {
            Body::File(data) => Ok(data),
            Body::Dir(_) => Err(Errno::EISDIR),
        }
    }

    pub(crate) fn attr(&self, ino: u64) -> Result<FileAttr, Errno> {
        let node = self.node(ino)?;
        let (kind, size, nlink) = match &node.body {
            Body::File(data) => (FileType::RegularFile, data.live().len() as u64, node.links),
            Body::Dir(_) => (FileType::Directory, BLOCK, 2),
        };
        Ok(FileAttr {
            ino: INodeNo(ino),
            size,
            blocks: size.div_ceil(512),
            atime: node.atime,
            mtime: node.mtime,
            ctime: node.ctime,
            crtime: node.ctime,
            kind,
            perm: node.mode.live,
            nlink,
            uid: node.uid,
            gid: node.gid,
            rdev: 0,
            blksize: BLOCK as u32,
            flags: 0,
        })
    }

    pub(crate) fn lookup(&self, parent: u64, name: &OsStr) -> Result<FileAttr, Errno> {
        let ino = self.entries(parent)?.get(name).ok_or(Errno::ENOENT)?;
        self.attr(ino)
    }

    #[allow(clippy::too_many_arguments)] // the attributes a setattr request may carry
    pub(crate) fn setattr(
        &mut self,
        ino: u64,
        mode: Option<u32>,
        uid: Option<u32>,
        gid: Option<u32>,
        size: Option<u64>,
        atime: Option<SystemTime>,
        mtime: Option<SystemTime>,
    ) -> Result<FileAttr, Errno> {
        if let Some(size) = size {
            if size > MAX_FILE {
                return Err(Errno::EFBIG);
            }
            self.file_mut(ino)?.truncate(size as usize);
        }
        let now = SystemTime::now();
        let node = self.node_mut(ino)?;
        if let Some(mode) = mode {
            node.mode.live = (mode & 0o7777) as u16;
        }
        node.uid = uid.unwrap_or(node.uid);
        node.gid = gid.unwrap_or(node.gid);
        node.atime = atime.unwrap_or(node.atime);
        node.mtime = mtime.unwrap_or(if size.is_some() { now } else { node.mtime });
        node.ctime = now;
        self.attr(ino)
    }

    fn link_new(&mut self, parent: u64, name: &OsStr, mut node: Node) -> Result<u64, Errno> {
        if name.len() > 255 {
            return Err(Errno::ENAMETOOLONG);
        }
        if self.entries(parent)?.get(name).is_some() {
            return Err(Errno::EEXIST);
        }
        let ino = self.next_ino;
        self.next_ino += 1;
        node.parent = parent;
        node.links = 1;
        self.nodes.insert(ino, node);
        self.entries_mut(parent)?.insert(name, ino);
        self.touch(parent);
        Ok(ino)
    }

    fn touch(&mut self, ino: u64) {
        if let Some(node) = self.nodes.get_mut(&ino) {
            let now = SystemTime::now();
            node.mtime = now;
            node.ctime = now;
        }
    }

    /// Opens `name` in `parent`, creating it (an empty file, `mode`) when missing. Error:
    /// EEXIST when it exists and `exclusive`, EISDIR when it is a folder.
    pub(crate) fn create(
        &mut self,
        parent: u64,
        name: &OsStr,
        mode: u16,
        owner: (u32, u32),
        exclusive: bool,
        truncate: bool,
    ) -> Result<FileAttr, Errno> {
        if let Some(ino) = self.entries(parent)?.get(name) {
            if exclusive {
                return Err(Errno::EEXIST);
            }
            let file = self.file_mut(ino)?;
            if truncate {
                file.truncate(0);
            }
            return self.attr(ino);
        }
        let node = Node::new(Body::File(FileData::default()), mode, owner, SystemTime::now());
        let ino = self.link_new(parent, name, node)?;
        self.attr(ino)
    }

    pub(crate) fn mkdir(
        &mut self,
        parent: u64,
        name: &OsStr,
        mode: u16,
        owner: (u32, u32),
    ) -> Result<FileAttr, Errno> {
        let node = Node::new(Body::Dir(Entries::default()), mode, owner, SystemTime::now());
        let ino = self.link_new(parent, name, node)?;
        self.attr(ino)
    }

    fn is_dir(&self, ino: u64) -> Result<bool, Errno> {
        Ok(matches!(self.node(ino)?.body, Body::Dir(_)))
    }

    /// Removes the name `name` from `parent`; the node itself is kept, since a power cut may
    /// bring the name back.
    fn unlink_name(&mut self, parent: u64, name: &OsStr) -> Result<(), Errno> {
        if let Some(ino) = self.entries_mut(parent)?.remove(name) {
            let node = self.node_mut(ino)?;
            node.links = node.links.saturating_sub(1);
            node.ctime = SystemTime::now();
        }
        self.touch(parent);
        Ok(())
    }

    pub(crate) fn unlink(&mut self, parent: u64, name: &OsStr) -> Result<(), Errno> {
        let ino = self.entries(parent)?.get(name).ok_or(Errno::ENOENT)?;
        if self.is_dir(ino)? {
            return Err(Errno::EISDIR);
        }
        self.unlink_name(parent, name)
    }

    pub(crate) fn rmdir(&mut self, parent: u64, name: &OsStr) -> Result<(), Errno> {
        let ino = self.entries(parent)?.get(name).ok_or(Errno::ENOENT)?;
        if !self.entries(ino)?.live().is_empty() {
            return Err(Errno::ENOTEMPTY);
        }
        self.unlink_name(parent, name)
    }

    /// Moves `name` in `parent` to `new_name` in `new_parent`, replacing what is there (a file
    /// by a file, an empty folder by a folder). Error: EEXIST with `no_replace`.
    pub(crate) fn rename(
        &mut self,
        parent: u64,
        name: &OsStr,
        new_parent: u64,
        new_name: &OsStr,
        no_replace: bool,
    ) -> Result<(), Errno> {
        if new_name.len() > 255 {
            return Err(Errno::ENAMETOOLONG);
        }
        let ino = self.entries(parent)?.get(name).ok_or(Errno::ENOENT)?;
        let moving_dir = self.is_dir(ino)?;
        if let Some(old) = self.entries(new_parent)?.get(new_name) {
            if old == ino {
                return Ok(());
            }
            if no_replace {
                return Err(Errno::EEXIST);
            }
            match (moving_dir, self.is_dir(old)?) {
                (true, false) => return Err(Errno::ENOTDIR),
                (false, true) => return Err(Errno::EISDIR),
                (true, true) if !self.entries(old)?.live().is_empty() => {
                    return Err(Errno::ENOTEMPTY)
                }
                _ => {}
            }
        }
        if moving_dir {
            // A folder may not move into itself (the kernel checks too).
            let mut at = new_parent;
            while at != ROOT {
                if at == ino {
                    return Err(Errno::EINVAL);
                }
                at = self.node(at)?.parent;
            }
        }
        self.entries_mut(parent)?.remove(name);
        if let Some(old) = self.entries_mut(new_parent)?.insert(new_name, ino) {
            let node = self.node_mut(old)?;
            node.links = node.links.saturating_sub(1);
        }
        let node = self.node_mut(ino)?;
        node.parent = new_parent;
        node.ctime = SystemTime::now();
        self.touch(parent);
        self.touch(new_parent);
        Ok(())
    }

    pub(crate) fn read(&self, ino: u64, offset: u64, size: u32) -> Result<Vec<u8>, Errno> {
        let data = match &self.node(ino)?.body {
            Body::File(data) => data.live(),
            Body::Dir(_) => return Err(Errno::EISDIR),
        };
        let start = usize::try_from(offset).unwrap_or(usize::MAX).min(data.len());
        let end = start.saturating_add(size as usize).min(data.len());
        Ok(data[start..end].to_vec())
    }

    /// Writes `data` at `offset` (at the end with `append`), unless a fault says otherwise.
    pub(crate) fn write(
        &mut self,
        ino: u64,
        offset: u64,
        data: &[u8],
        append: bool,
    ) -> Result<u32, Errno> {
        let file = self.file_mut(ino)?;
        let offset = if append { file.live().len() as u64 } else { offset };
        if offset.saturating_add(data.len() as u64) > MAX_FILE {
            return Err(Errno::EFBIG);
        }
        self.faults.on_write(data.len() as u64)?;
        self.file_mut(ino)?.write(offset as usize, data);
        self.touch(ino);
        u32::try_from(data.len()).map_err(|_| Errno::EINVAL)
    }

    /// An fsync (file) or fsyncdir (folder): see the durability rules in `durable.rs`.
    pub(crate) fn sync(&mut self, ino: u64) -> Result<(), Errno> {
        self.node(ino)?;
        let failed = self.faults.on_sync();
        let node = self.node_mut(ino)?;
        match (&mut node.body, failed) {
            (Body::File(data), Ok(())) => data.synced(),
            (Body::File(data), Err(_)) => data.sync_failed(),
            (Body::Dir(entries), Ok(())) => entries.synced(),
            (Body::Dir(_), Err(_)) => {}
        }
        if failed.is_ok() {
            node.mode.synced();
        }
        failed
    }

    /// `.`, `..` and the live entries of folder `ino`.
    pub(crate) fn list(&self, ino: u64) -> Result<Vec<(u64, FileType, OsString)>, Errno> {
        let entries = self.entries(ino)?;
        let mut list = vec![
            (ino, FileType::Directory, OsString::from(".")),
            (self.node(ino)?.parent, FileType::Directory, OsString::from("..")),
        ];
        for (name, &child) in entries.live() {
            let kind =
                if self.is_dir(child)? { FileType::Directory } else { FileType::RegularFile };
            list.push((child, kind, name.clone()));
        }
        Ok(list)
    }

    /// (blocks, free blocks, files) for statfs: free space follows the byte budget if set.
    pub(crate) fn usage(&self) -> (u64, u64, u64) {
        let total = MAX_FILE / BLOCK * 4;
        let used: u64 = self
            .nodes
            .values()
            .map(|n| match &n.body {
                Body::File(data) => (data.live().len() as u64).div_ceil(BLOCK),
                Body::Dir(_) => 1,
            })
            .sum();
        let free = total.saturating_sub(used);
        let free = self.faults.budget().map_or(free, |b| free.min(b / BLOCK));
        (total, free, self.nodes.len() as u64)
    }

    /// The whole tree as `view` has it, for writing out as a real folder.
    pub(crate) fn image(&self, view: View) -> Image {
        self.image_of(ROOT, view, &mut Vec::new())
    }

    fn image_of(&self, ino: u64, view: View, path: &mut Vec<u64>) -> Image {
        let Some(node) = self.nodes.get(&ino) else {
            return Image::File { mode: 0o600, data: Vec::new() };
        };
        let mode = match view {
            View::Live => node.mode.live,
            View::Durable => node.mode.durable,
        };
        match &node.body {
            Body::File(data) => {
                let data = match view {
                    View::Live => data.live(),
                    View::Durable => data.saved(),
                };
                Image::File { mode, data: data.to_vec() }
            }
            Body::Dir(entries) => {
                let names = match view {
                    View::Live => entries.live(),
                    View::Durable => entries.saved(),
                };
                path.push(ino);
                let mut children = Vec::new();
                for (name, &child) in names {
                    // Folders fsynced in one order and moved in another can leave a cycle
                    // in the durable view; a cut keeps the first path to a folder.
                    if !path.contains(&child) {
                        children.push((name.clone(), self.image_of(child, view, path)));
                    }
                }
                path.pop();
                Image::Dir { mode, entries: children }
            }
        }
    }
}
