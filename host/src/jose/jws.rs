//! JWS (RFC 7515): ES256 signs inside the SE over a SHA-256 digest of the
//! signing input; HS256 MACs inside over the signing input itself.

use seam_proto::{KeyRef, Signature, MAX_DATA};
use serde_json::{json, Map, Value};

use super::{
    alg_of, b64, jose_text, json_object, json_part, malformed, protected_header,
    refuse_unprotected, unb64, JoseError, Result, Serialization,
};
use crate::Client;

/// A JWS algorithm seam signs and verifies with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JwsAlg {
    /// ECDSA P-256 SHA-256 with a stored key pair (sign, verify) or an
    /// admin-imported public key (verify).
    Es256,
    /// HMAC-SHA-256 with a stored secret.
    Hs256,
}

impl JwsAlg {
    pub const fn name(self) -> &'static str {
        match self {
            JwsAlg::Es256 => "ES256",
            JwsAlg::Hs256 => "HS256",
        }
    }

    pub fn from_name(name: &str) -> Option<JwsAlg> {
        [JwsAlg::Es256, JwsAlg::Hs256]
            .into_iter()
            .find(|a| a.name() == name)
    }

    fn signature_len(self) -> usize {
        match self {
            JwsAlg::Es256 => 64,
            JwsAlg::Hs256 => 32,
        }
    }
}

/// A verified JWS.
#[derive(Clone, Debug, PartialEq)]
pub struct Verified {
    pub header: Map<String, Value>,
    pub payload: Vec<u8>,
}

/// Sign `payload` with `key`; `extra` header members (e.g. `typ`, `kid`) go
/// into the protected header beside `alg`, which they may not name.
pub fn sign(
    client: &mut Client,
    key: &KeyRef,
    alg: JwsAlg,
    payload: &[u8],
    extra: &Map<String, Value>,
    serialization: Serialization,
) -> Result<String> {
    if extra.contains_key("alg") || extra.contains_key("crit") {
        return Err(malformed(
            "extra header members may not set \"alg\" or \"crit\"",
        ));
    }
    let mut header = Map::new();
    header.insert("alg".into(), Value::String(alg.name().into()));
    header.extend(extra.clone());
    let protected = b64(Value::Object(header).to_string().as_bytes());
    let payload = b64(payload);
    let input = format!("{protected}.{payload}");
    let signature = match alg {
        JwsAlg::Es256 => {
            let digest = seam_crypto::hash::sha256(input.as_bytes());
            client.sign_digest(key, &digest)?.0.to_vec()
        }
        JwsAlg::Hs256 => {
            check_mac_input(&input)?;
            client.mac(key, input.as_bytes())?.to_vec()
        }
    };
    let signature = b64(&signature);
    Ok(match serialization {
        Serialization::Compact => format!("{input}.{signature}"),
        Serialization::Flattened => json!({
            "protected": protected,
            "payload": payload,
            "signature": signature,
        })
        .to_string(),
    })
}

fn check_mac_input(input: &str) -> Result<()> {
    if input.len() > MAX_DATA {
        return Err(JoseError::Unsupported(format!(
            "the HS256 signing input is {} bytes; the SE MACs at most {MAX_DATA}",
            input.len()
        )));
    }
    Ok(())
}

/// The three parts of a JWS, still encoded.
struct Parts<'a> {
    protected: &'a str,
    payload: &'a str,
    signature: &'a str,
}

fn parts(text: &str) -> Result<(Parts<'_>, Option<Map<String, Value>>)> {
    if text.starts_with('{') {
        let object = json_object(text.as_bytes(), "JWS JSON serialization")?;
        if object.contains_key("signatures") {
            return Err(JoseError::Unsupported(
                "general JWS JSON serialization (several signatures); use flattened".into(),
            ));
        }
        refuse_unprotected(&object, &["header"])?;
        // Borrowing from `object` would tie the parts to it: return it too.
        for member in ["protected", "payload", "signature"] {
            if json_part(&object, member)?.is_none() {
                return Err(malformed(format!("JWS JSON has no \"{member}\"")));
            }
        }
        return Ok((
            Parts {
                protected: "",
                payload: "",
                signature: "",
            },
            Some(object),
        ));
    }
    let mut it = text.split('.');
    match (it.next(), it.next(), it.next(), it.next()) {
        (Some(protected), Some(payload), Some(signature), None) => Ok((
            Parts {
                protected,
                payload,
                signature,
            },
            None,
        )),
        _ => Err(malformed(
            "a compact JWS has three base64url parts separated by '.'",
        )),
    }
}

/// Verify a compact or flattened JWS with `key`; the payload and header come
/// back only if it verifies.
pub fn verify(client: &mut Client, key: &KeyRef, jws: &[u8]) -> Result<Verified> {
    let text = jose_text(jws)?;
    let (compact, object) = parts(text)?;
    let p = match &object {
        Some(o) => Parts {
            protected: json_part(o, "protected")?.unwrap_or_default(),
            payload: json_part(o, "payload")?.unwrap_or_default(),
            signature: json_part(o, "signature")?.unwrap_or_default(),
        },
        None => compact,
    };
    let header = protected_header(p.protected)?;
    let name = alg_of(&header)?;
    let alg = JwsAlg::from_name(name).ok_or_else(|| {
        JoseError::Unsupported(format!("JWS \"alg\":\"{name}\" (seam offers ES256, HS256)"))
    })?;
    if header.contains_key("b64") {
        return Err(JoseError::Unsupported(
            "\"b64\" (RFC 7797 unencoded payload)".into(),
        ));
    }
    let payload = unb64(p.payload, "payload")?;
    let signature = unb64(p.signature, "signature")?;
    if signature.len() != alg.signature_len() {
        return Err(malformed(format!(
            "an {} signature is {} bytes, this one {}",
            alg.name(),
            alg.signature_len(),
            signature.len()
        )));
    }
    let input = format!("{}.{}", p.protected, p.payload);
    let ok = match alg {
        JwsAlg::Es256 => {
            let digest = seam_crypto::hash::sha256(input.as_bytes());
            // RFC 7518 §3.4 accepts either `s`; the SE's Verify takes low-S
            // only (one encoding per signature), so a peer's high-S one is
            // handed over as its low-S twin, which verifies iff it does.
            let parsed = p256::ecdsa::Signature::from_slice(signature.as_slice())
                .map_err(|_| malformed("ES256 signature: r or s out of range"))?;
            let low: [u8; 64] = parsed.normalize_s().unwrap_or(parsed).to_bytes().into();
            let sig = Signature(low);
            client.verify_digest(key, &digest, &sig)?
        }
        JwsAlg::Hs256 => {
            check_mac_input(&input)?;
            let tag: [u8; 32] = signature
                .as_slice()
                .try_into()
                .map_err(|_| malformed("HS256 tag length"))?;
            client.mac_verify(key, input.as_bytes(), &tag)?
        }
    };
    if !ok {
        return Err(JoseError::BadSignature);
    }
    Ok(Verified { header, payload })
}
