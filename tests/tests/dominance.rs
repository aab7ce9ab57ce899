//! Dominance (domain.md rules 6 and 7) as the window shows it: a Helpdesk user, holding
//! users:create/read/update, is offered only what core allows. On an Admin, who holds
//! permissions Hal lacks, nothing (and the detail panel says why); on a fellow Helpdesk user,
//! a reset code among the rest. In the Outbox, Hal opens only the emails of people he
//! dominates.
#![cfg(feature = "e2e")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use gatehouse_e2e::App;

const HAL: &str = "hal@acme.example";
const HANA: &str = "hana@acme.example";
const ADAM: &str = "adam@acme.example";

/// Olivia sets up, makes the custom role Helpdesk (users: create, read, update) and invites
/// Adam as Admin, Hana and Hal as Helpdesk; returns their codes in that order.
async fn helpdesk_and_an_admin(app: &App) -> [String; 3] {
    app.set_up_owner().await;
    app.click("nav-roles").await;
    app.click("role-new").await;
    app.type_into("role-name", "Helpdesk").await;
    for action in ["create", "read", "update"] {
        app.click(&format!("perm-users-{action}")).await;
    }
    app.click("role-save").await;
    app.wait_for_text("toast-text", "Role “Helpdesk” saved.").await;
    app.click("nav-users").await;
    let adam = app.invite(ADAM, "admin").await;
    let hana = app.invite(HANA, "helpdesk").await;
    let hal = app.invite(HAL, "helpdesk").await;
    app.click("sign-out").await;
    [adam, hana, hal]
}

/// Waits until the Outbox row of the message to `to` holds `n` elements `testid`.
async fn wait_for_in_message(app: &App, to: &str, testid: &str, n: usize) {
    app.wait_for_css_count(&format!("tr[data-to='{to}'] [data-testid='{testid}']"), n).await;
}

#[tokio::test]
async fn a_helpdesk_user_may_reset_a_fellow_helpdesk_user_but_nothing_on_an_admin() {
    let app = App::launch("dominance-rows").await;
    let [adam, hana, hal] = helpdesk_and_an_admin(&app).await;
    app.accept_invitation(ADAM, &adam, "Adam Admin", "plum tractor lantern quietly 4").await;
    app.click("sign-out").await;
    app.accept_invitation(HANA, &hana, "Hana Help", "violet marble sandwich harbor 2").await;
    app.click("sign-out").await;
    app.accept_invitation(HAL, &hal, "Hal Help", "copper meadow anchor drumbeat 1").await;

    // Adam holds permissions Hal lacks: core allows nothing, so his row has no menu (no
    // "Issue password reset code" with which Hal could take over Adam's account).
    assert_eq!(app.row_menu(ADAM).await, Vec::<String>::new(), "nothing on an Admin");
    app.screenshot("01-no-menu-on-the-admin").await;

    // Hana holds exactly Hal's permissions: he may act on her, a reset code included.
    assert_eq!(
        app.row_menu(HANA).await,
        ["action-roles", "action-reset", "action-deactivate", "action-end_date"]
    );
    app.screenshot("02-menu-on-a-peer").await;
    app.click("action-reset").await;
    let code = app.text("issued-code").await;
    assert_eq!(code.len(), 39, "a reset code for Hana, shown once: {code}");
    app.click("action-done").await;

    // The detail panel tells Hal why he may do nothing to Adam, in core's sentence.
    app.open_detail(ADAM).await;
    app.wait_for_text(
        "detail-refusal",
        "Adam Admin holds permissions you do not have: ask an Owner.",
    )
    .await;
    app.screenshot("03-detail-says-why").await;
    app.close().await;
}

#[tokio::test]
async fn a_helpdesk_user_opens_only_the_emails_of_people_he_dominates() {
    let app = App::launch("dominance-outbox").await;
    let [_, _, hal] = helpdesk_and_an_admin(&app).await;
    app.accept_invitation(HAL, &hal, "Hal Help", "copper meadow anchor drumbeat 1").await;

    // No mail server: Adam's and Hana's invitations wait in the queue, carrying their codes.
    app.click("nav-outbox").await;
    app.wait_for_css(&format!("tr[data-to='{ADAM}'][data-state='queued']")).await;
    app.wait_for_css(&format!("tr[data-to='{HANA}'][data-state='queued']")).await;
    let closed = "Only someone who holds every permission of the recipient can open it.";
    let adam_closed = format!("tr[data-to='{ADAM}'] [data-testid='outbox-closed']");
    app.wait_for_css_text(&adam_closed, closed, |t| t == closed).await;
    wait_for_in_message(&app, ADAM, "outbox-actions", 0).await;
    // Hal may save Hana's invitation, and discard it: core offers both in her row's menu.
    wait_for_in_message(&app, HANA, "outbox-closed", 0).await;
    app.click_css(&format!("tr[data-to='{HANA}'] [data-testid='outbox-actions']")).await;
    let items = app.attrs("[role='menu'] [role='menuitem']", "data-testid").await;
    assert_eq!(items, ["outbox-actions-save", "outbox-actions-discard"]);
    app.screenshot("01-outbox").await;
    app.close().await;
}
