//! Every operation × (the owner's granted CSE, another stakeholder's CSE, a
//! caller nobody granted, a PUBLIC login): exactly the granted calls succeed,
//! everything else is 4103, and another stakeholder's objects are not even
//! listed.

use seam::proto::{AdminOp, ObjectKind, Reason};
use seam::{AeadAlg, Client, Ops};
use seam_tests::{status_of, Device, Stakeholder, Who, OTHER_CSE, OWNER_CSE, STRANGER};

const SIG_SUID: u8 = 45; // certificate, ESData signature
const AES_SUID: u8 = 44; // certificate, ESData encryption

struct Fixture<'d> {
    a: Stakeholder<'d>,
    b: Stakeholder<'d>,
    nonce: Vec<u8>,
    ciphertext: Vec<u8>,
    tag: [u8; 32],
}

fn setup(device: &Device) -> Fixture<'_> {
    let a = device.stakeholder("op");
    let b = device.stakeholder("sp");
    let mut c = device.client();
    a.generate("sig", SIG_SUID);
    c.admin(
        &a.admin,
        &a.se,
        vec![
            AdminOp::GenerateSecret {
                object: "aes".try_into().unwrap(),
                suid: seam_tests::suid(AES_SUID),
                len: 16,
                attributes: Default::default(),
            },
            AdminOp::GenerateSecret {
                object: "hmac".try_into().unwrap(),
                suid: seam_tests::suid(SIG_SUID),
                len: 32,
                attributes: Default::default(),
            },
        ],
    )
    .unwrap();
    c.import_wrapped(
        &a.admin,
        &a.se,
        "data",
        seam_tests::suid(13),
        ObjectKind::Data,
        b"configuration secret",
    )
    .unwrap();
    a.grant("sig", OWNER_CSE, Ops::SIGN.union(Ops::VERIFY), SIG_SUID);
    a.grant("aes", OWNER_CSE, Ops::ENCRYPT.union(Ops::DECRYPT), AES_SUID);
    a.grant("hmac", OWNER_CSE, Ops::MAC, SIG_SUID);
    a.grant(
        "data",
        OWNER_CSE,
        Ops::RETRIEVE.union(Ops::UPDATE).union(Ops::DELETE),
        13,
    );
    a.grant("*", OWNER_CSE, Ops::CREATE, 0);
    b.generate("sig", SIG_SUID);
    b.grant("sig", OTHER_CSE, Ops::SIGN.union(Ops::VERIFY), SIG_SUID);

    let mut owner = device.client_as(OWNER_CSE);
    let (nonce, ciphertext) = owner
        .encrypt(
            &a.key("aes", AES_SUID),
            AeadAlg::Aes128Ccm8,
            13,
            b"hdr",
            b"hello",
        )
        .unwrap();
    let tag = owner.mac(&a.key("hmac", SIG_SUID), b"msg").unwrap();
    Fixture {
        a,
        b,
        nonce,
        ciphertext,
        tag,
    }
}

/// Each use of A's objects, as (name, status).
fn uses(c: &mut Client, f: &Fixture<'_>) -> Vec<(&'static str, u16)> {
    let a = &f.a;
    let sig = c.sign(&a.key("sig", SIG_SUID), b"m");
    let sig_for_verify = seam::proto::Signature([1; 64]);
    vec![
        ("sign", status_of(&sig)),
        (
            "verify",
            status_of(&c.verify(&a.key("sig", SIG_SUID), b"m", &sig_for_verify)),
        ),
        (
            "encrypt",
            status_of(&c.encrypt(&a.key("aes", AES_SUID), AeadAlg::Aes128Gcm, 12, b"", b"x")),
        ),
        (
            "decrypt",
            status_of(&c.decrypt(
                &a.key("aes", AES_SUID),
                AeadAlg::Aes128Ccm8,
                &f.nonce,
                b"hdr",
                &f.ciphertext,
            )),
        ),
        ("mac", status_of(&c.mac(&a.key("hmac", SIG_SUID), b"msg"))),
        (
            "mac_verify",
            status_of(&c.mac_verify(&a.key("hmac", SIG_SUID), b"msg", &f.tag)),
        ),
        ("sdo_retrieve", status_of(&c.sdo_retrieve(&a.se, "data"))),
        (
            "sdo_update",
            status_of(&c.sdo_update(&a.se, "data", b"new configuration")),
        ),
        (
            "sdo_create",
            status_of(&c.sdo_create(&a.se, "note", b"created by a CSE")),
        ),
        ("object_info", status_of(&c.object_info(&a.se, "sig"))),
        ("acl_show", status_of(&c.acl_show(&a.se, "sig"))),
        ("sdo_delete", status_of(&c.sdo_delete(&a.se, "data"))),
    ]
}

fn assert_all(results: &[(&str, u16)], expected: u16, who: &str) {
    for (op, status) in results {
        assert_eq!(
            *status, expected,
            "{who}: {op} gave {status}, expected {expected}"
        );
    }
}

#[test]
fn only_the_granted_cse_uses_a_stakeholders_credentials() {
    let device = Device::new();
    let f = setup(&device);

    // Strangers first: their attempts must change nothing the owner sees.
    for (who, label) in [
        (OTHER_CSE, "other stakeholder's CSE"),
        (STRANGER, "unknown caller"),
        (Who::Public, "public login"),
    ] {
        let mut c = device.client_as(who);
        // TS-0004: a PUBLIC login is not authenticated (4106); an
        // identified caller without a grant has no privilege (4103).
        let expected = if who == Who::Public { 4106 } else { 4103 };
        assert_all(&uses(&mut c, &f), expected, label);
        if who != Who::Public {
            assert!(
                c.object_list(&f.a.se).unwrap().is_empty(),
                "{label} sees A's objects"
            );
        }
    }

    let mut owner = device.client_as(OWNER_CSE);
    assert_eq!(
        owner.sdo_retrieve(&f.a.se, "data").unwrap(),
        b"configuration secret"
    );
    let listed: Vec<String> = owner
        .object_list(&f.a.se)
        .unwrap()
        .iter()
        .map(|o| o.name.to_string())
        .collect();
    assert_eq!(listed, ["sig", "aes", "hmac", "data"]);
    let results = uses(&mut owner, &f);
    for (op, status) in &results {
        assert!(*status < 3000, "owner: {op} refused with {status}");
    }
    // The created object is the owner's; the deleted one is gone.
    assert_eq!(
        owner.sdo_retrieve(&f.a.se, "note").unwrap(),
        b"created by a CSE"
    );
    assert_eq!(status_of(&owner.sdo_retrieve(&f.a.se, "data")), 4103);

    // And the other way round: B's key is OTHER_CSE's alone.
    let mut other = device.client_as(OTHER_CSE);
    assert!(other.sign(&f.b.key("sig", SIG_SUID), b"m").is_ok());
    assert_eq!(
        status_of(&owner.sign(&f.b.key("sig", SIG_SUID), b"m")),
        4103
    );
    assert!(owner.object_list(&f.b.se).unwrap().is_empty());
}

#[test]
fn a_key_is_refused_outside_its_suid() {
    let device = Device::new();
    let a = device.stakeholder("suid");
    a.generate("sig", SIG_SUID);
    a.grant("sig", OWNER_CSE, Ops::SIGN, SIG_SUID);
    // An encryption-use EC key, granted sign under its own SUID.
    a.generate("enc", AES_SUID);
    a.grant("enc", OWNER_CSE, Ops::SIGN, AES_SUID);
    let mut owner = device.client_as(OWNER_CSE);

    let wrong = owner.sign(&a.key("sig", 22), b"m").unwrap_err();
    assert_eq!(wrong.reason(), Some(Reason::SuidMismatch));
    assert_eq!(wrong.status(), 4103);
    let forbidden = owner.sign(&a.key("enc", AES_SUID), b"m").unwrap_err();
    assert_eq!(forbidden.reason(), Some(Reason::SuidForbidsOperation));
    assert!(owner.sign(&a.key("sig", SIG_SUID), b"m").is_ok());

    // A grant must carry the key's SUID.
    let mut c = device.client();
    let entry = seam::AclEntry {
        grantee: OWNER_CSE.id(),
        ops: Ops::SIGN,
        suid: Some(seam_tests::suid(22)),
    };
    let err = c.grant(&a.admin, &a.se, "sig", entry).unwrap_err();
    assert_eq!(err.reason(), Some(Reason::SuidMismatch));
}

#[test]
fn granted_operations_are_exactly_those_listed() {
    let device = Device::new();
    let a = device.stakeholder("ops");
    a.generate("sig", SIG_SUID);
    a.grant("sig", OWNER_CSE, Ops::VERIFY, SIG_SUID);
    let mut owner = device.client_as(OWNER_CSE);
    let err = owner.sign(&a.key("sig", SIG_SUID), b"m").unwrap_err();
    assert_eq!(err.reason(), Some(Reason::NoPrivilege));
    assert!(!owner
        .verify(
            &a.key("sig", SIG_SUID),
            b"m",
            &seam::proto::Signature([1; 64])
        )
        .unwrap());

    // Revoking takes the grant away.
    let mut c = device.client();
    c.admin(
        &a.admin,
        &a.se,
        vec![AdminOp::Revoke {
            object: "sig".try_into().unwrap(),
            grantee: OWNER_CSE.id(),
        }],
    )
    .unwrap();
    assert_eq!(
        status_of(&owner.verify(
            &a.key("sig", SIG_SUID),
            b"m",
            &seam::proto::Signature([1; 64])
        )),
        4103
    );
}

#[test]
fn a_public_login_reads_only_public_information() {
    let device = Device::new();
    let a = device.stakeholder("pub");
    let mut public = device.client_as(Who::Public);
    assert!(public.node_info().unwrap().node.is_some());
    assert!(public.se_list().unwrap().contains(&a.se));
    assert!(public.se_info(&a.se).is_ok());
    assert_eq!(
        public.hash(b"x").unwrap_err().reason(),
        Some(Reason::NoIdentity)
    );
    let refused = public.random(8).unwrap_err();
    assert_eq!(refused.reason(), Some(Reason::NoIdentity));
    assert_eq!(refused.status(), 4106, "ORIGINATOR_NOT_AUTHENTICATED");
    assert_eq!(
        public.object_list(&a.se).unwrap_err().reason(),
        Some(Reason::NoIdentity)
    );
    let err = public.retire_se(device.issuer(), &a.se).unwrap_err();
    assert_eq!(err.reason(), Some(Reason::NoIdentity));
}
