//! The second factor (domain.md, "Second factor and recovery"): adding an authenticator app
//! (start, then confirm with a right or wrong code), the second step of signing in (the code of
//! a step not used yet, a wrong one, a replayed one, an unused or a used recovery code), a new
//! set of recovery codes, and removing someone's second factor; each checked against what the
//! spec allows, lockout included.
//!
//! Codes are computed as an authenticator app does, from the secret the enrolment showed. The
//! spec's rules for a code: it is the code of a step within one step of now (RFC 6238 drift),
//! and a step is accepted at most once (a later sign-in needs a later step). A code that is the
//! code of two steps within the drift (one chance in hundreds of thousands) is never typed: the
//! spec does not say which step it uses up.

use super::expect::{after_failure, locked, outcomes, session_codes, Outcome, Verdict};
use super::ops::{EnrolCode, FactorPick, Pick, PwPick};
use super::run::code_of;
use super::state::{unknown_id, Factor, Run, Status, Throttle, PEOPLE};
use chrono::{DateTime, Utc};
use gatehouse_core::auth::throttle::REFUSALS_LOGGED;
use gatehouse_core::auth::totp::{step_of, Secret};
use gatehouse_core::model::{Action, Module};
use gatehouse_core::ErrorCode;
use proptest::test_runner::TestCaseError;
use std::collections::BTreeSet;

/// Digits in a code, and recovery codes in a set (domain.md).
const DIGITS: usize = 6;
const RECOVERY_CODES: usize = 10;

/// The code an authenticator app with `secret` shows during `step`.
fn code_at_step(secret: &[u8], step: u64) -> String {
    Secret::from_bytes(secret.to_vec()).code_at_step(step, DIGITS)
}

/// The steps within one step of `now`.
fn window(now: DateTime<Utc>) -> std::ops::RangeInclusive<u64> {
    let current = step_of(now);
    current.saturating_sub(1)..=current + 1
}

/// The steps within the drift whose code is `code`.
fn matching(secret: &[u8], code: &str, now: DateTime<Utc>) -> Vec<u64> {
    window(now).filter(|&step| code_at_step(secret, step) == code).collect()
}

/// The steps within the drift whose code is no other step's there: each an unambiguous code.
fn unique_steps(secret: &[u8], now: DateTime<Utc>) -> Vec<u64> {
    window(now)
        .filter(|&step| matching(secret, &code_at_step(secret, step), now).len() == 1)
        .collect()
}

/// The steps within the drift not used yet (after `last`), each with an unambiguous code.
pub(super) fn fresh_steps(
    secret: &[u8],
    last: u64,
    now: DateTime<Utc>,
) -> impl Iterator<Item = u64> {
    unique_steps(secret, now).into_iter().filter(move |&step| step > last)
}

/// Six digits that are no step's code within the drift (`secret`: when there is one).
fn wrong_code(secret: Option<&[u8]>, now: DateTime<Utc>, k: u8) -> String {
    let mut n = (u32::from(k) * 7919 + 12345) % 1_000_000;
    loop {
        let code = format!("{n:06}");
        if secret.is_none_or(|s| matching(s, &code, now).is_empty()) {
            return code;
        }
        n = (n + 1) % 1_000_000;
    }
}

/// What the spec makes of a code typed at the second step.
#[derive(Debug, Clone)]
enum Judged {
    /// The authenticator's code of this step, not used yet.
    Totp(u64),
    /// This unused recovery code (as the set was shown).
    Recovery(String),
    Invalid,
}

impl Run {
    /// A recovery code no set holds, shaped as the real ones the model has seen.
    fn made_up_recovery(&self) -> String {
        let seen = self.people.iter().find_map(|p| {
            let unused = p.recovery.as_ref().and_then(|set| set.unused.first());
            unused.or(p.used_recovery.first())
        });
        let shape = seen.map_or("ABCD-EFGH-IJKL-MNOP-QRST-UVWX", String::as_str);
        shape.chars().map(|c| if c == '-' { c } else { 'A' }).collect()
    }

    // --- enrolment -------------------------------------------------------------------------

    pub(super) fn enrol(
        &mut self,
        by: Pick,
        start: bool,
        code: EnrolCode,
        again: bool,
    ) -> Result<bool, TestCaseError> {
        let Some(mut s) = self.pick(by)? else { return Ok(false) };
        if by.live && by.n % 4 != 0 {
            // Mostly someone without an authenticator yet, so that many people have one.
            let bare: Vec<usize> = (0..self.sessions.len())
                .filter(|&x| {
                    let sess = &self.sessions[x];
                    self.session_state(x) == Some(true)
                        && !sess.waiting
                        && self.people[sess.user].factor.is_none()
                })
                .collect();
            if let Some(&x) = bare.get(usize::from(by.n) % bare.len().max(1)) {
                s = x;
            } else {
                // Nobody without one is signed in: someone signs in to add one.
                let now = self.now();
                let who: Vec<usize> = (0..PEOPLE)
                    .filter(|&i| {
                        let p = &self.people[i];
                        p.status == Status::Active
                            && p.factor.is_none()
                            && !p.passwords.is_empty()
                            && p.throttle.iter().all(|t| locked(t, now) == [false])
                    })
                    .collect();
                if let Some(&b) = who.get(usize::from(by.n) % who.len().max(1)) {
                    self.sign_in(b, PwPick::Right, 1, false, 0)?;
                    if !self.last_ok {
                        return Ok(true);
                    }
                    s = self.sessions.len() - 1;
                }
            }
        }
        let (a, holder, id) = (self.sessions[s].user, self.sessions[s].holder, self.sessions[s].id);
        if start {
            // Shows a new secret; nothing is audited until it is confirmed.
            let mut v = Verdict::go(&[0]);
            let actor = self.begin(s, &mut v);
            let real = self.org.dir.start_enrolment(id).map_err(code_of);
            if real.as_ref().is_err_and(|c| *c == ErrorCode::CredentialStoreUnavailable) {
                return Err(self.fail(
                    "no credential store keeps the authenticator's key: run the model under \
                     scripts/with-keyring (as `make rust-test` and `make soak` do)",
                ));
            }
            let what = format!("{} starts adding an authenticator app", self.who(s));
            self.compare_verdict(&what, &real.as_ref().map(|_| ()).map_err(|c| *c), &v)?;
            let (Some(_), Ok(shown)) = (actor, real) else { return Ok(true) };
            let secret = data_encoding::BASE32_NOPAD
                .decode(shown.secret.as_bytes())
                .map_err(|e| self.fail(format!("the secret shown is not base32: {e}")))?;
            if !shown.otpauth_uri.contains(&shown.secret) {
                return Err(self.fail("the otpauth URI does not carry the secret shown"));
            }
            self.people[a].enrolling = Some(Factor { secret, last_step: 0, holder });
        }
        let mut v = Verdict::go(&[1]);
        let actor = self.begin(s, &mut v);
        let now = self.now();
        let pending = self.people[a].enrolling.clone();
        let (typed, step, shown) = match (&pending, code) {
            (Some(p), EnrolCode::Right) if p.holder == holder => {
                let steps = unique_steps(&p.secret, now);
                let current = step_of(now);
                let Some(&step) = steps.iter().find(|&&x| x == current).or(steps.first()) else {
                    return Ok(true);
                };
                (code_at_step(&p.secret, step), Some(step), "the code shown now")
            }
            (Some(p), _) => {
                let k = if let EnrolCode::Wrong(k) = code { k } else { 0 };
                (wrong_code(Some(&p.secret), now, k), None, "a wrong code")
            }
            (None, _) => (wrong_code(None, now, 0), None, "a code, with no enrolment started,"),
        };
        if actor.is_some() {
            // A wrong code changes nothing: not counted towards the lockout, not audited.
            v.reject(pending.is_none(), ErrorCode::NotEnrolling);
            v.reject(pending.is_some() && step.is_none(), ErrorCode::SecondFactorInvalid);
        }
        let real = self.org.dir.confirm_enrolment(id, &typed).map_err(code_of);
        let what = format!("{} confirms the enrolment with {shown}", self.who(s));
        self.compare_verdict(&what, &real.as_ref().map(|_| ()).map_err(|c| *c), &v)?;
        if actor.is_some() && matches!(real, Err(ErrorCode::SecondFactorInvalid)) {
            self.stats.count("enrolment: wrong code refused");
        }
        let (Some(_), Some(pending), Some(step), Ok(enrolled)) = (actor, pending, step, real)
        else {
            return Ok(true);
        };
        let codes = &enrolled.recovery_codes;
        if codes.len() != RECOVERY_CODES
            || codes.iter().collect::<BTreeSet<_>>().len() != codes.len()
        {
            return Err(self.fail(format!("the enrolment gave {} recovery codes", codes.len())));
        }
        let info = &enrolled.session;
        if !info.second_factor || info.recovery_codes_left != Some(RECOVERY_CODES as u32) {
            return Err(self.fail(format!(
                "after enrolling: second factor {}, {:?} recovery codes left",
                info.second_factor, info.recovery_codes_left
            )));
        }
        self.stats.count("enrolment: confirmed");
        let p = &mut self.people[a];
        p.factor = Some(Factor { secret: pending.secret, last_step: step, holder });
        p.enrolling = None;
        p.new_recovery(enrolled.recovery_codes, holder);
        if again {
            // An enrolment is confirmed once.
            let mut v = Verdict::go(&[]);
            self.begin(s, &mut v);
            v.reject(v.refuse.is_empty(), ErrorCode::NotEnrolling);
            let real = self.org.dir.confirm_enrolment(id, &typed).map(|_| ()).map_err(code_of);
            let what = format!("{} confirms the same enrolment again", self.who(s));
            self.compare_verdict(&what, &real, &v)?;
            // The command itself succeeded.
            self.last_ok = true;
        }
        Ok(true)
    }

    pub(super) fn new_recovery_codes(&mut self, by: Pick) -> Result<bool, TestCaseError> {
        let Some(s) = self.pick(by)? else { return Ok(false) };
        let mut v = Verdict::go(&[1]);
        let actor = self.begin(s, &mut v);
        let real = self.org.dir.new_recovery_codes(self.sessions[s].id).map_err(code_of);
        let what = format!("{} asks for new recovery codes", self.who(s));
        self.compare_verdict(&what, &real.as_ref().map(|_| ()).map_err(|c| *c), &v)?;
        let (Some(a), Ok(codes)) = (actor, real) else { return Ok(true) };
        if codes.len() != RECOVERY_CODES
            || codes.iter().collect::<BTreeSet<_>>().len() != codes.len()
        {
            return Err(self.fail(format!("a new set has {} recovery codes", codes.len())));
        }
        let holder = self.sessions[s].holder;
        self.people[a].new_recovery(codes, holder);
        Ok(true)
    }

    // --- the second step of signing in ---------------------------------------------------

    pub(super) fn second_factor(
        &mut self,
        by: Pick,
        pick: FactorPick,
        times: u8,
    ) -> Result<bool, TestCaseError> {
        let s = if by.live {
            let waiting: Vec<usize> = (0..self.sessions.len())
                .filter(|&s| {
                    let sess = &self.sessions[s];
                    !sess.ended && sess.waiting && self.session_state(s) != Some(false)
                })
                .collect();
            if let Some(&s) = waiting.get(usize::from(by.n) % waiting.len().max(1)) {
                s
            } else {
                // Nobody waits at the gate: someone with an authenticator signs in first.
                let now = self.now();
                let who: Vec<usize> = (0..PEOPLE)
                    .filter(|&i| {
                        let p = &self.people[i];
                        p.status == Status::Active
                            && p.factor.is_some()
                            && !p.passwords.is_empty()
                            && p.throttle.iter().all(|t| locked(t, now) == [false])
                    })
                    .collect();
                match who.get(usize::from(by.n) % who.len().max(1)) {
                    Some(&b) => {
                        self.sign_in(b, PwPick::Right, 1, false, 0)?;
                        if !self.last_ok {
                            return Ok(true);
                        }
                        self.sessions.len() - 1
                    }
                    None => match self.pick(by)? {
                        Some(s) => s,
                        None => return Ok(false),
                    },
                }
            }
        } else {
            match self.pick(by)? {
                Some(s) => s,
                None => return Ok(false),
            }
        };
        // Wrong codes, over and over: the fifth in a row locks the address.
        let times = if matches!(pick, FactorPick::Wrong(_)) { times } else { 1 };
        let mut ran = false;
        for _ in 0..times {
            ran |= self.second_step(s, pick)?;
            if self.sessions[s].ended {
                break;
            }
        }
        Ok(ran)
    }

    /// The code `pick` stands for, typed by session `s`'s holder; for a recovery code, also
    /// the form the set showed; and how the trace names it. A holder who never saw the
    /// authenticator's secret or the recovery codes guesses.
    fn factor_code(&self, s: usize, pick: FactorPick) -> (String, Option<String>, String) {
        let now = self.now();
        let (b, holder) = (self.sessions[s].user, self.sessions[s].holder);
        let p = &self.people[b];
        let secret = p.factor.as_ref().map(|f| f.secret.as_slice());
        let guess = |k: u8| (wrong_code(secret, now, k), None, "a guessed code".to_string());
        match pick {
            FactorPick::Right(k) => match &p.factor {
                Some(f) if f.holder == holder => {
                    let fresh: Vec<u64> = fresh_steps(&f.secret, f.last_step, now).collect();
                    match fresh.get(usize::from(k) % fresh.len().max(1)) {
                        Some(&step) => (
                            code_at_step(&f.secret, step),
                            None,
                            format!("the code of step now{:+}", step as i64 - step_of(now) as i64),
                        ),
                        None => (
                            code_at_step(&f.secret, step_of(now)),
                            None,
                            format!(
                                "the code shown now (step {} used)",
                                f.last_step as i64 - step_of(now) as i64
                            ),
                        ),
                    }
                }
                _ => guess(k),
            },
            FactorPick::Wrong(k) => (wrong_code(secret, now, k), None, "a wrong code".to_string()),
            FactorPick::Replayed => match &p.factor {
                Some(f) => (
                    code_at_step(&f.secret, f.last_step),
                    None,
                    format!(
                        "the code of the step last used (now{:+})",
                        f.last_step as i64 - step_of(now) as i64
                    ),
                ),
                None => guess(0),
            },
            FactorPick::Recovery(k) => match &p.recovery {
                Some(set) if set.holder == holder && !set.unused.is_empty() => {
                    let code = set.unused[usize::from(k) % set.unused.len()].clone();
                    let typed = if k % 2 == 1 { code.to_lowercase() } else { code.clone() };
                    let left = set.unused.len();
                    (typed, Some(code), format!("an unused recovery code ({left} left)"))
                }
                _ => {
                    let code = self.made_up_recovery();
                    (code.clone(), Some(code), "a recovery code of no set".to_string())
                }
            },
            FactorPick::UsedRecovery(k) => {
                let code = match p.used_recovery.len() {
                    0 => self.made_up_recovery(),
                    n => p.used_recovery[usize::from(k) % n].clone(),
                };
                (code.clone(), Some(code), "a used or voided recovery code".to_string())
            }
        }
    }

    /// What the spec makes of `typed` for person `b` now; `None` when it is ambiguous (the
    /// code of two steps within the drift).
    fn judge(&self, b: usize, typed: &str, recovery: Option<&str>) -> Option<Judged> {
        let p = &self.people[b];
        if let Some(code) = recovery {
            let unused =
                p.recovery.as_ref().is_some_and(|set| set.unused.iter().any(|c| c == code));
            return Some(if unused { Judged::Recovery(code.to_string()) } else { Judged::Invalid });
        }
        let Some(f) = &p.factor else { return Some(Judged::Invalid) };
        let steps = matching(&f.secret, typed, self.now());
        match steps.as_slice() {
            [step] if *step > f.last_step => Some(Judged::Totp(*step)),
            _ if steps.iter().all(|&step| step <= f.last_step) => Some(Judged::Invalid),
            _ => None,
        }
    }

    /// The second step on session `s` with the code `pick` stands for. A wrong code counts as
    /// a failed sign-in for the address (audited; the fifth in a row locks it, and the session
    /// ends); a right one signs in fully and clears the count. `Ok(false)`: no unambiguous code.
    pub(super) fn second_step(
        &mut self,
        s: usize,
        pick: FactorPick,
    ) -> Result<bool, TestCaseError> {
        let now = self.now();
        let b = self.sessions[s].user;
        let (typed, recovery, shown) = self.factor_code(s, pick);
        let Some(judged) = self.judge(b, &typed, recovery.as_deref()) else { return Ok(false) };
        let mut branches: Vec<(Outcome, u64, Throttle)> = Vec::new();
        let live = self.reach(s);
        let at_gate = live && self.sessions[s].waiting;
        for t in self.people[b].throttle.clone() {
            if !live {
                for (code, events) in session_codes() {
                    branches.push((Err(code), events, t.clone()));
                }
            } else if !at_gate {
                // Signed in fully already: nothing is owed, nothing happens.
                branches.push((Ok(()), 0, t.clone()));
            } else {
                for is_locked in locked(&t, now) {
                    if is_locked {
                        let next = Throttle { refused: t.refused + 1, ..t.clone() };
                        let events = u64::from(next.refused <= REFUSALS_LOGGED);
                        branches.push((Err(ErrorCode::LockedOut), events, next));
                    } else if !matches!(judged, Judged::Invalid) {
                        branches.push((Ok(()), 1 + t.closing(), Throttle::default()));
                    } else {
                        let events = 1 + t.closing();
                        for (next, locks) in after_failure(&t, now) {
                            branches.push((
                                Err(ErrorCode::SecondFactorInvalid),
                                events,
                                next.clone(),
                            ));
                            if locks {
                                branches.push((Err(ErrorCode::LockedOut), events, next));
                            }
                        }
                    }
                }
            }
        }
        let allowed = outcomes(&branches);
        let real = self.org.dir.verify_second_factor(self.sessions[s].id, &typed).map_err(code_of);
        let outcome = real.as_ref().map(|_| ()).map_err(|c| *c);
        let what = format!("{} gives {shown} at the second step", self.who(s));
        let events = self.compare(&what, &outcome, &allowed)?;
        self.follow_throttle(b, &branches, &outcome, events)?;
        let kind = match (pick, &judged) {
            (_, Judged::Totp(_)) => "an unused step's code",
            (_, Judged::Recovery(_)) => "an unused recovery code",
            (FactorPick::Right(_), _) => "a code of a used step, or guessed",
            (FactorPick::Wrong(_), _) => "a wrong code",
            (FactorPick::Replayed, _) => "a replayed code",
            (FactorPick::Recovery(_), _) => "a recovery code of no set",
            (FactorPick::UsedRecovery(_), _) => "a used recovery code",
        };
        let result = match (&outcome, at_gate) {
            (_, false) if live => "(signed in fully already)".to_string(),
            (_, false) => "(session over)".to_string(),
            (Ok(()), true) => "accepted".to_string(),
            (Err(code), true) => format!("refused ({})", gatehouse_core::wire_name(code)),
        };
        self.stats.count(&format!("second step: {kind} {result}"));
        match real {
            Ok(info) if at_gate => {
                self.sessions[s].waiting = false;
                self.people[b].seen = Some(now);
                match judged {
                    Judged::Totp(step) => {
                        if let Some(f) = self.people[b].factor.as_mut() {
                            f.last_step = step;
                        }
                    }
                    Judged::Recovery(code) => self.people[b].spend_recovery(code),
                    Judged::Invalid => {}
                }
                let p = &self.people[b];
                let left = p.recovery.as_ref().map(|set| set.unused.len() as u32);
                if info.gate.is_some() || !info.second_factor || info.recovery_codes_left != left {
                    return Err(self.fail(format!(
                        "after the second step: gate {:?}, second factor {}, {:?} recovery codes \
                         left; the model expects none, true, {left:?}",
                        info.gate, info.second_factor, info.recovery_codes_left
                    )));
                }
            }
            Ok(_) => {}
            // The half-signed-in session ends with the lockout.
            Err(ErrorCode::LockedOut) => self.sessions[s].ended = true,
            Err(_) => {}
        }
        Ok(true)
    }

    // --- removal -----------------------------------------------------------------------------

    pub(super) fn remove_second_factor(
        &mut self,
        by: Pick,
        b: usize,
    ) -> Result<bool, TestCaseError> {
        let Some(mut s) = self.pick(by)? else { return Ok(false) };
        if by.live && by.n % 4 != 0 {
            // Mostly a manager (now and then one who is no Owner), while someone else has an
            // authenticator (to remove, or to be refused by rules 1 and 6).
            let managers: Vec<usize> = (0..self.sessions.len())
                .filter(|&x| {
                    let sess = &self.sessions[x];
                    self.session_state(x) == Some(true)
                        && !sess.waiting
                        && self.can(sess.user, Module::Users, Action::Update)
                        && (by.n % 4 != 3 || !self.owner(sess.user))
                        && (0..PEOPLE).any(|i| i != sess.user && self.people[i].factor.is_some())
                })
                .collect();
            if let Some(&x) = managers.get(usize::from(by.n) % managers.len().max(1)) {
                s = x;
            }
        }
        let b = self.resolve(s, b, |p| p.factor.is_some());
        let id = self.people[b].id.unwrap_or_else(|| unknown_id(b));
        let mut v = Verdict::go(&[1]);
        let actor = self.begin(s, &mut v);
        if let Some(a) = actor {
            v.deny(!self.can(a, Module::Users, Action::Update), ErrorCode::PermissionDenied);
            let p = &self.people[b];
            if p.status == Status::Absent {
                v.reject(true, ErrorCode::UserNotFound);
            } else {
                // Rules 3, 1 and 6, as for every act on a person.
                v.deny(a == b, ErrorCode::OwnStatus);
                v.deny(a != b && self.owner(b) && !self.owner(a), ErrorCode::OwnerOnly);
                v.deny(!self.dominates(a, b), ErrorCode::NotDominant);
                if p.factor.is_none() {
                    if p.enrolling.is_some() {
                        // An enrolment started, not confirmed: the spec does not say whether
                        // it counts as a second factor to remove.
                        v.maybe(true, ErrorCode::NoSecondFactor, 0);
                    } else {
                        v.reject(true, ErrorCode::NoSecondFactor);
                    }
                }
            }
        }
        let real = self.org.dir.remove_second_factor(self.sessions[s].id, id).map_err(code_of);
        let what = format!("{} removes person {b}'s second factor", self.who(s));
        self.compare_verdict(&what, &real.as_ref().map(|_| ()).map_err(|c| *c), &v)?;
        if let (Some(_), Err(code)) = (actor, &real) {
            self.stats.count(&format!("removal: refused ({})", gatehouse_core::wire_name(code)));
        }
        let (Some(_), Ok(view)) = (actor, real) else { return Ok(true) };
        if view.second_factor {
            return Err(self.fail("the user still shows a second factor after its removal"));
        }
        self.stats.count(if self.people[b].factor.is_some() {
            "removal: done"
        } else {
            "removal: a pending enrolment dropped"
        });
        let p = &mut self.people[b];
        p.factor = None;
        p.enrolling = None;
        self.end_sessions(b, None);
        Ok(true)
    }
}
