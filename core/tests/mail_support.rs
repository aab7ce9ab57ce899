//! A real SMTP server on loopback for tests: `mail_server.py` (aiosmtpd) in a child process,
//! and Python's standard email parser to check messages. Shared by the core mail tests and the
//! app's end-to-end email test (`#[path]`), so it uses no Gatehouse type.
#![allow(dead_code)] // each user takes what it needs

use serde_json::Value;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::sync::OnceLock;
use std::time::Duration;

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

/// How long the server may take to say it is listening: a Python start, on a loaded machine.
const START_WITHIN: Duration = Duration::from_secs(60);

/// The test SMTP server: a real process speaking SMTP on 127.0.0.1, on a port it chose.
pub struct MailServer {
    child: Child,
    pub port: u16,
    spool: tempfile::TempDir,
    lines: Receiver<String>,
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
    /// A server listening now.
    pub fn start() -> Self {
        Self::spawn(None, false).listening()
    }

    /// A server listening now that requires the client to sign in with `auth` (`user:password`).
    pub fn start_with_auth(auth: &str) -> Self {
        Self::spawn(Some(auth), false).listening()
    }

    /// A server whose port is bound but not listened on until `listen`: until then a
    /// connection to `port` is refused, as to a server that is down. The port stays the
    /// server's all along (a port found free and then released could be taken by another
    /// program before the server came up on it, which a test would then talk to).
    pub fn down() -> Self {
        let mut server = Self::spawn(None, true);
        let line = server.next_line("holding PORT");
        server.port = Self::port_in(&line, "holding");
        server
    }

    /// Brings up a server made by `down`, on the same port.
    pub fn listen(&mut self) {
        let stdin = self.child.stdin.as_mut().expect("a held server's stdin");
        stdin
            .write_all(b"listen\n")
            .and_then(|()| stdin.flush())
            .expect("tell the server to listen");
        let line = self.next_line("ready PORT");
        assert_eq!(Self::port_in(&line, "ready"), self.port, "the held port");
    }

    fn spawn(auth: Option<&str>, hold: bool) -> Self {
        let spool = tempfile::tempdir().unwrap();
        let mut cmd = Command::new(python());
        cmd.arg(script())
            .args(["serve", "--spool"])
            .arg(spool.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped());
        if let Some(auth) = auth {
            cmd.args(["--auth", auth]);
        }
        if hold {
            cmd.arg("--hold");
        }
        let mut child = cmd.spawn().expect("start the test mail server");
        let stdout = child.stdout.take().unwrap();
        let (send, lines) = mpsc::channel();
        // Read on a thread of its own, so that each line is awaited with a deadline.
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if send.send(line).is_err() {
                    break;
                }
            }
        });
        MailServer { child, port: 0, spool, lines }
    }

    fn listening(mut self) -> Self {
        let line = self.next_line("ready PORT");
        self.port = Self::port_in(&line, "ready");
        self
    }

    /// The server's next line on stdout; panics (the server is stopped by `Drop`) when none
    /// comes in time or the server ended.
    fn next_line(&mut self, what: &str) -> String {
        match self.lines.recv_timeout(START_WITHIN) {
            Ok(line) => line,
            Err(e) => {
                let status = self.child.try_wait().ok().flatten();
                panic!("the mail server did not say {what:?} within {START_WITHIN:?} ({e}; exit {status:?})")
            }
        }
    }

    /// The port in a line `WORD PORT`.
    fn port_in(line: &str, word: &str) -> u16 {
        let port = line.strip_prefix(word).and_then(|p| p.trim().parse::<u16>().ok());
        port.unwrap_or_else(|| panic!("the mail server said {line:?}, not \"{word} PORT\""))
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
