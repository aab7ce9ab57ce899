//! `gatehouse-bench`: core operations on a store seeded with 100,000 users, 1,000 pending
//! invitations and 200,000 audit events, each timed against the raw sled operations it needs
//! (its floor). Prints one line per figure with its budget and writes them as Markdown rows.
//!
//!     gatehouse-bench STORE_DIR OUT.md
//!     gatehouse-bench flood DIR OUT.md [COUNT]   (see flood.rs)
//!     gatehouse-bench memory DATA_DIR OUT.md     (see memory.rs)
//!
//! STORE_DIR must hold a store made by `gatehouse-seed` (password in GATEHOUSE_PASSWORD).
//! Exits 1 when a budget is missed.

use gatehouse_core::model::UserStatus;
use gatehouse_core::seed::person;
use gatehouse_core::{
    AcceptInput, AuditQuery, Directory, InviteOutcome, InviteRequest, Invitee, SystemClock,
    UserQuery, UserSort,
};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

const RUNS: usize = 200;

/// The app's allocator (src-tauri/src/main.rs), so that the figures, memory above all, are the
/// app's; counted, so that memory.rs can tell the heap in use from what is resident.
#[global_allocator]
static ALLOCATOR: counting::Counting<gatehouse_allocator::MiMalloc> =
    counting::Counting::new(gatehouse_allocator::MiMalloc);

struct Figure {
    name: String,
    median: Duration,
    p99: Duration,
    floor: Option<Duration>,
    budget: Duration,
}

fn stats(mut samples: Vec<Duration>) -> (Duration, Duration) {
    samples.sort();
    let at = |q: f64| samples[((samples.len() as f64 - 1.0) * q).round() as usize];
    (at(0.5), at(0.99))
}

fn time(runs: usize, mut f: impl FnMut(usize)) -> Vec<Duration> {
    (0..runs)
        .map(|i| {
            let start = Instant::now();
            f(i);
            start.elapsed()
        })
        .collect()
}

fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1000.0)
}

/// Peak resident memory of this process so far (Linux).
fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|kb| kb.parse::<f64>().ok()))
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

mod counting;
mod flood;
mod memory;

fn main() {
    gatehouse_allocator::give_memory_back();
    let args: Vec<String> = std::env::args().collect();
    if let (Some("flood"), Some(dir), Some(out)) =
        (args.get(1).map(String::as_str), args.get(2), args.get(3))
    {
        let count = args.get(4).and_then(|n| n.parse().ok()).unwrap_or(100_000);
        let met = flood::run(Path::new(dir), Path::new(out), count);
        std::process::exit(if met { 0 } else { 1 });
    }
    if let (Some("memory"), Some(data), Some(out)) =
        (args.get(1).map(String::as_str), args.get(2), args.get(3))
    {
        let password = std::env::var("GATEHOUSE_PASSWORD").unwrap_or_default();
        memory::run(Path::new(data), Path::new(out), &password);
        return;
    }
    if let (Some("floors"), Some(store)) = (args.get(1).map(String::as_str), args.get(2)) {
        let floors = raw_floors(Path::new(store));
        println!("{}", floors.map(|f| f.as_nanos().to_string()).join(" "));
        return;
    }
    let (Some(store), Some(out)) = (args.get(1), args.get(2)) else {
        eprintln!("usage: gatehouse-bench STORE_DIR OUT.md");
        std::process::exit(2);
    };
    let password = std::env::var("GATEHOUSE_PASSWORD").unwrap_or_default();
    let figures = run(Path::new(store), &password);
    let peak = peak_rss_mb();
    let mut failed = false;
    let mut md = String::from(
        "| operation | median | p99 | floor (raw sled) | p99 / floor | budget (p99) | |\n\
         | --- | --- | --- | --- | --- | --- | --- |\n",
    );
    for f in &figures {
        let ok = f.p99 <= f.budget;
        failed |= !ok;
        let ratio = f.floor.map_or("—".into(), |fl| {
            format!("{:.1}×", f.p99.as_secs_f64() / fl.as_secs_f64().max(1e-9))
        });
        let floor = f.floor.map_or("—".into(), ms);
        println!(
            "{:<48} median {:>11}  p99 {:>11}  floor {:>11}  ratio {:>7}  budget {:>10}  {}",
            f.name,
            ms(f.median),
            ms(f.p99),
            floor,
            ratio,
            ms(f.budget),
            if ok { "ok" } else { "MISSED" }
        );
        md.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} |\n",
            f.name,
            ms(f.median),
            ms(f.p99),
            floor,
            ratio,
            ms(f.budget),
            if ok { "met" } else { "**missed**" }
        ));
    }
    let mem_ok = peak < 200.0;
    failed |= !mem_ok;
    println!(
        "{:<48} {peak:.0} MB  budget 200 MB  {}",
        "peak memory",
        if mem_ok { "ok" } else { "MISSED" }
    );
    md.push_str(&format!(
        "| peak memory (VmHWM) | {peak:.0} MB | | | | 200 MB | {} |\n",
        if mem_ok { "met" } else { "**missed**" }
    ));
    if let Err(e) = std::fs::write(out, md) {
        eprintln!("cannot write {out}: {e}");
        std::process::exit(2);
    }
    if failed {
        std::process::exit(1);
    }
}

/// The raw sled floors, measured in a child process so that their databases do not count in
/// this process's peak memory: opening the store's users tree, reading 50 records by key, one
/// insert with a flush, and the same with the syncs Gatehouse adds to make it survive a power
/// cut (an fsync of sled's log, then its record of the audit head written durably: a
/// temporary file, fsync, rename, fsync of the folder) (p99 of each).
fn floors(store: &Path) -> [Duration; 4] {
    let exe = std::env::current_exe().expect("this program's path");
    let out =
        std::process::Command::new(exe).arg("floors").arg(store).output().expect("run the floors");
    let text = String::from_utf8_lossy(&out.stdout);
    let nanos: Vec<u64> = text.split_whitespace().filter_map(|n| n.parse().ok()).collect();
    match nanos[..] {
        [open, read50, durable, synced] => {
            [open, read50, durable, synced].map(Duration::from_nanos)
        }
        _ => panic!("the floors printed {text:?}: {}", String::from_utf8_lossy(&out.stderr)),
    }
}

fn raw_floors(store: &Path) -> [Duration; 4] {
    let open = {
        let start = Instant::now();
        let db = sled::Config::new().path(store).open().expect("raw open");
        let users = db.open_tree("users").expect("users tree");
        let n = users.iter().count();
        assert!(n > 0);
        start.elapsed()
    };
    let db_floor = |f: &dyn Fn(&sled::Db, &Path)| -> Vec<Duration> {
        let tmp = tempfile::tempdir().expect("tmp");
        let db = sled::Config::new()
            .path(tmp.path())
            .cache_capacity(64 * 1024 * 1024)
            .open()
            .expect("floor db");
        let tree = db.open_tree("t").expect("tree");
        for i in 0..100_000u32 {
            tree.insert(i.to_be_bytes(), vec![0u8; 400]).expect("fill");
        }
        db.flush().expect("flush");
        time(RUNS, |_| f(&db, tmp.path()))
    };
    let read50 = stats(db_floor(&|db, _| {
        let t = db.open_tree("t").expect("tree");
        for i in 0..50u32 {
            let _ = t.get((i * 997).to_be_bytes());
        }
    }))
    .1;
    let counter = std::sync::atomic::AtomicU64::new(0);
    let insert = |db: &sled::Db| {
        let t = db.open_tree("t").expect("tree");
        let n = counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        t.insert(n.to_be_bytes(), vec![1u8; 400]).expect("insert");
        db.flush().expect("flush");
        n
    };
    let durable = stats(db_floor(&|db, _| {
        insert(db);
    }))
    .1;
    let synced = stats(db_floor(&|db, dir| {
        let n = insert(db);
        std::fs::File::open(dir.join("db")).and_then(|f| f.sync_all()).expect("fsync the log");
        let record = format!("{{\"seq\":{n},\"hash\":\"{:064x}\"}}", n);
        gatehouse_core::files::replace_durably(&dir.join("acknowledged"), record.as_bytes())
            .expect("the record");
    }))
    .1;
    [open, read50, durable, synced]
}

fn run(store: &Path, password: &str) -> Vec<Figure> {
    let mut figures = Vec::new();
    let ms_ = Duration::from_millis;
    let [raw, read50, durable, synced] = floors(store);
    // What making a change survive a power cut costs on its own (see `floors`): Gatehouse pays
    // it on every change, inside each write figure below.
    figures.push(Figure {
        name: "a durable change's syncs (sled flush, fsync, record)".into(),
        median: synced,
        p99: synced,
        floor: Some(durable),
        budget: ms_(10),
    });

    // Cold open: the store's files read and the list index built. (The OS page cache is warm;
    // dropping it needs root, so this is the app's second-start figure.)
    let start = Instant::now();
    let dir = Directory::open(store, Arc::new(SystemClock)).expect("open the seeded store");
    let open = start.elapsed();
    figures.push(Figure {
        name: "open the store cold".into(),
        median: open,
        p99: open,
        floor: Some(raw),
        budget: ms_(1000),
    });
    let owner = dir.sign_in("owner@example.com", password).expect("owner signs in").session;

    let page = |q: UserQuery| {
        let (m, p) = stats(time(RUNS, |_| {
            dir.query_users(owner, q.clone()).expect("page");
        }));
        (m, p)
    };
    let (m, p) = page(UserQuery {
        status: Some(UserStatus::Active),
        role: Some("reporting".into()),
        sort: Some(UserSort::Name),
        limit: Some(50),
        offset: Some(1000),
        ..Default::default()
    });
    figures.push(Figure {
        name: "page of 50, status + role filter, by name".into(),
        median: m,
        p99: p,
        floor: Some(read50),
        budget: ms_(5),
    });
    let (m, p) =
        page(UserQuery { search: Some("weber 99".into()), limit: Some(50), ..Default::default() });
    figures.push(Figure {
        name: "search a name fragment".into(),
        median: m,
        p99: p,
        floor: Some(read50),
        budget: ms_(5),
    });
    let (m, p) =
        page(UserQuery { search: Some("tanaka.12".into()), limit: Some(50), ..Default::default() });
    figures.push(Figure {
        name: "search an email fragment".into(),
        median: m,
        p99: p,
        floor: Some(read50),
        budget: ms_(5),
    });

    // Durable changes.
    let run_id = std::process::id();
    let mut codes = Vec::new();
    let invite = time(RUNS, |i| {
        let request = InviteRequest {
            invitees: vec![Invitee { email: format!("bench{run_id}.{i}@example.net"), name: None }],
            roles: vec!["reporting".into()],
            ..Default::default()
        };
        match dir.invite_users(owner, request).expect("invite").remove(0) {
            InviteOutcome::Invited { issued, .. } => codes.push(issued),
            InviteOutcome::Refused { error, .. } => panic!("invite refused: {}", error.message),
        }
    });
    let (m, p) = stats(invite);
    figures.push(Figure {
        name: "invite one user".into(),
        median: m,
        p99: p,
        floor: Some(durable),
        budget: ms_(10),
    });

    // Accepting checks the new password's strength (zxcvbn) and hashes it with argon2id, on
    // purpose slow (about 20 ms); the budget applies to the store's part. Each accept is timed
    // between the same check and hash done just before and just after it, and its store part
    // is its time less the mean of those two (a burst of load on the machine slows both).
    let password = "violet marble sandwich harbor 2";
    let by_design = |name: &str, email: &str| {
        let start = Instant::now();
        gatehouse_core::auth::password::check_policy(password, &[name, email])
            .expect("a strong password");
        let _ = gatehouse_core::auth::password::hash(password);
        start.elapsed()
    };
    let mut deliberate = Vec::new();
    let accept: Vec<Duration> = (0..100)
        .map(|i| {
            let issued = &codes[i];
            let name = format!("Bench {i}");
            let before = by_design(&name, &issued.email);
            let start = Instant::now();
            dir.accept_invitation(AcceptInput {
                email: issued.email.clone(),
                code: issued.code.clone(),
                name: name.clone(),
                password: password.into(),
            })
            .expect("accept");
            let took = start.elapsed();
            let after = by_design(&name, &issued.email);
            let paired = (before + after) / 2;
            deliberate.push(paired);
            took.saturating_sub(paired)
        })
        .collect();
    let (m, p) = stats(accept);
    figures.push(Figure {
        name: format!(
            "accept (store part; the strength check and argon2id add {})",
            ms(stats(deliberate).0)
        ),
        median: m,
        p99: p,
        floor: Some(durable),
        budget: ms_(10),
    });
    let ids: Vec<_> = codes.iter().take(50).map(|c| c.user_id).collect();
    let (m, p) = stats(time(50, |i| {
        dir.change_roles(owner, ids[i], vec!["reporting".into(), "payment_management".into()])
            .expect("roles");
    }));
    figures.push(Figure {
        name: "change roles".into(),
        median: m,
        p99: p,
        floor: Some(durable),
        budget: ms_(10),
    });
    let (m, p) = stats(time(50, |i| {
        dir.deactivate_user(owner, ids[i], None).expect("deactivate");
    }));
    figures.push(Figure {
        name: "deactivate".into(),
        median: m,
        p99: p,
        floor: Some(durable),
        budget: ms_(10),
    });

    // The audit log by actor, through its index: someone with one event among 200,000 (the
    // whole log was read for them before the index), and the Owner, who did nearly all.
    let (_, someone) = person(40_000);
    for (who, actor, events) in
        [("one event", someone, 1), ("the Owner's events", "owner@example.com".to_string(), 50)]
    {
        let query = AuditQuery { actor: Some(actor), limit: Some(50), ..Default::default() };
        let (m, p) = stats(time(RUNS, |_| {
            let page = dir.audit_log(owner, query.clone()).expect("audit");
            assert_eq!(page.events.len(), events, "{who}");
        }));
        figures.push(Figure {
            name: format!("audit log by actor, one page ({who})"),
            median: m,
            p99: p,
            floor: Some(read50),
            budget: ms_(5),
        });
    }
    figures
}
