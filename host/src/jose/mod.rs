//! JOSE with the keys inside the Secure Environment: JWS (RFC 7515) with
//! ES256 and HS256, JWE (RFC 7516) with `dir`, `A128KW`, `A256KW` and
//! `ECDH-ES+A128KW` over `A128GCM` / `A256GCM` (RFC 7518), in the compact
//! and flattened JSON serialisations, and oneM2M dynamic authorization tokens
//! (TS-0003 §7.3.2.6, [`token`]).
//!
//! This module only encodes and parses. Every step that touches a key —
//! signing, MACing, verifying, generating and wrapping the content key, ECDH,
//! encrypting, decrypting — is one SE call. Malformed JOSE (bad base64url,
//! `none` or an unknown algorithm, `crit`, compression, a truncated tag,
//! oversized fields, duplicate header members) is refused here with the
//! reason, before any call reaches a key.

pub mod esdata;
pub mod esprim;
mod jwe;
mod jws;
pub mod token;

pub use jwe::{decrypt as jwe_decrypt, encrypt as jwe_encrypt};
pub use jws::{sign as jws_sign, verify as jws_verify, JwsAlg, Verified};
pub use seam_proto::jose::{JweAlg, JweEnc};

use base64ct::{Base64UrlUnpadded, Encoding};
use serde_json::{Map, Value};

/// Largest JOSE text accepted: the SE takes at most 2 KiB of data per call,
/// so anything beyond a few times that is not ours to process.
pub const MAX_JOSE_TEXT: usize = 64 * 1024;

/// How a JWS or JWE is written out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Serialization {
    /// `a.b.c` (JWS) or `a.b.c.d.e` (JWE).
    Compact,
    /// One JSON object (RFC 7515 §7.2.2, RFC 7516 §7.2.2).
    Flattened,
}

/// Why a JOSE operation failed.
#[derive(Debug, thiserror::Error)]
pub enum JoseError {
    /// The input is not well-formed JOSE; nothing reached the SE.
    #[error("malformed JOSE: {0}")]
    Malformed(String),
    /// Well-formed, but asks for something seam refuses or does not offer.
    #[error("unsupported JOSE: {0}")]
    Unsupported(String),
    /// The signature or MAC does not verify under the key.
    #[error("signature does not verify")]
    BadSignature,
    /// The token verified but its claims refuse it (expired, not yet valid,
    /// another audience, not a oneM2M JWT).
    #[error("token refused: {0}")]
    TokenRefused(String),
    /// A well-formed ESPrim object refused before any key is used: for
    /// another target or session, the wrong direction, an expired or unknown
    /// random object.
    #[error("ESPrim object refused: {0}")]
    EsPrimRefused(String),
    /// The SE refused (a tampered JWE fails here as `AuthenticationFailed`).
    #[error(transparent)]
    Se(#[from] crate::Error),
}

pub type Result<T> = std::result::Result<T, JoseError>;

fn malformed(what: impl Into<String>) -> JoseError {
    JoseError::Malformed(what.into())
}

fn b64(bytes: &[u8]) -> String {
    Base64UrlUnpadded::encode_string(bytes)
}

/// Strict base64url without padding (RFC 7515 §2): anything else names `what`.
fn unb64(text: &str, what: &str) -> Result<Vec<u8>> {
    Base64UrlUnpadded::decode_vec(text)
        .map_err(|_| malformed(format!("{what} is not unpadded base64url")))
}

/// The text of a JOSE object, trimmed, or why it cannot be one.
fn jose_text(input: &[u8]) -> Result<&str> {
    if input.len() > MAX_JOSE_TEXT {
        return Err(malformed(format!(
            "{} bytes, more than the {MAX_JOSE_TEXT} accepted",
            input.len()
        )));
    }
    let text = std::str::from_utf8(input).map_err(|_| malformed("not UTF-8 text"))?;
    Ok(text.trim())
}

/// A JSON object with no member named twice (RFC 7515 §5.2 lets a parser
/// reject duplicates; seam does, so that no two parsers can disagree).
fn json_object(bytes: &[u8], what: &str) -> Result<Map<String, Value>> {
    struct Unique;
    impl<'de> serde::de::Visitor<'de> for Unique {
        type Value = Map<String, Value>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a JSON object")
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(
            self,
            mut map: A,
        ) -> std::result::Result<Self::Value, A::Error> {
            let mut out = Map::new();
            while let Some((k, v)) = map.next_entry::<String, Value>()? {
                if out.contains_key(&k) {
                    return Err(serde::de::Error::custom(format!(
                        "member \"{k}\" appears twice"
                    )));
                }
                out.insert(k, v);
            }
            Ok(out)
        }
    }
    struct Object(Map<String, Value>);
    impl<'de> serde::Deserialize<'de> for Object {
        fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
            d.deserialize_map(Unique).map(Object)
        }
    }
    serde_json::from_slice::<Object>(bytes)
        .map(|o| o.0)
        .map_err(|e| malformed(format!("{what} is not a JSON object: {e}")))
}

/// A protected header: decoded, parsed, and free of what seam never accepts.
fn protected_header(encoded: &str) -> Result<Map<String, Value>> {
    let header = json_object(&unb64(encoded, "protected header")?, "protected header")?;
    if header.contains_key("crit") {
        // RFC 7515 §4.1.11: extensions the recipient does not understand
        // must be refused; seam understands none.
        return Err(JoseError::Unsupported(
            "\"crit\" header extensions are not understood".into(),
        ));
    }
    Ok(header)
}

fn string_member<'a>(header: &'a Map<String, Value>, name: &str) -> Result<Option<&'a str>> {
    match header.get(name) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(malformed(format!("header \"{name}\" is not a string"))),
    }
}

/// The `alg` value, refusing `none` by name.
fn alg_of(header: &Map<String, Value>) -> Result<&str> {
    match string_member(header, "alg")? {
        None => Err(malformed("header has no \"alg\"")),
        Some("none") => Err(JoseError::Unsupported(
            "\"alg\":\"none\" (an unsecured JOSE object) is refused".into(),
        )),
        Some(alg) => Ok(alg),
    }
}

/// The value of a string member of a flattened JSON object.
fn json_part<'a>(object: &'a Map<String, Value>, name: &str) -> Result<Option<&'a str>> {
    match object.get(name) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(malformed(format!("\"{name}\" is not a string"))),
    }
}

/// Unprotected headers would let a transit party change what the SE is
/// asked to do without breaking the tag; seam takes every parameter from the
/// protected header only.
fn refuse_unprotected(object: &Map<String, Value>, members: &[&str]) -> Result<()> {
    for m in members {
        match object.get(*m) {
            None => {}
            Some(Value::Object(o)) if o.is_empty() => {}
            Some(_) => {
                return Err(JoseError::Unsupported(format!(
                "unprotected header \"{m}\": seam takes parameters from the protected header only"
            )))
            }
        }
    }
    Ok(())
}
