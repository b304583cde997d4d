//! `seam tunnel` against a baseline on the same machine in the same run,
//! reported as ratios (a benchmark, not a test: nothing is asserted):
//!
//! - TLS 1.2, PSK-AES128-CBC-SHA256 (the oneM2M TLS profile's PSK suite):
//!   plain client → tunnel client → tunnel server → echo, through `seam
//!   tunnel` and through stunnel (Debian stunnel4) with the same suite and
//!   PSK: connection setup latency (a fresh connection and one byte echoed)
//!   and bulk throughput (32 MiB one way).
//! - DTLS 1.2, PSK-AES128-CCM8: the same chain over UDP through `seam
//!   tunnel --dtls` against a plain UDP relay (no security at all, so this
//!   ratio is the whole cost of DTLS plus the SE): first-datagram latency
//!   from a fresh source port and datagram round trips.
//!
//! The SE is the simulator (a store in a temporary directory); on the device
//! the TA's cost is measured by `cargo optee bench`.
//!
//! ```sh
//! cargo build --release -p seam-cli && cargo run --release -p seam-tests --bin tunnel-bench
//! ```
//! `SEAM_CLI` overrides the seam binary (default: next to this one).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use seam::proto::{ObjectKind, Ops};
use seam_tests::{Device, Who};

const PSK: &[u8; 16] = b"oneM2M-test-PSK!";
const IDENTITY: &str = "bench@m2m.seam.test";
const TLS_SUITE: &str = "PSK-AES128-CBC-SHA256";
const DTLS_SUITE: &str = "PSK-AES128-CCM8";
const SETUPS: usize = 40;
const BULK: usize = 32 << 20;
const DATAGRAM_FIRSTS: usize = 20;
const ROUND_TRIPS: usize = 2000;
const WAIT: Duration = Duration::from_secs(20);

/// A child process killed on drop.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn seam_binary() -> PathBuf {
    if let Some(p) = std::env::var_os("SEAM_CLI") {
        return p.into();
    }
    let exe = std::env::current_exe().expect("own path");
    let seam = exe.with_file_name("seam");
    assert!(
        seam.exists(),
        "{} is missing: build it first (cargo build --release -p seam-cli) or set SEAM_CLI",
        seam.display()
    );
    seam
}

/// Starts `seam --json tunnel ARGS` and returns it with its listening address.
fn tunnel(store: &Path, args: &[&str]) -> (Running, SocketAddr) {
    let mut child = Command::new(seam_binary())
        .args(["--backend", "sim", "--store"])
        .arg(store)
        .args(["--json", "tunnel"])
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starting seam tunnel");
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Ok(v) = serde_json::from_str::<serde_json::Value>(&line) {
                if v["event"] == "listening" {
                    let _ = tx.send(v["address"].as_str().unwrap_or("").to_string());
                }
            }
        }
    });
    let addr = rx
        .recv_timeout(WAIT)
        .expect("seam tunnel did not start")
        .parse()
        .unwrap();
    (Running(child), addr)
}

fn free_tcp_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// stunnel in one role, PSK only, TLS 1.2, the same suite.
fn stunnel(dir: &Path, name: &str, client: bool, accept: u16, connect: SocketAddr) -> Running {
    let conf = dir.join(format!("{name}.conf"));
    std::fs::write(
        &conf,
        format!(
            "foreground = yes\npid =\ndebug = 0\n[{name}]\nclient = {}\naccept = 127.0.0.1:{accept}\n\
             connect = {connect}\nciphers = {TLS_SUITE}\nsslVersionMin = TLSv1.2\nsslVersionMax = TLSv1.2\n\
             PSKsecrets = {}\n{}",
            if client { "yes" } else { "no" },
            dir.join("psk.txt").display(),
            if client {
                format!("PSKidentity = {IDENTITY}\n")
            } else {
                String::new()
            }
        ),
    )
    .unwrap();
    let child = Command::new("stunnel4")
        .arg(&conf)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("starting stunnel4 (apt-get install stunnel4)");
    let start = Instant::now();
    while TcpStream::connect(("127.0.0.1", accept)).is_err() {
        assert!(start.elapsed() < WAIT, "stunnel4 {name} did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
    Running(child)
}

/// Echoes each connection's bytes back, except that a connection starting
/// with `B` is a bulk transfer: everything is read, then `done` written.
fn tcp_service() -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    std::thread::spawn(move || {
        for s in l.incoming() {
            let Ok(mut s) = s else { continue };
            std::thread::spawn(move || {
                let mut buf = vec![0u8; 65536];
                let mut bulk = None;
                loop {
                    match s.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => {
                            let is_bulk = *bulk.get_or_insert(buf[0] == b'B');
                            if !is_bulk && s.write_all(&buf[..n]).is_err() {
                                return;
                            }
                        }
                    }
                }
                if bulk == Some(true) {
                    let _ = s.write_all(b"done");
                }
            });
        }
    });
    addr
}

/// Mean time for a fresh connection through `addr` to echo one byte.
fn setup_latency(addr: SocketAddr) -> Duration {
    let start = Instant::now();
    for _ in 0..SETUPS {
        let mut c = TcpStream::connect(addr).unwrap();
        c.set_read_timeout(Some(WAIT)).unwrap();
        c.write_all(b"x").unwrap();
        let mut b = [0u8; 1];
        c.read_exact(&mut b).expect("echo through the tunnel");
    }
    start.elapsed() / SETUPS as u32
}

/// MiB/s for BULK bytes one way through `addr` (until the far end says done).
fn throughput(addr: SocketAddr) -> f64 {
    let mut c = TcpStream::connect(addr).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(120))).unwrap();
    let chunk = vec![b'B'; 65536];
    let start = Instant::now();
    let mut sent = 0;
    while sent < BULK {
        c.write_all(&chunk).unwrap();
        sent += chunk.len();
    }
    c.shutdown(std::net::Shutdown::Write).unwrap();
    let mut done = Vec::new();
    c.read_to_end(&mut done).unwrap();
    assert_eq!(done, b"done", "the bulk transfer did not complete");
    BULK as f64 / (1 << 20) as f64 / start.elapsed().as_secs_f64()
}

fn udp_echo() -> SocketAddr {
    let s = UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = s.local_addr().unwrap();
    std::thread::spawn(move || {
        let mut buf = [0u8; 65536];
        while let Ok((n, from)) = s.recv_from(&mut buf) {
            let _ = s.send_to(&buf[..n], from);
        }
    });
    addr
}

/// A plain UDP relay: each client source port gets its own upstream socket.
fn udp_relay(target: SocketAddr) -> SocketAddr {
    let front = Arc::new(UdpSocket::bind("127.0.0.1:0").unwrap());
    let addr = front.local_addr().unwrap();
    std::thread::spawn(move || {
        let mut ups: std::collections::HashMap<SocketAddr, Arc<UdpSocket>> = Default::default();
        let mut buf = [0u8; 65536];
        while let Ok((n, from)) = front.recv_from(&mut buf) {
            let up = ups.entry(from).or_insert_with(|| {
                let up = Arc::new(UdpSocket::bind("127.0.0.1:0").unwrap());
                up.connect(target).unwrap();
                let (up2, front2) = (up.clone(), front.clone());
                std::thread::spawn(move || {
                    let mut b = [0u8; 65536];
                    while let Ok(n) = up2.recv(&mut b) {
                        let _ = front2.send_to(&b[..n], from);
                    }
                });
                up
            });
            let _ = up.send(&buf[..n]);
        }
    });
    addr
}

/// One datagram from a fresh port until its echo returns (resending: the
/// first one may wait in a handshake).
fn first_datagram(addr: SocketAddr) -> Duration {
    let s = UdpSocket::bind("127.0.0.1:0").unwrap();
    s.set_read_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    let mut buf = [0u8; 2048];
    let start = Instant::now();
    while start.elapsed() < WAIT {
        s.send_to(b"first", addr).unwrap();
        if s.recv_from(&mut buf).is_ok() {
            return start.elapsed();
        }
    }
    panic!("no answer through {addr}");
}

/// Round trips per second of 1000-byte datagrams on one association.
fn round_trips(addr: SocketAddr) -> f64 {
    let s = UdpSocket::bind("127.0.0.1:0").unwrap();
    s.set_read_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    first_datagram_on(&s, addr);
    let data = [7u8; 1000];
    let mut buf = [0u8; 2048];
    let mut lost = 0;
    let start = Instant::now();
    for _ in 0..ROUND_TRIPS {
        s.send_to(&data, addr).unwrap();
        if s.recv_from(&mut buf).is_err() {
            lost += 1;
        }
    }
    let rate = ROUND_TRIPS as f64 / start.elapsed().as_secs_f64();
    if lost > 0 {
        eprintln!("  ({lost} of {ROUND_TRIPS} round trips lost through {addr})");
    }
    rate
}

fn first_datagram_on(s: &UdpSocket, addr: SocketAddr) {
    let mut buf = [0u8; 2048];
    let start = Instant::now();
    while start.elapsed() < WAIT {
        s.send_to(b"hello", addr).unwrap();
        if s.recv_from(&mut buf).is_ok() {
            return;
        }
    }
    panic!("no answer through {addr}");
}

fn mean(f: impl Fn() -> Duration, n: usize) -> Duration {
    (0..n).map(|_| f()).sum::<Duration>() / n as u32
}

fn main() {
    let seam = seam_binary();
    println!("seam tunnel benchmark (seam: {})", seam.display());
    let work = tempfile::tempdir().unwrap();
    std::fs::write(
        work.path().join("psk.txt"),
        format!("{IDENTITY}:{}\n", std::str::from_utf8(PSK).unwrap()),
    )
    .unwrap();

    // The SE: the simulator, a PSK granted HANDSHAKE to this user.
    let device = Device::new();
    let store = device.store_dir().expect("simulator store").to_path_buf();
    let st = device.stakeholder("bench");
    device
        .client()
        .import_wrapped(
            &st.admin,
            &st.se,
            "psk",
            seam_tests::suid(22),
            ObjectKind::Secret,
            PSK,
        )
        .expect("importing the PSK");
    st.grant("psk", Who::Me, Ops::HANDSHAKE, 22);
    let credential = format!("{}/psk", st.se);

    // ---- TLS: seam tunnel vs stunnel ----
    let service = tcp_service();
    let tls = |role: &str, target: &str, flag: &str| {
        let mut a = vec![
            role,
            "--tls",
            "--listen",
            "127.0.0.1:0",
            flag,
            target,
            "--credential",
            &credential,
            "--cipher",
            TLS_SUITE,
        ];
        if role == "client" {
            a.extend(["--psk-identity", IDENTITY]);
        }
        tunnel(&store, &a)
    };
    let service_text = service.to_string();
    let (_s_server, s_server_addr) = tls("server", &service_text, "--forward");
    let s_server_text = s_server_addr.to_string();
    let (_s_client, seam_front) = tls("client", &s_server_text, "--connect");

    let st_server_port = free_tcp_port();
    let _st_server = stunnel(work.path(), "server", false, st_server_port, service);
    let st_client_port = free_tcp_port();
    let _st_client = stunnel(
        work.path(),
        "client",
        true,
        st_client_port,
        SocketAddr::from(([127, 0, 0, 1], st_server_port)),
    );
    let stunnel_front = SocketAddr::from(([127, 0, 0, 1], st_client_port));

    // Warm both, then alternate to share the machine's noise.
    setup_latency(seam_front);
    setup_latency(stunnel_front);
    let seam_setup = mean(|| setup_latency(seam_front), 2);
    let st_setup = mean(|| setup_latency(stunnel_front), 2);
    let seam_bulk = (throughput(seam_front) + throughput(seam_front)) / 2.0;
    let st_bulk = (throughput(stunnel_front) + throughput(stunnel_front)) / 2.0;

    // ---- DTLS: seam tunnel --dtls vs a plain UDP relay ----
    let echo = udp_echo();
    let dtls = |role: &str, target: &str, flag: &str| {
        let mut a = vec![
            role,
            "--dtls",
            "--listen",
            "127.0.0.1:0",
            flag,
            target,
            "--credential",
            &credential,
            "--cipher",
            DTLS_SUITE,
        ];
        if role == "client" {
            a.extend(["--psk-identity", IDENTITY]);
        }
        tunnel(&store, &a)
    };
    let echo_text = echo.to_string();
    let (_d_server, d_server_addr) = dtls("server", &echo_text, "--forward");
    let d_server_text = d_server_addr.to_string();
    let (_d_client, dtls_front) = dtls("client", &d_server_text, "--connect");
    let relay_back = udp_relay(echo);
    let relay_front = udp_relay(relay_back);

    let seam_first = mean(|| first_datagram(dtls_front), DATAGRAM_FIRSTS);
    let relay_first = mean(|| first_datagram(relay_front), DATAGRAM_FIRSTS);
    let seam_rt = round_trips(dtls_front);
    let relay_rt = round_trips(relay_front);

    println!("\nTLS 1.2 {TLS_SUITE}, client and server tunnels on 127.0.0.1:");
    println!(
        "  setup (connect + 1 byte echoed), mean of {}: seam {:.2} ms, stunnel4 {:.2} ms, ratio seam/stunnel {:.2}",
        2 * SETUPS,
        seam_setup.as_secs_f64() * 1e3,
        st_setup.as_secs_f64() * 1e3,
        seam_setup.as_secs_f64() / st_setup.as_secs_f64()
    );
    println!(
        "  throughput ({} MiB one way): seam {seam_bulk:.1} MiB/s, stunnel4 {st_bulk:.1} MiB/s, ratio seam/stunnel {:.2}",
        BULK >> 20,
        seam_bulk / st_bulk
    );
    println!("DTLS 1.2 {DTLS_SUITE} against a plain UDP relay (no security):");
    println!(
        "  first datagram from a new port, mean of {DATAGRAM_FIRSTS}: seam {:.2} ms, relay {:.3} ms, ratio {:.1}",
        seam_first.as_secs_f64() * 1e3,
        relay_first.as_secs_f64() * 1e3,
        seam_first.as_secs_f64() / relay_first.as_secs_f64()
    );
    println!(
        "  1000-byte round trips: seam {seam_rt:.0}/s, relay {relay_rt:.0}/s, ratio seam/relay {:.2}",
        seam_rt / relay_rt
    );
}
