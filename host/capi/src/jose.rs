//! JOSE and oneM2M end-to-end security with the keys in the SE (seam::jose):
//! JWS sign/verify, JWE encrypt/decrypt, dynamic authorization tokens, and
//! ESPrim (TS-0003 §8.4.2) protect/unprotect.
//!
//! Statuses beyond the usual ones: malformed or unsupported JOSE is 4000
//! (nothing reached a key); a signature that does not verify, a JWE or
//! ESPrim object that does not authenticate, a refused token or ESPrim
//! object is 4106 ORIGINATOR_NOT_AUTHENTICATED, with the reason in
//! `seam_last_error`, and nothing is written to the output.
//! JOSE text outputs are NUL-terminated (the length includes the NUL);
//! plaintext and payload outputs are bytes.

use std::ffi::c_char;

use seam_host::jose::{self, esprim, JoseError, JweAlg, JweEnc, JwsAlg, Serialization};
use seam_host::proto::{ObjectKind, Reason, MAX_DATA};
use serde_json::{Map, Value};

use crate::args::{self, VarOut};
use crate::functions::key_ref;
use crate::{with_handle, Fail, Res, SEAM_OK, SEAM_ORIGINATOR_NOT_AUTHENTICATED};

/// JWS algorithms (`seam_jws_sign`); 0 picks by the key: ES256 for a P-256
/// key, HS256 for a secret.
pub const SEAM_JWS_ES256: u32 = 1;
pub const SEAM_JWS_HS256: u32 = 2;
/// JWE key management (`alg`).
pub const SEAM_JWE_DIR: u32 = 1;
pub const SEAM_JWE_A128KW: u32 = 2;
pub const SEAM_JWE_A256KW: u32 = 3;
pub const SEAM_JWE_ECDH_ES_A128KW: u32 = 4;
/// JWE content encryption (`enc`).
pub const SEAM_JWE_A128GCM: u32 = 1;
pub const SEAM_JWE_A256GCM: u32 = 2;
/// Largest JOSE text accepted (a JWS, JWE, token or ESPrim object).
pub const SEAM_JOSE_TEXT_MAX: usize = 64 * 1024;
/// Longest identifier (CSE-ID, AE-ID, audience, random object ID).
pub const SEAM_ID_MAX: usize = 256;
/// Longest random object or ESPrim session, as JSON text.
pub const SEAM_ESPRIM_JSON_MAX: usize = 2048;

const _: () = assert!(SEAM_JOSE_TEXT_MAX == jose::MAX_JOSE_TEXT);

fn jose_fail(e: JoseError) -> Fail {
    let refused = |message: String| Fail {
        status: SEAM_ORIGINATOR_NOT_AUTHENTICATED,
        message,
    };
    match e {
        JoseError::Malformed(_) | JoseError::Unsupported(_) => Fail::bad(e.to_string()),
        JoseError::BadSignature | JoseError::TokenRefused(_) | JoseError::EsPrimRefused(_) => {
            refused(e.to_string())
        }
        JoseError::Se(se) if se.reason() == Some(Reason::AuthenticationFailed) => {
            refused(format!("does not authenticate: {se}"))
        }
        JoseError::Se(se) => Fail::from(se),
    }
}

/// Write a text output, NUL-terminated.
unsafe fn write_text(out: &VarOut, text: &str) -> Res<()> {
    let mut bytes = Vec::with_capacity(text.len() + 1);
    bytes.extend_from_slice(text.as_bytes());
    bytes.push(0);
    unsafe { out.write(&bytes) }
}

unsafe fn jose_in<'a>(p: *const c_char, len: usize, what: &str) -> Res<&'a [u8]> {
    unsafe { args::bytes(p.cast(), len, SEAM_JOSE_TEXT_MAX, what) }
}

fn serialization(flattened: bool) -> Serialization {
    if flattened {
        Serialization::Flattened
    } else {
        Serialization::Compact
    }
}

/// Sign `payload` (at most 2048 bytes) as a JWS: `alg` `SEAM_JWS_*` (0: by
/// the key's kind), with a `typ` header member unless `typ` is NULL ("JWT"
/// for a oneM2M token), compact or (`flattened`) flattened JSON, into `out`.
///
/// # Safety
/// `h` is a live handle; names and `typ` NUL-terminated; `payload` has `payload_len`
/// bytes; `out_len` points to a `size_t`, `out` to `*out_len` writable bytes.
#[no_mangle]
pub unsafe extern "C" fn seam_jws_sign(
    h: *mut crate::SeamHandle,
    se: *const c_char,
    key: *const c_char,
    suid: u8,
    alg: u32,
    typ: *const c_char,
    flattened: bool,
    payload: *const u8,
    payload_len: usize,
    out: *mut c_char,
    out_len: *mut usize,
) -> u16 {
    with_handle(h, |c| {
        let payload = unsafe { args::bytes(payload, payload_len, MAX_DATA, "payload") }?;
        let typ = unsafe { args::opt_text(typ, SEAM_ID_MAX, "typ") }?;
        let out = unsafe { VarOut::new(out.cast(), out_len, "out") }?;
        let key = unsafe { key_ref(c, se, key, suid) }?;
        let alg = match alg {
            SEAM_JWS_ES256 => JwsAlg::Es256,
            SEAM_JWS_HS256 => JwsAlg::Hs256,
            0 => match c.object_info(&key.se, &key.key)?.kind {
                ObjectKind::EcP256 => JwsAlg::Es256,
                ObjectKind::Secret => JwsAlg::Hs256,
                other => {
                    return Err(Fail::bad(format!(
                        "a {other:?} object cannot sign; pass a P-256 key or a secret"
                    )))
                }
            },
            other => {
                return Err(Fail::bad(format!(
                    "`alg` {other}: expected 0 or a SEAM_JWS_* constant"
                )))
            }
        };
        let mut extra = Map::new();
        if let Some(typ) = typ {
            extra.insert("typ".into(), Value::String(typ));
        }
        let jws = jose::jws_sign(c, &key, alg, payload, &extra, serialization(flattened))
            .map_err(jose_fail)?;
        unsafe { write_text(&out, &jws) }?;
        Ok(SEAM_OK)
    })
}

/// Verify a JWS (compact or flattened) with a key in the SE; its payload goes
/// to `payload` only if it verifies (4106 if it does not).
///
/// # Safety
/// `h` is a live handle; names NUL-terminated; `jws` has `jws_len` bytes;
/// `payload_len` points to a `size_t`, `payload` to `*payload_len` bytes.
#[no_mangle]
pub unsafe extern "C" fn seam_jws_verify(
    h: *mut crate::SeamHandle,
    se: *const c_char,
    key: *const c_char,
    suid: u8,
    jws: *const c_char,
    jws_len: usize,
    payload: *mut u8,
    payload_len: *mut usize,
) -> u16 {
    with_handle(h, |c| {
        let jws = unsafe { jose_in(jws, jws_len, "jws") }?;
        let out = unsafe { VarOut::new(payload, payload_len, "payload") }?;
        let key = unsafe { key_ref(c, se, key, suid) }?;
        let v = jose::jws_verify(c, &key, jws).map_err(jose_fail)?;
        unsafe { out.write(&v.payload) }?;
        Ok(SEAM_OK)
    })
}

/// Encrypt `pt` (at most 2048 bytes) as a JWE: `alg` `SEAM_JWE_DIR` ..
/// `SEAM_JWE_ECDH_ES_A128KW` (for ECDH-ES the key is the recipient's
/// public key), `enc` `SEAM_JWE_A128GCM` or `SEAM_JWE_A256GCM`; the content
/// key and IV are made inside the SE.
///
/// # Safety
/// As `seam_jws_sign`.
#[no_mangle]
pub unsafe extern "C" fn seam_jwe_encrypt(
    h: *mut crate::SeamHandle,
    se: *const c_char,
    key: *const c_char,
    suid: u8,
    alg: u32,
    enc: u32,
    flattened: bool,
    pt: *const u8,
    pt_len: usize,
    out: *mut c_char,
    out_len: *mut usize,
) -> u16 {
    with_handle(h, |c| {
        let alg = match alg {
            SEAM_JWE_DIR => JweAlg::Dir,
            SEAM_JWE_A128KW => JweAlg::A128Kw,
            SEAM_JWE_A256KW => JweAlg::A256Kw,
            SEAM_JWE_ECDH_ES_A128KW => JweAlg::EcdhEsA128Kw,
            other => {
                return Err(Fail::bad(format!(
                    "`alg` {other}: expected a SEAM_JWE_* key management constant"
                )))
            }
        };
        let enc = match enc {
            SEAM_JWE_A128GCM => JweEnc::A128Gcm,
            SEAM_JWE_A256GCM => JweEnc::A256Gcm,
            other => {
                return Err(Fail::bad(format!(
                    "`enc` {other}: expected SEAM_JWE_A128GCM or SEAM_JWE_A256GCM"
                )))
            }
        };
        let pt = unsafe { args::bytes(pt, pt_len, MAX_DATA, "pt") }?;
        let out = unsafe { VarOut::new(out.cast(), out_len, "out") }?;
        let key = unsafe { key_ref(c, se, key, suid) }?;
        let jwe = jose::jwe_encrypt(c, &key, alg, enc, pt, &Map::new(), serialization(flattened))
            .map_err(jose_fail)?;
        unsafe { write_text(&out, &jwe) }?;
        Ok(SEAM_OK)
    })
}

/// Decrypt a JWE (compact or flattened); 4106 if it does not authenticate.
///
/// # Safety
/// As `seam_jws_verify`.
#[no_mangle]
pub unsafe extern "C" fn seam_jwe_decrypt(
    h: *mut crate::SeamHandle,
    se: *const c_char,
    key: *const c_char,
    suid: u8,
    jwe: *const c_char,
    jwe_len: usize,
    out: *mut u8,
    out_len: *mut usize,
) -> u16 {
    with_handle(h, |c| {
        let jwe = unsafe { jose_in(jwe, jwe_len, "jwe") }?;
        let out = unsafe { VarOut::new(out, out_len, "out") }?;
        let key = unsafe { key_ref(c, se, key, suid) }?;
        let pt = zeroize::Zeroizing::new(jose::jwe_decrypt(c, &key, jwe).map_err(jose_fail)?);
        unsafe { out.write(&pt) }?;
        Ok(SEAM_OK)
    })
}

/// Verify a oneM2M dynamic authorization token (TS-0003 §7.3.2.6) with the
/// issuer key in the SE, at Unix time `now`, for the CSE-ID `audience`; its
/// claims (JSON, NUL-terminated) go to `claims`. 4106 with the reason if it
/// is refused (signature, expired, not yet valid, audience, typ).
///
/// # Safety
/// As `seam_jws_verify`; `audience` is NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn seam_token_verify(
    h: *mut crate::SeamHandle,
    se: *const c_char,
    key: *const c_char,
    suid: u8,
    token: *const c_char,
    token_len: usize,
    audience: *const c_char,
    now: u64,
    claims: *mut c_char,
    claims_len: *mut usize,
) -> u16 {
    with_handle(h, |c| {
        let token = unsafe { jose_in(token, token_len, "token") }?;
        let audience = unsafe { args::text(audience, SEAM_ID_MAX, "audience") }?;
        let out = unsafe { VarOut::new(claims.cast(), claims_len, "claims") }?;
        let key = unsafe { key_ref(c, se, key, suid) }?;
        let v = jose::token::verify(c, &key, token, &audience, now).map_err(jose_fail)?;
        unsafe { write_text(&out, &Value::Object(v.0).to_string()) }?;
        Ok(SEAM_OK)
    })
}

// ---- ESPrim ------------------------------------------------------------------

unsafe fn json_in(p: *const c_char, what: &str) -> Res<Value> {
    let text = unsafe { args::text(p, SEAM_ESPRIM_JSON_MAX, what) }?;
    serde_json::from_str(&text).map_err(|e| Fail::bad(format!("`{what}` is not JSON: {e}")))
}

/// A new ESPrim random object (`esprimRandID` `id`, expiring at Unix time
/// `expiry`, 32 random bytes from the SE), as JSON: what a target publishes.
///
/// # Safety
/// `h` is a live handle; `id` NUL-terminated; `out_len` points to a
/// `size_t`, `out` to `*out_len` writable bytes.
#[no_mangle]
pub unsafe extern "C" fn seam_esprim_rand(
    h: *mut crate::SeamHandle,
    id: *const c_char,
    expiry: u64,
    out: *mut c_char,
    out_len: *mut usize,
) -> u16 {
    with_handle(h, |c| {
        let id = unsafe { args::text(id, SEAM_ID_MAX, "id") }?;
        let out = unsafe { VarOut::new(out.cast(), out_len, "out") }?;
        let rand = esprim::RandObject::generate(c, &id, expiry).map_err(jose_fail)?;
        unsafe { write_text(&out, &rand.to_json().to_string()) }?;
        Ok(SEAM_OK)
    })
}

/// Originator: protect the request primitive `req` from `from` to `to`
/// under the pairwise ESPrim key, with the target's published random object
/// `receiver_rand` (JSON), at Unix time `now`. The ESPrim object goes to
/// `out`, the session (JSON, public values only; needed to open the
/// response) to `session`.
///
/// # Safety
/// `h` is a live handle; strings NUL-terminated; `req` has `req_len` bytes;
/// each `*_len` points to a `size_t` with its buffer's capacity.
#[no_mangle]
pub unsafe extern "C" fn seam_esprim_protect_request(
    h: *mut crate::SeamHandle,
    se: *const c_char,
    key: *const c_char,
    suid: u8,
    from: *const c_char,
    to: *const c_char,
    receiver_rand: *const c_char,
    now: u64,
    req: *const u8,
    req_len: usize,
    out: *mut c_char,
    out_len: *mut usize,
    session: *mut c_char,
    session_len: *mut usize,
) -> u16 {
    with_handle(h, |c| {
        let from = unsafe { args::text(from, SEAM_ID_MAX, "from") }?;
        let to = unsafe { args::text(to, SEAM_ID_MAX, "to") }?;
        let rand =
            esprim::RandObject::from_json(&unsafe { json_in(receiver_rand, "receiver_rand") }?)
                .map_err(jose_fail)?;
        let req = unsafe { args::bytes(req, req_len, MAX_DATA, "req") }?;
        let out = unsafe { VarOut::new(out.cast(), out_len, "out") }?;
        let session_out = unsafe { VarOut::new(session.cast(), session_len, "session") }?;
        let key = unsafe { key_ref(c, se, key, suid) }?;
        let (object, s) =
            esprim::protect_request(c, &key, &from, &to, &rand, now, req).map_err(jose_fail)?;
        unsafe { write_text(&out, &object) }?;
        unsafe { write_text(&session_out, &s.to_json().to_string()) }?;
        Ok(SEAM_OK)
    })
}

/// Target: open an ESPrim request addressed to `own_id`, made with the
/// random object `own_rand` (JSON) this target published, at `now`. The
/// request primitive goes to `out`, the session (for the response) to
/// `session`. 4106 with the reason if refused or not authentic.
///
/// # Safety
/// As `seam_esprim_protect_request`; `esprim` has `esprim_len` bytes.
#[no_mangle]
pub unsafe extern "C" fn seam_esprim_unprotect_request(
    h: *mut crate::SeamHandle,
    se: *const c_char,
    key: *const c_char,
    suid: u8,
    own_id: *const c_char,
    own_rand: *const c_char,
    now: u64,
    esprim_object: *const c_char,
    esprim_len: usize,
    out: *mut u8,
    out_len: *mut usize,
    session: *mut c_char,
    session_len: *mut usize,
) -> u16 {
    with_handle(h, |c| {
        let own_id = unsafe { args::text(own_id, SEAM_ID_MAX, "own_id") }?;
        let rand = esprim::RandObject::from_json(&unsafe { json_in(own_rand, "own_rand") }?)
            .map_err(jose_fail)?;
        let object = unsafe { jose_in(esprim_object, esprim_len, "esprim") }?;
        let out = unsafe { VarOut::new(out, out_len, "out") }?;
        let session_out = unsafe { VarOut::new(session.cast(), session_len, "session") }?;
        let key = unsafe { key_ref(c, se, key, suid) }?;
        let (primitive, s) =
            esprim::unprotect_request(c, &key, &own_id, std::slice::from_ref(&rand), now, object)
                .map_err(jose_fail)?;
        let primitive = zeroize::Zeroizing::new(primitive);
        unsafe { out.write(&primitive) }?;
        unsafe { write_text(&session_out, &s.to_json().to_string()) }?;
        Ok(SEAM_OK)
    })
}

/// Target: protect the response primitive `resp` under the `session` that
/// `seam_esprim_unprotect_request` returned.
///
/// # Safety
/// As `seam_esprim_protect_request`.
#[no_mangle]
pub unsafe extern "C" fn seam_esprim_protect_response(
    h: *mut crate::SeamHandle,
    se: *const c_char,
    key: *const c_char,
    suid: u8,
    session: *const c_char,
    now: u64,
    resp: *const u8,
    resp_len: usize,
    out: *mut c_char,
    out_len: *mut usize,
) -> u16 {
    with_handle(h, |c| {
        let s = esprim::Session::from_json(&unsafe { json_in(session, "session") }?)
            .map_err(jose_fail)?;
        let resp = unsafe { args::bytes(resp, resp_len, MAX_DATA, "resp") }?;
        let out = unsafe { VarOut::new(out.cast(), out_len, "out") }?;
        let key = unsafe { key_ref(c, se, key, suid) }?;
        let object = esprim::protect_response(c, &key, &s, now, resp).map_err(jose_fail)?;
        unsafe { write_text(&out, &object) }?;
        Ok(SEAM_OK)
    })
}

/// Originator: open the ESPrim response to the request protected under
/// `session`. 4106 with the reason if refused or not authentic.
///
/// # Safety
/// As `seam_esprim_unprotect_request`.
#[no_mangle]
pub unsafe extern "C" fn seam_esprim_unprotect_response(
    h: *mut crate::SeamHandle,
    se: *const c_char,
    key: *const c_char,
    suid: u8,
    session: *const c_char,
    now: u64,
    esprim_object: *const c_char,
    esprim_len: usize,
    out: *mut u8,
    out_len: *mut usize,
) -> u16 {
    with_handle(h, |c| {
        let s = esprim::Session::from_json(&unsafe { json_in(session, "session") }?)
            .map_err(jose_fail)?;
        let object = unsafe { jose_in(esprim_object, esprim_len, "esprim") }?;
        let out = unsafe { VarOut::new(out, out_len, "out") }?;
        let key = unsafe { key_ref(c, se, key, suid) }?;
        let primitive = zeroize::Zeroizing::new(
            esprim::unprotect_response(c, &key, &s, now, object).map_err(jose_fail)?,
        );
        unsafe { out.write(&primitive) }?;
        Ok(SEAM_OK)
    })
}
