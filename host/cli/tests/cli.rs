//! The `seam` command line, run as a user would: the built binary against a
//! temporary simulator store. The commands, flags and exit codes are a
//! contract (docs/api.md), so these tests pin them.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use sha2::{Digest, Sha256};

const SEAM: &str = env!("CARGO_BIN_EXE_seam");

struct Out {
    code: i32,
    stdout: String,
    stderr: String,
    bytes: Vec<u8>,
}

impl Out {
    fn ok(self) -> Out {
        assert_eq!(
            self.code, 0,
            "expected success:\nstdout: {}\nstderr: {}",
            self.stdout, self.stderr
        );
        self
    }

    /// Failed with `code` and a message on stderr containing `says`.
    fn fails(self, code: i32, says: &str) -> Out {
        assert_eq!(
            self.code, code,
            "expected exit {code} saying {says:?}:\nstdout: {}\nstderr: {}",
            self.stdout, self.stderr
        );
        assert!(
            self.stderr.contains(says),
            "stderr does not say {says:?}: {}",
            self.stderr
        );
        self
    }
}

/// A working directory and a simulator store.
struct Env {
    dir: tempfile::TempDir,
}

impl Env {
    fn new() -> Env {
        Env {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn store(&self) -> PathBuf {
        self.path("store")
    }

    /// `seam --backend sim --store STORE args…` in the working directory.
    fn seam(&self, args: &[&str]) -> Out {
        self.run(
            Command::new(SEAM)
                .arg("--backend")
                .arg("sim")
                .arg("--store")
                .arg(self.store())
                .args(args),
        )
    }

    fn run(&self, cmd: &mut Command) -> Out {
        let out = cmd
            .current_dir(self.dir.path())
            .stdin(Stdio::null())
            .output()
            .expect("running seam");
        Out {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            bytes: out.stdout,
        }
    }

    /// Run and save standard output to `file` (as `> file` would).
    fn save(&self, file: &str, args: &[&str]) -> String {
        let out = self.seam(args).ok();
        std::fs::write(self.path(file), &out.bytes).unwrap();
        out.stdout
    }

    fn write(&self, file: &str, bytes: &[u8]) {
        std::fs::write(self.path(file), bytes).unwrap();
    }

    fn read(&self, file: &str) -> Vec<u8> {
        std::fs::read(self.path(file)).unwrap()
    }

    /// A node with an issuer, SE `operator` with admin key `admin.pem`, and
    /// key `operator/cse-key` (SUID 25) granted sign,verify to this user.
    fn provisioned() -> Env {
        let env = Env::new();
        env.save("issuer.pub.pem", &["keygen", "--out", "issuer.pem"]);
        env.seam(&["init", "--issuer", "issuer.pub.pem"]).ok();
        env.save("admin.pub.pem", &["keygen", "--out", "admin.pem"]);
        env.seam(&[
            "se",
            "create",
            "operator",
            "--admin",
            "admin.pub.pem",
            "--sign-with",
            "issuer.pem",
        ])
        .ok();
        env.save(
            "cse-key.pub.pem",
            &[
                "key",
                "generate",
                "operator/cse-key",
                "--suid",
                "25",
                "--sign-with",
                "admin.pem",
            ],
        );
        env.seam(&[
            "acl",
            "grant",
            "operator/cse-key",
            "--to",
            &me(),
            "--ops",
            "sign,verify",
            "--suid",
            "25",
            "--sign-with",
            "admin.pem",
        ])
        .ok();
        env.write("msg.txt", b"a oneM2M request from the CSE\n");
        env
    }

    fn se_field(&self, field: &str) -> String {
        let info = self.seam(&["se", "info", "operator"]).ok().stdout;
        info.lines()
            .find_map(|l| l.strip_prefix(&format!("{field}: ")))
            .unwrap_or_else(|| panic!("no {field} in {info}"))
            .to_string()
    }
}

fn me() -> String {
    // SAFETY: geteuid cannot fail.
    format!("uid:{}", unsafe { libc::geteuid() })
}

/// `openssl` on the PATH, if the machine has it.
fn openssl() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join("openssl"))
        .find(|p| p.is_file())
}

/// Verify a DER signature outside seam: with openssl when the machine has
/// it, and always with p256.
fn verify_independently(env: &Env, public_pem: &str, message: &str, signature: &str) {
    use p256::ecdsa::signature::Verifier;
    use p256::pkcs8::DecodePublicKey;
    let key = p256::ecdsa::VerifyingKey::from_public_key_pem(
        &String::from_utf8(env.read(public_pem)).unwrap(),
    )
    .unwrap();
    let sig = p256::ecdsa::Signature::from_der(&env.read(signature)).expect("a DER signature");
    assert!(
        key.verify(&env.read(message), &sig).is_ok(),
        "p256 rejects it"
    );
    if let Some(openssl) = openssl() {
        let out = env.run(Command::new(openssl).args([
            "dgst",
            "-sha256",
            "-verify",
            public_pem,
            "-signature",
            signature,
            message,
        ]));
        assert!(
            out.code == 0 && out.stdout.contains("Verified OK"),
            "openssl: {} {}",
            out.stdout,
            out.stderr
        );
    }
}

#[test]
fn a_whole_provisioning_flow_ends_in_an_independently_verified_signature() {
    let env = Env::new();
    // The issuer's and the stakeholder's keys, made without openssl.
    let issuer_pub = env.save("issuer.pub.pem", &["keygen", "--out", "issuer.pem"]);
    assert!(issuer_pub.starts_with("-----BEGIN PUBLIC KEY-----"));
    let private = String::from_utf8(env.read("issuer.pem")).unwrap();
    assert!(private.starts_with("-----BEGIN PRIVATE KEY-----"));
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(env.path("issuer.pem"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(
        mode & 0o077,
        0,
        "the private key file is readable by others"
    );

    // init: the node id and the node's key-agreement key, one PEM block.
    let node = env
        .seam(&["init", "--issuer", "issuer.pub.pem"])
        .ok()
        .stdout;
    assert!(node.contains("node-id: "), "{node}");
    assert_eq!(node.matches("-----BEGIN PUBLIC KEY-----").count(), 1);
    env.seam(&["init", "--issuer", "issuer.pub.pem"])
        .fails(3, "5106");

    env.save("admin.pub.pem", &["keygen", "--out", "admin.pem"]);
    let created = env
        .seam(&[
            "se",
            "create",
            "operator",
            "--admin",
            "admin.pub.pem",
            "--sign-with",
            "issuer.pem",
        ])
        .ok()
        .stdout;
    assert!(created.contains("m2m-se-id: 3-"), "{created}");
    assert_eq!(env.seam(&["se", "list"]).ok().stdout.trim(), "operator");

    let public = env.save(
        "cse-key.pub.pem",
        &[
            "key",
            "generate",
            "operator/cse-key",
            "--suid",
            "25",
            "--sign-with",
            "admin.pem",
        ],
    );
    assert!(public.starts_with("-----BEGIN PUBLIC KEY-----"));
    // The admin manages the key but may not use it or even see it: no grant yet.
    env.seam(&["key", "public", "operator/cse-key"])
        .fails(3, "4103");

    // Grant this user (by its caller UUID, as an operator would) sign and verify.
    let uuid = env.seam(&["identity"]).ok().stdout.trim().to_string();
    assert_eq!(
        uuid,
        env.seam(&["identity", "--uid", &me()[4..]])
            .ok()
            .stdout
            .trim()
    );
    env.seam(&[
        "acl",
        "grant",
        "operator/cse-key",
        "--to",
        &uuid,
        "--ops",
        "sign,verify",
        "--suid",
        "25",
        "--sign-with",
        "admin.pem",
    ])
    .ok();
    let acl = env.seam(&["acl", "show", "operator/cse-key"]).ok().stdout;
    assert!(acl.contains(&uuid) && acl.contains("sign,verify") && acl.contains("suid 25"));
    assert!(env
        .seam(&["key", "list", "operator"])
        .ok()
        .stdout
        .contains("operator/cse-key\tec-p256\tsuid 25"));
    assert_eq!(
        env.seam(&["key", "public", "operator/cse-key"]).ok().stdout,
        public
    );

    // The CSE identity signs; the signature is DER that openssl verifies.
    env.write("msg.txt", b"a oneM2M request from the CSE\n");
    env.seam(&[
        "sign",
        "operator/cse-key",
        "--in",
        "msg.txt",
        "--out",
        "msg.sig",
    ])
    .ok();
    verify_independently(&env, "cse-key.pub.pem", "msg.txt", "msg.sig");
    let ok = env
        .seam(&[
            "verify",
            "operator/cse-key",
            "--in",
            "msg.txt",
            "--sig",
            "msg.sig",
        ])
        .ok();
    assert!(ok.stdout.contains("signature OK"));
    env.write("other.txt", b"something else");
    env.seam(&[
        "verify",
        "operator/cse-key",
        "--in",
        "other.txt",
        "--sig",
        "msg.sig",
    ])
    .fails(1, "does not verify");

    // Without --out the DER goes to standard output.
    let der = env
        .seam(&["sign", "operator/cse-key", "--in", "msg.txt"])
        .ok()
        .bytes;
    assert_eq!(der[0], 0x30);
    env.write("stdout.sig", &der);
    verify_independently(&env, "cse-key.pub.pem", "msg.txt", "stdout.sig");

    // --json
    let json: serde_json::Value = serde_json::from_str(
        &env.seam(&["--json", "sign", "operator/cse-key", "--in", "msg.txt"])
            .ok()
            .stdout,
    )
    .unwrap();
    assert_eq!(json["suid"], 25);
    assert!(json["signature_der"].as_str().unwrap().starts_with("30"));

    // <hash> and <rand>.
    let digest = env.seam(&["hash", "--in", "msg.txt"]).ok().stdout;
    assert_eq!(
        digest.trim(),
        hex::encode(Sha256::digest(b"a oneM2M request from the CSE\n"))
    );
    let random = env.seam(&["rand", "16"]).ok().stdout;
    assert_eq!(random.trim().len(), 32);

    // Retire: the SE and its keys are gone.
    env.seam(&["se", "retire", "operator", "--sign-with", "issuer.pem"])
        .ok();
    env.seam(&[
        "sign",
        "operator/cse-key",
        "--in",
        "msg.txt",
        "--suid",
        "25",
    ])
    .fails(3, "4004");
}

#[test]
fn imported_keys_sign_as_the_stakeholder_made_them() {
    let env = Env::provisioned();
    // A stakeholder's existing key, SEC1 PEM (as `openssl ecparam -genkey` writes).
    let key = p256::SecretKey::random(&mut p256::elliptic_curve::rand_core::OsRng);
    let sec1 = key.to_sec1_pem(p256::pkcs8::LineEnding::LF).unwrap();
    env.write("tls.sec1.pem", sec1.as_bytes());
    let public = env
        .seam(&[
            "key",
            "import",
            "operator/tls",
            "--suid",
            "22",
            "--private-key",
            "tls.sec1.pem",
            "--sign-with",
            "admin.pem",
        ])
        .ok()
        .stdout;
    use p256::pkcs8::EncodePublicKey;
    let expected = key
        .public_key()
        .to_public_key_pem(p256::pkcs8::LineEnding::LF)
        .unwrap();
    assert_eq!(public, expected);
    env.write("tls.pub.pem", public.as_bytes());
    env.seam(&[
        "acl",
        "grant",
        "operator/tls",
        "--to",
        &me(),
        "--ops",
        "sign",
        "--suid",
        "22",
        "--sign-with",
        "admin.pem",
    ])
    .ok();
    env.seam(&[
        "sign",
        "operator/tls",
        "--in",
        "msg.txt",
        "--out",
        "tls.sig",
    ])
    .ok();
    verify_independently(&env, "tls.pub.pem", "msg.txt", "tls.sig");

    // A PSK and opaque data, wrapped; plaintext import only on a development SE.
    env.seam(&[
        "key",
        "import",
        "operator/psk",
        "--suid",
        "22",
        "--psk",
        "00112233445566778899aabbccddeeff",
        "--sign-with",
        "admin.pem",
    ])
    .ok();
    env.seam(&[
        "key",
        "import",
        "operator/psk2",
        "--suid",
        "22",
        "--psk",
        "00112233445566778899aabbccddeeff",
        "--plaintext",
        "--sign-with",
        "admin.pem",
    ])
    .fails(3, "4005");
    assert_eq!(env.se_field("objects"), "3");
    env.seam(&["key", "delete", "operator/psk", "--sign-with", "admin.pem"])
        .ok();
    assert_eq!(env.se_field("objects"), "2");
}

#[test]
fn offline_bundles_through_the_command_line() {
    let env = Env::provisioned();
    // On the device: the descriptor, in both forms.
    env.save("operator.node.pem", &["se", "info", "operator"]);
    env.save("operator.json", &["--json", "se", "info", "operator"]);
    let counter_before = env.se_field("admin-counter");

    // On the stakeholder's machine: no store needed (a fresh, empty one).
    let offline = Env::new();
    for f in ["operator.node.pem", "operator.json", "admin.pem"] {
        offline.write(f, &env.read(f));
    }
    let tls_pub = offline.save("tls.pub.pem", &["keygen", "--out", "tls.pem"]);
    let psk = "00112233445566778899aabbccddeeff";
    let grant = format!("tls:{}:sign:22", me());
    offline
        .seam(&[
            "bundle",
            "create",
            "--node-key",
            "operator.node.pem",
            "--se",
            "operator",
            "--sign-with",
            "admin.pem",
            "--key",
            &format!("psk:22:psk:{psk}"),
            "--key",
            "tls:22:private-key:tls.pem",
            "--grant",
            &grant,
            "--out",
            "operator.bundle",
        ])
        .ok();
    assert!(
        !offline.store().join("node").exists(),
        "bundle create touched a store"
    );
    let bundle = offline.read("operator.bundle");
    assert_eq!(&bundle[..8], b"SEAMBNDL");
    env.write("operator.bundle", &bundle);

    let shown = env.seam(&["bundle", "show", "operator.bundle"]).ok().stdout;
    assert!(
        shown.contains("import psk (secret, suid 22, wrapped)"),
        "{shown}"
    );
    assert!(!shown.contains(psk), "the PSK is visible in the bundle");

    // A flipped byte: refused, and nothing applied.
    let mut bad = bundle.clone();
    let middle = bad.len() / 2;
    bad[middle] ^= 0x01;
    env.write("bad.bundle", &bad);
    let out = env.seam(&["bundle", "apply", "bad.bundle"]);
    assert_ne!(out.code, 0, "a flipped byte was accepted");
    assert_eq!(env.se_field("admin-counter"), counter_before);
    assert_eq!(env.se_field("objects"), "1");

    // The real one applies, once; the imported key is the stakeholder's.
    let applied = env
        .seam(&["bundle", "apply", "operator.bundle"])
        .ok()
        .stdout;
    assert!(applied.contains(&tls_pub), "{applied}");
    assert_eq!(env.se_field("objects"), "3");
    env.seam(&["bundle", "apply", "operator.bundle"])
        .fails(3, "4105");
    env.seam(&[
        "sign",
        "operator/tls",
        "--in",
        "msg.txt",
        "--out",
        "tls.sig",
    ])
    .ok();
    env.write("tls.pub.pem", tls_pub.as_bytes());
    verify_independently(&env, "tls.pub.pem", "msg.txt", "tls.sig");

    // From the JSON descriptor, a later bundle (time counter) still applies.
    offline.write("token.bin", b"opaque token");
    offline
        .seam(&[
            "bundle",
            "create",
            "--node-key",
            "operator.json",
            "--se",
            "operator",
            "--sign-with",
            "admin.pem",
            "--key",
            "token:25:data:token.bin",
            "--out",
            "second.bundle",
        ])
        .ok();
    env.write("second.bundle", &offline.read("second.bundle"));
    env.seam(&["bundle", "apply", "second.bundle"]).ok();

    // Made for this node, relayed to another one: refused.
    let other = Env::new();
    other.save("issuer.pub.pem", &["keygen", "--out", "issuer.pem"]);
    other.seam(&["init", "--issuer", "issuer.pub.pem"]).ok();
    other.write("admin.pub.pem", &env.read("admin.pub.pem"));
    other
        .seam(&[
            "se",
            "create",
            "operator",
            "--admin",
            "admin.pub.pem",
            "--sign-with",
            "issuer.pem",
        ])
        .ok();
    other.write("operator.bundle", &bundle);
    other
        .seam(&["bundle", "apply", "operator.bundle"])
        .fails(2, "this bundle is for node");

    // Creation errors.
    let five: Vec<String> = (0..5).map(|i| format!("k{i}:25:psk:{psk}")).collect();
    let mut args = vec![
        "bundle",
        "create",
        "--node-key",
        "operator.node.pem",
        "--se",
        "operator",
        "--sign-with",
        "admin.pem",
        "--out",
        "big.bundle",
    ];
    for k in &five {
        args.extend(["--key", k]);
    }
    offline.seam(&args).fails(2, "at most 4 operations");
    offline
        .seam(&[
            "bundle",
            "create",
            "--node-key",
            "operator.node.pem",
            "--se",
            "operator",
            "--key",
            "k:25:psk:00",
            "--out",
            "x.bundle",
        ])
        .fails(2, "--sign-with");
    offline
        .seam(&[
            "bundle",
            "create",
            "--node-key",
            "admin.pem",
            "--se",
            "operator",
            "--sign-with",
            "admin.pem",
            "--key",
            &format!("k:25:psk:{psk}"),
            "--out",
            "x.bundle",
        ])
        .fails(2, "BEGIN PUBLIC KEY");
    offline
        .seam(&[
            "bundle",
            "create",
            "--node-key",
            "operator.node.pem",
            "--se",
            "operator",
            "--sign-with",
            "admin.pem",
            "--key",
            "k:25:rsa:xx",
            "--out",
            "x.bundle",
        ])
        .fails(2, "NAME:SUID:psk:HEX");
    offline
        .seam(&[
            "bundle",
            "create",
            "--node-key",
            "operator.node.pem",
            "--se",
            "operator",
            "--sign-with",
            "admin.pem",
            "--grant",
            "k:uid:1:sign",
            "--out",
            "x.bundle",
        ])
        .fails(2, "KEY:GRANTEE:OPS:SUID");
    env.write("junk.bundle", b"not a bundle");
    env.seam(&["bundle", "apply", "junk.bundle"])
        .fails(2, "not a seam bundle");
}

#[test]
fn errors_name_what_was_wrong() {
    let env = Env::provisioned();
    env.write(
        "bad.pem",
        b"-----BEGIN PUBLIC KEY-----\nnot base64\n-----END PUBLIC KEY-----\n",
    );
    env.write("garbage.sig", b"not a signature");
    let cases: &[(&[&str], i32, &str)] = &[
        // Bad PEM.
        (
            &["init", "--issuer", "bad.pem"],
            2,
            "--issuer bad.pem: not a P-256 public key",
        ),
        (
            &[
                "se",
                "create",
                "x",
                "--admin",
                "admin.pub.pem",
                "--sign-with",
                "bad.pem",
            ],
            2,
            "--sign-with bad.pem: not a P-256 private key",
        ),
        (
            &[
                "se",
                "create",
                "x",
                "--admin",
                "missing.pem",
                "--sign-with",
                "issuer.pem",
            ],
            2,
            "reading --admin missing.pem",
        ),
        // Unknown SE.
        (&["se", "info", "nosuch"], 3, "4004 NOT_FOUND: no such SE"),
        (
            &["sign", "nosuch/k", "--in", "msg.txt", "--suid", "25"],
            3,
            "4004",
        ),
        // Bad SUIDs: not a SUID, and not the key's SUID.
        (
            &[
                "key",
                "generate",
                "operator/k",
                "--suid",
                "99",
                "--sign-with",
                "admin.pem",
            ],
            2,
            "--suid 99 is not a SUID",
        ),
        (
            &[
                "sign",
                "operator/cse-key",
                "--in",
                "msg.txt",
                "--suid",
                "22",
            ],
            3,
            "4103 ORIGINATOR_HAS_NO_PRIVILEGE: SUID does not match",
        ),
        (
            &["key", "generate", "operator/k", "--suid", "x1"],
            2,
            "invalid value 'x1'",
        ),
        // Missing --sign-with.
        (
            &["key", "generate", "operator/k", "--suid", "25"],
            2,
            "--sign-with <ADMIN.pem>",
        ),
        (&["se", "retire", "operator"], 2, "--sign-with <ISSUER.pem>"),
        // Malformed SE/KEY.
        (
            &["sign", "cse-key", "--in", "msg.txt"],
            2,
            "`cse-key` is not SE/KEY",
        ),
        (
            &["sign", "a/b/c", "--in", "msg.txt"],
            2,
            "more than one `/`",
        ),
        (
            &["sign", "bad se/k", "--in", "msg.txt"],
            2,
            "invalid SE name `bad se`",
        ),
        (
            &["sign", "operator/", "--in", "msg.txt"],
            2,
            "invalid key name ``",
        ),
        (&["key", "public", "operator/*"], 2, "invalid key name `*`"),
        // Other bad input.
        (
            &[
                "acl",
                "grant",
                "operator/cse-key",
                "--to",
                "uid:me",
                "--ops",
                "sign",
                "--suid",
                "25",
                "--sign-with",
                "admin.pem",
            ],
            2,
            "uid must be a decimal number",
        ),
        (
            &[
                "acl",
                "grant",
                "operator/cse-key",
                "--to",
                "uid:1",
                "--ops",
                "sign,fly",
                "--suid",
                "25",
                "--sign-with",
                "admin.pem",
            ],
            2,
            "unknown operation `fly`",
        ),
        (
            &[
                "verify",
                "operator/cse-key",
                "--in",
                "msg.txt",
                "--sig",
                "garbage.sig",
            ],
            2,
            "not an ECDSA P-256 signature",
        ),
        (
            &["hash", "--in", "missing.txt"],
            2,
            "reading --in missing.txt",
        ),
        (&["rand", "5000"], 2, "1 to 1024 bytes"),
        (
            &[
                "key",
                "import",
                "operator/k",
                "--suid",
                "25",
                "--psk",
                "zz",
                "--sign-with",
                "admin.pem",
            ],
            2,
            "--psk: the PSK is not hex",
        ),
        (
            &[
                "key",
                "import",
                "operator/k",
                "--suid",
                "25",
                "--psk",
                "00",
                "--data",
                "msg.txt",
                "--sign-with",
                "admin.pem",
            ],
            2,
            "cannot be used with",
        ),
        (
            &["keygen", "--out", "admin.pem"],
            2,
            "admin.pem exists already",
        ),
        // Signed by the wrong key: the SE refuses it.
        (
            &[
                "se",
                "create",
                "x",
                "--admin",
                "admin.pub.pem",
                "--sign-with",
                "admin.pem",
            ],
            3,
            "4106 ORIGINATOR_NOT_AUTHENTICATED",
        ),
        (
            &[
                "key",
                "generate",
                "operator/k",
                "--suid",
                "25",
                "--sign-with",
                "issuer.pem",
            ],
            3,
            "4106",
        ),
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
            "TLS 1.3 with the handshake secrets in the SE runs in \
             `seam tunnel client|server --tls13`",
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
            "seam_rustls",
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
    for (args, code, says) in cases {
        let out = env.seam(args);
        assert_eq!(
            out.code, *code,
            "seam {args:?}: expected exit {code}\nstdout: {}\nstderr: {}",
            out.stdout, out.stderr
        );
        assert!(
            out.stderr.contains(says),
            "seam {args:?}: stderr does not say {says:?}: {}",
            out.stderr
        );
    }
    // The TEE backend in a build without it.
    if !cfg!(feature = "tee") {
        let out = env.run(Command::new(SEAM).args(["--backend", "tee", "se", "list"]));
        out.fails(2, "--backend tee: this seam was built without TEE support");
    }

    // Nothing above changed the SE.
    assert_eq!(env.se_field("objects"), "1");

    // --json errors are JSON on stderr, with the status code.
    let out = env.seam(&["--json", "se", "info", "nosuch"]);
    assert_eq!(out.code, 3);
    let v: serde_json::Value = serde_json::from_str(out.stderr.trim()).unwrap();
    assert_eq!(v["error"]["status"], 4004);
    assert_eq!(v["error"]["exit_code"], 3);
    assert_eq!(v["error"]["reason"], "UnknownSe");
}

#[test]
fn every_command_has_an_example_in_its_help() {
    let env = Env::new();
    let commands: &[&[&str]] = &[
        &["init"],
        &["se", "create"],
        &["se", "list"],
        &["se", "info"],
        &["se", "retire"],
        &["key", "generate"],
        &["key", "import"],
        &["key", "public"],
        &["key", "list"],
        &["key", "delete"],
        &["acl", "grant"],
        &["acl", "revoke"],
        &["acl", "show"],
        &["identity"],
        &["sign"],
        &["verify"],
        &["hash"],
        &["rand"],
        &["keygen"],
        &["bundle", "create"],
        &["bundle", "apply"],
        &["bundle", "show"],
        &["tls-client"],
        &["dtls-client"],
        &["tls-server"],
        &["dtls-server"],
    ];
    for command in commands {
        let mut args = command.to_vec();
        args.push("--help");
        let out = env.seam(&args).ok();
        assert!(
            out.stdout.contains("Example"),
            "seam {} --help has no example:\n{}",
            command.join(" "),
            out.stdout
        );
        assert!(out.stdout.contains(&format!("seam {}", command.join(" "))));
    }
    let top = env.seam(&["--help"]).ok().stdout;
    for flag in ["--backend", "--store", "--json", "Exit codes"] {
        assert!(top.contains(flag), "seam --help lacks {flag}");
    }
}

#[test]
fn the_default_backend_without_a_tee_is_the_simulator_and_says_so() {
    if Path::new("/dev/teepriv0").exists() {
        return; // a device: the default is the TEE.
    }
    let env = Env::new();
    let out = env.run(
        Command::new(SEAM)
            .args(["se", "list"])
            .env("SEAM_STORE", env.store()),
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stderr.contains("protects nothing"), "{}", out.stderr);
    assert!(env.store().join(".lock").exists(), "$SEAM_STORE not used");
    // No warning when the simulator is asked for by name.
    assert!(env.seam(&["se", "list"]).ok().stderr.is_empty());
}

#[test]
fn the_c_test_provisioning_script_runs_on_the_cli() {
    let env = Env::new();
    env.save("issuer.pub.pem", &["keygen", "--out", "issuer.pem"]);
    env.seam(&["init", "--issuer", "issuer.pub.pem"]).ok();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../capi/tests/c/provision.sh");
    let store = env.store();
    let out = env.run(
        Command::new("sh")
            .arg(&script)
            .args(["issuer.pem", "c-test", "--backend", "sim", "--store"])
            .arg(&store)
            .env("SEAM", SEAM),
    );
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let keys = env.seam(&["key", "list", "c-test"]).ok().stdout;
    for k in [
        "c-test/sig\tec-p256\tsuid 25",
        "c-test/aes\tsecret\tsuid 24",
        "c-test/hmac\tsecret\tsuid 25",
    ] {
        assert!(keys.contains(k), "{keys}");
    }
    assert!(!keys.contains("c-test/other"));
}
