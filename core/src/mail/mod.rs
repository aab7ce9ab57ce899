//! Email: the organization's SMTP settings, the letters Gatehouse writes (invitations and
//! password resets), the outbox they wait in, and sending them over SMTP.
//!
//! A letter is queued in the same transaction as the code it carries, so nothing acknowledged
//! is lost if the app closes; a sender (the app's background task, or a test) then calls
//! [`deliver_due`]. The SMTP password never enters the store: callers pass it in (the app keeps
//! it in the operating system's credential store).

pub(crate) mod letter;
pub(crate) mod outbox;
mod seal;
mod smtp;

pub use letter::Letter;
pub use outbox::{
    deliver_due, MessageAction, MessageKind, MessageState, MessageView, OutboxMessage, Outgoing,
    SaveAs, MAX_ATTEMPTS,
};
pub use seal::{kept_note, SealedLetter};
pub use smtp::{send, test_connection, SendFailure, SendStep, StepResult, TestReport};

use crate::error::{Error, Field, Result};
use crate::model::email::clean_name;
use crate::model::Email;
use serde::{Deserialize, Serialize};

/// How the connection to the mail server is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum Security {
    /// TLS from the first byte (usually port 465).
    Tls,
    /// A plain connection upgraded with STARTTLS, which is required (usually port 587).
    StartTls,
    /// No TLS: only for a relay on this computer (127.0.0.1, ::1 or localhost).
    LocalRelay,
}

/// The organization's outgoing mail server. The password is not here: see the module notes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct MailSettings {
    pub host: String,
    pub port: u16,
    pub security: Security,
    /// Empty when the server takes mail without signing in.
    pub username: String,
    /// The sender's name; empty means the organization's name.
    pub from_name: String,
    pub from_address: String,
}

impl MailSettings {
    /// The settings trimmed and checked. Error: `invalid_setting` naming the field.
    pub fn checked(&self) -> Result<MailSettings> {
        let host = self.host.trim().trim_end_matches('.').to_ascii_lowercase();
        if host.is_empty()
            || host.len() > 253
            || host.chars().any(|c| c.is_whitespace() || "/\\@?#".contains(c))
        {
            return Err(Error::setting(
                Field::MailHost,
                "The mail server must be a host name such as smtp.example.com.",
            ));
        }
        if self.port == 0 {
            return Err(Error::setting(Field::MailPort, "The port must be between 1 and 65535."));
        }
        if self.security == Security::LocalRelay && !is_loopback(&host) {
            return Err(Error::setting(
                Field::MailSecurity,
                "Sending without TLS is only allowed to a relay on this computer \
                 (127.0.0.1, ::1 or localhost); choose TLS or STARTTLS for another server.",
            ));
        }
        let username = self.username.trim().to_string();
        if username.chars().any(char::is_control) || username.len() > 320 {
            return Err(Error::setting(
                Field::MailUsername,
                "The user name cannot contain control characters.",
            ));
        }
        let from_address = Email::parse(&self.from_address)
            .map_err(|_| {
                Error::setting(
                    Field::MailFromAddress,
                    "The sender address is not a valid email address.",
                )
            })?
            .to_string();
        let from_name = match self.from_name.trim() {
            "" => String::new(),
            name => clean_name(name, "The sender name")?,
        };
        Ok(MailSettings {
            host,
            port: self.port,
            security: self.security,
            username,
            from_name,
            from_address,
        })
    }

    /// "smtp.example.com:587 (STARTTLS)", for summaries; never a secret.
    pub fn describe(&self) -> String {
        let security = match self.security {
            Security::Tls => "TLS",
            Security::StartTls => "STARTTLS",
            Security::LocalRelay => "local relay without TLS",
        };
        let user = if self.username.is_empty() {
            String::from("no sign-in")
        } else {
            format!("as {}", self.username)
        };
        format!("{}:{} ({security}, {user}), from {}", self.host, self.port, self.from_address)
    }

    pub fn needs_password(&self) -> bool {
        !self.username.is_empty()
    }
}

fn is_loopback(host: &str) -> bool {
    host == "localhost"
        || host
            .trim_matches(|c| c == '[' || c == ']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}
