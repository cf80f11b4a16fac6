//! A counting global allocator: per thread, the bytes live, their peak since the last
//! [`start`], and every byte allocated (a reallocation counts its full new size). Passes every
//! call on to the system allocator unchanged.
//!
//! ```ignore
//! #[global_allocator]
//! static ALLOCATOR: alloc_meter::Counting = alloc_meter::Counting;
//! ```

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

/// The allocator. See the crate docs.
#[derive(Debug, Clone, Copy, Default)]
pub struct Counting;

thread_local! {
    static LIVE: Cell<usize> = const { Cell::new(0) };
    static PEAK: Cell<usize> = const { Cell::new(0) };
    static TOTAL: Cell<usize> = const { Cell::new(0) };
}

fn on_alloc(size: usize) {
    let _ = LIVE.try_with(|live| {
        let now = live.get() + size;
        live.set(now);
        let _ = PEAK.try_with(|p| p.set(p.get().max(now)));
    });
    let _ = TOTAL.try_with(|t| t.set(t.get() + size));
}

fn on_dealloc(size: usize) {
    let _ = LIVE.try_with(|live| live.set(live.get().saturating_sub(size)));
}

// SAFETY: every call is passed on to the system allocator unchanged; the counters are
// thread-local cells that never allocate.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        on_alloc(layout.size());
        // SAFETY: same layout, as the caller guarantees.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        on_dealloc(layout.size());
        // SAFETY: ptr came from System.alloc with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        on_dealloc(layout.size());
        on_alloc(new_size);
        // SAFETY: as for alloc and dealloc.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

/// A measurement of the calling thread from [`start`] on.
#[derive(Debug, Clone, Copy)]
pub struct Meter {
    base: usize,
    total_before: usize,
}

/// What the calling thread used since its [`Meter`] started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Usage {
    /// The highest number of bytes live above the start.
    pub peak: usize,
    /// Every byte allocated since the start.
    pub total: usize,
}

/// Starts measuring the calling thread (a new peak from the bytes live now).
pub fn start() -> Meter {
    let base = LIVE.with(Cell::get);
    PEAK.with(|p| p.set(base));
    Meter {
        base,
        total_before: TOTAL.with(Cell::get),
    }
}

impl Meter {
    /// What the thread used since [`start`].
    pub fn usage(&self) -> Usage {
        Usage {
            peak: PEAK.with(Cell::get).saturating_sub(self.base),
            total: TOTAL.with(Cell::get).saturating_sub(self.total_before),
        }
    }
}
