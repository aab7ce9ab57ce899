//! Codes in the Outbox are sealed (domain.md, "Codes and tokens"): no code is ever in the data
//! folder's bytes, a sealed letter survives a restart when its key is in the credential store,
//! fails honestly when it was kept in memory only, and is erased once its code stops working.

use crate::mail::{code_in, deliver, relay};
use crate::mail_support::{files_holding, MailServer};
use crate::support::Org;
use chrono::Duration;
use gatehouse_core::mail::{MessageState, MessageView};
use gatehouse_core::model::{AuditAction, IssuedCode};
use gatehouse_core::secrets::{Keeping, Keys, NoVault, OsVault, Vault, SERVICE};
use gatehouse_core::{AuditQuery, ErrorCode, ResetInput};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// A credential store that answers and outlives each run's [`Keys`], in memory: a restart
/// asks it again, as the app asks the OS credential store.
#[derive(Clone, Default)]
struct Shelf(Arc<Mutex<HashMap<String, String>>>);

impl Vault for Shelf {
    fn get(&self, name: &str) -> Result<Option<String>, String> {
        Ok(self.0.lock().unwrap().get(name).cloned())
    }
    fn set(&self, name: &str, secret: &str) -> Result<(), String> {
        self.0.lock().unwrap().insert(name.into(), secret.into());
        Ok(())
    }
}

impl Shelf {
    /// A new run's keys over this shelf.
    fn keys(&self) -> Arc<Keys> {
        Arc::new(Keys::new(Box::new(self.clone())))
    }
}

/// A new run's keys on a computer whose credential store does not answer.
fn no_store() -> Arc<Keys> {
    Arc::new(Keys::new(Box::new(NoVault("no Secret Service on this session bus"))))
}

fn assert_not_on_disk(org: &Org, codes: &[&IssuedCode]) {
    for issued in codes {
        let found = files_holding(org.tmp.path(), &issued.code);
        assert!(found.is_empty(), "the code for {} is on disk in {found:?}", issued.email);
    }
}

fn message(org: &Org, issued: &IssuedCode) -> MessageView {
    let outbox = org.dir.outbox(org.owner(), 100).unwrap();
    outbox.into_iter().find(|m| m.id == issued.message_id).expect("the message")
}

/// The Outbox's records as the store holds them, read with sled itself once the directory
/// has closed.
fn stored_messages(org: Org) -> Vec<serde_json::Value> {
    let Org { dir, tmp, .. } = org;
    drop(dir);
    let db = crate::support::open_sled(tmp.path());
    let outbox = db.open_tree("outbox").unwrap();
    outbox.iter().values().map(|v| serde_json::from_slice(&v.unwrap()).unwrap()).collect()
}

#[test]
fn no_code_is_on_disk_after_invite_resend_and_reset_nor_after_a_reopen() {
    let org = Org::new().with_owner();
    let ivy = org.member("ivy@example.com", &["reporting"]);
    let ben = org.invite("ben@example.com", &["reporting"]);
    let resent = org.dir.resend_invitation(org.owner(), ben.user_id).unwrap();
    let cara = org.invite("cara@example.com", &["admin"]);
    let reset = org.dir.issue_password_reset(org.owner(), ivy.id).unwrap();
    let codes = [&ben, &resent, &cara, &reset];
    assert_not_on_disk(&org, &codes);
    let control = files_holding(org.tmp.path(), "cara@example.com");
    assert!(!control.is_empty(), "the walk reads the store's bytes (its emails are plain)");
    for queued in [&resent, &cara, &reset] {
        assert_eq!(message(&org, queued).state, MessageState::Queued);
    }

    let org = org.reopen();
    assert_not_on_disk(&org, &codes);
    org.verify();
}

#[test]
fn a_queued_message_is_delivered_after_a_restart_when_its_key_is_saved() {
    let server = MailServer::start();
    let shelf = Shelf::default();
    let org = Org::with_keys(shelf.keys()).with_owner();
    let ivy = org.invite("ivy@example.com", &["reporting"]);
    assert_eq!(ivy.code_kept_note, None, "the credential store keeps the key");

    let mut org = org.restart(shelf.keys());
    assert_not_on_disk(&org, &[&ivy]);
    org.dir.update_mail_settings(org.owner(), Some(relay(server.port))).unwrap();
    assert_eq!(deliver(&org, None), 1);
    let received = server.received();
    assert_eq!(received.len(), 1);
    assert_eq!(code_in(&received[0].text), ivy.code);
    assert_eq!(message(&org, &ivy).state, MessageState::Sent);
    org.later(Duration::minutes(1));
    org.accept(&ivy, "Ivy");
    org.verify();
}

#[test]
fn without_a_credential_store_the_code_is_in_memory_only_and_fails_after_a_restart() {
    let server = MailServer::start();
    let org = Org::with_keys(no_store()).with_owner();
    let hal = org.member("hal@example.com", &["reporting"]);
    let ivy = org.invite("ivy@example.com", &["reporting"]);
    let reset = org.dir.issue_password_reset(org.owner(), hal.id).unwrap();
    for issued in [&ivy, &reset] {
        let note = issued.code_kept_note.as_deref().expect("a note on the code");
        assert!(note.contains("only in memory"), "{note}");
        assert!(note.contains("did not answer (no Secret Service on this session bus)"), "{note}");
        assert!(note.ends_with("resend to send it after a restart."), "{note}");
    }
    assert_not_on_disk(&org, &[&ivy, &reset]);

    let org = org.restart(no_store());
    assert_not_on_disk(&org, &[&ivy, &reset]);
    org.dir.update_mail_settings(org.owner(), Some(relay(server.port))).unwrap();
    assert_eq!(deliver(&org, None), 0, "nothing is claimed for sending");
    assert!(server.received().is_empty(), "nothing reaches the server");
    let failed = message(&org, &ivy);
    assert_eq!(failed.state, MessageState::Failed);
    assert_eq!(
        failed.last_failure.unwrap().message,
        "Its code was kept only in memory and Gatehouse has restarted: resend the invitation."
    );
    let failed = message(&org, &reset);
    assert_eq!(failed.state, MessageState::Failed);
    assert!(failed.last_failure.unwrap().message.ends_with("issue a new password reset."));
    let query = AuditQuery { action: Some(AuditAction::EmailFailed), ..AuditQuery::default() };
    assert_eq!(org.dir.audit_log(org.owner(), query).unwrap().events.len(), 2);

    // Neither a retry nor saving it as a file sends garbage.
    org.dir.retry_message(org.owner(), ivy.message_id).unwrap();
    assert_eq!(deliver(&org, None), 0);
    assert_eq!(message(&org, &ivy).state, MessageState::Failed);
    let elsewhere = tempfile::tempdir().unwrap();
    let file = elsewhere.path().join("ivy.eml");
    let err = org.dir.save_message(org.owner(), ivy.message_id, &file).unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidTransition);
    assert!(err.to_string().contains("resend the invitation"), "{err}");
    assert!(!file.exists());

    // Resending issues a new code whose letter goes out in this run.
    let again = org.dir.resend_invitation(org.owner(), ivy.user_id).unwrap();
    assert_eq!(deliver(&org, None), 1);
    assert_eq!(code_in(&server.received()[0].text), again.code);
    org.verify();
}

#[test]
fn a_used_cancelled_replaced_or_expired_codes_letter_is_erased() {
    let mut org = Org::new().with_owner();
    let ivy = org.invite("ivy@example.com", &["reporting"]);
    let member = org.accept(&ivy, "Ivy");
    let ben = org.invite("ben@example.com", &["reporting"]);
    org.dir.cancel_invitation(org.owner(), ben.user_id).unwrap();
    let cara = org.invite("cara@example.com", &["reporting"]);
    org.dir.resend_invitation(org.owner(), cara.user_id).unwrap();
    let used_reset = org.dir.issue_password_reset(org.owner(), member.id).unwrap();
    let input = ResetInput {
        email: "ivy@example.com".into(),
        code: used_reset.code.clone(),
        password: "a brand new harbour melody 5".into(),
    };
    org.dir.reset_password(input).unwrap();
    org.dir.issue_password_reset(org.owner(), member.id).unwrap();
    org.dir.issue_password_reset(org.owner(), member.id).unwrap();

    let notes = |org: &Org| -> Vec<(String, MessageState, String)> {
        let outbox = org.dir.outbox(org.owner(), 100).unwrap();
        outbox.into_iter().rev().map(|m| (m.to, m.state, m.note)).collect()
    };
    let discarded = |to: &str, why: &str| (to.to_string(), MessageState::Discarded, why.into());
    let queued = |to: &str| (to.to_string(), MessageState::Queued, String::new());
    assert_eq!(
        notes(&org),
        [
            discarded("ivy@example.com", "the code was used before the message was sent"),
            discarded("ben@example.com", "the invitation was cancelled"),
            discarded("cara@example.com", "a new invitation replaced this one"),
            queued("cara@example.com"),
            discarded("ivy@example.com", "the code was used before the message was sent"),
            discarded("ivy@example.com", "a newer reset code replaced this one"),
            queued("ivy@example.com"),
        ]
    );

    // A week on, both codes still queued have expired: reading the Outbox erases them.
    org.later(Duration::days(8));
    let expired = "the code expired before the message could be sent";
    let now = notes(&org);
    assert_eq!(now[3], discarded("cara@example.com", expired));
    assert_eq!(now[6].1, MessageState::Discarded, "{:?}", now[6]);
    org.verify();

    let stored = stored_messages(org);
    assert_eq!(stored.len(), 7);
    for record in &stored {
        assert!(record["sealed"].is_null(), "a letter is left in {record}");
        assert!(record.get("letter").is_none(), "a plain letter is left in {record}");
    }
}

#[test]
fn an_expired_codes_letter_is_erased_when_the_store_opens() {
    let org = Org::new().with_owner();
    org.invite("ivy@example.com", &["reporting"]);
    org.clock.advance(Duration::days(8));
    let org = org.reopen();
    let stored = stored_messages(org);
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0]["state"], "discarded");
    assert_eq!(stored[0]["note"], "the code expired before the message could be sent");
    assert!(stored[0]["sealed"].is_null(), "{}", stored[0]);
}

#[test]
fn a_plain_letter_from_a_version_2_store_is_sealed_when_it_opens_and_still_sent() {
    let server = MailServer::start();
    let org = Org::new().with_owner();
    let ivy = org.invite("ivy@example.com", &["reporting"]);
    let Org { dir, clock, tmp, .. } = org;
    drop(dir);
    {
        // As version 2 wrote it: the letter in plain text.
        let db = crate::support::open_sled(tmp.path());
        let outbox = db.open_tree("outbox").unwrap();
        let key = ivy.message_id.as_bytes();
        let mut record: serde_json::Value =
            serde_json::from_slice(&outbox.get(key).unwrap().unwrap()).unwrap();
        let text = format!("Your invitation code is:\n\n    {}\n", ivy.code);
        record.as_object_mut().unwrap().remove("sealed");
        record["letter"] = serde_json::json!({ "subject": "Join", "text": text, "html": "" });
        outbox.insert(key, serde_json::to_vec(&record).unwrap()).unwrap();
        db.open_tree("meta").unwrap().insert("schema_version", &2u32.to_be_bytes()).unwrap();
        db.flush().unwrap();
    }
    let dir = gatehouse_core::Directory::open_settled(tmp.path(), clock.clone()).unwrap();
    let mut org = Org { dir: dir.into(), clock, owner: None, tmp };
    org.later(Duration::minutes(1));
    org.verify();
    org.dir.update_mail_settings(org.owner(), Some(relay(server.port))).unwrap();
    assert_eq!(deliver(&org, None), 1);
    assert_eq!(code_in(&server.received()[0].text), ivy.code);
    let stored = stored_messages(org);
    assert!(stored[0].get("letter").is_none(), "{}", stored[0]);
}

/// Under `make rust-test` and `make e2e` (GATEHOUSE_REQUIRE_KEYRING=1, inside
/// `scripts/with-keyring`) the keys are in a real Secret Service, where `secret-tool` finds
/// them and a new run reads them back. Elsewhere a credential store that does not answer is
/// allowed (and said).
#[test]
fn the_credential_store_is_real_when_required() {
    let required = std::env::var("GATEHOUSE_REQUIRE_KEYRING").is_ok_and(|v| v == "1");
    let name = "gatehouse-test:keyring-check";
    let (key, keeping) = Keys::system().key(name).unwrap();
    if !required && keeping != Keeping::Saved {
        eprintln!(
            "no credential store here ({keeping:?}): set GATEHOUSE_REQUIRE_KEYRING=1 to insist"
        );
        return;
    }
    assert_eq!(keeping, Keeping::Saved, "GATEHOUSE_REQUIRE_KEYRING=1 but no credential store");
    let lookup = std::process::Command::new("secret-tool")
        .args(["lookup", "service", SERVICE, "username", name])
        .output()
        .expect("secret-tool (libsecret-tools) runs");
    assert!(lookup.status.success(), "{}", String::from_utf8_lossy(&lookup.stderr));
    assert!(!String::from_utf8_lossy(&lookup.stdout).trim().is_empty(), "secret-tool found it");
    let sealed = key.seal(b"context", b"a letter").unwrap();
    let (again, keeping) = Keys::new(Box::new(OsVault)).key(name).unwrap();
    assert_eq!(keeping, Keeping::Saved);
    assert_eq!(again.open(b"context", &sealed).as_deref(), Some(&b"a letter"[..]));
}
