//! Access reviews in the real window (PCI DSS v4 7.2.4): the due reminder, a review decided
//! with the mouse and the keyboard, applied, signed off and read-only, its CSV and printable
//! reports; and a reviewer with a custom role who sees the decisions they may not make
//! disabled, with core's reason.
#![cfg(feature = "e2e")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use chrono::{Duration, Utc};
use gatehouse_core::model::{Action, Module, Permission};
use gatehouse_core::secrets::{Keys, Vault};
use gatehouse_core::{
    AcceptInput, Directory, InviteOutcome, InviteRequest, Invitee, ManualClock, RoleInput,
    SettingsInput, SetupInput,
};
use gatehouse_e2e::{answered, patience, App, OWNER_EMAIL, OWNER_PASSWORD};
use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// Admin: the review changes her roles to Reporting.
const ANA: &str = "ana@acme.example";
/// Payment Management: the review deactivates him, with a note.
const PAT: &str = "pat@acme.example";
/// Reporting: kept.
const RITA: &str = "rita@acme.example";
/// Invited as Admin, never accepted: kept.
const IAN: &str = "ian@acme.example";
/// Holds the custom role "Access reviewer" (users:read, users:update, audit:read).
const REX: &str = "rex@acme.example";

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

/// Acme Payments, set up 172 days ago (so the first review, due six months after, is due
/// within 14 days): Olivia the Owner (with her recovery kit), Ana, Pat and Rita Active with
/// Olivia's password and no dormant-account rule, Ian invited; with `reviewer`, also Rex
/// holding "Access reviewer".
fn organization(data: &Path, reviewer: bool) {
    let clock = Arc::new(ManualClock::new(Utc::now() - Duration::days(172)));
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
    // Nobody has signed in since: no dormant-account rule, or the app would deactivate them.
    let org = dir.organization(owner).unwrap();
    let mut settings = org.settings;
    settings.dormant_days = None;
    dir.update_organization(owner, SettingsInput { name: org.name, settings }).unwrap();
    if reviewer {
        let permissions = [
            (Module::Users, Action::Read),
            (Module::Users, Action::Update),
            (Module::Audit, Action::Read),
        ];
        let input = RoleInput {
            key: Some("access_reviewer".into()),
            name: "Access reviewer".into(),
            description: "Reviews who has access".into(),
            permissions: permissions.map(|(module, action)| Permission { module, action }).into(),
        };
        dir.create_role(owner, input).unwrap();
    }
    let mut people = vec![
        (ANA, "admin", "Ana Admin"),
        (PAT, "payment_management", "Pat Payments"),
        (RITA, "reporting", "Rita Reporter"),
    ];
    if reviewer {
        people.push((REX, "access_reviewer", "Rex Reviewer"));
    }
    let invite = |email: &str, role: &str, name: &str| {
        let request = InviteRequest {
            invitees: vec![Invitee { email: email.into(), name: Some(name.into()) }],
            roles: vec![role.into()],
            ..Default::default()
        };
        match dir.invite_users(owner, request).unwrap().remove(0) {
            InviteOutcome::Invited { issued, .. } => issued.code,
            _ => panic!("{email} was not invited"),
        }
    };
    for (email, role, name) in people {
        let code = invite(email, role, name);
        let accept = AcceptInput {
            email: email.into(),
            code,
            name: name.into(),
            password: OWNER_PASSWORD.into(),
        };
        dir.accept_invitation(accept).unwrap();
    }
    invite(IAN, "admin", "Ian Invited");
}

/// Clicks the control `testid` in the review row of `email`.
async fn in_row(app: &App, email: &str, testid: &str) {
    app.click_css(&format!(
        "tr[data-testid='review-row'][data-email='{email}'] [data-testid='{testid}']"
    ))
    .await;
}

/// Waits until the review row of `email` records `decision` (keep, change_roles, deactivate).
async fn wait_decided(app: &App, email: &str, decision: &str) {
    let css =
        format!("tr[data-testid='review-row'][data-email='{email}'][data-decision='{decision}']");
    app.wait_for_css(&css).await;
}

/// Waits until the focused element is the review row of `email` (the keyboard is on it).
async fn wait_focused(app: &App, email: &str) {
    let (start, within) = (Instant::now(), patience::step());
    let focused = "return document.activeElement?.dataset?.email ?? '';";
    loop {
        let now = answered(app.client.execute(focused, vec![])).await.ok();
        if now.as_ref().and_then(|e| e.as_str()) == Some(email) {
            return;
        }
        if start.elapsed() > within {
            app.fail(&format!("the focus is on {now:?}, not the row of {email}")).await;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// Presses `keys` (WebDriver key codes) on the focused element; an element replaced before
/// the keys reached it is looked up again.
async fn press(app: &App, keys: &str) {
    let (start, within) = (Instant::now(), patience::step());
    loop {
        let sent = match answered(app.client.active_element()).await {
            Ok(active) => answered(active.send_keys(keys)).await,
            Err(e) => Err(e),
        };
        match sent {
            Ok(()) => return,
            Err(e) if start.elapsed() > within => app.fail(&format!("keys not sent: {e}")).await,
            Err(_) => tokio::time::sleep(std::time::Duration::from_millis(50)).await,
        }
    }
}

/// Waits until `path` exists and returns its contents.
async fn saved(app: &App, path: &Path) -> String {
    let start = Instant::now();
    while !path.exists() {
        if start.elapsed() > patience::step() {
            app.fail(&format!("{} was never written", path.display())).await;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    std::fs::read_to_string(path).unwrap()
}

const ENTER: &str = "\u{E007}";
const ARROW_UP: &str = "\u{E013}";

#[tokio::test]
async fn the_owner_reviews_access_applies_the_decisions_signs_off_and_keeps_the_report() {
    let data = tempfile::tempdir().unwrap();
    organization(data.path(), false);
    let app = App::launch_in("access-review", data.path()).await;
    app.sign_in(OWNER_EMAIL, OWNER_PASSWORD).await;

    // Six months after setup, less 8 days: the reminder shows after sign-in.
    app.wait_for_css("[data-testid='review-reminder'][data-state='due_soon']").await;
    app.click("review-reminder-open").await;
    app.get("reviews-screen").await;
    app.wait_for_text_where("reviews-due", "due soon", |t| t.contains("due soon")).await;
    app.wait_for_text("reviews-empty", "No access review yet.").await;
    app.screenshot("01-reviews-due").await;

    app.click("review-start").await;
    app.get("review-screen").await;
    app.wait_for_text("review-title", "Access review #1").await;
    app.wait_for_text("review-progress", "0 of 5 decided").await;
    app.wait_for_text("review-status", "Draft").await;
    app.wait_for_text_where("review-keys", "the keys", |t| t.contains("Deactivate")).await;

    // The keyboard: y keeps Olivia and moves on to Pat; d deactivates him and moves on; back
    // up to Pat, Enter opens the note.
    in_row(&app, OWNER_EMAIL, "review-name").await;
    wait_focused(&app, OWNER_EMAIL).await;
    press(&app, "y").await;
    wait_decided(&app, OWNER_EMAIL, "keep").await;
    wait_focused(&app, PAT).await; // Keep moves to the next row
    press(&app, "d").await;
    wait_decided(&app, PAT, "deactivate").await;
    press(&app, ARROW_UP).await;
    wait_focused(&app, PAT).await;
    press(&app, ENTER).await;
    app.get("review-decide-dialog").await;
    let chosen = app.get("review-kind-deactivate").await.prop("checked").await.unwrap();
    assert_eq!(chosen.as_deref(), Some("true"), "the dialog opens on the current decision");
    app.type_into("review-note-input", "Left the company in May").await;
    app.click("review-decide-save").await;
    app.wait_for_text("review-progress", "2 of 5 decided").await;
    app.wait_for_row_text(PAT, "review-note", "Left the company in May").await;

    // The mouse: Ana's roles change to Reporting through the role picker.
    in_row(&app, ANA, "review-change").await;
    app.get("review-decide-dialog").await;
    app.click("review-roles-admin").await;
    app.click("review-roles-reporting").await;
    app.click("review-decide-save").await;
    wait_decided(&app, ANA, "change_roles").await;
    app.wait_for_row_text(ANA, "review-new-roles", "→ Reporting").await;
    app.wait_for_text("review-progress", "3 of 5 decided").await;
    app.screenshot("02-review-midway").await;

    // The filters narrow the snapshot: the Owner and the two Admins hold delete permissions.
    app.click("review-filter-delete").await;
    app.wait_for_text("review-count", "3 of 5 users").await;
    app.wait_for_count("review-row", 3).await;
    app.click("review-filter-delete").await;
    app.wait_for_text("review-count", "5 users").await;

    in_row(&app, RITA, "review-keep").await;
    in_row(&app, IAN, "review-keep").await;
    app.wait_for_text("review-progress", "5 of 5 decided").await;

    app.click("review-apply").await;
    app.wait_for_text_where("review-applied", "2 changed", |t| {
        t.contains("2 changed, 3 unchanged")
    })
    .await;
    app.wait_for_row_text(ANA, "review-outcome", "Applied").await;
    app.wait_for_row_text(PAT, "review-outcome", "Applied").await;
    app.wait_for_row_text(RITA, "review-outcome", "Unchanged").await;
    app.wait_for_text("review-status", "Applied").await;

    app.click("review-sign-off").await;
    app.get("review-sign-off-dialog").await;
    app.wait_for_text_where("review-sign-off-meaning", "the reviewer and the chain", |t| {
        t.contains("Olivia Owner") && t.contains("audit chain")
    })
    .await;
    app.screenshot("03-sign-off-dialog").await;
    app.click("review-sign-off-confirm").await;
    app.get("review-signed").await;
    app.wait_for_text("review-status", "Signed").await;
    app.wait_for_text_where("review-signed-by", "Olivia", |t| t.contains("Olivia Owner")).await;
    let head = app
        .wait_for_text_where("review-chain-head", "#seq and hash", |t| {
            t.starts_with('#') && t.len() > 40
        })
        .await;
    // Read-only: no decision controls, no apply, no sign-off.
    for control in ["review-keep", "review-note-edit", "review-apply", "review-sign-off"] {
        app.wait_for_count(control, 0).await;
    }
    app.wait_for_row_text(PAT, "review-decision", "Deactivate").await;
    app.screenshot("04-signed-review").await;

    // The CSV report, through the native save dialog.
    let out = tempfile::tempdir().unwrap();
    let csv_path = out.path().join("review.csv");
    app.click("review-export-csv").await;
    app.save_in_native_dialog(&csv_path).await;
    let csv = saved(&app, &csv_path).await;
    assert!(csv.contains("Organization,Acme Payments"), "{csv}");
    assert!(csv.contains("Signed off by Olivia Owner"), "{csv}");
    assert!(csv.contains(&head), "the chain head: {csv}");
    assert!(csv.contains("Left the company in May"), "{csv}");
    assert!(csv.contains("change roles → Reporting"), "{csv}");

    // The printable report: the organization, the reviewer, every user's decision, the head.
    app.click("review-report-open").await;
    app.get("review-report-frame").await;
    app.get("review-report-print").await;
    let read = "const f = document.querySelector(\"[data-testid='review-report-frame']\"); \
        return f && f.contentDocument && f.contentDocument.body ? f.contentDocument.body.innerText : '';";
    let (start, within) = (Instant::now(), patience::step());
    let report = loop {
        let text = app.js(read).await.as_str().unwrap_or_default().to_string();
        if text.contains("Acme Payments") || start.elapsed() > within {
            break text;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    assert!(report.contains("Acme Payments"), "{report}");
    assert!(report.contains("Signed off by Olivia Owner"), "{report}");
    for email in [OWNER_EMAIL, ANA, PAT, RITA, IAN] {
        assert!(report.contains(email), "{email} in the report: {report}");
    }
    assert!(report.contains("change roles → Reporting") && report.contains("deactivate"));
    assert!(report.contains(&head), "the chain head in the report: {report}");
    app.screenshot("05-printable-report").await;
    let html_path = out.path().join("review.html");
    app.click("review-report-save-html").await;
    app.save_in_native_dialog(&html_path).await;
    let html = saved(&app, &html_path).await;
    assert!(html.starts_with("<!DOCTYPE html>") && html.contains("Acme Payments"));

    // The list says Signed; the Users list shows the changes made.
    app.click("review-report-close").await;
    app.click("review-back").await;
    app.wait_for_text("review-list-status", "Signed").await;
    app.click("nav-users").await;
    app.wait_for_row_text(ANA, "user-roles", "Reporting").await;
    app.wait_for_row_text(PAT, "user-status", "Inactive").await;
    app.wait_for_count("review-reminder", 0).await; // no reminder once signed off
    app.close().await;
}

#[tokio::test]
async fn a_reviewer_with_a_custom_role_sees_what_they_may_not_decide_and_why() {
    let data = tempfile::tempdir().unwrap();
    organization(data.path(), true);
    let app = App::launch_in("access-review-custom-role", data.path()).await;
    app.sign_in(REX, OWNER_PASSWORD).await;
    app.get("review-reminder").await;
    app.click("nav-reviews").await;
    app.click("review-start").await;
    app.wait_for_text("review-progress", "0 of 6 decided").await;

    // Ana (Admin) holds permissions Rex lacks: neither Change roles nor Deactivate.
    for testid in ["review-change", "review-deactivate"] {
        // Disabled for Ana.
        app.wait_for_css(&format!("tr[data-email='{ANA}'] [data-testid='{testid}']:disabled"))
            .await;
    }
    for (email, reason) in [
        (ANA, "holds permissions you do not have"),
        (OWNER_EMAIL, "Only an Owner"),
        (REX, "your own status"),
    ] {
        let css = format!("tr[data-email='{email}'] [data-testid='review-refused-deactivate']");
        app.wait_for_css_text(&css, reason, |t| t.contains(reason)).await;
    }
    // Keep is always allowed.
    in_row(&app, ANA, "review-keep").await;
    wait_decided(&app, ANA, "keep").await;

    // The keyboard does not check: core refuses, and its sentence shows on the row.
    in_row(&app, OWNER_EMAIL, "review-name").await;
    wait_focused(&app, OWNER_EMAIL).await;
    press(&app, "d").await;
    let error = format!("tr[data-email='{OWNER_EMAIL}'] [data-testid='review-row-error']");
    app.wait_for_css_text(&error, "core's refusal", |t| t.contains("Only an Owner")).await;
    app.wait_for_css(&format!("tr[data-email='{OWNER_EMAIL}'][data-decision='']")).await;
    app.screenshot("01-reviewer-refusals").await;
    app.close().await;
}
