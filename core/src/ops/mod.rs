//! The verbs of the directory, one use case a file. Each is a method on [`crate::Directory`].

mod account;
mod audit_log;
mod bulk;
mod codes;
pub mod governance;
mod import;
pub(crate) mod invite;
mod manage;
mod review;
mod review_report;
mod roles;
mod second_factor;
pub mod session;
mod settings;
mod setup;
mod users;

pub use audit_log::{AuditCount, AuditPage, AuditQuery};
pub use bulk::{BulkAction, BulkOutcome, MAX_BULK_USERS};
pub use codes::{AcceptInput, ResetInput};
pub use import::{ImportOutcome, ImportReport, ImportRow};
pub use invite::{InviteOutcome, InviteRequest, Invitee};
pub use review::REVIEW_WARNING_DAYS;
pub use roles::{RoleCopy, RoleInput, RoleView};
pub use second_factor::{Enrolled, Enrolment, RecoverInput};
pub use session::{Actor, SessionInfo, SignedIn};
pub use settings::{SettingsInput, TestEmail};
pub use setup::SetupInput;
pub use users::{Grant, RoleReach, SecondFactorReach, UserDetail, UserPage, UserQuery, UserSort};
