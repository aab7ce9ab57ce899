//! Inviting two people, one accepting in the app, the other's invitation cancelled.
#![cfg(feature = "e2e")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use gatehouse_e2e::{App, OWNER_EMAIL, OWNER_PASSWORD};

#[tokio::test]
async fn invite_two_accept_one_cancel_the_other() {
    let app = App::launch("invitations").await;
    app.set_up_owner().await;

    // Two people with different roles: Ana as Reporting; Ben, named as mail programs write
    // it, as Admin.
    app.click("invite-open").await;
    app.type_into("invite-emails", "ana@acme.example").await;
    app.click("invite-role-reporting").await;
    app.click("invite-submit").await;
    app.get("invite-outcomes").await;
    app.wait_for_count("invite-outcome", 1).await;
    let ana_code = app
        .wait_for_css_text(
            "[data-testid='invite-outcome'] [data-testid='invite-code']",
            "a code",
            |_| true,
        )
        .await;
    assert_eq!(ana_code.len(), 39, "32 base32 characters in groups of 4: {ana_code}");
    app.leave_codes("invite-done").await;
    app.click("invite-open").await;
    app.type_into("invite-emails", "Ben Builder <ben@acme.example>").await;
    app.click("invite-role-admin").await;
    app.screenshot("01-invite-dialog").await;
    app.click("invite-submit").await;
    app.get("invite-outcomes").await;
    app.screenshot("02-invite-codes").await;
    // A code is shown once: closing before it is copied or saved asks first. Saved as CSV, it
    // may go.
    let ben_code = app.text("invite-code").await;
    app.click("invite-done").await;
    app.get("codes-ask").await;
    app.screenshot("02b-codes-not-kept").await;
    app.click("codes-ask-back").await;
    app.wait_for_count("codes-ask", 0).await;
    let out = tempfile::tempdir().unwrap();
    let csv_path = out.path().join("codes.csv");
    app.click("codes-save-csv").await;
    app.save_in_native_dialog(&csv_path).await;
    let csv = app.saved_file(&csv_path).await;
    assert!(csv.starts_with("email,code,expires\r\nben@acme.example,"), "{csv}");
    assert!(csv.contains(&ben_code), "{csv}");
    app.wait_for_text("codes-unkept", "Every code is kept.").await;
    app.click("invite-done").await;
    app.wait_for_css_count("dialog[data-testid='invite-dialog'][open]", 0).await;
    app.wait_for_row_text("ben@acme.example", "user-name", "Ben Builder").await;
    app.wait_for_row_text("ben@acme.example", "user-roles", "Admin").await;
    // The status says when the invitation expires (a week on, so never "Today").
    let ana_status = "[data-email='ana@acme.example'] [data-testid='user-status']";
    app.wait_for_css_text(ana_status, "Invited · expires …", |t| {
        let words = t.split_whitespace().collect::<Vec<_>>().join(" ");
        words.starts_with("Invited · expires ") && !words.ends_with("Today")
    })
    .await;
    app.wait_for_row_text("ana@acme.example", "user-roles", "Reporting").await;
    app.wait_for_count("user-row", 3).await;
    app.screenshot("03-users-invited").await;
    app.wait_for_text("tab-invited", "Invited 2").await;
    app.click("tab-invited").await;
    app.wait_for_count("user-row", 2).await;
    app.click("tab-all").await;
    app.wait_for_count("user-row", 3).await;
    app.type_into("search", "BEN@").await;
    app.wait_for_count("user-row", 1).await;
    app.wait_for_text("user-email", "ben@acme.example").await;

    // Ana joins from the sign-in screen and, without users:read, lands on her account.
    app.click("sign-out").await;
    app.click("have-invitation").await;
    app.type_into("invitation-email", "ana@acme.example").await;
    app.type_into("invitation-code", &ana_code.to_lowercase()).await;
    app.type_into("invitation-name", "Ana Analyst").await;
    app.type_into("invitation-password", "plum tractor lantern quietly 4").await;
    app.screenshot("04-accept").await;
    app.click("invitation-submit").await;
    app.wait_for_text("account-name", "Ana Analyst").await;
    app.wait_for_count("nav-users", 0).await; // no Users screen without users:read
    app.screenshot("05-account").await;

    // Olivia cancels Ben's invitation.
    app.sign_in_as(OWNER_EMAIL, OWNER_PASSWORD).await;
    app.wait_for_row_text("ana@acme.example", "user-status", "Active").await;
    app.row_action("ben@acme.example", "cancel").await;
    app.screenshot("06-cancel-confirm").await;
    app.click("action-confirm").await;
    app.wait_for_text("toast-text", "The invitation for ben@acme.example was cancelled.").await;
    app.wait_for_count("user-row", 2).await;
    app.screenshot("07-after-cancel").await;

    app.close().await;
}
