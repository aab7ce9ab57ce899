//! Byte-level mutations, as coverage-guided fuzzers make them: bit flips, bytes set, runs
//! inserted, deleted, repeated (a large file from a small one) or copied within the input, and
//! integers of 1 to 8 bytes overwritten with values at the edges of their width (a count of
//! 2^32 entries, a length of -1). Each is a value proptest can shrink.

use proptest::prelude::*;
use proptest::sample::Index;

/// Inputs grown by repeats stay below this.
pub const MAX_LEN: usize = 4 << 20;

#[derive(Debug, Clone)]
pub enum Edit {
    Flip(Index, u8),
    Set(Index, u8),
    Insert(Index, Vec<u8>),
    Delete(Index, usize),
    /// The run of `len` bytes at the index, `times` more times.
    Repeat(Index, usize, usize),
    /// `width` bytes (1, 2, 4 or 8) at the index overwritten with an edge value, big-endian or
    /// little-endian.
    Integer(Index, usize, u64, bool),
    Truncate(Index),
    /// A run copied from one place to another.
    Copy(Index, Index, usize),
}

/// Values at the edges of integer widths.
pub const EDGES: [u64; 14] = [
    0,
    1,
    0x7F,
    0x80,
    0xFF,
    0x7FFF,
    0xFFFF,
    0x7FFF_FFFF,
    0x8000_0000,
    0xFFFF_FFFF,
    0x1_0000_0000,
    i64::MAX as u64,
    i64::MIN as u64,
    u64::MAX,
];

pub fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        4 => (any::<Index>(), 0..8u8).prop_map(|(i, bit)| Edit::Flip(i, 1 << bit)),
        2 => (any::<Index>(), any::<u8>()).prop_map(|(i, b)| Edit::Set(i, b)),
        2 => (any::<Index>(), prop::collection::vec(any::<u8>(), 1..16))
            .prop_map(|(i, b)| Edit::Insert(i, b)),
        2 => (any::<Index>(), 1..64usize).prop_map(|(i, n)| Edit::Delete(i, n)),
        1 => (any::<Index>(), 1..64usize, prop_oneof![1..16usize, 1000..60_000usize])
            .prop_map(|(i, len, times)| Edit::Repeat(i, len, times)),
        3 => (any::<Index>(), prop::sample::select(vec![1usize, 2, 4, 8]),
              prop::sample::select(EDGES.to_vec()), any::<bool>())
            .prop_map(|(i, w, v, be)| Edit::Integer(i, w, v, be)),
        1 => any::<Index>().prop_map(Edit::Truncate),
        1 => (any::<Index>(), any::<Index>(), 1..64usize).prop_map(|(a, b, n)| Edit::Copy(a, b, n)),
    ]
}

pub fn edits() -> impl Strategy<Value = Vec<Edit>> {
    prop::collection::vec(edit(), 1..6)
}

/// Applies `edits` in order; an edit of an empty input inserts at its start.
pub fn apply(mut bytes: Vec<u8>, edits: &[Edit]) -> Vec<u8> {
    for edit in edits {
        let at = |i: &Index, len: usize| if len == 0 { 0 } else { i.index(len) };
        let len = bytes.len();
        match edit {
            Edit::Flip(i, mask) if len > 0 => bytes[at(i, len)] ^= mask,
            Edit::Set(i, b) if len > 0 => bytes[at(i, len)] = *b,
            Edit::Insert(i, run) => {
                let p = at(i, len + 1);
                bytes.splice(p..p, run.iter().copied());
            }
            Edit::Delete(i, n) if len > 0 => {
                let p = at(i, len);
                bytes.drain(p..(p + n).min(len));
            }
            Edit::Repeat(i, n, times) if len > 0 => {
                let p = at(i, len);
                let run = bytes[p..(p + n).min(len)].to_vec();
                let times = (*times).min(MAX_LEN.saturating_sub(len) / run.len().max(1));
                let copies: Vec<u8> = run.iter().copied().cycle().take(run.len() * times).collect();
                bytes.splice(p..p, copies);
            }
            Edit::Integer(i, width, value, big_endian) if len >= *width => {
                let p = at(i, len - width + 1);
                let all = if *big_endian { value.to_be_bytes() } else { value.to_le_bytes() };
                let part = if *big_endian { &all[8 - width..] } else { &all[..*width] };
                bytes[p..p + width].copy_from_slice(part);
            }
            Edit::Truncate(i) => bytes.truncate(at(i, len + 1)),
            Edit::Copy(from, to, n) if len > 0 => {
                let p = at(from, len);
                let run = bytes[p..(p + n).min(len)].to_vec();
                let q = at(to, len + 1);
                bytes.splice(q..q, run);
            }
            _ => {}
        }
    }
    bytes
}

/// Arbitrary bytes, mostly short.
pub fn any_bytes() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        3 => prop::collection::vec(any::<u8>(), 0..64),
        1 => prop::collection::vec(any::<u8>(), 0..4096),
    ]
}

/// One of `seeds` (when there are any), mutated.
pub fn mutated(seeds: Vec<Vec<u8>>) -> BoxedStrategy<Vec<u8>> {
    if seeds.is_empty() {
        return any_bytes().boxed();
    }
    (prop::sample::select(seeds), edits()).prop_map(|(seed, e)| apply(seed, &e)).boxed()
}
