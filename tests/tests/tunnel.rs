//! `seam tunnel client|server`, run as a device image runs it (the built
//! `seam` tool, `--json` log lines), on the simulator here and on the real
//! TA in the emulated device: against OpenSSL in both roles and against
//! itself, for the four oneM2M suites over TLS and DTLS; many connections
//! at once; refused handshakes that never reach the service while others
//! keep working; SIGTERM; half-close; an unreachable forward address; and a
//! flood of ClientHellos from many ports that stays bounded.
//!
//! Every process runs with bounded waits on 127.0.0.1 and is killed on drop.

mod tunnel_support;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use seam::dtls::secrets::{ClientFinish, ClientOpen, SecretsError, ServerFinish, ServerOpen};
use seam::dtls::{Config, Connection, HandshakeSecrets, Suite, Variant};
use seam_tests::Device;
use tunnel_support::*;

const FROM_PLAIN: &str = "hello from the plain side";
const FROM_OPENSSL: &str = "hello from openssl";

fn transport(v: Variant) -> String {
    s(match v {
        Variant::Tls => "--tls",
        Variant::Dtls => "--dtls",
    })
}

/// The tunnel flags for `suite` on `side`: PSK, or the SE key with its
/// certificate and the CA (mutual authentication).
fn credential_args(node: &Node, suite: Suite, server: bool) -> Vec<String> {
    let mut a = vec![s("--cipher"), s(suite.openssl_name())];
    if suite.is_psk() {
        a.extend([s("--credential"), node.credential("psk")]);
        if !server {
            a.extend([s("--psk-identity"), s(IDENTITY)]);
        }
    } else {
        a.extend([
            s("--credential"),
            node.credential("cert"),
            s("--cert"),
            node.pki.path("se.pem"),
            s("--ca"),
            node.pki.path("ca.pem"),
        ]);
        if !server {
            a.extend([s("--server-name"), s(SERVER_NAME)]);
        }
    }
    a
}

fn tunnel_server(node: &Node, v: Variant, suite: Suite, forward: SocketAddr) -> Tunnel {
    tunnel_server_with(node, v, suite, forward, &[])
}

fn tunnel_server_with(
    node: &Node,
    v: Variant,
    suite: Suite,
    forward: SocketAddr,
    extra: &[&str],
) -> Tunnel {
    let mut a = vec![s("server"), transport(v), s("--listen"), s("127.0.0.1:0")];
    a.extend([s("--forward"), forward.to_string()]);
    a.extend(credential_args(node, suite, true));
    a.extend(extra.iter().map(|x| s(x)));
    node.tunnel(&a)
}

fn tunnel_client(node: &Node, v: Variant, suite: Suite, connect: SocketAddr) -> Tunnel {
    tunnel_client_with(node, v, suite, connect, &[])
}

fn tunnel_client_with(
    node: &Node,
    v: Variant,
    suite: Suite,
    connect: SocketAddr,
    extra: &[&str],
) -> Tunnel {
    let mut a = vec![s("client"), transport(v), s("--listen"), s("127.0.0.1:0")];
    a.extend([s("--connect"), connect.to_string()]);
    a.extend(credential_args(node, suite, false));
    a.extend(extra.iter().map(|x| s(x)));
    node.tunnel(&a)
}

fn roundtrip(v: Variant, addr: SocketAddr, line: &str) -> String {
    match v {
        Variant::Tls => tcp_roundtrip(addr, line).unwrap_or_else(|e| format!("error: {e}")),
        Variant::Dtls => udp_roundtrip(addr, line).unwrap_or_default(),
    }
}

fn openssl_common(v: Variant, suite: Suite) -> Vec<String> {
    vec![
        s(match v {
            Variant::Dtls => "-dtls1_2",
            Variant::Tls => "-tls1_2",
        }),
        s("-cipher"),
        format!("{}:@SECLEVEL=0", suite.openssl_name()),
    ]
}

// ---- the matrix ----------------------------------------------------------------------

fn tunnel_client_vs_s_server(v: Variant, suite: Suite) {
    if !seam_tests::require_tool("openssl") {
        return;
    }
    let device = Device::new();
    let node = node(&device);
    let port = free_port(v == Variant::Dtls);
    let mut args = vec![
        s("s_server"),
        s("-accept"),
        format!("127.0.0.1:{port}"),
        s("-naccept"),
        s("1"),
    ];
    args.extend(openssl_common(v, suite));
    if suite.is_psk() {
        args.extend([s("-nocert"), s("-psk"), hex::encode(PSK)]);
    } else {
        args.extend([
            s("-cert"),
            node.pki.path("peer.pem"),
            s("-key"),
            node.pki.path("peer.key"),
            s("-Verify"),
            s("1"),
            s("-CAfile"),
            node.pki.path("ca.pem"),
            s("-verify_return_error"),
        ]);
    }
    let mut cmd = std::process::Command::new("openssl");
    cmd.args(&args);
    let server = Proc::spawn(cmd, Some(FROM_OPENSSL));
    assert!(server.wait_for("ACCEPT"), "{}", server.output());
    let tunnel = tunnel_client(
        &node,
        v,
        suite,
        format!("127.0.0.1:{port}").parse().unwrap(),
    );

    // The plain side sends its line and reads what comes back.
    let got = match v {
        Variant::Tls => {
            let mut c = TcpStream::connect(tunnel.addr).unwrap();
            c.set_read_timeout(Some(TIMEOUT)).unwrap();
            c.write_all(format!("{FROM_PLAIN}\n").as_bytes()).unwrap();
            let mut got = Vec::new();
            let mut buf = [0u8; 1024];
            while !String::from_utf8_lossy(&got).contains(FROM_OPENSSL) {
                match c.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => got.extend_from_slice(&buf[..n]),
                }
            }
            String::from_utf8_lossy(&got).into_owned()
        }
        Variant::Dtls => {
            let c = UdpSocket::bind("127.0.0.1:0").unwrap();
            c.set_read_timeout(Some(TIMEOUT)).unwrap();
            c.send_to(format!("{FROM_PLAIN}\n").as_bytes(), tunnel.addr)
                .unwrap();
            let mut buf = [0u8; 2048];
            c.recv_from(&mut buf)
                .map(|(n, _)| String::from_utf8_lossy(&buf[..n]).into_owned())
                .unwrap_or_default()
        }
    };
    assert!(
        got.contains(FROM_OPENSSL),
        "{v:?} {suite}: the plain side got {got:?}\ntunnel:\n{}\ns_server:\n{}",
        tunnel.proc.output(),
        server.output()
    );
    assert!(server.wait_for(FROM_PLAIN), "{}", server.output());
    let opened = tunnel.wait_events("connection", 1);
    assert_eq!(opened[0]["suite"], suite.name(), "{opened:?}");
    if !suite.is_psk() {
        // The server's certificate, as authenticated.
        assert_eq!(
            opened[0]["identity"]["san_uris"][0],
            "//m2m.seam.test/id-peer"
        );
        assert!(opened[0]["identity"]["subject"]
            .as_str()
            .unwrap()
            .contains("CN=peer"));
    }
}

fn s_client_vs_tunnel_server(v: Variant, suite: Suite) {
    if !seam_tests::require_tool("openssl") {
        return;
    }
    let device = Device::new();
    let node = node(&device);
    let echo = if v == Variant::Tls {
        tcp_echo()
    } else {
        udp_echo()
    };
    let tunnel = tunnel_server(&node, v, suite, echo.addr);
    let mut args = vec![
        s("s_client"),
        s("-connect"),
        tunnel.addr.to_string(),
        s("-servername"),
        s(SERVER_NAME),
        s("-ign_eof"),
    ];
    args.extend(openssl_common(v, suite));
    if suite.is_psk() {
        args.extend([s("-psk"), hex::encode(PSK), s("-psk_identity"), s(IDENTITY)]);
    } else {
        args.extend([
            s("-CAfile"),
            node.pki.path("ca.pem"),
            s("-verify_return_error"),
            s("-cert"),
            node.pki.path("peer.pem"),
            s("-key"),
            node.pki.path("peer.key"),
        ]);
    }
    let mut cmd = std::process::Command::new("openssl");
    cmd.args(&args);
    let client = Proc::spawn(cmd, Some(FROM_OPENSSL));
    assert!(
        client.wait_for(&format!("echo:{FROM_OPENSSL}")),
        "{v:?} {suite}: s_client got no echo\ns_client:\n{}\ntunnel:\n{}",
        client.output(),
        tunnel.proc.output()
    );
    let opened = tunnel.wait_events("connection", 1);
    assert_eq!(opened[0]["suite"], suite.name());
    if suite.is_psk() {
        assert_eq!(opened[0]["identity"]["psk_identity"], IDENTITY);
    } else {
        assert_eq!(
            opened[0]["identity"]["san_uris"][0],
            "//m2m.seam.test/id-peer"
        );
    }
}

fn tunnel_vs_tunnel(v: Variant, suite: Suite) {
    let device = Device::new();
    let node = node(&device);
    let echo = if v == Variant::Tls {
        tcp_echo()
    } else {
        udp_echo()
    };
    let server = tunnel_server(&node, v, suite, echo.addr);
    let client = tunnel_client(&node, v, suite, server.addr);
    let got = roundtrip(v, client.addr, FROM_PLAIN);
    assert_eq!(
        got,
        format!("echo:{FROM_PLAIN}"),
        "{v:?} {suite}\nclient:\n{}\nserver:\n{}",
        client.proc.output(),
        server.proc.output()
    );
    let opened = server.wait_events("connection", 1);
    assert_eq!(opened[0]["suite"], suite.name());
    assert_eq!(
        opened[0]["version"],
        if v == Variant::Tls {
            "TLSv1.2"
        } else {
            "DTLSv1.2"
        }
    );
    if suite.is_psk() {
        assert_eq!(opened[0]["identity"]["psk_identity"], IDENTITY);
    } else {
        // Both ends present the SE key's certificate: its CSE-ID is the identity.
        assert_eq!(opened[0]["identity"]["san_uris"][0], CSE_ID);
        let c = client.wait_events("connection", 1);
        assert_eq!(c[0]["identity"]["san_uris"][0], CSE_ID);
    }
}

macro_rules! matrix {
    ($($name:ident: $variant:ident, $suite:ident;)*) => {
        mod tunnel_client_vs_openssl {
            use super::*;
            $(#[test] fn $name() { tunnel_client_vs_s_server(Variant::$variant, Suite::$suite); })*
        }
        mod openssl_vs_tunnel_server {
            use super::*;
            $(#[test] fn $name() { s_client_vs_tunnel_server(Variant::$variant, Suite::$suite); })*
        }
        mod tunnel_to_tunnel {
            use super::*;
            $(#[test] fn $name() { tunnel_vs_tunnel(Variant::$variant, Suite::$suite); })*
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

// ---- load, failures, lifecycle --------------------------------------------------------

#[test]
fn many_connections_at_once() {
    let device = Device::new();
    let node = node(&device);
    for v in [Variant::Tls, Variant::Dtls] {
        let suite = Suite::EcdheEcdsaAes128Ccm8;
        let echo = if v == Variant::Tls {
            tcp_echo()
        } else {
            udp_echo()
        };
        // On the real TA both tunnels call as the same user, whose handshake
        // sessions the TA caps at 4: two at a time each stays within it.
        let two = ["--max-handshakes", "2"];
        let server = tunnel_server_with(&node, v, suite, echo.addr, &two);
        let client = tunnel_client_with(&node, v, suite, server.addr, &two);
        let n = 16;
        let threads: Vec<_> = (0..n)
            .map(|i| {
                let addr = client.addr;
                std::thread::spawn(move || (i, roundtrip(v, addr, &format!("line {i}"))))
            })
            .collect();
        for t in threads {
            let (i, got) = t.join().unwrap();
            assert_eq!(
                got,
                format!("echo:line {i}"),
                "{v:?}\n{}",
                server.proc.output()
            );
        }
        assert_eq!(server.wait_events("connection", n).len(), n, "{v:?}");
    }
}

#[test]
fn bad_handshakes_are_refused_and_never_reach_the_service() {
    let device = Device::new();
    let node = node(&device);
    let echo = tcp_echo();
    let suite = Suite::EcdheEcdsaAes128CbcSha256;
    let server = tunnel_server(&node, Variant::Tls, suite, echo.addr);
    // A peer that connects and says nothing holds no SE slot.
    let silent: Vec<TcpStream> = (0..6)
        .map(|_| TcpStream::connect(server.addr).unwrap())
        .collect();
    // Garbage instead of a ClientHello.
    let mut junk = TcpStream::connect(server.addr).unwrap();
    junk.write_all(b"GET / HTTP/1.1\r\n\r\n").unwrap();
    // A client without a certificate, and one from another CA.
    if seam_tests::require_tool("openssl") {
        for (cert, key) in [(None, None), (Some("stranger.pem"), Some("stranger.key"))] {
            let mut args = vec![
                s("s_client"),
                s("-connect"),
                server.addr.to_string(),
                s("-tls1_2"),
                s("-CAfile"),
                node.pki.path("ca.pem"),
            ];
            if let (Some(c), Some(k)) = (cert, key) {
                args.extend([s("-cert"), node.pki.path(c), s("-key"), node.pki.path(k)]);
            }
            let mut cmd = std::process::Command::new("openssl");
            cmd.args(&args);
            let p = Proc::spawn(cmd, Some("must not arrive"));
            let _ = p.wait_for("alert");
        }
    }
    // Meanwhile a proper client gets through.
    let client = tunnel_client(&node, Variant::Tls, suite, server.addr);
    assert_eq!(
        tcp_roundtrip(client.addr, "ok").unwrap(),
        "echo:ok",
        "{}",
        server.proc.output()
    );
    let refused = server.wait_events("refused", 1);
    assert!(!refused.is_empty(), "{}", server.proc.output());
    let reasons: Vec<String> = refused
        .iter()
        .map(|r| r["reason"].as_str().unwrap_or("").to_string())
        .collect();
    assert!(
        reasons.iter().all(|r| !r.is_empty()),
        "every refusal has a reason: {reasons:?}"
    );
    assert_eq!(
        echo.accepted.load(Ordering::SeqCst),
        1,
        "only the authenticated client reached the service:\n{}",
        server.proc.output()
    );
    drop(silent);
}

#[test]
fn sigterm_drains_and_exits_0() {
    let device = Device::new();
    let node = node(&device);
    let echo = tcp_echo();
    let mut server = tunnel_server(&node, Variant::Tls, Suite::PskAes128CbcSha256, echo.addr);
    let client = tunnel_client(&node, Variant::Tls, Suite::PskAes128CbcSha256, server.addr);
    // An open connection when the signal comes: it still gets its answer.
    let mut open = TcpStream::connect(client.addr).unwrap();
    open.set_read_timeout(Some(TIMEOUT)).unwrap();
    open.write_all(b"before").unwrap();
    let mut buf = [0u8; 64];
    let n = open.read(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"echo:before");
    let started = Instant::now();
    let code = server.proc.terminate();
    assert_eq!(code, Some(0), "{}", server.proc.output());
    assert!(started.elapsed() < Duration::from_secs(15));
    let mut client = client;
    assert_eq!(client.proc.terminate(), Some(0));
}

#[test]
fn half_close_passes_through_both_ways() {
    let device = Device::new();
    let node = node(&device);
    let echo = tcp_echo();
    for suite in [Suite::PskAes128Ccm8, Suite::EcdheEcdsaAes128CbcSha256] {
        let server = tunnel_server(&node, Variant::Tls, suite, echo.addr);
        let client = tunnel_client(&node, Variant::Tls, suite, server.addr);
        // We end our side first; the answer still arrives, then the end.
        let mut c = TcpStream::connect(client.addr).unwrap();
        c.set_read_timeout(Some(TIMEOUT)).unwrap();
        c.write_all(b"then I stop sending").unwrap();
        c.shutdown(std::net::Shutdown::Write).unwrap();
        let mut got = String::new();
        c.read_to_string(&mut got).unwrap();
        assert_eq!(got, "echo:then I stop sending", "{suite}");
    }
}

#[test]
fn unreachable_forward_address_is_logged_and_the_tunnel_keeps_serving() {
    let device = Device::new();
    let node = node(&device);
    let nowhere: SocketAddr = format!("127.0.0.1:{}", free_port(false)).parse().unwrap();
    let suite = Suite::PskAes128CbcSha256;
    let server = tunnel_server(&node, Variant::Tls, suite, nowhere);
    let client = tunnel_client(&node, Variant::Tls, suite, server.addr);
    for _ in 0..2 {
        let got = tcp_roundtrip(client.addr, "anyone?").unwrap_or_default();
        assert_eq!(got, "", "nothing answers");
    }
    let refused = server.wait_events("refused", 2);
    assert_eq!(refused.len(), 2, "{}", server.proc.output());
    assert!(refused[0]["reason"]
        .as_str()
        .unwrap()
        .contains("forwarding to"));
    // A client whose --connect goes nowhere says so, and keeps listening.
    let lost = tunnel_client(&node, Variant::Tls, suite, nowhere);
    assert_eq!(tcp_roundtrip(lost.addr, "x").unwrap_or_default(), "");
    let r = lost.wait_events("refused", 1);
    assert!(r[0]["reason"].as_str().unwrap().contains("connecting to"));
    assert_eq!(tcp_roundtrip(lost.addr, "y").unwrap_or_default(), "");
    assert_eq!(lost.wait_events("refused", 2).len(), 2);
}

#[test]
fn connection_limit_refuses_the_excess() {
    let device = Device::new();
    let node = node(&device);
    let echo = tcp_echo();
    let suite = Suite::PskAes128CbcSha256;
    let mut a = vec![s("server"), s("--tls"), s("--listen"), s("127.0.0.1:0")];
    a.extend([
        s("--forward"),
        echo.addr.to_string(),
        s("--max-connections"),
        s("2"),
    ]);
    a.extend(credential_args(&node, suite, true));
    let server = node.tunnel(&a);
    let held: Vec<TcpStream> = (0..2)
        .map(|_| TcpStream::connect(server.addr).unwrap())
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    let mut third = TcpStream::connect(server.addr).unwrap();
    third.set_read_timeout(Some(TIMEOUT)).unwrap();
    let mut buf = [0u8; 8];
    assert_eq!(third.read(&mut buf).unwrap_or(0), 0, "closed at once");
    let refused = server.wait_events("refused", 1);
    assert!(refused[0]["reason"]
        .as_str()
        .unwrap()
        .contains("--max-connections"));
    drop(held);
}

/// Secrets that only open a client handshake (its random), enough for the
/// engine to send a ClientHello; nothing after it is reached.
struct HelloOnly;

impl HandshakeSecrets for HelloOnly {
    fn client_open(&mut self, _: Variant, _: &[Suite]) -> Result<ClientOpen, SecretsError> {
        Ok(ClientOpen {
            random: [7; 32],
            public: None,
        })
    }
    fn client_finish(&mut self, _: Suite, _: &[u8]) -> Result<ClientFinish, SecretsError> {
        Err(SecretsError::Failed("not reached".into()))
    }
    fn server_open(&mut self, _: Variant, _: Suite, _: &[u8]) -> Result<ServerOpen, SecretsError> {
        Err(SecretsError::Failed("not reached".into()))
    }
    fn server_finish(&mut self, _: Suite, _: &[u8]) -> Result<ServerFinish, SecretsError> {
        Err(SecretsError::Failed("not reached".into()))
    }
}

/// A real DTLS ClientHello (epoch 0, no cookie), as a client would send it.
fn client_hello(_device: &Device) -> Vec<u8> {
    let mut config = Config::new(Variant::Dtls, vec![Suite::PskAes128Ccm8]);
    config.psk_identity = Some(IDENTITY.as_bytes().to_vec());
    let mut c = Connection::client(config, HelloOnly, Instant::now());
    c.poll_output().unwrap()
}

#[test]
fn a_flood_of_client_hellos_from_many_ports_stays_bounded() {
    let device = Device::new();
    let node = node(&device);
    let echo = udp_echo();
    let server = tunnel_server(&node, Variant::Dtls, Suite::PskAes128Ccm8, echo.addr);
    let before = server.threads();
    let hello = client_hello(&device);
    let started = Instant::now();
    let mut answered = 0;
    let sockets: Vec<UdpSocket> = (0..200)
        .map(|_| UdpSocket::bind("127.0.0.1:0").unwrap())
        .collect();
    // Junk first, from every port at once: dropped without an answer.
    for (i, sock) in sockets.iter().enumerate() {
        sock.send_to(
            &[0x16, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, i as u8],
            server.addr,
        )
        .unwrap();
        sock.send_to(b"random junk datagram", server.addr).unwrap();
    }
    std::thread::sleep(Duration::from_millis(500));
    // Then ClientHellos, in bursts of 50 ports (the socket buffers of a
    // loopback test hold that much).
    for burst in sockets.chunks(50) {
        for sock in burst {
            sock.send_to(&hello, server.addr).unwrap();
        }
        for sock in burst {
            sock.set_read_timeout(Some(Duration::from_millis(500)))
                .unwrap();
            let mut buf = [0u8; 512];
            if let Ok((n, _)) = sock.recv_from(&mut buf) {
                // A HelloVerifyRequest (handshake record, message type 3).
                if n > 13 && buf[0] == 22 && buf[13] == 3 {
                    answered += 1;
                }
            }
        }
    }
    assert!(answered >= 195, "HelloVerifyRequests: {answered}");
    // No association, no thread, no SE call for any of them.
    assert!(server.events("connection").is_empty());
    assert!(
        server.threads() <= before + 1,
        "threads grew from {before} to {}",
        server.threads()
    );
    assert_eq!(echo.accepted.load(Ordering::SeqCst), 0);
    eprintln!("200 ClientHellos answered in {:?}", started.elapsed());
    // And a real client is still served.
    let client = tunnel_client(&node, Variant::Dtls, Suite::PskAes128Ccm8, server.addr);
    assert_eq!(
        udp_roundtrip(client.addr, "still here").as_deref(),
        Some("echo:still here")
    );
}

/// RFC 7250: both ends present the SE key without a certificate and pin the
/// other's key; a pin that does not match refuses the handshake.
#[test]
fn raw_public_keys_pinned_both_ways() {
    let device = Device::new();
    let node = node(&device);
    for v in [Variant::Tls, Variant::Dtls] {
        let echo = if v == Variant::Tls {
            tcp_echo()
        } else {
            udp_echo()
        };
        let raw = |side: &str, pin: &str| {
            let mut a = vec![s(side), transport(v), s("--listen"), s("127.0.0.1:0")];
            a.extend([
                s("--credential"),
                node.credential("cert"),
                s("--raw-public-key"),
                s("--peer-key"),
                node.pki.path(pin),
            ]);
            a
        };
        let mut a = raw("server", "se.pub.pem");
        a.extend([s("--forward"), echo.addr.to_string()]);
        let server = node.tunnel(&a);
        let mut a = raw("client", "se.pub.pem");
        a.extend([s("--connect"), server.addr.to_string()]);
        let client = node.tunnel(&a);
        assert_eq!(
            roundtrip(v, client.addr, "raw"),
            "echo:raw",
            "{v:?}\n{}\n{}",
            client.proc.output(),
            server.proc.output()
        );
        let opened = server.wait_events("connection", 1);
        assert!(
            opened[0]["identity"]["raw_key_sha256"].is_string(),
            "{opened:?}"
        );
        // A client pinning another key refuses the server.
        let mut a = raw("client", "peer.pub.pem");
        a.extend([s("--connect"), server.addr.to_string()]);
        let wrong = node.tunnel(&a);
        assert_ne!(roundtrip(v, wrong.addr, "no"), "echo:no");
        assert!(!wrong.wait_events("refused", 1).is_empty(), "{v:?}");
    }
}

/// TLS 1.3 through the rustls provider, mutual certificates, both ends.
#[test]
fn tls13_tunnel_to_tunnel() {
    let device = Device::new();
    let node = node(&device);
    let echo = tcp_echo();
    let tls13 = |side: &str| {
        vec![
            s(side),
            s("--tls"),
            s("--tls13"),
            s("--listen"),
            s("127.0.0.1:0"),
            s("--credential"),
            node.credential("cert"),
            s("--cert"),
            node.pki.path("se.pem"),
            s("--ca"),
            node.pki.path("ca.pem"),
        ]
    };
    let mut a = tls13("server");
    a.extend([s("--forward"), echo.addr.to_string()]);
    let server = node.tunnel(&a);
    let mut a = tls13("client");
    a.extend([s("--connect"), server.addr.to_string()]);
    a.extend([s("--server-name"), s(SERVER_NAME)]);
    let client = node.tunnel(&a);
    for i in 0..3 {
        assert_eq!(
            tcp_roundtrip(client.addr, &format!("v1.3 #{i}")).unwrap(),
            format!("echo:v1.3 #{i}"),
            "{}\n{}",
            client.proc.output(),
            server.proc.output()
        );
    }
    let opened = server.wait_events("connection", 3);
    assert_eq!(opened[0]["version"], "TLSv1.3");
    assert_eq!(opened[0]["identity"]["san_uris"][0], CSE_ID);
}
