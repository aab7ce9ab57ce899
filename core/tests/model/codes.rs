//! Invitation and reset codes in the model: who has seen which code and what they held then
//! (rule 7), whether a code or its letter still works, retiring and issuing codes, and the
//! sign-in invariant for credentials learned from someone else.

use super::ops::CodePick;
use super::spec::{show_perms, Perms};
use super::state::{Code, Life, Msg, MsgLife, Person, Run, Snap, Stale, Status, PEOPLE};
use chrono::{DateTime, Duration, Utc};
use gatehouse_core::model::{Action, Module};
use gatehouse_core::ErrorCode;
use proptest::test_runner::TestCaseError;
use std::collections::BTreeMap;
use uuid::Uuid;

impl Run {
    /// Rule 7: `learner`, acting as `identity`, sees a code of `target`'s. Returns what they
    /// held then.
    pub(super) fn learn(
        &self,
        learner: usize,
        identity: usize,
        target: usize,
    ) -> Result<Snap, TestCaseError> {
        if learner != target
            && !self.owner(identity)
            && !self.perms(target).is_subset(&self.live_perms(identity))
        {
            return Err(self.fail(format!(
                "rule 7: person {learner} (as person {identity}) saw a code of person {target}'s \
                 without dominating them"
            )));
        }
        Ok(Snap { target: self.perms(target), learner: self.live_perms(identity) })
    }

    /// Whether `b`'s reset code still works, and whether it is past its expiry.
    pub(super) fn reset_life(&self, b: usize) -> (Life, bool) {
        let Some(code) = &self.people[b].reset else { return (Life::Dead, false) };
        let now = self.now();
        if now > code.expires {
            return (Life::Dead, true);
        }
        let i = code.issuer;
        if self.people[b].status != Status::Active
            || self.people[i].status != Status::Active
            || !self.dominates(i, b)
        {
            return (Life::Dead, false);
        }
        if code.lapsed
            || now == code.expires
            || !self.can(i, Module::Users, Action::Update)
            || (i != b && self.owner(b) && !self.owner(i))
        {
            return (Life::Either, false);
        }
        (Life::Valid, false)
    }

    pub(super) fn msg_life(&self, m: &Msg) -> MsgLife {
        if m.finished {
            return MsgLife::Finished;
        }
        let p = &self.people[m.to];
        let now = self.now();
        if !m.reset {
            return match &p.invitation {
                Some(c) if c.text == m.code && now < c.expires => MsgLife::Unsent,
                Some(c) if c.text == m.code && now == c.expires => MsgLife::Either,
                _ => MsgLife::Erased,
            };
        }
        match &p.reset {
            Some(c) if c.text == m.code => match self.reset_life(m.to) {
                (Life::Valid, _) => MsgLife::Unsent,
                (_, true) => MsgLife::Erased,
                _ => MsgLife::Either,
            },
            _ => MsgLife::Erased,
        }
    }

    /// The person a command sent with session `s` aims at: now and then anyone (oneself, out
    /// of the list, never invited), mostly someone else in the list, preferring those `prefer`
    /// picks.
    pub(super) fn resolve(&self, s: usize, n: usize, prefer: impl Fn(&Person) -> bool) -> usize {
        if n % 8 == 0 {
            return n / 8 % PEOPLE;
        }
        let me = self.sessions[s].user;
        let present: Vec<usize> =
            (0..PEOPLE).filter(|&i| self.people[i].status != Status::Absent).collect();
        let preferred: Vec<usize> =
            present.iter().copied().filter(|&i| i != me && prefer(&self.people[i])).collect();
        let pool = if !preferred.is_empty() && n % 8 != 1 { preferred } else { present };
        pool[n / 8 % pool.len()]
    }

    /// `b`, if they have the code asked for; else whoever was last sent one.
    pub(super) fn holder_of_code(&self, b: usize, pick: CodePick, reset: bool) -> usize {
        let has = |i: usize| {
            let p = &self.people[i];
            match (pick, reset) {
                (CodePick::Stale(_), false) => !p.stale_invitations.is_empty(),
                (CodePick::Stale(_), true) => !p.stale_resets.is_empty(),
                (_, false) => p.invitation.is_some(),
                (_, true) => p.reset.is_some(),
            }
        };
        let last = if reset { self.last_reset } else { self.last_invited };
        match last {
            Some(l) if !has(b) => l,
            _ => b,
        }
    }

    fn finish_message(&mut self, id: Uuid) {
        for m in self.messages.iter_mut().filter(|m| m.id == id) {
            m.finished = true;
        }
    }

    pub(super) fn retire_invitation(&mut self, b: usize, errors: &[ErrorCode]) {
        let now = self.now();
        if let Some(code) = self.people[b].invitation.take() {
            let mut errors = errors.to_vec();
            if now >= code.expires {
                errors.push(ErrorCode::InvitationExpired);
            }
            self.finish_message(code.message);
            let p = &mut self.people[b];
            p.stale_invitations.insert(0, Stale { text: code.text, errors });
            p.stale_invitations.truncate(4);
        }
    }

    pub(super) fn retire_reset(&mut self, b: usize, finish: bool) {
        if let Some(code) = self.people[b].reset.take() {
            if finish {
                self.finish_message(code.message);
            }
            let p = &mut self.people[b];
            let errors = vec![ErrorCode::ResetCodeExpired, ErrorCode::InvalidCode];
            p.stale_resets.insert(0, Stale { text: code.text, errors });
            p.stale_resets.truncate(4);
        }
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn issue(
        &mut self,
        s: usize,
        a: usize,
        b: usize,
        text: String,
        expires: DateTime<Utc>,
        message: Uuid,
        reset: bool,
    ) -> Result<Code, TestCaseError> {
        let expected = self.now() + Duration::hours(i64::from(self.lifetime_hours));
        if expires != expected {
            return Err(self.fail(format!(
                "a code issued now expires at {expires}, not after the lifetime of {} hours \
                 ({expected})",
                self.lifetime_hours
            )));
        }
        let holder = self.sessions[s].holder;
        let mut seen = BTreeMap::new();
        seen.insert(b, self.self_snap(b));
        seen.insert(holder, self.learn(holder, a, b)?);
        self.messages.push(Msg { id: message, to: b, reset, code: text.clone(), finished: false });
        if reset {
            self.last_reset = Some(b);
        } else {
            self.last_invited = Some(b);
        }
        Ok(Code { text, issuer: a, expires, seen, message, lapsed: false })
    }

    /// The sign-in invariant: `x` signs in as `b`.
    pub(super) fn signed_in_as(
        &mut self,
        x: usize,
        b: usize,
        snap: &Snap,
    ) -> Result<(), TestCaseError> {
        if x == b {
            return Ok(());
        }
        self.stats.sign_ins_as_others += 1;
        let (theirs, mine) = (self.live_perms(b), self.live_perms(x));
        let excess: Perms = theirs.difference(&mine).copied().collect();
        if excess.is_empty() {
            return Ok(());
        }
        let later = excess
            .iter()
            .all(|p| !snap.target.contains(p) || (snap.learner.contains(p) && !mine.contains(p)));
        if later {
            self.stats.granted_later += 1;
            return Ok(());
        }
        Err(self.fail(format!(
            "person {x} signed in as person {b}, who holds {} that person {x} does not, and \
             nobody granted them after person {x} learned the credential",
            show_perms(&excess)
        )))
    }
}
