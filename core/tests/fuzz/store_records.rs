//! A store folder as a restore or a copy from elsewhere meets it: any bytes under the `meta`
//! keys (`schema_version`, `organization`, `audit_head`, `store_id`) and any records in the
//! other trees. `Store::open` and then `verify()` end in `Ok` or a typed `Err`, never a panic.
//!
//! An input is a list of entries (tree, key, value), written into a fresh sled database before
//! the store opens it. Most inputs are a real store's records, edited: a meta value replaced,
//! a JSON field of a record set to an edge value, a record copied under another key, bytes
//! mutated. Corpus files hold the entries as JSON: `[tree, key, value]`, each key and value a
//! string when it is UTF-8 and `{"hex": ".."}` otherwise.

use super::mutate::{any_bytes, apply, Edit, EDGES};
use super::{fuzz, Outcome, Target};
use crate::support::Org;
use gatehouse_core::store::Store;
use gatehouse_core::{Directory, SystemClock};
use proptest::prelude::*;
use proptest::sample::Index;
use serde_json::{json, Value};
use std::path::Path;
use std::sync::Arc;

#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub tree: String,
    pub key: Vec<u8>,
    pub value: Vec<u8>,
}

pub type Image = Vec<Entry>;

pub const TREES: [&str; 12] = [
    "meta",
    "users",
    "emails",
    "audit",
    "roles",
    "invitations",
    "resets",
    "codes",
    "throttle",
    "outbox",
    "audit_actors",
    "reviews",
];
pub const META_KEYS: [&str; 4] = ["schema_version", "organization", "audit_head", "store_id"];

#[test]
fn store_records_never_panic_on_open_or_verify() {
    let base = real_store_image();
    let work = tempfile::tempdir().expect("temp dir");
    let n = std::cell::Cell::new(0u64);
    let target = Target { name: "store_records", load, save, smaller };
    fuzz(
        &target,
        |corpus| strategy(base, corpus),
        |image| {
            n.set(n.get() + 1);
            let dir = work.path().join(n.get().to_string());
            let outcome = open_and_verify(image, &dir);
            let _ = std::fs::remove_dir_all(&dir);
            outcome
        },
    );
}

/// Writes `image` into a new sled database at `dir`, then opens it as a store and verifies.
pub fn open_and_verify(image: &Image, dir: &Path) -> Outcome {
    write_image(image, dir).map_err(|e| format!("the harness could not write the store: {e}"))?;
    let store = match Store::open_settled(dir) {
        Ok(store) => store,
        Err(e) => return Ok(format!("open-{:?}", e.code())),
    };
    // The readers the app calls first, then the full check.
    let _ = (store.schema_version(), store.id(), store.organization(), store.audit_head_seq());
    let _ = (store.users(), store.custom_roles(), store.messages().count());
    let _ = store.audit_events_rev(u64::MAX).take(50).count();
    let verified = match store.verify() {
        Ok(integrity) if integrity.is_intact() => "intact".to_string(),
        Ok(_) => "problems".to_string(),
        Err(e) => format!("verify-{:?}", e.code()),
    };
    drop(store);
    // The first thing a person does with it: a sign-in (a wrong password, so the stored hash
    // is verified, the lockout count read and written, and an audit event appended).
    let dir = match Directory::open_settled(dir, Arc::new(SystemClock)) {
        Ok(dir) => dir,
        Err(e) => return Err(format!("the store opened once but not twice: {e}")),
    };
    let signed = match dir.sign_in("mia@example.com", "not the password") {
        Ok(_) => "signed-in".to_string(),
        Err(e) => format!("sign-in-{:?}", e.code()),
    };
    Ok(format!("{verified} {signed}"))
}

pub fn write_image(image: &Image, dir: &Path) -> sled::Result<()> {
    let db = sled::Config::new().path(dir).open()?;
    for entry in image {
        db.open_tree(&entry.tree)?.insert(entry.key.as_slice(), entry.value.as_slice())?;
    }
    db.flush()?;
    Ok(())
}

/// Every record of a store that has seen most verbs: an Owner, an Active member, an invited
/// user, a deactivated one, a custom role, a reset code, failed sign-ins, an audit log, an
/// access review and an end date.
pub fn real_store_image() -> Image {
    let org = Org::new().with_owner();
    let role = gatehouse_core::RoleInput {
        key: Some("support".into()),
        name: "Support".into(),
        description: "Answers customers.".into(),
        permissions: vec![],
    };
    org.dir.create_role(org.owner(), role).expect("a role");
    let member = org.member("mia@example.com", &["support"]);
    org.invite("ivy@example.com", &["reporting"]);
    let gone = org.member("gus@example.com", &["reporting"]);
    org.dir.deactivate_user(org.owner(), gone.id, None).expect("deactivate");
    org.dir.issue_password_reset(org.owner(), member.id).expect("a reset code");
    let _ = org.dir.sign_in("mia@example.com", "not the password");
    // An access review with a decision, and one user with an end date.
    let review = org.dir.start_review(org.owner()).expect("a review");
    let decision = gatehouse_core::model::DecisionInput {
        user: member.id,
        decision: gatehouse_core::model::Decision::Keep,
        note: Some("still answers customers".into()),
    };
    org.dir.decide_review(org.owner(), review.header.id, decision).expect("a decision");
    let until = org.clock_now().date_naive() + chrono::Duration::days(30);
    org.dir.set_access_until(org.owner(), member.id, Some(until)).expect("an end date");
    let Org { dir, tmp, .. } = org;
    drop(dir);
    read_image(tmp.path())
}

/// The entries of the sled database at `dir` (retried while sled lets go of its lock).
pub fn read_image(dir: &Path) -> Image {
    let mut tries = 0;
    let db = loop {
        match sled::Config::new().path(dir).open() {
            Ok(db) => break db,
            Err(_) if tries < 40 => {
                tries += 1;
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            Err(e) => panic!("cannot read the store back: {e}"),
        }
    };
    let mut image = Vec::new();
    for name in db.tree_names() {
        let tree = String::from_utf8_lossy(&name).into_owned();
        if tree == "__sled__default" {
            continue;
        }
        for entry in db.open_tree(&name).expect("a tree").iter() {
            let (key, value) = entry.expect("an entry");
            image.push(Entry { tree: tree.clone(), key: key.to_vec(), value: value.to_vec() });
        }
    }
    image
}

fn load(bytes: &[u8]) -> Image {
    let entries: Vec<(String, Value, Value)> =
        serde_json::from_slice(bytes).expect("a store_records corpus file is a JSON list");
    let raw = |v: &Value| match v {
        Value::String(s) => s.clone().into_bytes(),
        other => {
            let hex = other["hex"].as_str().expect("a string or {\"hex\": ..}");
            (0..hex.len() / 2)
                .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).expect("hex"))
                .collect()
        }
    };
    entries
        .iter()
        .map(|(tree, key, value)| Entry { tree: tree.clone(), key: raw(key), value: raw(value) })
        .collect()
}

fn save(image: &Image) -> Vec<u8> {
    let text = |b: &[u8]| match std::str::from_utf8(b) {
        Ok(s) => json!(s),
        Err(_) => json!({ "hex": b.iter().map(|b| format!("{b:02x}")).collect::<String>() }),
    };
    let entries: Vec<Value> =
        image.iter().map(|e| json!([e.tree, text(&e.key), text(&e.value)])).collect();
    let mut out = b"[\n".to_vec();
    for (i, entry) in entries.iter().enumerate() {
        out.extend_from_slice(entry.to_string().as_bytes());
        out.extend_from_slice(if i + 1 < entries.len() { b",\n" } else { b"\n" });
    }
    out.extend_from_slice(b"]\n");
    out
}

/// The image without one entry, then with one value emptied.
fn smaller(image: &Image) -> Box<dyn Iterator<Item = Image> + '_> {
    let without = (0..image.len()).map(|i| {
        let mut cut = image.clone();
        cut.remove(i);
        cut
    });
    let emptied = (0..image.len()).filter(|i| !image[*i].value.is_empty()).map(|i| {
        let mut cut = image.clone();
        cut[i].value.clear();
        cut
    });
    Box::new(without.chain(emptied))
}

/// A change to an image: the unit proptest shrinks.
#[derive(Debug, Clone)]
pub enum Change {
    SetMeta(usize, Vec<u8>),
    Replace(Index, Vec<u8>),
    Remove(Index),
    Bytes(Index, Vec<Edit>),
    /// The value's n-th JSON node replaced.
    Json(Index, Index, Value),
    Insert(usize, Vec<u8>, Vec<u8>),
    /// The value copied under another key of its tree.
    Rekey(Index, Vec<u8>),
}

pub fn strategy(base: Image, corpus: Vec<Image>) -> BoxedStrategy<Image> {
    let mut seeds = corpus;
    seeds.push(base.clone());
    prop_oneof![
        1 => prop::collection::vec((0..TREES.len(), key(), value()), 0..8).prop_map(|entries| {
            entries
                .into_iter()
                .map(|(t, key, value)| Entry { tree: TREES[t].to_string(), key, value })
                .collect()
        }),
        4 => (Just(base), changes()).prop_map(|(image, c)| change(image, &c)),
        2 => (prop::sample::select(seeds), changes()).prop_map(|(image, c)| change(image, &c)),
    ]
    .boxed()
}

pub fn changes() -> impl Strategy<Value = Vec<Change>> {
    let one = prop_oneof![
        3 => (0..META_KEYS.len(), value()).prop_map(|(k, v)| Change::SetMeta(k, v)),
        2 => (any::<Index>(), value()).prop_map(|(i, v)| Change::Replace(i, v)),
        1 => any::<Index>().prop_map(Change::Remove),
        2 => (any::<Index>(), super::mutate::edits()).prop_map(|(i, e)| Change::Bytes(i, e)),
        4 => (any::<Index>(), any::<Index>(), json_value()).prop_map(|(i, n, v)| Change::Json(i, n, v)),
        1 => (0..TREES.len(), key(), value()).prop_map(|(t, k, v)| Change::Insert(t, k, v)),
        1 => (any::<Index>(), key()).prop_map(|(i, k)| Change::Rekey(i, k)),
    ];
    prop::collection::vec(one, 1..5)
}

pub fn change(mut image: Image, changes: &[Change]) -> Image {
    for c in changes {
        let len = image.len();
        let at = |i: &Index| i.index(len.max(1));
        match c {
            Change::SetMeta(k, v) => {
                image.retain(|e| !(e.tree == "meta" && e.key == META_KEYS[*k].as_bytes()));
                image.push(Entry {
                    tree: "meta".into(),
                    key: META_KEYS[*k].into(),
                    value: v.clone(),
                });
            }
            Change::Replace(i, v) if len > 0 => image[at(i)].value = v.clone(),
            Change::Remove(i) if len > 0 => {
                image.remove(at(i));
            }
            Change::Bytes(i, edits) if len > 0 => {
                let e = &mut image[at(i)];
                e.value = apply(std::mem::take(&mut e.value), edits);
            }
            Change::Json(i, n, v) if len > 0 => {
                let e = &mut image[at(i)];
                if let Ok(mut doc) = serde_json::from_slice::<Value>(&e.value) {
                    let count = nodes(&mut doc);
                    let _ = set_node(&mut doc, n.index(count), v.clone());
                    e.value = doc.to_string().into_bytes();
                }
            }
            Change::Insert(t, k, v) => {
                image.push(Entry { tree: TREES[*t].into(), key: k.clone(), value: v.clone() })
            }
            Change::Rekey(i, k) if len > 0 => {
                let e = Entry { key: k.clone(), ..image[at(i)].clone() };
                image.push(e);
            }
            _ => {}
        }
    }
    image
}

fn nodes(doc: &mut Value) -> usize {
    1 + match doc {
        Value::Array(items) => items.iter_mut().map(nodes).sum(),
        Value::Object(fields) => fields.values_mut().map(nodes).sum(),
        _ => 0,
    }
}

/// Replaces the node at position `n` (depth first, the root is 0); returns how many nodes it
/// passed when `n` is not within `doc`.
fn set_node(doc: &mut Value, n: usize, value: Value) -> Result<(), usize> {
    if n == 0 {
        *doc = value;
        return Ok(());
    }
    let mut left = n - 1;
    let children: Vec<&mut Value> = match doc {
        Value::Array(items) => items.iter_mut().collect(),
        Value::Object(fields) => fields.values_mut().collect(),
        _ => return Err(1),
    };
    for child in children {
        match set_node(child, left, value.clone()) {
            Ok(()) => return Ok(()),
            Err(passed) => left -= passed,
        }
    }
    Err(n - left)
}

/// Keys as the trees use them: UUIDs, big-endian sequence numbers, actor keys, text.
fn key() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        2 => any::<[u8; 16]>().prop_map(|k| k.to_vec()),
        2 => prop::sample::select(EDGES.to_vec()).prop_map(|n| n.to_be_bytes().to_vec()),
        1 => (any::<[u8; 16]>(), prop::sample::select(EDGES.to_vec()))
            .prop_map(|(id, n)| [id.as_slice(), &n.to_be_bytes()].concat()),
        2 => prop::sample::select(META_KEYS.to_vec()).prop_map(|k| k.as_bytes().to_vec()),
        1 => any_bytes(),
    ]
}

/// Values: raw bytes of every short length (the meta keys hold 4-byte versions and 16-byte
/// ids), integers at their edges, and JSON.
fn value() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        3 => prop::collection::vec(any::<u8>(), 0..20),
        2 => (prop::sample::select(EDGES.to_vec()), prop::sample::select(vec![1usize, 2, 3, 4, 8]))
            .prop_map(|(n, w)| n.to_be_bytes()[8 - w..].to_vec()),
        3 => json_value().prop_map(|v| v.to_string().into_bytes()),
        1 => any_bytes(),
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        prop::sample::select(EDGES.to_vec()).prop_map(Value::from),
        Just(json!(-1)),
        Just(json!(i64::MIN)),
        Just(json!(1e308)),
        Just(json!(0.5)),
        prop::sample::select(vec![
            "",
            "owner",
            "active",
            "invited",
            "inactive",
            "pending",
            "not-a-uuid",
            "00000000-0000-0000-0000-000000000000",
            "+262143-12-31T23:59:59Z",
            "-262143-01-01T00:00:00Z",
            "1970-01-01T00:00:00Z",
            "ann@example.com",
            "ANN@EXAMPLE.COM",
            "0000000000000000000000000000000000000000000000000000000000000000",
            "$argon2id$v=19$m=4294967295,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaA",
            "$argon2id$v=19$m=19456,t=4294967295,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaA",
            "$argon2id$v=19$m=19456,t=2,p=16777215$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaA",
        ])
        .prop_map(Value::from),
        ".{0,16}".prop_map(Value::from),
    ];
    leaf.prop_recursive(2, 8, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            prop::collection::btree_map("[a-z_]{1,12}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}
