//! Stack high-water mark, measured by painting.
//!
//! Before each request the unused part of the stack below the current frame
//! is filled with a pattern; after it, the deepest overwritten byte tells how
//! much stack the request took. Secure EL0 has no red zone and exceptions run
//! on the kernel's stack, so memory below SP is ours to write. Costs a few
//! microseconds per request; reported through CMD_STATS.

use core::sync::atomic::{AtomicUsize, Ordering};

/// TaConfig's stack size (build.rs).
pub const STACK_SIZE: usize = parse(env!("SEAM_TA_STACK_SIZE"));
/// Stack the OP-TEE entry code may use above our frame, and a margin, never
/// painted (we do not know exactly where the stack's top is).
const RESERVE: usize = 4096;
const PATTERN: u64 = 0x5ea3_5ea3_5ea3_5ea3;
/// Bytes below the measuring frame's SP left alone (its callees' frames).
const SKIP: usize = 512;

static HIGH_WATER: AtomicUsize = AtomicUsize::new(0);

const fn parse(s: &str) -> usize {
    let b = s.as_bytes();
    let mut i = 0;
    let mut n = 0;
    while i < b.len() {
        n = n * 10 + (b[i] - b'0') as usize;
        i += 1;
    }
    n
}

#[inline(always)]
fn sp() -> usize {
    let sp: usize;
    // SAFETY: reads the stack pointer only.
    unsafe { core::arch::asm!("mov {}, sp", out(reg) sp, options(nomem, nostack)) };
    sp
}

/// Runs `f`, recording the deepest stack it reached (plus what is above the
/// measuring frame, at most RESERVE).
pub fn measured<R>(f: impl FnOnce() -> R) -> R {
    let mut f = Some(f);
    let mut r = None;
    // A dyn call, so `f` cannot be inlined into the painting frame.
    paint_and_run(&mut || r = Some((f.take().expect("called once"))()));
    r.expect("ran")
}

#[inline(never)]
fn paint_and_run(f: &mut dyn FnMut()) {
    let top = sp();
    let depth = STACK_SIZE - RESERVE;
    let low = top - depth;
    let high = top - SKIP;
    let mut a = low & !7;
    while a < high {
        // SAFETY: [low, high) lies in the TA's stack below the live frames.
        unsafe { core::ptr::write_volatile(a as *mut u64, PATTERN) };
        a += 8;
    }
    f();
    let mut a = low & !7;
    // SAFETY: as above; reading back what was painted.
    while a < high && unsafe { core::ptr::read_volatile(a as *const u64) } == PATTERN {
        a += 8;
    }
    // Bytes used below `top`, plus the entry frames above it (bounded by
    // RESERVE: counted in full to stay on the safe side).
    let used = top - a + RESERVE;
    HIGH_WATER.fetch_max(used, Ordering::Relaxed);
}

pub fn high_water() -> usize {
    HIGH_WATER.load(Ordering::Relaxed)
}
