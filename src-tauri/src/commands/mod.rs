//! Thin commands: take the session from state, call core, translate the result.

pub mod session;
pub mod users;
