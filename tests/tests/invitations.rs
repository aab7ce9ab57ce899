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
    let outcomes = app.all("invite-outcome").await;
    assert_eq!(outcomes.len(), 1);
    let ana_code = app.text_in(&outcomes[0], "invite-code").await;
    assert_eq!(ana_code.len(), 39, "32 base32 characters in groups of 4: {ana_code}");
    app.click("invite-done").await;
    app.click("invite-open").await;
    app.type_into("invite-emails", "Ben Builder <ben@acme.example>").await;
    app.click("invite-role-admin").await;
    app.screenshot("01-invite-dialog").await;
    app.click("invite-submit").await;
    app.get("invite-outcomes").await;
    app.screenshot("02-invite-codes").await;
    app.click("invite-done").await;
    let ben = app.row("ben@acme.example").await;
    assert_eq!(app.text_in(&ben, "user-name").await, "Ben Builder");
    assert_eq!(app.text_in(&ben, "user-roles").await, "Admin");

    let ana = app.row("ana@acme.example").await;
    assert_eq!(app.text_in(&ana, "user-status").await, "Invited");
    assert_eq!(app.text_in(&ana, "user-roles").await, "Reporting");
    assert_eq!(app.all("user-row").await.len(), 3);
    app.screenshot("03-users-invited").await;
    assert_eq!(app.text("tab-invited").await, "Invited 2");
    app.click("tab-invited").await;
    app.wait_for_count("user-row", 2).await;
    app.click("tab-all").await;
    app.wait_for_count("user-row", 3).await;
    app.type_into("search", "BEN@").await;
    app.wait_for_count("user-row", 1).await;
    assert_eq!(app.text("user-email").await, "ben@acme.example");

    // Ana joins from the sign-in screen and, without users:read, lands on her account.
    app.click("sign-out").await;
    app.click("have-invitation").await;
    app.type_into("invitation-email", "ana@acme.example").await;
    app.type_into("invitation-code", &ana_code.to_lowercase()).await;
    app.type_into("invitation-name", "Ana Analyst").await;
    app.type_into("invitation-password", "plum tractor lantern quietly 4").await;
    app.screenshot("04-accept").await;
    app.click("invitation-submit").await;
    assert_eq!(app.text("account-name").await, "Ana Analyst");
    assert!(app.all("nav-users").await.is_empty(), "no Users screen without users:read");
    app.screenshot("05-account").await;

    // Olivia cancels Ben's invitation.
    app.sign_in_as(OWNER_EMAIL, OWNER_PASSWORD).await;
    let ana = app.row("ana@acme.example").await;
    assert_eq!(app.text_in(&ana, "user-status").await, "Active");
    let ben = app.row("ben@acme.example").await;
    ben.find(fantoccini::Locator::Css("[data-testid='user-actions']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    app.click("action-cancel").await;
    app.screenshot("06-cancel-confirm").await;
    app.click("action-confirm").await;
    app.wait_for_text("toast-text", "The invitation for ben@acme.example was cancelled.").await;
    app.wait_for_count("user-row", 2).await;
    app.screenshot("07-after-cancel").await;

    app.close().await;
}
