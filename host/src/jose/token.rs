//! oneM2M dynamic authorization tokens (TS-0003 §7.3.2.4–7.3.2.6): a oneM2M
//! JWT of the Signature-only ESData class (a JWS, ES256 or HS256) verified
//! with the issuer's key held in the SE, then its claims checked.
//!
//! Choices where the spec leaves one (documented in docs/api.md):
//! * `typ` must be `"JWT"` and `cty` absent (§7.3.2.6.2, signature-only).
//! * `exp` (notAfter) and `nbf` (notBefore) are both required: the token
//!   claim set makes them mandatory; a token is valid for `nbf <= now < exp`
//!   (RFC 7519 §4.1.4/4.1.5) with no leeway — the caller passes the time.
//! * `aud` is checked only when present and not empty (§7.3.2.5); then the
//!   CSE-ID must be one of its strings, compared exactly.
//! * Unsecured (`none`) and encrypted tokens are refused here.

use seam_proto::KeyRef;
use serde_json::{Map, Value};

use super::{json_object, jws, JoseError, Result};
use crate::Client;

/// The claims of a token that verified and is valid for `cse_id` at `now`.
#[derive(Clone, Debug, PartialEq)]
pub struct Claims(pub Map<String, Value>);

fn refused(why: impl Into<String>) -> JoseError {
    JoseError::TokenRefused(why.into())
}

fn numeric_date(claims: &Map<String, Value>, name: &str) -> Result<u64> {
    match claims.get(name) {
        None => Err(refused(format!("no \"{name}\" claim"))),
        Some(v) => v
            .as_u64()
            .or_else(|| v.as_f64().filter(|f| *f >= 0.0).map(|f| f as u64))
            .ok_or_else(|| refused(format!("\"{name}\" is not a NumericDate"))),
    }
}

/// Verify `token` with the issuer key `key`, at Unix time `now`, for the
/// hosting CSE `cse_id`.
pub fn verify(
    client: &mut Client,
    key: &KeyRef,
    token: &[u8],
    cse_id: &str,
    now: u64,
) -> Result<Claims> {
    let verified = jws::verify(client, key, token)?;
    match verified.header.get("typ") {
        Some(Value::String(t)) if t == "JWT" => {}
        _ => {
            return Err(refused(
                "header \"typ\" is not \"JWT\" (TS-0003 §7.3.2.6.2)",
            ))
        }
    }
    if verified.header.contains_key("cty") {
        return Err(refused(
            "header \"cty\": a nested token is not a signature-only oneM2M JWT",
        ));
    }
    let claims = json_object(&verified.payload, "token claim set")?;
    let exp = numeric_date(&claims, "exp")?;
    let nbf = numeric_date(&claims, "nbf")?;
    if now >= exp {
        return Err(refused(format!("expired (exp {exp}, now {now})")));
    }
    if now < nbf {
        return Err(refused(format!("not valid yet (nbf {nbf}, now {now})")));
    }
    let audience: Vec<&str> = match claims.get("aud") {
        None => Vec::new(),
        Some(Value::String(a)) => vec![a.as_str()],
        Some(Value::Array(list)) => list
            .iter()
            .map(|v| {
                v.as_str()
                    .ok_or_else(|| refused("\"aud\" holds a non-string"))
            })
            .collect::<Result<_>>()?,
        Some(_) => return Err(refused("\"aud\" is neither a string nor an array")),
    };
    if !audience.is_empty() && !audience.contains(&cse_id) {
        return Err(refused(format!(
            "audience {audience:?} does not include {cse_id}"
        )));
    }
    Ok(Claims(claims))
}
