//! What the spec allows a command to do: the refusals that apply, those it leaves open, and the
//! audit events each outcome writes; and the lockout branches of a sign-in or password check.

use super::spec::{LOCK_AFTER, LOCK_MINUTES};
use super::state::Throttle;
use chrono::{DateTime, Duration, Utc};
use gatehouse_core::ErrorCode;
use std::collections::BTreeSet;

pub(super) type Outcome = Result<(), ErrorCode>;

/// What the spec allows one command to do.
#[derive(Debug, Clone, Default)]
pub(super) struct Verdict {
    /// Refusals that apply: the command must be refused with one of these (or a `maybe`).
    pub(super) refuse: Vec<(ErrorCode, u64)>,
    /// Refusals the spec leaves open: allowed, and so is going ahead.
    pub(super) maybe: Vec<(ErrorCode, u64)>,
    /// Audit events a success may write; empty when it may not succeed.
    pub(super) ok: Vec<u64>,
}

impl Verdict {
    pub(super) fn go(ok: &[u64]) -> Self {
        Verdict { ok: ok.to_vec(), ..Verdict::default() }
    }

    /// An audited refusal: by the permission matrix or rules 1-7, or of a code.
    pub(super) fn deny(&mut self, applies: bool, code: ErrorCode) {
        if applies {
            self.refuse.push((code, 1));
        }
    }

    /// Any other refusal: not audited.
    pub(super) fn reject(&mut self, applies: bool, code: ErrorCode) {
        if applies {
            self.refuse.push((code, 0));
        }
    }

    pub(super) fn maybe(&mut self, applies: bool, code: ErrorCode, events: u64) {
        if applies {
            self.maybe.push((code, events));
        }
    }

    /// Every outcome writes `n` events more (the system ended someone's access first).
    pub(super) fn plus(&mut self, n: u64) {
        for (_, e) in self.refuse.iter_mut().chain(self.maybe.iter_mut()) {
            *e += n;
        }
        for e in &mut self.ok {
            *e += n;
        }
    }

    pub(super) fn allowed(&self) -> Vec<(Outcome, u64)> {
        let mut out: Vec<(Outcome, u64)> =
            self.refuse.iter().chain(&self.maybe).map(|&(c, e)| (Err(c), e)).collect();
        if self.refuse.is_empty() {
            out.extend(self.ok.iter().map(|&e| (Ok(()), e)));
        }
        out.dedup();
        out
    }
}

pub(super) fn session_codes() -> Vec<(ErrorCode, u64)> {
    vec![(ErrorCode::NotSignedIn, 0), (ErrorCode::SessionExpired, 0)]
}

pub(super) fn after_failure(t: &Throttle, now: DateTime<Utc>) -> Vec<(Throttle, bool)> {
    // A lockout that ran out, or failures older than the lockout window: the spec counts
    // "consecutive" failures, and does not say whether the count starts again.
    let stale = t.until.is_some()
        || t.last.is_none_or(|last| now - last >= Duration::minutes(LOCK_MINUTES));
    let counts = if stale { vec![1, t.failures + 1] } else { vec![t.failures + 1] };
    counts
        .into_iter()
        .map(|n| {
            let until = (n >= LOCK_AFTER).then(|| now + Duration::minutes(LOCK_MINUTES));
            (Throttle { failures: n, until, last: Some(now), refused: 0 }, until.is_some())
        })
        .collect()
}

/// Whether the address is locked: `[true]`, `[false]`, or both at the very minute it ends.
pub(super) fn locked(t: &Throttle, now: DateTime<Utc>) -> Vec<bool> {
    match t.until {
        Some(u) if u > now => vec![true],
        Some(u) if u == now => vec![true, false],
        _ => vec![false],
    }
}

pub(super) fn dedup<T: Ord>(v: Vec<T>) -> Vec<T> {
    v.into_iter().collect::<BTreeSet<_>>().into_iter().collect()
}

/// The (outcome, events) pairs of lockout branches.
pub(super) fn outcomes(branches: &[(Outcome, u64, Throttle)]) -> Vec<(Outcome, u64)> {
    let mut out: Vec<(Outcome, u64)> = Vec::new();
    for (o, e, _) in branches {
        if !out.contains(&(*o, *e)) {
            out.push((*o, *e));
        }
    }
    out
}
