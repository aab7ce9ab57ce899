//! Full and failing disks (`faults.rs`), in a process of their own and one operation at a time.
//!
//! A flush that a failing disk never lets finish leaves sled's flushing thread waiting while it
//! holds a read share of sled's concurrency control, which is one lock for the whole process:
//! the store refuses further changes then (`storage_failed`), but a transaction of any other
//! store in the same process would wait behind that share for good, and every read after it
//! behind the transaction. Seen once in `make test`: a restore's first write waited on a
//! backup's stuck flush, while the backup's next read waited on the restore. Here nothing else
//! shares the process, and the four operations take turns.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly
#[allow(dead_code)] // the setup helpers; the rest serves the other test binary
mod support;

#[cfg(target_os = "linux")]
mod faults;
