//! `seam jws`, `seam jwe` and `seam token` on the command line: round trips
//! through the simulator, and exit 1 with the reason for anything that does
//! not verify (interop with jwcrypto is in seam-tests' jose_interop.rs).

mod common;

use common::{me, Env};

#[test]
fn jose_through_the_command_line() {
    let env = Env::provisioned();
    // JWS with the EC key: compact on stdout, payload back on verify.
    env.save(
        "msg.jws",
        &["jws", "sign", "operator/cse-key", "--in", "msg.txt"],
    );
    let jws = String::from_utf8(env.read("msg.jws")).unwrap();
    assert_eq!(jws.trim().split('.').count(), 3, "{jws}");
    assert!(
        jws.starts_with("eyJhbGciOiJFUzI1NiJ9."),
        "ES256 chosen by the key: {jws}"
    );
    let out = env
        .seam(&["jws", "verify", "operator/cse-key", "--in", "msg.jws"])
        .ok();
    assert_eq!(out.bytes, env.read("msg.txt"));
    let mut bad = env.read("msg.jws");
    bad[25] = if bad[25] == b'A' { b'B' } else { b'A' };
    env.write("bad.jws", &bad);
    env.seam(&["jws", "verify", "operator/cse-key", "--in", "bad.jws"])
        .fails(1, "verify");
    env.write("none.jws", b"eyJhbGciOiJub25lIn0.e30.");
    env.seam(&["jws", "verify", "operator/cse-key", "--in", "none.jws"])
        .fails(1, "none");

    // A token: typ JWT, checked for time and audience.
    env.write(
        "claims.json",
        br#"{"iss":"/das","nbf":1000,"exp":2000,"aud":["/cse-mn-1"]}"#,
    );
    env.save(
        "t.jwt",
        &[
            "jws",
            "sign",
            "operator/cse-key",
            "--in",
            "claims.json",
            "--typ",
            "JWT",
        ],
    );
    let token = |audience: &str, now: &str| {
        env.seam(&[
            "token",
            "verify",
            "operator/cse-key",
            "--in",
            "t.jwt",
            "--audience",
            audience,
            "--now",
            now,
        ])
    };
    assert!(token("/cse-mn-1", "1500")
        .ok()
        .stdout
        .contains("\"iss\":\"/das\""));
    token("/cse-mn-1", "2000").fails(1, "expired");
    token("/cse-mn-1", "999").fails(1, "not valid yet");
    token("/cse-other", "1500").fails(1, "audience");

    // JWE with a 128-bit KEK and AES-256-GCM content encryption.
    let kek = "00112233445566778899aabbccddeeff";
    env.seam(&[
        "key",
        "import",
        "operator/kek",
        "--suid",
        "44",
        "--psk",
        kek,
        "--sign-with",
        "admin.pem",
    ])
    .ok();
    env.seam(&[
        "acl",
        "grant",
        "operator/kek",
        "--to",
        &me(),
        "--ops",
        "encrypt,decrypt",
        "--suid",
        "44",
        "--sign-with",
        "admin.pem",
    ])
    .ok();
    env.save(
        "msg.jwe",
        &[
            "jwe",
            "encrypt",
            "operator/kek",
            "--in",
            "msg.txt",
            "--alg",
            "A128KW",
            "--enc",
            "A256GCM",
        ],
    );
    assert_eq!(
        String::from_utf8(env.read("msg.jwe"))
            .unwrap()
            .trim()
            .split('.')
            .count(),
        5
    );
    let out = env
        .seam(&["jwe", "decrypt", "operator/kek", "--in", "msg.jwe"])
        .ok();
    assert_eq!(out.bytes, env.read("msg.txt"));
    let mut bad = env.read("msg.jwe");
    let n = bad.len();
    bad[n - 5] = if bad[n - 5] == b'A' { b'B' } else { b'A' };
    env.write("bad.jwe", &bad);
    env.seam(&["jwe", "decrypt", "operator/kek", "--in", "bad.jwe"])
        .fails(1, "authentication");
    env.seam(&[
        "jwe",
        "encrypt",
        "operator/kek",
        "--in",
        "msg.txt",
        "--alg",
        "none",
        "--enc",
        "A128GCM",
    ])
    .fails(2, "none");
}
