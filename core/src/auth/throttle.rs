//! Sign-in lockout: after 5 consecutive failures for one address (known or not), sign-in for
//! it is refused for 30 minutes or until unlocked (PCI DSS v4 8.3.4).
//!
//! A record is kept per address only while it can still change an answer: failures count
//! towards a lockout for 30 minutes after the last of them, and a lockout for its 30 minutes.
//! After that the record is [`Throttle::expired`] and the sign-in path sweeps it away, so a
//! flood of failures with made-up addresses leaves at most the last 30 minutes' worth of
//! records (see `Directory::sweep_throttles`). Forgetting old failures gives an attacker no
//! more guesses than the lockout's own expiry does: at most 4 per 30 minutes without a lock,
//! against 5 per 30 minutes through lockouts.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

pub const MAX_FAILURES: u32 = 5;
pub const LOCKOUT_MINUTES: i64 = 30;
/// Refusals of a user's locked address audited one by one in each lockout; later ones are
/// counted in the record and audited as one event when the record is replaced.
pub const REFUSALS_LOGGED: u32 = 5;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Throttle {
    pub failures: u32,
    pub locked_until: Option<DateTime<Utc>>,
    /// The last failure's time: failures older than the lockout window no longer count.
    /// (Records written before it was kept have none, and count as old.)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_failure_at: Option<DateTime<Utc>>,
    /// Attempts refused during the current lockout of a user's address. The first
    /// [`REFUSALS_LOGGED`] are audited when they happen; the rest are counted here and audited
    /// as one event when the record is replaced (a success, an unlock, a reset, the next count),
    /// so hammering a locked address cannot grow the log by an event an attempt. (An address
    /// no user has is counted in the [`Tally`] instead.)
    #[serde(default, skip_serializing_if = "is_zero")]
    pub refused: u32,
    /// The first refusal's time, for that event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_refused_at: Option<DateTime<Utc>>,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

impl Throttle {
    /// Whole minutes left of a lockout in force at `now`, rounded up.
    pub fn minutes_locked(&self, now: DateTime<Utc>) -> Option<i64> {
        let until = self.locked_until.filter(|until| *until > now)?;
        let seconds = (until - now).num_seconds();
        Some((seconds + 59) / 60)
    }

    /// Whether the record can no longer change any answer at `now`: its lockout has ended, or
    /// (unlocked) its last failure is older than the lockout window. The next failure would
    /// start the count afresh, exactly as if the record were gone.
    pub fn expired(&self, now: DateTime<Utc>) -> bool {
        match (self.locked_until, self.last_failure_at) {
            (Some(until), _) => until <= now,
            (None, Some(last)) => now - last >= Duration::minutes(LOCKOUT_MINUTES),
            (None, None) => true,
        }
    }

    /// The record after one more failure; the fifth in a row within the window locks the
    /// address.
    pub fn after_failure(&self, now: DateTime<Utc>) -> Throttle {
        // A lockout that has run out, or failures gone stale, start the count afresh.
        let failures = if self.expired(now) { 1 } else { self.failures + 1 };
        let locked_until =
            (failures >= MAX_FAILURES).then(|| now + Duration::minutes(LOCKOUT_MINUTES));
        Throttle { failures, locked_until, last_failure_at: Some(now), ..Throttle::default() }
    }

    /// The record after one more attempt refused while locked.
    pub fn after_refusal(&self, now: DateTime<Utc>) -> Throttle {
        Throttle {
            refused: self.refused.saturating_add(1),
            first_refused_at: self.first_refused_at.or(Some(now)),
            ..self.clone()
        }
    }

    /// Refused attempts not yet in the audit log (all but the first [`REFUSALS_LOGGED`], which
    /// were written when they happened).
    pub fn unlogged_refusals(&self) -> u32 {
        self.refused.saturating_sub(REFUSALS_LOGGED)
    }

    /// The summary of the event that accounts for [`Throttle::unlogged_refusals`].
    pub fn refusals_summary(&self) -> String {
        let since = self
            .first_refused_at
            .map(|t| t.format(" after the first at %Y-%m-%d %H:%M:%S UTC").to_string())
            .unwrap_or_default();
        format!(
            "{} more attempts refused while locked out{since}, counted rather than logged one by one",
            self.unlogged_refusals()
        )
    }
}

/// Failed sign-ins for addresses no user has, in one window of [`TALLY_WINDOW_MINUTES`]: the
/// first [`TALLY_BUDGET`] are audited one by one as they happen; the rest are counted here and
/// audited as one event when the window ends (PCI DSS 10.2.1.4: every attempt is accounted
/// for, by a count, while a flood of made-up addresses adds at most `TALLY_BUDGET + 1` events a
/// window, however fast it comes). Failures for a user's address are always audited one by one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tally {
    pub since: DateTime<Utc>,
    /// Attempts audited one by one in this window.
    pub logged: u32,
    /// Failed attempts counted and not yet audited.
    pub failed: u32,
    /// Attempts refused (locked) counted and not yet audited.
    pub refused: u32,
    /// Of those, attempts that began a new count for their address: about how many addresses.
    pub addresses: u32,
    /// The first few addresses counted, for the event.
    pub sample: Vec<String>,
    pub first_at: Option<DateTime<Utc>>,
    pub last_at: Option<DateTime<Utc>>,
}

/// The length of a [`Tally`]'s window.
pub const TALLY_WINDOW_MINUTES: i64 = 10;
/// Attempts for addresses no user has audited one by one in a window.
pub const TALLY_BUDGET: u32 = 20;
const TALLY_SAMPLE: usize = 10;

impl Tally {
    pub fn new(now: DateTime<Utc>) -> Tally {
        Tally {
            since: now,
            logged: 0,
            failed: 0,
            refused: 0,
            addresses: 0,
            sample: Vec::new(),
            first_at: None,
            last_at: None,
        }
    }

    /// Whether the window has ended at `now`.
    pub fn ended(&self, now: DateTime<Utc>) -> bool {
        now - self.since >= Duration::minutes(TALLY_WINDOW_MINUTES)
    }

    /// Whether the next attempt is audited on its own (and counts against the budget).
    pub fn take_budget(&mut self) -> bool {
        if self.logged < TALLY_BUDGET {
            self.logged += 1;
            true
        } else {
            false
        }
    }

    /// Counts an attempt for `address` instead of auditing it; `new_count` when it began a
    /// fresh count for the address.
    pub fn count(&mut self, address: &str, refused: bool, new_count: bool, now: DateTime<Utc>) {
        if refused {
            self.refused = self.refused.saturating_add(1);
        } else {
            self.failed = self.failed.saturating_add(1);
        }
        if new_count {
            self.addresses = self.addresses.saturating_add(1);
        }
        if self.sample.len() < TALLY_SAMPLE && !self.sample.iter().any(|a| a == address) {
            self.sample.push(address.chars().take(64).collect());
        }
        self.first_at = self.first_at.or(Some(now));
        self.last_at = Some(now);
    }

    /// Attempts counted and not yet audited.
    pub fn counted(&self) -> u32 {
        self.failed.saturating_add(self.refused)
    }

    /// The summary of the event that accounts for the counted attempts.
    pub fn summary(&self) -> String {
        let time = |t: Option<DateTime<Utc>>| {
            t.map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string()).unwrap_or_default()
        };
        let more = self.addresses as usize > self.sample.len();
        format!(
            "{} failed and {} locked-out sign-in attempts for addresses no user has, counted \
             rather than logged one by one, from {} to {}; about {} addresses, among them {}{}",
            self.failed,
            self.refused,
            time(self.first_at),
            time(self.last_at),
            self.addresses.max(1),
            self.sample.join(", "),
            if more { ", …" } else { "" },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(minute: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, 5, 9, 0, 0).unwrap() + Duration::minutes(minute)
    }

    #[test]
    fn failures_older_than_the_window_no_longer_count() {
        let mut t = Throttle::default();
        for minute in 0..4 {
            t = t.after_failure(at(minute));
        }
        assert_eq!(t.failures, 4);
        assert!(!t.expired(at(32)));
        assert!(t.expired(at(33)), "30 minutes after the last failure");
        assert_eq!(t.after_failure(at(33)).failures, 1, "the count starts afresh");
        assert_eq!(t.after_failure(at(32)).locked_until, Some(at(62)), "the fifth locks");
    }

    #[test]
    fn a_lockout_expires_when_it_ends_and_refusals_are_counted() {
        let mut t = Throttle::default();
        for _ in 0..5 {
            t = t.after_failure(at(0));
        }
        let t = (1..=7).fold(t, |t, minute| t.after_refusal(at(minute)));
        assert_eq!((t.refused, t.unlogged_refusals(), t.first_refused_at), (7, 2, Some(at(1))));
        assert!(!t.expired(at(29)));
        assert!(t.expired(at(30)));
        assert_eq!(t.after_failure(at(30)).refused, 0, "a new count carries no refusals");
    }
}
