//! Passwords and sessions.

pub mod code;
pub mod password;
pub mod recovery;
pub mod session;
pub mod throttle;
pub mod totp;
