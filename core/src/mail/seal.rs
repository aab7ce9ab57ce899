//! Letters in the Outbox are sealed: the store (and so every copy of the data folder and every
//! backup) holds a letter, which carries a code, only encrypted with the Outbox key, which lives
//! in the operating system's credential store (see [`crate::secrets`]), and bound to its
//! message's id. A letter never reaches the store in plain text.
//!
//! Where the credential store does not answer, the key is kept for this run only: the letter
//! opens until Gatehouse closes, and after a restart the sender marks its message Failed and
//! says to send the code again. Whoever issued the code is told so when it is shown
//! ([`kept_note`]).
//!
//! A letter is erased as soon as its message leaves (sent, saved, discarded) or its code stops
//! working: used, cancelled or replaced (in that change's transaction, `drop_unsent`), or
//! expired or no longer held (the sweep, [`Directory::tidy_outbox`], run when the store opens,
//! when the Outbox is read and when the sender looks for due messages).
//!
//! Stores written before sealing (schema version 2) may hold plain letters: the sweep seals
//! each one still to be sent when the store is first opened, and the store is then version 3.
//! (sled may keep the old bytes in its log until it reuses that space.)

use super::outbox::{MessageKind, MessageState, OutboxMessage};
use super::Letter;
use crate::error::{Error, Result};
use crate::secrets::{Keeping, SealKey};
use crate::Directory;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A letter as the store keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SealedLetter {
    /// The serialized [`Letter`], sealed with the Outbox key and the message id (base64 of
    /// the nonce and the ciphertext).
    bytes: String,
    /// Sealed with a key kept only for the run that sealed it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    this_run: bool,
}

impl SealedLetter {
    /// Whether the key that sealed it was kept only for the run that sealed it.
    pub fn this_run(&self) -> bool {
        self.this_run
    }
}

/// The sentence shown with a code whose letter is sealed with a key kept only for this run;
/// `None` when the key is in the credential store.
pub fn kept_note(keeping: &Keeping) -> Option<String> {
    match keeping {
        Keeping::Saved => None,
        Keeping::ThisRun(why) => Some(format!(
            "Gatehouse keeps the email with this code only in memory: {why}. If Gatehouse \
             closes before the email is sent, resend to send it after a restart."
        )),
    }
}

/// Why a letter cannot be opened, for its message's failure and a refused save.
pub(crate) fn unreadable(kind: MessageKind, this_run: bool) -> &'static str {
    match (kind, this_run) {
        (MessageKind::Invitation, true) => {
            "Its code was kept only in memory and Gatehouse has restarted: resend the invitation."
        }
        (MessageKind::PasswordReset, true) => {
            "Its code was kept only in memory and Gatehouse has restarted: issue a new password \
             reset."
        }
        (MessageKind::Invitation, false) => {
            "Its code cannot be read: the key that sealed it is not in this computer's \
             credential store. Resend the invitation."
        }
        (MessageKind::PasswordReset, false) => {
            "Its code cannot be read: the key that sealed it is not in this computer's \
             credential store. Issue a new password reset."
        }
    }
}

impl Directory {
    /// The key that seals this store's letters, named after the store.
    fn outbox_key(&self) -> Result<(SealKey, Keeping)> {
        self.keys.key(&format!("outbox:{}", self.store_id()?))
    }

    /// Where this store's Outbox key is kept, fetching it from the credential store (or making
    /// it) now rather than at the first code issued: asking the credential store may take a
    /// moment, and a code is issued under the writer lock.
    pub fn outbox_keeping(&self) -> Result<Keeping> {
        Ok(self.outbox_key()?.1)
    }

    /// `letter` sealed for the message `id`, and where its key is kept.
    fn seal_letter(&self, id: Uuid, letter: &Letter) -> Result<(SealedLetter, Keeping)> {
        let (key, keeping) = self.outbox_key()?;
        let plain = serde_json::to_vec(letter).map_err(|e| Error::internal("a letter", e))?;
        let sealed = key.seal(id.as_bytes(), &plain)?;
        let letter = SealedLetter {
            bytes: data_encoding::BASE64.encode(&sealed),
            this_run: matches!(keeping, Keeping::ThisRun(_)),
        };
        Ok((letter, keeping))
    }

    /// The message carrying `letter`, sealed, queued and due at once; and where its key is
    /// kept. Read the clock and seal before the transaction that writes it.
    pub(crate) fn queue_letter(
        &self,
        kind: MessageKind,
        code_id: Uuid,
        to: &crate::model::User,
        letter: &Letter,
        queued_by: crate::model::UserId,
        now: DateTime<Utc>,
    ) -> Result<(OutboxMessage, Keeping)> {
        let id = Uuid::now_v7();
        let (sealed, keeping) = self.seal_letter(id, letter)?;
        let message =
            OutboxMessage::queued(id, kind, code_id, to, &letter.subject, sealed, queued_by, now);
        Ok((message, keeping))
    }

    /// The letter of an unsent message; `None` when its key is gone (kept for an earlier run,
    /// or no longer in the credential store).
    pub(crate) fn open_letter(&self, message: &OutboxMessage) -> Result<Option<Letter>> {
        let Some(sealed) = &message.sealed else { return Ok(None) };
        let (key, _) = self.outbox_key()?;
        let opened = data_encoding::BASE64
            .decode(sealed.bytes.as_bytes())
            .ok()
            .and_then(|bytes| key.open(message.id.as_bytes(), &bytes))
            .and_then(|plain| serde_json::from_slice(&plain).ok());
        Ok(opened)
    }

    /// `message` as it should now be: Discarded with its letter erased when its code no longer
    /// works, otherwise unchanged. A message being sent is left to its sender.
    pub(crate) fn without_dead_code(
        &self,
        message: &OutboxMessage,
        now: DateTime<Utc>,
    ) -> Result<Option<OutboxMessage>> {
        if !message.state.is_unsent() || message.state == MessageState::Sending {
            return Ok(None);
        }
        Ok(self
            .code_gone(message)?
            .map(|why| message.finished(MessageState::Discarded, why.into(), now)))
    }

    /// The sweep: every unsent message whose code expired or stopped working becomes
    /// Discarded, its letter erased; a plain letter from an older store is sealed (or erased
    /// with its message when it is no longer to be sent). One transaction, written only when
    /// something changed. Returns how many messages changed.
    pub(crate) fn tidy_outbox(&self) -> Result<usize> {
        // A look without the writer lock first: most reads of the Outbox find nothing to do.
        let now = self.clock.now();
        let mut stale = Vec::new();
        for message in self.store.messages() {
            // A record that cannot be read is left for `verify` to report: it must not keep
            // the store from opening.
            let Ok(message) = message else { continue };
            let dead = matches!(self.without_dead_code(&message, now), Ok(Some(_)));
            if message.plain.is_some() || dead {
                stale.push(message.id);
            }
        }
        if stale.is_empty() {
            return Ok(0);
        }
        let write = self.unattended();
        let mut changed = Vec::new();
        for id in stale {
            let Ok(Some(message)) = self.store.message(id) else { continue };
            // A code record that cannot be read leaves its message as it is (`verify` reports it).
            let mut after = match self.without_dead_code(&message, write.now) {
                Ok(Some(discarded)) => discarded,
                _ => message.clone(),
            };
            if let Some(plain) = after.plain.take() {
                if after.state.is_unsent() {
                    after.sealed = Some(self.seal_letter(after.id, &plain)?.0);
                }
            }
            if after != message {
                changed.push(after);
            }
        }
        if !changed.is_empty() {
            write.commit(|tx| changed.iter().try_for_each(|m| tx.put_message(m)))?;
        }
        Ok(changed.len())
    }
}
