//! Gatehouse's directory: the users of one organization, their roles and invitations, sessions
//! and the audit log, kept in an embedded sled store. Every rule of `shared/spec/domain.md` is
//! enforced here; front ends (the app, the command line) only translate.

pub mod auth;
pub mod clock;
pub mod error;
pub mod model;
pub mod ops;
pub mod store;

pub use auth::session::SessionId;
pub use clock::{Clock, ManualClock, SystemClock};
pub use error::{Error, ErrorBody, ErrorCode, Result};
pub use ops::session::{Actor, SessionInfo, SignedIn};
pub use ops::SetupInput;
pub use store::Integrity;

use auth::session::Sessions;
use std::path::Path;
use std::sync::Arc;
use store::Store;

/// An open directory: the store, the clock and the live sessions.
pub struct Directory {
    store: Store,
    clock: Arc<dyn Clock>,
    sessions: Sessions,
}

impl Directory {
    /// Opens the store in `dir`, creating it on first use.
    /// Errors: `store_locked` (another process has it open), `store_too_new`.
    pub fn open(dir: &Path, clock: Arc<dyn Clock>) -> Result<Self> {
        Ok(Self { store: Store::open(dir)?, clock, sessions: Sessions::default() })
    }

    /// Whether first-run setup has been done.
    pub fn is_set_up(&self) -> Result<bool> {
        Ok(self.store.organization()?.is_some())
    }

    /// Re-checks every store invariant and the audit chain.
    pub fn verify(&self) -> Result<Integrity> {
        self.store.verify()
    }
}
