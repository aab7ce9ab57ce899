//! `gatehouse review …`: an access review from start to sign-off through the real binary, and
//! its report.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::Value;
use std::process::Command;

mod common;
use common::Run;

const OWNER: &str = "olivia@acme.example";
const PASSWORD: &str = "correct horse battery staple 7";
const MEMBER_PASSWORD: &str = "plum tractor lantern quietly 4";

struct Cli {
    data: tempfile::TempDir,
}

impl Cli {
    fn set_up() -> Self {
        let cli = Cli { data: tempfile::tempdir().unwrap() };
        let r = cli
            .run(&["setup", "--org", "Acme", "--name", "Olivia Owner", "--email", OWNER], PASSWORD);
        assert_eq!(r.code, 0, "{}", r.stderr);
        cli
    }

    fn run(&self, args: &[&str], password: &str) -> Run {
        let output = Command::new(env!("CARGO_BIN_EXE_gatehouse"))
            .args(args)
            .env("GATEHOUSE_DATA_DIR", self.data.path())
            .env("GATEHOUSE_PASSWORD", password)
            .env_remove("GATEHOUSE_OTP")
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap();
        Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8(output.stdout).unwrap(),
            stderr: String::from_utf8(output.stderr).unwrap(),
        }
    }

    fn owner(&self, args: &[&str]) -> Run {
        let mut all = args.to_vec();
        all.extend(["--as", OWNER]);
        self.run(&all, PASSWORD)
    }

    fn owner_ok(&self, args: &[&str]) -> Run {
        let r = self.owner(args);
        assert_eq!(r.code, 0, "{args:?}: {}{}", r.stderr, r.stdout);
        r
    }

    fn member(&self, email: &str, role: &str) {
        let r = self.owner_ok(&["users", "invite", email, "--role", role, "--json"]);
        let code = r.json()[0]["issued"]["code"].as_str().unwrap().to_string();
        let r = self
            .run(&["users", "accept", email, "--code", &code, "--name", "Member"], MEMBER_PASSWORD);
        assert_eq!(r.code, 0, "{}", r.stderr);
    }
}

fn decision_of(show: &Value, email: &str) -> Value {
    let users = show["users"].as_array().unwrap();
    users.iter().find(|u| u["email"] == email).unwrap_or_else(|| panic!("{email} in {show}"))
        ["decision"]
        .clone()
}

#[test]
fn a_review_from_start_to_sign_off_and_its_report() {
    let cli = Cli::set_up();
    cli.member("ana@acme.example", "reporting");
    cli.member("bob@acme.example", "admin");
    cli.member("cy@acme.example", "reporting");

    let started = cli.owner_ok(&["review", "start"]);
    let id = started.stdout.trim().to_string();
    assert_eq!(id.len(), 36, "a review id: {}", started.stdout);
    let again = cli.owner(&["review", "start"]);
    assert_eq!(again.code, 1);
    assert!(again.stderr.starts_with("error[review_in_progress]"), "{}", again.stderr);

    let early = cli.owner(&["review", "sign-off", &id]);
    assert!(early.stderr.starts_with("error[review_incomplete]"), "{}", early.stderr);

    cli.owner_ok(&["review", "decide", &id, OWNER, "keep"]);
    cli.owner_ok(&["review", "decide", &id, "ana@acme.example", "keep", "--note", "daily reports"]);
    cli.owner_ok(&["review", "decide", &id, "bob@acme.example", "roles", "--role", "reporting"]);
    cli.owner_ok(&[
        "review",
        "decide",
        &id,
        "cy@acme.example",
        "deactivate",
        "--note",
        "left in May",
    ]);
    let show = cli.owner_ok(&["review", "show", &id, "--json"]).json();
    assert_eq!(decision_of(&show, "ana@acme.example"), "keep");
    assert_eq!(decision_of(&show, "bob@acme.example"), "roles");
    assert_eq!(decision_of(&show, "cy@acme.example"), "deactivate");

    cli.owner_ok(&["review", "apply", &id]);
    let users = cli.owner_ok(&["users", "list", "--json"]).json();
    let user = |email: &str| {
        users.as_array().unwrap().iter().find(|u| u["email"] == email).unwrap().clone()
    };
    assert_eq!(user("bob@acme.example")["roles"], serde_json::json!(["reporting"]));
    assert_eq!(user("cy@acme.example")["status"], "inactive");

    let signed = cli.owner_ok(&["review", "sign-off", &id]);
    assert!(signed.stdout.contains("is signed off by olivia@acme.example"), "{}", signed.stdout);
    let refused = cli.owner(&["review", "decide", &id, "ana@acme.example", "deactivate"]);
    assert_eq!(refused.code, 1);
    assert!(refused.stderr.starts_with("error[review_signed_off]"), "{}", refused.stderr);

    let file = cli.data.path().join("review.csv");
    cli.owner_ok(&["review", "report", &id, file.to_str().unwrap()]);
    let csv = std::fs::read_to_string(&file).unwrap();
    for needle in ["Acme", "olivia@acme.example", "bob@acme.example", "left in May"] {
        assert!(csv.contains(needle), "{needle} in {csv}");
    }
    // The chain head the report names is the one the sign-off recorded.
    let show = cli.owner_ok(&["review", "show", &id, "--json"]).json();
    let hash = show["signed_off"]["chain_head"]["hash"].as_str().unwrap();
    assert!(csv.contains(hash), "{hash} in {csv}");

    let list = cli.owner_ok(&["review", "list", "--json"]).json();
    assert_eq!(list["reviews"][0]["id"], id.as_str());
    assert!(list["next_due_at"].is_string());
    let text = cli.owner_ok(&["review", "list"]).stdout;
    assert!(text.contains("Next review due"), "{text}");
}

#[test]
fn a_member_without_audit_read_may_not_start_a_review() {
    let cli = Cli::set_up();
    cli.member("ana@acme.example", "reporting");
    let r = cli.run(&["review", "start", "--as", "ana@acme.example"], MEMBER_PASSWORD);
    assert_eq!(r.code, 1);
    assert!(r.stderr.starts_with("error[permission_denied]"), "{}", r.stderr);
    let bad = cli.owner(&["review", "show", "not-an-id"]);
    assert!(bad.stderr.starts_with("error[review_not_found]"), "{}", bad.stderr);
}
