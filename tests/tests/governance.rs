//! Access governance in the app: end dates, approval references, the dormant-account rule
//! (prepared in the past through core, then enforced by the app when it opens) and "Who can…".
#![cfg(feature = "e2e")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use chrono::{Duration, Local, Utc};
use gatehouse_core::secrets::{Keys, Vault};
use gatehouse_core::{
    AcceptInput, Directory, InviteOutcome, InviteRequest, Invitee, ManualClock, SetupInput,
};
use gatehouse_e2e::{patience, App, OWNER_EMAIL, OWNER_PASSWORD};
use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

const ANA: &str = "ana@acme.example";
const BEN: &str = "ben@acme.example";
const CARL: &str = "carl@acme.example";
const OSCAR: &str = "oscar@acme.example";
/// Last signed in 80 days ago: "Dormant soon" under the 90-day rule.
const SAM: &str = "sam@acme.example";
/// Last signed in 91 days ago: deactivated by the system when the app opens.
const DORA: &str = "dora@acme.example";
const PASSWORD: &str = "plum tractor lantern quietly 4";

/// Keys kept in memory: nothing prepared here is sealed (no mail, no second factor).
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

/// Olivia's organization as it stood 100 days ago (new organizations deactivate after 90
/// days without a sign-in), with Sam and Dora joining then; Dora last signs in 91 days ago
/// and Sam 80 days ago. Olivia has not signed in since the setup.
fn organization_in_the_past(data: &Path) {
    let start = Utc::now() - Duration::days(100);
    let clock = Arc::new(ManualClock::new(start));
    let keys = Arc::new(Keys::new(Box::new(MemoryVault::default())));
    let dir = Directory::open_with_keys(&data.join("store"), clock.clone(), keys).unwrap();
    let owner = dir
        .setup(SetupInput {
            organization: "Acme Payments".into(),
            name: "Olivia Owner".into(),
            email: OWNER_EMAIL.into(),
            password: OWNER_PASSWORD.into(),
        })
        .unwrap()
        .session;
    for (email, name) in [(SAM, "Sam Seldom"), (DORA, "Dora Dormant")] {
        let outcomes = dir
            .invite_users(
                owner,
                InviteRequest {
                    invitees: vec![Invitee { email: email.into(), name: None }],
                    roles: vec!["reporting".into()],
                    approval: None,
                    access_until: None,
                },
            )
            .unwrap();
        let InviteOutcome::Invited { issued, .. } = &outcomes[0] else { panic!("{outcomes:?}") };
        dir.accept_invitation(AcceptInput {
            email: email.into(),
            code: issued.code.clone(),
            name: name.into(),
            password: PASSWORD.into(),
        })
        .unwrap();
    }
    clock.advance(Duration::days(9)); // 91 days ago
    dir.sign_in(DORA, PASSWORD).unwrap();
    clock.advance(Duration::days(11)); // 80 days ago
    dir.sign_in(SAM, PASSWORD).unwrap();
}

/// Sets a date input (WebKit's date fields take no typed keys through WebDriver) as a person
/// picking the day would: the value, then the input and change events.
async fn set_date(app: &App, testid: &str, date: &str) {
    app.get(testid).await;
    let script = format!(
        "const e = document.querySelector(\"[data-testid='{testid}']\"); e.value = '{date}'; \
         e.dispatchEvent(new Event('input', {{ bubbles: true }})); \
         e.dispatchEvent(new Event('change', {{ bubbles: true }}));"
    );
    app.js(&script).await;
}

/// Types into a field below the fold of a tall dialog, once scrolled into view.
async fn type_in_view(app: &App, testid: &str, text: &str) {
    app.get(testid).await;
    app.js(&format!(
        "document.querySelector(\"[data-testid='{testid}']\").scrollIntoView({{ block: 'center' }});"
    ))
    .await;
    app.type_into(testid, text).await;
}

/// Waits until the element `testid` in the row of `email` has a text passing `ok`.
async fn wait_in_row(app: &App, email: &str, testid: &str, what: &str, ok: impl Fn(&str) -> bool) {
    let css = format!("tr[data-email='{email}'] [data-testid='{testid}']");
    app.wait_for_css_text(&css, what, ok).await;
}

#[tokio::test]
async fn dormant_accounts_are_flagged_then_deactivated_by_the_system() {
    let data = tempfile::tempdir().unwrap();
    organization_in_the_past(data.path());
    let app = App::launch_on("governance-dormant", data).await;

    // Olivia, the last Active Owner, idle for 100 days: kept, and told to add a second Owner.
    app.sign_in(OWNER_EMAIL, OWNER_PASSWORD).await;
    app.pass_recovery_kit("kept-though-dormant").await;
    app.wait_for_text_where("kept-though-dormant-text", "100 days", |t| {
        t.contains("100 days") || t.contains("99 days")
    })
    .await;
    app.screenshot("01-kept-though-dormant").await;
    app.click("kept-though-dormant-ok").await;

    // Sam is flagged; Dora was deactivated by the system when the app opened.
    app.wait_for_text_where("users-table", "Sam's row", |t| t.contains("Sam Seldom")).await;
    app.wait_for_row_text(SAM, "user-last-sign-in", "80 days ago").await;
    app.wait_for_row_text(SAM, "user-dormant-soon", "Dormant soon").await;
    app.wait_for_row_text(DORA, "user-status", "Inactive").await;
    app.wait_for_css_count(
        &format!("tr[data-email='{DORA}'] [data-testid='user-dormant-soon']"),
        0,
    )
    .await;
    app.screenshot("02-list-with-badges").await;

    app.click("filter-dormant-soon").await;
    app.wait_for_listed(&[SAM]).await;
    app.screenshot("03-filter-dormant-soon").await;
    app.click("filter-dormant-soon").await;

    // No sign-in since 85 days ago: Dora (91 days), not Sam (80) nor Olivia (just now).
    let since = (Local::now() - Duration::days(85)).format("%Y-%m-%d").to_string();
    set_date(&app, "filter-no-sign-in-since", &since).await;
    app.wait_for_listed(&[DORA]).await;
    app.screenshot("04-filter-no-sign-in-since").await;
    app.click("filter-no-sign-in-clear").await;

    // The audit log names the system as the actor, with the reason.
    app.click("nav-audit").await;
    let (start, within) = (std::time::Instant::now(), patience::step());
    let text = loop {
        let rows = app.texts("[data-testid='audit-row']").await;
        let dora = |t: &String| t.contains("dora@acme.example") && t.contains("Deactivate");
        if let Some(text) = rows.into_iter().find(dora) {
            break text;
        }
        if start.elapsed() > within {
            app.fail("no audit row for Dora's deactivation").await;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    assert!(text.contains("System"), "the deactivation's actor: {text:?}");
    assert!(text.contains("no sign-in for 90 days"), "the reason: {text:?}");
    app.screenshot("05-audit-system-deactivation").await;
    app.close().await;
}

#[tokio::test]
async fn end_dates_approvals_and_who_can() {
    let app = App::launch("governance").await;
    app.set_up_owner().await;
    app.invite(ANA, "reporting").await;

    // An end date within 30 days, from the row menu.
    let ends = (Local::now() + Duration::days(20)).date_naive();
    app.row_action(ANA, "end_date").await;
    set_date(&app, "end-date-input", &ends.format("%Y-%m-%d").to_string()).await;
    app.screenshot("01-end-date-dialog").await;
    app.click("action-confirm").await;
    app.wait_for_text_where("toast-text", "the end date saved", |t| t.contains("access ends on"))
        .await;
    let year = ends.format("%Y").to_string();
    wait_in_row(&app, ANA, "user-ends", "Ends … year", |t| {
        t.starts_with("Ends ") && t.contains(&year)
    })
    .await;

    // Invited with an end date far off and an approval reference: in Ben's history.
    app.click("invite-open").await;
    app.type_into("invite-emails", BEN).await;
    app.click("invite-role-reporting").await;
    let later = (Local::now() + Duration::days(200)).format("%Y-%m-%d").to_string();
    set_date(&app, "invite-access-until", &later).await;
    type_in_view(&app, "invite-approval", "CHG-1042 approved by Maria").await;
    app.click("invite-submit").await;
    app.get("invite-code").await;
    app.leave_codes("invite-done").await;
    app.wait_for_text_where("users-table", "Ben's row", |t| t.contains(BEN)).await;
    wait_in_row(&app, BEN, "user-ends", "Ends …", |t| t.starts_with("Ends ")).await;

    // "Ends within 30 days": Ana, not Ben.
    app.click("filter-ending-soon").await;
    app.wait_for_listed(&[ANA]).await;
    app.screenshot("02-filter-ending-soon").await;
    app.click("filter-ending-soon").await;
    app.wait_for_listed(&[ANA, BEN, OWNER_EMAIL]).await;

    app.open_detail(BEN).await;
    app.wait_for_text_where("detail-history", "the approval", |t| {
        t.contains("approved: CHG-1042 approved by Maria")
    })
    .await;
    app.screenshot("03-approval-in-history").await;
    app.js("document.querySelector(\"[data-testid='user-detail'] .primary\").click();").await;

    // The Owner requires an approval reference for Admin.
    app.click("nav-settings").await;
    app.get("access-governance").await;
    app.js("document.querySelector(\"[data-testid='access-governance']\").scrollIntoView();").await;
    app.click("approval-role-admin").await;
    app.js("document.querySelector(\"[data-testid='access-governance']\").scrollIntoView();").await;
    app.screenshot("04-settings-access-governance").await;
    app.click("governance-save").await;
    app.wait_for_text("toast-text", "Access governance saved.").await;

    // Inviting an Admin without one is refused with core's sentence, by the field.
    app.click("nav-users").await;
    app.click("invite-open").await;
    app.type_into("invite-emails", CARL).await;
    app.click("invite-role-admin").await;
    app.click("invite-submit").await;
    app.wait_for_text_where("invite-approval-refusal", "approval", |t| {
        t.to_lowercase().contains("approval")
    })
    .await;
    app.screenshot("05-approval-required").await;
    type_in_view(&app, "invite-approval", "CHG-2000").await;
    app.click("invite-submit").await;
    app.get("invite-code").await;
    app.leave_codes("invite-done").await;

    // Who can delete transactions: the Owners, whatever their status.
    app.invite(OSCAR, "owner").await;
    app.click("nav-who-can").await;
    app.wait_for_count("who-can-row", 2).await;
    let mut emails = app.attrs("[data-testid='who-can-row']", "data-email").await;
    emails.sort();
    assert_eq!(emails, [OWNER_EMAIL, OSCAR]);
    app.wait_for_text_where("who-can-table", "Owner", |t| t.contains("Owner")).await;
    app.screenshot("06-who-can").await;

    // Export CSV… through the native save dialog: a private file.
    let folder = tempfile::tempdir().unwrap();
    let file = folder.path().join("who-can.csv");
    app.click("who-can-export").await;
    app.save_in_native_dialog(&file).await;
    app.wait_for_text_where("toast-text", "the export saved", |t| t.contains("who-can.csv")).await;
    let csv = std::fs::read_to_string(&file).unwrap();
    assert!(csv.starts_with("email,name,status,roles_granting,last_sign_in_at"), "{csv}");
    assert!(csv.contains(OWNER_EMAIL) && csv.contains(OSCAR), "{csv}");
    assert!(!csv.contains(ANA), "{csv}");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600);
    app.close().await;
}
