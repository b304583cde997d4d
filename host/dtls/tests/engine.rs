//! Engine tests: seam client against seam server in memory, with the
//! handshake secrets in the Secure Environment (seam-core on an in-memory
//! node, through `seam::dtls::SeamSecrets`), over a deterministic lossy link
//! (loss, duplication, reordering from a seeded generator) and a virtual
//! clock (`seam_tests::testing`).

use std::time::{Duration, Instant};

use p256::pkcs8::DecodePrivateKey;

use std::sync::OnceLock;

use seam::dtls::{SeamSecrets, TaCredentials};
use seam::Client;
use seam_dtls::cert::{pem_certificates, spki_for};
use seam_dtls::*;
use seam_tests::dtls_fuzzing as fuzzing;
use seam_tests::memory_ta::{self, Credentials, MemoryTa, PSK_SUID};
use seam_tests::testing::{pump, LinkStats, LossyLink, Pumped, Seeded};

const PSK: &[u8] = b"0123456789abcdef";
const IDENTITY: &[u8] = b"kpsa-1@m2m.example.org";

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
        Box::new(Seeded::new(seed ^ 0xC2)),
        t0,
    );
    let sv = Connection::new(
        Role::Server,
        s.server,
        SeamSecrets::new(ta.client(), s.server_creds),
        Box::new(Seeded::new(seed ^ 0x52)),
        t0,
    );
    (c, sv)
}

/// Runs both ends until both are established, one fails, or `limit` virtual
/// seconds pass.
fn run(
    c: &mut Conn,
    s: &mut Conn,
    to_s: &mut LossyLink,
    to_c: &mut LossyLink,
    t0: Instant,
    limit: u64,
) -> (Pumped, Instant) {
    pump(c, s, to_s, to_c, t0, Duration::from_secs(limit))
}

fn exchange(c: &mut Conn, s: &mut Conn, to_s: &mut LossyLink, to_c: &mut LossyLink, now: Instant) {
    // Application data both ways over a clean link.
    to_s.make_perfect();
    to_c.make_perfect();
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
        while let Some(d) = to_s.pop() {
            s.handle_input(&d, now).unwrap();
        }
        while let Some(d) = to_c.pop() {
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

/// A handshake over links that lose, duplicate and reorder with these
/// percentages, then data both ways and a close over a clean link; returns
/// both ends and what the links did during the handshake.
fn handshake(
    variant: Variant,
    suite: Suite,
    seed: u64,
    loss: u64,
    dup: u64,
    reorder: u64,
    mtu: usize,
) -> (Conn, Conn, LinkStats) {
    let t0 = Instant::now();
    let mut st = setup(variant, suite);
    st.client.mtu = mtu;
    st.server.mtu = mtu;
    let (mut c, mut s) = connections(st, seed, t0);
    let mut to_s = LossyLink::new(seed.wrapping_mul(3), loss, dup, reorder);
    let mut to_c = LossyLink::new(seed.wrapping_mul(7), loss, dup, reorder);
    let (how, now) = run(&mut c, &mut s, &mut to_s, &mut to_c, t0, 3600);
    let stats = to_s.stats() + to_c.stats();
    assert!(
        how == Pumped::Established,
        "{variant:?} {suite:?} seed {seed}: client {:?} / server {:?}",
        c.error(),
        s.error()
    );
    assert_eq!(c.info().suite, Some(suite));
    assert!(c.info().extended_master_secret && s.info().extended_master_secret);
    // Two TA invocations per handshake on each side, whatever the link did:
    // retransmissions never call the TA.
    assert_eq!(
        (c.info().invocations, s.info().invocations),
        (2, 2),
        "{variant:?} {suite:?} seed {seed}"
    );
    exchange(&mut c, &mut s, &mut to_s, &mut to_c, now);
    (c, s, stats)
}

#[test]
fn every_suite_on_both_variants() {
    for variant in [Variant::Dtls, Variant::Tls] {
        for suite in Suite::ALL {
            let (c, s, _) = handshake(variant, suite, 1, 0, 0, 0, 1200);
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
        // The TA invocations of a handshake over a perfect link: recovering
        // from loss must not add any (the TA's steps are one-shot: a second
        // call would wipe the session).
        let (c, s, _) = handshake(Variant::Dtls, suite, 1, 0, 0, 0, 1200);
        let invocations = (c.info().invocations, s.info().invocations);
        let mut link = LinkStats::default();
        let mut retransmissions = 0;
        for seed in 1..=12u64 {
            let (c, s, stats) = handshake(Variant::Dtls, suite, seed, 25, 15, 20, 1200);
            link = link + stats;
            retransmissions += c.info().retransmissions + s.info().retransmissions;
            assert_eq!(
                (c.info().invocations, s.info().invocations),
                invocations,
                "{suite} seed {seed}: TA invocations (client, server)"
            );
        }
        // The link did misbehave in every way, and the ends recovered by
        // retransmitting.
        assert!(
            link.dropped > 0 && link.duplicated > 0 && link.reordered > 0,
            "{suite}: {link:?}"
        );
        assert!(retransmissions > 0, "{suite}: no retransmission");
        eprintln!("{suite}: 12 handshakes, {link:?}, {retransmissions} retransmitted flights");
    }
}

#[test]
fn dtls_fragments_to_a_small_mtu() {
    // The certificate flight does not fit in 160 bytes: at the usual MTU it
    // goes in larger datagrams.
    let (_, _, unfragmented) = handshake(
        Variant::Dtls,
        Suite::EcdheEcdsaAes128CbcSha256,
        1,
        0,
        0,
        0,
        1200,
    );
    assert!(unfragmented.largest > 160, "{unfragmented:?}");
    for seed in 1..=4u64 {
        let (c, _, stats) = handshake(
            Variant::Dtls,
            Suite::EcdheEcdsaAes128CbcSha256,
            seed,
            10,
            10,
            30,
            160,
        );
        assert!(c.is_closed());
        assert!(stats.largest <= 160, "seed {seed}: {stats:?}");
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
            let mut a = LossyLink::perfect();
            let mut b = LossyLink::perfect();
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
    let mut a = LossyLink::perfect();
    let mut b = LossyLink::perfect();
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
        let mut a = LossyLink::perfect();
        let mut b = LossyLink::perfect();
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
    let mut a = LossyLink::perfect();
    let mut b = LossyLink::perfect();
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
    let mut a = LossyLink::perfect();
    let mut b = LossyLink::perfect();
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
    let t0 = Instant::now();
    let st = setup(Variant::Dtls, Suite::PskAes128Ccm8);
    let (mut c, mut s) = connections(st, 2, t0);
    let mut a = LossyLink::perfect();
    let mut b = LossyLink::perfect();
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

/// The content types of the records in `bytes` (one DTLS datagram, or a
/// TLS stream chunk holding whole records).
fn record_types(variant: Variant, mut bytes: &[u8]) -> Vec<u8> {
    let (header, len_at) = match variant {
        Variant::Dtls => (13, 11),
        Variant::Tls => (5, 3),
    };
    let mut types = Vec::new();
    while bytes.len() >= header {
        types.push(bytes[0]);
        let len = u16::from_be_bytes([bytes[len_at], bytes[len_at + 1]]) as usize;
        bytes = &bytes[(header + len).min(bytes.len())..];
    }
    types
}

/// RFC 5246 §6.2.1.
const ALERT: u8 = 21;

/// Whether TLS bytes hold a verdict: a header announcing more than a record
/// may hold, or a whole record that is not an alert (a warning may be
/// ignored) and, if a handshake record, holds a whole message (one may span
/// records). Otherwise the engine rightly waits for more.
fn tls_judgeable(junk: &[u8]) -> bool {
    if junk.len() < 5 {
        return false;
    }
    let len = u16::from_be_bytes([junk[3], junk[4]]) as usize;
    if len > (1 << 14) + 2048 {
        return true;
    }
    if 5 + len > junk.len() {
        return false;
    }
    match junk[0] {
        ALERT => false,
        22 => len >= 4 && 4 + u32::from_be_bytes([0, junk[6], junk[7], junk[8]]) as usize <= len,
        _ => true,
    }
}

/// Noise into connections at every point of a handshake, for every suite:
/// nothing panics, and nothing fails silently. In TLS a record that cannot
/// be what it claims is a fatal error that the engine reports and answers
/// with an alert (RFC 5246 §7.2.2), unless the noise was itself a fatal
/// alert, which ends the connection without an answer. In DTLS (RFC 6347
/// §4.1.2.7) invalid records SHOULD be dropped and the connection go on; an
/// implementation that alerts instead MUST send a fatal alert: each noise
/// datagram is one or the other, and records the engine cannot even frame
/// are dropped.
#[test]
fn garbage_never_panics_and_never_fails_silently() {
    let mut rng = Seeded::new(77);
    let mut alerts = 0;
    let (mut dtls_dropped, mut dtls_alerts) = (0, 0);
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
            assert!(c.error().is_none() && s.error().is_none(), "round {round}");
            let len = (rng.next_u64() % 300) as usize;
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
                    // One whole handshake message of a random type.
                    junk[6..9].copy_from_slice(&((len - 9) as u32).to_be_bytes()[1..]);
                }
            }
            for (side, conn) in [("server", &mut s), ("client", &mut c)] {
                let _ = conn.handle_input(&junk, t0);
                let sent: Vec<u8> = std::iter::from_fn(|| conn.poll_output())
                    .flat_map(|d| record_types(variant, &d))
                    .collect();
                let what = format!("{variant:?} round {round}, {side}, {len} bytes of noise");
                match variant {
                    Variant::Dtls => match conn.error() {
                        None => {
                            assert!(!sent.contains(&ALERT), "{what}: an alert, yet no error");
                            dtls_dropped += 1;
                        }
                        Some(e) => {
                            assert!(e.alert().is_some(), "{what}: failed without an alert: {e}");
                            assert!(sent.contains(&ALERT), "{what}: {e}, but no alert sent");
                            assert!(
                                round % 2 == 0,
                                "{what}: noise without a record header was not dropped: {e}"
                            );
                            dtls_alerts += 1;
                        }
                    },
                    Variant::Tls if tls_judgeable(&junk) => {
                        let e = conn.error().unwrap_or_else(|| {
                            panic!("{what}: accepted as if valid: {:02x?}", &junk[..9])
                        });
                        if !matches!(e.cause, Cause::ReceivedAlert(_)) {
                            assert!(e.alert().is_some(), "{what}: {e}");
                            assert!(sent.contains(&ALERT), "{what}: {e}, but no alert sent");
                            alerts += 1;
                        }
                    }
                    Variant::Tls => {}
                }
            }
        }
    }
    // Most TLS rounds reach a verdict; most DTLS noise is dropped.
    assert!(alerts > 300, "only {alerts} TLS alerts in 600 injections");
    assert!(
        dtls_dropped > 300,
        "only {dtls_dropped} of 600 DTLS injections dropped"
    );
    eprintln!(
        "TLS: {alerts} fatal alerts; DTLS: {dtls_dropped} dropped, {dtls_alerts} fatal alerts"
    );
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
                Box::new(Seeded::new(6)),
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
            Box::new(Seeded::new(9)),
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
