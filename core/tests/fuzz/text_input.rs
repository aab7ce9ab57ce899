//! What a person types: an email address, a name, a custom role's key, name and description.
//! Each is parsed, and also handed to the verbs that take it (invite, create and delete a
//! role), which end in a result or a typed refusal; what they accept is accepted again as it
//! was stored (parsing is idempotent) and keeps to its stated bounds.
//!
//! An input is the five texts separated by the byte 0xFF (which no UTF-8 text holds); each is
//! read as UTF-8 with invalid sequences replaced, as a front end would send it.

use super::mutate::{any_bytes, apply, edits, mutated};
use super::{bytes_target, fuzz, Outcome};
use crate::support::Org;
use gatehouse_core::model::email::clean_name;
use gatehouse_core::model::{Action, Email, Module, Permission};
use gatehouse_core::{InviteOutcome, InviteRequest, Invitee, RoleInput};
use proptest::prelude::*;
use std::cell::{Cell, RefCell};

const SEPARATOR: u8 = 0xFF;

/// Inputs before the store is made afresh (invitations and roles accumulate).
const INPUTS_PER_STORE: u32 = 300;

#[test]
fn typed_addresses_names_and_role_keys_never_panic_or_stall() {
    let org = RefCell::new(Org::new().with_owner());
    let runs = Cell::new(0u32);
    fuzz(&bytes_target("text_input"), strategy, |bytes| {
        runs.set(runs.get() + 1);
        if runs.get() % INPUTS_PER_STORE == 0 {
            org.replace(Org::new().with_owner());
        }
        let parts: Vec<String> = bytes
            .split(|b| *b == SEPARATOR)
            .map(|p| String::from_utf8_lossy(p).into_owned())
            .collect();
        let part = |i: usize| parts.get(i).cloned().unwrap_or_default();
        let mut label = Vec::new();
        label.push(email(&part(0))?);
        label.push(name(&part(1))?);
        let org = org.borrow();
        label.push(invite(&org, &part(0), &part(1))?);
        label.push(role(&org, &part(2), &part(3), &part(4), bytes)?);
        if runs.get() % 50 == 0 {
            let integrity = org.dir.verify().map_err(|e| e.to_string())?;
            if !integrity.is_intact() {
                return Err(format!("the store no longer verifies: {:?}", integrity.problems));
            }
        }
        Ok(label.join(" "))
    });
}

/// An address accepted once is accepted again as displayed, with the same key.
fn email(text: &str) -> Outcome {
    let Ok(parsed) = Email::parse(text) else { return Ok("bad-email".into()) };
    match Email::parse(parsed.as_str()) {
        Ok(again) if again == parsed => Ok("email".into()),
        other => Err(format!("{text:?} parsed as {parsed:?}, which parses as {other:?}")),
    }
}

/// A name accepted is 1 to 100 characters without control characters, and stays as it is.
fn name(text: &str) -> Outcome {
    let Ok(clean) = clean_name(text, "The name") else { return Ok("bad-name".into()) };
    let len = clean.chars().count();
    if !(1..=100).contains(&len) || clean.chars().any(char::is_control) {
        return Err(format!("{text:?} was accepted as {clean:?} ({len} characters)"));
    }
    match clean_name(&clean, "The name") {
        Ok(again) if again == clean => Ok("name".into()),
        other => Err(format!("{text:?} was cleaned to {clean:?}, which cleans to {other:?}")),
    }
}

fn invite(org: &Org, email: &str, name: &str) -> Outcome {
    let request = InviteRequest {
        invitees: vec![Invitee { email: email.into(), name: Some(name.into()) }],
        roles: vec!["reporting".into()],
        ..Default::default()
    };
    match org.dir.invite_users(org.owner(), request) {
        Ok(mut outcomes) => match outcomes.pop() {
            Some(InviteOutcome::Invited { .. }) => Ok("invited".into()),
            Some(InviteOutcome::Refused { error, .. }) => Ok(format!("{:?}", error.code)),
            None => Err("an invitation of one person had no outcome".into()),
        },
        Err(e) => Ok(format!("{:?}", e.code())),
    }
}

/// A role made from typed text has a key of lower-case letters, digits and `_` (at most 40),
/// and can be deleted again by that key; deleting by the typed key ends in a result too.
fn role(org: &Org, key: &str, name: &str, description: &str, bytes: &[u8]) -> Outcome {
    let permissions = Module::ALL
        .iter()
        .zip(bytes.iter().chain(std::iter::repeat(&0)))
        .filter(|(_, b)| *b & 1 == 1)
        .map(|(module, _)| Permission { module: *module, action: Action::Read })
        .collect();
    let input = RoleInput {
        key: (!key.is_empty()).then(|| key.to_string()),
        name: name.into(),
        description: description.into(),
        permissions,
    };
    let _ = org.dir.delete_role(org.owner(), key);
    match org.dir.create_role(org.owner(), input) {
        Ok(role) => {
            let ok = (1..=40).contains(&role.key.len())
                && role
                    .key
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
            if !ok {
                return Err(format!("a role was made with the key {:?}", role.key));
            }
            org.dir
                .delete_role(org.owner(), &role.key)
                .map_err(|e| format!("the new role {:?} cannot be deleted: {e}", role.key))?;
            Ok("role".into())
        }
        Err(e) => Ok(format!("role-{:?}", e.code())),
    }
}

fn strategy(corpus: Vec<Vec<u8>>) -> BoxedStrategy<Vec<u8>> {
    let email = prop_oneof!["[a-z]{1,8}(\\.[a-z]{1,5})?@[a-z]{1,8}\\.(com|org)", text()];
    let name = prop_oneof!["[A-Z][a-z]{0,10}( [A-Z][a-z]{0,10}){0,2}", text()];
    let key = prop_oneof![Just(String::new()), "[a-z0-9_]{1,45}", text()];
    let typed = (email, name.clone(), key, name, text())
        .prop_map(|(a, b, c, d, e)| [a, b, c, d, e].map(String::into_bytes).join(&SEPARATOR))
        .boxed();
    prop_oneof![
        2 => any_bytes(),
        5 => typed.clone(),
        2 => (typed, edits()).prop_map(|(t, e)| apply(t, &e)),
        2 => mutated(corpus),
    ]
    .boxed()
}

/// Pieces of text that have tripped parsers: marks that combine or change case into two
/// characters, spaces that are not ASCII, direction overrides, code points at the ends.
const PIECES: &[&str] = &[
    "ann@example.com",
    "Ann.Lee@Example.COM",
    "\"a b\"@example.com",
    "ü@bücher.de",
    "a@[127.0.0.1]",
    "a@b.c",
    "a@-b.com",
    "a..b@example.com",
    ".a@example.com",
    "a@example.com.",
    "Ann <a@b.co>",
    "@",
    "@@",
    "\u{301}",
    "e\u{301}",
    "\u{130}",
    "\u{1e9e}",
    "\u{fb03}",
    "\u{a0}",
    "\u{3000}",
    "\u{2028}",
    "\u{85}",
    "\u{202e}",
    "\u{200d}",
    "\u{feff}",
    "\u{fffd}",
    "\u{10ffff}",
    "\0",
    "\t",
    "\n",
    " ",
    "_",
    "owner",
    "admin",
    "support_lead",
    "Support Lead (EU)",
    "★",
];

fn text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        6 => prop::sample::select(PIECES).prop_map(str::to_string),
        3 => "[a-zA-Z0-9.!#$%&'*+/=?^_`{|}~-]{1,12}@[a-z0-9-]{1,10}(\\.[a-z]{2,4}){0,2}",
        3 => ".{0,12}",
        1 => (prop::sample::select(PIECES), 1..3000usize).prop_map(|(p, n)| p.repeat(n)),
    ];
    prop::collection::vec(piece, 0..5).prop_map(|p| p.concat())
}
