//! Signing of issuer and admin commands. The key belongs to the issuer or a
//! stakeholder's admin and is used on their side only, never sent anywhere.

use p256::ecdsa::signature::Signer as _;
use p256::ecdsa::{Signature as EcdsaSignature, SigningKey, VerifyingKey};
use p256::pkcs8::{
    DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey, LineEnding,
};
use seam_proto::{PublicKey, Signature};

use crate::{Error, Result};

/// Something that signs command payloads with ECDSA P-256 SHA-256.
pub trait CommandSigner {
    fn sign(&self, payload: &[u8]) -> Result<Signature>;
    fn public_key(&self) -> PublicKey;
}

/// A P-256 key held in this process.
pub struct AdminKey(SigningKey);

impl AdminKey {
    pub fn generate() -> Self {
        AdminKey(SigningKey::random(
            &mut p256::elliptic_curve::rand_core::OsRng,
        ))
    }

    /// From a 32-byte big-endian scalar (tests use fixed keys).
    pub fn from_scalar(scalar: &[u8; 32]) -> Result<Self> {
        SigningKey::from_slice(scalar)
            .map(AdminKey)
            .map_err(|_| Error::InvalidInput("not a valid P-256 private scalar".into()))
    }

    /// From a PEM file: PKCS#8 (`BEGIN PRIVATE KEY`) or SEC1 (`BEGIN EC PRIVATE KEY`).
    pub fn from_pem(pem: &str) -> Result<Self> {
        if let Ok(k) = SigningKey::from_pkcs8_pem(pem) {
            return Ok(AdminKey(k));
        }
        p256::SecretKey::from_sec1_pem(pem)
            .map(|k| AdminKey(SigningKey::from(k)))
            .map_err(|_| {
                Error::InvalidInput("not a P-256 private key in PKCS#8 or SEC1 PEM".into())
            })
    }

    pub fn to_pem(&self) -> Result<String> {
        self.0
            .to_pkcs8_pem(LineEnding::LF)
            .map(|p| p.to_string())
            .map_err(|e| Error::InvalidInput(format!("cannot encode the key: {e}")))
    }
}

impl CommandSigner for AdminKey {
    fn sign(&self, payload: &[u8]) -> Result<Signature> {
        let sig: EcdsaSignature = self.0.sign(payload);
        // The TA accepts only low-S command signatures (no malleable twin).
        let sig = sig.normalize_s().unwrap_or(sig);
        let bytes: [u8; 64] = sig.to_bytes().into();
        Ok(Signature(bytes))
    }

    fn public_key(&self) -> PublicKey {
        public_key_of(self.0.verifying_key())
    }
}

fn public_key_of(key: &VerifyingKey) -> PublicKey {
    let point = key.to_encoded_point(false);
    let mut out = [0u8; 65];
    out.copy_from_slice(point.as_bytes());
    PublicKey(out)
}

/// A public key from SPKI PEM (`BEGIN PUBLIC KEY`).
pub fn public_key_from_pem(pem: &str) -> Result<PublicKey> {
    VerifyingKey::from_public_key_pem(pem)
        .map(|k| public_key_of(&k))
        .map_err(|_| {
            Error::InvalidInput("not a P-256 public key in SPKI PEM (BEGIN PUBLIC KEY)".into())
        })
}

/// A public key as SPKI PEM.
pub fn public_key_to_pem(key: &PublicKey) -> Result<String> {
    VerifyingKey::from_sec1_bytes(key.as_bytes())
        .map_err(|_| Error::InvalidInput("not a valid P-256 point".into()))?
        .to_public_key_pem(LineEnding::LF)
        .map_err(|e| Error::InvalidInput(format!("cannot encode the key: {e}")))
}

/// Verify a raw `r ‖ s` signature outside the SE (what a peer would do).
pub fn verify_with(key: &PublicKey, message: &[u8], signature: &Signature) -> bool {
    use p256::ecdsa::signature::Verifier as _;
    let Ok(vk) = VerifyingKey::from_sec1_bytes(key.as_bytes()) else {
        return false;
    };
    let Ok(sig) = EcdsaSignature::from_slice(signature.as_bytes()) else {
        return false;
    };
    vk.verify(message, &sig).is_ok()
}
