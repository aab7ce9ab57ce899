//! `gatehouse-bench memory DATA_DIR OUT.md`: where the app's memory goes on a 100,000-user
//! store, phase by phase, following the app's own path through core: open the store, the
//! automatic backup at start (on a thread of its own, as the app runs it), the owner's sign-in,
//! then the pages the Users list asks for while it is scrolled end to end. Resident memory
//! (VmRSS) after each phase, and the peak (VmHWM). DATA_DIR is an app data folder (its store in
//! `store/`); it is changed (a backup is written), so give it a copy.

use gatehouse_core::{Directory, SystemClock, UserQuery, UserSort};
use std::path::Path;
use std::sync::Arc;

/// A line of /proc/self/status, in MB.
fn status_mb(field: &str) -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|kb| kb.parse::<f64>().ok()))
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

pub fn run(data: &Path, out: &Path, password: &str) -> Vec<(String, f64, f64)> {
    let heap_mb = || crate::ALLOCATOR.in_use() as f64 / 1_048_576.0;
    let mut phases = vec![("process started".to_string(), status_mb("VmRSS:"), heap_mb())];
    let mut phase = |name: &str| {
        let (mb, heap) = (status_mb("VmRSS:"), heap_mb());
        println!("{name:<56} {mb:>7.1} MB resident  {heap:>7.1} MB heap in use");
        phases.push((name.to_string(), mb, heap));
    };
    let dir = Arc::new(
        Directory::open_settled(&data.join("store"), Arc::new(SystemClock))
            .expect("open the seeded store"),
    );
    phase("store opened (list index built)");
    let backups = data.join("backups");
    let on_thread = dir.clone();
    std::thread::spawn(move || on_thread.backup_automatic(&backups).map(|_| ()))
        .join()
        .expect("the backup thread")
        .expect("the automatic backup");
    phase("automatic backup at start written");
    let owner = dir.sign_in("owner@example.com", password).expect("owner signs in").session;
    phase("owner signed in");
    let total = dir
        .query_users(owner, UserQuery { limit: Some(100), ..Default::default() })
        .expect("first page")
        .total;
    for step in 0..=20u64 {
        let offset = (total as u64 * step / 20).saturating_sub(50);
        dir.query_users(
            owner,
            UserQuery {
                sort: Some(UserSort::Name),
                limit: Some(100),
                offset: Some(offset as u32),
                ..Default::default()
            },
        )
        .expect("page");
    }
    phase("list scrolled end to end (21 pages of 100)");
    let peak = status_mb("VmHWM:");
    println!("{:<56} {peak:>7.1} MB", "peak");
    let mut md = String::from("| phase | resident | heap in use |\n| --- | --- | --- |\n");
    for (name, mb, heap) in &phases {
        md.push_str(&format!("| {name} | {mb:.0} MB | {heap:.0} MB |\n"));
    }
    md.push_str(&format!("| peak (VmHWM) | {peak:.0} MB | |\n"));
    if let Err(e) = std::fs::write(out, md) {
        eprintln!("cannot write {}: {e}", out.display());
        std::process::exit(2);
    }
    phases
}
