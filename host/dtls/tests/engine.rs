//! Engine tests: seam client against seam server in memory, with the
//! handshake secrets in the Secure Environment (seam-core on an in-memory
//! node, through `seam::dtls::SeamSecrets`), over a deterministic lossy link
//! (loss, duplication, reordering from a seeded generator) and a virtual
//! clock.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use p256::pkcs8::DecodePrivateKey;

use std::sync::OnceLock;

use seam::dtls::{SeamSecrets, TaCredentials};
use seam::Client;
use seam_dtls::cert::{pem_certificates, spki_for};
use seam_dtls::*;
use seam_tests::dtls_fuzzing as fuzzing;
use seam_tests::memory_ta::{self, Credentials, MemoryTa, PSK_SUID};

const PSK: &[u8] = b"0123456789abcdef";
const IDENTITY: &[u8] = b"kpsa-1@m2m.example.org";

/// xorshift64*: deterministic randomness for runs that repeat exactly.
struct Seeded(pub u64);

impl Seeded {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn fill_bytes(&mut self, out: &mut [u8]) {
        for c in out.chunks_mut(8) {
            let v = self.next().to_le_bytes();
            c.copy_from_slice(&v[..c.len()]);
        }
    }
    fn percent(&mut self) -> u64 {
        self.next() % 100
    }
}

impl RandomSource for Seeded {
    fn fill(&mut self, out: &mut [u8]) {
        self.fill_bytes(out)
    }
}

fn scalar(pem: &str) -> [u8; 32] {
    p256::SecretKey::from_pkcs8_pem(pem)
        .unwrap()
        .to_bytes()
        .into()
}

struct Fixtures {
    ca: Vec<u8>,
    server_chain: Vec<Vec<u8>>,
    client_chain: Vec<Vec<u8>>,
    server_key: [u8; 32],
    client_key: [u8; 32],
}

fn fixtures() -> Fixtures {
    Fixtures {
        ca: pem_certificates(include_str!("testdata/ca.pem")).remove(0),
        server_chain: pem_certificates(include_str!("testdata/server.pem")),
        client_chain: pem_certificates(include_str!("testdata/client.pem")),
        server_key: scalar(include_str!("testdata/server.key")),
        client_key: scalar(include_str!("testdata/client.key")),
    }
}

type Conn = Connection<SeamSecrets<Client>>;

/// A PSK the server does not know, for the wrong-PSK test.
const WRONG_PSK: &[u8] = b"not the right key";

/// The TA holding every credential of these tests, provisioned once; each
/// pair of connections runs on a fresh copy.
fn ta() -> &'static MemoryTa {
    static TA: OnceLock<MemoryTa> = OnceLock::new();
    TA.get_or_init(|| {
        let f = fixtures();
        let credentials = Credentials {
            psks: vec![
                ("psk".into(), PSK.to_vec()),
                ("wrong-psk".into(), WRONG_PSK.to_vec()),
            ],
            signing_keys: vec![
                ("client".into(), f.client_key),
                ("server".into(), f.server_key),
            ],
        };
        MemoryTa::new(&credentials, 0)
    })
}

/// 2030-01-01T00:00:00Z: inside every fixture's validity, whatever the day
/// the tests run.
const FIXED_NOW: u64 = 1_893_456_000;

fn fixed_time() -> std::sync::Arc<dyn TimeProvider> {
    std::sync::Arc::new(FixedTime::at_unix(FIXED_NOW))
}

struct Setup {
    client: Config,
    server: Config,
    client_creds: TaCredentials,
    server_creds: TaCredentials,
}

fn setup(variant: Variant, suite: Suite) -> Setup {
    let f = fixtures();
    let mut client = Config::new(variant, vec![suite]).with_time(fixed_time());
    client.server_names = vec!["server.seam.test".into()];
    client.psk_identity = Some(IDENTITY.to_vec());
    client.peer_trust = PeerTrust::CaCertificates(vec![f.ca.clone()]);
    client.certificate = OwnCertificate::X509(f.client_chain.clone());
    client.retransmit.max_retransmissions = 12;
    let mut server = Config::new(variant, Suite::ALL.to_vec()).with_time(fixed_time());
    server.certificate = OwnCertificate::X509(f.server_chain.clone());
    server.peer_trust = PeerTrust::CaCertificates(vec![f.ca]);
    server.retransmit.max_retransmissions = 12;
    Setup {
        client,
        server,
        client_creds: memory_ta::ta_credentials(Some("psk"), &[], Some("client")),
        server_creds: memory_ta::ta_credentials(None, &[(IDENTITY, "psk")], Some("server")),
    }
}

fn connections(s: Setup, seed: u64, t0: Instant) -> (Conn, Conn) {
    let ta = ta().fork(seed);
    let c = Connection::new(
        Role::Client,
        s.client,
        SeamSecrets::new(ta.client(), s.client_creds),
        Box::new(Seeded(seed ^ 0xC2)),
        t0,
    );
    let sv = Connection::new(
        Role::Server,
        s.server,
        SeamSecrets::new(ta.client(), s.server_creds),
        Box::new(Seeded(seed ^ 0x52)),
        t0,
    );
    (c, sv)
}

/// A one-way datagram link that loses, duplicates and reorders.
struct Lossy {
    rng: Seeded,
    loss: u64,
    dup: u64,
    reorder: u64,
    queue: VecDeque<Vec<u8>>,
    sent: usize,
}

impl Lossy {
    fn new(seed: u64, loss: u64, dup: u64, reorder: u64) -> Self {
        Lossy {
            rng: Seeded(seed | 1),
            loss,
            dup,
            reorder,
            queue: VecDeque::new(),
            sent: 0,
        }
    }
    fn push(&mut self, d: Vec<u8>) {
        self.sent += 1;
        if self.rng.percent() < self.loss {
            return;
        }
        if self.rng.percent() < self.dup {
            self.queue.push_back(d.clone());
        }
        if self.rng.percent() < self.reorder && !self.queue.is_empty() {
            let at = (self.rng.next() as usize) % self.queue.len();
            self.queue.insert(at, d);
        } else {
            self.queue.push_back(d);
        }
    }
}

/// Runs both ends until both are established (or `limit` virtual seconds
/// pass), advancing the clock to the next deadline whenever the links are idle.
fn run(
    c: &mut Conn,
    s: &mut Conn,
    to_s: &mut Lossy,
    to_c: &mut Lossy,
    t0: Instant,
    limit: u64,
) -> Instant {
    let mut now = t0;
    let end = t0 + Duration::from_secs(limit);
    while now < end {
        while let Some(d) = c.poll_output() {
            to_s.push(d);
        }
        while let Some(d) = s.poll_output() {
            to_c.push(d);
        }
        if c.is_established()
            && s.is_established()
            && to_s.queue.is_empty()
            && to_c.queue.is_empty()
        {
            return now;
        }
        if c.error().is_some() || s.error().is_some() {
            // Deliver what is in flight (the alert), then stop.
            for _ in 0..2 {
                while let Some(d) = c.poll_output() {
                    to_s.push(d);
                }
                while let Some(d) = s.poll_output() {
                    to_c.push(d);
                }
                while let Some(d) = to_s.queue.pop_front() {
                    let _ = s.handle_input(&d, now);
                }
                while let Some(d) = to_c.queue.pop_front() {
                    let _ = c.handle_input(&d, now);
                }
            }
            return now;
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
                .min();
            match next {
                Some(t) => {
                    now = now.max(t);
                    if c.poll_timeout().is_some_and(|d| d <= now) {
                        let _ = c.handle_timeout(now);
                    }
                    if s.poll_timeout().is_some_and(|d| d <= now) {
                        let _ = s.handle_timeout(now);
                    }
                }
                None => return now,
            }
        }
    }
    now
}

fn exchange(c: &mut Conn, s: &mut Conn, to_s: &mut Lossy, to_c: &mut Lossy, now: Instant) {
    // Application data both ways over a clean link.
    to_s.loss = 0;
    to_c.loss = 0;
    to_s.dup = 0;
    to_c.dup = 0;
    to_s.reorder = 0;
    to_c.reorder = 0;
    let big: Vec<u8> = (0..5000u32).map(|i| (i % 251) as u8).collect();
    c.send(b"hello from the client").unwrap();
    c.send(&big).unwrap();
    s.send(b"hello from the server").unwrap();
    for _ in 0..4 {
        while let Some(d) = c.poll_output() {
            to_s.push(d);
        }
        while let Some(d) = s.poll_output() {
            to_c.push(d);
        }
        while let Some(d) = to_s.queue.pop_front() {
            s.handle_input(&d, now).unwrap();
        }
        while let Some(d) = to_c.queue.pop_front() {
            c.handle_input(&d, now).unwrap();
        }
    }
    let got_s: Vec<u8> = std::iter::from_fn(|| s.recv()).flatten().collect();
    let got_c: Vec<u8> = std::iter::from_fn(|| c.recv()).flatten().collect();
    let mut want = b"hello from the client".to_vec();
    want.extend_from_slice(&big);
    assert_eq!(got_s, want);
    assert_eq!(got_c, b"hello from the server");
    // close_notify both ways.
    c.close();
    while let Some(d) = c.poll_output() {
        s.handle_input(&d, now).unwrap();
    }
    assert!(s.is_closed());
    while let Some(d) = s.poll_output() {
        c.handle_input(&d, now).unwrap();
    }
    assert!(c.is_closed());
}

fn handshake(
    variant: Variant,
    suite: Suite,
    seed: u64,
    loss: u64,
    dup: u64,
    reorder: u64,
    mtu: usize,
) -> (Conn, Conn) {
    let t0 = Instant::now();
    let mut st = setup(variant, suite);
    st.client.mtu = mtu;
    st.server.mtu = mtu;
    let (mut c, mut s) = connections(st, seed, t0);
    let mut to_s = Lossy::new(seed.wrapping_mul(3), loss, dup, reorder);
    let mut to_c = Lossy::new(seed.wrapping_mul(7), loss, dup, reorder);
    let now = run(&mut c, &mut s, &mut to_s, &mut to_c, t0, 3600);
    assert!(
        c.is_established() && s.is_established(),
        "{variant:?} {suite:?} seed {seed}: client {:?} / server {:?}",
        c.error(),
        s.error()
    );
    assert_eq!(c.info().suite, Some(suite));
    assert!(c.info().extended_master_secret && s.info().extended_master_secret);
    exchange(&mut c, &mut s, &mut to_s, &mut to_c, now);
    (c, s)
}

#[test]
fn every_suite_on_both_variants() {
    for variant in [Variant::Dtls, Variant::Tls] {
        for suite in Suite::ALL {
            let (c, s) = handshake(variant, suite, 1, 0, 0, 0, 1200);
            assert_eq!(s.info().server_name.as_deref(), Some("server.seam.test"));
            if !suite.is_psk() {
                assert_eq!(c.info().peer_certificates.len(), 1);
            }
        }
    }
}

#[test]
fn dtls_survives_loss_duplication_and_reordering() {
    for suite in [Suite::PskAes128Ccm8, Suite::EcdheEcdsaAes128Ccm8] {
        for seed in 1..=12u64 {
            let (c, s) = handshake(Variant::Dtls, suite, seed, 25, 15, 20, 1200);
            let _ = (c.info().retransmissions, s.info().retransmissions);
        }
    }
}

#[test]
fn dtls_fragments_to_a_small_mtu() {
    for seed in 1..=4u64 {
        let (c, _) = handshake(
            Variant::Dtls,
            Suite::EcdheEcdsaAes128CbcSha256,
            seed,
            10,
            10,
            30,
            160,
        );
        assert!(c.is_closed());
    }
}

#[test]
fn mutual_authentication_with_client_certificates() {
    for variant in [Variant::Dtls, Variant::Tls] {
        for suite in [
            Suite::EcdheEcdsaAes128Ccm8,
            Suite::EcdheEcdsaAes128CbcSha256,
        ] {
            let t0 = Instant::now();
            let mut st = setup(variant, suite);
            st.server.require_client_certificate = true;
            let (mut c, mut s) = connections(st, 9, t0);
            let mut a = Lossy::new(1, 0, 0, 0);
            let mut b = Lossy::new(2, 0, 0, 0);
            run(&mut c, &mut s, &mut a, &mut b, t0, 60);
            assert!(
                c.is_established() && s.is_established(),
                "{:?} {:?}",
                c.error(),
                s.error()
            );
            assert_eq!(s.info().peer_certificates, fixtures().client_chain);
        }
    }
}

#[test]
fn raw_public_keys_pinned() {
    let f = fixtures();
    let server_pub = p256::SecretKey::from_slice(&f.server_key)
        .unwrap()
        .public_key();
    use p256::elliptic_curve::sec1::ToEncodedPoint;
    let server_pub = server_pub.to_encoded_point(false).as_bytes().to_vec();
    let t0 = Instant::now();
    let mut st = setup(Variant::Dtls, Suite::EcdheEcdsaAes128Ccm8);
    st.client.peer_trust = PeerTrust::PinnedKey(server_pub.clone());
    st.server.certificate = OwnCertificate::RawPublicKey(spki_for(&server_pub).unwrap());
    let (mut c, mut s) = connections(st, 5, t0);
    let mut a = Lossy::new(1, 0, 0, 0);
    let mut b = Lossy::new(2, 0, 0, 0);
    run(&mut c, &mut s, &mut a, &mut b, t0, 60);
    assert!(
        c.is_established() && s.is_established(),
        "{:?} {:?}",
        c.error(),
        s.error()
    );
    assert_eq!(c.info().peer_public_key, Some(server_pub));

    // A different pinned key is refused with bad_certificate.
    let mut st = setup(Variant::Dtls, Suite::EcdheEcdsaAes128Ccm8);
    let mut other = [0u8; 65];
    other[0] = 4;
    st.client.peer_trust = PeerTrust::PinnedKey(other.to_vec());
    let (mut c, mut s) = connections(st, 5, t0);
    run(&mut c, &mut s, &mut a, &mut b, t0, 60);
    assert_eq!(
        c.error().and_then(|e| e.alert()),
        Some(AlertDescription::BAD_CERTIFICATE)
    );
}

#[test]
fn wrong_psk_fails_the_finished_check() {
    for variant in [Variant::Dtls, Variant::Tls] {
        let t0 = Instant::now();
        let mut st = setup(variant, Suite::PskAes128Ccm8);
        st.client_creds.psk = Some(MemoryTa::key("wrong-psk", PSK_SUID));
        let (mut c, mut s) = connections(st, 3, t0);
        let mut a = Lossy::new(1, 0, 0, 0);
        let mut b = Lossy::new(2, 0, 0, 0);
        run(&mut c, &mut s, &mut a, &mut b, t0, 3600);
        // The server cannot authenticate the client's Finished: in DTLS the
        // record is dropped as undecryptable (RFC 6347 §4.1.2.7) and the
        // client times out; in TLS it is bad_record_mac.
        assert!(!s.is_established() && !c.is_established());
        if variant == Variant::Tls {
            let e = s.error().unwrap();
            assert_eq!(e.alert(), Some(AlertDescription::BAD_RECORD_MAC), "{e}");
            assert_eq!(
                c.error().unwrap().cause,
                Cause::ReceivedAlert(AlertDescription::BAD_RECORD_MAC)
            );
        } else {
            let timed_out = [c.error(), s.error()]
                .into_iter()
                .flatten()
                .any(|e| e.cause == Cause::Timeout);
            assert!(timed_out, "{:?} {:?}", c.error(), s.error());
        }
    }
}

#[test]
fn unknown_psk_identity_is_an_alert() {
    let t0 = Instant::now();
    let mut st = setup(Variant::Dtls, Suite::PskAes128Ccm8);
    st.client.psk_identity = Some(b"somebody else".to_vec());
    let (mut c, mut s) = connections(st, 3, t0);
    let mut a = Lossy::new(1, 0, 0, 0);
    let mut b = Lossy::new(2, 0, 0, 0);
    run(&mut c, &mut s, &mut a, &mut b, t0, 60);
    let e = s.error().unwrap();
    assert_eq!(e.alert(), Some(AlertDescription::UNKNOWN_PSK_IDENTITY));
    assert_eq!(e.step, Step::ClientKeyExchange);
    assert_eq!(
        c.error().unwrap().cause,
        Cause::ReceivedAlert(AlertDescription::UNKNOWN_PSK_IDENTITY)
    );
}

#[test]
fn untrusted_server_certificate_is_unknown_ca() {
    let t0 = Instant::now();
    let mut st = setup(Variant::Tls, Suite::EcdheEcdsaAes128CbcSha256);
    // Trust the server's own leaf as if it were a CA: it did not sign itself.
    st.client.peer_trust = PeerTrust::CaCertificates(fixtures().client_chain);
    let (mut c, mut s) = connections(st, 3, t0);
    let mut a = Lossy::new(1, 0, 0, 0);
    let mut b = Lossy::new(2, 0, 0, 0);
    run(&mut c, &mut s, &mut a, &mut b, t0, 60);
    let e = c.error().unwrap();
    assert_eq!(
        (e.step, e.alert()),
        (Step::Certificate, Some(AlertDescription::UNKNOWN_CA))
    );

    // And a name the certificate does not carry.
    let mut st = setup(Variant::Tls, Suite::EcdheEcdsaAes128CbcSha256);
    st.client.server_names = vec!["other.seam.test".into()];
    let (mut c, mut s) = connections(st, 3, t0);
    run(&mut c, &mut s, &mut a, &mut b, t0, 60);
    assert_eq!(
        c.error().unwrap().alert(),
        Some(AlertDescription::BAD_CERTIFICATE)
    );
}

#[test]
fn dtls_gives_up_after_the_last_retransmission() {
    let t0 = Instant::now();
    let mut st = setup(Variant::Dtls, Suite::PskAes128Ccm8);
    st.client.retransmit = RetransmitPolicy {
        initial: Duration::from_secs(1),
        max: Duration::from_secs(8),
        max_retransmissions: 3,
    };
    let (mut c, _s) = connections(st, 1, t0);
    let mut sent = 0;
    let mut now = t0;
    while let Some(deadline) = c.poll_timeout() {
        while c.poll_output().is_some() {
            sent += 1;
        }
        now = deadline;
        if c.handle_timeout(now).is_err() {
            break;
        }
    }
    assert_eq!(sent, 4, "the ClientHello and three retransmissions");
    assert_eq!(c.error().unwrap().cause, Cause::Timeout);
    assert_eq!(now - t0, Duration::from_secs(1 + 2 + 4 + 8));
}

#[test]
fn replayed_application_records_are_dropped() {
    let (mut c, mut s) = handshake(Variant::Dtls, Suite::PskAes128Ccm8, 2, 0, 0, 0, 1200);
    let _ = (&mut c, &mut s);
    let t0 = Instant::now();
    let st = setup(Variant::Dtls, Suite::PskAes128Ccm8);
    let (mut c, mut s) = connections(st, 2, t0);
    let mut a = Lossy::new(1, 0, 0, 0);
    let mut b = Lossy::new(2, 0, 0, 0);
    run(&mut c, &mut s, &mut a, &mut b, t0, 60);
    c.send(b"once").unwrap();
    let d = c.poll_output().unwrap();
    s.handle_input(&d, t0).unwrap();
    s.handle_input(&d, t0).unwrap();
    assert_eq!(s.recv().unwrap(), b"once");
    assert!(s.recv().is_none(), "the replay was delivered");
    // A tampered record is dropped silently in DTLS.
    c.send(b"twice").unwrap();
    let mut d = c.poll_output().unwrap();
    let n = d.len();
    d[n - 1] ^= 1;
    s.handle_input(&d, t0).unwrap();
    assert!(s.recv().is_none());
}

#[test]
fn garbage_never_panics_and_tls_garbage_is_an_alert() {
    let mut rng = Seeded(77);
    for variant in [Variant::Dtls, Variant::Tls] {
        for round in 0..300 {
            let t0 = Instant::now();
            let st = setup(variant, Suite::ALL[round % 4]);
            let (mut c, mut s) = connections(st, round as u64, t0);
            // Let the handshake go some steps, then inject noise.
            let steps = round % 5;
            for _ in 0..steps {
                while let Some(d) = c.poll_output() {
                    let _ = s.handle_input(&d, t0);
                }
                while let Some(d) = s.poll_output() {
                    let _ = c.handle_input(&d, t0);
                }
            }
            let len = (rng.next() % 300) as usize;
            let mut junk = vec![0u8; len];
            rng.fill_bytes(&mut junk);
            // Often a plausible record header, to reach the parsers behind it.
            if round % 2 == 0 && len > 13 {
                junk[0] = 22;
                if variant == Variant::Dtls {
                    junk[1..3].copy_from_slice(&[0xFE, 0xFD]);
                    junk[3..5].copy_from_slice(&[0, 0]);
                    junk[11..13].copy_from_slice(&((len - 13) as u16).to_be_bytes());
                } else {
                    junk[1..3].copy_from_slice(&[3, 3]);
                    junk[3..5].copy_from_slice(&((len - 5) as u16).to_be_bytes());
                }
            }
            let _ = s.handle_input(&junk, t0);
            let _ = c.handle_input(&junk, t0);
            while s.poll_output().is_some() {}
            while c.poll_output().is_some() {}
        }
    }
}

/// Whole handshakes, as the `dtls_record` fuzz target reads them: each
/// replays to an established (then closed) connection, so the fuzzer starts
/// deep. With `SEAM_WRITE_FUZZ_SEEDS=<dir>` they are also written there
/// (the corpus in `fuzz/corpus/dtls_record` was made so).
#[test]
fn fuzz_seeds_replay_to_established() {
    let f = fixtures();
    // The peer's TA: the fuzzed side's PSK, and the server certificate's key.
    let peer_ta = MemoryTa::new(
        &Credentials {
            psks: vec![("psk".into(), fuzzing::PSK.to_vec())],
            signing_keys: vec![("server".into(), f.server_key)],
        },
        5,
    );
    let out_dir = std::env::var_os("SEAM_WRITE_FUZZ_SEEDS");
    for mode in [0u8, 1, 2, 3, 6] {
        for suite in Suite::ALL {
            let t0 = Instant::now();
            let mut fuzzed = fuzzing::connection(mode, fuzzing::config(mode), t0);
            let peer_role = match fuzzing::role(mode) {
                Role::Client => Role::Server,
                Role::Server => Role::Client,
            };
            let mut pc = Config::new(fuzzing::variant(mode), vec![suite]);
            pc.psk_identity = Some(fuzzing::IDENTITY.to_vec());
            if peer_role == Role::Server {
                pc.certificate = OwnCertificate::X509(f.server_chain.clone());
            } else {
                let public = fuzzing::signing_public_key();
                pc.peer_trust = PeerTrust::PinnedKey(public.to_vec());
            }
            let creds = memory_ta::ta_credentials(
                Some("psk"),
                &[(fuzzing::IDENTITY, "psk")],
                Some("server"),
            );
            let mut peer = Connection::new(
                peer_role,
                pc,
                SeamSecrets::new(peer_ta.fork(5).client(), creds),
                Box::new(Seeded(6)),
                t0,
            );
            let mut input = vec![mode];
            let step = |fuzzed: &mut Conn, peer: &mut Conn, input: &mut Vec<u8>| {
                while let Some(d) = fuzzed.poll_output() {
                    let _ = peer.handle_input(&d, t0);
                }
                while let Some(d) = peer.poll_output() {
                    fuzzing::push_piece(input, &d);
                    let _ = fuzzed.handle_input(&d, t0);
                }
            };
            for _ in 0..8 {
                step(&mut fuzzed, &mut peer, &mut input);
            }
            assert!(
                fuzzed.is_established() && peer.is_established(),
                "mode {mode} {suite}: {:?} / {:?}",
                fuzzed.error(),
                peer.error()
            );
            peer.send(b"seed data").unwrap();
            peer.close();
            step(&mut fuzzed, &mut peer, &mut input);
            assert!(fuzzed.is_closed() && fuzzed.error().is_none());
            // The replay reaches the same place.
            let replayed = fuzzing::run(&input).unwrap();
            assert!(
                replayed.is_closed()
                    && replayed.error().is_none()
                    && replayed.info().suite == Some(suite),
                "mode {mode} {suite}: the seed does not replay: {:?}",
                replayed.error()
            );
            if let Some(dir) = &out_dir {
                let path =
                    std::path::Path::new(dir).join(format!("seed-mode{mode}-{:04x}", suite.id()));
                std::fs::write(path, &input).unwrap();
            }
        }
    }
}

#[test]
fn a_configuration_that_authenticates_nobody_is_refused_at_construction() {
    let t0 = Instant::now();
    let refused = |config: Config, role: Role| {
        let ta = ta().fork(9);
        let creds = memory_ta::ta_credentials(Some("psk"), &[(IDENTITY, "psk")], Some("server"));
        let mut c = Connection::new(
            role,
            config,
            SeamSecrets::new(ta.client(), creds),
            Box::new(Seeded(9)),
            t0,
        );
        assert!(
            c.poll_output().is_none(),
            "a refused configuration sends nothing"
        );
        let e = c.error().cloned().expect("refused");
        assert!(matches!(e.cause, Cause::Config(_)), "{e}");
        e.to_string()
    };
    // A client with ECDHE suites and neither a CA nor a pinned key.
    let mut client = Config::new(Variant::Tls, Suite::ALL.to_vec()).with_time(fixed_time());
    client.psk_identity = Some(IDENTITY.to_vec());
    let why = refused(client.clone(), Role::Client);
    assert!(why.contains("trust anchor or a pinned key"), "{why}");
    // CAs without a clock to check them against.
    client.peer_trust = PeerTrust::CaCertificates(vec![fixtures().ca]);
    client.time = None;
    assert!(refused(client.clone(), Role::Client).contains("time provider"));
    // A server requiring client certificates it cannot check.
    let mut server = Config::new(Variant::Dtls, Suite::ALL.to_vec());
    server.require_client_certificate = true;
    assert!(refused(server, Role::Server).contains("client certificate"));

    // What is fine: a PSK-only client with no trust, and by name the
    // unauthenticated test mode.
    let mut psk_only = Config::new(Variant::Tls, vec![Suite::PskAes128CbcSha256]);
    psk_only.psk_identity = Some(IDENTITY.to_vec());
    assert!(psk_only.check(Role::Client).is_ok());
    let mut testing = Config::new(Variant::Tls, Suite::ALL.to_vec());
    testing.psk_identity = Some(IDENTITY.to_vec());
    testing.peer_trust = PeerTrust::UnauthenticatedForTesting;
    assert!(testing.check(Role::Client).is_ok());
}

/// A seam TLS server (the `io` loop over a real loopback socket) whose
/// input is `input`, and a hand-driven seam client on the other end that
/// handshakes, then reads until it has the server's close_notify (if
/// `wait_for_close`) and drops the socket without answering. Returns the
/// server loop's result.
fn tls_server_against_a_peer_that_hangs_up(
    input: Box<dyn std::io::Read + Send>,
    wait_for_close: bool,
) -> Result<(), DtlsError> {
    use seam_dtls::io::{copy_session, drive_handshake, TcpLink};
    use std::io::{Read as _, Write as _};
    use std::net::{TcpListener, TcpStream};

    let st = setup(Variant::Tls, Suite::PskAes128CbcSha256);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let ta = ta().fork(11);
    let server_secrets = SeamSecrets::new(ta.client(), st.server_creds);
    let server_config = st.server;
    let server = std::thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let mut link = TcpLink::new(stream);
        let mut conn = Connection::server(server_config, server_secrets, Instant::now());
        drive_handshake(&mut conn, &mut link, Duration::from_secs(20))?;
        let mut out = Vec::new();
        copy_session(
            &mut conn,
            &mut link,
            input,
            &mut out,
            Duration::from_secs(10),
        )
    });

    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let mut c = Connection::client(
        st.client,
        SeamSecrets::new(ta.client(), st.client_creds),
        Instant::now(),
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut buf = vec![0u8; 65536];
    while Instant::now() < deadline {
        while let Some(d) = c.poll_output() {
            if c.is_closed() {
                break; // our answer to close_notify: never sent
            }
            stream.write_all(&d).unwrap();
        }
        let done = if wait_for_close {
            c.is_closed()
        } else {
            c.is_established()
        };
        if done {
            break;
        }
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => c.handle_input(&buf[..n], Instant::now()).unwrap(),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {}
            Err(e) => panic!("client socket: {e}"),
        }
    }
    assert!(c.is_established() || c.is_closed(), "{:?}", c.error());
    if wait_for_close {
        assert!(c.is_closed(), "the server's close_notify arrived");
        assert!(c.error().is_none());
    }
    drop(stream); // hang up, answering nothing
    server.join().unwrap()
}

#[test]
fn a_close_we_started_is_clean_when_the_peer_hangs_up_without_answering() {
    // The server's input ends at once: it sends close_notify; the peer reads
    // it and closes the TCP connection without a close_notify of its own.
    let result = tls_server_against_a_peer_that_hangs_up(Box::new(std::io::empty()), true);
    assert_eq!(result, Ok(()));
}

#[test]
fn a_hang_up_nobody_announced_is_still_an_error() {
    // The server's input never ends; the peer hangs up after the handshake
    // without any close_notify: that is a truncation, not a close.
    struct Never(std::sync::mpsc::Receiver<()>);
    impl std::io::Read for Never {
        fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
            let _ = self.0.recv();
            Ok(0)
        }
    }
    let (keep, rx) = std::sync::mpsc::channel();
    let result = tls_server_against_a_peer_that_hangs_up(Box::new(Never(rx)), false);
    drop(keep);
    let e = result.unwrap_err();
    assert_eq!(e.step, Step::Close, "{e}");
    assert!(e.to_string().contains("without close_notify"), "{e}");
}
