//! A counting global allocator for the allocations-per-call measurement. Every server under
//! test installs this same file (`bench-server` through `#[path]`, the rmcp peer and the
//! floor in the harness binary), so all three are counted the same way.
//!
//! Counting is off unless the process starts with `MUSEHUB_BENCH_COUNT_ALLOCS=1` (then each
//! allocation costs one relaxed atomic add, which is why the throughput runs leave it off). The
//! totals so far are served as text, `"<allocations> <bytes>"`, at `GET /__bench/allocs`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};

/// The environment variable that turns counting on.
pub const ENV: &str = "MUSEHUB_BENCH_COUNT_ALLOCS";
/// The route that reports the totals.
pub const PATH: &str = "/__bench/allocs";

static ON: AtomicBool = AtomicBool::new(false);
static COUNT: AtomicU64 = AtomicU64::new(0);
static BYTES: AtomicU64 = AtomicU64::new(0);

/// The system allocator, counting allocations (and reallocations) when turned on.
pub struct Counting;

#[inline]
fn note(size: usize) {
    if ON.load(Relaxed) {
        COUNT.fetch_add(1, Relaxed);
        BYTES.fetch_add(size as u64, Relaxed);
    }
}

// SAFETY: every method forwards to `System` with the caller's arguments unchanged; counting
// touches only atomics and never allocates.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note(layout.size());
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract, which `System` shares.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note(layout.size());
        // SAFETY: as for `alloc`.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` was allocated by `System` (through this type) with `layout`.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note(new_size);
        // SAFETY: as for `dealloc`, and the caller upholds `realloc`'s size contract.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

/// Turns counting on when the process was started with [`ENV`]`=1`.
pub fn init() {
    ON.store(std::env::var(ENV).is_ok_and(|v| v == "1"), Relaxed);
}

/// The totals so far, as served at [`PATH`].
pub fn report() -> String {
    format!("{} {}", COUNT.load(Relaxed), BYTES.load(Relaxed))
}
