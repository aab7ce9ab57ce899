//! The second factor (an authenticator app), recovery codes, and an Owner's way back in with
//! their recovery kit (domain.md, "Second factor and recovery").

use crate::auth::session::{Gate, SessionId};
use crate::auth::totp::{self, Secret};
use crate::auth::{password, recovery};
use crate::error::{Error, Result};
use crate::model::audit::AuditEntry;
use crate::model::factors::{Enrolling, RecoveryNotice, Totp, NOTICES_KEPT};
use crate::model::{AuditAction, AuditActor, User, UserId, UserStatus, UserView};
use crate::ops::session::{gate_after_factor, throttle_key, SessionInfo, SignedIn};
use crate::policy::Act;
use crate::secrets::{Keeping, SealKey};
use crate::store::Tx;
use crate::Directory;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// What enrolment shows once: the secret as text, its `otpauth://` URI, and that URI drawn
/// as a QR code (SVG).
#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct Enrolment {
    /// Base32, as an authenticator app takes it typed in.
    pub secret: String,
    pub otpauth_uri: String,
    pub qr_svg: String,
}

/// A confirmed enrolment: the recovery codes to show once, and the session as it is now.
#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct Enrolled {
    pub recovery_codes: Vec<String>,
    pub session: SessionInfo,
}

/// An Owner's way back in: their email, a recovery code, and (when they have an authenticator)
/// a second code, another recovery code or the authenticator's; and the new password.
#[derive(Debug, Clone, Deserialize, specta::Type)]
pub struct RecoverInput {
    pub email: String,
    pub code: String,
    pub second_code: Option<String>,
    pub password: String,
}

/// Recovery attempts are counted apart from sign-ins, under this prefix of the address.
pub(crate) const RECOVERY_THROTTLE: &str = "recovery:";

/// What a code given as a second factor turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Used {
    /// The authenticator's code of this step.
    Totp(u64),
    /// An unused recovery code of the current set.
    Recovery,
}

impl Directory {
    /// The key that seals authenticator secrets. Refused where the credential store does not
    /// keep keys: a secret sealed with a key of this run only would stop working at restart.
    fn second_factor_key(&self) -> Result<SealKey> {
        let (key, keeping) = self.keys.key(&self.second_factor_key_name()?)?;
        match keeping {
            Keeping::Saved => Ok(key),
            Keeping::ThisRun(why) => Err(Error::CredentialStoreUnavailable(format!(
                "Gatehouse cannot keep an authenticator's secret on this computer: {why}. \
                 Without the credential store the second factor would stop working when \
                 Gatehouse restarts."
            ))),
        }
    }

    fn second_factor_key_name(&self) -> Result<String> {
        Ok(format!("second-factor:{}", self.store_id()?))
    }

    fn seal_secret(&self, user: UserId, secret: &Secret) -> Result<String> {
        let sealed = self.second_factor_key()?.seal(user.as_bytes(), secret.as_bytes())?;
        Ok(data_encoding::BASE64.encode(&sealed))
    }

    /// The secret sealed for `user`; `second_factor_unreadable` when this computer no longer
    /// holds the key (a store restored elsewhere) or the bytes were changed.
    fn open_secret(&self, user: UserId, sealed: &str) -> Result<Secret> {
        let key = self.keys.existing_key(&self.second_factor_key_name()?)?;
        let bytes = data_encoding::BASE64.decode(sealed.as_bytes()).ok();
        match (key, bytes) {
            (Some(key), Some(bytes)) => key
                .open(user.as_bytes(), &bytes)
                .map(Secret::from_bytes)
                .ok_or(Error::SecondFactorUnreadable),
            _ => Err(Error::SecondFactorUnreadable),
        }
    }

    /// The user as stored now, while Active; a session of someone no longer Active ends.
    fn fresh_active(&self, session: SessionId, id: UserId) -> Result<User> {
        match self.store.user(id)? {
            Some(user) if user.status == UserStatus::Active => Ok(user),
            _ => {
                self.sessions.end(session);
                Err(Error::SessionExpired)
            }
        }
    }

    /// Starts adding an authenticator app for the signed-in user (also at the enrolment
    /// gate): a new secret, shown once. Until it is confirmed with a valid code, a current
    /// authenticator keeps working. Error: `credential_store_unavailable`.
    pub fn start_enrolment(&self, session: SessionId) -> Result<Enrolment> {
        let (user, _) = self.session_user_at(session, Gate::Enrol)?;
        let secret = Secret::generate()?;
        let sealed = self.seal_secret(user.id, &secret)?;
        let org = self.store.organization()?.ok_or(Error::NotSetUp)?;
        let otpauth_uri = secret.otpauth_uri(&org.name, user.email.as_str());
        let qr_svg = totp::qr_svg(&otpauth_uri)?;
        let write = self.unattended();
        let mut user = self.fresh_active(session, user.id)?;
        user.factors.enrolling = Some(Enrolling { sealed, started_at: write.now });
        write.commit(|tx| tx.put_user(&user))?;
        Ok(Enrolment { secret: secret.base32(), otpauth_uri, qr_svg })
    }

    /// Completes an enrolment with the authenticator's current code: the second factor is
    /// the new secret, and a new set of recovery codes (shown once) voids the old.
    /// Errors: `not_enrolling`, `second_factor_invalid`.
    pub fn confirm_enrolment(&self, session: SessionId, code: &str) -> Result<Enrolled> {
        let (user, gate) = self.session_user_at(session, Gate::Enrol)?;
        let enrolling = user.factors.enrolling.clone().ok_or(Error::NotEnrolling)?;
        let secret = self.open_secret(user.id, &enrolling.sealed)?;
        let write = self.unattended();
        let now = write.now;
        let mut user = self.fresh_active(session, user.id)?;
        if user.factors.enrolling.as_ref() != Some(&enrolling) {
            return Err(Error::NotEnrolling);
        }
        let step = secret.verify(code, now, None).ok_or(Error::SecondFactorInvalid)?;
        let (codes, set) = recovery::generate(now)?;
        let summary = match user.factors.totp {
            Some(_) => "authenticator app replaced; 10 new recovery codes (the old ones void)",
            None => "authenticator app added; 10 new recovery codes",
        };
        user.factors.totp =
            Some(Totp { sealed: enrolling.sealed, enrolled_at: now, last_step: Some(step) });
        user.factors.enrolling = None;
        user.factors.recovery = Some(set);
        user.updated_at = now;
        write.commit(|tx| {
            tx.put_user(&user)?;
            tx.audit(own_event(&user, AuditAction::EnrolSecondFactor, summary), now).map(|_| ())
        })?;
        drop(write);
        let session_info = self.after_gate(session, &user, gate, now)?;
        Ok(Enrolled { recovery_codes: codes, session: session_info })
    }

    /// Moves a session on after its gate was passed (a session signed in fully stays so).
    fn after_gate(
        &self,
        session: SessionId,
        user: &User,
        gate: Option<Gate>,
        now: DateTime<Utc>,
    ) -> Result<SessionInfo> {
        if gate.is_none() {
            return self.session_info(user, None);
        }
        let settings = self.store.organization()?.ok_or(Error::NotSetUp)?.settings;
        let next = gate_after_factor(user, &settings, now);
        self.sessions.pass(session, next);
        let mut info = self.session_info(user, next)?;
        if next.is_none() {
            info.recovery_notices = self.take_notices(user.id)?;
        }
        Ok(info)
    }

    /// The second step of signing in: a code from the authenticator app, or an unused
    /// recovery code. A wrong code counts as a failed sign-in for the address (the lockout
    /// applies and it is audited). Errors: `second_factor_invalid`, `locked_out`,
    /// `second_factor_unreadable`.
    pub fn verify_second_factor(&self, session: SessionId, code: &str) -> Result<SessionInfo> {
        let (user, gate) = self.session_user_at(session, Gate::SecondFactor)?;
        if gate.is_none() {
            return self.session_info(&user, None);
        }
        let write = self.unattended();
        let now = write.now;
        let mut user = self.fresh_active(session, user.id)?;
        let used = self.judge_second_factor(&user, code, now, None)?;
        let key = user.email.key().to_string();
        let what = (AuditAction::SignIn, " (second factor)");
        match self.count_sign_in(&write, &key, user.email.as_str(), used.is_some(), what) {
            Ok(()) => {}
            Err(Error::WrongPassword) => return Err(Error::SecondFactorInvalid),
            Err(e) => {
                if e.code() == crate::error::ErrorCode::LockedOut {
                    self.sessions.end(session);
                }
                return Err(e);
            }
        }
        let summary = match used {
            Some(Used::Totp(step)) => {
                set_last_step(&mut user, step);
                "with an authenticator code".to_string()
            }
            _ => {
                take_recovery(&mut user, code);
                format!("with a recovery code ({} left)", recovery_left(&user))
            }
        };
        user.last_sign_in_at = Some(now);
        let notice = (used == Some(Used::Recovery)).then(|| RecoveryNotice {
            at: now,
            who: who(&user),
            what: "signed in with a recovery code".into(),
        });
        write.commit(|tx| {
            tx.put_throttle(&key, &Default::default())?;
            tx.put_user(&user)?;
            if let Some(notice) = &notice {
                self.notify_owners(tx, user.id, notice)?;
            }
            tx.audit(own_event(&user, AuditAction::SignIn, &summary), now).map(|_| ())
        })?;
        drop(write);
        self.after_gate(session, &user, gate, now)
    }

    /// What `code` is for `user` at `now`: their authenticator's code of an unused step, or
    /// one of their unused recovery codes (other than `except`, already taken in this
    /// attempt). `None` when it is neither.
    fn judge_second_factor(
        &self,
        user: &User,
        code: &str,
        now: DateTime<Utc>,
        except: Option<&str>,
    ) -> Result<Option<Used>> {
        if recovery::looks_like_one(code) {
            let Some(set) = &user.factors.recovery else { return Ok(None) };
            let other = except.and_then(|first| set.find(first));
            return Ok(set.find(code).filter(|i| Some(*i) != other).map(|_| Used::Recovery));
        }
        let Some(enrolled) = &user.factors.totp else { return Ok(None) };
        let secret = self.open_secret(user.id, &enrolled.sealed)?;
        Ok(secret.verify(code, now, enrolled.last_step).map(Used::Totp))
    }

    /// A new set of recovery codes for the signed-in user, shown once; the old set is void.
    pub fn new_recovery_codes(&self, session: SessionId) -> Result<Vec<String>> {
        self.changing(session, None, AuditAction::NewRecoveryCodes, |change| {
            let mut user = change.actor.user.clone();
            let (codes, set) = recovery::generate(change.now())?;
            let summary = match user.factors.recovery {
                Some(_) => "10 new recovery codes (the old ones void)",
                None => "10 recovery codes",
            };
            user.factors.recovery = Some(set);
            user.updated_at = change.now();
            change.target(user.email.as_str()).commit(summary, |tx| tx.put_user(&user))?;
            Ok(codes)
        })
    }

    /// Removes `id`'s second factor (a lost phone): their sessions end, and they enrol again
    /// at their next sign-in when a role of theirs needs one. Needs `users:update` and rule
    /// 6 (the actor dominates them). Errors: `not_dominant`, `owner_only`, `own_status`,
    /// `no_second_factor`.
    pub fn remove_second_factor(&self, session: SessionId, id: UserId) -> Result<UserView> {
        let needs = Act::RemoveSecondFactor.needs();
        self.changing(session, Some(needs), AuditAction::RemoveSecondFactor, |change| {
            let mut user = change.on(id, Act::RemoveSecondFactor)?;
            if user.factors.totp.is_none() && user.factors.enrolling.is_none() {
                return Err(Error::NoSecondFactor(user.shown_name()));
            }
            user.factors.totp = None;
            user.factors.enrolling = None;
            user.updated_at = change.now();
            change
                .commit("second factor removed; their sessions ended", |tx| tx.put_user(&user))?;
            self.sessions.end_all_of(user.id);
            change.view(&user)
        })
    }

    /// An Owner's way back in: with a recovery code of their kit (and, when they have an
    /// authenticator, a second code: another recovery code or the authenticator's), they set
    /// a new password, their lockout lifts, and they are signed in. Every Owner is told at
    /// their next sign-in. Attempts have their own lockout. Errors: `recovery_code_invalid`
    /// (also for an address that is not an Active Owner's), `second_factor_required`,
    /// `locked_out`, the password rules', `password_reused`.
    pub fn recover_account(&self, input: RecoverInput) -> Result<SignedIn> {
        password::check_policy(&input.password, &[input.email.trim()])?;
        // A lapsed Owner (not the last) is deactivated before a recovery could revive them.
        self.end_access_of(&input.email)?;
        let key = throttle_key(&input.email);
        let counted = format!("{RECOVERY_THROTTLE}{key}");
        let write = self.unattended();
        let now = write.now;
        let user = self.store.user_by_email(&key)?.filter(|u| u.is_active_owner());
        let target = user.as_ref().map(|u| u.email.to_string()).unwrap_or_else(|| key.clone());
        let locked = self.store.throttle(&counted)?.minutes_locked(now).is_some();
        let judged = match &user {
            Some(user) if !locked => self.judge_recovery(user, &input, now)?,
            _ => None,
        };
        if judged == Some(None) {
            // The recovery code was right; the authenticator's code (or a second recovery
            // code) is still to come.
            return Err(Error::SecondFactorRequired);
        }
        let what = (AuditAction::RecoverAccount, " (recovery code)");
        match self.count_sign_in(&write, &counted, &target, judged.is_some(), what) {
            Ok(()) => {}
            Err(Error::WrongPassword) => return Err(Error::RecoveryCodeInvalid),
            Err(e) => return Err(e),
        }
        let (Some(mut user), Some(Some(second))) = (user, judged) else {
            return Err(Error::RecoveryCodeInvalid);
        };
        self.check_not_reused(&user, &input.password)?;
        let hash = password::hash(&input.password)?;
        take_recovery(&mut user, &input.code);
        let with = match (second, input.second_code.as_deref()) {
            (Used::Totp(step), _) => {
                set_last_step(&mut user, step);
                " and an authenticator code"
            }
            (Used::Recovery, Some(code)) if user.factors.totp.is_some() => {
                take_recovery(&mut user, code);
                " and a second recovery code"
            }
            _ => "",
        };
        user.set_password(hash, now);
        user.last_sign_in_at = Some(now);
        let summary = format!(
            "new password set with a recovery code{with}; lockout lifted; {} recovery codes left",
            recovery_left(&user)
        );
        let notice = RecoveryNotice {
            at: now,
            who: who(&user),
            what: "set a new password with a recovery code".into(),
        };
        write.commit(|tx| {
            tx.put_throttle(user.email.key(), &Default::default())?;
            tx.put_throttle(&counted, &Default::default())?;
            tx.put_user(&user)?;
            self.notify_owners(tx, user.id, &notice)?;
            tx.audit(own_event(&user, AuditAction::RecoverAccount, &summary), now).map(|_| ())
        })?;
        drop(write);
        self.sessions.end_all_of(user.id);
        let settings = self.store.organization()?.ok_or(Error::NotSetUp)?.settings;
        self.start_session(&user, gate_after_factor(&user, &settings, now))
    }

    /// `None`: the codes do not open the kit. `Some(None)`: the recovery code is right and a
    /// second code is needed but not given. `Some(Some(second))`: both hold; `second` is what
    /// the second code was (`Used::Recovery` standing for "no second code needed" too).
    fn judge_recovery(
        &self,
        user: &User,
        input: &RecoverInput,
        now: DateTime<Utc>,
    ) -> Result<Option<Option<Used>>> {
        let Some(set) = &user.factors.recovery else { return Ok(None) };
        if !recovery::looks_like_one(&input.code) || set.find(&input.code).is_none() {
            return Ok(None);
        }
        if user.factors.totp.is_none() {
            return Ok(Some(Some(Used::Recovery)));
        }
        let Some(second) = input.second_code.as_deref().filter(|c| !c.trim().is_empty()) else {
            return Ok(Some(None));
        };
        let judged = match self.judge_second_factor(user, second, now, Some(&input.code)) {
            Err(Error::SecondFactorUnreadable) => None,
            other => other?,
        };
        Ok(judged.map(Some))
    }

    /// Leaves `notice` for every Active Owner but `except`, in `tx`.
    fn notify_owners(
        &self,
        tx: &mut Tx<'_>,
        except: UserId,
        notice: &RecoveryNotice,
    ) -> crate::store::TxResult<()> {
        let owners = self.store.index().active_owner_ids();
        for id in owners.into_iter().filter(|id| *id != except) {
            if let Some(mut owner) = tx.user(id)? {
                owner.factors.notices.push(notice.clone());
                let over = owner.factors.notices.len().saturating_sub(NOTICES_KEPT);
                owner.factors.notices.drain(..over);
                tx.put_user(&owner)?;
            }
        }
        Ok(())
    }

    /// The notices waiting for `id`, now taken (shown once, at sign-in).
    pub(crate) fn take_notices(&self, id: UserId) -> Result<Vec<RecoveryNotice>> {
        if self.store.user(id)?.is_none_or(|u| u.factors.notices.is_empty()) {
            return Ok(Vec::new());
        }
        let write = self.unattended();
        let Some(mut user) = self.store.user(id)? else { return Ok(Vec::new()) };
        let notices = std::mem::take(&mut user.factors.notices);
        write.commit(|tx| tx.put_user(&user))?;
        Ok(notices)
    }
}

fn set_last_step(user: &mut User, step: u64) {
    if let Some(totp) = user.factors.totp.as_mut() {
        totp.last_step = Some(step);
    }
}

fn take_recovery(user: &mut User, code: &str) {
    if let Some(set) = user.factors.recovery.as_mut() {
        set.take(code);
    }
}

fn recovery_left(user: &User) -> usize {
    user.factors.recovery.as_ref().map_or(0, |r| r.left())
}

fn who(user: &User) -> String {
    format!("{} <{}>", user.shown_name(), user.email)
}

fn own_event(user: &User, action: AuditAction, summary: &str) -> AuditEntry {
    AuditEntry::success(AuditActor::User(user.id), action, user.email.as_str(), summary)
}
