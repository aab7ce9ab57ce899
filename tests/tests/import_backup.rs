//! CSV import (preview, then import with progress, then the report), users export, and a
//! backup restored from Settings, in the real window with its native file dialogs.
#![cfg(feature = "e2e")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use gatehouse_e2e::{App, OWNER_EMAIL, OWNER_PASSWORD};

#[tokio::test]
async fn import_a_csv_after_its_preview_then_export_the_users() {
    let app = App::launch("import-export").await;
    app.set_up_owner().await;
    let files = tempfile::tempdir().unwrap();
    let csv = files.path().join("people.csv");
    std::fs::write(
        &csv,
        "email,name,roles\nana@acme.example,Ana Analyst,reporting\nANA@acme.example,Again,reporting\nnot-an-email,X,reporting\nben@acme.example,Ben,\"admin;reporting\"\nwho@acme.example,Who,wizard\n",
    )
    .unwrap();
    app.click("import-open").await;
    app.open_in_native_dialog(&csv).await;
    app.wait_for_count("import-row", 5).await;
    assert_eq!(
        app.text("import-summary").await,
        "2 of 5 rows can be invited; 3 will be skipped. Nothing has changed yet."
    );
    let outcomes = app.text("import-rows").await;
    for label in ["Duplicate in file", "Bad email", "Unknown role"] {
        assert!(outcomes.contains(label), "{label} in {outcomes}");
    }
    app.wait_for_number_text("user-count", "1 user").await;
    app.screenshot("01-preview").await;

    app.click("import-confirm").await;
    app.wait_for_text_where("import-summary", "the report", |t| {
        t.starts_with("2 invited, 3 skipped.")
    })
    .await;
    app.screenshot("02-report").await;
    app.click("import-done").await;
    app.wait_for_number_text("user-count", "3 users").await;
    app.row("ben@acme.example").await;

    let out = files.path().join("users.csv");
    app.click("users-export").await;
    app.save_in_native_dialog(&out).await;
    app.wait_for_text("toast-text", "Saved users.csv.").await;
    let exported = std::fs::read_to_string(&out).unwrap();
    assert!(exported.starts_with("email,name,status,roles,"), "{exported}");
    assert!(exported.contains("ben@acme.example,Ben,invited,\"admin;reporting\","), "{exported}");
    app.close().await;
}

#[tokio::test]
async fn back_up_from_settings_then_restore_it() {
    let app = App::launch("backup-restore").await;
    app.set_up_owner().await;
    app.invite("ana@acme.example", "reporting").await;
    let files = tempfile::tempdir().unwrap();
    let file = files.path().join("acme.gatehouse-backup");

    app.click("nav-settings").await;
    app.get("backups").await;
    app.click("backup-now").await;
    app.save_in_native_dialog(&file).await;
    app.wait_for_text("toast-text", "Backup saved: 2 users, 2 audit events.").await;
    assert!(file.exists());

    // Change something, then bring the backup back.
    app.click("nav-users").await;
    app.row_action("ana@acme.example", "cancel").await;
    app.click("action-confirm").await;
    app.wait_for_number_text("user-count", "1 user").await;

    app.click("nav-settings").await;
    app.click("restore-open").await;
    app.click("restore-choose").await;
    app.open_in_native_dialog(&file).await;
    app.wait_for_text_where("auth-subtitle", "the restore notice", |t| {
        t.starts_with("Restored a backup of 2 users.") && t.ends_with("Sign in again.")
    })
    .await;
    app.screenshot("01-restored").await;
    app.sign_in(OWNER_EMAIL, OWNER_PASSWORD).await;
    app.wait_for_number_text("user-count", "2 users").await;
    app.row("ana@acme.example").await;
    app.screenshot("02-ana-is-back").await;
    app.close().await;
}
