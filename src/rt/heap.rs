//! The global allocator: linked-list heaps that start in `.bss` and grow by
//! whole `mmap` regions, so arguments and environments up to `ARG_MAX` work
//! while a normal run needs no system call for memory at all.
//!
//! proctor is single-threaded (the child after `fork` too), so the arena
//! needs no lock.

use core::alloc::{GlobalAlloc, Layout};
use core::cell::UnsafeCell;
use core::ptr::{self, NonNull};
use linked_list_allocator::Heap;
use proctor::sys::mm;

/// Regions at most: the first in `.bss`, the others doubling from 256 KiB,
/// which is far more than `ARG_MAX` can ever need.
const REGIONS: usize = 16;
const FIRST_SIZE: usize = 16 * 1024;
const GROWTH_START: usize = 256 * 1024;

pub struct Arena {
    heaps: UnsafeCell<[Heap; REGIONS]>,
    first: UnsafeCell<[u8; FIRST_SIZE]>,
    used: UnsafeCell<usize>,
}

// SAFETY: proctor never runs more than one thread, so no two calls overlap.
unsafe impl Sync for Arena {}

impl Arena {
    pub const fn new() -> Self {
        Arena {
            heaps: UnsafeCell::new([const { Heap::empty() }; REGIONS]),
            first: UnsafeCell::new([0; FIRST_SIZE]),
            used: UnsafeCell::new(0),
        }
    }

    /// Map a region big enough for `layout` and add it as a new heap.
    ///
    /// # Safety
    /// Single-threaded access to the arena.
    unsafe fn grow(&self, layout: Layout) -> Option<&mut Heap> {
        // SAFETY: single-threaded, see the type's Sync impl.
        let (heaps, used) = unsafe { (&mut *self.heaps.get(), &mut *self.used.get()) };
        if *used == REGIONS {
            return None;
        }
        let wanted = layout
            .size()
            .checked_add(layout.align())?
            .checked_add(4096)?;
        let size = (GROWTH_START << (*used - 1).min(20)).max(wanted);
        let size = size.checked_add(4095)? & !4095;
        let region = mm::map_anonymous(size).ok()?;
        let heap = &mut heaps[*used];
        // SAFETY: the region is freshly mapped, writable, and owned by this heap only.
        unsafe { heap.init(region, size) };
        *used += 1;
        Some(heap)
    }
}

unsafe impl GlobalAlloc for Arena {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: single-threaded, see the type's Sync impl.
        let (heaps, used) = unsafe { (&mut *self.heaps.get(), &mut *self.used.get()) };
        if *used == 0 {
            // SAFETY: `first` lives as long as the program and only this heap uses it.
            unsafe { heaps[0].init(self.first.get().cast(), FIRST_SIZE) };
            *used = 1;
        }
        for heap in heaps[..*used].iter_mut().rev() {
            if let Ok(p) = heap.allocate_first_fit(layout) {
                return p.as_ptr();
            }
        }
        // SAFETY: single-threaded, see the type's Sync impl.
        match unsafe { self.grow(layout) }.and_then(|h| h.allocate_first_fit(layout).ok()) {
            Some(p) => p.as_ptr(),
            None => ptr::null_mut(),
        }
    }

    unsafe fn dealloc(&self, p: *mut u8, layout: Layout) {
        // SAFETY: single-threaded, see the type's Sync impl.
        let (heaps, used) = unsafe { (&mut *self.heaps.get(), &*self.used.get()) };
        let Some(nn) = NonNull::new(p) else { return };
        if let Some(heap) = heaps[..*used]
            .iter_mut()
            .find(|h| h.bottom() <= p && p < h.top())
        {
            // SAFETY: p came from this heap's allocate_first_fit with this layout.
            unsafe { heap.deallocate(nn, layout) };
        }
    }
}
