//! `verify()`: re-checks every invariant of the store. Tests call it at their end; the app
//! offers it as "verify integrity".

use super::tx::AuditHead;
use super::{decode, Store, AUDIT_HEAD_KEY};
use crate::error::Result;
use crate::model::audit::GENESIS_HASH;
use crate::model::{role, CodeRef, CodeState, ReviewEntry, ReviewHeader, User, UserId, UserStatus};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use uuid::Uuid;

/// The result of [`Store::verify`]: counts, and every problem found (none when intact).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct Integrity {
    pub users: u32,
    pub audit_events: u32,
    pub problems: Vec<String>,
}

impl Integrity {
    pub fn is_intact(&self) -> bool {
        self.problems.is_empty()
    }
}

pub(super) fn verify(store: &Store) -> Result<Integrity> {
    let mut problems = Vec::new();
    let users = store.users()?;
    check_users(store, &users, &mut problems)?;
    check_codes(store, &users, &mut problems)?;
    check_outbox(store, &mut problems)?;
    check_reviews(store, &mut problems)?;
    let audit_events = check_audit_chain(store, &mut problems)?;
    Ok(Integrity { users: users.len() as u32, audit_events: audit_events as u32, problems })
}

/// A message keeps its text (which holds a code) exactly while it is still to be sent, and
/// only sealed.
fn check_outbox(store: &Store, problems: &mut Vec<String>) -> Result<()> {
    for message in store.messages() {
        let message = message?;
        if message.state.is_unsent() != message.sealed.is_some() {
            problems.push(format!(
                "outbox message {} is {:?} but {} its text",
                message.id,
                message.state,
                if message.sealed.is_some() { "still holds" } else { "lost" }
            ));
        }
        if message.plain.is_some() {
            problems.push(format!("outbox message {} holds its text unsealed", message.id));
        }
    }
    Ok(())
}

/// Every review record reads; entries belong to a review; numbers run 1, 2, ...; at most one
/// review is unsigned; a signed one has every entry done and names an audit event that exists
/// with the hash it recorded.
fn check_reviews(store: &Store, problems: &mut Vec<String>) -> Result<()> {
    let mut headers: HashMap<Uuid, ReviewHeader> = HashMap::new();
    let mut entries: Vec<(Uuid, ReviewEntry)> = Vec::new();
    for record in store.reviews.iter() {
        let (key, value) = record?;
        let review = Uuid::from_slice(key.get(..16).unwrap_or_default()).unwrap_or_default();
        match key.len() {
            16 => match decode::<ReviewHeader>(&value) {
                Ok(header) if header.id == review => {
                    headers.insert(review, header);
                }
                _ => problems.push(format!("access review {review} cannot be read")),
            },
            32 => match decode::<ReviewEntry>(&value) {
                Ok(entry) if entry.user.id.as_bytes() == &key[16..] => {
                    entries.push((review, entry));
                }
                _ => problems.push(format!("an entry of access review {review} cannot be read")),
            },
            _ => problems.push("the reviews tree holds a key of the wrong length".to_string()),
        }
    }
    let mut numbers: Vec<u32> = headers.values().map(|h| h.number).collect();
    numbers.sort_unstable();
    if numbers.iter().zip(1..).any(|(n, expected)| *n != expected) {
        problems.push(format!("access review numbers are not 1 to {}", numbers.len()));
    }
    if headers.values().filter(|h| h.signed_off.is_none()).count() > 1 {
        problems.push("more than one access review is unsigned".to_string());
    }
    for (review, entry) in &entries {
        match headers.get(review) {
            None => problems.push(format!("an entry belongs to no access review ({review})")),
            Some(h) if h.signed_off.is_some() && !entry.is_done() => problems.push(format!(
                "signed-off {} has user {} not decided or not applied",
                h.title(),
                entry.user.id
            )),
            Some(_) => {}
        }
    }
    for header in headers.values() {
        if let Some(sign_off) = &header.signed_off {
            let head = &sign_off.chain_head;
            let event = match head.seq {
                0 => None,
                seq => store.audit_event(seq)?,
            };
            let hash = event.map_or(GENESIS_HASH.to_string(), |e| e.hash());
            if hash != head.hash {
                problems.push(format!(
                    "{} names audit event {} with a hash the log does not have",
                    header.title(),
                    head.seq
                ));
            }
        }
    }
    Ok(())
}

fn check_users(store: &Store, users: &[User], problems: &mut Vec<String>) -> Result<()> {
    let mut by_key: HashMap<&str, UserId> = HashMap::new();
    for user in users {
        if let Some(other) = by_key.insert(user.email.key(), user.id) {
            problems.push(format!("users {other} and {} share the email {}", user.id, user.email));
        }
        if store.emails.get(user.email.key().as_bytes())?.as_deref() != Some(user.id.as_bytes()) {
            problems
                .push(format!("the email index does not point {} to user {}", user.email, user.id));
        }
        if user.roles.is_empty() {
            problems.push(format!("user {} has no role", user.id));
        }
        if (user.status == UserStatus::Invited) != user.password_hash.is_none() {
            problems.push(format!("user {} has a password that does not fit its status", user.id));
        }
    }
    let rebuilt = super::UserIndex::build(users.iter().cloned());
    let index = store.index();
    if !index.same_as(&rebuilt) {
        problems.push("the in-memory list of users differs from the store".to_string());
    }
    if !index.consistent() {
        problems.push(
            "the in-memory list's role bits, Owners or columns differ from its users".to_string(),
        );
    }
    drop(index);
    if store.emails.len() != users.len() {
        problems.push(format!(
            "the email index has {} entries for {} users",
            store.emails.len(),
            users.len()
        ));
    }
    let set_up = store.organization()?.is_some();
    let active_owner = users
        .iter()
        .any(|u| u.status == UserStatus::Active && u.roles.iter().any(|r| r == role::OWNER));
    if set_up && !active_owner {
        problems.push("there is no Active Owner".to_string());
    }
    Ok(())
}

fn check_codes(store: &Store, users: &[User], problems: &mut Vec<String>) -> Result<()> {
    let custom: Vec<String> = store.custom_roles()?.into_iter().map(|r| r.key).collect();
    for user in users {
        for key in &user.roles {
            if role::built_in_role(key).is_none() && !custom.contains(key) {
                problems.push(format!("user {} holds the missing role {key}", user.id));
            }
        }
        if user.status == UserStatus::Invited {
            let invitation = match user.invitation_id {
                Some(id) => store.invitation(id)?,
                None => None,
            };
            match invitation {
                Some(inv) if inv.user_id == user.id && inv.state == CodeState::Pending => {}
                _ => problems.push(format!("invited user {} has no pending invitation", user.id)),
            }
        }
    }
    for entry in store.codes.iter() {
        let (hash, _) = entry?;
        let hash = String::from_utf8_lossy(&hash).into_owned();
        let stored = match store.code(&hash)? {
            Some(CodeRef::Invitation(id)) => store.invitation(id)?.map(|i| i.code_hash),
            Some(CodeRef::Reset(id)) => store.reset(id)?.map(|r| r.code_hash),
            None => None,
        };
        if stored.as_deref() != Some(hash.as_str()) {
            problems.push(format!("the code index entry {hash} points at nothing that holds it"));
        }
    }
    Ok(())
}

fn check_audit_chain(store: &Store, problems: &mut Vec<String>) -> Result<u64> {
    let mut expected_seq = 1;
    let mut prev_hash = GENESIS_HASH.to_string();
    let mut indexed = 0;
    for event in store.audit_events(1) {
        let event = event?;
        if event.seq != expected_seq {
            problems.push(format!("audit event {} follows event {}", event.seq, expected_seq - 1));
        }
        if event.prev_hash != prev_hash {
            problems.push(format!(
                "audit event {} does not carry the hash of the one before",
                event.seq
            ));
        }
        prev_hash = event.hash();
        // A damaged number may be the last one there is: saturate rather than overflow.
        expected_seq = event.seq.saturating_add(1);
        if let Some(key) = super::tx::actor_key(&event) {
            indexed += 1;
            if !store.audit_actors.contains_key(key)? {
                problems.push(format!("audit event {} is missing from the actor index", event.seq));
            }
        }
    }
    if store.audit_actors.len() != indexed {
        problems.push(format!(
            "the audit actor index has {} entries for {indexed} events by users",
            store.audit_actors.len()
        ));
    }
    let count = expected_seq - 1;
    let head: Option<AuditHead> =
        store.meta.get(AUDIT_HEAD_KEY)?.map(|v| decode(&v)).transpose()?;
    let expected_head = (count > 0).then_some(AuditHead { seq: count, hash: prev_hash });
    if head != expected_head {
        problems.push("the audit log's last event is missing or altered".to_string());
    }
    Ok(count)
}
