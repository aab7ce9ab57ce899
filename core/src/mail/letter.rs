//! The words of Gatehouse's emails: an invitation and a password reset, each in plain text and
//! simple HTML with no remote images, links or tracking.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One email's subject and bodies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Letter {
    pub subject: String,
    pub text: String,
    pub html: String,
}

impl Letter {
    /// An invitation to join `org` from `inviter`, with the roles' names and the code.
    pub fn invitation(
        org: &str,
        inviter: &str,
        invitee: &str,
        roles: &[String],
        code: &str,
        expires_at: DateTime<Utc>,
    ) -> Letter {
        let greeting = greeting(invitee);
        let roles = roles.join(", ");
        let expires = expiry(expires_at);
        let subject = format!("{inviter} invited you to {org} on Gatehouse");
        let text = format!(
            "{greeting}\n\n\
             {inviter} invited you to join {org} on Gatehouse, with these roles: {roles}.\n\n\
             Your invitation code is:\n\n    {code}\n\n\
             To accept, open Gatehouse, choose \"I have an invitation code\", and enter this \
             email address and the code. You then choose your name and password.\n\n\
             The code works once and expires on {expires}. If you did not expect this \
             invitation, you can ignore this email.\n\n— {org}\n"
        );
        let html = page(
            &subject,
            &format!(
                "<p>{}</p>\n<p>{} invited you to join <strong>{}</strong> on Gatehouse, with \
                 these roles: {}.</p>\n<p>Your invitation code is:</p>\n{}\n<p>To accept, open \
                 Gatehouse, choose “I have an invitation code”, and enter this email address \
                 and the code. You then choose your name and password.</p>\n<p>The code works \
                 once and expires on {}. If you did not expect this invitation, you can ignore \
                 this email.</p>\n<p>— {}</p>",
                esc(&greeting),
                esc(inviter),
                esc(org),
                esc(&roles),
                code_block(code),
                esc(&expires),
                esc(org)
            ),
        );
        Letter { subject, text, html }
    }

    /// A password reset code for `person`, issued by `issuer` of `org`.
    pub fn password_reset(
        org: &str,
        issuer: &str,
        person: &str,
        code: &str,
        expires_at: DateTime<Utc>,
    ) -> Letter {
        let greeting = greeting(person);
        let expires = expiry(expires_at);
        let subject = format!("Your {org} password reset code");
        let text = format!(
            "{greeting}\n\n\
             {issuer} issued a password reset for your {org} account on Gatehouse.\n\n\
             Your reset code is:\n\n    {code}\n\n\
             Open Gatehouse, choose \"I have a reset code\", and enter this email address, the \
             code and your new password. Your other sessions have been signed out.\n\n\
             The code works once and expires on {expires}. If you did not ask for this, tell \
             {issuer}.\n\n— {org}\n"
        );
        let html = page(
            &subject,
            &format!(
                "<p>{}</p>\n<p>{} issued a password reset for your <strong>{}</strong> account \
                 on Gatehouse.</p>\n<p>Your reset code is:</p>\n{}\n<p>Open Gatehouse, choose \
                 “I have a reset code”, and enter this email address, the code and your new \
                 password. Your other sessions have been signed out.</p>\n<p>The code works once \
                 and expires on {}. If you did not ask for this, tell {}.</p>\n<p>— {}</p>",
                esc(&greeting),
                esc(issuer),
                esc(org),
                code_block(code),
                esc(&expires),
                esc(issuer),
                esc(org)
            ),
        );
        Letter { subject, text, html }
    }
}

fn greeting(name: &str) -> String {
    match name.trim() {
        "" => "Hello,".to_string(),
        name => format!("Hello {name},"),
    }
}

/// "Sunday 6 December 2026, 05:30 UTC": unambiguous in every country.
fn expiry(at: DateTime<Utc>) -> String {
    at.format("%A %-d %B %Y, %H:%M UTC").to_string()
}

fn code_block(code: &str) -> String {
    format!(
        "<p style=\"font-family:monospace;font-size:20px;letter-spacing:2px;\
         padding:8px 12px;background:#f2f4f7;display:inline-block\">{}</p>",
        esc(code)
    )
}

fn page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{}</title></head>\n\
         <body style=\"font-family:sans-serif;line-height:1.5;color:#1f2933\">\n{body}\n\
         </body></html>\n",
        esc(title)
    )
}

/// Escapes text for HTML element content and attribute values.
pub(crate) fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_invitation_names_everything_and_escapes_html() {
        let at = DateTime::parse_from_rfc3339("2026-12-06T05:30:00Z").unwrap().to_utc();
        let l = Letter::invitation("Acme <&>", "Olivia", "Ben", &["Admin".into()], "ABCD-EFGH", at);
        assert_eq!(l.subject, "Olivia invited you to Acme <&> on Gatehouse");
        assert!(l.text.contains("Hello Ben,") && l.text.contains("ABCD-EFGH"));
        assert!(
            l.text.contains("roles: Admin.")
                && l.text.contains("Sunday 6 December 2026, 05:30 UTC")
        );
        assert!(l.html.contains("Acme &lt;&amp;&gt;") && !l.html.contains("Acme <&>"));
        assert!(!l.html.contains("<img") && !l.html.contains("http"), "no remote content");
    }
}
