//! What survives a power cut. Each file and folder keeps its live state beside the state a
//! cut would leave:
//!
//! - a file's bytes and size survive as of its last good `fsync`;
//! - a folder's entries (creations, renames in and out, unlinks, mkdir, rmdir) survive as of
//!   its last good `fsyncdir`: a file fsynced in a folder never fsynced is gone;
//! - a failed `fsync` loses the writes it was meant to save, as on Linux, which marks those
//!   pages clean: neither it nor a later good `fsync` saves them. Bytes written after the
//!   failure are saved by the next good `fsync`;
//! - a mode survives with the next good sync of its file or folder.
//!
//! The model is byte-granular: a file remembers which bytes changed since the last fsync,
//! good or failed, and a good one copies exactly those.

use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};
use std::ops::Range;

/// A file's bytes, live and as a power cut would leave them.
#[derive(Clone, Debug, Default)]
pub(crate) struct FileData {
    live: Vec<u8>,
    durable: Vec<u8>,
    /// The byte ranges of `live` changed since the last fsync, good or failed.
    dirty: Vec<Range<usize>>,
}

impl FileData {
    /// A file whose bytes are already durable (copied in from a real folder).
    pub(crate) fn durable(bytes: Vec<u8>) -> FileData {
        FileData { durable: bytes.clone(), live: bytes, dirty: Vec::new() }
    }

    pub(crate) fn live(&self) -> &[u8] {
        &self.live
    }

    pub(crate) fn saved(&self) -> &[u8] {
        &self.durable
    }

    pub(crate) fn write(&mut self, offset: usize, data: &[u8]) {
        let end = offset + data.len();
        if self.live.len() < end {
            let old = self.live.len();
            self.live.resize(end, 0);
            self.touch(old..offset.max(old)); // a hole reads as zeros, and is new
        }
        self.live[offset..end].copy_from_slice(data);
        self.touch(offset..end);
    }

    pub(crate) fn truncate(&mut self, len: usize) {
        let old = self.live.len();
        self.live.resize(len, 0);
        // Shrinking then growing again must not bring old durable bytes back.
        self.touch(old.min(len)..old.max(len));
    }

    /// A good fsync: the size and the bytes changed since the last fsync become durable.
    pub(crate) fn synced(&mut self) {
        self.durable.resize(self.live.len(), 0);
        for range in self.dirty.drain(..) {
            let end = range.end.min(self.live.len());
            if range.start < end {
                self.durable[range.start..end].copy_from_slice(&self.live[range.start..end]);
            }
        }
    }

    /// A failed fsync: the bytes it was to save are marked clean without being saved.
    pub(crate) fn sync_failed(&mut self) {
        self.dirty.clear();
    }

    fn touch(&mut self, range: Range<usize>) {
        if range.is_empty() {
            return;
        }
        // Sequential writes (a log) coalesce into one range.
        if let Some(last) = self.dirty.last_mut() {
            if range.start <= last.end && last.start <= range.end {
                *last = last.start.min(range.start)..last.end.max(range.end);
                return;
            }
        }
        self.dirty.push(range);
        if self.dirty.len() > 1024 {
            self.dirty.sort_by_key(|r| r.start);
            let mut merged: Vec<Range<usize>> = Vec::with_capacity(self.dirty.len());
            for r in self.dirty.drain(..) {
                match merged.last_mut() {
                    Some(last) if r.start <= last.end => last.end = last.end.max(r.end),
                    _ => merged.push(r),
                }
            }
            self.dirty = merged;
        }
    }
}

/// A folder's entries (name to inode number), live and as a power cut would leave them.
#[derive(Clone, Debug, Default)]
pub(crate) struct Entries {
    live: BTreeMap<OsString, u64>,
    durable: BTreeMap<OsString, u64>,
}

impl Entries {
    pub(crate) fn live(&self) -> &BTreeMap<OsString, u64> {
        &self.live
    }

    pub(crate) fn saved(&self) -> &BTreeMap<OsString, u64> {
        &self.durable
    }

    pub(crate) fn get(&self, name: &OsStr) -> Option<u64> {
        self.live.get(name).copied()
    }

    /// Links `name` to `ino`, returning what it replaced.
    pub(crate) fn insert(&mut self, name: &OsStr, ino: u64) -> Option<u64> {
        self.live.insert(name.to_os_string(), ino)
    }

    pub(crate) fn remove(&mut self, name: &OsStr) -> Option<u64> {
        self.live.remove(name)
    }

    /// An entry copied in from a real folder: durable already.
    pub(crate) fn insert_durable(&mut self, name: &OsStr, ino: u64) {
        self.live.insert(name.to_os_string(), ino);
        self.durable.insert(name.to_os_string(), ino);
    }

    /// A good fsyncdir: the entries as they are now become durable. A failed one changes
    /// nothing: the entries stay pending for the next good one.
    pub(crate) fn synced(&mut self) {
        self.durable = self.live.clone();
    }
}

/// A permission mode, live and as a power cut would leave it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Mode {
    pub(crate) live: u16,
    pub(crate) durable: u16,
}

impl Mode {
    pub(crate) fn new(mode: u16) -> Mode {
        Mode { live: mode, durable: mode }
    }

    pub(crate) fn synced(&mut self) {
        self.durable = self.live;
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn file(bytes: &[u8]) -> FileData {
        FileData::durable(bytes.to_vec())
    }

    #[test]
    fn a_write_survives_only_once_fsynced() {
        let mut f = file(b"old");
        f.write(3, b" and new");
        assert_eq!(f.live(), b"old and new");
        assert_eq!(f.saved(), b"old", "not yet fsynced");
        f.synced();
        assert_eq!(f.saved(), b"old and new");
    }

    #[test]
    fn the_size_survives_as_of_the_last_fsync() {
        let mut f = file(b"0123456789");
        f.truncate(4);
        assert_eq!(f.saved(), b"0123456789");
        f.synced();
        assert_eq!(f.saved(), b"0123");
        f.truncate(6);
        f.synced();
        assert_eq!(f.saved(), b"0123\0\0", "growing again does not bring old bytes back");
    }

    #[test]
    fn shrinking_and_growing_between_fsyncs_leaves_zeros() {
        let mut f = file(b"0123456789");
        f.truncate(2);
        f.write(8, b"xy");
        f.synced();
        assert_eq!(f.saved(), b"01\0\0\0\0\0\0xy");
    }

    #[test]
    fn a_failed_fsync_loses_its_writes_even_after_a_later_good_one() {
        let mut f = file(b"aaaa");
        f.write(0, b"bb");
        f.sync_failed();
        assert_eq!(f.saved(), b"aaaa");
        f.synced();
        assert_eq!(f.saved(), b"aaaa", "the pages were marked clean");
        assert_eq!(f.live(), b"bbaa", "yet the live file still reads them");
    }

    #[test]
    fn bytes_written_after_a_failed_fsync_are_saved_by_the_next_good_one() {
        let mut f = file(b"aaaa");
        f.write(0, b"b");
        f.sync_failed();
        f.write(2, b"c");
        f.synced();
        assert_eq!(f.saved(), b"aaca", "the lost byte stays old, the new one is saved");
        // Rewriting a lost byte makes it dirty again: the next good fsync saves it.
        f.write(0, b"b");
        f.synced();
        assert_eq!(f.saved(), b"baca");
    }

    #[test]
    fn an_append_after_a_failed_fsync_keeps_the_lost_bytes_as_zeros() {
        let mut f = file(b"");
        f.write(0, b"lost");
        f.sync_failed();
        f.write(4, b"kept");
        f.synced();
        assert_eq!(f.saved(), b"\0\0\0\0kept", "the size is saved, not the clean bytes");
    }

    #[test]
    fn many_scattered_writes_coalesce_and_all_survive_a_good_fsync() {
        let mut f = file(&[0; 8192]);
        for i in (0..8192).step_by(3) {
            f.write(i, &[1]);
        }
        f.synced();
        assert_eq!(f.saved(), f.live());
    }

    #[test]
    fn entries_survive_as_of_the_last_fsyncdir() {
        let mut d = Entries::default();
        d.insert_durable(OsStr::new("kept"), 2);
        d.insert(OsStr::new("new"), 3);
        d.remove(OsStr::new("kept"));
        assert_eq!(d.saved().keys().collect::<Vec<_>>(), [OsStr::new("kept")]);
        d.synced();
        assert_eq!(d.saved().keys().collect::<Vec<_>>(), [OsStr::new("new")]);
    }

    #[test]
    fn a_rename_over_an_entry_survives_only_with_the_fsyncdir() {
        let mut d = Entries::default();
        d.insert_durable(OsStr::new("conf"), 2);
        d.insert(OsStr::new("conf.tmp"), 3);
        let moved = d.remove(OsStr::new("conf.tmp")).unwrap();
        assert_eq!(d.insert(OsStr::new("conf"), moved), Some(2));
        assert_eq!(d.saved().get(OsStr::new("conf")), Some(&2), "the old file until fsyncdir");
        d.synced();
        assert_eq!(d.saved().get(OsStr::new("conf")), Some(&3));
        assert_eq!(d.saved().len(), 1);
    }

    #[test]
    fn a_mode_survives_with_the_next_sync() {
        let mut m = Mode::new(0o644);
        m.live = 0o600;
        assert_eq!(m.durable, 0o644);
        m.synced();
        assert_eq!(m.durable, 0o600);
    }
}
