//! The command line's contract for access governance (issue #15): the governance settings, end
//! dates, approval references, the list's governance facts and filters, and who-can; run as a
//! real process on a store in a temporary folder. The dormant-account and end-date rules are
//! seen through the binary too: the command line has no test clock, so the history is written
//! in the past by core itself (a `ManualClock`), and the next command, on the real clock, is
//! where the system acts.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use chrono::{Duration, Local, NaiveDate, Utc};
use gatehouse_core::{AcceptInput, Directory, InviteOutcome, InviteRequest, Invitee, ManualClock};
use serde_json::{json, Value};
use std::process::{Command, Stdio};
use std::sync::Arc;

mod common;
use common::Run;

const OWNER: &str = "olivia@acme.example";
const PASSWORD: &str = "correct horse battery staple 5";
const MEMBER_PASSWORD: &str = "plum tractor lantern quietly 6";
const ANA: &str = "ana@acme.example";
const BEN: &str = "ben@acme.example";

/// A data folder and the `gatehouse` binary pointed at it.
struct Cli {
    data: tempfile::TempDir,
}

impl Cli {
    /// Set up with Olivia as the Owner.
    fn set_up() -> Cli {
        let cli = Cli { data: tempfile::tempdir().unwrap() };
        let args = ["setup", "--org", "Acme", "--name", "Olivia Owner", "--email", OWNER];
        cli.run(&args, PASSWORD).ok();
        cli
    }

    /// Runs with `password` in GATEHOUSE_PASSWORD and standard input that is not a terminal.
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

    /// `args --as email`, signed in with `password`.
    fn as_user(&self, email: &str, password: &str, args: &[&str]) -> Run {
        let mut all = args.to_vec();
        all.extend(["--as", email]);
        self.run(&all, password)
    }

    fn owner(&self, args: &[&str]) -> Run {
        self.as_user(OWNER, PASSWORD, args)
    }

    /// Invites `email` with `role` (and `more` options); they accept with MEMBER_PASSWORD.
    fn member(&self, email: &str, role: &str, more: &[&str]) {
        let mut args = vec!["users", "invite", email, "--role", role, "--json"];
        args.extend(more);
        let r = self.owner(&args);
        let code = r.ok().json()[0]["issued"]["code"].as_str().unwrap().to_string();
        let accept = ["users", "accept", email, "--code", &code, "--name", "Member"];
        self.run(&accept, MEMBER_PASSWORD).ok();
    }

    /// `users list --json`, as the Owner.
    fn list(&self, filters: &[&str]) -> Vec<Value> {
        let mut args = vec!["users", "list", "--json"];
        args.extend(filters);
        self.owner(&args).ok().json().as_array().unwrap().clone()
    }

    /// The user `email` as `users list --json` shows them.
    fn listed(&self, email: &str) -> Value {
        let all = self.list(&[]);
        all.into_iter()
            .find(|u| u["email"] == email)
            .unwrap_or_else(|| panic!("{email} not listed"))
    }

    /// The audit log's events, newest first, as the Owner reads them.
    fn events(&self, action: &str) -> Vec<Value> {
        let r = self.owner(&["audit", "list", "--action", action, "--json"]);
        r.ok().json().as_array().unwrap().clone()
    }

    /// Opens the store in this process with a clock that starts `ago` in the past; the binary
    /// must not be running.
    fn in_the_past(&self, ago: Duration) -> (Directory, Arc<ManualClock>) {
        let store = gatehouse_core::files::prepare_data_folder(self.data.path()).unwrap();
        let clock = Arc::new(ManualClock::new(Utc::now() - ago));
        (Directory::open(&store, clock.clone()).unwrap(), clock)
    }
}

fn emails(users: &[Value]) -> Vec<&str> {
    let mut all: Vec<&str> = users.iter().map(|u| u["email"].as_str().unwrap()).collect();
    all.sort_unstable();
    all
}

/// Today on this computer's calendar, as end dates are read.
fn today() -> NaiveDate {
    Local::now().date_naive()
}

#[test]
fn settings_show_and_set_the_governance_keys() {
    let cli = Cli::set_up();
    let text = cli.owner(&["settings", "show"]).ok().stdout.clone();
    for line in ["dormant-days: 90", "review-months: 6", "approval-required-roles: none"] {
        assert!(text.lines().any(|l| l == line), "{line} in {text}");
    }

    cli.owner(&["settings", "set", "dormant-days", "off"]).ok();
    cli.owner(&["settings", "set", "review-months", "3"]).ok();
    let r = cli.owner(&["settings", "set", "approval-required-roles", "admin,owner"]);
    assert_eq!(r.ok().stdout.trim(), "approval-required-roles: admin,owner");
    let org = cli.owner(&["settings", "show", "--json"]).ok().json();
    assert_eq!(org["settings"]["dormant_days"], Value::Null);
    assert_eq!(org["settings"]["review_months"], 3);
    assert_eq!(org["settings"]["approval_required_roles"], json!(["admin", "owner"]));

    cli.owner(&["settings", "set", "dormant-days", "120"]).ok();
    cli.owner(&["settings", "set", "approval-required-roles", "none"]).ok();
    let text = cli.owner(&["settings", "show"]).ok().stdout.clone();
    assert!(text.contains("dormant-days: 120\n"), "{text}");
    assert!(text.contains("approval-required-roles: none\n"), "{text}");
}

#[test]
fn governance_settings_refuse_bad_values_and_anyone_but_an_owner() {
    let cli = Cli::set_up();
    cli.owner(&["settings", "set", "dormant-days", "10"]).refused("invalid_setting");
    cli.owner(&["settings", "set", "dormant-days", "soon"]).refused("invalid_setting");
    cli.owner(&["settings", "set", "review-months", "13"]).refused("invalid_setting");
    let r = cli.owner(&["settings", "set", "approval-required-roles", "nobody"]);
    assert!(r.refused("invalid_setting").stderr.contains("nobody"), "{}", r.stderr);

    cli.member(ANA, "admin", &[]);
    for (key, value) in
        [("dormant-days", "60"), ("review-months", "3"), ("approval-required-roles", "admin")]
    {
        let r = cli.as_user(ANA, MEMBER_PASSWORD, &["settings", "set", key, value]);
        r.refused("owner_required");
    }
    let org = cli.owner(&["settings", "show", "--json"]).ok().json();
    assert_eq!(org["settings"]["dormant_days"], 90, "nothing changed");
}

#[test]
fn an_end_date_is_set_listed_and_cleared() {
    let cli = Cli::set_up();
    cli.member(ANA, "reporting", &[]);
    let date = (today() + Duration::days(20)).to_string();

    let r = cli.owner(&["users", "access-until", ANA, &date]);
    assert_eq!(r.ok().stdout.trim(), format!("The access of {ANA} ends on {date}."));
    assert_eq!(cli.listed(ANA)["access_until"], date.as_str());
    let table = cli.owner(&["users", "list"]).ok().stdout.clone();
    let row = table.lines().find(|l| l.starts_with(ANA)).unwrap();
    assert!(row.contains(&format!("ends {date}")), "{table}");
    assert_eq!(emails(&cli.list(&["--ending-soon"])), [ANA]);

    let ended = cli.events("set_access_until");
    assert!(ended[0]["summary"].as_str().unwrap().contains(&date), "{ended:?}");

    let r = cli.owner(&["users", "access-until", ANA, "never", "--json"]);
    assert_eq!(r.ok().json()["access_until"], Value::Null);
    assert_eq!(cli.listed(ANA)["access_until"], Value::Null);
    assert!(cli.list(&["--ending-soon"]).is_empty());
}

#[test]
fn an_end_date_in_the_past_or_not_a_date_is_invalid_date() {
    let cli = Cli::set_up();
    cli.member(ANA, "reporting", &[]);
    let yesterday = (today() - Duration::days(1)).to_string();
    cli.owner(&["users", "access-until", ANA, &yesterday]).refused("invalid_date");
    let r = cli.owner(&["users", "access-until", ANA, "31/01/2027"]);
    assert!(r.refused("invalid_date").stderr.contains("YYYY-MM-DD"), "{}", r.stderr);
    let r = cli.owner(&["users", "access-until", ANA, "2027-02-30", "--json"]);
    assert_eq!(r.code, 1);
    assert_eq!(r.json()["error"]["code"], "invalid_date");
    let r = cli.owner(&["users", "invite", BEN, "--role", "reporting", "--until", &yesterday]);
    r.refused("invalid_date");
    assert_eq!(cli.listed(ANA)["access_until"], Value::Null);
}

#[test]
fn an_invitation_carries_its_end_date_and_approval() {
    let cli = Cli::set_up();
    let date = (today() + Duration::days(90)).to_string();
    let args = ["users", "invite", BEN, "--role", "reporting", "--until", &date];
    cli.owner(&[&args[..], &["--approval", "CHG-1042 approved by Olivia"]].concat()).ok();
    let ben = cli.listed(BEN);
    assert_eq!(ben["status"], "invited");
    assert_eq!(ben["access_until"], date.as_str());
    let invited = cli.events("invite");
    let summary = invited[0]["summary"].as_str().unwrap();
    assert!(summary.contains("approved: CHG-1042 approved by Olivia"), "{summary}");
    assert!(summary.contains(&date), "{summary}");
}

#[test]
fn a_role_the_settings_name_is_granted_only_with_an_approval() {
    let cli = Cli::set_up();
    cli.owner(&["settings", "set", "approval-required-roles", "admin"]).ok();

    let r = cli.owner(&["users", "invite", ANA, "--role", "admin"]);
    assert!(r.refused("approval_required").stderr.contains("--approval"), "{}", r.stderr);
    assert!(cli.list(&["--search", "ana"]).is_empty(), "nobody was invited");
    let denied = cli.events("invite");
    assert_eq!(denied[0]["code"], "approval_required");

    cli.owner(&["users", "invite", ANA, "--role", "admin", "--approval", "TICKET-7 (CFO)"]).ok();
    let invited = cli.events("invite");
    assert_eq!(invited[0]["outcome"], "success");
    assert!(
        invited[0]["summary"].as_str().unwrap().ends_with("approved: TICKET-7 (CFO)"),
        "{invited:?}"
    );

    // A role the settings do not name needs none; a change of roles granting one does.
    cli.member(BEN, "reporting", &[]);
    cli.owner(&["users", "roles", BEN, "--role", "admin"]).refused("approval_required");
    assert_eq!(cli.listed(BEN)["roles"], json!(["reporting"]));
    let r = cli.owner(&["users", "roles", BEN, "--role", "admin", "--approval", "TICKET-8"]);
    assert_eq!(r.ok().stdout.trim(), format!("{BEN} now holds admin."));
    let changed = cli.events("change_roles");
    let summary = changed[0]["summary"].as_str().unwrap();
    assert!(summary.contains("reporting → admin") && summary.ends_with("TICKET-8"), "{summary}");
}

#[test]
fn an_import_takes_an_approval_for_its_grants() {
    let cli = Cli::set_up();
    cli.owner(&["settings", "set", "approval-required-roles", "admin"]).ok();
    let file = cli.data.path().join("people.csv");
    std::fs::write(&file, "email,name,roles\nana@acme.example,Ana,admin\n").unwrap();
    let file = file.to_str().unwrap();

    let r = cli.owner(&["import", file, "--json"]);
    assert_eq!(r.ok().json()["invited"], 0, "{}", r.stdout);
    assert!(cli.list(&["--search", "ana"]).is_empty());

    let r = cli.owner(&["import", file, "--approval", "CHG-9 signed by the CFO", "--json"]);
    assert_eq!(r.ok().json()["invited"], 1, "{}", r.stdout);
    assert_eq!(cli.listed(ANA)["status"], "invited");
    let invited = cli.events("invite");
    assert!(invited
        .iter()
        .any(|e| e["summary"].as_str().unwrap().ends_with("approved: CHG-9 signed by the CFO")));
}

#[test]
fn who_can_lists_exactly_the_holders_of_a_granting_role() {
    let cli = Cli::set_up();
    let r = cli.owner(&[
        "roles",
        "create",
        "refunds",
        "--name",
        "Refunds",
        "--perm",
        "transactions:rd",
    ]);
    r.ok();
    cli.member(ANA, "reporting", &[]);
    cli.owner(&["users", "roles", ANA, "--role", "reporting", "--role", "refunds"]).ok();
    cli.member(BEN, "admin", &[]);
    cli.owner(&["users", "invite", "cy@acme.example", "--role", "refunds"]).ok();

    let r = cli.owner(&["who-can", "transactions", "delete", "--json"]);
    let rows = r.ok().json().as_array().unwrap().clone();
    let mut seen: Vec<(String, Value, Value)> = rows
        .iter()
        .map(|u| {
            (
                u["email"].as_str().unwrap().to_string(),
                u["roles_granting"].clone(),
                u["status"].clone(),
            )
        })
        .collect();
    seen.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        seen,
        [
            (ANA.to_string(), json!(["refunds"]), json!("active")),
            ("cy@acme.example".to_string(), json!(["refunds"]), json!("invited")),
            (OWNER.to_string(), json!(["owner"]), json!("active")),
        ]
    );
    for row in &rows {
        assert!(row["name"].is_string(), "{row}");
        assert!(row.get("last_sign_in_at").is_some(), "{row}");
    }
    let owner = rows.iter().find(|u| u["email"] == OWNER).unwrap();
    assert!(owner["last_sign_in_at"].is_string());

    // The letters of the permission table name actions too; the table reads as text.
    let r = cli.owner(&["who-can", "transactions", "d"]);
    let text = r.ok().stdout.clone();
    assert!(text.starts_with("transactions:delete is granted by: owner, refunds"), "{text}");
    assert!(text.contains(ANA) && !text.contains(BEN), "{text}");
}

#[test]
fn who_can_writes_a_private_csv_and_refuses_unknown_names_as_usage() {
    let cli = Cli::set_up();
    cli.member(BEN, "admin", &[]);
    let file = cli.data.path().join("who-can.csv");
    let path = file.to_str().unwrap();
    let r = cli.owner(&["who-can", "users", "update", "--csv", path]);
    assert_eq!(r.ok().stdout.trim(), format!("Wrote {path}."));
    let csv = std::fs::read_to_string(&file).unwrap();
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some("email,name,status,roles_granting,last_sign_in_at"));
    let mut rows: Vec<&str> = lines.map(|l| l.split(',').next().unwrap()).collect();
    rows.sort_unstable();
    assert_eq!(rows, [BEN, OWNER]);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let exported = cli.events("who_can");
    assert!(exported[0]["summary"].as_str().unwrap().contains("users:u"), "{exported:?}");

    for args in [["who-can", "payroll", "read"], ["who-can", "users", "approve"]] {
        let r = cli.owner(&args);
        assert_eq!(r.code, 2, "{}", r.stderr);
        assert!(r.stderr.starts_with("error: "), "{}", r.stderr);
    }
    let r = cli.owner(&["who-can", "recovery-profiles", "r", "--json"]);
    assert!(r.ok().json().is_array());
    // Someone without users:read and roles:read is refused.
    cli.member(ANA, "reporting", &[]);
    cli.as_user(ANA, MEMBER_PASSWORD, &["who-can", "users", "read"]).refused("permission_denied");
}

#[test]
fn the_list_says_how_long_since_each_sign_in() {
    let cli = Cli::set_up();
    cli.owner(&["users", "invite", BEN, "--role", "reporting"]).ok();
    let owner = cli.listed(OWNER);
    assert_eq!(owner["days_since_sign_in"], 0, "{owner}");
    let ben = cli.listed(BEN);
    assert_eq!(ben["days_since_sign_in"], Value::Null, "{ben}");
    assert_eq!(ben["access_until"], Value::Null);
    assert_eq!(ben["dormant_soon"], false);
    let table = cli.owner(&["users", "list"]).ok().stdout.clone();
    assert!(table.lines().next().unwrap().contains("LAST SIGN-IN"), "{table}");
    assert!(table.lines().any(|l| l.starts_with(BEN) && l.contains("never")), "{table}");
    assert!(table.lines().any(|l| l.starts_with(OWNER) && l.contains("today")), "{table}");
}

#[test]
fn the_system_deactivates_an_account_dormant_for_longer_than_the_setting() {
    let cli = Cli::set_up();
    // Ana accepts and signs in 91 days ago; Ben 80 days ago; Cy is invited and never signs in.
    // (The store was set up today: the Owner is active today.)
    {
        let (dir, clock) = cli.in_the_past(Duration::days(91));
        let join = |email: &str| {
            let owner = dir.sign_in(OWNER, PASSWORD).unwrap().session;
            let request = InviteRequest {
                invitees: vec![Invitee { email: email.into(), name: None }],
                roles: vec!["reporting".into()],
                ..Default::default()
            };
            let code = match &dir.invite_users(owner, request).unwrap()[0] {
                InviteOutcome::Invited { issued, .. } => issued.code.clone(),
                other => panic!("{other:?}"),
            };
            dir.sign_out(owner).unwrap();
            let input = AcceptInput {
                email: email.into(),
                code,
                name: "Member".into(),
                password: MEMBER_PASSWORD.into(),
            };
            dir.sign_out(dir.accept_invitation(input).unwrap().session).unwrap();
            dir.sign_out(dir.sign_in(email, MEMBER_PASSWORD).unwrap().session).unwrap();
        };
        join(ANA);
        clock.advance(Duration::days(11));
        join(BEN);
    }
    cli.owner(&["users", "invite", "cy@acme.example", "--role", "reporting"]).ok();

    let ana = cli.listed(ANA);
    assert_eq!(ana["status"], "inactive", "{ana}");
    assert_eq!(cli.listed(BEN)["status"], "active");
    assert_eq!(cli.listed("cy@acme.example")["status"], "invited");
    assert_eq!(cli.listed(OWNER)["status"], "active");

    let deactivated = cli.events("deactivate");
    assert_eq!(deactivated.len(), 1, "{deactivated:?}");
    assert_eq!(deactivated[0]["actor"], json!({ "kind": "system" }));
    assert_eq!(deactivated[0]["target"], ANA);
    let summary = deactivated[0]["summary"].as_str().unwrap();
    assert!(summary.contains("no sign-in for 90 days"), "{summary}");
    cli.as_user(ANA, MEMBER_PASSWORD, &["users", "list"]).refused("invalid_credentials");

    // Ben has 10 days left: dormant soon, in the JSON, the filter and the table.
    let ben = cli.listed(BEN);
    assert_eq!(ben["dormant_soon"], true, "{ben}");
    assert_eq!(ben["days_since_sign_in"], 80, "{ben}");
    assert_eq!(emails(&cli.list(&["--dormant-soon"])), [BEN]);
    let table = cli.owner(&["users", "list"]).ok().stdout.clone();
    let row = table.lines().find(|l| l.starts_with(BEN)).unwrap();
    assert!(row.contains("80 days ago") && row.contains("dormant soon"), "{table}");

    // No sign-in for 85 days: Ana (91) and Cy (never), not Ben (80) nor the Owner (today).
    let since = (Utc::now() - Duration::days(85)).format("%Y-%m-%d").to_string();
    let quiet = cli.list(&["--no-sign-in-since", &since]);
    assert_eq!(emails(&quiet), [ANA, "cy@acme.example"]);
}

#[test]
fn the_system_ends_access_on_the_end_date() {
    let cli = Cli::set_up();
    cli.member(ANA, "reporting", &[]);
    cli.member(BEN, "reporting", &[]);
    let tomorrow = today() + Duration::days(1);
    cli.owner(&["users", "access-until", BEN, &tomorrow.to_string()]).ok();
    // Two days ago, Ana's end date was set to today: the earliest a person could have.
    {
        let (dir, _clock) = cli.in_the_past(Duration::days(2));
        let owner = dir.sign_in(OWNER, PASSWORD).unwrap().session;
        let ana = dir.find_user_for(owner, ANA).unwrap().id;
        dir.set_access_until(owner, ana, Some(today())).unwrap();
    }

    let ana = cli.listed(ANA);
    assert_eq!(ana["status"], "inactive", "{ana}");
    assert_eq!(cli.listed(BEN)["status"], "active", "tomorrow has not come");
    let deactivated = cli.events("deactivate");
    assert_eq!(deactivated.len(), 1, "{deactivated:?}");
    assert_eq!(deactivated[0]["actor"], json!({ "kind": "system" }));
    let summary = deactivated[0]["summary"].as_str().unwrap();
    assert!(summary.contains(&format!("access ended on {}", today())), "{summary}");
}
