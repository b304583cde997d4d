//! What keeps OP-TEE's C libraries out of the TA.
//!
//! libutee's entry code calls `_TEE_MathAPI_Init` to set up the memory pool
//! of the GlobalPlatform arithmetic API (TEE_BigInt*), which pulls libutee's
//! arithmetic object and, through it, mbedtls' bignum (~21 KB of text). seam
//! does all arithmetic in Rust and never calls TEE_BigInt*, so the TA
//! defines the symbol itself, as a no-op: the linker then never takes that
//! archive member.
//!
//! Likewise TEE_GenerateRandom lives in libutee's operations object together
//! with the whole GlobalPlatform crypto operation API; calling the system
//! call it wraps keeps that object out (and `rand`, below).

use optee_utee::raw;

extern "C" {
    /// libutee's system call stub (utee_syscalls_asm.S).
    pub fn _utee_cryp_random_number_generate(
        buf: *mut core::ffi::c_void,
        len: usize,
    ) -> raw::TEE_Result;
}

/// Replaces libutee's: nothing in this TA uses the arithmetic API.
#[no_mangle]
pub extern "C" fn _TEE_MathAPI_Init() {}

/// libutils' allocator (bget) carries a self-test that calls `rand`, which
/// libutee defines in that same operations object; this definition keeps
/// the object out. Nothing in the TA runs that self-test.
#[no_mangle]
pub extern "C" fn rand() -> core::ffi::c_int {
    let mut b = [0u8; 4];
    // SAFETY: a valid 4-byte buffer.
    unsafe { _utee_cryp_random_number_generate(b.as_mut_ptr().cast(), b.len()) };
    (u32::from_le_bytes(b) >> 1) as core::ffi::c_int
}
