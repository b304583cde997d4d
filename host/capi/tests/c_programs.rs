//! The C test and the C example, compiled with the system C compiler against
//! `include/seam.h` and the built `libseam.so`, and run on the simulator.
//!
//! On the device the same programs run against the real TA: see
//! `host/capi/Makefile` (`make -C host/capi device-test`).

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
                suid: suid(25),
            },
            AdminOp::GenerateKeyPair {
                object: name("other"),
                suid: suid(25),
            },
            AdminOp::GenerateSecret {
                object: name("aes"),
                suid: suid(24),
                len: 16,
            },
            AdminOp::GenerateSecret {
                object: name("hmac"),
                suid: suid(25),
                len: 32,
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
                entry: entry(Ops::SIGN.union(Ops::VERIFY), 25),
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
