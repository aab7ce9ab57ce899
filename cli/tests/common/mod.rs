//! What every contract test reads of a finished `gatehouse` process, shared by the command
//! line's test files (each includes it with `mod common;`).
#![allow(dead_code)] // each file uses what it needs

use serde_json::Value;

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("{e}: {}", self.stdout))
    }

    pub fn ok(&self) -> &Self {
        assert_eq!(self.code, 0, "{}{}", self.stderr, self.stdout);
        self
    }

    /// Exit 1 with `error[CODE]: …` first on stderr.
    pub fn refused(&self, code: &str) -> &Self {
        assert_eq!(self.code, 1, "{}{}", self.stderr, self.stdout);
        assert!(self.stderr.starts_with(&format!("error[{code}]: ")), "{}", self.stderr);
        self
    }
}
