//! Driving the real directory: one command on both sides, comparing each outcome and its audit
//! events with what the spec allows, checking that the store and the model agree after every
//! step, and playing (and shortening) a whole case.

use super::expect::{dedup, locked, Outcome, Verdict};
use super::ops::Op;
use super::spec::{show_perms, Perms};
use super::state::{Life, Run, Status, Throttle, PEOPLE};
use super::Stats;
use chrono::Duration;
use gatehouse_core::model::{Action, Module, Permission, UserId, UserStatus};
use gatehouse_core::ErrorCode;
use proptest::test_runner::TestCaseError;
use std::cell::RefCell;
use std::collections::BTreeSet;

pub(super) fn code_of(e: gatehouse_core::Error) -> ErrorCode {
    e.code()
}

impl Run {
    /// Runs one command on both sides. `Ok(false)`: it cannot be expressed yet (no session or
    /// message to use), and is skipped.
    fn run(&mut self, op: &Op) -> Result<bool, TestCaseError> {
        let ran = match op {
            Op::Invite { by, who, roles, form, bad_email } => {
                self.invite(*by, *who, roles, *form, *bad_email)?
            }
            Op::Accept { who, code, by_other, pw, form } => {
                self.accept(*who, *code, *by_other, *pw, *form)?
            }
            Op::Resend { by, who } => self.resend_or_cancel(*by, *who, true)?,
            Op::Cancel { by, who } => self.resend_or_cancel(*by, *who, false)?,
            Op::Deactivate { by, who } => self.status(*by, *who, true)?,
            Op::Reactivate { by, who } => self.status(*by, *who, false)?,
            Op::ChangeRoles { by, who, roles } => self.change_roles(*by, *who, roles)?,
            Op::SignIn { who, pw, times, by_other, form } => {
                self.sign_in(*who, *pw, *times, *by_other, *form)?
            }
            Op::SignOut { by } => self.sign_out(*by)?,
            Op::IssueReset { by, who } => self.issue_reset(*by, *who)?,
            Op::Reset { who, code, by_other, pw, form } => {
                self.reset(*who, *code, *by_other, *pw, *form)?
            }
            Op::Unlock { by, who } => self.unlock(*by, *who)?,
            Op::CreateRole { by, which, perms } => self.create_role(*by, *which, perms)?,
            Op::UpdateRole { by, which, perms } => self.update_role(*by, *which, perms)?,
            Op::DeleteRole { by, which } => self.delete_role(*by, *which)?,
            Op::Settings { by, lifetime_hours, idle_minutes, dormant_days } => {
                self.settings(*by, *lifetime_hours, *idle_minutes, *dormant_days)?
            }
            Op::OwnPassword { by, right, pw } => self.own_password(*by, *right, *pw)?,
            Op::Outbox { by, who, reset, older, act } => {
                self.outbox(*by, *who, *reset, *older, *act)?
            }
            Op::Busy { by, minutes } => self.busy(*by, *minutes)?,
            Op::Enrol { by, start, code, again } => self.enrol(*by, *start, *code, *again)?,
            Op::SecondFactor { by, code, times } => self.second_factor(*by, *code, *times)?,
            Op::NewRecoveryCodes { by } => self.new_recovery_codes(*by)?,
            Op::RemoveSecondFactor { by, who } => self.remove_second_factor(*by, *who)?,
            Op::SetAccessUntil { by, who, days } => self.set_access_until(*by, *who, *days)?,
            Op::Enforce { by } => self.enforce(*by)?,
            Op::Wait { minutes, nanos } => {
                let by = Duration::minutes(*minutes) + Duration::nanoseconds(*nanos);
                self.org.clock.advance(by);
                self.trace.push(format!("#{} wait {minutes} min (+{nanos} ns)", self.step));
                true
            }
        };
        if ran {
            self.settle()?;
        }
        Ok(ran)
    }

    // --- comparing -----------------------------------------------------------------------

    /// Counts the audit events the call wrote and checks the outcome against `allowed`.
    pub(super) fn compare(
        &mut self,
        what: &str,
        real: &Outcome,
        allowed: &[(Outcome, u64)],
    ) -> Result<u64, TestCaseError> {
        // A quiet call (a round of `busy`) is not counted on its own (verify() reads the whole
        // store): `busy` checks that its rounds wrote nothing once they are over.
        let (events, problems) = if self.quiet {
            (0, Vec::new())
        } else {
            let integrity = self
                .org
                .dir
                .verify()
                .map_err(|e| self.fail(format!("verify failed to run: {e}")))?;
            let count = u64::from(integrity.audit_events);
            let events = count.wrapping_sub(self.events);
            self.events = count;
            (events, integrity.problems)
        };
        self.stats.calls += 1;
        let shown = match real {
            Ok(()) => "ok".to_string(),
            Err(code) => gatehouse_core::wire_name(code),
        };
        if !self.quiet {
            self.trace.push(format!("#{} {what} → {shown} ({events} audit events)", self.step));
        }
        self.last_ok = real.is_ok();
        if let Err(code) = real {
            *self.stats.refusals.entry(gatehouse_core::wire_name(code)).or_default() += 1;
        }
        if !allowed.contains(&(*real, events)) {
            let allowed: Vec<String> = allowed
                .iter()
                .map(|(o, e)| match o {
                    Ok(()) => format!("ok ({e} events)"),
                    Err(c) => format!("{} ({e} events)", gatehouse_core::wire_name(c)),
                })
                .collect();
            return Err(self.fail(format!(
                "step {}: {what}: got {shown} with {events} audit events; the spec allows {}",
                self.step,
                allowed.join(" | ")
            )));
        }
        if !problems.is_empty() {
            return Err(self.fail(format!("verify found problems: {problems:?}")));
        }
        Ok(events)
    }

    pub(super) fn compare_verdict(
        &mut self,
        what: &str,
        real: &Outcome,
        v: &Verdict,
    ) -> Result<(), TestCaseError> {
        self.compare(what, real, &v.allowed()).map(|_| ())
    }

    /// Applies the lockout branches that match what happened.
    pub(super) fn follow_throttle(
        &mut self,
        b: usize,
        branches: &[(Outcome, u64, Throttle)],
        real: &Outcome,
        events: u64,
    ) -> Result<(), TestCaseError> {
        let next: Vec<Throttle> = branches
            .iter()
            .filter(|(o, e, _)| o == real && *e == events)
            .map(|(_, _, t)| t.clone())
            .collect();
        if next.is_empty() {
            return Err(self.fail("no lockout state explains the outcome"));
        }
        self.people[b].throttle = dedup(next);
        Ok(())
    }

    // --- after every step ----------------------------------------------------------------

    /// Sessions past the idle timeout or the 12 hours end, as time passes: raising the
    /// timeout later does not bring them back.
    pub(super) fn sweep_sessions(&mut self) {
        for s in 0..self.sessions.len() {
            if self.session_state(s) == Some(false) {
                self.sessions[s].ended = true;
            }
        }
    }

    fn settle(&mut self) -> Result<(), TestCaseError> {
        self.sweep_sessions();
        for b in 0..PEOPLE {
            if self.people[b].reset.is_some() && self.reset_life(b).0 != Life::Valid {
                if let Some(code) = self.people[b].reset.as_mut() {
                    code.lapsed = true;
                }
            }
        }
        self.check_agreement()
    }

    /// The store and the model agree on every user and every session.
    fn check_agreement(&mut self) -> Result<(), TestCaseError> {
        let now = self.now();
        let users = self.org.dir.users_unchecked().map_err(|e| self.fail(e))?;
        let present = self.people.iter().filter(|p| p.status != Status::Absent).count();
        if users.len() != present {
            return Err(
                self.fail(format!("the list holds {} users, the model {present}", users.len()))
            );
        }
        for i in 0..PEOPLE {
            let p = &self.people[i];
            let Some(id) = p.id else { continue };
            let real = users.iter().find(|u| u.id == id);
            let Some(u) = real else {
                if p.status != Status::Absent {
                    return Err(self.fail(format!("person {i} is missing from the list")));
                }
                continue;
            };
            let expected = match p.status {
                Status::Absent => None,
                Status::Invited => Some(UserStatus::Invited),
                Status::Active => Some(UserStatus::Active),
                Status::Inactive => Some(UserStatus::Inactive),
            };
            if Some(u.status) != expected {
                return Err(self.fail(format!(
                    "person {i} is {:?} in the store, {:?} in the model",
                    u.status, p.status
                )));
            }
            let (real_roles, roles): (BTreeSet<&String>, BTreeSet<&String>) =
                (u.roles.iter().collect(), p.roles.iter().collect());
            if real_roles != roles {
                return Err(self.fail(format!(
                    "person {i} holds {:?} in the store, {:?} in the model",
                    u.roles, p.roles
                )));
            }
            if !p.displays.contains(&u.email) {
                return Err(self.fail(format!(
                    "person {i}'s address is stored as {:?}, not as typed ({:?})",
                    u.email, p.displays
                )));
            }
            if let (Some(code), Some(info)) = (&p.invitation, &u.invitation) {
                if info.expires_at != code.expires
                    || (now != code.expires && info.expired != (now > code.expires))
                {
                    return Err(self.fail(format!(
                        "person {i}'s invitation: {info:?} in the store, expiring {} in the model",
                        code.expires
                    )));
                }
            }
            if u.access_until != p.until {
                return Err(self.fail(format!(
                    "person {i}'s access ends on {:?} in the store, {:?} in the model",
                    u.access_until, p.until
                )));
            }
            let days = p.seen.map(|at| (now - at).num_days().max(0) as u32);
            let soon = self.dormant_soon(i);
            if u.days_since_sign_in != days || u.dormant_soon != soon {
                return Err(self.fail(format!(
                    "person {i} signed in {:?} days ago (dormant soon: {}) in the store, {days:?} \
                     ({soon}) in the model",
                    u.days_since_sign_in, u.dormant_soon
                )));
            }
            if u.second_factor != p.factor.is_some() {
                return Err(self.fail(format!(
                    "person {i} {} an authenticator app in the store, {} in the model",
                    if u.second_factor { "has" } else { "has no" },
                    if p.factor.is_some() { "has one" } else { "none" }
                )));
            }
            let is_locked = u.locked_until.is_some();
            let states: Vec<Throttle> = p
                .throttle
                .iter()
                .filter(|t| locked(t, now).contains(&is_locked))
                .cloned()
                .collect();
            if states.is_empty() {
                return Err(self.fail(format!(
                    "person {i}'s address is {}locked in the store, not in the model ({:?})",
                    if is_locked { "" } else { "not " },
                    p.throttle
                )));
            }
            self.people[i].throttle = states;
        }
        // can() for every module and action: for everyone when anyone's permissions changed,
        // else for one person in turn (a change the model did not expect shows up in roles).
        let fingerprint: Vec<(Option<UserId>, Perms)> =
            (0..PEOPLE).map(|i| (self.people[i].id, self.live_perms(i))).collect();
        let everyone = self.checked_perms.as_ref() != Some(&fingerprint);
        self.checked_perms = Some(fingerprint);
        for i in 0..PEOPLE {
            if !everyone && i != self.step % PEOPLE {
                continue;
            }
            let Some(id) = self.people[i].id else { continue };
            let expected = self.live_perms(i);
            for module in Module::ALL {
                for action in Action::ALL {
                    let can = self.org.dir.can(id, module, action).map_err(|e| self.fail(e))?;
                    if can != expected.contains(&Permission { module, action }) {
                        return Err(self.fail(format!(
                            "can(person {i}, {}, {:?}) is {can} in the store; the model gives \
                             them {}",
                            module.key(),
                            action,
                            show_perms(&expected)
                        )));
                    }
                }
            }
        }
        for s in 0..self.sessions.len() {
            let Some(live) = self.session_state(s) else { continue };
            let real =
                self.org.dir.session_is_live(self.sessions[s].id).map_err(|e| self.fail(e))?;
            if real != live {
                let sess = &self.sessions[s];
                return Err(self.fail(format!(
                    "session {s} (person {}, signed in {} min ago, last active {} min ago) is {} \
                     in the store, {} in the model",
                    sess.user,
                    (now - sess.created).num_minutes(),
                    (now - sess.seen).num_minutes(),
                    if real { "live" } else { "over" },
                    if live { "live" } else { "over" }
                )));
            }
        }
        if (0..PEOPLE).all(|i| !(self.people[i].status == Status::Active && self.owner(i))) {
            return Err(self.fail("rule 2: no Active Owner is left"));
        }
        Ok(())
    }
}

pub(super) fn run_case(ops: &[Option<Op>], stats: &RefCell<Stats>) -> Result<(), TestCaseError> {
    play(ops, stats).map_err(|(_, e)| e)
}

/// Runs one case; on failure, the index of the command that failed.
fn play(ops: &[Option<Op>], stats: &RefCell<Stats>) -> Result<(), (usize, TestCaseError)> {
    let mut run = Run::new();
    let mut result = Ok(());
    for (n, op) in ops.iter().enumerate() {
        let Some(op) = op else { continue };
        run.step = n;
        run.stats.generated += 1;
        match run.run(op) {
            Ok(ran) => {
                let ok = run.last_ok || matches!(op, Op::Wait { .. });
                let entry = run.stats.ops.entry(op.name()).or_default();
                entry.0 += u64::from(ran);
                entry.1 += u64::from(ran && ok);
                run.stats.run += u64::from(ran);
            }
            Err(e) => {
                result = Err((n, e));
                break;
            }
        }
    }
    let mut total = stats.borrow_mut();
    total.cases += 1;
    total.generated += run.stats.generated;
    total.run += run.stats.run;
    total.calls += run.stats.calls;
    total.sign_ins_as_others += run.stats.sign_ins_as_others;
    total.granted_later += run.stats.granted_later;
    for (name, (ran, ok)) in run.stats.ops {
        let entry = total.ops.entry(name).or_default();
        entry.0 += ran;
        entry.1 += ok;
    }
    for (code, n) in run.stats.refusals {
        *total.refusals.entry(code).or_default() += n;
    }
    for (what, n) in run.stats.factors {
        *total.factors.entry(what).or_default() += n;
    }
    for (what, n) in run.stats.governance {
        *total.governance.entry(what).or_default() += n;
    }
    result
}

fn reason(e: &TestCaseError) -> String {
    match e {
        TestCaseError::Fail(r) | TestCaseError::Reject(r) => r.message().to_string(),
    }
}

/// Shortens a failing sequence: drops what follows the failure, then every run of commands
/// (halves, quarters, ... single ones) whose removal keeps it failing, within `budget`.
/// Returns the sequence and the failure it gives.
pub(super) fn minimize(ops: Vec<Option<Op>>, budget: std::time::Duration) -> (Vec<Op>, String) {
    let scratch = RefCell::new(Stats::default());
    let fails = |ops: &[Op]| -> Option<(usize, String)> {
        let ops: Vec<Option<Op>> = ops.iter().cloned().map(Some).collect();
        play(&ops, &scratch).err().map(|(at, e)| (at, reason(&e)))
    };
    let mut ops: Vec<Op> = ops.into_iter().flatten().collect();
    let Some((at, mut why)) = fails(&ops) else {
        return (ops, "(the failure did not recur when the case was run again)".into());
    };
    ops.truncate(at + 1);
    let start = std::time::Instant::now();
    let mut chunk = (ops.len() / 2).max(1);
    loop {
        let mut i = 0;
        while i < ops.len() && start.elapsed() < budget {
            let mut candidate = ops.clone();
            candidate.drain(i..(i + chunk).min(ops.len()));
            match fails(&candidate) {
                Some((at, w)) => {
                    candidate.truncate(at + 1);
                    ops = candidate;
                    why = w;
                }
                None => i += chunk,
            }
        }
        if chunk == 1 || start.elapsed() >= budget {
            break;
        }
        chunk /= 2;
    }
    (ops, why)
}
