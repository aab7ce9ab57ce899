//! Backup files, through the one public reader `backup::check(path)` (the format is being
//! replaced, so nothing here calls into its parts): any file ends in `BackupInfo` or a typed
//! refusal, and a file declaring huge sizes neither allocates them nor loops over them.
//!
//! Seeds are real backups written by a real store, and the corpus. Besides byte mutations,
//! two generators know the plain format of `backup.rs` version 1 (`GATEHOUSE BACKUP\n`, ...,
//! SHA-256 trailer): one seals a mutated file again so the mutation gets past the checksum,
//! the other encodes a hostile store image (see `store_records`) as such a file. A new format
//! makes their inputs plain refusals, which still have to be refusals.

use super::mutate::{any_bytes, apply, edits, mutated};
use super::store_records::{change, changes, real_store_image, Entry, Image};
use super::{bytes_target, fuzz, smaller_bytes, Target};
use crate::support::Org;
use gatehouse_core::backup;
use proptest::prelude::*;
use sha2::{Digest, Sha256};

const PLAIN_MAGIC: &[u8] = b"GATEHOUSE BACKUP\n";

#[test]
fn backup_files_never_panic_or_stall() {
    let work = tempfile::tempdir().expect("temp dir");
    let real = real_backups();
    let image = real_store_image();
    let n = std::cell::Cell::new(0u64);
    let target = Target { smaller, ..bytes_target("backup_file") };
    fuzz(
        &target,
        |corpus| strategy(real, image, corpus),
        |bytes| {
            n.set(n.get() + 1);
            let file = work.path().join(format!("{}.gatehouse-backup", n.get()));
            std::fs::write(&file, bytes)
                .map_err(|e| format!("the harness could not write: {e}"))?;
            let outcome = match backup::check(&file) {
                Ok(_) => Ok("good".into()),
                Err(e) => Ok(format!("{:?}", e.code())),
            };
            let _ = std::fs::remove_file(&file);
            outcome
        },
    );
}

/// Backups written by a real store: empty, and after most verbs.
fn real_backups() -> Vec<Vec<u8>> {
    let org = Org::new().with_owner();
    let file = org.tmp.path().join("seed.gatehouse-backup");
    org.dir.backup(org.owner(), &file).expect("a backup");
    let small = std::fs::read(&file).expect("read the backup");
    org.member("mia@example.com", &["reporting"]);
    org.invite("ivy@example.com", &["admin"]);
    org.dir.backup(org.owner(), &file).expect("a backup");
    vec![small, std::fs::read(&file).expect("read the backup")]
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
