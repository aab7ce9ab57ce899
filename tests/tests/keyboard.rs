//! The whole of a day's work with the keyboard alone: sign in, invite two people, change a
//! role, deactivate and reactivate someone, filter the audit log and sign out, with Tab,
//! Shift+Tab, the arrows, Enter, Escape and the shortcuts; never a click. After each step the
//! focus is where a person expects it.
#![cfg(feature = "e2e")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use gatehouse_e2e::keys::{ctrl, BACKSPACE, DOWN, END, ENTER, ESCAPE, HOME, SHIFT_TAB, SPACE, TAB};
use gatehouse_e2e::{App, OWNER_EMAIL, OWNER_PASSWORD};

const ANA: &str = "ana@acme.example";
const ANA_PASSWORD: &str = "plum tractor lantern quietly 4";

fn id(testid: &str) -> String {
    format!("[data-testid='{testid}']")
}

fn in_row(email: &str, testid: &str) -> String {
    format!("[data-email='{email}'] [data-testid='{testid}']")
}

#[tokio::test]
async fn a_day_of_work_with_the_keyboard_alone() {
    // Set up with the mouse: Olivia's organization, with Ana, who accepted her invitation.
    let app = App::launch("keyboard").await;
    app.set_up_owner().await;
    let code = app.invite(ANA, "reporting").await;
    app.click("sign-out").await;
    app.accept_invitation(ANA, &code, "Ana Analyst", ANA_PASSWORD).await;
    app.click("sign-out").await;

    // From here on, only keys. Sign in: the screen keeps the email of who signed in last
    // (Ana), with the focus on the password; Shift+Tab goes back to the email to change it.
    app.wait_for_value("signin-email", ANA).await;
    app.wait_for_focus(&id("signin-password")).await;
    app.press(SHIFT_TAB).await;
    app.wait_for_focus(&id("signin-email")).await;
    app.press(&ctrl('a')).await;
    app.press(OWNER_EMAIL).await;
    app.wait_for_value("signin-email", OWNER_EMAIL).await;
    app.press(TAB).await;
    app.wait_for_focus(&id("signin-password")).await;
    app.press(OWNER_PASSWORD).await;
    app.press(ENTER).await;
    app.get("users-table").await;
    app.screenshot("01-signed-in").await;

    // `?` lists the shortcuts; Escape closes the list.
    app.press("?").await;
    app.get("shortcuts-help").await;
    let listed = app.texts("[data-testid='shortcut-label']").await;
    for label in ["Search this screen", "Invite users", "Show keyboard shortcuts", "Go to Users"] {
        assert!(listed.iter().any(|l| l == label), "{label} not in {listed:?}");
    }
    assert!(listed.iter().any(|l| l == "Go to Audit log"), "{listed:?}");
    app.screenshot("02-shortcuts-help").await;
    app.press(ESCAPE).await;
    app.wait_for_css_count("dialog[open]", 0).await;

    // Ctrl+N invites: the dialog opens on its first field; Tab goes on to the roles and to
    // Invite; the codes come with the focus on Done.
    app.press(&ctrl('n')).await;
    app.wait_for_focus(&id("invite-emails")).await;
    app.press("ben@acme.example, cara@acme.example").await;
    app.move_focus_to(TAB, &id("invite-role-reporting"), 10).await;
    app.press(SPACE).await;
    app.move_focus_to(TAB, &id("invite-submit"), 20).await;
    app.screenshot("03-invite-by-keys").await;
    app.press(ENTER).await;
    app.wait_for_count("invite-code", 2).await;
    app.wait_for_focus(&id("invite-done")).await;
    app.press(ENTER).await;
    // The codes are neither copied nor saved: the dialog asks first, the focus on Go back;
    // Tab and Enter go on without them.
    app.wait_for_focus(&id("codes-ask-back")).await;
    app.move_focus_to(TAB, &id("codes-ask-proceed"), 3).await;
    app.press(ENTER).await;
    app.wait_for_css_count("dialog[open]", 0).await;
    app.wait_for_listed(&[
        "ana@acme.example",
        "ben@acme.example",
        "cara@acme.example",
        OWNER_EMAIL,
    ])
    .await;

    // `/` goes to the search, where `?` is only typed; Ana's row menu is a few Tabs away.
    app.press("/").await;
    app.wait_for_focus(&id("search")).await;
    app.press("?").await;
    app.wait_for_value("search", "?").await;
    assert_eq!(app.js("return document.querySelectorAll('dialog[open]').length").await, 0);
    app.press(BACKSPACE).await;
    app.press("ana").await;
    app.wait_for_listed(&[ANA]).await;
    let ana_menu = in_row(ANA, "user-actions");
    app.move_focus_to(TAB, &ana_menu, 20).await;
    let label = "return document.activeElement.getAttribute('aria-label')";
    assert_eq!(app.js(label).await, "Actions for Ana Analyst");

    // The row menu: Enter opens it on its first item, the arrows go round, Home and End
    // jump, Escape closes it back on ⋯.
    app.press(ENTER).await;
    app.wait_for_focus("[role='menu'] li:first-child [role='menuitem']").await;
    assert_eq!(app.attrs(&ana_menu, "aria-expanded").await, ["true"]);
    app.press(END).await;
    app.wait_for_focus("[role='menu'] li:last-child [role='menuitem']").await;
    app.press(HOME).await;
    app.wait_for_focus("[role='menu'] li:first-child [role='menuitem']").await;
    app.press(ESCAPE).await;
    app.wait_for_css_count("[role='menu']", 0).await;
    app.wait_for_focus(&ana_menu).await;

    // Change Ana's role: Enter, the arrows to "Change roles", Enter; Space on the boxes.
    app.press(ENTER).await;
    app.move_focus_to(DOWN, &id("action-roles"), 12).await;
    app.screenshot("04-row-menu").await;
    app.press(ENTER).await;
    app.get("action-dialog").await;
    app.move_focus_to(TAB, &id("roles-admin"), 10).await;
    app.press(SPACE).await;
    app.move_focus_to(TAB, &id("roles-reporting"), 10).await;
    app.press(SPACE).await;
    app.move_focus_to(TAB, &id("action-confirm"), 10).await;
    app.press(ENTER).await;
    app.wait_for_text("toast-text", "Ana Analyst's roles were changed.").await;
    app.wait_for_row_text(ANA, "user-roles", "Admin").await;
    app.wait_for_focus(&ana_menu).await;

    // Deactivate: the dialog keeps the focus inside (Shift+Tab from its first control goes
    // round to its last), then gives it back to ⋯.
    app.press(ENTER).await;
    app.move_focus_to(DOWN, &id("action-deactivate"), 12).await;
    app.press(ENTER).await;
    app.wait_for_focus(&id("deactivate-reason")).await;
    app.press("on leave").await;
    app.press(SHIFT_TAB).await;
    app.wait_for_focus("dialog[open] [aria-label='Close']").await;
    app.press(SHIFT_TAB).await;
    app.wait_for_focus(&id("action-confirm")).await;
    app.press(TAB).await;
    app.wait_for_focus("dialog[open] [aria-label='Close']").await;
    app.press(SHIFT_TAB).await;
    app.wait_for_focus(&id("action-confirm")).await;
    app.screenshot("05-deactivate-focus-trapped").await;
    app.press(ENTER).await;
    app.wait_for_text("toast-text", "Ana Analyst was deactivated.").await;
    app.wait_for_row_text(ANA, "user-status", "Inactive").await;
    app.wait_for_focus(&ana_menu).await;

    // Reactivate, and the focus is back on ⋯ again.
    app.press(ENTER).await;
    app.move_focus_to(DOWN, &id("action-reactivate"), 12).await;
    app.press(ENTER).await;
    app.wait_for_text("toast-text", "Ana Analyst is active again.").await;
    app.wait_for_row_text(ANA, "user-status", "Active").await;
    app.wait_for_focus(&ana_menu).await;
    app.screenshot("06-reactivated").await;

    // The audit log is the fifth section of an Owner's sidebar: Ctrl+5 opens it with the
    // focus on its link; Ctrl+F goes to its search (the target), Enter filters.
    let audit =
        app.js("return [...document.querySelectorAll('nav a')].map(a => a.dataset.testid)").await;
    assert_eq!(audit[4], "nav-audit", "{audit}");
    app.press(&ctrl('5')).await;
    app.get("audit-table").await;
    app.wait_for_focus(&id("nav-audit")).await;
    app.press(&ctrl('f')).await;
    app.wait_for_focus(&id("audit-target")).await;
    app.press(ANA).await;
    app.press(ENTER).await;
    let only_ana = "const targets = [...document.querySelectorAll(\
        \"[data-testid='audit-row'] td:nth-child(4)\")].map(td => td.innerText); \
        return targets.length > 0 && targets.every(t => t.includes(arguments[0]));";
    let start = std::time::Instant::now();
    while app.client.execute(only_ana, vec![ANA.into()]).await.ok() != Some(true.into()) {
        if start.elapsed() > gatehouse_e2e::patience::step() {
            app.fail("the audit log does not show only Ana's events").await;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    app.screenshot("07-audit-filtered").await;

    // Sign out: Shift+Tab back through the audit filters to the sidebar's Sign out.
    app.move_focus_to(SHIFT_TAB, &id("sign-out"), 30).await;
    app.press(ENTER).await;
    app.get("signin-form").await;
    app.wait_for_value("signin-email", OWNER_EMAIL).await;
    app.wait_for_focus(&id("signin-password")).await;
    app.screenshot("08-signed-out").await;

    app.close().await;
}
