//! Changing roles, deactivating and reactivating from the Users screen.
#![cfg(feature = "e2e")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use gatehouse_e2e::{App, OWNER_EMAIL, OWNER_PASSWORD};

const ANA: &str = "ana@acme.example";

#[tokio::test]
async fn change_roles_then_deactivate_and_reactivate() {
    let app = App::launch("user-actions").await;
    app.set_up_owner().await;
    let code = app.invite(ANA, "reporting").await;
    app.click("sign-out").await;
    app.click("have-invitation").await;
    app.type_into("invitation-email", ANA).await;
    app.type_into("invitation-code", &code).await;
    app.type_into("invitation-name", "Ana Analyst").await;
    app.type_into("invitation-password", "plum tractor lantern quietly 4").await;
    app.click("invitation-submit").await;
    app.get("account").await;
    app.sign_in_as(OWNER_EMAIL, OWNER_PASSWORD).await;

    app.row_action(ANA, "roles").await;
    app.click("roles-reporting").await;
    app.click("roles-admin").await;
    app.screenshot("01-change-roles").await;
    app.click("action-confirm").await;
    app.wait_for_text("toast-text", "Ana Analyst's roles were changed.").await;
    app.wait_for_row_text(ANA, "user-roles", "Admin").await;

    app.row_action(ANA, "deactivate").await;
    app.type_into("deactivate-reason", "on leave").await;
    app.screenshot("02-deactivate-confirm").await;
    app.click("action-confirm").await;
    app.wait_for_text("toast-text", "Ana Analyst was deactivated.").await;
    app.wait_for_row_text(ANA, "user-status", "Inactive").await;
    app.screenshot("03-deactivated").await;

    app.row_action(ANA, "reactivate").await;
    app.wait_for_text("toast-text", "Ana Analyst is active again.").await;
    app.wait_for_row_text(ANA, "user-status", "Active").await;
    app.screenshot("04-reactivated").await;
    // Three results in a row: at most two notifications at once, and they close by themselves.
    assert!(app.texts("[data-testid='toast']").await.len() <= 2, "at most two notifications");
    app.wait_for_count("toast", 0).await;
    // One that is still open is closed by a change of section.
    app.row_action(ANA, "deactivate").await;
    app.type_into("deactivate-reason", "on leave again").await;
    app.click("action-confirm").await;
    app.wait_for_text("toast-text", "Ana Analyst was deactivated.").await;
    app.click("nav-roles").await;
    app.wait_for_count("toast", 0).await;
    app.click("nav-users").await;
    app.row_action(ANA, "reactivate").await;
    app.wait_for_row_text(ANA, "user-status", "Active").await;

    // The detail offers what her row's menu does, and runs it the same way: deactivating her
    // from it asks for the reason, and the detail shows her Inactive.
    let menu = app.row_menu(ANA).await;
    app.send_keys_to("user-actions", "\u{E00C}").await; // Escape closes the menu
    app.open_detail(ANA).await;
    let offered = app.attrs("[data-testid='detail-actions'] button", "data-testid").await;
    let offered: Vec<String> = offered.iter().map(|t| t.replacen("detail-", "", 1)).collect();
    assert_eq!(offered, menu, "the detail offers what the row menu does");
    app.click("detail-action-deactivate").await;
    app.type_into("deactivate-reason", "from the detail").await;
    app.click("action-confirm").await;
    app.wait_for_text_where("detail-status", "Inactive", |t| t.contains("Inactive")).await;
    app.screenshot("04b-detail-actions").await;
    app.send_keys_to("user-detail", "\u{E00C}").await;
    app.row_action(ANA, "reactivate").await;
    app.wait_for_row_text(ANA, "user-status", "Active").await;

    // A reset code from the row menu; Ana sets a new password with it from the sign-in screen.
    app.row_action(ANA, "reset").await;
    let code = app.text("issued-code").await;
    app.click("action-done").await;
    app.click("sign-out").await;
    app.click("have-reset").await;
    app.type_into("reset-email", ANA).await;
    app.type_into("reset-code", &code).await;
    app.type_into("reset-password", "violet marble sandwich harbor 2").await;
    app.click("reset-submit").await;
    app.get("signin-form").await;
    app.wait_for_value("signin-email", ANA).await;
    app.screenshot("05-password-reset").await;
    app.sign_in(ANA, "violet marble sandwich harbor 2").await;
    app.get("users-table").await;

    app.close().await;
}

#[tokio::test]
async fn everyone_changes_their_own_name_and_password() {
    let app = App::launch("my-account").await;
    app.set_up_owner().await;
    app.click("nav-account").await;
    app.type_into("account-name-input", "Olivia O. Owner").await;
    app.click("account-name-save").await;
    app.wait_for_text("toast-text", "Your name is saved.").await;
    app.wait_for_text("me-name", "Olivia O. Owner").await;

    // Each refusal shows under the field it is about.
    app.type_into("account-current-password", "not my password 1").await;
    app.type_into("account-new-password", "violet anchor meadow drum 3").await;
    app.wait_for_text_where("password-strength-text", "a verdict", |t| t.ends_with("good to use."))
        .await;
    app.click("account-password-save").await;
    let wrong = "Your current password is not correct.";
    app.wait_for_field_error("account-current-password", wrong).await;
    app.wait_for_field_clear("account-new-password").await;
    app.type_into("account-current-password", OWNER_PASSWORD).await;
    app.wait_for_field_clear("account-current-password").await;
    app.type_into("account-new-password", OWNER_PASSWORD).await;
    // The meter's verdict changes its height and moves the button: click once it has settled.
    app.wait_for_text_where("password-strength-text", "a verdict", |t| t.ends_with("good to use."))
        .await;
    app.click("account-password-save").await;
    let reused = "Choose a password you have not used recently.";
    app.wait_for_field_error("account-new-password", reused).await;
    app.wait_for_count("account-password-error", 0).await;
    app.screenshot("02-password-refused").await;
    app.type_into("account-current-password", OWNER_PASSWORD).await;
    app.type_into("account-new-password", "violet anchor meadow drum 3").await;
    app.click("account-password-save").await;
    app.wait_for_text("toast-text", "Your password is changed.").await;
    app.screenshot("01-account-changed").await;

    app.sign_in_as(OWNER_EMAIL, "violet anchor meadow drum 3").await;
    app.get("users-table").await;
    app.close().await;
}

#[tokio::test]
async fn the_only_owner_is_offered_no_change_to_herself_and_is_told_why() {
    let app = App::launch("last-owner").await;
    app.set_up_owner().await;
    // Core refuses every act on herself (giving up Owner would leave none: rule 2), so her
    // row has no menu and her detail panel gives core's reason.
    assert_eq!(app.row_menu(OWNER_EMAIL).await, Vec::<String>::new());
    app.open_detail(OWNER_EMAIL).await;
    let refusal =
        "There must always be at least one Active Owner: make someone else an Owner first.";
    app.wait_for_text("detail-refusal", refusal).await;
    app.screenshot("01-refused").await;
    app.close().await;
}
