//! Sign-in (with lockout), sign-out, and resolving a session to an authorized actor.

use crate::auth::password;
use crate::auth::session::{Gate, SessionId, Touch};
use crate::auth::throttle::{Tally, Throttle, REFUSALS_LOGGED};
use crate::change::Write;
use crate::error::{Error, ErrorCode, Result};
use crate::model::audit::AuditEntry;
use crate::model::factors::RecoveryNotice;
use crate::model::{
    Action, AuditAction, AuditActor, Email, Module, Outcome, Permission, PermissionSet, Settings,
    User, UserStatus, UserView,
};
use crate::Directory;
use chrono::{DateTime, Utc};
use serde::Serialize;

/// A new session: the handle stays with the front end's process, the info goes to the UI.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub session: SessionId,
    pub info: SessionInfo,
}

/// What the UI knows about the signed-in user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
pub struct SessionInfo {
    pub organization: String,
    pub user: UserView,
    pub permissions: Vec<Permission>,
    /// Whether they may back up and restore the store (an Active Owner).
    pub may_back_up: bool,
    /// Whether they may change the sign-in rules (which roles need a second factor, how long
    /// a password lasts): an Owner, as `policy::may_change_sign_in_rules` says.
    pub may_change_sign_in_rules: bool,
    /// What they must do before anything else; `None` once signed in fully.
    pub gate: Option<Gate>,
    /// Whether they have an authenticator app enrolled.
    pub second_factor: bool,
    /// Whether one of their roles needs a second factor (Settings).
    pub second_factor_required: bool,
    /// Unused recovery codes of their current set; `None` when they never had a set.
    pub recovery_codes_left: Option<u32>,
    /// Whether so few recovery codes are left (`recovery::FEW_LEFT` or fewer) that the person
    /// is warned to make a new set.
    pub recovery_codes_low: bool,
    /// An Owner without a recovery kit (or with none of its codes left): show them one.
    pub recovery_kit_due: bool,
    /// When their password expires (a password-age setting, and no second factor).
    pub password_expires_at: Option<DateTime<Utc>>,
    /// Recovery codes used since their last sign-in (shown to Owners once, at sign-in).
    pub recovery_notices: Vec<RecoveryNotice>,
    /// Set at sign-in for the last Active Owner when they had not signed in for longer than
    /// the dormant-account setting: the days it had been. They are not deactivated (someone
    /// must hold the keys); they are told to add a second Owner.
    pub kept_though_dormant: Option<u32>,
}

/// Whether one of the user's roles is one the settings require a second factor for.
pub fn second_factor_required(user: &User, settings: &Settings) -> bool {
    user.roles.iter().any(|r| settings.mfa_required_roles.contains(r))
}

/// When the user's password expires under `settings`: never with a second factor (PCI DSS v4
/// 8.3.9 asks it where a password is the only factor).
pub fn password_expires_at(user: &User, settings: &Settings) -> Option<DateTime<Utc>> {
    let days = settings.password_max_age_days?;
    if user.factors.totp.is_some() {
        return None;
    }
    let set_at = user.factors.password_changed_at.or(user.activated_at).unwrap_or(user.created_at);
    Some(set_at + chrono::Duration::days(i64::from(days)))
}

/// The gate after the second factor (or after the password, for a user without one): enrol
/// when a role needs a second factor, else a new password when it expired.
pub(crate) fn gate_after_factor(
    user: &User,
    settings: &Settings,
    now: DateTime<Utc>,
) -> Option<Gate> {
    if user.factors.totp.is_none() && second_factor_required(user, settings) {
        return Some(Gate::Enrol);
    }
    match password_expires_at(user, settings) {
        Some(at) if now >= at => Some(Gate::NewPassword),
        _ => None,
    }
}

impl Gate {
    /// The sign-in event's summary when a session stops at this gate.
    fn summary(self) -> String {
        match self {
            Gate::SecondFactor => "password accepted; second factor asked",
            Gate::Enrol => "password accepted; must set up a second factor",
            Gate::NewPassword => "password accepted; password expired",
        }
        .to_string()
    }
}

/// A signed-in user whose permission for one action was checked. Only [`Directory::authorize`]
/// makes one, so an operation that takes an `Actor` cannot run unchecked.
#[derive(Debug, Clone)]
pub struct Actor {
    pub(crate) user: User,
    pub(crate) permissions: PermissionSet,
}

impl Actor {
    pub fn user(&self) -> UserView {
        self.user.view()
    }

    pub fn can(&self, module: Module, action: Action) -> bool {
        self.permissions.contains(&Permission { module, action })
    }

    pub(crate) fn audit_actor(&self) -> AuditActor {
        AuditActor::User(self.user.id)
    }
}

/// Expired sign-in counts looked at (and forgotten) on every attempt: more than one record is
/// visited for each one an attempt can add, so the sweep keeps up with any flood.
pub const SWEEP_BATCH: usize = 8;

/// The key lockouts are counted under: the normalized address, or the trimmed, lower-cased
/// text when it is not an address at all.
pub(crate) fn throttle_key(email: &str) -> String {
    match Email::parse(email) {
        Ok(e) => e.key().to_string(),
        Err(_) => email.trim().to_lowercase().chars().take(254).collect(),
    }
}

impl Directory {
    /// Signs in with email and password. A wrong password, an unknown email and a user who
    /// is not Active all give `invalid_credentials`; the fifth failure in a row for one address
    /// locks it for 30 minutes (`locked_out`). An address already locked is refused without
    /// hashing the password: the answer is `locked_out` whatever it is, for known and unknown
    /// addresses alike.
    pub fn sign_in(&self, email: &str, password: &str) -> Result<SignedIn> {
        let key = throttle_key(email);
        // An end date or dormancy reached since the last hourly check ends access before it
        // is used (PCI DSS v4 8.2.6, 8.2.7).
        self.end_access_of(email)?;
        let user = self.store.user_by_email(&key)?;
        let locked = self.store.throttle(&key)?.minutes_locked(self.clock.now()).is_some();
        // Hash before taking the lock: argon2 is slow on purpose.
        let verified = match user.as_ref().and_then(|u| u.password_hash.as_deref()) {
            _ if locked => false,
            Some(phc) => password::verify(password, phc),
            None => {
                password::verify_dummy(password);
                false
            }
        };
        let write = self.unattended();
        // Read again under the lock: a change that won the race (a deactivation, a reset, a
        // new role, an unlock) must not be undone by writing the record read before it.
        let fresh = self.store.user_by_email(&key)?;
        let still_locked = locked && self.store.throttle(&key)?.minutes_locked(write.now).is_some();
        let verified = match (&user, &fresh) {
            _ if still_locked => false, // count_sign_in refuses it
            (Some(before), Some(now)) if before.id == now.id && !locked => {
                if before.password_hash == now.password_hash {
                    verified
                } else {
                    now.password_hash.as_deref().is_some_and(|phc| password::verify(password, phc))
                }
            }
            (None, None) if !locked => false,
            _ => fresh
                .as_ref()
                .and_then(|u| u.password_hash.as_deref())
                .is_some_and(|phc| password::verify(password, phc)),
        };
        let target = fresh.as_ref().map(|u| u.email.to_string()).unwrap_or_else(|| key.clone());
        let user = match fresh {
            Some(u) if verified && u.status == UserStatus::Active => Some(u),
            _ => None,
        };
        self.count_sign_in(&write, &key, &target, user.is_some(), (AuditAction::SignIn, ""))?;
        let mut signed_in = user.ok_or(Error::InvalidCredentials)?;
        let org = self.store.organization()?.ok_or(Error::NotSetUp)?;
        let gate = self.gate_after_password(&signed_in, &org.settings, write.now);
        if gate == Some(Gate::SecondFactor) {
            // Signed in only once the second factor is given: until then the count of failed
            // attempts stands, so that a known password does not buy unlimited code guesses.
            drop(write);
            return self.start_session(&signed_in, gate);
        }
        // The last Active Owner is never deactivated as dormant: told instead.
        let seen = crate::ops::governance::last_seen(&signed_in);
        let dormant_for = crate::ops::governance::dormant_at(&signed_in, &org.settings)
            .filter(|at| *at <= write.now)
            .and(seen)
            .map(|at| crate::ops::governance::days_between(at, write.now));
        signed_in.last_sign_in_at = Some(write.now);
        write.commit(|tx| {
            tx.put_throttle(&key, &Default::default())?;
            tx.put_user(&signed_in)?;
            tx.audit(
                AuditEntry::success(
                    AuditActor::User(signed_in.id),
                    AuditAction::SignIn,
                    signed_in.email.as_str(),
                    gate.map(|g| g.summary()).unwrap_or_default(),
                ),
                write.now,
            )
        })?;
        drop(write);
        let mut signed = self.start_session(&signed_in, gate)?;
        signed.info.kept_though_dormant = dormant_for;
        Ok(signed)
    }

    /// The first gate after a right password: the second factor when the user has one, else
    /// [`Directory::gate_after_factor`]'s.
    pub(crate) fn gate_after_password(
        &self,
        user: &User,
        settings: &Settings,
        now: DateTime<Utc>,
    ) -> Option<Gate> {
        if user.factors.totp.is_some() {
            return Some(Gate::SecondFactor);
        }
        gate_after_factor(user, settings, now)
    }

    /// The lockout rule for one attempt on the address `key` (shown in the log as `target`):
    /// refused with `locked_out` while locked; a failure is counted (the fifth in a row locks
    /// the address for 30 minutes) and audited; the error is `invalid_credentials` (or
    /// `wrong_password` for `what`), `locked_out` once locked. On success the caller clears the
    /// count in its own transaction. `what` names a non-sign-in attempt in the log.
    ///
    /// What is audited, so that strangers cannot grow the store without limit while every
    /// attempt stays accounted for: for a user's address, every failure and the first refusal
    /// of a lockout are events of their own, later refusals are counted in the address's record
    /// and audited as one event when it is replaced or swept; for an address no user has, the
    /// window's [`Tally`] decides (its first attempts are events, the rest one event when the
    /// window ends). Every call also sweeps a few expired records ([`Directory::sweep_throttles`]).
    pub(crate) fn count_sign_in(
        &self,
        write: &Write<'_>,
        key: &str,
        target: &str,
        succeeded: bool,
        (action, what): (AuditAction, &str),
    ) -> Result<()> {
        let now = write.now;
        let throttle = self.store.throttle(key)?;
        let address = key.strip_prefix(super::second_factor::RECOVERY_THROTTLE).unwrap_or(key);
        let known = self.store.user_by_email(address)?.is_some();
        let expired = self.store.expired_throttles(now, SWEEP_BATCH)?;
        let sweep = |tx: &mut crate::store::Tx<'_>| -> crate::store::TxResult<()> {
            for gone in &expired {
                // Read again inside the transaction: only what is still expired goes, and not
                // a record whose refusals are still to be audited (a user's address: as many
                // as there are users). Forgetting the rest changes no answer, and writes no event.
                let record = tx.throttle(gone)?;
                if gone != key && record.expired(now) && record.unlogged_refusals() == 0 {
                    tx.put_throttle(gone, &Throttle::default())?;
                }
            }
            Ok(())
        };
        // An attempt for an address no user has is audited while the window's budget lasts,
        // else counted in the window's tally.
        let audit_or_count = |tx: &mut crate::store::Tx<'_>,
                              entry: &AuditEntry,
                              refused: bool,
                              new_count: bool|
         -> crate::store::TxResult<()> {
            if known {
                return tx.audit(entry.clone(), now).map(|_| ());
            }
            let mut tally = match tx.sign_in_tally()? {
                Some(ended) if ended.ended(now) => {
                    tx.close_sign_in_tally(&ended)?;
                    Tally::new(now)
                }
                Some(open) => open,
                None => Tally::new(now),
            };
            if tally.take_budget() {
                tx.audit(entry.clone(), now)?;
            } else {
                tally.count(key, refused, new_count, now);
            }
            tx.put_sign_in_tally(&tally)
        };
        if let Some(minutes) = throttle.minutes_locked(now) {
            let after = if known { throttle.after_refusal(now) } else { throttle.clone() };
            let entry = AuditEntry::success(
                AuditActor::System,
                action,
                target,
                format!("refused: locked out{what}"),
            )
            .refused(ErrorCode::LockedOut);
            write.commit(|tx| {
                sweep(tx)?;
                if known {
                    tx.put_throttle(key, &after)?;
                    if after.refused <= REFUSALS_LOGGED {
                        tx.audit(entry.clone(), now)?;
                    }
                    Ok(())
                } else {
                    audit_or_count(tx, &entry, true, false)
                }
            })?;
            return Err(Error::LockedOut { minutes });
        }
        if succeeded {
            // The caller's transaction clears the count; the sweep goes first, when it has work.
            if !expired.is_empty() {
                write.commit(|tx| sweep(tx))?;
            }
            return Ok(());
        }
        let after = throttle.after_failure(now);
        let summary = match after.locked_until {
            Some(_) => format!("failed attempt {}{what}: locked for 30 minutes", after.failures),
            None => format!("failed attempt {}{what}", after.failures),
        };
        let entry = AuditEntry::success(AuditActor::System, action, target, summary)
            .with_outcome(Outcome::Failed);
        write.commit(|tx| {
            sweep(tx)?;
            tx.put_throttle(key, &after)?;
            audit_or_count(tx, &entry, false, after.failures == 1)
        })?;
        match after.minutes_locked(now) {
            Some(minutes) => Err(Error::LockedOut { minutes }),
            None if what.is_empty() => Err(Error::InvalidCredentials),
            None => Err(Error::WrongPassword),
        }
    }

    /// Forgets every expired sign-in count and ends a finished tally window, auditing what
    /// they had counted. The sign-in path sweeps [`SWEEP_BATCH`] records on every attempt,
    /// which keeps the records to about the last 30 minutes' worth; this sweeps them all (for
    /// a maintenance pass or a test). Returns how many records were forgotten.
    pub fn sweep_throttles(&self) -> Result<usize> {
        let write = self.unattended();
        let now = write.now;
        let mut forgotten = 0;
        let mut left = self.store.throttle_records();
        while left > 0 {
            let batch = left.min(1024);
            left -= batch;
            let expired = self.store.expired_throttles(now, batch)?;
            if expired.is_empty() {
                continue;
            }
            forgotten += expired.len();
            write.commit(|tx| {
                for gone in &expired {
                    tx.put_throttle(gone, &Throttle::default())?;
                }
                Ok(())
            })?;
        }
        if self.store.sign_in_tally()?.is_some_and(|t| t.ended(now)) {
            write.commit(|tx| match tx.sign_in_tally()?.filter(|t| t.ended(now)) {
                Some(tally) => tx.close_sign_in_tally(&tally),
                None => Ok(()),
            })?;
        }
        Ok(forgotten)
    }

    /// A new session for `user`, waiting at `gate`. A session signed in fully takes the
    /// notices of recovery codes used since the user's last sign-in (an Owner's).
    pub(crate) fn start_session(&self, user: &User, gate: Option<Gate>) -> Result<SignedIn> {
        let session = self.sessions.start(user.id, self.clock.now(), gate);
        let mut info = self.session_info(user, gate)?;
        if gate.is_none() {
            info.recovery_notices = self.take_notices(user.id)?;
        }
        Ok(SignedIn { session, info })
    }

    pub(crate) fn session_info(&self, user: &User, gate: Option<Gate>) -> Result<SessionInfo> {
        let organization = self.store.organization()?.ok_or(Error::NotSetUp)?;
        let required = second_factor_required(user, &organization.settings);
        let factors = &user.factors;
        Ok(SessionInfo {
            organization: organization.name,
            user: self.view_for(
                &Actor { user: user.clone(), permissions: self.permissions_of(user)? },
                user,
            )?,
            permissions: self.permissions_of(user)?.into_iter().collect(),
            may_back_up: crate::policy::may_back_up(user).is_ok(),
            may_change_sign_in_rules: crate::policy::may_change_sign_in_rules(user).is_ok(),
            gate,
            second_factor: factors.totp.is_some(),
            second_factor_required: required,
            recovery_codes_left: factors.recovery.as_ref().map(|r| r.left() as u32),
            recovery_codes_low: factors
                .recovery
                .as_ref()
                .is_some_and(|r| r.left() <= crate::auth::recovery::FEW_LEFT),
            recovery_kit_due: user.is_owner()
                && factors.recovery.as_ref().is_none_or(|r| r.left() == 0),
            password_expires_at: password_expires_at(user, &organization.settings),
            recovery_notices: Vec::new(),
            kept_though_dormant: None,
        })
    }

    /// Ends the session. Signing out twice is not an error.
    pub fn sign_out(&self, session: SessionId) -> Result<()> {
        if let Some(ended) = self.sessions.end(session) {
            self.unattended().record(AuditEntry::success(
                AuditActor::User(ended.user_id),
                AuditAction::SignOut,
                "",
                "",
            ))?;
        }
        Ok(())
    }

    /// The signed-in user's info, refreshing the idle timer.
    /// Errors: `not_signed_in`, `session_expired`.
    pub fn current_session(&self, session: SessionId) -> Result<SessionInfo> {
        let (user, gate) = self.resolve(session, true, None)?;
        self.session_info(&user, gate)
    }

    /// Whether the session is still live, without refreshing its idle timer: for a front end
    /// that checks in the background whether to show the lock screen.
    pub fn session_is_live(&self, session: SessionId) -> Result<bool> {
        let idle = self.idle_timeout()?;
        Ok(self.sessions.is_live(session, self.clock.now(), idle))
    }

    fn idle_timeout(&self) -> Result<chrono::Duration> {
        let org = self.store.organization()?.ok_or(Error::NotSetUp)?;
        Ok(chrono::Duration::minutes(i64::from(org.settings.session_idle_minutes)))
    }

    /// Resolves a session to its Active user, ending it when idle, too old, or when the user
    /// may no longer sign in. Counts as the person's activity.
    /// A session waiting at a gate is refused here with the gate's refusal.
    pub(crate) fn session_user(&self, session: SessionId) -> Result<User> {
        self.resolve(session, true, Some(None)).map(|(user, _)| user)
    }

    /// As [`Directory::session_user`], for a background refresh: the idle timer is not reset.
    pub(crate) fn session_user_quietly(&self, session: SessionId) -> Result<User> {
        self.resolve(session, false, Some(None)).map(|(user, _)| user)
    }

    /// As [`Directory::session_user`] for the command of `gate`, which a session may also use
    /// when signed in fully. Returns the session's gate too.
    pub(crate) fn session_user_at(
        &self,
        session: SessionId,
        gate: Gate,
    ) -> Result<(User, Option<Gate>)> {
        let (user, at) = self.resolve(session, true, None)?;
        match at {
            Some(waiting) if waiting != gate => Err(waiting.refusal()),
            _ => Ok((user, at)),
        }
    }

    /// The session's Active user and gate. `only`: `Some(None)` refuses a session at any gate,
    /// `None` accepts every one (the caller judges it).
    fn resolve(
        &self,
        session: SessionId,
        activity: bool,
        only: Option<Option<Gate>>,
    ) -> Result<(User, Option<Gate>)> {
        let idle = self.idle_timeout()?;
        let live = match self.sessions.touch(session, self.clock.now(), idle, activity) {
            Touch::Live(s) => s,
            Touch::Expired => return Err(Error::SessionExpired),
            Touch::Unknown => return Err(Error::NotSignedIn),
        };
        if let (Some(None), Some(gate)) = (only, live.gate) {
            return Err(gate.refusal());
        }
        match self.store.user(live.user_id)? {
            Some(user) if user.status == UserStatus::Active => Ok((user, live.gate)),
            _ => {
                self.sessions.end(session);
                Err(Error::SessionExpired)
            }
        }
    }

    /// Checks that the session's user may do `action` on `module`, for a command that reads.
    /// A refusal is audited. (A command that changes uses [`Directory::changing`].)
    pub fn authorize(&self, session: SessionId, module: Module, action: Action) -> Result<Actor> {
        self.authorize_as(self.session_user(session)?, module, action)
    }

    /// As [`Directory::authorize`], for a background refresh that must not keep the session
    /// alive.
    pub(crate) fn authorize_quietly(
        &self,
        session: SessionId,
        module: Module,
        action: Action,
    ) -> Result<Actor> {
        self.authorize_as(self.session_user_quietly(session)?, module, action)
    }

    fn authorize_as(&self, user: User, module: Module, action: Action) -> Result<Actor> {
        let permissions = self.permissions_of(&user)?;
        if permissions.contains(&Permission { module, action }) {
            return Ok(Actor { user, permissions });
        }
        let summary = format!("needs {}:{}", module.key(), action.letter().to_ascii_lowercase());
        let entry = AuditEntry::success(
            AuditActor::User(user.id),
            AuditAction::PermissionDenied,
            "",
            summary,
        );
        self.unattended().record(entry.refused(ErrorCode::PermissionDenied))?;
        Err(Error::PermissionDenied)
    }

    /// The signed-in person as an actor (whatever their permissions), for reads that judge
    /// what they may do.
    pub(crate) fn viewer(&self, session: SessionId) -> Result<Actor> {
        let user = self.session_user(session)?;
        let permissions = self.permissions_of(&user)?;
        Ok(Actor { user, permissions })
    }

    /// The union of the permissions of the user's roles.
    pub fn permissions_of(&self, user: &User) -> Result<PermissionSet> {
        self.permissions_of_roles(&user.roles)
    }

    /// Whether the user may do `action` on `module` now: Active, and one of their roles grants
    /// it. The answer the wider platform asks for (`can(user, module, action)`).
    pub fn can(&self, user: crate::model::UserId, module: Module, action: Action) -> Result<bool> {
        match self.store.user(user)? {
            Some(u) if u.status == UserStatus::Active => {
                Ok(self.permissions_of(&u)?.contains(&Permission { module, action }))
            }
            _ => Ok(false),
        }
    }
}
