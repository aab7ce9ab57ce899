//! Email addresses: validated with a real parser, compared by a normalized key
//! (trimmed, Unicode NFC, lower-cased), displayed as the user typed them.

use crate::error::{Error, Result};
use email_address::{EmailAddress, Options};
use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Email {
    /// As entered (trimmed, NFC), for display and for sending.
    display: String,
    /// The comparison key: equal keys are the same address.
    key: String,
}

impl Email {
    /// Parses and normalizes an address. Display names (`Ann <a@b.c>`), domain literals and
    /// domains without a dot are refused with `invalid_email`.
    pub fn parse(input: &str) -> Result<Self> {
        let display: String = input.trim().nfc().collect();
        let options =
            Options::default().with_required_tld().without_display_text().without_domain_literal();
        if display.is_empty() || EmailAddress::parse_with_options(&display, options).is_err() {
            return Err(Error::InvalidEmail(input.trim().chars().take(254).collect()));
        }
        let key = display.to_lowercase().nfc().collect();
        Ok(Self { display, key })
    }

    pub fn as_str(&self) -> &str {
        &self.display
    }

    /// The normalized key used for uniqueness and look-ups.
    pub fn key(&self) -> &str {
        &self.key
    }
}

impl std::fmt::Display for Email {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.display)
    }
}

/// Trims a person's or organization's name and checks it: 1 to 100 characters, no control
/// characters. `what` names the field in the error sentence.
pub fn clean_name(input: &str, what: &'static str) -> Result<String> {
    let name: String = input.trim().nfc().collect();
    let len = name.chars().count();
    if !(1..=100).contains(&len) || name.chars().any(char::is_control) {
        return Err(Error::InvalidName(what));
    }
    Ok(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_ignore_case_spaces_and_normalization_form() {
        let a = Email::parse("  Ann.Lee@Example.COM ").unwrap();
        let b = Email::parse("ann.lee@example.com").unwrap();
        assert_eq!(a.key(), b.key());
        assert_eq!(a.as_str(), "Ann.Lee@Example.COM");
        // "é" precomposed vs "e" + combining acute accent
        let c = Email::parse("jos\u{e9}@example.com").unwrap();
        let d = Email::parse("jose\u{301}@example.com").unwrap();
        assert_eq!(c.key(), d.key());
    }

    #[test]
    fn rejects_what_is_not_a_plain_address() {
        for bad in [
            "",
            "ann",
            "ann@",
            "@example.com",
            "Ann <ann@example.com>",
            "ann@localhost",
            "a b@example.com",
        ] {
            assert_eq!(
                Email::parse(bad).unwrap_err().code(),
                crate::ErrorCode::InvalidEmail,
                "{bad:?}"
            );
        }
    }

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(clean_name("  Ann Lee ", "Name").unwrap(), "Ann Lee");
        assert!(clean_name("   ", "Name").is_err());
        assert!(clean_name(&"x".repeat(101), "Name").is_err());
        assert!(clean_name("Ann\u{7}", "Name").is_err());
        assert_eq!(clean_name(&"é".repeat(100), "Name").unwrap().chars().count(), 100);
    }
}
