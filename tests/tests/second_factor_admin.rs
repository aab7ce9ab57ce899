//! The administrator's side of the second factor: the sign-in rules in Settings (with who a
//! requirement reaches), who has a second factor in the Users list, and removing one.
#![cfg(feature = "e2e")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use gatehouse_core::auth::totp::Secret;
use gatehouse_core::secrets::{Keys, Vault};
use gatehouse_core::{Directory, SystemClock};
use gatehouse_e2e::{answered, gatehouse, App, OWNER_EMAIL, OWNER_PASSWORD};
use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

/// Admin, no second factor.
const ANA: &str = "ana@acme.example";
/// Admin, with an authenticator app.
const BEN: &str = "ben@acme.example";
/// Reporting, with an authenticator app.
const RITA: &str = "rita@acme.example";
/// Payment Management, no second factor.
const PAT: &str = "pat@acme.example";
/// Admin, invited and not yet Active.
const IAN: &str = "ian@acme.example";

/// Olivia's organization, made with the command line: Active users Ana, Ben, Rita and Pat
/// (each with Olivia's password), Ian invited; Ben and Rita have an authenticator app.
fn organization() -> tempfile::TempDir {
    let data = tempfile::tempdir().unwrap();
    let cli = |args: &[&str]| gatehouse(data.path(), "", args);
    cli(&["setup", "--org", "Acme Payments", "--name", "Olivia Owner", "--email", OWNER_EMAIL]);
    let people = [
        (ANA, "admin", "Ana Admin"),
        (BEN, "admin", "Ben Admin"),
        (RITA, "reporting", "Rita Reporter"),
        (PAT, "payment_management", "Pat Payments"),
    ];
    for (email, role, name) in people {
        let out = cli(&["--json", "--as", OWNER_EMAIL, "users", "invite", email, "--role", role]);
        let outcomes: serde_json::Value = serde_json::from_str(&out).unwrap();
        let code = outcomes[0]["issued"]["code"].as_str().expect("an invitation code").to_string();
        cli(&["users", "accept", email, "--code", &code, "--name", name]);
    }
    cli(&["--as", OWNER_EMAIL, "users", "invite", IAN, "--role", "admin"]);
    enrol(data.path(), &[BEN, RITA]);
    data
}

/// Keys kept in memory: the secrets enrolled here are sealed with a key the app never sees,
/// which does not matter to what these tests do (show, filter and remove second factors).
#[derive(Default)]
struct MemoryVault(Mutex<HashMap<String, String>>);

impl Vault for MemoryVault {
    fn get(&self, name: &str) -> Result<Option<String>, String> {
        Ok(self.0.lock().unwrap().get(name).cloned())
    }
    fn set(&self, name: &str, secret: &str) -> Result<(), String> {
        self.0.lock().unwrap().insert(name.into(), secret.into());
        Ok(())
    }
}

/// Each of `emails` signs in and adds an authenticator app through core, as the enrolment
/// screen would (the command line has no enrolment yet).
fn enrol(data: &Path, emails: &[&str]) {
    let keys = Arc::new(Keys::new(Box::new(MemoryVault::default())));
    let dir = Directory::open_with_keys(&data.join("store"), Arc::new(SystemClock), keys).unwrap();
    for email in emails {
        let session = dir.sign_in(email, OWNER_PASSWORD).unwrap().session;
        let shown = dir.start_enrolment(session).unwrap();
        let bytes = data_encoding::BASE32_NOPAD.decode(shown.secret.as_bytes()).unwrap();
        let code = Secret::from_bytes(bytes).code_at(chrono::Utc::now());
        dir.confirm_enrolment(session, &code).unwrap();
    }
}

/// Waits until the row of `email` says `ok` in the second factor column (the dash is not
/// read out).
async fn wait_for_factor(app: &App, email: &str, what: &str, ok: impl Fn(&str) -> bool) {
    let css = format!("tr[data-email='{email}'] [data-testid='user-second-factor']");
    app.wait_for_css_text(&css, what, |t| ok(t.trim_start_matches('—').trim())).await;
}

/// Waits until the checkbox `testid` is ticked (`true`) or not.
async fn wait_checked(app: &App, testid: &str, ticked: bool) {
    let state = if ticked { ":checked" } else { ":not(:checked)" };
    app.wait_for_css(&format!("[data-testid='{testid}']{state}")).await;
}

#[tokio::test]
async fn the_owner_requires_a_second_factor_for_admins_and_sees_who_has_none() {
    let app = App::launch_on("second-factor-admin", organization()).await;
    app.sign_in(OWNER_EMAIL, OWNER_PASSWORD).await;
    app.wait_for_number_text("user-count", "6 users").await;
    // Who has a second factor reads as text, not colour alone.
    wait_for_factor(&app, BEN, "2FA", |t| t.starts_with("2FA")).await;
    wait_for_factor(&app, ANA, "No second factor", |t| t == "No second factor").await;

    // The filter chip, pressed with the keyboard.
    app.send_keys_to("filter-no-second-factor", "\u{E007}").await;
    app.wait_for_number_text("user-count", "4 users").await;
    app.wait_for_listed(&[ANA, IAN, OWNER_EMAIL, PAT]).await;
    app.wait_for_css("[data-testid='filter-no-second-factor'][aria-pressed='true']").await;
    app.screenshot("01-users-without-a-second-factor").await;

    app.click("nav-settings").await;
    app.get("sign-in-rules").await;
    wait_checked(&app, "mfa-required", false).await; // off on a new organization
                                                     // Turned on from none (with the keyboard), Owner and Admin come chosen.
    app.send_keys_to("mfa-required", " ").await;
    wait_checked(&app, "mfa-role-owner", true).await;
    wait_checked(&app, "mfa-role-admin", true).await;
    wait_checked(&app, "mfa-role-reporting", false).await;
    app.wait_for_text_where("mfa-reach-total", "Olivia and Ana", |t| {
        t.starts_with("2 Active users")
    })
    .await;
    // Admins only: Ana is the one Active Admin without a second factor (Ben has one, Ian has
    // not joined yet).
    app.click("mfa-role-owner").await;
    app.wait_for_text(
        "mfa-reach-total",
        "1 Active user in these roles has no second factor yet: they set one up at their next sign-in.",
    )
    .await;
    app.wait_for_text("mfa-reach-admin", "Admin: 1 Active user without a second factor").await;

    // Password expiry: core refuses a number out of range with its sentence.
    app.click("password-expires").await;
    app.wait_for_value("password-max-age", "90").await;
    app.type_into("password-max-age", "20").await;
    app.click("sign-in-rules-save").await;
    let refused = "Passwords may expire after 30 to 365 days, or never.";
    app.wait_for_field_error("password-max-age", refused).await;
    app.type_into("password-max-age", "90").await;
    app.wait_for_field_clear("password-max-age").await;
    app.click("sign-in-rules-save").await;
    app.wait_for_text("toast-text", "Sign-in rules saved.").await;
    app.screenshot("02-settings-sign-in-security").await;

    // Saved: the rules read back as chosen.
    app.click("nav-users").await;
    app.click("nav-settings").await;
    app.get("sign-in-rules").await;
    wait_checked(&app, "mfa-required", true).await;
    wait_checked(&app, "mfa-role-admin", true).await;
    wait_checked(&app, "mfa-role-owner", false).await;
    wait_checked(&app, "password-expires", true).await;

    // The reach links to the filtered list: Active Admins without a second factor.
    app.click("mfa-reach-admin").await;
    app.wait_for_number_text("user-count", "1 user").await;
    app.wait_for_listed(&[ANA]).await;
    app.wait_for_value("filter-role", "admin").await;
    app.wait_for_css("[data-testid='filter-no-second-factor'][aria-pressed='true']").await;
    app.wait_for_css("[data-testid='tab-active'][aria-selected='true']").await;
    app.screenshot("03-users-filtered-from-settings").await;

    app.click("nav-audit").await;
    app.wait_for_text_where("audit-table", "Update settings", |t| t.contains("Update settings"))
        .await;
    app.close().await;
}

#[tokio::test]
async fn a_second_factor_is_removed_from_the_row_menu_or_the_detail_panel() {
    let app = App::launch_on("second-factor-remove", organization()).await;
    app.sign_in(OWNER_EMAIL, OWNER_PASSWORD).await;
    app.wait_for_number_text("user-count", "6 users").await;
    // Core offers the act on those who have a second factor only.
    assert!(!app.row_menu(ANA).await.contains(&"action-second_factor".to_string()));
    let active = answered(app.client.active_element()).await.unwrap();
    answered(active.send_keys("\u{E00C}")).await.unwrap(); // Esc
    assert!(app.row_menu(BEN).await.contains(&"action-second_factor".to_string()));
    app.click("action-second_factor").await;
    app.wait_for_text_where("second-factor-confirm-text", "what removing does", |t| {
        t.contains("every session they have open ends now")
            && t.contains("they set one up again at their next sign-in")
    })
    .await;
    app.screenshot("01-remove-confirm").await;
    app.click("action-confirm").await;
    app.wait_for_text("toast-text", "Ben Admin's second factor was removed.").await;
    wait_for_factor(&app, BEN, "No second factor", |t| t == "No second factor").await;

    // From the detail panel: On, then Off.
    app.open_detail(RITA).await;
    app.wait_for_text("detail-second-factor", "On").await;
    app.click("detail-remove-second-factor").await;
    app.get("second-factor-confirm-text").await;
    app.click("action-confirm").await;
    app.wait_for_text("detail-second-factor", "Off").await;
    app.wait_for_count("detail-remove-second-factor", 0).await;
    app.screenshot("02-detail-removed").await;
    app.close().await;
}

#[tokio::test]
async fn an_admin_sees_the_sign_in_rules_and_why_they_cannot_change_them() {
    let app = App::launch_on("second-factor-read-only", organization()).await;
    app.sign_in(ANA, OWNER_PASSWORD).await;
    app.get("users-table").await;
    app.click("nav-settings").await;
    app.wait_for_text(
        "sign-in-rules-read-only",
        "Only an Owner changes the sign-in rules, since they guard the Owners too. They are shown \
         here as they stand.",
    )
    .await;
    app.wait_for_css("[data-testid='mfa-required']:disabled").await;
    app.wait_for_count("sign-in-rules-save", 0).await;
    // The Admin still changes the other settings.
    app.wait_for_css("[data-testid='settings-name']:enabled").await;
    app.screenshot("01-read-only").await;
    app.close().await;
}
