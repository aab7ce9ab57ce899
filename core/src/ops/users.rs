//! Reading the list of users.

use crate::auth::session::SessionId;
use crate::error::Result;
use crate::model::{Action, Module, UserId, UserView};
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
