//! RFC 7250 raw public keys through `seam tunnel --raw-public-key
//! --peer-key` against GnuTLS (`gnutls-serv`/`gnutls-cli`, Debian
//! gnutls-bin), which speaks them: the SE key presented without a
//! certificate and seen by GnuTLS as exactly that key, the peer's key
//! pinned, both oneM2M ECDHE_ECDSA suites over TLS 1.2, and a peer holding
//! another key refused before it reaches the service; over DTLS the same
//! with libcoap's GnuTLS client in front of libcoap's plain CoAP server.
//! Host only (the emulated device has neither).

mod tunnel_support;

use std::process::Command;
use std::sync::atomic::Ordering;
use std::time::Duration;

use seam::dtls::Suite;
use seam_tests::Device;
use tunnel_support::*;

const LINE: &str = "raw public keys through seam";

/// TLS 1.2, ECDHE_ECDSA with either oneM2M cipher, raw public keys only.
const PRIORITY: &str = "NORMAL:-VERS-ALL:+VERS-TLS1.2:-CIPHER-ALL:+AES-128-CBC:+AES-128-CCM-8:\
    -MAC-ALL:+SHA256:+AEAD:-KX-ALL:+ECDHE-ECDSA:-CTYPE-ALL:+CTYPE-CLI-RAWPK:+CTYPE-SRV-RAWPK";

const SUITES: [Suite; 2] = [
    Suite::EcdheEcdsaAes128CbcSha256,
    Suite::EcdheEcdsaAes128Ccm8,
];

fn usable() -> bool {
    if seam_tests::backend() != seam_tests::Backend::Simulator {
        seam_tests::tools::skipped("GnuTLS runs on the host only");
        return false;
    }
    tool(
        "gnutls-cli",
        "gnutls-bin",
        "raw public key interop with GnuTLS",
    ) && tool(
        "gnutls-serv",
        "gnutls-bin",
        "raw public key interop with GnuTLS",
    )
}

/// The tunnel flags: the SE key as a raw public key, the peer's key pinned.
fn rpk_args(node: &Node, suite: Suite, pinned: &str) -> Vec<String> {
    vec![
        s("--tls"),
        s("--listen"),
        s("127.0.0.1:0"),
        s("--credential"),
        node.credential("cert"),
        s("--raw-public-key"),
        s("--peer-key"),
        node.pki.path(pinned),
        s("--cipher"),
        s(suite.openssl_name()),
    ]
}

/// Sends LINE and a newline (gnutls-serv echoes lines) and reads until it
/// comes back, keeping our side open (a close_notify would end the echo).
fn line_roundtrip(addr: std::net::SocketAddr) -> String {
    use std::io::{Read, Write};
    let mut c = std::net::TcpStream::connect(addr).unwrap();
    c.set_read_timeout(Some(TIMEOUT)).unwrap();
    c.write_all(format!("{LINE}\n").as_bytes()).unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 1024];
    while !String::from_utf8_lossy(&got).contains(LINE) {
        match c.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
        }
    }
    String::from_utf8_lossy(&got).into_owned()
}

/// SHA-256 of a PEM public key's SEC 1 point, as the tunnel logs it.
fn point_sha256(pem_path: &str) -> String {
    use p256::pkcs8::DecodePublicKey;
    let pem = std::fs::read_to_string(pem_path).unwrap();
    let key = p256::PublicKey::from_public_key_pem(&pem).unwrap();
    let point = key.to_sec1_bytes();
    hex::encode(ring::digest::digest(&ring::digest::SHA256, &point))
}

/// The PEM body lines of a public key file (GnuTLS prints the peer's key).
fn pem_body(path: &str) -> String {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Whether a GnuTLS tool's output shows the PEM key in `path`. Line by line:
/// the tool's stdout and stderr share one pipe, and a line of one can land
/// inside the other's PEM block.
fn shows_pem(output: &str, path: &str) -> bool {
    pem_body(path)
        .lines()
        .all(|line| output.lines().any(|l| l.trim() == line))
}

#[test]
fn tunnel_client_with_raw_public_keys_vs_gnutls_serv() {
    if !usable() {
        return;
    }
    let device = Device::new();
    let node = node(&device);
    for suite in SUITES {
        let port = free_port(false);
        let mut cmd = Command::new("gnutls-serv");
        cmd.args([
            "--port",
            &port.to_string(),
            "--echo",
            "--require-client-cert",
        ])
        .args(["--rawpkkeyfile", &node.pki.path("peer.key")])
        .args(["--rawpkfile", &node.pki.path("peer.pub.pem")])
        .args(["--priority", PRIORITY]);
        let server = Proc::spawn(cmd, None);
        assert!(
            server.wait_for("listening"),
            "gnutls-serv did not start:\n{}",
            server.output()
        );
        let mut a = vec![s("client")];
        a.extend(rpk_args(&node, suite, "peer.pub.pem"));
        a.extend([s("--connect"), format!("127.0.0.1:{port}")]);
        let tunnel = node.tunnel(&a);

        let got = line_roundtrip(tunnel.addr);
        assert!(
            got.contains(LINE),
            "{suite}: gnutls-serv's echo\ntunnel:\n{}\ngnutls-serv:\n{}",
            tunnel.proc.output(),
            server.output()
        );
        // GnuTLS received the SE's key itself, as a raw public key.
        assert!(server.wait_for("Certificate type: Raw Public Key"));
        assert!(
            shows_pem(&server.output(), &node.pki.path("se.pub.pem")),
            "{suite}: gnutls-serv did not see the SE key:\n{}",
            server.output()
        );
        let opened = tunnel.wait_events("connection", 1);
        assert_eq!(opened[0]["suite"], suite.name(), "{opened:?}");
        assert_eq!(
            opened[0]["identity"]["raw_key_sha256"],
            point_sha256(&node.pki.path("peer.pub.pem")),
            "{opened:?}"
        );
    }
}

#[test]
fn gnutls_cli_with_raw_public_keys_vs_tunnel_server() {
    if !usable() || !seam_tests::require_tool("openssl") {
        return;
    }
    let device = Device::new();
    let node = node(&device);
    // The public half of a key the tunnel does not pin.
    let out = Command::new("openssl")
        .args(["pkey", "-pubout", "-in", &node.pki.path("stranger.key")])
        .output()
        .unwrap();
    assert!(out.status.success());
    std::fs::write(node.pki.path("stranger.pub.pem"), &out.stdout).unwrap();

    let gnutls_cli = |port: u16, key: &str, public: &str, line: &str| {
        let mut cmd = Command::new("gnutls-cli");
        cmd.args(["--port", &port.to_string(), "127.0.0.1"])
            .args(["--rawpkkeyfile", &node.pki.path(key)])
            .args(["--rawpkfile", &node.pki.path(public)])
            .args(["--priority", PRIORITY])
            // No CA for a raw key: the test compares the key GnuTLS
            // printed with the SE's instead.
            .args(["--no-ca-verification", "--print-cert"]);
        Proc::spawn(cmd, Some(line))
    };
    for suite in SUITES {
        let echo = tcp_echo();
        let mut a = vec![s("server")];
        a.extend(rpk_args(&node, suite, "peer.pub.pem"));
        a.extend([s("--forward"), echo.addr.to_string()]);
        let tunnel = node.tunnel(&a);
        let port = tunnel.addr.port();

        let client = gnutls_cli(port, "peer.key", "peer.pub.pem", LINE);
        assert!(
            client.wait_for(&format!("echo:{LINE}")),
            "{suite}: gnutls-cli got no echo\ngnutls-cli:\n{}\ntunnel:\n{}",
            client.output(),
            tunnel.proc.output()
        );
        assert!(
            shows_pem(&client.output(), &node.pki.path("se.pub.pem")),
            "{suite}: gnutls-cli did not see the SE key:\n{}",
            client.output()
        );
        let opened = tunnel.wait_events("connection", 1);
        assert_eq!(opened[0]["suite"], suite.name(), "{opened:?}");
        assert_eq!(
            opened[0]["identity"]["raw_key_sha256"],
            point_sha256(&node.pki.path("peer.pub.pem")),
            "{opened:?}"
        );
        drop(client);

        // Another key than the pinned one: refused, never forwarded.
        let stranger = gnutls_cli(port, "stranger.key", "stranger.pub.pem", "intruder");
        let refused = tunnel.wait_events("refused", 1);
        assert!(
            !refused.is_empty(),
            "{suite}: tunnel:\n{}\ngnutls-cli:\n{}",
            tunnel.proc.output(),
            stranger.output()
        );
        std::thread::sleep(Duration::from_millis(300));
        assert!(
            !stranger.output().contains("echo:"),
            "{}",
            stranger.output()
        );
        assert_eq!(echo.accepted.load(Ordering::SeqCst), 1, "{suite}");
    }
}

/// DTLS: libcoap's GnuTLS client (Debian libcoap3-bin) with a raw public
/// key, through `seam tunnel server --dtls --raw-public-key`, to libcoap's
/// plain CoAP server; another key is refused.
#[test]
fn coap_client_with_raw_public_keys_vs_tunnel_server_dtls() {
    if !usable()
        || !tool(
            "coap-client-gnutls",
            "libcoap3-bin",
            "raw public keys over DTLS",
        )
        || !tool(
            "coap-server-notls",
            "libcoap3-bin",
            "raw public keys over DTLS",
        )
    {
        return;
    }
    if !seam_tests::require_tool("openssl") {
        return;
    }
    let device = Device::new();
    let node = node(&device);
    // libcoap takes a raw public key as one PEM file with the private key
    // (SEC 1) and the public key.
    for name in ["peer", "stranger"] {
        let key = node.pki.path(&format!("{name}.key"));
        let mut rpk = Vec::new();
        for args in [
            &["ec", "-in", &key][..],
            &["pkey", "-pubout", "-in", &key][..],
        ] {
            let out = Command::new("openssl").args(args).output().unwrap();
            assert!(out.status.success(), "openssl {args:?}");
            rpk.extend(out.stdout);
        }
        std::fs::write(node.pki.path(&format!("{name}.rpk.pem")), rpk).unwrap();
    }
    let coap_port = free_port(true);
    let mut cmd = Command::new("coap-server-notls");
    cmd.args(["-A", "127.0.0.1", "-p", &coap_port.to_string()]);
    let _server = Proc::spawn(cmd, None);

    let mut a = vec![s("server"), s("--dtls")];
    a.extend(rpk_args(&node, Suite::EcdheEcdsaAes128Ccm8, "peer.pub.pem")[1..].to_vec());
    a.extend([s("--forward"), format!("127.0.0.1:{coap_port}")]);
    let tunnel = node.tunnel(&a);
    let coap_get = |key: &str, wait: &str| {
        let out = Command::new("coap-client-gnutls")
            .args(["-M", &node.pki.path(key), "-B", wait, "-m", "get"])
            .arg(format!("coaps://{}/.well-known/core", tunnel.addr))
            .output()
            .unwrap();
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    };
    let got = coap_get("peer.rpk.pem", "20");
    assert!(
        got.contains("</time>"),
        "coap-client got {got:?}\ntunnel:\n{}",
        tunnel.proc.output()
    );
    let opened = tunnel.wait_events("connection", 1);
    assert_eq!(opened[0]["version"], "DTLSv1.2", "{opened:?}");
    assert_eq!(
        opened[0]["suite"],
        Suite::EcdheEcdsaAes128Ccm8.name(),
        "{opened:?}"
    );
    assert_eq!(
        opened[0]["identity"]["raw_key_sha256"],
        point_sha256(&node.pki.path("peer.pub.pem")),
        "{opened:?}"
    );

    let got = coap_get("stranger.rpk.pem", "5");
    assert!(!got.contains("</time>"), "another key got {got:?}");
    let refused = tunnel.wait_events("refused", 1);
    assert!(!refused.is_empty(), "{}", tunnel.proc.output());
}
