//! What the tunnel tests share: a provisioned node, a test PKI, `seam
//! tunnel` processes with their log lines, plain echo services, OpenSSL.
#![allow(dead_code)] // each includer uses a different subset

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, SanType};
use seam::proto::{ObjectKind, Ops};
use seam_tests::{backend, Backend, Device, Stakeholder, Who};

#[path = "../common/mod.rs"]
mod common;
pub use common::TaPublicKey;

pub const TIMEOUT: Duration = Duration::from_secs(20);
pub const PSK: [u8; 16] = *b"oneM2M-test-PSK!";
pub const IDENTITY: &str = "mn-cse-7@m2m.seam.test";
pub const SERVER_NAME: &str = "server.seam.test";
pub const CSE_ID: &str = "//m2m.seam.test/id-mn-cse";

/// An SE with the PSK (`psk`) and a key generated inside (`cert`), both
/// granted HANDSHAKE to this process, and a PKI around that key.
pub struct Node<'d> {
    pub device: &'d Device,
    pub st: Stakeholder<'d>,
    pub pki: Pki,
}

pub fn node(device: &Device) -> Node<'_> {
    let st = device.stakeholder("tunnel");
    device
        .client()
        .import_wrapped(
            &st.admin,
            &st.se,
            "psk",
            seam_tests::suid(22),
            ObjectKind::Secret,
            &PSK,
        )
        .expect("importing the PSK");
    st.grant("psk", Who::Me, Ops::HANDSHAKE, 22);
    let public = st.generate("cert", 42);
    st.grant("cert", Who::Me, Ops::HANDSHAKE.union(Ops::SIGN), 42);
    let pki = Pki::new(&public);
    Node { device, st, pki }
}

impl Node<'_> {
    pub fn credential(&self, key: &str) -> String {
        format!("{}/{key}", self.st.se)
    }

    /// `seam` with this node's backend.
    pub fn seam(&self) -> Command {
        let mut cmd = Command::new(seam_tests::cli::seam_binary());
        match backend() {
            Backend::Simulator => {
                cmd.arg("--backend").arg("sim").arg("--store");
                cmd.arg(self.device.store_dir().expect("a simulator store"));
            }
            Backend::Tee => {
                cmd.args(["--backend", "tee"]);
            }
        }
        cmd
    }

    /// Starts `seam --json tunnel ARGS` and waits for its listening line.
    pub fn tunnel(&self, args: &[String]) -> Tunnel {
        let mut cmd = self.seam();
        cmd.arg("--json").arg("tunnel").args(args);
        Tunnel::spawn(cmd)
    }
}

/// A CA, a certificate for the SE key (DNS name, 127.0.0.1 and the CSE-ID as
/// a SAN URI), and a key and certificate for the other side (OpenSSL,
/// GnuTLS), from the same CA; and a second CA nobody trusts.
pub struct Pki {
    pub dir: tempfile::TempDir,
    pub ca_der: Vec<u8>,
}

fn leaf(cn: &str, uri: &str) -> CertificateParams {
    let mut p = CertificateParams::new(vec![SERVER_NAME.to_string()]).unwrap();
    p.subject_alt_names
        .push(SanType::IpAddress("127.0.0.1".parse().unwrap()));
    p.subject_alt_names
        .push(SanType::URI(uri.try_into().unwrap()));
    p.distinguished_name.push(DnType::CommonName, cn);
    p
}

impl Pki {
    pub fn new(ta_public: &seam::proto::PublicKey) -> Pki {
        let dir = tempfile::tempdir().unwrap();
        let ca = |name: &str| {
            let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
            let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
            p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
            p.distinguished_name.push(DnType::CommonName, name);
            let cert = p.self_signed(&key).unwrap();
            (cert, key)
        };
        let (ca_cert, ca_key) = ca("seam tunnel test CA");
        let ta = leaf("seam SE key", CSE_ID)
            .signed_by(&TaPublicKey(*ta_public), &ca_cert, &ca_key)
            .unwrap();
        let peer_key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let peer = leaf("peer", "//m2m.seam.test/id-peer")
            .signed_by(&peer_key, &ca_cert, &ca_key)
            .unwrap();
        let (other_ca, other_key) = ca("another CA");
        let stranger_key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let stranger = leaf("stranger", "//elsewhere/id-x")
            .signed_by(&stranger_key, &other_ca, &other_key)
            .unwrap();
        let w = |name: &str, text: String| std::fs::write(dir.path().join(name), text).unwrap();
        w("ca.pem", ca_cert.pem());
        w("se.pem", ta.pem());
        w("peer.pem", peer.pem());
        w("peer.key", peer_key.serialize_pem());
        w("peer.pub.pem", peer_key.public_key_pem());
        w("other-ca.pem", other_ca.pem());
        w("stranger.pem", stranger.pem());
        w("stranger.key", stranger_key.serialize_pem());
        // The SE key as a PEM public key, for --peer-key on the other side.
        let point = p256::PublicKey::from_sec1_bytes(&ta_public.0).unwrap();
        use p256::pkcs8::EncodePublicKey;
        w(
            "se.pub.pem",
            point.to_public_key_pem(Default::default()).unwrap(),
        );
        Pki {
            dir,
            ca_der: ca_cert.der().to_vec(),
        }
    }

    pub fn path(&self, name: &str) -> String {
        self.dir.path().join(name).display().to_string()
    }
}

/// A process whose stdout and stderr lines are collected; killed on drop.
pub struct Proc {
    pub child: Child,
    pub lines: Arc<Mutex<Vec<String>>>,
    stdin: Option<std::process::ChildStdin>,
}

impl Proc {
    pub fn spawn(mut cmd: Command, stdin_text: Option<&str>) -> Proc {
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("starting {cmd:?}: {e}"));
        let lines = Arc::new(Mutex::new(Vec::new()));
        for stream in [
            Box::new(child.stdout.take().unwrap()) as Box<dyn Read + Send>,
            Box::new(child.stderr.take().unwrap()),
        ] {
            let lines = lines.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    lines.lock().unwrap().push(line);
                }
            });
        }
        let mut stdin = child.stdin.take();
        if let (Some(s), Some(text)) = (stdin.as_mut(), stdin_text) {
            let _ = writeln!(s, "{text}");
            let _ = s.flush();
        }
        Proc {
            child,
            lines,
            stdin,
        }
    }

    pub fn output(&self) -> String {
        self.lines.lock().unwrap().join("\n")
    }

    pub fn wait_for(&self, what: &str) -> bool {
        let start = Instant::now();
        while !self.output().contains(what) {
            if start.elapsed() > TIMEOUT {
                return false;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        true
    }

    /// Sends SIGTERM and waits for the exit status.
    pub fn terminate(&mut self) -> Option<i32> {
        // SAFETY: kill on a child we own.
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        let start = Instant::now();
        while start.elapsed() < TIMEOUT {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status.code();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        drop(self.stdin.take());
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A running `seam tunnel`.
pub struct Tunnel {
    pub proc: Proc,
    pub addr: SocketAddr,
}

impl Tunnel {
    pub fn spawn(cmd: Command) -> Tunnel {
        let proc = Proc::spawn(cmd, None);
        let start = Instant::now();
        loop {
            let listening = proc
                .lines
                .lock()
                .unwrap()
                .iter()
                .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
                .find(|v| v["event"] == "listening")
                .and_then(|v| v["address"].as_str().map(str::to_owned));
            if let Some(a) = listening {
                return Tunnel {
                    addr: a.parse().unwrap(),
                    proc,
                };
            }
            let exited = proc_try_wait(&proc).is_some();
            assert!(
                !exited && start.elapsed() < TIMEOUT,
                "seam tunnel did not start:\n{}",
                proc.output()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The JSON log lines of one event kind.
    pub fn events(&self, kind: &str) -> Vec<serde_json::Value> {
        self.proc
            .lines
            .lock()
            .unwrap()
            .iter()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter(|v| v["event"] == kind)
            .collect()
    }

    pub fn wait_events(&self, kind: &str, n: usize) -> Vec<serde_json::Value> {
        let start = Instant::now();
        loop {
            let e = self.events(kind);
            if e.len() >= n || start.elapsed() > TIMEOUT {
                return e;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Threads of the process (Linux).
    pub fn threads(&self) -> usize {
        let status =
            std::fs::read_to_string(format!("/proc/{}/status", self.proc.child.id())).unwrap();
        status
            .lines()
            .find_map(|l| l.strip_prefix("Threads:"))
            .and_then(|n| n.trim().parse().ok())
            .unwrap_or(0)
    }
}

fn proc_try_wait(p: &Proc) -> Option<i32> {
    // try_wait needs &mut; peek through /proc instead.
    let stat = std::fs::read_to_string(format!("/proc/{}/stat", p.child.id())).ok()?;
    stat.split_whitespace()
        .nth(2)
        .filter(|s| *s == "Z")
        .map(|_| 0)
}

/// A TCP service that answers each connection's bytes with `echo:` + the
/// bytes, closes its side after the peer's end, and counts connections.
pub struct Echo {
    pub addr: SocketAddr,
    pub accepted: Arc<AtomicUsize>,
}

pub fn tcp_echo() -> Echo {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let accepted = Arc::new(AtomicUsize::new(0));
    let count = accepted.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { continue };
            count.fetch_add(1, Ordering::SeqCst);
            std::thread::spawn(move || {
                let mut buf = [0u8; 16384];
                loop {
                    match s.read(&mut buf) {
                        Ok(0) | Err(_) => {
                            let _ = s.shutdown(std::net::Shutdown::Write);
                            return;
                        }
                        Ok(n) => {
                            let mut out = b"echo:".to_vec();
                            out.extend_from_slice(&buf[..n]);
                            if s.write_all(&out).is_err() {
                                return;
                            }
                        }
                    }
                }
            });
        }
    });
    Echo { addr, accepted }
}

/// A UDP service that answers each datagram with `echo:` + the datagram.
pub fn udp_echo() -> Echo {
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = socket.local_addr().unwrap();
    let accepted = Arc::new(AtomicUsize::new(0));
    let count = accepted.clone();
    std::thread::spawn(move || {
        let mut buf = [0u8; 65536];
        while let Ok((n, from)) = socket.recv_from(&mut buf) {
            count.fetch_add(1, Ordering::SeqCst);
            let mut out = b"echo:".to_vec();
            out.extend_from_slice(&buf[..n]);
            let _ = socket.send_to(&out, from);
        }
    });
    Echo { addr, accepted }
}

/// Sends `line` over a plain TCP connection to `addr`, ends our side, and
/// returns everything that came back until the other end closed.
pub fn tcp_roundtrip(addr: SocketAddr, line: &str) -> std::io::Result<String> {
    let mut s = TcpStream::connect_timeout(&addr, TIMEOUT)?;
    s.set_read_timeout(Some(TIMEOUT))?;
    s.write_all(line.as_bytes())?;
    s.shutdown(std::net::Shutdown::Write)?;
    let mut got = Vec::new();
    s.read_to_end(&mut got)?;
    Ok(String::from_utf8_lossy(&got).into_owned())
}

/// Sends one datagram to `addr` from a fresh socket until an answer comes.
pub fn udp_roundtrip(addr: SocketAddr, data: &str) -> Option<String> {
    let s = UdpSocket::bind("127.0.0.1:0").unwrap();
    s.set_read_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    let start = Instant::now();
    let mut buf = [0u8; 65536];
    // The first datagram starts the handshake and waits in the tunnel;
    // resend in case it is lost or the answer is.
    while start.elapsed() < TIMEOUT {
        s.send_to(data.as_bytes(), addr).unwrap();
        if let Ok((n, _)) = s.recv_from(&mut buf) {
            return Some(String::from_utf8_lossy(&buf[..n]).into_owned());
        }
    }
    None
}

pub fn free_port(udp: bool) -> u16 {
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

pub fn s(x: &str) -> String {
    x.to_string()
}

pub fn path_arg(p: &Path) -> String {
    PathBuf::from(p).display().to_string()
}

/// apt-installs Debian packages that are missing (as root), once. Returns
/// whether `program` runs afterwards; if not, fails under
/// SEAM_REQUIRE_TOOLS=1, else says loudly what goes untested.
pub fn tool(program: &str, package: &str, untested: &str) -> bool {
    let runs = |p: &str| {
        Command::new("sh")
            .arg("-c")
            .arg(format!("command -v {p}"))
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false)
    };
    if !runs(program) && backend() == Backend::Simulator {
        // SAFETY: geteuid cannot fail.
        if unsafe { libc::geteuid() } == 0 && runs("apt-get") {
            static APT: Mutex<()> = Mutex::new(());
            let _one = APT.lock().unwrap();
            if !runs(program) {
                let _ = Command::new("apt-get")
                    .args(["install", "-y", "--no-install-recommends", package])
                    .env("DEBIAN_FRONTEND", "noninteractive")
                    .stdout(Stdio::null())
                    .status();
                if !runs(program) {
                    let _ = Command::new("apt-get")
                        .arg("update")
                        .stdout(Stdio::null())
                        .status();
                    let _ = Command::new("apt-get")
                        .args(["install", "-y", "--no-install-recommends", package])
                        .env("DEBIAN_FRONTEND", "noninteractive")
                        .stdout(Stdio::null())
                        .status();
                }
            }
        }
    }
    if runs(program) {
        return true;
    }
    let msg = format!("`{program}` (Debian {package}) is not installed: no {untested} was tested");
    if std::env::var("SEAM_REQUIRE_TOOLS").as_deref() == Ok("1") {
        panic!("{msg} (SEAM_REQUIRE_TOOLS=1)");
    }
    eprintln!("\n!!!! SKIPPED: {msg} !!!!\n");
    false
}
