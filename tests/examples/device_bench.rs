//! `cargo optee bench`: seam on the real TA against anchors measured in the
//! same run (OpenSSL's client against the same `openssl s_server`, OP-TEE's
//! PKCS#11 TA, a bare TA invocation): see `device_bench/anchored.rs` for
//! the cases and exactly what differs between each pair. Prints medians
//! with min-max, ratios and TA invocations per operation (counted by a
//! transport wrapper); `--json FILE` writes one object per case.
//!
//! Then, as references, the earlier in-process comparisons: one full TLS
//! client handshake (ECDHE-ECDSA P-256, mutual authentication, TLS 1.2 and
//! 1.3) with the client's crypto in the TA (`seam_rustls`) against rustls
//! with ring in-process, the server rustls + ring in memory; and a DTLS 1.2
//! PSK CCM_8 handshake of seam's engine with the TA against its software
//! secrets. Plain timing loops (no criterion: its output is heavy under
//! emulation).
//!
//! `device_bench [N] [--json FILE]` (in the guest: `cargo optee bench`).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::version::{TLS12, TLS13};
use rustls::{ClientConfig, RootCertStore, ServerConfig};
use seam::proto::handshake::Role;
use seam::proto::Ops;
use seam::Client;
use seam_rustls::{client_config, TaTls};
use seam_tests::shared::Counting;
use seam_tests::{Backend, Device, Who};

#[path = "device_bench/anchored.rs"]
mod anchored;
#[path = "../tests/common/mod.rs"]
mod common;
use common::TaPublicKey;
use seam_tests::testing::rustls_handshake as handshake_in_memory;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// A client of this process's user on the current backend, counting the TA
/// invocations through it.
fn counting_client(device: &Device, calls: Arc<AtomicU64>) -> Client {
    match device.backend() {
        Backend::Simulator => {
            let caller = seam_core::Caller::Client(Who::Me.id());
            let sim =
                seam::Simulator::open_as(device.store_dir().unwrap(), caller).expect("simulator");
            Client::new(Counting { inner: sim, calls })
        }
        Backend::Tee => tee_counting(calls),
    }
}

#[cfg(feature = "tee")]
fn tee_counting(calls: Arc<AtomicU64>) -> Client {
    let tee = seam::transport::Tee::open().expect("opening a TA session");
    Client::new(Counting { inner: tee, calls })
}

#[cfg(not(feature = "tee"))]
fn tee_counting(_calls: Arc<AtomicU64>) -> Client {
    panic!("SEAM_BACKEND=tee needs seam-tests built with --features tee")
}

fn print_row(name: &str, ta_ms: Vec<f64>, soft_ms: Vec<f64>, ta_calls: &[u64]) {
    let (lo, hi) = (
        ta_calls.iter().min().copied().unwrap_or(0),
        ta_calls.iter().max().copied().unwrap_or(0),
    );
    let invocations = if lo == hi {
        lo.to_string()
    } else {
        format!("{lo}-{hi}")
    };
    let (ta, soft) = (median(ta_ms), median(soft_ms));
    println!(
        "{:<44} {:>10.2} {:>11.2} {:>7.2} {:>9}",
        name,
        ta,
        soft,
        ta / soft,
        invocations
    );
}

/// The DTLS PSK handshake of seam's engine with the TA's handshake sessions,
/// against the same engine over seam-core in this process (an in-memory
/// node: the same key schedule without the TEE's costs). The server side is
/// in-process in both.
fn dtls_psk(device: &Device, stakeholder: &seam_tests::Stakeholder<'_>, rounds: usize) {
    use seam::dtls::{Config, Connection, SeamSecrets, Suite, TaCredentials, Variant};
    use seam::proto::ObjectKind;
    use seam_tests::memory_ta::{self, Credentials, MemoryTa};
    use seam_tests::testing::handshake;

    const PSK: [u8; 16] = *b"oneM2M-bench-PSK";
    const IDENTITY: &[u8] = b"kpsa-bench@m2m.seam.test";
    device
        .client()
        .import_wrapped(
            &stakeholder.admin,
            &stakeholder.se,
            // Not "psk": the anchored DTLS case imported that one into
            // this SE already.
            "psk-ref",
            seam_tests::suid(12),
            ObjectKind::Secret,
            &PSK,
        )
        .expect("importing the PSK");
    stakeholder.grant("psk-ref", Who::Me, Ops::HANDSHAKE, 12);
    let psk = stakeholder.key("psk-ref", 12);
    let calls = Arc::new(AtomicU64::new(0));
    let mut client = counting_client(device, calls.clone());

    let in_process = MemoryTa::new(
        &Credentials {
            psks: vec![("psk".into(), PSK.to_vec())],
            ..Default::default()
        },
        1,
    );
    let suite = Suite::PskAes128Ccm8;
    let config = || {
        let mut c = Config::new(Variant::Dtls, vec![suite]);
        c.psk_identity = Some(IDENTITY.to_vec());
        c
    };
    let server = || {
        Connection::server(
            Config::new(Variant::Dtls, vec![suite]),
            SeamSecrets::new(
                in_process.client(),
                memory_ta::ta_credentials(None, &[(IDENTITY, "psk")], None),
            ),
            Instant::now(),
        )
    };
    let ta_run = |client: &mut Client| {
        let secrets = SeamSecrets::new(
            client,
            TaCredentials {
                psk: Some(psk.clone()),
                ..Default::default()
            },
        );
        let mut c = Connection::client(config(), secrets, Instant::now());
        let mut s = server();
        handshake(&mut c, &mut s, Instant::now());
        c.info().invocations
    };
    let soft_run = || {
        let secrets = SeamSecrets::new(
            in_process.client(),
            memory_ta::ta_credentials(Some("psk"), &[], None),
        );
        let mut c = Connection::client(config(), secrets, Instant::now());
        let mut s = server();
        handshake(&mut c, &mut s, Instant::now());
    };

    ta_run(&mut client);
    soft_run();
    let (mut ta_ms, mut soft_ms, mut ta_calls) = (Vec::new(), Vec::new(), Vec::new());
    let mut engine_calls = 0;
    for _ in 0..rounds {
        let before = calls.load(Ordering::SeqCst);
        let t = Instant::now();
        engine_calls = ta_run(&mut client);
        ta_ms.push(t.elapsed().as_secs_f64() * 1e3);
        ta_calls.push(calls.load(Ordering::SeqCst) - before);
        let t = Instant::now();
        soft_run();
        soft_ms.push(t.elapsed().as_secs_f64() * 1e3);
    }
    print_row(
        "DTLS 1.2 PSK AES-128-CCM_8 (seam engine)",
        ta_ms,
        soft_ms,
        &ta_calls,
    );
    println!(
        "  (DTLS: {engine_calls} handshake steps by the engine's count, plus the \
         session's Close when its secrets are dropped)"
    );
}

/// TA invocations per handshake of seam's engine, counted by the transport,
/// for every suite, both variants and both roles (the client and the
/// server each through their own TA connection; the TA key as a raw
/// public key for the ECDHE suites). Counted until both sides are
/// established: dropping the connection then closes its session (one more).
fn engine_invocations(device: &Device, stakeholder: &seam_tests::Stakeholder<'_>, public: &[u8]) {
    use seam::dtls::{
        Config, Connection, OwnCertificate, PeerTrust, SeamSecrets, Suite, TaCredentials, Variant,
    };
    const IDENTITY: &[u8] = b"kpsa-count@m2m.seam.test";
    device
        .client()
        .import_wrapped(
            &stakeholder.admin,
            &stakeholder.se,
            "count-psk",
            seam_tests::suid(12),
            seam::proto::ObjectKind::Secret,
            b"oneM2M-count-PSK",
        )
        .expect("importing the PSK");
    stakeholder.grant("count-psk", Who::Me, Ops::HANDSHAKE, 12);
    let psk = stakeholder.key("count-psk", 12);
    let cert = stakeholder.key("cert", 42);
    let spki = seam_dtls::cert::spki_for(public).expect("the TA key's SPKI");
    println!("TA invocations per handshake, seam engine (counted by the transport):");
    for variant in [Variant::Dtls, Variant::Tls] {
        for suite in Suite::ALL {
            let (client_calls, server_calls) =
                (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
            let mut cc = Config::new(variant, vec![suite]);
            cc.psk_identity = Some(IDENTITY.to_vec());
            cc.peer_trust = PeerTrust::PinnedKey(public.to_vec());
            let mut sc = Config::new(variant, vec![suite]);
            sc.certificate = OwnCertificate::RawPublicKey(spki.clone());
            let client = SeamSecrets::new(
                counting_client(device, client_calls.clone()),
                TaCredentials {
                    psk: Some(psk.clone()),
                    signing_key: Some(cert.clone()),
                    ..Default::default()
                },
            );
            let server = SeamSecrets::new(
                counting_client(device, server_calls.clone()),
                TaCredentials {
                    psk_by_identity: vec![(IDENTITY.to_vec(), psk.clone())],
                    signing_key: Some(cert.clone()),
                    ..Default::default()
                },
            );
            let mut c = Connection::client(cc, client, Instant::now());
            let mut s = Connection::server(sc, server, Instant::now());
            for _ in 0..64 {
                while let Some(d) = c.poll_output() {
                    let _ = s.handle_input(&d, Instant::now());
                }
                while let Some(d) = s.poll_output() {
                    let _ = c.handle_input(&d, Instant::now());
                }
                if (c.is_established() && s.is_established())
                    || c.error().is_some()
                    || s.error().is_some()
                {
                    break;
                }
            }
            assert!(
                c.is_established() && s.is_established(),
                "{variant:?} {suite}: {:?} / {:?}",
                c.error(),
                s.error()
            );
            println!(
                "  {:<5} {:<48} client {}  server {}",
                format!("{variant:?}"),
                suite.to_string(),
                client_calls.load(Ordering::SeqCst),
                server_calls.load(Ordering::SeqCst)
            );
        }
    }
}

fn main() {
    let mut rounds = 10usize;
    let mut json: Option<String> = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        if a == "--json" {
            json = Some(args.next().expect("--json needs a file"));
        } else {
            rounds = a
                .parse::<usize>()
                .expect("usage: device_bench [N] [--json FILE]")
                .max(1);
        }
    }
    let device = Device::new();
    let backend = match device.backend() {
        Backend::Simulator => "simulator",
        Backend::Tee => "OP-TEE",
    };
    let stakeholder = device.stakeholder("bench");
    let ta_public = stakeholder.generate("cert", 42);
    // `sign` for the plain signature case; rustls needs only `handshake`.
    stakeholder.grant("cert", Who::Me, Ops::HANDSHAKE.union(Ops::SIGN), 42);
    engine_invocations(&device, &stakeholder, ta_public.as_bytes());

    // Against anchors in this run: OpenSSL, the PKCS#11 TA, a bare call.
    println!("device_bench: {backend}, {rounds} interleaved rounds per case, medians (min-max)");
    let seam_calls = Arc::new(AtomicU64::new(0));
    let mut seam = anchored::Seam {
        client: counting_client(&device, seam_calls.clone()),
        calls: seam_calls,
        stakeholder: &stakeholder,
        cert_key: stakeholder.key("cert", 42),
        cert_public: ta_public,
    };
    let pki = anchored::Pki::new(&std::env::temp_dir().join("seam-bench-pki"), &ta_public);
    let tls13_calls = Arc::new(AtomicU64::new(0));
    let tls13 = anchored::ta_tls(
        counting_client(&device, tls13_calls.clone()),
        stakeholder.key("cert", 42),
    );
    anchored::Case::print_header();
    let mut cases = Vec::new();
    let mut report = |c: anchored::Case| {
        c.print();
        cases.push(c);
    };
    report(anchored::dtls_psk(&device, &mut seam, rounds));
    report(anchored::tls12_ecdhe(&mut seam, &pki, rounds));
    report(anchored::tls13(&tls13, &tls13_calls, &pki, rounds));
    report(anchored::sign(&mut seam, rounds));
    for c in anchored::floor(&device, &mut seam, rounds) {
        report(c);
    }
    if let Some(path) = json {
        let body: Vec<String> = cases.iter().map(|c| format!("  {}", c.json())).collect();
        std::fs::write(&path, format!("[\n{}\n]\n", body.join(",\n"))).expect("writing the JSON");
    }
    drop(tls13);
    drop(seam);

    // References from before the anchors: TA crypto against software crypto
    // in this process (no network, no OpenSSL).
    println!();
    println!(
        "in-process references: TLS rows ring (rustls), DTLS row the engine's software secrets"
    );
    in_process(&device, &stakeholder, &ta_public, rounds);
    dtls_psk(&device, &stakeholder, rounds);
    drop(stakeholder);
}

fn in_process(
    device: &Device,
    stakeholder: &seam_tests::Stakeholder<'_>,
    ta_public: &seam::proto::PublicKey,
    rounds: usize,
) {
    let ta_public = *ta_public;
    // PKI: a CA, the TA key's certificate, a software client key, a server key.
    let ca_key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = ca.self_signed(&ca_key).unwrap();
    let leaf = || CertificateParams::new(vec!["localhost".to_string()]).unwrap();
    let ta_cert = leaf()
        .signed_by(&TaPublicKey(ta_public), &ca, &ca_key)
        .unwrap();
    let soft_key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let soft_cert = leaf().signed_by(&soft_key, &ca, &ca_key).unwrap();
    let server_key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let server_cert = leaf().signed_by(&server_key, &ca, &ca_key).unwrap();
    let mut roots = RootCertStore::empty();
    roots.add(ca.der().clone()).unwrap();
    let chain = |c: &rcgen::Certificate| -> Vec<CertificateDer<'static>> {
        vec![c.der().clone(), ca.der().clone()]
    };
    let key_der = |k: &KeyPair| PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(k.serialize_der()));

    let calls = Arc::new(AtomicU64::new(0));
    let tls = TaTls::new(
        counting_client(device, calls.clone()),
        Role::Client,
        Some(stakeholder.key("cert", 42)),
    );

    println!(
        "{:<44} {:>10} {:>11} {:>7} {:>9}",
        "handshake (client side)", "TA ms", "in-proc ms", "ratio", "TA calls"
    );
    let ring = Arc::new(rustls::crypto::ring::default_provider());
    for (name, version) in [("TLS 1.2", &TLS12), ("TLS 1.3", &TLS13)] {
        let versions = &[version];
        let server = {
            let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
                Arc::new(roots.clone()),
                ring.clone(),
            )
            .build()
            .unwrap();
            let mut config = ServerConfig::builder_with_provider(ring.clone())
                .with_protocol_versions(versions)
                .unwrap()
                .with_client_cert_verifier(verifier)
                .with_single_cert(chain(&server_cert), key_der(&server_key))
                .unwrap();
            config.session_storage = Arc::new(rustls::server::NoServerSessionStorage {});
            config.send_tls13_tickets = 0;
            Arc::new(config)
        };
        let ta_client =
            Arc::new(client_config(&tls, versions, roots.clone(), Some(chain(&ta_cert))).unwrap());
        let soft_client = {
            let mut config = ClientConfig::builder_with_provider(ring.clone())
                .with_protocol_versions(versions)
                .unwrap()
                .with_root_certificates(roots.clone())
                .with_client_auth_cert(chain(&soft_cert), key_der(&soft_key))
                .unwrap();
            config.resumption = rustls::client::Resumption::disabled();
            Arc::new(config)
        };

        // A warm-up of each, then interleaved timed runs.
        handshake_in_memory(ta_client.clone(), server.clone());
        handshake_in_memory(soft_client.clone(), server.clone());
        let (mut ta_ms, mut soft_ms, mut ta_calls) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..rounds {
            let before = calls.load(Ordering::SeqCst);
            let t = Instant::now();
            handshake_in_memory(ta_client.clone(), server.clone());
            ta_ms.push(t.elapsed().as_secs_f64() * 1e3);
            ta_calls.push(calls.load(Ordering::SeqCst) - before);
            let t = Instant::now();
            handshake_in_memory(soft_client.clone(), server.clone());
            soft_ms.push(t.elapsed().as_secs_f64() * 1e3);
        }
        print_row(
            &format!("{name} ECDHE-ECDSA P-256, mutual auth"),
            ta_ms,
            soft_ms,
            &ta_calls,
        );
    }
    drop(tls);
}
