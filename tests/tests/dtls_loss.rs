//! DTLS through an in-memory lossy link, with every handshake secret in the
//! TA (the simulator): seam client against seam server, datagrams lost,
//! duplicated and reordered by a seeded generator, time virtual. The
//! handshake must complete for every seed, and retransmissions must never
//! cost a TA invocation (the TA's steps are one-shot: a second call would
//! wipe the session).
//!
//! The ECDHE_ECDSA case authenticates the server with a raw public key
//! (RFC 7250) pinned by the client; the server's key never leaves the SE.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use seam::dtls::cert::spki_for;
use seam::dtls::{
    Config, Connection, OwnCertificate, PeerTrust, RandomSource, RetransmitPolicy, Role, Suite,
    Variant,
};
use seam::dtls::{SeamSecrets, TaCredentials};
use seam::proto::{KeyRef, ObjectKind, Ops};
use seam::Client;
use seam_tests::{Device, Who};

const PSK: [u8; 16] = *b"oneM2M-loss-PSK!";
const IDENTITY: &[u8] = b"kpsa-9@m2m.seam.test";

/// xorshift64*.
struct Seeded(u64);

impl Seeded {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn percent(&mut self) -> u64 {
        self.next() % 100
    }
}

impl RandomSource for Seeded {
    fn fill(&mut self, out: &mut [u8]) {
        for c in out.chunks_mut(8) {
            let v = self.next().to_le_bytes();
            c.copy_from_slice(&v[..c.len()]);
        }
    }
}

/// One direction of the link.
struct Lossy {
    rng: Seeded,
    queue: VecDeque<Vec<u8>>,
}

impl Lossy {
    fn push(&mut self, d: Vec<u8>) {
        if self.rng.percent() < 30 {
            return; // lost
        }
        if self.rng.percent() < 20 {
            self.queue.push_back(d.clone()); // duplicated
        }
        if self.rng.percent() < 30 && !self.queue.is_empty() {
            let at = (self.rng.next() as usize) % self.queue.len();
            self.queue.insert(at, d); // reordered
        } else {
            self.queue.push_back(d);
        }
    }
}

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
) -> u32 {
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
        Box::new(Seeded(seed * 2 + 1)),
        t0,
    );
    let mut s = Connection::new(
        Role::Server,
        sc,
        server_secrets,
        Box::new(Seeded(seed * 2 + 2)),
        t0,
    );
    let mut to_s = Lossy {
        rng: Seeded(seed * 7 + 3),
        queue: VecDeque::new(),
    };
    let mut to_c = Lossy {
        rng: Seeded(seed * 11 + 5),
        queue: VecDeque::new(),
    };
    let mut now = t0;
    let mut rounds = 0;
    while !(c.is_established() && s.is_established()) {
        rounds += 1;
        assert!(rounds < 100_000, "seed {seed}: no progress");
        assert!(
            now - t0 < Duration::from_secs(3600),
            "{suite} seed {seed}: not done after an hour of virtual time: {:?} / {:?}",
            c.error(),
            s.error()
        );
        if let Some(e) = c.error().or(s.error()) {
            panic!("{suite} seed {seed}: {e}");
        }
        while let Some(d) = c.poll_output() {
            to_s.push(d);
        }
        while let Some(d) = s.poll_output() {
            to_c.push(d);
        }
        let mut moved = false;
        if let Some(d) = to_s.queue.pop_front() {
            let _ = s.handle_input(&d, now);
            moved = true;
        }
        if let Some(d) = to_c.queue.pop_front() {
            let _ = c.handle_input(&d, now);
            moved = true;
        }
        if !moved {
            let next = [c.poll_timeout(), s.poll_timeout()]
                .into_iter()
                .flatten()
                .min()
                .unwrap_or_else(|| panic!("seed {seed}: both ends wait for nothing"));
            now = now.max(next);
            if c.poll_timeout().is_some_and(|t| t <= now) {
                let _ = c.handle_timeout(now);
            }
            if s.poll_timeout().is_some_and(|t| t <= now) {
                let _ = s.handle_timeout(now);
            }
        }
    }
    let expected = if suite.is_psk() { 2 } else { 3 };
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
        while let Some(d) = to_s.queue.pop_front() {
            let _ = s.handle_input(&d, now);
        }
        if let Some(got) = s.recv() {
            assert_eq!(got, b"ping");
            return retransmissions;
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
        for seed in 1..=8 {
            retransmissions += handshake(&mut client_ta, &mut server_ta, &keys, suite, seed);
        }
        // The link did lose flights: the test exercised recovery.
        assert!(
            retransmissions >= 8,
            "{suite}: only {retransmissions} retransmissions"
        );
        eprintln!("{suite}: 8 handshakes, {retransmissions} flight retransmissions");
    }
}
