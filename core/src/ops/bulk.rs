//! One action on several users at once (issue #17 item 7): each user decided by the ordinary
//! single-user operation, so each success and each refusal is audited exactly as if it had
//! been asked for on its own, and one refusal never stops the others.

use crate::auth::session::SessionId;
use crate::error::{Error, ErrorBody, Result};
use crate::model::{AuditAction, IssuedCode, RoleKey, UserId, UserStatus};
use crate::policy::Act;
use crate::Directory;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;

/// The most users one bulk request may name.
pub const MAX_BULK_USERS: usize = 10_000;

/// What to do to every user of a bulk request: the single-user operations' own inputs.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, specta::Type)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum BulkAction {
    /// [`Directory::deactivate_user`], with the same reason for everyone.
    Deactivate { reason: Option<String> },
    /// [`Directory::reactivate_user`].
    Reactivate,
    /// [`Directory::change_roles_approved`]: everyone gets exactly `roles`.
    ChangeRoles { roles: Vec<RoleKey>, approval: Option<String> },
    /// [`Directory::resend_invitation`]: each gets a new code, returned in their outcome.
    ResendInvitation,
    /// [`Directory::cancel_invitation`].
    CancelInvitation,
}

impl BulkAction {
    fn act(&self) -> Act {
        match self {
            BulkAction::Deactivate { .. } => Act::Deactivate,
            BulkAction::Reactivate => Act::Reactivate,
            BulkAction::ChangeRoles { .. } => Act::ChangeRoles,
            BulkAction::ResendInvitation => Act::ResendInvitation,
            BulkAction::CancelInvitation => Act::CancelInvitation,
        }
    }

    /// What is done, for the audit event of a refused request.
    fn verb(&self) -> &'static str {
        match self {
            BulkAction::Deactivate { .. } => "deactivate",
            BulkAction::Reactivate => "reactivate",
            BulkAction::ChangeRoles { .. } => "change the roles of",
            BulkAction::ResendInvitation => "resend the invitations of",
            BulkAction::CancelInvitation => "cancel the invitations of",
        }
    }

    fn audit_action(&self) -> AuditAction {
        match self {
            BulkAction::Deactivate { .. } => AuditAction::Deactivate,
            BulkAction::Reactivate => AuditAction::Reactivate,
            BulkAction::ChangeRoles { .. } => AuditAction::ChangeRoles,
            BulkAction::ResendInvitation => AuditAction::ResendInvitation,
            BulkAction::CancelInvitation => AuditAction::CancelInvitation,
        }
    }
}

/// One user's outcome in a bulk request, in the order asked (each user once).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum BulkOutcome {
    /// Done: `status` is where the user now stands (`null` after a cancelled invitation: they
    /// left the list); `issued` is a resent invitation's new code, shown this once.
    Done {
        user_id: UserId,
        email: String,
        name: String,
        status: Option<UserStatus>,
        issued: Option<IssuedCode>,
    },
    /// Refused (or failed) for this user alone, with the single operation's own error;
    /// `email` and `name` are absent for an id that names nobody.
    Refused { user_id: UserId, email: Option<String>, name: Option<String>, error: ErrorBody },
}

impl BulkOutcome {
    pub fn user_id(&self) -> UserId {
        match self {
            BulkOutcome::Done { user_id, .. } | BulkOutcome::Refused { user_id, .. } => *user_id,
        }
    }

    pub fn is_done(&self) -> bool {
        matches!(self, BulkOutcome::Done { .. })
    }
}

impl Directory {
    /// Does `action` to each of `users`, each through the single-user operation (so under the
    /// ordinary rules, each success and refusal audited as its own event) and reports every
    /// user's outcome; one refusal or failure never stops the others. Ids named twice are
    /// done once; the caller's own id goes last (a change of their own roles ends their
    /// session). The request as a whole is refused, and nothing changes, when the session is
    /// not live (`not_signed_in`, `session_expired`), when the caller lacks the action's
    /// permission entirely (`permission_denied`, audited once for the request), for
    /// `change_roles` with no or unknown roles (`no_roles`, `unknown_role`), or when it names
    /// more than [`MAX_BULK_USERS`] users (`too_many_users`).
    pub fn bulk_users(
        &self,
        session: SessionId,
        action: BulkAction,
        users: Vec<UserId>,
    ) -> Result<Vec<BulkOutcome>> {
        let act = action.act();
        let named = users.len();
        let me = self.changing(session, None, action.audit_action(), |change| {
            // Checked here rather than by `changing`, so that its refusal names the request.
            let needs = act.needs();
            let asked = format!("{} {named} users at once", action.verb());
            change.attempt(asked.as_str());
            if !change.actor.permissions.contains(&needs) {
                let letter = needs.action.letter().to_ascii_lowercase();
                change.attempt(format!("{asked}; needs {}:{letter}", needs.module.key()));
                return Err(Error::PermissionDenied);
            }
            if let BulkAction::ChangeRoles { roles, .. } = &action {
                self.checked_roles(roles)?;
            }
            if named > MAX_BULK_USERS {
                return Err(Error::TooManyUsers { max: MAX_BULK_USERS });
            }
            Ok(change.actor.user.id)
        })?;
        let mut seen = HashSet::with_capacity(named);
        let users: Vec<UserId> = users.into_iter().filter(|id| seen.insert(*id)).collect();
        // The caller's own change goes last (a change of their own roles ends their session);
        // every outcome is reported in the order asked.
        let mut outcomes: Vec<Option<BulkOutcome>> = vec![None; users.len()];
        let others = (0..users.len()).filter(|&i| users[i] != me);
        let mine = users.iter().position(|id| *id == me);
        for i in others.chain(mine) {
            outcomes[i] = Some(self.bulk_one(session, &action, users[i]));
        }
        let outcomes = outcomes.into_iter().flatten().collect();
        Ok(outcomes)
    }

    /// One user's outcome, through the single-user operation.
    fn bulk_one(&self, session: SessionId, action: &BulkAction, id: UserId) -> BulkOutcome {
        // Read before the change: a cancelled invitation leaves no user to name after it.
        let before = self.store.user(id).ok().flatten();
        let done = match action {
            BulkAction::Deactivate { reason } => {
                self.deactivate_user(session, id, reason.clone()).map(|v| (Some(v.status), None))
            }
            BulkAction::Reactivate => {
                self.reactivate_user(session, id).map(|v| (Some(v.status), None))
            }
            BulkAction::ChangeRoles { roles, approval } => self
                .change_roles_approved(session, id, roles.clone(), approval.clone())
                .map(|v| (Some(v.status), None)),
            BulkAction::ResendInvitation => self
                .resend_invitation(session, id)
                .map(|issued| (Some(UserStatus::Invited), Some(issued))),
            BulkAction::CancelInvitation => {
                self.cancel_invitation(session, id).map(|()| (None, None))
            }
        };
        match (done, before) {
            (Ok((status, issued)), Some(user)) => BulkOutcome::Done {
                user_id: id,
                email: user.email.to_string(),
                name: user.name,
                status,
                issued,
            },
            // Done to someone unreadable a moment before: not expected, named by id alone.
            (Ok((status, issued)), None) => BulkOutcome::Done {
                user_id: id,
                email: issued.as_ref().map(|i| i.email.clone()).unwrap_or_default(),
                name: String::new(),
                status,
                issued,
            },
            (Err(e), user) => BulkOutcome::Refused {
                user_id: id,
                email: user.as_ref().map(|u| u.email.to_string()),
                name: user.map(|u| u.name),
                error: e.to_body(),
            },
        }
    }
}
