//! Time-based one-time passwords (RFC 6238) through `totp-rs`: a 160-bit secret, SHA-1,
//! 6 digits, 30-second steps, one step of drift either way, and each step's code accepted at
//! most once (the caller keeps the last step used).

use crate::error::{Error, Result};
use chrono::{DateTime, Utc};
use subtle::ConstantTimeEq;
use totp_rs::{Algorithm, TOTP};

/// Digits in a code.
pub const DIGITS: usize = 6;
/// Seconds in a step.
pub const STEP: u64 = 30;
/// Steps of drift accepted either way.
pub const DRIFT: u64 = 1;
/// Bytes in a secret (160 bits, RFC 4226's recommendation).
pub const SECRET_BYTES: usize = 20;

/// A user's TOTP secret, in memory only while it is used.
pub struct Secret(Vec<u8>);

impl Secret {
    /// A new random secret.
    pub fn generate() -> Result<Secret> {
        Ok(Secret(crate::auth::code::random_bytes::<SECRET_BYTES>()?.to_vec()))
    }

    pub fn from_bytes(bytes: Vec<u8>) -> Secret {
        Secret(bytes)
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The secret as an authenticator app takes it typed in: base32 without padding.
    pub fn base32(&self) -> String {
        data_encoding::BASE32_NOPAD.encode(&self.0)
    }

    fn totp(&self, digits: usize) -> TOTP {
        // Unchecked: the length is ours (160 bits), and `digits` is 6 (8 for RFC vectors).
        TOTP::new_unchecked(Algorithm::SHA1, digits, 0, STEP, self.0.clone())
    }

    /// The code of `step` (the Unix time divided by 30) with `digits` digits.
    pub fn code_at_step(&self, step: u64, digits: usize) -> String {
        self.totp(digits).generate(step * STEP)
    }

    /// The code an authenticator app shows at `now`.
    pub fn code_at(&self, now: DateTime<Utc>) -> String {
        self.code_at_step(step_of(now), DIGITS)
    }

    /// The step whose code `typed` is, within one step of `now`, and later than `last_used`
    /// (a code is accepted at most once). `None` when it is none of them.
    pub fn verify(&self, typed: &str, now: DateTime<Utc>, last_used: Option<u64>) -> Option<u64> {
        let typed: String = typed.chars().filter(|c| !c.is_whitespace()).collect();
        if typed.len() != DIGITS || !typed.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let current = step_of(now);
        let first = current.saturating_sub(DRIFT);
        // Every candidate is compared, so the time taken does not say which one matched.
        let mut matched = None;
        for step in first..=current + DRIFT {
            let code = self.code_at_step(step, DIGITS);
            if bool::from(code.as_bytes().ct_eq(typed.as_bytes())) && matched.is_none() {
                matched = Some(step);
            }
        }
        matched.filter(|step| last_used.is_none_or(|last| *step > last))
    }

    /// The `otpauth://` URI an authenticator app scans: the issuer is the organization, the
    /// account the user's email.
    pub fn otpauth_uri(&self, issuer: &str, account: &str) -> String {
        let issuer = urlencoding::encode(issuer);
        format!(
            "otpauth://totp/{issuer}:{}?secret={}&issuer={issuer}&algorithm=SHA1&digits={DIGITS}&period={STEP}",
            urlencoding::encode(account),
            self.base32()
        )
    }
}

/// The TOTP step `now` falls in.
pub fn step_of(now: DateTime<Utc>) -> u64 {
    u64::try_from(now.timestamp()).unwrap_or(0) / STEP
}

/// `text` as a QR code in SVG, drawn here (nothing leaves the machine).
pub fn qr_svg(text: &str) -> Result<String> {
    let code = qrcode::QrCode::with_error_correction_level(text, qrcode::EcLevel::M)
        .map_err(|e| Error::internal("drawing a QR code", e))?;
    Ok(code
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(200, 200)
        .dark_color(qrcode::render::svg::Color("#000000"))
        .light_color(qrcode::render::svg::Color("#ffffff"))
        .build())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    /// RFC 6238 appendix B, SHA-1 rows: the seed is the ASCII "12345678901234567890".
    const RFC_VECTORS: [(i64, &str); 6] = [
        (59, "94287082"),
        (1111111109, "07081804"),
        (1111111111, "14050471"),
        (1234567890, "89005924"),
        (2000000000, "69279037"),
        (20000000000, "65353130"),
    ];

    fn rfc_secret() -> Secret {
        Secret::from_bytes(b"12345678901234567890".to_vec())
    }

    fn at(seconds: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(seconds, 0).unwrap()
    }

    #[test]
    fn the_rfc_6238_vectors_hold_and_verify_through_gatehouses_path() {
        let secret = rfc_secret();
        for (time, expected) in RFC_VECTORS {
            let step = time as u64 / STEP;
            assert_eq!(secret.code_at_step(step, 8), expected, "8 digits at {time}");
            // A 6-digit code is the same number's last 6 digits.
            let six = &expected[2..];
            assert_eq!(secret.code_at(at(time)), six);
            assert_eq!(secret.verify(six, at(time), None), Some(step), "at {time}");
        }
    }

    #[test]
    fn one_step_of_drift_is_accepted_two_are_refused() {
        let secret = rfc_secret();
        let now = at(1234567890);
        let step = step_of(now);
        for (drift, accepted) in [(-2i64, false), (-1, true), (0, true), (1, true), (2, false)] {
            let code = secret.code_at_step((step as i64 + drift) as u64, DIGITS);
            assert_eq!(secret.verify(&code, now, None).is_some(), accepted, "drift {drift}");
        }
    }

    #[test]
    fn a_code_is_accepted_once_and_no_earlier_code_after_it() {
        let secret = Secret::generate().unwrap();
        let now = at(1_900_000_000);
        let code = secret.code_at(now);
        let used = secret.verify(&code, now, None).unwrap();
        assert_eq!(secret.verify(&code, now, Some(used)), None, "replayed");
        let earlier = secret.code_at_step(used - 1, DIGITS);
        assert_eq!(secret.verify(&earlier, now, Some(used)), None, "an older step");
        let next = secret.code_at_step(used + 1, DIGITS);
        assert_eq!(secret.verify(&next, now, Some(used)), Some(used + 1));
        assert_eq!(secret.verify("12345", now, None), None);
        assert_eq!(secret.verify("abcdef", now, None), None);
    }

    #[test]
    fn the_uri_names_the_issuer_and_account_and_the_qr_is_svg() {
        let secret = rfc_secret();
        let uri = secret.otpauth_uri("Acme & Co", "olivia@acme.test");
        assert!(uri.starts_with("otpauth://totp/Acme%20%26%20Co:olivia%40acme.test?secret="));
        assert!(uri.contains("&digits=6&period=30"), "{uri}");
        assert_eq!(
            Secret::from_bytes(
                data_encoding::BASE32_NOPAD.decode(secret.base32().as_bytes()).unwrap()
            )
            .as_bytes(),
            secret.as_bytes()
        );
        let svg = qr_svg(&uri).unwrap();
        assert!(svg.contains("<svg") && svg.contains("</svg>"));
    }
}
