//! The C tests and the C example, compiled with the system C compiler against
//! `include/seam.h` and the built `libseam.so`, and run on the simulator:
//! `test_seam.c` (every operation), `test_conn.c` (`seam_conn_*` against
//! OpenSSL's `s_server` and `s_client`, TLS and DTLS, PSK and ECDHE).
//!
//! On the device the same programs run against the real TA, provisioned
//! with the CLI by `tests/c/device-test.sh`: `make -C host/capi device-test`
//! on a device, `cargo optee test` in the emulated one.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use seam_host::proto::{AclEntry, AdminOp};
use seam_host::{identity, AdminKey, Client, CommandSigner, Ops};

/// Build `libseam.so` as a user would (`cargo build -p seam-capi`), into
/// this test's own target directory and profile, and return where it is:
/// `cargo test` builds no cdylib, so without this the test could link a
/// stale library or none.
fn lib_dir() -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            let exe = std::env::current_exe().expect("test executable path");
            let profile_dir = exe
                .parent()
                .and_then(Path::parent)
                .expect("target/<profile>/deps/<test>");
            let target_dir = profile_dir.parent().expect("target dir");
            let profile = match profile_dir.file_name().and_then(|n| n.to_str()) {
                Some("debug") => "dev",
                Some(other) => other,
                None => panic!("no profile in {}", exe.display()),
            };
            let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
            let status = Command::new(&cargo)
                .args(["build", "--quiet", "-p", "seam-capi", "--profile", profile])
                .arg("--target-dir")
                .arg(target_dir)
                .current_dir(env!("CARGO_MANIFEST_DIR"))
                .status()
                .unwrap_or_else(|e| panic!("running {cargo}: {e}"));
            assert!(status.success(), "cargo build -p seam-capi failed");
            assert!(
                profile_dir.join("libseam.so").exists(),
                "no libseam.so in {}",
                profile_dir.display()
            );
            profile_dir.to_path_buf()
        })
        .clone()
}

fn compile(source: &str, out: &Path) {
    let capi = Path::new(env!("CARGO_MANIFEST_DIR"));
    let lib = lib_dir();
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    let output = Command::new(&cc)
        .args(["-std=c11", "-Wall", "-Wextra", "-Werror", "-pedantic"])
        .arg("-I")
        .arg(capi.join("include"))
        .arg(capi.join(source))
        .arg("-L")
        .arg(&lib)
        .arg("-lseam")
        .arg(format!("-Wl,-rpath,{}", lib.display()))
        .arg("-o")
        .arg(out)
        .output()
        .unwrap_or_else(|e| panic!("running {cc}: {e}"));
    assert!(
        output.status.success(),
        "{cc} {source} failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

fn name(s: &str) -> seam_host::proto::Name {
    s.try_into().unwrap()
}

fn target(s: &str) -> seam_host::proto::GrantTarget {
    s.try_into().unwrap()
}

fn suid(value: u8) -> seam_host::proto::Suid {
    seam_host::proto::Suid::new(value).unwrap()
}

/// The SE test_seam.c expects, as host/capi/tests/c/provision.sh makes it with
/// the CLI, made here with the library.
fn provision(dir: &Path, se: &str) {
    let mut c = Client::simulator(dir).unwrap();
    let issuer = AdminKey::generate();
    c.init_node(&issuer.public_key()).unwrap();
    let admin = AdminKey::generate();
    c.create_se(&issuer, se, &admin.public_key(), false)
        .unwrap();
    let me = identity::current_user();
    // SUID 0: none (the `*` grant of CREATE only).
    let entry = |ops, value: u8| AclEntry {
        grantee: me,
        ops,
        suid: seam_host::proto::suid::or_zero::from_u8(value).unwrap(),
    };
    c.admin(
        &admin,
        se,
        vec![
            AdminOp::GenerateKeyPair {
                object: name("sig"),
                suid: suid(45),
                attributes: Default::default(),
            },
            AdminOp::GenerateKeyPair {
                object: name("other"),
                suid: suid(45),
                attributes: Default::default(),
            },
            AdminOp::GenerateSecret {
                object: name("aes"),
                suid: suid(24),
                len: 16,
                attributes: Default::default(),
            },
            AdminOp::GenerateSecret {
                object: name("hmac"),
                suid: suid(25),
                len: 32,
                attributes: Default::default(),
            },
        ],
    )
    .unwrap();
    c.admin(
        &admin,
        se,
        vec![
            AdminOp::Grant {
                object: target("sig"),
                entry: entry(Ops::SIGN.union(Ops::VERIFY), 45),
            },
            AdminOp::Grant {
                object: target("aes"),
                entry: entry(Ops::ENCRYPT.union(Ops::DECRYPT), 24),
            },
            AdminOp::Grant {
                object: target("hmac"),
                entry: entry(Ops::MAC, 25),
            },
            AdminOp::Grant {
                object: target("*"),
                entry: entry(Ops::CREATE, 0),
            },
        ],
    )
    .unwrap();
}

fn run(program: &Path, args: &[&str], env: &[(&str, &Path)]) -> (bool, String) {
    let mut cmd = Command::new(program);
    cmd.args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("running the C program");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[test]
fn the_c_test_passes_on_the_simulator() {
    let work = tempfile::tempdir().unwrap();
    let store = work.path().join("store");
    provision(&store, "c-test");
    let program = work.path().join("test_seam");
    compile("tests/c/test_seam.c", &program);
    let (ok, out) = run(&program, &["sim", store.to_str().unwrap(), "c-test"], &[]);
    assert!(ok, "test_seam failed:\n{out}");
    let summary = out.lines().last().unwrap_or_default();
    assert!(summary.ends_with("passed, 0 failed"), "{out}");
    let passed: u32 = summary.split_whitespace().next().unwrap().parse().unwrap();
    assert!(passed >= 90, "only {passed} checks ran:\n{out}");
}

#[test]
fn the_c_example_signs_verifiably() {
    let work = tempfile::tempdir().unwrap();
    let store = work.path().join("store");
    provision(&store, "operator");
    let program = work.path().join("seam-sign");
    compile("examples/sign.c", &program);
    let (ok, out) = run(
        &program,
        &["operator", "sig", "hello"],
        &[("SEAM_BACKEND", Path::new("sim")), ("SEAM_STORE", &store)],
    );
    assert!(ok, "the example failed:\n{out}");
    assert!(out.contains("verified by the SE: yes"), "{out}");

    // The DER signature verifies outside the SE, under the key's public half.
    let field = |label: &str| {
        let line = out.lines().find(|l| l.starts_with(label)).unwrap();
        hex_decode(line[label.len()..].trim())
    };
    let der = field("signature (DER):");
    let public = field("public key:");
    use p256::ecdsa::signature::Verifier;
    let key = p256::ecdsa::VerifyingKey::from_sec1_bytes(&public).unwrap();
    let sig = p256::ecdsa::Signature::from_der(&der).unwrap();
    assert!(key.verify(b"hello", &sig).is_ok());

    // A key the caller holds no grant on: a clear refusal, exit 1.
    let (ok, out) = run(
        &program,
        &["operator", "other", "hello"],
        &[("SEAM_BACKEND", Path::new("sim")), ("SEAM_STORE", &store)],
    );
    assert!(!ok);
    assert!(out.contains("4103 ORIGINATOR_HAS_NO_PRIVILEGE"), "{out}");
}

fn hex_decode(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

// ---- seam_conn_* against OpenSSL ------------------------------------------------------

const PSK: [u8; 16] = *b"oneM2M-c-test-PK";

/// A TA public key for rcgen to certify.
struct SePublicKey([u8; 65]);

impl rcgen::PublicKeyData for SePublicKey {
    fn der_bytes(&self) -> &[u8] {
        &self.0
    }
    fn algorithm(&self) -> &rcgen::SignatureAlgorithm {
        &rcgen::PKCS_ECDSA_P256_SHA256
    }
}

/// The SE test_conn.c expects (`psk`, SUID 21; `cert`, a P-256 key made
/// inside, SUID 42), as host/capi/tests/c/provision_conn.sh makes it on a
/// device, and in `dir` a CA, a certificate for `cert`
/// (se.pem) and one for the OpenSSL side (peer.pem, peer.key).
fn provision_conn(store: &Path, dir: &Path, se: &str) {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, SanType};
    let mut c = Client::simulator(store).unwrap();
    let issuer = AdminKey::generate();
    c.init_node(&issuer.public_key()).unwrap();
    let admin = AdminKey::generate();
    c.create_se(&issuer, se, &admin.public_key(), false)
        .unwrap();
    c.import_wrapped(
        &admin,
        se,
        "psk",
        suid(21),
        seam_host::proto::ObjectKind::Secret,
        &PSK,
    )
    .unwrap();
    c.admin(
        &admin,
        se,
        vec![AdminOp::GenerateKeyPair {
            object: name("cert"),
            suid: suid(42),
            attributes: Default::default(),
        }],
    )
    .unwrap();
    let me = identity::current_user();
    let entry = |ops, value: u8| AclEntry {
        grantee: me,
        ops,
        suid: seam_host::proto::suid::or_zero::from_u8(value).unwrap(),
    };
    c.admin(
        &admin,
        se,
        vec![
            AdminOp::Grant {
                object: target("psk"),
                entry: entry(Ops::HANDSHAKE, 21),
            },
            AdminOp::Grant {
                object: target("cert"),
                entry: entry(Ops::HANDSHAKE.union(Ops::SIGN), 42),
            },
        ],
    )
    .unwrap();
    let public = c.object_info(se, "cert").unwrap().public_key.unwrap();

    let leaf = |cn: &str, uri: &str| {
        let mut p = CertificateParams::new(vec!["server.seam.test".to_string()]).unwrap();
        p.subject_alt_names
            .push(SanType::URI(uri.try_into().unwrap()));
        p.distinguished_name.push(DnType::CommonName, cn);
        p
    };
    let ca_key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name.push(DnType::CommonName, "c-test CA");
    let ca = ca.self_signed(&ca_key).unwrap();
    let se_cert = leaf("seam SE key", "//m2m.seam.test/id-c")
        .signed_by(&SePublicKey(public.0), &ca, &ca_key)
        .unwrap();
    let peer_key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let peer = leaf("peer", "//m2m.seam.test/id-peer")
        .signed_by(&peer_key, &ca, &ca_key)
        .unwrap();
    let w = |file: &str, text: String| std::fs::write(dir.join(file), text).unwrap();
    w("ca.pem", ca.pem());
    w("se.pem", se_cert.pem());
    w("peer.pem", peer.pem());
    w("peer.key", peer_key.serialize_pem());
}

/// An OpenSSL process with "hello from openssl" on its standard input
/// (kept open), its output collected; killed on drop.
struct OpenSsl {
    child: std::process::Child,
    output: std::sync::Arc<std::sync::Mutex<String>>,
}

impl OpenSsl {
    fn spawn(args: &[String]) -> OpenSsl {
        use std::io::{Read, Write};
        use std::process::Stdio;
        let mut child = Command::new("openssl")
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("starting openssl");
        let output = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        for mut stream in [
            Box::new(child.stdout.take().unwrap()) as Box<dyn Read + Send>,
            Box::new(child.stderr.take().unwrap()),
        ] {
            let output = output.clone();
            std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                while let Ok(n) = stream.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    output
                        .lock()
                        .unwrap()
                        .push_str(&String::from_utf8_lossy(&buf[..n]));
                }
            });
        }
        let stdin = child.stdin.as_mut().unwrap();
        let _ = writeln!(stdin, "hello from openssl");
        let _ = stdin.flush();
        OpenSsl { child, output }
    }

    fn output(&self) -> String {
        self.output.lock().unwrap().clone()
    }

    fn wait_for(&self, what: &str) -> bool {
        let start = std::time::Instant::now();
        while start.elapsed() < std::time::Duration::from_secs(20) {
            if self.output().contains(what) {
                return true;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        false
    }
}

impl Drop for OpenSsl {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn openssl_present() -> bool {
    let ok = Command::new("openssl")
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        eprintln!("\n!!!! SKIPPED: `openssl` is not installed: seam_conn_* went untested !!!!\n");
    }
    ok
}

fn free_port(udp: bool) -> u16 {
    if udp {
        std::net::UdpSocket::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port()
    } else {
        std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port()
    }
}

fn s(text: &str) -> String {
    text.to_string()
}

#[test]
fn c_connections_handshake_with_openssl_and_export_keys() {
    if !openssl_present() {
        return;
    }
    let work = tempfile::tempdir().unwrap();
    let store = work.path().join("store");
    let dir = work.path();
    provision_conn(&store, dir, "conn");
    let program = work.path().join("test_conn");
    compile("tests/c/test_conn.c", &program);
    let path = |f: &str| dir.join(f).display().to_string();
    let store_arg = store.to_str().unwrap();

    for mode in ["tls-psk", "tls-ecdhe", "dtls-psk"] {
        let dtls = mode.starts_with("dtls");
        let port = free_port(dtls);
        let mut args = vec![
            s("s_server"),
            s("-accept"),
            format!("127.0.0.1:{port}"),
            s("-naccept"),
            s("1"),
            s(if dtls { "-dtls1_2" } else { "-tls1_2" }),
        ];
        if mode.ends_with("psk") {
            let cipher = if dtls {
                "PSK-AES128-CCM8"
            } else {
                "PSK-AES128-CBC-SHA256"
            };
            args.extend([s("-cipher"), format!("{cipher}:@SECLEVEL=0"), s("-nocert")]);
            args.extend([s("-psk"), hex(&PSK), s("-psk_identity"), s("c-test-client")]);
        } else {
            args.extend([s("-cipher"), s("ECDHE-ECDSA-AES128-SHA256")]);
            args.extend([s("-cert"), path("peer.pem"), s("-key"), path("peer.key")]);
            args.extend([s("-Verify"), s("1"), s("-CAfile"), path("ca.pem")]);
            args.push(s("-verify_return_error"));
        }
        let server = OpenSsl::spawn(&args);
        assert!(server.wait_for("ACCEPT"), "{}", server.output());
        let (ok, out) = run(
            &program,
            &["sim", store_arg, "conn", mode, &port.to_string(), &path("")],
            &[],
        );
        assert!(
            ok,
            "test_conn {mode} failed:\n{out}\ns_server:\n{}",
            server.output()
        );
        assert!(
            server.wait_for("hello from C"),
            "{mode}: s_server never got our line:\n{}",
            server.output()
        );
        let passed: u32 = out
            .lines()
            .last()
            .and_then(|l| l.split_whitespace().next())
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        assert!(passed >= 30, "{mode}: only {passed} checks ran:\n{out}");
    }

    // The server side, requiring and checking OpenSSL's client certificate.
    let mut child = Command::new(&program)
        .args(["sim", store_arg, "conn", "accept-tls-ecdhe", "0", &path("")])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    use std::io::{BufRead, Read};
    stdout.read_line(&mut line).unwrap();
    let port = line
        .strip_prefix("LISTENING ")
        .unwrap_or_else(|| panic!("test_conn said {line:?}"))
        .trim()
        .to_string();
    let client = OpenSsl::spawn(&[
        s("s_client"),
        s("-connect"),
        format!("127.0.0.1:{port}"),
        s("-tls1_2"),
        s("-servername"),
        s("server.seam.test"),
        s("-ign_eof"),
        s("-CAfile"),
        path("ca.pem"),
        s("-verify_return_error"),
        s("-cert"),
        path("peer.pem"),
        s("-key"),
        path("peer.key"),
    ]);
    let mut out = String::new();
    stdout.read_to_string(&mut out).unwrap();
    let status = child.wait().unwrap();
    assert!(
        status.success(),
        "test_conn accept-tls-ecdhe failed:\n{out}\ns_client:\n{}",
        client.output()
    );
    assert!(client.wait_for("hello from C"), "{}", client.output());
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

// ---- JOSE and ESPrim ------------------------------------------------------------------

/// The two SEs test_jose.c expects: A with sig, hs, kw and e2e; B with the
/// same e2e (the pairwise ESPrim key).
fn provision_jose(store: &Path, a: &str, b: &str) {
    use seam_host::proto::{KeyAttributes, KeyRole, ObjectKind};
    let mut c = Client::simulator(store).unwrap();
    let issuer = AdminKey::generate();
    c.init_node(&issuer.public_key()).unwrap();
    let me = identity::current_user();
    let grant = |object: &str, ops, value: u8| AdminOp::Grant {
        object: target(object),
        entry: AclEntry {
            grantee: me,
            ops,
            suid: seam_host::proto::suid::or_zero::from_u8(value).unwrap(),
        },
    };
    let secret = |object: &str, value: u8, material: &[u8], role| AdminOp::ImportPlaintext {
        object: name(object),
        suid: suid(value),
        kind: ObjectKind::Secret,
        material: seam_host::proto::Data::from_slice(material).unwrap(),
        attributes: KeyAttributes {
            role,
            not_after: None,
        },
    };
    let e2e = [0x3c; 32];
    for se in [a, b] {
        let admin = AdminKey::generate();
        c.create_se(&issuer, se, &admin.public_key(), true).unwrap();
        c.admin(
            &admin,
            se,
            vec![
                // ESPrim takes a pairwise key only.
                secret("e2e", 13, &e2e, KeyRole::Pairwise),
                grant("e2e", Ops::ENCRYPT.union(Ops::DECRYPT), 13),
            ],
        )
        .unwrap();
        if se == a {
            c.admin(
                &admin,
                se,
                vec![
                    AdminOp::GenerateKeyPair {
                        object: name("sig"),
                        suid: suid(45),
                        attributes: KeyAttributes::default(),
                    },
                    secret("hs", 15, &[0x5a; 32], KeyRole::Operational),
                    secret("kw", 14, &[0x6b; 16], KeyRole::Operational),
                ],
            )
            .unwrap();
            c.admin(
                &admin,
                se,
                vec![
                    grant("sig", Ops::SIGN.union(Ops::VERIFY), 45),
                    grant("hs", Ops::MAC, 15),
                    grant("kw", Ops::ENCRYPT.union(Ops::DECRYPT), 14),
                ],
            )
            .unwrap();
        }
    }
}

#[test]
fn the_c_jose_test_passes_on_the_simulator() {
    let work = tempfile::tempdir().unwrap();
    let store = work.path().join("store");
    provision_jose(&store, "jose-a", "jose-b");
    let program = work.path().join("test_jose");
    compile("tests/c/test_jose.c", &program);
    let (ok, out) = run(
        &program,
        &["sim", store.to_str().unwrap(), "jose-a", "jose-b"],
        &[],
    );
    assert!(ok, "test_jose failed:\n{out}");
    let summary = out.lines().last().unwrap_or_default();
    assert!(summary.ends_with("passed, 0 failed"), "{out}");
    let passed: u32 = summary.split_whitespace().next().unwrap().parse().unwrap();
    assert!(passed >= 60, "only {passed} checks ran:\n{out}");
}
