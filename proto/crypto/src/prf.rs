//! The TLS 1.2 pseudo-random function with SHA-256 (RFC 5246 §5), built on
//! the `hmac` crate:
//!
//! ```text
//! PRF(secret, label, seed) = P_SHA256(secret, label ‖ seed)
//! P_SHA256(secret, s)      = HMAC(secret, A(1) ‖ s) ‖ HMAC(secret, A(2) ‖ s) ‖ …
//! A(0) = s,  A(i) = HMAC(secret, A(i−1))
//! ```
//!
//! It derives the master secret (RFC 5246 §8.1, RFC 7627), the key block,
//! Finished `verify_data`, and the RFC 5705 exporter.

use hmac::Mac;
use zeroize::Zeroize;

use super::mac::keyed;

/// Fills `out` with `PRF(secret, label, seed)`, where the seed is the
/// concatenation of `seed_parts` (e.g. `client_random`, `server_random`).
/// Any output length is allowed.
pub fn tls12_prf_sha256(secret: &[u8], label: &[u8], seed_parts: &[&[u8]], out: &mut [u8]) {
    let base = keyed(secret);

    // A(1) = HMAC(secret, label ‖ seed)
    let mut m = base.clone();
    m.update(label);
    for part in seed_parts {
        m.update(part);
    }
    let mut a: [u8; 32] = m.finalize().into_bytes().into();

    for chunk in out.chunks_mut(32) {
        // HMAC(secret, A(i) ‖ label ‖ seed)
        let mut m = base.clone();
        m.update(&a);
        m.update(label);
        for part in seed_parts {
            m.update(part);
        }
        let mut block: [u8; 32] = m.finalize().into_bytes().into();
        for (o, b) in chunk.iter_mut().zip(block.iter()) {
            *o = *b;
        }
        block.zeroize();

        // A(i+1) = HMAC(secret, A(i))
        let mut m = base.clone();
        m.update(&a);
        a = m.finalize().into_bytes().into();
    }
    a.zeroize();
}
