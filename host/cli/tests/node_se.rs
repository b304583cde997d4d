//! `seam init`, `seam se …`, the backends and the error format: a whole
//! provisioning flow through the command line, and what it says when the
//! node or SE commands get bad input. The commands, flags and exit codes are
//! a contract (docs/api.md), so these tests pin them.

mod common;

use std::path::Path;
use std::process::Command;

use common::{assert_errors, env_for_errors, me, verify_independently, Env, SEAM};
use sha2::{Digest, Sha256};

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
        .fails(3, "4105");

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
            "45",
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
        "45",
        "--sign-with",
        "admin.pem",
    ])
    .ok();
    let acl = env.seam(&["acl", "show", "operator/cse-key"]).ok().stdout;
    assert!(acl.contains(&uuid) && acl.contains("sign,verify") && acl.contains("suid 45"));
    assert!(env
        .seam(&["key", "list", "operator"])
        .ok()
        .stdout
        .contains("operator/cse-key\tec-p256\tsuid 45"));
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
    assert_eq!(json["suid"], 45);
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
        "45",
    ])
    .fails(3, "4004");
}

/// Bad PEM, unknown SEs, missing or wrong signers.
#[test]
fn node_and_se_errors_name_what_was_wrong() {
    let env = env_for_errors();
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
        // Missing --sign-with.
        (&["se", "retire", "operator"], 2, "--sign-with <ISSUER.pem>"),
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
    ];
    assert_errors(&env, cases);
    // The TEE backend in a build without it.
    if !cfg!(feature = "tee") {
        let out = env.run(Command::new(SEAM).args(["--backend", "tee", "se", "list"]));
        out.fails(2, "--backend tee: this seam was built without TEE support");
    }
    // Nothing above changed the SE.
    assert_eq!(env.se_field("objects"), "1");
}

#[test]
fn json_errors_are_json_on_stderr_with_the_status_code() {
    let env = Env::provisioned();
    let out = env.seam(&["--json", "se", "info", "nosuch"]);
    assert_eq!(out.code, 3);
    let v: serde_json::Value = serde_json::from_str(out.stderr.trim()).unwrap();
    assert_eq!(v["error"]["status"], 4004);
    assert_eq!(v["error"]["exit_code"], 3);
    assert_eq!(v["error"]["reason"], "UnknownSe");
}

#[test]
fn the_default_backend_without_a_tee_is_the_simulator_and_says_so() {
    if Path::new("/dev/teepriv0").exists() {
        // A device: the default is the TEE.
        seam_tests::tools::skipped("a TEE is present (/dev/teepriv0)");
        return;
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
