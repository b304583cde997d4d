//! JWE with the keys inside (RFC 7516, algorithms of RFC 7518 §4.4, §4.5,
//! §4.6 and §5.3): the content-encryption key (CEK) is generated, wrapped,
//! unwrapped and used here and never returned; an ECDH-ES key is agreed here
//! with a stored private key, or to a stored (admin-imported) public key.
//!
//! The host has already refused malformed JOSE; what reaches here is checked
//! again for what matters to the keys: the key's kind and length must be the
//! ones `alg` and `enc` name (a `dir` key of 32 bytes is not an A128GCM CEK).

use alloc::vec::Vec;
use base64ct::{Base64UrlUnpadded, Encoding};
use seam_proto::handshake::SESSION_ESPRIM_LABEL;
use seam_proto::jose::{
    EsPrimRands, JoseOp, JoseReply, JweAlg, JweEnc, JWE_IV_LEN, MAX_ESPRIM_RAND,
    MAX_JOSE_PROTECTED, MAX_PARTY_INFO, MIN_ESPRIM_RAND,
};
use seam_proto::{KeyRef, ObjectKind, Ops, PublicKey, Reason, Reply};
use zeroize::Zeroizing;

use crate::access::{self, Identified};
use crate::crypto::{self, aead::Aead, ecdh_es, keywrap, Rng};
use crate::records::{self, StoredObject};
use crate::store::Store;

pub fn handle(
    store: &mut impl Store,
    rng: &mut dyn Rng,
    who: Identified,
    op: &JoseOp,
) -> Result<Reply, Reason> {
    match op {
        JoseOp::JweEncrypt {
            key,
            alg,
            enc,
            header,
            plaintext,
        } => jwe_encrypt(store, rng, who, key, *alg, *enc, header, plaintext),
        JoseOp::JweDecrypt {
            key,
            alg,
            enc,
            protected,
            epk,
            apu,
            apv,
            encrypted_key,
            iv,
            ciphertext,
        } => {
            let parts = Received {
                protected,
                epk: epk.as_ref(),
                apu,
                apv,
                encrypted_key,
                iv,
                ciphertext,
            };
            jwe_decrypt(store, who, key, *alg, *enc, &parts)
        }
        JoseOp::EsPrimEncrypt {
            key,
            rands,
            enc,
            header,
            plaintext,
        } => {
            let cek = session_esprim_key(store, who, key, Ops::ENCRYPT, rands, *enc)?;
            seal_jwe(rng, &cek[..], Vec::new(), None, header, plaintext)
        }
        JoseOp::EsPrimDecrypt {
            key,
            rands,
            enc,
            protected,
            iv,
            ciphertext,
        } => {
            let cek = session_esprim_key(store, who, key, Ops::DECRYPT, rands, *enc)?;
            open_jwe(&cek[..], iv, protected, ciphertext)
        }
    }
}

/// The sessionESPrimKey (TS-0003 §8.4.2) from the pairwise ESPrim key `key`,
/// for one call: the caller needs `op` on it, and it must be a `Pairwise`
/// key ([`access::esprim_ops`]) — a derivation source no generic `Mac`
/// reaches, since a MAC with it would return sessionESPrimKey in the clear.
/// Its role implies use digit 3, checked again so no ESData or (D)TLS key
/// doubles as an ESPrim key.
fn session_esprim_key(
    store: &mut impl Store,
    who: Identified,
    key: &KeyRef,
    op: Ops,
    rands: &EsPrimRands,
    enc: JweEnc,
) -> Result<Zeroizing<[u8; 32]>, Reason> {
    let rand_ok = |r: &[u8]| (MIN_ESPRIM_RAND..=MAX_ESPRIM_RAND).contains(&r.len());
    if enc != JweEnc::A256Gcm || !rand_ok(&rands.receiver) || !rand_ok(&rands.originator) {
        return Err(Reason::InvalidParameter);
    }
    let se = records::load_se(store, &key.se)?;
    let object = access::usable_esprim_key(&se, who, key, op)?;
    if key.suid.use_digit() != 3 {
        return Err(Reason::SuidForbidsOperation);
    }
    if object.kind != ObjectKind::Secret {
        return Err(Reason::WrongObjectKind);
    }
    Ok(Zeroizing::new(crypto::mac::hmac_sha256(
        &object.secret,
        &[
            &rands.receiver,
            &rands.originator,
            SESSION_ESPRIM_LABEL.as_bytes(),
        ],
    )))
}

/// The KDF parameters of `ECDH-ES+A128KW` (RFC 7518 §4.6.2: the `alg` value
/// names the key, as it is a key-wrapping key).
fn ecdh_params<'a>(apu: &'a [u8], apv: &'a [u8]) -> ecdh_es::KdfParams<'a> {
    ecdh_es::KdfParams {
        algorithm_id: JweAlg::EcdhEsA128Kw.name().as_bytes(),
        party_u: apu,
        party_v: apv,
    }
}

/// The stored symmetric key, if it is of the length `len` the algorithm needs.
fn secret_of(object: &StoredObject, len: usize) -> Result<&[u8], Reason> {
    if object.kind == ObjectKind::Secret && object.secret.len() == len {
        Ok(&object.secret)
    } else {
        Err(Reason::WrongObjectKind)
    }
}

fn kek_len(alg: JweAlg) -> usize {
    match alg {
        JweAlg::A256Kw => 32,
        _ => 16,
    }
}

/// `{"kty":"EC","crv":"P-256","x":…,"y":…}` for an uncompressed point.
fn epk_json(epk: &[u8; 65]) -> Result<Vec<u8>, Reason> {
    let coordinate = |c: &[u8]| -> Result<alloc::string::String, Reason> {
        let mut buf = [0u8; 43];
        let s = Base64UrlUnpadded::encode(c, &mut buf).map_err(|_| Reason::Internal)?;
        Ok(alloc::string::String::from(s))
    };
    let (x, y) = epk
        .get(1..33)
        .zip(epk.get(33..65))
        .ok_or(Reason::Internal)?;
    let mut out = Vec::new();
    out.extend_from_slice(br#""epk":{"kty":"EC","crv":"P-256","x":""#);
    out.extend_from_slice(coordinate(x)?.as_bytes());
    out.extend_from_slice(br#"","y":""#);
    out.extend_from_slice(coordinate(y)?.as_bytes());
    out.extend_from_slice(br#""}"#);
    Ok(out)
}

/// The header with `member` added as the object's last member. The header
/// must be a JSON object text (`{`…`}`); its members are the host's to check.
fn with_member(header: &[u8], member: Option<&[u8]>) -> Result<Vec<u8>, Reason> {
    let body = header
        .strip_prefix(b"{")
        .and_then(|h| h.strip_suffix(b"}"))
        .ok_or(Reason::InvalidParameter)?;
    let mut out = Vec::with_capacity(header.len() + 160);
    out.push(b'{');
    out.extend_from_slice(body);
    if let Some(member) = member {
        if body.iter().any(|b| !b.is_ascii_whitespace()) {
            out.push(b',');
        }
        out.extend_from_slice(member);
    }
    out.push(b'}');
    Ok(out)
}

#[allow(clippy::too_many_arguments)]
fn jwe_encrypt(
    store: &mut impl Store,
    rng: &mut dyn Rng,
    who: Identified,
    key: &KeyRef,
    alg: JweAlg,
    enc: JweEnc,
    header: &[u8],
    plaintext: &[u8],
) -> Result<Reply, Reason> {
    let se = records::load_se(store, &key.se)?;
    let object = access::usable_key(&se, who, key, Ops::ENCRYPT)?;
    let mut cek = Zeroizing::new([0u8; 32]);
    let cek = cek.get_mut(..enc.key_len()).ok_or(Reason::Internal)?;
    let (encrypted_key, epk) = match alg {
        JweAlg::Dir => {
            cek.copy_from_slice(secret_of(object, enc.key_len())?);
            (Vec::new(), None)
        }
        JweAlg::A128Kw | JweAlg::A256Kw => {
            let kek = secret_of(object, kek_len(alg))?;
            rng.fill(cek)?;
            (keywrap::wrap(kek, cek)?, None)
        }
        JweAlg::EcdhEsA128Kw => {
            if object.kind != ObjectKind::PublicKey {
                return Err(Reason::WrongObjectKind);
            }
            let recipient = object.public_key.ok_or(Reason::StorageCorrupt)?;
            let (epk, kek) =
                ecdh_es::sender_key(rng, recipient.as_bytes(), &ecdh_params(b"", b""), 16)?;
            rng.fill(cek)?;
            (keywrap::wrap(&kek, cek)?, Some(epk))
        }
    };
    seal_jwe(rng, cek, encrypted_key, epk, header, plaintext)
}

/// The protected header (with `epk` added, if any) and the content
/// encrypted under `cek` with a fresh IV: the parts of a JWE.
fn seal_jwe(
    rng: &mut dyn Rng,
    cek: &[u8],
    encrypted_key: Vec<u8>,
    epk: Option<[u8; 65]>,
    header: &[u8],
    plaintext: &[u8],
) -> Result<Reply, Reason> {
    let member = epk.as_ref().map(epk_json).transpose()?;
    let header = with_member(header, member.as_deref())?;
    let protected = encode_protected(&header)?;
    let mut iv = [0u8; JWE_IV_LEN];
    rng.fill(&mut iv)?;
    let aead = Aead::for_key(Aead::Aes128Gcm, cek.len())?;
    let sealed = crypto::aead::seal(aead, cek, &iv, &protected, plaintext)?;
    Ok(Reply::Jose(JoseReply::Jwe {
        protected,
        encrypted_key: heapless::Vec::from_slice(&encrypted_key).map_err(|_| Reason::Internal)?,
        iv,
        ciphertext: seam_proto::HeapVec::from_slice(&sealed)
            .map_err(|_| Reason::InvalidParameter)?,
    }))
}

fn open_jwe(
    cek: &[u8],
    iv: &[u8; JWE_IV_LEN],
    protected: &[u8],
    ciphertext: &[u8],
) -> Result<Reply, Reason> {
    let aead = Aead::for_key(Aead::Aes128Gcm, cek.len())?;
    let opened = crypto::aead::open(aead, cek, iv, protected, ciphertext)?;
    Ok(Reply::Plaintext(
        seam_proto::HeapVec::from_slice(&opened).map_err(|_| Reason::InvalidParameter)?,
    ))
}

fn encode_protected(header: &[u8]) -> Result<seam_proto::HeapVec<u8, MAX_JOSE_PROTECTED>, Reason> {
    let mut buf = [0u8; MAX_JOSE_PROTECTED];
    let encoded =
        Base64UrlUnpadded::encode(header, &mut buf).map_err(|_| Reason::InvalidParameter)?;
    seam_proto::HeapVec::from_slice(encoded.as_bytes()).map_err(|_| Reason::InvalidParameter)
}

/// A received JWE's parts, as the host parsed them.
struct Received<'a> {
    protected: &'a [u8],
    epk: Option<&'a PublicKey>,
    apu: &'a [u8],
    apv: &'a [u8],
    encrypted_key: &'a [u8],
    iv: &'a [u8; JWE_IV_LEN],
    ciphertext: &'a [u8],
}

fn jwe_decrypt(
    store: &mut impl Store,
    who: Identified,
    key: &KeyRef,
    alg: JweAlg,
    enc: JweEnc,
    jwe: &Received<'_>,
) -> Result<Reply, Reason> {
    if jwe.apu.len() > MAX_PARTY_INFO || jwe.apv.len() > MAX_PARTY_INFO {
        return Err(Reason::InvalidParameter);
    }
    let se = records::load_se(store, &key.se)?;
    let object = access::usable_key(&se, who, key, Ops::DECRYPT)?;
    let cek: Zeroizing<Vec<u8>> = match alg {
        JweAlg::Dir => {
            // RFC 7516 §5.2 step 10: with direct encryption the JWE
            // Encrypted Key is empty.
            if !jwe.encrypted_key.is_empty() {
                return Err(Reason::InvalidParameter);
            }
            Zeroizing::new(secret_of(object, enc.key_len())?.to_vec())
        }
        JweAlg::A128Kw | JweAlg::A256Kw => {
            keywrap::unwrap(secret_of(object, kek_len(alg))?, jwe.encrypted_key)?
        }
        JweAlg::EcdhEsA128Kw => {
            if object.kind != ObjectKind::EcP256 {
                return Err(Reason::WrongObjectKind);
            }
            let epk = jwe.epk.ok_or(Reason::InvalidParameter)?;
            let scalar: Zeroizing<[u8; 32]> = Zeroizing::new(
                object
                    .secret
                    .as_slice()
                    .try_into()
                    .map_err(|_| Reason::StorageCorrupt)?,
            );
            let kek = ecdh_es::recipient_key(
                &scalar,
                epk.as_bytes(),
                &ecdh_params(jwe.apu, jwe.apv),
                16,
            )?;
            keywrap::unwrap(&kek, jwe.encrypted_key)?
        }
    };
    // A wrapped key of the wrong size for `enc` is someone else's JWE.
    if cek.len() != enc.key_len() {
        return Err(Reason::AuthenticationFailed);
    }
    open_jwe(&cek, jwe.iv, jwe.protected, jwe.ciphertext)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_are_added_inside_the_object() {
        assert_eq!(
            with_member(br#"{"alg":"x"}"#, Some(br#""epk":1"#)).unwrap(),
            br#"{"alg":"x","epk":1}"#
        );
        assert_eq!(with_member(b"{}", Some(b"\"a\":1")).unwrap(), b"{\"a\":1}");
        assert_eq!(with_member(b"{}", None).unwrap(), b"{}");
        for bad in [&b""[..], b"{", b"}", b"[1]", b"{\"a\":1"] {
            assert_eq!(with_member(bad, None), Err(Reason::InvalidParameter));
        }
    }
}
