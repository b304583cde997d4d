//! JWE (RFC 7516): the SE generates the IV and content key, wraps or agrees
//! keys, and encrypts or decrypts, all in one call; this side writes and
//! parses the serialisations.

use seam_proto::jose::{
    JoseOp, JoseReply, JweAlg, JweEnc, JWE_IV_LEN, JWE_TAG_LEN, MAX_PARTY_INFO,
};
use seam_proto::{KeyRef, Op, PublicKey, Reply, MAX_DATA};
use serde_json::{json, Map, Value};

use super::{
    alg_of, b64, jose_text, json_object, json_part, malformed, protected_header, string_member,
    unb64, JoseError, Result, Serialization,
};
use crate::Client;

/// Encrypt `plaintext` to the key `key` names (for `ECDH-ES+A128KW`, an
/// admin-imported public key). `extra` protected-header members (e.g.
/// `typ`, `kid`) may not name `alg`, `enc`, `epk`, `zip` or `crit`.
pub fn encrypt(
    client: &mut Client,
    key: &KeyRef,
    alg: JweAlg,
    enc: JweEnc,
    plaintext: &[u8],
    extra: &Map<String, Value>,
    serialization: Serialization,
) -> Result<String> {
    for reserved in ["alg", "enc", "epk", "zip", "crit", "apu", "apv"] {
        if extra.contains_key(reserved) {
            return Err(malformed(format!(
                "extra header members may not set \"{reserved}\""
            )));
        }
    }
    let mut header = Map::new();
    header.insert("alg".into(), Value::String(alg.name().into()));
    header.insert("enc".into(), Value::String(enc.name().into()));
    header.extend(extra.clone());
    let header = Value::Object(header).to_string();
    let op = Op::Jose(JoseOp::JweEncrypt {
        key: key.clone(),
        alg,
        enc,
        header: crate::convert::bounded(header.as_bytes(), "JWE protected header")?,
        plaintext: crate::convert::data(plaintext)?,
    });
    let (protected, encrypted_key, iv, sealed) = match client.call(op)?.reply {
        Reply::Jose(JoseReply::Jwe {
            protected,
            encrypted_key,
            iv,
            ciphertext,
        }) => (protected, encrypted_key, iv, ciphertext),
        other => {
            return Err(
                crate::Error::Protocol(format!("expected a JWE reply, got {other:?}")).into(),
            )
        }
    };
    let protected =
        String::from_utf8(protected.to_vec()).map_err(|_| malformed("SE header not UTF-8"))?;
    let split = sealed
        .len()
        .checked_sub(JWE_TAG_LEN)
        .ok_or_else(|| crate::Error::Protocol("JWE ciphertext shorter than its tag".into()))?;
    let (ciphertext, tag) = sealed.split_at(split);
    let (ek, iv, ct, tag) = (b64(&encrypted_key), b64(&iv), b64(ciphertext), b64(tag));
    Ok(match serialization {
        Serialization::Compact => format!("{protected}.{ek}.{iv}.{ct}.{tag}"),
        Serialization::Flattened => {
            let mut o = json!({ "protected": protected, "iv": iv, "ciphertext": ct, "tag": tag });
            // RFC 7516 §7.2.1: present only when not empty (not for `dir`).
            if !encrypted_key.is_empty() {
                o["encrypted_key"] = Value::String(ek);
            }
            o.to_string()
        }
    })
}

/// The encoded parts of a JWE and the extra AAD of a JSON one.
struct Parts {
    protected: String,
    encrypted_key: String,
    iv: String,
    ciphertext: String,
    tag: String,
    aad: Option<String>,
    /// The JSON serialisation's shared (`unprotected`) and per-recipient
    /// (`header`) unprotected headers, merged.
    unprotected: Map<String, Value>,
}

/// Members that must come from the protected header, where the tag covers
/// them: what the SE is asked to do.
const PROTECTED_ONLY: [&str; 4] = ["alg", "enc", "zip", "crit"];

fn unprotected_of(o: &Map<String, Value>) -> Result<Map<String, Value>> {
    let mut merged = Map::new();
    for member in ["unprotected", "header"] {
        match o.get(member) {
            None => {}
            Some(Value::Object(h)) => {
                for (k, v) in h {
                    if PROTECTED_ONLY.contains(&k.as_str()) {
                        return Err(JoseError::Unsupported(format!(
                            "\"{k}\" in the unprotected \"{member}\": seam takes it from the protected header only"
                        )));
                    }
                    // RFC 7516 §7.2.1: the header locations must be disjoint.
                    if merged.insert(k.clone(), v.clone()).is_some() {
                        return Err(malformed(format!("header member \"{k}\" given twice")));
                    }
                }
            }
            Some(_) => return Err(malformed(format!("\"{member}\" is not a JSON object"))),
        }
    }
    Ok(merged)
}

fn parts(text: &str) -> Result<Parts> {
    if text.starts_with('{') {
        let o = json_object(text.as_bytes(), "JWE JSON serialization")?;
        if o.contains_key("recipients") {
            return Err(JoseError::Unsupported(
                "general JWE JSON serialization (several recipients); use flattened".into(),
            ));
        }
        let get = |m: &str| -> Result<String> {
            json_part(&o, m)?
                .map(str::to_owned)
                .ok_or_else(|| malformed(format!("JWE JSON has no \"{m}\"")))
        };
        return Ok(Parts {
            protected: get("protected")?,
            encrypted_key: json_part(&o, "encrypted_key")?.unwrap_or("").to_owned(),
            iv: get("iv")?,
            ciphertext: get("ciphertext")?,
            tag: get("tag")?,
            aad: json_part(&o, "aad")?.map(str::to_owned),
            unprotected: unprotected_of(&o)?,
        });
    }
    let p: Vec<&str> = text.split('.').collect();
    match p.as_slice() {
        [protected, ek, iv, ct, tag] => Ok(Parts {
            protected: protected.to_string(),
            encrypted_key: ek.to_string(),
            iv: iv.to_string(),
            ciphertext: ct.to_string(),
            tag: tag.to_string(),
            aad: None,
            unprotected: Map::new(),
        }),
        _ => Err(malformed(
            "a compact JWE has five base64url parts separated by '.'",
        )),
    }
}

/// The sender's ephemeral key from `epk` (RFC 7518 §4.6.1.1): a P-256 public
/// JWK and nothing private.
fn epk_of(header: &Map<String, Value>) -> Result<PublicKey> {
    let jwk = match header.get("epk") {
        Some(Value::Object(o)) => o,
        Some(_) => return Err(malformed("\"epk\" is not a JSON object")),
        None => return Err(malformed("ECDH-ES header has no \"epk\"")),
    };
    if jwk.contains_key("d") {
        return Err(malformed("\"epk\" carries a private key (\"d\")"));
    }
    if string_member(jwk, "kty")? != Some("EC") || string_member(jwk, "crv")? != Some("P-256") {
        return Err(JoseError::Unsupported(
            "\"epk\" must be an EC P-256 key".into(),
        ));
    }
    let coordinate = |name: &str| -> Result<Vec<u8>> {
        let c = unb64(
            string_member(jwk, name)?
                .ok_or_else(|| malformed(format!("\"epk\" has no \"{name}\"")))?,
            "epk coordinate",
        )?;
        if c.len() != 32 {
            return Err(malformed(format!("\"epk\" \"{name}\" is not 32 bytes")));
        }
        Ok(c)
    };
    let mut point = [0u8; 65];
    point[0] = 4;
    point[1..33].copy_from_slice(&coordinate("x")?);
    point[33..].copy_from_slice(&coordinate("y")?);
    Ok(PublicKey(point))
}

fn party_info(header: &Map<String, Value>, name: &str) -> Result<Vec<u8>> {
    let Some(v) = string_member(header, name)? else {
        return Ok(Vec::new());
    };
    let bytes = unb64(v, name)?;
    if bytes.len() > MAX_PARTY_INFO {
        return Err(malformed(format!(
            "\"{name}\" is {} bytes, at most {MAX_PARTY_INFO} accepted",
            bytes.len()
        )));
    }
    Ok(bytes)
}

/// Decrypt a compact or flattened JWE with `key`.
pub fn decrypt(client: &mut Client, key: &KeyRef, jwe: &[u8]) -> Result<Vec<u8>> {
    let p = parts(jose_text(jwe)?)?;
    let protected = protected_header(&p.protected)?;
    let name = alg_of(&protected)?;
    let alg = JweAlg::from_name(name).ok_or_else(|| {
        JoseError::Unsupported(format!(
            "JWE \"alg\":\"{name}\" (seam offers dir, A128KW, A256KW, ECDH-ES+A128KW)"
        ))
    })?;
    let enc_name =
        string_member(&protected, "enc")?.ok_or_else(|| malformed("JWE header has no \"enc\""))?;
    let enc = JweEnc::from_name(enc_name).ok_or_else(|| {
        JoseError::Unsupported(format!(
            "JWE \"enc\":\"{enc_name}\" (seam offers A128GCM, A256GCM)"
        ))
    })?;
    if protected.contains_key("zip") {
        return Err(JoseError::Unsupported(
            "\"zip\" (compression before encryption leaks plaintext length)".into(),
        ));
    }
    let encrypted_key = unb64(&p.encrypted_key, "encrypted key")?;
    let wanted = match alg {
        JweAlg::Dir => 0,
        _ => enc.key_len() + 8,
    };
    if encrypted_key.len() != wanted {
        return Err(malformed(format!(
            "the encrypted key is {} bytes; {} with {} needs {wanted}",
            encrypted_key.len(),
            alg.name(),
            enc.name()
        )));
    }
    let iv = unb64(&p.iv, "IV")?;
    let iv: [u8; JWE_IV_LEN] = iv
        .as_slice()
        .try_into()
        .map_err(|_| malformed(format!("the IV is {} bytes, not {JWE_IV_LEN}", iv.len())))?;
    let tag = unb64(&p.tag, "tag")?;
    if tag.len() != JWE_TAG_LEN {
        return Err(malformed(format!(
            "the tag is {} bytes, not {JWE_TAG_LEN} (truncated tags are refused)",
            tag.len()
        )));
    }
    let ciphertext = unb64(&p.ciphertext, "ciphertext")?;
    if ciphertext.len() > MAX_DATA {
        return Err(JoseError::Unsupported(format!(
            "the ciphertext is {} bytes; the SE decrypts at most {MAX_DATA}",
            ciphertext.len()
        )));
    }
    let mut header = protected.clone();
    for (k, v) in &p.unprotected {
        if header.insert(k.clone(), v.clone()).is_some() {
            return Err(malformed(format!(
                "header member \"{k}\" is both protected and unprotected"
            )));
        }
    }
    let (epk, apu, apv) = match alg {
        JweAlg::EcdhEsA128Kw => (
            Some(epk_of(&header)?),
            party_info(&header, "apu")?,
            party_info(&header, "apv")?,
        ),
        _ => (None, Vec::new(), Vec::new()),
    };
    // RFC 7516 §5.1 step 14: the AAD is the encoded protected header, and
    // with a JSON `aad` member, '.' and that member too.
    let aad = match &p.aad {
        Some(extra) => {
            unb64(extra, "aad")?;
            format!("{}.{extra}", p.protected)
        }
        None => p.protected.clone(),
    };
    let sealed = [ciphertext.as_slice(), tag.as_slice()].concat();
    let op = Op::Jose(JoseOp::JweDecrypt {
        key: key.clone(),
        alg,
        enc,
        protected: crate::convert::bounded(aad.as_bytes(), "JWE protected header")?,
        epk,
        apu: crate::convert::bounded(&apu, "apu")?,
        apv: crate::convert::bounded(&apv, "apv")?,
        encrypted_key: crate::convert::bounded(&encrypted_key, "encrypted key")?,
        iv,
        ciphertext: crate::convert::bounded(&sealed, "ciphertext")?,
    });
    match client.call(op)?.reply {
        Reply::Plaintext(p) => Ok(p.to_vec()),
        other => Err(crate::Error::Protocol(format!("expected a plaintext, got {other:?}")).into()),
    }
}
