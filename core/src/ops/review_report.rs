//! An access review as a file to keep: CSV for a spreadsheet, HTML to print to PDF. Both name
//! the organization, the reviewers, the dates, every user with their decision and its outcome,
//! and the audit chain's head; an unsigned review's report says "DRAFT — not signed off".

use super::review::describe;
use crate::auth::session::SessionId;
use crate::csv_io;
use crate::error::{Error, Result};
use crate::mail::letter::esc;
use crate::model::review::{ChainHead, Decision, EntryOutcome, Review, ReviewId, Reviewer};
use crate::model::UserStatus;
use crate::Directory;
use chrono::{DateTime, SecondsFormat, Utc};

const DRAFT: &str = "DRAFT — not signed off";

/// What both reports show, in words.
struct Report {
    organization: String,
    review: Review,
    /// The signed head, or (for a draft) the head as the report was made.
    chain_head: ChainHead,
    rows: Vec<Row>,
}

/// One user's line, every cell text.
struct Row {
    name: String,
    email: String,
    status: &'static str,
    roles: String,
    /// The approval reference of the latest grant (8.2.4).
    approval: String,
    last_sign_in: String,
    access_until: String,
    decision: String,
    note: String,
    decided_by: String,
    outcome: String,
}

fn time(at: Option<DateTime<Utc>>) -> String {
    at.map(|t| t.to_rfc3339_opts(SecondsFormat::Secs, true)).unwrap_or_default()
}

fn person(who: Option<&Reviewer>) -> String {
    who.map(|r| match r.name.trim() {
        "" => r.email.clone(),
        name => format!("{name} <{}>", r.email),
    })
    .unwrap_or_default()
}

fn status(s: UserStatus) -> &'static str {
    match s {
        UserStatus::Active => "Active",
        UserStatus::Inactive => "Inactive",
        UserStatus::Invited => "Invited",
    }
}

fn outcome(o: Option<&EntryOutcome>) -> String {
    match o {
        None => "not applied".to_string(),
        Some(EntryOutcome::Applied) => "applied".to_string(),
        Some(EntryOutcome::Unchanged) => "unchanged".to_string(),
        Some(EntryOutcome::Refused { error }) => format!("refused: {}", error.message),
        Some(EntryOutcome::NoLongerEligible) => "user no longer eligible".to_string(),
    }
}

impl Report {
    fn status(&self) -> String {
        match &self.review.header.signed_off {
            Some(s) => format!("Signed off by {} at {}", person(Some(&s.by)), time(Some(s.at))),
            None => DRAFT.to_string(),
        }
    }

    fn head_label(&self) -> &'static str {
        match self.review.header.signed_off {
            Some(_) => "Audit chain head at sign-off",
            None => "Audit chain head when this draft was made",
        }
    }

    /// The key, value pairs above the table.
    fn facts(&self) -> Vec<(&'static str, String)> {
        let h = &self.review.header;
        let signed = h.signed_off.as_ref();
        vec![
            ("Report", format!("Access review #{} (PCI DSS v4 7.2.4)", h.number)),
            ("Organization", self.organization.clone()),
            ("Status", self.status()),
            ("Review id", h.id.to_string()),
            ("Started at", time(Some(h.started_at))),
            ("Started by", person(Some(&h.started_by))),
            ("Applied at", time(h.applied_at)),
            ("Applied by", person(h.applied_by.as_ref())),
            ("Signed off at", time(signed.map(|s| s.at))),
            ("Signed off by", person(signed.map(|s| &s.by))),
            (self.head_label(), format!("#{} {}", self.chain_head.seq, self.chain_head.hash)),
            ("Users", self.rows.len().to_string()),
        ]
    }
}

const COLUMNS: [&str; 11] = [
    "Name",
    "Email",
    "Status",
    "Roles",
    "Approved by",
    "Last sign-in",
    "Access until",
    "Decision",
    "Note",
    "Decided by",
    "Outcome",
];

impl Row {
    fn cells(&self) -> [&str; 11] {
        [
            &self.name,
            &self.email,
            self.status,
            &self.roles,
            &self.approval,
            &self.last_sign_in,
            &self.access_until,
            &self.decision,
            &self.note,
            &self.decided_by,
            &self.outcome,
        ]
    }
}

impl Directory {
    /// The review as CSV (UTF-8 with a byte-order mark, CRLF lines, RFC 4180 quoting, cells
    /// that a spreadsheet would run as a formula prefixed with `'`): first `key,value` rows
    /// (report, organization, status, review id, started/applied/signed at and by, the audit
    /// chain head, users), one empty row, then a table with one header row and one row per
    /// user: name, email, status, roles, the approval of their latest grant, last sign-in,
    /// access until (as snapshotted), the decision, note, who decided and when, and the
    /// outcome. Times are RFC 3339 UTC.
    /// Needs `users:read` and `audit:read`. Errors: `permission_denied`, `review_not_found`.
    pub fn review_report_csv(&self, session: SessionId, review: ReviewId) -> Result<String> {
        let report = self.report(session, review)?;
        let mut csv = String::from("\u{feff}");
        for (key, value) in report.facts() {
            csv.push_str(&csv_io::line(&[key, &value]));
        }
        csv.push_str("\r\n");
        csv.push_str(&csv_io::line(&COLUMNS));
        for row in &report.rows {
            csv.push_str(&csv_io::line(&row.cells()));
        }
        Ok(csv)
    }

    /// The review as a self-contained HTML page to print or save as PDF: inline CSS, A4, the
    /// table's header repeated on every page, no scripts, no remote resources, every text
    /// escaped. Same content as [`Directory::review_report_csv`]. Needs `users:read` and
    /// `audit:read`. Errors: `permission_denied`, `review_not_found`.
    pub fn review_report_html(&self, session: SessionId, review: ReviewId) -> Result<String> {
        let report = self.report(session, review)?;
        let h = &report.review.header;
        let title = format!("Access review #{} — {}", h.number, report.organization);
        let mut out = String::with_capacity(4096 + report.rows.len() * 400);
        out.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
        out.push_str("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n");
        out.push_str(&format!(
            "<title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n",
            esc(&title)
        ));
        if h.signed_off.is_none() {
            out.push_str(&format!("<p class=\"draft\">{}</p>\n", esc(DRAFT)));
        }
        out.push_str(&format!("<h1>{}</h1>\n<table class=\"facts\">\n", esc(&title)));
        for (key, value) in report.facts() {
            out.push_str(&format!("<tr><th>{}</th><td>{}</td></tr>\n", esc(key), esc(&value)));
        }
        out.push_str("</table>\n<table class=\"users\">\n<thead><tr>");
        for column in COLUMNS {
            out.push_str(&format!("<th>{}</th>", esc(column)));
        }
        out.push_str("</tr></thead>\n<tbody>\n");
        for row in &report.rows {
            out.push_str("<tr>");
            for cell in row.cells() {
                out.push_str(&format!("<td>{}</td>", esc(cell)));
            }
            out.push_str("</tr>\n");
        }
        out.push_str("</tbody>\n</table>\n");
        out.push_str(&format!(
            "<p class=\"foot\">{}: #{} {}. Hold it against the audit log with “verify”.</p>\n",
            esc(report.head_label()),
            report.chain_head.seq,
            esc(&report.chain_head.hash)
        ));
        out.push_str("</body>\n</html>\n");
        Ok(out)
    }

    fn report(&self, session: SessionId, review: ReviewId) -> Result<Report> {
        let mut full = self.review(session, review)?;
        for entry in &mut full.entries {
            entry.options.clear();
        }
        let organization = self.store.organization()?.ok_or(Error::NotSetUp)?.name;
        let chain_head = match &full.header.signed_off {
            Some(s) => s.chain_head.clone(),
            None => {
                let (seq, hash) = self.store.audit_head()?;
                ChainHead { seq, hash }
            }
        };
        let mut rows = Vec::with_capacity(full.entries.len());
        for e in &full.entries {
            let decision = match &e.decision {
                None => "not decided".to_string(),
                Some(Decision::ChangeRoles { roles }) => {
                    format!("change roles → {}", self.role_names(roles)?.join(", "))
                }
                Some(d) => describe(d),
            };
            let decided_by = match (&e.decided_by, e.decided_at) {
                (Some(by), at) => format!("{} at {}", person(Some(by)), time(at)),
                _ => String::new(),
            };
            rows.push(Row {
                name: e.user.name.clone(),
                email: e.user.email.clone(),
                status: status(e.user.status),
                roles: self.role_names(&e.user.roles)?.join(", "),
                approval: e.user.approval.clone().unwrap_or_default(),
                last_sign_in: match e.user.last_sign_in_at {
                    Some(at) => time(Some(at)),
                    None => "never".to_string(),
                },
                access_until: e.user.access_until.map(|d| d.to_string()).unwrap_or_default(),
                decision,
                note: e.note.clone().unwrap_or_default(),
                decided_by,
                outcome: match e.decision {
                    None => String::new(),
                    Some(_) => outcome(e.outcome.as_ref()),
                },
            });
        }
        Ok(Report { organization, review: full, chain_head, rows })
    }
}

const STYLE: &str = "
:root { color-scheme: light; }
body { font: 10pt/1.35 -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif; color: #111; margin: 24px; }
h1 { font-size: 15pt; margin: 0 0 12px; }
.draft { border: 2px solid #b45309; color: #b45309; font-weight: 700; padding: 6px 10px; display: inline-block; letter-spacing: .05em; }
table { border-collapse: collapse; }
.facts { margin-bottom: 16px; }
.facts th { text-align: left; font-weight: 600; padding: 2px 16px 2px 0; vertical-align: top; }
.facts td { padding: 2px 0; word-break: break-all; }
.users { width: 100%; }
.users th, .users td { border: 1px solid #bbb; padding: 3px 5px; text-align: left; vertical-align: top; }
.users th { background: #eee; }
.users td { overflow-wrap: anywhere; }
.foot { margin-top: 12px; color: #444; font-size: 8.5pt; word-break: break-all; }
@page { size: A4 landscape; margin: 12mm; }
@media print {
  body { margin: 0; font-size: 8.5pt; }
  thead { display: table-header-group; }
  tr { break-inside: avoid; page-break-inside: avoid; }
  .users th { background: #eee; -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
";
