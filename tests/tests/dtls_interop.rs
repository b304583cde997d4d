//! seam's own (D)TLS 1.2 engine (`seam::dtls`), every handshake secret in
//! the TA (here the simulator), against OpenSSL's `s_server` and `s_client`:
//! the four oneM2M suites, over DTLS 1.2 and TLS 1.2, in both roles, through
//! the same `run_client` / `run_server` the `seam` CLI calls.
//!
//! The PSK is imported wrapped into an SE; the certificate key is generated
//! inside the SE and a CA (rcgen) issues its certificate to its public key.
//! ECDHE_ECDSA runs with mutual authentication over DTLS and with server
//! authentication over TLS. Each side sends a line and checks it got the
//! other's; the test fails if the handshake fails, if OpenSSL did not
//! negotiate the suite and extended master secret, or if the handshake took
//! other than 2 TA invocations.
//!
//! OpenSSL runs on 127.0.0.1 with an ephemeral port and bounded timeouts and
//! is killed at the end. Without `openssl` the tests say so loudly and pass.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, UdpSocket};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, SanType};
use seam::dtls::{
    run_client, run_server, ConnectOptions, Credential, ListenOptions, OwnCertificate, PeerTrust,
    Suite, Variant,
};
use seam::proto::{ObjectKind, Ops};
use seam_tests::{Device, Stakeholder, Who};

mod common;
use common::TaPublicKey;

const TIMEOUT: Duration = Duration::from_secs(20);
const PSK: [u8; 16] = *b"oneM2M-test-PSK!";
const IDENTITY: &str = "kpsa-7@m2m.seam.test";
const SERVER_NAME: &str = "server.seam.test";
const FROM_SEAM: &str = "hello from seam";
const FROM_OPENSSL: &str = "hello from openssl";

// ---- PKI ------------------------------------------------------------------------

/// A CA; a certificate for the TA-held key; a key and certificate for OpenSSL.
struct Pki {
    dir: tempfile::TempDir,
    ca_der: Vec<u8>,
    ta_chain: Vec<Vec<u8>>,
}

impl Pki {
    fn new(ta_public: &seam::proto::PublicKey) -> Pki {
        let dir = tempfile::tempdir().unwrap();
        let ca_key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.distinguished_name
            .push(DnType::CommonName, "seam dtls interop CA");
        let ca = ca.self_signed(&ca_key).unwrap();
        let leaf = |cn: &str| {
            let mut p = CertificateParams::new(vec![SERVER_NAME.to_string()]).unwrap();
            p.subject_alt_names
                .push(SanType::IpAddress("127.0.0.1".parse().unwrap()));
            p.distinguished_name.push(DnType::CommonName, cn);
            p
        };
        let ta = leaf("seam TA key")
            .signed_by(&TaPublicKey(*ta_public), &ca, &ca_key)
            .unwrap();
        let peer_key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let peer = leaf("openssl peer")
            .signed_by(&peer_key, &ca, &ca_key)
            .unwrap();
        std::fs::write(dir.path().join("ca.pem"), ca.pem()).unwrap();
        std::fs::write(dir.path().join("peer.pem"), peer.pem()).unwrap();
        std::fs::write(dir.path().join("peer.key"), peer_key.serialize_pem()).unwrap();
        Pki {
            dir,
            ca_der: ca.der().to_vec(),
            ta_chain: vec![ta.der().to_vec()],
        }
    }

    fn path(&self, name: &str) -> String {
        path_arg(&self.dir.path().join(name))
    }
}

fn path_arg(p: &Path) -> String {
    p.display().to_string()
}

// ---- OpenSSL processes --------------------------------------------------------------

/// An OpenSSL process, its output collected by threads, killed on drop.
struct OpenSsl {
    child: Child,
    output: Arc<Mutex<String>>,
    /// Kept open: s_server and s_client end their session at stdin's end.
    stdin: Option<std::process::ChildStdin>,
}

impl OpenSsl {
    fn spawn(args: &[String], stdin_line: &str) -> OpenSsl {
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
        let mut stdin = child.stdin.take();
        if let Some(s) = stdin.as_mut() {
            let _ = writeln!(s, "{stdin_line}");
            let _ = s.flush();
        }
        OpenSsl {
            child,
            output,
            stdin,
        }
    }

    fn output(&self) -> String {
        self.output.lock().unwrap().clone()
    }

    fn wait_for(&self, what: &str) -> bool {
        let start = Instant::now();
        while !self.output().contains(what) {
            if start.elapsed() > TIMEOUT {
                return false;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        true
    }
}

impl Drop for OpenSsl {
    fn drop(&mut self) {
        drop(self.stdin.take());
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

fn s(x: &str) -> String {
    x.to_string()
}

// ---- seam's side ---------------------------------------------------------------------

/// Input for the copy loop: our line at once, then end of input only once
/// the peer's line arrived (or after the timeout), so neither side closes
/// before both lines crossed.
struct GatedInput {
    line: Option<Vec<u8>>,
    got_peer_line: Arc<AtomicBool>,
    started: Instant,
}

impl Read for GatedInput {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if let Some(line) = self.line.take() {
            buf[..line.len()].copy_from_slice(&line);
            return Ok(line.len());
        }
        while !self.got_peer_line.load(Ordering::SeqCst) && self.started.elapsed() < TIMEOUT {
            std::thread::sleep(Duration::from_millis(10));
        }
        Ok(0)
    }
}

/// Output of the copy loop: collected, and flags the peer's line.
struct Collect {
    data: Vec<u8>,
    got_peer_line: Arc<AtomicBool>,
}

impl Write for Collect {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.data.extend_from_slice(buf);
        if String::from_utf8_lossy(&self.data).contains(FROM_OPENSSL) {
            self.got_peer_line.store(true, Ordering::SeqCst);
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn io_pair() -> (Box<dyn Read + Send>, Collect) {
    let flag = Arc::new(AtomicBool::new(false));
    (
        Box::new(GatedInput {
            line: Some(format!("{FROM_SEAM}\n").into_bytes()),
            got_peer_line: flag.clone(),
            started: Instant::now(),
        }),
        Collect {
            data: Vec::new(),
            got_peer_line: flag,
        },
    )
}

/// A stakeholder whose SE holds the PSK (SUID 12) and a certificate key
/// generated inside (SUID 42), both granted HANDSHAKE to this process.
struct Node<'d> {
    stakeholder: Stakeholder<'d>,
    cert_public: seam::proto::PublicKey,
}

fn node(device: &Device) -> Node<'_> {
    let st = device.stakeholder("dtls");
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
    let cert_public = st.generate("cert", 42);
    st.grant("cert", Who::Me, Ops::HANDSHAKE, 42);
    Node {
        cert_public,
        stakeholder: st,
    }
}

fn mutual(variant: Variant, suite: Suite) -> bool {
    !suite.is_psk() && variant == Variant::Dtls
}

fn common_openssl_args(variant: Variant, suite: Suite) -> Vec<String> {
    vec![
        s(match variant {
            Variant::Dtls => "-dtls1_2",
            Variant::Tls => "-tls1_2",
        }),
        s("-cipher"),
        // OpenSSL 3.2+ (the device's 3.5) keeps the CCM_8 suites below the
        // default security level; oneM2M mandates them.
        format!("{}:@SECLEVEL=0", suite.openssl_name()),
    ]
}

/// The suite and extended master secret, as OpenSSL reports them.
fn check_openssl_session(out: &str, suite: Suite) {
    assert!(
        out.contains(&format!("Cipher is {}", suite.openssl_name()))
            || out.contains(&format!("Cipher    : {}", suite.openssl_name()))
            || out.contains(&format!("Ciphersuite: {}", suite.openssl_name())),
        "OpenSSL did not report {suite}:\n{out}"
    );
}

// ---- the two directions -------------------------------------------------------------

fn seam_client_vs_s_server(variant: Variant, suite: Suite) {
    if !seam_tests::require_tool("openssl") {
        return;
    }
    let device = Device::new();
    let node = node(&device);
    let pki = Pki::new(&node.cert_public);
    let port = free_port(variant == Variant::Dtls);
    let mut args = vec![
        s("s_server"),
        s("-accept"),
        format!("127.0.0.1:{port}"),
        s("-naccept"),
        s("1"),
    ];
    args.extend(common_openssl_args(variant, suite));
    if suite.is_psk() {
        args.extend([
            s("-nocert"),
            s("-psk"),
            hex::encode(PSK),
            s("-psk_identity"),
            s(IDENTITY),
        ]);
    } else {
        args.extend([
            s("-cert"),
            pki.path("peer.pem"),
            s("-key"),
            pki.path("peer.key"),
        ]);
        if mutual(variant, suite) {
            args.extend([
                s("-Verify"),
                s("1"),
                s("-CAfile"),
                pki.path("ca.pem"),
                s("-verify_return_error"),
            ]);
        }
    }
    let server = OpenSsl::spawn(&args, FROM_OPENSSL);
    assert!(
        server.wait_for("ACCEPT"),
        "s_server did not start:\n{}",
        server.output()
    );

    // As `seam dtls-client --credential SE/KEY [--psk-identity] [--cert]` builds it.
    let mut client = device.client();
    let (object, certificate) = if suite.is_psk() {
        ("psk", OwnCertificate::None)
    } else if mutual(variant, suite) {
        ("cert", OwnCertificate::X509(pki.ta_chain.clone()))
    } else {
        ("cert", OwnCertificate::None)
    };
    let credential = Credential::for_client(
        &mut client,
        &node.stakeholder.se,
        object,
        Some(IDENTITY.as_bytes()),
        certificate,
    )
    .expect("credential");
    let mut opts = ConnectOptions::new(variant, format!("127.0.0.1:{port}"), credential);
    opts.suites = vec![suite];
    opts.server_name = Some(s(SERVER_NAME));
    opts.peer_trust = PeerTrust::CaCertificates(vec![pki.ca_der.clone()]);
    opts.require_extended_master_secret = true;
    opts.handshake_timeout = TIMEOUT;
    let (input, mut output) = io_pair();
    let result = run_client(&mut client, &opts, input, &mut output);
    let info = result.unwrap_or_else(|e| {
        panic!(
            "{variant:?} {suite}: seam client failed: {e}\nopenssl s_server:\n{}",
            server.output()
        )
    });
    let got = String::from_utf8_lossy(&output.data).to_string();
    assert!(got.contains(FROM_OPENSSL), "seam got {got:?}");
    assert!(
        server.wait_for(FROM_SEAM),
        "s_server never got our line:\n{}",
        server.output()
    );
    // (s_server reports its session only at exit; the suite it chose is
    // the one its ServerHello carried, which `info.suite` is.)
    assert_eq!(info.suite, Some(suite));
    assert!(info.extended_master_secret);
    // Two invocations per handshake, every suite, both roles.
    let expected = 2;
    assert_eq!(
        info.invocations, expected,
        "TA invocations for a {suite} client handshake"
    );
    drop(node.stakeholder);
}

fn s_client_vs_seam_server(variant: Variant, suite: Suite) {
    if !seam_tests::require_tool("openssl") {
        return;
    }
    let device = Device::new();
    let node = node(&device);
    let pki = Pki::new(&node.cert_public);
    // As `seam dtls-server --credential SE/KEY [--cert]` builds it: a PSK
    // serves any identity.
    let mut client = device.client();
    let object = if suite.is_psk() { "psk" } else { "cert" };
    let credential = Credential::for_server(
        &mut client,
        &node.stakeholder.se,
        object,
        OwnCertificate::X509(pki.ta_chain.clone()),
    )
    .expect("credential");
    let mut opts = ListenOptions::new(variant, "127.0.0.1:0", credential);
    opts.suites = vec![suite];
    opts.server_names = vec![s(SERVER_NAME)];
    opts.require_client_certificate = mutual(variant, suite);
    opts.peer_trust = PeerTrust::CaCertificates(vec![pki.ca_der.clone()]);
    opts.require_extended_master_secret = true;
    opts.handshake_timeout = TIMEOUT;

    let mut client_process: Option<OpenSsl> = None;
    let mut spawn = |addr: std::net::SocketAddr| {
        let mut args = vec![
            s("s_client"),
            s("-connect"),
            format!("127.0.0.1:{}", addr.port()),
            s("-servername"),
            s(SERVER_NAME),
        ];
        args.extend(common_openssl_args(variant, suite));
        if suite.is_psk() {
            args.extend([s("-psk"), hex::encode(PSK), s("-psk_identity"), s(IDENTITY)]);
        } else {
            args.extend([
                s("-CAfile"),
                pki.path("ca.pem"),
                s("-verify_return_error"),
                s("-verify_hostname"),
                s(SERVER_NAME),
            ]);
            if mutual(variant, suite) {
                args.extend([
                    s("-cert"),
                    pki.path("peer.pem"),
                    s("-key"),
                    pki.path("peer.key"),
                ]);
            }
        }
        client_process = Some(OpenSsl::spawn(&args, FROM_OPENSSL));
    };
    let (input, mut output) = io_pair();
    let result = run_server(&mut client, &opts, input, &mut output, &mut spawn);
    let openssl = client_process.expect("s_client was started");
    let info = result.unwrap_or_else(|e| {
        panic!(
            "{variant:?} {suite}: seam server failed: {e}\nopenssl s_client:\n{}",
            openssl.output()
        )
    });
    let got = String::from_utf8_lossy(&output.data).to_string();
    assert!(got.contains(FROM_OPENSSL), "seam got {got:?}");
    assert!(
        openssl.wait_for(FROM_SEAM),
        "s_client never got our line:\n{}",
        openssl.output()
    );
    let out = openssl.output();
    check_openssl_session(&out, suite);
    assert!(
        out.contains("Extended master secret: yes"),
        "no extended master secret:\n{out}"
    );
    if !suite.is_psk() {
        assert!(out.contains("Verify return code: 0 (ok)"), "{out}");
    }
    assert_eq!(info.suite, Some(suite));
    assert_eq!(info.server_name.as_deref(), Some(SERVER_NAME));
    if mutual(variant, suite) {
        assert!(!info.peer_certificates.is_empty(), "no client certificate");
    }
    // Two invocations per handshake, every suite, both roles.
    let expected = 2;
    assert_eq!(
        info.invocations, expected,
        "TA invocations for a {suite} server handshake"
    );
    drop(node.stakeholder);
}

// ---- the matrix: suite × role × transport ------------------------------------------

macro_rules! matrix {
    ($($name:ident: $variant:ident, $suite:ident;)*) => {
        mod seam_client {
            use super::*;
            $(#[test] fn $name() { seam_client_vs_s_server(Variant::$variant, Suite::$suite); })*
        }
        mod seam_server {
            use super::*;
            $(#[test] fn $name() { s_client_vs_seam_server(Variant::$variant, Suite::$suite); })*
        }
    };
}

matrix! {
    dtls_psk_ccm8: Dtls, PskAes128Ccm8;
    dtls_ecdhe_ecdsa_ccm8: Dtls, EcdheEcdsaAes128Ccm8;
    dtls_psk_cbc_sha256: Dtls, PskAes128CbcSha256;
    dtls_ecdhe_ecdsa_cbc_sha256: Dtls, EcdheEcdsaAes128CbcSha256;
    tls_psk_ccm8: Tls, PskAes128Ccm8;
    tls_ecdhe_ecdsa_ccm8: Tls, EcdheEcdsaAes128Ccm8;
    tls_psk_cbc_sha256: Tls, PskAes128CbcSha256;
    tls_ecdhe_ecdsa_cbc_sha256: Tls, EcdheEcdsaAes128CbcSha256;
}
