//! Power-cut test: as the crash test (`crash.rs`), a child process applies random changes and
//! reports each one that succeeded, but the store lives on faultfs and the power is cut at a
//! jittered moment: what survives is only what was fsynced (file data) and what its folder
//! fsync made durable (entries). After every cut the store must open, pass `verify()`, and
//! hold every acknowledged change; the image the cut left is where the next round starts.
//! `GATEHOUSE_POWER_CUTS` sets the number of cuts (50 by default). A watchdog ends the test
//! (and its mount and worker) after 20 minutes, so that it can never hang CI.

use crate::crash::{apply, compare, jitter, new_store, reports, Difference, Expected, OWNER};
use faultfs::FaultFs;
use gatehouse_core::model::UserView;
use gatehouse_core::{Directory, SystemClock};
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{mpsc, Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

const WHOLE_TEST: Duration = Duration::from_secs(20 * 60);
const READY: Duration = Duration::from_secs(60);
const WORKER_EXIT: Duration = Duration::from_secs(10);
const SLED_LETS_GO: Duration = Duration::from_secs(10);

/// What the test is doing, the mount it uses and its worker: for the watchdog.
static DOING: Mutex<String> = Mutex::new(String::new());
static MOUNTED: Mutex<Option<PathBuf>> = Mutex::new(None);
static WORKER: Mutex<Option<u32>> = Mutex::new(None);

fn doing(what: String) {
    *DOING.lock().unwrap_or_else(PoisonError::into_inner) = what;
}

/// Ends the process after `limit` unless dropped first (the test ended, or panicked): it
/// says what the test was doing, kills the worker and detaches the mount on its way out.
struct Watchdog {
    _stop: mpsc::Sender<()>,
}

fn watchdog(limit: Duration) -> Watchdog {
    let (tx, rx) = mpsc::channel::<()>();
    std::thread::spawn(move || {
        if rx.recv_timeout(limit) != Err(mpsc::RecvTimeoutError::Timeout) {
            return;
        }
        let doing = DOING.lock().unwrap_or_else(PoisonError::into_inner).clone();
        eprintln!("powercut: FAILED, still running after {limit:?}, while {doing}");
        if let Some(pid) = *WORKER.lock().unwrap_or_else(PoisonError::into_inner) {
            if let Some(pid) = rustix::process::Pid::from_raw(pid as i32) {
                let _ = rustix::process::kill_process(pid, rustix::process::Signal::KILL);
            }
        }
        if let Some(at) = MOUNTED.lock().unwrap_or_else(PoisonError::into_inner).clone() {
            for (tool, args) in [("fusermount3", ["-u", "-z"]), ("umount", ["-l", "--"])] {
                if let Ok(mut child) = Command::new(tool).args(args).arg(&at).spawn() {
                    if wait_within(&mut child, Duration::from_secs(5)) == Some(true) {
                        break;
                    }
                }
            }
        }
        std::process::exit(1);
    });
    Watchdog { _stop: tx }
}

/// Waits up to `limit` for `child`: whether it succeeded, or None (still running).
fn wait_within(child: &mut Child, limit: Duration) -> Option<bool> {
    let start = Instant::now();
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return Some(status.success());
        }
        if start.elapsed() > limit {
            return None;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// The crash worker on the store in `store`, killed when dropped.
struct Worker {
    child: Child,
    lines: mpsc::Receiver<String>,
    stderr: Arc<Mutex<String>>,
}

impl Worker {
    fn start(store: &Path, seed: u64) -> Worker {
        let mut child = Command::new(env!("CARGO_BIN_EXE_gatehouse-crash-worker"))
            .arg(store)
            .args([OWNER, &seed.to_string()])
            .env("GATEHOUSE_PASSWORD", crate::crash::PASSWORD)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start the crash worker");
        *WORKER.lock().unwrap_or_else(PoisonError::into_inner) = Some(child.id());
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        // Kept for a failure's message: after a cut the worker's errors are expected noise.
        let stderr = Arc::new(Mutex::new(String::new()));
        let (mut pipe, sink) = (child.stderr.take().unwrap(), stderr.clone());
        std::thread::spawn(move || {
            let mut buf = [0; 4096];
            while let Ok(n @ 1..) = pipe.read(&mut buf) {
                let mut s = sink.lock().unwrap_or_else(PoisonError::into_inner);
                if s.len() < 16_384 {
                    s.push_str(&String::from_utf8_lossy(&buf[..n]));
                }
            }
        });
        Worker { child, lines, stderr }
    }

    fn stderr(&self) -> String {
        self.stderr.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// SIGKILL, then every line it printed. Panics if it does not die in time.
    fn kill(mut self) -> Vec<String> {
        let _ = self.child.kill();
        let died = wait_within(&mut self.child, WORKER_EXIT).is_some();
        assert!(died, "the worker did not die within {WORKER_EXIT:?} of SIGKILL");
        *WORKER.lock().unwrap_or_else(PoisonError::into_inner) = None;
        let mut lines = Vec::new();
        let start = Instant::now();
        while let Some(left) = WORKER_EXIT.checked_sub(start.elapsed()) {
            match self.lines.recv_timeout(left) {
                Ok(line) => lines.push(line),
                Err(_) => break, // all read (its stdout closed), or out of time
            }
        }
        lines
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = wait_within(&mut self.child, WORKER_EXIT);
    }
}

/// One round: the worker changes the store in a faultfs over `source` until the power is
/// cut at a jittered moment; `image` is what the cut left. Returns the worker's lines.
fn cut_once(cut: u64, source: &Path, image: &Path) -> Vec<String> {
    doing(format!("cut {cut}: mounting {}", source.display()));
    let fs = FaultFs::mount(source).expect("faultfs mounts");
    *MOUNTED.lock().unwrap_or_else(PoisonError::into_inner) = Some(fs.path().to_path_buf());
    doing(format!("cut {cut}: waiting for the worker to be ready"));
    let worker = Worker::start(&fs.path().join("store"), 1000 + cut);
    match worker.lines.recv_timeout(READY) {
        Ok(line) if line == "ready" => {}
        other => panic!("cut {cut}: the worker did not start: {other:?}\n{}", worker.stderr()),
    }
    std::thread::sleep(Duration::from_millis(20 + 2 * jitter(cut)));
    doing(format!("cut {cut}: cutting the power"));
    fs.cut_power(image).expect("the durable state is written out");
    *MOUNTED.lock().unwrap_or_else(PoisonError::into_inner) = None;
    doing(format!("cut {cut}: stopping the worker"));
    worker.kill()
}

/// The users as `expected` would describe them (the owner aside).
fn state_of(users: &[UserView]) -> Expected {
    users
        .iter()
        .filter(|u| u.email != OWNER)
        .map(|u| (u.email.clone(), (Some(u.status), u.roles.clone())))
        .collect()
}

/// Waits for sled to let go of the store in `store` (it closes from a background thread).
fn settled(store: &Path) {
    let db = store.join("db");
    let start = Instant::now();
    loop {
        let file = std::fs::File::open(&db).unwrap();
        let lock = rustix::fs::FlockOperation::NonBlockingLockExclusive;
        if rustix::fs::flock(&file, lock).is_ok() {
            return;
        }
        assert!(start.elapsed() < SLED_LETS_GO, "sled still holds {} after checking", db.display());
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[derive(Default)]
struct Tally {
    acknowledged: usize,
    lost: usize,
    would_not_open: usize,
    behind: usize,
    /// Every failure, one sentence each, in order.
    failures: Vec<String>,
}

#[test]
fn acknowledged_changes_survive_power_cuts() {
    if !FaultFs::available_for_tests() {
        return;
    }
    let cuts: u64 =
        std::env::var("GATEHOUSE_POWER_CUTS").ok().and_then(|s| s.parse().ok()).unwrap_or(50);
    let _watchdog = watchdog(WHOLE_TEST);
    let work = tempfile::tempdir().unwrap();
    let mut source = work.path().join("cut-0");
    new_store(&source.join("store"));
    let mut expected = Expected::new();
    let mut tally = Tally::default();
    let started = Instant::now();
    for cut in 1..=cuts {
        let image = work.path().join(format!("cut-{cut}"));
        let lines = cut_once(cut, &source, &image);
        let (done, in_flight) = reports(&lines);
        tally.acknowledged += done.len();
        let before = expected.clone();
        for op in &done {
            apply(&mut expected, op);
        }

        doing(format!("cut {cut}: checking the image"));
        let store = image.join("store");
        let dir = match Directory::open_settled(&store, Arc::new(SystemClock)) {
            Ok(dir) => dir,
            Err(e) => {
                tally.would_not_open += 1;
                tally.failures.push(format!("cut {cut}: would not open: {e} [{:?}]", e.code()));
                expected = before; // the next round starts again from the same source
                continue;
            }
        };
        let intact = match dir.verify() {
            Ok(integrity) if integrity.is_intact() => true,
            Ok(integrity) => {
                tally.failures.push(format!("cut {cut}: not intact: {:?}", integrity.problems));
                false
            }
            Err(e) => {
                tally.failures.push(format!("cut {cut}: verify failed: {e}"));
                false
            }
        };
        let users = match dir.users_unchecked() {
            Ok(users) => users,
            Err(e) => {
                tally.failures.push(format!("cut {cut}: its users cannot be read: {e}"));
                expected = before;
                continue;
            }
        };
        let differences = compare(&users, &mut expected, in_flight.as_deref());
        let mut behind = false;
        for difference in differences {
            match &difference {
                Difference::Lost { email, .. } => {
                    let changes =
                        done.iter().filter(|op| op.split_whitespace().nth(1) == Some(email));
                    tally.lost += changes.count().max(1);
                    behind = true;
                }
                Difference::Unknown { .. } => {}
            }
            tally.failures.push(format!("cut {cut}: {difference}"));
        }
        tally.behind += usize::from(behind);
        drop(dir);
        settled(&store);
        if !intact {
            expected = before; // a damaged store is no place to go on from
            continue;
        }
        // What the store holds now is where the next round starts: a loss counts once.
        expected = state_of(&users);
        let _ = std::fs::remove_dir_all(&source);
        source = image;
    }
    doing("reporting".into());
    let summary = format!(
        "powercut: {cuts} cuts, {} acknowledged changes, {} lost, {} would not open, {} opened \
         with less than acknowledged",
        tally.acknowledged, tally.lost, tally.would_not_open, tally.behind
    );
    println!("{summary} ({:.0?})", started.elapsed());
    assert!(tally.acknowledged > 0, "the worker made changes between cuts");
    let first: Vec<&str> = tally.failures.iter().take(8).map(String::as_str).collect();
    assert!(
        tally.lost == 0 && tally.would_not_open == 0 && tally.failures.is_empty(),
        "{summary}; {} failures, the first:\n{}",
        tally.failures.len(),
        first.join("\n")
    );
}
