//! The allocator of the app (and of `make bench`, so that its figures are the app's): mimalloc,
//! set to give freed memory back to the system at once. The C allocator, and mimalloc as it
//! comes, keep what a burst of work used: the list index being built, the automatic backup at
//! start reading every tree, a sign-in's 19 MiB of argon2 memory. BENCHMARKS.md has the figures.
//!
//! A binary declares the allocator and calls [`give_memory_back`] first thing in `main`:
//!
//! ```ignore
//! #[global_allocator]
//! static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
//! ```

pub use mimalloc::MiMalloc;

/// mimalloc's purge delay option (mimalloc.h, `mi_option_e`), pinned with the crate's version:
/// the Rust crate leaves it out.
const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Pages left free are returned to the system at once (decommitted: out of the resident set),
/// rather than a second later and only when the allocator is next called, which an idle app may
/// not do for a long time. (The crate is built with mimalloc's `no_thp`: transparent huge pages
/// made a freed 64 KiB page keep its whole 2 MiB resident.) Call it once, first thing in
/// `main`.
#[allow(unsafe_code)]
pub fn give_memory_back() {
    // SAFETY: mi_option_set stores an option's value; it is not thread safe, so it runs before
    // the program starts a thread. The option exists in the mimalloc this crate links (its
    // version is pinned in Cargo.lock, and the test below reads it back).
    unsafe {
        libmimalloc_sys::mi_option_set(PURGE_DELAY, 0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[global_allocator]
    static ALLOCATOR: MiMalloc = MiMalloc;

    #[allow(unsafe_code)]
    fn get(option: libmimalloc_sys::mi_option_t) -> std::os::raw::c_long {
        // SAFETY: reads an option's value.
        unsafe { libmimalloc_sys::mi_option_get(option) }
    }

    fn resident_bytes() -> Option<u64> {
        let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
        Some(statm.split_whitespace().nth(1)?.parse::<u64>().ok()? * 4096)
    }

    /// One test, not two: the options are the process's, and tests run side by side.
    #[test]
    fn freed_memory_leaves_the_resident_set_at_once() {
        // As mimalloc comes, a purge a second after the free: were the number wrong, this
        // would read another option.
        assert_eq!(get(PURGE_DELAY), 1000, "mimalloc's default purge delay");
        give_memory_back();
        assert_eq!(get(PURGE_DELAY), 0);

        let Some(before) = resident_bytes() else { return }; // not Linux
                                                             // 64 MiB in blocks of 64 KiB, from mimalloc's own pages (a single huge block would go
                                                             // straight back to the system whatever the options).
        let blocks: Vec<Vec<u8>> = (0..1024).map(|i| vec![i as u8; 64 << 10]).collect();
        std::hint::black_box(&blocks);
        let during = resident_bytes().unwrap_or(0);
        drop(blocks);
        let after = resident_bytes().unwrap_or(0);
        assert!(during >= before + (60 << 20), "the blocks were resident: {before} {during}");
        assert!(after < before + (16 << 20), "freed, still resident: {before} {during} {after}");
    }
}
