//! `seam dtls-client`, `seam tls-server` and `seam dtls-server`, run as a
//! user would (the built binary, `--backend sim`, a temporary store,
//! provisioned through the CLI) against OpenSSL's `s_server` / `s_client`: a
//! line typed on each side arrives on the other, the exit codes say how it
//! ended, and a wrong PSK fails with a message naming the step and alert.
//!
//! Every process runs with bounded waits and is killed on drop. Without
//! `openssl` the tests print SKIPPED (fail under `SEAM_REQUIRE_TOOLS=1`).
//! Also what the (D)TLS commands check before any connection.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::UdpSocket;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

mod common;

use common::{assert_errors, env_for_errors, me};

const SEAM: &str = env!("CARGO_BIN_EXE_seam");
const TIMEOUT: Duration = Duration::from_secs(20);
const PSK: &str = "6f6e654d324d2d746573742d50534b21";
const WRONG_PSK: &str = "00112233445566778899aabbccddeeff";
const IDENTITY: &str = "kpsa-7@m2m.seam.test";
const FROM_SEAM: &str = "hello from seam";
const FROM_OPENSSL: &str = "hello from openssl";

/// A file only its owner can read, as a PSK file should be.
fn write_secret(path: &Path, text: &str) {
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .unwrap();
    f.write_all(text.as_bytes()).unwrap();
}

/// A simulator store provisioned through the CLI: SE `operator` with the
/// PSK `operator/psk` (imported wrapped) and the P-256 key `operator/cert`
/// (generated inside), both granted `handshake` to this user under SUID 22.
struct Node {
    dir: tempfile::TempDir,
}

/// How the PSK reaches `seam key import` (never `--psk HEX`, which the
/// process list shows).
#[derive(Clone, Copy)]
enum PskVia {
    File,
    Stdin,
}

impl Node {
    fn new() -> Node {
        Node::with_psk_via(PskVia::File)
    }

    fn with_psk_via(via: PskVia) -> Node {
        let node = Node {
            dir: tempfile::tempdir().unwrap(),
        };
        node.save("issuer.pub.pem", &["keygen", "--out", "issuer.pem"]);
        node.seam(&["init", "--issuer", "issuer.pub.pem"]);
        node.save("admin.pub.pem", &["keygen", "--out", "admin.pem"]);
        node.seam(&[
            "se",
            "create",
            "operator",
            "--admin",
            "admin.pub.pem",
            "--sign-with",
            "issuer.pem",
        ]);
        let import = ["key", "import", "operator/psk", "--suid", "22"];
        match via {
            PskVia::File => {
                write_secret(&node.path("psk.hex"), &format!("{PSK}\n"));
                let mut args = import.to_vec();
                args.extend(["--psk-file", "psk.hex", "--sign-with", "admin.pem"]);
                node.seam(&args);
            }
            PskVia::Stdin => {
                let mut args = import.to_vec();
                args.extend(["--psk-stdin", "--sign-with", "admin.pem"]);
                let out = node.seam_with_input(&args, PSK.as_bytes());
                assert!(
                    out.status.success(),
                    "{}",
                    String::from_utf8_lossy(&out.stderr)
                );
            }
        }
        node.save(
            "cert.pub.pem",
            &[
                "key",
                "generate",
                "operator/cert",
                "--suid",
                "42",
                "--sign-with",
                "admin.pem",
            ],
        );
        for (key, suid) in [("operator/psk", "22"), ("operator/cert", "42")] {
            node.seam(&[
                "acl",
                "grant",
                key,
                "--to",
                &me(),
                "--ops",
                "handshake",
                "--suid",
                suid,
                "--sign-with",
                "admin.pem",
            ]);
        }
        node
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(SEAM);
        cmd.arg("--backend")
            .arg("sim")
            .arg("--store")
            .arg(self.path("store"))
            .args(args)
            .current_dir(self.dir.path());
        cmd
    }

    /// The number of objects in SE `operator`.
    fn se_objects(&self) -> usize {
        let info = String::from_utf8(self.seam(&["se", "info", "operator"])).unwrap();
        info.lines()
            .find_map(|l| l.strip_prefix("objects: "))
            .unwrap_or_else(|| panic!("no objects in {info}"))
            .trim()
            .parse()
            .unwrap()
    }

    /// Runs a command with `input` on its standard input.
    fn seam_with_input(&self, args: &[&str], input: &[u8]) -> std::process::Output {
        let mut child = self
            .command(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("running seam");
        child.stdin.take().unwrap().write_all(input).unwrap();
        child.wait_with_output().unwrap()
    }

    /// Runs a provisioning command; it must succeed.
    fn seam(&self, args: &[&str]) -> Vec<u8> {
        let out = self
            .command(args)
            .stdin(Stdio::null())
            .output()
            .expect("running seam");
        assert!(
            out.status.success(),
            "seam {args:?} failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    }

    fn save(&self, file: &str, args: &[&str]) {
        let out = self.seam(args);
        std::fs::write(self.path(file), out).unwrap();
    }

    /// A CA (`ca.pem`) and a certificate (`cert.pem`) it issued to the key
    /// generated in the SE, made with the openssl tool.
    fn certificate(&self) {
        let run = |args: &[&str]| {
            let out = Command::new("openssl")
                .args(args)
                .current_dir(self.dir.path())
                .stdin(Stdio::null())
                .output()
                .expect("running openssl");
            assert!(
                out.status.success(),
                "openssl {args:?}:\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
        };
        run(&[
            "ecparam",
            "-name",
            "prime256v1",
            "-genkey",
            "-noout",
            "-out",
            "ca.key",
        ]);
        run(&[
            "req",
            "-x509",
            "-new",
            "-key",
            "ca.key",
            "-subj",
            "/CN=seam cli test CA",
            "-days",
            "2",
            "-out",
            "ca.pem",
        ]);
        run(&[
            "x509",
            "-new",
            "-subj",
            "/CN=server.seam.test",
            "-force_pubkey",
            "cert.pub.pem",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-days",
            "2",
            "-out",
            "cert.pem",
        ]);
        // TLS 1.3 (rustls) checks names in the SAN only: the same key with
        // one, and an OpenSSL peer from the same CA.
        std::fs::write(
            self.path("san.ext"),
            "subjectAltName=DNS:server.seam.test\n",
        )
        .unwrap();
        run(&[
            "x509",
            "-new",
            "-subj",
            "/CN=server.seam.test",
            "-force_pubkey",
            "cert.pub.pem",
            "-extfile",
            "san.ext",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-days",
            "2",
            "-out",
            "cert13.pem",
        ]);
        run(&[
            "req",
            "-new",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            "peer.key",
            "-subj",
            "/CN=peer.seam.test",
            "-out",
            "peer.csr",
        ]);
        run(&[
            "x509", "-req", "-in", "peer.csr", "-extfile", "san.ext", "-CA", "ca.pem", "-CAkey",
            "ca.key", "-days", "2", "-out", "peer.pem",
        ]);
    }
}

/// A running process: its stdout and stderr collected by threads, its stdin
/// open until closed, killed on drop.
struct Proc {
    name: &'static str,
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: Arc<Mutex<String>>,
    stderr: Arc<Mutex<String>>,
}

impl Proc {
    fn spawn(name: &'static str, cmd: &mut Command) -> Proc {
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("starting {name}: {e}"));
        let collect = |stream: Box<dyn Read + Send>| {
            let buf = Arc::new(Mutex::new(String::new()));
            let b = buf.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    let mut o = b.lock().unwrap();
                    o.push_str(&line);
                    o.push('\n');
                }
            });
            buf
        };
        let stdout = collect(Box::new(child.stdout.take().unwrap()));
        let stderr = collect(Box::new(child.stderr.take().unwrap()));
        Proc {
            name,
            stdin: child.stdin.take(),
            child,
            stdout,
            stderr,
        }
    }

    fn stdout(&self) -> String {
        self.stdout.lock().unwrap().clone()
    }

    fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    fn all(&self) -> String {
        format!(
            "{} stdout:\n{}\n{} stderr:\n{}",
            self.name,
            self.stdout(),
            self.name,
            self.stderr()
        )
    }

    fn type_line(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().expect("stdin open");
        writeln!(stdin, "{line}").unwrap();
        stdin.flush().unwrap();
    }

    fn close_stdin(&mut self) {
        drop(self.stdin.take());
    }

    /// Waits until stdout or stderr contains `text`.
    fn wait_for(&self, text: &str) -> bool {
        let start = Instant::now();
        while !(self.stdout().contains(text) || self.stderr().contains(text)) {
            if start.elapsed() > TIMEOUT {
                return false;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        true
    }

    /// The exit code, within the timeout (else the test fails).
    fn exit_code(&mut self) -> i32 {
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                // Let the reader threads drain the pipes.
                std::thread::sleep(Duration::from_millis(100));
                return status.code().unwrap_or(-1);
            }
            assert!(
                start.elapsed() < TIMEOUT,
                "{} did not exit:\n{}",
                self.name,
                self.all()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        drop(self.stdin.take());
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_udp_port() -> u16 {
    UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts `seam tls-server|dtls-server … --listen 127.0.0.1:0` and returns
/// it with the port it printed.
fn seam_server(node: &Node, args: &[&str]) -> (Proc, u16) {
    let mut all = args.to_vec();
    all.extend(["--listen", "127.0.0.1:0"]);
    let server = Proc::spawn("seam", &mut node.command(&all));
    assert!(
        server.wait_for("listening on"),
        "seam did not listen:\n{}",
        server.all()
    );
    let port = server
        .stderr()
        .lines()
        .find_map(|l| l.split("listening on 127.0.0.1:").nth(1))
        .and_then(|p| p.trim().parse().ok())
        .unwrap_or_else(|| panic!("no port in:\n{}", server.all()));
    (server, port)
}

fn s_client(dir: &Path, port: u16, args: &[&str]) -> Proc {
    Proc::spawn(
        "openssl s_client",
        Command::new("openssl")
            .args(["s_client", "-connect", &format!("127.0.0.1:{port}")])
            .args(args)
            .current_dir(dir),
    )
}

/// seam types a line, openssl answers with one; each must arrive.
fn exchange_lines(seam: &mut Proc, openssl: &mut Proc) {
    seam.type_line(FROM_SEAM);
    assert!(
        openssl.wait_for(FROM_SEAM),
        "openssl never got seam's line:\n{}\n{}",
        seam.all(),
        openssl.all()
    );
    openssl.type_line(FROM_OPENSSL);
    assert!(
        seam.wait_for(FROM_OPENSSL),
        "seam never got openssl's line:\n{}\n{}",
        seam.all(),
        openssl.all()
    );
    assert!(
        seam.stdout().contains(FROM_OPENSSL),
        "the peer's data is not on seam's stdout:\n{}",
        seam.all()
    );
}

#[test]
fn dtls_client_talks_to_openssl_s_server_with_a_psk() {
    if !seam_tests::require_tool("openssl") {
        return;
    }
    let node = Node::new();
    let port = free_udp_port();
    let psk_suite = "PSK-AES128-CCM8:@SECLEVEL=0";
    let mut server = Proc::spawn(
        "openssl s_server",
        Command::new("openssl").args([
            "s_server",
            "-dtls1_2",
            "-accept",
            &format!("127.0.0.1:{port}"),
            "-naccept",
            "1",
            "-nocert",
            "-psk",
            PSK,
            "-psk_identity",
            IDENTITY,
            "-cipher",
            psk_suite,
        ]),
    );
    assert!(
        server.wait_for("ACCEPT"),
        "s_server did not start:\n{}",
        server.all()
    );
    let mut client = Proc::spawn(
        "seam",
        &mut node.command(&[
            "dtls-client",
            "--credential",
            "operator/psk",
            "--psk-identity",
            IDENTITY,
            "--connect",
            &format!("127.0.0.1:{port}"),
            "--cipher",
            "PSK-AES128-CCM8",
        ]),
    );
    exchange_lines(&mut client, &mut server);
    // Our input ends: seam sends close_notify and exits 0.
    client.close_stdin();
    let code = client.exit_code();
    assert_eq!(code, 0, "seam dtls-client:\n{}", client.all());
    assert!(
        client
            .stderr()
            .contains("closed cleanly after a TLS_PSK_WITH_AES_128_CCM_8 handshake"),
        "{}",
        client.all()
    );
}

#[test]
fn tls_server_serves_openssl_s_client_with_a_psk() {
    if !seam_tests::require_tool("openssl") {
        return;
    }
    // The PSK came in on standard input (the other tests: from a file).
    let node = Node::with_psk_via(PskVia::Stdin);
    let (mut server, port) = seam_server(
        &node,
        &[
            "tls-server",
            "--credential",
            "operator/psk",
            "--cipher",
            "PSK-AES128-CBC-SHA256",
        ],
    );
    let mut client = s_client(
        node.dir.path(),
        port,
        &[
            "-tls1_2",
            "-psk",
            PSK,
            "-psk_identity",
            IDENTITY,
            "-cipher",
            "PSK-AES128-CBC-SHA256",
        ],
    );
    exchange_lines(&mut server, &mut client);
    // s_client's input ends: it sends close_notify; seam answers and exits 0.
    client.close_stdin();
    assert_eq!(server.exit_code(), 0, "seam tls-server:\n{}", server.all());
    assert!(
        server
            .stderr()
            .contains("closed cleanly after a TLS_PSK_WITH_AES_128_CBC_SHA256 handshake"),
        "{}",
        server.all()
    );
}

#[test]
fn tls_server_serves_openssl_s_client_with_ecdhe_ecdsa() {
    if !seam_tests::require_tool("openssl") {
        return;
    }
    let node = Node::new();
    node.certificate();
    let (mut server, port) = seam_server(
        &node,
        &[
            "tls-server",
            "--credential",
            "operator/cert",
            "--cert",
            "cert.pem",
        ],
    );
    let mut client = s_client(
        node.dir.path(),
        port,
        &[
            "-tls1_2",
            "-CAfile",
            "ca.pem",
            "-verify_return_error",
            "-cipher",
            "ECDHE-ECDSA-AES128-SHA256",
        ],
    );
    exchange_lines(&mut server, &mut client);
    assert!(
        client.wait_for("Verification: OK") || client.wait_for("Verify return code: 0 (ok)"),
        "s_client did not verify seam's certificate:\n{}",
        client.all()
    );
    client.close_stdin();
    assert_eq!(server.exit_code(), 0, "seam tls-server:\n{}", server.all());
    assert!(
        server.stderr().contains(
            "closed cleanly after a TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256 handshake (2 SE invocations"
        ),
        "{}",
        server.all()
    );
}

#[test]
fn a_wrong_psk_fails_naming_the_step_and_the_alert() {
    if !seam_tests::require_tool("openssl") {
        return;
    }
    let node = Node::new();
    let (mut server, port) = seam_server(&node, &["tls-server", "--credential", "operator/psk"]);
    let _client = s_client(
        node.dir.path(),
        port,
        &[
            "-tls1_2",
            "-psk",
            WRONG_PSK,
            "-psk_identity",
            IDENTITY,
            "-cipher",
            "PSK-AES128-CBC-SHA256",
        ],
    );
    assert_eq!(server.exit_code(), 5, "seam tls-server:\n{}", server.all());
    let err = server.stderr();
    assert!(err.contains("failed at step"), "{err}");
    assert!(err.contains("alert bad_record_mac(20)"), "{err}");
    assert!(err.contains("different PSK"), "{err}");
    assert!(!server.stdout().contains(FROM_OPENSSL));
}

#[test]
fn dtls_server_serves_openssl_s_client_with_a_psk() {
    if !seam_tests::require_tool("openssl") {
        return;
    }
    let node = Node::new();
    let (mut server, port) = seam_server(&node, &["dtls-server", "--credential", "operator/psk"]);
    let mut client = s_client(
        node.dir.path(),
        port,
        &[
            "-dtls1_2",
            "-psk",
            PSK,
            "-psk_identity",
            IDENTITY,
            "-cipher",
            "PSK-AES128-CCM8:@SECLEVEL=0",
        ],
    );
    exchange_lines(&mut server, &mut client);
    client.close_stdin();
    assert_eq!(server.exit_code(), 0, "seam dtls-server:\n{}", server.all());
    assert!(
        server.stderr().contains(
            "closed cleanly after a TLS_PSK_WITH_AES_128_CCM_8 handshake (2 SE invocations"
        ),
        "{}",
        server.all()
    );
}

#[test]
fn psk_flags_warn_refuse_bad_input_and_secret_files_are_0600() {
    use std::os::unix::fs::PermissionsExt;
    let node = Node::new();
    let import = |name: &str, extra: &[&str], input: &[u8]| {
        let mut args = vec!["key", "import", name, "--suid", "22"];
        args.extend_from_slice(extra);
        args.extend(["--sign-with", "admin.pem"]);
        node.seam_with_input(&args, input)
    };
    // --psk still works, and says why not to use it.
    let out = import("operator/k1", &["--psk", PSK], b"");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("warning: --psk") && err.contains("process"),
        "{err}"
    );
    assert!(!err.contains(PSK), "{err}");
    // From a file or standard input: no warning.
    let out = import("operator/k2", &["--psk-file", "psk.hex"], b"");
    assert!(out.status.success());
    assert!(!String::from_utf8_lossy(&out.stderr).contains("warning"));
    let out = import(
        "operator/k3",
        &["--psk-stdin"],
        format!(" {PSK}\n").as_bytes(),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!String::from_utf8_lossy(&out.stderr).contains("warning"));
    // Bad input names the flag.
    write_secret(&node.path("bad.hex"), "not hex\n");
    let out = import("operator/k4", &["--psk-file", "bad.hex"], b"");
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("--psk-file"));
    let out = import("operator/k5", &["--psk-stdin"], b"");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--psk-stdin: no PSK"));
    let out = import("operator/k6", &["--psk-file", "missing.hex"], b"");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("missing.hex"));
    // One source only.
    let out = import("operator/k7", &["--psk", PSK, "--psk-stdin"], b"");
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(node.se_objects(), 5, "k1, k2, k3 besides psk and cert");

    // Files the CLI writes are created 0600: a private key, and a function's output.
    node.seam(&["keygen", "--out", "fresh.pem"]);
    std::fs::write(node.path("msg.txt"), b"message").unwrap();
    node.seam(&[
        "acl",
        "grant",
        "operator/cert",
        "--to",
        &me(),
        "--ops",
        "sign",
        "--suid",
        "42",
        "--sign-with",
        "admin.pem",
    ]);
    node.seam(&[
        "sign",
        "operator/cert",
        "--in",
        "msg.txt",
        "--out",
        "msg.sig",
    ]);
    for file in ["fresh.pem", "msg.sig"] {
        let mode = std::fs::metadata(node.path(file))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{file}: {mode:o}");
    }
}

/// `--tls13`: rustls with the SE provider, seam's certificate verified by
/// s_client -tls1_3, a client certificate asked for by s_server -tls1_3.
#[test]
fn tls_server_tls13_serves_openssl_s_client() {
    if !seam_tests::require_tool("openssl") {
        return;
    }
    let node = Node::new();
    node.certificate();
    let (mut server, port) = seam_server(
        &node,
        &[
            "tls-server",
            "--tls13",
            "--credential",
            "operator/cert",
            "--cert",
            "cert13.pem",
        ],
    );
    let mut client = s_client(
        node.dir.path(),
        port,
        &[
            "-tls1_3",
            "-CAfile",
            "ca.pem",
            "-verify_return_error",
            "-servername",
            "server.seam.test",
        ],
    );
    exchange_lines(&mut server, &mut client);
    assert!(
        client.wait_for("Verify return code: 0 (ok)") && client.stdout().contains("TLSv1.3"),
        "s_client did not verify seam's certificate over TLS 1.3:\n{}",
        client.all()
    );
    client.close_stdin();
    assert_eq!(server.exit_code(), 0, "seam tls-server:\n{}", server.all());
    assert!(
        server
            .stderr()
            .contains("closed cleanly after a TLSv1.3 TLS13_"),
        "{}",
        server.all()
    );
}

#[test]
fn tls_client_tls13_talks_to_openssl_s_server_with_client_certificates() {
    if !seam_tests::require_tool("openssl") {
        return;
    }
    let node = Node::new();
    node.certificate();
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut server = Proc::spawn(
        "openssl s_server",
        Command::new("openssl")
            .args([
                "s_server",
                "-tls1_3",
                "-accept",
                &format!("127.0.0.1:{port}"),
                "-naccept",
                "1",
                "-cert",
                "peer.pem",
                "-key",
                "peer.key",
                "-Verify",
                "1",
                "-CAfile",
                "ca.pem",
                "-verify_return_error",
            ])
            .current_dir(node.dir.path()),
    );
    assert!(
        server.wait_for("ACCEPT"),
        "s_server did not start:\n{}",
        server.all()
    );
    let mut client = Proc::spawn(
        "seam",
        &mut node.command(&[
            "tls-client",
            "--tls13",
            "--credential",
            "operator/cert",
            "--cert",
            "cert13.pem",
            "--ca",
            "ca.pem",
            "--server-name",
            "server.seam.test",
            "--connect",
            &format!("127.0.0.1:{port}"),
        ]),
    );
    exchange_lines(&mut client, &mut server);
    // s_server verified seam's certificate (-verify_return_error).
    assert!(
        server.all().contains("CN = server.seam.test"),
        "{}",
        server.all()
    );
    client.close_stdin();
    assert_eq!(client.exit_code(), 0, "seam tls-client:\n{}", client.all());
    assert!(
        client.stderr().contains("closed cleanly after a TLSv1.3"),
        "{}",
        client.all()
    );
}

/// What the (D)TLS commands check before any connection.
#[test]
fn tls_command_errors_name_what_was_wrong() {
    let env = env_for_errors();
    let cases: &[(&[&str], i32, &str)] = &[
        // The (D)TLS commands: what is checked before any connection.
        (
            &[
                "tls-client",
                "--credential",
                "operator/cse-key",
                "--connect",
                "in-cse.example:8443",
                "--tls13",
            ],
            2,
            "seam tls-client --tls13: --ca FILE.pem is required",
        ),
        (
            &[
                "tls-client",
                "--credential",
                "operator/cse-key",
                "--connect",
                "in-cse.example:8443",
                "--tls13",
                "--cipher",
                "ECDHE-ECDSA-AES128-SHA256",
            ],
            2,
            "apply to TLS 1.2 only",
        ),
        (
            &[
                "dtls-server",
                "--credential",
                "operator/cse-key",
                "--listen",
                "127.0.0.1:0",
                "--tls13",
            ],
            2,
            "seam dtls-server --tls13: DTLS 1.3 is not available",
        ),
        (
            &[
                "dtls-client",
                "--credential",
                "operator/nosuch",
                "--psk-identity",
                "id",
                "--connect",
                "127.0.0.1:5684",
            ],
            3,
            "seam dtls-client: credential operator/nosuch",
        ),
        (
            &[
                "tls-client",
                "--credential",
                "operator/cse-key",
                "--connect",
                "127.0.0.1:8443",
                "--cipher",
                "RC4-MD5",
            ],
            2,
            "--cipher `RC4-MD5`: not one of the oneM2M suites",
        ),
        (
            &[
                "tls-client",
                "--credential",
                "operator/cse-key",
                "--connect",
                "127.0.0.1:8443",
                "--cipher",
                "PSK-AES128-CCM8",
                "--ca",
                "msg.txt",
            ],
            2,
            "--ca: msg.txt holds no PEM certificate",
        ),
        (
            &[
                "tls-client",
                "--credential",
                "operator/cse-key",
                "--connect",
                "127.0.0.1:8443",
            ],
            2,
            "--ca FILE.pem is required to authenticate the server",
        ),
        (
            &[
                "tls-server",
                "--credential",
                "operator/cse-key",
                "--listen",
                "127.0.0.1:0",
                "--cert",
                "c.pem",
            ],
            2,
            "--cert: reading c.pem",
        ),
        (
            &[
                "tls-server",
                "--credential",
                "operator/cse-key",
                "--listen",
                "127.0.0.1:0",
            ],
            2,
            "--cert FILE.pem is required",
        ),
        (
            &[
                "dtls-server",
                "--credential",
                "operator/cse-key",
                "--listen",
                "127.0.0.1:0",
                "--cipher",
                "PSK-AES128-CCM8",
            ],
            2,
            "--cipher PSK-AES128-CCM8: operator/cse-key is a P-256 key, which that suite cannot use",
        ),
        (
            &["tls-client", "--credential", "nokey", "--connect", "h:1"],
            2,
            "not SE/KEY",
        ),
        (
            &["tls-client", "--credential", "operator/psk"],
            2,
            "--connect",
        ),
    ];
    assert_errors(&env, cases);
    // Nothing above changed the SE.
    assert_eq!(env.se_field("objects"), "1");
}
