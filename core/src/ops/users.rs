//! Reading the list of users.

use crate::auth::session::SessionId;
use crate::error::Result;
use crate::model::name_order::name_order;
use crate::model::{
    Action, AuditActor, AuditEvent, Module, Permission, RoleKey, UserId, UserStatus, UserView,
};
use crate::ops::governance;
use crate::ops::session::Actor;
use crate::ops::MAX_BULK_USERS;
use crate::store::{Selection, UserEntry, UserIndex};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;
use std::collections::BTreeMap;

/// Which users to list and in what order. Everything is optional: the default is every user,
/// sorted by name, first 100.
#[derive(Debug, Clone, Default, Deserialize, specta::Type)]
pub struct UserQuery {
    pub status: Option<UserStatus>,
    /// Only holders of this role key.
    pub role: Option<String>,
    /// Matches name or email containing this text, ignoring case.
    pub search: Option<String>,
    /// Only users without a second factor (who would be affected by requiring one).
    pub no_second_factor: Option<bool>,
    /// Only Active users the dormant-account rule deactivates within 14 days.
    #[serde(default)]
    pub dormant_soon: Option<bool>,
    /// Only users whose access ends within 30 days.
    #[serde(default)]
    pub ending_soon: Option<bool>,
    /// Only users with no sign-in since this instant (never signed in included).
    #[serde(default)]
    pub no_sign_in_since: Option<DateTime<Utc>>,
    pub sort: Option<UserSort>,
    /// Reverse the order. By last sign-in it runs latest first, and those who never signed in
    /// stay last.
    pub descending: Option<bool>,
    pub offset: Option<u32>,
    /// Page size, 1 to 1,000 (default 100).
    pub limit: Option<u32>,
}

/// The list's orders. Name order compares numbers inside names as numbers (see
/// [`crate::model::name_order`]); every other order breaks its ties by name order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum UserSort {
    Name,
    Email,
    Status,
    /// Earliest sign-in first; never signed in last.
    LastSignIn,
    Updated,
}

/// One page of users, the number matching the filters, and counts by status for the tabs
/// (matching role and search, whatever the status filter).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
pub struct UserPage {
    pub users: Vec<UserView>,
    pub total: u32,
    pub active: u32,
    pub inactive: u32,
    pub invited: u32,
}
/// Who a second-factor requirement for some roles reaches: Active users without one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
pub struct SecondFactorReach {
    /// Each such user once, however many of the roles they hold.
    pub users: u32,
    /// For each role asked about, in that order (a holder of two counts under both).
    pub by_role: Vec<RoleReach>,
}

/// The Active holders of one role who have no second factor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
pub struct RoleReach {
    pub role: RoleKey,
    pub users: u32,
}

use crate::Directory;

impl Directory {
    /// Every user in the list, sorted by name (or email, while there is no name). Needs
    /// `users:read`.
    pub fn list_users(&self, session: SessionId) -> Result<Vec<UserView>> {
        self.authorize(session, Module::Users, Action::Read)?;
        self.users_by_name()
    }

    /// Every user in the list, sorted as [`Directory::list_users`] sorts them; unchecked.
    pub(crate) fn users_by_name(&self) -> Result<Vec<UserView>> {
        let users = self.store.users()?.iter().map(|u| self.view(u)).collect::<Result<Vec<_>>>()?;
        // Invited users without a name yet sort by their email, as they are shown.
        let mut keyed: Vec<(String, String, UserView)> = users
            .into_iter()
            .map(|u| {
                let shown = if u.name.is_empty() { &u.email } else { &u.name };
                (shown.to_lowercase(), u.email.to_lowercase(), u)
            })
            .collect();
        keyed.sort_by(|a, b| name_order((&a.0, &a.1), (&b.0, &b.1)));
        Ok(keyed.into_iter().map(|(_, _, u)| u).collect())
    }
}

impl Directory {
    /// A filtered, sorted page of users. Needs `users:read`. Reads the in-memory index, so a
    /// page costs one pass over the list's fields plus the page's own records.
    pub fn query_users(&self, session: SessionId, query: UserQuery) -> Result<UserPage> {
        let viewer = self.authorize(session, Module::Users, Action::Read)?;
        let index = self.store.index();
        let selection = self.matching(&index, &query)?;
        let total = selection.positions.len() as u32;
        let offset = query.offset.unwrap_or(0) as usize;
        let limit = query.limit.unwrap_or(100).clamp(1, 1000) as usize;
        let page: Vec<UserId> = selection
            .positions
            .iter()
            .skip(offset)
            .take(limit)
            .filter_map(|&at| index.id_at(at))
            .collect();
        let (active, inactive, invited) = (selection.active, selection.inactive, selection.invited);
        drop(index);
        let users = page
            .into_iter()
            .filter_map(|id| self.store.user(id).transpose())
            .map(|u| self.view_for(&viewer, &u?))
            .collect::<Result<_>>()?;
        Ok(UserPage { users, total, active, inactive, invited })
    }

    /// The ids of every user `query` matches, in the list's order (its `offset` and `limit`
    /// are ignored): what "Select all N matching" selects for a bulk action. Needs
    /// `users:read`. Refused with `too_many_users` when more than [`MAX_BULK_USERS`] match,
    /// more than one bulk request may name.
    pub fn matching_user_ids(&self, session: SessionId, query: UserQuery) -> Result<Vec<UserId>> {
        self.authorize(session, Module::Users, Action::Read)?;
        let index = self.store.index();
        let positions = self.matching(&index, &query)?.positions;
        if positions.len() > MAX_BULK_USERS {
            return Err(crate::Error::TooManyUsers { max: MAX_BULK_USERS });
        }
        Ok(positions.iter().filter_map(|&at| index.id_at(at)).collect())
    }

    /// The positions in `index` of the users `query` matches, in its order, with the counts by
    /// status for the tabs.
    fn matching(&self, index: &UserIndex, query: &UserQuery) -> Result<Selection> {
        let search =
            query.search.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_lowercase);
        let settings = self.store.organization()?.ok_or(crate::Error::NotSetUp)?.settings;
        let now = self.clock.now();
        let lone_owner = index.active_owner_count() <= 1;
        let dormant_soon = query.dormant_soon.unwrap_or(false);
        let ending_soon = query.ending_soon.unwrap_or(false);
        let ends_by = now + Duration::days(governance::ENDING_SOON_DAYS);
        let keep = |e: &UserEntry| {
            let last_owner = lone_owner && e.active_owner();
            (!dormant_soon
                || governance::dormant_soon(e.status, e.last_seen, &settings, now, last_owner))
                && (!ending_soon
                    || e.access_until.is_some_and(|d| governance::access_ends_at(d) <= ends_by))
                && query
                    .no_sign_in_since
                    .is_none_or(|since| e.last_sign_in_at.is_none_or(|at| at < since))
        };
        let filtered = dormant_soon || ending_soon || query.no_sign_in_since.is_some();
        let mut selection = index.select(
            query.status,
            query.role.as_deref(),
            search.as_deref(),
            query.no_second_factor.unwrap_or(false),
            filtered.then_some(&keep as &dyn Fn(&UserEntry) -> bool),
        );
        let positions = &mut selection.positions;
        // Already in name order; the other orders are stable sorts with name order as tie-break.
        let sort = query.sort.unwrap_or(UserSort::Name);
        let descending = query.descending.unwrap_or(false);
        if sort != UserSort::Name {
            let entries: Vec<UserEntry> = index.in_name_order().collect();
            let by = |at: &usize| entries[*at];
            match sort {
                UserSort::Name => {}
                UserSort::Email => positions.sort_by(|a, b| by(a).email.cmp(by(b).email)),
                UserSort::Status => positions.sort_by_key(|at| by(at).status as u8),
                UserSort::LastSignIn => positions.sort_by(|a, b| {
                    by_sign_in(by(a).last_sign_in_at, by(b).last_sign_in_at, descending)
                }),
                UserSort::Updated => positions.sort_by_key(|at| by(at).updated_at),
            }
        }
        // By last sign-in the direction is already applied: those who never signed in stay
        // last and ties stay in name order, whichever way the dates run.
        if descending && sort != UserSort::LastSignIn {
            positions.reverse();
        }
        Ok(selection)
    }

    /// Who requiring a second factor for `roles` would reach: the Active users holding one of
    /// them without a second factor, each of whom enrols at their next sign-in before anything
    /// else (see [`crate::ops::session::second_factor_required`]). Needs `users:read`. An
    /// unknown role key counts nobody.
    pub fn second_factor_reach(
        &self,
        session: SessionId,
        roles: &[RoleKey],
    ) -> Result<SecondFactorReach> {
        self.authorize(session, Module::Users, Action::Read)?;
        let keys: Vec<&str> = roles.iter().map(String::as_str).collect();
        let (users, counts) = self.store.index().active_without_second_factor(&keys);
        let by_role =
            roles.iter().zip(counts).map(|(role, users)| RoleReach { role: role.clone(), users });
        Ok(SecondFactorReach { users, by_role: by_role.collect() })
    }

    /// One user. Needs `users:read`, except for oneself.
    pub fn get_user(&self, session: SessionId, user: UserId) -> Result<UserView> {
        let viewer = self.reader_of(session, user)?;
        self.view_for(&viewer, &self.target(user)?)
    }

    /// The signed-in person, who may read `user`: themselves always, others with `users:read`.
    fn reader_of(&self, session: SessionId, user: UserId) -> Result<Actor> {
        let viewer = self.viewer(session)?;
        if viewer.user.id == user {
            return Ok(viewer);
        }
        self.authorize(session, Module::Users, Action::Read)
    }
}

/// The order of two last sign-ins: earliest first (latest first when `descending`), never
/// signed in after everyone who did, either way.
fn by_sign_in(a: Option<DateTime<Utc>>, b: Option<DateTime<Utc>>, descending: bool) -> Ordering {
    match (a, b) {
        (Some(a), Some(b)) if descending => b.cmp(&a),
        (Some(a), Some(b)) => a.cmp(&b),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    }
}

/// One permission a user holds and the roles that grant it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
pub struct Grant {
    pub module: Module,
    pub action: Action,
    /// Keys of the user's roles that grant it, in the order the user holds them.
    pub roles: Vec<RoleKey>,
}

/// Everything the user detail panel shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
pub struct UserDetail {
    pub user: UserView,
    /// Effective permissions (the union of the roles), each with its granting roles.
    pub grants: Vec<Grant>,
    /// The latest events done by or to the user, newest first; `null` for a reader without
    /// `audit:read`.
    pub history: Option<Vec<AuditEvent>>,
}

/// How many events the detail panel shows.
const HISTORY: usize = 50;

impl Directory {
    /// A user's profile, effective permissions with their granting roles, and recent history.
    /// Needs `users:read`, except for oneself; the history needs `audit:read`.
    pub fn user_detail(&self, session: SessionId, user: UserId) -> Result<UserDetail> {
        let viewer = self.reader_of(session, user)?;
        let target = self.target(user)?;
        let mut grants: BTreeMap<Permission, Vec<RoleKey>> = BTreeMap::new();
        for key in &target.roles {
            for permission in self.role(key)?.map(|r| r.permissions).unwrap_or_default() {
                grants.entry(permission).or_default().push(key.clone());
            }
        }
        let grants = grants
            .into_iter()
            .map(|(p, roles)| Grant { module: p.module, action: p.action, roles })
            .collect();
        let history = if viewer.can(Module::Audit, Action::Read) {
            let email = target.email.key();
            let mut events = Vec::new();
            for event in self.store.audit_events_rev(u64::MAX) {
                let event = event?;
                let to_them = event.target.as_deref().is_some_and(|t| t.to_lowercase() == email);
                if to_them || event.actor == AuditActor::User(user) {
                    events.push(event);
                    if events.len() == HISTORY {
                        break;
                    }
                }
            }
            Some(events)
        } else {
            None
        };
        Ok(UserDetail { user: self.view_for(&viewer, &target)?, grants, history })
    }
}

impl Directory {
    /// The user someone names (email or id) for a command: oneself always, anyone else with
    /// `users:read`. Errors: `permission_denied`, `user_not_found`.
    pub fn find_user_for(
        &self,
        session: SessionId,
        email_or_id: &str,
    ) -> Result<crate::model::User> {
        let me = self.session_user(session)?;
        let text = email_or_id.trim();
        if text == me.id.to_string()
            || crate::model::Email::parse(text).is_ok_and(|e| e.key() == me.email.key())
        {
            return Ok(me);
        }
        self.authorize(session, Module::Users, Action::Read)?;
        self.find_user(text)
    }

    /// Whether `user` may do `action` on `module` now (see [`Directory::can`]), asked by a
    /// signed-in user: about oneself always, about others with `users:read`.
    pub fn check_permission(
        &self,
        session: SessionId,
        user: UserId,
        module: Module,
        action: Action,
    ) -> Result<bool> {
        if self.session_user(session)?.id != user {
            self.authorize(session, Module::Users, Action::Read)?;
        }
        self.can(user, module, action)
    }
}

impl Directory {
    /// Every user, without a permission check: for trusted local tooling (integrity checks,
    /// tests) that has the store itself. No front end command exposes it.
    pub fn users_unchecked(&self) -> Result<Vec<UserView>> {
        self.store.users()?.iter().map(|u| self.view(u)).collect()
    }
}
