//! `seam acl …`: what the grant command says when given bad input (the
//! whole grant/show flow runs in node_se.rs, the grants' effect on TLS in
//! tls.rs).

mod common;

use common::{assert_errors, env_for_errors};

/// A grantee that is not a caller, an operation that does not exist.
#[test]
fn acl_errors_name_what_was_wrong() {
    let env = env_for_errors();
    let cases: &[(&[&str], i32, &str)] = &[
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
                "45",
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
                "45",
                "--sign-with",
                "admin.pem",
            ],
            2,
            "unknown operation `fly`",
        ),
    ];
    assert_errors(&env, cases);
    // Nothing above changed the SE.
    assert_eq!(env.se_field("objects"), "1");
}
