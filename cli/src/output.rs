//! Printing: plain text for people, or JSON with `--json` for scripts.

use crate::print::{say, say_part};
use gatehouse_core::mail::MessageView;
use gatehouse_core::model::{IssuedCode, Organization, UserStatus, UserView};
use gatehouse_core::ops::governance::WhoCan;
use gatehouse_core::wire_name;
use gatehouse_core::{
    AuditPage, Enrolment, ErrorBody, ImportOutcome, ImportReport, Integrity, InviteOutcome,
    RoleView, UserDetail,
};
use serde::Serialize;

pub struct Out {
    pub json: bool,
}

pub fn print_json<T: Serialize + ?Sized>(value: &T) {
    match serde_json::to_string_pretty(value) {
        Ok(text) => say!("{text}"),
        Err(e) => eprintln!("error: cannot write JSON: {e}"),
    }
}

fn status(u: &UserView) -> &'static str {
    match (u.status, &u.invitation) {
        (UserStatus::Active, _) => "active",
        (UserStatus::Inactive, _) => "inactive",
        (UserStatus::Invited, Some(i)) if i.expired => "invited (expired)",
        (UserStatus::Invited, _) => "invited",
    }
}

/// `can_open` of a message, read by name from its JSON: the field is newer than this code.
fn can_open(m: &MessageView) -> Option<bool> {
    serde_json::to_value(m).ok()?.get("can_open")?.as_bool()
}

fn code_of(body: &ErrorBody) -> String {
    wire_name(&body.code)
}

impl Out {
    /// `error[CODE]: sentence` on stderr, or `{"error":{...}}` on stdout with `--json`.
    pub fn error(&self, body: &ErrorBody) {
        self.refusal(&code_of(body), &body.message);
    }

    /// As [`Out::error`], for a code and sentence of the command line's own.
    pub fn refusal(&self, code: &str, message: &str) {
        if self.json {
            print_json(&serde_json::json!({ "error": { "code": code, "message": message } }));
        } else {
            eprintln!("error[{code}]: {message}");
        }
    }

    /// A change that succeeded: its sentence, or the changed thing as JSON.
    pub fn done<T: Serialize>(&self, sentence: &str, value: &T) {
        if self.json {
            print_json(value);
        } else {
            say!("{sentence}");
        }
    }

    /// Setup's result: the Owner (JSON: their user, with `recovery_codes` added) and their
    /// recovery codes, shown this once.
    pub fn set_up(&self, org: &str, owner: &UserView, codes: &[String]) {
        if self.json {
            let mut value = serde_json::to_value(owner).unwrap_or_default();
            if let Some(fields) = value.as_object_mut() {
                fields.insert("recovery_codes".into(), codes.into());
            }
            return print_json(&value);
        }
        say!("{org} is set up; {} is its Owner.", owner.email);
        say!();
        print_codes(
            &format!(
                "If you forget your password, `gatehouse account recover {} --recovery-code \
                 CODE` sets a new one with one of these recovery codes.",
                owner.email
            ),
            codes,
        );
    }

    /// Recovery codes, shown this once (JSON: `{"recovery_codes": [...]}`).
    pub fn recovery_codes(&self, sentence: &str, codes: &[String]) {
        if self.json {
            return print_json(&serde_json::json!({ "recovery_codes": codes }));
        }
        say!("{sentence}");
        say!();
        print_codes(
            "Each recovery code works once in place of your authenticator app's code; an \
             Owner also gets back in with them after a forgotten password (`gatehouse account \
             recover`).",
            codes,
        );
    }

    /// An authenticator app to add (JSON: `{"otpauth_uri": ..., "secret": ...}`).
    /// `replacing`: the user signs in with a current one, whose code GATEHOUSE_OTP holds.
    pub fn enrolment(&self, enrolment: &Enrolment, email: &str, replacing: bool) {
        if self.json {
            return print_json(&serde_json::json!({
                "otpauth_uri": enrolment.otpauth_uri,
                "secret": enrolment.secret,
            }));
        }
        say!("Add {email} to your authenticator app with this link, or type in the secret:");
        say!();
        say!("  {}", enrolment.otpauth_uri);
        say!("  secret: {}", enrolment.secret);
        say!();
        let variable = if replacing {
            "GATEHOUSE_NEW_OTP, with your current app's code in GATEHOUSE_OTP"
        } else {
            "GATEHOUSE_OTP"
        };
        say!(
            "Then run `gatehouse mfa confirm --as {email}` with the 6-digit code the app shows \
             (in {variable}, or asked for). Keep the secret to yourself: it is shown only now."
        );
    }

    /// The organization's settings: JSON, the Organization; text, `key: value` lines with
    /// the keys `settings set` takes.
    pub fn settings(&self, org: &Organization) {
        if self.json {
            return print_json(org);
        }
        for key in crate::settings::KEYS {
            say!("{key}: {}", crate::settings::value_of(org, key));
        }
    }

    pub fn users(&self, users: &[UserView]) {
        if self.json {
            return print_json(users);
        }
        if users.is_empty() {
            return say!("No users match.");
        }
        let rows: Vec<[String; 6]> = users
            .iter()
            .map(|u| {
                [
                    u.email.clone(),
                    u.name.clone(),
                    status(u).to_string(),
                    since_sign_in(u.days_since_sign_in),
                    u.roles.join(", "),
                    governance_notes(u),
                ]
            })
            .collect();
        let header =
            ["EMAIL", "NAME", "STATUS", "LAST SIGN-IN", "ROLES", "NOTES"].map(String::from);
        print_table(&header, &rows);
    }

    /// Who can do one thing: JSON, the list of people (with the roles granting it); text, the
    /// roles, then a table.
    pub fn who_can(&self, answer: &WhoCan) {
        if self.json {
            return print_json(&answer.users);
        }
        let what = format!(
            "{}:{}",
            wire_name(&answer.permission.module),
            wire_name(&answer.permission.action)
        );
        if answer.roles.is_empty() {
            return say!("No role grants {what}.");
        }
        say!("{what} is granted by: {}", answer.roles.join(", "));
        if answer.users.is_empty() {
            return say!("Nobody holds those roles.");
        }
        let rows: Vec<[String; 5]> = answer
            .users
            .iter()
            .map(|u| {
                [
                    u.email.clone(),
                    u.name.clone(),
                    wire_name(&u.status),
                    u.roles_granting.join(", "),
                    u.last_sign_in_at.map_or_else(
                        || "never".into(),
                        |t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                    ),
                ]
            })
            .collect();
        print_table(
            &["EMAIL", "NAME", "STATUS", "GRANTED BY", "LAST SIGN-IN"].map(String::from),
            &rows,
        );
    }

    pub fn detail(&self, d: &UserDetail) {
        if self.json {
            return print_json(d);
        }
        let u = &d.user;
        say!("{} <{}>", if u.name.is_empty() { "(no name yet)" } else { &u.name }, u.email);
        say!("id:          {}", u.id);
        say!("status:      {}", status(u));
        say!("roles:       {}", u.roles.join(", "));
        if let Some(i) = &u.invitation {
            say!(
                "invitation:  expires {}",
                i.expires_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            );
        }
        if let Some(t) = u.last_sign_in_at {
            say!("last sign-in: {}", t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
        }
        if let Some(date) = u.access_until {
            say!("access until: {date}");
        }
        if u.dormant_soon {
            say!("dormant soon: deactivated by the system unless they sign in");
        }
        if let Some(t) = u.locked_until {
            say!("locked until: {}", t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
        }
        say!("permissions:");
        for g in &d.grants {
            say!(
                "  {}:{}  (from {})",
                wire_name(&g.module),
                wire_name(&g.action),
                g.roles.join(", ")
            );
        }
    }

    pub fn invited(&self, outcomes: &[InviteOutcome]) {
        if self.json {
            return print_json(outcomes);
        }
        for o in outcomes {
            match o {
                InviteOutcome::Invited { email, issued } => say!(
                    "invited {email}  code {}  expires {}",
                    issued.code,
                    issued.expires_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
                ),
                InviteOutcome::Refused { email, error } => {
                    eprintln!("refused {email}  error[{}]: {}", code_of(error), error.message)
                }
            }
        }
        kept_note(outcomes.iter().filter_map(|o| match o {
            InviteOutcome::Invited { issued, .. } => Some(issued),
            InviteOutcome::Refused { .. } => None,
        }));
    }

    pub fn code(&self, issued: &IssuedCode) {
        if self.json {
            return print_json(issued);
        }
        say!(
            "{}  code {}  expires {}",
            issued.email,
            issued.code,
            issued.expires_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        );
        kept_note([issued]);
    }

    pub fn answer(&self, yes: bool) {
        if self.json {
            print_json(&serde_json::json!({ "allowed": yes }));
        } else {
            say!("{}", if yes { "yes" } else { "no" });
        }
    }

    pub fn roles(&self, roles: &[RoleView]) {
        if self.json {
            return print_json(roles);
        }
        let w = roles.iter().map(|r| r.role.key.len()).max().unwrap_or(3).max(3);
        let n = roles.iter().map(|r| r.role.name.chars().count()).max().unwrap_or(4).max(4);
        say!("{:w$}  {:n$}  {:8}  MEMBERS", "KEY", "NAME", "KIND");
        for r in roles {
            let kind = if r.role.built_in { "built-in" } else { "custom" };
            say!("{:w$}  {:n$}  {kind:8}  {}", r.role.key, r.role.name, r.members);
        }
    }

    pub fn role(&self, r: &RoleView) {
        if self.json {
            return print_json(r);
        }
        say!(
            "{} ({}), {}, {} members",
            r.role.name,
            r.role.key,
            if r.role.built_in { "built-in" } else { "custom" },
            r.members
        );
        if !r.role.description.is_empty() {
            say!("{}", r.role.description);
        }
        let mut by_module: Vec<(String, String)> = Vec::new();
        for p in &r.role.permissions {
            let m = wire_name(&p.module);
            let letter = wire_name(&p.action).chars().next().unwrap_or('?');
            match by_module.iter_mut().find(|(k, _)| *k == m) {
                Some((_, letters)) => letters.push(letter),
                None => by_module.push((m, letter.to_string())),
            }
        }
        for (m, letters) in by_module {
            say!("  {m}:{letters}");
        }
    }

    pub fn events(&self, page: &AuditPage) {
        if self.json {
            return print_json(&page.events);
        }
        for e in &page.events {
            let actor = match e.actor {
                gatehouse_core::model::AuditActor::System => "system".to_string(),
                gatehouse_core::model::AuditActor::User(id) => page
                    .actors
                    .iter()
                    .find(|a| a.id == id)
                    .map_or(id.to_string(), |a| a.email.clone()),
            };
            say!(
                "{:>6}  {}  {}  {}  {}  {}{}",
                e.seq,
                e.at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                actor,
                wire_name(&e.action),
                e.target.as_deref().unwrap_or("-"),
                wire_name(&e.outcome),
                if e.summary.is_empty() { String::new() } else { format!("  {}", e.summary) }
            );
        }
        if let Some(count) = page.count {
            let plus = if count.at_least { "+" } else { "" };
            say!("{} of {}{plus} matching events shown", page.events.len(), count.events);
        }
    }

    /// The outbox: one line a message, newest first.
    pub fn messages(&self, messages: &[MessageView]) {
        if self.json {
            return print_json(messages);
        }
        if messages.is_empty() {
            return say!("The outbox is empty.");
        }
        // Whether the viewer may open (save) each one, when core says so.
        let open: Vec<Option<bool>> = messages.iter().map(can_open).collect();
        let open_column = open.iter().any(Option::is_some);
        let w = messages.iter().map(|m| m.to.chars().count()).max().unwrap_or(2).max(2);
        say_part!(
            "{:36}  {:9}  {:14}  {:w$}  {:20}  {:8}  ",
            "ID",
            "STATE",
            "KIND",
            "TO",
            "CREATED",
            "ATTEMPTS"
        );
        if open_column {
            say_part!("OPEN  ");
        }
        say!("NOTE");
        for (m, open) in messages.iter().zip(open) {
            say_part!(
                "{:36}  {:9}  {:14}  {:w$}  {:20}  {:>8}  ",
                m.id.to_string(),
                wire_name(&m.state),
                wire_name(&m.kind),
                m.to,
                m.created_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                m.attempts
            );
            if open_column {
                say_part!(
                    "{:4}  ",
                    match open {
                        Some(true) => "yes",
                        Some(false) => "no",
                        None => "-",
                    }
                );
            }
            // The server's reply or why it left; else the last failure and when it is tried
            // again.
            let note = match (&m.last_failure, m.next_attempt_at) {
                _ if !m.note.is_empty() => m.note.clone(),
                (Some(f), Some(t)) => format!(
                    "{} (next attempt {})",
                    f.message,
                    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
                ),
                (Some(f), None) => f.message.clone(),
                (None, _) => "-".to_string(),
            };
            say!("{note}");
        }
    }

    pub fn integrity(&self, i: &Integrity) {
        if self.json {
            return print_json(i);
        }
        if i.is_intact() {
            say!(
                "Intact: {} users, {} audit events chained without a gap.",
                i.users,
                i.audit_events
            );
        } else {
            say!("{} problems found:", i.problems.len());
            for p in &i.problems {
                say!("  {p}");
            }
        }
    }

    pub fn import(&self, report: &ImportReport, dry_run: bool) {
        if self.json {
            return print_json(report);
        }
        for row in &report.rows {
            let what = wire_name(&row.outcome);
            match (&row.outcome, &row.issued) {
                (ImportOutcome::Invite, Some(i)) => {
                    say!("line {:>5}  invited  {}  code {}", row.line, i.email, i.code)
                }
                (ImportOutcome::Invite, None) => {
                    say!("line {:>5}  would invite  {}", row.line, row.email)
                }
                _ => say!("line {:>5}  {what}  {}  {}", row.line, row.email, row.message),
            }
        }
        let verb = if dry_run { "would be invited" } else { "invited" };
        say!("{} {verb}, {} skipped.", report.invited, report.skipped);
        kept_note(report.rows.iter().filter_map(|r| r.issued.as_ref()));
    }
}

/// Columns two spaces apart, each as wide as its widest cell; no trailing spaces.
fn print_table<const N: usize>(header: &[String; N], rows: &[[String; N]]) {
    let mut widths = header.each_ref().map(|h| h.chars().count());
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    for row in std::iter::once(header).chain(rows) {
        let line: Vec<String> =
            row.iter().zip(widths).map(|(cell, w)| format!("{cell:w$}")).collect();
        say!("{}", line.join("  ").trim_end());
    }
}

/// How long ago someone last signed in, in whole days.
fn since_sign_in(days: Option<u32>) -> String {
    match days {
        None => "never".into(),
        Some(0) => "today".into(),
        Some(1) => "1 day ago".into(),
        Some(d) => format!("{d} days ago"),
    }
}

/// The access-governance facts of a user the list shows: their end date, and that the
/// dormant-account rule will soon deactivate them.
fn governance_notes(u: &UserView) -> String {
    let mut notes = Vec::new();
    if let Some(date) = u.access_until {
        notes.push(format!("ends {date}"));
    }
    if u.dormant_soon {
        notes.push("dormant soon".to_string());
    }
    notes.join(", ")
}

/// Numbered recovery codes, then how to keep them and `what` they are for.
fn print_codes(what: &str, codes: &[String]) {
    for (i, code) in codes.iter().enumerate() {
        say!("  {:>2}. {code}", i + 1);
    }
    say!();
    say!("{what}");
    say!(
        "Keep them somewhere safe and offline, now: they are not shown again, and anyone who \
         holds them can get into this account."
    );
}

/// Says once, on stderr, when issued codes' emails are sealed with a key kept only in memory
/// (the credential store did not answer); the same sentence for every code of one run.
pub fn kept_note<'a>(issued: impl IntoIterator<Item = &'a IssuedCode>) {
    if let Some(note) = issued.into_iter().find_map(|i| i.code_kept_note.as_deref()) {
        eprintln!("note: {note}");
    }
}
