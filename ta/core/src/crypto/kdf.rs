//! HKDF with SHA-256 (RFC 5869), via the `hkdf` crate.

use hkdf::Hkdf;
use sha2::Sha256;
use zeroize::{Zeroize, Zeroizing};

use super::CryptoError;

/// HKDF-Extract: `PRK = HMAC-SHA-256(salt, ikm)`. An empty `salt` is
/// equivalent to RFC 5869's default of 32 zero bytes.
pub fn hkdf_extract(salt: &[u8], ikm: &[u8]) -> Zeroizing<[u8; 32]> {
    let (mut prk, _) = Hkdf::<Sha256>::extract(Some(salt), ikm);
    let mut out = Zeroizing::new([0u8; 32]);
    for (o, p) in out.iter_mut().zip(prk.iter()) {
        *o = *p;
    }
    prk.zeroize();
    out
}

/// HKDF-Expand: fills `out` (at most 255 × 32 = 8160 bytes) from `prk`
/// (at least 32 bytes) and `info`. `InvalidKey` for a short PRK,
/// `InvalidLength` for too long an output.
pub fn hkdf_expand(prk: &[u8], info: &[u8], out: &mut [u8]) -> Result<(), CryptoError> {
    let hk = Hkdf::<Sha256>::from_prk(prk).map_err(|_| CryptoError::InvalidKey)?;
    hk.expand(info, out).map_err(|_| CryptoError::InvalidLength)
}

/// HKDF-Extract then HKDF-Expand. `InvalidLength` if `out` is longer than
/// 8160 bytes.
pub fn hkdf(salt: &[u8], ikm: &[u8], info: &[u8], out: &mut [u8]) -> Result<(), CryptoError> {
    let hk = Hkdf::<Sha256>::new(Some(salt), ikm);
    hk.expand(info, out).map_err(|_| CryptoError::InvalidLength)
}
