//! JOSE key operations the Secure Environment performs (RFC 7515/7516/7518),
//! for oneM2M end-to-end security (TS-0003 §8.4) and dynamic authorization
//! (§7.3).
//!
//! The host library does the encoding (base64url, JSON, compact and flattened
//! serialisations) and refuses malformed JOSE before it calls; the SE does
//! every step that touches a key: it generates the content-encryption key
//! (CEK), wraps it, agrees the ECDH-ES key, encrypts and decrypts — the CEK and
//! every derived key stay inside. JWS signing and verification use the generic
//! [`crate::Op::Sign`], [`crate::Op::Verify`], [`crate::Op::Mac`] and
//! [`crate::Op::MacVerify`].

use heapless::Vec;
use serde::{Deserialize, Serialize};

use crate::{Data, HeapVec, KeyRef, PublicKey, Sealed};

/// Longest JWE protected header the SE takes, as JSON text.
pub const MAX_JOSE_HEADER: usize = 3 * 1024;
/// Longest base64url-encoded protected header (the AEAD's associated data).
pub const MAX_JOSE_PROTECTED: usize = 4 * 1024;
/// Longest JWE encrypted key: a wrapped 256-bit CEK (RFC 3394 adds 8 bytes).
pub const MAX_ENCRYPTED_KEY: usize = 40;
/// Longest `apu` / `apv` (decoded) for ECDH-ES.
pub const MAX_PARTY_INFO: usize = 64;
/// JWE initialisation vector: 96 bits for AES-GCM (RFC 7518 §5.3).
pub const JWE_IV_LEN: usize = 12;
/// JWE authentication tag: 128 bits for AES-GCM.
pub const JWE_TAG_LEN: usize = 16;
/// Shortest and longest ESPrim random value (`esprimRandValue`, decoded):
/// at least 128 bits, so that no two sessions share a key by chance.
pub const MIN_ESPRIM_RAND: usize = 16;
pub const MAX_ESPRIM_RAND: usize = 64;

/// JWE key management (`alg`, RFC 7518 §4).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum JweAlg {
    /// The stored secret is the CEK.
    Dir,
    /// A fresh CEK wrapped with a stored 128-bit key (RFC 3394).
    A128Kw,
    /// A fresh CEK wrapped with a stored 256-bit key.
    A256Kw,
    /// ECDH-ES with the Concat KDF to a 128-bit KEK that wraps a fresh CEK:
    /// to a stored public key when encrypting, with a stored P-256 private
    /// key when decrypting.
    EcdhEsA128Kw,
}

impl JweAlg {
    /// The `alg` header value.
    pub const fn name(self) -> &'static str {
        match self {
            JweAlg::Dir => "dir",
            JweAlg::A128Kw => "A128KW",
            JweAlg::A256Kw => "A256KW",
            JweAlg::EcdhEsA128Kw => "ECDH-ES+A128KW",
        }
    }

    pub fn from_name(name: &str) -> Option<JweAlg> {
        [
            JweAlg::Dir,
            JweAlg::A128Kw,
            JweAlg::A256Kw,
            JweAlg::EcdhEsA128Kw,
        ]
        .into_iter()
        .find(|a| a.name() == name)
    }
}

/// JWE content encryption (`enc`, RFC 7518 §5.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum JweEnc {
    A128Gcm,
    A256Gcm,
}

impl JweEnc {
    /// The `enc` header value.
    pub const fn name(self) -> &'static str {
        match self {
            JweEnc::A128Gcm => "A128GCM",
            JweEnc::A256Gcm => "A256GCM",
        }
    }

    /// The CEK length in bytes.
    pub const fn key_len(self) -> usize {
        match self {
            JweEnc::A128Gcm => 16,
            JweEnc::A256Gcm => 32,
        }
    }

    pub fn from_name(name: &str) -> Option<JweEnc> {
        [JweEnc::A128Gcm, JweEnc::A256Gcm]
            .into_iter()
            .find(|e| e.name() == name)
    }
}

/// A JOSE operation run inside the SE.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum JoseOp {
    /// Encrypt `plaintext` for the key `key` names (needs `ENCRYPT`).
    ///
    /// `header` is the protected header as a JSON object text; the SE
    /// checks that it ends with `}` and, for ECDH-ES, inserts the ephemeral
    /// key as `"epk"` before that brace. The SE base64url-encodes the result,
    /// which is the AEAD's associated data and comes back as `protected`.
    JweEncrypt {
        key: KeyRef,
        alg: JweAlg,
        enc: JweEnc,
        header: HeapVec<u8, MAX_JOSE_HEADER>,
        plaintext: Data,
    },
    /// Decrypt a JWE with the key `key` names (needs `DECRYPT`). The host
    /// has parsed `protected` and checked that its `alg`/`enc` are these;
    /// for ECDH-ES it passes the header's `epk`, `apu` and `apv`.
    JweDecrypt {
        key: KeyRef,
        alg: JweAlg,
        enc: JweEnc,
        protected: HeapVec<u8, MAX_JOSE_PROTECTED>,
        epk: Option<PublicKey>,
        apu: Vec<u8, MAX_PARTY_INFO>,
        apv: Vec<u8, MAX_PARTY_INFO>,
        encrypted_key: Vec<u8, MAX_ENCRYPTED_KEY>,
        iv: [u8; JWE_IV_LEN],
        /// Ciphertext ‖ tag.
        ciphertext: Sealed,
    },
    /// ESPrim (TS-0003 §8.4.2): a `dir` JWE whose CEK is the
    /// sessionESPrimKey, HMAC-SHA-256(pairwise key, receiver rand ‖
    /// originator rand ‖ "oneM2M HMAC-SHA256 sessionESPrimKey derivation
    /// algorithm"), derived here from the pairwise ESPrim key `key` (a secret
    /// whose SUID's use digit is 3; needs `ENCRYPT`) for this call only:
    /// never stored, never returned. `enc` must be `A256GCM` (the session key
    /// is 256 bits). `header` as for `JweEncrypt`; answers `JoseReply::Jwe`.
    EsPrimEncrypt {
        key: KeyRef,
        rands: EsPrimRands,
        enc: JweEnc,
        header: HeapVec<u8, MAX_JOSE_HEADER>,
        plaintext: Data,
    },
    /// Open an ESPrim object: the same derivation (needs `DECRYPT`), then
    /// as `JweDecrypt` with `dir`.
    EsPrimDecrypt {
        key: KeyRef,
        rands: EsPrimRands,
        enc: JweEnc,
        protected: HeapVec<u8, MAX_JOSE_PROTECTED>,
        iv: [u8; JWE_IV_LEN],
        /// Ciphertext ‖ tag.
        ciphertext: Sealed,
    },
}

/// The two random values a sessionESPrimKey is derived from (TS-0003
/// §8.4.2): the ESPrim receiver's (the target's published `esprimRandValue`)
/// and the originator's, each [`MIN_ESPRIM_RAND`]..=[`MAX_ESPRIM_RAND`] bytes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EsPrimRands {
    pub receiver: Vec<u8, MAX_ESPRIM_RAND>,
    pub originator: Vec<u8, MAX_ESPRIM_RAND>,
}

/// What a [`JoseOp`] answers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum JoseReply {
    /// The parts of a JWE (RFC 7516 §3): the host serialises them.
    Jwe {
        protected: HeapVec<u8, MAX_JOSE_PROTECTED>,
        encrypted_key: Vec<u8, MAX_ENCRYPTED_KEY>,
        iv: [u8; JWE_IV_LEN],
        /// Ciphertext ‖ tag.
        ciphertext: Sealed,
    },
}
