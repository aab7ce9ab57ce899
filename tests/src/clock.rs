//! A wall clock the test moves, for the app only: libfaketime (Debian's `libfaketime`, from the
//! `faketime` package) preloaded into the app binary, reading its offset from a file the test
//! rewrites. Only the real-time clock moves (`FAKETIME_DONT_FAKE_MONOTONIC`): timers and
//! intervals in the app and its WebKit processes keep real time, while every date the app
//! reads (core's clock: idle timeouts, expiries) is later by the offset.

use std::path::{Path, PathBuf};
use std::time::Duration;

const LIBFAKETIME: &str = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1";

/// The offset file of one app's clock.
pub(crate) struct Clock {
    file: PathBuf,
    ahead: Duration,
    /// The processes started on this clock (the app among them), for `Drop`.
    started: Vec<u32>,
}

impl Clock {
    /// A clock at real time, its offset file in `dir`.
    pub(crate) fn new(dir: &Path) -> Clock {
        assert!(
            Path::new(LIBFAKETIME).exists(),
            "no {LIBFAKETIME}: install the faketime package (make deps does)"
        );
        let clock = Clock { file: dir.join("faketime.rc"), ahead: Duration::ZERO, started: vec![] };
        clock.write();
        clock
    }

    /// The program and arguments that start `app` on this clock (through `env`, which execs
    /// it: the app keeps the process WebKitWebDriver started).
    pub(crate) fn command(&self, app: &Path) -> (PathBuf, Vec<String>) {
        let args = vec![
            format!("LD_PRELOAD={LIBFAKETIME}"),
            format!("FAKETIME_TIMESTAMP_FILE={}", self.file.display()),
            // Read the file at each reading of the clock: a move shows at once.
            "FAKETIME_NO_CACHE=1".into(),
            "FAKETIME_DONT_FAKE_MONOTONIC=1".into(),
            app.to_string_lossy().into_owned(),
        ];
        (PathBuf::from("/usr/bin/env"), args)
    }

    /// Notes the processes that may run on this clock (the app is among them once its
    /// session has started).
    pub(crate) fn started(&mut self, pids: Vec<u32>) {
        self.started = pids;
    }

    /// Moves the clock `by` forward.
    pub(crate) fn advance(&mut self, by: Duration) {
        self.ahead += by;
        self.write();
    }

    /// Writes the offset (whole seconds, as libfaketime reads them) to a new file renamed over
    /// the old one: the app never reads half a file.
    fn write(&self) {
        let next = self.file.with_extension("rc.new");
        std::fs::write(&next, format!("+{}\n", self.ahead.as_secs())).expect("write the clock");
        std::fs::rename(&next, &self.file).expect("set the clock");
    }
}

impl Drop for Clock {
    /// Removes the shared memory libfaketime made in the app for its child processes (named by
    /// the app's pid): the app is killed when its session ends, before libfaketime could
    /// remove it itself. Dropped with the `App`, after its processes are stopped.
    fn drop(&mut self) {
        for pid in &self.started {
            let _ = std::fs::remove_file(format!("/dev/shm/faketime_shm_{pid}"));
            let _ = std::fs::remove_file(format!("/dev/shm/sem.faketime_sem_{pid}"));
        }
    }
}
