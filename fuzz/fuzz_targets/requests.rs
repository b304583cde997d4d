//! Sequences of well-formed requests from several callers (granted,
//! ungranted, public), signed commands with good and bad counters and keys,
//! and raw bytes, against one node whose state carries over: see
//! `seam_tests::fuzz_requests` for the input's structure and the checks.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| seam_tests::fuzz_requests::run(data));
