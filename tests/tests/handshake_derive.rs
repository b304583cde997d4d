//! The TS-0003 §10.3 derivations (Km, Kpsa, usage-constrained keys, E2E
//! HKDF keys, sessionESPrimKey), stored key into stored key, each checked
//! against Python's hmac/hashlib without the derived key ever leaving: a
//! MAC made inside with it (or, for Kpsa, whose SUID allows no MAC, a TLS
//! 1.2 PSK key block) must equal the one computed from the reference key.

use seam::proto::handshake::{
    Derivation, E2eKey, Framing, KM_LABEL, KPSA_LABEL, SESSION_ESPRIM_LABEL,
    USAGE_CONSTRAINED_LABEL,
};
use seam::proto::{heapless, AdminOp, KeyAttributes, KeyRef, KeyRole, ObjectKind, Ops, Reason};
use seam::Client;
use seam_tests::reference as r;
use seam_tests::{Device, Stakeholder, OWNER_CSE, STRANGER};

const KE: [u8; 32] = [
    0x4b, 0x65, 0x20, 0x66, 0x72, 0x6f, 0x6d, 0x20, 0x61, 0x20, 0x62, 0x6f, 0x6f, 0x74, 0x73, 0x74,
    0x72, 0x61, 0x70, 0x20, 0x2d, 0x20, 0x6f, 0x6e, 0x65, 0x4d, 0x32, 0x4d, 0x20, 0x4d, 0x45, 0x46,
];

fn setup(device: &Device) -> Stakeholder<'_> {
    let s = device.stakeholder_with("derive", true);
    // Ke: a bootstrap key by its role, under its bootstrap credential's
    // SUID (10, pre-provisioned, MEF): TS-0004 has no SUID 20.
    let op = AdminOp::ImportPlaintext {
        object: "ke".try_into().unwrap(),
        suid: seam_tests::suid(10),
        kind: ObjectKind::Secret,
        material: seam::proto::Data::from_slice(&KE).unwrap(),
        attributes: KeyAttributes {
            role: KeyRole::Bootstrap,
            not_after: None,
        },
    };
    s.device.client().admin(&s.admin, &s.se, vec![op]).unwrap();
    s.grant("ke", OWNER_CSE, Ops::DERIVE, 10);
    s
}

fn derive(c: &mut Client, source: &KeyRef, rule: Derivation, object: &str) -> KeyRef {
    let info = c.derive_key(source, rule, object).unwrap();
    KeyRef {
        key: object.try_into().unwrap(),
        suid: info.suid.expect("a key has a SUID"),
        ..source.clone()
    }
}

fn mac_matches(c: &mut Client, key: &KeyRef, reference_key: &[u8]) {
    let tag = c.mac(key, b"a oneM2M primitive").unwrap();
    assert_eq!(
        tag.to_vec(),
        r::hmac(reference_key, &[b"a oneM2M primitive"]),
        "{key:?}"
    );
}

#[test]
fn km_and_usage_constrained_keys_match_python() {
    let device = Device::new();
    let s = setup(&device);
    let mut c = device.client_as(OWNER_CSE);
    let ke = s.key("ke", 10);

    let km = derive(
        &mut c,
        &ke,
        Derivation::Km {
            maf_id: "MAF-ID.maf.example.com".try_into().unwrap(),
        },
        "km",
    );
    assert_eq!(km.suid, seam_tests::suid(21));
    let km_ref = r::hmac(&KE, &[KM_LABEL.as_bytes(), b"MAF-ID.maf.example.com"]);
    mac_matches(&mut c, &km, &km_ref);

    let uc = derive(
        &mut c,
        &ke,
        Derivation::UsageConstrained {
            suid: seam_tests::suid(25),
            target_id: "C-target@example".try_into().unwrap(),
        },
        "uc",
    );
    assert_eq!(uc.suid, seam_tests::suid(25));
    let uc_ref = r::hmac(
        &KE,
        &[
            USAGE_CONSTRAINED_LABEL.as_bytes(),
            b"25",
            b"C-target@example",
        ],
    );
    mac_matches(&mut c, &uc, &uc_ref);
}

#[test]
fn kpsa_e2e_keys_and_session_esprim_key_match_python() {
    let device = Device::new();
    let s = setup(&device);
    let mut c = device.client_as(OWNER_CSE);
    let ke = s.key("ke", 10);

    let kpsa = derive(
        &mut c,
        &ke,
        Derivation::Kpsa {
            enrolee_id: "enrolee-b.example".try_into().unwrap(),
        },
        "kpsa",
    );
    assert_eq!(kpsa.suid, seam_tests::suid(22));
    let kpsa_ref = r::hmac(&KE, &[KPSA_LABEL.as_bytes(), b"enrolee-b.example"]);
    // Kpsa is a (D)TLS key: no MAC, but a PSK handshake shows its value
    // (TLS_PSK_WITH_AES_128_CCM_8, no extended master secret).
    let opened = c
        .handshake_client_open(Framing::Tls, &[0xC0A8], Some(&kpsa), None)
        .unwrap();
    let (cr, sr) = (opened.random, [2u8; 32]);
    let message = |kind: u8, body: &[u8]| {
        let n = body.len();
        [&[kind, (n >> 16) as u8, (n >> 8) as u8, n as u8][..], body].concat()
    };
    let hello =
        |random: &[u8; 32], suite: &[u8]| [&[3, 3][..], random, &[0], suite, &[1, 0]].concat();
    let transcript = [
        message(1, &hello(&cr, &[0, 2, 0xC0, 0xA8])),
        message(2, &[&[3, 3][..], &sr, &[0, 0xC0, 0xA8, 0]].concat()),
        message(14, &[]),
        message(16, &[0, 1, b'x']),
    ]
    .concat();
    let done = c
        .handshake_client_finish(opened.session, &transcript)
        .unwrap();
    let master = r::prf(
        &r::psk_premaster(&kpsa_ref),
        "master secret",
        &[cr, sr].concat(),
        48,
    );
    assert_eq!(
        done.key_block,
        r::prf(&master, "key expansion", &[sr, cr].concat(), 40)
    );
    c.handshake_close(opened.session).unwrap();
    // ...and it does not MAC: its SUID's use is (D)TLS, so the deriver was
    // granted handshakes, not MACs.
    assert_eq!(
        c.mac(&kpsa, b"x").unwrap_err().reason(),
        Some(Reason::NoPrivilege)
    );

    // E2E keys (TS-0003 §10.3.6), from the formula as written, with
    // Python's hmac: Ke2e_master = HMAC(salt, Kpsa); one chain T(i) =
    // HMAC(Ke2e_master, T(i-1) ‖ label_i ‖ i), T(0) empty.
    let salt = b"e2e salt";
    let master = r::hmac(salt, &[&kpsa_ref]);
    let labels = [
        "E2E Message Authentication Key",
        "E2E Message Confidentiality Key",
        "E2E Attribute Authenticity Key",
        "E2E Attribute Confidentiality Key",
    ];
    let mut chain: Vec<Vec<u8>> = Vec::new();
    for (i, label) in labels.iter().enumerate() {
        let previous = chain.last().cloned().unwrap_or_default();
        chain.push(r::hmac(
            &master,
            &[&previous, label.as_bytes(), &[i as u8 + 1]],
        ));
    }
    // Only T(1) coincides with a fresh HKDF-Expand per key; what seam did
    // before (a fresh expand for each) differs from T(2) on.
    assert_eq!(chain[0], r::hkdf(salt, &kpsa_ref, labels[0], 32));
    assert_ne!(chain[2], r::hkdf(salt, &kpsa_ref, labels[2], 32));
    let e2e = |c: &mut Client, key: E2eKey, object: &str| {
        derive(
            c,
            &kpsa,
            Derivation::E2e {
                key,
                salt: heapless::Vec::from_slice(salt).unwrap(),
                len: 32,
            },
            object,
        )
    };
    let auth = e2e(&mut c, E2eKey::MessageAuthentication, "e2e-auth");
    assert_eq!(auth.suid, seam_tests::suid(23));
    mac_matches(&mut c, &auth, &chain[0]);
    let msg_conf = e2e(&mut c, E2eKey::MessageConfidentiality, "e2e-msg-conf");
    assert_eq!(msg_conf.suid, seam_tests::suid(23));
    // Ke2e_msg_conf is the pairwise ESPrim key: it MACs nothing (a MAC
    // would be sessionESPrimKey), so its value shows through the
    // sessionESPrimKey it derives.
    assert_eq!(
        c.mac(&msg_conf, b"x").unwrap_err().reason(),
        Some(Reason::NoPrivilege),
        "a pairwise key's deriver is granted DERIVE and ESPrim only"
    );
    let (rr, or) = (b"receiver-rand-e2e", b"originator-rand-e2e");
    let msg_session = derive(
        &mut c,
        &msg_conf,
        Derivation::SessionEsPrim {
            receiver_rand: heapless::Vec::from_slice(rr).unwrap(),
            originator_rand: heapless::Vec::from_slice(or).unwrap(),
        },
        "e2e-session",
    );
    mac_matches(
        &mut c,
        &msg_session,
        &r::hmac(&chain[1], &[rr, or, SESSION_ESPRIM_LABEL.as_bytes()]),
    );
    let attr = e2e(&mut c, E2eKey::AttributeAuthenticity, "e2e-attr");
    assert_eq!(attr.suid, seam_tests::suid(25));
    mac_matches(&mut c, &attr, &chain[2]);
    let conf = e2e(&mut c, E2eKey::AttributeConfidentiality, "e2e-conf");
    assert_eq!(conf.suid, seam_tests::suid(24));

    // sessionESPrimKey from a pairwise ESPrim key: a usage-constrained key
    // of SUID 23 (a pairwise key by role, which derives and does nothing
    // else).
    let pairwise = derive(
        &mut c,
        &ke,
        Derivation::UsageConstrained {
            suid: seam_tests::suid(23),
            target_id: "C-peer@example".try_into().unwrap(),
        },
        "pairwise",
    );
    let pairwise_ref = r::hmac(
        &KE,
        &[USAGE_CONSTRAINED_LABEL.as_bytes(), b"23", b"C-peer@example"],
    );
    assert_eq!(
        c.mac(&pairwise, b"x").unwrap_err().reason(),
        Some(Reason::NoPrivilege),
        "a pairwise key's deriver is granted DERIVE and ESPrim only"
    );
    let (receiver, originator) = (b"receiver-rand-01", b"originator-rand-02");
    let session = derive(
        &mut c,
        &pairwise,
        Derivation::SessionEsPrim {
            receiver_rand: heapless::Vec::from_slice(receiver).unwrap(),
            originator_rand: heapless::Vec::from_slice(originator).unwrap(),
        },
        "session",
    );
    assert_eq!(session.suid, seam_tests::suid(23));
    let session_ref = r::hmac(
        &pairwise_ref,
        &[receiver, originator, SESSION_ESPRIM_LABEL.as_bytes()],
    );
    mac_matches(&mut c, &session, &session_ref);
    // The E2E message authentication key is no pairwise key: it does not
    // derive session keys.
    assert!(c
        .derive_key(
            &auth,
            Derivation::SessionEsPrim {
                receiver_rand: heapless::Vec::from_slice(receiver).unwrap(),
                originator_rand: heapless::Vec::from_slice(originator).unwrap(),
            },
            "session2",
        )
        .is_err());
}

#[test]
fn derivations_are_restricted() {
    let device = Device::new();
    let s = setup(&device);
    let mut c = device.client_as(OWNER_CSE);
    let ke = s.key("ke", 10);
    let km = |id: &str| Derivation::Km {
        maf_id: id.try_into().unwrap(),
    };
    let refused = |c: &mut Client, source: &KeyRef, rule: Derivation, object: &str| {
        c.derive_key(source, rule, object)
            .unwrap_err()
            .reason()
            .unwrap()
    };
    // Identifiers: printable ASCII only (NFKC-stable), not empty.
    assert_eq!(
        refused(&mut c, &ke, km("Maf\u{fb01}"), "a"),
        Reason::InvalidParameter
    );
    assert_eq!(refused(&mut c, &ke, km(""), "a"), Reason::InvalidParameter);
    // A usage-constrained key is a remote-provisioning key (tens digit 2).
    let uc = Derivation::UsageConstrained {
        suid: seam_tests::suid(13),
        target_id: "t".try_into().unwrap(),
    };
    assert_eq!(refused(&mut c, &ke, uc, "a"), Reason::InvalidSuid);
    // No overwriting, no deriving without a DERIVE grant.
    derive(&mut c, &ke, km("maf"), "km");
    assert_eq!(refused(&mut c, &ke, km("maf"), "km"), Reason::AlreadyExists);
    let mut stranger = device.client_as(STRANGER);
    assert_eq!(
        refused(&mut stranger, &ke, km("maf"), "b"),
        Reason::NoPrivilege
    );
    // Km derives nothing: it is no Ke, and its deriver holds no DERIVE on it.
    let km_key = KeyRef {
        key: "km".try_into().unwrap(),
        suid: seam_tests::suid(21),
        ..ke.clone()
    };
    assert_eq!(
        refused(&mut c, &km_key, km("maf"), "c"),
        Reason::NoPrivilege
    );
    // The derived key is the deriver's to use, not a stranger's.
    assert_eq!(
        stranger.mac(&km_key, b"x").unwrap_err().reason(),
        Some(Reason::NoPrivilege)
    );
}

/// A handshake session uses the very key its grant was checked on. A
/// caller's own Kpsa named like an admin PSK it has no grant on (its name
/// shadows the admin's for it) keys the handshake with its own value, never
/// the admin's (the session's secrets are read by the caller's names).
#[test]
fn a_handshake_uses_the_callers_own_key_not_the_admins_of_that_name() {
    let device = Device::new();
    let s = setup(&device);
    let admins = AdminOp::ImportPlaintext {
        object: "shadow".try_into().unwrap(),
        suid: seam_tests::suid(22),
        kind: ObjectKind::Secret,
        material: seam::proto::Data::from_slice(&[0xad; 32]).unwrap(),
        attributes: KeyAttributes::default(),
    };
    s.device
        .client()
        .admin(&s.admin, &s.se, vec![admins])
        .unwrap();
    let mut c = device.client_as(OWNER_CSE);
    let kpsa = derive(
        &mut c,
        &s.key("ke", 10),
        Derivation::Kpsa {
            enrolee_id: "enrolee-s.example".try_into().unwrap(),
        },
        "shadow",
    );
    let own = r::hmac(&KE, &[KPSA_LABEL.as_bytes(), b"enrolee-s.example"]);
    let opened = c
        .handshake_client_open(Framing::Tls, &[0xC0A8], Some(&kpsa), None)
        .unwrap();
    let (cr, sr) = (opened.random, [9u8; 32]);
    let message = |kind: u8, body: &[u8]| {
        let n = body.len();
        [&[kind, (n >> 16) as u8, (n >> 8) as u8, n as u8][..], body].concat()
    };
    let transcript = [
        message(
            1,
            &[&[3, 3][..], &cr, &[0, 0, 2, 0xC0, 0xA8, 1, 0]].concat(),
        ),
        message(2, &[&[3, 3][..], &sr, &[0, 0xC0, 0xA8, 0]].concat()),
        message(14, &[]),
        message(16, &[0, 1, b'x']),
    ]
    .concat();
    let done = c
        .handshake_client_finish(opened.session, &transcript)
        .unwrap();
    let master = r::prf(
        &r::psk_premaster(&own),
        "master secret",
        &[cr, sr].concat(),
        48,
    );
    assert_eq!(
        done.key_block,
        r::prf(&master, "key expansion", &[sr, cr].concat(), 40),
        "the session must run on the caller's own Kpsa"
    );
}
