//! The invitation commands (invite, accept, resend, cancel) and the outbox (save, retry or
//! discard a message), each checked against what the spec allows.

use super::expect::{dedup, Verdict};
use super::ops::{CodePick, OutboxAct, Pick};
use super::run::code_of;
use super::spec::OWNER;
use super::state::{
    address, unknown_id, Msg, MsgLife, Run, Stale, Status, Throttle, PASSWORDS, PEOPLE, WEAK,
};
use gatehouse_core::model::{Action, Module};
use gatehouse_core::{AcceptInput, ErrorCode, InviteOutcome, InviteRequest, Invitee};
use proptest::test_runner::TestCaseError;

impl Run {
    pub(super) fn invite(
        &mut self,
        by: Pick,
        b: usize,
        picks: &[u8],
        form: u8,
        bad: bool,
    ) -> Result<bool, TestCaseError> {
        let Some(s) = self.pick(by)? else { return Ok(false) };
        let keys = Self::role_keys(picks);
        let (typed, stored) = if bad {
            (format!("zoë.ångström.{b} at example.com"), String::new())
        } else {
            address(b, form)
        };
        let mut v = Verdict::go(&[1]);
        let actor = self.begin(s, &mut v);
        if let Some(a) = actor {
            let now = self.now();
            v.deny(!self.can(a, Module::Users, Action::Create), ErrorCode::PermissionDenied);
            v.reject(keys.is_empty(), ErrorCode::NoRoles);
            v.reject(keys.iter().any(|k| self.role_perms(k).is_none()), ErrorCode::UnknownRole);
            v.deny(keys.iter().any(|k| k == OWNER) && !self.owner(a), ErrorCode::OwnerOnly);
            v.deny(!self.roles_perms(&keys).is_subset(&self.live_perms(a)), ErrorCode::Escalation);
            if bad {
                v.reject(true, ErrorCode::InvalidEmail);
            } else {
                let p = &self.people[b];
                match p.status {
                    Status::Active => v.reject(true, ErrorCode::EmailTaken),
                    Status::Inactive => v.reject(true, ErrorCode::EmailInactive),
                    Status::Invited => {
                        let expires = p.invitation.as_ref().map_or(now, |c| c.expires);
                        if now < expires {
                            v.reject(true, ErrorCode::AlreadyInvited);
                        } else {
                            v.maybe(now == expires, ErrorCode::AlreadyInvited, 0);
                            // Replacing an expired invitation acts on its invitee.
                            v.deny(!self.dominates(a, b), ErrorCode::NotDominant);
                            v.deny(self.owner(b) && !self.owner(a), ErrorCode::OwnerOnly);
                        }
                    }
                    Status::Absent => {}
                }
            }
        }
        let request = InviteRequest {
            invitees: vec![Invitee { email: typed.clone(), name: None }],
            roles: keys.clone(),
            ..Default::default()
        };
        let real = match self.org.dir.invite_users(self.sessions[s].id, request) {
            Err(e) => Err(e.code()),
            Ok(mut outcomes) => match outcomes.remove(0) {
                InviteOutcome::Invited { issued, .. } => Ok(issued),
                InviteOutcome::Refused { error, .. } => Err(error.code),
            },
        };
        let what = format!("{} invites {typed:?} (person {b}) as {keys:?}", self.who(s));
        self.compare_verdict(&what, &real.as_ref().map(|_| ()).map_err(|c| *c), &v)?;
        let (Some(a), Ok(issued)) = (actor, real) else { return Ok(true) };
        if self.people[b].status == Status::Absent {
            self.people[b].displays = vec![stored];
            // A new user: none of a former one's factors.
            let p = &mut self.people[b];
            (p.factor, p.enrolling, p.recovery) = (None, None, None);
            p.used_recovery.clear();
        } else {
            // An expired invitation, replaced: the spec does not say which form the store keeps.
            self.retire_invitation(b, &[ErrorCode::InvitationReplaced]);
            self.people[b].displays.push(stored);
        }
        self.people[b].id = Some(issued.user_id);
        self.people[b].status = Status::Invited;
        // The invitation's terms replace any end date (this one sets none).
        self.people[b].until = None;
        self.people[b].roles = keys;
        let code = self.issue(s, a, b, issued.code, issued.expires_at, issued.message_id, false)?;
        self.people[b].invitation = Some(code);
        Ok(true)
    }

    pub(super) fn accept(
        &mut self,
        b: usize,
        pick: CodePick,
        by_other: bool,
        pw: usize,
        form: u8,
    ) -> Result<bool, TestCaseError> {
        let b = self.holder_of_code(b, pick, false);
        let now = self.now();
        let before = self.people[b].invitation.clone();
        let skip = match pick {
            CodePick::Current | CodePick::OtherEmail => before.is_none(),
            CodePick::Stale(_) => self.people[b].stale_invitations.is_empty(),
        };
        if skip {
            return Ok(false);
        }
        // The address typed is the invitee's, or another person's: an end date (or dormancy)
        // reached since the system last looked ends that person's access first.
        let typed_person = if matches!(pick, CodePick::OtherEmail) { (b + 1) % PEOPLE } else { b };
        let ended = match self.ends_now(typed_person) {
            Some(why) => {
                self.end_access(typed_person, why);
                self.stats.count_gov("ended at acceptance");
                1
            }
            None => 0,
        };
        let mut v = Verdict::go(&[1]);
        let current = self.people[b].invitation.clone();
        let (text, email_of) = match pick {
            CodePick::Current => match (&current, &before) {
                (Some(c), _) => {
                    v.deny(now > c.expires, ErrorCode::InvitationExpired);
                    v.maybe(now == c.expires, ErrorCode::InvitationExpired, 1);
                    (c.text.clone(), b)
                }
                // Ended just now by the system: the code is a cancelled invitation's.
                (None, Some(was)) => {
                    v.deny(true, ErrorCode::InvitationCancelled);
                    (was.text.clone(), b)
                }
                (None, None) => return Ok(false),
            },
            CodePick::Stale(k) => {
                let stale = &self.people[b].stale_invitations;
                let st = stale[k % stale.len()].clone();
                for code in st.errors {
                    v.deny(true, code);
                }
                (st.text, b)
            }
            CodePick::OtherEmail => {
                let Some(c) = before.as_ref() else { return Ok(false) };
                v.deny(true, ErrorCode::InvalidCode);
                (c.text.clone(), (b + 1) % PEOPLE)
            }
        };
        v.reject(pw == WEAK, ErrorCode::WeakPassword);
        v.plus(ended);
        let by = match (&current, pick, by_other) {
            (Some(c), CodePick::Current, true) => {
                c.seen.keys().copied().find(|&x| x != b).unwrap_or(b)
            }
            _ => b,
        };
        let (typed, _) = address(email_of, form);
        let input = AcceptInput {
            email: typed.clone(),
            code: text,
            name: format!("Person {b}"),
            password: PASSWORDS[pw].into(),
        };
        let real = self.org.dir.accept_invitation(input).map(|s| s.session).map_err(code_of);
        let what = if by == b {
            format!("person {b} accepts with {pick:?} code as {typed:?}")
        } else {
            format!("person {by} accepts person {b}'s invitation with the code they saw")
        };
        self.compare_verdict(&what, &real.map(|_| ()), &v)?;
        let Ok(session) = real else { return Ok(true) };
        let code = current.expect("accepted with the current code");
        let snap = code.seen.get(&by).cloned().unwrap_or_else(|| self.self_snap(b));
        let p = &mut self.people[b];
        p.invitation = None;
        p.stale_invitations
            .insert(0, Stale { text: code.text, errors: vec![ErrorCode::InvalidCode] });
        p.status = Status::Active;
        p.seen = Some(now);
        p.passwords = vec![pw];
        p.password_known = [(by, snap.clone())].into();
        // The spec does not say whether accepting clears a count of failed sign-ins.
        p.throttle =
            dedup(p.throttle.iter().flat_map(|t| [t.clone(), Throttle::default()]).collect());
        self.new_session(session, b, by, snap.clone(), false);
        self.signed_in_as(by, b, &snap)?;
        Ok(true)
    }

    pub(super) fn resend_or_cancel(
        &mut self,
        by: Pick,
        b: usize,
        resend: bool,
    ) -> Result<bool, TestCaseError> {
        let Some(s) = self.pick(by)? else { return Ok(false) };
        let b = self.resolve(s, b, |p| p.status == Status::Invited);
        let id = self.people[b].id.unwrap_or_else(|| unknown_id(b));
        let mut v = Verdict::go(&[1]);
        let actor = self.begin(s, &mut v);
        if let Some(a) = actor {
            v.deny(!self.can(a, Module::Users, Action::Create), ErrorCode::PermissionDenied);
            if self.people[b].status == Status::Absent {
                v.reject(true, ErrorCode::UserNotFound);
            } else {
                v.reject(self.people[b].status != Status::Invited, ErrorCode::InvalidTransition);
                v.deny(!self.dominates(a, b), ErrorCode::NotDominant);
                v.deny(a != b && self.owner(b) && !self.owner(a), ErrorCode::OwnerOnly);
            }
        }
        let session = self.sessions[s].id;
        let what = format!(
            "{} {} person {b}'s invitation",
            self.who(s),
            if resend { "resends" } else { "cancels" }
        );
        if resend {
            let real = self.org.dir.resend_invitation(session, id).map_err(code_of);
            self.compare_verdict(&what, &real.as_ref().map(|_| ()).map_err(|c| *c), &v)?;
            if let (Some(a), Ok(issued)) = (actor, real) {
                self.retire_invitation(b, &[ErrorCode::InvitationReplaced]);
                let code =
                    self.issue(s, a, b, issued.code, issued.expires_at, issued.message_id, false)?;
                self.people[b].invitation = Some(code);
            }
        } else {
            let real = self.org.dir.cancel_invitation(session, id).map_err(code_of);
            self.compare_verdict(&what, &real, &v)?;
            if actor.is_some() && real.is_ok() {
                self.retire_invitation(b, &[ErrorCode::InvitationCancelled]);
                let p = &mut self.people[b];
                p.status = Status::Absent;
                p.roles.clear();
                p.displays.clear();
                p.until = None;
            }
        }
        Ok(true)
    }

    pub(super) fn outbox(
        &mut self,
        by: Pick,
        b: usize,
        reset: bool,
        older: bool,
        act: OutboxAct,
    ) -> Result<bool, TestCaseError> {
        // The person's messages of that kind, else anyone's of that kind, else any at all.
        let newest = |f: &dyn Fn(&Msg) -> bool| -> Vec<usize> {
            (0..self.messages.len()).rev().filter(|&m| f(&self.messages[m])).collect()
        };
        let b = b % PEOPLE;
        let mut mine = newest(&|m| m.to == b && m.reset == reset);
        if mine.is_empty() {
            mine = newest(&|m| m.reset == reset);
        }
        if mine.is_empty() {
            mine = newest(&|_| true);
        }
        let Some(&m) = mine.get(usize::from(older)).or(mine.first()) else { return Ok(false) };
        let msg = self.messages[m].clone();
        let (b, reset) = (msg.to, msg.reset);
        let Some(s) = self.pick(by)? else { return Ok(false) };
        let life = self.msg_life(&msg);
        let gone = [ErrorCode::InvalidTransition, ErrorCode::MessageNotFound];
        let mut v = Verdict::go(match act {
            OutboxAct::Retry => &[0, 1][..],
            _ => &[1][..],
        });
        let actor = self.begin(s, &mut v);
        if let Some(a) = actor {
            let (create, update) = (
                self.can(a, Module::Users, Action::Create),
                self.can(a, Module::Users, Action::Update),
            );
            // The spec names no permission for the outbox; users:create or users:update.
            v.deny(!create && !update, ErrorCode::PermissionDenied);
            v.maybe(!create || !update, ErrorCode::PermissionDenied, 1);
            match (life, act) {
                (MsgLife::Finished, _) | (MsgLife::Erased, OutboxAct::Save) => {
                    gone.iter().for_each(|&c| v.reject(true, c))
                }
                (MsgLife::Erased | MsgLife::Either, _) => {
                    gone.iter().for_each(|&c| v.maybe(true, c, 0))
                }
                (MsgLife::Unsent, _) => {}
            }
            v.deny(!self.dominates(a, b), ErrorCode::NotDominant);
            v.maybe(a != b && self.owner(b) && !self.owner(a), ErrorCode::OwnerOnly, 1);
        }
        let session = self.sessions[s].id;
        self.files += 1;
        let file = self.org.tmp.path().join(format!("message-{}.eml", self.files));
        let real = match act {
            OutboxAct::Save => self.org.dir.save_message(session, msg.id, &file).map(|_| ()),
            OutboxAct::Retry => self.org.dir.retry_message(session, msg.id).map(|_| ()),
            OutboxAct::Discard => self.org.dir.discard_message(session, msg.id).map(|_| ()),
        }
        .map_err(code_of);
        let what = format!(
            "{} {act:?}s the {}{} message to person {b} ({life:?})",
            self.who(s),
            if older { "older " } else { "" },
            if reset { "reset" } else { "invitation" }
        );
        self.compare_verdict(&what, &real, &v)?;
        let (Some(a), Ok(())) = (actor, real) else { return Ok(true) };
        match act {
            OutboxAct::Save => {
                let text = std::fs::read_to_string(&file).unwrap_or_default();
                if !text.contains(&msg.code) {
                    return Err(self.fail("the saved message does not carry its code"));
                }
                self.messages[m].finished = true;
                let holder = self.sessions[s].holder;
                let snap = self.learn(holder, a, b)?;
                let p = &mut self.people[b];
                let code = if reset { p.reset.as_mut() } else { p.invitation.as_mut() };
                if let Some(code) = code.filter(|c| c.text == msg.code) {
                    code.seen.entry(holder).or_insert(snap);
                }
            }
            OutboxAct::Discard => self.messages[m].finished = true,
            OutboxAct::Retry => {}
        }
        Ok(true)
    }
}
