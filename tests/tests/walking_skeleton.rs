//! Setup, sign-out, a failed and a good sign-in, and the Users list, in the real window.
#![cfg(feature = "e2e")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use gatehouse_e2e::App;

const EMAIL: &str = "olivia@acme.example";
const PASSWORD: &str = "correct horse battery staple 7";

#[tokio::test]
async fn setup_sign_out_sign_in_and_see_the_owner() {
    let app = App::launch("walking-skeleton").await;

    app.get("setup-form").await;
    app.screenshot("01-setup").await;
    app.type_into("setup-org", "Acme Payments").await;
    app.type_into("setup-name", "Olivia Owner").await;
    app.type_into("setup-email", EMAIL).await;
    app.type_into("setup-password", PASSWORD).await;
    app.click("setup-submit").await;

    // Setup ends with the first Owner's recovery kit, shown once.
    app.get("recovery-kit").await;
    assert_eq!(app.recovery_codes().await.len(), 10);
    app.screenshot("02-recovery-kit").await;
    app.confirm_codes_saved().await;

    app.get("users-table").await;
    app.wait_for_text("org-name", "Acme Payments").await;
    app.screenshot("02-users-after-setup").await;

    app.click("sign-out").await;
    app.get("signin-form").await;
    app.screenshot("03-signed-out").await;

    app.type_into("signin-email", EMAIL).await;
    app.type_into("signin-password", "correct horse battery stapler").await;
    app.click("signin-submit").await;
    app.wait_for_text("signin-error", "The email or password is not correct.").await;
    app.screenshot("04-wrong-password").await;

    app.type_into("signin-password", PASSWORD).await;
    app.click("signin-submit").await;
    app.get("users-table").await;
    app.wait_for_count("user-row", 1).await; // only the owner is listed
    app.wait_for_text("user-name", "Olivia Owner").await;
    app.wait_for_text("user-email", EMAIL).await;
    app.wait_for_text("user-status", "Active").await;
    app.wait_for_text("user-roles", "Owner").await;
    app.screenshot("05-users").await;

    app.close().await;
}
