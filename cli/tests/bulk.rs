//! The command line's contract for bulk actions and role copies (issue #17 item 7):
//! `users deactivate|reactivate|roles|resend|cancel` with several USERs, each user's outcome
//! reported (exit 1 when any was refused), and `roles create NEW --from KEY`; run as a real
//! process on a store in a temporary folder.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::{json, Value};
use std::process::{Command, Stdio};

mod common;
use common::Run;

const OWNER: &str = "olivia@acme.example";
const PASSWORD: &str = "correct horse battery staple 8";
const MEMBER_PASSWORD: &str = "plum tractor lantern quietly 9";
const ADA: &str = "ada@acme.example";
const REX: &str = "rex@acme.example";
const PAM: &str = "pam@acme.example";

struct Cli {
    data: tempfile::TempDir,
}

impl Cli {
    /// Set up with Olivia as the Owner, Ada an Admin, Rex and Pam in Reporting.
    fn set_up() -> Cli {
        let cli = Cli { data: tempfile::tempdir().unwrap() };
        let args = ["setup", "--org", "Acme", "--name", "Olivia Owner", "--email", OWNER];
        cli.run(&args, PASSWORD).ok();
        cli.member(ADA, "admin");
        cli.member(REX, "reporting");
        cli.member(PAM, "reporting");
        cli
    }

    fn run(&self, args: &[&str], password: &str) -> Run {
        let mut command = Command::new(env!("CARGO_BIN_EXE_gatehouse"));
        command.args(args).env("GATEHOUSE_DATA_DIR", self.data.path()).stdin(Stdio::null());
        for var in ["GATEHOUSE_NEW_PASSWORD", "GATEHOUSE_OTP", "GATEHOUSE_BACKUP_PASSPHRASE"] {
            command.env_remove(var);
        }
        command.env("GATEHOUSE_PASSWORD", password);
        let output = command.output().unwrap();
        Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8(output.stdout).unwrap(),
            stderr: String::from_utf8(output.stderr).unwrap(),
        }
    }

    fn as_user(&self, email: &str, password: &str, args: &[&str]) -> Run {
        let mut all = args.to_vec();
        all.extend(["--as", email]);
        self.run(&all, password)
    }

    fn owner(&self, args: &[&str]) -> Run {
        self.as_user(OWNER, PASSWORD, args)
    }

    fn member_runs(&self, email: &str, args: &[&str]) -> Run {
        self.as_user(email, MEMBER_PASSWORD, args)
    }

    /// Invites `email` with `role`; returns the code.
    fn invite(&self, email: &str, role: &str) -> String {
        let r = self.owner(&["users", "invite", email, "--role", role, "--json"]);
        r.ok().json()[0]["issued"]["code"].as_str().unwrap().to_string()
    }

    fn accept(&self, email: &str, code: &str) -> Run {
        self.run(&["users", "accept", email, "--code", code, "--name", "Member"], MEMBER_PASSWORD)
    }

    fn member(&self, email: &str, role: &str) {
        let code = self.invite(email, role);
        self.accept(email, &code).ok();
    }

    /// The status of `email` as `users list --json` shows it; `None` when not listed.
    fn status(&self, email: &str) -> Option<String> {
        let all = self.owner(&["users", "list", "--json"]).ok().json();
        let user = all.as_array().unwrap().iter().find(|u| u["email"] == email)?.clone();
        Some(user["status"].as_str().unwrap().to_string())
    }

    /// Events of `action`, newest first: (actor's id, target, outcome, code).
    fn events(&self, action: &str) -> Vec<(String, String, String, Value)> {
        let r = self.owner(&["audit", "list", "--action", action, "--json"]);
        let events = r.ok().json().as_array().unwrap().clone();
        events
            .iter()
            .map(|e| {
                let actor = e["actor"]["id"].as_str().unwrap_or("system").to_string();
                let target = e["target"].as_str().unwrap_or_default().to_string();
                (actor, target, e["outcome"].as_str().unwrap().to_string(), e["code"].clone())
            })
            .collect()
    }

    fn id_of(&self, email: &str) -> String {
        let r = self.owner(&["users", "show", email, "--json"]);
        r.ok().json()["user"]["id"].as_str().unwrap().to_string()
    }
}

#[test]
fn an_admin_deactivates_several_users_and_is_refused_the_owner_alone() {
    let cli = Cli::set_up();
    let r = cli.member_runs(ADA, &["users", "deactivate", REX, OWNER, PAM, "--reason", "left"]);

    assert_eq!(r.code, 1, "one refusal: {}{}", r.stdout, r.stderr);
    assert_eq!(
        r.stdout.lines().collect::<Vec<_>>(),
        [
            "rex@acme.example is deactivated; their history is kept.",
            "pam@acme.example is deactivated; their history is kept."
        ]
    );
    assert!(
        r.stderr.starts_with(&format!("refused {OWNER}  error[owner_only]: Only an Owner")),
        "{}",
        r.stderr
    );
    assert_eq!(cli.status(REX).as_deref(), Some("inactive"));
    assert_eq!(cli.status(PAM).as_deref(), Some("inactive"));
    assert_eq!(cli.status(OWNER).as_deref(), Some("active"));
    // Each user's event, in the order done, all by Ada; the refusal with its code.
    let ada = cli.id_of(ADA);
    let events: Vec<_> = cli.events("deactivate").into_iter().take(3).collect();
    assert_eq!(
        events,
        [
            (ada.clone(), PAM.to_string(), "success".to_string(), Value::Null),
            (ada.clone(), OWNER.to_string(), "denied".to_string(), json!("owner_only")),
            (ada, REX.to_string(), "success".to_string(), Value::Null),
        ]
    );
}

#[test]
fn json_gives_each_users_outcome_in_the_order_named() {
    let cli = Cli::set_up();
    cli.owner(&["users", "deactivate", REX, PAM]).ok();
    let rex_id = cli.id_of(REX);

    let r = cli.owner(&["users", "reactivate", REX, "nobody@acme.example", &rex_id, PAM, "--json"]);

    assert_eq!(r.code, 1, "nobody@ names nobody: {}", r.stderr);
    let rows = r.json();
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), 3, "Rex named twice is reported once: {rows:?}");
    assert_eq!(rows[0]["user"], REX);
    assert_eq!(rows[0]["outcome"], "done");
    assert_eq!(rows[0]["user_id"], rex_id.as_str());
    assert_eq!(rows[0]["email"], REX);
    assert_eq!(rows[0]["status"], "active");
    assert_eq!(rows[1]["user"], "nobody@acme.example");
    assert_eq!(rows[1]["outcome"], "refused");
    assert_eq!(rows[1]["error"]["code"], "user_not_found");
    assert_eq!(rows[2]["email"], PAM);
    assert_eq!(rows[2]["outcome"], "done");
    assert_eq!(cli.status(PAM).as_deref(), Some("active"));
}

#[test]
fn all_done_exits_zero_and_one_user_prints_what_it_always_did() {
    let cli = Cli::set_up();
    let r = cli.owner(&["users", "roles", REX, PAM, "--role", "payment_management"]);
    assert_eq!(
        r.ok().stdout.lines().collect::<Vec<_>>(),
        [
            "rex@acme.example now holds payment_management.",
            "pam@acme.example now holds payment_management."
        ]
    );
    // One USER: the single command's JSON, the user itself rather than a list.
    let one = cli.owner(&["users", "deactivate", REX, "--json"]).ok().json();
    assert_eq!((one["email"].as_str(), one["status"].as_str()), (Some(REX), Some("inactive")));
    let r = cli.owner(&["users", "deactivate", REX]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.starts_with("error[invalid_transition]: "), "{}", r.stderr);
}

#[test]
fn several_invitations_are_resent_with_new_codes_and_cancelled() {
    let cli = Cli::set_up();
    let ivy = cli.invite("ivy@acme.example", "reporting");
    cli.invite("ian@acme.example", "reporting");

    let r = cli.owner(&["users", "resend", "ivy@acme.example", "ian@acme.example", "--json"]);
    let rows = r.ok().json();
    let new_code = rows[0]["issued"]["code"].as_str().unwrap().to_string();
    assert_ne!(new_code, ivy);
    assert_eq!(rows[1]["issued"]["email"], "ian@acme.example");
    assert_eq!(rows[1]["status"], "invited");
    let old = cli.accept("ivy@acme.example", &ivy);
    assert!(old.stderr.starts_with("error[invitation_replaced]"), "{}", old.stderr);

    let r = cli.owner(&["users", "cancel", "ivy@acme.example", "ian@acme.example"]);
    assert_eq!(
        r.ok().stdout.lines().collect::<Vec<_>>(),
        [
            "The invitation for ivy@acme.example is cancelled.",
            "The invitation for ian@acme.example is cancelled."
        ]
    );
    assert_eq!(cli.status("ivy@acme.example"), None);
    assert_eq!(cli.accept("ivy@acme.example", &new_code).code, 1);
}

#[test]
fn without_the_permission_the_whole_command_is_refused() {
    let cli = Cli::set_up();
    let r = cli.member_runs(REX, &["users", "deactivate", PAM, ADA]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.starts_with("error[permission_denied]: "), "{}", r.stderr);
    assert_eq!(cli.status(PAM).as_deref(), Some("active"));
}

#[test]
fn a_role_is_created_as_a_copy_of_another() {
    let cli = Cli::set_up();
    let r = cli.owner(&["roles", "create", "ops_admin", "--from", "admin"]);
    assert_eq!(
        r.ok().stdout.trim(),
        "Role Copy of Admin (ops_admin) is created as a copy of admin."
    );
    let copy = cli.owner(&["roles", "show", "ops_admin", "--json"]).ok().json();
    let admin = cli.owner(&["roles", "show", "admin", "--json"]).ok().json();
    assert_eq!(copy["role"]["permissions"], admin["role"]["permissions"]);
    assert_eq!(copy["role"]["built_in"], false);
    // A name of its own, and the copy is edited like any custom role.
    let r =
        cli.owner(&["roles", "create", "helpdesk", "--from", "ops_admin", "--name", "Helpdesk"]);
    r.ok();
    cli.owner(&["roles", "update", "helpdesk", "--perm", "users:cru"]).ok();

    // --perm with --from is a usage error: change the copy afterwards.
    let r = cli.owner(&["roles", "create", "x", "--from", "admin", "--perm", "users:r"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    let r = cli.owner(&["roles", "create", "x", "--from", "nope"]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.starts_with("error[unknown_role]: "), "{}", r.stderr);
    // Nobody copies permissions they do not hold (Owner has deletes Admin lacks).
    let r = cli.member_runs(ADA, &["roles", "create", "mine", "--from", "owner"]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.starts_with("error[escalation]: "), "{}", r.stderr);
    let created = cli.events("create_role");
    assert_eq!((created[0].2.as_str(), &created[0].3), ("denied", &json!("escalation")));
}
