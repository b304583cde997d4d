//! ECDSA over P-256 with SHA-256 (FIPS 186-4, SEC 1), via the `p256` crate.
//!
//! Encodings:
//! * private keys are the 32-byte big-endian scalar `d`, `0 < d < n`;
//! * public keys are 65-byte uncompressed SEC 1 points (`04 ‖ X ‖ Y`);
//!   compressed points are not accepted here;
//! * signatures are the 64-byte fixed-size `r ‖ s` (IEEE P1363), both
//!   big-endian. TLS puts signatures on the wire in DER: converting is the
//!   caller's job.
//!
//! Signing is deterministic (RFC 6979 §3.2, HMAC-SHA-256 DRBG). **Low-S
//! normalisation is not applied**: `s` may be in the upper half of `1..n`,
//! exactly as RFC 6979 produces it (this is what TLS and X.509 expect;
//! P-256 ECDSA verifiers accept both). Verification likewise accepts
//! high-S signatures.

use p256::ecdsa::signature::hazmat::{PrehashSigner, PrehashVerifier};
use p256::ecdsa::{Signature, SigningKey, VerifyingKey};
use p256::{FieldBytes, PublicKey, SecretKey};
use zeroize::{Zeroize, Zeroizing};

use super::{fill_random, hash::sha256, CryptoError, Rng};

/// How many times [`generate`] draws a fresh 32-byte candidate before giving
/// up. A uniformly random candidate is out of range with probability below
/// 2^-32, so exhausting this means the RNG is broken (e.g. returns zeros).
const GENERATE_ATTEMPTS: usize = 64;

/// Generates a private scalar: draws 32 random bytes and retries while the
/// value is not in `1..n` (rejection sampling; no bias).
pub fn generate(rng: &mut dyn Rng) -> Result<Zeroizing<[u8; 32]>, CryptoError> {
    let mut candidate = Zeroizing::new([0u8; 32]);
    for _ in 0..GENERATE_ATTEMPTS {
        fill_random(rng, candidate.as_mut())?;
        if validate_private(candidate.as_ref()).is_ok() {
            return Ok(candidate);
        }
    }
    Err(CryptoError::Rng)
}

/// Parses a private scalar: exactly 32 bytes, `0 < d < n`.
pub(crate) fn secret_key(scalar: &[u8]) -> Result<SecretKey, CryptoError> {
    let mut bytes: [u8; 32] = scalar.try_into().map_err(|_| CryptoError::InvalidKey)?;
    let mut field = FieldBytes::from(bytes);
    bytes.zeroize();
    let key = SecretKey::from_bytes(&field).map_err(|_| CryptoError::InvalidKey);
    field.zeroize();
    key
}

/// Checks that `scalar` is a valid private key: 32 bytes, `0 < d < n`.
pub fn validate_private(scalar: &[u8]) -> Result<(), CryptoError> {
    secret_key(scalar).map(|_| ())
}

/// The public key `d·G` of `private`, as a 65-byte uncompressed SEC 1 point.
pub fn public_key(private: &[u8; 32]) -> Result<[u8; 65], CryptoError> {
    let public = secret_key(private)?.public_key();
    encode_uncompressed(&public)
}

/// Encodes a public key as 65-byte uncompressed SEC 1.
pub(crate) fn encode_uncompressed(public: &PublicKey) -> Result<[u8; 65], CryptoError> {
    use p256::elliptic_curve::sec1::ToEncodedPoint;
    public
        .to_encoded_point(false)
        .as_bytes()
        .try_into()
        .map_err(|_| CryptoError::InvalidPublicKey)
}

/// Parses a 65-byte uncompressed SEC 1 public key: `04 ‖ X ‖ Y`, the point
/// on the curve (coordinates reduced, equation satisfied), not the identity.
pub(crate) fn parse_public(public: &[u8]) -> Result<PublicKey, CryptoError> {
    if public.len() != 65 || public.first() != Some(&0x04) {
        return Err(CryptoError::InvalidPublicKey);
    }
    PublicKey::from_sec1_bytes(public).map_err(|_| CryptoError::InvalidPublicKey)
}

/// Checks that `public` is a valid 65-byte uncompressed P-256 public key.
pub fn validate_public(public: &[u8]) -> Result<(), CryptoError> {
    parse_public(public).map(|_| ())
}

/// Signs a SHA-256 digest (RFC 6979 deterministic `k`), returning `r ‖ s`.
/// No low-S normalisation (see the module documentation).
pub fn sign_digest(private: &[u8; 32], digest: &[u8; 32]) -> Result<[u8; 64], CryptoError> {
    let key = SigningKey::from(secret_key(private)?);
    let sig: Signature = key
        .sign_prehash(digest)
        .map_err(|_| CryptoError::InvalidKey)?;
    Ok(sig.to_bytes().into())
}

/// As [`sign_digest`], with `s` normalised to the lower half of `1..n`:
/// what [`verify_digest_low_s`] accepts.
pub fn sign_digest_low_s(private: &[u8; 32], digest: &[u8; 32]) -> Result<[u8; 64], CryptoError> {
    let sig = Signature::from_slice(&sign_digest(private, digest)?)
        .map_err(|_| CryptoError::InvalidKey)?;
    Ok(sig.normalize_s().unwrap_or(sig).to_bytes().into())
}

/// [`sign_digest_low_s`] over `SHA-256(msg)`.
pub fn sign_message_low_s(private: &[u8; 32], msg: &[u8]) -> Result<[u8; 64], CryptoError> {
    sign_digest_low_s(private, &sha256(msg))
}

/// Signs `SHA-256(msg)`; see [`sign_digest`].
pub fn sign_message(private: &[u8; 32], msg: &[u8]) -> Result<[u8; 64], CryptoError> {
    sign_digest(private, &sha256(msg))
}

/// Verifies an `r ‖ s` signature over a SHA-256 digest. `false` for a
/// malformed public key (see [`validate_public`]), `r` or `s` outside
/// `1..n`, or a signature that does not verify. High-S is accepted.
pub fn verify_digest(public: &[u8], digest: &[u8; 32], sig: &[u8; 64]) -> bool {
    let Ok(public) = parse_public(public) else {
        return false;
    };
    let Ok(sig) = Signature::from_slice(sig) else {
        return false;
    };
    VerifyingKey::from(public)
        .verify_prehash(digest, &sig)
        .is_ok()
}

/// As [`verify_digest`], but a signature whose `s` is in the upper half of
/// `1..n` is refused: for signatures the SE verifies itself (commands, the
/// `Verify` operation), so that no signature has a second valid encoding.
pub fn verify_digest_low_s(public: &[u8], digest: &[u8; 32], sig: &[u8; 64]) -> bool {
    match Signature::from_slice(sig) {
        // `normalize_s` is Some exactly when `s` is high.
        Ok(parsed) if parsed.normalize_s().is_none() => verify_digest(public, digest, sig),
        _ => false,
    }
}

/// [`verify_digest_low_s`] over `SHA-256(msg)`.
pub fn verify_message_low_s(public: &[u8], msg: &[u8], sig: &[u8; 64]) -> bool {
    verify_digest_low_s(public, &sha256(msg), sig)
}

/// Verifies an `r ‖ s` signature over `SHA-256(msg)`; see [`verify_digest`].
pub fn verify_message(public: &[u8], msg: &[u8], sig: &[u8; 64]) -> bool {
    verify_digest(public, &sha256(msg), sig)
}

/// The DER encoding (`SEQUENCE { INTEGER r, INTEGER s }`, X9.62) of an
/// `r ‖ s` signature, as TLS and X.509 carry it: at most 72 bytes.
pub fn signature_to_der(sig: &[u8; 64]) -> ([u8; 72], usize) {
    fn integer(v: &[u8], out: &mut [u8; 72], n: &mut usize) {
        // Minimal two's-complement encoding of an unsigned big-endian value.
        let first = v.iter().position(|b| *b != 0).unwrap_or(v.len() - 1);
        let v = &v[first..];
        let pad = usize::from(v[0] & 0x80 != 0);
        out[*n] = 0x02;
        out[*n + 1] = (v.len() + pad) as u8;
        *n += 2;
        if pad == 1 {
            out[*n] = 0;
            *n += 1;
        }
        out[*n..*n + v.len()].copy_from_slice(v);
        *n += v.len();
    }
    let mut out = [0u8; 72];
    let mut n = 2;
    integer(&sig[..32], &mut out, &mut n);
    integer(&sig[32..], &mut out, &mut n);
    out[0] = 0x30;
    out[1] = (n - 2) as u8;
    (out, n)
}
