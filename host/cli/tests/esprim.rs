//! `seam esprim rand|protect|unprotect` between two nodes (two simulator
//! stores sharing a pairwise ESPrim key), and every bad input with its exit
//! code and reason.

mod common;

use common::{assert_errors, me, Env};

const KEY: &str = "5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a";
const REQUEST: &[u8] =
    br#"{"op":2,"to":"/CSE-IN/base/meter","fr":"CAE-1","rqi":"r1","pc":"SECRET-MARKER"}"#;
const RESPONSE: &[u8] = br#"{"rsc":2000,"rqi":"r1","pc":"RESPONSE-MARKER"}"#;

/// A provisioned node whose `operator/e2e` is the pairwise ESPrim key (SUID 13).
fn node() -> Env {
    let env = Env::provisioned();
    env.seam(&[
        "key",
        "import",
        "operator/e2e",
        "--suid",
        "13",
        "--psk",
        KEY,
        "--role",
        "pairwise",
        "--sign-with",
        "admin.pem",
    ])
    .ok();
    env.seam(&[
        "acl",
        "grant",
        "operator/e2e",
        "--to",
        &me(),
        "--ops",
        "encrypt,decrypt",
        "--suid",
        "13",
        "--sign-with",
        "admin.pem",
    ])
    .ok();
    env
}

fn copy(from: &Env, to: &Env, file: &str) {
    to.write(file, &from.read(file));
}

#[test]
fn esprim_through_the_command_line() {
    let (ae, cse) = (node(), node());
    cse.save(
        "rand.json",
        &["esprim", "rand", "--id", "rand-1", "--expiry", "2000"],
    );
    copy(&cse, &ae, "rand.json");
    ae.write("request.json", REQUEST);
    ae.save(
        "request.esprim",
        &[
            "esprim",
            "protect",
            "operator/e2e",
            "--in",
            "request.json",
            "--from",
            "CAE-1",
            "--to",
            "CSE-IN",
            "--receiver-rand",
            "rand.json",
            "--session",
            "session.json",
            "--now",
            "1000",
        ],
    );
    let object = ae.read("request.esprim");
    assert!(!object.windows(13).any(|w| w == b"SECRET-MARKER"));
    copy(&ae, &cse, "request.esprim");
    let opened = cse
        .seam(&[
            "esprim",
            "unprotect",
            "operator/e2e",
            "--in",
            "request.esprim",
            "--id",
            "CSE-IN",
            "--rand",
            "rand.json",
            "--session",
            "session.json",
            "--now",
            "1001",
        ])
        .ok();
    assert_eq!(opened.bytes, REQUEST);
    cse.write("response.json", RESPONSE);
    cse.save(
        "response.esprim",
        &[
            "esprim",
            "protect",
            "operator/e2e",
            "--in",
            "response.json",
            "--response",
            "--session",
            "session.json",
            "--now",
            "1002",
        ],
    );
    copy(&cse, &ae, "response.esprim");
    let opened = ae
        .seam(&[
            "esprim",
            "unprotect",
            "operator/e2e",
            "--in",
            "response.esprim",
            "--response",
            "--session",
            "session.json",
            "--now",
            "1003",
        ])
        .ok();
    assert_eq!(opened.bytes, RESPONSE);

    // A tampered byte: exit 1, nothing on stdout.
    let mut bad = object.clone();
    let n = bad.len();
    bad[n - 5] = if bad[n - 5] == b'A' { b'B' } else { b'A' };
    cse.write("bad.esprim", &bad);
    let out = cse
        .seam(&[
            "esprim",
            "unprotect",
            "operator/e2e",
            "--in",
            "bad.esprim",
            "--id",
            "CSE-IN",
            "--rand",
            "rand.json",
            "--now",
            "1001",
        ])
        .fails(1, "authentication");
    assert!(out.bytes.is_empty());

    cse.write("garbage.esprim", b"not.an.esprim");
    cse.write("bad-rand.json", br#"{"esprimRandID":"x"}"#);
    // An operational key of SUID 13 (it may MAC, so it would hand out the
    // sessionESPrimKey): no ESPrim key.
    cse.seam(&[
        "key",
        "import",
        "operator/op13",
        "--suid",
        "13",
        "--psk",
        KEY,
        "--sign-with",
        "admin.pem",
    ])
    .ok();
    cse.seam(&[
        "acl",
        "grant",
        "operator/op13",
        "--to",
        &me(),
        "--ops",
        "encrypt,decrypt,mac",
        "--suid",
        "13",
        "--sign-with",
        "admin.pem",
    ])
    .ok();
    let unprotect = |extra: &[&'static str]| -> Vec<&'static str> {
        let mut args = vec![
            "esprim",
            "unprotect",
            "operator/e2e",
            "--in",
            "request.esprim",
        ];
        args.extend_from_slice(extra);
        args
    };
    let cases: Vec<(Vec<&str>, i32, &str)> = vec![
        // Refused objects: exit 1 with the reason.
        (
            unprotect(&["--id", "CSE-OTHER", "--rand", "rand.json", "--now", "1001"]),
            1,
            "not CSE-OTHER",
        ),
        (
            unprotect(&["--id", "CSE-IN", "--rand", "rand.json", "--now", "2000"]),
            1,
            "expired",
        ),
        (
            unprotect(&["--response", "--session", "session.json", "--now", "1001"]),
            1,
            "a response was expected",
        ),
        (
            vec![
                "esprim",
                "unprotect",
                "operator/e2e",
                "--in",
                "garbage.esprim",
                "--id",
                "CSE-IN",
                "--rand",
                "rand.json",
            ],
            1,
            "five base64url parts",
        ),
        // Usage: exit 2.
        (unprotect(&["--rand", "rand.json"]), 2, "needs --id"),
        (unprotect(&["--id", "CSE-IN"]), 2, "needs --rand"),
        (
            unprotect(&["--id", "CSE-IN", "--rand", "bad-rand.json"]),
            2,
            "esprimRandValue",
        ),
        (
            unprotect(&["--id", "CSE-IN", "--rand", "missing.json"]),
            2,
            "missing.json",
        ),
        (
            unprotect(&["--response", "--id", "CSE-IN", "--session", "session.json"]),
            2,
            "--id is for a request",
        ),
        (unprotect(&["--response"]), 2, "needs --session"),
        (
            vec![
                "esprim",
                "protect",
                "operator/e2e",
                "--in",
                "request.esprim",
                "--to",
                "CSE-IN",
                "--receiver-rand",
                "rand.json",
            ],
            2,
            "needs --from",
        ),
        (
            vec![
                "esprim",
                "protect",
                "operator/e2e",
                "--in",
                "request.esprim",
                "--from",
                "a",
                "--to",
                "b",
                "--receiver-rand",
                "rand.json",
                "--now",
                "2000",
            ],
            2,
            "expired",
        ),
        (
            vec!["esprim", "rand", "--id", "has space", "--expiry", "1"],
            2,
            "printable ASCII",
        ),
        // A key without a grant: the SE refuses (exit 3).
        (
            vec![
                "esprim",
                "protect",
                "operator/cse-key",
                "--in",
                "request.esprim",
                "--from",
                "a",
                "--to",
                "b",
                "--receiver-rand",
                "rand.json",
                "--now",
                "1000",
                "--suid",
                "25",
            ],
            3,
            "4103",
        ),
        (
            vec![
                "esprim",
                "protect",
                "operator/op13",
                "--in",
                "request.esprim",
                "--from",
                "a",
                "--to",
                "b",
                "--receiver-rand",
                "rand.json",
                "--now",
                "1000",
            ],
            3,
            "SUID or role does not allow",
        ),
    ];
    let cases: Vec<(&[&str], i32, &str)> = cases
        .iter()
        .map(|(a, c, s)| (a.as_slice(), *c, *s))
        .collect();
    assert_errors(&cse, &cases);
}
