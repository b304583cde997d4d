//! ECDSA P-256 SHA-256 signatures (CertificateVerify, ServerKeyExchange)
//! with a key stored in the TA. The message is hashed here and the digest
//! signed inside (`Op::Sign`, which needs a `SIGN` grant on the key under
//! its SUID); the private key never leaves.

use std::sync::Arc;

use rustls::sign::{Signer, SigningKey};
use rustls::{Error, SignatureAlgorithm, SignatureScheme};
use seam_proto::KeyRef;

use super::secrets::{self, lock, Inner};

pub(crate) struct TaSigningKey {
    pub inner: Arc<Inner>,
    pub key: KeyRef,
}

impl std::fmt::Debug for TaSigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "seam TA key {}/{}", self.key.se, self.key.key)
    }
}

impl SigningKey for TaSigningKey {
    fn choose_scheme(&self, offered: &[SignatureScheme]) -> Option<Box<dyn Signer>> {
        offered
            .contains(&SignatureScheme::ECDSA_NISTP256_SHA256)
            .then(|| {
                Box::new(TaSigner {
                    inner: self.inner.clone(),
                    key: self.key.clone(),
                }) as Box<dyn Signer>
            })
    }

    fn algorithm(&self) -> SignatureAlgorithm {
        SignatureAlgorithm::ECDSA
    }
}

struct TaSigner {
    inner: Arc<Inner>,
    key: KeyRef,
}

impl std::fmt::Debug for TaSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "seam TA signer {}/{}", self.key.se, self.key.key)
    }
}

impl Signer for TaSigner {
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, Error> {
        let digest = seam_crypto::hash::sha256(message);
        let sig = lock(&self.inner.client)
            .sign_digest(&self.key, &digest)
            .map_err(secrets::ta_error)?;
        let (der, len) = seam_crypto::sign::signature_to_der(&sig.0);
        Ok(der[..len].to_vec())
    }

    fn scheme(&self) -> SignatureScheme {
        SignatureScheme::ECDSA_NISTP256_SHA256
    }
}
