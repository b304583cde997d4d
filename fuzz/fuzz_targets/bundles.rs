//! Bundles made from the input's keys and grants, damaged or not, and raw
//! bundle bytes, applied twice to one node: see `seam_tests::fuzz_bundles`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| seam_tests::fuzz_bundles::run(data));
