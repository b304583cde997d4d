//! Generates the TA header (UUID, flags, stack and heap sizes) and links the
//! dev kit's `ta.ld.S`, libutee and libutils. `TA_DEV_KIT_DIR` is set by
//! `cargo optee build`.

use optee_utee_build::{Error, TaConfig};

/// Stack and heap, sized from measurement. `cargo optee test` ends by
/// printing the TA's high-water marks (CMD_STATS: the stack by painting, the
/// heap from libutils' malloc statistics); the TA instance is kept alive, so
/// they cover the whole e2e suite.
///
/// Measured 2026-11-30 (issue 12, after the large proto fields moved to
/// the heap): stack peak 27,584 bytes of 64 KiB (4 KiB of it a fixed
/// allowance for OP-TEE's entry frames), heap peak 43,344 bytes of 128 KiB.
/// Before, postcard built a whole `Request` (14.5 KB with inline heapless
/// buffers: 12 KiB of AAD, 8 KiB transcripts) and each enum level around it
/// by value, and the stack peaked at 118,160 bytes of 192 KiB. With its
/// large fields in `HeapVec`s a decoded request is 1.4 KB; the deepest
/// frames left are dispatch (`identified`, ~12 KB) and a handshake step
/// (~6 KB), so 64 KiB is 2.4x the peak. Heap: 128 KiB is 3x the peak, which
/// holds the record cache (at most 32 KiB), a request's decoded copy and
/// a response kept for a retry (each at most a 16 KiB message). Re-measure
/// when seam-core or seam-proto change much; a stack overflow shows as a
/// data abort on OP-TEE's secure console (secure.log).
const STACK_SIZE: u32 = 64 * 1024;
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
    discard_unwind_tables()?;
    malloc_stats_layout();
    // gcc's C start files would add a libc.so.6 DT_NEEDED, which OP-TEE's
    // loader takes for a TA library UUID and refuses.
    println!("cargo:rustc-link-arg=-nostartfiles");
    println!("cargo:rustc-env=SEAM_TA_STACK_SIZE={STACK_SIZE}");
    println!("cargo:rerun-if-changed=build.rs");
    Ok(())
}

/// The dev kit's linker script keeps `.eh_frame` (for C++ TAs). This TA
/// aborts on panic and never unwinds (OP-TEE prints a TA's call stack from
/// frame pointers), so its unwind tables are dead weight: 37 KB of the
/// signed TA (`.eh_frame` 32.7 KB, `.eh_frame_hdr` 5.2 KB). A `/DISCARD/`
/// rule ahead of the others drops them.
fn discard_unwind_tables() -> Result<(), Error> {
    let lds =
        std::path::Path::new(&std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("ta.lds");
    let script = std::fs::read_to_string(&lds)?;
    const DISCARD: &str = "SECTIONS {\n\t/DISCARD/ : { *(.eh_frame) *(.eh_frame.*) *(.eh_frame_hdr) *(.eh_frame_entry .eh_frame_entry.*) }\n";
    if !script.contains("/DISCARD/ : { *(.eh_frame)") {
        let patched = script.replacen("SECTIONS {\n", DISCARD, 1);
        if patched == script {
            panic!("{}: no `SECTIONS {{` to patch", lds.display());
        }
        std::fs::write(&lds, patched)?;
    }
    Ok(())
}

/// libutils' `malloc_get_stats` fills a `struct pta_stats_alloc`, whose
/// layout is the dev kit's, not a stable ABI: OP-TEE 4.10 put a `uint64_t
/// free2_sum` after the description, so a TA built with 4.5's layout
/// against 4.10's libutils would let it write 8 bytes past its buffer. The
/// header decides; a layout this TA does not know stops the build.
fn malloc_stats_layout() {
    println!("cargo::rustc-check-cfg=cfg(pta_stats_free2_sum)");
    println!("cargo:rerun-if-env-changed=TA_DEV_KIT_DIR");
    let Some(devkit) = std::env::var_os("TA_DEV_KIT_DIR") else {
        panic!("TA_DEV_KIT_DIR is not set (`cargo optee build` sets it)");
    };
    let header = std::path::Path::new(&devkit).join("include/pta_stats.h");
    println!("cargo:rerun-if-changed={}", header.display());
    let text = std::fs::read_to_string(&header)
        .unwrap_or_else(|e| panic!("reading {}: {e}", header.display()));
    let body = text
        .split_once("struct pta_stats_alloc {")
        .and_then(|(_, rest)| rest.split_once("};"))
        .map(|(body, _)| body)
        .unwrap_or_else(|| panic!("{}: no struct pta_stats_alloc", header.display()));
    let fields: Vec<&str> = body
        .lines()
        .filter_map(|l| l.split("/*").next())
        .filter_map(|l| l.trim().strip_suffix(';'))
        .filter_map(|decl| decl.split_whitespace().last())
        .collect();
    const COUNTERS: [&str; 6] = [
        "allocated",
        "max_allocated",
        "size",
        "num_alloc_fail",
        "biggest_alloc_fail",
        "biggest_alloc_fail_used",
    ];
    let desc = "desc[TEE_ALLOCATOR_DESC_LENGTH]";
    let known_4_5: Vec<&str> = [desc].into_iter().chain(COUNTERS).collect();
    let known_4_10: Vec<&str> = [desc, "free2_sum"].into_iter().chain(COUNTERS).collect();
    if fields == known_4_10 {
        println!("cargo:rustc-cfg=pta_stats_free2_sum");
    } else if fields != known_4_5 {
        panic!(
            "{}: struct pta_stats_alloc has fields {fields:?}, a layout this TA \
             does not know (see malloc_stats_layout in ta/optee/build.rs)",
            header.display()
        );
    }
}
