//! Access governance on the command line (domain.md, "Access governance"): end dates,
//! approval references and "who can do X". The rules are core's; this file reads dates and
//! permission names as a script writes them.

use crate::output::Out;
use crate::{parse_key, write_file, Failure, Outcome};
use chrono::NaiveDate;
use gatehouse_core::model::{Action, Module, UserId};
use gatehouse_core::{Directory, Error, ErrorBody, ErrorCode, SessionId};
use std::path::Path;

/// An end date as typed: `YYYY-MM-DD`, or `never` for none. Anything else is `invalid_date`
/// (a refusal, as core's own for a date in the past).
pub fn end_date(text: &str) -> Result<Option<NaiveDate>, Failure> {
    let text = text.trim();
    if text.eq_ignore_ascii_case("never") {
        return Ok(None);
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d").map(Some).map_err(|_| {
        Failure::Refused(ErrorBody::new(
            ErrorCode::InvalidDate,
            format!("“{text}” is not a date: write it as YYYY-MM-DD (e.g. 2027-01-31), or never."),
        ))
    })
}

/// Core's refusal of a grant; `approval_required` also says how to give the reference here.
pub fn grant_refused(error: Error) -> Failure {
    match error {
        Error::ApprovalRequired(_) => crate::session::hinted(
            error,
            "Give it with --approval \"TEXT\" (who approved it, and the ticket or email).",
        ),
        other => Failure::from(other),
    }
}

/// `users access-until USER DATE|never`, the date read by [`end_date`].
pub fn access_until(
    out: &Out,
    dir: &Directory,
    s: SessionId,
    user: UserId,
    until: Option<NaiveDate>,
) -> Outcome {
    let view = dir.set_access_until(s, user, until)?;
    let sentence = match view.access_until {
        Some(date) => format!("The access of {} ends on {date}.", view.email),
        None => format!("The access of {} has no end date.", view.email),
    };
    out.done(&sentence, &view);
    Ok(())
}

/// An action by name (`delete`) or by its letter in the permission table (`d`).
fn action(text: &str) -> Result<Action, Failure> {
    let mut letters = text.trim().chars();
    match (letters.next(), letters.next()) {
        (Some(letter), None) => Action::from_letter(letter).ok_or_else(|| {
            Failure::Usage(format!(
                "{text:?} is not an action: write create, read, update or delete (or c, r, u, d)"
            ))
        }),
        _ => parse_key(text, "action (create, read, update or delete)"),
    }
}

/// `who-can MODULE ACTION [--csv FILE]`: the answer printed, or written to FILE as CSV.
pub fn who_can(
    out: &Out,
    dir: &Directory,
    s: SessionId,
    module: &str,
    action_text: &str,
    csv: Option<&Path>,
) -> Outcome {
    let module: Module =
        parse_key(module, "module (a key of the permission table, e.g. transactions)")?;
    let action = action(action_text)?;
    match csv {
        Some(file) => {
            let text = dir.who_can_csv(s, module, action)?;
            write_file(file, text.as_bytes())?;
            out.done(&format!("Wrote {}.", file.display()), &serde_json::json!({ "file": file }));
        }
        None => out.who_can(&dir.who_can(s, module, action)?),
    }
    Ok(())
}
