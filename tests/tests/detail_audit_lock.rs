//! The user detail panel, the audit log's filters, the password strength meter and the lock
//! screen (also over the Outbox, whose polling is not activity), in the real window.
#![cfg(feature = "e2e")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use gatehouse_e2e::{patience, App, OWNER_EMAIL};
use std::time::Duration;

#[tokio::test]
async fn the_detail_names_the_role_granting_each_permission_and_shows_history() {
    let app = App::launch("user-detail").await;
    app.set_up_owner().await;
    app.invite("ana@acme.example", "reporting").await;
    app.open_detail("ana@acme.example").await;
    app.get("user-detail").await;
    app.wait_for_text("detail-email", "ana@acme.example").await;
    app.wait_for_text("grant-analytics-create", "Reporting").await;
    app.wait_for_text("grant-roles-read", "Reporting").await;
    app.wait_for_count("grant-users-read", 0).await; // Reporting cannot read users
    app.wait_for_text_where("detail-history", "an Invite", |t| t.contains("Invite")).await;
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
    let mut app = App::launch_with_clock("strength-and-lock").await;
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
    app.advance_clock(Duration::from_secs(61));
    wait_for_lock(&app).await;
    // The sign-in screen keeps the email of who was signed in.
    app.wait_for_value("signin-email", OWNER_EMAIL).await;
    app.screenshot("02-locked").await;
    app.close().await;
}

const LOCKED: &str = "Gatehouse locked after a period without activity. Sign in to continue.";

/// Sets the idle timeout to one minute in Settings, the last thing the person does.
async fn idle_for_a_minute(app: &App) {
    app.click("nav-settings").await;
    app.type_into("settings-idle", "1").await;
    app.click("settings-save").await;
    app.wait_for_text("toast-text", "Settings saved.").await;
}

/// Waits for the lock notice: the window asks core whether the session is live every 15 s
/// (real time: only the wall clock is moved).
async fn wait_for_lock(app: &App) {
    let within = patience::step() + Duration::from_secs(15);
    app.wait_for_css_text_within("[data-testid='auth-subtitle']", "the lock notice", within, |t| {
        t == LOCKED
    })
    .await;
}

/// Counts, from now on, the runs of the window's interval timers by period (in ms), each
/// counted once what it started (a call to core) has finished: `ticks(app, 10_000)` then
/// says how many times the Outbox has asked core for its messages. Observes the page's own
/// `setInterval`; the timers and their calls to core are the app's, unchanged.
const COUNT_TICKS: &str = "
    if (!window.__ticks) {
        window.__ticks = {};
        const set = window.setInterval;
        window.setInterval = (run, ms, ...rest) => set(() => {
            Promise.resolve(run()).finally(() => {
                window.__ticks[ms] = (window.__ticks[ms] ?? 0) + 1;
            });
        }, ms, ...rest);
    }";

async fn ticks(app: &App, period_ms: u32) -> u64 {
    let read = format!("return (window.__ticks ?? {{}})[{period_ms}] ?? 0;");
    app.js(&read).await.as_u64().unwrap_or(0)
}

/// Waits until the interval of `period_ms` has run to its end more than `seen` times.
async fn wait_for_tick(app: &App, period_ms: u32, seen: u64) {
    let within = patience::step() + Duration::from_millis(u64::from(period_ms));
    let start = std::time::Instant::now();
    while ticks(app, period_ms).await <= seen {
        if start.elapsed() > within {
            app.fail(&format!("the {period_ms} ms timer did not run within {within:?}")).await;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn an_idle_window_on_the_outbox_locks_after_the_idle_timeout() {
    let mut app = App::launch_with_clock("outbox-lock").await;
    app.js(COUNT_TICKS).await; // before the session check's timer starts, at sign-in
    app.set_up_owner().await;
    app.invite("ana@acme.example", "reporting").await;
    idle_for_a_minute(&app).await;

    // The Outbox asks core for its messages every 10 s: a poll, not the person's activity.
    app.click("nav-outbox").await;
    app.wait_for_css("tr[data-to='ana@acme.example'][data-state='queued']").await;
    app.screenshot("01-outbox").await;

    // 45 s into the idle minute: the Outbox polls and the window checks the session, and it
    // stays open.
    let (polls, checks) = (ticks(&app, 10_000).await, ticks(&app, 15_000).await);
    app.advance_clock(Duration::from_secs(45));
    wait_for_tick(&app, 10_000, polls).await;
    wait_for_tick(&app, 15_000, checks).await;
    app.wait_for_count("auth-subtitle", 0).await;
    app.get("outbox").await;

    // Past the minute since the person's last action, polls or not: locked.
    app.advance_clock(Duration::from_secs(16));
    wait_for_lock(&app).await;
    app.screenshot("02-locked").await;
    app.close().await;
}
