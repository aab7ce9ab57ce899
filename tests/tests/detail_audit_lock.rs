//! The user detail panel, the audit log's filters, the password strength meter and the lock
//! screen (also over the Outbox, whose polling is not activity), in the real window.
#![cfg(feature = "e2e")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use gatehouse_e2e::{App, OWNER_EMAIL};
use std::time::{Duration, Instant};

#[tokio::test]
async fn the_detail_names_the_role_granting_each_permission_and_shows_history() {
    let app = App::launch("user-detail").await;
    app.set_up_owner().await;
    app.invite("ana@acme.example", "reporting").await;
    let row = app.row("ana@acme.example").await;
    row.find(fantoccini::Locator::Css("[data-testid='user-open']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    app.get("user-detail").await;
    app.wait_for_text("detail-email", "ana@acme.example").await;
    assert_eq!(app.text("grant-analytics-create").await, "Reporting");
    assert_eq!(app.text("grant-roles-read").await, "Reporting");
    assert!(app.all("grant-users-read").await.is_empty(), "Reporting cannot read users");
    let history = app.text("detail-history").await;
    assert!(history.contains("Invite"), "{history}");
    app.screenshot("01-detail").await;
    app.close().await;
}

#[tokio::test]
async fn the_audit_log_filters_by_actor_action_and_date() {
    let app = App::launch("audit-filters").await;
    app.set_up_owner().await;
    app.invite("ana@acme.example", "reporting").await;
    app.invite("ben@acme.example", "admin").await;
    app.click("nav-audit").await;
    // Setup, the Owner's recovery kit and the two invitations.
    app.wait_for_count("audit-row", 4).await;

    app.get("audit-action").await.select_by_value("invite").await.unwrap();
    app.type_into("audit-actor", OWNER_EMAIL).await;
    app.click("audit-apply").await;
    app.wait_for_count("audit-row", 2).await;
    let table = app.text("audit-table").await;
    assert!(table.contains("ana@acme.example") && table.contains("ben@acme.example"), "{table}");
    assert!(table.contains(OWNER_EMAIL), "the actor shown by email: {table}");

    app.type_into("audit-target", "BEN@").await;
    app.click("audit-apply").await;
    app.wait_for_count("audit-row", 1).await;
    app.screenshot("01-filtered").await;

    // A day long past holds nothing; an actor nobody is gets the error's sentence.
    app.type_into("audit-target", "").await;
    app.js("const i = document.querySelector(\"[data-testid='audit-to']\"); i.value = '2001-01-01'; i.dispatchEvent(new Event('input', { bubbles: true }));").await;
    app.click("audit-apply").await;
    app.wait_for_count("audit-row", 0).await;
    app.type_into("audit-actor", "nobody@acme.example").await;
    app.click("audit-apply").await;
    app.wait_for_text("audit-error", "That user does not exist.").await;
    app.screenshot("02-unknown-actor").await;
    app.close().await;
}

#[tokio::test]
async fn the_meter_judges_passwords_live_and_idle_sessions_lock() {
    let app = App::launch("strength-and-lock").await;
    app.get("setup-form").await;
    app.type_into("setup-name", "Olivia Owner").await;
    app.type_into("setup-password", "password1234").await;
    app.wait_for_text_where("password-strength-text", "a weak reading", |t| {
        t.starts_with("Very weak.") || t.starts_with("Weak.")
    })
    .await;
    app.screenshot("01-weak-password").await;
    app.type_into("setup-password", "correct horse battery staple 7").await;
    app.wait_for_text_where("password-strength-text", "an accepted reading", |t| {
        t.ends_with("strong: good to use.") || t.ends_with("Strong: good to use.")
    })
    .await;
    app.set_up_owner().await;

    idle_for_a_minute(&app).await;
    app.wait_long_for_text("auth-subtitle", "the lock notice", LOCK_WITHIN, |t| t == LOCKED).await;
    app.screenshot("02-locked").await;
    app.close().await;
}

const LOCKED: &str = "Gatehouse locked after a period without activity. Sign in to continue.";

/// The idle minute, the window's next check of the session (every 15 s), and room for a
/// busy machine.
const LOCK_WITHIN: Duration = Duration::from_secs(180);

/// Sets the idle timeout to one minute in Settings, the last thing the person does; returns
/// the moment just before saving (the session's last activity is no earlier).
async fn idle_for_a_minute(app: &App) -> Instant {
    app.click("nav-settings").await;
    app.type_into("settings-idle", "1").await;
    let before = Instant::now();
    app.click("settings-save").await;
    app.wait_for_text("toast-text", "Settings saved.").await;
    before
}

#[tokio::test]
async fn an_idle_window_on_the_outbox_locks_after_the_idle_timeout() {
    let app = App::launch("outbox-lock").await;
    app.set_up_owner().await;
    app.invite("ana@acme.example", "reporting").await;
    let last_active = idle_for_a_minute(&app).await;

    // The Outbox asks core for its messages every 10 s: a poll, not the person's activity.
    app.click("nav-outbox").await;
    app.wait_for_css("tr[data-to='ana@acme.example'][data-state='queued']").await;
    app.screenshot("01-outbox").await;
    app.wait_long_for_text("auth-subtitle", "the lock notice", LOCK_WITHIN, |t| t == LOCKED).await;
    let idle = last_active.elapsed();
    assert!(idle >= Duration::from_secs(60), "locked after {idle:?}, before the idle minute");
    app.screenshot("02-locked").await;
    app.close().await;
}
