//! The nouns of the directory.

pub mod audit;
pub mod email;
pub mod factors;
pub mod invitation;
pub mod name_order;
pub mod org;
pub mod permission;
pub mod review;
pub mod role;
pub mod user;

pub use audit::{AuditAction, AuditActor, AuditEvent, Outcome};
pub use email::Email;
pub use invitation::{CodeRef, CodeState, InvitationInfo, IssuedCode};
pub use org::{Organization, Settings};
pub use permission::{Action, Module, Permission, PermissionSet};
pub use review::{
    ChainHead, Decision, DecisionInput, EntryOutcome, Review, ReviewEntry, ReviewHeader, ReviewId,
    ReviewList, ReviewSummary, ReviewedUser, Reviewer, SignOff,
};
pub use role::{Role, RoleKey};
pub use user::{User, UserId, UserStatus, UserView};
