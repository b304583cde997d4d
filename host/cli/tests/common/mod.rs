//! What every `seam` command-line test uses: the built binary run against
//! a temporary simulator store, its exit code and output, and a node
//! provisioned through the CLI itself.
#![allow(dead_code)] // each test file uses a different subset

use std::path::PathBuf;
use std::process::{Command, Stdio};

pub const SEAM: &str = env!("CARGO_BIN_EXE_seam");

pub struct Out {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    pub bytes: Vec<u8>,
}

impl Out {
    pub fn ok(self) -> Out {
        assert_eq!(
            self.code, 0,
            "expected success:\nstdout: {}\nstderr: {}",
            self.stdout, self.stderr
        );
        self
    }

    /// Failed with `code` and a message on stderr containing `says`.
    pub fn fails(self, code: i32, says: &str) -> Out {
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
pub struct Env {
    dir: tempfile::TempDir,
}

impl Env {
    pub fn new() -> Env {
        Env {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn store(&self) -> PathBuf {
        self.path("store")
    }

    /// `seam --backend sim --store STORE args…` in the working directory.
    pub fn seam(&self, args: &[&str]) -> Out {
        self.run(
            Command::new(SEAM)
                .arg("--backend")
                .arg("sim")
                .arg("--store")
                .arg(self.store())
                .args(args),
        )
    }

    pub fn run(&self, cmd: &mut Command) -> Out {
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
    pub fn save(&self, file: &str, args: &[&str]) -> String {
        let out = self.seam(args).ok();
        std::fs::write(self.path(file), &out.bytes).unwrap();
        out.stdout
    }

    pub fn write(&self, file: &str, bytes: &[u8]) {
        std::fs::write(self.path(file), bytes).unwrap();
    }

    pub fn read(&self, file: &str) -> Vec<u8> {
        std::fs::read(self.path(file)).unwrap()
    }

    /// A node with an issuer, SE `operator` with admin key `admin.pem`, and
    /// key `operator/cse-key` (SUID 25) granted sign,verify to this user.
    pub fn provisioned() -> Env {
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
                "45",
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
            "45",
            "--sign-with",
            "admin.pem",
        ])
        .ok();
        env.write("msg.txt", b"a oneM2M request from the CSE\n");
        env
    }

    pub fn se_field(&self, field: &str) -> String {
        let info = self.seam(&["se", "info", "operator"]).ok().stdout;
        info.lines()
            .find_map(|l| l.strip_prefix(&format!("{field}: ")))
            .unwrap_or_else(|| panic!("no {field} in {info}"))
            .to_string()
    }
}

pub fn me() -> String {
    // SAFETY: geteuid cannot fail.
    format!("uid:{}", unsafe { libc::geteuid() })
}

/// Verify a DER signature outside seam: with p256, and with openssl
/// (`seam_tests::require_tool`: a missing openssl is reported).
pub fn verify_independently(env: &Env, public_pem: &str, message: &str, signature: &str) {
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
    if seam_tests::require_tool("openssl") {
        let out = env.run(Command::new("openssl").args([
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

/// Runs each `(args, exit code, what stderr says)` on `env` and checks both.
pub fn assert_errors(env: &Env, cases: &[(&[&str], i32, &str)]) {
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
}

/// A node provisioned as [`Env::provisioned`], with a malformed PEM
/// (`bad.pem`) and a file that is no signature (`garbage.sig`) beside it.
pub fn env_for_errors() -> Env {
    let env = Env::provisioned();
    env.write(
        "bad.pem",
        b"-----BEGIN PUBLIC KEY-----\nnot base64\n-----END PUBLIC KEY-----\n",
    );
    env.write("garbage.sig", b"not a signature");
    env
}
