//! One-time codes for invitations and password resets: 160 bits from the OS CSPRNG, shown
//! once as groups of base32 (`ABCD-EFGH-…`), stored only as a SHA-256 hash, compared in
//! constant time.

use crate::error::{Error, Result};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

const CODE_BYTES: usize = 20;

/// A freshly generated code: the text for the person, the hash for the store.
pub struct NewCode {
    pub text: String,
    pub hash: String,
}

/// `N` bytes from the OS CSPRNG.
pub fn random_bytes<const N: usize>() -> Result<[u8; N]> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(|e| Error::internal("the random number generator", e))?;
    Ok(bytes)
}

pub fn generate() -> Result<NewCode> {
    let bytes = random_bytes::<CODE_BYTES>()?;
    let plain = data_encoding::BASE32_NOPAD.encode(&bytes);
    let text = plain
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join("-");
    Ok(NewCode { hash: hash(&plain), text })
}

/// The canonical form of a code as typed: letters upper-cased, dashes and spaces dropped.
pub fn normalize(input: &str) -> String {
    input.chars().filter(|c| c.is_ascii_alphanumeric()).map(|c| c.to_ascii_uppercase()).collect()
}

/// The stored hash of a code, typed in any layout.
pub fn hash(input: &str) -> String {
    data_encoding::HEXLOWER.encode(&Sha256::digest(normalize(input).as_bytes()))
}

/// Whether a typed code matches a stored hash, in constant time.
pub fn matches(input: &str, stored_hash: &str) -> bool {
    hash(input).as_bytes().ct_eq(stored_hash.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_carry_160_bits_in_readable_groups_and_hash_in_any_layout() {
        let code = generate().unwrap();
        assert_eq!(normalize(&code.text).len(), 32, "160 bits = 32 base32 characters");
        assert!(code.text.split('-').all(|g| g.len() == 4), "{}", code.text);
        assert!(matches(&code.text.to_lowercase().replace('-', " "), &code.hash));
        assert!(!matches("AAAA-BBBB", &code.hash));
        assert_ne!(generate().unwrap().hash, code.hash);
    }
}
