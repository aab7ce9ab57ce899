//! The verbs of the directory, one use case a file. Each is a method on [`crate::Directory`].

mod roles;
pub mod session;
mod setup;
mod users;

pub use session::{Actor, SessionInfo, SignedIn};
pub use setup::SetupInput;
