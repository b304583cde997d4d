//! Offline provisioning bundles: made without the device from a node
//! descriptor, relayed by a device that can neither read nor alter them.

use seam::bundle::{Bundle, BundleGrant, BundleKey, Material, NodeDescriptor};
use seam::proto::{AclEntry, Reason, SeInfo};
use seam::{AdminKey, Client, CommandSigner, Ops};
use seam_tests::{Backend, Device, Stakeholder, OWNER_CSE};
use zeroize::Zeroizing;

/// What the stakeholder holds offline: the descriptor text, parsed back.
fn descriptor(c: &mut Client, se: &str) -> NodeDescriptor {
    let text = NodeDescriptor::from_device(c, Some(se))
        .unwrap()
        .to_text()
        .unwrap();
    NodeDescriptor::parse(&text).unwrap()
}

fn psk(name: &str, suid: u8, byte: u8) -> BundleKey {
    BundleKey {
        name: name.into(),
        suid: seam_tests::suid(suid),
        material: Material::Secret(Zeroizing::new(vec![byte; 16])),
        attributes: Default::default(),
    }
}

fn grant(object: &str, ops: Ops, suid: u8) -> BundleGrant {
    BundleGrant {
        object: object.into(),
        entry: AclEntry {
            grantee: OWNER_CSE.id(),
            ops,
            suid: Some(seam_tests::suid(suid)),
        },
    }
}

/// Everything a bundle could change: the SE's attributes (objects, counter)
/// and what the owner CSE sees.
fn state(c: &mut Client, se: &str) -> (SeInfo, usize) {
    let info = c.se_info(se).unwrap();
    let visible = c.object_list(se).unwrap().len();
    (info, visible)
}

fn small_bundle(s: &Stakeholder<'_>) -> Vec<u8> {
    let node = descriptor(&mut s.device.client(), &s.se);
    let counter = node.se.as_ref().unwrap().admin_counter + 1;
    Bundle::create(
        &s.admin,
        &node,
        &s.se,
        counter,
        &[psk("k", 25, 7)],
        &[grant("k", Ops::MAC, 25)],
    )
    .unwrap()
    .to_bytes()
    .unwrap()
}

#[test]
fn a_bundle_made_offline_provisions_usable_keys() {
    let device = Device::new();
    let s = device.stakeholder("bundle-ok");
    let node = descriptor(&mut device.client(), &s.se);
    // The stakeholder's own P-256 key, imported wrapped.
    let identity = AdminKey::generate();
    let pem = identity.to_pem().unwrap();
    let keys = [
        BundleKey {
            name: "cse-id".into(),
            suid: seam_tests::suid(45),
            material: Material::private_key_pem(&pem).unwrap(),
            attributes: Default::default(),
        },
        psk("psk", 22, 0x42),
    ];
    let grants = [grant("cse-id", Ops::SIGN.union(Ops::VERIFY), 45)];
    let counter = seam::bundle::time_counter(1);
    let bundle = Bundle::create(&s.admin, &node, &s.se, counter, &keys, &grants).unwrap();
    let bytes = bundle.to_bytes().unwrap();
    assert_eq!(&bytes[..8], b"SEAMBNDL");
    assert_eq!(Bundle::from_bytes(&bytes).unwrap(), bundle);

    let mut relay = device.client();
    let outcomes = Bundle::from_bytes(&bytes)
        .unwrap()
        .apply(&mut relay)
        .unwrap();
    assert_eq!(outcomes.len(), 3);
    let info = relay.se_info(&s.se).unwrap();
    assert_eq!((info.objects, info.admin_counter), (2, counter));

    let mut cse = device.client_as(OWNER_CSE);
    let got = cse.object_info(&s.se, "cse-id").unwrap();
    assert_eq!(got.public_key, Some(identity.public_key()));
    let sig = cse.sign(&s.key("cse-id", 45), b"hello").unwrap();
    assert!(seam::signer::verify_with(
        &identity.public_key(),
        b"hello",
        &sig
    ));
    // Online commands still work after a time-based counter.
    s.generate("later", 45);
}

#[test]
fn every_flipped_byte_is_refused_and_applies_nothing() {
    let device = Device::new();
    let s = device.stakeholder("bundle-flip");
    let bytes = small_bundle(&s);
    let original = Bundle::from_bytes(&bytes).unwrap();
    let mut c = device.client();
    let before = state(&mut device.client_as(OWNER_CSE), &s.se);
    let mut relayed = 0;
    // Under emulation each refusal costs a signature check in a slow TA:
    // every fifth byte there, every byte on the simulator.
    let stride = match seam_tests::backend() {
        seam_tests::Backend::Tee => 5,
        seam_tests::Backend::Simulator => 1,
    };
    let tried = bytes.len().div_ceil(stride);
    for i in (0..bytes.len()).step_by(stride) {
        let mut bad = bytes.clone();
        bad[i] ^= 0xff;
        // The device tool refuses it (it does not parse, names another node or
        // SE instance, or the TA refuses the command)...
        let result = Bundle::from_bytes(&bad).and_then(|b| b.apply(&mut c));
        assert!(result.is_err(), "byte {i} flipped was accepted");
        // ...and a device relaying the command raw, skipping its own checks,
        // gets it refused by the TA whenever the command itself changed.
        if let Ok(b) = Bundle::from_bytes(&bad) {
            if b.command != original.command {
                relayed += 1;
                let err = c.send_admin(b.command).unwrap_err();
                assert!(
                    matches!(
                        err.reason(),
                        Some(Reason::BadSignature | Reason::UnknownSe | Reason::InvalidName)
                    ),
                    "byte {i}: {err}"
                );
            }
        }
    }
    // Most flips still decode: the TA itself is what refuses them.
    assert!(relayed > tried / 2, "{relayed} of {tried}");
    assert_eq!(state(&mut device.client_as(OWNER_CSE), &s.se), before);
    // The untouched bundle still applies: nothing above consumed its counter.
    original.apply(&mut c).unwrap();
    assert_eq!(c.se_info(&s.se).unwrap().objects, 1);
}

#[test]
fn a_replayed_bundle_is_refused() {
    let device = Device::new();
    let s = device.stakeholder("bundle-replay");
    let node = descriptor(&mut device.client(), &s.se);
    let mut c = device.client();
    let first = Bundle::create(&s.admin, &node, &s.se, 10, &[psk("a", 25, 1)], &[]).unwrap();
    let second = Bundle::create(&s.admin, &node, &s.se, 11, &[psk("b", 25, 2)], &[]).unwrap();
    first.apply(&mut c).unwrap();
    let after_first = c.se_info(&s.se).unwrap();
    let err = first.apply(&mut c).unwrap_err();
    assert_eq!(err.reason(), Some(Reason::StaleCounter));
    assert_eq!(err.status(), 4106);
    assert_eq!(c.se_info(&s.se).unwrap(), after_first);

    // Made later, applied first: the earlier one is then stale too.
    second.apply(&mut c).unwrap();
    let older = Bundle::create(&s.admin, &node, &s.se, 10, &[psk("c", 25, 3)], &[]).unwrap();
    assert_eq!(
        older.apply(&mut c).unwrap_err().reason(),
        Some(Reason::StaleCounter)
    );
    assert_eq!(c.se_info(&s.se).unwrap().objects, 2);
}

#[test]
fn a_bundle_for_another_node_is_refused() {
    let device = Device::new();
    let s = device.stakeholder("bundle-node");
    let mut c = device.client();
    let mut real = descriptor(&mut c, &s.se);
    let before = c.se_info(&s.se).unwrap();

    // A descriptor of another node (the same SE name, instance and admin):
    // only the node id differs.
    let mut other = real.clone();
    other.node_id.0[0] ^= 1;
    let bundle = Bundle::create(&s.admin, &other, &s.se, 5, &[psk("k", 25, 1)], &[]).unwrap();
    let err = bundle.apply(&mut c).unwrap_err();
    assert!(err.to_string().contains("for node"), "{err}");
    // Relayed raw, the TA refuses it: the signature names the other node.
    assert_eq!(
        c.send_admin(bundle.command.clone()).unwrap_err().reason(),
        Some(Reason::BadSignature)
    );
    assert_eq!(c.se_info(&s.se).unwrap(), before);

    // A genuine second node, with the same SE name, instance and admin key.
    if seam_tests::backend() == Backend::Simulator {
        let two = Device::new();
        let mut c2 = two.client();
        let info2 = c2
            .create_se(two.issuer(), &s.se, &s.admin.public_key(), false)
            .unwrap();
        let node2 = descriptor(&mut c2, &s.se);
        assert_eq!(info2.instance, before.instance);
        let for_two = Bundle::create(&s.admin, &node2, &s.se, 5, &[psk("k", 25, 1)], &[]).unwrap();
        assert!(for_two.apply(&mut c).is_err());
        assert_eq!(
            c.send_admin(for_two.command.clone()).unwrap_err().reason(),
            Some(Reason::BadSignature)
        );
        assert_eq!(c.se_info(&s.se).unwrap(), before);
        for_two.apply(&mut c2).unwrap();
    }

    // And a bundle for this node still applies.
    real.se.as_mut().unwrap().admin_counter = before.admin_counter;
    Bundle::create(&s.admin, &real, &s.se, 5, &[psk("k", 25, 1)], &[])
        .unwrap()
        .apply(&mut c)
        .unwrap();
}

#[test]
fn a_bundle_for_a_retired_se_is_refused_on_its_successor() {
    let device = Device::new();
    let admin = AdminKey::generate();
    let se = format!("bundle-reborn-{}", std::process::id());
    let mut c = device.client();
    c.create_se(device.issuer(), &se, &admin.public_key(), false)
        .unwrap();
    let node = descriptor(&mut c, &se);
    let bundle = Bundle::create(&admin, &node, &se, 3, &[psk("k", 25, 1)], &[]).unwrap();
    c.retire_se(device.issuer(), &se).unwrap();
    c.create_se(device.issuer(), &se, &admin.public_key(), false)
        .unwrap();
    let err = bundle.apply(&mut c).unwrap_err();
    assert!(err.to_string().contains("instance"), "{err}");
    assert_eq!(
        c.send_admin(bundle.command).unwrap_err().reason(),
        Some(Reason::BadSignature)
    );
    assert_eq!(c.se_info(&se).unwrap().objects, 0);
    c.retire_se(device.issuer(), &se).unwrap();
}

#[test]
fn a_refused_bundle_applies_nothing() {
    let device = Device::new();
    let s = device.stakeholder("bundle-atomic");
    let node = descriptor(&mut device.client(), &s.se);
    let mut c = device.client();
    let before = c.se_info(&s.se).unwrap();
    // A good import, then a grant on an object that does not exist.
    let bundle = Bundle::create(
        &s.admin,
        &node,
        &s.se,
        7,
        &[psk("good", 25, 1)],
        &[grant("missing", Ops::MAC, 25)],
    )
    .unwrap();
    let err = bundle.apply(&mut c).unwrap_err();
    assert_eq!(err.reason(), Some(Reason::UnknownObject));
    assert_eq!(c.se_info(&s.se).unwrap(), before);
    // The counter was not consumed: a corrected bundle with it applies.
    let fixed = Bundle::create(
        &s.admin,
        &node,
        &s.se,
        7,
        &[psk("good", 25, 1)],
        &[grant("good", Ops::MAC, 25)],
    )
    .unwrap();
    fixed.apply(&mut c).unwrap();
    let mut cse = device.client_as(OWNER_CSE);
    assert_eq!(cse.mac(&s.key("good", 25), b"m").unwrap().len(), 32);
}

#[test]
fn bundles_are_checked_when_made() {
    let device = Device::new();
    let s = device.stakeholder("bundle-limits");
    let node = descriptor(&mut device.client(), &s.se);
    let five: Vec<BundleKey> = (0..5).map(|i| psk(&format!("k{i}"), 25, i)).collect();
    let err = Bundle::create(&s.admin, &node, &s.se, 9, &five, &[]).unwrap_err();
    assert!(err.to_string().contains("at most 4"), "{err}");
    let err = Bundle::create(&s.admin, &node, &s.se, 9, &[], &[]).unwrap_err();
    assert!(err.to_string().contains("empty"), "{err}");
    let stranger = AdminKey::generate();
    let err = Bundle::create(&stranger, &node, &s.se, 9, &[psk("k", 25, 1)], &[]).unwrap_err();
    assert!(err.to_string().contains("admin key"), "{err}");
    let err = Bundle::create(&s.admin, &node, "other-se", 9, &[psk("k", 25, 1)], &[]).unwrap_err();
    assert!(err.to_string().contains("not `other-se`"), "{err}");
    let err = Bundle::create(&s.admin, &node, &s.se, 0, &[psk("k", 25, 1)], &[]).unwrap_err();
    assert!(err.to_string().contains("not above"), "{err}");
}

#[test]
fn node_descriptors_parse_and_refuse_what_is_not_one() {
    let device = Device::new();
    let s = device.stakeholder("descriptor");
    let mut c = device.client();
    let node = NodeDescriptor::from_device(&mut c, Some(&s.se)).unwrap();
    let text = node.to_text().unwrap();
    assert_eq!(NodeDescriptor::parse(&text).unwrap(), node);
    // Extra keys and comments are ignored (the full `seam se info` output).
    let noisy = text.replace(
        "node-id:",
        "# comment\nsecurity-level: 0\nobjects: 3\nnode-id:",
    );
    assert_eq!(NodeDescriptor::parse(&noisy).unwrap(), node);
    let node_only = NodeDescriptor::from_device(&mut c, None).unwrap();
    assert_eq!(node_only.se, None);

    let without_id = text
        .lines()
        .filter(|l| !l.starts_with("node-id"))
        .collect::<Vec<_>>()
        .join("\n");
    for (bad, says) in [
        (
            text.replace("-----BEGIN PUBLIC KEY-----", ""),
            "BEGIN PUBLIC KEY",
        ),
        (without_id, "node-id"),
        (text.replace("se-instance:", "se-instanz:"), "se-instance"),
        (text.replace("node-id: ", "node-id: zz"), "32 hex digits"),
    ] {
        let err = NodeDescriptor::parse(&bad).unwrap_err();
        assert!(err.to_string().contains(says), "{err}");
    }
    assert_eq!(Some(s.admin.public_key()), node.se.unwrap().admin);
}
