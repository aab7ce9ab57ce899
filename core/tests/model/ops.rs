//! The commands a case is made of (`Op` and the choices inside it) and the strategies that
//! generate them.

use super::state::{PEOPLE, WEAK};
use gatehouse_core::model::{Action, Module};
use proptest::prelude::*;
use std::fmt;

/// Which session a command is sent with: `live` picks among the sessions the model holds live,
/// otherwise among every handle ever given out (ended ones included).
#[derive(Clone, Copy)]
pub(super) struct Pick {
    pub(super) live: bool,
    pub(super) n: u8,
}

impl fmt::Debug for Pick {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", if self.live { "live#" } else { "any#" }, self.n)
    }
}

#[derive(Clone, Copy, Debug)]
pub(super) enum CodePick {
    /// The person's current code.
    Current,
    /// One that no longer works (replaced, cancelled, used).
    Stale(usize),
    /// The current code, typed with someone else's email.
    OtherEmail,
}

#[derive(Clone, Copy, Debug)]
pub(super) enum PwPick {
    Right,
    Wrong,
    /// The previous password.
    Old,
}

#[derive(Clone, Copy, Debug)]
pub(super) enum OutboxAct {
    Save,
    Retry,
    Discard,
}

/// The code given at the second step of signing in.
#[derive(Clone, Copy, Debug)]
pub(super) enum FactorPick {
    /// The authenticator's code of a step not used yet, within the drift (the n-th such step);
    /// when none is due yet, the code the app shows now (already used).
    Right(u8),
    /// Six digits that are no step's code within the drift.
    Wrong(u8),
    /// The code of the last step used.
    Replayed,
    /// One of the unused recovery codes (typed in lower case when odd).
    Recovery(u8),
    /// A recovery code already used, or voided by a new set.
    UsedRecovery(u8),
}

/// The code that confirms an enrolment.
#[derive(Clone, Copy, Debug)]
pub(super) enum EnrolCode {
    /// The new secret's current code.
    Right,
    /// Six digits that are no step's code within the drift.
    Wrong(u8),
}

/// A custom role's permissions: a template (0 none, 1 helpdesk users:cru, 2 the Owner column,
/// 3 the Admin column, 4 users:r) plus some single permissions.
#[derive(Clone, Debug)]
pub(super) struct PermPick {
    pub(super) template: u8,
    pub(super) extra: Vec<(usize, usize)>,
}

#[derive(Clone, Debug)]
pub(super) enum Op {
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
        /// The dormant-account setting (off: `None`; now and then out of range).
        dormant_days: Option<u32>,
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
    /// Adds an authenticator app: starts an enrolment (or confirms the one pending), then
    /// confirms it with a code; `again`: confirms a second time with the same code.
    Enrol {
        by: Pick,
        start: bool,
        code: EnrolCode,
        again: bool,
    },
    /// The second step of signing in, on a session waiting at the gate (a person with an
    /// authenticator signs in first when none waits).
    SecondFactor {
        by: Pick,
        code: FactorPick,
        /// Times a wrong code is given.
        times: u8,
    },
    NewRecoveryCodes {
        by: Pick,
    },
    RemoveSecondFactor {
        by: Pick,
        who: usize,
    },
    /// Sets the day someone's access ends, `days` after today (local), or clears it.
    SetAccessUntil {
        by: Pick,
        who: usize,
        days: Option<i64>,
    },
    /// The system's check of dormant accounts and end dates (as when the store opens, and
    /// hourly), then someone reads the audit log.
    Enforce {
        by: Pick,
    },
}

impl Op {
    pub(super) fn name(&self) -> &'static str {
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
            Op::Enrol { .. } => "enrol",
            Op::SecondFactor { .. } => "second_factor",
            Op::NewRecoveryCodes { .. } => "new_recovery_codes",
            Op::RemoveSecondFactor { .. } => "remove_second_factor",
            Op::SetAccessUntil { .. } => "set_access_until",
            Op::Enforce { .. } => "enforce_access",
        }
    }
}

/// Every command name, for the counts.
pub(super) const OP_NAMES: [&str; 28] = [
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
    "enrol",
    "second_factor",
    "new_recovery_codes",
    "remove_second_factor",
    "set_access_until",
    "enforce_access",
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

fn factor_pick() -> impl Strategy<Value = FactorPick> {
    prop_oneof![
        6 => any::<u8>().prop_map(FactorPick::Right),
        3 => any::<u8>().prop_map(FactorPick::Wrong),
        2 => Just(FactorPick::Replayed),
        2 => any::<u8>().prop_map(FactorPick::Recovery),
        1 => any::<u8>().prop_map(FactorPick::UsedRecovery),
    ]
}

fn enrol_code() -> impl Strategy<Value = EnrolCode> {
    prop_oneof![4 => Just(EnrolCode::Right), 1 => any::<u8>().prop_map(EnrolCode::Wrong)]
}

fn perm_pick() -> impl Strategy<Value = PermPick> {
    // The helpdesk template (1) three times as often as each other: its holders may change
    // users without dominating an Admin, the one way to a `not_dominant` refusal, which at
    // equal weights a half of the run now and then never saw (seen once in 2026-12-06's run).
    let template =
        prop_oneof![1 => Just(0u8), 3 => Just(1u8), 1 => Just(2u8), 1 => Just(3u8), 1 => Just(4u8)];
    (template, prop::collection::vec((0..Module::ALL.len(), 0..Action::ALL.len()), 0..3))
        .prop_map(|(template, extra)| PermPick { template, extra })
}

/// The dormant-account setting: mostly as a new organization has it, or the shortest (so that
/// weeks of waiting make people dormant), now and then off or out of range.
fn dormant_days() -> impl Strategy<Value = Option<u32>> {
    prop_oneof![
        2 => Just(Some(90u32)),
        5 => Just(Some(30)),
        1 => Just(Some(365)),
        2 => Just(None),
        1 => prop::sample::select(vec![Some(29), Some(366)]),
    ]
}

/// An end date, in days after today: mostly days to weeks ahead; now and then cleared, today
/// or earlier, or past the ten years allowed.
fn end_date() -> impl Strategy<Value = Option<i64>> {
    prop_oneof![
        2 => Just(None),
        8 => (1..=40i64).prop_map(Some),
        1 => (-2..=0i64).prop_map(Some),
        1 => prop::sample::select(vec![Some(3660i64), Some(3661)]),
    ]
}

pub(super) fn op() -> impl Strategy<Value = Op> {
    let wait = prop_oneof![
            6 => 1..=14i64,
            2 => 15..=61i64,
            1 => 62..=1500i64,
            1 => 1440..=50_000i64,
            // A month to four: long enough for the dormant-account rule.
            2 => 43_200..=187_200i64,
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
        // 6: a reset succeeds only on a live code that its holder (or who saw it) still has,
        // about one try in ten; at 3 a half of the run sometimes saw only 2 succeed, under the
        // floor of 3 that `run_half` asks of every command (about one run in twenty).
        6 => (target(), code_pick(), prop::bool::weighted(0.3), password(), any::<u8>())
            .prop_map(|(who, code, by_other, pw, form)| Op::Reset { who, code, by_other, pw, form }),
        2 => (pick(), target()).prop_map(|(by, who)| Op::Unlock { by, who }),
        2 => (pick(), 0..3usize, perm_pick()).prop_map(|(by, which, perms)| Op::CreateRole { by, which, perms }),
        2 => (pick(), 0..3usize, perm_pick()).prop_map(|(by, which, perms)| Op::UpdateRole { by, which, perms }),
        1 => (pick(), 0..3usize).prop_map(|(by, which)| Op::DeleteRole { by, which }),
        1 => (pick(), prop::sample::select(vec![1u32, 2, 24, 168, 720]), prop::sample::select(vec![1u32, 5, 15, 30, 60]), dormant_days())
            .prop_map(|(by, lifetime_hours, idle_minutes, dormant_days)| Op::Settings { by, lifetime_hours, idle_minutes, dormant_days }),
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
        3 => (pick(), prop::bool::weighted(0.85), enrol_code(), prop::bool::weighted(0.1))
            .prop_map(|(by, start, code, again)| Op::Enrol { by, start, code, again }),
        3 => (pick(), factor_pick(), prop_oneof![5 => Just(1u8), 1 => Just(5u8)])
            .prop_map(|(by, code, times)| Op::SecondFactor { by, code, times }),
        1 => pick().prop_map(|by| Op::NewRecoveryCodes { by }),
        // 4: a removal succeeds only on an enrolled person the remover dominates, about one try
        // in thirty; at 2 a half saw as few as 6 succeed, too near the floor of 3.
        4 => (pick(), target()).prop_map(|(by, who)| Op::RemoveSecondFactor { by, who }),
        2 => (pick(), target(), end_date()).prop_map(|(by, who, days)| Op::SetAccessUntil { by, who, days }),
        2 => pick().prop_map(|by| Op::Enforce { by }),
    ]
}
