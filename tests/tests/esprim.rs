//! ESPrim (TS-0003 §8.4.2) between two nodes' SEs — two stores on the
//! simulator, two stakeholder SEs on the real TA — with a transit party in
//! between that sees only ciphertext; and ESData (§8.4.3) sign-then-encrypt
//! between a writer and a reader. The session key is checked against one
//! computed outside seam (Python's or ring's HMAC/HKDF, ring's AES-GCM).

use base64ct::{Base64UrlUnpadded, Encoding};
use seam::jose::esdata::{self, Protection};
use seam::jose::esprim::{self, RandObject};
use seam::jose::{self, JoseError, JweAlg, JweEnc, JwsAlg, Serialization};
use seam::proto::handshake::{Derivation, E2eKey, SESSION_ESPRIM_LABEL};
use seam::proto::{
    heapless, AdminOp, AeadAlg, KeyAttributes, KeyRef, KeyRole, ObjectKind, Ops, Reason,
};
use seam::Client;
use seam_tests::reference as r;
use seam_tests::{Device, Stakeholder, OWNER_CSE, STRANGER};

/// The Kpsa both nodes were provisioned with (pre-provisioned, SUID 12).
const KPSA: [u8; 32] = *b"pairwise Kpsa of AE-1 and CSE-IN";
const SALT: &[u8] = b"esprim test salt";
const NOW: u64 = 1_800_000_000;

const REQUEST: &[u8] = br#"{"op":1,"to":"//in.example/CSE-IN/base","fr":"CAE-1","rqi":"req-0001","pc":{"m2m:cin":{"con":"meter reading 42.7 kWh SECRET-MARKER"}}}"#;
const RESPONSE: &[u8] = br#"{"rsc":2001,"rqi":"req-0001","to":"CAE-1","fr":"/CSE-IN","pc":{"m2m:uri":"RESPONSE-MARKER"}}"#;

/// A node holding Kpsa and the Kpsa-based E2E message key derived from it
/// (SUID 13, ESPrim), usable by OWNER_CSE.
struct Node<'d> {
    s: Stakeholder<'d>,
    key: KeyRef,
}

fn node(device: &Device) -> Node<'_> {
    let s = device.stakeholder_with("esprim", true);
    let op = AdminOp::ImportPlaintext {
        object: "kpsa".try_into().unwrap(),
        suid: seam_tests::suid(12),
        kind: ObjectKind::Secret,
        material: seam::proto::Data::from_slice(&KPSA).unwrap(),
        attributes: Default::default(),
    };
    s.device.client().admin(&s.admin, &s.se, vec![op]).unwrap();
    s.grant("kpsa", OWNER_CSE, Ops::DERIVE, 12);
    let mut c = device.client_as(OWNER_CSE);
    let info = c
        .derive_key(
            &s.key("kpsa", 12),
            Derivation::E2e {
                key: E2eKey::MessageConfidentiality,
                salt: heapless::Vec::from_slice(SALT).unwrap(),
                len: 32,
            },
            "e2e-msg",
        )
        .unwrap();
    assert_eq!(info.suid, Some(seam_tests::suid(13)));
    // Ke2e_msg_conf is the pairwise ESPrim key: a derivation source.
    assert_eq!(info.attributes.role, KeyRole::Pairwise);
    let key = s.key("e2e-msg", 13);
    Node { s, key }
}

/// Ke2e_msg_conf from the formula as written (TS-0003 §10.3.6.2), with
/// Python's hmac: T(2) of the chain T(i) = HMAC(Ke2e_master, T(i-1) ‖
/// label_i ‖ i), Ke2e_master = HMAC(salt, Kpsa).
fn msg_conf_key() -> Vec<u8> {
    let master = r::hmac(SALT, &[&KPSA]);
    let t1 = r::hmac(&master, &[b"E2E Message Authentication Key", &[1]]);
    r::hmac(&master, &[&t1, b"E2E Message Confidentiality Key", &[2]])
}

fn b64d(s: &str) -> Vec<u8> {
    Base64UrlUnpadded::decode_vec(s).unwrap()
}

/// Opens an ESPrim object with ring, from the reference session key.
fn open_outside(esprim: &str, session_key: &[u8]) -> Vec<u8> {
    use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM};
    let p: Vec<&str> = esprim.split('.').collect();
    let key = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, session_key).unwrap());
    let nonce = Nonce::try_assume_unique_for_key(&b64d(p[2])).unwrap();
    let mut in_out = [b64d(p[3]), b64d(p[4])].concat();
    let plain = key
        .open_in_place(nonce, Aad::from(p[0].as_bytes()), &mut in_out)
        .expect("ring opens what the SE sealed");
    plain.to_vec()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Everything a transit party can see of an ESPrim object: its text and
/// every part decoded.
fn transit_view(esprim: &str) -> Vec<Vec<u8>> {
    let mut seen = vec![esprim.as_bytes().to_vec()];
    seen.extend(
        esprim
            .split('.')
            .filter_map(|p| Base64UrlUnpadded::decode_vec(p).ok()),
    );
    seen
}

#[test]
fn esprim_round_trip_between_two_nodes_through_a_transit_party() {
    let (originator_device, target_device) = (Device::new(), Device::new());
    let (ae, cse) = (node(&originator_device), node(&target_device));
    let mut originator = originator_device.client_as(OWNER_CSE);
    let mut target = target_device.client_as(OWNER_CSE);

    // The target publishes a random object; the originator fetches it.
    let published =
        RandObject::generate(&mut target, "rand-CSE-IN-1", NOW + 3600).expect("random object");
    let fetched = RandObject::parse(published.to_json().to_string().as_bytes()).unwrap();
    assert_eq!(fetched, published);

    let (request, session) = esprim::protect_request(
        &mut originator,
        &ae.key,
        "CAE-1",
        "CSE-IN",
        &fetched,
        NOW,
        REQUEST,
    )
    .unwrap();

    // The transit party: ciphertext only, and what it alters fails.
    for seen in transit_view(&request) {
        assert!(!contains(&seen, b"SECRET-MARKER"));
        assert!(!contains(&seen, b"meter reading"));
    }
    // Every byte of the first part; a sample of the rest.
    for i in (0..request.len()).filter(|i| *i < 64 || i % 7 == 0) {
        let mut tampered = request.clone().into_bytes();
        if tampered[i] == b'.' {
            continue;
        }
        tampered[i] = if tampered[i] == b'A' { b'B' } else { b'A' };
        assert!(
            esprim::unprotect_request(
                &mut target,
                &cse.key,
                "CSE-IN",
                std::slice::from_ref(&published),
                NOW,
                &tampered
            )
            .is_err(),
            "byte {i} changed and the ESPrim object still opened"
        );
    }

    // The target opens it, and the session key is the spec's.
    let (opened, target_session) = esprim::unprotect_request(
        &mut target,
        &cse.key,
        "CSE-IN",
        std::slice::from_ref(&published),
        NOW + 10,
        request.as_bytes(),
    )
    .unwrap();
    assert_eq!(opened, REQUEST);
    assert_eq!(target_session, session);
    let pairwise = msg_conf_key();
    let session_key = r::hmac(
        &pairwise,
        &[
            &published.value,
            &session.originator_rand.value,
            SESSION_ESPRIM_LABEL.as_bytes(),
        ],
    );
    assert_eq!(open_outside(&request, &session_key), REQUEST);

    // The response goes back under the same session.
    let response =
        esprim::protect_response(&mut target, &cse.key, &target_session, NOW + 11, RESPONSE)
            .unwrap();
    for seen in transit_view(&response) {
        assert!(!contains(&seen, b"RESPONSE-MARKER"));
    }
    assert_eq!(open_outside(&response, &session_key), RESPONSE);
    assert_eq!(
        esprim::unprotect_response(
            &mut originator,
            &ae.key,
            &session,
            NOW + 12,
            response.as_bytes()
        )
        .unwrap(),
        RESPONSE
    );
    // A session survives its JSON form (the CLI keeps it in a file).
    assert_eq!(
        esprim::Session::from_json(&session.to_json()).unwrap(),
        session
    );

    // Reflection: a request is not a response, a response not a request.
    assert!(matches!(
        esprim::unprotect_response(&mut originator, &ae.key, &session, NOW, request.as_bytes()),
        Err(JoseError::EsPrimRefused(_))
    ));
    assert!(matches!(
        esprim::unprotect_request(
            &mut target,
            &cse.key,
            "CSE-IN",
            std::slice::from_ref(&published),
            NOW,
            response.as_bytes()
        ),
        Err(JoseError::EsPrimRefused(_))
    ));
    // Another target, an unknown or expired random object: refused before any key.
    let refused = |c: &mut Client, id: &str, rands: &[RandObject], now: u64| {
        esprim::unprotect_request(c, &cse.key, id, rands, now, request.as_bytes()).unwrap_err()
    };
    assert!(matches!(
        refused(
            &mut target,
            "CSE-OTHER",
            std::slice::from_ref(&published),
            NOW
        ),
        JoseError::EsPrimRefused(_)
    ));
    let other = RandObject::generate(&mut target, "rand-CSE-IN-2", NOW + 3600).unwrap();
    assert!(matches!(
        refused(&mut target, "CSE-IN", std::slice::from_ref(&other), NOW),
        JoseError::EsPrimRefused(_)
    ));
    assert!(matches!(
        refused(
            &mut target,
            "CSE-IN",
            std::slice::from_ref(&published),
            NOW + 3600
        ),
        JoseError::EsPrimRefused(_)
    ));
    assert!(matches!(
        esprim::protect_request(
            &mut originator,
            &ae.key,
            "CAE-1",
            "CSE-IN",
            &published,
            NOW + 3600,
            REQUEST
        ),
        Err(JoseError::EsPrimRefused(_))
    ));
    // A random value the target never published (same ID): the keys differ.
    let forged = RandObject {
        value: vec![7; 32],
        ..published.clone()
    };
    match refused(&mut target, "CSE-IN", std::slice::from_ref(&forged), NOW) {
        JoseError::Se(se) => assert_eq!(se.reason(), Some(Reason::AuthenticationFailed)),
        other => panic!("a wrong receiver random value must fail authentication: {other}"),
    }
    // The transit party's own SE cannot open it: it holds no grant on the key.
    let mut stranger = target_device.client_as(STRANGER);
    let e = esprim::unprotect_request(
        &mut stranger,
        &cse.key,
        "CSE-IN",
        std::slice::from_ref(&published),
        NOW,
        request.as_bytes(),
    )
    .unwrap_err();
    match e {
        JoseError::Se(se) => assert_eq!(se.reason(), Some(Reason::NoPrivilege)),
        other => panic!("expected NoPrivilege, got {other}"),
    }
}

#[test]
fn esprim_refuses_keys_and_input_that_are_not_esprim() {
    let device = Device::new();
    let n = node(&device);
    let mut c = device.client_as(OWNER_CSE);
    let rand = RandObject::generate(&mut c, "r1", NOW + 60).unwrap();

    // An ESData key (SUID 14) does not double as an ESPrim key.
    let op = AdminOp::ImportPlaintext {
        object: "esdata".try_into().unwrap(),
        suid: seam_tests::suid(14),
        kind: ObjectKind::Secret,
        material: seam::proto::Data::from_slice(&[9; 32]).unwrap(),
        attributes: Default::default(),
    };
    n.s.device
        .client()
        .admin(&n.s.admin, &n.s.se, vec![op])
        .unwrap();
    n.s.grant("esdata", OWNER_CSE, Ops::ENCRYPT.union(Ops::DECRYPT), 14);
    let e = esprim::protect_request(&mut c, &n.s.key("esdata", 14), "a", "b", &rand, NOW, b"x")
        .unwrap_err();
    match e {
        JoseError::Se(se) => assert_eq!(se.reason(), Some(Reason::SuidForbidsOperation)),
        other => panic!("expected SuidForbidsOperation, got {other}"),
    }

    // Malformed objects are refused with their reason before any key.
    let (good, _) = esprim::protect_request(&mut c, &n.key, "a", "b", &rand, NOW, b"x").unwrap();
    let p: Vec<&str> = good.split('.').collect();
    let mut malformed = |text: String| {
        esprim::unprotect_request(
            &mut c,
            &n.key,
            "b",
            std::slice::from_ref(&rand),
            NOW,
            text.as_bytes(),
        )
        .unwrap_err()
    };
    for (bad, why) in [
        (format!("{}.{}.{}", p[0], p[2], p[3]), "five"),
        (
            format!("{}.AAAA.{}.{}.{}", p[0], p[2], p[3], p[4]),
            "encrypted key",
        ),
        (
            format!("{}..{}.{}.{}", p[0], p[2], p[3], &p[4][..12]),
            "truncated",
        ),
        (format!("{}..{}.{}.{}", p[0], "AAAA", p[3], p[4]), "IV"),
        (
            format!("{}..{}.{}.{}", p[0], p[2], "***", p[4]),
            "base64url",
        ),
        (
            format!(
                "{}..{}.{}.{}",
                Base64UrlUnpadded::encode_string(br#"{"alg":"none"}"#),
                p[2],
                p[3],
                p[4]
            ),
            "none",
        ),
        (
            format!(
                "{}..{}.{}.{}",
                Base64UrlUnpadded::encode_string(br#"{"alg":"dir","enc":"A128GCM"}"#),
                p[2],
                p[3],
                p[4]
            ),
            "A256GCM",
        ),
    ] {
        let e = malformed(bad);
        assert!(
            matches!(e, JoseError::Malformed(_) | JoseError::Unsupported(_)),
            "{why}: {e}"
        );
        assert!(e.to_string().contains(why), "{why}: {e}");
    }
    // Random objects: too short a value, a missing expiry.
    let short =
        serde_json::json!({"esprimRandID":"r","esprimRandValue":"AAAA","esprimRandExpiry":1});
    assert!(RandObject::from_json(&short)
        .unwrap_err()
        .to_string()
        .contains("esprimRandValue"));
    let no_expiry = serde_json::json!({"esprimRandID":"r","esprimRandValue":Base64UrlUnpadded::encode_string(&[1;16])});
    assert!(RandObject::from_json(&no_expiry)
        .unwrap_err()
        .to_string()
        .contains("esprimRandExpiry"));
}

/// ESData: the writer signs (ES256 or HS256) and encrypts for the reader
/// (symmetric or ECDH-ES); the reader decrypts and verifies.
#[test]
fn esdata_sign_then_encrypt_for_a_reader() {
    let device = Device::new();
    let writer = device.stakeholder_with("writer", true);
    let reader = device.stakeholder_with("reader", true);
    // Writer: an ES256 key pair (SUID 45, a certificate-type key) and an
    // HS256 secret (15); a 16-byte A128KW key (14) shared with the reader;
    // the reader's P-256 key (44), its public half held by the writer.
    let signer_public = writer.generate("sig", 45);
    let reader_public = reader.generate("ecdh", 44);
    let secret = |s: &Stakeholder, object: &str, suid: u8, material: &[u8]| {
        let op = AdminOp::ImportPlaintext {
            object: object.try_into().unwrap(),
            suid: seam_tests::suid(suid),
            kind: ObjectKind::Secret,
            material: seam::proto::Data::from_slice(material).unwrap(),
            attributes: Default::default(),
        };
        s.device.client().admin(&s.admin, &s.se, vec![op]).unwrap();
    };
    let public = |s: &Stakeholder, object: &str, suid: u8, key| {
        let op = AdminOp::ImportPublicKey {
            object: object.try_into().unwrap(),
            suid: seam_tests::suid(suid),
            key,
            attributes: Default::default(),
        };
        s.device.client().admin(&s.admin, &s.se, vec![op]).unwrap();
    };
    for s in [&writer, &reader] {
        secret(s, "kw", 14, &[0x42; 16]);
        secret(s, "hs", 15, &[0x43; 32]);
        s.grant("kw", OWNER_CSE, Ops::ENCRYPT.union(Ops::DECRYPT), 14);
        s.grant("hs", OWNER_CSE, Ops::MAC, 15);
    }
    writer.grant("sig", OWNER_CSE, Ops::SIGN, 45);
    public(&writer, "reader-ecdh", 44, reader_public);
    writer.grant("reader-ecdh", OWNER_CSE, Ops::ENCRYPT, 44);
    reader.grant("ecdh", OWNER_CSE, Ops::DECRYPT, 44);
    public(&reader, "writer-sig", 45, signer_public);
    reader.grant("writer-sig", OWNER_CSE, Ops::VERIFY, 45);

    let mut w = device.client_as(OWNER_CSE);
    let data = br#"{"m2m:cin":{"con":"ESDATA-MARKER 21.5 C"}}"#;
    let cases = [
        (
            ("sig", 45, JwsAlg::Es256),
            ("reader-ecdh", "ecdh", 44, JweAlg::EcdhEsA128Kw),
            "writer-sig",
        ),
        (
            ("hs", 15, JwsAlg::Hs256),
            ("kw", "kw", 14, JweAlg::A128Kw),
            "hs",
        ),
    ];
    for ((sign_key, sign_suid, sign_alg), (enc_key, dec_key, enc_suid, alg), verify_key) in cases {
        for serialization in [Serialization::Compact, Serialization::Flattened] {
            let protected = esdata::protect(
                &mut w,
                &Protection {
                    sign_key: &writer.key(sign_key, sign_suid),
                    sign_alg,
                    reader_key: &writer.key(enc_key, enc_suid),
                    alg,
                    enc: JweEnc::A256Gcm,
                    serialization,
                },
                data,
            )
            .unwrap();
            assert!(!contains(protected.as_bytes(), b"ESDATA-MARKER"));
            let opened = esdata::open(
                &mut w,
                &reader.key(dec_key, enc_suid),
                &reader.key(verify_key, sign_suid),
                protected.as_bytes(),
            )
            .unwrap();
            assert_eq!(opened.payload, data);
            assert_eq!(opened.header["alg"], sign_alg.name());
            // A tampered byte anywhere: nothing comes back.
            let mut tampered = protected.clone().into_bytes();
            let i = tampered.len() / 2;
            tampered[i] = if tampered[i] == b'A' { b'B' } else { b'A' };
            assert!(esdata::open(
                &mut w,
                &reader.key(dec_key, enc_suid),
                &reader.key(verify_key, sign_suid),
                &tampered
            )
            .is_err());
        }
    }
    // Encrypted but not signed (a plain JWE): refused as not ESData of this class.
    let plain = jose::jwe_encrypt(
        &mut w,
        &writer.key("kw", 14),
        JweAlg::A128Kw,
        JweEnc::A128Gcm,
        data,
        &Default::default(),
        Serialization::Compact,
    )
    .unwrap();
    let e = esdata::open(
        &mut w,
        &reader.key("kw", 14),
        &reader.key("hs", 15),
        plain.as_bytes(),
    )
    .unwrap_err();
    assert!(e.to_string().contains("cty"), "{e}");
    // Signed by a key the reader does not trust for this writer: refused.
    let forged = esdata::protect(
        &mut w,
        &Protection {
            sign_key: &writer.key("hs", 15),
            sign_alg: JwsAlg::Hs256,
            reader_key: &writer.key("kw", 14),
            alg: JweAlg::A128Kw,
            enc: JweEnc::A128Gcm,
            serialization: Serialization::Compact,
        },
        data,
    )
    .unwrap();
    assert!(esdata::open(
        &mut w,
        &reader.key("kw", 14),
        &reader.key("writer-sig", 45),
        forged.as_bytes()
    )
    .is_err());
    // Data too large once signed: refused with the reason.
    let e = esdata::protect(
        &mut w,
        &Protection {
            sign_key: &writer.key("hs", 15),
            sign_alg: JwsAlg::Hs256,
            reader_key: &writer.key("kw", 14),
            alg: JweAlg::A128Kw,
            enc: JweEnc::A128Gcm,
            serialization: Serialization::Compact,
        },
        &[b'x'; 1500],
    )
    .unwrap_err();
    assert!(e.to_string().contains("at most"), "{e}");
}

/// ESPrim HMACs its key into sessionESPrimKey: the key is a `Pairwise`
/// derivation source that no generic operation runs on (so no MAC computes
/// sessionESPrimKey in the clear), and an `Operational` use-3 key, which
/// allows MAC, is no ESPrim key.
#[test]
fn an_esprim_key_does_nothing_but_esprim() {
    let device = Device::new();
    let n = node(&device);
    let mut c = device.client_as(OWNER_CSE);
    let rand = RandObject::generate(&mut c, "r1", NOW + 60).unwrap();
    let (request, session) =
        esprim::protect_request(&mut c, &n.key, "a", "b", &rand, NOW, REQUEST).unwrap();
    let pairwise = msg_conf_key();
    let session_key = r::hmac(
        &pairwise,
        &[
            &rand.value,
            &session.originator_rand.value,
            SESSION_ESPRIM_LABEL.as_bytes(),
        ],
    );
    assert_eq!(open_outside(&request, &session_key), REQUEST);

    // The MAC that would be sessionESPrimKey, and generic encryption, refused.
    let message = [
        &rand.value[..],
        &session.originator_rand.value,
        SESSION_ESPRIM_LABEL.as_bytes(),
    ]
    .concat();
    // (Its deriver holds no MAC grant; an admin's pairwise key granted MAC
    // is refused for its role, below.)
    assert_eq!(
        c.mac(&n.key, &message).unwrap_err().reason(),
        Some(Reason::NoPrivilege)
    );
    assert_eq!(
        c.encrypt(&n.key, AeadAlg::Aes128Gcm, 12, b"", b"x")
            .unwrap_err()
            .reason(),
        Some(Reason::SuidForbidsOperation)
    );
    assert_eq!(
        c.decrypt(&n.key, AeadAlg::Aes128Gcm, &[0; 12], b"", &[0; 17])
            .unwrap_err()
            .reason(),
        Some(Reason::SuidForbidsOperation)
    );

    // An admin's keys of SUID 13 granted MAC, encrypt and decrypt: the
    // pairwise one does ESPrim and no MAC, the operational one MACs and no
    // ESPrim.
    let all = Ops::ENCRYPT.union(Ops::DECRYPT).union(Ops::MAC);
    for (object, role) in [("pw13", KeyRole::Pairwise), ("op13", KeyRole::Operational)] {
        let op = AdminOp::ImportPlaintext {
            object: object.try_into().unwrap(),
            suid: seam_tests::suid(13),
            kind: ObjectKind::Secret,
            material: seam::proto::Data::from_slice(&[5; 32]).unwrap(),
            attributes: KeyAttributes {
                role,
                not_after: None,
            },
        };
        n.s.device
            .client()
            .admin(&n.s.admin, &n.s.se, vec![op])
            .unwrap();
        n.s.grant(object, OWNER_CSE, all, 13);
    }
    let pairwise = n.s.key("pw13", 13);
    esprim::protect_request(&mut c, &pairwise, "a", "b", &rand, NOW, b"x")
        .expect("a pairwise key does ESPrim");
    assert_eq!(
        c.mac(&pairwise, &message).unwrap_err().reason(),
        Some(Reason::SuidForbidsOperation)
    );
    let operational = n.s.key("op13", 13);
    c.mac(&operational, &message)
        .expect("an operational key MACs");
    match esprim::protect_request(&mut c, &operational, "a", "b", &rand, NOW, b"x").unwrap_err() {
        JoseError::Se(se) => assert_eq!(se.reason(), Some(Reason::SuidForbidsOperation)),
        other => panic!("expected SuidForbidsOperation, got {other}"),
    }
}
