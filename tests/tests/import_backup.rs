//! CSV import (preview, then import with progress, then the report), users export, and a
//! backup restored from Settings, in the real window with its native file dialogs.
#![cfg(feature = "e2e")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use gatehouse_e2e::{gatehouse, App, OWNER_EMAIL, OWNER_PASSWORD};

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
    app.wait_for_text(
        "import-summary",
        "2 of 5 rows can be invited; 3 will be skipped. Nothing has changed yet.",
    )
    .await;
    let labels = ["Duplicate in file", "Bad email", "Unknown role"];
    app.wait_for_text_where("import-rows", "every row's outcome", |t| {
        labels.iter().all(|label| t.contains(label))
    })
    .await;
    app.wait_for_number_text("user-count", "1 user").await;
    app.screenshot("01-preview").await;

    app.click("import-confirm").await;
    app.wait_for_text_where("import-summary", "the report", |t| {
        t.starts_with("2 invited, 3 skipped.")
    })
    .await;
    app.screenshot("02-report").await;
    app.leave_codes("import-done").await;
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

const PASSPHRASE: &str = "tangerine orbit cellar 42";

#[tokio::test]
async fn back_up_from_settings_then_restore_it() {
    let app = App::launch("backup-restore").await;
    app.set_up_owner().await;
    app.invite("ana@acme.example", "reporting").await;
    let files = tempfile::tempdir().unwrap();
    let file = files.path().join("acme.gatehouse-backup");

    app.open_settings().await;
    app.click("backup-now").await;
    // A passphrase the password rules refuse is refused before anything is saved.
    app.type_into("backup-passphrase", "short").await;
    app.type_into("backup-passphrase-again", "short").await;
    app.click("backup-save").await;
    app.wait_for_text_where("backup-passphrase-error", "the refusal", |t| !t.is_empty()).await;
    app.type_into("backup-passphrase", PASSPHRASE).await;
    app.type_into("backup-passphrase-again", PASSPHRASE).await;
    app.screenshot("00-passphrase").await;
    app.click("backup-save").await;
    app.save_in_native_dialog(&file).await;
    app.wait_for_text_where("toast-text", "the backup's toast", |t| {
        t.starts_with("Backup saved, encrypted with your passphrase: 2 users, 3 audit events.")
    })
    .await;
    let bytes = std::fs::read(&file).unwrap();
    assert!(bytes.starts_with(b"age-encryption.org/v1\n"), "an age file");
    assert!(!bytes.windows(15).any(|w| w == b"ana@acme.exampl"), "nothing readable");

    // Change something, then bring the backup back.
    app.click("nav-users").await;
    app.row_action("ana@acme.example", "cancel").await;
    app.click("action-confirm").await;
    app.wait_for_number_text("user-count", "1 user").await;

    app.open_settings().await;
    app.click("restore-open").await;
    app.click("restore-choose").await;
    app.open_in_native_dialog(&file).await;
    // The Owner's password again, and the backup's passphrase; a wrong one changes nothing.
    app.type_into("restore-password", OWNER_PASSWORD).await;
    app.type_into("restore-passphrase", "not the passphrase 123").await;
    app.click("restore-run").await;
    app.wait_for_text(
        "restore-error",
        "That passphrase does not open this backup. Nothing was restored.",
    )
    .await;
    app.type_into("restore-passphrase", PASSPHRASE).await;
    app.click("restore-run").await;
    app.wait_for_text_where("auth-subtitle", "the restore notice", |t| {
        t.starts_with("Restored the backup of")
            && t.ends_with("(2 users). The data it replaced is kept aside in the data folder. Sign in to continue.")
    })
    .await;
    // Where the replaced data went is a button that shows the folder, not a raw path.
    app.get("show-kept-aside").await;
    app.screenshot("01-restored").await;
    app.sign_in(OWNER_EMAIL, OWNER_PASSWORD).await;
    app.wait_for_number_text("user-count", "2 users").await;
    app.row("ana@acme.example").await;
    app.screenshot("02-ana-is-back").await;

    // The restored log still begins with the backup's: held against it from the Audit log.
    app.click("nav-audit").await;
    app.click("audit-compare").await;
    app.open_in_native_dialog(&file).await;
    // Typed and sent from the keyboard: Enter submits the passphrase.
    app.type_into("anchor-passphrase", &format!("{PASSPHRASE}\u{E007}")).await;
    app.wait_for_text_where("audit-anchor", "the comparison", |t| {
        t.starts_with("Today's log begins with the backup's") && t.contains("events 1 to #3 ")
    })
    .await;
    app.screenshot("03-compared").await;
    app.close().await;
}

#[tokio::test]
async fn a_store_that_cannot_open_comes_back_from_a_backup_file_and_its_passphrase() {
    let data = tempfile::tempdir().unwrap();
    let files = tempfile::tempdir().unwrap();
    let file = files.path().join("acme.gatehouse-backup");
    let path = file.to_str().unwrap();
    let as_owner = ["--as", OWNER_EMAIL];
    gatehouse(
        data.path(),
        PASSPHRASE,
        &["setup", "--org", "Acme", "--name", "Olivia Owner", "--email", OWNER_EMAIL],
    );
    gatehouse(data.path(), PASSPHRASE, &[&["backup", path][..], &as_owner].concat());
    // The store is damaged beyond opening: its folder is replaced by a file.
    let store = data.path().join("store");
    std::fs::remove_dir_all(&store).unwrap();
    std::fs::write(&store, b"not a store").unwrap();

    let app = App::launch_on("recovery-file", data).await;
    app.get("unavailable").await;
    app.screenshot("01-unavailable").await;
    app.click("recovery-file").await;
    app.open_in_native_dialog(&file).await;
    // No sign-in is possible: the backup's passphrase is what proves the right to restore it.
    app.type_into("restore-passphrase", PASSPHRASE).await;
    app.click("restore-run").await;
    app.wait_for_text_where("auth-subtitle", "the restore notice", |t| {
        t.starts_with("Restored the backup of") && t.ends_with("Sign in to continue.")
    })
    .await;
    app.sign_in(OWNER_EMAIL, OWNER_PASSWORD).await;
    // Set up by the command line: the Owner may be shown a recovery kit first.
    app.pass_recovery_kit("users-table").await;
    app.wait_for_number_text("user-count", "1 user").await;
    app.screenshot("02-back").await;
    app.close().await;
}
