//! Access governance in the model (domain.md, "Access governance"): dormant accounts and end
//! dates, which the system enforces on its own account (when asked to, and for the person
//! signing in at the start of each sign-in); setting or clearing an end date; each checked
//! against what the spec allows.

use super::expect::Verdict;
use super::ops::Pick;
use super::run::code_of;
use super::spec::{DORMANT_WARNING_DAYS, END_DATE_MAX_DAYS};
use super::state::{unknown_id, Run, Status, PEOPLE};
use chrono::{DateTime, Duration, Local, NaiveDate, NaiveTime, TimeZone, Utc};
use gatehouse_core::model::{Action, AuditAction, AuditActor, Module};
use gatehouse_core::{AuditQuery, ErrorCode};
use proptest::test_runner::TestCaseError;

/// Why the system ends someone's access.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Ending {
    /// Their end date came.
    EndDate(NaiveDate),
    /// No sign-in for the setting's days.
    Dormant(u32),
}

impl Ending {
    fn reason(self) -> String {
        match self {
            Ending::EndDate(date) => format!("access ended on {date}"),
            Ending::Dormant(days) => format!("no sign-in for {days} days"),
        }
    }
}

/// The instant an end date takes effect: the start of that day on this computer's calendar.
/// (The clock never lands on it exactly: every wait adds nanoseconds.)
pub(super) fn ends_at(date: NaiveDate) -> DateTime<Utc> {
    let midnight = date.and_time(NaiveTime::MIN);
    Local
        .from_local_datetime(&midnight)
        .earliest()
        .map_or_else(|| midnight.and_utc(), |t| t.with_timezone(&Utc))
}

/// Today on this computer's calendar at `now`, as end dates are read.
pub(super) fn today(now: DateTime<Utc>) -> NaiveDate {
    now.with_timezone(&Local).date_naive()
}

impl Run {
    /// Whether person `i`'s access has lapsed now: an Invited or Active person whose end date
    /// has come (first), or an Active one who has not signed in for the setting's days.
    pub(super) fn lapse(&self, i: usize) -> Option<Ending> {
        let p = &self.people[i];
        if !matches!(p.status, Status::Active | Status::Invited) {
            return None;
        }
        let now = self.now();
        if let Some(date) = p.until.filter(|d| ends_at(*d) <= now) {
            return Some(Ending::EndDate(date));
        }
        let days = self.dormant_days?;
        let seen = self.counted_from(i)?;
        (p.status == Status::Active && seen + Duration::days(i64::from(days)) <= now)
            .then_some(Ending::Dormant(days))
    }

    /// Whether person `i` is Active and has not signed in (nor been activated or reactivated)
    /// for the setting's days, whatever their end date.
    pub(super) fn dormant(&self, i: usize) -> bool {
        let p = &self.people[i];
        p.status == Status::Active
            && self.dormant_days.is_some_and(|days| {
                self.counted_from(i)
                    .is_some_and(|at| at + Duration::days(i64::from(days)) <= self.now())
            })
    }

    /// What the dormant-account rule counts from: the last sign-in (or activation), or the
    /// last reactivation, whichever is later.
    pub(super) fn counted_from(&self, i: usize) -> Option<DateTime<Utc>> {
        let p = &self.people[i];
        p.seen.into_iter().chain(p.reactivated).max()
    }

    /// Whether the last Active Owner is person `i`: never deactivated by the system.
    fn last_active_owner(&self, i: usize) -> bool {
        self.people[i].status == Status::Active
            && self.owner(i)
            && self.active_owners_except(i) == 0
    }

    /// Whether the system ends person `i`'s access if it looks now: their access has lapsed,
    /// and they are not the last Active Owner (rule 2).
    pub(super) fn ends_now(&self, i: usize) -> Option<Ending> {
        self.lapse(i).filter(|_| !self.last_active_owner(i))
    }

    /// The system ends person `i`'s access: deactivated (their sessions end) or, for an
    /// invitee, the invitation cancelled and the person gone from the list.
    pub(super) fn end_access(&mut self, i: usize, why: Ending) {
        let what = match why {
            Ending::EndDate(_) => "end date",
            Ending::Dormant(_) => "dormant",
        };
        if self.people[i].status == Status::Invited {
            self.stats.count_gov(&format!("{what}: invitation ended"));
            self.retire_invitation(i, &[ErrorCode::InvitationCancelled]);
            let p = &mut self.people[i];
            p.status = Status::Absent;
            p.roles.clear();
            p.displays.clear();
            p.until = None;
            p.seen = None;
            p.reactivated = None;
        } else {
            self.stats.count_gov(&format!("{what}: deactivated"));
            self.people[i].status = Status::Inactive;
            self.end_sessions(i, None);
        }
    }

    /// Whether `i` is "dormant soon" in the list: Active, within the warning days of the
    /// dormant-account rule (or past it), and not the last Active Owner.
    pub(super) fn dormant_soon(&self, i: usize) -> bool {
        let p = &self.people[i];
        let warn_from = self.now() + Duration::days(DORMANT_WARNING_DAYS);
        p.status == Status::Active
            && self.dormant_days.is_some_and(|days| {
                self.counted_from(i)
                    .is_some_and(|at| at + Duration::days(i64::from(days)) <= warn_from)
            })
            && !self.last_active_owner(i)
    }

    /// Sets (or clears) person `b`'s end date, `days` after today.
    pub(super) fn set_access_until(
        &mut self,
        by: Pick,
        b: usize,
        days: Option<i64>,
    ) -> Result<bool, TestCaseError> {
        let Some(s) = self.pick(by)? else { return Ok(false) };
        let b = self.resolve(s, b, |p| matches!(p.status, Status::Active | Status::Invited));
        let id = self.people[b].id.unwrap_or_else(|| unknown_id(b));
        let until = days.map(|d| today(self.now()) + Duration::days(d));
        let same = self.people[b].until == until;
        let mut v = Verdict::go(if same { &[0, 1][..] } else { &[1][..] });
        let actor = self.begin(s, &mut v);
        if let Some(a) = actor {
            v.deny(!self.can(a, Module::Users, Action::Update), ErrorCode::PermissionDenied);
            let st = self.people[b].status;
            if st == Status::Absent {
                v.reject(true, ErrorCode::UserNotFound);
            } else {
                v.deny(a == b, ErrorCode::OwnStatus);
                v.deny(a != b && self.owner(b) && !self.owner(a), ErrorCode::OwnerOnly);
                v.deny(!self.dominates(a, b), ErrorCode::NotDominant);
                v.reject(st == Status::Inactive, ErrorCode::InvalidTransition);
                // After today, and within ten years; to end access now, deactivate.
                let bad = days.is_some_and(|d| !(1..=END_DATE_MAX_DAYS).contains(&d));
                v.reject(bad, ErrorCode::InvalidDate);
            }
        }
        let real = self.org.dir.set_access_until(self.sessions[s].id, id, until).map_err(code_of);
        let shown = until.map_or_else(|| "never".to_string(), |d| d.to_string());
        let what = format!("{} sets person {b}'s end date to {shown}", self.who(s));
        self.compare_verdict(&what, &real.as_ref().map(|_| ()).map_err(|c| *c), &v)?;
        if let (Some(_), Ok(view)) = (actor, real) {
            if view.access_until != until {
                return Err(self.fail(format!(
                    "the view shows the end date {:?}, not {shown}",
                    view.access_until
                )));
            }
            self.people[b].until = until;
        }
        Ok(true)
    }

    /// The system's check (when the store opens, and hourly): everyone whose access lapsed,
    /// in name order, each judged again after those before them; then someone reads the log,
    /// where each of them is one event by the system.
    pub(super) fn enforce(&mut self, by: Pick) -> Result<bool, TestCaseError> {
        // Name order: "Olivia Owner", then "Person 1", "Person 2", ...; an invitee (listed by
        // email) is never an Active Owner, so their place in it changes who is ended nothing.
        let mut ended = Vec::new();
        for i in 0..PEOPLE {
            if let Some(why) = self.ends_now(i) {
                let (id, displays, status) =
                    (self.people[i].id, self.people[i].displays.clone(), self.people[i].status);
                self.end_access(i, why);
                ended.push((i, id, displays, status, why));
            }
        }
        let before = self.events;
        let real = self.org.dir.enforce_access().map_err(code_of);
        let n = ended.len() as u64;
        let what = format!(
            "the system ends the access of {:?}",
            ended.iter().map(|e| e.0).collect::<Vec<_>>()
        );
        self.compare(&what, &real.as_ref().map(|_| ()).map_err(|c| *c), &[(Ok(()), n)])?;
        // Compared as sets: the store's name order puts an invitee by their email, which the
        // model does not follow (it only decides who is ended when Owners are among them, and
        // an invitee is never an Active Owner).
        let in_order = real.unwrap_or_default();
        let mut real = in_order.clone();
        let mut expected: Vec<_> = ended.iter().filter_map(|e| e.1).collect();
        real.sort();
        expected.sort();
        // Their events follow the store's order.
        ended.sort_by_key(|e| in_order.iter().position(|id| Some(*id) == e.1));
        if real != expected {
            return Err(self.fail(format!(
                "the system ended the access of {real:?}; the model expects {expected:?}"
            )));
        }
        self.stats.count_gov(&format!("enforce: {} ended", ended.len().min(3)));
        // Someone reads the log: the first page of a search is itself recorded.
        let Some(s) = self.pick(by)? else { return Ok(true) };
        let mut v = Verdict::go(&[1]);
        let actor = self.begin(s, &mut v);
        if let Some(a) = actor {
            v.deny(!self.can(a, Module::Audit, Action::Read), ErrorCode::PermissionDenied);
        }
        let query = AuditQuery { limit: Some(500), ..Default::default() };
        let page = self.org.dir.audit_log(self.sessions[s].id, query).map_err(code_of);
        let what = format!("{} reads the audit log", self.who(s));
        self.compare_verdict(&what, &page.as_ref().map(|_| ()).map_err(|c| *c), &v)?;
        let Ok(page) = page else { return Ok(true) };
        let mut system: Vec<_> =
            page.events.iter().filter(|e| e.seq > before && e.seq <= before + n).collect();
        system.sort_by_key(|e| e.seq);
        if system.len() != ended.len() {
            return Err(self.fail(format!(
                "the log shows {} of the system's {} events",
                system.len(),
                ended.len()
            )));
        }
        for (event, (i, _, displays, status, why)) in system.iter().zip(&ended) {
            let (action, summary) = match status {
                Status::Invited => {
                    (AuditAction::CancelInvitation, format!("invitation ended: {}", why.reason()))
                }
                _ => (
                    AuditAction::Deactivate,
                    format!("Active → Inactive; reason: {}", why.reason()),
                ),
            };
            let target_ok = event.target.as_ref().is_some_and(|t| displays.contains(t));
            if event.actor != AuditActor::System
                || event.action != action
                || event.summary != summary
                || !target_ok
                || event.at != self.now()
            {
                return Err(self.fail(format!(
                    "person {i}'s access ended with the event {event:?}; the model expects the \
                     system's {action:?} “{summary}”"
                )));
            }
        }
        Ok(true)
    }
}
