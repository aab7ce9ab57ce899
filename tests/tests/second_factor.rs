//! The second factor and recovery in the real window: an authenticator app set up from My
//! account and asked for at the next sign-in, and the only Owner, locked out, back in with a
//! code from the recovery kit that setup showed.
#![cfg(feature = "e2e")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use chrono::{Duration, Utc};
use gatehouse_core::auth::totp::Secret;
use gatehouse_core::secrets::{Keys, Vault};
use gatehouse_core::{
    AcceptInput, Directory, InviteOutcome, InviteRequest, Invitee, ManualClock, SettingsInput,
    SetupInput,
};
use gatehouse_e2e::{answered, patience, App, OWNER_EMAIL, OWNER_PASSWORD};
use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// The secret as the enrolment screen shows it (base32 in groups of 4), as an authenticator
/// app would take it typed in.
fn secret_from_screen(shown: &str) -> Secret {
    let typed: String = shown.chars().filter(|c| !c.is_whitespace()).collect();
    Secret::from_bytes(data_encoding::BASE32_NOPAD.decode(typed.as_bytes()).unwrap())
}

/// A 6-digit code that is none of the authenticator's codes around now (one step of drift is
/// accepted either way).
fn wrong_code(secret: &Secret) -> String {
    let now = Utc::now();
    let taken: Vec<String> =
        [-60, -30, 0, 30, 60].iter().map(|s| secret.code_at(now + Duration::seconds(*s))).collect();
    (0..1_000_000).map(|n| format!("{n:06}")).find(|c| !taken.contains(c)).unwrap()
}

#[tokio::test]
async fn an_authenticator_set_up_from_my_account_is_asked_for_at_the_next_sign_in() {
    let app = App::launch("second-factor").await;
    app.set_up_owner().await;

    app.click("nav-account").await;
    app.wait_for_text("second-factor-status", "Off").await;
    app.click("enrol-open").await;
    app.get("enrol-qr").await;
    let secret = secret_from_screen(&app.text("enrol-secret").await);
    app.click("enrol-cant-scan").await;
    let uri = app.text("enrol-uri").await;
    assert!(uri.starts_with("otpauth://totp/Acme%20Payments:"), "{uri}");
    app.screenshot("01-enrolment").await;

    app.type_into("enrol-code", &wrong_code(&secret)).await;
    app.click("enrol-submit").await;
    app.wait_for_text_where("enrol-error", "core's refusal", |t| {
        t.starts_with("That code is not correct")
    })
    .await;
    app.type_into("enrol-code", &secret.code_at(Utc::now())).await;
    app.click("enrol-submit").await;
    let codes = app.recovery_codes().await;
    let grouped = |c: &String| c.split('-').all(|g| g.len() == 4) && c.split('-').count() >= 4;
    assert!(codes.iter().all(grouped), "groups of four: {codes:?}");
    app.screenshot("02-recovery-codes").await;
    app.confirm_codes_saved().await;
    app.wait_for_text("second-factor-status", "On").await;
    app.wait_for_text("recovery-left", "10 codes left").await;
    app.wait_for_text("enrol-open", "Replace authenticator app").await;
    app.screenshot("03-account-second-factor-on").await;

    // The password alone is not enough any more: the code screen comes next.
    app.click("sign-out").await;
    app.sign_in(OWNER_EMAIL, OWNER_PASSWORD).await;
    app.get("second-factor-form").await;
    app.wait_for_text("auth-subtitle", "Enter the 6-digit code from your authenticator app.").await;
    app.screenshot("04-code-prompt").await;
    app.type_into("second-factor-code", &wrong_code(&secret)).await;
    app.click("second-factor-submit").await;
    app.wait_for_text_where("second-factor-error", "core's refusal", |t| {
        t.starts_with("That code is not correct")
    })
    .await;
    app.screenshot("05-wrong-code").await;
    // The code that confirmed the enrolment is spent: the next step's code (one step of drift
    // is accepted) signs in.
    app.type_into("second-factor-code", &secret.code_at(Utc::now() + Duration::seconds(30))).await;
    app.click("second-factor-submit").await;
    app.get("users-table").await;

    // A recovery code instead of the app's code, once.
    app.click("sign-out").await;
    app.sign_in(OWNER_EMAIL, OWNER_PASSWORD).await;
    app.click("second-factor-toggle").await;
    app.wait_for_text("auth-subtitle", "Enter one of your recovery codes. Each code works once.")
        .await;
    app.type_into("second-factor-code", &codes[0].to_lowercase()).await;
    app.click("second-factor-submit").await;
    app.get("users-table").await;
    app.click("nav-account").await;
    app.wait_for_text("recovery-left", "9 codes left").await;
    app.close().await;
}

#[tokio::test]
async fn the_only_owner_locked_out_gets_back_in_with_a_code_from_the_recovery_kit() {
    let app = App::launch("recovery").await;
    app.get("setup-form").await;
    app.type_into("setup-org", "Acme Payments").await;
    app.type_into("setup-name", "Olivia Owner").await;
    app.type_into("setup-email", OWNER_EMAIL).await;
    app.type_into("setup-password", OWNER_PASSWORD).await;
    app.click("setup-submit").await;
    // Setup ends with the first Owner's recovery kit.
    app.get("recovery-kit").await;
    let kit = app.recovery_codes().await;
    app.screenshot("01-recovery-kit").await;
    assert!(!app.get("recovery-done").await.is_enabled().await.unwrap(), "not before saying so");
    app.confirm_codes_saved().await;
    app.get("users-table").await;

    // A second Owner, who keeps a kit of their own when they join.
    let code = app.invite(OTTO, "owner").await;
    app.click("sign-out").await;
    app.click("have-invitation").await;
    app.type_into("invitation-email", OTTO).await;
    app.type_into("invitation-code", &code).await;
    app.type_into("invitation-name", "Otto Owner").await;
    app.type_into("invitation-password", OTTO_PASSWORD).await;
    app.click("invitation-submit").await;
    app.get("recovery-kit").await;
    app.recovery_codes().await;
    app.confirm_codes_saved().await;
    app.get("users-table").await;

    // Five wrong passwords lock the address; then even the right one is refused.
    app.click("sign-out").await;
    for attempt in 1..=5 {
        app.sign_in(OWNER_EMAIL, &format!("not my password {attempt}")).await;
        wait_for_failed_sign_in(&app).await;
    }
    app.wait_for_text_where("signin-error", "the lockout", |t| {
        t.starts_with("Too many failed sign-in attempts.")
    })
    .await;
    app.sign_in(OWNER_EMAIL, OWNER_PASSWORD).await;
    wait_for_failed_sign_in(&app).await;
    app.wait_for_text_where("signin-error", "the lockout", |t| {
        t.starts_with("Too many failed sign-in attempts.")
    })
    .await;
    app.screenshot("02-locked-out").await;

    // "I can't sign in": a recovery code and a new password; the lockout lifts.
    const NEW_PASSWORD: &str = "lantern orchard velvet 42";
    app.click("cant-sign-in").await;
    app.type_into("recover-email", OWNER_EMAIL).await;
    app.type_into("recover-code", "AAAA-BBBB-CCCC-DDDD").await;
    app.type_into("recover-password", NEW_PASSWORD).await;
    app.type_into("recover-password-again", NEW_PASSWORD).await;
    app.click("recover-submit").await;
    app.wait_for_text("recover-error", "The email or recovery code is not correct.").await;
    app.type_into("recover-code", &kit[3]).await;
    app.screenshot("03-recover").await;
    app.click("recover-submit").await;
    app.get("users-table").await;
    app.screenshot("04-back-in").await;
    app.click("nav-account").await;
    app.wait_for_text("recovery-left", "9 codes left").await;

    // The other Owner is told at their next sign-in.
    app.click("sign-out").await;
    app.sign_in(OTTO, OTTO_PASSWORD).await;
    app.get("recovery-notices").await;
    app.wait_for_count("recovery-notice", 1).await;
    app.wait_for_text_where("recovery-notice", "Olivia's recovery", |t| {
        t.starts_with("Olivia Owner <olivia@acme.example>")
            && t.contains("set a new password with a recovery code")
    })
    .await;
    app.screenshot("05-notice-to-the-other-owner").await;
    app.click("recovery-notices-ok").await;
    app.wait_for_count("recovery-notice", 0).await;
    app.get("users-table").await;

    // Olivia's new password is the one now.
    app.click("sign-out").await;
    app.sign_in(OWNER_EMAIL, NEW_PASSWORD).await;
    app.get("users-table").await;
    app.close().await;
}

const OTTO: &str = "otto@acme.example";
const OTTO_PASSWORD: &str = "copper meadow anchor 88";

/// Waits until a sign-in attempt has been answered with a refusal: the form empties its
/// password field then.
async fn wait_for_failed_sign_in(app: &App) {
    let (start, within) = (Instant::now(), patience::step());
    let value = "return document.querySelector(\"[data-testid='signin-password']\")?.value;";
    loop {
        let value = answered(app.client.execute(value, vec![])).await.ok();
        if value.as_ref().and_then(|v| v.as_str()) == Some("") {
            app.get("signin-error").await;
            return;
        }
        if start.elapsed() > within {
            app.fail("the sign-in attempt was never answered").await;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// Keys kept in memory: the store below is made by this test, before the app (with its own
/// credential store) opens it.
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

const ADAM: &str = "adam@acme.example";
const ADAM_PASSWORD: &str = "plum tractor lantern 77";

/// A store in `data` made 100 days ago: Olivia the Owner (with her kit) and Adam, an Admin;
/// Settings make Admins use a second factor and passwords expire after 30 days.
fn store_made_100_days_ago(data: &Path) {
    let clock = Arc::new(ManualClock::new(Utc::now() - Duration::days(100)));
    let keys = Arc::new(Keys::new(Box::new(MemoryVault::default())));
    let dir = Directory::open_with_keys(&data.join("store"), clock, keys).unwrap();
    let owner = dir
        .setup(SetupInput {
            organization: "Acme Payments".into(),
            name: "Olivia Owner".into(),
            email: OWNER_EMAIL.into(),
            password: OWNER_PASSWORD.into(),
        })
        .unwrap()
        .session;
    dir.new_recovery_codes(owner).unwrap();
    let request = InviteRequest {
        invitees: vec![Invitee { email: ADAM.into(), name: None }],
        roles: vec!["admin".into()],
        ..Default::default()
    };
    let InviteOutcome::Invited { issued, .. } = dir.invite_users(owner, request).unwrap().remove(0)
    else {
        panic!("Adam was not invited");
    };
    dir.accept_invitation(AcceptInput {
        email: ADAM.into(),
        code: issued.code,
        name: "Adam Admin".into(),
        password: ADAM_PASSWORD.into(),
    })
    .unwrap();
    let org = dir.organization(owner).unwrap();
    let mut settings = org.settings;
    settings.mfa_required_roles = vec!["admin".into()];
    settings.password_max_age_days = Some(30);
    // This story is password age and enrolment: with the dormant-account rule on (90 days
    // from setup), Adam would be deactivated when the app opens (tests/governance.rs).
    settings.dormant_days = None;
    dir.update_organization(owner, SettingsInput { name: org.name, settings }).unwrap();
}

#[tokio::test]
async fn an_expired_password_and_a_missing_second_factor_come_before_anything_else() {
    let data = tempfile::tempdir().unwrap();
    store_made_100_days_ago(data.path());
    let app = App::launch_in("sign-in-gates", data.path()).await;

    // Olivia's password is 100 days old: she chooses a new one first.
    app.sign_in(OWNER_EMAIL, OWNER_PASSWORD).await;
    app.get("newpw-form").await;
    app.screenshot("01-new-password").await;
    const NEW_PASSWORD: &str = "harbour lantern violet 2031";
    app.type_into("newpw-current", OWNER_PASSWORD).await;
    app.type_into("newpw-new", NEW_PASSWORD).await;
    app.type_into("newpw-again", NEW_PASSWORD).await;
    app.click("newpw-submit").await;
    app.get("users-table").await;

    // Adam's role needs a second factor: he sets one up before anything else.
    app.click("sign-out").await;
    app.sign_in(ADAM, ADAM_PASSWORD).await;
    app.get("enrol-gate").await;
    app.screenshot("02-enrol-gate").await;
    app.click("enrol-gate-start").await;
    app.get("enrol-qr").await;
    let secret = secret_from_screen(&app.text("enrol-secret").await);
    app.screenshot("03-enrolment").await;
    app.type_into("enrol-code", &secret.code_at(Utc::now())).await;
    app.click("enrol-submit").await;
    app.recovery_codes().await;
    app.screenshot("04-recovery-codes").await;
    app.confirm_codes_saved().await;
    app.get("users-table").await;
    app.click("nav-account").await;
    app.wait_for_text("second-factor-status", "On").await;
    app.wait_for_text("second-factor-required", "Yes").await;
    app.close().await;
}
