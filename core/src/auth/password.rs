//! Password policy and argon2id hashing (OWASP parameters: m = 19 MiB, t = 2, p = 1).

use crate::error::{Error, Result};
use argon2::password_hash::{phc::PasswordHash, PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};
use std::sync::OnceLock;

pub const MIN_LEN: usize = 12;
pub const MAX_LEN: usize = 256;

fn argon2() -> Result<Argon2<'static>> {
    let params = Params::new(19 * 1024, 2, 1, None).map_err(|e| Error::internal("argon2", e))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// Checks the policy: 12 to 256 characters and a zxcvbn score of at least 3, judged also
/// against the user's own name and email (`context`).
pub fn check_policy(password: &str, context: &[&str]) -> Result<()> {
    let len = password.chars().count();
    if len < MIN_LEN {
        return Err(Error::PasswordTooShort { min: MIN_LEN });
    }
    if len > MAX_LEN {
        return Err(Error::PasswordTooLong { max: MAX_LEN });
    }
    let estimate = zxcvbn::zxcvbn(password, context);
    if (estimate.score() as u8) < 3 {
        let hint = estimate
            .feedback()
            .and_then(|f| f.suggestions().first().map(|s| s.to_string()))
            .unwrap_or_else(|| "Add another word or two; uncommon words are better.".into());
        return Err(Error::WeakPassword { hint });
    }
    Ok(())
}

/// How strong a password is, for the live meter beside password fields.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, specta::Type)]
pub struct Strength {
    /// zxcvbn's 0 (guessable at once) to 4 (very hard to guess).
    pub score: u8,
    /// Whether the policy accepts it: this is exactly [`check_policy`]'s answer.
    pub acceptable: bool,
    /// What to do about it, or an empty string when it is accepted.
    pub advice: String,
}

/// The meter's reading for `password`, judged as [`check_policy`] judges it.
pub fn strength(password: &str, context: &[&str]) -> Strength {
    let score =
        if password.is_empty() { 0 } else { zxcvbn::zxcvbn(password, context).score() as u8 };
    match check_policy(password, context) {
        Ok(()) => Strength { score, acceptable: true, advice: String::new() },
        Err(e) => Strength { score, acceptable: false, advice: e.to_string() },
    }
}

/// Hashes a password to a PHC string with a fresh random salt.
pub fn hash(password: &str) -> Result<String> {
    let hashed =
        argon2()?.hash_password(password.as_bytes()).map_err(|e| Error::internal("argon2", e))?;
    Ok(hashed.to_string())
}

/// Verifies a password against a stored PHC string (constant time inside argon2).
pub fn verify(password: &str, phc: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(phc) else { return false };
    argon2().map(|a| a.verify_password(password.as_bytes(), &parsed).is_ok()).unwrap_or(false)
}

/// Spends the time of one verification without a real hash, so that signing in with an
/// unknown email takes as long as with a known one.
pub fn verify_dummy(password: &str) {
    static DUMMY: OnceLock<String> = OnceLock::new();
    let phc = DUMMY.get_or_init(|| hash("gatehouse dummy password for timing").unwrap_or_default());
    let _ = verify(password, phc);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorCode;

    #[test]
    fn hashes_are_argon2id_with_owasp_parameters_and_verify() {
        let phc = hash("correct horse battery staple").unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(verify("correct horse battery staple", &phc));
        assert!(!verify("correct horse battery stapler", &phc));
        assert!(!verify("anything", "not a phc string"));
    }

    #[test]
    fn policy_bounds_length_and_strength() {
        assert_eq!(check_policy("short", &[]).unwrap_err().code(), ErrorCode::PasswordTooShort);
        assert_eq!(
            check_policy(&"Ab1!".repeat(65), &[]).unwrap_err().code(),
            ErrorCode::PasswordTooLong
        );
        assert_eq!(check_policy("password1234", &[]).unwrap_err().code(), ErrorCode::WeakPassword);
        assert_eq!(
            check_policy("annleeexample", &["annleeexample"]).unwrap_err().code(),
            ErrorCode::WeakPassword
        );
        check_policy("correct horse battery staple", &[]).unwrap();
    }

    #[test]
    fn the_meter_agrees_with_the_policy_and_says_what_to_do() {
        let weak = strength("password1234", &[]);
        assert!(!weak.acceptable && weak.score < 3);
        assert!(!weak.advice.is_empty(), "a weak password comes with advice");
        let short = strength("Xq7#", &[]);
        assert_eq!((short.acceptable, short.advice.contains("12")), (false, true), "{short:?}");
        let own_name = strength("annleeexample", &["annleeexample"]);
        assert!(!own_name.acceptable, "judged against the user's own details");
        let good = strength("correct horse battery staple", &[]);
        assert_eq!((good.acceptable, good.score >= 3, good.advice.as_str()), (true, true, ""));
        assert_eq!(strength("", &[]).score, 0);
    }
}
