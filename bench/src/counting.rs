//! An allocator that counts the bytes in use and hands every call to the allocator it wraps:
//! memory.rs reports the heap in use beside the resident memory, so that a figure can be told
//! apart as data kept or memory the allocator has not given back.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

pub struct Counting<A> {
    inner: A,
    in_use: AtomicUsize,
}

impl<A> Counting<A> {
    pub const fn new(inner: A) -> Self {
        Counting { inner, in_use: AtomicUsize::new(0) }
    }

    /// Bytes allocated and not yet freed.
    pub fn in_use(&self) -> usize {
        self.in_use.load(Relaxed)
    }
}

// SAFETY: every call is passed unchanged to `inner`, itself a `GlobalAlloc`; only a counter is
// added.
unsafe impl<A: GlobalAlloc> GlobalAlloc for Counting<A> {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = self.inner.alloc(layout);
        if !p.is_null() {
            self.in_use.fetch_add(layout.size(), Relaxed);
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = self.inner.alloc_zeroed(layout);
        if !p.is_null() {
            self.in_use.fetch_add(layout.size(), Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        self.inner.dealloc(ptr, layout);
        self.in_use.fetch_sub(layout.size(), Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = self.inner.realloc(ptr, layout, new_size);
        if !p.is_null() {
            self.in_use.fetch_sub(layout.size(), Relaxed);
            self.in_use.fetch_add(new_size, Relaxed);
        }
        p
    }
}
