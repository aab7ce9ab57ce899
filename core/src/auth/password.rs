//! Password policy and argon2id hashing (OWASP parameters: m = 19 MiB, t = 2, p = 1).

use crate::error::{Error, Result};
use argon2::password_hash::phc::{Output, ParamsString, PasswordHash, Salt};
use argon2::{password_hash, Algorithm, Argon2, Block, Params, Version, ARGON2ID_IDENT};
use std::sync::{Mutex, OnceLock};

pub const MIN_LEN: usize = 12;
pub const MAX_LEN: usize = 256;

fn params() -> Result<Params> {
    Params::new(19 * 1024, 2, 1, None).map_err(|e| Error::internal("argon2", e))
}

/// Checks the policy: 12 to 256 characters, at least one letter and one digit (PCI DSS v4
/// requirement 8.3.6), and a zxcvbn score of at least 3, judged also against the user's own
/// name and email (`context`).
pub fn check_policy(password: &str, context: &[&str]) -> Result<()> {
    let len = password.chars().count();
    if len < MIN_LEN {
        return Err(Error::PasswordTooShort { min: MIN_LEN });
    }
    if len > MAX_LEN {
        return Err(Error::PasswordTooLong { max: MAX_LEN });
    }
    let letter = password.chars().any(char::is_alphabetic);
    let digit = password.chars().any(char::is_numeric); // ASCII digits and other numerals
    if !(letter && digit) {
        return Err(Error::PasswordNeedsLetterAndDigit);
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

/// One argon2 run at a time: a flood of sign-ins holds one working memory (19 MiB), not one per
/// thread.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// Runs argon2 with `params` over working memory of its own, wiped and freed afterwards. Freed,
/// not kept for the next hash: kept, it stayed resident in the app for good after the first
/// sign-in; the app's allocator (tools/allocator) gives a block this size back to the system at
/// once.
fn run_argon2(
    algorithm: Algorithm,
    version: Version,
    params: Params,
    password: &[u8],
    salt: &[u8],
    out: &mut [u8],
) -> Result<()> {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    let mut memory = vec![Block::new(); params.block_count()];
    let result = Argon2::new(algorithm, version, params).hash_password_into_with_memory(
        password,
        salt,
        out,
        memory.as_mut_slice(),
    );
    memory.fill(Block::new());
    std::hint::black_box(&memory);
    result.map_err(|e| Error::internal("argon2", e))
}

/// Hashes a password to a PHC string with a fresh random salt.
pub fn hash(password: &str) -> Result<String> {
    let params = params()?;
    let salt = password_hash::try_generate_salt().map_err(|e| Error::internal("a salt", e))?;
    let salt = Salt::new(&salt).map_err(|e| Error::internal("a salt", e))?;
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    run_argon2(
        Algorithm::Argon2id,
        Version::V0x13,
        params.clone(),
        password.as_bytes(),
        &salt,
        &mut out,
    )?;
    let phc = PasswordHash {
        algorithm: ARGON2ID_IDENT,
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params).map_err(|e| Error::internal("argon2", e))?,
        salt: Some(salt),
        hash: Some(Output::new(&out).map_err(|e| Error::internal("argon2", e))?),
    };
    Ok(phc.to_string())
}

/// The most a stored hash may ask of a verification: far above what this build writes
/// (19 MiB, 2 passes), far below what would stall the app or exhaust memory (a damaged or
/// planted record can name 4 TiB and 4 billion passes).
const MAX_MEMORY_KIB: u32 = 256 * 1024;
const MAX_PASSES: u32 = 16;
const MAX_LANES: u32 = 16;

/// Verifies a password against a stored PHC string, with the parameters it names; the
/// outputs are compared in constant time. A string naming parameters past the bounds above
/// does not verify.
pub fn verify(password: &str, phc: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(phc) else { return false };
    let (Some(salt), Some(expected)) = (&parsed.salt, &parsed.hash) else { return false };
    let (Ok(algorithm), Ok(params)) =
        (Algorithm::try_from(parsed.algorithm.as_str()), Params::try_from(&parsed))
    else {
        return false;
    };
    if params.m_cost() > MAX_MEMORY_KIB
        || params.t_cost() > MAX_PASSES
        || params.p_cost() > MAX_LANES
    {
        return false;
    }
    let version = match parsed.version.map(Version::try_from) {
        None => Version::default(),
        Some(Ok(v)) => v,
        Some(Err(_)) => return false,
    };
    let mut out = vec![0u8; expected.len()];
    run_argon2(algorithm, version, params, password.as_bytes(), salt, &mut out).is_ok()
        && Output::new(&out).is_ok_and(|computed| computed == *expected)
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
    fn hashes_agree_with_the_argon2_crates_own_hasher_both_ways() {
        use argon2::{PasswordHasher, PasswordVerifier};
        let password = "correct horse battery staple";
        // As stored before the shared memory: made by the crate's own hasher.
        let theirs = Argon2::new(Algorithm::Argon2id, Version::V0x13, params().unwrap())
            .hash_password(password.as_bytes())
            .unwrap()
            .to_string();
        assert!(verify(password, &theirs));
        assert!(!verify("correct horse battery stapler", &theirs));
        let ours = hash(password).unwrap();
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok());
        // Other parameters (less memory, argon2i) verify with the memory they name.
        let small = Params::new(8 * 1024, 3, 1, None).unwrap();
        let other = Argon2::new(Algorithm::Argon2i, Version::V0x13, small)
            .hash_password(password.as_bytes())
            .unwrap()
            .to_string();
        assert!(verify(password, &other));
        assert!(!verify("correct horse battery stapler", &other));
        assert!(verify(password, &ours), "and back to the usual memory");
        let tampered = ours.replace("m=19456", "m=19457");
        assert!(!verify(password, &tampered), "the parameters are part of the hash");
    }

    #[test]
    fn a_stored_hash_asking_for_terabytes_or_billions_of_passes_does_not_verify_at_once() {
        let ours = hash("correct horse battery staple").unwrap();
        for (from, to) in [("m=19456", "m=4294967295"), ("t=2", "t=4294967295"), ("p=1", "p=255")] {
            let planted = ours.replace(from, to);
            let started = std::time::Instant::now();
            assert!(!verify("correct horse battery staple", &planted), "{planted}");
            assert!(started.elapsed() < std::time::Duration::from_secs(5), "{planted}");
        }
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
            check_policy("annleeexample1", &["annleeexample"]).unwrap_err().code(),
            ErrorCode::WeakPassword
        );
        check_policy("correct horse battery staple 7", &[]).unwrap();
    }

    #[test]
    fn policy_needs_a_letter_and_a_digit() {
        let refused = |password: &str| check_policy(password, &[]).unwrap_err();
        // Letters only, however strong otherwise.
        assert_eq!(
            refused("correct horse battery staple").code(),
            ErrorCode::PasswordNeedsLetterAndDigit
        );
        assert_eq!(
            refused("Correct-Horse-Battery!").code(),
            ErrorCode::PasswordNeedsLetterAndDigit
        );
        // Digits (and symbols) only.
        assert_eq!(refused("839201746593").code(), ErrorCode::PasswordNeedsLetterAndDigit);
        assert_eq!(refused("8392-0174-6593!").code(), ErrorCode::PasswordNeedsLetterAndDigit);
        // Length is judged first, strength after.
        assert_eq!(refused("abcdefghijk").code(), ErrorCode::PasswordTooShort);
        assert_eq!(refused("aaaaaaaaaaaaaaa1").code(), ErrorCode::WeakPassword);
        // Letters and a digit, and strong: accepted, in any script.
        check_policy("correct horse battery staple 7", &[]).unwrap();
        check_policy("7 correct horse battery staple", &[]).unwrap();
        check_policy("пароль гора река лес 3", &[]).unwrap();
        check_policy("correct horse battery staple ٣", &[]).unwrap();
        // The stable code and the sentence.
        let err = refused("correct horse battery staple");
        let body = err.to_body();
        assert_eq!(body.code, ErrorCode::PasswordNeedsLetterAndDigit);
        assert_eq!(crate::wire_name(&body.code), "password_needs_letter_and_digit");
        assert_eq!(body.message, "The password must contain at least one letter and one digit.");
    }

    #[test]
    fn the_meter_agrees_with_the_policy_and_says_what_to_do() {
        let weak = strength("password1234", &[]);
        assert!(!weak.acceptable && weak.score < 3);
        assert!(!weak.advice.is_empty(), "a weak password comes with advice");
        let short = strength("Xq7#", &[]);
        assert_eq!((short.acceptable, short.advice.contains("12")), (false, true), "{short:?}");
        let own_name = strength("annleeexample1", &["annleeexample"]);
        assert!(!own_name.acceptable, "judged against the user's own details");
        let good = strength("correct horse battery staple 7", &[]);
        assert_eq!((good.acceptable, good.score >= 3, good.advice.as_str()), (true, true, ""));
        assert_eq!(strength("", &[]).score, 0);
        let no_digit = strength("correct horse battery staple", &[]);
        assert!(!no_digit.acceptable && no_digit.score >= 3, "strong, but without a digit");
        assert_eq!(no_digit.advice, "The password must contain at least one letter and one digit.");
    }
}
