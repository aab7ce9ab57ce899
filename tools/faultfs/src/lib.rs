//! faultfs: a FUSE filesystem for tests. It keeps its files in memory, injects faults on
//! request (EIO on a write or an fsync, ENOSPC after a byte budget), and can cut the power:
//! write out only what a real disk would have kept (the rules are in `durable.rs`) and answer
//! every later request with EIO at once.
//!
//! Mounting needs `/dev/fuse` and either root or `fusermount3`; no libfuse is linked. No wait
//! here is without a deadline: a test using faultfs fails, it never hangs. Linux only.
#![cfg(target_os = "linux")]

mod durable;
mod faults;
mod fs;
mod image;
mod mount;
mod tree;

pub use faults::Fault;

use fuser::SessionUnmounter;
use mount::{detach, finish_within};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{mpsc, Arc, Mutex, MutexGuard, OnceLock, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;
use tree::{State, View};

/// How long mounting may take before it is given up.
const MOUNT_DEADLINE: Duration = Duration::from_secs(20);
/// How long an unmount may take before the mount is left detached.
const UNMOUNT_DEADLINE: Duration = Duration::from_secs(10);
/// How long the request loop may take to end after an unmount (it runs on, answering EIO,
/// while a program still holds a file open in a lazily unmounted mount).
const SESSION_END_DEADLINE: Duration = Duration::from_secs(2);

/// A mounted faultfs. Dropping it unmounts (lazily if busy) without blocking for long.
pub struct FaultFs {
    state: Arc<Mutex<State>>,
    mountpoint: PathBuf,
    unmounter: Option<SessionUnmounter>,
    session: Option<JoinHandle<io::Result<()>>>,
    /// The kernel's number for this mount's connection, aborted when it closes.
    connection: Option<u32>,
}

impl std::fmt::Debug for FaultFs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FaultFs").field("mountpoint", &self.mountpoint).finish_non_exhaustive()
    }
}

impl FaultFs {
    /// Copies the folder `source` (recursively; may be empty or missing = empty) into memory,
    /// as durable state, and mounts it at a new private temporary mount point. Error: the
    /// source cannot be read, or FUSE cannot mount (see [`FaultFs::available_for_tests`]).
    pub fn mount(source: &Path) -> io::Result<FaultFs> {
        let mountpoint = tempfile::Builder::new().prefix("faultfs-").tempdir()?.keep();
        let state = match image::load(source, &mountpoint) {
            Ok(state) => Arc::new(Mutex::new(state)),
            Err(e) => {
                let _ = std::fs::remove_dir(&mountpoint);
                return Err(e);
            }
        };
        mount::sweep_dead_mounts();
        let started = mount::start(&state, &mountpoint);
        match started {
            Ok((unmounter, session)) => Ok(FaultFs {
                connection: mount::connection_of(&mountpoint).ok(),
                state,
                mountpoint,
                unmounter: Some(unmounter),
                session: Some(session),
            }),
            Err(e) => {
                let _ = std::fs::remove_dir(&mountpoint);
                Err(e)
            }
        }
    }

    /// The mount point.
    pub fn path(&self) -> &Path {
        &self.mountpoint
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// From now on, writes fail with ENOSPC once `n` more bytes have been written: a write
    /// that does not fit in what is left fails whole (until [`FaultFs::clear_faults`]).
    pub fn fail_after_bytes(&self, n: u64) {
        self.state().faults.fail_after_bytes(n);
    }

    /// The next request of that kind fails (once).
    pub fn fail_next(&self, fault: Fault) {
        self.fail_at(fault, 1);
    }

    /// The `k`-th request of that kind from now (1-based) fails (once). Writes count for
    /// [`Fault::Write`] and [`Fault::NoSpace`], fsync and fsyncdir for [`Fault::Sync`].
    pub fn fail_at(&self, fault: Fault, k: u64) {
        self.state().faults.fail_at(fault, k);
    }

    /// Forgets every planned fault and the byte budget.
    pub fn clear_faults(&self) {
        self.state().faults.clear();
    }

    /// How many requests of that kind so far, failed ones included: writes for
    /// [`Fault::Write`] and [`Fault::NoSpace`], fsync + fsyncdir for [`Fault::Sync`]. A
    /// `write(2)` larger than the kernel's request size (128 KiB or more) counts several.
    pub fn seen(&self, fault: Fault) -> u64 {
        self.state().faults.seen(fault)
    }

    /// Cuts the power: atomically takes the durable state, and from that instant answers
    /// every request with EIO at once; writes the durable state as a real folder at `image`
    /// (created; it must not exist or be empty); then unmounts (lazily if busy). A process
    /// still using the mount gets errors, never a hang. Error: `image` cannot be written.
    pub fn cut_power(mut self, image: &Path) -> io::Result<()> {
        let durable = {
            let mut state = self.state();
            state.closed = true;
            state.image(View::Durable)
        };
        let written = durable.write_to(image);
        self.close();
        written
    }

    /// A clean unmount: writes the live state to `out` as a real folder (as
    /// [`FaultFs::cut_power`] does the durable one).
    pub fn unmount(mut self, out: &Path) -> io::Result<()> {
        let live = {
            let mut state = self.state();
            state.closed = true;
            state.image(View::Live)
        };
        self.close();
        live.write_to(out)
    }

    /// Closes the tree (every request EIO) and unmounts: normally when nothing is open,
    /// lazily otherwise; each step has a deadline. Idempotent.
    fn close(&mut self) {
        self.state().closed = true;
        // A file still open on the mount (a store left unclosed on a failed disk) would hang
        // this process's exit: the connection is aborted, so that closing it fails at once.
        // First, while the mount holds it: once unmounted its number may go to another mount.
        if let Some(id) = self.connection.take() {
            mount::abort(id);
        }
        let Some(mut unmounter) = self.unmounter.take() else { return };
        let at = self.mountpoint.clone();
        let (tx, rx) = mpsc::channel();
        let unmounting =
            std::thread::Builder::new().name("faultfs-unmount".into()).spawn(move || {
                // Root unmounts directly (refused while a program has a file open); then
                // fuser lets go of its mount; whatever is still mounted is detached lazily.
                let clean = rustix::mount::unmount(&at, rustix::mount::UnmountFlags::empty());
                let _ = unmounter.unmount();
                detach(&at);
                let _ = tx.send(clean.is_ok());
            });
        if unmounting.is_err() {
            detach(&self.mountpoint);
        }
        match rx.recv_timeout(UNMOUNT_DEADLINE) {
            // The request loop ends once the kernel lets go of the mount.
            Ok(true) => {
                if let Some(session) = self.session.take() {
                    finish_within(session, SESSION_END_DEADLINE);
                }
                let _ = std::fs::remove_dir(&self.mountpoint);
            }
            // Detached: the loop answers EIO until the last file open in it is closed, then
            // ends by itself; nobody waits for it.
            Ok(false) => {
                let _ = std::fs::remove_dir(&self.mountpoint);
            }
            Err(_) => {}
        }
    }

    /// Whether FUSE can be used here (tried once: a mount, a write, a read, an unmount).
    /// When it cannot: with `GATEHOUSE_REQUIRE_FUSE=1` this panics with the reason, so that
    /// CI fails loudly; otherwise it prints `skipped: FUSE unavailable: <why>` to stderr and
    /// returns false.
    #[allow(clippy::panic)] // failing the calling test is the point of GATEHOUSE_REQUIRE_FUSE
    pub fn available_for_tests() -> bool {
        static PROBE: OnceLock<Result<(), String>> = OnceLock::new();
        match PROBE.get_or_init(probe) {
            Ok(()) => true,
            Err(why) if std::env::var("GATEHOUSE_REQUIRE_FUSE").as_deref() == Ok("1") => {
                panic!("GATEHOUSE_REQUIRE_FUSE=1, but FUSE cannot be used here: {why}")
            }
            Err(why) => {
                eprintln!("skipped: FUSE unavailable: {why}");
                false
            }
        }
    }
}

impl Drop for FaultFs {
    fn drop(&mut self) {
        self.close();
    }
}

fn probe() -> Result<(), String> {
    if !Path::new("/dev/fuse").exists() {
        return Err("/dev/fuse does not exist (no FUSE module, or a container without it)".into());
    }
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/fuse")
        .map_err(|e| format!("/dev/fuse cannot be opened: {e}"))?;
    let scratch = tempfile::tempdir().map_err(|e| format!("no temporary folder: {e}"))?;
    let fs = FaultFs::mount(&scratch.path().join("missing"))
        .map_err(|e| format!("mounting failed: {e}"))?;
    // Its connection must be abortable (see `mount::abort`): otherwise a test that leaves a
    // file open on a cut-off mount would hang at exit instead of failing.
    let id = mount::connection_of(fs.path()).map_err(|e| format!("finding its connection: {e}"))?;
    let folder = mount::connection_folder(id)
        .map_err(|e| format!("FUSE connections cannot be aborted (mounting fusectl: {e})"))?;
    if !folder.join("abort").exists() {
        return Err(format!("FUSE connections cannot be aborted: no {}", folder.display()));
    }
    let file = fs.path().join("probe");
    std::fs::write(&file, b"faultfs").map_err(|e| format!("writing through the mount: {e}"))?;
    match std::fs::read(&file) {
        Ok(bytes) if bytes == b"faultfs" => {}
        Ok(_) => return Err("reading through the mount gave other bytes".into()),
        Err(e) => return Err(format!("reading through the mount: {e}")),
    }
    fs.unmount(&scratch.path().join("out")).map_err(|e| format!("unmounting: {e}"))
}
