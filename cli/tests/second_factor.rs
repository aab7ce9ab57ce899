//! The command line's contract for the second factor, recovery codes, the Owner's way back in
//! and the organization's settings (issue #14), run as a real process on a store in a
//! temporary folder. Run inside `scripts/with-keyring`: an authenticator's secret is sealed
//! with a key the credential store keeps.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use chrono::{Duration, Utc};
use gatehouse_core::auth::totp::{Secret, STEP};
use serde_json::Value;
use std::process::{Command, Stdio};

mod common;
use common::Run;

const OWNER: &str = "olivia@acme.example";
const PASSWORD: &str = "correct horse battery staple 1";
const MEMBER_PASSWORD: &str = "plum tractor lantern quietly 2";
const ANA: &str = "ana@acme.example";

/// A data folder and the `gatehouse` binary pointed at it.
struct Cli {
    data: tempfile::TempDir,
}

impl Cli {
    /// Set up with Olivia as the Owner; also her recovery codes, as setup printed them.
    fn set_up() -> (Cli, Vec<String>) {
        let cli = Cli { data: tempfile::tempdir().unwrap() };
        let args = ["setup", "--org", "Acme", "--name", "Olivia Owner", "--email", OWNER, "--json"];
        let r = cli.run(&args, &[("GATEHOUSE_PASSWORD", PASSWORD)]);
        r.ok();
        (cli, strings(&r.json()["recovery_codes"]))
    }

    /// Runs with only the `env` given of the variables the command line reads, and standard
    /// input that is not a terminal.
    fn run(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        let mut command = Command::new(env!("CARGO_BIN_EXE_gatehouse"));
        command.args(args).env("GATEHOUSE_DATA_DIR", self.data.path()).stdin(Stdio::null());
        for var in [
            "GATEHOUSE_PASSWORD",
            "GATEHOUSE_NEW_PASSWORD",
            "GATEHOUSE_OTP",
            "GATEHOUSE_NEW_OTP",
            "GATEHOUSE_BACKUP_PASSPHRASE",
        ] {
            command.env_remove(var);
        }
        command.envs(env.iter().copied());
        let output = command.output().unwrap();
        Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8(output.stdout).unwrap(),
            stderr: String::from_utf8(output.stderr).unwrap(),
        }
    }

    /// `args --as email` with `password`, and `otp` in GATEHOUSE_OTP when given.
    fn as_user(&self, email: &str, password: &str, otp: Option<&str>, args: &[&str]) -> Run {
        let mut all = args.to_vec();
        all.extend(["--as", email]);
        let mut env = vec![("GATEHOUSE_PASSWORD", password)];
        env.extend(otp.map(|code| ("GATEHOUSE_OTP", code)));
        self.run(&all, &env)
    }

    /// As the Owner, without a second factor.
    fn owner(&self, args: &[&str]) -> Run {
        self.as_user(OWNER, PASSWORD, None, args)
    }

    /// Invites `email` with `role`; they accept with MEMBER_PASSWORD.
    fn member(&self, email: &str, role: &str, name: &str) {
        let r = self.owner(&["users", "invite", email, "--role", role, "--json"]);
        let code = r.ok().json()[0]["issued"]["code"].as_str().unwrap().to_string();
        let args = ["users", "accept", email, "--code", &code, "--name", name];
        self.run(&args, &[("GATEHOUSE_PASSWORD", MEMBER_PASSWORD)]).ok();
    }

    /// Enrols `email` with `mfa enroll` and `mfa confirm`; returns the secret and the recovery
    /// codes printed. `current`: for a user replacing an authenticator, a code to sign in with
    /// for each of the two commands.
    fn enrol(
        &self,
        email: &str,
        password: &str,
        current: Option<[&str; 2]>,
    ) -> (Secret, Vec<String>) {
        let [first, second] = current.map_or([None, None], |[a, b]| [Some(a), Some(b)]);
        let shown = self.as_user(email, password, first, &["mfa", "enroll", "--json"]);
        let shown = shown.ok().json();
        let base32 = shown["secret"].as_str().unwrap();
        let uri = shown["otpauth_uri"].as_str().unwrap();
        assert!(uri.starts_with("otpauth://totp/") && uri.contains(base32), "{uri}");
        let secret =
            Secret::from_bytes(data_encoding::BASE32_NOPAD.decode(base32.as_bytes()).unwrap());
        let now = code_in(&secret, 0);
        let env = match second {
            None => vec![("GATEHOUSE_PASSWORD", password), ("GATEHOUSE_OTP", now.as_str())],
            // Replacing an authenticator: the current one signs in, the new one confirms.
            Some(current) => vec![
                ("GATEHOUSE_PASSWORD", password),
                ("GATEHOUSE_OTP", current),
                ("GATEHOUSE_NEW_OTP", now.as_str()),
            ],
        };
        let r = self.run(&["mfa", "confirm", "--json", "--as", email], &env);
        let codes = strings(&r.ok().json()["recovery_codes"]);
        assert_eq!(codes.len(), 10, "{}", r.stdout);
        (secret, codes)
    }
}

fn strings(value: &Value) -> Vec<String> {
    value.as_array().unwrap().iter().map(|c| c.as_str().unwrap().to_string()).collect()
}

/// The authenticator's code `steps` 30-second steps from now. The code a confirmation or a
/// sign-in took is not accepted again, so the next sign-in uses the next step's (one step of
/// drift is accepted).
fn code_in(secret: &Secret, steps: i64) -> String {
    secret.code_at(Utc::now() + Duration::seconds(steps * STEP as i64))
}

/// A code of none of the steps around now.
fn wrong_code(secret: &Secret) -> String {
    let near: Vec<String> = (-2..=2).map(|s| code_in(secret, s)).collect();
    (0..).map(|n: u32| format!("{:06}", n * 7919 % 1_000_000)).find(|c| !near.contains(c)).unwrap()
}

#[test]
fn setup_prints_the_owners_ten_recovery_codes_once() {
    let (cli, codes) = Cli::set_up();
    assert_eq!(codes.len(), 10);
    for code in &codes {
        assert_eq!(code.len(), 29, "six groups of four (120 bits): {code}");
        assert_eq!(code.split('-').count(), 6, "{code}");
    }
    let owner = cli.owner(&["users", "show", OWNER, "--json"]);
    assert!(!owner.ok().stderr.contains("note:"), "the kit is held: {}", owner.stderr);

    // In text, numbered, with what they are for.
    let other = Cli { data: tempfile::tempdir().unwrap() };
    let args = ["setup", "--org", "Acme", "--name", "Olivia Owner", "--email", OWNER];
    let r = other.run(&args, &[("GATEHOUSE_PASSWORD", PASSWORD)]);
    let text = &r.ok().stdout;
    assert!(text.starts_with("Acme is set up; olivia@acme.example is its Owner."), "{text}");
    assert!(text.contains("   1. ") && text.contains("  10. "), "{text}");
    assert!(text.contains("gatehouse account recover olivia@acme.example"), "{text}");
    assert!(text.contains("Keep them somewhere safe"), "{text}");
}

#[test]
fn an_authenticator_is_asked_for_at_every_sign_in() {
    let (cli, _) = Cli::set_up();
    cli.member(ANA, "admin", "Ana Admin");
    let (secret, codes) = cli.enrol(ANA, MEMBER_PASSWORD, None);
    let ana = |otp: Option<&str>| cli.as_user(ANA, MEMBER_PASSWORD, otp, &["users", "list"]);

    let missing = ana(None);
    missing.refused("second_factor_required");
    assert!(missing.stderr.contains("GATEHOUSE_OTP"), "{}", missing.stderr);
    ana(Some(&wrong_code(&secret))).refused("second_factor_invalid");
    ana(Some(&code_in(&secret, 1))).ok();
    ana(Some(&codes[0])).ok();
    ana(Some(&codes[0])).refused("second_factor_invalid");

    // The wrong code counted as a failed sign-in; the Owner is told of the recovery code.
    let r = cli.owner(&["audit", "list", "--action", "sign_in", "--json"]);
    let events = r.ok().json();
    let failed = events.as_array().unwrap().iter().filter(|e| {
        e["outcome"] == "failed" && e["summary"].as_str().unwrap().contains("(second factor)")
    });
    assert_eq!(failed.count(), 2, "{events}");
    assert!(
        r.stderr.contains("note: Ana Admin <ana@acme.example> signed in with a recovery code"),
        "{}",
        r.stderr
    );
    assert!(!cli.owner(&["users", "list"]).stderr.contains("note:"), "told once");

    // From three codes left, each sign-in suggests a new set.
    let note = "recovery codes left: run `gatehouse mfa recovery-codes --as ana@acme.example`";
    for code in &codes[1..6] {
        assert!(!ana(Some(code)).ok().stderr.contains(note));
    }
    let r = ana(Some(&codes[6]));
    assert!(r.ok().stderr.contains(&format!("note: 3 {note}")), "{}", r.stderr);
    let args = ["mfa", "recovery-codes", "--json"];
    let r = cli.as_user(ANA, MEMBER_PASSWORD, Some(&codes[7]), &args);
    assert!(!r.ok().stderr.contains("note:"), "{}", r.stderr);
    let fresh = strings(&r.json()["recovery_codes"]);
    assert_eq!(fresh.len(), 10);
    ana(Some(&codes[8])).refused("second_factor_invalid");
    ana(Some(&fresh[0])).ok();
}

#[test]
fn replacing_an_authenticator_signs_in_with_the_current_one() {
    let (cli, _) = Cli::set_up();
    cli.member(ANA, "admin", "Ana Admin");
    let (_, codes) = cli.enrol(ANA, MEMBER_PASSWORD, None);
    // With only GATEHOUSE_OTP (the current app's code here, a recovery code), the new app's
    // code is missing: the command says where it goes.
    cli.as_user(ANA, MEMBER_PASSWORD, Some(&codes[0]), &["mfa", "enroll"]).ok();
    let r = cli.as_user(ANA, MEMBER_PASSWORD, Some(&codes[1]), &["mfa", "confirm"]);
    assert!(r.refused("second_factor_required").stderr.contains("GATEHOUSE_NEW_OTP"));
    let (secret, _) = cli.enrol(ANA, MEMBER_PASSWORD, Some([&codes[2], &codes[3]]));
    cli.as_user(ANA, MEMBER_PASSWORD, Some(&code_in(&secret, 1)), &["users", "list"]).ok();
}

#[test]
fn someone_who_dominates_removes_a_second_factor() {
    let (cli, _) = Cli::set_up();
    let perm = ["roles", "create", "helpdesk", "--name", "Helpdesk", "--perm", "users:cru"];
    cli.owner(&perm).ok();
    cli.member("hal@acme.example", "helpdesk", "Hal Helpdesk");
    cli.member(ANA, "admin", "Ana Admin");
    cli.enrol(ANA, MEMBER_PASSWORD, None);

    let r = cli.as_user("hal@acme.example", MEMBER_PASSWORD, None, &["mfa", "reset", ANA]);
    r.refused("not_dominant");
    let r = cli.owner(&["mfa", "reset", ANA, "--json"]);
    let view = r.ok().json();
    assert_eq!((view["email"].as_str(), view["second_factor"].as_bool()), (Some(ANA), Some(false)));
    let r = cli.owner(&["mfa", "reset", ANA]);
    assert!(r.refused("no_second_factor").stderr.contains("Ana Admin"));
    let text = cli.owner(&["users", "list"]);
    assert!(text.ok().stdout.contains(ANA));
    cli.as_user(ANA, MEMBER_PASSWORD, None, &["users", "list"]).ok();
}

#[test]
fn the_only_owner_locked_out_gets_back_in_with_a_recovery_code() {
    const NEW: &str = "a brand new harbour melody 42";
    let (cli, codes) = Cli::set_up();
    for attempt in 1..=5 {
        let r = cli.as_user(OWNER, "I forgot it 1234 again", None, &["users", "list"]);
        r.refused(if attempt < 5 { "invalid_credentials" } else { "locked_out" });
    }
    cli.owner(&["users", "list"]).refused("locked_out");
    let recover = |code: &str| {
        let args = ["account", "recover", OWNER, "--recovery-code", code, "--json"];
        cli.run(&args, &[("GATEHOUSE_PASSWORD", NEW)])
    };
    let r = recover(&codes[0]);
    assert_eq!(r.ok().json(), serde_json::json!({ "recovered": OWNER, "recovery_codes_left": 9 }));
    cli.as_user(OWNER, NEW, None, &["users", "list"]).ok();
    let again = recover(&codes[0]);
    assert_eq!(again.code, 1);
    assert_eq!(again.json()["error"]["code"], "recovery_code_invalid");
}

#[test]
fn with_an_authenticator_recovery_takes_a_second_code() {
    const NEW: &str = "a brand new harbour melody 42";
    let (cli, _) = Cli::set_up();
    let (_, codes) = cli.enrol(OWNER, PASSWORD, None);
    let args = ["account", "recover", OWNER, "--recovery-code", &codes[0]];
    let r = cli.run(&args, &[("GATEHOUSE_PASSWORD", NEW)]);
    assert!(r.refused("second_factor_required").stderr.contains("GATEHOUSE_OTP"));
    let r = cli.run(&args, &[("GATEHOUSE_PASSWORD", NEW), ("GATEHOUSE_OTP", &codes[1])]);
    assert_eq!(
        r.ok().stdout.trim(),
        "olivia@acme.example has a new password and may sign in again; 8 recovery codes left."
    );
    cli.as_user(OWNER, NEW, Some(&codes[2]), &["users", "list"]).ok();
}

#[test]
fn settings_show_and_set_by_key_and_a_required_role_enrols_first() {
    let (cli, _) = Cli::set_up();
    cli.member("adam@acme.example", "admin", "Adam Admin");
    let shown = cli.owner(&["settings", "show"]);
    assert_eq!(
        shown.ok().stdout,
        "name: Acme\ninvitation-lifetime-hours: 168\nsession-idle-minutes: 15\n\
         mfa-required-roles: none\npassword-max-age-days: off\ndormant-days: 90\n\
         review-months: 6\napproval-required-roles: none\n"
    );
    let r = cli.owner(&["settings", "set", "colour", "blue"]);
    assert!(r.refused("invalid_setting").stderr.contains("mfa-required-roles"), "{}", r.stderr);
    let r = cli.owner(&["settings", "set", "session-idle-minutes", "soon"]);
    assert!(r.refused("invalid_setting").stderr.contains("1 to 60"), "{}", r.stderr);
    cli.owner(&["settings", "set", "session-idle-minutes", "0"]).refused("invalid_setting");
    cli.owner(&["settings", "set", "password-max-age-days", "7"]).refused("invalid_setting");
    let r = cli.owner(&["settings", "set", "mfa-required-roles", "admin,wizard", "--json"]);
    assert_eq!((r.code, &r.json()["error"]["code"]), (1, &Value::from("invalid_setting")));
    let adam = |otp: Option<&str>, args: &[&str]| {
        cli.as_user("adam@acme.example", MEMBER_PASSWORD, otp, args)
    };
    adam(None, &["settings", "set", "password-max-age-days", "90"]).refused("owner_required");

    let r = cli.owner(&["settings", "set", "password-max-age-days", "90", "--json"]);
    assert_eq!(r.ok().json()["settings"]["password_max_age_days"], 90);
    let r = cli.owner(&["settings", "set", "password-max-age-days", "off"]);
    assert_eq!(r.ok().stdout.trim(), "password-max-age-days: off");
    cli.owner(&["settings", "set", "invitation-lifetime-hours", "48"]).ok();

    // The Owner enrols first: the setting binds them too.
    let (secret, codes) = cli.enrol(OWNER, PASSWORD, None);
    let set = ["settings", "set", "mfa-required-roles", "admin, owner"];
    cli.as_user(OWNER, PASSWORD, Some(&code_in(&secret, 1)), &set).ok();
    let r = cli.as_user(OWNER, PASSWORD, Some(&codes[0]), &["settings", "show", "--json"]);
    let org = r.ok().json();
    assert_eq!(org["name"], "Acme");
    assert_eq!(org["settings"]["mfa_required_roles"], serde_json::json!(["admin", "owner"]));
    assert_eq!(org["settings"]["invitation_lifetime_hours"], 48);
    assert_eq!(org["settings"]["password_max_age_days"], Value::Null);
    let r = cli.as_user(OWNER, PASSWORD, Some(&codes[1]), &["settings", "show"]);
    assert!(r.ok().stdout.contains("\nmfa-required-roles: admin,owner\n"), "{}", r.stdout);

    // Adam, an Admin without a second factor, may only enrol.
    let r = adam(None, &["users", "list"]);
    let hint = "Run `gatehouse mfa enroll --as adam@acme.example`";
    assert!(r.refused("enrolment_required").stderr.contains(hint), "{}", r.stderr);
    assert!(r.stdout.is_empty());
    let (secret, _) = cli.enrol("adam@acme.example", MEMBER_PASSWORD, None);
    adam(Some(&code_in(&secret, 1)), &["users", "list"]).ok();
}
