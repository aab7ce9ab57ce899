//! The command line's contract, command by command: output, JSON shapes and exit codes, run
//! as a real process on a store in a temporary folder.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::Value;
use std::io::Write;
use std::process::{Command, Output, Stdio};

mod common;
use common::Run;

const OWNER: &str = "olivia@acme.example";
const PASSWORD: &str = "correct horse battery staple 7";
const MEMBER_PASSWORD: &str = "plum tractor lantern quietly 4";

/// A data folder and the `gatehouse` binary pointed at it.
const BACKUP_PASSPHRASE: &str = "tangerine orbit cellar 42";

struct Cli {
    data: tempfile::TempDir,
}

impl Cli {
    fn new() -> Self {
        Cli { data: tempfile::tempdir().unwrap() }
    }

    /// Set up with Olivia as the Owner.
    fn set_up() -> Self {
        let cli = Cli::new();
        let r = cli
            .run(&["setup", "--org", "Acme", "--name", "Olivia Owner", "--email", OWNER], PASSWORD);
        assert_eq!(r.code, 0, "{}", r.stderr);
        cli
    }

    fn run(&self, args: &[&str], password: &str) -> Run {
        self.run_with(args, |c| {
            c.env("GATEHOUSE_PASSWORD", password);
            c.env("GATEHOUSE_BACKUP_PASSPHRASE", BACKUP_PASSPHRASE);
        })
    }

    /// As the Owner, with `passphrase` for the backup.
    fn owner_with_passphrase(&self, args: &[&str], passphrase: &str) -> Run {
        let mut all = args.to_vec();
        all.extend(["--as", OWNER]);
        self.run_with(&all, |c| {
            c.env("GATEHOUSE_PASSWORD", PASSWORD);
            c.env("GATEHOUSE_BACKUP_PASSPHRASE", passphrase);
        })
    }

    fn run_with(&self, args: &[&str], f: impl FnOnce(&mut Command)) -> Run {
        self.run_fed(args, f, None)
    }

    /// Runs with `input` on standard input (not a terminal), or none (`/dev/null`).
    fn run_fed(&self, args: &[&str], f: impl FnOnce(&mut Command), input: Option<&str>) -> Run {
        let mut command = Command::new(env!("CARGO_BIN_EXE_gatehouse"));
        command.args(args).env("GATEHOUSE_DATA_DIR", self.data.path()).stdin(Stdio::null());
        command.env_remove("GATEHOUSE_PASSWORD").env_remove("GATEHOUSE_NEW_PASSWORD");
        command.env_remove("GATEHOUSE_BACKUP_PASSPHRASE");
        f(&mut command);
        let output = match input {
            None => command.output().unwrap(),
            Some(text) => {
                let mut child = command
                    .stdin(Stdio::piped())
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped())
                    .spawn()
                    .unwrap();
                child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
                child.wait_with_output().unwrap()
            }
        };
        let Output { status, stdout, stderr } = output;
        Run {
            code: status.code().unwrap_or(-1),
            stdout: String::from_utf8(stdout).unwrap(),
            stderr: String::from_utf8(stderr).unwrap(),
        }
    }

    /// As the Owner.
    fn owner(&self, args: &[&str]) -> Run {
        let mut all = args.to_vec();
        all.extend(["--as", OWNER]);
        self.run(&all, PASSWORD)
    }

    /// As the Owner, and it must succeed.
    fn owner_ok(&self, args: &[&str]) -> Run {
        let r = self.owner(args);
        assert_eq!(r.code, 0, "{args:?}: {}{}", r.stderr, r.stdout);
        r
    }

    /// Invites `email` with `role` and returns the code.
    fn invite(&self, email: &str, role: &str) -> String {
        let r = self.owner(&["users", "invite", email, "--role", role, "--json"]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        r.json()[0]["issued"]["code"].as_str().unwrap().to_string()
    }

    fn member(&self, email: &str, role: &str, name: &str) {
        let code = self.invite(email, role);
        let r =
            self.run(&["users", "accept", email, "--code", &code, "--name", name], MEMBER_PASSWORD);
        assert_eq!(r.code, 0, "{}", r.stderr);
    }

    fn store(&self) -> std::path::PathBuf {
        self.data.path().join("store")
    }
}

#[test]
fn setup_runs_once_and_usage_errors_exit_2() {
    let cli = Cli::set_up();
    let again = cli.run(&["setup", "--org", "X", "--name", "Y", "--email", "y@x.com"], PASSWORD);
    assert_eq!(again.code, 1);
    assert_eq!(
        again.stderr.trim(),
        "error[already_set_up]: Gatehouse is already set up on this computer."
    );
    let usage = cli.run(&["users", "frobnicate"], PASSWORD);
    assert_eq!(usage.code, 2, "{}", usage.stderr);
    let no_as = cli.run(&["users", "list"], PASSWORD);
    assert_eq!(no_as.code, 2);
    assert!(no_as.stderr.contains("--as"), "{}", no_as.stderr);
}

#[test]
fn users_list_filters_and_prints_the_json_shape() {
    let cli = Cli::set_up();
    cli.member("ana@acme.example", "reporting", "Ana Analyst");
    cli.invite("ben@acme.example", "admin");
    // Global options after the subcommand, as well as before.
    let r = cli.run(&["users", "list", "--json", "--status", "invited", "--as", OWNER], PASSWORD);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let list = r.json();
    let users = list.as_array().unwrap();
    assert_eq!(users.len(), 1);
    let ben = &users[0];
    assert_eq!(ben["email"], "ben@acme.example");
    assert_eq!(ben["status"], "invited");
    assert_eq!(ben["roles"], serde_json::json!(["admin"]));
    assert_eq!(ben["invitation"]["expired"], false);
    assert!(ben["invitation"]["expires_at"].is_string());
    assert!(ben["id"].is_string() && ben["name"].is_string());

    let r = cli.run(&["--json", "--as", OWNER, "users", "list", "--role", "reporting"], PASSWORD);
    assert_eq!(r.code, 0, "{}", r.stdout);
    let list = r.json();
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["status"], "active");
    assert_eq!(list[0]["invitation"], Value::Null);

    let text = cli.owner_ok(&["users", "list", "--search", "ANA"]).stdout;
    assert!(text.contains("ana@acme.example") && !text.contains("ben@"), "{text}");

    let show = cli.owner_ok(&["users", "show", "ana@acme.example", "--json"]).json();
    assert_eq!(show["user"]["name"], "Ana Analyst");
    assert!(show["grants"].as_array().unwrap().iter().any(|g| g["module"] == "analytics"
        && g["action"] == "create"
        && g["roles"] == serde_json::json!(["reporting"])));
}

#[test]
fn invitations_resend_cancel_and_accept() {
    let cli = Cli::set_up();
    let first = cli.invite("ana@acme.example", "reporting");
    let r = cli.owner(&["users", "resend", "ana@acme.example"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let second = r.stdout.split_whitespace().nth(2).unwrap().to_string();
    assert_ne!(first, second, "resend prints a new code");
    let stale = cli.run(
        &["users", "accept", "ana@acme.example", "--code", &first, "--name", "Ana"],
        MEMBER_PASSWORD,
    );
    assert_eq!(stale.code, 1);
    assert!(stale.stderr.starts_with("error[invitation_replaced]"), "{}", stale.stderr);
    let ok = cli.run(
        &["users", "accept", "ana@acme.example", "--code", &second, "--name", "Ana"],
        MEMBER_PASSWORD,
    );
    assert_eq!(ok.code, 0, "{}", ok.stderr);

    cli.invite("ben@acme.example", "reporting");
    assert_eq!(cli.owner(&["users", "cancel", "ben@acme.example"]).code, 0);
    let gone = cli.owner(&["users", "show", "ben@acme.example", "--json"]);
    assert_eq!(gone.code, 1);
    assert_eq!(gone.json()["error"]["code"], "user_not_found");

    // Several at once: one refused, so exit 1 with each outcome printed.
    let r = cli.owner(&[
        "users",
        "invite",
        "cy@acme.example",
        "ana@acme.example",
        "--role",
        "reporting",
    ]);
    assert_eq!(r.code, 1);
    assert!(r.stdout.contains("invited cy@acme.example"), "{}", r.stdout);
    assert!(r.stderr.contains("refused ana@acme.example  error[email_taken]"), "{}", r.stderr);
}

#[test]
fn status_roles_resets_and_unlock_follow_the_rules() {
    let cli = Cli::set_up();
    cli.member("ana@acme.example", "reporting", "Ana Analyst");
    let r = cli.owner(&["users", "deactivate", "ana@acme.example", "--reason", "left"]);
    assert_eq!(
        (r.code, r.stdout.trim()),
        (0, "ana@acme.example is deactivated; their history is kept.")
    );
    let denied = cli.run(&["users", "list", "--as", "ana@acme.example"], MEMBER_PASSWORD);
    assert_eq!(denied.code, 1);
    assert!(denied.stderr.starts_with("error[invalid_credentials]"), "{}", denied.stderr);
    assert_eq!(cli.owner(&["users", "reactivate", "ana@acme.example"]).code, 0);

    let r = cli.owner_ok(&[
        "users",
        "roles",
        "ana@acme.example",
        "--role",
        "admin",
        "--role",
        "reporting",
        "--json",
    ]);
    assert_eq!(r.json()["roles"], serde_json::json!(["admin", "reporting"]));
    // An Admin may not touch an Owner (rule 1), and nobody changes their own status.
    let r = cli.run(&["users", "deactivate", OWNER, "--as", "ana@acme.example"], MEMBER_PASSWORD);
    assert_eq!(r.code, 1);
    assert!(r.stderr.starts_with("error[owner_only]"), "{}", r.stderr);
    let r = cli.owner(&["users", "deactivate", OWNER]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.starts_with("error[own_status]"), "{}", r.stderr);

    // Reset code, then set the password with it.
    let r = cli.owner_ok(&["users", "reset-password", "ana@acme.example", "--json"]);
    let code = r.json()["code"].as_str().unwrap().to_string();
    let r = cli.run(
        &["users", "set-password", "ana@acme.example", "--code", &code],
        "violet marble sandwich harbor 2",
    );
    assert_eq!(r.code, 0, "{}", r.stderr);

    // Five wrong passwords lock the address; the Owner unlocks it.
    for _ in 0..5 {
        assert_eq!(
            cli.run(&["users", "list", "--as", "ana@acme.example"], "wrong wrong wrong").code,
            1
        );
    }
    let locked =
        cli.run(&["users", "list", "--as", "ana@acme.example"], "violet marble sandwich harbor 2");
    assert!(locked.stderr.starts_with("error[locked_out]"), "{}", locked.stderr);
    assert_eq!(cli.owner(&["users", "unlock", "ana@acme.example"]).code, 0);
    let ok =
        cli.run(&["users", "list", "--as", "ana@acme.example"], "violet marble sandwich harbor 2");
    assert_eq!(ok.code, 0, "{}", ok.stderr);
}

#[test]
fn roles_and_can() {
    let cli = Cli::set_up();
    let list = cli.owner_ok(&["roles", "list", "--json"]).json();
    assert_eq!(list.as_array().unwrap().len(), 5);
    let r = cli.owner(&[
        "roles",
        "create",
        "support",
        "--name",
        "Support",
        "--perm",
        "customers:ru",
        "--perm",
        "analytics:r",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let show = cli.owner_ok(&["roles", "show", "support"]).stdout;
    assert!(show.contains("customers:ru") && show.contains("analytics:r"), "{show}");
    cli.member("sue@acme.example", "support", "Sue Support");
    let yes = cli.owner(&["can", "sue@acme.example", "customers", "update"]);
    assert_eq!((yes.code, yes.stdout.trim()), (0, "yes"));
    let no = cli.owner(&["can", "sue@acme.example", "customers", "delete"]);
    assert_eq!((no.code, no.stdout.trim()), (1, "no"));
    assert_eq!(cli.owner(&["can", "sue@acme.example", "nonsense", "read"]).code, 2);
    let in_use = cli.owner(&["roles", "delete", "support"]);
    assert!(in_use.stderr.starts_with("error[role_in_use]"), "{}", in_use.stderr);
    let r = cli.owner(&["roles", "update", "support", "--perm", "customers:r"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(cli.owner(&["can", "sue@acme.example", "customers", "update"]).code, 1);
    let r = cli.owner(&["roles", "create", "bad", "--name", "Bad", "--perm", "customers:x"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
}

#[test]
fn the_audit_log_lists_verifies_and_exports() {
    let cli = Cli::set_up();
    cli.invite("ana@acme.example", "reporting");
    let r = cli.owner_ok(&["audit", "list", "--action", "invite", "--actor", OWNER, "--json"]);
    let events = r.json();
    assert_eq!(events.as_array().unwrap().len(), 1, "{events}");
    assert_eq!(events[0]["target"], "ana@acme.example");
    let none = cli.owner_ok(&["audit", "list", "--since", "2999-01-01", "--json"]).json();
    assert_eq!(none.as_array().unwrap().len(), 0);
    let verify = cli.owner(&["audit", "verify"]);
    assert_eq!(verify.code, 0);
    assert!(verify.stdout.starts_with("Intact:"), "{}", verify.stdout);
    let file = cli.data.path().join("audit.csv");
    assert_eq!(cli.owner(&["audit", "export", file.to_str().unwrap()]).code, 0);
    let csv = std::fs::read_to_string(&file).unwrap();
    assert!(csv.starts_with("seq,time,actor,action,target,summary,outcome"), "{csv}");
    assert!(csv.contains(",invite,ana@acme.example,"), "{csv}");
}

#[test]
fn import_reports_every_kind_of_row_and_a_dry_run_changes_nothing() {
    let cli = Cli::set_up();
    cli.member("ana@acme.example", "admin", "Ana Admin");
    let file = cli.data.path().join("people.csv");
    std::fs::write(
        &file,
        "\u{feff}email;name;roles\r\n\
         new@acme.example;New Person;\"reporting;payment_management\"\r\n\
         NEW@acme.example;Again;reporting\r\n\
         not-an-email;X;reporting\r\n\
         ana@acme.example;Ana;reporting\r\n\
         who@acme.example;Who;wizard\r\n\
         boss@acme.example;Boss;owner\r\n",
    )
    .unwrap();
    let path = file.to_str().unwrap();
    // As Ana, an Admin: the Owner row is not hers to grant.
    let as_ana = |args: &[&str]| {
        let mut all = args.to_vec();
        all.extend(["--as", "ana@acme.example", "--json"]);
        cli.run(&all, MEMBER_PASSWORD)
    };
    let dry = as_ana(&["import", path, "--dry-run"]);
    assert_eq!(dry.code, 0, "{}", dry.stderr);
    let report = dry.json();
    let outcomes: Vec<&str> =
        report["rows"].as_array().unwrap().iter().map(|r| r["outcome"].as_str().unwrap()).collect();
    assert_eq!(
        outcomes,
        ["invite", "duplicate", "bad_email", "already_user", "unknown_role", "not_allowed"]
    );
    assert_eq!(report["rows"][0]["line"], 2);
    assert_eq!(
        cli.owner_ok(&["users", "list", "--json"]).json().as_array().unwrap().len(),
        2,
        "dry run"
    );

    let real = as_ana(&["import", path]);
    assert_eq!(real.code, 0, "{}", real.stdout);
    let real = real.json();
    assert_eq!((real["invited"].as_u64(), real["skipped"].as_u64()), (Some(1), Some(5)));
    assert!(real["rows"][0]["issued"]["code"].is_string());
    let new = cli.owner_ok(&["users", "show", "new@acme.example", "--json"]).json();
    assert_eq!(new["user"]["roles"], serde_json::json!(["reporting", "payment_management"]));
    assert_eq!(new["user"]["name"], "New Person");

    let missing = as_ana(&["import", "/nonexistent/people.csv"]);
    assert_eq!(missing.code, 1);
    assert_eq!(missing.json()["error"]["code"], "file_error");
}

#[test]
fn export_neutralizes_formula_cells() {
    let cli = Cli::set_up();
    cli.member("eve@acme.example", "reporting", "=HYPERLINK(\"http://x\")");
    let file = cli.data.path().join("users.csv");
    assert_eq!(cli.owner(&["export", file.to_str().unwrap()]).code, 0);
    let csv = std::fs::read_to_string(&file).unwrap();
    assert!(csv.starts_with("email,name,status,roles,"), "{csv}");
    assert!(
        csv.contains("eve@acme.example,\"'=HYPERLINK(\"\"http://x\"\")\",active,reporting,"),
        "{csv}"
    );
}

#[test]
fn backup_and_restore_round_trip_and_refuse_a_damaged_file() {
    let cli = Cli::set_up();
    cli.member("ana@acme.example", "reporting", "Ana Analyst");
    cli.invite("ben@acme.example", "admin");
    cli.owner_ok(&["roles", "create", "support", "--name", "Support", "--perm", "customers:r"]);
    // Signing in (each command does) changes last_sign_in_at: compare everything else.
    let users = |cli: &Cli| {
        let mut list = cli.owner_ok(&["users", "list", "--json"]).json();
        for u in list.as_array_mut().unwrap() {
            u.as_object_mut().unwrap().remove("last_sign_in_at");
        }
        list
    };
    let before_users = users(&cli);
    let before_events = cli.owner_ok(&["audit", "list", "--limit", "500", "--json"]).json();
    let file = cli.data.path().join("acme.gatehouse-backup");
    let path = file.to_str().unwrap();
    let r = cli.run(&["backup", path, "--as", "ana@acme.example"], MEMBER_PASSWORD);
    assert_eq!(r.code, 1);
    assert!(r.stderr.starts_with("error[owner_required]"), "{}", r.stderr);
    let r = cli.owner_with_passphrase(&["backup", path], "weak");
    assert_eq!(r.code, 1);
    assert!(r.stderr.starts_with("error[password_too_short]"), "{}", r.stderr);
    let r = cli.owner(&["backup", path, "--json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let info = r.json();
    assert_eq!((info["users"].clone(), info["sealing"].clone()), (3.into(), "passphrase".into()));
    assert!(info["audit_head_seq"].as_u64().unwrap() > 0 && info["audit_head_hash"].is_string());

    // Change things after the backup; the restore brings the backup's state back.
    cli.owner_ok(&["users", "cancel", "ben@acme.example"]);
    cli.owner_ok(&["roles", "delete", "support"]);
    assert_ne!(users(&cli), before_users, "the changes after the backup took");
    assert_eq!(cli.owner(&["roles", "show", "support"]).code, 1, "the custom role is gone");

    let damaged = cli.data.path().join("damaged.gatehouse-backup");
    let mut bytes = std::fs::read(&file).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x01;
    std::fs::write(&damaged, bytes).unwrap();
    let r = cli.owner(&["restore", damaged.to_str().unwrap()]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.starts_with("error[backup_damaged]"), "{}", r.stderr);
    let r = cli.owner_with_passphrase(&["restore", path], "not the passphrase at all 9");
    assert_eq!(r.code, 1);
    assert!(r.stderr.starts_with("error[backup_wrong_passphrase]"), "{}", r.stderr);
    assert_ne!(users(&cli), before_users, "a refused restore changes nothing");

    let r = cli.owner(&["restore", path]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let after_users = users(&cli);
    assert_eq!(after_users, before_users, "every user and invitation is back");
    assert_eq!(cli.owner(&["roles", "show", "support"]).code, 0, "the custom role is back");
    let after_events = cli.owner_ok(&["audit", "list", "--limit", "500", "--json"]).json();
    let after: Vec<&Value> = after_events.as_array().unwrap().iter().collect();
    let before: Vec<&Value> = before_events.as_array().unwrap().iter().collect();
    // Newest first: the restore's own event and the sign-ins since, then the backup's history.
    assert!(after.iter().any(|e| e["action"] == "restore"));
    assert!(
        after.ends_with(&before[..]) || after.windows(before.len()).any(|w| w == &before[..]),
        "every event is back"
    );
    assert!(cli.owner_ok(&["audit", "verify"]).stdout.starts_with("Intact:"));
    let kept: Vec<_> = std::fs::read_dir(cli.data.path())
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("store.replaced-"))
        .collect();
    assert_eq!(kept.len(), 1, "the replaced store is kept aside");
}

#[test]
fn a_store_held_by_another_program_exits_3_with_a_sentence() {
    let cli = Cli::set_up();
    let held = gatehouse_core::Directory::open(
        &cli.store(),
        std::sync::Arc::new(gatehouse_core::SystemClock),
    )
    .unwrap();
    let r = cli.owner(&["users", "list"]);
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(
        r.stderr.starts_with("error[store_locked]: The Gatehouse store is open in another program"),
        "{}",
        r.stderr
    );
    let r = cli.owner(&["users", "list", "--json"]);
    assert_eq!(r.json()["error"]["code"], "store_locked");
    drop(held);
    assert_eq!(cli.owner(&["users", "list"]).code, 0);
}

#[test]
fn restore_without_an_owner_when_the_store_cannot_be_opened() {
    let cli = Cli::set_up();
    let file = cli.data.path().join("b.gatehouse-backup");
    assert_eq!(cli.owner(&["backup", file.to_str().unwrap()]).code, 0);
    // Damage the store beyond opening: its folder replaced by a file.
    std::fs::remove_dir_all(cli.store()).unwrap();
    std::fs::write(cli.store(), b"not a store").unwrap();
    let list = cli.owner(&["users", "list"]);
    assert_eq!(list.code, 3, "{}", list.stderr);
    // No sign-in is possible; the backup's passphrase is the right, and without it nothing.
    let r = cli.run_with(&["restore", file.to_str().unwrap()], |c| {
        c.env("GATEHOUSE_BACKUP_PASSPHRASE", "a guess at the passphrase 1");
    });
    assert_eq!(r.code, 1);
    assert!(r.stderr.starts_with("error[backup_wrong_passphrase]"), "{}", r.stderr);
    let r = cli.run(&["restore", file.to_str().unwrap()], "");
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(cli.owner(&["users", "list"]).code, 0);
    // The restore is in the restored log: nobody could sign in, so the actor is the system and
    // the summary names the backup's maker, whose passphrase opened it.
    let log = cli.owner_ok(&["audit", "list", "--action", "restore", "--json"]).json();
    assert_eq!(log[0]["actor"], serde_json::json!({ "kind": "system" }), "{log}");
    let summary = log[0]["summary"].as_str().unwrap();
    assert!(summary.contains(&format!("made by {OWNER}")), "{summary}");
}

#[test]
fn audit_verify_against_a_backup_finds_a_rewritten_history() {
    let cli = Cli::set_up();
    cli.invite("ana@acme.example", "reporting");
    let file = cli.data.path().join("anchor.gatehouse-backup");
    let path = file.to_str().unwrap();
    cli.owner_ok(&["backup", path]);
    cli.invite("ben@acme.example", "reporting");
    let r = cli.owner_ok(&["audit", "verify", "--against", path, "--json"]);
    let check = &r.json()["against"];
    assert!(check["head_seq"].as_u64() > check["backup_head_seq"].as_u64(), "{check}");
    // Someone with the data folder rewrites event 2 and recomputes every hash after it.
    rewrite_event(&cli.store(), 2);
    // The store no longer holds the history it recorded as saved: refused at once (exit 3).
    let r = cli.owner(&["audit", "verify"]);
    assert_eq!(r.code, 3, "{}", r.stdout);
    assert!(r.stderr.starts_with("error[store_behind]"), "{}", r.stderr);
    // One who can rewrite the store can remove that record too; the backup still tells.
    std::fs::remove_file(cli.store().join("acknowledged")).unwrap();
    assert!(cli.owner_ok(&["audit", "verify"]).stdout.starts_with("Intact:"), "the chain holds");
    let r = cli.owner(&["audit", "verify", "--against", path]);
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert!(r.stderr.starts_with("error[audit_rewritten]"), "{}", r.stderr);
    assert!(r.stderr.contains("#2 "), "{}", r.stderr);
}

/// Changes event `seq`'s summary in the store at `dir` and recomputes the chain after it.
fn rewrite_event(dir: &std::path::Path, seq: u64) {
    use gatehouse_core::model::AuditEvent;
    let db = sled::open(dir).unwrap();
    let audit = db.open_tree("audit").unwrap();
    let mut prev = None::<String>;
    for entry in audit.iter() {
        let (k, v) = entry.unwrap();
        let mut event: AuditEvent = serde_json::from_slice(&v).unwrap();
        if event.seq == seq {
            event.summary = "nothing happened here".into();
        }
        if let Some(hash) = &prev {
            event.prev_hash = hash.clone();
        }
        prev = Some(event.hash());
        audit.insert(k, serde_json::to_vec(&event).unwrap()).unwrap();
    }
    let (_, last) = audit.last().unwrap().unwrap();
    let last: AuditEvent = serde_json::from_slice(&last).unwrap();
    let head = serde_json::json!({ "seq": last.seq, "hash": last.hash() });
    db.open_tree("meta").unwrap().insert("audit_head", serde_json::to_vec(&head).unwrap()).unwrap();
    db.flush().unwrap();
}

/// Every file under `root` whose bytes hold `code`, as printed or without its dashes.
fn files_holding(root: &std::path::Path, code: &str) -> Vec<std::path::PathBuf> {
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

#[test]
fn a_printed_reset_code_is_nowhere_in_the_data_folder() {
    let cli = Cli::set_up();
    cli.member("ana@acme.example", "reporting", "Ana");
    let r = cli.owner_ok(&["users", "reset-password", "ana@acme.example"]);
    // "ana@acme.example  code XXXX-…  expires …"
    let words: Vec<&str> = r.stdout.split_whitespace().collect();
    let at = words.iter().position(|w| *w == "code").expect("a code printed") + 1;
    let code = words[at];
    assert!(code.len() >= 32 && code.contains('-'), "{}", r.stdout);
    let found = files_holding(cli.data.path(), code);
    assert!(found.is_empty(), "the code {code} is on disk in {found:?}");
    assert!(
        !files_holding(cli.data.path(), "ana@acme.example").is_empty(),
        "the walk reads the store's bytes"
    );
    // Where the credential store did not answer, the command said the email is kept only
    // for this run.
    if let Some(note) = r.stderr.lines().find(|l| l.starts_with("note:")) {
        assert!(note.ends_with("resend to send it after a restart."), "{note}");
    }
}

#[test]
fn the_outbox_lists_an_invitation_without_its_code() {
    let cli = Cli::set_up();
    let code = cli.invite("ana@acme.example", "reporting");

    let list = cli.owner_ok(&["outbox", "list", "--json"]).json();
    let messages = list.as_array().unwrap();
    assert_eq!(messages.len(), 1, "{list}");
    let m = &messages[0];
    assert_eq!(m["to"], "ana@acme.example");
    assert_eq!(m["kind"], "invitation");
    assert_eq!(m["state"], "queued");
    assert_eq!(m["attempts"], 0);
    assert!(m["id"].is_string() && m["created_at"].is_string() && m["subject"].is_string());
    // Core may say whether the viewer may open it; the Owner may open everything.
    assert!(m.get("can_open").is_none_or(|v| v == true), "{m}");
    assert!(!list.to_string().contains(&code), "the list never shows the code: {list}");

    let id = m["id"].as_str().unwrap();
    let text = cli.owner_ok(&["outbox", "list"]).stdout;
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "a header and one message: {text}");
    assert!(lines[0].starts_with("ID") && lines[0].contains("STATE"), "{text}");
    let row: Vec<&str> = lines[1].split_whitespace().collect();
    assert_eq!(row[..4], [id, "queued", "invitation", "ana@acme.example"], "{text}");
    assert!(!text.contains(&code), "{text}");

    assert_eq!(
        cli.owner_ok(&["outbox", "list", "--limit", "0", "--json"]).json(),
        Value::Array(vec![])
    );
}

#[test]
fn outbox_save_writes_an_eml_with_the_code_once() {
    let cli = Cli::set_up();
    let code = cli.invite("ana@acme.example", "reporting");
    let list = cli.owner_ok(&["outbox", "list", "--json"]).json();
    let id = list[0]["id"].as_str().unwrap().to_string();

    let file = cli.data.path().join("ana invitation.eml");
    let path = file.to_str().unwrap();
    let r = cli.owner_ok(&["outbox", "save", &id, path]);
    assert_eq!(
        r.stdout.trim(),
        format!("Saved the message to ana@acme.example as {path}: send it from your mail client.")
    );
    let eml = std::fs::read_to_string(&file).unwrap();
    assert!(eml.contains("ana@acme.example"), "{eml}");
    assert!(eml.contains(&code), "the letter carries the code {code}: {eml}");

    let after = cli.owner_ok(&["outbox", "list", "--json"]).json();
    assert_eq!(after[0]["state"], "saved", "{after}");
    assert_eq!(after[0]["note"], "saved as ana invitation.eml");
    let text = cli.owner_ok(&["outbox", "list"]).stdout;
    assert!(text.contains(" saved ") && text.contains("saved as ana invitation.eml"), "{text}");

    // It has left the queue: a second save is refused and writes nothing.
    let again_file = cli.data.path().join("again.eml");
    let again = cli.owner(&["outbox", "save", &id, again_file.to_str().unwrap()]);
    assert_eq!(again.code, 1, "{}", again.stdout);
    assert!(again.stderr.starts_with("error[invalid_transition]: "), "{}", again.stderr);
    assert!(!again_file.exists());
    let again = cli.owner(&["outbox", "save", &id, again_file.to_str().unwrap(), "--json"]);
    assert_eq!(
        (again.code, &again.json()["error"]["code"]),
        (1, &Value::from("invalid_transition"))
    );

    // An id that is not one, or that names no message.
    for bad in ["not-an-id", "0190a5f0-0000-7000-8000-000000000000"] {
        let r = cli.owner(&["outbox", "save", bad, again_file.to_str().unwrap()]);
        assert_eq!(r.code, 1, "{bad}: {}", r.stderr);
        assert!(r.stderr.starts_with("error[message_not_found]: "), "{}", r.stderr);
    }
    // The JSON answer is the saved file's name and recipient.
    cli.invite("ben@acme.example", "reporting");
    let list = cli.owner_ok(&["outbox", "list", "--json"]).json();
    let ben = list.as_array().unwrap().iter().find(|m| m["to"] == "ben@acme.example").unwrap();
    let ben_file = cli.data.path().join("ben.eml");
    let saved = cli
        .owner_ok(&[
            "outbox",
            "save",
            ben["id"].as_str().unwrap(),
            ben_file.to_str().unwrap(),
            "--json",
        ])
        .json();
    assert_eq!(saved, serde_json::json!({ "to": "ben@acme.example", "file_name": "ben.eml" }));
}

#[test]
fn account_password_changes_your_own_password() {
    const NEW: &str = "violet 42 marble sandwich";
    const THIRD: &str = "amber 7 pelican thunder quilt";
    let cli = Cli::set_up();
    let change = |current: &str, new: &str, json: bool| {
        let mut args = vec!["account", "password", "--as", OWNER];
        if json {
            args.push("--json");
        }
        cli.run_with(&args, |c| {
            c.env("GATEHOUSE_PASSWORD", current).env("GATEHOUSE_NEW_PASSWORD", new);
        })
    };
    let r = change(PASSWORD, NEW, false);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout.trim(), format!("The password of {OWNER} is changed."));

    let old = cli.owner(&["users", "list"]);
    assert_eq!(old.code, 1, "the old password no longer signs in");
    assert!(old.stderr.starts_with("error[invalid_credentials]: "), "{}", old.stderr);
    let new = cli.run(&["users", "list", "--as", OWNER], NEW);
    assert_eq!(new.code, 0, "{}", new.stderr);

    // A wrong current password: the sign-in refuses, nothing changes.
    let wrong = change(PASSWORD, THIRD, false);
    assert_eq!(wrong.code, 1);
    assert!(wrong.stderr.starts_with("error[invalid_credentials]: "), "{}", wrong.stderr);
    assert_eq!(cli.run(&["users", "list", "--as", OWNER], NEW).code, 0);

    // Core's password rules, with their codes.
    let reused = change(NEW, PASSWORD, true);
    assert_eq!(
        (reused.code, &reused.json()["error"]["code"]),
        (1, &Value::from("password_reused"))
    );
    let short = change(NEW, "short 1", false);
    assert_eq!(short.code, 1);
    assert!(short.stderr.starts_with("error[password_too_short]: "), "{}", short.stderr);
    let no_digit = change(NEW, "correct horse battery staple", false);
    assert_eq!(no_digit.code, 1);
    assert_eq!(
        no_digit.stderr.trim(),
        "error[password_needs_letter_and_digit]: The password must contain at least one letter \
         and one digit.",
    );

    // Without the variables and with no terminal: the current one, then the new one, from
    // standard input.
    let piped = cli.run_fed(
        &["account", "password", "--as", OWNER, "--json"],
        |_| {},
        Some(&format!("{NEW}\n{THIRD}\n")),
    );
    assert_eq!(piped.code, 0, "{}", piped.stderr);
    assert_eq!(piped.json(), serde_json::json!({ "email": OWNER }));
    assert_eq!(cli.run(&["users", "list", "--as", OWNER], THIRD).code, 0);
    assert_eq!(cli.run(&["users", "list", "--as", OWNER], NEW).code, 1);

    let usage = cli.run(&["account", "password"], THIRD);
    assert_eq!(usage.code, 2, "{}", usage.stderr);
    assert!(usage.stderr.contains("--as"), "{}", usage.stderr);
}

/// The takeovers of the dominance issue, through the command line: each refused with its code,
/// and the refusal is in the audit log.
#[test]
fn a_small_role_cannot_take_over_a_stronger_account() {
    let cli = Cli::set_up();
    cli.owner_ok(&["roles", "create", "helpdesk", "--name", "Helpdesk", "--perm", "users:cru"]);
    cli.member("hal@acme.example", "helpdesk", "Hal Helpdesk");
    cli.member("adam@acme.example", "admin", "Adam Admin");
    cli.member("sid@acme.example", "system_integrator", "Sid Integrator");
    let hal = |args: &[&str]| {
        let mut all = args.to_vec();
        all.extend(["--as", "hal@acme.example"]);
        cli.run(&all, MEMBER_PASSWORD)
    };
    let adam = |args: &[&str]| {
        let mut all = args.to_vec();
        all.extend(["--as", "adam@acme.example"]);
        cli.run(&all, MEMBER_PASSWORD)
    };
    // 1. Hal (users:cru) issues a reset code for Adam: refused, no code printed.
    let r = hal(&["users", "reset-password", "adam@acme.example"]);
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert_eq!(
        r.stderr.trim(),
        "error[not_dominant]: Adam Admin holds permissions you do not have: ask an Owner."
    );
    assert!(r.stdout.is_empty());
    // 2. An Admin issues a reset for a System Integrator (developer:delete): refused.
    let r = adam(&["users", "reset-password", "sid@acme.example"]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("error[not_dominant]"), "{}", r.stderr);
    // 3. An Admin saves the letter of an Owner's invitation: refused, nothing written.
    cli.owner_ok(&["users", "invite", "oscar@acme.example", "--role", "owner"]);
    let list = adam(&["outbox", "list", "--json"]);
    assert_eq!(list.code, 0, "{}", list.stderr);
    let list = list.json();
    let oscar = list
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["to"] == "oscar@acme.example")
        .expect("Adam sees that the message exists");
    assert_eq!(oscar["can_open"], false);
    let file = cli.data.path().join("oscar.eml");
    let r = adam(&["outbox", "save", oscar["id"].as_str().unwrap(), file.to_str().unwrap()]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("error[owner_only]") || r.stderr.contains("error[not_dominant]"));
    assert!(!file.exists());
    // 4. Hal resends a pending Admin invitation to take its new code: refused.
    cli.owner_ok(&["users", "invite", "ava@acme.example", "--role", "admin"]);
    let r = hal(&["users", "resend", "ava@acme.example"]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("error[not_dominant]"), "{}", r.stderr);
    // Every refusal above is audited, with its code.
    let log = cli.owner_ok(&["audit", "list", "--json"]).json();
    let denied: Vec<&Value> = log["events"]
        .as_array()
        .or(log.as_array())
        .unwrap()
        .iter()
        .filter(|e| e["outcome"] == "denied")
        .collect();
    let codes: Vec<&str> = denied.iter().filter_map(|e| e["code"].as_str()).collect();
    assert_eq!(codes.len(), 4, "{denied:?}");
    assert!(codes.iter().filter(|c| **c == "not_dominant").count() >= 3, "{codes:?}");
}

/// Runs `gatehouse` under umask 000 (as a careless shell or service manager may start it),
/// pointed at `data`.
#[cfg(unix)]
fn run_under_umask_000(data: &std::path::Path, args: &[&str]) -> Run {
    let output = Command::new("sh")
        .arg("-c")
        .arg("umask 000; exec \"$0\" \"$@\"")
        .arg(env!("CARGO_BIN_EXE_gatehouse"))
        .args(args)
        .env("GATEHOUSE_DATA_DIR", data)
        .env("GATEHOUSE_PASSWORD", PASSWORD)
        .env("GATEHOUSE_BACKUP_PASSPHRASE", BACKUP_PASSPHRASE)
        .env_remove("GATEHOUSE_NEW_PASSWORD")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8(output.stdout).unwrap(),
        stderr: String::from_utf8(output.stderr).unwrap(),
    }
}

#[cfg(unix)]
#[test]
fn everything_written_is_private_whatever_the_umask() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let chosen = tmp.path().join("chosen");
    std::fs::create_dir(&chosen).unwrap();
    std::fs::set_permissions(&chosen, std::fs::Permissions::from_mode(0o777)).unwrap();
    let file = |name: &str| chosen.join(name).to_str().unwrap().to_string();
    let ok = |args: &[&str]| {
        let r = run_under_umask_000(&data, args);
        assert_eq!(r.code, 0, "{args:?}: {}{}", r.stderr, r.stdout);
        r
    };
    ok(&["setup", "--org", "Acme", "--name", "Olivia Owner", "--email", OWNER]);
    ok(&["users", "invite", "ana@acme.example", "--role", "reporting", "--as", OWNER]);
    for i in 0..5 {
        // failed sign-ins write too (counts, audit events)
        let _ =
            run_under_umask_000(&data, &["users", "list", "--as", &format!("x{i}@acme.example")]);
    }
    ok(&["backup", &file("acme.gatehouse-backup"), "--as", OWNER]);
    ok(&["audit", "export", &file("audit.csv"), "--as", OWNER]);
    ok(&["export", &file("users.csv"), "--as", OWNER]);
    let list = ok(&["outbox", "list", "--json", "--as", OWNER]).json();
    let id = list[0]["id"].as_str().unwrap().to_string();
    ok(&["outbox", "save", &id, &file("ana.eml"), "--as", OWNER]);
    // A restore: the restored store, the replaced one kept aside, and the trial store on the way.
    ok(&["restore", &file("acme.gatehouse-backup"), "--as", OWNER]);
    assert!(std::fs::read_dir(&data).unwrap().any(|e| e
        .unwrap()
        .file_name()
        .to_string_lossy()
        .starts_with("store.replaced-")));

    let mode =
        |p: &std::path::Path| std::fs::symlink_metadata(p).unwrap().permissions().mode() & 0o7777;
    let mut loose = Vec::new();
    let mut seen = 0;
    let mut pending = vec![data.clone()];
    while let Some(path) = pending.pop() {
        seen += 1;
        let want = if path.is_dir() { 0o700 } else { 0o600 };
        if mode(&path) != want {
            loose.push(format!("{} {:o}", path.display(), mode(&path)));
        }
        if path.is_dir() {
            pending.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
        }
    }
    assert!(seen > 5, "the data folder holds the store");
    assert_eq!(loose, Vec::<String>::new(), "every folder 0700 and file 0600 in the data folder");
    for name in ["acme.gatehouse-backup", "audit.csv", "users.csv", "ana.eml"] {
        assert_eq!(mode(&chosen.join(name)), 0o600, "{name} is written 0600 where it was asked");
    }
}

#[test]
fn an_import_file_over_the_size_limit_is_refused_naming_it() {
    let cli = Cli::set_up();
    let file = cli.data.path().join("huge.csv");
    std::fs::File::create(&file).unwrap().set_len(50 * 1000 * 1000).unwrap(); // sparse
    let r = cli.owner(&["import", file.to_str().unwrap(), "--json"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let error = &r.json()["error"];
    assert_eq!(error["code"], "invalid_file");
    assert!(error["message"].as_str().unwrap().contains("10 MB"), "{error}");
}
