//! Crash test: a child process applies random changes and reports each one that succeeded;
//! it is killed with SIGKILL at random moments. After every kill the store must open, hold
//! every reported change, and pass `verify()`. `GATEHOUSE_CRASH_KILLS` sets the number of
//! kills (50 by default).

use gatehouse_core::model::{UserStatus, UserView};
use gatehouse_core::{Directory, SystemClock};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::{mpsc, Arc};
use std::time::Duration;

const OWNER: &str = "crash.owner@example.com";
const PASSWORD: &str = "correct horse battery staple 7";

/// What the reported changes say a user is now: status (None: gone) and roles.
type Expected = BTreeMap<String, (Option<UserStatus>, Vec<String>)>;

fn apply(expected: &mut Expected, op: &str) {
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

fn actual(users: &[UserView], email: &str) -> (Option<UserStatus>, Vec<String>) {
    match users.iter().find(|u| u.email == email) {
        Some(u) => (Some(u.status), u.roles.clone()),
        None => (None, vec![]),
    }
}

/// Cheap, varied delays; no security role.
#[allow(clippy::disallowed_methods)] // real time, to vary when the worker is killed
fn jitter(n: u64) -> u64 {
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
    {
        let dir = Directory::open(tmp.path(), Arc::new(SystemClock)).unwrap();
        let mut input = crate::support::setup_input();
        input.email = OWNER.into();
        input.password = PASSWORD.into();
        dir.setup(input).unwrap();
    }
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

        let mut in_flight = None;
        for line in &lines {
            if let Some(op) = line.strip_prefix("begin ") {
                in_flight = Some(op.to_string());
            } else if let Some(op) = line.strip_prefix("done ") {
                apply(&mut expected, op);
                reported += 1;
                in_flight = None;
            }
        }
        let dir = Directory::open_settled(tmp.path(), Arc::new(SystemClock))
            .expect("the store opens after a kill");
        let integrity = dir.verify().unwrap();
        assert!(integrity.is_intact(), "after kill {kill}: {:?}", integrity.problems);
        let users = dir.users_unchecked().unwrap();
        let mut with_in_flight = expected.clone();
        if let Some(op) = &in_flight {
            apply(&mut with_in_flight, op);
        }
        for (email, want) in &expected {
            let got = actual(&users, email);
            let alternative = with_in_flight.get(email).cloned().unwrap_or_default();
            assert!(
                got == *want || got == alternative,
                "after kill {kill}, {email}: {got:?}, reported {want:?}"
            );
        }
        let known = users
            .iter()
            .filter(|u| u.email != OWNER)
            .all(|u| with_in_flight.contains_key(&u.email));
        assert!(known, "after kill {kill}: a user nobody reported");
        // The in-flight change, if it landed, is now simply part of the state.
        if let Some(op) = in_flight {
            let email = op.split_whitespace().nth(1).unwrap_or_default().to_string();
            let got = actual(&users, &email);
            if with_in_flight.get(&email) == Some(&got) {
                expected = with_in_flight;
            }
        }
    }
    println!("crash: {kills} kills, {reported} reported changes, all present");
    assert!(reported > 0, "the worker made changes between kills");
}
