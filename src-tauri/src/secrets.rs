//! The SMTP password: kept in the operating system's credential store (Secret Service on
//! Linux, the Keychain on macOS, Credential Manager on Windows), never in the store or logs.
//! Where no credential store answers, it is kept in memory until Gatehouse closes, and the
//! window says so and asks for it again next time.

use gatehouse_core::mail::MailSettings;
use serde::Serialize;
use std::sync::Mutex;

const SERVICE: &str = "app.gatehouse.desktop";

/// Where the password for the current settings is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "snake_case", tag = "kind", content = "detail")]
pub enum PasswordState {
    /// The server takes mail without signing in.
    NotNeeded,
    /// In the operating system's credential store.
    Saved,
    /// In memory until Gatehouse closes: the credential store could not be used (why).
    ThisSession(String),
    /// Not known: it must be entered (the credential store's answer, when it failed).
    Missing(Option<String>),
}

/// The password of the configured server, as this run knows it: (credential name, password),
/// loaded from the credential store or entered.
#[derive(Default)]
pub struct SmtpPassword {
    known: Mutex<Option<(String, String)>>,
}

/// The credential's name: one per server and user, so that a changed server never gets
/// another server's password.
fn account(settings: &MailSettings) -> String {
    format!("smtp:{}@{}:{}", settings.username, settings.host, settings.port)
}

impl SmtpPassword {
    /// The password for `settings`, from memory or the credential store. Blocking (D-Bus on
    /// Linux): call off the UI thread.
    pub fn get(&self, settings: &MailSettings) -> Option<String> {
        if !settings.needs_password() {
            return None;
        }
        let name = account(settings);
        if let Some((known_for, password)) = &*self.lock() {
            if *known_for == name {
                return Some(password.clone());
            }
        }
        let found = keyring::Entry::new(SERVICE, &name).and_then(|e| e.get_password());
        match found {
            Ok(password) => {
                *self.lock() = Some((name, password.clone()));
                Some(password)
            }
            Err(keyring::Error::NoEntry) => None,
            Err(e) => {
                note_failure(&e);
                None
            }
        }
    }

    /// Keeps `password` for `settings`: in the credential store when it answers, else in
    /// memory for this run.
    pub fn set(&self, settings: &MailSettings, password: String) -> PasswordState {
        let name = account(settings);
        let saved = keyring::Entry::new(SERVICE, &name).and_then(|e| e.set_password(&password));
        *self.lock() = Some((name, password));
        match saved {
            Ok(()) => PasswordState::Saved,
            Err(e) => PasswordState::ThisSession(note_failure(&e)),
        }
    }

    /// Forgets the password of `settings` (sending turned off, or the server changed).
    pub fn forget(&self, settings: &MailSettings) {
        let name = account(settings);
        if let Ok(entry) = keyring::Entry::new(SERVICE, &name) {
            let _ = entry.delete_credential();
        }
        let mut known = self.lock();
        if known.as_ref().is_some_and(|(n, _)| *n == name) {
            *known = None;
        }
    }

    /// Where the password for `settings` is. Blocking, as [`SmtpPassword::get`].
    pub fn state(&self, settings: Option<&MailSettings>) -> PasswordState {
        let Some(settings) = settings.filter(|s| s.needs_password()) else {
            return PasswordState::NotNeeded;
        };
        let name = account(settings);
        let in_memory = self.lock().as_ref().is_some_and(|(known_for, _)| *known_for == name);
        match keyring::Entry::new(SERVICE, &name).and_then(|e| e.get_password()) {
            Ok(password) => {
                *self.lock() = Some((name, password));
                PasswordState::Saved
            }
            Err(keyring::Error::NoEntry) if in_memory => {
                PasswordState::ThisSession("it was entered this session but not saved".to_string())
            }
            Err(keyring::Error::NoEntry) => PasswordState::Missing(None),
            Err(e) if in_memory => PasswordState::ThisSession(note_failure(&e)),
            Err(e) => PasswordState::Missing(Some(note_failure(&e))),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<(String, String)>> {
        self.known.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A sentence for why the credential store could not be used.
fn note_failure(e: &keyring::Error) -> String {
    tracing::warn!("credential store: {e}");
    match e {
        keyring::Error::NoStorageAccess(_) | keyring::Error::PlatformFailure(_) => format!(
            "this computer's credential store is not available ({e}); Gatehouse keeps the \
             password only until it closes"
        ),
        other => format!("the credential store refused it ({other})"),
    }
}
