//! Fills an empty store with generated users, for trying Gatehouse at scale and for the
//! benchmarks and scrolling test:
//!
//!     gatehouse-seed DIR [--users N] [--invited N] [--audit-events N]
//!
//! Defaults: 100,000 users, 1,000 of them invited, 200,000 audit events. The Owner is
//! owner@example.com; every generated Active user signs in with the same password, taken from
//! GATEHOUSE_PASSWORD or else the demo password printed at the end.

use gatehouse_core::seed::SeedPlan;
use gatehouse_core::{Directory, SystemClock};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

const DEMO_PASSWORD: &str = "Gatehouse demo store 2026";

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("gatehouse-seed: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), String> {
    let password = std::env::var("GATEHOUSE_PASSWORD").unwrap_or_else(|_| DEMO_PASSWORD.into());
    let mut plan = SeedPlan::large(&password);
    let mut dir: Option<PathBuf> = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut number = |what: &str| -> Result<u32, String> {
            args.next()
                .and_then(|v| v.replace('_', "").parse().ok())
                .ok_or_else(|| format!("{what} needs a whole number"))
        };
        match arg.as_str() {
            "--users" => plan.users = number("--users")?,
            "--invited" => plan.invited = number("--invited")?,
            "--audit-events" => plan.audit_events = number("--audit-events")?,
            "-h" | "--help" => {
                println!("usage: gatehouse-seed DIR [--users N] [--invited N] [--audit-events N]");
                return Ok(());
            }
            other if dir.is_none() && !other.starts_with('-') => dir = Some(other.into()),
            other => return Err(format!("unexpected argument {other}")),
        }
    }
    let dir =
        dir.ok_or("usage: gatehouse-seed DIR [--users N] [--invited N] [--audit-events N]")?;
    plan.invited = plan.invited.min(plan.users);
    let directory = Directory::open(&dir, Arc::new(SystemClock)).map_err(|e| e.to_string())?;
    directory
        .seed(&plan, |done, total| {
            if std::io::stderr().is_terminal() {
                eprint!("\r{done} of {total} users");
                let _ = std::io::stderr().flush();
            } else if done % 10_000 == 0 || done == total {
                eprintln!("{done} of {total} users");
            }
        })
        .map_err(|e| e.to_string())?;
    eprintln!();
    println!(
        "Seeded {} users in {}. Sign in as {} with the password \"{}\".",
        plan.users,
        dir.display(),
        plan.owner_email,
        if password == DEMO_PASSWORD { DEMO_PASSWORD } else { "from GATEHOUSE_PASSWORD" }
    );
    Ok(())
}
