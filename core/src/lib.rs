//! Gatehouse's directory: the users of one organization, their roles and invitations, sessions
//! and the audit log, kept in an embedded sled store. Every rule of `shared/spec/domain.md` is
//! enforced here; front ends (the app, the command line) only translate.

pub mod auth;
pub mod backup;
mod change;
pub mod clock;
pub mod csv_io;
pub mod error;
pub mod files;
pub mod mail;
pub mod model;
pub mod ops;
pub mod policy;
pub mod secrets;
pub mod seed;
pub mod store;

pub use auth::session::{Gate, SessionId};
pub use clock::{Clock, ManualClock, SystemClock};
pub use error::{Error, ErrorBody, ErrorCode, Field, Result};
pub use ops::session::{Actor, SessionInfo, SignedIn};
pub use ops::{
    AcceptInput, AuditCount, AuditPage, AuditQuery, BulkAction, BulkOutcome, Enrolled, Enrolment,
    ImportOutcome, ImportReport, ImportRow, InviteOutcome, InviteRequest, Invitee, RecoverInput,
    ResetInput, RoleCopy, RoleInput, RoleView, SecondFactorReach, SettingsInput, SetupInput,
    UserDetail, UserPage, UserQuery, UserSort,
};
pub use store::Integrity;

use auth::session::Sessions;
use model::{role, InvitationInfo, Role, User, UserView};
use std::path::Path;
use std::sync::{Arc, Mutex};
use store::Store;

/// The name a unit enum value has on the wire (`sign_in`, `permission_denied`): what the CSV,
/// the command line and scripts print.
pub fn wire_name<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// An open directory: the store, the clock and the live sessions.
pub struct Directory {
    store: Store,
    clock: Arc<dyn Clock>,
    sessions: Sessions,
    /// Held by every operation that checks and then changes, so that two concurrent commands
    /// cannot both pass a check (for example the last-Owner rule) that only one may pass.
    writer: Mutex<()>,
    /// The keys kept outside the data folder (the Outbox's seal, automatic backups').
    keys: Arc<secrets::Keys>,
}

impl Directory {
    /// Opens the store in `dir`, creating it on first use. Unsent letters whose codes expired
    /// are erased, and plain letters from an older store sealed (see `mail::seal`).
    /// Errors: `store_locked` (another process has it open), `store_too_new`.
    pub fn open(dir: &Path, clock: Arc<dyn Clock>) -> Result<Self> {
        Self::over(Store::open(dir)?, clock, secrets::Keys::system())
    }

    /// As [`Directory::open`], for a store this process has just closed (after a restore); see
    /// [`Store::open_settled`].
    pub fn open_settled(dir: &Path, clock: Arc<dyn Clock>) -> Result<Self> {
        Self::over(Store::open_settled(dir)?, clock, secrets::Keys::system())
    }

    /// As [`Directory::open_settled`], with its keys kept in `keys` rather than the system's
    /// credential store (tests: a credential store that does not answer, or a restart).
    pub fn open_with_keys(
        dir: &Path,
        clock: Arc<dyn Clock>,
        keys: Arc<secrets::Keys>,
    ) -> Result<Self> {
        Self::over(Store::open_settled(dir)?, clock, keys)
    }

    fn over(store: Store, clock: Arc<dyn Clock>, keys: Arc<secrets::Keys>) -> Result<Self> {
        let dir =
            Self { store, clock, sessions: Sessions::default(), writer: Mutex::new(()), keys };
        dir.tidy_outbox()?;
        // A store too damaged to enforce on still opens (to be verified, backed up or
        // restored); the hourly check and each sign-in try again, and a sign-in the check
        // cannot judge is refused with the check's error.
        if let Err(e) = dir.enforce_access() {
            tracing::error!("dormant accounts and end dates not enforced on opening: {e}");
        }
        Ok(dir)
    }

    /// This directory with its keys kept in `keys` rather than the system's credential store.
    /// Letters sealed as it opened (plain ones from an older store) stay sealed with the keys
    /// it opened with: prefer [`Directory::open_with_keys`].
    pub fn with_keys(mut self, keys: Arc<secrets::Keys>) -> Self {
        self.keys = keys;
        self
    }

    /// The store's own id: names its keys in the credential store. A backup carries it, so a
    /// restored store is the same store.
    pub fn store_id(&self) -> Result<uuid::Uuid> {
        self.store.id()
    }

    /// A role by key: built-in or custom.
    pub(crate) fn role(&self, key: &str) -> Result<Option<Role>> {
        match role::built_in_role(key) {
            Some(r) => Ok(Some(r)),
            None => self.store.custom_role(key),
        }
    }

    /// What a front end sees of a user, with their invitation and any lockout.
    pub(crate) fn view(&self, user: &User) -> Result<UserView> {
        let now = self.clock.now();
        let mut view = user.view();
        if let Some(id) = user.invitation_id.filter(|_| user.status == model::UserStatus::Invited) {
            if let Some(inv) = self.store.invitation(id)? {
                view.invitation = Some(InvitationInfo {
                    expires_at: inv.expires_at,
                    expired: inv.is_expired(now),
                });
            }
        }
        let throttle = self.store.throttle(user.email.key())?;
        view.locked_until = throttle.locked_until.filter(|until| *until > now);
        view.days_since_sign_in =
            user.last_sign_in_at.map(|at| ops::governance::days_between(at, now));
        if let Some(org) = self.store.organization()? {
            let last_owner = user.is_active_owner() && self.active_owners_except(user.id)? == 0;
            view.dormant_soon = ops::governance::dormant_soon(
                user.status,
                ops::governance::last_seen(user),
                &org.settings,
                now,
                last_owner,
            );
        }
        Ok(view)
    }

    /// The matrix and rules 1, 3, 5 and 6 for `act` by `actor` on `target` (see
    /// [`policy::may_act`]), with the target's permissions read here.
    pub(crate) fn judge(&self, actor: &Actor, target: &User, act: policy::Act) -> Result<()> {
        let permissions = self.permissions_of(target)?;
        policy::may_act(
            act,
            policy::Party { user: &actor.user, permissions: &actor.permissions },
            policy::Party { user: target, permissions: &permissions },
        )
    }

    /// What `viewer` sees of `user`: [`Directory::view`] with the actions the viewer may take
    /// on them, judged by the policy.
    pub(crate) fn view_for(&self, viewer: &Actor, user: &User) -> Result<UserView> {
        let mut view = self.view(user)?;
        let permissions = self.permissions_of(user)?;
        view.actions = policy::options(
            policy::Party { user: &viewer.user, permissions: &viewer.permissions },
            policy::Party { user, permissions: &permissions },
            view.locked_until.is_some(),
            self.active_owners_except(user.id)?,
        );
        Ok(view)
    }

    /// The user a caller names, by id.
    pub(crate) fn target(&self, id: model::UserId) -> Result<User> {
        self.store.user(id)?.ok_or(Error::UserNotFound)
    }

    /// The user someone names by email (any case) or id, as the command line and the audit
    /// filter let them. Error: `user_not_found`.
    pub fn find_user(&self, email_or_id: &str) -> Result<User> {
        let text = email_or_id.trim();
        if let Ok(id) = uuid::Uuid::parse_str(text) {
            return self.target(id);
        }
        let email = model::Email::parse(text).map_err(|_| Error::UserNotFound)?;
        self.store.user_by_email(email.key())?.ok_or(Error::UserNotFound)
    }

    /// Whether first-run setup has been done.
    pub fn is_set_up(&self) -> Result<bool> {
        Ok(self.store.organization()?.is_some())
    }

    /// How many addresses have a failed sign-in count kept (for benchmarks and tests: the
    /// count stays about the last 30 minutes' worth, however many strangers try).
    pub fn sign_in_counts_kept(&self) -> usize {
        self.store.throttle_records()
    }

    /// Re-checks every store invariant and the audit chain.
    pub fn verify(&self) -> Result<Integrity> {
        self.store.verify()
    }
}
