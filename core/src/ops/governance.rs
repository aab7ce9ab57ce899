//! Access governance (domain.md, "Access governance"): dormant accounts (PCI DSS v4 8.2.6) and
//! end dates (8.2.7), which the system enforces on its own account; approval references for
//! grants (8.2.4); and "who can do X", the inverse of the permission matrix.

use crate::auth::session::SessionId;
use crate::change::Write;
use crate::error::{Error, Result};
use crate::mail::outbox::drop_unsent;
use crate::model::audit::AuditEntry;
use crate::model::invitation::Invitation;
use crate::model::CodeState;
use crate::model::{
    role, Action, AuditAction, AuditActor, Module, Permission, RoleKey, Settings, User, UserId,
    UserStatus, UserView,
};
use crate::policy::Act;
use crate::Directory;
use chrono::{DateTime, Duration, Local, NaiveDate, TimeZone, Utc};
use serde::Serialize;
use std::ops::RangeInclusive;

/// The dormant-account setting's range, in days.
pub const DORMANT_DAYS: RangeInclusive<u32> = 30..=365;
/// How long before the dormant-account rule deactivates someone the list warns ("Dormant soon").
pub const DORMANT_WARNING_DAYS: i64 = 14;
/// How far ahead the list's "ends soon" filter looks.
pub const ENDING_SOON_DAYS: i64 = 30;
/// The access-review interval's range, in months.
pub const REVIEW_MONTHS: RangeInclusive<u32> = 1..=12;
/// The longest approval reference kept.
const MAX_APPROVAL: usize = 200;

/// The instant an end date takes effect: the start of that day on this computer's clock, as
/// the person who typed the date reads it.
pub fn access_ends_at(date: NaiveDate) -> DateTime<Utc> {
    let midnight = date.and_time(chrono::NaiveTime::MIN);
    match Local.from_local_datetime(&midnight).earliest() {
        Some(local) => local.with_timezone(&Utc),
        // A day that starts inside a clock change: midnight UTC is as good as it gets.
        None => midnight.and_utc(),
    }
}

/// What the dormant-account rule counts from: the last sign-in, or the activation of someone
/// who never signed in, or their reactivation, whichever came last (a reactivated person is
/// given the full period again).
pub fn last_seen(user: &User) -> Option<DateTime<Utc>> {
    [user.last_sign_in_at, user.activated_at, user.reactivated_at].into_iter().flatten().max()
}

/// When the dormant-account rule deactivates `user`, if it applies to them (Active, the rule
/// on). The last Active Owner is exempt, which the caller judges.
pub fn dormant_at(user: &User, settings: &Settings) -> Option<DateTime<Utc>> {
    dormant_deadline(user.status, last_seen(user), settings)
}

/// [`dormant_at`] from a user's status and [`last_seen`].
pub fn dormant_deadline(
    status: UserStatus,
    last_seen: Option<DateTime<Utc>>,
    settings: &Settings,
) -> Option<DateTime<Utc>> {
    let days = settings.dormant_days?;
    if status != UserStatus::Active {
        return None;
    }
    Some(last_seen? + Duration::days(i64::from(days)))
}

/// Why the system ends `user`'s access at `now`, if it does: the end date comes first.
pub fn lapse(user: &User, settings: &Settings, now: DateTime<Utc>) -> Option<String> {
    lapse_of(user.status, last_seen(user), user.access_until, settings, now)
}

/// [`lapse`] from a user's status, [`last_seen`] and end date (as the index holds them).
pub fn lapse_of(
    status: UserStatus,
    last_seen: Option<DateTime<Utc>>,
    access_until: Option<NaiveDate>,
    settings: &Settings,
    now: DateTime<Utc>,
) -> Option<String> {
    if status == UserStatus::Inactive {
        return None;
    }
    if let Some(date) = access_until.filter(|d| access_ends_at(*d) <= now) {
        return Some(format!("access ended on {date}"));
    }
    let days = settings.dormant_days?;
    dormant_deadline(status, last_seen, settings)
        .filter(|at| *at <= now)
        .map(|_| format!("no sign-in for {days} days"))
}

/// Whether the list warns that the dormant-account rule deactivates this user within
/// [`DORMANT_WARNING_DAYS`]: never the last Active Owner, whom it never deactivates.
pub fn dormant_soon(
    status: UserStatus,
    last_seen: Option<DateTime<Utc>>,
    settings: &Settings,
    now: DateTime<Utc>,
    last_active_owner: bool,
) -> bool {
    let warn_from = now + Duration::days(DORMANT_WARNING_DAYS);
    !last_active_owner
        && dormant_deadline(status, last_seen, settings).is_some_and(|at| at <= warn_from)
}

/// Whole days from `from` to `now` (0 for a future instant).
pub fn days_between(from: DateTime<Utc>, now: DateTime<Utc>) -> u32 {
    u32::try_from((now - from).num_days().max(0)).unwrap_or(u32::MAX)
}

/// One person who may do what was asked, and through which of their roles.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
pub struct WhoCanRow {
    pub id: UserId,
    pub email: String,
    pub name: String,
    pub status: UserStatus,
    /// The roles of theirs that grant it (one is enough).
    pub roles_granting: Vec<RoleKey>,
    pub last_sign_in_at: Option<DateTime<Utc>>,
}

/// The answer to "who can do X".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
pub struct WhoCan {
    pub permission: Permission,
    /// Every role that grants it, built-in ones first.
    pub roles: Vec<RoleKey>,
    /// Every user holding one of those roles, in name order, whatever their status: an
    /// Inactive or Invited holder gains it on reactivation or acceptance.
    pub users: Vec<WhoCanRow>,
}

/// Checks an approval reference against the settings: `roles` granted, `approval` as typed.
/// Returns the cleaned reference. Error: `approval_required`.
pub(crate) fn approval_for(
    settings: &Settings,
    granted: &[RoleKey],
    approval: Option<&str>,
) -> Result<Option<String>> {
    let cleaned = approval
        .map(|a| {
            a.trim().chars().filter(|c| !c.is_control()).take(MAX_APPROVAL).collect::<String>()
        })
        .filter(|a| !a.is_empty());
    if cleaned.is_none() {
        let needing: Vec<&str> = granted
            .iter()
            .filter(|r| settings.approval_required_roles.contains(r))
            .map(String::as_str)
            .collect();
        if !needing.is_empty() {
            return Err(Error::ApprovalRequired(needing.join(", ")));
        }
    }
    Ok(cleaned)
}

/// The audit summary of a grant, with its approval reference.
pub(crate) fn with_approval(summary: String, approval: Option<&str>) -> String {
    match approval {
        // `ops::review` reads the reference back from this wording.
        Some(a) => format!("{summary}; approved: {a}"),
        None => summary,
    }
}

impl Directory {
    /// Ends the access of every user whose end date has come or who has not signed in for the
    /// dormant-account setting's days: each one deactivated as its own audited change by the
    /// system, with the reason, and their sessions ended. The last Active Owner is never
    /// deactivated this way (they are told at sign-in instead). Runs when the store opens and
    /// hourly while the app runs; returns who was deactivated.
    pub fn enforce_access(&self) -> Result<Vec<UserId>> {
        let Some(org) = self.store.organization()? else { return Ok(Vec::new()) };
        let now = self.clock.now();
        let candidates: Vec<UserId> = self
            .store
            .index()
            .in_name_order()
            .filter(|e| {
                lapse_of(e.status, e.last_seen, e.access_until, &org.settings, now).is_some()
            })
            .map(|e| e.id)
            .collect();
        let mut ended = Vec::new();
        for id in candidates {
            if self.end_access(id)? {
                ended.push(id);
            }
        }
        Ok(ended)
    }

    /// Runs the check for the person `email` names, before a sign-in, an acceptance or a
    /// recovery uses their access (the hourly check may not have come yet).
    pub(crate) fn end_access_of(&self, email: &str) -> Result<()> {
        let key = crate::ops::session::throttle_key(email);
        if let Some(found) = self.store.user_by_email(&key)? {
            self.end_access(found.id)?;
        }
        Ok(())
    }

    /// Deactivates `id` if their access has lapsed, judged again under the writer lock.
    pub(crate) fn end_access(&self, id: UserId) -> Result<bool> {
        let write = self.unattended();
        let Some(org) = self.store.organization()? else { return Ok(false) };
        let Some(mut user) = self.store.user(id)? else { return Ok(false) };
        let Some(reason) = lapse(&user, &org.settings, write.now) else { return Ok(false) };
        if user.is_active_owner() && self.active_owners_except(user.id)? == 0 {
            return Ok(false); // rule 2: warned at sign-in instead
        }
        let was = user.status;
        let summary = match was {
            UserStatus::Invited => format!("invitation ended: {reason}"),
            _ => format!("Active → Inactive; reason: {reason}"),
        };
        let entry = AuditEntry::success(
            AuditActor::System,
            match was {
                UserStatus::Invited => AuditAction::CancelInvitation,
                _ => AuditAction::Deactivate,
            },
            user.email.to_string(),
            summary,
        );
        if was == UserStatus::Invited {
            self.cancel_lapsed_invitation(&write, user, entry)?;
            return Ok(true);
        }
        user.status = UserStatus::Inactive;
        user.reset_id = None;
        user.deactivated_at = Some(write.now);
        user.updated_at = write.now;
        write.commit(|tx| {
            tx.put_user(&user)?;
            tx.audit(entry.clone(), write.now).map(|_| ())
        })?;
        self.sessions.end_all_of(user.id);
        Ok(true)
    }

    /// Ends the invitation of an invitee whose end date has come, as cancelling it would.
    fn cancel_lapsed_invitation(
        &self,
        write: &Write<'_>,
        user: User,
        entry: AuditEntry,
    ) -> Result<()> {
        let invitation = self.current_invitation(&user)?;
        let now = write.now;
        write.commit(|tx| {
            if let Some(inv) = &invitation {
                tx.put_invitation(&Invitation { state: CodeState::Cancelled, ..inv.clone() })?;
                drop_unsent(tx, inv.message, "the invitee's access ended", now)?;
            }
            tx.remove_user(&user)?;
            tx.audit(entry.clone(), now).map(|_| ())
        })
    }

    /// Sets (or, with `None`, clears) the date on which `user`'s access ends. Needs
    /// `users:update` and, by rules 5 and 6, someone who dominates them. A date in the past is
    /// refused (`invalid_date`): deactivate instead. Errors: `permission_denied`, `own_status`,
    /// `owner_only`, `not_dominant`, `invalid_transition`, `invalid_date`.
    pub fn set_access_until(
        &self,
        session: SessionId,
        user: UserId,
        until: Option<NaiveDate>,
    ) -> Result<UserView> {
        let act = Act::SetAccessUntil;
        self.changing(session, Some(act.needs()), AuditAction::SetAccessUntil, |change| {
            let shown = until.map_or_else(|| "never".to_string(), |d| d.to_string());
            change.attempt(format!("access until {shown}"));
            let mut target = change.on(user, act)?;
            if target.status == UserStatus::Inactive {
                return Err(Error::InvalidTransition(
                    "An Inactive user has no access to end: reactivate them first.",
                ));
            }
            check_end_date(until, change.now())?;
            if target.access_until == until {
                return change.view(&target);
            }
            let was = target.access_until.map_or_else(|| "never".to_string(), |d| d.to_string());
            target.access_until = until;
            target.updated_at = change.now();
            change.commit(&format!("access until {was} → {shown}"), |tx| tx.put_user(&target))?;
            change.view(&target)
        })
    }

    /// Every user who may do `action` on `module`, with the roles granting it. Needs
    /// `users:read` and `roles:read`.
    pub fn who_can(&self, session: SessionId, module: Module, action: Action) -> Result<WhoCan> {
        self.authorize(session, Module::Users, Action::Read)?;
        self.authorize(session, Module::Roles, Action::Read)?;
        let permission = Permission { module, action };
        let mut roles: Vec<RoleKey> = role::built_in_roles()
            .into_iter()
            .chain(self.store.custom_roles()?)
            .filter(|r| r.permissions.contains(&permission))
            .map(|r| r.key)
            .collect();
        roles.dedup();
        let index = self.store.index();
        let mut users = Vec::new();
        for entry in index.in_name_order() {
            let granting: Vec<RoleKey> = entry
                .roles
                .iter()
                .filter(|r| roles.iter().any(|k| k == &***r))
                .map(|r| r.to_string())
                .collect();
            if granting.is_empty() {
                continue;
            }
            let Some(user) = self.store.user(entry.id)? else { continue };
            users.push(WhoCanRow {
                id: user.id,
                email: user.email.to_string(),
                name: user.name.clone(),
                status: user.status,
                roles_granting: granting,
                last_sign_in_at: user.last_sign_in_at,
            });
        }
        Ok(WhoCan { permission, roles, users })
    }

    /// [`Directory::who_can`] as CSV (email, name, status, roles granting, last sign-in); the
    /// export is audited, as every export of the directory is.
    pub fn who_can_csv(
        &self,
        session: SessionId,
        module: Module,
        action: Action,
    ) -> Result<String> {
        let answer = self.who_can(session, module, action)?;
        let mut out =
            crate::csv_io::line(&["email", "name", "status", "roles_granting", "last_sign_in_at"]);
        for row in &answer.users {
            let status = match row.status {
                UserStatus::Active => "active",
                UserStatus::Inactive => "inactive",
                UserStatus::Invited => "invited",
            };
            let last = row.last_sign_in_at.map(|t| t.to_rfc3339()).unwrap_or_default();
            out.push_str(&crate::csv_io::line(&[
                &row.email,
                &row.name,
                status,
                &row.roles_granting.join(" "),
                &last,
            ]));
        }
        let what = format!("{}:{}", module.key(), action.letter().to_ascii_lowercase());
        self.changing(session, None, AuditAction::WhoCan, |change| {
            change.target(what.as_str());
            change.commit(&format!("exported {} users who can {what}", answer.users.len()), |_| {
                Ok(())
            })
        })?;
        Ok(out)
    }
}

/// An end date must be today or later (local), and within ten years.
pub(crate) fn check_end_date(until: Option<NaiveDate>, now: DateTime<Utc>) -> Result<()> {
    let Some(date) = until else { return Ok(()) };
    let today = now.with_timezone(&Local).date_naive();
    if date <= today {
        return Err(Error::InvalidDate(
            "The end date must be after today: to end access now, deactivate the user.",
        ));
    }
    if date > today + Duration::days(3660) {
        return Err(Error::InvalidDate("The end date must be within ten years."));
    }
    Ok(())
}
