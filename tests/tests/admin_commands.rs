//! Signed commands: only the right key, for this node and SE, once.

use seam::client::{sign_admin, sign_issuer};
use seam::proto::{AdminOp, IssuerOp, ObjectKind, Reason};
use seam::{AdminKey, CommandSigner, Ops};
use seam_tests::{Backend, Device, OWNER_CSE};

fn op_generate(name: &str) -> AdminOp {
    AdminOp::GenerateKeyPair {
        object: name.try_into().unwrap(),
        suid: seam_tests::suid(45),
        attributes: Default::default(),
    }
}

#[test]
fn a_replayed_admin_command_is_refused() {
    let device = Device::new();
    let a = device.stakeholder("replay");
    let mut c = device.client();
    let node = c.node().unwrap();
    let info = c.se_info(&a.se).unwrap();
    let cmd = sign_admin(
        &a.admin,
        &node,
        &info,
        info.admin_counter + 1,
        vec![op_generate("k1")],
    )
    .unwrap();
    c.send_admin(cmd.clone()).unwrap();
    let err = c.send_admin(cmd).unwrap_err();
    assert_eq!(err.reason(), Some(Reason::StaleCounter));
    // A replay authenticates an old request, not this one: 4106, not 4105
    // (which TS-0004 keeps for a name that exists).
    assert_eq!(err.status(), 4106);
    // An older counter is as stale as the same one.
    let old = sign_admin(&a.admin, &node, &info, 1, vec![op_generate("k2")]).unwrap();
    assert_eq!(
        c.send_admin(old).unwrap_err().reason(),
        Some(Reason::StaleCounter)
    );
    assert_eq!(
        c.object_list(&a.se).unwrap().len(),
        0,
        "admin is not a caller with grants"
    );
    assert_eq!(c.se_info(&a.se).unwrap().objects, 1);
}

#[test]
fn a_command_for_one_se_is_refused_on_another() {
    let device = Device::new();
    let a = device.stakeholder("target-a");
    let b = device.stakeholder("target-b");
    let mut c = device.client();
    let node = c.node().unwrap();
    let info_a = c.se_info(&a.se).unwrap();
    // Signed by A's admin for A, sent as if for B (B's admin is another key,
    // so also sign one with B's own key but A's SE name in the payload).
    let mut cmd = sign_admin(&a.admin, &node, &info_a, 1, vec![op_generate("k")]).unwrap();
    cmd.se = b.se.as_str().try_into().unwrap();
    assert_eq!(
        c.send_admin(cmd).unwrap_err().reason(),
        Some(Reason::BadSignature)
    );

    // Even one admin key shared by two SEs cannot move a command across.
    let shared = AdminKey::generate();
    let x = format!("shared-x-{}", std::process::id());
    let y = format!("shared-y-{}", std::process::id());
    c.create_se(device.issuer(), &x, &shared.public_key(), false)
        .unwrap();
    c.create_se(device.issuer(), &y, &shared.public_key(), false)
        .unwrap();
    let info_x = c.se_info(&x).unwrap();
    let mut cmd = sign_admin(&shared, &node, &info_x, 1, vec![op_generate("k")]).unwrap();
    cmd.se = y.as_str().try_into().unwrap();
    assert_eq!(
        c.send_admin(cmd).unwrap_err().reason(),
        Some(Reason::BadSignature)
    );
    c.retire_se(device.issuer(), &x).unwrap();
    c.retire_se(device.issuer(), &y).unwrap();
}

#[test]
fn a_command_for_a_retired_se_is_refused_on_its_successor() {
    let device = Device::new();
    let admin = AdminKey::generate();
    let se = format!("reborn-{}", std::process::id());
    let mut c = device.client();
    let old = c
        .create_se(device.issuer(), &se, &admin.public_key(), false)
        .unwrap();
    let node = c.node().unwrap();
    let cmd = sign_admin(&admin, &node, &old, 5, vec![op_generate("k")]).unwrap();
    c.retire_se(device.issuer(), &se).unwrap();
    let new = c
        .create_se(device.issuer(), &se, &admin.public_key(), false)
        .unwrap();
    assert_ne!(old.instance, new.instance);
    assert_eq!(
        c.send_admin(cmd).unwrap_err().reason(),
        Some(Reason::BadSignature)
    );
    c.retire_se(device.issuer(), &se).unwrap();
}

#[test]
#[cfg_attr(
    feature = "tee",
    ignore = "one TA is one node; the simulator gives us two"
)]
fn a_command_for_another_node_is_refused() {
    if seam_tests::backend() == Backend::Tee {
        seam_tests::tools::skipped("one TA is one node; the simulator gives us two");
        return;
    }
    let one = Device::new();
    let two = Device::new();
    let admin = AdminKey::generate();
    let mut c1 = one.client();
    let mut c2 = two.client();
    let se = "same-name";
    let info1 = c1
        .create_se(one.issuer(), se, &admin.public_key(), false)
        .unwrap();
    c2.create_se(two.issuer(), se, &admin.public_key(), false)
        .unwrap();
    let node1 = c1.node().unwrap();
    let cmd = sign_admin(&admin, &node1, &info1, 1, vec![op_generate("k")]).unwrap();
    assert_eq!(
        c2.send_admin(cmd.clone()).unwrap_err().reason(),
        Some(Reason::BadSignature)
    );
    assert!(c1.send_admin(cmd).is_ok());

    // Issuer commands too: same issuer key, other node.
    let create = sign_issuer(
        one.issuer(),
        &node1,
        node1.issuer_counter + 1,
        IssuerOp::RetireSe {
            se: se.try_into().unwrap(),
        },
    )
    .unwrap();
    assert_eq!(
        c2.send_issuer(create).unwrap_err().reason(),
        Some(Reason::BadSignature)
    );
    assert!(c2.se_list().unwrap().contains(&se.to_string()));
}

#[test]
fn forged_commands_are_refused() {
    let device = Device::new();
    let a = device.stakeholder("forged");
    let mut c = device.client();
    let node = c.node().unwrap();
    let info = c.se_info(&a.se).unwrap();

    // Signed by someone else's key.
    let mallory = AdminKey::generate();
    let cmd = sign_admin(&mallory, &node, &info, 1, vec![op_generate("k")]).unwrap();
    assert_eq!(
        c.send_admin(cmd).unwrap_err().reason(),
        Some(Reason::BadSignature)
    );

    // A genuine command with any signature byte flipped, or an op altered.
    let good = sign_admin(&a.admin, &node, &info, 1, vec![op_generate("k")]).unwrap();
    for i in [0usize, 31, 32, 63] {
        let mut bad = good.clone();
        bad.signature.0[i] ^= 0x01;
        assert_eq!(
            c.send_admin(bad).unwrap_err().reason(),
            Some(Reason::BadSignature),
            "byte {i}"
        );
    }
    let mut altered = good.clone();
    altered.ops[0] = op_generate("other");
    assert_eq!(
        c.send_admin(altered).unwrap_err().reason(),
        Some(Reason::BadSignature)
    );
    let mut counter = good.clone();
    counter.counter += 1;
    assert_eq!(
        c.send_admin(counter).unwrap_err().reason(),
        Some(Reason::BadSignature)
    );
    assert_eq!(c.se_info(&a.se).unwrap().objects, 0);
    c.send_admin(good).unwrap();

    // The issuer's commands cannot be signed by a stakeholder admin.
    let err = c
        .create_se(&a.admin, "usurper", &a.admin.public_key(), true)
        .unwrap_err();
    assert_eq!(err.reason(), Some(Reason::BadSignature));
    assert!(!c.se_list().unwrap().contains(&"usurper".to_string()));
}

#[test]
fn an_admin_command_applies_all_or_nothing() {
    let device = Device::new();
    let a = device.stakeholder("atomic");
    let mut c = device.client();
    let ops = vec![
        op_generate("first"),
        AdminOp::Grant {
            object: "first".try_into().unwrap(),
            entry: seam::AclEntry {
                grantee: OWNER_CSE.id(),
                ops: Ops::SIGN,
                suid: Some(seam_tests::suid(45)),
            },
        },
        // Fails: no such object.
        AdminOp::Delete {
            object: "missing".try_into().unwrap(),
        },
    ];
    let err = c.admin(&a.admin, &a.se, ops).unwrap_err();
    assert_eq!(err.reason(), Some(Reason::UnknownObject));
    let info = c.se_info(&a.se).unwrap();
    assert_eq!(info.objects, 0, "a failed command left objects behind");
    assert_eq!(
        info.admin_counter, 0,
        "a failed command consumed its counter"
    );

    let out = c
        .admin(
            &a.admin,
            &a.se,
            vec![op_generate("first"), op_generate("second")],
        )
        .unwrap();
    assert_eq!(out.len(), 2);
    assert_eq!(c.se_info(&a.se).unwrap().admin_counter, 1);
}

#[test]
fn plaintext_import_only_where_the_se_allows_it() {
    let device = Device::new();
    let strict = device.stakeholder("strict");
    let dev = device.stakeholder_with("dev", true);
    let mut c = device.client();
    let import = |object: &str| AdminOp::ImportPlaintext {
        object: object.try_into().unwrap(),
        suid: seam_tests::suid(12),
        kind: ObjectKind::Secret,
        material: seam::proto::Data::from_slice(&[0x42; 16]).unwrap(),
        attributes: Default::default(),
    };
    let err = c
        .admin(&strict.admin, &strict.se, vec![import("psk")])
        .unwrap_err();
    assert_eq!(err.reason(), Some(Reason::PlaintextImportRefused));
    assert!(c.admin(&dev.admin, &dev.se, vec![import("psk")]).is_ok());
}

#[test]
fn a_wrapped_secret_opens_only_for_its_target() {
    let device = Device::new();
    let a = device.stakeholder("wrap");
    let mut c = device.client();
    let node = c.node().unwrap();
    let info = c.se_info(&a.se).unwrap();
    let wrapped = seam::client::wrap_for(
        &node,
        &info,
        "psk",
        ObjectKind::Secret,
        seam_tests::suid(12),
        &[9; 32],
    )
    .unwrap();
    let import = |object: &str, suid: u8, w: &seam::proto::WrappedSecret| AdminOp::Import {
        object: object.try_into().unwrap(),
        suid: seam_tests::suid(suid),
        kind: ObjectKind::Secret,
        wrapped: w.clone(),
        attributes: Default::default(),
    };
    // Under another name, another SUID, or tampered: refused.
    for op in [import("other", 12, &wrapped), import("psk", 22, &wrapped)] {
        let err = c.admin(&a.admin, &a.se, vec![op]).unwrap_err();
        assert_eq!(err.reason(), Some(Reason::UnwrapFailed));
        // Content the TA cannot accept (TS-0004 4102), not an
        // authentication failure: the command's signature was good.
        assert_eq!(err.status(), 4102);
    }
    let mut tampered = wrapped.clone();
    tampered.ciphertext[0] ^= 1;
    let err = c
        .admin(&a.admin, &a.se, vec![import("psk", 12, &tampered)])
        .unwrap_err();
    assert_eq!(err.reason(), Some(Reason::UnwrapFailed));
    assert!(c
        .admin(&a.admin, &a.se, vec![import("psk", 12, &wrapped)])
        .is_ok());
}

#[test]
fn only_the_issuer_creates_and_retires_ses() {
    let device = Device::new();
    let mut c = device.client();
    let a = device.stakeholder("issuer");
    let node = c.node().unwrap();
    // Replay of an issuer command.
    let cmd = sign_issuer(
        device.issuer(),
        &node,
        node.issuer_counter + 1,
        IssuerOp::RetireSe {
            se: a.se.as_str().try_into().unwrap(),
        },
    )
    .unwrap();
    c.send_issuer(cmd.clone()).unwrap();
    assert_eq!(
        c.send_issuer(cmd).unwrap_err().reason(),
        Some(Reason::StaleCounter)
    );
    assert!(!c.se_list().unwrap().contains(&a.se));
    // Init is trust on first use, once.
    let err = c.init_node(&AdminKey::generate().public_key()).unwrap_err();
    assert_eq!(err.reason(), Some(Reason::AlreadyInitialized));
}
