//! AES key wrap (RFC 3394) with a 128- or 256-bit key-encryption key, via the
//! `aes-kw` crate: JWE's `A128KW` / `A256KW` (RFC 7518 §4.4) and the last step
//! of `ECDH-ES+A128KW`.
//!
//! The KEK's length picks AES-128 or AES-256; the wrapped key is 8 bytes
//! longer than the key it carries, which must be a multiple of 8 bytes and at
//! least 16.

use aes_kw::{KekAes128, KekAes256};
use alloc::vec::Vec;
use zeroize::Zeroizing;

use super::CryptoError;

/// Bytes RFC 3394 adds to the wrapped key (its integrity check value).
pub const OVERHEAD: usize = 8;

fn check_key_data(len: usize) -> Result<(), CryptoError> {
    if len >= 16 && len % 8 == 0 {
        Ok(())
    } else {
        Err(CryptoError::InvalidLength)
    }
}

/// Wraps `key_data` under `kek` (16 or 32 bytes, `InvalidKey` otherwise).
pub fn wrap(kek: &[u8], key_data: &[u8]) -> Result<Vec<u8>, CryptoError> {
    check_key_data(key_data.len())?;
    let mut out = alloc::vec![0u8; key_data.len() + OVERHEAD];
    let done = match kek.len() {
        16 => KekAes128::new(kek.into()).wrap(key_data, &mut out),
        32 => KekAes256::new(kek.into()).wrap(key_data, &mut out),
        _ => return Err(CryptoError::InvalidKey),
    };
    done.map_err(|_| CryptoError::InvalidLength)?;
    Ok(out)
}

/// Unwraps `wrapped` under `kek`; `AuthenticationFailed` when the integrity
/// check fails (wrong KEK or a tampered byte), and the partial output is wiped.
pub fn unwrap(kek: &[u8], wrapped: &[u8]) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    let len = wrapped
        .len()
        .checked_sub(OVERHEAD)
        .ok_or(CryptoError::InvalidLength)?;
    check_key_data(len)?;
    let mut out = Zeroizing::new(alloc::vec![0u8; len]);
    let done = match kek.len() {
        16 => KekAes128::new(kek.into()).unwrap(wrapped, &mut out),
        32 => KekAes256::new(kek.into()).unwrap(wrapped, &mut out),
        _ => return Err(CryptoError::InvalidKey),
    };
    done.map_err(|_| CryptoError::AuthenticationFailed)?;
    Ok(out)
}
