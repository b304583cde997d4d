//! HMAC-SHA-256 (RFC 2104, FIPS 198-1), via the `hmac` crate.

use hmac::digest::KeyInit;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use zeroize::Zeroize;

use super::hash::sha256;

/// The SHA-256 block size: HMAC keys are normalised to this length.
const BLOCK: usize = 64;

/// An HMAC-SHA-256 instance keyed with `key` (any length).
///
/// `Hmac::new_from_slice` accepts every key length but has a fallible
/// signature; to stay free of `unwrap` we hand the crate the equivalent
/// block-sized key of RFC 2104 §2 step (1) — `key` zero-padded to 64 bytes,
/// or `SHA-256(key)` zero-padded if `key` is longer than a block — through
/// the infallible `KeyInit::new`. The MAC computation itself is the crate's.
pub(crate) fn keyed(key: &[u8]) -> Hmac<Sha256> {
    let mut block = [0u8; BLOCK];
    if key.len() > BLOCK {
        let mut hashed = sha256(key);
        for (b, k) in block.iter_mut().zip(hashed.iter()) {
            *b = *k;
        }
        hashed.zeroize();
    } else {
        for (b, k) in block.iter_mut().zip(key.iter()) {
            *b = *k;
        }
    }
    let mac = <Hmac<Sha256> as KeyInit>::new(&block.into());
    block.zeroize();
    mac
}

/// HMAC-SHA-256 of the concatenation of `parts` under `key`.
pub fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    let mut mac = keyed(key);
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

/// Constant-time check that `tag` is the HMAC-SHA-256 of `parts` under
/// `key`. `tag` must be the full 32 bytes (truncated tags are refused).
pub fn verify_hmac_sha256(key: &[u8], parts: &[&[u8]], tag: &[u8]) -> bool {
    let mut mac = keyed(key);
    for part in parts {
        mac.update(part);
    }
    mac.verify_slice(tag).is_ok()
}
