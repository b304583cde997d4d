//! (D)TLS 1.2 handshake sessions of seam's engine, operation by operation:
//! the TA's outputs against values computed independently (Python's
//! hmac/hashlib for the PRF and the hashes, the p256 crate for the peer's
//! ECDH and for signatures), on transcripts built here byte by byte; and
//! the rules a hostile co-tenant meets: no signing oracle, no replay, fair
//! quotas, expiry by time only, sessions bound to their grants.

use p256::ecdsa::signature::hazmat::PrehashVerifier;
use seam::proto::handshake::{
    Framing, OneM2mExport, Role, Step, StepReply, HANDSHAKE_LIFETIME_MS, MAX_HANDSHAKES_PER_CALLER,
    MAX_HANDSHAKES_PER_SE,
};
use seam::proto::{heapless, AdminOp, ObjectKind, Ops, PublicKey, Reason};
use seam::Client;
use seam_tests::reference as r;
use seam_tests::shared::SharedTa;
use seam_tests::{Device, Stakeholder, Who, OTHER_CSE, OWNER_CSE};

const PSK: [u8; 32] = [0x11; 32];
const IDENTITY: &[u8] = b"kpsa@m2m.example";
const PSK_CBC: u16 = 0x00AE;
const PSK_CCM8: u16 = 0xC0A8;
const ECDHE_CCM8: u16 = 0xC0AE;
const EMS: u16 = 0x0017;

fn import(s: &Stakeholder<'_>, object: &str, suid: u8, kind: ObjectKind, material: &[u8]) {
    let op = AdminOp::ImportPlaintext {
        object: object.try_into().unwrap(),
        suid: seam_tests::suid(suid),
        kind,
        material: seam::proto::Data::from_slice(material).unwrap(),
        attributes: Default::default(),
    };
    s.device.client().admin(&s.admin, &s.se, vec![op]).unwrap();
}

fn admin(s: &Stakeholder<'_>, op: AdminOp) {
    s.device.client().admin(&s.admin, &s.se, vec![op]).unwrap();
}

/// A PSK (SUID 12) and a certificate key (SUID 42), both granted to
/// OWNER_CSE for handshakes only (no `sign`).
fn credentials<'d>(device: &'d Device, name: &str) -> Stakeholder<'d> {
    let s = device.stakeholder_with(name, true);
    import(&s, "psk", 12, ObjectKind::Secret, &PSK);
    s.grant("psk", OWNER_CSE, Ops::HANDSHAKE, 12);
    s.generate("cert", 42);
    s.grant("cert", OWNER_CSE, Ops::HANDSHAKE, 42);
    s
}

fn clients(device: &Device) -> (impl Fn(Who) -> Client + '_, Option<SharedTa>) {
    let shared = SharedTa::new(device);
    let s2 = shared.clone();
    (
        move |who| match &shared {
            Some(ta) => ta.client(who),
            None => device.client_as(who),
        },
        s2,
    )
}

fn reason<T: std::fmt::Debug>(r: seam::Result<T>) -> Reason {
    r.expect_err("expected a refusal")
        .reason()
        .expect("a TA refusal")
}

// ---- messages, built here independently of the TA's parser ----------------

fn msg(f: Framing, kind: u8, seq: u16, body: &[u8]) -> Vec<u8> {
    let n = body.len();
    let len = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
    let mut m = vec![kind];
    m.extend_from_slice(&len);
    if f == Framing::Dtls {
        m.extend_from_slice(&seq.to_be_bytes());
        m.extend_from_slice(&[0, 0, 0]);
        m.extend_from_slice(&len);
    }
    m.extend_from_slice(body);
    m
}

fn version(f: Framing) -> [u8; 2] {
    match f {
        Framing::Tls => [3, 3],
        Framing::Dtls => [0xfe, 0xfd],
    }
}

fn extensions(ems: bool) -> Vec<u8> {
    let mut e = Vec::new();
    if ems {
        e.extend_from_slice(&EMS.to_be_bytes());
        e.extend_from_slice(&[0, 0]);
    }
    let mut out = (e.len() as u16).to_be_bytes().to_vec();
    out.extend_from_slice(&e);
    out
}

fn client_hello(f: Framing, random: &[u8; 32], suites: &[u16], ems: bool) -> Vec<u8> {
    let mut b = version(f).to_vec();
    b.extend_from_slice(random);
    b.push(0); // session_id
    if f == Framing::Dtls {
        b.push(0); // cookie
    }
    b.extend_from_slice(&((suites.len() * 2) as u16).to_be_bytes());
    for s in suites {
        b.extend_from_slice(&s.to_be_bytes());
    }
    b.extend_from_slice(&[1, 0]);
    b.extend_from_slice(&extensions(ems));
    msg(f, 1, 0, &b)
}

fn server_hello(f: Framing, random: &[u8; 32], suite: u16, ems: bool, seq: u16) -> Vec<u8> {
    let mut b = version(f).to_vec();
    b.extend_from_slice(random);
    b.push(0);
    b.extend_from_slice(&suite.to_be_bytes());
    b.push(0);
    b.extend_from_slice(&extensions(ems));
    msg(f, 2, seq, &b)
}

fn cke_psk(f: Framing, seq: u16) -> Vec<u8> {
    let mut b = (IDENTITY.len() as u16).to_be_bytes().to_vec();
    b.extend_from_slice(IDENTITY);
    msg(f, 16, seq, &b)
}

fn cke_ecdhe(f: Framing, point: &[u8], seq: u16) -> Vec<u8> {
    let mut b = vec![65];
    b.extend_from_slice(point);
    msg(f, 16, seq, &b)
}

fn ske_ecdhe(f: Framing, point: &[u8], der: &[u8], seq: u16) -> Vec<u8> {
    let mut b = vec![3, 0, 23, 65];
    b.extend_from_slice(point);
    b.extend_from_slice(&[4, 3]);
    b.extend_from_slice(&(der.len() as u16).to_be_bytes());
    b.extend_from_slice(der);
    msg(f, 12, seq, &b)
}

fn certificate(f: Framing, seq: u16) -> Vec<u8> {
    // One (opaque, unchecked by the TA) 3-byte "certificate".
    msg(f, 11, seq, &[0, 0, 6, 0, 0, 3, 1, 2, 3])
}

fn cat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

fn peer_key() -> (p256::SecretKey, Vec<u8>) {
    let secret = p256::SecretKey::from_slice(&[0x42; 32]).unwrap();
    let point = secret.public_key().to_sec1_bytes().to_vec();
    (secret, point)
}

fn ecdh(peer: &p256::SecretKey, ta_public: &PublicKey) -> Vec<u8> {
    let public = p256::PublicKey::from_sec1_bytes(ta_public.as_bytes()).unwrap();
    p256::ecdh::diffie_hellman(peer.to_nonzero_scalar(), public.as_affine())
        .raw_secret_bytes()
        .to_vec()
}

fn verifies(public: &PublicKey, digest: &[u8], rs: &[u8; 64]) -> bool {
    let key = p256::ecdsa::VerifyingKey::from_sec1_bytes(public.as_bytes()).unwrap();
    let sig = p256::ecdsa::Signature::from_slice(rs).unwrap();
    key.verify_prehash(digest, &sig).is_ok()
}

/// A PSK client transcript for the TA's random.
fn psk_client_transcript(f: Framing, random: &[u8; 32], sr: &[u8; 32]) -> Vec<u8> {
    cat(&[
        &client_hello(f, random, &[PSK_CBC], true),
        &server_hello(f, sr, PSK_CBC, true, 1),
        &msg(f, 14, 2, &[]),
        &cke_psk(f, 1),
    ])
}

#[test]
fn psk_client_two_invocations_match_the_reference() {
    let device = Device::new();
    let s = credentials(&device, "tls12a");
    let (make, _) = clients(&device);
    let mut c = make(OWNER_CSE);
    let opened = c
        .handshake_client_open(Framing::Tls, &[PSK_CBC], Some(&s.key("psk", 12)), None)
        .unwrap();
    assert!(opened.public.is_none(), "no ECDHE suite, no key share");
    let sr = [0x5e; 32];
    let t = psk_client_transcript(Framing::Tls, &opened.random, &sr);
    let done = c.handshake_client_finish(opened.session, &t).unwrap();

    let pm = r::psk_premaster(&PSK);
    let session_hash = r::sha256(&[&t]);
    let master = r::prf(&pm, "extended master secret", &session_hash, 48);
    let kb = r::prf(&master, "key expansion", &cat(&[&sr, &opened.random]), 96);
    assert_eq!(done.key_block, kb);
    assert!(done.certificate_verify.is_none());
    let cf = r::prf(&master, "client finished", &session_hash, 12);
    assert_eq!(done.finished, msg(Framing::Tls, 20, 0, &cf));
    let sf = r::prf(
        &master,
        "server finished",
        &r::sha256(&[&t, &done.finished]),
        12,
    );
    assert_eq!(done.expected_server_verify_data.to_vec(), sf);
    // Established, but on a PSK: ESCertKE (the only oneM2M label a use-2
    // credential fits) is for certificate-based sessions only (issue 11).
    let refused = c.handshake_step(
        opened.session,
        Step::ExportKey {
            label: OneM2mExport::EsCertKe,
            object: "e2e".try_into().unwrap(),
            suid: None,
        },
    );
    assert_eq!(reason(refused), Reason::LabelNotAllowed);
    // The refusal wiped the session; nothing was stored.
    assert!(c.object_info(&s.se, "e2e").unwrap_err().reason().is_some());
}

/// Kc on seam's engine (issue 11): a MAF credential (use digit 1) makes
/// Kc under the SUID the caller registered with the MAF (one of 32-35,
/// required), expiring no later than the credential; an expired credential
/// opens nothing.
#[test]
fn kc_export_takes_the_callers_suid_and_the_credentials_lifetime() {
    const NOT_AFTER: u64 = 4_000_000_000;
    let device = Device::new();
    let s = credentials(&device, "kc");
    let maf = |object: &str, not_after| AdminOp::ImportPlaintext {
        object: object.try_into().unwrap(),
        suid: seam_tests::suid(11),
        kind: ObjectKind::Secret,
        material: seam::proto::Data::from_slice(&PSK).unwrap(),
        attributes: seam::proto::KeyAttributes {
            role: seam::proto::KeyRole::Operational,
            not_after: Some(not_after),
        },
    };
    admin(&s, maf("maf", NOT_AFTER));
    // 2001-09-09: long past on any platform clock.
    admin(&s, maf("old", 1_000_000_000));
    s.grant("maf", OWNER_CSE, Ops::HANDSHAKE, 11);
    s.grant("old", OWNER_CSE, Ops::HANDSHAKE, 11);
    let (make, _) = clients(&device);
    let mut c = make(OWNER_CSE);
    let old = c.handshake_client_open(Framing::Tls, &[PSK_CBC], Some(&s.key("old", 11)), None);
    assert_eq!(reason(old), Reason::KeyExpired);

    let established = |c: &mut Client| {
        let opened = c
            .handshake_client_open(Framing::Tls, &[PSK_CBC], Some(&s.key("maf", 11)), None)
            .unwrap();
        let sr = [0x6b; 32];
        let t = psk_client_transcript(Framing::Tls, &opened.random, &sr);
        c.handshake_client_finish(opened.session, &t).unwrap();
        (opened, sr, t)
    };
    let export = |c: &mut Client, session, suid: Option<u8>| {
        c.handshake_step(
            session,
            Step::ExportKey {
                label: OneM2mExport::Connection,
                object: "kc".try_into().unwrap(),
                suid: suid.map(seam_tests::suid),
            },
        )
    };
    // Kc's SUID is the caller's to give, and only a MAF one.
    for bad in [None, Some(22), Some(43)] {
        let (opened, _, _) = established(&mut c);
        assert_eq!(
            reason(export(&mut c, opened.session, bad)),
            Reason::InvalidSuid,
            "{bad:?}"
        );
    }
    let (opened, sr, t) = established(&mut c);
    let reply = export(&mut c, opened.session, Some(35)).unwrap();
    let master = r::prf(
        &r::psk_premaster(&PSK),
        "extended master secret",
        &r::sha256(&[&t]),
        48,
    );
    let out = r::prf(
        &master,
        "EXPORTER-oneM2M-Connection",
        &cat(&[&opened.random, &sr]),
        48,
    );
    match reply {
        StepReply::ExportedKey {
            relative_id,
            object,
        } => {
            assert_eq!(relative_id[..], out[..16]);
            assert_eq!(object.suid, Some(seam_tests::suid(35)));
            assert_eq!(object.attributes.not_after, Some(NOT_AFTER));
        }
        other => panic!("{other:?}"),
    }
    // A name the caller can see is a CONFLICT (4105); the name of an admin
    // object it cannot see is free for it (no existence oracle).
    let (opened, _, _) = established(&mut c);
    let again = export(&mut c, opened.session, Some(35)).unwrap_err();
    assert_eq!(
        (again.status(), again.reason()),
        (4105, Some(Reason::AlreadyExists))
    );
    admin(
        &s,
        AdminOp::GenerateSecret {
            object: "unseen".try_into().unwrap(),
            suid: seam_tests::suid(35),
            len: 32,
            attributes: Default::default(),
        },
    );
    let (opened, _, _) = established(&mut c);
    c.handshake_step(
        opened.session,
        Step::ExportKey {
            label: OneM2mExport::Connection,
            object: "unseen".try_into().unwrap(),
            suid: Some(seam_tests::suid(35)),
        },
    )
    .unwrap();
    // The key (the last 32 bytes) stays inside and MACs as the reference.
    let kc = seam::KeyRef {
        key: "kc".try_into().unwrap(),
        suid: seam_tests::suid(35),
        ..s.key("maf", 11)
    };
    assert_eq!(
        c.mac(&kc, b"ESData").unwrap().to_vec(),
        r::hmac(&out[16..], &[b"ESData"])
    );
}

#[test]
fn ecdhe_server_two_invocations_match_the_reference_in_dtls() {
    let device = Device::new();
    let s = credentials(&device, "tls12b");
    let cert_public = device
        .client_as(OWNER_CSE)
        .object_info(&s.se, "cert")
        .unwrap()
        .public_key
        .unwrap();
    let (make, _) = clients(&device);
    let mut c = make(OWNER_CSE);
    let f = Framing::Dtls;
    let cr = [0xc1; 32];
    let ch = client_hello(f, &cr, &[ECDHE_CCM8, PSK_CCM8], false);
    let opened = c
        .handshake_server_open(f, ECDHE_CCM8, &ch, &[], Some(&s.key("cert", 42)))
        .unwrap();
    let (public, sig) = opened.ecdhe.unwrap();
    // RFC 8422 §5.4, over the TA's own random and point.
    let params = cat(&[&[3, 0, 23, 65], public.as_bytes()]);
    let digest = r::sha256(&[&cr, &opened.random, &params]);
    assert!(verifies(&cert_public, &digest, &sig.0));

    let (peer, point) = peer_key();
    let (der, n) = seam_crypto::sign::signature_to_der(&sig.0);
    let t = cat(&[
        &ch,
        &server_hello(f, &opened.random, ECDHE_CCM8, false, 1),
        &certificate(f, 2),
        &ske_ecdhe(f, public.as_bytes(), &der[..n], 3),
        &msg(f, 14, 4, &[]),
        &cke_ecdhe(f, &point, 2),
    ]);
    let done = c.handshake_server_finish(opened.session, &t).unwrap();
    let pm = ecdh(&peer, &public);
    let master = r::prf(&pm, "master secret", &cat(&[&cr, &opened.random]), 48);
    let kb = r::prf(&master, "key expansion", &cat(&[&opened.random, &cr]), 40);
    assert_eq!(done.key_block, kb);
    let cf = r::prf(&master, "client finished", &r::sha256(&[&t]), 12);
    assert_eq!(done.expected_client_verify_data.to_vec(), cf);
    let client_fin = msg(f, 20, 3, &cf);
    let sf = r::prf(
        &master,
        "server finished",
        &r::sha256(&[&t, &client_fin]),
        12,
    );
    assert_eq!(done.finished, msg(f, 20, 5, &sf));
    // Established on a certificate (ECDHE-ECDSA): the oneM2M exporter keeps
    // the pairwise key inside (SUID 43, role Pairwise: it only derives),
    // the RelativeKeID leaves.
    let reply = c
        .handshake_step(
            opened.session,
            Step::ExportKey {
                label: OneM2mExport::EsCertKe,
                object: "e2e".try_into().unwrap(),
                suid: None,
            },
        )
        .unwrap();
    let out = r::prf(
        &master,
        "EXPORTER-oneM2M-ESCertKE",
        &cat(&[&cr, &opened.random]),
        48,
    );
    match reply {
        StepReply::ExportedKey {
            relative_id,
            object,
        } => {
            assert_eq!(relative_id[..], out[..16]);
            assert_eq!(object.suid, Some(seam_tests::suid(43)));
            assert_eq!(object.attributes.role, seam::proto::KeyRole::Pairwise);
        }
        other => panic!("{other:?}"),
    }
    // A derivation source: its exporter holds `derive` on it and nothing
    // else, so no generic MAC reproduces what it derives.
    let e2e = seam::KeyRef {
        key: "e2e".try_into().unwrap(),
        suid: seam_tests::suid(43),
        ..s.key("cert", 42)
    };
    let info = c.object_info(&s.se, "e2e").unwrap();
    assert_eq!(info.attributes.role, seam::proto::KeyRole::Pairwise);
    assert_eq!(
        c.mac(&e2e, b"x").unwrap_err().reason(),
        Some(Reason::NoPrivilege)
    );
}

/// Everything a caller holding only `handshake` on a signing key can ask
/// the TA to sign, over a digest of its choosing: none of it verifies as a
/// signature over that digest. (Version 1 signed the caller's transcript
/// midstate in `Tls12ClientFlight` and the caller's hash in
/// `Tls13CertificateVerify`: both gave such a signature.)
#[test]
fn a_handshake_grant_is_no_signing_oracle() {
    let device = Device::new();
    let s = credentials(&device, "oracle");
    let cert = s.key("cert", 42);
    let cert_public = device
        .client_as(OWNER_CSE)
        .object_info(&s.se, "cert")
        .unwrap()
        .public_key
        .unwrap();
    let (make, _) = clients(&device);
    let mut c = make(OWNER_CSE);
    let chosen = [0xAA; 32];
    let mut signatures: Vec<[u8; 64]> = Vec::new();

    // No `sign` grant: the plain signature op is refused.
    assert_eq!(reason(c.sign_digest(&cert, &chosen)), Reason::NoPrivilege);

    // Engine client: a CertificateVerify only over a transcript whose
    // ClientHello carries the TA's random — a chosen one is refused.
    let f = Framing::Tls;
    let opened = c
        .handshake_client_open(f, &[ECDHE_CCM8], None, Some(&cert))
        .unwrap();
    let (_, point) = peer_key();
    let ta_point = opened.public.unwrap();
    let server_part = |random: &[u8; 32]| {
        cat(&[
            &client_hello(f, random, &[ECDHE_CCM8], true),
            &server_hello(f, &[7; 32], ECDHE_CCM8, true, 0),
            &certificate(f, 0),
            &ske_ecdhe(f, &point, &[0x30, 0], 0),
            &msg(f, 13, 0, &[1, 64, 0, 2, 4, 3, 0, 0]),
            &msg(f, 14, 0, &[]),
            &certificate(f, 0),
            &cke_ecdhe(f, ta_point.as_bytes(), 0),
        ])
    };
    let forged = server_part(&chosen);
    assert_eq!(
        reason(c.handshake_client_finish(opened.session, &forged)),
        Reason::BadTranscript
    );
    // With the TA's random, the CertificateVerify covers a transcript that
    // starts with it: whatever else the caller chose, the hash is new.
    let opened = c
        .handshake_client_open(f, &[ECDHE_CCM8], None, Some(&cert))
        .unwrap();
    let ta_point = opened.public.unwrap();
    let t = cat(&[
        &client_hello(f, &opened.random, &[ECDHE_CCM8], true),
        &server_hello(f, &[7; 32], ECDHE_CCM8, true, 0),
        &certificate(f, 0),
        &ske_ecdhe(f, &point, &[0x30, 0], 0),
        &msg(f, 13, 0, &[1, 64, 0, 2, 4, 3, 0, 0]),
        &msg(f, 14, 0, &[]),
        &certificate(f, 0),
        &cke_ecdhe(f, ta_point.as_bytes(), 0),
    ]);
    let done = c.handshake_client_finish(opened.session, &t).unwrap();
    let cv = done.certificate_verify.expect("a CertificateVerify");
    let der = &cv[8..];
    let sig = p256::ecdsa::Signature::from_der(der).unwrap();
    let rs: [u8; 64] = sig.to_bytes().into();
    assert!(verifies(&cert_public, &r::sha256(&[&t]), &rs));
    signatures.push(rs);

    // Engine server: the ServerKeyExchange signature covers the TA's random
    // and point, whatever ClientHello the caller sends.
    let ch = client_hello(f, &chosen, &[ECDHE_CCM8], true);
    let opened = c
        .handshake_server_open(f, ECDHE_CCM8, &ch, &[], Some(&cert))
        .unwrap();
    signatures.push(opened.ecdhe.unwrap().1 .0);

    // Step interface, TLS 1.3: only a CertificateVerify content of the
    // session's role; a bare hash or another context is refused.
    let mut tls13 = |content: Vec<u8>| -> seam::Result<StepReply> {
        let o = c.handshake_open(Role::Server, &cert)?;
        let (peer, _) = peer_key();
        let peer_public = PublicKey(peer.public_key().to_sec1_bytes()[..].try_into().unwrap());
        c.handshake_step(
            o.session,
            Step::Tls13Handshake {
                peer_public,
                transcript: seam::proto::Digest([1; 32]),
                key_len: 16,
            },
        )?;
        c.handshake_step(
            o.session,
            Step::Tls13SignCertificateVerify {
                content: heapless::Vec::from_slice(&content).unwrap(),
            },
        )
    };
    assert_eq!(reason(tls13(chosen.to_vec())), Reason::InvalidParameter);
    let client_context = cat(&[
        &[0x20; 64],
        b"TLS 1.3, client CertificateVerify",
        &[0],
        &chosen,
    ]);
    assert_eq!(reason(tls13(client_context)), Reason::InvalidParameter);
    let content = cat(&[
        &[0x20; 64],
        b"TLS 1.3, server CertificateVerify",
        &[0],
        &chosen,
    ]);
    match tls13(content.clone()).unwrap() {
        StepReply::Signature(sig) => {
            // A signature over the TLS 1.3 content: domain-separated.
            assert!(verifies(&cert_public, &r::sha256(&[&content]), &sig.0));
            signatures.push(sig.0);
        }
        other => panic!("{other:?}"),
    }

    // Step interface, TLS 1.2 CertificateVerify: only over a transcript
    // ending with the session's own ClientKeyExchange.
    let o = c.handshake_open(Role::Client, &cert).unwrap();
    let mut messages = client_hello(f, &chosen, &[ECDHE_CCM8], true);
    assert_eq!(
        reason(c.handshake_sign_certificate_verify(o.session, &messages)),
        Reason::BadTranscript
    );
    let o = c.handshake_open(Role::Client, &cert).unwrap();
    messages.extend_from_slice(&cke_ecdhe(f, &point, 0));
    assert_eq!(
        reason(c.handshake_sign_certificate_verify(o.session, &messages)),
        Reason::BadTranscript
    );

    for sig in &signatures {
        assert!(
            !verifies(&cert_public, &chosen, sig),
            "a signature over the chosen digest"
        );
    }
}

/// A co-grantee of the PSK who replays another caller's public messages
/// gets refused, and running its own session over the same server messages
/// gets other keys: the TA's random is fresh. (Version 1 took both randoms
/// from the caller: the same values gave the same key block.)
#[test]
fn a_co_grantee_replaying_a_session_gets_other_keys() {
    let device = Device::new();
    let s = credentials(&device, "replay");
    s.grant("psk", OTHER_CSE, Ops::HANDSHAKE, 12);
    let (make, _) = clients(&device);
    let psk = s.key("psk", 12);
    let mut a = make(OWNER_CSE);
    let mut b = make(OTHER_CSE);
    let f = Framing::Dtls;
    let sr = [0x5e; 32];
    let oa = a
        .handshake_client_open(f, &[PSK_CBC], Some(&psk), None)
        .unwrap();
    let ta = psk_client_transcript(f, &oa.random, &sr);
    let da = a.handshake_client_finish(oa.session, &ta).unwrap();

    let ob = b
        .handshake_client_open(f, &[PSK_CBC], Some(&psk), None)
        .unwrap();
    assert_ne!(oa.random, ob.random);
    let ob2 = b
        .handshake_client_open(f, &[PSK_CBC], Some(&psk), None)
        .unwrap();
    assert_eq!(
        reason(b.handshake_client_finish(ob.session, &ta)),
        Reason::BadTranscript
    );
    let tb = psk_client_transcript(f, &ob2.random, &sr);
    let db = b.handshake_client_finish(ob2.session, &tb).unwrap();
    assert_ne!(da.key_block, db.key_block);
    assert_ne!(da.finished, db.finished);
    assert_ne!(
        da.expected_server_verify_data,
        db.expected_server_verify_data
    );
}

/// One uid and its groups (several client UUIDs) open every session they
/// can with their grants in one stakeholder's SE; another stakeholder's
/// caller still opens. (Version 1: 16 slots for everyone, 4 per caller —
/// four identities filled the TA.)
#[test]
fn one_uid_and_its_groups_cannot_starve_another_stakeholder() {
    let device = Device::new();
    let (make, _) = clients(&device);
    let a = credentials(&device, "hoarder");
    let identities: Vec<Who> = (0..6).map(|i| Who::Group(62000 + i)).collect();
    for who in &identities {
        a.grant("psk", *who, Ops::HANDSHAKE, 12);
    }
    let b = credentials(&device, "victim");
    let mut opened = 0;
    let mut refused = Vec::new();
    // Every client stays open: on the TEE, closing one's last TEE session
    // would wipe its handshakes.
    let mut hoarders: Vec<Client> = identities.iter().map(|who| make(*who)).collect();
    for c in &mut hoarders {
        for _ in 0..MAX_HANDSHAKES_PER_CALLER {
            match c.handshake_client_open(Framing::Tls, &[PSK_CBC], Some(&a.key("psk", 12)), None) {
                Ok(_) => opened += 1,
                Err(e) => refused.push(e.reason()),
            }
        }
    }
    assert_eq!(opened, MAX_HANDSHAKES_PER_SE, "the SE's quota, no more");
    assert!(
        refused.iter().all(|r| *r == Some(Reason::LimitReached)),
        "{refused:?}"
    );
    let mut victim = make(OWNER_CSE);
    for _ in 0..MAX_HANDSHAKES_PER_CALLER {
        victim
            .handshake_client_open(Framing::Tls, &[PSK_CBC], Some(&b.key("psk", 12)), None)
            .expect("another stakeholder's caller always has room");
    }
}

/// Other callers' traffic, anonymous or not, ages no session. (Version 1
/// expired every session after 1024 invocations by anyone.)
#[test]
fn public_traffic_expires_nothing() {
    let device = Device::new();
    let s = credentials(&device, "public");
    let (make, _) = clients(&device);
    let mut c = make(OWNER_CSE);
    let mut public = make(Who::Public);
    let opened = c
        .handshake_client_open(Framing::Tls, &[PSK_CBC], Some(&s.key("psk", 12)), None)
        .unwrap();
    for _ in 0..1100 {
        public.node_info().unwrap();
    }
    let t = psk_client_transcript(Framing::Tls, &opened.random, &[3; 32]);
    c.handshake_client_finish(opened.session, &t)
        .expect("the session outlives other callers' traffic");
}

/// Revoking the grant, deleting the key or retiring the SE ends the
/// session: its next operation is refused. (Version 1 kept the secret.)
#[test]
fn revoke_delete_and_retire_end_a_session() {
    let device = Device::new();
    let (make, _) = clients(&device);
    let mut c = make(OWNER_CSE);
    type Change = fn(&Stakeholder<'_>);
    let changes: [(&str, Change); 3] = [
        ("revoke", |s| {
            admin(
                s,
                AdminOp::Revoke {
                    object: "psk".try_into().unwrap(),
                    grantee: OWNER_CSE.id(),
                },
            )
        }),
        ("delete", |s| {
            admin(
                s,
                AdminOp::Delete {
                    object: "psk".try_into().unwrap(),
                },
            )
        }),
        ("retire", |s| {
            s.device
                .client()
                .retire_se(s.device.issuer(), &s.se)
                .unwrap()
        }),
    ];
    for (what, change) in changes {
        let s = credentials(&device, &format!("end-{what}"));
        let opened = c
            .handshake_client_open(Framing::Tls, &[PSK_CBC], Some(&s.key("psk", 12)), None)
            .unwrap();
        change(&s);
        let t = psk_client_transcript(Framing::Tls, &opened.random, &[3; 32]);
        let why = reason(c.handshake_client_finish(opened.session, &t));
        assert!(
            matches!(why, Reason::HandshakeRevoked | Reason::UnknownHandshake),
            "{what}: {why:?}"
        );
    }
}

/// A session authorised by a retired SE cannot export into a new SE of the
/// same name (another stakeholder's). (Version 1 wrote Ke into it.)
#[test]
fn export_into_a_recreated_se_is_refused() {
    let device = Device::new();
    let s = credentials(&device, "recreated");
    let (make, _) = clients(&device);
    let mut c = make(OWNER_CSE);
    let opened = c
        .handshake_client_open(Framing::Tls, &[PSK_CBC], Some(&s.key("psk", 12)), None)
        .unwrap();
    let t = psk_client_transcript(Framing::Tls, &opened.random, &[3; 32]);
    c.handshake_client_finish(opened.session, &t).unwrap();
    let issuer = device.issuer();
    device.client().retire_se(issuer, &s.se).unwrap();
    device
        .client()
        .create_se(issuer, &s.se, &s.admin_public(), true)
        .unwrap();
    let r = c.handshake_step(
        opened.session,
        Step::ExportKey {
            label: OneM2mExport::EsCertKe,
            object: "ke".try_into().unwrap(),
            suid: None,
        },
    );
    assert!(matches!(
        reason(r),
        Reason::HandshakeRevoked | Reason::UnknownHandshake
    ));
    assert_eq!(device.client().se_info(&s.se).unwrap().objects, 0);
}

/// Sessions expire by the platform clock (a test clock here).
#[test]
#[cfg_attr(
    feature = "tee",
    ignore = "the TEE's clock cannot be moved: the simulator's test clock runs this"
)]
fn sessions_expire_by_time() {
    let device = Device::new();
    let (make, shared) = clients(&device);
    let Some(shared) = shared else {
        seam_tests::tools::skipped("the TEE's clock cannot be moved");
        return;
    };
    let clock = seam_core::ManualClock::default();
    shared.set_clock(clock.clone());
    let s = credentials(&device, "clock");
    let mut c = make(OWNER_CSE);
    let open = |c: &mut Client| {
        c.handshake_client_open(Framing::Tls, &[PSK_CBC], Some(&s.key("psk", 12)), None)
            .unwrap()
    };
    let young = open(&mut c);
    clock.advance(HANDSHAKE_LIFETIME_MS - 1);
    let t = psk_client_transcript(Framing::Tls, &young.random, &[3; 32]);
    c.handshake_client_finish(young.session, &t).unwrap();
    let old = open(&mut c);
    clock.advance(HANDSHAKE_LIFETIME_MS);
    let t = psk_client_transcript(Framing::Tls, &old.random, &[3; 32]);
    assert_eq!(
        reason(c.handshake_client_finish(old.session, &t)),
        Reason::HandshakeExpired
    );
}

/// A session re-checks its credentials' lifetimes at every invocation, by
/// the same platform clock its own expiry uses: a PSK that expires between
/// the open and the finish ends the session with `KeyExpired` (issue 11).
#[test]
#[cfg_attr(
    feature = "tee",
    ignore = "the TEE's clock cannot be moved: the simulator's test clock runs this"
)]
fn a_credential_expiring_mid_session_ends_it() {
    let device = Device::new();
    let (make, shared) = clients(&device);
    let Some(shared) = shared else {
        seam_tests::tools::skipped("the TEE's clock cannot be moved");
        return;
    };
    const START_S: u64 = 1_800_000_000;
    let clock = seam_core::ManualClock::at(START_S * 1000);
    shared.set_clock(clock.clone());
    let s = credentials(&device, "lifetime");
    admin(
        &s,
        AdminOp::ImportPlaintext {
            object: "brief".try_into().unwrap(),
            suid: seam_tests::suid(12),
            kind: ObjectKind::Secret,
            material: seam::proto::Data::from_slice(&PSK).unwrap(),
            attributes: seam::proto::KeyAttributes {
                role: seam::proto::KeyRole::Operational,
                not_after: Some(START_S + 60),
            },
        },
    );
    s.grant("brief", OWNER_CSE, Ops::HANDSHAKE, 12);
    let mut c = make(OWNER_CSE);
    let psk = s.key("brief", 12);
    let opened = c
        .handshake_client_open(Framing::Tls, &[PSK_CBC], Some(&psk), None)
        .unwrap();
    // Well within the session's own 300 s, past the key's 60 s.
    clock.advance(60_000);
    let t = psk_client_transcript(Framing::Tls, &opened.random, &[3; 32]);
    assert_eq!(
        reason(c.handshake_client_finish(opened.session, &t)),
        Reason::KeyExpired
    );
    // The failure wiped the session, and the key opens nothing new.
    assert_eq!(
        reason(c.handshake_client_finish(opened.session, &t)),
        Reason::UnknownHandshake
    );
    assert_eq!(
        reason(c.handshake_client_open(Framing::Tls, &[PSK_CBC], Some(&psk), None)),
        Reason::KeyExpired
    );
}

/// The TA wipes a caller's sessions when its last TEE session closes
/// (`close_handshakes`, as the OP-TEE close-session entry calls it); other
/// callers' sessions stay. A caller at its cap loses its own oldest.
#[test]
#[cfg_attr(
    feature = "tee",
    ignore = "device.rs runs this on the TEE (a closed TEE session)"
)]
fn closing_a_client_wipes_its_sessions_only() {
    let device = Device::new();
    let (make, shared) = clients(&device);
    let Some(shared) = shared else {
        seam_tests::tools::skipped("device.rs runs this on the TEE");
        return;
    };
    let s = credentials(&device, "close");
    s.grant("psk", OTHER_CSE, Ops::HANDSHAKE, 12);
    let psk = s.key("psk", 12);
    let mut owner = make(OWNER_CSE);
    let mut other = make(OTHER_CSE);
    let open = |c: &mut Client| {
        c.handshake_client_open(Framing::Tls, &[PSK_CBC], Some(&psk), None)
            .unwrap()
    };
    let mine: Vec<_> = (0..=MAX_HANDSHAKES_PER_CALLER)
        .map(|_| open(&mut owner))
        .collect();
    let theirs = open(&mut other);
    let t = psk_client_transcript(Framing::Tls, &mine[0].random, &[3; 32]);
    assert_eq!(
        reason(owner.handshake_client_finish(mine[0].session, &t)),
        Reason::UnknownHandshake,
        "the oldest gave way to the fifth"
    );
    // Another caller cannot touch it.
    assert_eq!(
        reason(other.handshake_close(mine[1].session)),
        Reason::UnknownHandshake
    );
    shared.close_handshakes(OWNER_CSE);
    for o in &mine[1..] {
        let t = psk_client_transcript(Framing::Tls, &o.random, &[3; 32]);
        assert_eq!(
            reason(owner.handshake_client_finish(o.session, &t)),
            Reason::UnknownHandshake
        );
    }
    let t = psk_client_transcript(Framing::Tls, &theirs.random, &[3; 32]);
    other.handshake_client_finish(theirs.session, &t).unwrap();
}

/// Malformed, truncated and out-of-order transcripts are refused, never
/// crash, and wipe the session.
#[test]
fn malformed_transcripts_are_refused() {
    let device = Device::new();
    let s = credentials(&device, "malformed");
    let (make, _) = clients(&device);
    let mut c = make(OWNER_CSE);
    let psk = s.key("psk", 12);
    let f = Framing::Tls;
    let sr = [9; 32];
    type Case<'a> = Box<dyn Fn(&[u8; 32]) -> Vec<u8> + 'a>;
    let mut cases: Vec<Case> = Vec::new();
    cases.push(Box::new(|r| {
        psk_client_transcript(f, r, &sr)[..50].to_vec()
    }));
    cases.push(Box::new(|r| {
        // ServerHelloDone before ServerHello.
        cat(&[
            &client_hello(f, r, &[PSK_CBC], true),
            &msg(f, 14, 0, &[]),
            &server_hello(f, &sr, PSK_CBC, true, 0),
            &cke_psk(f, 0),
        ])
    }));
    cases.push(Box::new(|r| {
        // A suite the session does not allow.
        cat(&[
            &client_hello(f, r, &[PSK_CBC, PSK_CCM8], true),
            &server_hello(f, &sr, PSK_CCM8, true, 0),
            &msg(f, 14, 0, &[]),
            &cke_psk(f, 0),
        ])
    }));
    cases.push(Box::new(|r| {
        let mut t = psk_client_transcript(f, r, &sr);
        t.push(0);
        t
    }));
    for (i, case) in cases.iter().enumerate() {
        let o = c
            .handshake_client_open(f, &[PSK_CBC], Some(&psk), None)
            .unwrap();
        assert_eq!(
            reason(c.handshake_client_finish(o.session, &case(&o.random))),
            Reason::BadTranscript,
            "case {i}"
        );
        assert_eq!(
            reason(c.handshake_close(o.session)),
            Reason::UnknownHandshake,
            "case {i}: wiped"
        );
    }
}
