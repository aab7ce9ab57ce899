//! Crash test: a child process applies random changes and reports each one that succeeded;
//! it is killed with SIGKILL at random moments. After every kill the store must open, hold
//! every reported change, and pass `verify()`. `GATEHOUSE_CRASH_KILLS` sets the number of
//! kills (50 by default).

use gatehouse_core::model::{UserStatus, UserView};
use gatehouse_core::{Directory, SystemClock};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{mpsc, Arc};
use std::time::Duration;

pub(crate) const OWNER: &str = "crash.owner@example.com";
pub(crate) const PASSWORD: &str = "correct horse battery staple 7";

/// What the reported changes say a user is now: status (None: gone) and roles.
pub(crate) type Expected = BTreeMap<String, (Option<UserStatus>, Vec<String>)>;

/// A new store in `dir`, set up with [`OWNER`] and [`PASSWORD`], closed again.
pub(crate) fn new_store(dir: &Path) {
    let dir = Directory::open(dir, Arc::new(SystemClock)).unwrap();
    let mut input = crate::support::setup_input();
    input.email = OWNER.into();
    input.password = PASSWORD.into();
    dir.setup(input).unwrap();
}

pub(crate) fn apply(expected: &mut Expected, op: &str) {
    let words: Vec<&str> = op.split_whitespace().collect();
    let (verb, email) = (words[0], words[1].to_string());
    let entry = expected.entry(email).or_insert((None, vec![]));
    match verb {
        "invite" => *entry = (Some(UserStatus::Invited), vec!["reporting".into()]),
        "accept" | "reactivate" => entry.0 = Some(UserStatus::Active),
        "deactivate" => entry.0 = Some(UserStatus::Inactive),
        "cancel" => *entry = (None, vec![]),
        "roles" => entry.1 = vec![words[2].to_string()],
        other => panic!("unknown operation {other}"),
    }
}

pub(crate) fn actual(users: &[UserView], email: &str) -> (Option<UserStatus>, Vec<String>) {
    match users.iter().find(|u| u.email == email) {
        Some(u) => (Some(u.status), u.roles.clone()),
        None => (None, vec![]),
    }
}

/// The worker's reports: the changes it finished (`done`), in order, and the one it had begun
/// and not finished, if any.
pub(crate) fn reports(lines: &[String]) -> (Vec<String>, Option<String>) {
    let (mut done, mut in_flight) = (Vec::new(), None);
    for line in lines {
        if let Some(op) = line.strip_prefix("begin ") {
            in_flight = Some(op.to_string());
        } else if let Some(op) = line.strip_prefix("done ") {
            done.push(op.to_string());
            in_flight = None;
        }
    }
    (done, in_flight)
}

/// A user whose state is not what the worker reported.
pub(crate) enum Difference {
    /// A reported change is missing: the user is `got` where the reports say `want`.
    Lost {
        email: String,
        got: (Option<UserStatus>, Vec<String>),
        want: (Option<UserStatus>, Vec<String>),
    },
    /// A user no report mentions.
    Unknown { email: String },
}

impl std::fmt::Display for Difference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Difference::Lost { email, got, want } => {
                write!(f, "{email}: {got:?}, reported {want:?}")
            }
            Difference::Unknown { email } => write!(f, "{email}: a user nobody reported"),
        }
    }
}

/// Compares the store's `users` with `expected` (every reported change), where the change
/// `in_flight` when the worker stopped may or may not have landed; if it landed it becomes
/// part of `expected`. Returns what differs (nothing, for a store that kept its word).
pub(crate) fn compare(
    users: &[UserView],
    expected: &mut Expected,
    in_flight: Option<&str>,
) -> Vec<Difference> {
    let mut with_in_flight = expected.clone();
    if let Some(op) = in_flight {
        apply(&mut with_in_flight, op);
    }
    let mut differences = Vec::new();
    for (email, want) in expected.iter() {
        let got = actual(users, email);
        let alternative = with_in_flight.get(email).cloned().unwrap_or_default();
        if got != *want && got != alternative {
            differences.push(Difference::Lost { email: email.clone(), got, want: want.clone() });
        }
    }
    for user in users.iter().filter(|u| u.email != OWNER) {
        if !with_in_flight.contains_key(&user.email) {
            differences.push(Difference::Unknown { email: user.email.clone() });
        }
    }
    // The in-flight change, if it landed, is now simply part of the state.
    if let Some(op) = in_flight {
        let email = op.split_whitespace().nth(1).unwrap_or_default().to_string();
        if with_in_flight.get(&email) == Some(&actual(users, &email)) {
            *expected = with_in_flight;
        }
    }
    differences
}

/// Cheap, varied delays; no security role.
#[allow(clippy::disallowed_methods)] // real time, to vary when the worker is killed
pub(crate) fn jitter(n: u64) -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    (u64::from(nanos) ^ n.wrapping_mul(0x9E37_79B9_7F4A_7C15)) % 250
}

#[test]
fn reported_changes_survive_sigkill_and_the_store_stays_valid() {
    let kills: u64 =
        std::env::var("GATEHOUSE_CRASH_KILLS").ok().and_then(|s| s.parse().ok()).unwrap_or(50);
    let tmp = tempfile::tempdir().unwrap();
    new_store(tmp.path());
    let mut expected = Expected::new();
    let mut reported = 0usize;
    for kill in 0..kills {
        let mut child = Command::new(env!("CARGO_BIN_EXE_gatehouse-crash-worker"))
            .args([tmp.path().to_str().unwrap(), OWNER, &(kill + 1).to_string()])
            .env("GATEHOUSE_PASSWORD", PASSWORD)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the crash worker");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let ready = rx.recv_timeout(Duration::from_secs(20)).expect("the worker starts");
        assert_eq!(ready, "ready");
        std::thread::sleep(Duration::from_millis(5 + jitter(kill)));
        child.kill().expect("SIGKILL");
        child.wait().unwrap();
        reader.join().unwrap();
        let lines: Vec<String> = rx.try_iter().collect();

        let (done, in_flight) = reports(&lines);
        for op in &done {
            apply(&mut expected, op);
        }
        reported += done.len();
        let dir = Directory::open_settled(tmp.path(), Arc::new(SystemClock))
            .expect("the store opens after a kill");
        let integrity = dir.verify().unwrap();
        assert!(integrity.is_intact(), "after kill {kill}: {:?}", integrity.problems);
        let users = dir.users_unchecked().unwrap();
        let differences = compare(&users, &mut expected, in_flight.as_deref());
        let differences: Vec<String> = differences.iter().map(ToString::to_string).collect();
        assert!(differences.is_empty(), "after kill {kill}: {}", differences.join("; "));
    }
    println!("crash: {kills} kills, {reported} reported changes, all present");
    assert!(reported > 0, "the worker made changes between kills");
}
