//! The model's state: the people (status, roles, the address forms they type, passwords, codes
//! and lockout), their sessions and the messages sent to them, and the `Run` that holds it all
//! next to the real directory.

use super::expect::{locked, session_codes, Verdict};
use super::factors::fresh_steps;
use super::ops::{FactorPick, Pick, PwPick};
use super::spec::{
    built_in, Perms, DEFAULT_DORMANT_DAYS, DEFAULT_IDLE_MINUTES, DEFAULT_LIFETIME_HOURS, OWNER,
    SESSION_MAX_HOURS,
};
use super::Stats;
use crate::support::{Org, MEMBER_PASSWORD, OWNER_EMAIL, OWNER_PASSWORD};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use gatehouse_core::model::UserId;
use gatehouse_core::secrets::{Keys, OsVault, Vault, SERVICE};
use gatehouse_core::{Clock, ErrorCode, SessionId};
use proptest::test_runner::TestCaseError;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex};
use uuid::Uuid;

/// People 0..PEOPLE; person 0 is the Owner who set the organization up.
pub(super) const PEOPLE: usize = 7;

/// Passwords people choose from; the last is too weak for the policy.
pub(super) const PASSWORDS: [&str; 8] = [
    OWNER_PASSWORD,
    MEMBER_PASSWORD,
    "violet anchor meadow drum 3",
    "copper falcon winter sails 5",
    "silent harbor maple kite 6",
    "orange glacier velvet horn 8",
    "humble pepper canyon moth 9",
    "password1234",
];
pub(super) const WEAK: usize = PASSWORDS.len() - 1;
pub(super) const WRONG: &str = "certainly not the password";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Status {
    Absent,
    Invited,
    Active,
    Inactive,
}

/// What a learner and a target held when the learner learned one of the target's credentials
/// (a code, or a password set with one): permissions the target gained, or the learner lost,
/// since then were granted by someone else.
#[derive(Debug, Clone)]
pub(super) struct Snap {
    pub(super) target: Perms,
    pub(super) learner: Perms,
}

/// A pending invitation or reset code.
#[derive(Debug, Clone)]
pub(super) struct Code {
    pub(super) text: String,
    pub(super) issuer: usize,
    pub(super) expires: DateTime<Utc>,
    /// Who has seen it, and what they and the recipient held then.
    pub(super) seen: BTreeMap<usize, Snap>,
    pub(super) message: Uuid,
    /// A reset code whose issuer lost the right to issue it (or whose target was deactivated)
    /// at some point: the spec does not say whether it comes back with the right.
    pub(super) lapsed: bool,
}

/// A code that no longer works, and the refusals the spec allows for it.
#[derive(Debug, Clone)]
pub(super) struct Stale {
    pub(super) text: String,
    pub(super) errors: Vec<ErrorCode>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct Throttle {
    pub(super) failures: u32,
    pub(super) until: Option<DateTime<Utc>>,
    /// The last failure: failures older than the lockout window may be forgotten.
    pub(super) last: Option<DateTime<Utc>>,
    /// Refusals in this lockout (a user's address): past the first few, counted rather than
    /// audited, and audited as one event when the count is replaced.
    pub(super) refused: u32,
}

impl Throttle {
    /// The event that accounts for counted refusals, written when this count is replaced.
    pub(super) fn closing(&self) -> u64 {
        u64::from(self.refused > gatehouse_core::auth::throttle::REFUSALS_LOGGED)
    }
}

/// An authenticator app: its secret (what the enrolment showed), the last TOTP step accepted,
/// and who set it up (and so can read its codes: the person, or someone signed in as them).
#[derive(Debug, Clone)]
pub(super) struct Factor {
    pub(super) secret: Vec<u8>,
    pub(super) last_step: u64,
    pub(super) holder: usize,
}

/// A set of recovery codes: those still unused, and who saw the set.
#[derive(Debug, Clone)]
pub(super) struct Recovery {
    pub(super) unused: Vec<String>,
    pub(super) holder: usize,
}

/// Attempts for addresses no user has, in the current window (see core's `Tally`).
#[derive(Debug, Clone)]
pub(super) struct Tally {
    pub(super) since: DateTime<Utc>,
    pub(super) logged: u32,
    pub(super) counted: u32,
}

#[derive(Debug, Clone)]
pub(super) struct Person {
    pub(super) id: Option<UserId>,
    pub(super) status: Status,
    pub(super) roles: Vec<String>,
    /// The forms the store may show the address in.
    pub(super) displays: Vec<String>,
    pub(super) invitation: Option<Code>,
    pub(super) reset: Option<Code>,
    pub(super) stale_invitations: Vec<Stale>,
    pub(super) stale_resets: Vec<Stale>,
    /// Indexes into PASSWORDS, newest (the current one) first.
    pub(super) passwords: Vec<usize>,
    /// Who knows the current password.
    pub(super) password_known: BTreeMap<usize, Snap>,
    /// The lockout record of the person's address: every state the spec allows it to be in.
    pub(super) throttle: Vec<Throttle>,
    /// The enrolled authenticator app, if any.
    pub(super) factor: Option<Factor>,
    /// An enrolment started and not confirmed yet (`last_step` unused).
    pub(super) enrolling: Option<Factor>,
    /// The current set of recovery codes, if the person ever had one.
    pub(super) recovery: Option<Recovery>,
    /// Recovery codes used, or voided by a new set: newest first, a few.
    pub(super) used_recovery: Vec<String>,
    /// What the dormant-account rule counts from: the last sign-in, or the activation.
    pub(super) seen: Option<DateTime<Utc>>,
    /// The last reactivation: the dormant-account rule counts from it too.
    pub(super) reactivated: Option<DateTime<Utc>>,
    /// The day the person's access ends, if set.
    pub(super) until: Option<NaiveDate>,
}

impl Person {
    fn new() -> Self {
        Person {
            id: None,
            status: Status::Absent,
            roles: Vec::new(),
            displays: Vec::new(),
            invitation: None,
            reset: None,
            stale_invitations: Vec::new(),
            stale_resets: Vec::new(),
            passwords: Vec::new(),
            password_known: BTreeMap::new(),
            throttle: vec![Throttle::default()],
            factor: None,
            enrolling: None,
            recovery: None,
            used_recovery: Vec::new(),
            seen: None,
            reactivated: None,
            until: None,
        }
    }

    /// A new set of recovery codes (seen by `holder`) voids the old.
    pub(super) fn new_recovery(&mut self, codes: Vec<String>, holder: usize) {
        if let Some(old) = self.recovery.take() {
            for code in old.unused {
                self.spend_recovery(code);
            }
        }
        self.recovery = Some(Recovery { unused: codes, holder });
    }

    /// `code` no longer works (used, or its set voided).
    pub(super) fn spend_recovery(&mut self, code: String) {
        if let Some(set) = self.recovery.as_mut() {
            set.unused.retain(|c| *c != code);
        }
        self.used_recovery.insert(0, code);
        self.used_recovery.truncate(6);
    }
}

#[derive(Debug, Clone)]
pub(super) struct Sess {
    pub(super) id: SessionId,
    pub(super) user: usize,
    /// Who really holds it (someone may have signed in with another person's password).
    pub(super) holder: usize,
    pub(super) snap: Snap,
    pub(super) created: DateTime<Utc>,
    pub(super) seen: DateTime<Utc>,
    pub(super) ended: bool,
    /// The password was right and the second factor is still owed.
    pub(super) waiting: bool,
}

#[derive(Debug, Clone)]
pub(super) struct Msg {
    pub(super) id: Uuid,
    pub(super) to: usize,
    pub(super) reset: bool,
    pub(super) code: String,
    /// Sent, saved, discarded, or dropped with its code.
    pub(super) finished: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Life {
    Valid,
    Either,
    Dead,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum MsgLife {
    Unsent,
    /// Its code was used or expired: the spec erases the letter.
    Erased,
    Either,
    Finished,
}

/// The operating system's credential store (core's own vault), as the model uses it: the keys
/// a case's store keeps there are deleted when the case ends (the store is a temporary folder;
/// a `make soak` run would leave thousands), and the two halves of the run take turns: in
/// `make soak` runs, gnome-keyring now and then aborted under this test's stream of new
/// Secret Service clients, two at a time.
struct CaseVault {
    kept: Arc<Mutex<Vec<String>>>,
}

/// One call to the credential store at a time, from this test.
static VAULT_TURN: Mutex<()> = Mutex::new(());

fn vault_turn() -> std::sync::MutexGuard<'static, ()> {
    VAULT_TURN.lock().unwrap_or_else(|p| p.into_inner())
}

impl Vault for CaseVault {
    fn get(&self, name: &str) -> Result<Option<String>, String> {
        let _turn = vault_turn();
        OsVault.get(name)
    }

    fn set(&self, name: &str, secret: &str) -> Result<(), String> {
        let _turn = vault_turn();
        OsVault.set(name, secret)?;
        self.kept.lock().unwrap_or_else(|p| p.into_inner()).push(name.to_string());
        Ok(())
    }
}

/// The names of the keys a case's store keeps in the credential store: deleted with the case.
struct Kept(Arc<Mutex<Vec<String>>>);

impl Drop for Kept {
    fn drop(&mut self) {
        for name in self.0.lock().unwrap_or_else(|p| p.into_inner()).drain(..) {
            // Best effort: a key left behind only takes room.
            let _turn = vault_turn();
            let _ = keyring::Entry::new(SERVICE, &name).and_then(|e| e.delete_credential());
        }
    }
}

pub(super) struct Run {
    pub(super) org: Org,
    _kept: Kept,
    pub(super) people: Vec<Person>,
    pub(super) custom: BTreeMap<String, Perms>,
    pub(super) sessions: Vec<Sess>,
    pub(super) messages: Vec<Msg>,
    pub(super) lifetime_hours: u32,
    pub(super) idle_minutes: u32,
    /// The dormant-account setting, in days (off: `None`).
    pub(super) dormant_days: Option<u32>,
    /// Audit events in the store, as last counted.
    pub(super) events: u64,
    pub(super) trace: Vec<String>,
    /// Calls are not traced (the rounds of `busy`) unless they fail.
    pub(super) quiet: bool,
    pub(super) step: usize,
    /// Whether the last call succeeded.
    pub(super) last_ok: bool,
    /// Everyone's permissions when `can()` was last asked about everyone.
    pub(super) checked_perms: Option<Vec<(Option<UserId>, Perms)>>,
    /// Who was last sent an invitation, and a reset code.
    pub(super) last_invited: Option<usize>,
    pub(super) last_reset: Option<usize>,
    pub(super) stats: Stats,
    pub(super) files: usize,
    pub(super) tally: Option<Tally>,
}

impl Run {
    pub(super) fn new() -> Self {
        let kept = Arc::new(Mutex::new(Vec::new()));
        let keys = Keys::new(Box::new(CaseVault { kept: kept.clone() }));
        let org = Org::with_keys(Arc::new(keys)).with_owner();
        let mut people: Vec<Person> = (0..PEOPLE).map(|_| Person::new()).collect();
        let now = org.clock.now();
        let owner_id = org.owner_id();
        let owner_perms =
            built_in().iter().find(|(k, _)| k == OWNER).map(|(_, p)| p.clone()).unwrap_or_default();
        let me = Snap { target: owner_perms.clone(), learner: owner_perms };
        let p = &mut people[0];
        p.id = Some(owner_id);
        p.status = Status::Active;
        p.roles = vec![OWNER.to_string()];
        p.displays = vec![OWNER_EMAIL.to_string()];
        p.passwords = vec![0];
        p.password_known.insert(0, me.clone());
        p.seen = Some(now);
        let sessions = vec![Sess {
            id: org.owner(),
            user: 0,
            holder: 0,
            snap: me,
            created: now,
            seen: now,
            ended: false,
            waiting: false,
        }];
        let events = u64::from(org.dir.verify().expect("verify").audit_events);
        Run {
            org,
            _kept: Kept(kept),
            people,
            custom: BTreeMap::new(),
            sessions,
            messages: Vec::new(),
            lifetime_hours: DEFAULT_LIFETIME_HOURS,
            idle_minutes: DEFAULT_IDLE_MINUTES,
            dormant_days: Some(DEFAULT_DORMANT_DAYS),
            events,
            trace: Vec::new(),
            quiet: false,
            step: 0,
            last_ok: false,
            checked_perms: None,
            last_invited: None,
            last_reset: None,
            stats: Stats::default(),
            files: 0,
            tally: None,
        }
    }

    pub(super) fn now(&self) -> DateTime<Utc> {
        self.org.clock.now()
    }

    pub(super) fn fail(&self, why: impl fmt::Display) -> TestCaseError {
        TestCaseError::fail(format!(
            "{why}\n  the steps of this case:\n{}",
            self.trace.iter().map(|l| format!("    {l}")).collect::<Vec<_>>().join("\n")
        ))
    }

    // --- sessions ------------------------------------------------------------------------

    /// The session a command is sent with. When a live one is asked for and nobody is signed
    /// in, the person who signed in last (or else the first who can) signs in again first, as
    /// people do: with their password, and with their authenticator's code when they have one
    /// (passed over while no unused step's code is due yet).
    pub(super) fn pick(&mut self, p: Pick) -> Result<Option<usize>, TestCaseError> {
        let live = |run: &Run| -> Vec<usize> {
            (0..run.sessions.len()).filter(|&s| !run.sessions[s].ended).collect()
        };
        if p.live && live(self).is_empty() {
            let now = self.now();
            let last = self.sessions.last().map(|s| s.user);
            // Someone whose access has lapsed is refused (and their access ended) as they try:
            // the next one tries then.
            for _ in 0..PEOPLE {
                let who = last.into_iter().chain(0..PEOPLE).find(|&i| {
                    let person = &self.people[i];
                    person.status == Status::Active
                        && !person.passwords.is_empty()
                        && person.throttle.iter().all(|t| locked(t, now) == [false])
                        && person.factor.as_ref().is_none_or(|f| {
                            f.holder == i
                                && fresh_steps(&f.secret, f.last_step, now).next().is_some()
                        })
                });
                let Some(who) = who else { break };
                let lapsed = self.ends_now(who).is_some();
                self.sign_in(who, PwPick::Right, 1, false, 0)?;
                if lapsed {
                    continue;
                }
                let s = self.sessions.len() - 1;
                if self.last_ok && self.sessions[s].waiting && self.sessions[s].user == who {
                    self.second_step(s, FactorPick::Right(0))?;
                }
                break;
            }
        }
        let live = live(self);
        // Sessions waiting at the gate, now and then (the rest of the time they would only
        // be refused, crowding out what the other commands check).
        let ready: Vec<usize> =
            live.iter().copied().filter(|&s| !self.sessions[s].waiting).collect();
        let pool: Vec<usize> = match (p.live && !live.is_empty(), ready.is_empty() || p.n % 8 == 0)
        {
            (true, false) => ready,
            (true, true) => live,
            (false, _) => (0..self.sessions.len()).collect(),
        };
        Ok((!pool.is_empty()).then(|| pool[usize::from(p.n) % pool.len()]))
    }

    fn idle(&self) -> Duration {
        Duration::minutes(i64::from(self.idle_minutes))
    }

    /// `Some(live)`, or `None` at the very instant it ends (the spec does not say which side
    /// of the instant counts).
    pub(super) fn session_state(&self, s: usize) -> Option<bool> {
        let sess = &self.sessions[s];
        if sess.ended {
            return Some(false);
        }
        let now = self.now();
        let (quiet, age) = (now - sess.seen, now - sess.created);
        let max = Duration::hours(SESSION_MAX_HOURS);
        if quiet > self.idle() || age > max {
            Some(false)
        } else if quiet == self.idle() || age == max {
            None
        } else {
            Some(true)
        }
    }

    pub(super) fn who(&self, s: usize) -> String {
        let sess = &self.sessions[s];
        let gate = if sess.waiting { ", at the gate" } else { "" };
        if sess.holder == sess.user {
            format!("person {} [session {s}{gate}]", sess.user)
        } else {
            format!("person {} as person {} [session {s}{gate}]", sess.holder, sess.user)
        }
    }

    /// The session check every command starts with: the acting person, or the refusal (the
    /// session is over, or waits at the gate for the second factor). A command by the person
    /// counts as activity.
    pub(super) fn begin(&mut self, s: usize, v: &mut Verdict) -> Option<usize> {
        if !self.reach(s) {
            v.refuse = session_codes();
            v.maybe.clear();
            v.ok.clear();
            return None;
        }
        if self.sessions[s].waiting {
            // Deny by default: nothing but the second factor until it is given; not audited.
            v.refuse = vec![(ErrorCode::SecondFactorRequired, 0)];
            v.maybe.clear();
            v.ok.clear();
            self.stats.count("command refused at the gate");
            return None;
        }
        Some(self.sessions[s].user)
    }

    /// Whether session `s` is live when a command by its holder reaches it (the model's
    /// answer, or the store's at the very instant it ends), which counts as activity. An
    /// ended session is marked so.
    pub(super) fn reach(&mut self, s: usize) -> bool {
        let live = match self.session_state(s) {
            Some(live) => live,
            None => self.org.dir.session_is_live(self.sessions[s].id).unwrap_or(false),
        };
        if live {
            self.sessions[s].seen = self.now();
        } else {
            self.sessions[s].ended = true;
        }
        live
    }

    pub(super) fn end_sessions(&mut self, user: usize, except: Option<usize>) {
        for (s, sess) in self.sessions.iter_mut().enumerate() {
            if sess.user == user && Some(s) != except {
                sess.ended = true;
            }
        }
    }

    pub(super) fn new_session(
        &mut self,
        id: SessionId,
        user: usize,
        holder: usize,
        snap: Snap,
        waiting: bool,
    ) {
        let now = self.now();
        let sess = Sess { id, user, holder, snap, created: now, seen: now, ended: false, waiting };
        self.sessions.push(sess);
    }

    pub(super) fn self_snap(&self, i: usize) -> Snap {
        Snap { target: self.perms(i), learner: self.perms(i) }
    }
}

// ---------------------------------------------------------------------------------------------
// Addresses: the same person typed in different case and Unicode forms.

/// Person `i`'s address as typed in `form`, and the form it is stored in (trimmed, NFC, the
/// typed casing). Bits of `form`: case (Title, lower, UPPER), combining marks instead of
/// precomposed letters, U+212B ANGSTROM SIGN for "Å", spaces around.
pub(super) fn address(i: usize, form: u8) -> (String, String) {
    let text = if i == 0 {
        "olivia.owner@example.com".to_string()
    } else {
        format!("zoë.ångström.{i}@example.com")
    };
    let (case, decomposed, sign, spaces) = (form % 3, form & 4 != 0, form & 8 != 0, form & 16 != 0);
    let (mut typed, mut stored) = (String::new(), String::new());
    let (mut start, mut domain) = (true, false);
    for c in text.chars() {
        let upper = match case {
            0 => start,
            1 => false,
            _ => true,
        };
        let (t, s) = spell(c, upper, decomposed, sign);
        typed.push_str(&t);
        stored.push_str(&s);
        if c == '@' {
            domain = true;
            start = true;
        } else {
            start = c == '.' && !domain;
        }
    }
    if spaces {
        typed = format!("  {typed} ");
    }
    (typed, stored)
}

fn spell(c: char, upper: bool, decomposed: bool, sign: bool) -> (String, String) {
    let shown: String = if upper { c.to_uppercase().collect() } else { c.to_string() };
    let (base, mark) = match c {
        'ë' => ('e', '\u{308}'),
        'ö' => ('o', '\u{308}'),
        'å' => ('a', '\u{30a}'),
        _ => return (shown.clone(), shown),
    };
    let typed = if c == 'å' && upper && sign {
        "\u{212b}".to_string()
    } else if decomposed {
        format!("{}{mark}", if upper { base.to_ascii_uppercase() } else { base })
    } else {
        shown.clone()
    };
    (typed, shown)
}

/// An id no user has.
pub(super) fn unknown_id(i: usize) -> UserId {
    Uuid::from_u128(0x6a7e_0000_0000_0000_0000_0000_0000_0000 + i as u128)
}
