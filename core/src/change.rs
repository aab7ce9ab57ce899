//! The one write path. Every change reaches the store through a [`Write`]: it holds the writer
//! lock from the first check to the commit and reads the clock once. A change a signed-in
//! person asks for is a [`Change`]: a `Write` with the checked actor, which writes the audit
//! event of a success and, through [`Directory::changing`], of every refusal by the matrix or
//! by rules 1-7, so that no verb can forget either.

use crate::auth::session::SessionId;
use crate::error::{Error, Result};
use crate::model::audit::AuditEntry;
use crate::model::{AuditAction, Permission, User, UserId, UserView};
use crate::ops::session::Actor;
use crate::policy::{Act, Party};
use crate::store::{Tx, TxResult};
use crate::Directory;
use chrono::{DateTime, Utc};
use std::sync::MutexGuard;

/// Proof that the writer lock is held: [`crate::store::Store::write`] takes one, and only this
/// module makes one. It carries the write's one instant, so that a record the store writes on
/// its own account (the audit event that closes a throttle record) is dated like the change.
pub struct Ticket<'d> {
    _guard: MutexGuard<'d, ()>,
    pub(crate) now: DateTime<Utc>,
}

/// The lock and one instant: for changes nobody signed in asks for (sign-in, codes, the mail
/// sender, restore, seeding), whose audit events name their actor themselves.
pub(crate) struct Write<'d> {
    dir: &'d Directory,
    ticket: Ticket<'d>,
    pub(crate) now: DateTime<Utc>,
}

impl Directory {
    /// Takes the writer lock and reads the clock. For a signed-in person's command use
    /// [`Directory::changing`] instead, which checks and audits.
    pub(crate) fn unattended(&self) -> Write<'_> {
        let guard = self.writer.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let now = self.clock.now();
        Write { dir: self, ticket: Ticket { _guard: guard, now }, now }
    }

    /// Runs `body` as a change by the session's user, who must hold `needs` (when given).
    /// The writer lock is held throughout and `Change::now` is its one instant. A refusal by
    /// the matrix, or by any rule `body` checks (an [`Error::is_policy_refusal`]), is written to
    /// the audit log with its code and the attempted change before it is returned.
    /// Errors: `not_signed_in`, `session_expired`, `permission_denied`, and `body`'s.
    pub(crate) fn changing<T>(
        &self,
        session: SessionId,
        needs: Option<Permission>,
        action: AuditAction,
        body: impl FnOnce(&mut Change<'_>) -> Result<T>,
    ) -> Result<T> {
        let write = self.unattended();
        let user = self.session_user(session)?;
        let permissions = self.permissions_of(&user)?;
        let mut change = Change {
            write,
            actor: Actor { user, permissions },
            action,
            target: String::new(),
            attempt: String::new(),
        };
        if let Some(needed) = needs {
            if !change.actor.permissions.contains(&needed) {
                change.attempt(format!(
                    "needs {}:{}",
                    needed.module.key(),
                    needed.action.letter().to_ascii_lowercase()
                ));
                return Err(change.refuse(Error::PermissionDenied));
            }
        }
        match body(&mut change) {
            Err(e) if e.is_policy_refusal() => Err(change.refuse(e)),
            other => other,
        }
    }
}

impl Write<'_> {
    /// Runs `f` in one store transaction. sled may run it more than once: it must only write.
    pub(crate) fn commit<T>(&self, f: impl Fn(&mut Tx<'_>) -> TxResult<T>) -> Result<T> {
        self.dir.store.write(&self.ticket, f)
    }

    /// Appends one audit event, at this write's instant.
    pub(crate) fn record(&self, entry: AuditEntry) -> Result<()> {
        self.commit(|tx| tx.audit(entry.clone(), self.now).map(|_| ()))
    }
}

/// A change by a checked, signed-in actor; made only by [`Directory::changing`].
pub(crate) struct Change<'d> {
    write: Write<'d>,
    pub(crate) actor: Actor,
    action: AuditAction,
    /// What the change is done to (an email, a role key), for its audit event.
    target: String,
    /// What was attempted, for the audit event of a refusal.
    attempt: String,
}

impl<'d> Change<'d> {
    pub(crate) fn now(&self) -> DateTime<Utc> {
        self.write.now
    }

    pub(crate) fn dir(&self) -> &'d Directory {
        self.write.dir
    }

    /// The action its events record, when one change writes several kinds (an import).
    pub(crate) fn set_action(&mut self, action: AuditAction) -> &mut Self {
        self.action = action;
        self
    }

    /// Names what the change is done to, for its audit event.
    pub(crate) fn target(&mut self, target: impl Into<String>) -> &mut Self {
        self.target = target.into();
        self
    }

    /// Says what is being attempted, for the audit event should it be refused.
    pub(crate) fn attempt(&mut self, attempt: impl Into<String>) -> &mut Self {
        self.attempt = attempt.into();
        self
    }

    pub(crate) fn party(&self) -> Party<'_> {
        Party { user: &self.actor.user, permissions: &self.actor.permissions }
    }

    /// The user `id`, once the matrix and rules 1, 3, 5 and 6 allow `act` on them; the
    /// change's target becomes their email. Errors: `user_not_found`, [`policy::may_act`]'s.
    pub(crate) fn on(&mut self, id: UserId, act: Act) -> Result<User> {
        let target = self.dir().target(id)?;
        self.on_user(target, act)
    }

    /// As [`Change::on`], for a user already read under this change's lock.
    pub(crate) fn on_user(&mut self, target: User, act: Act) -> Result<User> {
        self.target = target.email.to_string();
        self.dir().judge(&self.actor, &target, act)?;
        Ok(target)
    }

    /// Writes `f`'s records and the success event (`summary`) in one transaction.
    pub(crate) fn commit<T>(
        &self,
        summary: &str,
        f: impl Fn(&mut Tx<'_>) -> TxResult<T>,
    ) -> Result<T> {
        let entry = AuditEntry::success(
            self.actor.audit_actor(),
            self.action,
            self.target.as_str(),
            summary,
        );
        self.write.commit(|tx| {
            let out = f(tx)?;
            tx.audit(entry.clone(), self.write.now)?;
            Ok(out)
        })
    }

    /// Appends an event this change words itself (a test's outcome), at its instant.
    pub(crate) fn record(&self, entry: AuditEntry) -> Result<()> {
        self.write.record(entry)
    }

    /// Records `e`, a refusal, with its code and the attempted change; returns it. A failure to
    /// record is returned instead: a refusal that cannot be audited is not silently dropped.
    pub(crate) fn refuse(&self, e: Error) -> Error {
        let summary = match self.attempt.as_str() {
            "" => format!("refused: {e}"),
            attempt => format!("refused: {e} (attempted: {attempt})"),
        };
        let entry = AuditEntry::success(
            self.actor.audit_actor(),
            self.action,
            self.target.as_str(),
            summary,
        )
        .refused(e.code());
        match self.write.record(entry) {
            Ok(()) => e,
            Err(failure) => failure,
        }
    }

    /// What this actor sees of `user`, with the actions they may take on them.
    pub(crate) fn view(&self, user: &User) -> Result<UserView> {
        self.dir().view_for(&self.actor, user)
    }
}
