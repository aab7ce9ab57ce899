//! Settings and the audit log in the real window.
#![cfg(feature = "e2e")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use gatehouse_e2e::App;

#[tokio::test]
async fn rename_the_organization_then_find_it_in_the_verified_audit_log() {
    let app = App::launch("admin-screens").await;
    app.set_up_owner().await;

    app.click("nav-settings").await;
    app.get("settings-form").await;
    app.type_into("settings-name", "Acme Payments Ltd").await;
    app.type_into("settings-lifetime", "9999").await;
    app.click("settings-save").await;
    // Core names the field it refused: the sentence is under it, not above the form.
    let refused = "The invitation lifetime must be between 1 hour and 30 days.";
    app.wait_for_field_error("settings-lifetime", refused).await;
    app.wait_for_count("settings-error", 0).await;
    app.wait_for_field_clear("settings-idle").await;
    app.screenshot("01-settings-refused").await;
    app.type_into("settings-lifetime", "48").await;
    app.wait_for_field_clear("settings-lifetime").await;
    app.click("settings-save").await;
    app.wait_for_text("org-name", "Acme Payments Ltd").await;
    app.screenshot("02-settings-saved").await;

    app.click("nav-audit").await;
    app.get("audit-table").await;
    // Setup, the Owner's recovery kit and the settings change.
    app.wait_for_count("audit-row", 3).await;
    app.wait_for_text_where("audit-table", "Update settings", |t| t.contains("Update settings"))
        .await;
    app.click("audit-verify").await;
    // The fourth: reading the log is itself recorded (PCI DSS v4 10.2.1.3).
    app.wait_for_text_where("audit-integrity", "Intact: 4 events", |t| {
        t.starts_with("Intact: 4 events")
    })
    .await;
    app.screenshot("03-audit-log").await;

    let out = tempfile::tempdir().unwrap();
    let file = out.path().join("audit.csv");
    app.click("audit-export").await;
    app.save_in_native_dialog(&file).await;
    app.wait_for_text("audit-saved", "Saved audit.csv.").await;
    let csv = std::fs::read_to_string(&file).unwrap();
    assert_eq!(csv.lines().count(), 6, "header, four events and the export itself: {csv}");
    assert!(csv.lines().nth(2).unwrap().contains(",new_recovery_codes,"), "{csv}");
    assert!(csv.lines().nth(3).unwrap().contains(",update_settings,organization,"), "{csv}");
    // The last row is the export's own event: the chain's head when the file was written.
    assert!(csv.lines().nth(4).unwrap().contains(",read_audit,"), "{csv}");
    let last = csv.lines().nth(5).unwrap();
    assert!(last.starts_with("5,") && last.contains(",export_audit,"), "{csv}");
    assert!(last.contains("audit chain head #4 "), "{csv}");

    app.close().await;
}

#[tokio::test]
async fn create_a_custom_role_and_be_refused_deleting_it_while_held() {
    let app = App::launch("roles").await;
    app.set_up_owner().await;

    app.click("nav-roles").await;
    app.click("role-new").await;
    app.type_into("role-name", "Support Lead").await;
    app.click("perm-customers-read").await;
    app.click("perm-customers-update").await;
    app.screenshot("01-new-role").await;
    app.click("role-save").await;
    app.wait_for_text("toast-text", "Role “Support Lead” saved.").await;
    app.wait_for_text_where("role-support_lead", "0 members", |t| t.contains("0 members")).await;

    app.click("nav-users").await;
    app.click("invite-open").await;
    app.type_into("invite-emails", "sue@acme.example").await;
    app.click("invite-role-support_lead").await;
    app.click("invite-submit").await;
    app.leave_codes("invite-done").await;
    app.row("sue@acme.example").await;

    app.click("nav-roles").await;
    app.click("role-support_lead").await;
    // In use: Delete is off (core would refuse it), with who holds the role and a way to them.
    app.wait_for_text_where("role-held", "who holds it", |t| {
        t.starts_with("Held by sue@acme.example: take the role away from them before deleting it.")
    })
    .await;
    let disabled =
        app.js("return document.querySelector(\"[data-testid='role-delete']\").disabled;");
    assert_eq!(
        disabled.await,
        serde_json::Value::Bool(true),
        "Delete is off while the role is held"
    );
    app.screenshot("02-role-in-use").await;
    app.click("role-show-members").await;
    app.wait_for_count("user-row", 1).await;
    app.row("sue@acme.example").await;

    // Once nobody holds it, it goes.
    app.row_action("sue@acme.example", "cancel").await;
    app.click("action-confirm").await;
    // The list is still the role's holders: none now.
    app.wait_for_number_text("user-count", "0 users").await;
    app.click("nav-roles").await;
    app.click("role-support_lead").await;
    app.click("role-delete").await;
    app.click("role-delete-confirm").await;
    app.wait_for_text("toast-text", "Role “Support Lead” deleted.").await;
    app.wait_for_count("role-support_lead", 0).await;
    app.screenshot("03-role-deleted").await;

    app.close().await;
}

#[tokio::test]
async fn duplicate_a_built_in_role_as_an_editable_custom_copy() {
    let app = App::launch("role-copy").await;
    app.set_up_owner().await;

    app.click("nav-roles").await;
    app.click("role-reporting").await;
    app.click("role-duplicate").await;
    // The editor opens as a new role named after the source, with its permissions.
    app.wait_for_value("role-name", "Copy of Reporting").await;
    let checked = |m: &str, a: &str| {
        format!("return document.querySelector(\"[data-testid='perm-{m}-{a}']\").checked;")
    };
    assert_eq!(app.js(&checked("analytics", "create")).await, true);
    assert_eq!(app.js(&checked("customers", "read")).await, true);
    // Edited before saving: the copy is saved as edited.
    app.click("perm-customers-read").await;
    app.screenshot("01-duplicate-role").await;
    app.click("role-save").await;
    app.wait_for_text("toast-text", "Role “Copy of Reporting” saved.").await;
    app.wait_for_text_where("role-copy_of_reporting", "0 members", |t| {
        t.contains("0 members") && !t.contains("built-in")
    })
    .await;

    // A custom role: it can be edited, and holds what was saved.
    app.click("role-copy_of_reporting").await;
    app.click("role-edit").await;
    app.wait_for_value("role-name", "Copy of Reporting").await;
    assert_eq!(app.js(&checked("analytics", "create")).await, true);
    assert_eq!(app.js(&checked("customers", "read")).await, false);

    app.close().await;
}
