//! Email delivery against a real SMTP server on loopback (aiosmtpd, `mail_server.py`): the
//! outbox, retries, failures named by their step, and never sending twice.

use crate::mail_support::{parse_eml, MailServer};
use crate::support::{accept_input, Org, OWNER_EMAIL};
use chrono::Duration;
use gatehouse_core::mail::{
    deliver_due, MailSettings, MessageAction, MessageState, MessageView, Security, SendStep,
};
use gatehouse_core::model::{AuditAction, AuditEvent, Outcome};
use gatehouse_core::{AuditQuery, ErrorCode, Field, ResetInput};

const FROM: &str = "gatehouse@acme.example";

pub(crate) fn relay(port: u16) -> MailSettings {
    MailSettings {
        host: "127.0.0.1".into(),
        port,
        security: Security::LocalRelay,
        username: String::new(),
        from_name: String::new(),
        from_address: FROM.into(),
    }
}

pub(crate) fn run<T>(future: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(future)
}

pub(crate) fn deliver(org: &Org, password: Option<&str>) -> usize {
    run(deliver_due(&org.dir, password)).unwrap()
}

/// The code in a letter: the line after "code is:".
pub(crate) fn code_in(text: &str) -> String {
    let mut lines = text.lines().skip_while(|l| !l.ends_with("code is:")).skip(1);
    lines.find(|l| !l.trim().is_empty()).expect("a code in the letter").trim().to_string()
}

fn outbox(org: &Org) -> Vec<MessageView> {
    org.dir.outbox(org.owner(), 100).unwrap()
}

fn events(org: &Org, action: AuditAction) -> Vec<AuditEvent> {
    let query = AuditQuery { action: Some(action), ..AuditQuery::default() };
    org.dir.audit_log(org.owner(), query).unwrap().events
}

#[test]
fn an_invitation_sends_one_message_whose_code_accepts_it() {
    let server = MailServer::start();
    let org = Org::new().with_owner();
    org.dir.update_mail_settings(org.owner(), Some(relay(server.port))).unwrap();
    let issued = org.invite("ivy@example.com", &["reporting", "payment_management"]);
    assert_eq!(outbox(&org)[0].state, MessageState::Queued);

    assert_eq!(deliver(&org, None), 1);
    let received = server.received();
    assert_eq!(received.len(), 1);
    let mail = &received[0];
    eprintln!("--- received ---\n{}", mail.raw.replace(&issued.code, "XXXX-XXXX"));
    assert_eq!(mail.rcpt_tos, ["ivy@example.com"]);
    assert_eq!(mail.headers["from"], format!("Acme Payments <{FROM}>"));
    assert_eq!(mail.headers["to"], "ivy@example.com");
    assert_eq!(mail.headers["subject"], "Olivia Owner invited you to Acme Payments on Gatehouse");
    assert!(mail.text.contains("roles: Reporting, Payment Management."), "{}", mail.text);
    assert!(mail.text.contains(&issued.expires_at.format("%-d %B %Y, %H:%M UTC").to_string()));
    assert!(mail.html.contains(&issued.code));
    assert!(!mail.html.contains("<img") && !mail.html.contains("http"), "no remote content");

    let code = code_in(&mail.text);
    assert_eq!(code, issued.code);
    org.dir.accept_invitation(accept_input("ivy@example.com", &code)).unwrap();

    let sent = &outbox(&org)[0];
    assert_eq!(sent.state, MessageState::Sent);
    assert!(sent.note.starts_with("250"), "the server's reply is kept: {}", sent.note);
    let audited = events(&org, AuditAction::EmailSent);
    assert_eq!(audited.len(), 1);
    assert_eq!(audited[0].target.as_deref(), Some("ivy@example.com"));
    let log = org.dir.audit_log(org.owner(), AuditQuery::default()).unwrap();
    assert!(log.events.iter().all(|e| !e.summary.contains(&issued.code)), "no code in the log");

    assert_eq!(deliver(&org, None), 0, "nothing is sent twice");
    assert_eq!(server.received().len(), 1);
    org.verify();
}

#[test]
fn a_resend_sends_a_new_code_and_the_old_one_fails() {
    let server = MailServer::start();
    let org = Org::new().with_owner();
    org.dir.update_mail_settings(org.owner(), Some(relay(server.port))).unwrap();
    let first = org.invite("ivy@example.com", &["reporting"]);
    deliver(&org, None);
    let second = org.dir.resend_invitation(org.owner(), first.user_id).unwrap();
    deliver(&org, None);

    let received = server.received();
    assert_eq!(received.len(), 2);
    let (old, new) = (code_in(&received[0].text), code_in(&received[1].text));
    assert_eq!((old.as_str(), new.as_str()), (first.code.as_str(), second.code.as_str()));
    let refused = org.dir.accept_invitation(accept_input("ivy@example.com", &old)).unwrap_err();
    assert_eq!(refused.code(), ErrorCode::InvitationReplaced);
    org.dir.accept_invitation(accept_input("ivy@example.com", &new)).unwrap();
    org.verify();
}

#[test]
fn resending_or_cancelling_before_sending_drops_the_unsent_message() {
    let server = MailServer::start();
    let org = Org::new().with_owner();
    let ivy = org.invite("ivy@example.com", &["reporting"]);
    let resent = org.dir.resend_invitation(org.owner(), ivy.user_id).unwrap();
    let ben = org.invite("ben@example.com", &["reporting"]);
    org.dir.cancel_invitation(org.owner(), ben.user_id).unwrap();
    org.dir.update_mail_settings(org.owner(), Some(relay(server.port))).unwrap();

    assert_eq!(deliver(&org, None), 1);
    let received = server.received();
    assert_eq!(received.len(), 1, "only the newest code for Ivy, nothing for Ben");
    assert_eq!(code_in(&received[0].text), resent.code);
    let states: Vec<(String, MessageState, String)> =
        outbox(&org).into_iter().map(|m| (m.to, m.state, m.note)).collect();
    assert_eq!(
        states,
        [
            (
                "ben@example.com".into(),
                MessageState::Discarded,
                "the invitation was cancelled".into()
            ),
            ("ivy@example.com".into(), MessageState::Sent, states[1].2.clone()),
            (
                "ivy@example.com".into(),
                MessageState::Discarded,
                "a new invitation replaced this one".into()
            ),
        ]
    );
    org.verify();
}

#[test]
fn a_server_that_is_down_leaves_the_message_queued_until_it_is_up() {
    let mut server = MailServer::down();
    let port = server.port;
    let mut org = Org::new().with_owner();
    org.dir.update_mail_settings(org.owner(), Some(relay(port))).unwrap();
    let issued = org.invite("ivy@example.com", &["reporting"]);
    // What core offers on the message: nothing to retry before its first attempt.
    assert_eq!(outbox(&org)[0].actions, [MessageAction::Save, MessageAction::Discard]);

    assert_eq!(deliver(&org, None), 1);
    let waiting = &outbox(&org)[0];
    assert_eq!(waiting.state, MessageState::Queued);
    assert_eq!(waiting.attempts, 1);
    let offered = [MessageAction::Retry, MessageAction::Save, MessageAction::Discard];
    assert_eq!(waiting.actions, offered, "a failed attempt may be retried now");
    let failure = waiting.last_failure.clone().unwrap();
    assert_eq!(failure.step, SendStep::Connect);
    assert!(failure.transient, "{failure:?}");
    let refused = format!("Could not reach 127.0.0.1 on port {port}: connection refused.");
    assert_eq!(failure.message, refused);
    assert!(failure.raw.starts_with("Connection refused"), "the network's own words: {failure:?}");
    assert_eq!(waiting.next_attempt_at, Some(org.clock_now() + Duration::minutes(1)));
    assert_eq!(deliver(&org, None), 0, "not due before its next attempt");
    let failed = events(&org, AuditAction::EmailFailed);
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].outcome, Outcome::Failed);

    server.listen();
    org.later(Duration::minutes(1));
    assert_eq!(deliver(&org, None), 1);
    let received = server.received();
    assert_eq!(received.len(), 1);
    assert_eq!(code_in(&received[0].text), issued.code);
    assert_eq!(outbox(&org)[0].state, MessageState::Sent);
    assert_eq!(outbox(&org)[0].actions, [], "a sent message is done with");
    org.verify();
}

#[test]
fn a_refused_password_is_reported_as_authentication_and_not_retried() {
    let server = MailServer::start_with_auth("mailer:right-password");
    let port = server.port;
    let org = Org::new().with_owner();
    let settings = MailSettings { username: "mailer".into(), ..relay(port) };
    org.dir.update_mail_settings(org.owner(), Some(settings)).unwrap();
    org.invite("ivy@example.com", &["reporting"]);

    assert_eq!(deliver(&org, None), 0, "no password known: the message waits");
    assert_eq!(outbox(&org)[0].state, MessageState::Queued);

    assert_eq!(deliver(&org, Some("wrong-password")), 1);
    let failed = &outbox(&org)[0];
    assert_eq!(failed.state, MessageState::Failed);
    let failure = failed.last_failure.clone().unwrap();
    assert_eq!(failure.step, SendStep::Authentication);
    assert!(!failure.transient);
    assert!(failure.message.contains("refused the user name or password"), "{failure:?}");
    let audited = events(&org, AuditAction::EmailFailed);
    assert!(audited[0].summary.contains("signing in"));
    assert!(!audited[0].summary.contains("wrong-password"), "no password in the log");
    assert!(server.received().is_empty());

    org.dir.retry_message(org.owner(), failed.id).unwrap();
    assert_eq!(deliver(&org, Some("right-password")), 1);
    assert_eq!(server.received().len(), 1);
    org.verify();
}

#[test]
fn tls_required_but_unavailable_is_reported_as_tls_and_nothing_is_sent() {
    let server = MailServer::start();
    let org = Org::new().with_owner();
    for security in [Security::StartTls, Security::Tls] {
        let settings = MailSettings { host: "localhost".into(), security, ..relay(server.port) };
        org.dir.update_mail_settings(org.owner(), Some(settings)).unwrap();
        let issued = org.invite(&format!("{security:?}@example.com"), &["reporting"]);
        deliver(&org, None);
        let failed = outbox(&org).into_iter().find(|m| m.id == issued.message_id).unwrap();
        assert_eq!(failed.state, MessageState::Failed, "{security:?}: {:?}", failed.last_failure);
        let failure = failed.last_failure.unwrap();
        assert_eq!(failure.step, SendStep::Tls, "{security:?}: {failure:?}");
        assert!(!failure.transient);
        if security == Security::StartTls {
            assert!(failure.message.contains("does not offer STARTTLS"), "{failure:?}");
        }

        let test = org.dir.test_email(org.owner()).unwrap();
        let report = run(gatehouse_core::mail::test_connection(
            &test.settings,
            None,
            &test.envelope,
            &test.bytes,
        ));
        let steps: Vec<(SendStep, bool)> = report.steps.iter().map(|s| (s.step, s.ok)).collect();
        let expected = match security {
            Security::StartTls => {
                vec![(SendStep::Dns, true), (SendStep::Connect, true), (SendStep::Tls, false)]
            }
            _ => vec![(SendStep::Dns, true), (SendStep::Tls, false)],
        };
        assert_eq!(steps, expected, "{security:?}");
        org.dir.record_test_email(org.owner(), &test.to, &report).unwrap();
    }
    assert!(server.received().is_empty(), "nothing went out unencrypted");
    let tests = events(&org, AuditAction::TestEmail);
    assert_eq!(tests.len(), 2);
    assert!(tests.iter().all(|e| e.outcome == Outcome::Failed && e.summary.contains("TLS")));
    org.verify();
}

#[test]
fn a_test_email_reports_each_step_and_arrives() {
    let server = MailServer::start_with_auth("mailer:right-password");
    let org = Org::new().with_owner();
    let settings = MailSettings { username: "mailer".into(), ..relay(server.port) };
    org.dir.update_mail_settings(org.owner(), Some(settings)).unwrap();
    let test = org.dir.test_email(org.owner()).unwrap();
    let report = run(gatehouse_core::mail::test_connection(
        &test.settings,
        Some("right-password"),
        &test.envelope,
        &test.bytes,
    ));
    assert_eq!(report.failure, None);
    assert_eq!(report.summary, format!("Sent to {OWNER_EMAIL}. The server accepted it."));
    assert!(report.raw.starts_with("250"), "the server's own reply: {report:?}");
    let steps: Vec<SendStep> = report.steps.iter().map(|s| s.step).collect();
    assert_eq!(
        steps,
        [SendStep::Dns, SendStep::Connect, SendStep::Authentication, SendStep::Message]
    );
    let received = server.received();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].rcpt_tos, [OWNER_EMAIL]);
}

#[test]
fn a_message_is_never_sent_twice_across_restarts() {
    let server = MailServer::start();
    let mut org = Org::new().with_owner();
    org.dir.update_mail_settings(org.owner(), Some(relay(server.port))).unwrap();
    org.invite("ivy@example.com", &["reporting"]);
    assert_eq!(deliver(&org, None), 1);
    let ben = org.invite("ben@example.com", &["reporting"]);
    // The app claims Ben's message and stops before it hears back from the server.
    assert!(org.dir.claim_due_message(true).unwrap().is_some());

    org = org.reopen();
    org.later(Duration::minutes(1));
    assert_eq!(org.dir.settle_interrupted_sends().unwrap(), 1);
    assert_eq!(deliver(&org, None), 0);
    assert_eq!(server.received().len(), 1, "Ivy's message once, Ben's not on its own");
    let interrupted = outbox(&org).into_iter().find(|m| m.id == ben.message_id).unwrap();
    assert_eq!(interrupted.state, MessageState::Failed);
    assert!(interrupted.last_failure.unwrap().message.contains("may or may not have reached"));

    org.dir.retry_message(org.owner(), ben.message_id).unwrap();
    assert_eq!(deliver(&org, None), 1);
    let received = server.received();
    assert_eq!(received.len(), 2);
    assert_eq!(received[1].rcpt_tos, ["ben@example.com"]);
    org.verify();
}

#[test]
fn without_a_mail_server_a_message_saves_as_a_valid_eml_and_leaves_the_queue() {
    let org = Org::new().with_owner();
    let issued = org.invite("ivy@example.com", &["reporting"]);
    assert_eq!(org.dir.next_send_at().unwrap(), None, "nothing sends without settings");
    let file = org.tmp.path().join("ivy invitation.eml");
    let saved = org.dir.save_message(org.owner(), issued.message_id, &file).unwrap();
    assert_eq!(saved.file_name, "ivy invitation.eml");

    let parsed = parse_eml(&file);
    assert_eq!(parsed["headers"]["from"], format!("Acme Payments <{OWNER_EMAIL}>"));
    assert_eq!(parsed["headers"]["to"], "ivy@example.com");
    assert!(parsed["headers"]["message-id"]
        .as_str()
        .unwrap()
        .contains(&issued.message_id.to_string()));
    assert_eq!(code_in(parsed["text"].as_str().unwrap()), issued.code);
    assert!(parsed["html"].as_str().unwrap().contains(&issued.code));

    let message = &outbox(&org)[0];
    assert_eq!(
        (message.state, message.note.as_str()),
        (MessageState::Saved, "saved as ivy invitation.eml")
    );
    let again = org.dir.save_message(org.owner(), issued.message_id, &file).unwrap_err();
    assert_eq!(again.code(), ErrorCode::InvalidTransition);
    let server = MailServer::start();
    org.dir.update_mail_settings(org.owner(), Some(relay(server.port))).unwrap();
    assert_eq!(deliver(&org, None), 0, "a saved message is not also sent");
    assert_eq!(events(&org, AuditAction::EmailSaved).len(), 1);
    org.verify();
}

#[test]
fn a_password_reset_is_emailed_and_its_code_sets_the_password() {
    let server = MailServer::start();
    let org = Org::new().with_owner();
    let ivy = org.member("ivy@example.com", &["reporting"]);
    org.dir.update_mail_settings(org.owner(), Some(relay(server.port))).unwrap();
    let issued = org.dir.issue_password_reset(org.owner(), ivy.id).unwrap();
    assert_eq!(deliver(&org, None), 1, "the invitation was used: only the reset goes out");
    let received = server.received();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].headers["subject"], "Your Acme Payments password reset code");
    let code = code_in(&received[0].text);
    assert_eq!(code, issued.code);
    let input = ResetInput {
        email: "ivy@example.com".into(),
        code,
        password: "a brand new harbour melody 5".into(),
    };
    org.dir.reset_password(input).unwrap();
    org.dir.sign_in("ivy@example.com", "a brand new harbour melody 5").unwrap();
    org.verify();
}

#[test]
fn mail_settings_are_checked_and_need_settings_update() {
    let org = Org::new().with_owner();
    // Each refusal names the field it is about, for the form to show it there.
    let refuse = |settings: MailSettings| {
        let body = org.dir.update_mail_settings(org.owner(), Some(settings)).unwrap_err().to_body();
        (body.code, body.field)
    };
    let invalid = |field| (ErrorCode::InvalidSetting, Some(field));
    let base = relay(2525);
    let remote_plain = MailSettings { host: "smtp.example.com".into(), ..base.clone() };
    assert_eq!(refuse(remote_plain), invalid(Field::MailSecurity));
    assert_eq!(refuse(MailSettings { port: 0, ..base.clone() }), invalid(Field::MailPort));
    assert_eq!(
        refuse(MailSettings { host: "smtp example".into(), ..base.clone() }),
        invalid(Field::MailHost)
    );
    assert_eq!(
        refuse(MailSettings { from_address: "nobody".into(), ..base.clone() }),
        invalid(Field::MailFromAddress)
    );
    assert_eq!(org.dir.organization(org.owner()).unwrap().mail, None, "nothing changed");

    let saved = org
        .dir
        .update_mail_settings(
            org.owner(),
            Some(MailSettings {
                host: " SMTP.Example.com ".into(),
                security: Security::StartTls,
                port: 587,
                ..base
            }),
        )
        .unwrap();
    assert_eq!(saved.mail.unwrap().host, "smtp.example.com");
    let changed = events(&org, AuditAction::UpdateMailSettings);
    assert_eq!(
        changed[0].summary,
        format!("email sending through smtp.example.com:587 (STARTTLS, no sign-in), from {FROM}")
    );

    let reporter = org.member("rita@example.com", &["reporting"]);
    let denied = org.dir.update_mail_settings(reporter.session, None).unwrap_err();
    assert_eq!(denied.code(), ErrorCode::PermissionDenied);
    org.verify();
}
