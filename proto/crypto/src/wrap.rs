//! Sealing a secret to a node's P-256 key-agreement key (credential import).
//!
//! # Format (`seam wrap v1`)
//!
//! The sender knows the node's public key `node_pub` (65-byte uncompressed
//! SEC 1) and a `binding`: caller-built bytes naming what the secret is
//! (node id, SE, object name, kind, SUID), so that a wrapped secret cannot
//! be replayed as a different object.
//!
//! 1. Generate an ephemeral P-256 key pair `(e, E = e·G)`.
//! 2. `z = ECDH(e, node_pub)`: the 32-byte x-coordinate of `e·node_pub`.
//! 3. `k = HKDF-SHA-256(salt = "seam wrap v1" (ASCII, 12 bytes), ikm = z,
//!    info = binding)`, 32 bytes.
//! 4. Draw a random 12-byte `nonce`.
//! 5. `ciphertext = AES-256-GCM(k, nonce, aad = binding, secret)`, i.e. the
//!    encrypted secret followed by the 16-byte tag.
//!
//! The wrapped form is `(E as 65-byte uncompressed SEC 1, nonce,
//! ciphertext)`. The node recomputes `z = ECDH(node_priv, E)` and the same
//! `k`, then opens the ciphertext with `aad = binding`.
//!
//! In other words: ECIES with P-256 ECDH, HKDF-SHA-256 and AES-256-GCM. Each
//! wrap uses a fresh ephemeral key and hence a fresh `k`, so the nonce never
//! repeats under a key.

use aes_gcm::aead::generic_array::GenericArray;
use aes_gcm::aead::{AeadInPlace, KeyInit};
use aes_gcm::Aes256Gcm;
use alloc::vec::Vec;
use zeroize::{Zeroize, Zeroizing};

use seam_proto::{NodeId, ObjectKind, WrapBinding, WRAP_DOMAIN};

use super::{fill_random, kdf, kx, sign, CryptoError, Rng};

/// The HKDF salt of format v1.
pub const SALT: &[u8] = b"seam wrap v1";

/// Length of the GCM tag at the end of [`Wrapped::ciphertext`].
pub const TAG_LEN: usize = 16;

/// A secret sealed to a node's key-agreement key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Wrapped {
    /// The sender's ephemeral public key, 65-byte uncompressed SEC 1.
    pub ephemeral: [u8; 65],
    /// The AES-256-GCM nonce.
    pub nonce: [u8; 12],
    /// The encrypted secret followed by the 16-byte GCM tag.
    pub ciphertext: Vec<u8>,
}

/// The `binding` bytes for a secret wrapped for one object: the sender and
/// the TA both build them here, so they cannot disagree on the format.
pub fn binding(
    node_id: &NodeId,
    se: &str,
    se_instance: u64,
    object: &str,
    kind: ObjectKind,
    suid: u8,
) -> Result<Vec<u8>, CryptoError> {
    let binding = WrapBinding {
        domain: WRAP_DOMAIN,
        node_id,
        se,
        se_instance,
        object,
        kind,
        suid,
    };
    postcard::to_allocvec(&binding).map_err(|_| CryptoError::InvalidLength)
}

/// Derives the AES-256-GCM key from the ECDH secret and the binding.
fn wrap_cipher(z: &[u8; 32], binding: &[u8]) -> Result<Aes256Gcm, CryptoError> {
    let mut key = Zeroizing::new([0u8; 32]);
    kdf::hkdf(SALT, z, binding, key.as_mut())?;
    Aes256Gcm::new_from_slice(key.as_ref()).map_err(|_| CryptoError::InvalidKey)
}

/// Seals `secret` to `node_public` (65-byte uncompressed SEC 1) under
/// `binding`. `InvalidPublicKey` for a bad node key, `Rng` if the RNG fails.
pub fn wrap(
    rng: &mut dyn Rng,
    node_public: &[u8],
    binding: &[u8],
    secret: &[u8],
) -> Result<Wrapped, CryptoError> {
    sign::validate_public(node_public)?;
    let eph = sign::generate(rng)?;
    let ephemeral = sign::public_key(&eph)?;
    let z = kx::ecdh(&eph, node_public)?;
    let cipher = wrap_cipher(&z, binding)?;
    let mut nonce = [0u8; 12];
    fill_random(rng, &mut nonce)?;

    let mut buf = Vec::new();
    buf.try_reserve_exact(secret.len().saturating_add(TAG_LEN))
        .map_err(|_| CryptoError::InvalidLength)?;
    buf.extend_from_slice(secret);
    match cipher.encrypt_in_place_detached(&GenericArray::from(nonce), binding, &mut buf) {
        Ok(tag) => {
            buf.extend_from_slice(tag.as_slice());
            Ok(Wrapped {
                ephemeral,
                nonce,
                ciphertext: buf,
            })
        }
        Err(_) => {
            buf.zeroize();
            Err(CryptoError::InvalidLength)
        }
    }
}

/// Opens a wrapped secret with the node's private key. `InvalidKey` for a
/// bad `node_private`, `InvalidPublicKey` for an `ephemeral` that is not a
/// valid 65-byte uncompressed point, `AuthenticationFailed` for anything
/// else (wrong node key, tampered nonce or ciphertext, different binding).
pub fn unwrap(
    node_private: &[u8; 32],
    ephemeral: &[u8],
    nonce: &[u8; 12],
    ciphertext: &[u8],
    binding: &[u8],
) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    sign::validate_public(ephemeral)?;
    let z = kx::ecdh(node_private, ephemeral)?;
    let cipher = wrap_cipher(&z, binding)?;
    let ct_len = ciphertext
        .len()
        .checked_sub(TAG_LEN)
        .ok_or(CryptoError::AuthenticationFailed)?;
    let (ct, tag) = ciphertext
        .split_at_checked(ct_len)
        .ok_or(CryptoError::AuthenticationFailed)?;
    let tag = GenericArray::from_exact_iter(tag.iter().copied())
        .ok_or(CryptoError::AuthenticationFailed)?;
    let mut buf = Zeroizing::new(Vec::new());
    buf.try_reserve_exact(ct.len())
        .map_err(|_| CryptoError::InvalidLength)?;
    buf.extend_from_slice(ct);
    cipher
        .decrypt_in_place_detached(
            &GenericArray::from(*nonce),
            binding,
            buf.as_mut_slice(),
            &tag,
        )
        .map_err(|_| CryptoError::AuthenticationFailed)?;
    Ok(buf)
}
