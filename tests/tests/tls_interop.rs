//! rustls with every handshake secret in the TA (`seam_rustls`) against
//! OpenSSL's `s_server` and `s_client` (a peer nobody here wrote), in both
//! roles: TLS 1.2 ECDHE-ECDSA with mutual authentication and TLS 1.3, a
//! P-256 certificate issued to the TA-held key, exporter outputs compared
//! with OpenSSL's `-keymatexport`, and the oneM2M exporter kept inside as Ke
//! and checked through Km against Python's hmac.
//!
//! OpenSSL runs on 127.0.0.1 with an ephemeral port and bounded timeouts,
//! and is killed at the end of each test. Without `openssl` the tests say so
//! loudly and do nothing.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, SanType};
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::version::{TLS12, TLS13};
use rustls::{ClientConnection, RootCertStore, ServerConnection, StreamOwned};
use seam::proto::handshake::{Derivation, OneM2mExport, Role, KM_LABEL};
use seam::proto::{KeyRef, Ops};
use seam::Client;
use seam_rustls::{client_config, server_config, TaTls};
use seam_tests::reference as r;
use seam_tests::shared::SharedTa;
use seam_tests::{Device, OWNER_CSE};

mod common;
use common::TaPublicKey;

const TIMEOUT: Duration = Duration::from_secs(20);
const LABEL: &str = "EXPERIMENTAL-seam-interop";

/// A CA, a certificate for the TA key and a key + certificate for OpenSSL.
struct Pki {
    dir: tempfile::TempDir,
    ca_der: CertificateDer<'static>,
    ta_chain: Vec<CertificateDer<'static>>,
}

impl Pki {
    fn new(ta_public: &seam::proto::PublicKey) -> Pki {
        let dir = tempfile::tempdir().unwrap();
        let ca_key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.distinguished_name
            .push(DnType::CommonName, "seam interop test CA");
        let ca = ca.self_signed(&ca_key).unwrap();

        let names = || {
            let mut p = CertificateParams::new(vec!["localhost".to_string()]).unwrap();
            p.subject_alt_names
                .push(SanType::IpAddress("127.0.0.1".parse().unwrap()));
            p
        };
        // The TA key's certificate: issued to its public key, never to a
        // private key we hold.
        let spki = TaPublicKey(*ta_public);
        let mut ta = names();
        ta.distinguished_name
            .push(DnType::CommonName, "seam TA key");
        let ta = ta.signed_by(&spki, &ca, &ca_key).unwrap();

        let peer_key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let mut peer = names();
        peer.distinguished_name
            .push(DnType::CommonName, "openssl peer");
        let peer = peer.signed_by(&peer_key, &ca, &ca_key).unwrap();

        std::fs::write(dir.path().join("ca.pem"), ca.pem()).unwrap();
        std::fs::write(dir.path().join("peer.pem"), peer.pem()).unwrap();
        std::fs::write(dir.path().join("peer.key"), peer_key.serialize_pem()).unwrap();
        Pki {
            dir,
            ca_der: ca.der().clone(),
            ta_chain: vec![ta.der().clone(), ca.der().clone()],
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn roots(&self) -> RootCertStore {
        let mut roots = RootCertStore::empty();
        roots.add(self.ca_der.clone()).unwrap();
        roots
    }
}

/// An OpenSSL process, its output collected by a thread, killed on drop.
struct OpenSsl {
    child: Child,
    output: Arc<Mutex<String>>,
    stdin: Option<std::process::ChildStdin>,
}

impl OpenSsl {
    fn spawn(args: &[String]) -> OpenSsl {
        let mut child = Command::new("openssl")
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("starting openssl");
        let output = Arc::new(Mutex::new(String::new()));
        for stream in [
            Box::new(child.stdout.take().unwrap()) as Box<dyn Read + Send>,
            Box::new(child.stderr.take().unwrap()),
        ] {
            let output = output.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    let mut o = output.lock().unwrap();
                    o.push_str(&line);
                    o.push('\n');
                }
            });
        }
        let stdin = child.stdin.take();
        OpenSsl {
            child,
            output,
            stdin,
        }
    }

    fn output(&self) -> String {
        self.output.lock().unwrap().clone()
    }

    /// Waits until the output contains `what`.
    fn wait_for(&self, what: &str) {
        let start = Instant::now();
        while !self.output().contains(what) {
            assert!(
                start.elapsed() < TIMEOUT,
                "openssl never printed {what:?}:\n{}",
                self.output()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits for the process to exit (killing it after the timeout).
    fn finish(mut self) -> String {
        drop(self.stdin.take());
        let start = Instant::now();
        while self.child.try_wait().unwrap().is_none() {
            if start.elapsed() > TIMEOUT {
                let _ = self.child.kill();
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.wait();
        // Let the reader threads drain the pipes.
        std::thread::sleep(Duration::from_millis(100));
        self.output()
    }
}

impl Drop for OpenSsl {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The `-keymatexport` output OpenSSL printed.
fn keying_material(output: &str) -> Vec<u8> {
    let line = output
        .lines()
        .find_map(|l| l.trim().strip_prefix("Keying material: "))
        .unwrap_or_else(|| panic!("no keying material in:\n{output}"));
    hex::decode(line.trim()).unwrap()
}

fn s(x: &str) -> String {
    x.to_string()
}

fn path_arg(p: &Path) -> String {
    p.display().to_string()
}

fn version_args(tls13: bool) -> Vec<String> {
    if tls13 {
        vec![
            s("-tls1_3"),
            s("-ciphersuites"),
            s("TLS_AES_128_GCM_SHA256"),
        ]
    } else {
        vec![
            s("-tls1_2"),
            s("-cipher"),
            s("ECDHE-ECDSA-AES128-GCM-SHA256"),
        ]
    }
}

/// A stakeholder with a certificate key for the TA, granted to OWNER_CSE.
struct Setup<'d> {
    _stakeholder: seam_tests::Stakeholder<'d>,
    key: KeyRef,
    public: seam::proto::PublicKey,
    ta: Option<SharedTa>,
}

/// SUID 40: a certificate key for MEF use (so the bootstrap exporter may
/// make Ke from its sessions); HANDSHAKE for the sessions, SIGN for
/// CertificateVerify.
fn setup(device: &Device) -> Setup<'_> {
    let s = device.stakeholder("tls");
    let public = s.generate("cert", 40);
    // No `sign` grant: rustls signs inside its handshake sessions.
    s.grant("cert", OWNER_CSE, Ops::HANDSHAKE, 40);
    let key = s.key("cert", 40);
    Setup {
        _stakeholder: s,
        key,
        public,
        ta: SharedTa::new(device),
    }
}

impl Setup<'_> {
    fn client(&self, device: &Device) -> Client {
        match &self.ta {
            Some(ta) => ta.client(OWNER_CSE),
            None => device.client_as(OWNER_CSE),
        }
    }

    fn calls(&self) -> Option<u64> {
        self.ta.as_ref().map(|t| t.calls())
    }
}

/// TA invocations counted by the shared simulator's transport (0: on the
/// TEE, where `cargo optee bench` counts them).
fn assert_counted(calls: u64, expected: u64) {
    if calls != 0 {
        assert_eq!(calls, expected, "TA invocations per handshake");
    }
}

/// rustls (TA) as the client, `openssl s_server` as the server, mutual
/// authentication. Returns the exporter outputs of both sides and the TA
/// invocations the handshake took.
fn ta_client_vs_s_server(tls13: bool, label: &str, len: usize) -> Option<(Vec<u8>, Vec<u8>, u64)> {
    if !seam_tests::require_tool("openssl") {
        return None;
    }
    let device = Device::new();
    let setup = setup(&device);
    let pki = Pki::new(&setup.public);
    let port = free_port();
    let mut args = vec![
        s("s_server"),
        s("-accept"),
        format!("127.0.0.1:{port}"),
        s("-naccept"),
        s("1"),
        s("-cert"),
        path_arg(&pki.path("peer.pem")),
        s("-key"),
        path_arg(&pki.path("peer.key")),
        s("-CAfile"),
        path_arg(&pki.path("ca.pem")),
        s("-Verify"),
        s("2"),
        s("-verify_return_error"),
        s("-keymatexport"),
        s(label),
        s("-keymatexportlen"),
        len.to_string(),
    ];
    args.extend(version_args(tls13));
    let server = OpenSsl::spawn(&args);
    server.wait_for("ACCEPT");

    let tls = TaTls::new(setup.client(&device), Role::Client, Some(setup.key.clone()));
    let versions: &[&'static rustls::SupportedProtocolVersion] =
        if tls13 { &[&TLS13] } else { &[&TLS12] };
    let config = client_config(&tls, versions, pki.roots(), Some(pki.ta_chain.clone())).unwrap();
    let before = setup.calls();
    let conn = ClientConnection::new(Arc::new(config), ServerName::try_from("localhost").unwrap())
        .unwrap();
    let sock = TcpStream::connect(("127.0.0.1", port)).unwrap();
    sock.set_read_timeout(Some(TIMEOUT)).unwrap();
    sock.set_write_timeout(Some(TIMEOUT)).unwrap();
    let mut stream = StreamOwned::new(conn, sock);
    while stream.conn.is_handshaking() {
        stream
            .conn
            .complete_io(&mut stream.sock)
            .unwrap_or_else(|e| {
                panic!(
                    "handshake: {e}; TA: {:?}; openssl:\n{}",
                    tls.last_error(),
                    server.output()
                )
            });
    }
    let calls = setup.calls().zip(before).map(|(a, b)| a - b).unwrap_or(0);
    stream.write_all(b"hello from seam\n").unwrap();
    stream.flush().unwrap();
    let mut ours = vec![0u8; len];
    if label.starts_with("EXPORTER-oneM2M") {
        // The output stays inside as Ke; only the RelativeKeID leaves. (The
        // TA refuses a oneM2M label through rustls's exporter, and wipes
        // the session, so ask for the key first.)
        let session = tls.last_session().unwrap();
        let (relative_id, info) = tls
            .export_key(session, OneM2mExport::Bootstrap, "ke", None)
            .unwrap();
        // Ke: the bootstrap credential's SUID (40), marked by its role.
        assert_eq!(info.suid, Some(seam_tests::suid(40)));
        assert_eq!(info.attributes.role, seam::proto::KeyRole::Bootstrap);
        ours = relative_id.to_vec();
        let mut leaked = vec![0u8; len];
        stream
            .conn
            .export_keying_material(&mut leaked, label.as_bytes(), None)
            .unwrap();
        assert!(tls.last_error().unwrap().contains("LabelNotAllowed"));
    } else {
        stream
            .conn
            .export_keying_material(&mut ours, label.as_bytes(), None)
            .unwrap();
    }
    server.wait_for("hello from seam");
    stream.conn.send_close_notify();
    let _ = stream.conn.complete_io(&mut stream.sock);
    drop(stream);
    let output = server.finish();
    let theirs = keying_material(&output);

    if label.starts_with("EXPORTER-oneM2M") {
        // Ke = the last 32 bytes; check it through Km and a MAC made with
        // it inside the TA, against Python's hmac.
        let ke = &theirs[16..];
        let maf = "maf.seam.example";
        let mut c = tls.client();
        let ke_ref = KeyRef {
            key: "ke".try_into().unwrap(),
            suid: seam_tests::suid(40),
            ..setup.key.clone()
        };
        let km = c
            .derive_key(
                &ke_ref,
                Derivation::Km {
                    maf_id: maf.try_into().unwrap(),
                },
                "km",
            )
            .unwrap();
        assert_eq!(km.suid, Some(seam_tests::suid(21)));
        let km_ref = KeyRef {
            key: "km".try_into().unwrap(),
            suid: seam_tests::suid(21),
            ..setup.key.clone()
        };
        let tag = c.mac(&km_ref, b"oneM2M").unwrap();
        let km_reference = r::hmac(ke, &[KM_LABEL.as_bytes(), maf.as_bytes()]);
        assert_eq!(tag.to_vec(), r::hmac(&km_reference, &[b"oneM2M"]));
        return Some((ours, theirs[..16].to_vec(), calls));
    }
    Some((ours, theirs, calls))
}

/// `openssl s_client` as the client, rustls (TA) as the server, mutual
/// authentication.
fn s_client_vs_ta_server(tls13: bool) -> Option<(Vec<u8>, Vec<u8>, u64)> {
    if !seam_tests::require_tool("openssl") {
        return None;
    }
    let device = Device::new();
    let setup = setup(&device);
    let pki = Pki::new(&setup.public);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let mut args = vec![
        s("s_client"),
        s("-connect"),
        format!("127.0.0.1:{port}"),
        s("-servername"),
        s("localhost"),
        s("-verify_hostname"),
        s("localhost"),
        s("-cert"),
        path_arg(&pki.path("peer.pem")),
        s("-key"),
        path_arg(&pki.path("peer.key")),
        s("-CAfile"),
        path_arg(&pki.path("ca.pem")),
        s("-verify_return_error"),
        s("-keymatexport"),
        s(LABEL),
        s("-keymatexportlen"),
        s("32"),
    ];
    args.extend(version_args(tls13));
    let mut client = OpenSsl::spawn(&args);

    let tls = TaTls::new(setup.client(&device), Role::Server, Some(setup.key.clone()));
    let versions: &[&'static rustls::SupportedProtocolVersion] =
        if tls13 { &[&TLS13] } else { &[&TLS12] };
    let config = server_config(&tls, versions, pki.ta_chain.clone(), Some(pki.roots())).unwrap();
    listener.set_nonblocking(true).unwrap();
    let start = Instant::now();
    let sock = loop {
        match listener.accept() {
            Ok((sock, _)) => break sock,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                assert!(start.elapsed() < TIMEOUT, "s_client never connected");
                std::thread::sleep(Duration::from_millis(10));
            }
            Err(e) => panic!("accept: {e}"),
        }
    };
    sock.set_nonblocking(false).unwrap();
    sock.set_read_timeout(Some(TIMEOUT)).unwrap();
    sock.set_write_timeout(Some(TIMEOUT)).unwrap();
    let before = setup.calls();
    let conn = ServerConnection::new(Arc::new(config)).unwrap();
    let mut stream = StreamOwned::new(conn, sock);
    while stream.conn.is_handshaking() {
        stream
            .conn
            .complete_io(&mut stream.sock)
            .unwrap_or_else(|e| {
                panic!(
                    "handshake: {e}; TA: {:?}; openssl:\n{}",
                    tls.last_error(),
                    client.output()
                )
            });
    }
    let calls = setup.calls().zip(before).map(|(a, b)| a - b).unwrap_or(0);
    assert!(
        stream.conn.peer_certificates().is_some(),
        "the client authenticated"
    );
    let mut ours = vec![0u8; 32];
    stream
        .conn
        .export_keying_material(&mut ours, LABEL.as_bytes(), None)
        .unwrap();
    // Data both ways.
    client
        .stdin
        .as_mut()
        .unwrap()
        .write_all(b"hello from openssl\n")
        .unwrap();
    let mut line = String::new();
    BufReader::new(&mut stream).read_line(&mut line).unwrap();
    assert_eq!(line, "hello from openssl\n");
    stream.write_all(b"hello from seam\n").unwrap();
    stream.flush().unwrap();
    client.wait_for("hello from seam");
    stream.conn.send_close_notify();
    let _ = stream.conn.complete_io(&mut stream.sock);
    drop(stream);
    let output = client.finish();
    Some((ours, keying_material(&output), calls))
}

#[test]
fn tls12_ecdhe_ecdsa_mutual_ta_client_against_openssl_server() {
    if let Some((ours, theirs, calls)) = ta_client_vs_s_server(false, LABEL, 32) {
        // open · CertificateVerify · master+keys+our Finished · server's Finished
        assert_counted(calls, 4);
        assert_eq!(ours, theirs, "RFC 5705 exporter, TLS 1.2");
        eprintln!("TLS 1.2 client handshake: {calls} TA invocations");
    }
}

#[test]
fn tls13_mutual_ta_client_against_openssl_server() {
    if let Some((ours, theirs, calls)) = ta_client_vs_s_server(true, LABEL, 32) {
        // open · handshake keys · server's Finished · application keys ·
        // CertificateVerify · our Finished
        assert_counted(calls, 6);
        assert_eq!(ours, theirs, "RFC 8446 exporter");
        eprintln!("TLS 1.3 client handshake: {calls} TA invocations");
    }
}

#[test]
fn tls12_ecdhe_ecdsa_mutual_openssl_client_against_ta_server() {
    if let Some((ours, theirs, calls)) = s_client_vs_ta_server(false) {
        // open · ServerKeyExchange · master+keys · client's Finished · ours
        assert_counted(calls, 5);
        assert_eq!(ours, theirs, "RFC 5705 exporter, TLS 1.2");
        eprintln!("TLS 1.2 server handshake: {calls} TA invocations");
    }
}

#[test]
fn tls13_mutual_openssl_client_against_ta_server() {
    if let Some((ours, theirs, calls)) = s_client_vs_ta_server(true) {
        // open · handshake keys · CertificateVerify · our Finished ·
        // application keys · client's Finished
        assert_counted(calls, 6);
        assert_eq!(ours, theirs, "RFC 8446 exporter");
        eprintln!("TLS 1.3 server handshake: {calls} TA invocations");
    }
}

#[test]
fn onem2m_bootstrap_exporter_stays_inside_as_ke_tls12() {
    if let Some((relative_id, theirs, _)) =
        ta_client_vs_s_server(false, "EXPORTER-oneM2M-Bootstrap", 48)
    {
        assert_eq!(relative_id, theirs, "RelativeKeID = the first 16 bytes");
    }
}

#[test]
fn onem2m_bootstrap_exporter_stays_inside_as_ke_tls13() {
    if let Some((relative_id, theirs, _)) =
        ta_client_vs_s_server(true, "EXPORTER-oneM2M-Bootstrap", 48)
    {
        assert_eq!(relative_id, theirs, "RelativeKeID = the first 16 bytes");
    }
}
