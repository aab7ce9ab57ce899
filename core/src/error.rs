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
    InvalidSetting,
    PasswordTooShort,
    PasswordTooLong,
    WeakPassword,
    PasswordNeedsLetterAndDigit,
    PasswordReused,
    WrongPassword,
    EmailTaken,
    EmailInactive,
    AlreadyInvited,
    InvalidCredentials,
    LockedOut,
    NotSignedIn,
    SessionExpired,
    PermissionDenied,
    OwnerOnly,
    LastOwner,
    OwnStatus,
    OwnRoles,
    Escalation,
    NoRoles,
    UnknownRole,
    BuiltInRole,
    RoleExists,
    RoleInUse,
    UserNotFound,
    InvalidTransition,
    InvalidCode,
    InvitationExpired,
    InvitationCancelled,
    InvitationReplaced,
    ResetCodeExpired,
    StoreLocked,
    StoreTooNew,
    StoreDamaged,
    Internal,
    InvalidFile,
    BackupInvalid,
    FileError,
    OwnerRequired,
    MessageNotFound,
    NotDominant,
    BackupDamaged,
    BackupTruncated,
    BackupWrongPassphrase,
    BackupPassphraseNeeded,
    BackupKeyMissing,
    BackupOtherOrganization,
    BackupUnencrypted,
    CredentialStoreUnavailable,
    AuditRewritten,
    AuditChainBroken,
    SecondFactorRequired,
    SecondFactorInvalid,
    SecondFactorUnreadable,
    EnrolmentRequired,
    NotEnrolling,
    NoSecondFactor,
    PasswordExpired,
    RecoveryCodeInvalid,
    ApprovalRequired,
    InvalidDate,
    ReviewNotFound,
    ReviewSignedOff,
    ReviewInProgress,
    ReviewIncomplete,
    NotInReview,
    StoreBehind,
    DiskFull,
    StorageFailed,
    TooManyUsers,
}

/// The field of a form a refusal is about, where its code alone does not say which (every
/// setting refuses with `invalid_setting`): the UI shows the sentence under that field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    InvitationLifetime,
    IdleTimeout,
    PasswordMaxAge,
    DormantDays,
    ReviewMonths,
    MailHost,
    MailPort,
    MailSecurity,
    MailUsername,
    MailFromAddress,
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
    /// A setting out of its range, naming the field when one form field holds it.
    #[error("{message}")]
    InvalidSetting { field: Option<Field>, message: &'static str },
    #[error("The password must be at least {min} characters long.")]
    PasswordTooShort { min: usize },
    #[error("The password must be at most {max} characters long.")]
    PasswordTooLong { max: usize },
    #[error("This password is too easy to guess. {hint}")]
    WeakPassword { hint: String },
    /// PCI DSS v4 requirement 8.3.6: at least one letter and at least one digit.
    #[error("The password must contain at least one letter and one digit.")]
    PasswordNeedsLetterAndDigit,
    #[error("Choose a password you have not used recently.")]
    PasswordReused,
    #[error("Your current password is not correct.")]
    WrongPassword,
    #[error("{0} already belongs to a user.")]
    EmailTaken(String),
    #[error("{0} belongs to an inactive user: reactivate them instead of inviting again.")]
    EmailInactive(String),
    #[error("{0} already has a pending invitation: resend it instead.")]
    AlreadyInvited(String),
    #[error("The email or password is not correct.")]
    InvalidCredentials,
    #[error("Too many failed sign-in attempts. Try again in {minutes} minutes, or ask an Owner or Admin to unlock the account.")]
    LockedOut { minutes: i64 },
    #[error("Please sign in.")]
    NotSignedIn,
    #[error("Your session has ended. Please sign in again.")]
    SessionExpired,
    #[error("You do not have permission to do that.")]
    PermissionDenied,
    #[error("Only an Owner may grant or remove the Owner role, or change another Owner.")]
    OwnerOnly,
    #[error("There must always be at least one Active Owner: make someone else an Owner first.")]
    LastOwner,
    #[error("You cannot change your own status.")]
    OwnStatus,
    #[error("You cannot change your own roles, except to give up Owner while another Active Owner exists.")]
    OwnRoles,
    #[error("You cannot grant permissions you do not hold yourself.")]
    Escalation,
    #[error("Choose at least one role.")]
    NoRoles,
    #[error("There is no role “{0}”.")]
    UnknownRole(String),
    #[error("Built-in roles cannot be changed or deleted.")]
    BuiltInRole,
    #[error("A role “{0}” already exists.")]
    RoleExists(String),
    #[error("This role is held by {users} {}: take it away from them first.", if *users == 1 { "user" } else { "users" })]
    RoleInUse { users: usize },
    #[error("That user does not exist.")]
    UserNotFound,
    #[error("{0}")]
    InvalidTransition(&'static str),
    #[error("That code is not valid. Check it and try again.")]
    InvalidCode,
    #[error("This invitation has expired. Ask for a new one.")]
    InvitationExpired,
    #[error("This invitation was cancelled.")]
    InvitationCancelled,
    #[error("This invitation was replaced by a newer one: use the code from the latest message.")]
    InvitationReplaced,
    #[error("This reset code has expired or was replaced. Ask for a new one.")]
    ResetCodeExpired,
    #[error(
        "The Gatehouse data is in use by another Gatehouse window or command. Close it and try again."
    )]
    StoreLocked,
    #[error("This data was written by a newer version of Gatehouse (schema {found}); please update Gatehouse.")]
    StoreTooNew { found: u32 },
    /// A record the store cannot do without is unreadable; names which.
    #[error("The Gatehouse data is damaged ({0} cannot be read): restore it from a backup.")]
    StoreDamaged(&'static str),
    #[error("Something went wrong on this computer ({0}). Nothing was changed.")]
    Internal(&'static str),
    #[error("{0}")]
    InvalidFile(String),
    #[error("This backup cannot be used: {0}. Nothing was restored.")]
    BackupInvalid(String),
    #[error(
        "This backup has been changed or damaged since it was written ({0}). Nothing was restored."
    )]
    BackupDamaged(String),
    #[error(
        "This backup is cut short: it was not written or copied in full. Nothing was restored."
    )]
    BackupTruncated,
    #[error("That passphrase does not open this backup. Nothing was restored.")]
    BackupWrongPassphrase,
    #[error(
        "This backup is locked with a passphrase: type the passphrase chosen when it was made."
    )]
    BackupPassphraseNeeded,
    #[error("This backup was locked with a key kept in the credential store of the computer that made it, and this computer does not have that key. Restore a backup made with a passphrase instead. Nothing was restored.")]
    BackupKeyMissing,
    #[error("This backup is of another organization ({0}), not of the one on this computer. Nothing was restored.")]
    BackupOtherOrganization(String),
    #[error("This backup was written by an older Gatehouse, without encryption: nothing proves it has not been changed since (anyone who could write the file could have added an Owner). Restore it only if you know where it has been, and confirm that you accept that risk.")]
    BackupUnencrypted,
    #[error("{0}")]
    CredentialStoreUnavailable(String),
    #[error("The audit log has been rewritten since this backup was made: event #{0} is not the one the backup holds.")]
    AuditRewritten(u64),
    #[error("Today's audit log does not verify on its own ({0}), so it cannot be held against a backup. Restore the store from a backup.")]
    AuditChainBroken(String),
    #[error("{0}")]
    FileError(String),
    #[error("Only an Owner may do that.")]
    OwnerRequired,
    #[error("That message is not in the outbox.")]
    MessageNotFound,
    /// Rule 6: the target holds a permission the actor lacks. Carries the target's name.
    #[error("{0} holds permissions you do not have: ask an Owner.")]
    NotDominant(String),
    #[error("Type the 6-digit code from your authenticator app, or one of your recovery codes, to finish signing in.")]
    SecondFactorRequired,
    #[error("That code is not correct: type the current code from your authenticator app, or an unused recovery code.")]
    SecondFactorInvalid,
    #[error("This computer no longer holds the key to your authenticator's secret: sign in with a recovery code, then set up your authenticator again.")]
    SecondFactorUnreadable,
    #[error("Your role needs a second factor: set up an authenticator app to go on.")]
    EnrolmentRequired,
    #[error("No authenticator set-up is waiting to be confirmed: start it again.")]
    NotEnrolling,
    #[error("{0} has no second factor.")]
    NoSecondFactor(String),
    #[error("Your password has expired: choose a new one to go on.")]
    PasswordExpired,
    #[error("The email or recovery code is not correct.")]
    RecoveryCodeInvalid,
    /// PCI DSS v4 8.2.4: the settings ask for an approval reference for these roles.
    #[error("Granting {0} needs an approval reference: say who approved it and the ticket or email that records it.")]
    ApprovalRequired(String),
    #[error("{0}")]
    InvalidDate(&'static str),
    #[error("That access review does not exist.")]
    ReviewNotFound,
    #[error("This access review is signed off: it can no longer change.")]
    ReviewSignedOff,
    #[error("An access review is already in progress: finish or sign off that one first.")]
    ReviewInProgress,
    #[error("{0}")]
    ReviewIncomplete(String),
    #[error("{0} is not part of this access review.")]
    NotInReview(String),
    /// The store opened holding less than it had acknowledged (see `store::saved`).
    #[error("{}", behind(*saved, *found))]
    StoreBehind { saved: u64, found: u64 },
    /// The store opened on another history than the one it acknowledged.
    #[error("The Gatehouse data does not hold the changes it had saved: its audit log's event #{0} is not the one it recorded. Nothing was changed: restore the newest backup.")]
    StoreDiverged(u64),
    /// The data folder held an organization (its backups, or a store a restore kept aside)
    /// but its store folder is gone.
    #[error("The Gatehouse data folder has backups but its store is missing, so Gatehouse will not set up a new organization over it. Restore the newest backup, or move the backups folder away to start anew.")]
    StoreMissing,
    #[error("The disk is full, so this was not saved. Free some space, then start Gatehouse again before making more changes.")]
    DiskFull,
    #[error("Gatehouse could not save to the disk (it reported an error), so this change may not have been saved. Gatehouse will not change anything more until it is started again; check the disk, then reopen Gatehouse.")]
    StorageFailed,
    /// A bulk request naming more users than one request may (see `ops::bulk`), or a "select
    /// all matching" that would select more.
    #[error("At most {} users can be acted on at once: narrow the list with a search or a filter, or split the request into smaller ones. Nothing was changed.", grouped(*max))]
    TooManyUsers { max: usize },
}

/// `n` with its thousands grouped by commas, as the sentences show numbers: 10,000.
fn grouped(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

/// The sentence for [`Error::StoreBehind`].
fn behind(saved: u64, found: u64) -> String {
    if found == 0 {
        return "The Gatehouse data held an organization but now opens empty (after a power cut \
                or a disk fault): Gatehouse will not set up a new one over it. Nothing was \
                changed: restore the newest backup."
            .to_string();
    }
    format!(
        "The Gatehouse data opens holding less than it had saved (its audit log reaches event \
         #{found}, but #{saved} had been saved), after a power cut or a disk fault. Nothing was \
         changed: restore the newest backup."
    )
}

/// A failure of the disk under the store, or of a file Gatehouse keeps beside it.
pub(crate) fn storage(e: &std::io::Error) -> Error {
    if is_no_space(e) {
        return Error::DiskFull;
    }
    tracing::error!("storage: {e}");
    Error::StorageFailed
}

fn is_no_space(e: &std::io::Error) -> bool {
    e.kind() == std::io::ErrorKind::StorageFull
}

impl Error {
    pub fn code(&self) -> ErrorCode {
        use ErrorCode as C;
        match self {
            Error::AlreadySetUp => C::AlreadySetUp,
            Error::NotSetUp => C::NotSetUp,
            Error::InvalidEmail(_) => C::InvalidEmail,
            Error::InvalidName(_) => C::InvalidName,
            Error::InvalidSetting { .. } => C::InvalidSetting,
            Error::PasswordTooShort { .. } => C::PasswordTooShort,
            Error::PasswordTooLong { .. } => C::PasswordTooLong,
            Error::WeakPassword { .. } => C::WeakPassword,
            Error::PasswordNeedsLetterAndDigit => C::PasswordNeedsLetterAndDigit,
            Error::PasswordReused => C::PasswordReused,
            Error::WrongPassword => C::WrongPassword,
            Error::EmailTaken(_) => C::EmailTaken,
            Error::EmailInactive(_) => C::EmailInactive,
            Error::AlreadyInvited(_) => C::AlreadyInvited,
            Error::InvalidCredentials => C::InvalidCredentials,
            Error::LockedOut { .. } => C::LockedOut,
            Error::NotSignedIn => C::NotSignedIn,
            Error::SessionExpired => C::SessionExpired,
            Error::PermissionDenied => C::PermissionDenied,
            Error::OwnerOnly => C::OwnerOnly,
            Error::LastOwner => C::LastOwner,
            Error::OwnStatus => C::OwnStatus,
            Error::OwnRoles => C::OwnRoles,
            Error::Escalation => C::Escalation,
            Error::NoRoles => C::NoRoles,
            Error::UnknownRole(_) => C::UnknownRole,
            Error::BuiltInRole => C::BuiltInRole,
            Error::RoleExists(_) => C::RoleExists,
            Error::RoleInUse { .. } => C::RoleInUse,
            Error::UserNotFound => C::UserNotFound,
            Error::InvalidTransition(_) => C::InvalidTransition,
            Error::InvalidCode => C::InvalidCode,
            Error::InvitationExpired => C::InvitationExpired,
            Error::InvitationCancelled => C::InvitationCancelled,
            Error::InvitationReplaced => C::InvitationReplaced,
            Error::ResetCodeExpired => C::ResetCodeExpired,
            Error::StoreLocked => C::StoreLocked,
            Error::StoreTooNew { .. } => C::StoreTooNew,
            Error::StoreDamaged(_) => C::StoreDamaged,
            Error::Internal(_) => C::Internal,
            Error::InvalidFile(_) => C::InvalidFile,
            Error::BackupInvalid(_) => C::BackupInvalid,
            Error::FileError(_) => C::FileError,
            Error::BackupDamaged(_) => C::BackupDamaged,
            Error::BackupTruncated => C::BackupTruncated,
            Error::BackupWrongPassphrase => C::BackupWrongPassphrase,
            Error::BackupPassphraseNeeded => C::BackupPassphraseNeeded,
            Error::BackupKeyMissing => C::BackupKeyMissing,
            Error::BackupOtherOrganization(_) => C::BackupOtherOrganization,
            Error::BackupUnencrypted => C::BackupUnencrypted,
            Error::CredentialStoreUnavailable(_) => C::CredentialStoreUnavailable,
            Error::AuditRewritten(_) => C::AuditRewritten,
            Error::AuditChainBroken(_) => C::AuditChainBroken,
            Error::OwnerRequired => C::OwnerRequired,
            Error::MessageNotFound => C::MessageNotFound,
            Error::NotDominant(_) => C::NotDominant,
            Error::SecondFactorRequired => C::SecondFactorRequired,
            Error::SecondFactorInvalid => C::SecondFactorInvalid,
            Error::SecondFactorUnreadable => C::SecondFactorUnreadable,
            Error::EnrolmentRequired => C::EnrolmentRequired,
            Error::NotEnrolling => C::NotEnrolling,
            Error::NoSecondFactor(_) => C::NoSecondFactor,
            Error::PasswordExpired => C::PasswordExpired,
            Error::RecoveryCodeInvalid => C::RecoveryCodeInvalid,
            Error::ApprovalRequired(_) => C::ApprovalRequired,
            Error::InvalidDate(_) => C::InvalidDate,
            Error::ReviewNotFound => C::ReviewNotFound,
            Error::ReviewSignedOff => C::ReviewSignedOff,
            Error::ReviewInProgress => C::ReviewInProgress,
            Error::ReviewIncomplete(_) => C::ReviewIncomplete,
            Error::NotInReview(_) => C::NotInReview,
            Error::StoreBehind { .. } | Error::StoreDiverged(_) | Error::StoreMissing => {
                C::StoreBehind
            }
            Error::DiskFull => C::DiskFull,
            Error::StorageFailed => C::StorageFailed,
            Error::TooManyUsers { .. } => C::TooManyUsers,
        }
    }

    /// A refusal by the permission matrix or by a rule of "Who may manage whom" (domain.md
    /// rules 1-7): the refusals the audit log records, in the refused command's transaction.
    pub fn is_policy_refusal(&self) -> bool {
        matches!(
            self,
            Error::PermissionDenied
                | Error::OwnerOnly
                | Error::LastOwner
                | Error::OwnStatus
                | Error::OwnRoles
                | Error::Escalation
                | Error::NotDominant(_)
                | Error::OwnerRequired
                | Error::ApprovalRequired(_)
                | Error::ReviewSignedOff
        )
    }

    /// Wraps an internal failure: the cause goes to the log, the caller gets a generic sentence.
    pub(crate) fn internal(what: &'static str, cause: impl std::fmt::Display) -> Self {
        tracing::error!("{what}: {cause}");
        Error::Internal(what)
    }

    /// A file the person named could not be read or written.
    pub fn file(what: &str, path: &std::path::Path, cause: &std::io::Error) -> Self {
        if is_no_space(cause) {
            return Error::DiskFull;
        }
        Error::FileError(format!("Cannot {what} {}: {}.", path.display(), io_reason(cause)))
    }

    /// `invalid_setting` about `field`.
    pub(crate) fn setting(field: Field, message: &'static str) -> Self {
        Error::InvalidSetting { field: Some(field), message }
    }

    /// The form field the refusal is about, when its code does not say.
    pub fn field(&self) -> Option<Field> {
        match self {
            Error::InvalidSetting { field, .. } => *field,
            _ => None,
        }
    }

    /// The form sent across a boundary (IPC, `--json`).
    pub fn to_body(&self) -> ErrorBody {
        ErrorBody { code: self.code(), message: self.to_string(), field: self.field() }
    }
}

/// An I/O error as a person reads it ("No such file or directory" without the "os error 2").
fn io_reason(e: &std::io::Error) -> String {
    let text = e.to_string();
    match text.find(" (os error") {
        Some(i) => text[..i].to_string(),
        None => text,
    }
}

impl From<sled::Error> for Error {
    fn from(e: sled::Error) -> Self {
        match e {
            sled::Error::Io(io) => storage(&io),
            other => Error::internal("storage", other),
        }
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
    /// The form field it is about, when the code does not say (see [`Field`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<Field>,
}

impl ErrorBody {
    /// A refusal about no field in particular.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ErrorBody { code, message: message.into(), field: None }
    }
}
