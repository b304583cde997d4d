//! `seam tunnel client|server --tls13` (rustls with the SE provider) against
//! OpenSSL's `s_server -tls1_3` and `s_client -tls1_3`, mutual certificates:
//! data both ways, the logged version and peer identity, and a client
//! without a certificate refused before it reaches the service.

mod tunnel_support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use seam_tests::Device;
use tunnel_support::*;

const FROM_PLAIN: &str = "hello from the plain side";
const FROM_OPENSSL: &str = "hello from openssl";
const PEER_ID: &str = "//m2m.seam.test/id-peer";

fn tls13_args(node: &Node, side: &str) -> Vec<String> {
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
}

#[test]
fn tunnel_client_tls13_vs_s_server() {
    if !seam_tests::require_tool("openssl") {
        return;
    }
    let device = Device::new();
    let node = node(&device);
    let port = free_port(false);
    let mut cmd = Command::new("openssl");
    cmd.args(["s_server", "-accept"])
        .arg(format!("127.0.0.1:{port}"))
        .args(["-naccept", "1", "-tls1_3", "-cert"])
        .arg(node.pki.path("peer.pem"))
        .arg("-key")
        .arg(node.pki.path("peer.key"))
        .args(["-Verify", "1", "-CAfile"])
        .arg(node.pki.path("ca.pem"))
        .arg("-verify_return_error");
    let server = Proc::spawn(cmd, Some(FROM_OPENSSL));
    assert!(server.wait_for("ACCEPT"), "{}", server.output());
    let mut a = tls13_args(&node, "client");
    a.extend([s("--connect"), format!("127.0.0.1:{port}")]);
    a.extend([s("--server-name"), s(SERVER_NAME)]);
    let tunnel = node.tunnel(&a);

    let mut c = TcpStream::connect(tunnel.addr).unwrap();
    c.set_read_timeout(Some(TIMEOUT)).unwrap();
    c.write_all(format!("{FROM_PLAIN}\n").as_bytes()).unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 1024];
    let start = Instant::now();
    while !String::from_utf8_lossy(&got).contains(FROM_OPENSSL) && start.elapsed() < TIMEOUT {
        match c.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
        }
    }
    assert!(
        String::from_utf8_lossy(&got).contains(FROM_OPENSSL),
        "the plain side got {got:?}\ntunnel:\n{}\ns_server:\n{}",
        tunnel.proc.output(),
        server.output()
    );
    assert!(server.wait_for(FROM_PLAIN), "{}", server.output());
    // s_server speaks only TLS 1.3 (-tls1_3) and verified the tunnel's
    // certificate (-verify_return_error).
    let opened = tunnel.wait_events("connection", 1);
    assert_eq!(opened[0]["version"], "TLSv1.3", "{opened:?}");
    assert_eq!(opened[0]["identity"]["san_uris"][0], PEER_ID, "{opened:?}");
}

fn s_client(node: &Node, addr: std::net::SocketAddr, with_cert: bool) -> Proc {
    let mut cmd = Command::new("openssl");
    cmd.args(["s_client", "-connect"])
        .arg(addr.to_string())
        .args(["-tls1_3", "-servername", SERVER_NAME, "-ign_eof", "-CAfile"])
        .arg(node.pki.path("ca.pem"))
        .arg("-verify_return_error");
    if with_cert {
        cmd.arg("-cert")
            .arg(node.pki.path("peer.pem"))
            .arg("-key")
            .arg(node.pki.path("peer.key"));
    }
    Proc::spawn(cmd, Some(FROM_OPENSSL))
}

#[test]
fn s_client_tls13_vs_tunnel_server() {
    if !seam_tests::require_tool("openssl") {
        return;
    }
    let device = Device::new();
    let node = node(&device);
    let echo = tcp_echo();
    let mut a = tls13_args(&node, "server");
    a.extend([s("--forward"), echo.addr.to_string()]);
    let tunnel = node.tunnel(&a);

    let client = s_client(&node, tunnel.addr, true);
    assert!(
        client.wait_for(&format!("echo:{FROM_OPENSSL}")),
        "s_client got no echo\ns_client:\n{}\ntunnel:\n{}",
        client.output(),
        tunnel.proc.output()
    );
    assert!(client.output().contains("TLSv1.3"), "{}", client.output());
    // The tunnel's certificate, verified by OpenSSL against the CA.
    assert!(
        client.output().contains("Verify return code: 0 (ok)"),
        "{}",
        client.output()
    );
    let opened = tunnel.wait_events("connection", 1);
    assert_eq!(opened[0]["version"], "TLSv1.3", "{opened:?}");
    assert_eq!(opened[0]["identity"]["san_uris"][0], PEER_ID, "{opened:?}");
    assert_eq!(echo.accepted.load(Ordering::SeqCst), 1);

    // Without a client certificate: refused, never reaches the service.
    let anonymous = s_client(&node, tunnel.addr, false);
    let refused = tunnel.wait_events("refused", 1);
    assert!(
        !refused.is_empty(),
        "tunnel:\n{}\ns_client:\n{}",
        tunnel.proc.output(),
        anonymous.output()
    );
    assert!(!refused[0]["reason"].as_str().unwrap_or("").is_empty());
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        !anonymous.output().contains("echo:"),
        "{}",
        anonymous.output()
    );
    assert_eq!(
        echo.accepted.load(Ordering::SeqCst),
        1,
        "only the authenticated client reached the service"
    );
}
