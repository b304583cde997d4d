//! Handshake sessions of several callers on one node: opens on real
//! credentials, steps decoded from the input, closes, derivations and
//! disconnects: see `seam_tests::fuzz_handshakes`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| seam_tests::fuzz_handshakes::run(data));
