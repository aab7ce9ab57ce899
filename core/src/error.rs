//! The one error type. Every refusal has a stable code (asserted by tests, branched on by the
//! UI) and a sentence a person understands (shown by the UI). Internal causes are logged,
//! never sent across the boundary.

use serde::{Deserialize, Serialize};

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Stable, machine-readable error codes. Never rename one: the UI and scripts depend on them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    AlreadySetUp,
    NotSetUp,
    InvalidEmail,
    InvalidName,
    PasswordTooShort,
    PasswordTooLong,
    WeakPassword,
    EmailTaken,
    InvalidCredentials,
    NotSignedIn,
    SessionExpired,
    PermissionDenied,
    StoreLocked,
    StoreTooNew,
    Internal,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("Gatehouse is already set up on this computer.")]
    AlreadySetUp,
    #[error("Gatehouse is not set up yet: create the organization first.")]
    NotSetUp,
    #[error("“{0}” is not a valid email address.")]
    InvalidEmail(String),
    #[error("{0} must be 1 to 100 characters, without control characters.")]
    InvalidName(&'static str),
    #[error("The password must be at least {min} characters long.")]
    PasswordTooShort { min: usize },
    #[error("The password must be at most {max} characters long.")]
    PasswordTooLong { max: usize },
    #[error("This password is too easy to guess. {hint}")]
    WeakPassword { hint: String },
    #[error("{0} already belongs to a user.")]
    EmailTaken(String),
    #[error("The email or password is not correct.")]
    InvalidCredentials,
    #[error("Please sign in.")]
    NotSignedIn,
    #[error("Your session has ended. Please sign in again.")]
    SessionExpired,
    #[error("You do not have permission to do that.")]
    PermissionDenied,
    #[error(
        "The Gatehouse data is in use by another Gatehouse window or command. Close it and try again."
    )]
    StoreLocked,
    #[error("This data was written by a newer version of Gatehouse (schema {found}); please update Gatehouse.")]
    StoreTooNew { found: u32 },
    #[error("Something went wrong on this computer ({0}). Nothing was changed.")]
    Internal(&'static str),
}

impl Error {
    pub fn code(&self) -> ErrorCode {
        match self {
            Error::AlreadySetUp => ErrorCode::AlreadySetUp,
            Error::NotSetUp => ErrorCode::NotSetUp,
            Error::InvalidEmail(_) => ErrorCode::InvalidEmail,
            Error::InvalidName(_) => ErrorCode::InvalidName,
            Error::PasswordTooShort { .. } => ErrorCode::PasswordTooShort,
            Error::PasswordTooLong { .. } => ErrorCode::PasswordTooLong,
            Error::WeakPassword { .. } => ErrorCode::WeakPassword,
            Error::EmailTaken(_) => ErrorCode::EmailTaken,
            Error::InvalidCredentials => ErrorCode::InvalidCredentials,
            Error::NotSignedIn => ErrorCode::NotSignedIn,
            Error::SessionExpired => ErrorCode::SessionExpired,
            Error::PermissionDenied => ErrorCode::PermissionDenied,
            Error::StoreLocked => ErrorCode::StoreLocked,
            Error::StoreTooNew { .. } => ErrorCode::StoreTooNew,
            Error::Internal(_) => ErrorCode::Internal,
        }
    }

    /// Wraps an internal failure: the cause goes to the log, the caller gets a generic sentence.
    pub(crate) fn internal(what: &'static str, cause: impl std::fmt::Display) -> Self {
        tracing::error!("{what}: {cause}");
        Error::Internal(what)
    }

    /// The form sent across a boundary (IPC, `--json`).
    pub fn to_body(&self) -> ErrorBody {
        ErrorBody { code: self.code(), message: self.to_string() }
    }
}

impl From<sled::Error> for Error {
    fn from(e: sled::Error) -> Self {
        Error::internal("storage", e)
    }
}

impl From<sled::transaction::TransactionError<Error>> for Error {
    fn from(e: sled::transaction::TransactionError<Error>) -> Self {
        match e {
            sled::transaction::TransactionError::Abort(e) => e,
            sled::transaction::TransactionError::Storage(e) => e.into(),
        }
    }
}

/// `{ code, message }`: what the UI receives for every refusal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct ErrorBody {
    pub code: ErrorCode,
    pub message: String,
}
