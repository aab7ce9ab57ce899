//! Recovery codes: 10 a set, 120 bits each from the OS CSPRNG, shown once as `ABCD-EFGH-…`,
//! stored only as SHA-256 hashes (enough at 112 bits or more, ASVS 5.0 6.5.2), each used once.
//! A new set voids the old.

use crate::auth::code;
use crate::error::Result;
use crate::model::factors::RecoveryCodes;
use chrono::{DateTime, Utc};
use subtle::ConstantTimeEq;

/// Codes in a set.
pub const COUNT: usize = 10;
/// Bytes of each code (120 bits: a plain hash is then as strong as a salted slow one).
const BYTES: usize = 15;
/// At this many left or fewer, the person is warned.
pub const FEW_LEFT: usize = 3;

/// A new set: the texts to show once, and what the store keeps.
pub fn generate(now: DateTime<Utc>) -> Result<(Vec<String>, RecoveryCodes)> {
    let mut texts = Vec::with_capacity(COUNT);
    for _ in 0..COUNT {
        let plain = data_encoding::BASE32_NOPAD.encode(&code::random_bytes::<BYTES>()?);
        let grouped: Vec<String> =
            plain.as_bytes().chunks(4).map(|c| String::from_utf8_lossy(c).into_owned()).collect();
        texts.push(grouped.join("-"));
    }
    let hashes = texts.iter().map(|t| code::hash(t)).collect();
    Ok((texts, RecoveryCodes { hashes, issued_at: now }))
}

/// Whether `typed` looks like a recovery code rather than an authenticator's 6 digits.
pub fn looks_like_one(typed: &str) -> bool {
    code::normalize(typed).len() == BYTES * 8 / 5
}

impl RecoveryCodes {
    /// The index of the unused code `typed` is, comparing every one in constant time.
    pub fn find(&self, typed: &str) -> Option<usize> {
        let hash = code::hash(typed);
        let mut found = None;
        for (i, stored) in self.hashes.iter().enumerate() {
            if bool::from(stored.as_bytes().ct_eq(hash.as_bytes())) && found.is_none() {
                found = Some(i);
            }
        }
        found
    }

    /// Uses the code `typed`: true when it was an unused code of this set (now used).
    pub fn take(&mut self, typed: &str) -> bool {
        match self.find(typed) {
            Some(i) => {
                self.hashes.remove(i);
                true
            }
            None => false,
        }
    }

    pub fn left(&self) -> usize {
        self.hashes.len()
    }
}

/// The recovery codes as a text file to print or keep offline.
pub fn kit_text(organization: &str, email: &str, codes: &[String]) -> String {
    let mut text = format!(
        "Gatehouse recovery codes\n\nOrganization: {organization}\nAccount: {email}\n\n\
         Each code works once. Use one on the sign-in screen (\"I can't sign in\") if you lose \
         your password or your authenticator app.\nKeep them somewhere safe and offline: \
         anyone who holds them can get into this account.\n\n"
    );
    for (i, code) in codes.iter().enumerate() {
        text.push_str(&format!("{:>2}. {code}\n", i + 1));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_set_has_ten_120_bit_codes_each_usable_once() {
        let (texts, mut set) = generate(chrono::DateTime::UNIX_EPOCH).unwrap();
        assert_eq!(texts.len(), COUNT);
        for t in &texts {
            assert_eq!(code::normalize(t).len(), 24, "120 bits = 24 base32 characters: {t}");
            assert!(looks_like_one(t) && !looks_like_one("123456"));
            assert!(!set.hashes.iter().any(|h| h.contains(&code::normalize(t))));
        }
        let unique: std::collections::HashSet<_> = texts.iter().collect();
        assert_eq!(unique.len(), COUNT);
        assert!(set.take(&texts[3].to_lowercase().replace('-', " ")));
        assert!(!set.take(&texts[3]), "a used code fails the second time");
        assert_eq!(set.left(), COUNT - 1);
        let (_, other) = generate(chrono::DateTime::UNIX_EPOCH).unwrap();
        assert_eq!(other.find(&texts[0]), None, "a code of another set");
    }
}
