//! Reading the list of users.

use crate::auth::session::SessionId;
use crate::error::Result;
use crate::model::{Action, Module, UserId, UserStatus, UserView};
use serde::{Deserialize, Serialize};

/// Which users to list and in what order. Everything is optional: the default is every user,
/// sorted by name, first 100.
#[derive(Debug, Clone, Default, Deserialize, specta::Type)]
pub struct UserQuery {
    pub status: Option<UserStatus>,
    /// Only holders of this role key.
    pub role: Option<String>,
    /// Matches name or email containing this text, ignoring case.
    pub search: Option<String>,
    pub sort: Option<UserSort>,
    /// Reverse the order.
    pub descending: Option<bool>,
    pub offset: Option<u32>,
    /// Page size, 1 to 1,000 (default 100).
    pub limit: Option<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum UserSort {
    Name,
    Email,
    Status,
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
use crate::Directory;

impl Directory {
    /// Every user in the list, sorted by name (or email, while there is no name). Needs
    /// `users:read`.
    pub fn list_users(&self, session: SessionId) -> Result<Vec<UserView>> {
        self.authorize(session, Module::Users, Action::Read)?;
        let mut users =
            self.store.users()?.iter().map(|u| self.view(u)).collect::<Result<Vec<_>>>()?;
        // Invited users without a name yet sort by their email, as they are shown.
        users.sort_by_cached_key(|u| {
            let shown = if u.name.is_empty() { &u.email } else { &u.name };
            (shown.to_lowercase(), u.email.to_lowercase())
        });
        Ok(users)
    }
}

impl Directory {
    /// A filtered, sorted page of users. Needs `users:read`.
    pub fn query_users(&self, session: SessionId, query: UserQuery) -> Result<UserPage> {
        self.authorize(session, Module::Users, Action::Read)?;
        let search =
            query.search.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_lowercase);
        let mut matching = Vec::new();
        let (mut active, mut inactive, mut invited) = (0, 0, 0);
        for user in self.store.users()? {
            if query.role.as_ref().is_some_and(|r| !user.roles.contains(r)) {
                continue;
            }
            if let Some(s) = &search {
                if !user.name.to_lowercase().contains(s) && !user.email.key().contains(s) {
                    continue;
                }
            }
            match user.status {
                UserStatus::Active => active += 1,
                UserStatus::Inactive => inactive += 1,
                UserStatus::Invited => invited += 1,
            }
            if query.status.is_none_or(|s| s == user.status) {
                matching.push(user);
            }
        }
        let shown = |u: &crate::model::User| {
            if u.name.is_empty() {
                u.email.key().to_string()
            } else {
                u.name.to_lowercase()
            }
        };
        match query.sort.unwrap_or(UserSort::Name) {
            UserSort::Name => {
                matching.sort_by_cached_key(|u| (shown(u), u.email.key().to_string()))
            }
            UserSort::Email => matching.sort_by(|a, b| a.email.key().cmp(b.email.key())),
            UserSort::Status => matching.sort_by_cached_key(|u| (u.status as u8, shown(u))),
            UserSort::LastSignIn => matching.sort_by_key(|u| (u.last_sign_in_at, u.id)),
            UserSort::Updated => matching.sort_by_key(|u| (u.updated_at, u.id)),
        }
        if query.descending.unwrap_or(false) {
            matching.reverse();
        }
        let total = matching.len() as u32;
        let offset = query.offset.unwrap_or(0) as usize;
        let limit = query.limit.unwrap_or(100).clamp(1, 1000) as usize;
        let users = matching
            .iter()
            .skip(offset)
            .take(limit)
            .map(|u| self.view(u))
            .collect::<Result<_>>()?;
        Ok(UserPage { users, total, active, inactive, invited })
    }

    /// One user. Needs `users:read`, except for oneself.
    pub fn get_user(&self, session: SessionId, user: UserId) -> Result<UserView> {
        if self.session_user(session)?.id != user {
            self.authorize(session, Module::Users, Action::Read)?;
        }
        self.view(&self.target(user)?)
    }
}

impl Directory {
    /// Every user, without a permission check: for trusted local tooling (integrity checks,
    /// tests) that has the store itself. No front end command exposes it.
    pub fn users_unchecked(&self) -> Result<Vec<UserView>> {
        self.store.users()?.iter().map(|u| self.view(u)).collect()
    }
}
