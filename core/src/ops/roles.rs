//! Reading roles.

use crate::auth::session::SessionId;
use crate::error::Result;
use crate::model::{role, Action, Module, Role};
use crate::Directory;

impl Directory {
    /// Every role, built-in ones first in table order. Needs `roles:read`.
    pub fn list_roles(&self, session: SessionId) -> Result<Vec<Role>> {
        self.authorize(session, Module::Roles, Action::Read)?;
        Ok(role::built_in_roles())
    }
}
