//! TLS 1.2 handshake sessions in the TA, step by step, against values
//! computed independently (Python's hmac/hashlib for the PRF and the
//! transcript hashes, the p256 crate for the peer's side of ECDH and for
//! checking signatures), and the session rules: order, one-shot steps,
//! wiping, caller binding, bounds and expiry.

use p256::ecdsa::signature::hazmat::PrehashVerifier;
use seam::handshake::{transcript, Sha256Midstate};
use seam::proto::handshake::{
    MasterSeed, OneM2mExport, Role, Step, StepReply, HANDSHAKE_LIFETIME, MAX_HANDSHAKES_PER_CALLER,
};
use seam::proto::{heapless, AdminOp, Digest, ObjectKind, Ops, PublicKey, Reason};
use seam::Client;
use seam_tests::reference as r;
use seam_tests::shared::SharedTa;
use seam_tests::{Device, Stakeholder, Who, OTHER_CSE, OWNER_CSE};

const PSK: [u8; 32] = [0x11; 32];
const CR: [u8; 32] = [0xc1; 32];
const SR: [u8; 32] = [0x5e; 32];

fn import(s: &Stakeholder<'_>, object: &str, suid: u8, kind: ObjectKind, material: &[u8]) {
    let op = AdminOp::ImportPlaintext {
        object: object.try_into().unwrap(),
        suid: seam_tests::suid(suid),
        kind,
        material: heapless::Vec::from_slice(material).unwrap(),
    };
    s.device.client().admin(&s.admin, &s.se, vec![op]).unwrap();
}

/// A PSK (SUID 12) and a certificate key (SUID 42), both granted to OWNER_CSE.
fn credentials(device: &Device) -> Stakeholder<'_> {
    let s = device.stakeholder_with("tls12", true);
    import(&s, "psk", 12, ObjectKind::Secret, &PSK);
    s.grant("psk", OWNER_CSE, Ops::HANDSHAKE, 12);
    s.generate("cert", 42);
    s.grant("cert", OWNER_CSE, Ops::HANDSHAKE.union(Ops::SIGN), 42);
    s
}

/// Clients on one TA instance (the simulator shares one; the TEE's
/// single-instance TA is one).
fn clients(device: &Device) -> impl Fn(Who) -> Client + '_ {
    let shared = SharedTa::new(device);
    move |who| match &shared {
        Some(ta) => ta.client(who),
        None => device.client_as(who),
    }
}

fn transcript_bytes(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i * 7 + 3) as u8).collect()
}

fn digest(bytes: &[u8]) -> Digest {
    Digest(r::sha256(&[bytes]).try_into().unwrap())
}

fn reason<T: std::fmt::Debug>(r: seam::Result<T>) -> Reason {
    r.expect_err("expected a refusal")
        .reason()
        .expect("a TA refusal")
}

#[test]
fn psk_client_two_invocations_match_the_reference() {
    let device = Device::new();
    let s = credentials(&device);
    let mut c = clients(&device)(OWNER_CSE);
    let t = transcript_bytes(333);
    let mut hash = Sha256Midstate::new();
    hash.update(&t);
    let session_hash = digest(&t);

    // Invocation 1: open, master secret (RFC 7627), key block, client flight.
    let opened = c
        .handshake_open(
            Role::Client,
            Some(&s.key("psk", 12)),
            false,
            None,
            vec![
                Step::Tls12MasterSecret {
                    peer_public: None,
                    seed: MasterSeed::Extended { session_hash },
                },
                Step::Tls12KeyBlock {
                    client_random: CR,
                    server_random: SR,
                    len: 40,
                },
                Step::Tls12ClientFlight {
                    transcript: transcript(&hash),
                    certificate_verify: false,
                    dtls_message_seq: None,
                },
            ],
        )
        .unwrap();
    assert_eq!(opened.public, None);

    let premaster = r::psk_premaster(&PSK);
    let master = r::prf(&premaster, "extended master secret", &session_hash.0, 48);
    let key_block = r::prf(&master, "key expansion", &[SR, CR].concat(), 40);
    let client_vd = r::prf(&master, "client finished", &session_hash.0, 12);
    let finished = [&[20u8, 0, 0, 12][..], &client_vd].concat();
    let server_vd = r::prf(&master, "server finished", &r::sha256(&[&t, &finished]), 12);
    match &opened.replies[..] {
        [StepReply::Done, StepReply::KeyBlock(kb), StepReply::ClientFlight {
            certificate_verify: None,
            finished: fin,
        }] => {
            assert_eq!(kb.as_slice(), key_block.as_slice());
            assert_eq!(fin.as_slice(), finished.as_slice());
        }
        other => panic!("{other:?}"),
    }

    // Invocation 2: the server's Finished, checked inside.
    let reply = c
        .handshake_step(
            opened.session,
            Step::Tls12VerifyServerFinished {
                verify_data: server_vd.clone().try_into().unwrap(),
            },
        )
        .unwrap();
    assert_eq!(reply, StepReply::Verified);

    // RFC 5705 exporter, no context and with one.
    let label = "EXPERIMENTAL-seam-test";
    let export = |context: Option<&[u8]>| Step::Tls12Export {
        label: heapless::Vec::from_slice(label.as_bytes()).unwrap(),
        context: context.map(|c| heapless::Vec::from_slice(c).unwrap()),
        len: 42,
    };
    let out = c.handshake_step(opened.session, export(None)).unwrap();
    assert_eq!(
        out,
        StepReply::Exported(
            heapless::Vec::from_slice(&r::prf(&master, label, &[CR, SR].concat(), 42)).unwrap()
        )
    );
    let out = c
        .handshake_step(opened.session, export(Some(b"ctx")))
        .unwrap();
    let seed = [&CR[..], &SR, &[0, 3], b"ctx"].concat();
    assert_eq!(
        out,
        StepReply::Exported(heapless::Vec::from_slice(&r::prf(&master, label, &seed, 42)).unwrap())
    );

    // The oneM2M labels never leave: only ExportKey, and only for a
    // credential of the right use (a (D)TLS PSK may make the ESCertKE key,
    // not Ke).
    let onem2m = Step::Tls12Export {
        label: heapless::Vec::from_slice(b"EXPORTER-oneM2M-Bootstrap").unwrap(),
        context: None,
        len: 48,
    };
    assert_eq!(
        reason(c.handshake_step(opened.session, onem2m)),
        Reason::LabelNotAllowed
    );
    // That refusal wiped the session.
    assert_eq!(
        reason(c.handshake_step(opened.session, export(None))),
        Reason::UnknownHandshake
    );
}

#[test]
fn psk_server_checks_the_client_finished_inside() {
    let device = Device::new();
    let s = credentials(&device);
    let mut c = clients(&device)(OWNER_CSE);
    let opened = c
        .handshake_open(
            Role::Server,
            Some(&s.key("psk", 12)),
            false,
            None,
            vec![
                Step::Tls12MasterSecret {
                    peer_public: None,
                    seed: MasterSeed::Randoms {
                        client_random: CR,
                        server_random: SR,
                    },
                },
                Step::Tls12KeyBlock {
                    client_random: CR,
                    server_random: SR,
                    len: 128,
                },
            ],
        )
        .unwrap();
    let master = r::prf(
        &r::psk_premaster(&PSK),
        "master secret",
        &[CR, SR].concat(),
        48,
    );
    let kb = r::prf(&master, "key expansion", &[SR, CR].concat(), 128);
    assert_eq!(
        opened.replies[1],
        StepReply::KeyBlock(heapless::Vec::from_slice(&kb).unwrap())
    );
    let h1 = digest(b"through client key exchange");
    let h2 = digest(b"through client finished");
    let client_vd: [u8; 12] = r::prf(&master, "client finished", &h1.0, 12)
        .try_into()
        .unwrap();
    let server_vd = r::prf(&master, "server finished", &h2.0, 12);
    let replies = c
        .handshake_steps(
            opened.session,
            vec![
                Step::Tls12Finished {
                    side: Role::Client,
                    transcript: h1,
                    expect: Some(client_vd),
                },
                Step::Tls12Finished {
                    side: Role::Server,
                    transcript: h2,
                    expect: None,
                },
            ],
        )
        .unwrap();
    assert_eq!(
        replies,
        vec![
            StepReply::Verified,
            StepReply::VerifyData(heapless::Vec::from_slice(&server_vd).unwrap())
        ]
    );
}

#[test]
fn a_wrong_finished_is_refused_and_wipes_the_session() {
    let device = Device::new();
    let s = credentials(&device);
    let mut c = clients(&device)(OWNER_CSE);
    let seed = MasterSeed::Randoms {
        client_random: CR,
        server_random: SR,
    };
    let opened = c
        .handshake_open(
            Role::Server,
            Some(&s.key("psk", 12)),
            false,
            None,
            vec![Step::Tls12MasterSecret {
                peer_public: None,
                seed,
            }],
        )
        .unwrap();
    let bad = Step::Tls12Finished {
        side: Role::Client,
        transcript: Digest([1; 32]),
        expect: Some([0; 12]),
    };
    assert_eq!(
        reason(c.handshake_step(opened.session, bad)),
        Reason::FinishedMismatch
    );
    let next = Step::Tls12Finished {
        side: Role::Server,
        transcript: Digest([1; 32]),
        expect: None,
    };
    assert_eq!(
        reason(c.handshake_step(opened.session, next)),
        Reason::UnknownHandshake
    );
}

fn peer_key() -> (p256::SecretKey, PublicKey) {
    let secret = p256::SecretKey::from_slice(&[0x42; 32]).unwrap();
    let point = secret.public_key().to_sec1_bytes();
    (secret, PublicKey(point.as_ref().try_into().unwrap()))
}

fn shared_secret(peer: &p256::SecretKey, ta_public: &PublicKey) -> Vec<u8> {
    let public = p256::PublicKey::from_sec1_bytes(ta_public.as_bytes()).unwrap();
    p256::ecdh::diffie_hellman(peer.to_nonzero_scalar(), public.as_affine())
        .raw_secret_bytes()
        .to_vec()
}

#[test]
fn ecdhe_client_flight_with_certificate_verify_in_dtls_framing() {
    let device = Device::new();
    let s = credentials(&device);
    let cert_public = device
        .client_as(OWNER_CSE)
        .object_info(&s.se, "cert")
        .unwrap()
        .public_key
        .unwrap();
    let mut c = clients(&device)(OWNER_CSE);

    // Invocation 1: the ephemeral key (for the ClientKeyExchange).
    let opened = c
        .handshake_open(Role::Client, None, true, Some(&s.key("cert", 42)), vec![])
        .unwrap();
    let ta_public = opened.public.unwrap();
    let (peer_secret, peer_public) = peer_key();

    // The host's transcript through ClientKeyExchange (which carries the
    // TA's public key).
    let mut t = transcript_bytes(1000);
    t.extend_from_slice(ta_public.as_bytes());
    let mut hash = Sha256Midstate::new();
    hash.update(&t);
    let session_hash = digest(&t);

    // Invocation 2: master secret, key block, CertificateVerify, Finished.
    let replies = c
        .handshake_steps(
            opened.session,
            vec![
                Step::Tls12MasterSecret {
                    peer_public: Some(peer_public),
                    seed: MasterSeed::Extended { session_hash },
                },
                Step::Tls12KeyBlock {
                    client_random: CR,
                    server_random: SR,
                    len: 40,
                },
                Step::Tls12ClientFlight {
                    transcript: transcript(&hash),
                    certificate_verify: true,
                    dtls_message_seq: Some(5),
                },
            ],
        )
        .unwrap();
    let premaster = shared_secret(&peer_secret, &ta_public);
    let master = r::prf(&premaster, "extended master secret", &session_hash.0, 48);
    let (cv, fin) = match &replies[..] {
        [StepReply::Done, StepReply::KeyBlock(kb), StepReply::ClientFlight {
            certificate_verify: Some(cv),
            finished,
        }] => {
            assert_eq!(
                kb.as_slice(),
                r::prf(&master, "key expansion", &[SR, CR].concat(), 40).as_slice()
            );
            (cv.to_vec(), finished.to_vec())
        }
        other => panic!("{other:?}"),
    };
    // CertificateVerify: DTLS header (type 15, seq 5, one fragment), then
    // ecdsa_secp256r1_sha256 and a DER signature over the session hash.
    let body_len = cv.len() - 12;
    assert_eq!(cv[0], 15);
    assert_eq!(&cv[1..4], &(body_len as u32).to_be_bytes()[1..]);
    assert_eq!(&cv[4..6], &[0, 5]);
    assert_eq!(&cv[6..9], &[0, 0, 0]);
    assert_eq!(&cv[9..12], &cv[1..4]);
    assert_eq!(&cv[12..14], &[4, 3]);
    assert_eq!(
        usize::from(u16::from_be_bytes([cv[14], cv[15]])),
        body_len - 4
    );
    let sig = p256::ecdsa::Signature::from_der(&cv[16..]).unwrap();
    let vk = p256::ecdsa::VerifyingKey::from_sec1_bytes(cert_public.as_bytes()).unwrap();
    vk.verify_prehash(&session_hash.0, &sig).unwrap();
    // Finished: seq 6, verify_data over the transcript with CertificateVerify.
    let client_vd = r::prf(&master, "client finished", &r::sha256(&[&t, &cv]), 12);
    let expected_fin = [&[20u8, 0, 0, 12, 0, 6, 0, 0, 0, 0, 0, 12][..], &client_vd].concat();
    assert_eq!(fin, expected_fin);

    // Invocation 3: the server's Finished over everything, checked inside.
    let server_vd = r::prf(&master, "server finished", &r::sha256(&[&t, &cv, &fin]), 12);
    let reply = c
        .handshake_step(
            opened.session,
            Step::Tls12VerifyServerFinished {
                verify_data: server_vd.try_into().unwrap(),
            },
        )
        .unwrap();
    assert_eq!(reply, StepReply::Verified);
}

#[test]
fn ecdhe_server_key_exchange_is_signed_with_the_stored_key() {
    let device = Device::new();
    let s = credentials(&device);
    let cert_public = device
        .client_as(OWNER_CSE)
        .object_info(&s.se, "cert")
        .unwrap()
        .public_key
        .unwrap();
    let mut c = clients(&device)(OWNER_CSE);
    let opened = c
        .handshake_open(
            Role::Server,
            None,
            true,
            Some(&s.key("cert", 42)),
            vec![Step::Tls12ServerKeyExchange {
                client_random: CR,
                server_random: SR,
            }],
        )
        .unwrap();
    let ta_public = opened.public.unwrap();
    let StepReply::Signature(sig) = &opened.replies[0] else {
        panic!("{:?}", opened.replies)
    };
    let params = [&[3u8, 0, 23, 65][..], ta_public.as_bytes()].concat();
    let signed = [&CR[..], &SR, &params].concat();
    assert!(seam::signer::verify_with(&cert_public, &signed, sig));

    // The client's point, an ECDH inside, the same master secret as the peer's.
    let (peer_secret, peer_public) = peer_key();
    let replies = c
        .handshake_steps(
            opened.session,
            vec![
                Step::Tls12MasterSecret {
                    peer_public: Some(peer_public),
                    seed: MasterSeed::Randoms {
                        client_random: CR,
                        server_random: SR,
                    },
                },
                Step::Tls12KeyBlock {
                    client_random: CR,
                    server_random: SR,
                    len: 128,
                },
            ],
        )
        .unwrap();
    let master = r::prf(
        &shared_secret(&peer_secret, &ta_public),
        "master secret",
        &[CR, SR].concat(),
        48,
    );
    assert_eq!(
        replies[1],
        StepReply::KeyBlock(
            heapless::Vec::from_slice(&r::prf(&master, "key expansion", &[SR, CR].concat(), 128))
                .unwrap()
        )
    );
}

#[test]
fn invalid_points_are_refused() {
    let device = Device::new();
    let s = credentials(&device);
    let mut c = clients(&device)(OWNER_CSE);
    let (_, good) = peer_key();
    let mut off_curve = good;
    off_curve.0[64] ^= 1;
    let mut bad_prefix = good;
    bad_prefix.0[0] = 5;
    for point in [off_curve, bad_prefix, PublicKey([0; 65])] {
        let opened = c
            .handshake_open(Role::Client, None, true, None, vec![])
            .unwrap();
        let step = Step::Tls12MasterSecret {
            peer_public: Some(point),
            seed: MasterSeed::Randoms {
                client_random: CR,
                server_random: SR,
            },
        };
        assert_eq!(
            reason(c.handshake_step(opened.session, step)),
            Reason::InvalidPublicKey
        );
    }
    // And opening with a key the caller may not use for handshakes.
    assert_eq!(
        reason(c.handshake_open(Role::Client, Some(&s.key("cert", 42)), false, None, vec![])),
        Reason::WrongObjectKind
    );
}

#[test]
fn steps_out_of_order_or_twice_are_refused_and_wipe_the_session() {
    let device = Device::new();
    let s = credentials(&device);
    let mut c = clients(&device)(OWNER_CSE);
    let psk = s.key("psk", 12);
    let master = || Step::Tls12MasterSecret {
        peer_public: None,
        seed: MasterSeed::Randoms {
            client_random: CR,
            server_random: SR,
        },
    };
    let key_block = || Step::Tls12KeyBlock {
        client_random: CR,
        server_random: SR,
        len: 40,
    };
    let cases: Vec<(Vec<Step>, Step)> = vec![
        // Key block before the master secret.
        (vec![], key_block()),
        // The master secret twice.
        (vec![master()], master()),
        // The key block twice.
        (vec![master(), key_block()], key_block()),
        // Exporting before the Finished.
        (
            vec![master()],
            Step::Tls12Export {
                label: heapless::Vec::from_slice(b"EXPERIMENTAL-x").unwrap(),
                context: None,
                len: 16,
            },
        ),
        // A TLS 1.3 step on a TLS 1.2 session.
        (
            vec![master()],
            Step::Tls13Finished {
                side: Role::Client,
                transcript: Digest([0; 32]),
                expect: None,
            },
        ),
        // A server step on a client session.
        (
            vec![],
            Step::Tls12ServerKeyExchange {
                client_random: CR,
                server_random: SR,
            },
        ),
        // ExportKey before the handshake completed.
        (
            vec![master()],
            Step::ExportKey {
                label: OneM2mExport::EsCertKe,
                object: "early".try_into().unwrap(),
            },
        ),
    ];
    for (before, step) in cases {
        let opened = c
            .handshake_open(Role::Client, Some(&psk), false, None, before)
            .unwrap();
        let refused = reason(c.handshake_step(opened.session, step.clone()));
        assert!(
            matches!(
                refused,
                Reason::StepOutOfOrder | Reason::InvalidParameter | Reason::LabelNotAllowed
            ),
            "{step:?}: {refused:?}"
        );
        assert_eq!(
            reason(c.handshake_step(opened.session, master())),
            Reason::UnknownHandshake,
            "{step:?} did not wipe the session"
        );
    }
}

#[test]
#[cfg_attr(
    feature = "tee",
    ignore = "on the TEE this is the multitenancy suite's job"
)]
fn sessions_belong_to_their_caller() {
    let device = Device::new();
    if SharedTa::new(&device).is_none() {
        seam_tests::tools::skipped("on the TEE this is the multitenancy suite's job");
        return;
    }
    let s = credentials(&device);
    let make = clients(&device);
    let mut owner = make(OWNER_CSE);
    let mut other = make(OTHER_CSE);
    let opened = owner
        .handshake_open(Role::Client, Some(&s.key("psk", 12)), false, None, vec![])
        .unwrap();
    let step = Step::Tls12MasterSecret {
        peer_public: None,
        seed: MasterSeed::Randoms {
            client_random: CR,
            server_random: SR,
        },
    };
    // Another caller cannot see, use or close it...
    assert_eq!(
        reason(other.handshake_step(opened.session, step.clone())),
        Reason::UnknownHandshake
    );
    assert_eq!(
        reason(other.handshake_close(opened.session)),
        Reason::UnknownHandshake
    );
    // ...and trying did not disturb it.
    assert_eq!(
        owner.handshake_step(opened.session, step).unwrap(),
        StepReply::Done
    );
    // Nor may another caller open a session with the owner's PSK.
    assert_eq!(
        reason(other.handshake_open(Role::Client, Some(&s.key("psk", 12)), false, None, vec![])),
        Reason::NoPrivilege
    );
    owner.handshake_close(opened.session).unwrap();
    assert_eq!(
        reason(owner.handshake_close(opened.session)),
        Reason::UnknownHandshake
    );
}

#[test]
fn a_callers_oldest_session_gives_way_and_sessions_expire() {
    let device = Device::new();
    let s = credentials(&device);
    let mut c = clients(&device)(OWNER_CSE);
    let psk = s.key("psk", 12);
    let open = |c: &mut Client| {
        c.handshake_open(Role::Client, Some(&psk), false, None, vec![])
            .unwrap()
            .session
    };
    let step = || Step::Tls12MasterSecret {
        peer_public: None,
        seed: MasterSeed::Randoms {
            client_random: CR,
            server_random: SR,
        },
    };
    let sessions: Vec<u64> = (0..=MAX_HANDSHAKES_PER_CALLER)
        .map(|_| open(&mut c))
        .collect();
    // The fifth evicted the first; the others are alive.
    assert_eq!(
        reason(c.handshake_step(sessions[0], step())),
        Reason::UnknownHandshake
    );
    for id in &sessions[1..] {
        assert_eq!(c.handshake_step(*id, step()).unwrap(), StepReply::Done);
    }

    // Expiry: HANDSHAKE_LIFETIME invocations later, the session is gone.
    let young = open(&mut c);
    for _ in 0..HANDSHAKE_LIFETIME {
        c.node_info().unwrap();
    }
    assert_eq!(
        reason(c.handshake_step(young, step())),
        Reason::HandshakeExpired
    );
    assert_eq!(
        reason(c.handshake_step(young, step())),
        Reason::UnknownHandshake
    );
}
