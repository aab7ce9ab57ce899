//! The user commands that take one or more USERs: `users deactivate`, `reactivate`, `roles`,
//! `resend` and `cancel`. One USER runs the single-user command and prints what it always
//! printed; several run core's bulk action, which decides each user under the ordinary rules
//! and reports each one's outcome (exit 1 when any was refused).

use crate::args::UsersCommand;
use crate::governance::grant_refused;
use crate::output::Out;
use crate::print::say;
use crate::{Failure, Outcome};
use gatehouse_core::model::{IssuedCode, RoleKey, UserId, UserStatus};
use gatehouse_core::{wire_name, BulkAction, BulkOutcome, Directory, Error, ErrorCode, SessionId};
use serde_json::{json, Value};
use std::collections::{HashMap, HashSet};

/// Runs one of the commands this file handles; other commands are not its business.
pub fn users(out: &Out, dir: &Directory, s: SessionId, command: &UsersCommand) -> Outcome {
    let (users, action) = match command {
        UsersCommand::Deactivate { users, reason } => {
            (users, BulkAction::Deactivate { reason: reason.clone() })
        }
        UsersCommand::Reactivate { users } => (users, BulkAction::Reactivate),
        UsersCommand::Roles { users, roles, approval } => {
            (users, BulkAction::ChangeRoles { roles: roles.clone(), approval: approval.clone() })
        }
        UsersCommand::Resend { users } => (users, BulkAction::ResendInvitation),
        UsersCommand::Cancel { users } => (users, BulkAction::CancelInvitation),
        _ => return Ok(()),
    };
    match users.as_slice() {
        [one] => single(out, dir, s, one, action),
        several => bulk(out, dir, s, several, action),
    }
}

/// One USER: the single-user command, its output unchanged.
fn single(out: &Out, dir: &Directory, s: SessionId, user: &str, action: BulkAction) -> Outcome {
    let id = dir.find_user_for(s, user)?.id;
    match action {
        BulkAction::Deactivate { reason } => {
            let view = dir.deactivate_user(s, id, reason)?;
            out.done(&format!("{} is deactivated; their history is kept.", view.email), &view);
        }
        BulkAction::Reactivate => {
            let view = dir.reactivate_user(s, id)?;
            out.done(&format!("{} is active again.", view.email), &view);
        }
        BulkAction::ChangeRoles { roles, approval } => {
            let view = dir.change_roles_approved(s, id, roles, approval).map_err(grant_refused)?;
            out.done(&format!("{} now holds {}.", view.email, view.roles.join(", ")), &view);
        }
        BulkAction::ResendInvitation => out.code(&dir.resend_invitation(s, id)?),
        BulkAction::CancelInvitation => {
            dir.cancel_invitation(s, id)?;
            out.done(&format!("The invitation for {user} is cancelled."), &json!({ "id": id }));
        }
    }
    Ok(())
}

/// Several USERs: each one's outcome, in the order given (a user named twice, once).
/// JSON: an array of core's outcomes, each with `user`, the USER as given.
fn bulk(out: &Out, dir: &Directory, s: SessionId, users: &[String], action: BulkAction) -> Outcome {
    // A USER that names nobody is that user's refusal; any other failure (no session, no
    // users:read) is every user's, and so the command's.
    let mut named: Vec<(&str, Result<UserId, Error>)> = Vec::with_capacity(users.len());
    for text in users {
        match dir.find_user_for(s, text) {
            Ok(user) => named.push((text, Ok(user.id))),
            Err(e) if e.code() == ErrorCode::UserNotFound => named.push((text, Err(e))),
            Err(e) => return Err(e.into()),
        }
    }
    let ids = named.iter().filter_map(|(_, id)| id.as_ref().ok().copied()).collect();
    let roles = match &action {
        BulkAction::ChangeRoles { roles, .. } => roles.clone(),
        _ => Vec::new(),
    };
    let outcomes = dir.bulk_users(s, action, ids).map_err(grant_refused)?;
    let issued: Vec<IssuedCode> = outcomes
        .iter()
        .filter_map(|o| match o {
            BulkOutcome::Done { issued, .. } => issued.clone(),
            BulkOutcome::Refused { .. } => None,
        })
        .collect();
    let mut by_id: HashMap<UserId, BulkOutcome> =
        outcomes.into_iter().map(|o| (o.user_id(), o)).collect();
    let mut reported = HashSet::new();
    let mut rows: Vec<Value> = Vec::new();
    let mut refused = false;
    for (text, id) in named {
        let row = match id {
            Ok(id) if !reported.insert(id) => continue,
            Ok(id) => match by_id.remove(&id) {
                Some(outcome) => outcome_row(text, &outcome, &roles, out.json),
                None => continue,
            },
            Err(e) => {
                let error = e.to_body();
                if !out.json {
                    eprintln!(
                        "refused {text}  error[{}]: {}",
                        wire_name(&error.code),
                        error.message
                    );
                }
                json!({
                    "user": text, "outcome": "refused", "user_id": null, "email": null,
                    "name": null, "error": error,
                })
            }
        };
        refused |= row["outcome"] == "refused";
        rows.push(row);
    }
    if out.json {
        crate::output::print_json(&rows);
    } else {
        crate::output::kept_note(issued.iter());
    }
    if refused {
        return Err(Failure::Quiet);
    }
    Ok(())
}

/// One user's outcome: printed as a line (unless `json`) and returned as its JSON row.
fn outcome_row(text: &str, outcome: &BulkOutcome, roles: &[RoleKey], json: bool) -> Value {
    let mut row = serde_json::to_value(outcome).unwrap_or_default();
    if let Some(fields) = row.as_object_mut() {
        fields.insert("user".into(), text.into());
    }
    if json {
        return row;
    }
    match outcome {
        BulkOutcome::Refused { email, error, .. } => eprintln!(
            "refused {}  error[{}]: {}",
            email.as_deref().unwrap_or(text),
            wire_name(&error.code),
            error.message
        ),
        BulkOutcome::Done { email, issued: Some(issued), .. } => say!(
            "{email}  code {}  expires {}",
            issued.code,
            issued.expires_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        ),
        BulkOutcome::Done { email, status, .. } => match status {
            None => say!("The invitation for {email} is cancelled."),
            Some(_) if !roles.is_empty() => say!("{email} now holds {}.", roles.join(", ")),
            Some(UserStatus::Inactive) => say!("{email} is deactivated; their history is kept."),
            Some(_) => say!("{email} is active again."),
        },
    }
    row
}
