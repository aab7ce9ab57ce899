//! `gatehouse-bench flood DIR OUT.md [COUNT]`: failed sign-ins with random addresses on a fresh
//! store (one Owner), as a stranger at the sign-in screen or a script over the command line
//! could make them: the store's size before and after, the sign-in counts and audit events
//! left, and the Owner's sign-in time before and after. The flood runs on every core against a
//! clock moved on a minute every 1,000 attempts, so it spans COUNT / 1,000 minutes (100 for the
//! default 100,000) and the sweep of expired counts is part of what is measured.

use gatehouse_core::{Directory, ManualClock, SetupInput};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const EMAIL: &str = "olivia@flood.example";
const PASSWORD: &str = "correct horse battery staple 7";
const PER_MINUTE: usize = 1_000;

fn size(dir: &Path) -> u64 {
    let mut total = 0;
    let mut pending = vec![dir.to_path_buf()];
    while let Some(p) = pending.pop() {
        if let Ok(meta) = std::fs::symlink_metadata(&p) {
            if meta.is_dir() {
                pending.extend(
                    std::fs::read_dir(&p).into_iter().flatten().flatten().map(|e| e.path()),
                );
            } else {
                total += meta.len();
            }
        }
    }
    total
}

fn sign_in_median(dir: &Directory) -> Duration {
    let mut samples: Vec<Duration> = (0..9)
        .map(|_| {
            let start = Instant::now();
            let signed = dir.sign_in(EMAIL, PASSWORD).expect("the Owner signs in");
            let took = start.elapsed();
            let _ = dir.sign_out(signed.session);
            took
        })
        .collect();
    samples.sort();
    samples[samples.len() / 2]
}

fn mb(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1_000_000.0)
}

/// Runs the flood; returns whether every budget was met.
pub fn run(dir: &Path, out: &Path, count: usize) -> bool {
    let _ = std::fs::remove_dir_all(dir);
    let start = chrono::DateTime::from_timestamp(1_790_000_000, 0).expect("a time");
    let clock = Arc::new(ManualClock::new(start));
    let directory = Directory::open(dir, clock.clone()).expect("open a fresh store");
    let signed = directory
        .setup(SetupInput {
            organization: "Flood".into(),
            name: "Olivia Owner".into(),
            email: EMAIL.into(),
            password: PASSWORD.into(),
        })
        .expect("setup");
    directory.sign_out(signed.session).expect("sign out");
    let before_size = size(dir);
    let before_sign_in = sign_in_median(&directory);
    let before_events = directory.verify().expect("verify").audit_events;

    let next = AtomicUsize::new(0);
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let started = Instant::now();
    let most = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                if i >= count {
                    break;
                }
                if i > 0 && i.is_multiple_of(PER_MINUTE) {
                    clock.advance(chrono::Duration::minutes(1));
                    most.fetch_max(directory.sign_in_counts_kept(), Ordering::SeqCst);
                }
                let address = format!("{}@random.example", uuid_like(i));
                let _ = directory.sign_in(&address, "a guess that is not right");
            });
        }
    });
    let flood_time = started.elapsed();
    let after_size = size(dir);
    let kept = directory.sign_in_counts_kept();
    let most = most.load(Ordering::SeqCst).max(kept);
    let integrity = directory.verify().expect("verify");
    let added_events = integrity.audit_events - before_events;
    let after_sign_in = sign_in_median(&directory);

    let minutes = count / PER_MINUTE;
    // 30 minutes of attempts at 1,000 a minute, and the sweep a little behind.
    let counts_budget = 36 * PER_MINUTE;
    // Per 10-minute window: 20 attempts one by one and one event for the rest.
    let events_budget = (minutes / 10 + 1) as u32 * 21 + 10;
    let sign_in_budget = before_sign_in.mul_f64(1.5) + Duration::from_millis(5);
    let rows = [
        (
            "sign-in counts kept after the flood (most at any minute)".to_string(),
            format!("{kept} ({most})"),
            format!("≤ {counts_budget}"),
            most <= counts_budget,
        ),
        (
            "audit events the flood added".to_string(),
            added_events.to_string(),
            format!("≤ {events_budget}"),
            added_events <= events_budget,
        ),
        (
            "store size before → after".to_string(),
            format!("{} → {}", mb(before_size), mb(after_size)),
            "—".to_string(),
            true,
        ),
        (
            "the Owner's sign-in, median of 9: before → after".to_string(),
            format!(
                "{:.1} ms → {:.1} ms",
                before_sign_in.as_secs_f64() * 1000.0,
                after_sign_in.as_secs_f64() * 1000.0
            ),
            format!("≤ {:.1} ms", sign_in_budget.as_secs_f64() * 1000.0),
            after_sign_in <= sign_in_budget,
        ),
        (
            "the flood's own time (argon2id on every attempt)".to_string(),
            format!("{:.0} s on {threads} threads", flood_time.as_secs_f64()),
            "—".to_string(),
            true,
        ),
    ];
    let mut md = format!(
        "{count} failed sign-ins with random addresses over {minutes} minutes of the store's \
         clock, on a store with one Owner.\n\n| figure | value | budget | |\n| --- | --- | --- | --- |\n"
    );
    let mut met = true;
    for (name, value, budget, ok) in rows {
        met &= ok;
        let verdict = if ok { "met" } else { "**missed**" };
        println!("{name:<56} {value:>24}  budget {budget:>12}  {verdict}");
        md.push_str(&format!("| {name} | {value} | {budget} | {verdict} |\n"));
    }
    assert!(integrity.is_intact(), "the store verifies after the flood: {:?}", integrity.problems);
    std::fs::write(out, md).expect("write the figures");
    met
}

/// A random-looking, distinct local part for attempt `i`.
fn uuid_like(i: usize) -> String {
    let mut x = (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0xD1B5_4A32_D192_ED03;
    x ^= x >> 31;
    format!("{x:016x}{i}")
}
