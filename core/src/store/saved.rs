//! The record of what the store has acknowledged, kept outside sled: the audit head (sequence
//! number and hash) reached by the last change reported done. It is written after sled's log
//! is fsync'd, durably (a temporary file, fsync, rename, fsync of the folder), so that a store
//! which opens holding less than it acknowledged (sled went back to an older state after a
//! power cut, or opened empty) is noticed and refused instead of being used or set up again.

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The file, inside the store's folder: a restore replaces it along with the store.
const FILE: &str = "acknowledged";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Record {
    pub seq: u64,
    pub hash: String,
}

impl Record {
    /// The record in the store folder `dir`, if any. Error: `store_damaged` when it cannot be
    /// read as one (a record that could be ignored could be deleted to the same effect).
    pub fn read(dir: &Path) -> Result<Option<Record>> {
        match std::fs::read(dir.join(FILE)) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|_| Error::StoreDamaged("its record of saved changes")),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(crate::error::storage(&e)),
        }
    }

    /// Replaces the record in `dir` durably. Errors: `disk_full`, `storage_failed`.
    pub fn write(&self, dir: &Path) -> Result<()> {
        let bytes = serde_json::to_vec(self).map_err(|e| Error::internal("the saved record", e))?;
        crate::files::replace_durably(&dir.join(FILE), &bytes)
            .map_err(|e| crate::error::storage(&e))
    }

    /// Whether a store whose audit log reaches `head`, and whose event `self.seq` has the hash
    /// `hash_at_saved` (None: no such event), holds everything this record acknowledged.
    /// Errors: `store_behind` when it holds less, or another history from the same start.
    pub fn held_by(&self, head: u64, hash_at_saved: Option<&str>) -> Result<()> {
        if head < self.seq {
            return Err(Error::StoreBehind { saved: self.seq, found: head });
        }
        match hash_at_saved {
            Some(hash) if hash == self.hash => Ok(()),
            _ => Err(Error::StoreDiverged(self.seq)),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn record(seq: u64) -> Record {
        Record { seq, hash: format!("h{seq}") }
    }

    #[test]
    fn a_store_at_or_past_the_record_holds_it() {
        assert!(record(5).held_by(5, Some("h5")).is_ok());
        assert!(record(5).held_by(9, Some("h5")).is_ok());
        assert!(record(0).held_by(0, Some("h0")).is_ok());
    }

    #[test]
    fn a_store_behind_or_on_another_history_does_not() {
        assert!(matches!(
            record(5).held_by(4, None),
            Err(Error::StoreBehind { saved: 5, found: 4 })
        ));
        assert!(matches!(record(5).held_by(0, None), Err(Error::StoreBehind { found: 0, .. })));
        assert!(matches!(record(5).held_by(7, Some("other")), Err(Error::StoreDiverged(5))));
        assert!(matches!(record(5).held_by(7, None), Err(Error::StoreDiverged(5))));
        assert!(matches!(record(u64::MAX).held_by(3, None), Err(Error::StoreBehind { .. })));
    }

    #[test]
    fn it_is_read_back_as_written_and_a_damaged_one_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        assert_eq!(Record::read(tmp.path()).unwrap(), None);
        record(42).write(tmp.path()).unwrap();
        assert_eq!(Record::read(tmp.path()).unwrap(), Some(record(42)));
        record(43).write(tmp.path()).unwrap();
        assert_eq!(Record::read(tmp.path()).unwrap(), Some(record(43)));
        // Only the record is left in the folder: no temporary file stays behind.
        let names: Vec<_> = std::fs::read_dir(tmp.path()).unwrap().flatten().collect();
        assert_eq!(names.len(), 1);
        std::fs::write(tmp.path().join(FILE), b"{\"seq\":").unwrap();
        assert!(matches!(Record::read(tmp.path()), Err(Error::StoreDamaged(_))));
    }
}
