//! A real SMTP server on loopback for tests: `mail_server.py` (aiosmtpd) in a child process,
//! and Python's standard email parser to check messages. Shared by the core mail tests and the
//! app's end-to-end email test (`#[path]`), so it uses no Gatehouse type.
#![allow(dead_code)] // each user takes what it needs

use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;

/// A Python with aiosmtpd: Debian's python3-aiosmtpd lives in the system interpreter.
pub fn python() -> &'static str {
    static FOUND: OnceLock<&'static str> = OnceLock::new();
    FOUND.get_or_init(|| {
        ["/usr/bin/python3", "python3"]
            .into_iter()
            .find(|py| {
                Command::new(py).args(["-c", "import aiosmtpd"]).status().is_ok_and(|s| s.success())
            })
            .expect("a python3 with aiosmtpd (apt install python3-aiosmtpd; make deps does)")
    })
}

pub fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../core/tests/mail_server.py")
}

/// A free port on loopback, for a server started now or later.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// The test SMTP server: a real process speaking SMTP on 127.0.0.1.
pub struct MailServer {
    child: Child,
    pub port: u16,
    spool: tempfile::TempDir,
}

/// One message as the server received it.
pub struct Received {
    pub rcpt_tos: Vec<String>,
    pub headers: Value,
    pub text: String,
    pub html: String,
    pub raw: String,
}

impl MailServer {
    pub fn start() -> Self {
        Self::start_on(free_port(), None)
    }

    pub fn start_on(port: u16, auth: Option<&str>) -> Self {
        let spool = tempfile::tempdir().unwrap();
        let mut cmd = Command::new(python());
        cmd.arg(script())
            .args(["serve", "--port", &port.to_string(), "--spool"])
            .arg(spool.path())
            .stdout(Stdio::piped());
        if let Some(auth) = auth {
            cmd.args(["--auth", auth]);
        }
        let mut child = cmd.spawn().expect("start the test mail server");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        assert_eq!(line.trim(), "ready", "the mail server did not start");
        MailServer { child, port, spool }
    }

    pub fn received(&self) -> Vec<Received> {
        let mut names: Vec<PathBuf> = std::fs::read_dir(self.spool.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "eml"))
            .collect();
        names.sort();
        names
            .iter()
            .map(|eml| {
                let envelope: Value =
                    serde_json::from_slice(&std::fs::read(eml.with_extension("json")).unwrap())
                        .unwrap();
                let parsed = parse_eml(eml);
                Received {
                    rcpt_tos: serde_json::from_value(envelope["rcpt_tos"].clone()).unwrap(),
                    headers: parsed["headers"].clone(),
                    text: parsed["text"].as_str().unwrap_or_default().to_string(),
                    html: parsed["html"].as_str().unwrap_or_default().to_string(),
                    raw: std::fs::read_to_string(eml).unwrap(),
                }
            })
            .collect()
    }
}

impl Drop for MailServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Every file under `root` whose bytes hold `code`, as shown or without its dashes.
pub fn files_holding(root: &Path, code: &str) -> Vec<PathBuf> {
    let forms = [code.to_string(), code.replace('-', "")];
    let mut found = Vec::new();
    let mut folders = vec![root.to_path_buf()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                folders.push(path);
            } else if std::fs::read(&path).is_ok_and(|bytes| {
                forms.iter().any(|f| bytes.windows(f.len()).any(|w| w == f.as_bytes()))
            }) {
                found.push(path);
            }
        }
    }
    found
}

/// Parses an .eml with Python's standard email parser; asserts it found no defect.
pub fn parse_eml(path: &Path) -> Value {
    let out = Command::new(python()).arg(script()).arg("parse").arg(path).output().unwrap();
    assert!(out.status.success(), "parse failed: {}", String::from_utf8_lossy(&out.stderr));
    let parsed: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(parsed["defects"], serde_json::json!([]), "the message has defects");
    parsed
}
