//! Thin commands: take the session from state, call core, translate the result.

pub mod account;
pub mod backups;
pub mod files;
pub mod governance;
pub mod mail;
pub mod organization;
pub mod review;
pub mod roles;
pub mod session;
pub mod users;
