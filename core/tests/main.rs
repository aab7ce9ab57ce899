//! Gatehouse core's integration tests: one binary, a file per area. Each test drives a real
//! sled store in a temporary directory and ends with `verify()`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly
mod support;

mod invitations;
mod permissions_table;
mod setup;
mod sign_in;
mod store;
