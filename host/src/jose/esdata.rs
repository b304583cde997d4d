//! ESData (TS-0003 §8.4.3): data protected for its readers end to end,
//! whoever stores or relays it. The signature-only class is a JWS
//! ([`super::jws_sign`]), the encryption-only class a JWE
//! ([`super::jwe_encrypt`]); this module is the class that does both.
//!
//! Choice where TS-0003 leaves one (listed in docs/api.md): sign, then
//! encrypt (RFC 7519 §11.2's order: the signature is hidden from the relays
//! and covers the plaintext the reader gets) — a compact JWS nested in a JWE
//! whose protected header says `"cty":"JOSE"` (RFC 7516 §4.1.12). The reader
//! key is symmetric (`dir`, `A128KW`, `A256KW`) or the reader's public key
//! (`ECDH-ES+A128KW`); the signer's key ES256 (its key pair, or the public
//! key the reader holds) or HS256.

use seam_proto::KeyRef;
use serde_json::{Map, Value};

use super::{jwe, jws, JoseError, JweAlg, JweEnc, JwsAlg, Result, Serialization, Verified};
use crate::Client;

/// How to protect ESData.
#[derive(Clone, Debug)]
pub struct Protection<'a> {
    /// The writer's signing key (ES256 key pair or HS256 secret).
    pub sign_key: &'a KeyRef,
    pub sign_alg: JwsAlg,
    /// The reader's key: a secret for `dir`/`A*KW`, its public key for ECDH-ES.
    pub reader_key: &'a KeyRef,
    pub alg: JweAlg,
    pub enc: JweEnc,
    pub serialization: Serialization,
}

/// Sign `data`, then encrypt the JWS for the reader.
pub fn protect(client: &mut Client, p: &Protection<'_>, data: &[u8]) -> Result<String> {
    let signed = jws::sign(
        client,
        p.sign_key,
        p.sign_alg,
        data,
        &Map::new(),
        Serialization::Compact,
    )?;
    // The JWS is about 4/3 of the data plus a header and signature.
    if signed.len() > seam_proto::MAX_DATA {
        return Err(JoseError::Unsupported(format!(
            "the signed data is {} bytes; the SE encrypts at most {}",
            signed.len(),
            seam_proto::MAX_DATA
        )));
    }
    let mut header = Map::new();
    header.insert("cty".into(), Value::String("JOSE".into()));
    jwe::encrypt(
        client,
        p.reader_key,
        p.alg,
        p.enc,
        signed.as_bytes(),
        &header,
        p.serialization,
    )
}

/// Decrypt with the reader's key `decrypt_key`, then verify the nested JWS
/// with the writer's key `verify_key`; the data comes back only if both
/// hold.
pub fn open(
    client: &mut Client,
    decrypt_key: &KeyRef,
    verify_key: &KeyRef,
    esdata: &[u8],
) -> Result<Verified> {
    let text = super::jose_text(esdata)?;
    // Refuse an outer JWE that does not say it nests a JWS before any key.
    let protected = if text.starts_with('{') {
        let o = super::json_object(text.as_bytes(), "ESData JWE")?;
        super::json_part(&o, "protected")?
            .unwrap_or_default()
            .to_owned()
    } else {
        text.split('.').next().unwrap_or_default().to_owned()
    };
    let header = super::protected_header(&protected)?;
    if super::string_member(&header, "cty")? != Some("JOSE") {
        return Err(super::malformed(
            "the ESData JWE header does not say \"cty\":\"JOSE\" (a nested JWS)",
        ));
    }
    let signed = jwe::decrypt(client, decrypt_key, esdata)?;
    jws::verify(client, verify_key, &signed)
}
