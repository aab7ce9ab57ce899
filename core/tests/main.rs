//! Gatehouse core's integration tests: one binary, a file per area. Each test drives a real
//! sled store in a temporary directory and ends with `verify()`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly
mod support;

mod audit;
mod backups;
mod bulk;
mod crash;
mod detail;
mod dominance;
mod fuzz;
mod going_back;
mod governance;
mod growth;
mod invitations;
mod lockout;
mod mail;
mod mail_support;
mod model;
mod passwords;
mod permissions_table;
#[cfg(target_os = "linux")] // faultfs is FUSE on Linux
mod powercut;
mod private_files;
mod review;
mod role_copies;
mod roles;
mod scale;
mod sealed;
mod second_factor;
mod sessions;
mod settings;
mod setup;
mod sign_in;
mod status;
mod store;
mod takeover;
