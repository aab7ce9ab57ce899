//! Keys Gatehouse keeps outside its data folder, in the operating system's credential store
//! (Secret Service on Linux, the Keychain on macOS, Credential Manager on Windows): the key that
//! seals letters waiting in the Outbox and the identity automatic backups are encrypted to. A
//! copy of the data folder, or of a backup, holds neither.
//!
//! Where no credential store answers, a key is made for this run and kept in memory only: what
//! it sealed cannot be opened after a restart, which is the point (never plain text), and
//! [`Keeping::ThisRun`] says why so that the window can say so.

use crate::error::{Error, Result};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

/// The credential store's service name for everything Gatehouse keeps there.
pub const SERVICE: &str = "app.gatehouse.desktop";

/// Somewhere secrets can be kept by name.
pub trait Vault: Send + Sync {
    /// The secret named `name`; `Ok(None)` when there is none. `Err` says why the vault could
    /// not answer.
    fn get(&self, name: &str) -> std::result::Result<Option<String>, String>;
    /// Keeps `secret` under `name`.
    fn set(&self, name: &str, secret: &str) -> std::result::Result<(), String>;
}

/// The operating system's credential store, through the `keyring` crate.
pub struct OsVault;

impl Vault for OsVault {
    fn get(&self, name: &str) -> std::result::Result<Option<String>, String> {
        match keyring::Entry::new(SERVICE, name).and_then(|e| e.get_password()) {
            Ok(secret) => Ok(Some(secret)),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(e.to_string()),
        }
    }

    fn set(&self, name: &str, secret: &str) -> std::result::Result<(), String> {
        keyring::Entry::new(SERVICE, name)
            .and_then(|e| e.set_password(secret))
            .map_err(|e| e.to_string())
    }
}

/// A vault that never answers: as a machine without a credential store.
pub struct NoVault(pub &'static str);

impl Vault for NoVault {
    fn get(&self, _: &str) -> std::result::Result<Option<String>, String> {
        Err(self.0.to_string())
    }
    fn set(&self, _: &str, _: &str) -> std::result::Result<(), String> {
        Err(self.0.to_string())
    }
}

/// Where a key is kept.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, specta::Type)]
#[serde(rename_all = "snake_case", tag = "kind", content = "detail")]
pub enum Keeping {
    /// In the operating system's credential store: it outlives this run.
    Saved,
    /// In memory until this run ends (why the credential store could not keep it).
    ThisRun(String),
}

/// The keys of this run: each is fetched (or made and saved) once, then kept in memory so that
/// the credential store is asked once per key and a key never changes within a run.
pub struct Keys {
    vault: Box<dyn Vault>,
    known: Mutex<HashMap<String, (String, Keeping)>>,
}

impl Keys {
    pub fn new(vault: Box<dyn Vault>) -> Self {
        Keys { vault, known: Mutex::new(HashMap::new()) }
    }

    /// The process's keys, in the operating system's credential store.
    pub fn system() -> Arc<Keys> {
        static SYSTEM: OnceLock<Arc<Keys>> = OnceLock::new();
        SYSTEM.get_or_init(|| Arc::new(Keys::new(Box::new(OsVault)))).clone()
    }

    /// The secret named `name`: from this run's memory, else the vault, else made by `make`
    /// and saved (or, where the vault does not answer, kept for this run only).
    pub fn get_or_make(
        &self,
        name: &str,
        make: impl FnOnce() -> Result<String>,
    ) -> Result<(String, Keeping)> {
        let mut known = self.known.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(found) = known.get(name) {
            return Ok(found.clone());
        }
        let found = match self.vault.get(name) {
            Ok(Some(secret)) => (secret, Keeping::Saved),
            Ok(None) => {
                let secret = make()?;
                match self.vault.set(name, &secret) {
                    Ok(()) => (secret, Keeping::Saved),
                    Err(why) => (secret, this_run(&why)),
                }
            }
            Err(why) => (make()?, this_run(&why)),
        };
        known.insert(name.to_string(), found.clone());
        Ok(found)
    }

    /// The secret named `name` if this run or the vault has it; never makes one.
    pub fn find(&self, name: &str) -> Option<String> {
        let known = self.known.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((secret, _)) = known.get(name) {
            return Some(secret.clone());
        }
        drop(known);
        self.vault.get(name).ok().flatten()
    }

    /// The 256-bit key named `name` if this run or the vault has it; never makes one.
    pub fn existing_key(&self, name: &str) -> Result<Option<SealKey>> {
        self.find(name).map(|text| SealKey::from_text(&text)).transpose()
    }

    /// A 256-bit key named `name` (see [`Keys::get_or_make`]).
    pub fn key(&self, name: &str) -> Result<(SealKey, Keeping)> {
        let (text, keeping) = self.get_or_make(name, || {
            Ok(data_encoding::BASE64.encode(&crate::auth::code::random_bytes::<32>()?))
        })?;
        Ok((SealKey::from_text(&text)?, keeping))
    }
}

fn this_run(why: &str) -> Keeping {
    tracing::warn!("credential store: {why}");
    Keeping::ThisRun(format!("this computer's credential store did not answer ({why})"))
}

/// A symmetric key for [`SealKey::seal`] and [`SealKey::open`].
#[derive(Clone)]
pub struct SealKey([u8; 32]);

impl SealKey {
    fn from_text(text: &str) -> Result<Self> {
        let bytes = data_encoding::BASE64
            .decode(text.as_bytes())
            .ok()
            .and_then(|b| <[u8; 32]>::try_from(b).ok())
            .ok_or(Error::Internal("a key in the credential store is not a Gatehouse key"))?;
        Ok(SealKey(bytes))
    }

    /// `plain` encrypted and authenticated (XChaCha20-Poly1305), bound to `context`: a random
    /// 24-byte nonce, then the ciphertext.
    pub fn seal(&self, context: &[u8], plain: &[u8]) -> Result<Vec<u8>> {
        let nonce = crate::auth::code::random_bytes::<24>()?;
        let cipher = XChaCha20Poly1305::new((&self.0).into());
        let sealed = cipher
            .encrypt(XNonce::from_slice(&nonce), Payload { msg: plain, aad: context })
            .map_err(|_| Error::Internal("sealing"))?;
        Ok([nonce.as_slice(), &sealed].concat())
    }

    /// What [`SealKey::seal`] sealed with this key and `context`; `None` when the bytes were
    /// sealed with another key or context, or changed.
    pub fn open(&self, context: &[u8], sealed: &[u8]) -> Option<Vec<u8>> {
        if sealed.len() < 24 {
            return None;
        }
        let (nonce, body) = sealed.split_at(24);
        let cipher = XChaCha20Poly1305::new((&self.0).into());
        cipher.decrypt(XNonce::from_slice(nonce), Payload { msg: body, aad: context }).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_text_opens_with_its_key_and_context_only() {
        let keys = Keys::new(Box::new(NoVault("none here")));
        let (key, keeping) = keys.key("a").unwrap();
        assert!(matches!(keeping, Keeping::ThisRun(_)));
        let sealed = key.seal(b"ctx", b"the code 1234").unwrap();
        assert!(!sealed.windows(4).any(|w| w == b"1234"));
        assert_eq!(key.open(b"ctx", &sealed).as_deref(), Some(&b"the code 1234"[..]));
        assert_eq!(key.open(b"other", &sealed), None);
        let (other, _) = keys.key("b").unwrap();
        assert_eq!(other.open(b"ctx", &sealed), None);
        let mut flipped = sealed.clone();
        flipped[30] ^= 1;
        assert_eq!(key.open(b"ctx", &flipped), None);
        // Within a run a key never changes.
        let (again, _) = keys.key("a").unwrap();
        assert_eq!(again.open(b"ctx", &sealed).as_deref(), Some(&b"the code 1234"[..]));
    }
}
