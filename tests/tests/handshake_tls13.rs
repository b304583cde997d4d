//! TLS 1.3 handshake sessions on the step interface (the rustls path is in
//! tls_interop.rs): batched steps, CertificateVerify inside the session, the
//! exporter and key update, all against Python's HKDF (RFC 5869 / RFC 8446
//! §7.1); every session is ECDHE with the TA's fresh key.

use p256::ecdsa::signature::hazmat::PrehashVerifier;
use seam::proto::handshake::{OneM2mExport, Role, Step, StepReply, TrafficKey};
use seam::proto::{heapless, AdminOp, Digest, ObjectKind, Ops, PublicKey, Reason};
use seam_tests::reference as r;
use seam_tests::shared::SharedTa;
use seam_tests::{Device, Stakeholder, OWNER_CSE};

const PSK: [u8; 32] = [0x33; 32];

fn setup(device: &Device) -> Stakeholder<'_> {
    let s = device.stakeholder_with("tls13", true);
    let op = AdminOp::ImportPlaintext {
        object: "psk".try_into().unwrap(),
        suid: seam_tests::suid(12),
        kind: ObjectKind::Secret,
        material: seam::proto::Data::from_slice(&PSK).unwrap(),
        attributes: Default::default(),
    };
    s.device.client().admin(&s.admin, &s.se, vec![op]).unwrap();
    s.grant("psk", OWNER_CSE, Ops::HANDSHAKE, 12);
    s.generate("cert", 42);
    s.grant("cert", OWNER_CSE, Ops::HANDSHAKE, 42);
    s
}

fn h(label: &str) -> Digest {
    Digest(r::sha256(&[label.as_bytes()]).try_into().unwrap())
}

fn derive(secret: &[u8], label: &str, hash: &[u8]) -> Vec<u8> {
    r::expand_label(secret, label, hash, 32)
}

fn traffic(secret: &[u8]) -> TrafficKey {
    TrafficKey {
        key: heapless::Vec::from_slice(&r::expand_label(secret, "key", &[], 16)).unwrap(),
        iv: r::expand_label(secret, "iv", &[], 12).try_into().unwrap(),
    }
}

fn finished(base: &[u8], transcript: &Digest) -> Vec<u8> {
    r::hmac(
        &r::expand_label(base, "finished", &[], 32),
        &[&transcript.0],
    )
}

struct Reference {
    hs_client: Vec<u8>,
    hs_server: Vec<u8>,
    master: Vec<u8>,
}

/// The schedule from the early secret's IKM and the (EC)DHE secret.
fn schedule(psk: Option<&[u8]>, shared: Option<&[u8]>, h1: &Digest) -> Reference {
    let zeros = [0u8; 32];
    let early = r::extract(&[], psk.unwrap_or(&zeros));
    let empty = r::sha256(&[]);
    let hs = r::extract(&derive(&early, "derived", &empty), shared.unwrap_or(&zeros));
    Reference {
        hs_client: derive(&hs, "c hs traffic", &h1.0),
        hs_server: derive(&hs, "s hs traffic", &h1.0),
        master: r::extract(&derive(&hs, "derived", &empty), &zeros),
    }
}

#[test]
fn ecdhe_client_with_certificate_in_three_invocations() {
    let device = Device::new();
    let s = setup(&device);
    let cert_public = device
        .client_as(OWNER_CSE)
        .object_info(&s.se, "cert")
        .unwrap()
        .public_key
        .unwrap();
    let ta = SharedTa::new(&device);
    let mut c = match &ta {
        Some(ta) => ta.client(OWNER_CSE),
        None => device.client_as(OWNER_CSE),
    };
    let calls_before = ta.as_ref().map(|t| t.calls());

    // 1: the key share.
    let opened = c.handshake_open(Role::Client, &s.key("cert", 42)).unwrap();
    let ta_public = opened.public;
    let peer = p256::SecretKey::from_slice(&[0x24; 32]).unwrap();
    let peer_public = PublicKey(
        peer.public_key()
            .to_sec1_bytes()
            .as_ref()
            .try_into()
            .unwrap(),
    );
    let shared = p256::ecdh::diffie_hellman(
        peer.to_nonzero_scalar(),
        p256::PublicKey::from_sec1_bytes(ta_public.as_bytes())
            .unwrap()
            .as_affine(),
    )
    .raw_secret_bytes()
    .to_vec();

    // 2: ServerHello received: handshake keys.
    let (h1, h2, h3, h4, h5) = (
        h("CH..SH"),
        h("CH..server CertificateVerify"),
        h("CH..server Finished"),
        h("CH..client Certificate"),
        h("CH..client CertificateVerify"),
    );
    let reference = schedule(None, Some(&shared), &h1);
    let keys = c
        .handshake_step(
            opened.session,
            Step::Tls13Handshake {
                peer_public,
                transcript: h1,
                key_len: 16,
            },
        )
        .unwrap();
    assert_eq!(
        keys,
        StepReply::TrafficKeys {
            client: traffic(&reference.hs_client),
            server: traffic(&reference.hs_server),
        }
    );

    // 3: the server's expected Finished (compared by the caller),
    // application keys, our CertificateVerify and Finished.
    let server_vd = finished(&reference.hs_server, &h2);
    let content = [
        &[0x20u8; 64][..],
        b"TLS 1.3, client CertificateVerify",
        &[0],
        &h4.0,
    ]
    .concat();
    let replies = c
        .handshake_steps(
            opened.session,
            vec![
                Step::Tls13Finished {
                    side: Role::Server,
                    transcript: h2,
                },
                Step::Tls13Application {
                    transcript: h3,
                    key_len: 16,
                },
                Step::Tls13SignCertificateVerify {
                    content: heapless::Vec::from_slice(&content).unwrap(),
                },
                Step::Tls13Finished {
                    side: Role::Client,
                    transcript: h5,
                },
            ],
        )
        .unwrap();
    if let Some(before) = calls_before {
        assert_eq!(ta.as_ref().unwrap().calls() - before, 3);
    }
    assert_eq!(
        replies[0],
        StepReply::VerifyData(heapless::Vec::from_slice(&server_vd).unwrap())
    );
    assert_eq!(
        replies[1],
        StepReply::TrafficKeys {
            client: traffic(&derive(&reference.master, "c ap traffic", &h3.0)),
            server: traffic(&derive(&reference.master, "s ap traffic", &h3.0)),
        }
    );
    let StepReply::Signature(sig) = &replies[2] else {
        panic!("{:?}", replies[2])
    };
    let vk = p256::ecdsa::VerifyingKey::from_sec1_bytes(cert_public.as_bytes()).unwrap();
    vk.verify_prehash(
        &r::sha256(&[&content]),
        &p256::ecdsa::Signature::from_slice(&sig.0).unwrap(),
    )
    .unwrap();
    assert_eq!(
        replies[3],
        StepReply::VerifyData(
            heapless::Vec::from_slice(&finished(&reference.hs_client, &h5)).unwrap()
        )
    );

    // Exporter and key update.
    let exporter = derive(&reference.master, "exp master", &h3.0);
    let out = c
        .handshake_step(
            opened.session,
            Step::Tls13Export {
                label: heapless::Vec::from_slice(b"EXPERIMENTAL-seam").unwrap(),
                context_hash: h("context"),
                len: 20,
            },
        )
        .unwrap();
    let secret = derive(&exporter, "EXPERIMENTAL-seam", &r::sha256(&[]));
    assert_eq!(
        out,
        StepReply::Exported(
            seam::proto::HeapVec::from_slice(&r::expand_label(
                &secret,
                "exporter",
                &h("context").0,
                20
            ))
            .unwrap()
        )
    );
    let next = c
        .handshake_step(
            opened.session,
            Step::Tls13KeyUpdate {
                side: Role::Server,
                key_len: 16,
            },
        )
        .unwrap();
    let server_ap = derive(&reference.master, "s ap traffic", &h3.0);
    assert_eq!(
        next,
        StepReply::TrafficKey(traffic(&r::expand_label(
            &server_ap,
            "traffic upd",
            &[],
            32
        )))
    );
}

#[test]
fn early_application_keys_and_a_second_signature_are_refused() {
    let device = Device::new();
    let s = setup(&device);
    let mut c = device.client_as(OWNER_CSE);
    let peer = p256::SecretKey::from_slice(&[0x24; 32]).unwrap();
    let peer_public = PublicKey(peer.public_key().to_sec1_bytes()[..].try_into().unwrap());
    let handshake = || Step::Tls13Handshake {
        peer_public,
        transcript: h("x"),
        key_len: 16,
    };
    // Application keys before the server's Finished: out of order.
    let opened = c.handshake_open(Role::Client, &s.key("psk", 12)).unwrap();
    c.handshake_step(opened.session, handshake()).unwrap();
    let early = Step::Tls13Application {
        transcript: h("z"),
        key_len: 16,
    };
    assert_eq!(
        c.handshake_step(opened.session, early)
            .unwrap_err()
            .reason(),
        Some(Reason::StepOutOfOrder)
    );
    // A session bound to a PSK cannot sign; one bound to the key signs once.
    let content = [
        &[0x20u8; 64][..],
        b"TLS 1.3, client CertificateVerify",
        &[0],
        &h("t").0,
    ]
    .concat();
    let sign = || Step::Tls13SignCertificateVerify {
        content: heapless::Vec::from_slice(&content).unwrap(),
    };
    let opened = c.handshake_open(Role::Client, &s.key("psk", 12)).unwrap();
    c.handshake_step(opened.session, handshake()).unwrap();
    assert_eq!(
        c.handshake_step(opened.session, sign())
            .unwrap_err()
            .reason(),
        Some(Reason::InvalidParameter)
    );
    let opened = c.handshake_open(Role::Client, &s.key("cert", 42)).unwrap();
    c.handshake_step(opened.session, handshake()).unwrap();
    c.handshake_step(opened.session, sign()).unwrap();
    assert_eq!(
        c.handshake_step(opened.session, sign())
            .unwrap_err()
            .reason(),
        Some(Reason::StepOutOfOrder)
    );
    // The oneM2M exporter does not leave through the generic one.
    let _ = OneM2mExport::EsCertKe;
}
