//! A store that opens holding less than it had saved (sled went back to an older state after
//! a power cut) is refused with a sentence, never shown as a new organization to set up, and
//! comes back from a backup.
#![cfg(feature = "e2e")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use gatehouse_e2e::{gatehouse, App, OWNER_EMAIL, OWNER_PASSWORD};
use std::path::Path;

const PASSPHRASE: &str = "orange umbrella violin 42";

fn copy_folder(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap().flatten() {
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_folder(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

#[tokio::test]
async fn a_store_gone_back_in_time_is_refused_and_restored_from_a_backup() {
    let data = tempfile::tempdir().unwrap();
    let files = tempfile::tempdir().unwrap();
    let file = files.path().join("acme.gatehouse-backup");
    let as_owner = ["--as", OWNER_EMAIL];
    gatehouse(
        data.path(),
        PASSPHRASE,
        &["setup", "--org", "Acme", "--name", "Olivia Owner", "--email", OWNER_EMAIL],
    );
    gatehouse(
        data.path(),
        PASSPHRASE,
        &[&["backup", file.to_str().unwrap()][..], &as_owner].concat(),
    );
    let store = data.path().join("store");
    let snapshot = files.path().join("snapshot");
    copy_folder(&store, &snapshot);
    gatehouse(
        data.path(),
        PASSPHRASE,
        &[&["users", "invite", "ana@acme.example", "--role", "reporting"][..], &as_owner].concat(),
    );
    // sled's files go back to the snapshot; the record of what was saved stays.
    let record = std::fs::read(store.join("acknowledged")).unwrap();
    std::fs::remove_dir_all(&store).unwrap();
    copy_folder(&snapshot, &store);
    std::fs::write(store.join("acknowledged"), record).unwrap();

    let app = App::launch_on("going-back", data).await;
    app.wait_for_text_where("unavailable", "the refusal", |t| {
        t.contains("opens holding less than it had saved")
            && t.contains("restore the newest backup")
    })
    .await;
    app.screenshot("01-refused").await;
    app.click("recovery-file").await;
    app.open_in_native_dialog(&file).await;
    app.type_into("restore-passphrase", PASSPHRASE).await;
    app.click("restore-run").await;
    app.wait_for_text_where("auth-subtitle", "the restore notice", |t| {
        t.starts_with("Restored the backup of") && t.ends_with("Sign in to continue.")
    })
    .await;
    app.sign_in(OWNER_EMAIL, OWNER_PASSWORD).await;
    app.pass_recovery_kit("users-table").await;
    app.wait_for_number_text("user-count", "1 user").await;
    app.screenshot("02-restored").await;
    app.close().await;
}
