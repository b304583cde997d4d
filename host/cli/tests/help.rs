//! `seam --help` and every command's `--help`: each has an example, and the
//! top level names the global flags and the exit codes.

mod common;

use common::Env;

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
        &["jws", "sign"],
        &["jws", "verify"],
        &["jwe", "encrypt"],
        &["jwe", "decrypt"],
        &["token", "verify"],
        &["esprim", "rand"],
        &["esprim", "protect"],
        &["esprim", "unprotect"],
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
