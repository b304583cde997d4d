//! TLS 1.3 handshake sessions driven the way seam's own engine would (the
//! rustls path is in tls_interop.rs): batched steps, the peer's Finished
//! checked inside, CertificateVerify, external PSK with its binder, the
//! exporter, all against Python's HKDF (RFC 5869 / RFC 8446 §7.1).

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
        material: heapless::Vec::from_slice(&PSK).unwrap(),
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
    let opened = c
        .handshake_open(Role::Client, None, true, Some(&s.key("cert", 42)), vec![])
        .unwrap();
    let ta_public = opened.public.unwrap();
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
                peer_public: Some(peer_public),
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

    // 3: the server's Finished checked inside, application keys, our
    // CertificateVerify and Finished.
    let server_vd: [u8; 32] = finished(&reference.hs_server, &h2).try_into().unwrap();
    let replies = c
        .handshake_steps(
            opened.session,
            vec![
                Step::Tls13Finished {
                    side: Role::Server,
                    transcript: h2,
                    expect: Some(Digest(server_vd)),
                },
                Step::Tls13Application {
                    transcript: h3,
                    key_len: 16,
                },
                Step::Tls13CertificateVerify { transcript: h4 },
                Step::Tls13Finished {
                    side: Role::Client,
                    transcript: h5,
                    expect: None,
                },
            ],
        )
        .unwrap();
    if let Some(before) = calls_before {
        assert_eq!(ta.as_ref().unwrap().calls() - before, 3);
    }
    assert_eq!(replies[0], StepReply::Verified);
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
    let content = [
        &[0x20u8; 64][..],
        b"TLS 1.3, client CertificateVerify",
        &[0],
        &h4.0,
    ]
    .concat();
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
            heapless::Vec::from_slice(&r::expand_label(&secret, "exporter", &h("context").0, 20))
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
fn external_psk_binder_and_pairwise_key_export() {
    let device = Device::new();
    let s = setup(&device);
    let mut c = device.client_as(OWNER_CSE);
    let (h0, h1, h2, h3) = (
        h("truncated ClientHello"),
        h("CH..SH"),
        h("..server EncryptedExtensions"),
        h("..server Finished"),
    );
    // psk_ke: one invocation for the binder and, after ServerHello, one for
    // the handshake keys.
    let opened = c
        .handshake_open(
            Role::Client,
            Some(&s.key("psk", 12)),
            false,
            None,
            vec![Step::Tls13Binder { transcript: h0 }],
        )
        .unwrap();
    let early = r::extract(&[], &PSK);
    let binder_key = derive(&early, "ext binder", &r::sha256(&[]));
    assert_eq!(
        opened.replies[0],
        StepReply::VerifyData(heapless::Vec::from_slice(&finished(&binder_key, &h0)).unwrap())
    );
    let reference = schedule(Some(&PSK), None, &h1);
    let server_vd: [u8; 32] = finished(&reference.hs_server, &h2).try_into().unwrap();
    let replies = c
        .handshake_steps(
            opened.session,
            vec![
                Step::Tls13Handshake {
                    peer_public: None,
                    transcript: h1,
                    key_len: 16,
                },
                Step::Tls13Finished {
                    side: Role::Server,
                    transcript: h2,
                    expect: Some(Digest(server_vd)),
                },
                Step::Tls13Application {
                    transcript: h3,
                    key_len: 16,
                },
                Step::Tls13Finished {
                    side: Role::Client,
                    transcript: h3,
                    expect: None,
                },
            ],
        )
        .unwrap();
    assert_eq!(
        replies[0],
        StepReply::TrafficKeys {
            client: traffic(&reference.hs_client),
            server: traffic(&reference.hs_server),
        }
    );
    assert_eq!(replies[1], StepReply::Verified);

    // A (D)TLS credential (SUID x2) may make the pairwise ESCertKE key, not Ke.
    let ke = c.handshake_step(
        opened.session,
        Step::ExportKey {
            label: OneM2mExport::Bootstrap,
            object: "ke".try_into().unwrap(),
        },
    );
    assert_eq!(ke.unwrap_err().reason(), Some(Reason::LabelNotAllowed));
    // (that refusal wiped the session: redo the handshake)
    let opened = c
        .handshake_open(
            Role::Client,
            Some(&s.key("psk", 12)),
            false,
            None,
            vec![
                Step::Tls13Handshake {
                    peer_public: None,
                    transcript: h1,
                    key_len: 16,
                },
                Step::Tls13Finished {
                    side: Role::Server,
                    transcript: h2,
                    expect: None,
                },
                Step::Tls13Application {
                    transcript: h3,
                    key_len: 16,
                },
                Step::ExportKey {
                    label: OneM2mExport::EsCertKe,
                    object: "pairwise".try_into().unwrap(),
                },
            ],
        )
        .unwrap();
    let StepReply::ExportedKey {
        relative_id,
        object,
    } = &opened.replies[3]
    else {
        panic!("{:?}", opened.replies)
    };
    let exporter = derive(&reference.master, "exp master", &h3.0);
    let secret = derive(&exporter, "EXPORTER-oneM2M-ESCertKE", &r::sha256(&[]));
    let full = r::expand_label(&secret, "exporter", &r::sha256(&[]), 48);
    assert_eq!(&relative_id[..], &full[..16]);
    assert_eq!(object.suid, Some(seam_tests::suid(43)));
    // The key (the last 32 bytes) stays inside and MACs as Python says.
    let pairwise = seam::KeyRef {
        key: "pairwise".try_into().unwrap(),
        suid: seam_tests::suid(43),
        ..s.key("psk", 12)
    };
    let tag = c.mac(&pairwise, b"ESPrim").unwrap();
    assert_eq!(tag.to_vec(), r::hmac(&full[16..], &[b"ESPrim"]));
}

#[test]
fn a_wrong_server_finished_or_early_application_is_refused() {
    let device = Device::new();
    let s = setup(&device);
    let mut c = device.client_as(OWNER_CSE);
    let psk = s.key("psk", 12);
    let handshake = || Step::Tls13Handshake {
        peer_public: None,
        transcript: h("x"),
        key_len: 16,
    };
    let opened = c
        .handshake_open(Role::Client, Some(&psk), false, None, vec![handshake()])
        .unwrap();
    let bad = Step::Tls13Finished {
        side: Role::Server,
        transcript: h("y"),
        expect: Some(Digest([0; 32])),
    };
    assert_eq!(
        c.handshake_step(opened.session, bad).unwrap_err().reason(),
        Some(Reason::FinishedMismatch)
    );
    // Application keys before the server's Finished: out of order.
    let opened = c
        .handshake_open(Role::Client, Some(&psk), false, None, vec![handshake()])
        .unwrap();
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
    // A binder after the handshake, or without a PSK.
    let opened = c
        .handshake_open(Role::Client, None, true, None, vec![])
        .unwrap();
    assert_eq!(
        c.handshake_step(opened.session, Step::Tls13Binder { transcript: h("b") })
            .unwrap_err()
            .reason(),
        Some(Reason::InvalidParameter)
    );
}
