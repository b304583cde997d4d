//! The cases of `cargo optee bench`, each against an anchor measured in the
//! same run, rounds interleaved (one seam run, then one anchor run):
//!
//! | case | seam | anchor |
//! |---|---|---|
//! | `dtls12_psk_aes128_ccm8` | seam's engine, PSK in the TA | OpenSSL client |
//! | `tls12_ecdhe_ecdsa_aes128_ccm8_mutual` | seam's engine, key in the TA | OpenSSL client, key in memory |
//! | `tls13_mutual` | rustls with `seam_rustls` (key exchange, key schedule and key in the TA) | OpenSSL client, key in memory |
//! | `ecdsa_p256_sign` | `Sign` of a short message (hashed in the TA) with a stored key | PKCS#11 TA: `C_SignInit` + `C_Sign`, token key |
//! | `request_no_key` | `Hash` of 32 bytes | a bare TA invocation (`CMD_NOOP`) |
//! | `request_stored_key` | `Mac` (HMAC-SHA-256) of 32 bytes with a stored secret | a bare TA invocation |
//!
//! Handshakes: both clients talk to the same `openssl s_server` on
//! 127.0.0.1, with the same suite, group (P-256), certificates (one CA; the
//! client certificate's key is in the TA for seam and in a PEM file for
//! OpenSSL) and SNI; no resumption, no tickets. Each is timed from socket
//! creation to the end of the client's handshake; closing is not timed. What
//! differs: the client implementation itself (seam's engine or rustls,
//! against OpenSSL's libssl), and seam's TA handshake session is closed by
//! one more TA invocation after the timed part (counted in
//! `ta_invocations`, not timed, as OpenSSL's shutdown is not).
//!
//! The anchors run as coprocesses (`openssl_client`, `pkcs11_sign`: one
//! operation per line on stdin, timed inside), so no process start-up is in
//! any figure.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rcgen::{BasicConstraints, CertificateParams, DistinguishedName, DnType, IsCa, KeyPair};
use rustls::pki_types::CertificateDer;
use rustls::RootCertStore;
use seam::dtls::io::{drive_handshake, flush, Link, TcpLink, UdpLink};
use seam::dtls::{
    Config, Connection, OwnCertificate, PeerTrust, SeamSecrets, Suite, TaCredentials, Variant,
};
use seam::proto::handshake::Role;
use seam::proto::{KeyRef, ObjectKind, Ops};
use seam::Client;
use seam_rustls::{client_config, TaTls};
use seam_tests::{Device, Stakeholder, Who};

use crate::common::TaPublicKey;

const PSK: [u8; 16] = *b"oneM2M-bench-PSK";
const IDENTITY: &str = "kpsa-bench@m2m.seam.test";
const SERVER_NAME: &str = "localhost";
const TIMEOUT: Duration = Duration::from_secs(30);

/// One case's figures.
pub struct Case {
    pub case: &'static str,
    pub anchor: &'static str,
    pub seam_ms: Vec<f64>,
    pub anchor_ms: Vec<f64>,
    /// TA invocations per seam operation, per round.
    pub ta_invocations: Option<Vec<u64>>,
}

fn median(v: &[f64]) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

fn range(v: &[f64]) -> (f64, f64) {
    (
        v.iter().copied().fold(f64::INFINITY, f64::min),
        v.iter().copied().fold(0.0, f64::max),
    )
}

impl Case {
    fn ratio(&self) -> f64 {
        median(&self.seam_ms) / median(&self.anchor_ms)
    }

    fn invocations(&self) -> Option<String> {
        let v = self.ta_invocations.as_ref()?;
        let (lo, hi) = (*v.iter().min()?, *v.iter().max()?);
        Some(if lo == hi {
            lo.to_string()
        } else {
            format!("{lo}-{hi}")
        })
    }

    pub fn print_header() {
        println!(
            "{:<38} {:>22} {:>22} {:>7} {:>5}  anchor",
            "case", "seam ms (min-max)", "anchor ms (min-max)", "ratio", "TA"
        );
    }

    pub fn print(&self) {
        let cell = |v: &[f64]| {
            let (lo, hi) = range(v);
            format!("{:.2} ({:.2}-{:.2})", median(v), lo, hi)
        };
        println!(
            "{:<38} {:>22} {:>22} {:>6.2}x {:>5}  {}",
            self.case,
            cell(&self.seam_ms),
            cell(&self.anchor_ms),
            self.ratio(),
            self.invocations().unwrap_or_else(|| "-".into()),
            self.anchor
        );
    }

    pub fn json(&self) -> String {
        let (slo, shi) = range(&self.seam_ms);
        let (alo, ahi) = range(&self.anchor_ms);
        let inv = match &self.ta_invocations {
            Some(v) => {
                let m = median(&v.iter().map(|&x| x as f64).collect::<Vec<_>>());
                format!("{m}")
            }
            None => "null".into(),
        };
        format!(
            "{{\"case\":\"{}\",\"n\":{},\"seam_ms\":{:.4},\"seam_min_ms\":{:.4},\"seam_max_ms\":{:.4},\
             \"anchor\":\"{}\",\"anchor_ms\":{:.4},\"anchor_min_ms\":{:.4},\"anchor_max_ms\":{:.4},\
             \"ratio\":{:.4},\"ta_invocations\":{}}}",
            self.case,
            self.seam_ms.len(),
            median(&self.seam_ms),
            slo,
            shi,
            self.anchor,
            median(&self.anchor_ms),
            alo,
            ahi,
            self.ratio(),
            inv
        )
    }
}

/// Runs `seam` then `anchor` `rounds` times after one warm-up of each;
/// `seam` returns its TA invocations when they are counted.
fn interleave(
    rounds: usize,
    mut seam: impl FnMut() -> (f64, Option<u64>),
    mut anchor: impl FnMut() -> f64,
) -> (Vec<f64>, Vec<f64>, Option<Vec<u64>>) {
    seam();
    anchor();
    let (mut s, mut a, mut inv) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..rounds {
        let (ms, n) = seam();
        s.push(ms);
        if let Some(n) = n {
            inv.push(n);
        }
        a.push(anchor());
    }
    let inv = (!inv.is_empty()).then_some(inv);
    (s, a, inv)
}

fn ms_since(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1e3
}

// ---- coprocesses ---------------------------------------------------------------

/// A program answering one timed operation per line on stdin.
struct Coprocess {
    name: String,
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl Coprocess {
    fn spawn(program: &str, args: &[String]) -> Coprocess {
        let mut child = Command::new(program)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("starting {program}: {e}"));
        Coprocess {
            name: program.to_string(),
            stdin: child.stdin.take().unwrap(),
            stdout: BufReader::new(child.stdout.take().unwrap()),
            child,
        }
    }

    /// One operation: its milliseconds and the rest of its line.
    fn once(&mut self) -> (f64, String) {
        writeln!(self.stdin)
            .and_then(|_| self.stdin.flush())
            .unwrap();
        let mut line = String::new();
        self.stdout.read_line(&mut line).unwrap();
        let mut words = line.split_whitespace();
        let ms = words
            .next()
            .and_then(|w| w.parse().ok())
            .unwrap_or_else(|| panic!("{} failed (its stderr above)", self.name));
        (ms, words.collect::<Vec<_>>().join(" "))
    }
}

impl Drop for Coprocess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `openssl s_server`, its output collected, killed on drop.
struct Server {
    child: Child,
    output: Arc<Mutex<String>>,
    _stdin: Option<ChildStdin>,
}

impl Server {
    fn spawn(args: &[String]) -> Server {
        let mut child = Command::new("openssl")
            .arg("s_server")
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("starting openssl s_server");
        let output = Arc::new(Mutex::new(String::new()));
        for stream in [
            Box::new(child.stdout.take().unwrap()) as Box<dyn Read + Send>,
            Box::new(child.stderr.take().unwrap()),
        ] {
            let output = output.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    let mut o = output.lock().unwrap();
                    // Bounded: only the start matters (ACCEPT, errors).
                    if o.len() < 64 * 1024 {
                        o.push_str(&line);
                        o.push('\n');
                    }
                }
            });
        }
        let server = Server {
            _stdin: child.stdin.take(),
            child,
            output,
        };
        let start = Instant::now();
        while !server.output.lock().unwrap().contains("ACCEPT") {
            assert!(
                start.elapsed() < TIMEOUT,
                "s_server did not start:\n{}",
                server.output.lock().unwrap()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        server
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port(udp: bool) -> u16 {
    if udp {
        UdpSocket::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port()
    } else {
        TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port()
    }
}

fn s(x: impl ToString) -> String {
    x.to_string()
}

fn program(name: &str) -> String {
    // Installed next to device_bench in the guest (/opt/seam/bin).
    std::env::current_exe()
        .ok()
        .and_then(|p| p.parent().map(|d| d.join(name)))
        .filter(|p| p.exists())
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| name.to_string())
}

// ---- PKI ---------------------------------------------------------------------------

/// A CA; the server's certificate; a certificate for the TA's key; one for
/// OpenSSL's client key. PEM files for OpenSSL, DER for seam.
pub struct Pki {
    dir: PathBuf,
    ca_der: Vec<u8>,
    ta_der: Vec<u8>,
}

impl Pki {
    pub fn new(dir: &Path, ta_public: &seam::proto::PublicKey) -> Pki {
        std::fs::create_dir_all(dir).unwrap();
        let ca_key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        // rcgen names every certificate alike by default: a leaf whose
        // issuer is its own subject and that has no authority key id is
        // self-signed to OpenSSL, and s_server refused the client's
        // certificate (alert 48, unknown_ca). A name of its own for the CA,
        // and the key id on the leaves.
        ca.distinguished_name = DistinguishedName::new();
        ca.distinguished_name
            .push(DnType::CommonName, "seam bench CA");
        let ca = ca.self_signed(&ca_key).unwrap();
        let leaf = || {
            let mut p = CertificateParams::new(vec![SERVER_NAME.to_string()]).unwrap();
            p.use_authority_key_identifier_extension = true;
            p
        };
        let ta = leaf()
            .signed_by(&TaPublicKey(*ta_public), &ca, &ca_key)
            .unwrap();
        let server_key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let server = leaf().signed_by(&server_key, &ca, &ca_key).unwrap();
        let client_key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let client = leaf().signed_by(&client_key, &ca, &ca_key).unwrap();
        for (name, pem) in [
            ("ca.pem", ca.pem()),
            ("server.pem", server.pem()),
            ("server.key", server_key.serialize_pem()),
            ("client.pem", client.pem()),
            ("client.key", client_key.serialize_pem()),
        ] {
            std::fs::write(dir.join(name), pem).unwrap();
        }
        Pki {
            dir: dir.to_path_buf(),
            ca_der: ca.der().to_vec(),
            ta_der: ta.der().to_vec(),
        }
    }

    fn path(&self, name: &str) -> String {
        self.dir.join(name).display().to_string()
    }

    fn server_args(&self) -> Vec<String> {
        vec![
            s("-cert"),
            self.path("server.pem"),
            s("-key"),
            self.path("server.key"),
            s("-Verify"),
            s("1"),
            s("-CAfile"),
            self.path("ca.pem"),
            s("-verify_return_error"),
            s("-groups"),
            s("P-256"),
        ]
    }

    fn client_args(&self) -> Vec<String> {
        vec![
            self.path("ca.pem"),
            self.path("client.pem"),
            self.path("client.key"),
        ]
    }
}

// ---- the cases -----------------------------------------------------------------------

/// What the seam side uses: a counting client and the stakeholder's keys.
pub struct Seam<'d> {
    pub client: Client,
    pub calls: Arc<AtomicU64>,
    pub stakeholder: &'d Stakeholder<'d>,
    /// P-256, SUID 42, granted HANDSHAKE and SIGN.
    pub cert_key: KeyRef,
    pub cert_public: seam::proto::PublicKey,
}

fn count(calls: &AtomicU64, before: u64) -> Option<u64> {
    Some(calls.load(Ordering::SeqCst) - before)
}

/// One seam (D)TLS 1.2 client handshake with its engine; the connection is
/// closed (close_notify, then the TA session's Close) after the timing.
fn engine_handshake(
    seam: &mut Seam<'_>,
    variant: Variant,
    port: u16,
    config: Config,
    credentials: TaCredentials,
) -> (f64, Option<u64>) {
    let before = seam.calls.load(Ordering::SeqCst);
    let peer: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let t = Instant::now();
    let mut link: Box<dyn Link> = match variant {
        Variant::Dtls => Box::new(UdpLink::connect(peer).unwrap()),
        Variant::Tls => Box::new(TcpLink::connect(peer, TIMEOUT).unwrap()),
    };
    let secrets = SeamSecrets::new(&mut seam.client, credentials);
    let mut conn = Connection::client(config, secrets, Instant::now());
    drive_handshake(&mut conn, link.as_mut(), TIMEOUT).expect("seam handshake");
    let ms = ms_since(t);
    conn.close();
    let _ = flush(&mut conn, link.as_mut());
    drop(conn);
    (ms, count(&seam.calls, before))
}

pub fn dtls_psk(device: &Device, seam: &mut Seam<'_>, rounds: usize) -> Case {
    let st = seam.stakeholder;
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
    let psk = st.key("psk", 12);
    let port = free_port(true);
    let _server = Server::spawn(&[
        s("-dtls1_2"),
        s("-accept"),
        format!("127.0.0.1:{port}"),
        s("-cipher"),
        s("PSK-AES128-CCM8:@SECLEVEL=0"),
        s("-nocert"),
        s("-psk"),
        hex::encode(PSK),
        s("-psk_identity"),
        s(IDENTITY),
    ]);
    let mut anchor = Coprocess::spawn(
        &program("openssl_client"),
        &[s("dtls12-psk"), s(port), hex::encode(PSK), s(IDENTITY)],
    );
    let config = || {
        let mut c = Config::new(Variant::Dtls, vec![Suite::PskAes128Ccm8]);
        c.psk_identity = Some(IDENTITY.as_bytes().to_vec());
        c.server_names = vec![s(SERVER_NAME)];
        c
    };
    // s_server serves one DTLS client at a time and needs a moment after a
    // close before it listens again; a ClientHello sent in that window waits
    // for the 1 s retransmission. Both sides get the same untimed pause.
    let settle = || std::thread::sleep(Duration::from_millis(150));
    let (seam_ms, anchor_ms, inv) = interleave(
        rounds,
        || {
            settle();
            let creds = TaCredentials {
                psk: Some(psk.clone()),
                ..Default::default()
            };
            engine_handshake(seam, Variant::Dtls, port, config(), creds)
        },
        || {
            settle();
            anchor.once().0
        },
    );
    Case {
        case: "dtls12_psk_aes128_ccm8",
        anchor: "OpenSSL client <-> same s_server",
        seam_ms,
        anchor_ms,
        ta_invocations: inv,
    }
}

pub fn tls12_ecdhe(seam: &mut Seam<'_>, pki: &Pki, rounds: usize) -> Case {
    let port = free_port(false);
    let mut args = vec![
        s("-tls1_2"),
        s("-accept"),
        format!("127.0.0.1:{port}"),
        s("-cipher"),
        s("ECDHE-ECDSA-AES128-CCM8:@SECLEVEL=0"),
    ];
    args.extend(pki.server_args());
    let _server = Server::spawn(&args);
    let mut client_args = vec![s("tls12-ecdhe"), s(port)];
    client_args.extend(pki.client_args());
    let mut anchor = Coprocess::spawn(&program("openssl_client"), &client_args);
    let config = || {
        let mut c = Config::new(Variant::Tls, vec![Suite::EcdheEcdsaAes128Ccm8]);
        c.server_names = vec![s(SERVER_NAME)];
        c.certificate = OwnCertificate::X509(vec![pki.ta_der.clone()]);
        c.peer_trust = PeerTrust::CaCertificates(vec![pki.ca_der.clone()]);
        c.require_extended_master_secret = true;
        c.time = Some(Arc::new(seam::dtls::SystemClock));
        c
    };
    let key = seam.cert_key.clone();
    let (seam_ms, anchor_ms, inv) = interleave(
        rounds,
        || {
            let creds = TaCredentials {
                signing_key: Some(key.clone()),
                ..Default::default()
            };
            engine_handshake(seam, Variant::Tls, port, config(), creds)
        },
        || anchor.once().0,
    );
    Case {
        case: "tls12_ecdhe_ecdsa_aes128_ccm8_mutual",
        anchor: "OpenSSL client <-> same s_server",
        seam_ms,
        anchor_ms,
        ta_invocations: inv,
    }
}

pub fn tls13(tls: &TaTls, calls: &AtomicU64, pki: &Pki, rounds: usize) -> Case {
    let port = free_port(false);
    let mut args = vec![
        s("-tls1_3"),
        s("-accept"),
        format!("127.0.0.1:{port}"),
        s("-ciphersuites"),
        s("TLS_AES_128_GCM_SHA256"),
        s("-num_tickets"),
        s("0"),
    ];
    args.extend(pki.server_args());
    let _server = Server::spawn(&args);
    let mut client_args = vec![s("tls13"), s(port)];
    client_args.extend(pki.client_args());
    let mut anchor = Coprocess::spawn(&program("openssl_client"), &client_args);
    let mut roots = RootCertStore::empty();
    roots.add(CertificateDer::from(pki.ca_der.clone())).unwrap();
    let chain = vec![CertificateDer::from(pki.ta_der.clone())];
    let config =
        Arc::new(client_config(tls, &[&rustls::version::TLS13], roots, Some(chain)).unwrap());
    let (seam_ms, anchor_ms, inv) = interleave(
        rounds,
        || {
            let before = calls.load(Ordering::SeqCst);
            let t = Instant::now();
            let mut sock = TcpStream::connect(("127.0.0.1", port)).unwrap();
            sock.set_nodelay(true).unwrap();
            let mut conn =
                rustls::ClientConnection::new(config.clone(), SERVER_NAME.try_into().unwrap())
                    .unwrap();
            while conn.is_handshaking() {
                conn.complete_io(&mut sock).expect("rustls handshake");
            }
            let ms = ms_since(t);
            conn.send_close_notify();
            let _ = conn.complete_io(&mut sock);
            drop(conn);
            (ms, count(calls, before))
        },
        || anchor.once().0,
    );
    Case {
        case: "tls13_mutual",
        anchor: "OpenSSL client <-> same s_server",
        seam_ms,
        anchor_ms,
        ta_invocations: inv,
    }
}

pub fn sign(seam: &mut Seam<'_>, rounds: usize) -> Case {
    let mut anchor = Coprocess::spawn(&program("pkcs11_sign"), &[]);
    let message = b"a message for the benchmark";
    let key = seam.cert_key.clone();
    let public = seam.cert_public;
    let (seam_ms, anchor_ms, inv) = interleave(
        rounds,
        || {
            let before = seam.calls.load(Ordering::SeqCst);
            let t = Instant::now();
            let sig = seam.client.sign(&key, message).expect("seam sign");
            let ms = ms_since(t);
            assert!(seam::signer::verify_with(&public, message, &sig));
            (ms, count(&seam.calls, before))
        },
        || anchor.once().0,
    );
    Case {
        case: "ecdsa_p256_sign",
        anchor: "PKCS#11 TA C_SignInit+C_Sign, token key",
        seam_ms,
        anchor_ms,
        ta_invocations: inv,
    }
}

/// The per-request floor: `Hash` (no key) and `Mac` with a stored secret,
/// each against a bare invocation on its own session.
#[cfg(feature = "tee")]
pub fn floor(device: &Device, seam: &mut Seam<'_>, rounds: usize) -> Vec<Case> {
    let st = seam.stakeholder;
    device
        .client()
        .import_wrapped(
            &st.admin,
            &st.se,
            "mac",
            seam_tests::suid(13),
            ObjectKind::Secret,
            &[0x4b; 32],
        )
        .expect("importing the MAC key");
    st.grant("mac", Who::Me, Ops::MAC, 13);
    let mac_key = st.key("mac", 13);
    let mut bare = seam::transport::Tee::open().expect("a second TA session");
    let message = [0u8; 32];
    let mut cases = Vec::new();
    for (case, mac) in [("request_no_key", false), ("request_stored_key", true)] {
        let (seam_ms, anchor_ms, inv) = interleave(
            rounds,
            || {
                let before = seam.calls.load(Ordering::SeqCst);
                let t = Instant::now();
                if mac {
                    seam.client.mac(&mac_key, &message).expect("seam mac");
                } else {
                    seam.client.hash(&message).expect("seam hash");
                }
                (ms_since(t), count(&seam.calls, before))
            },
            || {
                let t = Instant::now();
                bare.noop().expect("no-op");
                ms_since(t)
            },
        );
        cases.push(Case {
            case,
            anchor: "bare TA invocation (CMD_NOOP)",
            seam_ms,
            anchor_ms,
            ta_invocations: inv,
        });
    }
    cases
}

#[cfg(not(feature = "tee"))]
pub fn floor(_device: &Device, _seam: &mut Seam<'_>, _rounds: usize) -> Vec<Case> {
    eprintln!("device_bench: the per-request floor needs the TEE (--features tee)");
    Vec::new()
}

/// A TaTls over its own counting client, for the TLS 1.3 row.
pub fn ta_tls(client: Client, key: KeyRef) -> TaTls {
    TaTls::new(client, Role::Client, Some(key))
}
