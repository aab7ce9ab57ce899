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
//!
//! After every call the real outcome must be one the spec allows (where the spec gives no order
//! between refusals, any refusal that applies is accepted; where it leaves a behaviour open,
//! either is accepted and the model follows what happened), and the audit log must have grown
//! by exactly what that outcome writes: one event for each refusal by the permission matrix or
//! rules 1-7, none for other refusals, one for each refused code or sign-in. After every step
//! `verify()` holds and the store and the model agree on every user (status, roles, stored
//! address, lockout, invitation expiry, `can()` for every module and action) and on every
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

use crate::support::{Org, MEMBER_PASSWORD, OWNER_EMAIL, OWNER_PASSWORD};
use chrono::{DateTime, Duration, Utc};
use gatehouse_core::model::{
    Action, Module, Permission, PermissionSet, Settings, UserId, UserStatus,
};
use gatehouse_core::{
    AcceptInput, Clock, ErrorCode, InviteOutcome, InviteRequest, Invitee, ResetInput, RoleInput,
    SessionId, SettingsInput,
};
use proptest::prelude::*;
use proptest::test_runner::{
    Config, FileFailurePersistence, RngSeed, TestCaseError, TestError, TestRunner,
};
use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::OnceLock;
use uuid::Uuid;

type Perms = PermissionSet;
type Outcome = Result<(), ErrorCode>;

/// People 0..PEOPLE; person 0 is the Owner who set the organization up.
const PEOPLE: usize = 7;
const OWNER: &str = "owner";
const CUSTOM: [(&str, &str); 2] = [("custom_a", "Custom A"), ("custom_b", "Custom B")];
/// Passwords people choose from; the last is too weak for the policy.
const PASSWORDS: [&str; 8] = [
    OWNER_PASSWORD,
    MEMBER_PASSWORD,
    "violet anchor meadow drum",
    "copper falcon winter sails",
    "silent harbor maple kite",
    "orange glacier velvet horn",
    "humble pepper canyon moth",
    "password1234",
];
const WEAK: usize = PASSWORDS.len() - 1;
const WRONG: &str = "certainly not the password";
const ORGANIZATION: &str = "Acme Payments";

// Numbers from domain.md.
const LOCK_AFTER: u32 = 5;
const LOCK_MINUTES: i64 = 30;
const SESSION_MAX_HOURS: i64 = 12;
const DEFAULT_LIFETIME_HOURS: u32 = 7 * 24;
const DEFAULT_IDLE_MINUTES: u32 = 15;
const PASSWORD_HISTORY: usize = 4;

// ---------------------------------------------------------------------------------------------
// The permission table, read from the spec at test time.

fn spec_table() -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/spec/permissions.md");
    std::fs::read_to_string(path).expect("shared/spec/permissions.md sits beside the repository")
}

/// The built-in roles of permissions.md in table order: (key, permissions). A role's key is
/// its name in lower case with `_` for spaces ("System Integrator" → `system_integrator`).
fn built_in() -> &'static [(String, Perms)] {
    static TABLE: OnceLock<Vec<(String, Perms)>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let text = spec_table();
        let mut rows = text.lines().map(str::trim).filter(|l| l.starts_with('|')).map(|l| {
            l.trim_matches('|').split('|').map(|c| c.trim().to_string()).collect::<Vec<_>>()
        });
        let header = rows.next().expect("header row");
        let mut roles: Vec<(String, Perms)> = header[1..]
            .iter()
            .map(|name| (name.to_lowercase().replace(' ', "_"), Perms::new()))
            .collect();
        for row in rows {
            if row.iter().all(|c| c.chars().all(|ch| matches!(ch, '-' | ':' | ' '))) {
                continue; // the |---| line
            }
            let key = row[0].split('`').nth(1).expect("module key in backticks");
            let module = Module::ALL
                .into_iter()
                .find(|m| m.key() == key)
                .unwrap_or_else(|| panic!("permissions.md names a module core lacks: {key}"));
            for ((_, perms), cell) in roles.iter_mut().zip(&row[1..]) {
                for letter in cell.chars() {
                    let action = match letter {
                        'C' => Action::Create,
                        'R' => Action::Read,
                        'U' => Action::Update,
                        'D' => Action::Delete,
                        _ => continue,
                    };
                    perms.insert(Permission { module, action });
                }
            }
        }
        assert!(roles.iter().any(|(k, _)| k == OWNER), "permissions.md has an Owner column");
        roles
    })
}

/// Role keys the commands pick from: the built-in ones, then the two custom ones.
fn pool_key(pick: u8) -> String {
    let n = built_in().len();
    let i = usize::from(pick) % (n + CUSTOM.len());
    if i < n {
        built_in()[i].0.clone()
    } else {
        CUSTOM[i - n].0.to_string()
    }
}

fn show_perms(perms: &Perms) -> String {
    let parts: Vec<String> = perms
        .iter()
        .map(|p| format!("{}:{}", p.module.key(), p.action.letter().to_ascii_lowercase()))
        .collect();
    format!("{{{}}}", parts.join(" "))
}

// ---------------------------------------------------------------------------------------------
// Addresses: the same person typed in different case and Unicode forms.

/// Person `i`'s address as typed in `form`, and the form it is stored in (trimmed, NFC, the
/// typed casing). Bits of `form`: case (Title, lower, UPPER), combining marks instead of
/// precomposed letters, U+212B ANGSTROM SIGN for "Å", spaces around.
fn address(i: usize, form: u8) -> (String, String) {
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
fn unknown_id(i: usize) -> UserId {
    Uuid::from_u128(0x6a7e_0000_0000_0000_0000_0000_0000_0000 + i as u128)
}

// ---------------------------------------------------------------------------------------------
// Commands.

/// Which session a command is sent with: `live` picks among the sessions the model holds live,
/// otherwise among every handle ever given out (ended ones included).
#[derive(Clone, Copy)]
struct Pick {
    live: bool,
    n: u8,
}

impl fmt::Debug for Pick {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", if self.live { "live#" } else { "any#" }, self.n)
    }
}

#[derive(Clone, Copy, Debug)]
enum CodePick {
    /// The person's current code.
    Current,
    /// One that no longer works (replaced, cancelled, used).
    Stale(usize),
    /// The current code, typed with someone else's email.
    OtherEmail,
}

#[derive(Clone, Copy, Debug)]
enum PwPick {
    Right,
    Wrong,
    /// The previous password.
    Old,
}

#[derive(Clone, Copy, Debug)]
enum OutboxAct {
    Save,
    Retry,
    Discard,
}

/// A custom role's permissions: a template (0 none, 1 helpdesk users:cru, 2 the Owner column,
/// 3 the Admin column, 4 users:r) plus some single permissions.
#[derive(Clone, Debug)]
struct PermPick {
    template: u8,
    extra: Vec<(usize, usize)>,
}

#[derive(Clone, Debug)]
enum Op {
    Invite {
        by: Pick,
        who: usize,
        roles: Vec<u8>,
        form: u8,
        bad_email: bool,
    },
    Accept {
        who: usize,
        code: CodePick,
        by_other: bool,
        pw: usize,
        form: u8,
    },
    Resend {
        by: Pick,
        who: usize,
    },
    Cancel {
        by: Pick,
        who: usize,
    },
    Deactivate {
        by: Pick,
        who: usize,
    },
    Reactivate {
        by: Pick,
        who: usize,
    },
    ChangeRoles {
        by: Pick,
        who: usize,
        roles: Vec<u8>,
    },
    SignIn {
        who: usize,
        pw: PwPick,
        times: u8,
        by_other: bool,
        form: u8,
    },
    SignOut {
        by: Pick,
    },
    IssueReset {
        by: Pick,
        who: usize,
    },
    Reset {
        who: usize,
        code: CodePick,
        by_other: bool,
        pw: usize,
        form: u8,
    },
    Unlock {
        by: Pick,
        who: usize,
    },
    CreateRole {
        by: Pick,
        which: usize,
        perms: PermPick,
    },
    UpdateRole {
        by: Pick,
        which: usize,
        perms: PermPick,
    },
    DeleteRole {
        by: Pick,
        which: usize,
    },
    Settings {
        by: Pick,
        lifetime_hours: u32,
        idle_minutes: u32,
    },
    OwnPassword {
        by: Pick,
        right: bool,
        pw: usize,
    },
    Outbox {
        by: Pick,
        who: usize,
        reset: bool,
        older: bool,
        act: OutboxAct,
    },
    /// The person keeps working (reads their own profile) every idle-timeout-minus-a-bit, for
    /// `minutes`.
    Busy {
        by: Pick,
        minutes: i64,
    },
    Wait {
        minutes: i64,
        nanos: i64,
    },
}

impl Op {
    fn name(&self) -> &'static str {
        match self {
            Op::Invite { .. } => "invite",
            Op::Accept { .. } => "accept",
            Op::Resend { .. } => "resend",
            Op::Cancel { .. } => "cancel",
            Op::Deactivate { .. } => "deactivate",
            Op::Reactivate { .. } => "reactivate",
            Op::ChangeRoles { .. } => "change_roles",
            Op::SignIn { .. } => "sign_in",
            Op::SignOut { .. } => "sign_out",
            Op::IssueReset { .. } => "issue_reset",
            Op::Reset { .. } => "reset_password",
            Op::Unlock { .. } => "unlock",
            Op::CreateRole { .. } => "create_role",
            Op::UpdateRole { .. } => "update_role",
            Op::DeleteRole { .. } => "delete_role",
            Op::Settings { .. } => "settings",
            Op::OwnPassword { .. } => "own_password",
            Op::Outbox { act: OutboxAct::Save, .. } => "outbox_save",
            Op::Outbox { act: OutboxAct::Retry, .. } => "outbox_retry",
            Op::Outbox { act: OutboxAct::Discard, .. } => "outbox_discard",
            Op::Busy { .. } => "busy",
            Op::Wait { .. } => "wait",
        }
    }
}

/// Every command name, for the counts.
const OP_NAMES: [&str; 22] = [
    "invite",
    "accept",
    "resend",
    "cancel",
    "deactivate",
    "reactivate",
    "change_roles",
    "sign_in",
    "sign_out",
    "issue_reset",
    "reset_password",
    "unlock",
    "create_role",
    "update_role",
    "delete_role",
    "settings",
    "own_password",
    "outbox_save",
    "outbox_retry",
    "outbox_discard",
    "busy",
    "wait",
];

fn pick() -> impl Strategy<Value = Pick> {
    (prop::bool::weighted(0.9), any::<u8>()).prop_map(|(live, n)| Pick { live, n })
}

/// The person a command aims at, resolved when it runs (see `Run::resolve`).
fn target() -> impl Strategy<Value = usize> {
    0..256usize
}

fn role_picks() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![12 => prop::collection::vec(0u8..7, 1..=2), 1 => Just(Vec::new())]
}

fn password() -> impl Strategy<Value = usize> {
    prop_oneof![12 => 0..WEAK, 1 => Just(WEAK)]
}

fn code_pick() -> impl Strategy<Value = CodePick> {
    prop_oneof![
        8 => Just(CodePick::Current),
        2 => (0..4usize).prop_map(CodePick::Stale),
        1 => Just(CodePick::OtherEmail),
    ]
}

fn perm_pick() -> impl Strategy<Value = PermPick> {
    (0u8..5, prop::collection::vec((0..Module::ALL.len(), 0..Action::ALL.len()), 0..3))
        .prop_map(|(template, extra)| PermPick { template, extra })
}

fn op() -> impl Strategy<Value = Op> {
    let wait = prop_oneof![
            6 => 1..=14i64,
            2 => 15..=61i64,
            1 => 62..=1500i64,
            1 => 1440..=50_000i64,
    ];
    prop_oneof![
        7 => (pick(), 1..PEOPLE, role_picks(), any::<u8>(), prop::bool::weighted(0.03))
            .prop_map(|(by, who, roles, form, bad_email)| Op::Invite { by, who, roles, form, bad_email }),
        3 => (1..PEOPLE, code_pick(), prop::bool::weighted(0.3), password(), any::<u8>())
            .prop_map(|(who, code, by_other, pw, form)| Op::Accept { who, code, by_other, pw, form }),
        2 => (pick(), target()).prop_map(|(by, who)| Op::Resend { by, who }),
        1 => (pick(), target()).prop_map(|(by, who)| Op::Cancel { by, who }),
        3 => (pick(), target()).prop_map(|(by, who)| Op::Deactivate { by, who }),
        2 => (pick(), target()).prop_map(|(by, who)| Op::Reactivate { by, who }),
        6 => (pick(), target(), role_picks()).prop_map(|(by, who, roles)| Op::ChangeRoles { by, who, roles }),
        3 => (
            prop_oneof![2 => Just(0usize), 3 => 0..PEOPLE],
            prop_oneof![7 => Just(PwPick::Right), 3 => Just(PwPick::Wrong), 1 => Just(PwPick::Old)],
            prop_oneof![11 => Just(1u8), 1 => Just(5u8)],
            prop::bool::weighted(0.3),
            any::<u8>(),
        )
            .prop_map(|(who, pw, times, by_other, form)| Op::SignIn { who, pw, times, by_other, form }),
        1 => pick().prop_map(|by| Op::SignOut { by }),
        3 => (pick(), target()).prop_map(|(by, who)| Op::IssueReset { by, who }),
        2 => (target(), code_pick(), prop::bool::weighted(0.3), password(), any::<u8>())
            .prop_map(|(who, code, by_other, pw, form)| Op::Reset { who, code, by_other, pw, form }),
        2 => (pick(), target()).prop_map(|(by, who)| Op::Unlock { by, who }),
        2 => (pick(), 0..3usize, perm_pick()).prop_map(|(by, which, perms)| Op::CreateRole { by, which, perms }),
        2 => (pick(), 0..3usize, perm_pick()).prop_map(|(by, which, perms)| Op::UpdateRole { by, which, perms }),
        1 => (pick(), 0..3usize).prop_map(|(by, which)| Op::DeleteRole { by, which }),
        1 => (pick(), prop::sample::select(vec![1u32, 2, 24, 168, 720]), prop::sample::select(vec![1u32, 5, 15, 30, 60]))
            .prop_map(|(by, lifetime_hours, idle_minutes)| Op::Settings { by, lifetime_hours, idle_minutes }),
        1 => (pick(), prop::bool::weighted(0.7), prop_oneof![3 => 0..WEAK, 1 => Just(WEAK)])
            .prop_map(|(by, right, pw)| Op::OwnPassword { by, right, pw }),
        3 => (
            pick(),
            target(),
            any::<bool>(),
            prop::bool::weighted(0.2),
            prop_oneof![3 => Just(OutboxAct::Save), 1 => Just(OutboxAct::Retry), 1 => Just(OutboxAct::Discard)],
        )
            .prop_map(|(by, who, reset, older, act)| Op::Outbox { by, who, reset, older, act }),
        1 => (pick(), prop::sample::select(vec![30i64, 180, 700, 730, 800]))
            .prop_map(|(by, minutes)| Op::Busy { by, minutes }),
        3 => (wait, 1..1_000_000_000i64).prop_map(|(minutes, nanos)| Op::Wait { minutes, nanos }),
    ]
}

// ---------------------------------------------------------------------------------------------
// The model's state.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    Absent,
    Invited,
    Active,
    Inactive,
}

/// What a learner and a target held when the learner learned one of the target's credentials
/// (a code, or a password set with one): permissions the target gained, or the learner lost,
/// since then were granted by someone else.
#[derive(Debug, Clone)]
struct Snap {
    target: Perms,
    learner: Perms,
}

/// A pending invitation or reset code.
#[derive(Debug, Clone)]
struct Code {
    text: String,
    issuer: usize,
    expires: DateTime<Utc>,
    /// Who has seen it, and what they and the recipient held then.
    seen: BTreeMap<usize, Snap>,
    message: Uuid,
    /// A reset code whose issuer lost the right to issue it (or whose target was deactivated)
    /// at some point: the spec does not say whether it comes back with the right.
    lapsed: bool,
}

/// A code that no longer works, and the refusals the spec allows for it.
#[derive(Debug, Clone)]
struct Stale {
    text: String,
    errors: Vec<ErrorCode>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord)]
struct Throttle {
    failures: u32,
    until: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone)]
struct Person {
    id: Option<UserId>,
    status: Status,
    roles: Vec<String>,
    /// The forms the store may show the address in.
    displays: Vec<String>,
    invitation: Option<Code>,
    reset: Option<Code>,
    stale_invitations: Vec<Stale>,
    stale_resets: Vec<Stale>,
    /// Indexes into PASSWORDS, newest (the current one) first.
    passwords: Vec<usize>,
    /// Who knows the current password.
    password_known: BTreeMap<usize, Snap>,
    /// The lockout record of the person's address: every state the spec allows it to be in.
    throttle: Vec<Throttle>,
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
        }
    }
}

#[derive(Debug, Clone)]
struct Sess {
    id: SessionId,
    user: usize,
    /// Who really holds it (someone may have signed in with another person's password).
    holder: usize,
    snap: Snap,
    created: DateTime<Utc>,
    seen: DateTime<Utc>,
    ended: bool,
}

#[derive(Debug, Clone)]
struct Msg {
    id: Uuid,
    to: usize,
    reset: bool,
    code: String,
    /// Sent, saved, discarded, or dropped with its code.
    finished: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Life {
    Valid,
    Either,
    Dead,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum MsgLife {
    Unsent,
    /// Its code was used or expired: the spec erases the letter.
    Erased,
    Either,
    Finished,
}

/// What the spec allows one command to do.
#[derive(Debug, Clone, Default)]
struct Verdict {
    /// Refusals that apply: the command must be refused with one of these (or a `maybe`).
    refuse: Vec<(ErrorCode, u64)>,
    /// Refusals the spec leaves open: allowed, and so is going ahead.
    maybe: Vec<(ErrorCode, u64)>,
    /// Audit events a success may write; empty when it may not succeed.
    ok: Vec<u64>,
}

impl Verdict {
    fn go(ok: &[u64]) -> Self {
        Verdict { ok: ok.to_vec(), ..Verdict::default() }
    }

    /// An audited refusal: by the permission matrix or rules 1-7, or of a code.
    fn deny(&mut self, applies: bool, code: ErrorCode) {
        if applies {
            self.refuse.push((code, 1));
        }
    }

    /// Any other refusal: not audited.
    fn reject(&mut self, applies: bool, code: ErrorCode) {
        if applies {
            self.refuse.push((code, 0));
        }
    }

    fn maybe(&mut self, applies: bool, code: ErrorCode, events: u64) {
        if applies {
            self.maybe.push((code, events));
        }
    }

    fn allowed(&self) -> Vec<(Outcome, u64)> {
        let mut out: Vec<(Outcome, u64)> =
            self.refuse.iter().chain(&self.maybe).map(|&(c, e)| (Err(c), e)).collect();
        if self.refuse.is_empty() {
            out.extend(self.ok.iter().map(|&e| (Ok(()), e)));
        }
        out.dedup();
        out
    }
}

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
}

struct Run {
    org: Org,
    people: Vec<Person>,
    custom: BTreeMap<String, Perms>,
    sessions: Vec<Sess>,
    messages: Vec<Msg>,
    lifetime_hours: u32,
    idle_minutes: u32,
    /// Audit events in the store, as last counted.
    events: u64,
    trace: Vec<String>,
    /// Calls are not traced (the rounds of `busy`) unless they fail.
    quiet: bool,
    step: usize,
    /// Whether the last call succeeded.
    last_ok: bool,
    /// Everyone's permissions when `can()` was last asked about everyone.
    checked_perms: Option<Vec<(Option<UserId>, Perms)>>,
    /// Who was last sent an invitation, and a reset code.
    last_invited: Option<usize>,
    last_reset: Option<usize>,
    stats: Stats,
    files: usize,
}

fn session_codes() -> Vec<(ErrorCode, u64)> {
    vec![(ErrorCode::NotSignedIn, 0), (ErrorCode::SessionExpired, 0)]
}

fn after_failure(t: &Throttle, now: DateTime<Utc>) -> Vec<(Throttle, bool)> {
    // A lockout that ran out: the spec counts "consecutive" failures, and does not say whether
    // the count starts again.
    let counts = if t.until.is_some() { vec![1, t.failures + 1] } else { vec![t.failures + 1] };
    counts
        .into_iter()
        .map(|n| {
            if n >= LOCK_AFTER {
                (Throttle { failures: n, until: Some(now + Duration::minutes(LOCK_MINUTES)) }, true)
            } else {
                (Throttle { failures: n, until: None }, false)
            }
        })
        .collect()
}

/// Whether the address is locked: `[true]`, `[false]`, or both at the very minute it ends.
fn locked(t: &Throttle, now: DateTime<Utc>) -> Vec<bool> {
    match t.until {
        Some(u) if u > now => vec![true],
        Some(u) if u == now => vec![true, false],
        _ => vec![false],
    }
}

fn dedup<T: Ord>(v: Vec<T>) -> Vec<T> {
    v.into_iter().collect::<BTreeSet<_>>().into_iter().collect()
}

/// The (outcome, events) pairs of lockout branches.
fn outcomes(branches: &[(Outcome, u64, Throttle)]) -> Vec<(Outcome, u64)> {
    let mut out: Vec<(Outcome, u64)> = Vec::new();
    for (o, e, _) in branches {
        if !out.contains(&(*o, *e)) {
            out.push((*o, *e));
        }
    }
    out
}

fn code_of(e: gatehouse_core::Error) -> ErrorCode {
    e.code()
}

#[allow(clippy::field_reassign_with_default)] // only the two fields the model knows
fn settings(lifetime_hours: u32, idle_minutes: u32) -> Settings {
    let mut s = Settings::default();
    s.invitation_lifetime_hours = lifetime_hours;
    s.session_idle_minutes = idle_minutes;
    s
}

impl Run {
    fn new() -> Self {
        let org = Org::new().with_owner();
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
        let sessions = vec![Sess {
            id: org.owner(),
            user: 0,
            holder: 0,
            snap: me,
            created: now,
            seen: now,
            ended: false,
        }];
        let events = u64::from(org.dir.verify().expect("verify").audit_events);
        Run {
            org,
            people,
            custom: BTreeMap::new(),
            sessions,
            messages: Vec::new(),
            lifetime_hours: DEFAULT_LIFETIME_HOURS,
            idle_minutes: DEFAULT_IDLE_MINUTES,
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
        }
    }

    fn now(&self) -> DateTime<Utc> {
        self.org.clock.now()
    }

    fn fail(&self, why: impl fmt::Display) -> TestCaseError {
        TestCaseError::fail(format!(
            "{why}\n  the steps of this case:\n{}",
            self.trace.iter().map(|l| format!("    {l}")).collect::<Vec<_>>().join("\n")
        ))
    }

    // --- permissions, from the spec's table and the custom roles -------------------------

    fn role_perms(&self, key: &str) -> Option<Perms> {
        built_in()
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, p)| p.clone())
            .or_else(|| self.custom.get(key).cloned())
    }

    fn roles_perms(&self, roles: &[String]) -> Perms {
        roles.iter().filter_map(|k| self.role_perms(k)).flatten().collect()
    }

    /// A person's effective permissions, whatever their status (for an Invited person, those
    /// the invitation would give): what rule 6 compares.
    fn perms(&self, i: usize) -> Perms {
        self.roles_perms(&self.people[i].roles)
    }

    /// What the person may do now: nothing unless Active.
    fn live_perms(&self, i: usize) -> Perms {
        if self.people[i].status == Status::Active {
            self.perms(i)
        } else {
            Perms::new()
        }
    }

    fn can(&self, i: usize, module: Module, action: Action) -> bool {
        self.live_perms(i).contains(&Permission { module, action })
    }

    fn owner(&self, i: usize) -> bool {
        self.people[i].roles.iter().any(|r| r == OWNER)
    }

    /// Rule 6: Owners dominate everyone; anyone else those whose permissions they hold.
    fn dominates(&self, a: usize, b: usize) -> bool {
        self.owner(a) || self.perms(b).is_subset(&self.perms(a))
    }

    fn active_owners_except(&self, i: usize) -> usize {
        (0..PEOPLE)
            .filter(|&j| j != i && self.people[j].status == Status::Active && self.owner(j))
            .count()
    }

    fn role_keys(picks: &[u8]) -> Vec<String> {
        let n = built_in().len() + CUSTOM.len();
        let indexes: BTreeSet<usize> = picks.iter().map(|&p| usize::from(p) % n).collect();
        indexes.into_iter().map(|i| pool_key(i as u8)).collect()
    }

    fn template(&self, pick: &PermPick) -> Perms {
        let column = |key: &str| {
            built_in().iter().find(|(k, _)| k == key).map(|(_, p)| p.clone()).unwrap_or_default()
        };
        let mut perms = match pick.template {
            1 => [Action::Create, Action::Read, Action::Update]
                .into_iter()
                .map(|action| Permission { module: Module::Users, action })
                .collect(),
            2 => column(OWNER),
            3 => column("admin"),
            4 => [Permission { module: Module::Users, action: Action::Read }].into(),
            _ => Perms::new(),
        };
        for &(m, a) in &pick.extra {
            perms.insert(Permission { module: Module::ALL[m], action: Action::ALL[a] });
        }
        perms
    }

    // --- sessions ------------------------------------------------------------------------

    /// The session a command is sent with. When a live one is asked for and nobody is signed
    /// in, the person who signed in last (or else the first who can) signs in again first, as
    /// people do.
    fn pick(&mut self, p: Pick) -> Result<Option<usize>, TestCaseError> {
        let live = |run: &Run| -> Vec<usize> {
            (0..run.sessions.len()).filter(|&s| !run.sessions[s].ended).collect()
        };
        if p.live && live(self).is_empty() {
            let now = self.now();
            let last = self.sessions.last().map(|s| s.user);
            let who = last.into_iter().chain(0..PEOPLE).find(|&i| {
                let person = &self.people[i];
                person.status == Status::Active
                    && !person.passwords.is_empty()
                    && person.throttle.iter().all(|t| locked(t, now) == [false])
            });
            if let Some(who) = who {
                self.sign_in(who, PwPick::Right, 1, false, 0)?;
            }
        }
        let live = live(self);
        let pool: Vec<usize> =
            if p.live && !live.is_empty() { live } else { (0..self.sessions.len()).collect() };
        Ok((!pool.is_empty()).then(|| pool[usize::from(p.n) % pool.len()]))
    }

    fn idle(&self) -> Duration {
        Duration::minutes(i64::from(self.idle_minutes))
    }

    /// `Some(live)`, or `None` at the very instant it ends (the spec does not say which side
    /// of the instant counts).
    fn session_state(&self, s: usize) -> Option<bool> {
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

    fn who(&self, s: usize) -> String {
        let sess = &self.sessions[s];
        if sess.holder == sess.user {
            format!("person {} [session {s}]", sess.user)
        } else {
            format!("person {} as person {} [session {s}]", sess.holder, sess.user)
        }
    }

    /// The session check every command starts with: the acting person, or the refusal.
    /// A command by the person counts as activity.
    fn begin(&mut self, s: usize, v: &mut Verdict) -> Option<usize> {
        let live = match self.session_state(s) {
            Some(live) => live,
            None => self.org.dir.session_is_live(self.sessions[s].id).unwrap_or(false),
        };
        if !live {
            self.sessions[s].ended = true;
            v.refuse = session_codes();
            v.maybe.clear();
            v.ok.clear();
            return None;
        }
        self.sessions[s].seen = self.now();
        Some(self.sessions[s].user)
    }

    fn end_sessions(&mut self, user: usize, except: Option<usize>) {
        for (s, sess) in self.sessions.iter_mut().enumerate() {
            if sess.user == user && Some(s) != except {
                sess.ended = true;
            }
        }
    }

    fn new_session(&mut self, id: SessionId, user: usize, holder: usize, snap: Snap) {
        let now = self.now();
        self.sessions.push(Sess { id, user, holder, snap, created: now, seen: now, ended: false });
    }

    fn self_snap(&self, i: usize) -> Snap {
        Snap { target: self.perms(i), learner: self.perms(i) }
    }

    // --- codes ---------------------------------------------------------------------------

    /// Rule 7: `learner`, acting as `identity`, sees a code of `target`'s. Returns what they
    /// held then.
    fn learn(&self, learner: usize, identity: usize, target: usize) -> Result<Snap, TestCaseError> {
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
    fn reset_life(&self, b: usize) -> (Life, bool) {
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

    fn msg_life(&self, m: &Msg) -> MsgLife {
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
    fn resolve(&self, s: usize, n: usize, prefer: impl Fn(&Person) -> bool) -> usize {
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
    fn holder_of_code(&self, b: usize, pick: CodePick, reset: bool) -> usize {
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

    fn retire_invitation(&mut self, b: usize, errors: &[ErrorCode]) {
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

    fn retire_reset(&mut self, b: usize, finish: bool) {
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
    fn issue(
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
    fn signed_in_as(&mut self, x: usize, b: usize, snap: &Snap) -> Result<(), TestCaseError> {
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

    // --- comparing -----------------------------------------------------------------------

    /// Counts the audit events the call wrote and checks the outcome against `allowed`.
    fn compare(
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

    fn compare_verdict(
        &mut self,
        what: &str,
        real: &Outcome,
        v: &Verdict,
    ) -> Result<(), TestCaseError> {
        self.compare(what, real, &v.allowed()).map(|_| ())
    }

    /// Applies the lockout branches that match what happened.
    fn follow_throttle(
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

    // --- the steps -----------------------------------------------------------------------

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
            Op::Settings { by, lifetime_hours, idle_minutes } => {
                self.settings(*by, *lifetime_hours, *idle_minutes)?
            }
            Op::OwnPassword { by, right, pw } => self.own_password(*by, *right, *pw)?,
            Op::Outbox { by, who, reset, older, act } => {
                self.outbox(*by, *who, *reset, *older, *act)?
            }
            Op::Busy { by, minutes } => self.busy(*by, *minutes)?,
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

    fn invite(
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
        } else {
            // An expired invitation, replaced: the spec does not say which form the store keeps.
            self.retire_invitation(b, &[ErrorCode::InvitationReplaced]);
            self.people[b].displays.push(stored);
        }
        self.people[b].id = Some(issued.user_id);
        self.people[b].status = Status::Invited;
        self.people[b].roles = keys;
        let code = self.issue(s, a, b, issued.code, issued.expires_at, issued.message_id, false)?;
        self.people[b].invitation = Some(code);
        Ok(true)
    }

    fn accept(
        &mut self,
        b: usize,
        pick: CodePick,
        by_other: bool,
        pw: usize,
        form: u8,
    ) -> Result<bool, TestCaseError> {
        let b = self.holder_of_code(b, pick, false);
        let now = self.now();
        let mut v = Verdict::go(&[1]);
        let current = self.people[b].invitation.clone();
        let (text, email_of) = match pick {
            CodePick::Current => {
                let Some(c) = &current else { return Ok(false) };
                v.deny(now > c.expires, ErrorCode::InvitationExpired);
                v.maybe(now == c.expires, ErrorCode::InvitationExpired, 1);
                (c.text.clone(), b)
            }
            CodePick::Stale(k) => {
                let stale = &self.people[b].stale_invitations;
                if stale.is_empty() {
                    return Ok(false);
                }
                let st = stale[k % stale.len()].clone();
                for code in st.errors {
                    v.deny(true, code);
                }
                (st.text, b)
            }
            CodePick::OtherEmail => {
                let Some(c) = &current else { return Ok(false) };
                v.deny(true, ErrorCode::InvalidCode);
                (c.text.clone(), (b + 1) % PEOPLE)
            }
        };
        v.reject(pw == WEAK, ErrorCode::WeakPassword);
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
        p.passwords = vec![pw];
        p.password_known = [(by, snap.clone())].into();
        // The spec does not say whether accepting clears a count of failed sign-ins.
        p.throttle =
            dedup(p.throttle.iter().flat_map(|t| [t.clone(), Throttle::default()]).collect());
        self.new_session(session, b, by, snap.clone());
        self.signed_in_as(by, b, &snap)?;
        Ok(true)
    }

    fn resend_or_cancel(
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
            }
        }
        Ok(true)
    }

    fn status(&mut self, by: Pick, b: usize, deactivate: bool) -> Result<bool, TestCaseError> {
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
            }
        }
        Ok(true)
    }

    fn change_roles(&mut self, by: Pick, b: usize, picks: &[u8]) -> Result<bool, TestCaseError> {
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

    fn sign_in(
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
        let good = current.is_some_and(|i| PASSWORDS[i] == password) && p.status == Status::Active;
        let snap = p.password_known.get(&holder).cloned().unwrap_or_else(|| self.self_snap(b));
        let times = if matches!(pw, PwPick::Wrong) { times } else { 1 };
        for _ in 0..times {
            let now = self.now();
            let mut branches: Vec<(Outcome, u64, Throttle)> = Vec::new();
            for t in &self.people[b].throttle {
                for is_locked in locked(t, now) {
                    if is_locked {
                        branches.push((Err(ErrorCode::LockedOut), 1, t.clone()));
                    } else if good {
                        branches.push((Ok(()), 1, Throttle::default()));
                    } else {
                        for (next, locks) in after_failure(t, now) {
                            branches.push((Err(ErrorCode::InvalidCredentials), 1, next.clone()));
                            if locks {
                                branches.push((Err(ErrorCode::LockedOut), 1, next));
                            }
                        }
                    }
                }
            }
            let allowed = outcomes(&branches);
            let real = self.org.dir.sign_in(&typed, password).map(|s| s.session).map_err(code_of);
            let what = match (holder == b, pw) {
                (false, _) => format!("person {holder} signs in as person {b} ({typed:?})"),
                (true, PwPick::Right) => format!("person {b} signs in as {typed:?}"),
                (true, _) => format!("person {b} signs in as {typed:?} with a {pw:?} password"),
            };
            let events = self.compare(&what, &real.map(|_| ()), &allowed)?;
            self.follow_throttle(b, &branches, &real.map(|_| ()), events)?;
            if let Ok(session) = real {
                self.new_session(session, b, holder, snap.clone());
                self.signed_in_as(holder, b, &snap)?;
            }
        }
        Ok(true)
    }

    fn sign_out(&mut self, by: Pick) -> Result<bool, TestCaseError> {
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

    fn issue_reset(&mut self, by: Pick, b: usize) -> Result<bool, TestCaseError> {
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

    fn reset(
        &mut self,
        b: usize,
        pick: CodePick,
        by_other: bool,
        pw: usize,
        form: u8,
    ) -> Result<bool, TestCaseError> {
        let b = self.holder_of_code(b % PEOPLE, pick, true);
        let mut v = Verdict::go(&[1]);
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

    fn unlock(&mut self, by: Pick, b: usize) -> Result<bool, TestCaseError> {
        let Some(s) = self.pick(by)? else { return Ok(false) };
        let now = self.now();
        let b = self
            .resolve(s, b, |p| p.throttle.iter().any(|t| t.failures > 0 || t.until > Some(now)));
        let id = self.people[b].id.unwrap_or_else(|| unknown_id(b));
        let mut v = Verdict::go(&[1]);
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

    fn role_target(which: usize, built_in_key: &str) -> (String, String) {
        match which {
            0 | 1 => (CUSTOM[which].0.to_string(), CUSTOM[which].1.to_string()),
            _ => (built_in_key.to_string(), format!("Edited {built_in_key}")),
        }
    }

    fn create_role(
        &mut self,
        by: Pick,
        which: usize,
        pick: &PermPick,
    ) -> Result<bool, TestCaseError> {
        let Some(s) = self.pick(by)? else { return Ok(false) };
        let (key, name) = Self::role_target(which, "admin");
        let perms = self.template(pick);
        let mut v = Verdict::go(&[1]);
        let actor = self.begin(s, &mut v);
        if let Some(a) = actor {
            v.deny(!self.can(a, Module::Roles, Action::Create), ErrorCode::PermissionDenied);
            if which >= 2 {
                v.reject(true, ErrorCode::RoleExists);
                v.maybe(true, ErrorCode::BuiltInRole, 0);
            } else {
                v.reject(self.custom.contains_key(&key), ErrorCode::RoleExists);
            }
            v.deny(!perms.is_subset(&self.live_perms(a)), ErrorCode::Escalation);
        }
        let input = RoleInput {
            key: Some(key.clone()),
            name,
            description: String::new(),
            permissions: perms.iter().copied().collect(),
        };
        let real =
            self.org.dir.create_role(self.sessions[s].id, input).map(|_| ()).map_err(code_of);
        let what = format!("{} creates role {key} with {}", self.who(s), show_perms(&perms));
        self.compare_verdict(&what, &real, &v)?;
        if actor.is_some() && real.is_ok() {
            self.custom.insert(key, perms);
        }
        Ok(true)
    }

    fn update_role(
        &mut self,
        by: Pick,
        which: usize,
        pick: &PermPick,
    ) -> Result<bool, TestCaseError> {
        let Some(s) = self.pick(by)? else { return Ok(false) };
        let (key, name) = Self::role_target(which, "admin");
        let perms = self.template(pick);
        let before = self.custom.get(&key).cloned();
        let same = before.as_ref() == Some(&perms);
        let mut v = Verdict::go(if same { &[0, 1][..] } else { &[1][..] });
        let actor = self.begin(s, &mut v);
        if let Some(a) = actor {
            v.deny(!self.can(a, Module::Roles, Action::Update), ErrorCode::PermissionDenied);
            let mine = self.live_perms(a);
            match &before {
                _ if which >= 2 => v.reject(true, ErrorCode::BuiltInRole),
                None => v.reject(true, ErrorCode::UnknownRole),
                Some(old) => {
                    // Rule 4 forbids granting what one lacks; whether keeping it counts is open.
                    let added: Perms = perms.difference(old).copied().collect();
                    v.deny(!added.is_subset(&mine), ErrorCode::Escalation);
                    v.maybe(!perms.is_subset(&mine), ErrorCode::Escalation, 1);
                }
            }
        }
        let input = RoleInput {
            key: None,
            name,
            description: String::new(),
            permissions: perms.iter().copied().collect(),
        };
        let real =
            self.org.dir.update_role(self.sessions[s].id, &key, input).map(|_| ()).map_err(code_of);
        let what = format!("{} sets role {key} to {}", self.who(s), show_perms(&perms));
        self.compare_verdict(&what, &real, &v)?;
        if actor.is_some() && real.is_ok() {
            self.custom.insert(key, perms);
        }
        Ok(true)
    }

    fn delete_role(&mut self, by: Pick, which: usize) -> Result<bool, TestCaseError> {
        let Some(s) = self.pick(by)? else { return Ok(false) };
        let (key, _) = Self::role_target(which, "reporting");
        let mut v = Verdict::go(&[1]);
        let actor = self.begin(s, &mut v);
        if let Some(a) = actor {
            v.deny(!self.can(a, Module::Roles, Action::Delete), ErrorCode::PermissionDenied);
            if which >= 2 {
                v.reject(true, ErrorCode::BuiltInRole);
            } else if !self.custom.contains_key(&key) {
                v.reject(true, ErrorCode::UnknownRole);
            } else {
                let in_use = self
                    .people
                    .iter()
                    .any(|p| p.status != Status::Absent && p.roles.contains(&key));
                v.reject(in_use, ErrorCode::RoleInUse);
            }
        }
        let real = self.org.dir.delete_role(self.sessions[s].id, &key).map_err(code_of);
        let what = format!("{} deletes role {key}", self.who(s));
        self.compare_verdict(&what, &real, &v)?;
        if actor.is_some() && real.is_ok() {
            self.custom.remove(&key);
        }
        Ok(true)
    }

    fn settings(&mut self, by: Pick, lifetime: u32, idle: u32) -> Result<bool, TestCaseError> {
        let Some(s) = self.pick(by)? else { return Ok(false) };
        let same = lifetime == self.lifetime_hours && idle == self.idle_minutes;
        let mut v = Verdict::go(if same { &[0, 1][..] } else { &[1][..] });
        let actor = self.begin(s, &mut v);
        if let Some(a) = actor {
            v.deny(!self.can(a, Module::Settings, Action::Update), ErrorCode::PermissionDenied);
        }
        let input = SettingsInput { name: ORGANIZATION.into(), settings: settings(lifetime, idle) };
        let real = self
            .org
            .dir
            .update_organization(self.sessions[s].id, input)
            .map(|_| ())
            .map_err(code_of);
        let what = format!(
            "{} sets the invitation lifetime to {lifetime} h and the idle timeout to {idle} min",
            self.who(s)
        );
        self.compare_verdict(&what, &real, &v)?;
        if actor.is_some() && real.is_ok() {
            self.lifetime_hours = lifetime;
            self.idle_minutes = idle;
        }
        Ok(true)
    }

    fn own_password(&mut self, by: Pick, right: bool, pw: usize) -> Result<bool, TestCaseError> {
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
            for (code, events) in session_codes() {
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
            for t in self.people[a].throttle.clone() {
                for is_locked in locked(&t, now) {
                    if is_locked {
                        // Lockout applies: refused whatever the password; whether a right one
                        // still goes through is left open.
                        branches.push((Err(ErrorCode::LockedOut), 1, t.clone()));
                        if right {
                            go_on(&t, &mut branches);
                        } else {
                            branches.push((Err(ErrorCode::WrongPassword), 1, t.clone()));
                        }
                    } else if right {
                        // Whether a right current password clears the count is left open.
                        go_on(&t, &mut branches);
                        go_on(&Throttle::default(), &mut branches);
                    } else {
                        for (next, locks) in after_failure(&t, now) {
                            branches.push((Err(ErrorCode::WrongPassword), 1, next.clone()));
                            if locks {
                                branches.push((Err(ErrorCode::LockedOut), 1, next));
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

    fn outbox(
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

    fn busy(&mut self, by: Pick, minutes: i64) -> Result<bool, TestCaseError> {
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

    // --- after every step ----------------------------------------------------------------

    /// Sessions past the idle timeout or the 12 hours end, as time passes: raising the
    /// timeout later does not bring them back.
    fn sweep_sessions(&mut self) {
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

// ---------------------------------------------------------------------------------------------
// Running it.

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|s| s.trim().parse().ok()).unwrap_or(default)
}

fn run_case(ops: &[Option<Op>], stats: &RefCell<Stats>) -> Result<(), TestCaseError> {
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
fn minimize(ops: Vec<Option<Op>>, budget: std::time::Duration) -> (Vec<Op>, String) {
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
        failure_persistence: Some(Box::new(FileFailurePersistence::SourceParallel(
            "proptest-regressions",
        ))),
        source_file: Some(file!()),
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
    println!(
        "model: half {half}: {} cases, {} of {} steps run, {} calls; per command run/succeeded: \
         {}; refusals: {}; sign-ins as someone else: {} ({} holding permissions granted later)",
        stats.cases,
        stats.run,
        stats.generated,
        stats.calls,
        per_op.join(", "),
        refusals.join(", "),
        stats.sign_ins_as_others,
        stats.granted_later
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
        for code in ["permission_denied", "not_dominant", "locked_out", "session_expired"] {
            let seen = stats.refusals.get(code).copied().unwrap_or_default();
            assert!(seen >= 1, "no command was refused with {code}");
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
