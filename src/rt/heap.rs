//! The global allocator: a bump arena that starts in `.bss` and moves on to
//! fresh `mmap` regions, so arguments and environments up to `ARG_MAX` work
//! while a normal run needs no system call for memory at all.
//!
//! proctor allocates a little at start and lives briefly, so memory is only
//! given back when it is the latest block (which is also where `Vec` grows,
//! in place). Every step is checked arithmetic: the allocator cannot panic,
//! and running out of memory answers null, which callers turn into a clear
//! error. proctor is single-threaded (the child after `fork` too), so the
//! arena needs no lock.

use core::alloc::{GlobalAlloc, Layout};
use core::cell::UnsafeCell;
use core::ptr;
use proctor::sys::mm;

const FIRST_SIZE: usize = 16 * 1024;
/// Later regions double from 256 KiB (or are as large as the block asked for).
const GROWTH_START: usize = 256 * 1024;
const PAGE: usize = 4096;

pub struct Arena {
    first: UnsafeCell<[u8; FIRST_SIZE]>,
    state: UnsafeCell<State>,
}

/// The free part of the current region is `next..end`; `last` is where the
/// latest block starts.
struct State {
    next: usize,
    end: usize,
    last: usize,
    regions: u32,
}

// SAFETY: proctor never runs more than one thread, so no two calls overlap.
unsafe impl Sync for Arena {}

impl Arena {
    pub const fn new() -> Self {
        Arena {
            first: UnsafeCell::new([0; FIRST_SIZE]),
            state: UnsafeCell::new(State {
                next: 0,
                end: 0,
                last: 0,
                regions: 0,
            }),
        }
    }

    /// The arena's state, with the first region set up on first use (once
    /// in the binary, not in each of alloc, dealloc and realloc).
    ///
    /// # Safety
    /// Single-threaded access, and no other reference to the state alive.
    #[allow(clippy::mut_from_ref)]
    #[inline(never)]
    unsafe fn state(&self) -> &mut State {
        // SAFETY: single-threaded, see the type's Sync impl.
        let s = unsafe { &mut *self.state.get() };
        if s.regions == 0 {
            s.next = self.first.get() as usize;
            s.end = s.next + FIRST_SIZE;
            s.regions = 1;
        }
        s
    }
}

impl State {
    /// Carve `layout` out of the current region.
    fn bump(&mut self, layout: Layout) -> Option<usize> {
        let mask = layout.align() - 1; // align is a power of two, at least 1
        let start = self.next.checked_add(mask)? & !mask;
        let stop = start.checked_add(layout.size())?;
        if stop > self.end {
            return None;
        }
        self.last = start;
        self.next = stop;
        Some(start)
    }

    /// Move on to a fresh region big enough for `layout`.
    fn grow(&mut self, layout: Layout) -> Option<()> {
        let wanted = layout.size().checked_add(layout.align())?;
        let size = (GROWTH_START << self.regions.min(16)).max(wanted);
        let size = size.checked_add(PAGE - 1)? & !(PAGE - 1);
        let region = mm::map_anonymous(size).ok()? as usize;
        self.next = region;
        self.end = region.checked_add(size)?;
        self.regions += 1;
        Some(())
    }
}

unsafe impl GlobalAlloc for Arena {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: single-threaded; no other reference to the state.
        let s = unsafe { self.state() };
        match s
            .bump(layout)
            .or_else(|| s.grow(layout).and_then(|()| s.bump(layout)))
        {
            Some(p) => p as *mut u8,
            None => ptr::null_mut(),
        }
    }

    unsafe fn dealloc(&self, p: *mut u8, layout: Layout) {
        // SAFETY: single-threaded; no other reference to the state.
        let s = unsafe { self.state() };
        if p as usize == s.last && s.last.checked_add(layout.size()) == Some(s.next) {
            s.next = s.last;
        }
    }

    unsafe fn realloc(&self, p: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: single-threaded; no other reference to the state.
        let s = unsafe { self.state() };
        if p as usize == s.last {
            if let Some(stop) = s.last.checked_add(new_size).filter(|&e| e <= s.end) {
                s.next = stop; // the latest block grows or shrinks in place
                return p;
            }
        }
        // SAFETY: the caller guarantees new_size with this alignment is a valid layout.
        let new_layout = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
        // SAFETY: as GlobalAlloc::realloc requires.
        let new = unsafe { self.alloc(new_layout) };
        if !new.is_null() {
            // SAFETY: both blocks are valid for the smaller size and do not overlap.
            unsafe { ptr::copy_nonoverlapping(p, new, layout.size().min(new_size)) };
        }
        new
    }
}
