//! AES-128 and AES-256 authenticated encryption: CCM (RFC 3610, NIST SP
//! 800-38C) with a 16-byte or 8-byte tag, and GCM (NIST SP 800-38D), via the
//! `ccm`, `aes` and `aes-gcm` crates.
//!
//! The sealed form is always `ciphertext ‖ tag`.
//!
//! | [`Aead`] | key | nonce | tag |
//! |---|---|---|---|
//! | `Aes128Ccm` | 16 | 7..=13 | 16 |
//! | `Aes128Ccm8` | 16 | 7..=13 | 8 |
//! | `Aes128Gcm` | 16 | 12 | 16 |
//! | `Aes256Ccm` | 32 | 7..=13 | 16 |
//! | `Aes256Ccm8` | 32 | 7..=13 | 8 |
//! | `Aes256Gcm` | 32 | 12 | 16 |
//!
//! [`Aead::for_key`] picks the AES-128 or AES-256 variant of a mode by the
//! stored key's length: the wire names the mode, the key decides its size.
//!
//! `Aes128Ccm8` with a 12-byte nonce is the record protection of the DTLS
//! suites `TLS_PSK_WITH_AES_128_CCM_8` / `TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8`
//! (RFC 6655, RFC 7251). CCM bounds the plaintext length by the nonce size
//! (`2^(8·(15 − nonce_len))` bytes), e.g. 65535 bytes with a 13-byte nonce.

use aes::cipher::{BlockCipher, BlockClosure, BlockEncrypt, BlockSizeUser};
use aes::{Aes128, Aes256};
use aes_gcm::aead::generic_array::{ArrayLength, GenericArray};
use aes_gcm::aead::{AeadInPlace, KeyInit};
use aes_gcm::{Aes128Gcm, Aes256Gcm};
use alloc::vec::Vec;
use ccm::consts::{U10, U11, U12, U13, U16, U7, U8, U9};
use ccm::Ccm;
use zeroize::Zeroizing;

use super::CryptoError;

/// Runs `$f::<Ccm<AnyAes, $tag, N>>` for the runtime nonce length `$len`
/// (7..=13; anything else is `InvalidLength`).
macro_rules! ccm_dispatch {
    ($f:ident, $tag:ty, $len:expr, $($arg:expr),+) => {
        match $len {
            7 => $f::<Ccm<AnyAes, $tag, U7>>($($arg),+),
            8 => $f::<Ccm<AnyAes, $tag, U8>>($($arg),+),
            9 => $f::<Ccm<AnyAes, $tag, U9>>($($arg),+),
            10 => $f::<Ccm<AnyAes, $tag, U10>>($($arg),+),
            11 => $f::<Ccm<AnyAes, $tag, U11>>($($arg),+),
            12 => $f::<Ccm<AnyAes, $tag, U12>>($($arg),+),
            13 => $f::<Ccm<AnyAes, $tag, U13>>($($arg),+),
            _ => Err(CryptoError::InvalidLength),
        }
    };
}

/// AES-128 or AES-256, chosen by the key's length at run time. `Ccm` is
/// generic over its cipher, tag and nonce sizes, and every combination is
/// a copy of the whole mode: with the key size a run-time choice there are
/// half as many (2 tags × 7 nonce lengths × seal/open), about 27 KB less
/// in the TA. Only dispatch: each block goes to the `aes` crate's cipher.
// Short-lived, on the stack of one seal or open: not worth a Box.
#[allow(clippy::large_enum_variant)]
enum AnyAes {
    Aes128(Aes128),
    Aes256(Aes256),
}

impl AnyAes {
    fn new(key: &[u8]) -> Result<AnyAes, CryptoError> {
        match key.len() {
            16 => Aes128::new_from_slice(key).map(AnyAes::Aes128),
            32 => Aes256::new_from_slice(key).map(AnyAes::Aes256),
            _ => return Err(CryptoError::InvalidKey),
        }
        .map_err(|_| CryptoError::InvalidKey)
    }
}

impl BlockSizeUser for AnyAes {
    type BlockSize = U16;
}

impl BlockCipher for AnyAes {}

impl BlockEncrypt for AnyAes {
    fn encrypt_with_backend(&self, f: impl BlockClosure<BlockSize = U16>) {
        match self {
            AnyAes::Aes128(c) => c.encrypt_with_backend(f),
            AnyAes::Aes256(c) => c.encrypt_with_backend(f),
        }
    }
}

/// A cipher for one seal or open: `Ccm` over [`AnyAes`], or GCM.
trait FromKey: Sized {
    fn from_key(key: &[u8]) -> Result<Self, CryptoError>;
}

impl<M, N> FromKey for Ccm<AnyAes, M, N>
where
    M: ArrayLength<u8> + ccm::TagSize,
    N: ArrayLength<u8> + ccm::NonceSize,
{
    fn from_key(key: &[u8]) -> Result<Self, CryptoError> {
        AnyAes::new(key).map(Ccm::from)
    }
}

impl FromKey for Aes128Gcm {
    fn from_key(key: &[u8]) -> Result<Self, CryptoError> {
        Aes128Gcm::new_from_slice(key).map_err(|_| CryptoError::InvalidKey)
    }
}

impl FromKey for Aes256Gcm {
    fn from_key(key: &[u8]) -> Result<Self, CryptoError> {
        Aes256Gcm::new_from_slice(key).map_err(|_| CryptoError::InvalidKey)
    }
}

/// An AES AEAD algorithm.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Aead {
    /// AES-128-CCM, 16-byte tag, nonce of 7 to 13 bytes.
    Aes128Ccm,
    /// AES-128-CCM_8, 8-byte tag, nonce of 7 to 13 bytes.
    Aes128Ccm8,
    /// AES-128-GCM, 16-byte tag, 12-byte nonce.
    Aes128Gcm,
    /// AES-256-CCM, 16-byte tag, nonce of 7 to 13 bytes.
    Aes256Ccm,
    /// AES-256-CCM_8, 8-byte tag, nonce of 7 to 13 bytes.
    Aes256Ccm8,
    /// AES-256-GCM, 16-byte tag, 12-byte nonce.
    Aes256Gcm,
}

impl Aead {
    /// The variant of `mode`'s mode (CCM, CCM_8 or GCM, whatever its AES size)
    /// for a key of `key_len` bytes: 16 selects AES-128, 32 AES-256, and any
    /// other length is `InvalidKey`.
    pub const fn for_key(mode: Aead, key_len: usize) -> Result<Aead, CryptoError> {
        use Aead::*;
        Ok(match (mode, key_len) {
            (Aes128Ccm | Aes256Ccm, 16) => Aes128Ccm,
            (Aes128Ccm8 | Aes256Ccm8, 16) => Aes128Ccm8,
            (Aes128Gcm | Aes256Gcm, 16) => Aes128Gcm,
            (Aes128Ccm | Aes256Ccm, 32) => Aes256Ccm,
            (Aes128Ccm8 | Aes256Ccm8, 32) => Aes256Ccm8,
            (Aes128Gcm | Aes256Gcm, 32) => Aes256Gcm,
            _ => return Err(CryptoError::InvalidKey),
        })
    }

    /// The key length in bytes.
    pub const fn key_len(self) -> usize {
        match self {
            Aead::Aes128Ccm | Aead::Aes128Ccm8 | Aead::Aes128Gcm => 16,
            Aead::Aes256Ccm | Aead::Aes256Ccm8 | Aead::Aes256Gcm => 32,
        }
    }

    /// The tag length in bytes.
    pub const fn tag_len(self) -> usize {
        match self {
            Aead::Aes128Ccm8 | Aead::Aes256Ccm8 => 8,
            _ => 16,
        }
    }

    /// Whether `len` is an accepted nonce length.
    pub const fn nonce_len_ok(self, len: usize) -> bool {
        match self {
            Aead::Aes128Gcm | Aead::Aes256Gcm => len == 12,
            _ => len >= 7 && len <= 13,
        }
    }
}

/// Encrypts and authenticates `plaintext` with `aad`; returns
/// `ciphertext ‖ tag`. `InvalidKey` for a key that is not 16 bytes,
/// `InvalidLength` for an unsupported nonce length or a plaintext too long
/// for the CCM length field.
pub fn seal(
    alg: Aead,
    key: &[u8],
    nonce: &[u8],
    aad: &[u8],
    plaintext: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    check_params(alg, key, nonce)?;
    let tag_len = alg.tag_len();
    let mut buf = Vec::new();
    buf.try_reserve_exact(plaintext.len().saturating_add(tag_len))
        .map_err(|_| CryptoError::InvalidLength)?;
    buf.extend_from_slice(plaintext);
    let sealed = match alg {
        Aead::Aes128Gcm => seal_with::<Aes128Gcm>(key, nonce, aad, &mut buf),
        Aead::Aes256Gcm => seal_with::<Aes256Gcm>(key, nonce, aad, &mut buf),
        Aead::Aes128Ccm | Aead::Aes256Ccm => {
            ccm_dispatch!(seal_with, U16, nonce.len(), key, nonce, aad, &mut buf)
        }
        Aead::Aes128Ccm8 | Aead::Aes256Ccm8 => {
            ccm_dispatch!(seal_with, U8, nonce.len(), key, nonce, aad, &mut buf)
        }
    };
    // The buffer held plaintext until encrypted: never leave a copy behind.
    if sealed.is_err() {
        zeroize::Zeroize::zeroize(&mut buf);
    }
    sealed.map(|()| buf)
}

/// Verifies and decrypts `ciphertext ‖ tag`. `InvalidKey` / `InvalidLength`
/// as for [`seal`]; `AuthenticationFailed` for a sealed input shorter than
/// the tag, or whose tag does not verify under `key`, `nonce` and `aad`.
pub fn open(
    alg: Aead,
    key: &[u8],
    nonce: &[u8],
    aad: &[u8],
    sealed: &[u8],
) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    check_params(alg, key, nonce)?;
    let ct_len = sealed
        .len()
        .checked_sub(alg.tag_len())
        .ok_or(CryptoError::AuthenticationFailed)?;
    let (ct, tag) = sealed
        .split_at_checked(ct_len)
        .ok_or(CryptoError::AuthenticationFailed)?;
    let mut buf = Zeroizing::new(Vec::new());
    buf.try_reserve_exact(ct.len())
        .map_err(|_| CryptoError::InvalidLength)?;
    buf.extend_from_slice(ct);
    let opened = match alg {
        Aead::Aes128Gcm => open_with::<Aes128Gcm>(key, nonce, aad, &mut buf, tag),
        Aead::Aes256Gcm => open_with::<Aes256Gcm>(key, nonce, aad, &mut buf, tag),
        Aead::Aes128Ccm | Aead::Aes256Ccm => {
            ccm_dispatch!(open_with, U16, nonce.len(), key, nonce, aad, &mut buf, tag)
        }
        Aead::Aes128Ccm8 | Aead::Aes256Ccm8 => {
            ccm_dispatch!(open_with, U8, nonce.len(), key, nonce, aad, &mut buf, tag)
        }
    };
    // On failure `buf` (possibly holding unauthenticated plaintext) is
    // wiped when dropped.
    opened.map(|()| buf)
}

fn check_params(alg: Aead, key: &[u8], nonce: &[u8]) -> Result<(), CryptoError> {
    if key.len() != alg.key_len() {
        return Err(CryptoError::InvalidKey);
    }
    if !alg.nonce_len_ok(nonce.len()) {
        return Err(CryptoError::InvalidLength);
    }
    Ok(())
}

/// Encrypts `buf` in place and appends the tag.
fn seal_with<A: AeadInPlace + FromKey>(
    key: &[u8],
    nonce: &[u8],
    aad: &[u8],
    buf: &mut Vec<u8>,
) -> Result<(), CryptoError> {
    let cipher = A::from_key(key)?;
    let nonce = exact::<A::NonceSize>(nonce)?;
    let tag = cipher
        .encrypt_in_place_detached(&nonce, aad, buf.as_mut_slice())
        .map_err(|_| CryptoError::InvalidLength)?;
    buf.extend_from_slice(tag.as_slice());
    Ok(())
}

/// Decrypts `buf` in place after checking `tag`.
fn open_with<A: AeadInPlace + FromKey>(
    key: &[u8],
    nonce: &[u8],
    aad: &[u8],
    buf: &mut Vec<u8>,
    tag: &[u8],
) -> Result<(), CryptoError> {
    let cipher = A::from_key(key)?;
    let nonce = exact::<A::NonceSize>(nonce)?;
    let tag = GenericArray::<u8, A::TagSize>::from_exact_iter(tag.iter().copied())
        .ok_or(CryptoError::AuthenticationFailed)?;
    cipher
        .decrypt_in_place_detached(&nonce, aad, buf.as_mut_slice(), &tag)
        .map_err(|_| CryptoError::AuthenticationFailed)
}

fn exact<N: ArrayLength<u8>>(bytes: &[u8]) -> Result<GenericArray<u8, N>, CryptoError> {
    GenericArray::from_exact_iter(bytes.iter().copied()).ok_or(CryptoError::InvalidLength)
}
