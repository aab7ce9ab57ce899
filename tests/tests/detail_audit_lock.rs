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

const ENTER: &str = "\u{e007}";

/// Sets a date field as its picker would (WebKitGTK's date field takes no typed keys).
async fn set_date(app: &App, testid: &str, date: &str) {
    let set = format!(
        "const i = document.querySelector(\"[data-testid='{testid}']\"); i.value = '{date}'; \
         i.dispatchEvent(new Event('input', {{ bubbles: true }}));"
    );
    app.js(&set).await;
}

/// Waits until the result count says as many events as the table has rows (all in view),
/// both read at once: a page on its way changes them together.
async fn count_matches_rows(app: &App) {
    let read = "return [document.querySelectorAll(\"[data-testid='audit-row']\").length, \
        document.querySelector(\"[data-testid='audit-count']\")?.innerText ?? ''];";
    let start = std::time::Instant::now();
    loop {
        let seen = app.js(read).await;
        let rows = seen[0].as_u64().unwrap_or(0);
        let count = seen[1].as_str().unwrap_or_default();
        let plain = count.trim().replace([',', '.', '\u{a0}', '\u{202f}', '\''], "");
        if rows > 0 && plain == format!("{rows} events") {
            return;
        }
        if start.elapsed() > patience::step() {
            app.fail(&format!("{rows} rows but the count reads {count:?}")).await;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn the_audit_log_filters_as_they_change_and_counts_what_they_match() {
    let app = App::launch("audit-filters").await;
    app.set_up_owner().await;
    app.invite("ana@acme.example", "reporting").await;
    app.invite("ben@acme.example", "admin").await;
    app.click("nav-audit").await;
    // Setup, the Owner's recovery kit and the two invitations.
    app.wait_for_count("audit-row", 4).await;
    app.wait_for_text("audit-count", "4 events").await;

    // No button: a select applies at once.
    app.get("audit-action").await.select_by_value("invite").await.unwrap();
    app.wait_for_count("audit-row", 2).await;
    app.wait_for_text("audit-count", "2 events").await;

    // The actor is a person found by what is typed, applied when chosen.
    app.type_into("audit-actor", "oliv").await;
    let olivia = format!("[data-testid='audit-actor-option'][data-email='{OWNER_EMAIL}']");
    app.wait_for_css_text(&olivia, "Olivia's name", |t| t.contains("Olivia Owner")).await;
    app.screenshot("01-actor-picker").await;
    app.click_css(&olivia).await;
    app.wait_for_value("audit-actor", OWNER_EMAIL).await;
    app.wait_for_count("audit-row", 2).await;
    let table = app.text("audit-table").await;
    assert!(table.contains("ana@acme.example") && table.contains("ben@acme.example"), "{table}");
    assert!(table.contains(OWNER_EMAIL), "the actor shown by email: {table}");

    // Typed text applies once typing pauses.
    app.type_into("audit-target", "BEN@").await;
    app.wait_for_count("audit-row", 1).await;
    app.wait_for_text("audit-count", "1 event").await;
    app.screenshot("02-filtered").await;

    // Clear resets every filter: the whole log again, with the searches just made.
    app.click("audit-clear").await;
    for field in ["audit-action", "audit-actor", "audit-target", "audit-from", "audit-to"] {
        app.wait_for_value(field, "").await;
    }
    app.wait_for_count_where("[data-testid='audit-row']", "more than 4", |n| n > 4).await;
    count_matches_rows(&app).await;

    // A period sets From and To: today holds everything so far.
    app.get("audit-period").await.select_by_value("today").await.unwrap();
    let dates = "return [\"from\", \"to\"].map(f => document.querySelector(`[data-testid='audit-${f}']`).value);";
    app.wait_for_count_where("[data-testid='audit-row']", "more than 4", |n| n > 4).await;
    let values = app.js(dates).await;
    let [from, to] = [0, 1].map(|i| values[i].as_str().unwrap_or_default().to_string());
    assert!(!from.is_empty() && from == to, "today from {from} to {to}");
    count_matches_rows(&app).await;
    app.screenshot("03-today").await;

    // From after To: said on both fields, and not searched.
    let rows = app.texts("[data-testid='audit-row']").await.len();
    set_date(&app, "audit-from", "2030-01-02").await;
    set_date(&app, "audit-to", "2030-01-01").await;
    app.wait_for_text_where("audit-dates-error", "From after To", |t| {
        t.contains("From is after To")
    })
    .await;
    let invalid =
        app.attrs("[data-testid='audit-from'], [data-testid='audit-to']", "aria-invalid").await;
    assert_eq!(invalid, ["true", "true"]);
    let described =
        app.attrs("[data-testid='audit-from'], [data-testid='audit-to']", "aria-describedby").await;
    assert_eq!(described, ["audit-dates-error", "audit-dates-error"]);
    app.wait_for_value("audit-period", "custom").await;
    app.screenshot("04-dates-reversed").await;
    assert_eq!(app.texts("[data-testid='audit-row']").await.len(), rows, "nothing searched");

    // A day long past holds nothing; an actor nobody is gets the error's sentence.
    set_date(&app, "audit-from", "2001-01-01").await;
    set_date(&app, "audit-to", "2001-01-01").await;
    app.wait_for_count("audit-dates-error", 0).await;
    app.wait_for_count("audit-row", 0).await;
    app.wait_for_text("audit-count", "0 events").await;
    app.type_into("audit-actor", "nobody@acme.example").await;
    app.send_keys_to("audit-actor", ENTER).await;
    app.wait_for_text("audit-error", "That user does not exist.").await;
    app.screenshot("05-unknown-actor").await;
    app.close().await;
}

#[tokio::test]
async fn a_row_opens_its_whole_event() {
    let app = App::launch("audit-event").await;
    app.set_up_owner().await;
    app.click("nav-audit").await;
    app.wait_for_count_where("[data-testid='audit-row']", "rows", |n| n > 0).await;
    // A search is itself an event, its filter in the details: a long one is cut in the table.
    let long = "quarterly-access-review-of-the-finance-and-payroll-teams-".repeat(4);
    app.type_into("audit-target", &long).await;
    app.wait_for_count("audit-row", 0).await;
    // The whole text is searched once typing pauses (250 ms): Clear once core has answered it.
    let answered = "return document.querySelector(\"[data-testid='audit-count']\").dataset.target;";
    app.wait_for_js_where(answered, "the whole text searched", |t| t.as_str() == Some(&long)).await;
    app.click("audit-clear").await;
    let summary = format!("searched the audit log: target “{long}”");
    let newest = "[data-testid='audit-row']:first-of-type [data-testid='audit-row-details']";
    app.wait_for_css_text(newest, "the search", |t| t == summary).await;
    let cut = format!(
        "const d = document.querySelector(\"{newest}\"); return d.scrollWidth > d.clientWidth;"
    );
    assert_eq!(app.js(&cut).await, serde_json::Value::Bool(true), "cut in the table");

    // Enter on the focused row opens it.
    app.send_keys_to("audit-row", ENTER).await;
    app.wait_for_text("audit-event-details", &summary).await;
    app.wait_for_text("audit-event-action", "Read audit log").await;
    app.wait_for_text_where("audit-event-actor", "Olivia's name and email", |t| {
        t.contains("Olivia Owner") && t.contains(OWNER_EMAIL)
    })
    .await;
    app.wait_for_text_where("audit-event-seq", "a sequence number", |t| t.starts_with('#')).await;
    let whole = "const d = document.querySelector(\"[data-testid='audit-event-details']\"); \
        const r = d.getBoundingClientRect(); \
        return d.scrollWidth <= d.clientWidth && r.right <= window.innerWidth && r.height > 40;";
    assert_eq!(app.js(whole).await, serde_json::Value::Bool(true), "wrapped whole in the dialog");
    app.screenshot("01-event").await;
    app.click_css("[data-testid='audit-event'] footer button").await;
    app.wait_for_css_count("[data-testid='audit-event'][open]", 0).await;
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
