//! The keys a JOSE test needs, provisioned into one stakeholder's SE through
//! admin commands (wrapped imports, so the fixture works on the real TA
//! too), with the peer's copy of each as a JWK for an outside implementation.

use base64ct::{Base64UrlUnpadded, Encoding};
use seam::proto::{KeyRef, ObjectKind, Ops, PublicKey};
use serde_json::{json, Value};

use crate::{Stakeholder, Who};

/// SUID of encryption keys: ESData authenticated encryption.
pub const ENC_SUID: u8 = 44;
/// SUID of signature keys: ESData signature-only.
pub const SIG_SUID: u8 = 45;

/// One key in the SE and what the peer holds of it.
pub struct JoseKey {
    pub key: KeyRef,
    /// The peer's JWK (the shared secret, the SE key's public half, or a
    /// private key whose public half the SE trusts).
    pub jwk: Value,
}

pub struct JoseKeys {
    /// ES256: a key pair generated in the SE (peer: its public key).
    pub es_own: JoseKey,
    /// ES256: the peer's key pair; the SE holds only its public key.
    pub es_peer: JoseKey,
    pub hs: JoseKey,
    pub dir128: JoseKey,
    pub dir256: JoseKey,
    pub kw128: JoseKey,
    pub kw256: JoseKey,
    /// ECDH-ES: a key pair generated in the SE (the peer encrypts to it).
    pub ecdh_own: JoseKey,
    /// ECDH-ES: the peer's key pair; the SE encrypts to its public key.
    pub ecdh_peer: JoseKey,
}

fn b64(b: &[u8]) -> String {
    Base64UrlUnpadded::encode_string(b)
}

pub fn public_jwk(public: &PublicKey) -> Value {
    json!({"kty": "EC", "crv": "P-256", "x": b64(&public.0[1..33]), "y": b64(&public.0[33..])})
}

fn private_jwk(scalar: &[u8; 32]) -> (PublicKey, Value) {
    let public = PublicKey(seam_crypto::sign::public_key(scalar).unwrap());
    let mut jwk = public_jwk(&public);
    jwk["d"] = Value::String(b64(scalar));
    (public, jwk)
}

fn random<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    getrandom(&mut b);
    b
}

fn getrandom(out: &mut [u8]) {
    use p256::elliptic_curve::rand_core::{OsRng, RngCore};
    OsRng.fill_bytes(out);
}

fn scalar() -> [u8; 32] {
    let sk = p256::SecretKey::random(&mut p256::elliptic_curve::rand_core::OsRng);
    sk.to_bytes().into()
}

impl JoseKeys {
    /// Provision every key into `s`'s SE and grant `who` what each is for.
    pub fn provision(s: &Stakeholder<'_>, who: Who) -> JoseKeys {
        let mut c = s.device.client();
        let suid = crate::suid;
        let secret = |object: &str, bytes: &[u8], suid_n: u8, ops: Ops| {
            s.device
                .client()
                .import_wrapped(
                    &s.admin,
                    &s.se,
                    object,
                    suid(suid_n),
                    ObjectKind::Secret,
                    bytes,
                )
                .unwrap_or_else(|e| panic!("importing {object}: {e}"));
            s.grant(object, who, ops, suid_n);
            JoseKey {
                key: s.key(object, suid_n),
                jwk: json!({"kty": "oct", "k": b64(bytes)}),
            }
        };
        let enc = Ops::ENCRYPT.union(Ops::DECRYPT);
        let hs = secret("hs", &random::<32>(), SIG_SUID, Ops::MAC);
        let dir128 = secret("dir128", &random::<16>(), ENC_SUID, enc);
        let dir256 = secret("dir256", &random::<32>(), ENC_SUID, enc);
        let kw128 = secret("kw128", &random::<16>(), ENC_SUID, enc);
        let kw256 = secret("kw256", &random::<32>(), ENC_SUID, enc);

        let es_public = s.generate("es-own", SIG_SUID);
        s.grant("es-own", who, Ops::SIGN.union(Ops::VERIFY), SIG_SUID);
        let es_own = JoseKey {
            key: s.key("es-own", SIG_SUID),
            jwk: public_jwk(&es_public),
        };
        let (peer_public, peer_jwk) = private_jwk(&scalar());
        c.import_public_key(&s.admin, &s.se, "es-peer", suid(SIG_SUID), &peer_public)
            .unwrap();
        s.grant("es-peer", who, Ops::VERIFY, SIG_SUID);
        let es_peer = JoseKey {
            key: s.key("es-peer", SIG_SUID),
            jwk: peer_jwk,
        };

        let ecdh_public = s.generate("ecdh-own", ENC_SUID);
        s.grant("ecdh-own", who, Ops::DECRYPT, ENC_SUID);
        let ecdh_own = JoseKey {
            key: s.key("ecdh-own", ENC_SUID),
            jwk: public_jwk(&ecdh_public),
        };
        let (recipient, recipient_jwk) = private_jwk(&scalar());
        c.import_public_key(&s.admin, &s.se, "ecdh-peer", suid(ENC_SUID), &recipient)
            .unwrap();
        s.grant("ecdh-peer", who, Ops::ENCRYPT, ENC_SUID);
        let ecdh_peer = JoseKey {
            key: s.key("ecdh-peer", ENC_SUID),
            jwk: recipient_jwk,
        };
        JoseKeys {
            es_own,
            es_peer,
            hs,
            dir128,
            dir256,
            kw128,
            kw256,
            ecdh_own,
            ecdh_peer,
        }
    }
}
