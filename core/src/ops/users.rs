//! Reading the list of users.

use crate::auth::session::SessionId;
use crate::error::Result;
use crate::model::{Action, Module, UserView};
use crate::Directory;

impl Directory {
    /// Every user in the list, sorted by name. Needs `users:read`.
    pub fn list_users(&self, session: SessionId) -> Result<Vec<UserView>> {
        self.authorize(session, Module::Users, Action::Read)?;
        let mut users: Vec<UserView> = self.store.users()?.iter().map(|u| u.view()).collect();
        users.sort_by_cached_key(|u| (u.name.to_lowercase(), u.email.to_lowercase()));
        Ok(users)
    }
}
