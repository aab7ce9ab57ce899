//! Which requests fail: counted per kind, planned by number.

use fuser::Errno;
use std::collections::BTreeSet;

/// A fault to inject.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// A write request fails with EIO (nothing written).
    Write,
    /// An fsync or fsyncdir request fails with EIO (see the durability rules).
    Sync,
    /// A write request fails with ENOSPC (nothing written).
    NoSpace,
}

#[derive(Debug, Default)]
pub(crate) struct Faults {
    writes: u64,
    syncs: u64,
    /// Request numbers (1-based, counted since mounting) that fail.
    write_eio: BTreeSet<u64>,
    write_nospace: BTreeSet<u64>,
    sync_eio: BTreeSet<u64>,
    /// Bytes that may still be written before writes fail with ENOSPC.
    budget: Option<u64>,
}

impl Faults {
    pub(crate) fn seen(&self, fault: Fault) -> u64 {
        match fault {
            Fault::Write | Fault::NoSpace => self.writes,
            Fault::Sync => self.syncs,
        }
    }

    /// The `k`-th request of that kind from now (1-based; 0 counts as 1) fails, once.
    pub(crate) fn fail_at(&mut self, fault: Fault, k: u64) {
        let at = self.seen(fault).saturating_add(k.max(1));
        match fault {
            Fault::Write => self.write_eio.insert(at),
            Fault::NoSpace => self.write_nospace.insert(at),
            Fault::Sync => self.sync_eio.insert(at),
        };
    }

    pub(crate) fn fail_after_bytes(&mut self, n: u64) {
        self.budget = Some(n);
    }

    pub(crate) fn clear(&mut self) {
        self.write_eio.clear();
        self.write_nospace.clear();
        self.sync_eio.clear();
        self.budget = None;
    }

    /// Counts a write of `len` bytes and says whether it fails. A write beyond the byte
    /// budget fails whole (a full disk), and so does every later one that does not fit.
    pub(crate) fn on_write(&mut self, len: u64) -> Result<(), Errno> {
        self.writes += 1;
        if self.write_eio.remove(&self.writes) {
            return Err(Errno::EIO);
        }
        if self.write_nospace.remove(&self.writes) {
            return Err(Errno::ENOSPC);
        }
        if let Some(left) = self.budget {
            self.budget = Some(left.checked_sub(len).ok_or(Errno::ENOSPC)?);
        }
        Ok(())
    }

    /// Counts an fsync or fsyncdir and says whether it fails.
    pub(crate) fn on_sync(&mut self) -> Result<(), Errno> {
        self.syncs += 1;
        if self.sync_eio.remove(&self.syncs) {
            return Err(Errno::EIO);
        }
        Ok(())
    }

    /// The bytes left before ENOSPC, if a budget is set (for statfs).
    pub(crate) fn budget(&self) -> Option<u64> {
        self.budget
    }
}
