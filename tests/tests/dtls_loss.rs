//! DTLS through an in-memory lossy link, with every handshake secret in the
//! TA of the backend under test (the simulator, or the real TA on the
//! emulated device): seam client against seam server, datagrams lost,
//! duplicated and reordered by a seeded generator, time virtual. The
//! handshake must complete for every seed, and retransmissions must never
//! cost a TA invocation (the TA's steps are one-shot: a second call would
//! wipe the session). The engine's own loss tests, over an in-memory TA,
//! are in host/dtls/tests/engine.rs.
//!
//! The ECDHE_ECDSA case authenticates the server with a raw public key
//! (RFC 7250) pinned by the client; the server's key never leaves the SE.

use std::time::{Duration, Instant};

use seam::dtls::cert::spki_for;
use seam::dtls::{
    Config, Connection, OwnCertificate, PeerTrust, RetransmitPolicy, Role, Suite, Variant,
};
use seam::dtls::{SeamSecrets, TaCredentials};
use seam::proto::{KeyRef, ObjectKind, Ops};
use seam::Client;
use seam_tests::testing::{pump, LinkStats, LossyLink, Pumped, Seeded};
use seam_tests::{Device, Who};

const PSK: [u8; 16] = *b"oneM2M-loss-PSK!";
const IDENTITY: &[u8] = b"kpsa-9@m2m.seam.test";

struct Keys {
    psk: KeyRef,
    cert: KeyRef,
    cert_public: Vec<u8>,
}

fn provision(device: &Device) -> (seam_tests::Stakeholder<'_>, Keys) {
    let st = device.stakeholder("loss");
    device
        .client()
        .import_wrapped(
            &st.admin,
            &st.se,
            "psk",
            seam_tests::suid(12),
            ObjectKind::Secret,
            &PSK,
        )
        .expect("importing the PSK");
    st.grant("psk", Who::Me, Ops::HANDSHAKE, 12);
    let public = st.generate("cert", 42);
    st.grant("cert", Who::Me, Ops::HANDSHAKE, 42);
    let keys = Keys {
        psk: st.key("psk", 12),
        cert: st.key("cert", 42),
        cert_public: public.0.to_vec(),
    };
    (st, keys)
}

fn handshake(
    client_ta: &mut Client,
    server_ta: &mut Client,
    keys: &Keys,
    suite: Suite,
    seed: u64,
) -> (u32, LinkStats) {
    let policy = RetransmitPolicy {
        initial: Duration::from_secs(1),
        max: Duration::from_secs(60),
        max_retransmissions: 20,
    };
    let mut cc = Config::new(Variant::Dtls, vec![suite]);
    cc.psk_identity = Some(IDENTITY.to_vec());
    cc.server_names = vec!["server.seam.test".into()];
    cc.peer_trust = PeerTrust::PinnedKey(keys.cert_public.clone());
    cc.require_extended_master_secret = true;
    cc.retransmit = policy;
    cc.mtu = 300;
    let mut sc = Config::new(Variant::Dtls, vec![suite]);
    sc.certificate = OwnCertificate::RawPublicKey(spki_for(&keys.cert_public).unwrap());
    sc.retransmit = policy;
    sc.mtu = 300;

    let t0 = Instant::now();
    let client_secrets = SeamSecrets::new(
        client_ta,
        TaCredentials {
            psk: Some(keys.psk.clone()),
            ..Default::default()
        },
    );
    let server_secrets = SeamSecrets::new(
        server_ta,
        TaCredentials {
            psk_by_identity: vec![(IDENTITY.to_vec(), keys.psk.clone())],
            signing_key: Some(keys.cert.clone()),
            ..Default::default()
        },
    );
    let mut c = Connection::new(
        Role::Client,
        cc,
        client_secrets,
        Box::new(Seeded::new(seed * 2 + 1)),
        t0,
    );
    let mut s = Connection::new(
        Role::Server,
        sc,
        server_secrets,
        Box::new(Seeded::new(seed * 2 + 2)),
        t0,
    );
    let mut to_s = LossyLink::new(seed * 7 + 3, 30, 20, 30);
    let mut to_c = LossyLink::new(seed * 11 + 5, 30, 20, 30);
    let (how, now) = pump(
        &mut c,
        &mut s,
        &mut to_s,
        &mut to_c,
        t0,
        Duration::from_secs(3600),
    );
    assert_eq!(
        how,
        Pumped::Established,
        "{suite} seed {seed}: {:?} / {:?}",
        c.error(),
        s.error()
    );
    let stats = to_s.stats() + to_c.stats();
    // Two invocations per handshake, every suite, both roles.
    let expected = 2;
    let retransmissions = c.info().retransmissions + s.info().retransmissions;
    assert_eq!(c.info().invocations, expected, "client, seed {seed}");
    assert_eq!(s.info().invocations, expected, "server, seed {seed}");
    assert_eq!(
        c.info().peer_public_key,
        (!suite.is_psk()).then(|| keys.cert_public.clone())
    );
    // Data still flows (the link is lossy: DTLS does not retransmit data,
    // so send until one copy arrives).
    for _ in 0..50 {
        c.send(b"ping").unwrap();
        while let Some(d) = c.poll_output() {
            to_s.push(d);
        }
        while let Some(d) = to_s.pop() {
            let _ = s.handle_input(&d, now);
        }
        if let Some(got) = s.recv() {
            assert_eq!(got, b"ping");
            return (retransmissions, stats);
        }
    }
    panic!("seed {seed}: no application data got through");
}

#[test]
fn ta_backed_dtls_survives_loss_duplication_and_reordering() {
    let device = Device::new();
    let (_st, keys) = provision(&device);
    let mut client_ta = device.client();
    let mut server_ta = device.client();
    for suite in [Suite::PskAes128Ccm8, Suite::EcdheEcdsaAes128Ccm8] {
        let mut retransmissions = 0;
        let mut link = LinkStats::default();
        for seed in 1..=8 {
            let (r, stats) = handshake(&mut client_ta, &mut server_ta, &keys, suite, seed);
            retransmissions += r;
            link = link + stats;
        }
        // The link did lose, duplicate and reorder, and the ends recovered
        // by retransmitting: the test exercised recovery.
        assert!(
            link.dropped > 0 && link.duplicated > 0 && link.reordered > 0,
            "{suite}: {link:?}"
        );
        assert!(
            retransmissions >= 8,
            "{suite}: only {retransmissions} retransmissions"
        );
        eprintln!("{suite}: 8 handshakes, {link:?}, {retransmissions} flight retransmissions");
    }
}
