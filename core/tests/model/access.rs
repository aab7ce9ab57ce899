//! Signing in and out, changing one's own password, and keeping a session busy for hours; each
//! checked against what the spec allows, lockout included.

use super::expect::{after_failure, locked, outcomes, Outcome, Verdict};
use super::ops::{Pick, PwPick};
use super::run::code_of;
use super::spec::PASSWORD_HISTORY;
use super::state::{address, Run, Status, Tally, Throttle, PASSWORDS, WEAK, WRONG};
use crate::support::MEMBER_PASSWORD;
use chrono::{DateTime, Duration, Utc};
use gatehouse_core::auth::throttle::{REFUSALS_LOGGED, TALLY_BUDGET, TALLY_WINDOW_MINUTES};
use gatehouse_core::{ErrorCode, Gate};
use proptest::test_runner::TestCaseError;

impl Run {
    pub(super) fn sign_in(
        &mut self,
        b: usize,
        pw: PwPick,
        times: u8,
        by_other: bool,
        form: u8,
    ) -> Result<bool, TestCaseError> {
        let (typed, _) = address(b, form);
        let p = &self.people[b];
        let current = p.passwords.first().copied();
        let (password, holder) = match pw {
            PwPick::Right => match current {
                Some(i) => {
                    let other = p.password_known.keys().copied().find(|&x| x != b);
                    (PASSWORDS[i], if by_other { other.unwrap_or(b) } else { b })
                }
                None => (MEMBER_PASSWORD, b),
            },
            PwPick::Wrong => (WRONG, b),
            PwPick::Old => (p.passwords.get(1).map_or(WRONG, |&i| PASSWORDS[i]), b),
        };
        // With an authenticator, a right password only opens the gate: the count of failures
        // stands until the second factor is given, and nothing is audited yet.
        let factor = p.factor.is_some();
        let snap = p.password_known.get(&holder).cloned().unwrap_or_else(|| self.self_snap(b));
        let times = if matches!(pw, PwPick::Wrong) { times } else { 1 };
        for _ in 0..times {
            let now = self.now();
            // An end date or dormancy reached since the system last looked ends the person's
            // access first (one event by the system), unless they are the last Active Owner:
            // then a sign-in without a second step tells them how long they were away.
            let ended = match self.ends_now(b) {
                Some(why) => {
                    self.end_access(b, why);
                    self.stats.count_gov("ended at sign-in");
                    1
                }
                None => 0,
            };
            // Told only of dormancy (an end date passed on the last Owner is not that).
            let kept = match (self.dormant(b), self.counted_from(b)) {
                (true, Some(at)) if !factor => Some((now - at).num_days().max(0) as u32),
                _ => None,
            };
            let good = current.is_some_and(|i| PASSWORDS[i] == password)
                && self.people[b].status == Status::Active;
            // An address no user has: the window's tally decides whether the attempt is an
            // event of its own; a user's: always, but for refusals past the first few.
            let known = self.people[b].status != Status::Absent;
            let (stranger_events, tally) = self.stranger_attempt(now);
            let mut branches: Vec<(Outcome, u64, Throttle)> = Vec::new();
            for t in &self.people[b].throttle {
                for is_locked in locked(t, now) {
                    if is_locked && known {
                        let next = Throttle { refused: t.refused + 1, ..t.clone() };
                        let events = u64::from(next.refused <= REFUSALS_LOGGED);
                        branches.push((Err(ErrorCode::LockedOut), events, next));
                    } else if is_locked {
                        branches.push((Err(ErrorCode::LockedOut), stranger_events, t.clone()));
                    } else if good && factor {
                        branches.push((Ok(()), 0, t.clone()));
                    } else if good {
                        branches.push((Ok(()), 1 + t.closing(), Throttle::default()));
                    } else {
                        let events = if known { 1 + t.closing() } else { stranger_events };
                        for (next, locks) in after_failure(t, now) {
                            branches.push((
                                Err(ErrorCode::InvalidCredentials),
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
            if !known {
                self.tally = Some(tally);
            }
            for branch in &mut branches {
                branch.1 += ended;
            }
            let allowed = outcomes(&branches);
            let real = self
                .org
                .dir
                .sign_in(&typed, password)
                .map(|s| (s.session, s.info.gate, s.info.kept_though_dormant))
                .map_err(code_of);
            let what = match (holder == b, pw) {
                (false, _) => format!("person {holder} signs in as person {b} ({typed:?})"),
                (true, PwPick::Right) => format!("person {b} signs in as {typed:?}"),
                (true, _) => format!("person {b} signs in as {typed:?} with a {pw:?} password"),
            };
            let events = self.compare(&what, &real.map(|_| ()), &allowed)?;
            self.follow_throttle(b, &branches, &real.map(|_| ()), events)?;
            if let Ok((session, gate, kept_for)) = real {
                let expected = factor.then_some(Gate::SecondFactor);
                if gate != expected {
                    return Err(self.fail(format!(
                        "the session waits at {gate:?}, the model expects {expected:?}"
                    )));
                }
                if kept_for != kept {
                    return Err(self.fail(format!(
                        "the sign-in says the person was kept though dormant for {kept_for:?} \
                         days; the model expects {kept:?}"
                    )));
                }
                if kept.is_some() {
                    self.stats.count_gov("last owner kept at sign-in");
                }
                if !factor {
                    self.people[b].seen = Some(now);
                }
                if factor {
                    self.stats.count("sign-in stops at the gate");
                }
                self.new_session(session, b, holder, snap.clone(), factor);
                self.signed_in_as(holder, b, &snap)?;
            }
        }
        Ok(true)
    }

    /// The events of one attempt for an address no user has, and the window's tally after it:
    /// an ended window's counted attempts are audited as one event; then the attempt is an
    /// event of its own while the window's budget lasts, else counted.
    fn stranger_attempt(&self, now: DateTime<Utc>) -> (u64, Tally) {
        let fresh = Tally { since: now, logged: 0, counted: 0 };
        let (mut tally, closing) = match &self.tally {
            Some(t) if now - t.since < Duration::minutes(TALLY_WINDOW_MINUTES) => (t.clone(), 0),
            Some(t) => (fresh, u64::from(t.counted > 0)),
            None => (fresh, 0),
        };
        let own = if tally.logged < TALLY_BUDGET {
            tally.logged += 1;
            1
        } else {
            tally.counted += 1;
            0
        };
        (closing + own, tally)
    }

    pub(super) fn sign_out(&mut self, by: Pick) -> Result<bool, TestCaseError> {
        let Some(s) = self.pick(by)? else { return Ok(false) };
        // Signing out of a session that already ended is not an error.
        let live = self.session_state(s) == Some(true);
        let v = Verdict::go(if live { &[1][..] } else { &[0, 1][..] });
        let real = self.org.dir.sign_out(self.sessions[s].id).map_err(code_of);
        let what = format!("{} signs out", self.who(s));
        self.compare_verdict(&what, &real, &v)?;
        self.sessions[s].ended = true;
        Ok(true)
    }

    pub(super) fn own_password(
        &mut self,
        by: Pick,
        right: bool,
        pw: usize,
    ) -> Result<bool, TestCaseError> {
        let Some(s) = self.pick(by)? else { return Ok(false) };
        let mut v = Verdict::go(&[1]);
        let actor = self.begin(s, &mut v);
        let a = self.sessions[s].user;
        let typed = match (right, self.people[a].passwords.first()) {
            (true, Some(&i)) => PASSWORDS[i],
            _ => WRONG,
        };
        let right = typed != WRONG;
        let now = self.now();
        let weak = pw == WEAK;
        let position = self.people[a].passwords.iter().position(|&x| x == pw);
        // (outcome, events, lockout state after)
        let mut branches: Vec<(Outcome, u64, Throttle)> = Vec::new();
        if actor.is_none() {
            // The session is over, or waits at the gate.
            for &(code, events) in &v.refuse {
                for t in &self.people[a].throttle {
                    branches.push((Err(code), events, t.clone()));
                }
            }
        } else {
            let go_on = |next: &Throttle, branches: &mut Vec<(Outcome, u64, Throttle)>| {
                if weak {
                    branches.push((Err(ErrorCode::WeakPassword), 0, next.clone()));
                } else if position.is_some_and(|i| i < PASSWORD_HISTORY) {
                    branches.push((Err(ErrorCode::PasswordReused), 0, next.clone()));
                } else {
                    if position == Some(PASSWORD_HISTORY) {
                        branches.push((Err(ErrorCode::PasswordReused), 0, next.clone()));
                    }
                    branches.push((Ok(()), 1, next.clone()));
                }
            };
            // A success that replaces a count with refusals still to audit writes their event.
            let go_on_from = |t: &Throttle, branches: &mut Vec<(Outcome, u64, Throttle)>| {
                let start = branches.len();
                go_on(&Throttle::default(), branches);
                for branch in &mut branches[start..] {
                    if branch.0.is_ok() {
                        branch.1 += t.closing();
                    }
                }
            };
            for t in self.people[a].throttle.clone() {
                for is_locked in locked(&t, now) {
                    if is_locked {
                        // Lockout applies: refused whatever the password; whether a right one
                        // still goes through is left open.
                        let next = Throttle { refused: t.refused + 1, ..t.clone() };
                        let events = u64::from(next.refused <= REFUSALS_LOGGED);
                        branches.push((Err(ErrorCode::LockedOut), events, next));
                        if right {
                            go_on(&t, &mut branches);
                        } else {
                            branches.push((Err(ErrorCode::WrongPassword), 1, t.clone()));
                        }
                    } else if right {
                        // Whether a right current password clears the count is left open.
                        go_on(&t, &mut branches);
                        go_on_from(&t, &mut branches);
                    } else {
                        let events = 1 + t.closing();
                        for (next, locks) in after_failure(&t, now) {
                            branches.push((Err(ErrorCode::WrongPassword), events, next.clone()));
                            if locks {
                                branches.push((Err(ErrorCode::LockedOut), events, next));
                            }
                        }
                    }
                    if !right {
                        // The new password may be judged before the current one.
                        if weak {
                            branches.push((Err(ErrorCode::WeakPassword), 0, t.clone()));
                        }
                        if position.is_some_and(|i| i <= PASSWORD_HISTORY) {
                            branches.push((Err(ErrorCode::PasswordReused), 0, t.clone()));
                        }
                    }
                }
            }
        }
        let allowed = outcomes(&branches);
        let real = self
            .org
            .dir
            .change_own_password(self.sessions[s].id, typed, PASSWORDS[pw])
            .map_err(code_of);
        let what = format!(
            "{} changes their password{} to password {pw}",
            self.who(s),
            if right { "" } else { ", typing a wrong current one," }
        );
        let events = self.compare(&what, &real, &allowed)?;
        if actor.is_none() {
            return Ok(true);
        }
        self.follow_throttle(a, &branches, &real, events)?;
        if real.is_ok() {
            let (holder, snap) = (self.sessions[s].holder, self.sessions[s].snap.clone());
            let p = &mut self.people[a];
            p.passwords.insert(0, pw);
            p.password_known = [(holder, snap)].into();
            self.end_sessions(a, Some(s));
        }
        Ok(true)
    }

    pub(super) fn busy(&mut self, by: Pick, minutes: i64) -> Result<bool, TestCaseError> {
        let Some(s) = self.pick(by)? else { return Ok(false) };
        let a = self.sessions[s].user;
        let Some(id) = self.people[a].id else { return Ok(false) };
        let mut left = Duration::minutes(minutes);
        let mut rounds = 0;
        let mut last = String::new();
        self.quiet = true;
        while left > Duration::zero() && rounds < 100 {
            rounds += 1;
            let pause = Duration::seconds(i64::from(self.idle_minutes) * 60 - 7).min(left);
            self.org.clock.advance(pause);
            left -= pause;
            self.sweep_sessions();
            let mut v = Verdict::go(&[0]);
            self.begin(s, &mut v);
            let real = self.org.dir.get_user(self.sessions[s].id, id).map(|_| ()).map_err(code_of);
            let what = format!(
                "{} keeps working for {minutes} min: reads their profile, {} min after signing in",
                self.who(s),
                (self.now() - self.sessions[s].created).num_minutes()
            );
            let compared = self.compare_verdict(&what, &real, &v);
            last = format!("#{} {what} → {}", self.step, if real.is_ok() { "ok" } else { "over" });
            if compared.is_err() {
                self.quiet = false;
                self.trace.push(last);
                return compared.map(|_| true);
            }
            if real.is_err() {
                break;
            }
        }
        self.quiet = false;
        self.trace.push(format!("{last} (after {rounds} rounds)"));
        let integrity = self.org.dir.verify().map_err(|e| self.fail(e))?;
        let count = u64::from(integrity.audit_events);
        if count != self.events {
            return Err(self.fail(format!(
                "reading one's own profile wrote {} audit events",
                count.wrapping_sub(self.events)
            )));
        }
        Ok(true)
    }
}
