//! What the TLS tests, the handshake benchmark and the device benchmark
//! share beyond `seam_tests::testing` (included with `mod common;` or
//! `#[path]`): rcgen, which issues their certificates, is a dev-dependency.
#![allow(dead_code)] // each includer uses a different subset

/// A public key of the TA, for rcgen to issue a certificate to.
pub struct TaPublicKey(pub seam::proto::PublicKey);

impl rcgen::PublicKeyData for TaPublicKey {
    fn der_bytes(&self) -> &[u8] {
        // The subjectPublicKey bits: the uncompressed SEC 1 point.
        &self.0 .0
    }

    fn algorithm(&self) -> &rcgen::SignatureAlgorithm {
        &rcgen::PKCS_ECDSA_P256_SHA256
    }
}
