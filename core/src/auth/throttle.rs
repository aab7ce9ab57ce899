//! Sign-in lockout: after 5 consecutive failures for one address (known or not), sign-in for
//! it is refused for 30 minutes or until unlocked (PCI DSS v4 8.3.4).

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

pub const MAX_FAILURES: u32 = 5;
pub const LOCKOUT_MINUTES: i64 = 30;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Throttle {
    pub failures: u32,
    pub locked_until: Option<DateTime<Utc>>,
}

impl Throttle {
    /// Whole minutes left of a lockout in force at `now`, rounded up.
    pub fn minutes_locked(&self, now: DateTime<Utc>) -> Option<i64> {
        let until = self.locked_until.filter(|until| *until > now)?;
        let seconds = (until - now).num_seconds();
        Some((seconds + 59) / 60)
    }

    /// The record after one more failure; the fifth locks the address.
    pub fn after_failure(&self, now: DateTime<Utc>) -> Throttle {
        // A lockout that has run out starts the count afresh.
        let failures = if self.locked_until.is_some() { 1 } else { self.failures + 1 };
        if failures >= MAX_FAILURES {
            Throttle { failures, locked_until: Some(now + Duration::minutes(LOCKOUT_MINUTES)) }
        } else {
            Throttle { failures, locked_until: None }
        }
    }
}
