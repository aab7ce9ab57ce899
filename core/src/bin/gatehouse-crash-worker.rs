//! Test harness for the crash test (`core/tests/crash.rs`), not a user tool: applies random
//! changes to the store in DIR as the Owner EMAIL (password from GATEHOUSE_PASSWORD) until it
//! is killed, printing `begin <op>` before and `done <op>` after each change that succeeded.
//!
//! Usage: gatehouse-crash-worker DIR EMAIL SEED

use gatehouse_core::model::{UserStatus, UserView};
use gatehouse_core::{Directory, InviteOutcome, InviteRequest, Invitee, SystemClock};
use std::io::Write;
use std::sync::Arc;

/// xorshift64*: enough randomness to pick operations; no security role.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> Option<&'a T> {
        if items.is_empty() {
            return None;
        }
        items.get((self.next() % items.len() as u64) as usize)
    }
}

fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (Some(dir), Some(email), Some(seed)) = (args.get(1), args.get(2), args.get(3)) else {
        eprintln!("usage: gatehouse-crash-worker DIR EMAIL SEED");
        std::process::exit(2);
    };
    let password = std::env::var("GATEHOUSE_PASSWORD").unwrap_or_default();
    let mut rng = Rng(seed.parse::<u64>().unwrap_or(1).max(1));
    let result = (|| -> gatehouse_core::Result<()> {
        let dir = Directory::open_settled(std::path::Path::new(dir), Arc::new(SystemClock))?;
        let session = dir.sign_in(email, &password)?.session;
        // The credential store is asked before the kills start, not during the first invite.
        dir.outbox_keeping()?;
        say("ready");
        let mut codes: Vec<(String, String)> = Vec::new();
        for n in 0.. {
            let users: Vec<UserView> = dir
                .list_users(session)?
                .into_iter()
                .filter(|u| !u.roles.iter().any(|r| r == "owner"))
                .collect();
            let with = |status: UserStatus| -> Vec<UserView> {
                users.iter().filter(|u| u.status == status).cloned().collect()
            };
            match rng.next() % 5 {
                0 | 1 => {
                    let email = format!("u{seed}-{n}@crash.example");
                    say(&format!("begin invite {email}"));
                    let request = InviteRequest {
                        invitees: vec![Invitee { email: email.clone(), name: None }],
                        roles: vec!["reporting".into()],
                        ..Default::default()
                    };
                    // A refused invitation may still have reached the disk (a sync that
                    // failed after the log's fsync): it stays in flight, and the worker stops.
                    match dir.invite_users(session, request)?.first() {
                        Some(InviteOutcome::Invited { issued, .. }) => {
                            say(&format!("done invite {email}"));
                            codes.push((email, issued.code.clone()));
                        }
                        Some(InviteOutcome::Refused { error, .. }) => {
                            eprintln!("error[{:?}]: {}", error.code, error.message);
                            std::process::exit(1);
                        }
                        None => {}
                    }
                }
                2 if rng.next() % 2 == 0 => {
                    let invited = with(UserStatus::Invited);
                    let pending: Vec<&(String, String)> = codes
                        .iter()
                        .filter(|(e, _)| invited.iter().any(|u| &u.email == e))
                        .collect();
                    let Some((email, code)) = rng.pick(&pending).map(|p| (*p).clone()) else {
                        continue;
                    };
                    say(&format!("begin accept {email}"));
                    dir.accept_invitation(gatehouse_core::AcceptInput {
                        email: email.clone(),
                        code,
                        name: "Crash Tester".into(),
                        password: "plum tractor lantern quietly 4".into(),
                    })?;
                    say(&format!("done accept {email}"));
                }
                2 => {
                    let Some(u) = rng.pick(&with(UserStatus::Invited)).cloned() else { continue };
                    say(&format!("begin cancel {}", u.email));
                    dir.cancel_invitation(session, u.id)?;
                    say(&format!("done cancel {}", u.email));
                }
                3 => {
                    let roles = ["reporting", "payment_management", "system_integrator"];
                    let (Some(u), Some(role)) = (rng.pick(&users).cloned(), rng.pick(&roles))
                    else {
                        continue;
                    };
                    say(&format!("begin roles {} {role}", u.email));
                    dir.change_roles(session, u.id, vec![role.to_string()])?;
                    say(&format!("done roles {} {role}", u.email));
                }
                _ => {
                    let active = with(UserStatus::Active);
                    let inactive = with(UserStatus::Inactive);
                    if let Some(u) = rng.pick(&inactive).cloned() {
                        say(&format!("begin reactivate {}", u.email));
                        dir.reactivate_user(session, u.id)?;
                        say(&format!("done reactivate {}", u.email));
                    } else if let Some(u) = rng.pick(&active).cloned() {
                        say(&format!("begin deactivate {}", u.email));
                        dir.deactivate_user(session, u.id, None)?;
                        say(&format!("done deactivate {}", u.email));
                    }
                }
            }
        }
        Ok(())
    })();
    if let Err(e) = result {
        eprintln!("error[{:?}]: {e}", e.code());
        std::process::exit(1);
    }
}
