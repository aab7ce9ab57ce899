//! Selecting several users in the Users list (clicks, Shift-click, Ctrl-click, Space, "Select
//! all N matching") and acting on all of them in one confirmed step: core decides each one,
//! one refusal never stops the others, and the report gives each user's outcome.
#![cfg(feature = "e2e")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use gatehouse_e2e::keys::{CTRL, ESCAPE, SHIFT, SPACE, TAB};
use gatehouse_e2e::{gatehouse, App, OWNER_EMAIL, OWNER_PASSWORD};

const ANA: &str = "ana@acme.example";
const BEN: &str = "ben@acme.example";
const CARA: &str = "cara@acme.example";
const DAN: &str = "dan@acme.example";
const EVE: &str = "eve@acme.example";
/// Active, at a partner company.
const PIA: &str = "pia@partner.example";
/// Invited from the partner company, not yet Active.
const IAN: &str = "ian@partner.example";
const JO: &str = "jo@partner.example";
const KIM: &str = "kim@partner.example";

/// Olivia's organization, made with the command line: Active users Ana (Admin), Ben, Cara,
/// Dan, Eve and Pia (Reporting), each with Olivia's password; Ian, Jo and Kim invited.
fn organization() -> tempfile::TempDir {
    let data = tempfile::tempdir().unwrap();
    let cli = |args: &[&str]| gatehouse(data.path(), "", args);
    cli(&["setup", "--org", "Acme Payments", "--name", "Olivia Owner", "--email", OWNER_EMAIL]);
    let people = [
        (ANA, "admin", "Ana Admin"),
        (BEN, "reporting", "Ben Brown"),
        (CARA, "reporting", "Cara Cole"),
        (DAN, "reporting", "Dan Diaz"),
        (EVE, "reporting", "Eve Evans"),
        (PIA, "reporting", "Pia Partner"),
    ];
    for (email, role, name) in people {
        let out = cli(&["--json", "--as", OWNER_EMAIL, "users", "invite", email, "--role", role]);
        let outcomes: serde_json::Value = serde_json::from_str(&out).unwrap();
        let code = outcomes[0]["issued"]["code"].as_str().expect("an invitation code").to_string();
        cli(&["users", "accept", email, "--code", &code, "--name", name]);
    }
    cli(&["--as", OWNER_EMAIL, "users", "invite", IAN, JO, KIM, "--role", "reporting"]);
    data
}

fn id(testid: &str) -> String {
    format!("[data-testid='{testid}']")
}

fn in_row(email: &str, testid: &str) -> String {
    format!("[data-email='{email}'] [data-testid='{testid}']")
}

/// The emails of the rows whose box is ticked, sorted.
async fn ticked(app: &App) -> Vec<String> {
    let rows = "tr[data-email]:has([data-testid='user-select'][aria-checked='true'])";
    let mut emails = app.attrs(rows, "data-email").await;
    emails.sort();
    emails
}

#[tokio::test]
async fn several_users_selected_by_click_shift_ctrl_and_space_are_deactivated_in_one_step() {
    let app = App::launch_on("bulk-deactivate", organization()).await;
    app.sign_in(OWNER_EMAIL, OWNER_PASSWORD).await;
    app.wait_for_number_text("user-count", "10 users").await;

    // A click on Ben's box, a Shift-click on Dan's: Ben to Dan (the list is in name order).
    app.click_css(&in_row(BEN, "user-select")).await;
    app.wait_for_text("bulk-count", "1 selected").await;
    app.click_holding(SHIFT, &in_row(DAN, "user-select")).await;
    app.wait_for_text("bulk-count", "3 selected").await;
    assert_eq!(ticked(&app).await, [BEN, CARA, DAN]);
    // Ctrl-click on a row (here its email) toggles it: Cara out, Eve in.
    app.click_holding(CTRL, &in_row(CARA, "user-email")).await;
    app.wait_for_text("bulk-count", "2 selected").await;
    app.click_holding(CTRL, &in_row(EVE, "user-email")).await;
    app.wait_for_text("bulk-count", "3 selected").await;
    assert_eq!(ticked(&app).await, [BEN, DAN, EVE]);

    // From the keyboard: Tab to Olivia's own row, Space selects it (from its name too).
    let script = format!("document.querySelector(\"{}\").focus()", in_row(EVE, "user-select"));
    app.js(&script).await;
    app.move_focus_to(TAB, &in_row(OWNER_EMAIL, "user-open"), 20).await;
    app.press(SPACE).await;
    app.wait_for_text("bulk-count", "4 selected").await;
    assert_eq!(ticked(&app).await, [BEN, DAN, EVE, OWNER_EMAIL]);
    let label = "return document.querySelector(arguments[0]).getAttribute('aria-label')";
    let label = app.client.execute(label, vec![in_row(BEN, "user-select").into()]).await.unwrap();
    assert_eq!(label, "Select Ben Brown", "each box is named for its user");
    app.screenshot("01-bulk-bar").await;

    // One confirmation, named for what it does and to how many, red.
    app.click("bulk-deactivate").await;
    app.get("bulk-dialog").await;
    app.wait_for_text("bulk-confirm", "Deactivate 4 users").await;
    app.wait_for_text("bulk-who", "Ben Brown, Dan Diaz, Eve Evans and 1 other").await;
    let class = app.attrs(&id("bulk-confirm"), "class").await;
    assert!(class[0].contains("danger"), "the confirming button is red: {class:?}");
    app.type_into("bulk-reason", "left the company").await;
    app.screenshot("02-bulk-confirm").await;
    app.click("bulk-confirm").await;

    // Each user's outcome: three done; Olivia refused with core's sentence, the others not
    // stopped by it.
    app.wait_for_text(
        "bulk-summary",
        "3 done, 1 refused. Each change is in the audit log on its own.",
    )
    .await;
    let outcome = |email: &str| format!("[data-testid='bulk-outcome'][data-email='{email}']");
    for email in [BEN, DAN, EVE] {
        let css = format!("{} [data-testid='bulk-outcome-text']", outcome(email));
        app.wait_for_css_text(&css, "Deactivated", |t| t.ends_with("Deactivated")).await;
    }
    let refused = app.attrs(&outcome(OWNER_EMAIL), "data-outcome").await;
    assert_eq!(refused, ["refused"]);
    let why =
        app.texts(&format!("{} [data-testid='bulk-outcome-text']", outcome(OWNER_EMAIL))).await;
    let sentences = [
        "You cannot change your own status.",
        "There must always be at least one Active Owner: make someone else an Owner first.",
    ];
    assert!(sentences.iter().any(|s| why[0].ends_with(s)), "core's sentence: {why:?}");
    app.wait_for_focus(&id("bulk-done")).await;
    app.screenshot("03-bulk-report").await;
    app.click("bulk-done").await;
    app.wait_for_css_count("dialog[open]", 0).await;
    // The bar that opened the dialog is gone: the focus goes on from the list's header box.
    app.wait_for_focus(&id("select-shown")).await;

    // The list shows each of them as core left them, and the selection is gone.
    for email in [BEN, DAN, EVE] {
        app.wait_for_row_text(email, "user-status", "Inactive").await;
    }
    app.wait_for_row_text(CARA, "user-status", "Active").await;
    app.wait_for_row_text(OWNER_EMAIL, "user-status", "Active").await;
    app.wait_for_count("bulk-bar", 0).await;

    // The audit log: each deactivation its own event, and the refusal too.
    app.click("nav-audit").await;
    app.get("audit-action").await.select_by_value("deactivate").await.unwrap();
    app.wait_for_count("audit-row", 4).await;
    let targets = app.texts("[data-testid='audit-row'] td:nth-child(4)").await;
    let outcomes = app.texts("[data-testid='audit-row'] td:nth-child(6)").await;
    let mut events: Vec<(String, String)> = targets.into_iter().zip(outcomes).collect();
    events.sort();
    let expected = [(BEN, "Success"), (DAN, "Success"), (EVE, "Success"), (OWNER_EMAIL, "Denied")];
    let expected: Vec<(String, String)> =
        expected.iter().map(|(t, o)| (t.to_string(), o.to_string())).collect();
    assert_eq!(events, expected, "one event for each user, the refusal too");
    app.close().await;
}

#[tokio::test]
async fn all_users_matching_a_search_are_selected_and_their_invitations_resent() {
    let app = App::launch_on("bulk-resend", organization()).await;
    app.sign_in(OWNER_EMAIL, OWNER_PASSWORD).await;
    app.wait_for_number_text("user-count", "10 users").await;

    // The header box selects the rows shown; Escape clears the selection.
    app.click("select-shown").await;
    app.wait_for_text("bulk-count", "10 selected").await;
    app.press(ESCAPE).await;
    app.wait_for_count("bulk-bar", 0).await;

    // Under a search, one row selected offers every user the search matches.
    app.type_into("search", "partner").await;
    app.wait_for_listed(&[IAN, JO, KIM, PIA]).await;
    app.click_css(&in_row(JO, "user-select")).await;
    app.wait_for_text("bulk-count", "1 selected").await;
    app.wait_for_text("bulk-select-all", "Select all 4 matching").await;
    app.click("bulk-select-all").await;
    app.wait_for_text("bulk-count", "4 selected").await;
    assert_eq!(ticked(&app).await, [IAN, JO, KIM, PIA]);
    app.screenshot("01-all-matching").await;

    // Resent: the three invitations get new codes; Pia, who is Active, is refused.
    app.click("bulk-resend").await;
    app.wait_for_text("bulk-confirm", "Resend 4 invitations").await;
    app.screenshot("02-resend-confirm").await;
    app.click("bulk-confirm").await;
    app.wait_for_text(
        "bulk-summary",
        "3 done, 1 refused. Each change is in the audit log on its own.",
    )
    .await;
    app.wait_for_count("bulk-code", 3).await;
    let pia = "[data-testid='bulk-outcome'][data-email='pia@partner.example']";
    assert_eq!(app.attrs(pia, "data-outcome").await, ["refused"]);
    // The codes come with Copy all and Save as CSV, and are asked about before they go.
    app.get("codes-keep").await;
    app.wait_for_text("codes-unkept", "3 of 3 not yet copied or saved.").await;
    app.screenshot("03-resend-report").await;
    app.leave_codes("bulk-done").await;
    app.wait_for_css_count("dialog[open]", 0).await;
    app.wait_for_count("bulk-bar", 0).await;
    app.close().await;
}
