//! Mounting and unmounting, each with a deadline, and the sweep of mounts a killed process
//! left behind.

use crate::tree::State;
use crate::{fs, MOUNT_DEADLINE, UNMOUNT_DEADLINE};
use fuser::{Config, MountOption, Session, SessionUnmounter};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{mpsc, Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

pub(crate) type Started = (SessionUnmounter, JoinHandle<io::Result<()>>);

/// Mounts a request loop over `state` at `at`. The mount and its handshake with the kernel
/// happen on the loop's own thread, so that a mount that never answers is given up after a
/// deadline (TimedOut).
pub(crate) fn start(state: &Arc<Mutex<State>>, at: &Path) -> io::Result<Started> {
    let server = fs::Server { state: state.clone() };
    let mut config = Config::default();
    config.mount_options = vec![
        MountOption::FSName("faultfs".into()),
        MountOption::Subtype("faultfs".into()),
        MountOption::DefaultPermissions,
        MountOption::NoAtime,
    ];
    let (tx, rx) = mpsc::sync_channel(1);
    let mountpoint = at.to_path_buf();
    let session = std::thread::Builder::new().name("faultfs".into()).spawn(move || {
        let mut session = match Session::new(server, &mountpoint, &config) {
            Ok(session) => session,
            Err(e) => {
                let _ = tx.send(Err(e));
                return Ok(());
            }
        };
        let _ = tx.send(Ok(session.unmount_callable()));
        session.run()
    })?;
    match rx.recv_timeout(MOUNT_DEADLINE) {
        Ok(Ok(unmounter)) => Ok((unmounter, session)),
        Ok(Err(e)) => Err(e),
        Err(_) => {
            detach(at);
            Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("mounting faultfs at {} took over {MOUNT_DEADLINE:?}", at.display()),
            ))
        }
    }
}

/// Unmounts the faultfs mounts whose process died without unmounting (SIGKILL, Ctrl-C): the
/// kernel answers ENOTCONN for them. A live mount is left alone; each look has a deadline.
pub(crate) fn sweep_dead_mounts() {
    for at in faultfs_mounts() {
        let (tx, rx) = mpsc::channel();
        let look = at.clone();
        let spawned = std::thread::Builder::new().name("faultfs-sweep".into()).spawn(move || {
            let _ = tx.send(std::fs::metadata(&look).err().and_then(|e| e.raw_os_error()));
        });
        let dead =
            spawned.is_ok() && rx.recv_timeout(Duration::from_secs(2)) == Ok(Some(libc::ENOTCONN));
        if dead {
            detach(&at);
            let _ = std::fs::remove_dir(&at);
        }
    }
}

/// The mount points of faultfs mounts in this mount namespace.
fn faultfs_mounts() -> Vec<PathBuf> {
    let Ok(table) = std::fs::read_to_string("/proc/self/mountinfo") else { return Vec::new() };
    table
        .lines()
        .filter_map(|line| {
            // "<id> <parent> <dev> <root> <mount point> <options> [optional...] - <type>
            // <source> <options>": the type is fuse (fuse.faultfs through fusermount3).
            let (before, after) = line.split_once(" - ")?;
            let at = PathBuf::from(unescape(before.split(' ').nth(4)?));
            let mut after = after.split(' ');
            let ours = after.next()?.starts_with("fuse")
                && after.next()? == "faultfs"
                && at.file_name()?.to_str()?.starts_with("faultfs-");
            ours.then_some(at)
        })
        .collect()
}

/// A mountinfo path: space, tab, newline and backslash are written as octal escapes.
fn unescape(field: &str) -> String {
    field.replace("\\040", " ").replace("\\011", "\t").replace("\\012", "\n").replace("\\134", "\\")
}

/// Unmounts `at` lazily: it leaves the namespace at once, and its request loop ends once the
/// last file open in it is closed. Root does it directly, others through `fusermount3 -uz`.
pub(crate) fn detach(at: &Path) {
    // Done, or not mounted (any more), unless only a setuid helper may unmount.
    if let Err(rustix::io::Errno::PERM) =
        rustix::mount::unmount(at, rustix::mount::UnmountFlags::DETACH)
    {
        for tool in ["fusermount3", "fusermount"] {
            if run_within(tool, at, UNMOUNT_DEADLINE) {
                return;
            }
        }
    }
}

/// Runs `tool -u -z -- at`, killed after `deadline`. Whether it succeeded.
fn run_within(tool: &str, at: &Path, deadline: Duration) -> bool {
    let Ok(mut child) = std::process::Command::new(tool)
        .args(["-u", "-z", "--"])
        .arg(at)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
    else {
        return false;
    };
    let start = Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return status.success(),
            Ok(None) if start.elapsed() < deadline => std::thread::sleep(Duration::from_millis(10)),
            _ => {
                let _ = child.kill();
                let _ = child.wait(); // killed: returns at once
                return false;
            }
        }
    }
}

/// Joins `thread` if it ends within `deadline`; otherwise leaves it running, detached.
pub(crate) fn finish_within<T>(thread: JoinHandle<T>, deadline: Duration) {
    let start = Instant::now();
    while !thread.is_finished() && start.elapsed() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    if thread.is_finished() {
        let _ = thread.join();
    }
}

/// Where the kernel lists FUSE connections (the `fusectl` filesystem).
const CONNECTIONS: &str = "/sys/fs/fuse/connections";

/// The kernel's number for the FUSE connection mounted at `at` (the minor of its device).
pub(crate) fn connection_of(at: &Path) -> io::Result<u32> {
    Ok(rustix::fs::minor(rustix::fs::stat(at)?.st_dev))
}

/// The folder of FUSE connection `id`, with `fusectl` mounted first if it is not (root).
pub(crate) fn connection_folder(id: u32) -> io::Result<PathBuf> {
    let folder = Path::new(CONNECTIONS).join(id.to_string());
    if !folder.exists() {
        let mounted = std::fs::read_to_string("/proc/self/mountinfo")
            .is_ok_and(|table| table.lines().any(|l| l.contains(" - fusectl ")));
        if !mounted {
            rustix::mount::mount(
                "fusectl",
                CONNECTIONS,
                "fusectl",
                rustix::mount::MountFlags::empty(),
                None,
            )?;
        }
    }
    Ok(folder)
}

/// Aborts FUSE connection `id`: every request still waiting, and every later one, fails at
/// once (ENOTCONN). Without it a file left open on a cut-off mount hangs its process's exit:
/// closing the file sends a FLUSH that no request loop will ever answer (the loop's threads
/// are gone by then). Nothing when the connection has already ended.
pub(crate) fn abort(id: u32) {
    if let Ok(folder) = connection_folder(id) {
        if folder.exists() {
            let _ = std::fs::write(folder.join("abort"), b"1");
        }
    }
}
