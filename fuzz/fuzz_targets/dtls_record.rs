//! Any bytes into seam's (D)TLS engine as its peer's datagrams (DTLS) or
//! stream (TLS), to a client (after its ClientHello) or to a server, with
//! deterministic randomness and in-process secrets: the engine must answer
//! with records or an alert and never panic. The input format is
//! `seam_tests::dtls_fuzzing`'s; the seed corpus holds whole real handshakes
//! (written by the engine's `fuzz_seeds_replay_to_established` test).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = seam_tests::dtls_fuzzing::run(data);
});
