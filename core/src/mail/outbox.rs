//! The outbox: every email Gatehouse writes waits here, in the store, from the transaction that
//! issued its code until it is sent, saved as a file, or dropped.
//!
//! States: Queued → Sending → Sent; a failure that may pass (network, server away) goes back to
//! Queued with a later attempt time (1, 2, 4 … 30 minutes), up to [`MAX_ATTEMPTS`]; any other
//! failure, or the last attempt, is Failed (Retry puts it back in the queue). A message found
//! in Sending when the app starts was interrupted mid-send: it becomes Failed, never re-sent
//! on its own, so nobody gets a message twice. Its text (which holds the code) is kept only
//! sealed, and erased once the message is sent, saved or discarded (see [`super::seal`]).

use super::seal::{unreadable, SealedLetter};
use super::smtp::{self, SendFailure};
use super::{Letter, MailSettings};
use crate::auth::session::SessionId;
use crate::change::Change;
use crate::error::{Error, Result};
use crate::files::write_atomically;
use crate::model::audit::AuditEntry;
use crate::model::{
    Action, AuditAction, AuditActor, CodeState, Email, Module, Organization, Outcome, User, UserId,
};
use crate::policy::Act;
use crate::store::Tx;
use crate::Directory;
use chrono::{DateTime, Duration, Utc};
use lettre::message::{Mailbox, MultiPart};
use lettre::Address;
use serde::{Deserialize, Serialize};
use std::path::Path;
use uuid::Uuid;

/// Attempts after which a message that keeps failing is left Failed for a person to retry.
pub const MAX_ATTEMPTS: u32 = 10;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum MessageKind {
    Invitation,
    PasswordReset,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum MessageState {
    Queued,
    Sending,
    Sent,
    Failed,
    /// Saved as an .eml file to be sent by hand.
    Saved,
    /// Dropped by a person, or because its code stopped working before it was sent.
    Discarded,
}

impl MessageState {
    /// Still to be delivered: its text (and code) is kept.
    pub fn is_unsent(self) -> bool {
        matches!(self, MessageState::Queued | MessageState::Sending | MessageState::Failed)
    }
}

/// One outgoing email, as the store keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxMessage {
    pub id: Uuid,
    pub kind: MessageKind,
    /// The invitation or password reset whose code the message carries.
    pub code_id: Uuid,
    pub to: Email,
    pub to_name: String,
    pub subject: String,
    /// The subject and bodies, sealed; `None` once the message has left or its code stopped
    /// working (see [`super::seal`]).
    pub sealed: Option<SealedLetter>,
    /// A letter in plain text, as stores before version 3 kept it: read only to be sealed
    /// (or erased) when the store opens, never written.
    #[serde(default, rename = "letter", skip_serializing)]
    pub(crate) plain: Option<Letter>,
    pub queued_by: UserId,
    pub created_at: DateTime<Utc>,
    pub state: MessageState,
    pub attempts: u32,
    pub next_attempt_at: DateTime<Utc>,
    pub last_failure: Option<SendFailure>,
    /// The server's reply when sent, or why it was discarded.
    pub note: String,
    pub finished_at: Option<DateTime<Utc>>,
}

/// What the reader may do with a message, as core decides it: the Outbox offers these and
/// nothing else.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum MessageAction {
    /// Back in the queue, due now: after a failure, or while it waits to try again.
    Retry,
    /// Written as an .eml file to send from any mail program, and out of the queue.
    Save,
    /// Dropped unsent (its code keeps working).
    Discard,
}

/// What the window shows of a message: never its text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
pub struct MessageView {
    pub id: Uuid,
    pub kind: MessageKind,
    pub to: String,
    pub to_name: String,
    pub subject: String,
    pub created_at: DateTime<Utc>,
    pub state: MessageState,
    pub attempts: u32,
    /// When the next attempt is due, while queued.
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub last_failure: Option<SendFailure>,
    pub note: String,
    pub finished_at: Option<DateTime<Utc>>,
    /// Whether the reader may open, save, retry or discard it (rule 7); others only see that it
    /// exists and its state.
    pub can_open: bool,
    /// What the reader may do with it now, in the order to offer them (none unless `can_open`).
    pub actions: Vec<MessageAction>,
}

/// A message claimed for sending: the settings to use, its envelope and bytes.
pub struct Outgoing {
    pub id: Uuid,
    pub settings: MailSettings,
    pub envelope: lettre::address::Envelope,
    pub bytes: Vec<u8>,
}

/// The result of saving a message as a file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
pub struct SaveAs {
    pub to: String,
    pub file_name: String,
}

impl OutboxMessage {
    /// A queued message `id` carrying `sealed`, due at once.
    #[allow(clippy::too_many_arguments)] // a record's fields, each named at its one caller
    pub(super) fn queued(
        id: Uuid,
        kind: MessageKind,
        code_id: Uuid,
        to: &User,
        subject: &str,
        sealed: SealedLetter,
        queued_by: UserId,
        now: DateTime<Utc>,
    ) -> Self {
        OutboxMessage {
            id,
            kind,
            code_id,
            to: to.email.clone(),
            to_name: to.name.clone(),
            subject: subject.to_string(),
            sealed: Some(sealed),
            plain: None,
            queued_by,
            created_at: now,
            state: MessageState::Queued,
            attempts: 0,
            next_attempt_at: now,
            last_failure: None,
            note: String::new(),
            finished_at: None,
        }
    }

    fn view(&self) -> MessageView {
        MessageView {
            id: self.id,
            kind: self.kind,
            to: self.to.to_string(),
            to_name: self.to_name.clone(),
            subject: self.subject.clone(),
            created_at: self.created_at,
            state: self.state,
            attempts: self.attempts,
            next_attempt_at: (self.state == MessageState::Queued).then_some(self.next_attempt_at),
            last_failure: self.last_failure.clone(),
            note: self.note.clone(),
            finished_at: self.finished_at,
            can_open: false,
            actions: Vec::new(),
        }
    }

    /// What may be done with the message as it stands, by someone who may open it: an unsent
    /// letter (not being sent right now) may be saved or discarded, and retried once an attempt
    /// failed or it waits after one.
    fn actions(&self) -> Vec<MessageAction> {
        let waiting = matches!(self.state, MessageState::Queued | MessageState::Failed);
        if !waiting || self.sealed.is_none() {
            return Vec::new();
        }
        let retry = (self.state == MessageState::Failed || self.attempts > 0)
            .then_some(MessageAction::Retry);
        retry.into_iter().chain([MessageAction::Save, MessageAction::Discard]).collect()
    }

    /// The message as it leaves: finished in `state`, its text erased.
    pub(super) fn finished(&self, state: MessageState, note: String, now: DateTime<Utc>) -> Self {
        OutboxMessage {
            state,
            note,
            sealed: None,
            plain: None,
            finished_at: Some(now),
            ..self.clone()
        }
    }

    fn what(&self) -> &'static str {
        match self.kind {
            MessageKind::Invitation => "invitation email",
            MessageKind::PasswordReset => "password reset email",
        }
    }
}

/// The wait before attempt `attempts + 1`: 1, 2, 4, 8, 16, then 30 minutes.
fn backoff(attempts: u32) -> Duration {
    Duration::minutes((1i64 << attempts.saturating_sub(1).min(5)).min(30))
}

/// Drops a code's unsent message in the transaction that replaces or cancels the code.
pub(crate) fn drop_unsent(
    tx: &Tx<'_>,
    message: Option<Uuid>,
    why: &str,
    now: DateTime<Utc>,
) -> crate::store::TxResult<()> {
    if let Some(id) = message {
        if let Some(m) = tx.message(id)? {
            if m.state.is_unsent() {
                tx.put_message(&m.finished(MessageState::Discarded, why.to_string(), now))?;
            }
        }
    }
    Ok(())
}

impl Directory {
    /// The outbox, newest first (at most `limit`). Needs `users:read`. A background refresh:
    /// reading it does not keep the session alive. Each message says whether the reader may
    /// open it (rule 7: only those who dominate its recipient, with `users:create`). Reading
    /// it first erases the letters of codes that expired (see [`Directory::tidy_outbox`]).
    pub fn outbox(&self, session: SessionId, limit: usize) -> Result<Vec<MessageView>> {
        let reader = self.authorize_quietly(session, Module::Users, Action::Read)?;
        self.tidy_outbox()?;
        let mut views = Vec::new();
        for message in self.store.messages().rev().take(limit) {
            let message = message?;
            let can_open = match self.recipient(&message)? {
                Some(to) => self.judge(&reader, &to, Act::HandleMessage).is_ok(),
                None => false,
            };
            let actions = if can_open { message.actions() } else { Vec::new() };
            views.push(MessageView { can_open, actions, ..message.view() });
        }
        Ok(views)
    }

    /// Puts a failed (or waiting) message back in the queue, due now. Needs `users:create` and
    /// to dominate the recipient. Error: `invalid_transition` when it has already left.
    pub fn retry_message(&self, session: SessionId, id: Uuid) -> Result<MessageView> {
        self.handling(session, id, AuditAction::EmailRetried, |change, message| {
            if message.state == MessageState::Sending {
                return Err(Error::InvalidTransition("This message is being sent right now."));
            }
            let again = OutboxMessage {
                state: MessageState::Queued,
                attempts: 0,
                next_attempt_at: change.now(),
                ..message
            };
            change
                .commit(&format!("{}: queued again", again.what()), |tx| tx.put_message(&again))?;
            Ok(again.view())
        })
    }

    /// Drops an unsent message (its code keeps working). Needs `users:create` and to dominate
    /// the recipient.
    pub fn discard_message(&self, session: SessionId, id: Uuid) -> Result<MessageView> {
        self.handling(session, id, AuditAction::EmailDiscarded, |change, message| {
            let done =
                message.finished(MessageState::Discarded, "discarded by hand".into(), change.now());
            change.commit(&format!("{}: discarded unsent", done.what()), |tx| {
                tx.put_message(&done)
            })?;
            Ok(done.view())
        })
    }

    /// Writes an unsent message as an .eml file at `path`, to be sent from any mail client,
    /// and takes it out of the queue so that it is not sent twice. Needs `users:create` and to
    /// dominate the recipient (the file carries their code).
    pub fn save_message(&self, session: SessionId, id: Uuid, path: &Path) -> Result<SaveAs> {
        self.handling(session, id, AuditAction::EmailSaved, |change, message| {
            let org = self.store.organization()?.ok_or(Error::NotSetUp)?;
            let Some(letter) = self.open_letter(&message)? else {
                let this_run = message.sealed.as_ref().is_some_and(SealedLetter::this_run);
                return Err(Error::InvalidTransition(unreadable(message.kind, this_run)));
            };
            let email = self.formatted(&org, &message, &letter)?;
            write_atomically(path, &email.formatted())?;
            let file_name =
                path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            let done = message.finished(
                MessageState::Saved,
                format!("saved as {file_name}"),
                change.now(),
            );
            change.commit(&format!("{} saved as a file to send by hand", done.what()), |tx| {
                tx.put_message(&done)
            })?;
            Ok(SaveAs { to: done.to.to_string(), file_name })
        })
    }

    /// Runs `body` on an unsent message as a change by someone who may handle it: `users:create`
    /// and dominating its recipient (rule 7), each refusal audited.
    fn handling<T>(
        &self,
        session: SessionId,
        id: Uuid,
        action: AuditAction,
        body: impl FnOnce(&mut Change<'_>, OutboxMessage) -> Result<T>,
    ) -> Result<T> {
        let act = Act::HandleMessage;
        self.changing(session, Some(act.needs()), action, |change| {
            change.attempt(format!("message {id}"));
            let message = self.store.message(id)?.ok_or(Error::MessageNotFound)?;
            change.target(message.to.as_str());
            let message = self.unsent_message(id)?;
            // A letter whose code no longer works (used, replaced, expired) is never opened.
            let recipient = match self.code_gone(&message)? {
                None => self.recipient(&message)?,
                Some(_) => None,
            };
            let Some(recipient) = recipient else { return Err(unsent_only()) };
            change.on_user(recipient, act)?;
            body(change, message)
        })
    }

    /// The person whose code a message carries, while they are in the list.
    fn recipient(&self, message: &OutboxMessage) -> Result<Option<User>> {
        let user_id = match message.kind {
            MessageKind::Invitation => self.store.invitation(message.code_id)?.map(|i| i.user_id),
            MessageKind::PasswordReset => self.store.reset(message.code_id)?.map(|r| r.user_id),
        };
        match user_id {
            Some(id) => self.store.user(id),
            None => Ok(None),
        }
    }

    /// A message that has not left yet. Errors: `message_not_found`, `invalid_transition`.
    fn unsent_message(&self, id: Uuid) -> Result<OutboxMessage> {
        let message = self.store.message(id)?.ok_or(Error::MessageNotFound)?;
        if !message.state.is_unsent() || message.sealed.is_none() {
            return Err(unsent_only());
        }
        Ok(message)
    }

    /// Messages left in Sending by an app that stopped mid-send become Failed: they may have
    /// reached the server, so they are not sent again without a person asking. Returns how
    /// many. Call once when the sender starts.
    pub fn settle_interrupted_sends(&self) -> Result<usize> {
        let write = self.unattended();
        let interrupted: Vec<OutboxMessage> = self
            .store
            .messages()
            .filter(|m| m.as_ref().map_or(true, |m| m.state == MessageState::Sending))
            .collect::<Result<_>>()?;
        let now = write.now;
        for message in &interrupted {
            let failure = SendFailure::new(
                smtp::SendStep::Message,
                false,
                "Gatehouse stopped while sending this message: it may or may not have reached \
                 the server. Retry to send it again.",
            );
            let failed = OutboxMessage {
                state: MessageState::Failed,
                last_failure: Some(failure.clone()),
                ..message.clone()
            };
            write.commit(|tx| {
                tx.put_message(&failed)?;
                tx.audit(failure_entry(&failed, &failure, "interrupted"), now)
            })?;
        }
        Ok(interrupted.len())
    }

    /// When the next queued message is due, if sending is set up.
    pub fn next_send_at(&self) -> Result<Option<DateTime<Utc>>> {
        if self.mail_settings()?.is_none() {
            return Ok(None);
        }
        let mut next: Option<DateTime<Utc>> = None;
        for message in self.store.messages() {
            let message = message?;
            if message.state == MessageState::Queued {
                next =
                    Some(next.map_or(message.next_attempt_at, |n| n.min(message.next_attempt_at)));
            }
        }
        Ok(next)
    }

    /// Takes the oldest message due now and marks it Sending, durably, before anything is said
    /// to the server. First, every message whose code stopped working (accepted, cancelled,
    /// replaced, expired) is discarded with its letter erased (the sweep). A message whose
    /// letter cannot be opened (its key was kept for an earlier run) is marked Failed, saying
    /// to send the code again, and nothing is sent. `None` when nothing is due, sending is not
    /// set up, or the server needs a password and `password_known` is false.
    pub fn claim_due_message(&self, password_known: bool) -> Result<Option<Outgoing>> {
        let Some(settings) = self.mail_settings()? else { return Ok(None) };
        if settings.needs_password() && !password_known {
            return Ok(None);
        }
        self.tidy_outbox()?;
        let write = self.unattended();
        let org = self.store.organization()?.ok_or(Error::NotSetUp)?;
        let now = write.now;
        for message in self.store.messages() {
            let message = message?;
            if message.state != MessageState::Queued || message.next_attempt_at > now {
                continue;
            }
            // A code may have expired since the sweep.
            if let Some(dropped) = self.without_dead_code(&message, now)? {
                write.commit(|tx| tx.put_message(&dropped))?;
                continue;
            }
            let Some(letter) = self.open_letter(&message)? else {
                let this_run = message.sealed.as_ref().is_some_and(SealedLetter::this_run);
                let failure = SendFailure::new(
                    smtp::SendStep::Message,
                    false,
                    unreadable(message.kind, this_run),
                );
                let failed = OutboxMessage {
                    state: MessageState::Failed,
                    last_failure: Some(failure.clone()),
                    ..message
                };
                write.commit(|tx| {
                    tx.put_message(&failed)?;
                    tx.audit(failure_entry(&failed, &failure, "not sent"), now)
                })?;
                continue;
            };
            let email = self.formatted(&org, &message, &letter)?;
            let sending = OutboxMessage {
                state: MessageState::Sending,
                attempts: message.attempts + 1,
                ..message
            };
            write.commit(|tx| tx.put_message(&sending))?;
            return Ok(Some(Outgoing {
                id: sending.id,
                settings,
                envelope: email.envelope().clone(),
                bytes: email.formatted(),
            }));
        }
        Ok(None)
    }

    /// Records how a claimed message's send went: Sent (its text dropped), back in the queue
    /// for a later attempt, or Failed. Each outcome is in the audit log, by the system.
    pub fn record_delivery(
        &self,
        id: Uuid,
        result: std::result::Result<String, SendFailure>,
    ) -> Result<MessageState> {
        let write = self.unattended();
        let message = self.store.message(id)?.ok_or(Error::MessageNotFound)?;
        let now = write.now;
        let (after, entry) = match result {
            Ok(reply) => {
                let sent = message.finished(MessageState::Sent, reply.clone(), now);
                let entry = AuditEntry::success(
                    AuditActor::System,
                    AuditAction::EmailSent,
                    sent.to.as_str(),
                    format!("{} accepted by the mail server: {reply}", sent.what()),
                );
                (OutboxMessage { last_failure: None, ..sent }, entry)
            }
            Err(failure) => {
                let again = failure.transient && message.attempts < MAX_ATTEMPTS;
                let after = OutboxMessage {
                    state: if again { MessageState::Queued } else { MessageState::Failed },
                    next_attempt_at: now + backoff(message.attempts),
                    last_failure: Some(failure.clone()),
                    ..message
                };
                let plan = if again {
                    format!("attempt {}, will retry", after.attempts)
                } else {
                    format!("attempt {}, gave up", after.attempts)
                };
                let entry = failure_entry(&after, &failure, &plan);
                (after, entry)
            }
        };
        write.commit(|tx| {
            tx.put_message(&after)?;
            tx.audit(entry.clone(), now)
        })?;
        Ok(after.state)
    }

    /// Why a message's code no longer works, if it does not.
    pub(super) fn code_gone(&self, message: &OutboxMessage) -> Result<Option<&'static str>> {
        let now = self.clock.now();
        let (state, expires_at) = match message.kind {
            MessageKind::Invitation => match self.store.invitation(message.code_id)? {
                Some(i) => (i.state, i.expires_at),
                None => return Ok(Some("the invitation is gone")),
            },
            MessageKind::PasswordReset => match self.store.reset(message.code_id)? {
                Some(r) if r.state == CodeState::Pending => {
                    let live = match self.store.user(r.user_id)? {
                        Some(to) => self.reset_holds(&r, &to)?,
                        None => false,
                    };
                    if !live {
                        return Ok(Some("the reset code stopped working before it was sent"));
                    }
                    (r.state, r.expires_at)
                }
                Some(r) => (r.state, r.expires_at),
                None => return Ok(Some("the reset is gone")),
            },
        };
        Ok(match state {
            CodeState::Used => Some("the code was used before the message was sent"),
            CodeState::Cancelled => Some("the invitation was cancelled"),
            CodeState::Replaced => Some("a newer code replaced this one"),
            CodeState::Pending if expires_at <= now => {
                Some("the code expired before the message could be sent")
            }
            CodeState::Pending => None,
        })
    }

    /// The organization's mail settings, when sending is set up.
    pub fn mail_settings(&self) -> Result<Option<MailSettings>> {
        Ok(self.store.organization()?.and_then(|o| o.mail))
    }

    /// The message as an email: from the configured sender, or (when sending is not set up)
    /// from the person who queued it, ready to send from their own mail client.
    fn formatted(
        &self,
        org: &Organization,
        message: &OutboxMessage,
        letter: &Letter,
    ) -> Result<lettre::Message> {
        let (from_name, from_address) = match &org.mail {
            Some(m) if !m.from_name.is_empty() => (m.from_name.clone(), m.from_address.clone()),
            Some(m) => (org.name.clone(), m.from_address.clone()),
            None => {
                let by = self.store.user(message.queued_by)?;
                let address = by.as_ref().map_or(String::new(), |u| u.email.to_string());
                (org.name.clone(), address)
            }
        };
        let from = mailbox(&from_name, &from_address)?;
        let to = mailbox(&message.to_name, message.to.as_str())?;
        let domain = from_address.rsplit('@').next().unwrap_or("gatehouse.invalid");
        lettre::Message::builder()
            .from(from)
            .to(to)
            .subject(letter.subject.clone())
            .message_id(Some(format!("<{}@{domain}>", message.id)))
            .date(std::time::SystemTime::from(self.clock.now()))
            .multipart(MultiPart::alternative_plain_html(letter.text.clone(), letter.html.clone()))
            .map_err(|e| Error::internal("writing an email", e))
    }

    /// The names of roles, for letters.
    pub(crate) fn role_names(&self, keys: &[String]) -> Result<Vec<String>> {
        keys.iter().map(|k| Ok(self.role(k)?.map_or_else(|| k.clone(), |r| r.name))).collect()
    }
}

fn unsent_only() -> Error {
    Error::InvalidTransition("This message has already been sent, saved or discarded.")
}

pub(crate) fn mailbox(name: &str, address: &str) -> Result<Mailbox> {
    let address: Address = address.parse().map_err(|_| Error::InvalidSetting {
        field: None,
        message: "An email address cannot be written into a message.",
    })?;
    Ok(Mailbox::new((!name.trim().is_empty()).then(|| name.trim().to_string()), address))
}

fn failure_entry(message: &OutboxMessage, failure: &SendFailure, plan: &str) -> AuditEntry {
    AuditEntry::success(
        AuditActor::System,
        AuditAction::EmailFailed,
        message.to.as_str(),
        format!(
            "{} failed at {} ({plan}): {}",
            message.what(),
            failure.step.label(),
            failure.message
        ),
    )
    .with_outcome(Outcome::Failed)
}

/// Sends every message due now, one after another, with `password` for the server when it
/// needs one. Returns how many were attempted.
pub async fn deliver_due(dir: &Directory, password: Option<&str>) -> Result<usize> {
    let mut attempted = 0;
    while let Some(out) = dir.claim_due_message(password.is_some())? {
        let result = smtp::send(&out.settings, password, &out.envelope, &out.bytes).await;
        dir.record_delivery(out.id, result)?;
        attempted += 1;
    }
    Ok(attempted)
}
