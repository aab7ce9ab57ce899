//! Bulk invitation from CSV (columns email, name, roles separated by `;`) and the users
//! export. A dry run judges every row exactly as the real run would, and changes nothing.

use crate::auth::session::SessionId;
use crate::change::Change;
use crate::csv_io;
use crate::error::{Error, ErrorBody, Result};
use crate::model::email::clean_name;
use crate::model::{Action, AuditAction, Email, IssuedCode, Module, Permission, UserStatus};
use crate::ops::governance::approval_for;
use crate::ops::invite::Terms;
use crate::ops::Invitee;
use crate::policy::{self, Act, Party};
use crate::Directory;
use serde::Serialize;
use std::collections::HashSet;

/// What happens (or would happen) to one row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum ImportOutcome {
    /// Invited (or, in a dry run, would be).
    Invite,
    /// The email belongs to a user already (active, inactive or with a pending invitation).
    AlreadyUser,
    /// The email appeared on an earlier row (compared ignoring case).
    Duplicate,
    BadEmail,
    BadName,
    /// No roles, or a role that does not exist.
    UnknownRole,
    /// The importer may not grant these roles (Owner, or permissions they lack).
    NotAllowed,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
pub struct ImportRow {
    /// The row's line in the file (the header is line 1).
    pub line: u32,
    pub email: String,
    pub outcome: ImportOutcome,
    /// Why a row is not invited; empty for invited rows.
    pub message: String,
    /// The stable code of that reason (e.g. `approval_required`), for the UI to place it.
    pub code: Option<crate::error::ErrorCode>,
    /// The code of an invited row (real runs only), shown once.
    pub issued: Option<IssuedCode>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
pub struct ImportReport {
    pub dry_run: bool,
    pub rows: Vec<ImportRow>,
    /// Rows invited (or, in a dry run, that would be).
    pub invited: u32,
    pub skipped: u32,
}

/// Who grants the rows' roles, under which settings, with which approval reference.
#[derive(Clone, Copy)]
struct Grantor<'a> {
    actor: &'a crate::Actor,
    settings: &'a crate::model::Settings,
    approval: Option<&'a str>,
    now: chrono::DateTime<chrono::Utc>,
}

impl Directory {
    /// Invites the valid rows of a CSV file and reports every row, each grant carrying
    /// `approval` (a row whose roles the settings say need one is refused without it,
    /// `approval_required`). Needs `users:create`.
    /// Errors for the file as a whole: `invalid_file` (not UTF-8, no header with an `email`
    /// column), `permission_denied`. `progress` hears (rows done, rows in all) now and then.
    pub fn import_users_csv(
        &self,
        session: SessionId,
        bytes: &[u8],
        dry_run: bool,
        approval: Option<String>,
        mut progress: impl FnMut(u32, u32),
    ) -> Result<ImportReport> {
        let needs = Permission { module: Module::Users, action: Action::Create };
        self.changing(session, Some(needs), AuditAction::ImportUsers, |change| {
            change.attempt(if dry_run { "check a CSV file" } else { "invite from a CSV file" });
            self.import_rows(change, bytes, dry_run, approval.as_deref(), &mut progress)
        })
    }

    fn import_rows(
        &self,
        change: &mut Change<'_>,
        bytes: &[u8],
        dry_run: bool,
        approval: Option<&str>,
        progress: &mut impl FnMut(u32, u32),
    ) -> Result<ImportReport> {
        let settings = self.store.organization()?.ok_or(Error::NotSetUp)?.settings;
        let table = csv_io::read(bytes)?;
        let email_col = table.column("email").ok_or_else(|| {
            Error::InvalidFile(
                "The first row must name the columns: email, name and roles (separated by “;”)."
                    .into(),
            )
        })?;
        let (name_col, roles_col) = (table.column("name"), table.column("roles"));
        let cell = |record: &[String], col: Option<usize>| {
            col.and_then(|c| record.get(c)).map(|v| v.trim().to_string()).unwrap_or_default()
        };
        let now = change.now();
        let mut seen = HashSet::new();
        let mut rows = Vec::with_capacity(table.records.len());
        let total = table.records.len() as u32;
        for (i, (line, record)) in table.records.iter().enumerate() {
            if i % 100 == 0 {
                progress(i as u32, total);
            }
            let raw_email = cell(record, Some(email_col));
            let judged = self.judge_row(
                &Grantor { actor: &change.actor, settings: &settings, approval, now },
                &raw_email,
                &cell(record, name_col),
                &cell(record, roles_col),
                &mut seen,
            );
            let row = match judged {
                Err((outcome, e)) => {
                    // A row refused by the rules is a refused attempt: audited in a real run.
                    let e = if !dry_run && e.is_policy_refusal() {
                        change
                            .set_action(AuditAction::Invite)
                            .target(raw_email.as_str())
                            .attempt("invite from a CSV file");
                        change.refuse(e)
                    } else {
                        e
                    };
                    ImportRow {
                        line: *line,
                        email: raw_email,
                        outcome,
                        message: e.to_string(),
                        code: Some(e.code()),
                        issued: None,
                    }
                }
                Ok((invitee, roles, terms)) if !dry_run => {
                    match self.invite_one(change, &invitee, &roles, &terms) {
                        Ok(issued) => ImportRow {
                            line: *line,
                            email: issued.email.clone(),
                            outcome: ImportOutcome::Invite,
                            message: String::new(),
                            code: None,
                            issued: Some(issued),
                        },
                        Err(e) => ImportRow {
                            line: *line,
                            email: raw_email,
                            outcome: outcome_of(&e.to_body()),
                            message: e.to_string(),
                            code: Some(e.code()),
                            issued: None,
                        },
                    }
                }
                Ok((invitee, _, _)) => ImportRow {
                    line: *line,
                    email: invitee.email,
                    outcome: ImportOutcome::Invite,
                    message: String::new(),
                    code: None,
                    issued: None,
                },
            };
            rows.push(row);
        }
        progress(total, total);
        let invited = rows.iter().filter(|r| r.outcome == ImportOutcome::Invite).count() as u32;
        let skipped = rows.len() as u32 - invited;
        if !dry_run {
            let summary = format!("{invited} invited, {skipped} skipped");
            change.set_action(AuditAction::ImportUsers).target("");
            change.commit(&summary, |_| Ok(()))?;
        }
        Ok(ImportReport { dry_run, rows, invited, skipped })
    }

    /// One row's checks, in the order a person fixes them; `Ok` is ready to invite.
    fn judge_row(
        &self,
        grantor: &Grantor<'_>,
        email: &str,
        name: &str,
        roles: &str,
        seen: &mut HashSet<String>,
    ) -> std::result::Result<(Invitee, Vec<String>, Terms), (ImportOutcome, Error)> {
        let Grantor { actor, settings, approval, now } = *grantor;
        let parsed = Email::parse(email).map_err(|e| (ImportOutcome::BadEmail, e))?;
        if !seen.insert(parsed.key().to_string()) {
            let e = Error::InvalidFile(format!("{email} is on an earlier row of the file."));
            return Err((ImportOutcome::Duplicate, e));
        }
        if !name.is_empty() {
            clean_name(name, "The name").map_err(|e| (ImportOutcome::BadName, e))?;
        }
        let keys: Vec<String> =
            roles.split(';').map(str::trim).filter(|r| !r.is_empty()).map(str::to_string).collect();
        let roles = self.checked_roles(&keys).map_err(|e| (ImportOutcome::UnknownRole, e))?;
        let granted =
            self.permissions_of_roles(&roles).map_err(|e| (ImportOutcome::UnknownRole, e))?;
        let party = Party { user: &actor.user, permissions: &actor.permissions };
        policy::may_grant(party, &roles, &granted).map_err(|e| (ImportOutcome::NotAllowed, e))?;
        let approval =
            approval_for(settings, &roles, approval).map_err(|e| (ImportOutcome::NotAllowed, e))?;
        let terms = Terms { approval, access_until: None };
        let existing =
            self.store.user_by_email(parsed.key()).map_err(|e| (ImportOutcome::AlreadyUser, e))?;
        if let Some(user) = existing {
            let refusal = match user.status {
                UserStatus::Active => Some(Error::EmailTaken(user.email.to_string())),
                UserStatus::Inactive => Some(Error::EmailInactive(user.email.to_string())),
                UserStatus::Invited => match self.current_invitation(&user) {
                    Ok(Some(inv)) if !inv.is_expired(now) => {
                        Some(Error::AlreadyInvited(user.email.to_string()))
                    }
                    // An expired invitation is replaced, as in the app: an act on its person.
                    _ => {
                        self.judge(actor, &user, Act::ResendInvitation)
                            .map_err(|e| (ImportOutcome::NotAllowed, e))?;
                        None
                    }
                },
            };
            if let Some(e) = refusal {
                return Err((ImportOutcome::AlreadyUser, e));
            }
        }
        let name = (!name.is_empty()).then(|| name.to_string());
        Ok((Invitee { email: parsed.as_str().to_string(), name }, roles, terms))
    }

    /// Every user as CSV, by name: email, name, status, roles (`;`-separated keys), invitation
    /// expiry, last sign-in, created. Needs `users:read`.
    pub fn users_csv(&self, session: SessionId) -> Result<String> {
        let needs = Permission { module: Module::Users, action: Action::Read };
        let csv = self.changing(session, Some(needs), AuditAction::ExportUsers, |change| {
            change.attempt("export the users as CSV");
            let csv = self.users_csv_text()?;
            let rows = csv.lines().count().saturating_sub(1);
            change.commit(&format!("{rows} users exported as CSV"), |_| Ok(()))?;
            Ok(csv)
        })?;
        Ok(csv)
    }

    fn users_csv_text(&self) -> Result<String> {
        let mut out = csv_io::line(&[
            "email",
            "name",
            "status",
            "roles",
            "invitation_expires_at",
            "last_sign_in_at",
            "created_at",
        ]);
        let time = |t: Option<chrono::DateTime<chrono::Utc>>| {
            t.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)).unwrap_or_default()
        };
        for user in self.users_by_name()? {
            let status = match (user.status, &user.invitation) {
                (UserStatus::Active, _) => "active",
                (UserStatus::Inactive, _) => "inactive",
                (UserStatus::Invited, Some(i)) if i.expired => "invited (expired)",
                (UserStatus::Invited, _) => "invited",
            };
            out.push_str(&csv_io::line(&[
                &user.email,
                &user.name,
                status,
                &user.roles.join(";"),
                &time(user.invitation.as_ref().map(|i| i.expires_at)),
                &time(user.last_sign_in_at),
                &time(Some(user.created_at)),
            ]));
        }
        Ok(out)
    }
}

/// The row outcome for a refusal met while inviting (after the dry-run checks passed).
fn outcome_of(error: &ErrorBody) -> ImportOutcome {
    use crate::ErrorCode as C;
    match error.code {
        C::InvalidEmail => ImportOutcome::BadEmail,
        C::InvalidName => ImportOutcome::BadName,
        C::EmailTaken | C::EmailInactive | C::AlreadyInvited => ImportOutcome::AlreadyUser,
        C::UnknownRole | C::NoRoles => ImportOutcome::UnknownRole,
        _ => ImportOutcome::NotAllowed,
    }
}
