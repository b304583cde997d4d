//! ECDSA P-256 SHA-256 signatures (CertificateVerify, ServerKeyExchange)
//! with the key stored in the TA, always **inside a handshake session**:
//! there is no standalone `Sign` (which would need a `SIGN` grant and
//! would sign anything). rustls hands the signer the bytes to sign; we
//! recognise which of the three TLS signatures it is and ask the session
//! it belongs to, which checks it (see `seam_proto::handshake`):
//!
//! * TLS 1.3 CertificateVerify content (64 spaces, context, 0, hash): the
//!   newest session of this provider that has its handshake keys and has
//!   not signed yet; the TA checks the structure and the role's context.
//! * TLS 1.2 ServerKeyExchange (`client_random ‖ server_random ‖
//!   ServerECDHParams`): the session whose fresh point the params carry;
//!   the TA rebuilds the params from its own key.
//! * TLS 1.2 CertificateVerify (the handshake messages so far): the session
//!   whose point the last message, our ClientKeyExchange, carries; the TA
//!   parses the transcript and checks that point.

use std::sync::Arc;

use rustls::sign::{Signer, SigningKey};
use rustls::{Error, SignatureAlgorithm, SignatureScheme};
use seam_crypto::framing::{self, kind, Framing, Messages, NAMED_CURVE_P256};
use seam_proto::handshake::{Step, StepReply};
use seam_proto::KeyRef;

use super::secrets::{self, lock, Glue, Inner};

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

fn general(why: &str) -> Error {
    Error::General(format!("seam TA: {why}"))
}

fn der(sig: &[u8; 64]) -> Vec<u8> {
    let (der, len) = seam_crypto::sign::signature_to_der(sig);
    der[..len].to_vec()
}

fn signature(reply: seam::Result<StepReply>) -> Result<[u8; 64], Error> {
    match reply.map_err(secrets::ta_error)? {
        StepReply::Signature(s) => Ok(s.0),
        other => Err(general(&format!("expected a signature, got {other:?}"))),
    }
}

/// The session whose fresh ECDHE point is `point`.
fn by_point(point: &[u8]) -> Result<Arc<Glue>, Error> {
    secrets::kx_for(point).ok_or_else(|| general("no session of ours has that key share"))
}

impl TaSigner {
    fn tls13(&self, message: &[u8]) -> Result<Vec<u8>, Error> {
        let glue = self
            .inner
            .newest(|s| s.hs.is_some() && !s.signed)
            .ok_or_else(|| general("no TLS 1.3 session waiting for a CertificateVerify"))?;
        let step = Step::Tls13SignCertificateVerify {
            content: heapless::Vec::from_slice(message)
                .map_err(|_| general("CertificateVerify content too long"))?,
        };
        let sig = signature(glue.step(step))?;
        lock(&glue.state).signed = true;
        Ok(der(&sig))
    }

    fn server_key_exchange(&self, message: &[u8]) -> Result<Vec<u8>, Error> {
        let (randoms, params) = message.split_at(64);
        let glue = by_point(&params[4..])?;
        let mut client_random = [0u8; 32];
        let mut server_random = [0u8; 32];
        client_random.copy_from_slice(&randoms[..32]);
        server_random.copy_from_slice(&randoms[32..]);
        let sig = signature(glue.step(Step::Tls12SignServerKeyExchange {
            client_random,
            server_random,
        }))?;
        Ok(der(&sig))
    }

    fn tls12_certificate_verify(&self, message: &[u8]) -> Result<Vec<u8>, Error> {
        let last = Messages::new(Framing::Tls, message)
            .last()
            .and_then(|m| m.ok())
            .filter(|m| m.kind == kind::CLIENT_KEY_EXCHANGE)
            .ok_or_else(|| {
                general("a TLS 1.2 CertificateVerify must follow our ClientKeyExchange")
            })?;
        let point = framing::ecdhe_client_point(last.body).map_err(|e| general(e.0))?;
        let glue = by_point(point)?;
        let sig = lock(&glue.inner.client)
            .handshake_sign_certificate_verify(glue.session, message)
            .map_err(secrets::ta_error)?;
        let der = der(&sig.0);
        // Our Finished covers the transcript through this CertificateVerify:
        // known now, so the key block's invocation can compute it ahead.
        let mut cv = vec![kind::CERTIFICATE_VERIFY, 0, 0, 0, 0x04, 0x03];
        cv.extend_from_slice(&(der.len() as u16).to_be_bytes());
        cv.extend_from_slice(&der);
        let body_len = cv.len() - 4;
        cv[1..4].copy_from_slice(&[
            (body_len >> 16) as u8,
            (body_len >> 8) as u8,
            body_len as u8,
        ]);
        let hash = seam_crypto::hash::sha256_parts(&[message, &cv]);
        let mut state = lock(&glue.state);
        state.signed = true;
        state.client_finished_hash = Some(hash);
        Ok(der)
    }
}

impl Signer for TaSigner {
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, Error> {
        let r = if message.len() > 64 && message[..64].iter().all(|b| *b == 0x20) {
            self.tls13(message)
        } else if message.len() == 64 + 4 + 65 && message[64..68] == NAMED_CURVE_P256 {
            self.server_key_exchange(message)
        } else {
            self.tls12_certificate_verify(message)
        };
        if let Err(e) = &r {
            self.inner.record_error(e.to_string());
        }
        r
    }

    fn scheme(&self) -> SignatureScheme {
        SignatureScheme::ECDSA_NISTP256_SHA256
    }
}
