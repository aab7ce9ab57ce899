//! Commands on someone else's account: deactivate, reactivate, change roles, issue a reset code
//! and set a password with it, unlock; each checked against what the spec allows.

use super::expect::{dedup, Verdict};
use super::ops::{CodePick, Pick};
use super::run::code_of;
use super::spec::{OWNER, PASSWORD_HISTORY};
use super::state::{address, unknown_id, Life, Run, Status, Throttle, PASSWORDS, PEOPLE, WEAK};
use gatehouse_core::model::{Action, Module};
use gatehouse_core::{ErrorCode, ResetInput};
use proptest::test_runner::TestCaseError;

impl Run {
    pub(super) fn status(
        &mut self,
        by: Pick,
        b: usize,
        deactivate: bool,
    ) -> Result<bool, TestCaseError> {
        let Some(s) = self.pick(by)? else { return Ok(false) };
        let from = if deactivate { Status::Active } else { Status::Inactive };
        let b = self.resolve(s, b, |p| p.status == from);
        let id = self.people[b].id.unwrap_or_else(|| unknown_id(b));
        let mut v = Verdict::go(&[1]);
        let actor = self.begin(s, &mut v);
        let to = if deactivate { Status::Inactive } else { Status::Active };
        if let Some(a) = actor {
            v.deny(!self.can(a, Module::Users, Action::Update), ErrorCode::PermissionDenied);
            let st = self.people[b].status;
            if st == Status::Absent {
                v.reject(true, ErrorCode::UserNotFound);
            } else {
                v.deny(a == b, ErrorCode::OwnStatus);
                v.deny(a != b && self.owner(b) && !self.owner(a), ErrorCode::OwnerOnly);
                v.deny(!self.dominates(a, b), ErrorCode::NotDominant);
                v.reject(st != from, ErrorCode::InvalidTransition);
                v.deny(
                    deactivate
                        && st == Status::Active
                        && self.owner(b)
                        && self.active_owners_except(b) == 0,
                    ErrorCode::LastOwner,
                );
            }
        }
        let session = self.sessions[s].id;
        let real = if deactivate {
            self.org.dir.deactivate_user(session, id, Some("model".into()))
        } else {
            self.org.dir.reactivate_user(session, id)
        };
        let real = real.map(|_| ()).map_err(code_of);
        let what = format!(
            "{} {} person {b}",
            self.who(s),
            if deactivate { "deactivates" } else { "reactivates" }
        );
        self.compare_verdict(&what, &real, &v)?;
        if actor.is_some() && real.is_ok() {
            self.people[b].status = to;
            if deactivate {
                self.end_sessions(b, None);
            } else {
                // The dormant-account rule counts from the reactivation.
                self.people[b].reactivated = Some(self.now());
            }
        }
        Ok(true)
    }

    pub(super) fn change_roles(
        &mut self,
        by: Pick,
        b: usize,
        picks: &[u8],
    ) -> Result<bool, TestCaseError> {
        let Some(s) = self.pick(by)? else { return Ok(false) };
        let b = self.resolve(s, b, |_| true);
        let id = self.people[b].id.unwrap_or_else(|| unknown_id(b));
        let keys = Self::role_keys(picks);
        let same = keys == self.people[b].roles;
        let mut v = Verdict::go(if same { &[0, 1][..] } else { &[1][..] });
        let actor = self.begin(s, &mut v);
        if let Some(a) = actor {
            v.deny(!self.can(a, Module::Users, Action::Update), ErrorCode::PermissionDenied);
            v.reject(keys.is_empty(), ErrorCode::NoRoles);
            v.reject(keys.iter().any(|k| self.role_perms(k).is_none()), ErrorCode::UnknownRole);
            let st = self.people[b].status;
            if st == Status::Absent {
                v.reject(true, ErrorCode::UserNotFound);
            } else {
                let (owner_before, owner_after) = (self.owner(b), keys.iter().any(|k| k == OWNER));
                let leaves_none = st == Status::Active
                    && owner_before
                    && !owner_after
                    && self.active_owners_except(b) == 0;
                if a == b {
                    // Rule 3: only giving up Owner while another Active Owner exists.
                    if owner_before && !owner_after {
                        // Giving up Owner, keeping or taking any other roles.
                        v.deny(leaves_none, ErrorCode::OwnRoles);
                    } else if same {
                        v.maybe(true, ErrorCode::OwnRoles, 1);
                    } else {
                        v.deny(true, ErrorCode::OwnRoles);
                    }
                } else {
                    v.deny((owner_before || owner_after) && !self.owner(a), ErrorCode::OwnerOnly);
                    v.deny(!self.dominates(a, b), ErrorCode::NotDominant);
                }
                // Rule 4: granting what one lacks. Keeping what the target holds and the actor
                // lacks is refused by rule 6; the escalation code is accepted for it too.
                let mine = self.live_perms(a);
                let added: Vec<String> =
                    keys.iter().filter(|k| !self.people[b].roles.contains(k)).cloned().collect();
                v.deny(!self.roles_perms(&added).is_subset(&mine), ErrorCode::Escalation);
                v.maybe(!self.roles_perms(&keys).is_subset(&mine), ErrorCode::Escalation, 1);
                v.deny(leaves_none, ErrorCode::LastOwner);
            }
        }
        let real = self
            .org
            .dir
            .change_roles(self.sessions[s].id, id, keys.clone())
            .map(|_| ())
            .map_err(code_of);
        let what = format!("{} gives person {b} the roles {keys:?}", self.who(s));
        self.compare_verdict(&what, &real, &v)?;
        if actor.is_some() && real.is_ok() && !same {
            self.people[b].roles = keys;
            self.end_sessions(b, None);
        }
        Ok(true)
    }

    pub(super) fn issue_reset(&mut self, by: Pick, b: usize) -> Result<bool, TestCaseError> {
        let Some(s) = self.pick(by)? else { return Ok(false) };
        let b = self.resolve(s, b, |p| p.status == Status::Active);
        let id = self.people[b].id.unwrap_or_else(|| unknown_id(b));
        let mut v = Verdict::go(&[1]);
        let actor = self.begin(s, &mut v);
        if let Some(a) = actor {
            v.deny(!self.can(a, Module::Users, Action::Update), ErrorCode::PermissionDenied);
            if self.people[b].status == Status::Absent {
                v.reject(true, ErrorCode::UserNotFound);
            } else {
                // Rule 3 speaks of status; a reset for oneself is left open.
                v.maybe(a == b, ErrorCode::OwnStatus, 1);
                v.deny(a != b && self.owner(b) && !self.owner(a), ErrorCode::OwnerOnly);
                v.deny(!self.dominates(a, b), ErrorCode::NotDominant);
                v.reject(self.people[b].status != Status::Active, ErrorCode::InvalidTransition);
            }
        }
        let real = self.org.dir.issue_password_reset(self.sessions[s].id, id).map_err(code_of);
        let what = format!("{} issues a reset code for person {b}", self.who(s));
        self.compare_verdict(&what, &real.as_ref().map(|_| ()).map_err(|c| *c), &v)?;
        if let (Some(a), Ok(issued)) = (actor, real) {
            self.retire_reset(b, true);
            let code =
                self.issue(s, a, b, issued.code, issued.expires_at, issued.message_id, true)?;
            self.people[b].reset = Some(code);
            self.end_sessions(b, None);
        }
        Ok(true)
    }

    pub(super) fn reset(
        &mut self,
        b: usize,
        pick: CodePick,
        by_other: bool,
        pw: usize,
        form: u8,
    ) -> Result<bool, TestCaseError> {
        let b = self.holder_of_code(b % PEOPLE, pick, true);
        let mut v = Verdict::go(self.replaces_count(b));
        let current = self.people[b].reset.clone();
        let stale_codes = [ErrorCode::ResetCodeExpired, ErrorCode::InvalidCode];
        let (text, email_of) = match pick {
            CodePick::Current => {
                let Some(c) = &current else { return Ok(false) };
                match self.reset_life(b).0 {
                    Life::Valid => {}
                    Life::Either => stale_codes.iter().for_each(|&c| v.maybe(true, c, 1)),
                    Life::Dead => stale_codes.iter().for_each(|&c| v.deny(true, c)),
                }
                (c.text.clone(), b)
            }
            CodePick::Stale(k) => {
                let stale = &self.people[b].stale_resets;
                if stale.is_empty() {
                    return Ok(false);
                }
                let st = stale[k % stale.len()].clone();
                st.errors.iter().for_each(|&c| v.deny(true, c));
                (st.text, b)
            }
            CodePick::OtherEmail => {
                let Some(c) = &current else { return Ok(false) };
                v.deny(true, ErrorCode::InvalidCode);
                (c.text.clone(), (b + 1) % PEOPLE)
            }
        };
        v.reject(pw == WEAK, ErrorCode::WeakPassword);
        if email_of == b {
            // "A new password may not equal any of the user's last 4": whether the current one
            // is among the 4 is left open.
            let position = self.people[b].passwords.iter().position(|&x| x == pw);
            v.reject(position.is_some_and(|i| i < PASSWORD_HISTORY), ErrorCode::PasswordReused);
            v.maybe(position == Some(PASSWORD_HISTORY), ErrorCode::PasswordReused, 0);
        }
        let by = match (&current, pick, by_other) {
            (Some(c), CodePick::Current, true) => {
                c.seen.keys().copied().find(|&x| x != b).unwrap_or(b)
            }
            _ => b,
        };
        let (typed, _) = address(email_of, form);
        let input = ResetInput { email: typed.clone(), code: text, password: PASSWORDS[pw].into() };
        let real = self.org.dir.reset_password(input).map_err(code_of);
        let what = if by == b {
            format!("person {b} sets a password with {pick:?} reset code as {typed:?}")
        } else {
            format!("person {by} sets person {b}'s password with the reset code they saw")
        };
        self.compare_verdict(&what, &real, &v)?;
        if real.is_err() {
            return Ok(true);
        }
        let code = current.expect("reset with the current code");
        let snap = code.seen.get(&by).cloned().unwrap_or_else(|| self.self_snap(b));
        self.retire_reset(b, false);
        let p = &mut self.people[b];
        p.passwords.insert(0, pw);
        p.password_known = [(by, snap)].into();
        // The spec does not say whether a reset lifts a lockout.
        p.throttle =
            dedup(p.throttle.iter().flat_map(|t| [t.clone(), Throttle::default()]).collect());
        self.end_sessions(b, None);
        Ok(true)
    }

    /// The events of a change that replaces person `b`'s sign-in count: one, and one more when
    /// the count held refusals still to audit.
    fn replaces_count(&self, b: usize) -> &'static [u64] {
        if self.people[b].throttle.iter().any(|t| t.closing() > 0) {
            &[1, 2]
        } else {
            &[1]
        }
    }

    pub(super) fn unlock(&mut self, by: Pick, b: usize) -> Result<bool, TestCaseError> {
        let Some(s) = self.pick(by)? else { return Ok(false) };
        let now = self.now();
        let b = self
            .resolve(s, b, |p| p.throttle.iter().any(|t| t.failures > 0 || t.until > Some(now)));
        let id = self.people[b].id.unwrap_or_else(|| unknown_id(b));
        let mut v = Verdict::go(self.replaces_count(b));
        let actor = self.begin(s, &mut v);
        if let Some(a) = actor {
            v.deny(!self.can(a, Module::Users, Action::Update), ErrorCode::PermissionDenied);
            if self.people[b].status == Status::Absent {
                v.reject(true, ErrorCode::UserNotFound);
            } else {
                v.maybe(a == b, ErrorCode::OwnStatus, 1);
                v.deny(a != b && self.owner(b) && !self.owner(a), ErrorCode::OwnerOnly);
                v.deny(!self.dominates(a, b), ErrorCode::NotDominant);
            }
        }
        let real = self.org.dir.unlock_user(self.sessions[s].id, id).map(|_| ()).map_err(code_of);
        let what = format!("{} unlocks person {b}", self.who(s));
        self.compare_verdict(&what, &real, &v)?;
        if actor.is_some() && real.is_ok() {
            self.people[b].throttle = vec![Throttle::default()];
        }
        Ok(true)
    }
}
