//! Property test: long random sequences of commands by random people, run against the real
//! directory and against a reference model written from `shared/spec/domain.md` and
//! `shared/spec/permissions.md` alone. The model reads the permission table from the spec file
//! at test time and holds its own rules: it never calls core's policy or role code, so a
//! mistake there shows up as a disagreement.
//!
//! Commands: invite (addresses typed in varying case and Unicode form, now and then not an
//! address), accept (with the current code, a stale one, or another person's address; by the
//! invitee or by someone who saw the code), resend, cancel, deactivate, reactivate, change
//! roles, sign in (right, wrong or old password; by the user or by someone who knows it; five
//! times in a row), sign out, issue a reset code and set a password with it, unlock, create,
//! edit and delete custom roles, change the invitation lifetime and idle timeout, change one's
//! own password, save, retry or discard an outbox message, keep working for hours, and wait.
//! And the second factor: add an authenticator app (start, then confirm with its code or a
//! wrong one, now and then twice), sign in with one (the session waits at the gate, where every
//! other command is refused), give the second step (the code of a step not used yet within the
//! drift, a wrong code five times in a row, the code of a step already used, an unused or a
//! used recovery code; by the person or by someone who only knows their password), ask for new
//! recovery codes, and remove someone's second factor. Codes are computed from the secret the
//! enrolment showed, as an authenticator app does, on the test's clock.
//! And access governance: set or clear someone's end date (days to weeks ahead, now and then
//! today, earlier or past ten years), turn the dormant-account rule off or set its days (an
//! Owner's to change), wait months, and run the system's check of dormant accounts and end
//! dates (as when the store opens): exactly those predicted are deactivated, or lose their
//! invitation, in name order, the last Active Owner never, each one event by the system with
//! its reason; then someone reads the log (itself an event). A sign-in ends the access of the
//! person signing in first when it has lapsed; the last Active Owner is told instead.
//!
//! After every call the real outcome must be one the spec allows (where the spec gives no order
//! between refusals, any refusal that applies is accepted; where it leaves a behaviour open,
//! either is accepted and the model follows what happened), and the audit log must have grown
//! by exactly what that outcome writes: one event for each refusal by the permission matrix or
//! rules 1-7, none for other refusals, one for each refused code or sign-in. After every step
//! `verify()` holds and the store and the model agree on every user (status, roles, stored
//! address, lockout, invitation expiry, whether they have an authenticator app, end date, days
//! since the last sign-in, "dormant soon", `can()` for every module and action) and on every
//! session handle (live or not, asked without counting as activity). And nobody has ever signed
//! in as a user whose permissions they do not hold themselves, unless those permissions were
//! granted to that user (by an Owner, or by a manager entitled to) after they learned the
//! credential; rule 7 is checked whenever someone sees a code.
//!
//! `GATEHOUSE_MODEL_CASES` (total over both halves, default 256) and `GATEHOUSE_MODEL_STEPS`
//! (per case, default 64) scale it up (`make soak`). Every run prints its seed;
//! `GATEHOUSE_MODEL_SEED` replays a run. A failing case is saved in
//! `core/proptest-regressions/model.txt`, which the next run tries first, and is shortened by
//! dropping commands for up to `GATEHOUSE_MODEL_SHRINK_SECS` (default 60) before it is shown.

mod access;
mod accounts;
mod codes;
mod expect;
mod factors;
mod governance;
mod invitations;
mod ops;
mod roles;
mod run;
mod spec;
mod state;

use self::ops::{op, OP_NAMES};
use self::run::{minimize, run_case};
use proptest::prelude::*;
use proptest::test_runner::{Config, FileFailurePersistence, RngSeed, TestError, TestRunner};
use std::cell::RefCell;
use std::collections::BTreeMap;
use uuid::Uuid;

/// Counts over a half of the run.
#[derive(Default)]
struct Stats {
    cases: u64,
    generated: u64,
    run: u64,
    calls: u64,
    /// Per command: (run, succeeded at least once).
    ops: BTreeMap<&'static str, (u64, u64)>,
    refusals: BTreeMap<String, u64>,
    sign_ins_as_others: u64,
    granted_later: u64,
    /// Second-factor outcomes by kind (the gate, each kind of code, enrolment, removal).
    factors: BTreeMap<String, u64>,
    /// Access ended by the system, by reason and occasion.
    governance: BTreeMap<String, u64>,
}

impl Stats {
    fn count(&mut self, what: &str) {
        *self.factors.entry(what.to_string()).or_default() += 1;
    }

    fn count_gov(&mut self, what: &str) {
        *self.governance.entry(what.to_string()).or_default() += 1;
    }
}

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|s| s.trim().parse().ok()).unwrap_or(default)
}

fn run_half(half: &str) {
    let cases = (env_or("GATEHOUSE_MODEL_CASES", 256) / 2).max(1);
    let steps = env_or("GATEHOUSE_MODEL_STEPS", 64).max(1) as usize;
    let seed = env_or("GATEHOUSE_MODEL_SEED", Uuid::new_v4().as_u64_pair().0);
    let replay = format!(
        "GATEHOUSE_MODEL_SEED={seed} GATEHOUSE_MODEL_CASES={} GATEHOUSE_MODEL_STEPS={steps}",
        cases * 2
    );
    println!("model: half {half}: seed {seed} (replay this run with {replay})");
    let config = Config {
        cases: cases as u32,
        // core/proptest-regressions/model.txt, named after this test's source when it was one
        // file (with `file!()` in model/mod.rs, `SourceParallel` would choose model/mod.txt).
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/proptest-regressions/model.txt"
        )))),
        rng_seed: RngSeed::Fixed(seed),
        // Shrinking is done below, by whole commands: much faster than value by value.
        max_shrink_iters: 0,
        ..Config::default()
    };
    let stats = RefCell::new(Stats::default());
    let strategy = prop::collection::vec(prop::option::weighted(0.995, op()), steps);
    let mut runner = TestRunner::new(config);
    let result = runner.run(&strategy, |ops| run_case(&ops, &stats));
    match result {
        Ok(()) => {}
        Err(TestError::Fail(_, ops)) => {
            let budget = std::time::Duration::from_secs(env_or("GATEHOUSE_MODEL_SHRINK_SECS", 60));
            let (ops, why) = minimize(ops, budget);
            let list: Vec<String> =
                ops.iter().enumerate().map(|(i, op)| format!("  #{i} {op:?}")).collect();
            panic!(
                "the directory disagrees with the model: {why}\n\nthe shortest failing sequence \
                 found ({} commands):\n{}\n\nreplay with {replay}; the failing case is also \
                 saved in core/proptest-regressions/model.txt and tried first by the next run",
                ops.len(),
                list.join("\n"),
            );
        }
        Err(TestError::Abort(why)) => panic!("proptest gave up: {why}"),
    }
    let stats = stats.into_inner();
    let per_op: Vec<String> = OP_NAMES
        .iter()
        .map(|name| {
            let (ran, ok) = stats.ops.get(name).copied().unwrap_or_default();
            format!("{name} {ran}/{ok}")
        })
        .collect();
    let refusals: Vec<String> = stats.refusals.iter().map(|(c, n)| format!("{c} {n}")).collect();
    let factors: Vec<String> = stats.factors.iter().map(|(c, n)| format!("{c} {n}")).collect();
    let governance: Vec<String> =
        stats.governance.iter().map(|(c, n)| format!("{c} {n}")).collect();
    println!(
        "model: half {half}: {} cases, {} of {} steps run, {} calls; per command run/succeeded: \
         {}; refusals: {}; sign-ins as someone else: {} ({} holding permissions granted later); \
         second factor: {}; governance: {}",
        stats.cases,
        stats.run,
        stats.generated,
        stats.calls,
        per_op.join(", "),
        refusals.join(", "),
        stats.sign_ins_as_others,
        stats.granted_later,
        factors.join(", "),
        governance.join(", ")
    );
    assert!(stats.cases >= cases, "only {} of {cases} cases ran", stats.cases);
    assert!(
        stats.run * 10 >= stats.generated * 6,
        "only {} of {} steps could run",
        stats.run,
        stats.generated
    );
    // At the default size every command must have run, and succeeded, several times.
    if cases * steps as u64 >= 4000 {
        for name in OP_NAMES {
            let (ran, ok) = stats.ops.get(name).copied().unwrap_or_default();
            assert!(ran >= 10 && ok >= 3, "{name} ran {ran} times and succeeded {ok} times");
        }
        // A not_dominant refusal takes a long chain (a custom role that may change users, held
        // by someone signed in, acting on an Admin) which a run of random cases misses now and
        // then: a case that reaches it is kept in proptest-regressions/model.txt, and proptest
        // replays it before the new ones.
        for code in ["permission_denied", "not_dominant", "locked_out", "session_expired"] {
            let seen = stats.refusals.get(code).copied().unwrap_or_default();
            assert!(seen >= 1, "no command was refused with {code}");
        }
        // Every kind of second-factor outcome, several times (the rarest, once).
        for (what, least) in [
            ("sign-in stops at the gate", 3),
            ("command refused at the gate", 3),
            ("enrolment: confirmed", 3),
            ("enrolment: wrong code refused", 3),
            ("second step: an unused step's code accepted", 3),
            ("second step: an unused recovery code accepted", 3),
            ("second step: a wrong code refused (second_factor_invalid)", 3),
            ("second step: a replayed code refused (second_factor_invalid)", 3),
            ("second step: a used recovery code refused (second_factor_invalid)", 3),
            ("second step: a wrong code refused (locked_out)", 1),
            ("removal: done", 1),
        ] {
            let seen = stats.factors.get(what).copied().unwrap_or_default();
            assert!(seen >= least, "second factor: {what} {seen} times");
        }
    }
}

// Two halves, so that the test runner spreads the cases over two threads.
#[test]
fn the_directory_agrees_with_the_model() {
    run_half("1/2");
}

#[test]
fn the_directory_agrees_with_the_model_again() {
    run_half("2/2");
}
