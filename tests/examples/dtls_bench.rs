//! Handshake latency of seam's (D)TLS engine with every secret in the TA
//! (here the simulator) against OpenSSL-to-OpenSSL, for each oneM2M suite,
//! in the same run, against the same `openssl s_server` on 127.0.0.1.
//!
//! Both clients (seam's engine with the TA, and `openssl s_client`) talk to
//! the server through a relay on 127.0.0.1 that timestamps the handshake as
//! the wire sees it: from the client's first byte (its ClientHello) to the
//! server's flight that carries its ChangeCipherSpec. So both are measured
//! the same way, without process start-up, with the same server; the
//! difference is the client's work (for seam: the engine plus the TA
//! invocations through the simulator, whose time is also shown).
//!
//! `cargo run --release -p seam-tests --example dtls_bench [rounds]`

use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpListener, UdpSocket};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use seam::dtls::io::{drive_handshake, flush, Link, TcpLink, UdpLink};
use seam::dtls::{Config, Connection, PeerTrust, Suite, Variant};
use seam::dtls::{SeamSecrets, TaCredentials};
use seam::proto::{ObjectKind, Ops};
use seam::{Client, Transport};
use seam_tests::{Device, Who};

const PSK: [u8; 16] = *b"oneM2M-bench-PSK";
const IDENTITY: &str = "kpsa-bench@m2m.seam.test";

/// Times the TA invocations through it.
struct Timed<T: Transport> {
    inner: T,
    nanos: Arc<AtomicU64>,
}

impl<T: Transport> Transport for Timed<T> {
    fn call(&mut self, request: &[u8]) -> seam::Result<Vec<u8>> {
        let t = Instant::now();
        let r = self.inner.call(request);
        self.nanos
            .fetch_add(t.elapsed().as_nanos() as u64, Ordering::Relaxed);
        r
    }
    fn name(&self) -> &'static str {
        self.inner.name()
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
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

struct Server {
    child: Child,
    output: Arc<Mutex<String>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn s_server(args: &[String]) -> Server {
    let mut child = Command::new("openssl")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("openssl s_server");
    let output = Arc::new(Mutex::new(String::new()));
    let out = child.stdout.take().unwrap();
    let o = output.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            o.lock().unwrap().push_str(&(line + "\n"));
        }
    });
    let start = Instant::now();
    while !output.lock().unwrap().contains("ACCEPT") {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "s_server did not start"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    Server { child, output }
}

/// The handshake as a relay sees it: first client byte → the server's
/// ChangeCipherSpec.
#[derive(Default)]
struct Marks {
    start: Option<Instant>,
    end: Option<Instant>,
}

/// Whether server bytes carry a ChangeCipherSpec record (DTLS: a datagram;
/// TLS: the stream so far, walked record by record).
fn has_ccs(udp: bool, bytes: &[u8]) -> bool {
    if udp {
        seam::dtls::record::split_datagram(bytes)
            .iter()
            .any(|(h, _)| h.content_type == 20)
    } else {
        let mut at = 0;
        while at + 5 <= bytes.len() {
            if bytes[at] == 20 {
                return true;
            }
            at += 5 + u16::from_be_bytes([bytes[at + 3], bytes[at + 4]]) as usize;
        }
        false
    }
}

/// A one-connection relay to `upstream`; returns its address and the marks.
fn relay(udp: bool, upstream: SocketAddr) -> (SocketAddr, Arc<Mutex<Marks>>) {
    let marks = Arc::new(Mutex::new(Marks::default()));
    let stop_after = Duration::from_secs(5);
    if udp {
        let front = UdpSocket::bind("127.0.0.1:0").unwrap();
        let back = UdpSocket::bind("127.0.0.1:0").unwrap();
        back.connect(upstream).unwrap();
        let addr = front.local_addr().unwrap();
        let peer: Arc<Mutex<Option<SocketAddr>>> = Arc::default();
        for dir in [true, false] {
            let (front, back) = (front.try_clone().unwrap(), back.try_clone().unwrap());
            let (marks, peer) = (marks.clone(), peer.clone());
            std::thread::spawn(move || {
                let t0 = Instant::now();
                let mut buf = vec![0u8; 65536];
                front
                    .set_read_timeout(Some(Duration::from_millis(50)))
                    .unwrap();
                back.set_read_timeout(Some(Duration::from_millis(50)))
                    .unwrap();
                while t0.elapsed() < stop_after {
                    if dir {
                        if let Ok((n, from)) = front.recv_from(&mut buf) {
                            let now = Instant::now();
                            *peer.lock().unwrap() = Some(from);
                            marks.lock().unwrap().start.get_or_insert(now);
                            let _ = back.send(&buf[..n]);
                        }
                    } else if let Ok(n) = back.recv(&mut buf) {
                        let now = Instant::now();
                        if has_ccs(true, &buf[..n]) {
                            marks.lock().unwrap().end.get_or_insert(now);
                        }
                        if let Some(p) = *peer.lock().unwrap() {
                            let _ = front.send_to(&buf[..n], p);
                        }
                    }
                }
            });
        }
        (addr, marks)
    } else {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let m = marks.clone();
        std::thread::spawn(move || {
            let Ok((client, _)) = listener.accept() else {
                return;
            };
            let server = std::net::TcpStream::connect(upstream).unwrap();
            let _ = client.set_nodelay(true);
            let _ = server.set_nodelay(true);
            for dir in [true, false] {
                let (mut from, mut to) = if dir {
                    (client.try_clone().unwrap(), server.try_clone().unwrap())
                } else {
                    (server.try_clone().unwrap(), client.try_clone().unwrap())
                };
                let marks = m.clone();
                std::thread::spawn(move || {
                    use std::io::{Read, Write};
                    let mut seen = Vec::new();
                    let mut buf = vec![0u8; 65536];
                    while let Ok(n) = from.read(&mut buf) {
                        if n == 0 {
                            break;
                        }
                        let now = Instant::now();
                        if dir {
                            marks.lock().unwrap().start.get_or_insert(now);
                        } else if seen.len() < 65536 {
                            seen.extend_from_slice(&buf[..n]);
                            if has_ccs(false, &seen) {
                                marks.lock().unwrap().end.get_or_insert(now);
                            }
                        }
                        if to.write_all(&buf[..n]).is_err() {
                            break;
                        }
                    }
                    let _ = to.shutdown(std::net::Shutdown::Write);
                });
            }
        });
        (addr, marks)
    }
}

fn elapsed_ms(marks: &Arc<Mutex<Marks>>) -> Option<f64> {
    let start = Instant::now();
    loop {
        {
            let m = marks.lock().unwrap();
            if let (Some(a), Some(b)) = (m.start, m.end) {
                return Some((b - a).as_secs_f64() * 1e3);
            }
        }
        if start.elapsed() > Duration::from_secs(5) {
            return None;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

fn openssl_client_ms(udp: bool, upstream: SocketAddr, args: &[String]) -> f64 {
    let (addr, marks) = relay(udp, upstream);
    let mut args = args.to_vec();
    args[2] = addr.to_string();
    let status = Command::new("openssl")
        .args(&args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("openssl s_client");
    let _ = status;
    elapsed_ms(&marks).expect("the relay saw no OpenSSL handshake")
}

fn main() {
    let rounds: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(20);
    if !seam_tests::require_tool("openssl") {
        return;
    }
    let device = Device::new();
    let st = device.stakeholder("bench");
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
        .unwrap();
    st.grant("psk", Who::Me, Ops::HANDSHAKE, 12);
    let psk = st.key("psk", 12);

    // OpenSSL's certificate for the ECDHE suites (the seam client checks it
    // against itself as CA: self-signed).
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("k.pem");
    let cert = dir.path().join("c.pem");
    let ok = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
        ])
        .args(["-nodes", "-days", "2", "-subj", "/CN=bench.seam.test"])
        .args(["-addext", "subjectAltName=DNS:bench.seam.test", "-keyout"])
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .stderr(Stdio::null())
        .status()
        .unwrap()
        .success();
    assert!(ok, "openssl req failed");
    let ca = seam::dtls::cert::pem_certificates(&std::fs::read_to_string(&cert).unwrap());

    println!(
        "{:<10} {:<42} {:>10} {:>9} {:>12} {:>12} {:>7}",
        "transport", "suite", "seam ms", "(TA ms)", "openssl ms", "ratio", "TA calls"
    );
    for variant in [Variant::Dtls, Variant::Tls] {
        for suite in Suite::ALL {
            let udp = variant == Variant::Dtls;
            let port = free_port(udp);
            let proto = if udp { "-dtls1_2" } else { "-tls1_2" };
            let mut args: Vec<String> = ["s_server", "-accept"]
                .iter()
                .map(|s| s.to_string())
                .collect();
            args.push(format!("127.0.0.1:{port}"));
            args.extend(
                [
                    "-naccept",
                    &(2 * rounds + 4).to_string(),
                    proto,
                    "-cipher",
                    suite.openssl_name(),
                ]
                .iter()
                .map(|s| s.to_string()),
            );
            if suite.is_psk() {
                args.extend(
                    [
                        "-nocert",
                        "-psk",
                        &hex::encode(PSK),
                        "-psk_identity",
                        IDENTITY,
                    ]
                    .iter()
                    .map(|s| s.to_string()),
                );
            } else {
                args.extend([
                    "-cert".to_string(),
                    cert.display().to_string(),
                    "-key".to_string(),
                    key.display().to_string(),
                ]);
            }
            let server = s_server(&args);
            let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();

            // seam.
            let nanos = Arc::new(AtomicU64::new(0));
            let sim = seam::Simulator::open(device.store_dir().unwrap()).unwrap();
            let mut client = Client::new(Timed {
                inner: sim,
                nanos: nanos.clone(),
            });
            let mut seam_ms = Vec::new();
            let mut ta_ms = Vec::new();
            let mut calls = 0;
            for i in 0..rounds + 1 {
                let mut config = Config::new(variant, vec![suite]);
                config.psk_identity = Some(IDENTITY.as_bytes().to_vec());
                config.server_names = vec!["bench.seam.test".into()];
                config.peer_trust = PeerTrust::CaCertificates(ca.clone());
                let secrets = SeamSecrets::new(
                    &mut client,
                    TaCredentials {
                        psk: Some(psk.clone()),
                        ..Default::default()
                    },
                );
                nanos.store(0, Ordering::Relaxed);
                let (front, marks) = relay(udp, addr);
                let mut link: Box<dyn Link> = if udp {
                    Box::new(UdpLink::connect(front).unwrap())
                } else {
                    Box::new(TcpLink::connect(front, Duration::from_secs(5)).unwrap())
                };
                let mut conn = Connection::client(config, secrets, Instant::now());
                drive_handshake(&mut conn, link.as_mut(), Duration::from_secs(10))
                    .unwrap_or_else(|e| panic!("{suite}: {e}\n{}", server.output.lock().unwrap()));
                let ms = elapsed_ms(&marks).expect("the relay saw no seam handshake");
                calls = conn.info().invocations;
                conn.close();
                let _ = flush(&mut conn, link.as_mut());
                drop(conn);
                if i > 0 {
                    // The first is a warm-up.
                    seam_ms.push(ms);
                    ta_ms.push(nanos.load(Ordering::Relaxed) as f64 / 1e6);
                }
                std::thread::sleep(Duration::from_millis(20));
            }

            // OpenSSL to OpenSSL.
            let mut c_args: Vec<String> = vec![
                "s_client".into(),
                "-connect".into(),
                format!("127.0.0.1:{port}"),
                proto.into(),
                "-cipher".into(),
                suite.openssl_name().into(),
            ];
            if suite.is_psk() {
                c_args.extend([
                    "-psk".into(),
                    hex::encode(PSK),
                    "-psk_identity".into(),
                    IDENTITY.into(),
                ]);
            } else {
                c_args.extend(["-CAfile".into(), cert.display().to_string()]);
            }
            let mut ossl_ms = Vec::new();
            for i in 0..rounds + 1 {
                let ms = openssl_client_ms(udp, addr, &c_args);
                if i > 0 {
                    ossl_ms.push(ms);
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let seam = median(seam_ms);
            let ta = median(ta_ms);
            let ossl = median(ossl_ms);
            println!(
                "{:<10} {:<42} {:>10.2} {:>9.2} {:>12.2} {:>12.2} {:>7}",
                format!("{variant:?}"),
                suite.name(),
                seam,
                ta,
                ossl,
                seam / ossl,
                calls
            );
            drop(server);
        }
    }
    drop(st);
}
