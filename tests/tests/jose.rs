//! seam::jose on its own: bad JOSE refused with its reason before any key is
//! used, tampering caught, keys that disagree with the header refused, and
//! oneM2M dynamic authorization tokens (TS-0003 §7.3.2) verified against an
//! issuer key held in the SE. Tokens are made here with p256 and ring, not
//! with seam.

use base64ct::{Base64UrlUnpadded, Encoding};
use p256::ecdsa::signature::Signer;
use seam::jose::{self, token, JoseError, JweAlg, JweEnc, JwsAlg, Serialization};
use seam::proto::Reason;
use seam_tests::jose_keys::JoseKeys;
use seam_tests::{Device, OWNER_CSE, STRANGER};
use serde_json::{json, Map, Value};

fn b64(b: &[u8]) -> String {
    Base64UrlUnpadded::encode_string(b)
}

fn es256_token(d: &str, header: &Value, claims: &Value) -> String {
    let d = Base64UrlUnpadded::decode_vec(d).unwrap();
    let key = p256::ecdsa::SigningKey::from_slice(&d).unwrap();
    let input = format!(
        "{}.{}",
        b64(header.to_string().as_bytes()),
        b64(claims.to_string().as_bytes())
    );
    let sig: p256::ecdsa::Signature = key.sign(input.as_bytes());
    format!("{input}.{}", b64(&sig.to_bytes()))
}

fn hs256_token(k: &str, header: &Value, claims: &Value) -> String {
    let k = Base64UrlUnpadded::decode_vec(k).unwrap();
    let input = format!(
        "{}.{}",
        b64(header.to_string().as_bytes()),
        b64(claims.to_string().as_bytes())
    );
    let tag = ring::hmac::sign(
        &ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &k),
        input.as_bytes(),
    );
    format!("{input}.{}", b64(tag.as_ref()))
}

fn se_reason(e: &JoseError) -> Option<Reason> {
    match e {
        JoseError::Se(e) => e.reason(),
        _ => None,
    }
}

const CSE: &str = "/cse-mn-1";

#[test]
fn tokens_are_verified_against_the_issuer_key_in_the_se() {
    let device = Device::new();
    let s = device.stakeholder("token");
    let k = JoseKeys::provision(&s, OWNER_CSE);
    let mut c = device.client_as(OWNER_CSE);
    let now = 1_900_000_000u64;
    let claims = json!({"jti": "t-1", "iss": "/das", "azp": "/cse-in/ae-1",
        "nbf": now - 60, "exp": now + 600, "aud": ["/cse-in", CSE],
        "tkps": [{"pvs": {"acr": [{"acor": ["/cse-in/ae-1"], "acop": 63}]}}]});
    let es_header = json!({"alg": "ES256", "typ": "JWT"});
    let hs_header = json!({"alg": "HS256", "typ": "JWT"});
    let d = k.es_peer.jwk["d"].as_str().unwrap();
    let hk = k.hs.jwk["k"].as_str().unwrap();

    let es = es256_token(d, &es_header, &claims);
    let got = token::verify(&mut c, &k.es_peer.key, es.as_bytes(), CSE, now).unwrap();
    assert_eq!(Value::Object(got.0), claims);
    let hs = hs256_token(hk, &hs_header, &claims);
    let got = token::verify(&mut c, &k.hs.key, hs.as_bytes(), CSE, now).unwrap();
    assert_eq!(got.0["jti"], "t-1");

    let refused = |r: jose::Result<token::Claims>| match r {
        Err(JoseError::TokenRefused(why)) => why,
        other => panic!("expected a refusal, got {other:?}"),
    };
    // Expired at exactly `exp` (RFC 7519 §4.1.4), not yet valid before `nbf`.
    let why = refused(token::verify(
        &mut c,
        &k.es_peer.key,
        es.as_bytes(),
        CSE,
        now + 600,
    ));
    assert!(why.contains("expired"), "{why}");
    let why = refused(token::verify(
        &mut c,
        &k.es_peer.key,
        es.as_bytes(),
        CSE,
        now - 61,
    ));
    assert!(why.contains("not valid yet"), "{why}");
    // Another CSE is not in the audience.
    let why = refused(token::verify(
        &mut c,
        &k.es_peer.key,
        es.as_bytes(),
        "/cse-x",
        now,
    ));
    assert!(why.contains("audience"), "{why}");
    // No audience: any CSE (TS-0003 §7.3.2.5 checks a non-empty list only).
    let mut open = claims.clone();
    open.as_object_mut().unwrap().remove("aud");
    let t = es256_token(d, &es_header, &open);
    assert!(token::verify(&mut c, &k.es_peer.key, t.as_bytes(), "/cse-x", now).is_ok());
    // Not a oneM2M JWT: no typ, or a nested one (cty).
    let t = es256_token(d, &json!({"alg": "ES256"}), &claims);
    assert!(refused(token::verify(
        &mut c,
        &k.es_peer.key,
        t.as_bytes(),
        CSE,
        now
    ))
    .contains("typ"));
    let t = es256_token(
        d,
        &json!({"alg": "ES256", "typ": "JWT", "cty": "JWT"}),
        &claims,
    );
    assert!(refused(token::verify(
        &mut c,
        &k.es_peer.key,
        t.as_bytes(),
        CSE,
        now
    ))
    .contains("cty"));
    // No expiry at all.
    let mut forever = claims.clone();
    forever.as_object_mut().unwrap().remove("exp");
    let t = es256_token(d, &es_header, &forever);
    assert!(refused(token::verify(
        &mut c,
        &k.es_peer.key,
        t.as_bytes(),
        CSE,
        now
    ))
    .contains("exp"));

    // A changed claim breaks the signature; so does another issuer's key.
    let parts: Vec<&str> = es.split('.').collect();
    let mut longer = claims.clone();
    longer["exp"] = json!(now + 10_000_000);
    let forged = format!(
        "{}.{}.{}",
        parts[0],
        b64(longer.to_string().as_bytes()),
        parts[2]
    );
    assert!(matches!(
        token::verify(&mut c, &k.es_peer.key, forged.as_bytes(), CSE, now),
        Err(JoseError::BadSignature)
    ));
    assert!(matches!(
        token::verify(&mut c, &k.es_own.key, es.as_bytes(), CSE, now),
        Err(JoseError::BadSignature)
    ));
    // An HS256 token presented to the EC issuer key: even with MAC granted,
    // the SE refuses the key's kind.
    s.grant(
        "es-peer",
        OWNER_CSE,
        seam::Ops::VERIFY.union(seam::Ops::MAC),
        seam_tests::jose_keys::SIG_SUID,
    );
    let e = token::verify(&mut c, &k.es_peer.key, hs.as_bytes(), CSE, now).unwrap_err();
    assert_eq!(se_reason(&e), Some(Reason::WrongObjectKind), "{e}");
    // alg none, however it is signed, is refused by name.
    let unsigned = format!(
        "{}.{}.",
        b64(br#"{"alg":"none","typ":"JWT"}"#),
        b64(claims.to_string().as_bytes())
    );
    let e = token::verify(&mut c, &k.es_peer.key, unsigned.as_bytes(), CSE, now).unwrap_err();
    assert!(
        matches!(&e, JoseError::Unsupported(m) if m.contains("none")),
        "{e}"
    );
}

#[test]
fn malformed_jose_is_refused_before_any_key_is_used() {
    let device = Device::new();
    let s = device.stakeholder("bad");
    let k = JoseKeys::provision(&s, OWNER_CSE);
    // A caller with no grant at all: had any of these reached the SE, the
    // answer would be NoPrivilege, not the parse error.
    let mut stranger = device.client_as(STRANGER);
    let h = |v: &str| b64(v.as_bytes());
    let es = h(r#"{"alg":"ES256"}"#);
    let sig64 = b64(&[1u8; 64]);
    let jws_cases: Vec<(String, &str)> = vec![
        ("".into(), "three base64url parts"),
        (format!("{es}.e30"), "three base64url parts"),
        (format!("{es}.e30.{sig64}.x"), "three base64url parts"),
        (
            format!("{es}.e3=0.{sig64}"),
            "payload is not unpadded base64url",
        ),
        (format!("{es}.e30.{}", b64(&[1u8; 63])), "64 bytes"),
        (format!("{}.e30.{sig64}", h(r#"{"alg":"none"}"#)), "none"),
        (format!("{}.e30.{sig64}", h(r#"{"alg":"RS256"}"#)), "RS256"),
        (
            format!("{}.e30.{sig64}", h(r#"{"alg":"ES256","alg":"HS256"}"#)),
            "twice",
        ),
        (
            format!("{}.e30.{sig64}", h(r#"{"alg":"ES256","crit":["exp"]}"#)),
            "crit",
        ),
        (format!("{}.e30.{sig64}", h(r#"["ES256"]"#)), "JSON object"),
        (
            format!("{}.e30.{sig64}", h(r#"{"typ":"JWT"}"#)),
            "no \"alg\"",
        ),
        (r#"{"signatures":[]}"#.into(), "general"),
        (
            format!(
                r#"{{"protected":"{es}","header":{{"kid":"1"}},"payload":"e30","signature":"{sig64}"}}"#
            ),
            "protected header only",
        ),
    ];
    for (input, reason) in &jws_cases {
        let e = jose::jws_verify(&mut stranger, &k.es_own.key, input.as_bytes()).unwrap_err();
        assert!(
            !matches!(e, JoseError::Se(_)) && e.to_string().contains(reason),
            "JWS {input:?}: {e}"
        );
    }
    let kw = h(r#"{"alg":"A128KW","enc":"A128GCM"}"#);
    let ek = b64(&[2u8; 24]);
    let iv = b64(&[3u8; 12]);
    let tag = b64(&[4u8; 16]);
    let jwe_cases: Vec<(String, &str)> = vec![
        (format!("{kw}.{ek}.{iv}.AAAA"), "five base64url parts"),
        (
            format!("{kw}.{ek}.{iv}.AAAA.{}", b64(&[4u8; 15])),
            "truncated",
        ),
        (format!("{kw}.{ek}.{}.AAAA.{tag}", b64(&[3u8; 16])), "IV"),
        (
            format!("{kw}.{}.{iv}.AAAA.{tag}", b64(&[2u8; 16])),
            "encrypted key",
        ),
        (
            format!(
                "{}.{ek}.{iv}.AAAA.{tag}",
                h(r#"{"alg":"RSA1_5","enc":"A128GCM"}"#)
            ),
            "RSA1_5",
        ),
        (
            format!(
                "{}.{ek}.{iv}.AAAA.{tag}",
                h(r#"{"alg":"A128KW","enc":"A128CBC-HS256"}"#)
            ),
            "A128CBC-HS256",
        ),
        (
            format!(
                "{}.{ek}.{iv}.AAAA.{tag}",
                h(r#"{"alg":"A128KW","enc":"A128GCM","zip":"DEF"}"#)
            ),
            "zip",
        ),
        (
            format!(
                "{}.{ek}.{iv}.AAAA.{tag}",
                h(r#"{"alg":"ECDH-ES+A128KW","enc":"A128GCM"}"#)
            ),
            "epk",
        ),
        (
            format!(
                "{}.{ek}.{iv}.AAAA.{tag}",
                h(
                    r#"{"alg":"ECDH-ES+A128KW","enc":"A128GCM","epk":{"kty":"EC","crv":"P-256","x":"AA","y":"AA","d":"AA"}}"#
                )
            ),
            "private key",
        ),
        (
            format!("{kw}.{ek}.{iv}.{}.{tag}", b64(&vec![0u8; 3000])),
            "at most 2048",
        ),
        (
            format!(
                r#"{{"protected":"{kw}","unprotected":{{"alg":"dir"}},"encrypted_key":"{ek}","iv":"{iv}","ciphertext":"AAAA","tag":"{tag}"}}"#
            ),
            "protected header only",
        ),
        ("x".repeat(70_000), "more than"),
    ];
    for (input, reason) in &jwe_cases {
        let e = jose::jwe_decrypt(&mut stranger, &k.kw128.key, input.as_bytes()).unwrap_err();
        assert!(
            !matches!(e, JoseError::Se(_)) && e.to_string().contains(reason),
            "JWE {}: {e}",
            &input[..input.len().min(80)]
        );
    }
    // The same well-formed input does reach the SE, which refuses the stranger.
    let ok_shape = format!("{kw}.{ek}.{iv}.AAAA.{tag}");
    let e = jose::jwe_decrypt(&mut stranger, &k.kw128.key, ok_shape.as_bytes()).unwrap_err();
    assert_eq!(se_reason(&e), Some(Reason::NoPrivilege), "{e}");
}

#[test]
fn every_tampered_byte_fails_and_keys_must_match_the_header() {
    let device = Device::new();
    let s = device.stakeholder("tamper");
    let k = JoseKeys::provision(&s, OWNER_CSE);
    let mut c = device.client_as(OWNER_CSE);
    let none = Map::new();
    let token = jose::jwe_encrypt(
        &mut c,
        &k.kw128.key,
        JweAlg::A128Kw,
        JweEnc::A128Gcm,
        b"secret reading",
        &none,
        Serialization::Compact,
    )
    .unwrap();
    assert_eq!(
        jose::jwe_decrypt(&mut c, &k.kw128.key, token.as_bytes()).unwrap(),
        b"secret reading"
    );
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut tried = 0;
    for i in 0..token.len() {
        if token.as_bytes()[i] == b'.' {
            continue;
        }
        let mut t = token.clone().into_bytes();
        // Another base64url character (still decodable in most positions).
        let j = alphabet.iter().position(|&a| a == t[i]).unwrap();
        t[i] = alphabet[(j + 1) % 64];
        let r = jose::jwe_decrypt(&mut c, &k.kw128.key, &t);
        assert!(r.is_err(), "byte {i} tampered still decrypted");
        tried += 1;
    }
    println!(
        "{tried} single-character tamperings of a {}-byte JWE all refused",
        token.len()
    );

    // A header that disagrees with the key: dir/A256GCM with a 128-bit key,
    // A256KW with a 128-bit KEK, ECDH-ES to a secret, ES256 with a secret.
    for (key, alg, enc) in [
        (&k.dir128.key, JweAlg::Dir, JweEnc::A256Gcm),
        (&k.kw128.key, JweAlg::A256Kw, JweEnc::A128Gcm),
        (&k.kw128.key, JweAlg::EcdhEsA128Kw, JweEnc::A128Gcm),
    ] {
        let e = jose::jwe_encrypt(&mut c, key, alg, enc, b"x", &none, Serialization::Compact)
            .unwrap_err();
        assert_eq!(
            se_reason(&e),
            Some(Reason::WrongObjectKind),
            "{alg:?} {enc:?}: {e}"
        );
    }
    let e = jose::jws_sign(
        &mut c,
        &k.hs.key,
        JwsAlg::Es256,
        b"x",
        &none,
        Serialization::Compact,
    )
    .unwrap_err();
    assert!(se_reason(&e).is_some(), "{e}");
    // A public-key object verifies and encrypts, but never signs.
    let e = jose::jws_sign(
        &mut c,
        &k.es_peer.key,
        JwsAlg::Es256,
        b"x",
        &none,
        Serialization::Compact,
    )
    .unwrap_err();
    assert!(se_reason(&e).is_some(), "{e}");
    // A JWE made for the ECDH-ES recipient's public key cannot be opened
    // with it: only the private key (outside this SE) could.
    let t = jose::jwe_encrypt(
        &mut c,
        &k.ecdh_peer.key,
        JweAlg::EcdhEsA128Kw,
        JweEnc::A128Gcm,
        b"x",
        &none,
        Serialization::Compact,
    )
    .unwrap();
    let e = jose::jwe_decrypt(&mut c, &k.ecdh_peer.key, t.as_bytes()).unwrap_err();
    assert!(se_reason(&e).is_some(), "{e}");
}
