//! Generates the TA header (UUID, flags, stack and heap sizes) and links the
//! dev kit's `ta.ld.S`, libutee and libutils. `TA_DEV_KIT_DIR` is set by
//! `cargo optee build`.

use optee_utee_build::{Error, TaConfig};

/// Stack and heap, sized from measurement. `cargo optee test` ends by
/// printing the TA's high-water marks (CMD_STATS: the stack by painting, the
/// heap from libutils' malloc statistics); the TA instance is kept alive, so
/// they cover the whole e2e suite.
///
/// Measured 2026-11-29 (issue 12, record cache in, decoded requests boxed):
/// stack peak 85,088 bytes of 96 KiB (4 KiB of it a fixed allowance for
/// OP-TEE's entry frames), heap peak 20,880 bytes of 128 KiB. The stack is
/// set by decoding: postcard builds a whole `Request` by value, and
/// `AdminCommand`'s deserializer (33 KB frame) under `decode_request` (31 KB)
/// is the deepest chain (81 KB by the frame sizes in the disassembly); 64 KiB
/// overflowed there. Getting under 64 KiB needs the large proto variants
/// decoded onto the heap. Then JOSE raised `MAX_AAD` to 12 KiB, which grows
/// every decoded copy of an AEAD request on that chain: 96 KiB overflowed
/// (data abort just below the stack), so the stack is 192 KiB until the
/// decode moves to the heap. Heap: 128 KiB is 6x the peak, room for the record
/// cache's 32 KiB bound plus a request's decoded copies. Re-measure when
/// seam-core or seam-proto change much; a stack overflow shows as a data
/// abort on OP-TEE's secure console (secure.log). Protocol version 2 also
/// carries up to 8 KiB of handshake messages in a request (`MAX_TRANSCRIPT`),
/// well within that margin.
const STACK_SIZE: u32 = 192 * 1024;
const HEAP_SIZE: u32 = 128 * 1024;

fn main() -> Result<(), Error> {
    // TA_FLAG_SINGLE_INSTANCE | TA_FLAG_MULTI_SESSION | TA_FLAG_INSTANCE_KEEP_ALIVE:
    // one SecureEnvironment shared by every session (OP-TEE serializes entry
    // into a single-instance TA), kept loaded between sessions so its state
    // (e.g. handshake sessions) and load cost persist until the TEE restarts.
    let flags = (1 << 2) | (1 << 3) | (1 << 4);
    let config = TaConfig::new_default_with_cargo_env(seam_proto::TA_UUID)?
        .ta_flags(flags)
        .ta_stack_size(STACK_SIZE)
        .ta_data_size(HEAP_SIZE);
    optee_utee_build::build(config)?;
    // gcc's C start files would add a libc.so.6 DT_NEEDED, which OP-TEE's
    // loader takes for a TA library UUID and refuses.
    println!("cargo:rustc-link-arg=-nostartfiles");
    println!("cargo:rustc-env=SEAM_TA_STACK_SIZE={STACK_SIZE}");
    println!("cargo:rerun-if-changed=build.rs");
    Ok(())
}
