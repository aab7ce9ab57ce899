//! Backup files, through the one public reader `backup::check(path, opening)`: any file ends
//! in `BackupInfo` or a typed refusal, and a file declaring huge sizes neither allocates them
//! nor loops over them.
//!
//! Seeds are real backups written by a real store (age files locked with the store's key,
//! which the opening holds, so mutations reach the decrypting reader and its refusals), plain
//! format-1 images of a real store (read because the opening accepts unencrypted backups, so
//! the plain decoder and `verify()` behind it are reached), and the corpus. Besides byte
//! mutations, two generators know the plain format (`GATEHOUSE BACKUP\n`, ..., SHA-256
//! trailer): one seals a mutated file again so the mutation gets past the checksum, the other
//! encodes a hostile store image (see `store_records`) as such a file.

use super::mutate::{any_bytes, apply, edits, mutated};
use super::store_records::{change, changes, real_store_image, Entry, Image};
use super::{bytes_target, fuzz, smaller_bytes, Target};
use crate::support::setup_input;
use gatehouse_core::backup::{self, Opening};
use gatehouse_core::secrets::{Keys, Vault};
use gatehouse_core::{Directory, SystemClock};
use proptest::prelude::*;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

const PLAIN_MAGIC: &[u8] = b"GATEHOUSE BACKUP\n";

#[test]
fn backup_files_never_panic_or_stall() {
    let work = tempfile::tempdir().expect("temp dir");
    let keys = Arc::new(Keys::new(Box::new(MemoryVault::default())));
    let (mut real, id) = real_backups(&keys);
    let image = real_store_image();
    real.push(plain_backup(&image, 2));
    let opening = Opening { accept_unencrypted: true, ..Opening::new(work.path(), &keys) };
    // The seeds themselves are good backups: mutations start from files the reader accepts.
    for (i, bytes) in real.iter().enumerate() {
        let file = work.path().join(format!("gatehouse-seed{i}-{}.gatehouse-backup", id.simple()));
        std::fs::write(&file, bytes).expect("write a seed");
        let checked = backup::check(&file, &opening);
        assert!(checked.is_ok(), "seed {i}: {checked:?}");
        std::fs::remove_file(&file).expect("remove a seed");
    }
    let n = std::cell::Cell::new(0u64);
    let target = Target { smaller, ..bytes_target("backup_file") };
    fuzz(
        &target,
        |corpus| strategy(real, image, corpus),
        |bytes| {
            n.set(n.get() + 1);
            // Named as automatic backups are, so that the store's key is found for it.
            let file =
                work.path().join(format!("gatehouse-{}-{}.gatehouse-backup", n.get(), id.simple()));
            std::fs::write(&file, bytes)
                .map_err(|e| format!("the harness could not write: {e}"))?;
            let outcome = match backup::check(&file, &opening) {
                Ok(_) => Ok("good".into()),
                Err(e) => Ok(format!("{:?}", e.code())),
            };
            let _ = std::fs::remove_file(&file);
            outcome
        },
    );
}

/// A credential store in memory that keeps what it is given, as the OS's would.
#[derive(Default)]
struct MemoryVault(Mutex<HashMap<String, String>>);

impl Vault for MemoryVault {
    fn get(&self, name: &str) -> Result<Option<String>, String> {
        Ok(self.0.lock().map_err(|e| e.to_string())?.get(name).cloned())
    }
    fn set(&self, name: &str, secret: &str) -> Result<(), String> {
        self.0.lock().map_err(|e| e.to_string())?.insert(name.into(), secret.into());
        Ok(())
    }
}

/// Automatic backups written by a real store with its key in `keys`: just set up, and after
/// invitations; and the store's id.
fn real_backups(keys: &Arc<Keys>) -> (Vec<Vec<u8>>, uuid::Uuid) {
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = Directory::open(&tmp.path().join("store"), Arc::new(SystemClock))
        .expect("open a store")
        .with_keys(keys.clone());
    let owner = dir.setup(setup_input()).expect("setup").session;
    let folder = tmp.path().join("backups");
    let first = dir.backup_automatic(&folder).expect("a backup");
    let request = gatehouse_core::InviteRequest {
        invitees: vec![gatehouse_core::Invitee { email: "ivy@example.com".into(), name: None }],
        roles: vec!["admin".into()],
        ..Default::default()
    };
    dir.invite_users(owner, request).expect("invite");
    std::thread::sleep(std::time::Duration::from_millis(1100)); // a second, newer name
    let second = dir.backup_automatic(&folder).expect("a backup");
    assert!(second.users > first.users);
    let files: Vec<Vec<u8>> = std::fs::read_dir(&folder)
        .expect("the backups")
        .flatten()
        .map(|e| std::fs::read(e.path()).expect("read a backup"))
        .collect();
    (files, dir.store_id().expect("the store's id"))
}

fn strategy(real: Vec<Vec<u8>>, image: Image, corpus: Vec<Vec<u8>>) -> BoxedStrategy<Vec<u8>> {
    let mut seeds = corpus;
    seeds.extend(real.iter().cloned());
    prop_oneof![
        1 => any_bytes(),
        3 => mutated(real),
        2 => mutated(seeds.clone()).prop_map(sealed),
        3 => (Just(image), changes(), any::<u8>()).prop_map(|(image, c, header)| {
            plain_backup(&change(image, &c), header)
        }),
        1 => (mutated(seeds), edits()).prop_map(|(b, e)| sealed(apply(b, &e))),
    ]
    .boxed()
}

/// A file in the plain format with its trailing SHA-256 made right again.
fn sealed(mut bytes: Vec<u8>) -> Vec<u8> {
    if bytes.starts_with(PLAIN_MAGIC) && bytes.len() >= PLAIN_MAGIC.len() + 32 {
        bytes.truncate(bytes.len() - 32);
        let sum = Sha256::digest(&bytes);
        bytes.extend_from_slice(&sum);
    }
    bytes
}

/// Smaller files: a plain-format file with an entry left out or a value emptied, else with
/// bytes cut out; sealed again either way.
#[allow(clippy::ptr_arg)] // a `Smaller<Vec<u8>>`
fn smaller(bytes: &Vec<u8>) -> Box<dyn Iterator<Item = Vec<u8>> + '_> {
    match read_plain(bytes) {
        Some((header, image)) => {
            let without = (0..image.len()).map(move |i| (i, false));
            let emptied = (0..image.len()).map(move |i| (i, true));
            Box::new(without.chain(emptied).map(move |(i, empty)| {
                let mut cut = image.clone();
                if empty {
                    cut[i].value.clear();
                } else {
                    cut.remove(i);
                }
                encode_plain(&header, &cut)
            }))
        }
        None => Box::new(smaller_bytes(bytes).map(sealed)),
    }
}

/// The header (format version, schema version, creation time) and entries of a well-formed
/// plain-format file.
fn read_plain(bytes: &[u8]) -> Option<([u8; 16], Image)> {
    let body =
        bytes.strip_prefix(PLAIN_MAGIC)?.get(..bytes.len().checked_sub(PLAIN_MAGIC.len() + 32)?)?;
    let mut at = 0usize;
    let mut take = |n: usize| {
        let piece = body.get(at..at.checked_add(n)?)?;
        at += n;
        Some(piece)
    };
    let header: [u8; 16] = take(16)?.try_into().ok()?;
    let mut image = Vec::new();
    while let Some(len) = take(2) {
        let len = u16::from_be_bytes(len.try_into().ok()?) as usize;
        let tree = String::from_utf8(take(len)?.to_vec()).ok()?;
        let count = u64::from_be_bytes(take(8)?.try_into().ok()?);
        for _ in 0..count {
            let len = u32::from_be_bytes(take(4)?.try_into().ok()?) as usize;
            let key = take(len)?.to_vec();
            let len = u32::from_be_bytes(take(4)?.try_into().ok()?) as usize;
            let value = take(len)?.to_vec();
            image.push(Entry { tree: tree.clone(), key, value });
        }
    }
    Some((header, image))
}

/// `image` in the plain format; `header` varies the format version and creation time now and
/// then.
fn plain_backup(image: &Image, header: u8) -> Vec<u8> {
    let version: u32 = if header % 16 == 0 { u32::from(header) } else { 1 };
    let created: i64 = if header % 16 == 1 { i64::MAX } else { 1_767_225_600 };
    let mut fields = [0u8; 16];
    fields[..4].copy_from_slice(&version.to_be_bytes());
    fields[4..8].copy_from_slice(&2u32.to_be_bytes());
    fields[8..].copy_from_slice(&created.to_be_bytes());
    encode_plain(&fields, image)
}

/// The plain format: magic, `header`, the trees in the order first met, the SHA-256.
fn encode_plain(header: &[u8; 16], image: &Image) -> Vec<u8> {
    let mut out = [PLAIN_MAGIC, header].concat();
    let mut trees: Vec<&str> = Vec::new();
    for entry in image {
        if !trees.contains(&entry.tree.as_str()) {
            trees.push(&entry.tree);
        }
    }
    for tree in trees {
        let entries: Vec<_> = image.iter().filter(|e| e.tree == tree).collect();
        out.extend_from_slice(&(tree.len() as u16).to_be_bytes());
        out.extend_from_slice(tree.as_bytes());
        out.extend_from_slice(&(entries.len() as u64).to_be_bytes());
        for e in entries {
            out.extend_from_slice(&(e.key.len() as u32).to_be_bytes());
            out.extend_from_slice(&e.key);
            out.extend_from_slice(&(e.value.len() as u32).to_be_bytes());
            out.extend_from_slice(&e.value);
        }
    }
    let sum = Sha256::digest(&out);
    out.extend_from_slice(&sum);
    out
}
