//! One full TLS client handshake (ECDHE-ECDSA P-256, mutual
//! authentication, TLS 1.2 and TLS 1.3) with the client's crypto in the TA
//! (simulator backend: `seam_rustls`) against the same handshake with the
//! client key in rustls's own ring provider, in the same run; the server is
//! rustls + ring in memory. Prints the ratio and the TA invocations per
//! handshake.
//!
//! `cargo bench -p seam-tests --bench handshake`

use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::version::{TLS12, TLS13};
use rustls::{ClientConfig, RootCertStore, ServerConfig};
use seam::proto::handshake::Role;
use seam::proto::Ops;
use seam_rustls::{client_config, TaTls};
use seam_tests::shared::SharedTa;
use seam_tests::{Device, OWNER_CSE};

#[path = "../tests/common/mod.rs"]
mod common;
use common::TaPublicKey;
use seam_tests::testing::rustls_handshake as handshake_in_memory;

fn bench(crit: &mut Criterion) {
    let device = Device::new();
    let stakeholder = device.stakeholder("bench");
    let ta_public = stakeholder.generate("cert", 42);
    stakeholder.grant("cert", OWNER_CSE, Ops::HANDSHAKE.union(Ops::SIGN), 42);
    let shared = SharedTa::new(&device).expect("the benchmark runs on the simulator");

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
        let tls = TaTls::new(
            shared.client(OWNER_CSE),
            Role::Client,
            Some(stakeholder.key("cert", 42)),
        );
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

        // TA invocations per handshake.
        let before = shared.calls();
        handshake_in_memory(ta_client.clone(), server.clone());
        let invocations = shared.calls() - before;

        let mut group = crit.benchmark_group(name);
        group
            .sample_size(20)
            .measurement_time(Duration::from_secs(5));
        group.bench_function("client crypto in the TA (simulator)", |b| {
            b.iter(|| handshake_in_memory(ta_client.clone(), server.clone()))
        });
        group.bench_function("client crypto in rustls (ring)", |b| {
            b.iter(|| handshake_in_memory(soft_client.clone(), server.clone()))
        });
        group.finish();

        // The ratio from interleaved timings in this same run.
        let (mut ta_time, mut soft_time) = (Duration::ZERO, Duration::ZERO);
        for _ in 0..20 {
            let t = Instant::now();
            handshake_in_memory(ta_client.clone(), server.clone());
            ta_time += t.elapsed();
            let t = Instant::now();
            handshake_in_memory(soft_client.clone(), server.clone());
            soft_time += t.elapsed();
        }
        println!(
            "{name}: TA/ring handshake time ratio {:.2} ({:?} vs {:?} per handshake), \
             {invocations} TA invocations per handshake",
            ta_time.as_secs_f64() / soft_time.as_secs_f64(),
            ta_time / 20,
            soft_time / 20,
        );
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
