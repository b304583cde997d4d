//! ECDH-ES key agreement as JWA defines it (RFC 7518 §4.6): an ephemeral
//! P-256 key on the sender's side, the static key on the recipient's, and the
//! Concat KDF of NIST SP 800-56A §5.8.1 with SHA-256 (the `concat-kdf`
//! crate) over the shared secret.
//!
//! The KDF's OtherInfo is built here exactly as RFC 7518 §4.6.2 lays it out:
//! `AlgorithmID ‖ PartyUInfo ‖ PartyVInfo ‖ SuppPubInfo`, the first three each
//! a 32-bit big-endian length and the bytes, SuppPubInfo the key length in
//! bits as a 32-bit big-endian number (SuppPrivInfo empty).

use alloc::vec::Vec;
use zeroize::Zeroizing;

use super::{kx, sign, CryptoError, Rng};

/// What the derived key is for and who the parties are (RFC 7518 §4.6.2).
pub struct KdfParams<'a> {
    /// The `enc` value for direct key agreement, else the `alg` value
    /// (e.g. `"ECDH-ES+A128KW"`).
    pub algorithm_id: &'a [u8],
    /// `apu`, decoded (empty when absent).
    pub party_u: &'a [u8],
    /// `apv`, decoded (empty when absent).
    pub party_v: &'a [u8],
}

/// Largest `apu` / `apv` accepted, so that OtherInfo stays small and bounded.
pub const MAX_PARTY_INFO: usize = 64;

/// OtherInfo for a key of `key_len` bytes.
pub fn other_info(params: &KdfParams<'_>, key_len: usize) -> Result<Vec<u8>, CryptoError> {
    if params.party_u.len() > MAX_PARTY_INFO
        || params.party_v.len() > MAX_PARTY_INFO
        || params.algorithm_id.len() > MAX_PARTY_INFO
    {
        return Err(CryptoError::InvalidLength);
    }
    let bits = u32::try_from(key_len.checked_mul(8).ok_or(CryptoError::InvalidLength)?)
        .map_err(|_| CryptoError::InvalidLength)?;
    let mut out = Vec::new();
    for field in [params.algorithm_id, params.party_u, params.party_v] {
        // Bounded above, so the length fits in 32 bits.
        out.extend_from_slice(&(field.len() as u32).to_be_bytes());
        out.extend_from_slice(field);
    }
    out.extend_from_slice(&bits.to_be_bytes());
    Ok(out)
}

/// The key both sides derive from the shared secret `z`.
pub fn derive(
    z: &[u8],
    params: &KdfParams<'_>,
    key_len: usize,
) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    if key_len == 0 || key_len > 64 {
        return Err(CryptoError::InvalidLength);
    }
    let info = other_info(params, key_len)?;
    let mut key = Zeroizing::new(alloc::vec![0u8; key_len]);
    concat_kdf::derive_key_into::<sha2::Sha256>(z, &info, &mut key)
        .map_err(|_| CryptoError::InvalidLength)?;
    Ok(key)
}

/// The recipient's side: the key derived from its static private key and the
/// sender's ephemeral public key (`epk`, SEC 1 uncompressed or compressed).
pub fn recipient_key(
    private: &[u8; 32],
    epk: &[u8],
    params: &KdfParams<'_>,
    key_len: usize,
) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    let z = kx::ecdh(private, epk)?;
    derive(&z[..], params, key_len)
}

/// The sender's side: a fresh ephemeral key pair, and the key derived with
/// the recipient's static public key. Returns the ephemeral public key
/// (uncompressed) and the derived key; the ephemeral private key is wiped.
pub fn sender_key(
    rng: &mut dyn Rng,
    recipient: &[u8],
    params: &KdfParams<'_>,
    key_len: usize,
) -> Result<([u8; 65], Zeroizing<Vec<u8>>), CryptoError> {
    let ephemeral = sign::generate(rng)?;
    let epk = sign::public_key(&ephemeral)?;
    let z = kx::ecdh(&ephemeral, recipient)?;
    Ok((epk, derive(&z[..], params, key_len)?))
}
