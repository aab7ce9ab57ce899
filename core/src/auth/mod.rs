//! Passwords and sessions.

pub mod code;
pub mod password;
pub mod session;
pub mod throttle;
