//! seam's (D)TLS client and server, both with TA secrets, over a network the
//! input drives (loss, duplication, reordering, corruption, time, data,
//! close): see `seam_tests::fuzz_engines`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| seam_tests::fuzz_engines::run(data));
