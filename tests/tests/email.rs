//! Email in the real window: set up the mail server in Settings, send a test email, invite
//! someone and watch the message leave through the outbox to a real SMTP server on loopback;
//! without a mail server, save the invitation as an .eml file through the native dialog.
#![cfg(feature = "e2e")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../../core/tests/mail_support.rs"]
mod mail_support;

use gatehouse_e2e::keys::{ENTER, ESCAPE, UP};
use gatehouse_e2e::{App, OWNER_EMAIL, OWNER_PASSWORD};
use mail_support::{files_holding, parse_eml, MailServer};

/// The code in a letter: the line after "code is:".
fn code_in(text: &str) -> String {
    let mut lines = text.lines().skip_while(|l| !l.ends_with("code is:")).skip(1);
    lines.find(|l| !l.trim().is_empty()).expect("a code in the letter").trim().to_string()
}

#[tokio::test]
async fn set_up_email_send_a_test_then_an_invitation_arrives() {
    let server = MailServer::start();
    let app = App::launch("email").await;
    app.set_up_owner().await;

    app.open_settings().await;
    app.wait_for_text_where("email-state", "email not set up", |t| t.contains("not set up")).await;
    // Without TLS only to this computer: core refuses the security setting, under that field.
    app.type_into("smtp-host", "mail.acme.example").await;
    app.click_css("[data-testid='smtp-security'] option[value='local_relay']").await;
    app.type_into("smtp-from", "gatehouse@acme.example").await;
    app.click("email-save").await;
    let plain = "Sending without TLS is only allowed to a relay on this computer";
    app.wait_for_field_error("smtp-security", plain).await;
    app.wait_for_field_clear("smtp-host").await;
    app.wait_for_count("email-error", 0).await;

    // A port nothing listens on: the test says so in a sentence, the network's words behind it.
    let down = MailServer::down();
    app.type_into("smtp-host", "127.0.0.1").await;
    app.type_into("smtp-port", &down.port.to_string()).await;
    app.click("email-save").await;
    app.wait_for_text("email-state", "Invitations and reset codes are emailed through 127.0.0.1.")
        .await;
    app.wait_for_field_clear("smtp-security").await;
    app.click("email-test").await;
    let unreachable =
        format!("Could not reach 127.0.0.1 on port {}: connection refused.", down.port);
    app.wait_for_text_where("email-test-result", &unreachable, |t| t.ends_with(&unreachable)).await;
    app.click_css("[data-testid='email-test-details'] summary").await;
    app.wait_for_text_where("email-test-raw", "the refusal", |t| {
        t.starts_with("Connection refused")
    })
    .await;

    app.type_into("smtp-port", &server.port.to_string()).await;
    app.click("email-save").await;
    // Saving disables the test until core has answered.
    app.wait_for_css("[data-testid='email-test']:not([disabled])").await;
    // Saved twice within seconds: one notification says so, not two of the same words.
    app.wait_for_text("toast-text", "Email settings saved.").await;
    let saved = app.texts("[data-testid='toast-text']").await;
    assert_eq!(saved.iter().filter(|t| *t == "Email settings saved.").count(), 1, "{saved:?}");
    app.click("email-test").await;
    let sent = format!("Sent to {OWNER_EMAIL}. The server accepted it.");
    app.wait_for_text_where("email-test-result", &sent, |t| t.ends_with(&sent)).await;
    app.click_css("[data-testid='email-test-details'] summary").await;
    // aiosmtpd's own reply to the message.
    app.wait_for_text_where("email-test-raw", "the server's reply", |t| t.starts_with("250")).await;
    app.wait_for_count("email-test-step", 3).await; // found, connected, accepted
    app.screenshot("01-test-email").await;
    let received = server.received();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].rcpt_tos, [OWNER_EMAIL]);

    app.click("nav-users").await;
    app.click("invite-open").await;
    app.type_into("invite-emails", "Ana Analyst <ana@acme.example>").await;
    app.click("invite-role-reporting").await;
    app.click("invite-submit").await;
    let code = app.text("invite-code").await;
    let sent = "Each person is sent an email";
    app.wait_for_text_where("invite-delivery", sent, |t| t.starts_with(sent)).await;
    app.leave_codes("invite-done").await;

    app.click("nav-outbox").await;
    app.wait_for_css("tr[data-to='ana@acme.example'][data-state='sent']").await;
    app.screenshot("02-outbox-sent").await;
    let received = server.received();
    assert_eq!(received.len(), 2);
    assert_eq!(received[1].rcpt_tos, ["ana@acme.example"]);
    assert_eq!(received[1].headers["to"], "Ana Analyst <ana@acme.example>");
    assert_eq!(code_in(&received[1].text), code);
    app.close().await;
}

#[tokio::test]
async fn without_a_mail_server_an_invitation_saves_as_an_eml_file() {
    let app = App::launch("email-eml").await;
    app.set_up_owner().await;
    app.click("invite-open").await;
    app.type_into("invite-emails", "ana@acme.example").await;
    app.click("invite-role-reporting").await;
    app.click("invite-submit").await;
    let code = app.text("invite-code").await;
    let unsent = "Email sending is not set up";
    app.wait_for_text_where("invite-delivery", unsent, |t| t.starts_with(unsent)).await;
    let files = tempfile::tempdir().unwrap();
    let file = files.path().join("ana.eml");
    app.click("save-eml").await;
    app.save_in_native_dialog(&file).await;
    app.wait_for_text("toast-text", "Saved ana.eml: open it in your mail program to send it.")
        .await;
    app.screenshot("01-saved").await;
    let parsed = parse_eml(&file);
    assert_eq!(parsed["headers"]["to"], "ana@acme.example");
    assert_eq!(parsed["headers"]["from"], format!("Acme Payments <{OWNER_EMAIL}>"));
    assert_eq!(code_in(parsed["text"].as_str().unwrap()), code);
    app.leave_codes("invite-done").await;
    app.invite("bo@acme.example", "reporting").await;

    // Each row's ⋯ menu offers what core allows on that message now: nothing on Ana's, sent
    // by hand; saving or discarding Bo's, never tried (so nothing to retry).
    app.click("nav-outbox").await;
    app.wait_for_css("tr[data-to='ana@acme.example'][data-state='saved']").await;
    let bo = "tr[data-to='bo@acme.example'][data-state='queued']";
    app.wait_for_css(bo).await;
    let menus = app.attrs("[data-testid='outbox-actions']", "aria-label").await;
    assert_eq!(menus, ["Actions for the email to bo@acme.example"]);
    app.click_css(&format!("{bo} [data-testid='outbox-actions']")).await;
    let items = app.texts("[role='menu'] [role='menuitem']").await;
    assert_eq!(items, ["Save as email…", "Discard"]);
    app.wait_for_focus("[data-testid='outbox-actions-save']").await;
    app.screenshot("02-outbox-saved").await;

    // By keyboard: Escape back to ⋯, ↑ opens at the last item, Enter discards.
    app.press(ESCAPE).await;
    app.wait_for_focus(&format!("{bo} [data-testid='outbox-actions']")).await;
    app.press(UP).await;
    app.wait_for_focus("[data-testid='outbox-actions-discard']").await;
    app.press(ENTER).await;
    app.wait_for_text("toast-text", "Discarded the email to bo@acme.example.").await;
    app.wait_for_css("tr[data-to='bo@acme.example'][data-state='discarded']").await;
    app.wait_for_count("outbox-actions", 0).await;
    app.close().await;
}

/// The code waiting in the Outbox is sealed with a key the app keeps in the credential store
/// (the harness's gnome-keyring): it is nowhere in the data folder, and after a restart the
/// letter still opens and saves with its code.
#[tokio::test]
async fn an_unsent_invitation_is_sealed_on_disk_and_still_saves_after_a_restart() {
    let data = tempfile::tempdir().unwrap();
    let app = App::launch_in("email-sealed", data.path()).await;
    app.set_up_owner().await;
    app.click("invite-open").await;
    app.type_into("invite-emails", "ana@acme.example").await;
    app.click("invite-role-reporting").await;
    app.click("invite-submit").await;
    let code = app.text("invite-code").await;
    app.wait_for_count("code-kept-note", 0).await; // the credential store answered
    app.leave_codes("invite-done").await;
    app.close().await;
    let found = files_holding(data.path(), &code);
    assert!(found.is_empty(), "the code is on disk in {found:?}");

    let again = App::launch_in("email-sealed", data.path()).await;
    again.sign_in(OWNER_EMAIL, OWNER_PASSWORD).await;
    again.get("users-table").await;
    again.click("nav-outbox").await;
    again.wait_for_css("tr[data-to='ana@acme.example'][data-state='queued']").await;
    let files = tempfile::tempdir().unwrap();
    let file = files.path().join("ana.eml");
    again.click("outbox-actions").await;
    again.click("outbox-actions-save").await;
    again.save_in_native_dialog(&file).await;
    again
        .wait_for_text("toast-text", "Saved ana.eml: open it in your mail program to send it.")
        .await;
    again.screenshot("01-saved-after-restart").await;
    let parsed = parse_eml(&file);
    assert_eq!(code_in(parsed["text"].as_str().unwrap()), code);
    again.close().await;
}
