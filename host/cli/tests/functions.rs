//! The TS-0016 functions on the command line (`sign`, `verify`, `hash`,
//! `rand`): what they say when given bad input (their successful use runs in
//! node_se.rs and keys.rs, with signatures checked outside seam).

mod common;

use common::{assert_errors, env_for_errors};

/// Unknown SEs and keys, wrong SUIDs, malformed SE/KEY, bad files and sizes.
#[test]
fn function_errors_name_what_was_wrong() {
    let env = env_for_errors();
    let cases: &[(&[&str], i32, &str)] = &[
        (
            &["sign", "nosuch/k", "--in", "msg.txt", "--suid", "25"],
            3,
            "4004",
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
    ];
    assert_errors(&env, cases);
    // Nothing above changed the SE.
    assert_eq!(env.se_field("objects"), "1");
}
