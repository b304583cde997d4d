//! `seam key …` and `seam keygen`: keys imported as the stakeholder made
//! them, the C test's provisioning script, and what the key commands say
//! when given bad input.

mod common;

use std::path::Path;
use std::process::Command;

use common::{assert_errors, env_for_errors, me, verify_independently, Env, SEAM};

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
            "42",
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
        "42",
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

/// Bad SUIDs, bad key names, bad key material, the wrong signer.
#[test]
fn key_errors_name_what_was_wrong() {
    let env = env_for_errors();
    let cases: &[(&[&str], i32, &str)] = &[
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
        (&["key", "public", "operator/*"], 2, "invalid key name `*`"),
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
    ];
    assert_errors(&env, cases);
    // Nothing above changed the SE.
    assert_eq!(env.se_field("objects"), "1");
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
        "c-test/sig\tec-p256\tsuid 45",
        "c-test/aes\tsecret\tsuid 24",
        "c-test/hmac\tsecret\tsuid 25",
    ] {
        assert!(keys.contains(k), "{keys}");
    }
    assert!(!keys.contains("c-test/other"));
}

#[test]
fn the_c_jose_test_provisioning_script_runs_on_the_cli() {
    let env = Env::new();
    env.save("issuer.pub.pem", &["keygen", "--out", "issuer.pem"]);
    env.seam(&["init", "--issuer", "issuer.pub.pem"]).ok();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../capi/tests/c/provision_jose.sh");
    let store = env.store();
    let out = env.run(
        Command::new("sh")
            .arg(&script)
            .args(["issuer.pem", "j-a", "j-b", "--backend", "sim", "--store"])
            .arg(&store)
            .env("SEAM", SEAM),
    );
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let keys = env.seam(&["key", "list", "j-a"]).ok().stdout;
    for k in [
        "j-a/sig\tec-p256\tsuid 45",
        "j-a/hs\tsecret\tsuid 15",
        "j-a/kw\tsecret\tsuid 14",
        "j-a/e2e\tsecret\tsuid 13",
    ] {
        assert!(keys.contains(k), "{keys}");
    }
    let keys = env.seam(&["key", "list", "j-b"]).ok().stdout;
    assert!(keys.contains("j-b/e2e\tsecret\tsuid 13"), "{keys}");
}
