//! The TLS 1.3 key schedule (RFC 8446 §7) with HKDF-SHA-256, for P-256
//! ECDHE with the TA's fresh key (the step interface, rustls). No external
//! PSK: a PSK-only schedule over caller-chosen transcripts would let a
//! co-grantee replay another caller's session.
//!
//! Order, per session: `Handshake` → in any order `SignCertificateVerify`
//! and the two `Finished` → `Application` (after the server's Finished) →
//! `KeyUpdate` / `Export` / `ExportKey`. Every step but `KeyUpdate` and
//! `Export` is one-shot. The secrets that never leave: the handshake and
//! master secrets, the four traffic secrets, the exporter master secret, the
//! Finished keys.

use seam_proto::handshake::{Role, Step, StepReply, TrafficKey, MAX_EXPORT};
use seam_proto::{Reason, Signature};
use zeroize::Zeroizing;

use super::{exportable_label, Kind, Session};
use crate::crypto::hash::sha256;
use crate::crypto::kdf::{hkdf_extract, tls13_derive_secret, tls13_expand_label};
use crate::crypto::mac::hmac_sha256;
use crate::crypto::{kx, sign};
use crate::records::SeRecord;

type Secret = Zeroizing<[u8; 32]>;

pub(crate) struct State {
    early: Secret,
    hs: Option<Handshake>,
    cv_done: bool,
    /// Finished done, `[client, server]`.
    finished: [bool; 2],
    app: Option<Application>,
}

struct Handshake {
    /// The handshake secret, until the master secret is derived.
    secret: Option<Secret>,
    client: Secret,
    server: Secret,
}

struct Application {
    client: Secret,
    server: Secret,
    exporter: Secret,
}

fn empty_hash() -> [u8; 32] {
    sha256(&[])
}

fn crypto_err(_: crate::crypto::CryptoError) -> Reason {
    Reason::Internal
}

/// The schedule's pure functions, public to the crate for the RFC 8448 tests.
pub(crate) mod schedule {
    use super::*;

    /// Early Secret = HKDF-Extract(0, PSK or 0³²).
    pub fn early_secret(psk: Option<&[u8]>) -> Secret {
        hkdf_extract(&[], psk.unwrap_or(&[0u8; 32]))
    }

    /// HKDF-Extract(Derive-Secret(secret, "derived", ""), ikm).
    pub fn next_stage(secret: &[u8; 32], ikm: &[u8]) -> Result<Secret, Reason> {
        let salt = tls13_derive_secret(secret, b"derived", &empty_hash()).map_err(crypto_err)?;
        Ok(hkdf_extract(salt.as_ref(), ikm))
    }

    pub fn derive(secret: &[u8; 32], label: &[u8], hash: &[u8; 32]) -> Result<Secret, Reason> {
        tls13_derive_secret(secret, label, hash).map_err(crypto_err)
    }

    /// HMAC(HKDF-Expand-Label(base, "finished", "", 32), transcript).
    pub fn finished(base: &[u8; 32], transcript: &[u8; 32]) -> Result<Secret, Reason> {
        let mut key = Zeroizing::new([0u8; 32]);
        tls13_expand_label(base, b"finished", &[], key.as_mut()).map_err(crypto_err)?;
        Ok(Zeroizing::new(hmac_sha256(key.as_ref(), &[transcript])))
    }

    /// The write key and IV of a traffic secret.
    pub fn traffic_key(secret: &[u8; 32], key_len: u8) -> Result<TrafficKey, Reason> {
        if key_len != 16 && key_len != 32 {
            return Err(Reason::InvalidParameter);
        }
        let mut key = Zeroizing::new([0u8; 32]);
        let key = &mut key[..usize::from(key_len)];
        tls13_expand_label(secret, b"key", &[], key).map_err(crypto_err)?;
        let mut iv = [0u8; 12];
        tls13_expand_label(secret, b"iv", &[], &mut iv).map_err(crypto_err)?;
        Ok(TrafficKey {
            key: heapless::Vec::from_slice(key).map_err(|_| Reason::Internal)?,
            iv,
        })
    }

    /// TLS-Exporter(label, context_hash, len) from the exporter master secret.
    pub fn export(
        exporter: &[u8; 32],
        label: &[u8],
        context_hash: &[u8; 32],
        out: &mut [u8],
    ) -> Result<(), Reason> {
        let secret = derive(exporter, label, &empty_hash())?;
        tls13_expand_label(secret.as_ref(), b"exporter", context_hash, out).map_err(crypto_err)
    }
}

use schedule::*;

impl State {
    pub(crate) fn export_onem2m(&mut self, label: &[u8]) -> Result<Zeroizing<[u8; 48]>, Reason> {
        let app = self.app.as_ref().ok_or(Reason::StepOutOfOrder)?;
        let mut out = Zeroizing::new([0u8; 48]);
        export(&app.exporter, label, &empty_hash(), out.as_mut())?;
        Ok(out)
    }
}

fn side_index(side: Role) -> usize {
    match side {
        Role::Client => 0,
        Role::Server => 1,
    }
}

/// The CertificateVerify context strings (RFC 8446 §4.4.3).
const SERVER_CV: &[u8] = b"TLS 1.3, server CertificateVerify";
const CLIENT_CV: &[u8] = b"TLS 1.3, client CertificateVerify";

/// Is `content` a CertificateVerify content for `role`: 64 spaces, the
/// role's context string, 0x00, a 32-byte hash?
pub(crate) fn is_cv_content(role: Role, content: &[u8]) -> bool {
    let context = match role {
        Role::Server => SERVER_CV,
        Role::Client => CLIENT_CV,
    };
    content.len() == 64 + context.len() + 1 + 32
        && content[..64].iter().all(|b| *b == 0x20)
        && &content[64..64 + context.len()] == context
        && content[64 + context.len()] == 0
}

pub(crate) fn run(
    session: &mut Session,
    record: &SeRecord,
    step: &Step,
) -> Result<StepReply, Reason> {
    if let Kind::Undecided = session.kind {
        session.kind = Kind::Tls13(State {
            early: early_secret(None),
            hs: None,
            cv_done: false,
            finished: [false, false],
            app: None,
        });
    }
    let sign_key = match step {
        Step::Tls13SignCertificateVerify { .. } => Some(session.binding.signing_key(record)?),
        _ => None,
    };
    let Session {
        kind,
        role,
        ephemeral,
        ..
    } = session;
    let Kind::Tls13(state) = kind else {
        return Err(Reason::StepOutOfOrder);
    };
    match step {
        Step::Tls13Handshake {
            peer_public,
            transcript,
            key_len,
        } => {
            if state.hs.is_some() {
                return Err(Reason::StepOutOfOrder);
            }
            let private = ephemeral.take().ok_or(Reason::StepOutOfOrder)?;
            let shared =
                kx::ecdh(&private, peer_public.as_bytes()).map_err(|_| Reason::InvalidPublicKey)?;
            drop(private);
            let secret = next_stage(&state.early, shared.as_ref())?;
            let client = derive(&secret, b"c hs traffic", transcript.as_bytes())?;
            let server = derive(&secret, b"s hs traffic", transcript.as_bytes())?;
            let reply = StepReply::TrafficKeys {
                client: traffic_key(&client, *key_len)?,
                server: traffic_key(&server, *key_len)?,
            };
            state.hs = Some(Handshake {
                secret: Some(secret),
                client,
                server,
            });
            Ok(reply)
        }
        Step::Tls13SignCertificateVerify { content } => {
            let key = sign_key.ok_or(Reason::Internal)?;
            if state.hs.is_none() || state.cv_done {
                return Err(Reason::StepOutOfOrder);
            }
            // Only the TLS 1.3 CertificateVerify of our role: whatever hash
            // a caller puts in, the signature means nothing outside it.
            if !is_cv_content(*role, content) {
                return Err(Reason::InvalidParameter);
            }
            let sig = sign::sign_digest(&key, &crate::crypto::hash::sha256(content))
                .map_err(|_| Reason::StorageCorrupt)?;
            state.cv_done = true;
            Ok(StepReply::Signature(Signature(sig)))
        }
        Step::Tls13Finished { side, transcript } => {
            let i = side_index(*side);
            // Not one-shot, as for TLS 1.2: the provider may compute one ahead.
            let hs = state.hs.as_ref().ok_or(Reason::StepOutOfOrder)?;
            let base = match side {
                Role::Client => &hs.client,
                Role::Server => &hs.server,
            };
            let vd = finished(base, transcript.as_bytes())?;
            state.finished[i] = true;
            Ok(StepReply::VerifyData(
                heapless::Vec::from_slice(&vd[..]).map_err(|_| Reason::Internal)?,
            ))
        }
        Step::Tls13Application {
            transcript,
            key_len,
        } => {
            if state.app.is_some() || !state.finished[1] {
                return Err(Reason::StepOutOfOrder);
            }
            let hs = state.hs.as_mut().ok_or(Reason::StepOutOfOrder)?;
            let hs_secret = hs.secret.take().ok_or(Reason::StepOutOfOrder)?;
            let master = next_stage(&hs_secret, &[0u8; 32])?;
            drop(hs_secret);
            let t = transcript.as_bytes();
            let app = Application {
                client: derive(&master, b"c ap traffic", t)?,
                server: derive(&master, b"s ap traffic", t)?,
                exporter: derive(&master, b"exp master", t)?,
            };
            let reply = StepReply::TrafficKeys {
                client: traffic_key(&app.client, *key_len)?,
                server: traffic_key(&app.server, *key_len)?,
            };
            state.app = Some(app);
            Ok(reply)
        }
        Step::Tls13KeyUpdate { side, key_len } => {
            let app = state.app.as_mut().ok_or(Reason::StepOutOfOrder)?;
            let current = match side {
                Role::Client => &mut app.client,
                Role::Server => &mut app.server,
            };
            let mut next = Zeroizing::new([0u8; 32]);
            tls13_expand_label(current.as_ref(), b"traffic upd", &[], next.as_mut())
                .map_err(crypto_err)?;
            let key = traffic_key(&next, *key_len)?;
            *current = next;
            Ok(StepReply::TrafficKey(key))
        }
        Step::Tls13Export {
            label,
            context_hash,
            len,
        } => {
            exportable_label(label)?;
            let len = usize::from(*len);
            if len == 0 || len > MAX_EXPORT {
                return Err(Reason::InvalidParameter);
            }
            let app = state.app.as_ref().ok_or(Reason::StepOutOfOrder)?;
            let mut out = seam_proto::HeapVec::<u8, MAX_EXPORT>::new();
            out.resize(len, 0).map_err(|_| Reason::Internal)?;
            export(&app.exporter, label, context_hash.as_bytes(), &mut out)?;
            Ok(StepReply::Exported(out))
        }
        _ => Err(Reason::StepOutOfOrder),
    }
}

#[cfg(test)]
mod tests {
    //! RFC 8448 §3 (simple 1-RTT handshake): the key schedule from the
    //! X25519 shared secret on (the schedule does not care which group).
    use super::schedule::*;

    /// Hex, zero-padded to 32 bytes.
    fn h(s: &str) -> [u8; 32] {
        let mut out = [0u8; 32];
        for (i, o) in out.iter_mut().take(s.len() / 2).enumerate() {
            *o = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap();
        }
        out
    }

    #[test]
    fn rfc8448_simple_1rtt_schedule() {
        let early = early_secret(None);
        assert_eq!(
            *early,
            h("33ad0a1c607ec03b09e6cd9893680ce210adf300aa1f2660e1b22e10f170f92a")
        );
        let shared = h("8bd4054fb55b9d63fdfbacf9f04b9f0d35e6d63f537563efd46272900f89492d");
        let hs = next_stage(&early, &shared).unwrap();
        assert_eq!(
            *hs,
            h("1dc826e93606aa6fdc0aadc12f741b01046aa6b99f691ed221a9f0ca043fbeac")
        );
        let hash_ch_sh = h("860c06edc07858ee8e78f0e7428c58edd6b43f2ca3e6e95f02ed063cf0e1cad8");
        let c = derive(&hs, b"c hs traffic", &hash_ch_sh).unwrap();
        assert_eq!(
            *c,
            h("b3eddb126e067f35a780b3abf45e2d8f3b1a950738f52e9600746a0e27a55a21")
        );
        let s = derive(&hs, b"s hs traffic", &hash_ch_sh).unwrap();
        assert_eq!(
            *s,
            h("b67b7d690cc16c4e75e54213cb2d37b4e9c912bcded9105d42befd59d391ad38")
        );
        let key = traffic_key(&s, 16).unwrap();
        assert_eq!(&key.key[..], &h("3fce516009c21727d0f2e4e86ee403bc")[..16]);
        assert_eq!(&key.iv[..], &h("5d313eb2671276ee13000b30")[..12]);
        let master = next_stage(&hs, &[0u8; 32]).unwrap();
        assert_eq!(
            *master,
            h("18df06843d13a08bf2a449844c5f8a478001bc4d4c627984d5a41da8d0402919")
        );
    }
}
