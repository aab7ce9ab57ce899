//! Access reviews (`review …`, PCI DSS v4 7.2.4): start, decide, apply, sign off, read and
//! report, each through core's rules.

use crate::args::{ReviewCommand, ReviewDecision};
use crate::output::Out;
use crate::print::say;
use crate::Outcome;
use gatehouse_core::model::{
    Decision, DecisionInput, EntryOutcome, Review, ReviewEntry, ReviewId, ReviewList,
};
use gatehouse_core::{Directory, Error, SessionId};

pub fn review(out: &Out, dir: &Directory, s: SessionId, command: &ReviewCommand) -> Outcome {
    match command {
        ReviewCommand::Start => {
            let review = dir.start_review(s)?;
            let id = review.header.id;
            if out.json {
                crate::output::print_json(&review);
            } else {
                say!("{id}");
                eprintln!(
                    "Started {} of {} users. Decide each with `gatehouse review decide {id} USER \
                     keep|deactivate|roles --role R…`.",
                    review.header.title(),
                    review.entries.len()
                );
            }
        }
        ReviewCommand::Decide { id, user, decision, role, note } => {
            let id = review_id(id)?;
            let target = dir.find_user_for(s, user)?.id;
            let decision = match decision {
                ReviewDecision::Keep => Decision::Keep,
                ReviewDecision::Deactivate => Decision::Deactivate,
                ReviewDecision::Roles => Decision::ChangeRoles { roles: role.clone() },
            };
            let input = DecisionInput { user: target, decision, note: note.clone() };
            let entry = dir.decide_review(s, id, input)?;
            out.done(
                &format!("{}: {}.", entry.user.email, decision_text(entry.decision.as_ref())),
                &entry,
            );
        }
        ReviewCommand::Apply { id } => {
            let review = dir.apply_review(s, review_id(id)?)?;
            let refused = review
                .entries
                .iter()
                .filter(|e| matches!(e.outcome, Some(EntryOutcome::Refused { .. })))
                .count();
            if out.json {
                crate::output::print_json(&review);
            } else {
                print_entries(&review);
                say!("Applied the decisions of {}; {refused} refused.", review.header.title());
            }
        }
        ReviewCommand::SignOff { id } => {
            let review = dir.sign_off_review(s, review_id(id)?)?;
            let sentence = match &review.header.signed_off {
                Some(signed) => format!(
                    "{} is signed off by {} at {}. Audit chain head: #{} {}.",
                    review.header.title(),
                    signed.by.email,
                    signed.at.to_rfc3339(),
                    signed.chain_head.seq,
                    signed.chain_head.hash
                ),
                None => format!("{} is signed off.", review.header.title()),
            };
            out.done(&sentence, &review);
        }
        ReviewCommand::Show { id } => {
            let review = dir.review(s, review_id(id)?)?;
            if out.json {
                crate::output::print_json(&show_json(&review));
            } else {
                say!(
                    "{} started {} by {}",
                    review.header.title(),
                    review.header.started_at.to_rfc3339(),
                    review.header.started_by.email
                );
                print_entries(&review);
            }
        }
        ReviewCommand::Report { id, file } => {
            let id = review_id(id)?;
            let csv = match file.extension().and_then(|e| e.to_str()) {
                Some(ext)
                    if ext.eq_ignore_ascii_case("html") || ext.eq_ignore_ascii_case("htm") =>
                {
                    dir.review_report_html(s, id)?
                }
                _ => dir.review_report_csv(s, id)?,
            };
            crate::write_file(file, csv.as_bytes())?;
            out.done(
                &format!("Wrote the report to {}.", file.display()),
                &serde_json::json!({ "file": file.display().to_string() }),
            );
        }
        ReviewCommand::List => {
            let list = dir.reviews(s)?;
            if out.json {
                crate::output::print_json(&list);
            } else {
                print_list(&list);
            }
        }
    }
    Ok(())
}

/// `review show --json`: the review, each user with their `decision` (a word, or null), the
/// roles a change-roles decision gives, and the outcome.
fn show_json(review: &Review) -> serde_json::Value {
    let users: Vec<serde_json::Value> = review
        .entries
        .iter()
        .map(|e| {
            serde_json::json!({
                "id": e.user.id,
                "email": e.user.email,
                "name": e.user.name,
                "status": e.user.status,
                "roles": e.user.roles,
                "last_sign_in_at": e.user.last_sign_in_at,
                "access_until": e.user.access_until,
                "days_since_sign_in": e.user.days_since_sign_in,
                "holds_delete": e.user.holds_delete,
                "approval": e.user.approval,
                "decision": e.decision.as_ref().map(decision_word),
                "new_roles": match &e.decision { Some(Decision::ChangeRoles { roles }) => Some(roles), _ => None },
                "note": e.note,
                "outcome": e.outcome,
                "may": e.options,
            })
        })
        .collect();
    serde_json::json!({
        "id": review.header.id,
        "number": review.header.number,
        "started_at": review.header.started_at,
        "started_by": review.header.started_by,
        "applied_at": review.header.applied_at,
        "signed_off": review.header.signed_off,
        "users": users,
    })
}

fn review_id(text: &str) -> Result<ReviewId, Error> {
    uuid::Uuid::parse_str(text.trim()).map_err(|_| Error::ReviewNotFound)
}

fn decision_word(d: &Decision) -> &'static str {
    match d {
        Decision::Keep => "keep",
        Decision::ChangeRoles { .. } => "roles",
        Decision::Deactivate => "deactivate",
    }
}

fn decision_text(d: Option<&Decision>) -> String {
    match d {
        None => "undecided".into(),
        Some(Decision::Keep) => "keep".into(),
        Some(Decision::Deactivate) => "deactivate".into(),
        Some(Decision::ChangeRoles { roles }) => format!("roles → {}", roles.join(", ")),
    }
}

fn outcome_text(e: &ReviewEntry) -> String {
    match &e.outcome {
        None => String::new(),
        Some(EntryOutcome::Applied) => "applied".into(),
        Some(EntryOutcome::Unchanged) => "unchanged".into(),
        Some(EntryOutcome::NoLongerEligible) => "no longer eligible".into(),
        Some(EntryOutcome::Refused { error }) => format!("refused: {}", error.message),
    }
}

fn print_entries(review: &Review) {
    for e in &review.entries {
        let note = e.note.as_deref().map(|n| format!("  “{n}”")).unwrap_or_default();
        say!(
            "{:<32} {:<9} {:<28} {:<24} {}{note}",
            e.user.email,
            format!("{:?}", e.user.status).to_lowercase(),
            e.user.roles.join(","),
            decision_text(e.decision.as_ref()),
            outcome_text(e)
        );
    }
}

fn print_list(list: &ReviewList) {
    for r in &list.reviews {
        let state = match &r.signed_off {
            Some(s) => format!("signed off {} by {}", s.at.date_naive(), s.by.email),
            None => format!("{} of {} decided", r.decided, r.users),
        };
        say!(
            "#{:<3} {}  started {} by {}  {state}",
            r.number,
            r.id,
            r.started_at.date_naive(),
            r.started_by.email
        );
    }
    let when = list.next_due_at.date_naive();
    let note = if list.overdue {
        " (overdue)"
    } else if list.due_soon {
        " (due soon)"
    } else {
        ""
    };
    say!("Next review due {when}{note}.");
}
