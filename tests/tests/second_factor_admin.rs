//! The administrator's side of the second factor: the sign-in rules in Settings (with who a
//! requirement reaches), who has a second factor in the Users list, and removing one.
#![cfg(feature = "e2e")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use gatehouse_core::auth::totp::Secret;
use gatehouse_core::secrets::{Keys, Vault};
use gatehouse_core::{Directory, SystemClock};
use gatehouse_e2e::{gatehouse, App, OWNER_EMAIL, OWNER_PASSWORD};
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

/// The emails of the rows listed now.
async fn listed(app: &App) -> Vec<String> {
    let mut emails = Vec::new();
    for row in app.all("user-row").await {
        emails.push(row.attr("data-email").await.unwrap().unwrap_or_default());
    }
    emails.sort();
    emails
}

/// What the row of `email` says in the second factor column (the dash is not read out).
async fn factor_of(app: &App, email: &str) -> String {
    app.row(email).await;
    // Read in one step: the list may replace the row between a find and a read.
    let script = format!(
        "const c = document.querySelector(\"tr[data-email='{email}'] \
         [data-testid='user-second-factor']\"); return c ? c.innerText : '';"
    );
    let text = app.js(&script).await;
    text.as_str().unwrap_or_default().trim_start_matches('—').trim().to_string()
}

async fn checked(app: &App, testid: &str) -> bool {
    app.get(testid).await.prop("checked").await.unwrap().as_deref() == Some("true")
}

#[tokio::test]
async fn the_owner_requires_a_second_factor_for_admins_and_sees_who_has_none() {
    let app = App::launch_on("second-factor-admin", organization()).await;
    app.sign_in(OWNER_EMAIL, OWNER_PASSWORD).await;
    app.wait_for_number_text("user-count", "6 users").await;
    // Who has a second factor reads as text, not colour alone.
    assert!(factor_of(&app, BEN).await.starts_with("2FA"));
    assert_eq!(factor_of(&app, ANA).await, "No second factor");

    // The filter chip, pressed with the keyboard.
    app.get("filter-no-second-factor").await.send_keys("\u{E007}").await.unwrap();
    app.wait_for_number_text("user-count", "4 users").await;
    assert_eq!(listed(&app).await, [ANA, IAN, OWNER_EMAIL, PAT]);
    let pressed = app.get("filter-no-second-factor").await.attr("aria-pressed").await.unwrap();
    assert_eq!(pressed.as_deref(), Some("true"));
    app.screenshot("01-users-without-a-second-factor").await;

    app.click("nav-settings").await;
    app.get("sign-in-rules").await;
    assert!(!checked(&app, "mfa-required").await, "off on a new organization");
    // Turned on from none (with the keyboard), Owner and Admin come chosen.
    app.get("mfa-required").await.send_keys(" ").await.unwrap();
    assert!(checked(&app, "mfa-role-owner").await && checked(&app, "mfa-role-admin").await);
    assert!(!checked(&app, "mfa-role-reporting").await);
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
    assert_eq!(app.text("mfa-reach-admin").await, "Admin: 1 Active user without a second factor");

    // Password expiry: core refuses a number out of range with its sentence.
    app.click("password-expires").await;
    assert_eq!(
        app.get("password-max-age").await.prop("value").await.unwrap().as_deref(),
        Some("90")
    );
    app.type_into("password-max-age", "20").await;
    app.click("sign-in-rules-save").await;
    assert_eq!(
        app.text("sign-in-rules-error").await,
        "Passwords may expire after 30 to 365 days, or never."
    );
    app.type_into("password-max-age", "90").await;
    app.click("sign-in-rules-save").await;
    app.wait_for_text("toast-text", "Sign-in rules saved.").await;
    app.screenshot("02-settings-sign-in-security").await;

    // Saved: the rules read back as chosen.
    app.click("nav-users").await;
    app.click("nav-settings").await;
    app.get("sign-in-rules").await;
    assert!(checked(&app, "mfa-required").await && checked(&app, "mfa-role-admin").await);
    assert!(!checked(&app, "mfa-role-owner").await);
    assert!(checked(&app, "password-expires").await);

    // The reach links to the filtered list: Active Admins without a second factor.
    app.click("mfa-reach-admin").await;
    app.wait_for_number_text("user-count", "1 user").await;
    assert_eq!(listed(&app).await, [ANA]);
    let role = app.get("filter-role").await.prop("value").await.unwrap();
    assert_eq!(role.as_deref(), Some("admin"));
    let pressed = app.get("filter-no-second-factor").await.attr("aria-pressed").await.unwrap();
    assert_eq!(pressed.as_deref(), Some("true"));
    let active = app.get("tab-active").await.attr("aria-selected").await.unwrap();
    assert_eq!(active.as_deref(), Some("true"));
    app.screenshot("03-users-filtered-from-settings").await;

    app.click("nav-audit").await;
    app.get("audit-table").await;
    assert!(app.text("audit-table").await.contains("Update settings"));
    app.close().await;
}

#[tokio::test]
async fn a_second_factor_is_removed_from_the_row_menu_or_the_detail_panel() {
    let app = App::launch_on("second-factor-remove", organization()).await;
    app.sign_in(OWNER_EMAIL, OWNER_PASSWORD).await;
    app.wait_for_number_text("user-count", "6 users").await;
    // Core offers the act on those who have a second factor only.
    assert!(!app.row_menu(ANA).await.contains(&"action-second_factor".to_string()));
    app.client.active_element().await.unwrap().send_keys("\u{E00C}").await.unwrap(); // Esc
    assert!(app.row_menu(BEN).await.contains(&"action-second_factor".to_string()));
    app.click("action-second_factor").await;
    let said = app.text("second-factor-confirm-text").await;
    assert!(said.contains("every session they have open ends now"), "{said}");
    assert!(said.contains("they set one up again at their next sign-in"), "{said}");
    app.screenshot("01-remove-confirm").await;
    app.click("action-confirm").await;
    app.wait_for_text("toast-text", "Ben Admin's second factor was removed.").await;
    let start = std::time::Instant::now();
    while factor_of(&app, BEN).await != "No second factor" {
        if start.elapsed() > std::time::Duration::from_secs(20) {
            app.fail("Ben's row still shows a second factor").await;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }

    // From the detail panel: On, then Off.
    app.open_detail(RITA).await;
    assert_eq!(app.text("detail-second-factor").await, "On");
    app.click("detail-remove-second-factor").await;
    app.get("second-factor-confirm-text").await;
    app.click("action-confirm").await;
    app.wait_for_text("detail-second-factor", "Off").await;
    assert!(app.all("detail-remove-second-factor").await.is_empty());
    app.screenshot("02-detail-removed").await;
    app.close().await;
}

#[tokio::test]
async fn an_admin_sees_the_sign_in_rules_and_why_they_cannot_change_them() {
    let app = App::launch_on("second-factor-read-only", organization()).await;
    app.sign_in(ANA, OWNER_PASSWORD).await;
    app.get("users-table").await;
    app.click("nav-settings").await;
    assert_eq!(
        app.text("sign-in-rules-read-only").await,
        "Only an Owner changes the sign-in rules, since they guard the Owners too. They are shown \
         here as they stand."
    );
    assert!(!app.get("mfa-required").await.is_enabled().await.unwrap());
    assert!(app.all("sign-in-rules-save").await.is_empty());
    // The Admin still changes the other settings.
    assert!(app.get("settings-name").await.is_enabled().await.unwrap());
    app.screenshot("01-read-only").await;
    app.close().await;
}
