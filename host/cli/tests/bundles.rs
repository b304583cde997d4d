//! `seam bundle create|show|apply`: offline provisioning, made on a
//! stakeholder's machine without a store and applied once on the node.

mod common;

use common::{me, verify_independently, Env};

/// `seam bundle create` for SE `operator`, from `operator.node.pem`,
/// signed with `admin.pem`, then `rest`.
fn create<'a>(rest: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "bundle",
        "create",
        "--node-key",
        "operator.node.pem",
        "--se",
        "operator",
        "--sign-with",
        "admin.pem",
    ];
    args.extend_from_slice(rest);
    args
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
    let grant = format!("tls:{}:sign:42", me());
    offline
        .seam(&create(&[
            "--key",
            &format!("psk:22:psk:{psk}"),
            "--key",
            "tls:42:private-key:tls.pem",
            "--grant",
            &grant,
            "--out",
            "operator.bundle",
        ]))
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
        .fails(3, "4106");
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
    let mut args = create(&["--out", "big.bundle"]);
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
        .seam(&create(&["--key", "k:25:rsa:xx", "--out", "x.bundle"]))
        .fails(2, "NAME:SUID:psk:HEX");
    offline
        .seam(&create(&["--grant", "k:uid:1:sign", "--out", "x.bundle"]))
        .fails(2, "KEY:GRANTEE:OPS:SUID");
    env.write("junk.bundle", b"not a bundle");
    env.seam(&["bundle", "apply", "junk.bundle"])
        .fails(2, "not a seam bundle");
}

/// A public key to trust (here the operator's own cse-key, as a peer's
/// would be) travels in a bundle as it is, signed by the SE admin, and then
/// verifies what the key pair signed.
#[test]
fn a_bundle_imports_a_public_key_to_trust() {
    let env = Env::provisioned();
    env.save("operator.node.pem", &["se", "info", "operator"]);
    let grant = format!("peer:{}:verify:45", me());
    env.seam(&create(&[
        "--key",
        "peer:45:public-key:cse-key.pub.pem",
        "--grant",
        &grant,
        "--out",
        "peer.bundle",
    ]))
    .ok();
    let shown = env.seam(&["bundle", "show", "peer.bundle"]).ok().stdout;
    assert!(
        shown.contains("import peer (public-key, suid 45, trusted)"),
        "{shown}"
    );
    env.seam(&["bundle", "apply", "peer.bundle"]).ok();
    let keys = env.seam(&["key", "list", "operator"]).ok().stdout;
    assert!(
        keys.contains("operator/peer\tpublic-key\tsuid 45"),
        "{keys}"
    );
    env.save(
        "msg.jws",
        &["jws", "sign", "operator/cse-key", "--in", "msg.txt"],
    );
    let out = env
        .seam(&["jws", "verify", "operator/peer", "--in", "msg.jws"])
        .ok();
    assert_eq!(out.bytes, env.read("msg.txt"));

    // Not a public key: refused naming the flag.
    env.write("junk.pem", b"not a key");
    env.seam(&create(&[
        "--key",
        "bad:45:public-key:junk.pem",
        "--out",
        "bad.bundle",
    ]))
    .fails(2, "--key");
}

#[test]
fn a_bundle_gives_a_key_its_role() {
    let env = Env::provisioned();
    env.save("operator.node.pem", &["se", "info", "operator"]);
    let key = "5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a";
    let create = |out: &str, extra: &[&str]| {
        let psk = format!("e2e-{out}:13:psk:{key}");
        let grant = format!("e2e-{out}:{}:encrypt,decrypt:13", me());
        let mut args = create(&["--key", &psk, "--grant", &grant, "--out", out]);
        args.extend_from_slice(extra);
        env.seam(&args)
    };
    let protect = |name: &str| {
        env.seam(&[
            "esprim",
            "protect",
            &format!("operator/{name}"),
            "--in",
            "request.json",
            "--from",
            "CAE-1",
            "--to",
            "CSE-IN",
            "--receiver-rand",
            "rand.json",
            "--session",
            &format!("{name}.session.json"),
            "--now",
            "1000",
        ])
    };
    env.save(
        "rand.json",
        &["esprim", "rand", "--id", "rand-1", "--expiry", "2000"],
    );
    env.write("request.json", br#"{"op":2,"fr":"CAE-1","rqi":"r1"}"#);

    // Pairwise: the SE takes it as an ESPrim key.
    create("a", &["--key-role", "e2e-a:pairwise"]).ok();
    let shown = env.seam(&["bundle", "show", "a"]).ok().stdout;
    assert!(
        shown.contains("import e2e-a (secret, suid 13, pairwise role, wrapped)"),
        "{shown}"
    );
    env.seam(&["bundle", "apply", "a"]).ok();
    protect("e2e-a").ok();

    // The same key without a role is operational, and ESPrim refuses it.
    create("b", &[]).ok();
    let shown = env.seam(&["bundle", "show", "b"]).ok().stdout;
    assert!(
        shown.contains("import e2e-b (secret, suid 13, wrapped)"),
        "{shown}"
    );
    env.seam(&["bundle", "apply", "b"]).ok();
    protect("e2e-b").fails(3, "4103");

    // Bad roles are named.
    create("c", &["--key-role", "e2e-c:sideways"]).fails(2, "unknown role `sideways`");
    create("c", &["--key-role", "other:pairwise"]).fails(2, "no --key other");
    create("c", &["--key-role", "e2e-c"]).fails(2, "expected NAME:ROLE");
    create(
        "c",
        &[
            "--key-role",
            "e2e-c:pairwise",
            "--key-role",
            "e2e-c:bootstrap",
        ],
    )
    .fails(2, "given twice");
}
