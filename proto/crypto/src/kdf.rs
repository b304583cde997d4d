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

/// TLS 1.3 HKDF-Expand-Label (RFC 8446 §7.1) with SHA-256: fills `out`
/// (at most 8160 bytes) from `secret` (32 bytes) with the `HkdfLabel`
/// `u16 len ‖ u8 len ‖ "tls13 " ‖ label ‖ u8 len ‖ context`. `InvalidLength`
/// for a label longer than 249 bytes, a context longer than 255 or an
/// output longer than 8160.
pub fn tls13_expand_label(
    secret: &[u8],
    label: &[u8],
    context: &[u8],
    out: &mut [u8],
) -> Result<(), CryptoError> {
    const PREFIX: &[u8] = b"tls13 ";
    let full_label = PREFIX.len() + label.len();
    if out.len() > 255 * 32 || full_label > 255 || context.len() > 255 {
        return Err(CryptoError::InvalidLength);
    }
    let mut info = [0u8; 2 + 1 + 255 + 1 + 255];
    let mut n = 0;
    for part in [
        &(out.len() as u16).to_be_bytes()[..],
        &[full_label as u8],
        PREFIX,
        label,
        &[context.len() as u8],
        context,
    ] {
        info[n..n + part.len()].copy_from_slice(part);
        n += part.len();
    }
    hkdf_expand(secret, &info[..n], out)
}

/// TLS 1.3 Derive-Secret (RFC 8446 §7.1): `HKDF-Expand-Label(secret, label,
/// transcript_hash, 32)`.
pub fn tls13_derive_secret(
    secret: &[u8],
    label: &[u8],
    transcript_hash: &[u8; 32],
) -> Result<Zeroizing<[u8; 32]>, CryptoError> {
    let mut out = Zeroizing::new([0u8; 32]);
    tls13_expand_label(secret, label, transcript_hash, out.as_mut())?;
    Ok(out)
}
