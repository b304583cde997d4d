//! The TS-0016 functions end to end, checked against published vectors by
//! importing the vectors' keys into a development SE.

use seam::proto::{AdminOp, ObjectKind, Reason};
use seam::{AeadAlg, Ops};
use seam_tests::{Device, Stakeholder, OWNER_CSE};

fn import(s: &Stakeholder<'_>, object: &str, suid: u8, kind: ObjectKind, material: &[u8]) {
    let op = AdminOp::ImportPlaintext {
        object: object.try_into().unwrap(),
        suid: seam_tests::suid(suid),
        kind,
        material: seam::proto::Data::from_slice(material).unwrap(),
        attributes: Default::default(),
    };
    s.device.client().admin(&s.admin, &s.se, vec![op]).unwrap();
}

fn h(s: &str) -> Vec<u8> {
    hex::decode(s).unwrap()
}

#[test]
fn ecdsa_sign_matches_rfc6979_a_2_5() {
    let device = Device::new();
    let s = device.stakeholder_with("rfc6979", true);
    let d = h("C9AFA9D845BA75166B5C215767B1D6934E50C3DB36E89B127B8A622B120F6721");
    import(&s, "k", 45, ObjectKind::EcP256, &d);
    s.grant("k", OWNER_CSE, Ops::SIGN.union(Ops::VERIFY), 45);
    let mut c = device.client_as(OWNER_CSE);
    let info = c.object_info(&s.se, "k").unwrap();
    let public = info.public_key.unwrap();
    assert_eq!(
        hex::encode(&public.0[1..33]),
        "60fed4ba255a9d31c961eb74c6356d68c049b8923b61fa6ce669622e60f29fb6"
    );
    // RFC 6979's `s` for "sample" is in the upper half: the SE returns its
    // low-S twin (r, n - s), the one encoding its own Verify accepts.
    let sig = c.sign(&s.key("k", 45), b"sample").unwrap();
    let vector = h(concat!(
        "efd48b2aacb6a8fd1140dd9cd45e81d69d2c877b56aaf991c34d0ea84eaf3716",
        "f7cb1c942d657c41d436c7a1b6e29f65f3e900dbb9aff4064dc4ab2f843acda8"
    ));
    let high = p256::ecdsa::Signature::from_slice(&vector).unwrap();
    let low = high.normalize_s().expect("the vector's s is high");
    assert_eq!(sig.0.to_vec(), low.to_bytes().to_vec());
    assert!(c.verify(&s.key("k", 45), b"sample", &sig).unwrap());
    let mut high_bytes = [0u8; 64];
    high_bytes.copy_from_slice(&vector);
    assert!(
        !c.verify(
            &s.key("k", 45),
            b"sample",
            &seam::proto::Signature(high_bytes)
        )
        .unwrap(),
        "the high-S twin is refused"
    );
    let sig = c.sign(&s.key("k", 45), b"test").unwrap();
    assert_eq!(
        hex::encode(sig.0),
        concat!(
            "f1abb023518351cd71d881567b1ea663ed3efcf6c5132b354f28d3b0b7d38367",
            "019f4113742a2b14bd25926b49c649155f267e60d3814b4c0cc84250e46f0083"
        )
    );
    assert!(c.verify(&s.key("k", 45), b"test", &sig).unwrap());
    assert!(!c.verify(&s.key("k", 45), b"sample", &sig).unwrap());
    // A signature a peer checks outside the SE.
    assert!(seam::signer::verify_with(&public, b"test", &sig));
}

#[test]
fn generated_keys_sign_verifiably_and_stay_inside() {
    let device = Device::new();
    let s = device.stakeholder("gen");
    let public = s.generate("id", 41);
    s.grant("id", OWNER_CSE, Ops::SIGN, 41);
    let mut c = device.client_as(OWNER_CSE);
    let sig = c.sign(&s.key("id", 41), b"attach request").unwrap();
    assert!(seam::signer::verify_with(&public, b"attach request", &sig));
    let digest = c.hash(b"attach request").unwrap();
    let sig2 = c.sign_digest(&s.key("id", 41), &digest).unwrap();
    assert_eq!(
        sig, sig2,
        "RFC 6979 signing over the same digest is deterministic"
    );
    // A key is never readable as data.
    s.grant("id", OWNER_CSE, Ops::SIGN.union(Ops::RETRIEVE), 41);
    let err = c.sdo_retrieve(&s.se, "id").unwrap_err();
    assert_eq!(err.reason(), Some(Reason::WrongObjectKind));
}

#[test]
fn aes_gcm_matches_the_gcm_spec_test_case_3() {
    let device = Device::new();
    let s = device.stakeholder_with("gcm", true);
    import(
        &s,
        "k",
        24,
        ObjectKind::Secret,
        &h("feffe9928665731c6d6a8f9467308308"),
    );
    s.grant("k", OWNER_CSE, Ops::ENCRYPT.union(Ops::DECRYPT), 24);
    let mut c = device.client_as(OWNER_CSE);
    let iv = h("cafebabefacedbaddecaf888");
    let pt = h(concat!(
        "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72",
        "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255"
    ));
    // The vector's ciphertext, under the vector's nonce, opens inside.
    let ct = h(concat!(
        "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e",
        "21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091473f5985",
        "4d5c2af327cd64a62cf35abd2ba6fab4"
    ));
    assert_eq!(
        c.decrypt(&s.key("k", 24), AeadAlg::Aes128Gcm, &iv, b"", &ct)
            .unwrap(),
        pt
    );
    // Encrypt draws its own nonce: a fresh one each time, and what it
    // seals opens under the nonce it returned.
    let (n1, c1) = c
        .encrypt(&s.key("k", 24), AeadAlg::Aes128Gcm, 12, b"", &pt)
        .unwrap();
    let (n2, c2) = c
        .encrypt(&s.key("k", 24), AeadAlg::Aes128Gcm, 12, b"", &pt)
        .unwrap();
    assert_eq!(n1.len(), 12);
    assert_ne!(n1, n2, "two encryptions, one nonce");
    assert_ne!(c1, c2);
    assert_eq!(
        c.decrypt(&s.key("k", 24), AeadAlg::Aes128Gcm, &n1, b"", &c1)
            .unwrap(),
        pt
    );
    let mut bad = ct.clone();
    bad[0] ^= 1;
    let err = c
        .decrypt(&s.key("k", 24), AeadAlg::Aes128Gcm, &iv, b"", &bad)
        .unwrap_err();
    assert_eq!(err.reason(), Some(Reason::AuthenticationFailed));
    let err = c
        .encrypt(&s.key("k", 24), AeadAlg::Aes128Gcm, 8, b"", b"x")
        .unwrap_err();
    assert_eq!(
        err.reason(),
        Some(Reason::InvalidParameter),
        "GCM takes a 12-byte nonce"
    );
}

#[test]
fn aes_ccm_8_matches_rfc3610_packet_vector_1() {
    let device = Device::new();
    let s = device.stakeholder_with("ccm", true);
    import(
        &s,
        "k",
        23,
        ObjectKind::Secret,
        &h("c0c1c2c3c4c5c6c7c8c9cacbcccdcecf"),
    );
    s.grant("k", OWNER_CSE, Ops::ENCRYPT.union(Ops::DECRYPT), 23);
    let mut c = device.client_as(OWNER_CSE);
    let nonce = h("00000003020100a0a1a2a3a4a5");
    let aad = h("0001020304050607");
    let pt = h("08090a0b0c0d0e0f101112131415161718191a1b1c1d1e");
    let ct = h("588c979a61c663d2f066d0c2c0f989806d5f6b61dac38417e8d12cfdf926e0");
    assert_eq!(
        c.decrypt(&s.key("k", 23), AeadAlg::Aes128Ccm8, &nonce, &aad, &ct)
            .unwrap(),
        pt
    );
    let (drawn, sealed) = c
        .encrypt(&s.key("k", 23), AeadAlg::Aes128Ccm8, 13, &aad, &pt)
        .unwrap();
    assert_eq!(drawn.len(), 13);
    assert_eq!(
        c.decrypt(&s.key("k", 23), AeadAlg::Aes128Ccm8, &drawn, &aad, &sealed)
            .unwrap(),
        pt
    );
}

#[test]
fn hmac_matches_rfc4231_case_1_and_verifies_inside() {
    let device = Device::new();
    let s = device.stakeholder_with("hmac", true);
    import(&s, "k", 13, ObjectKind::Secret, &[0x0b; 20]);
    s.grant("k", OWNER_CSE, Ops::MAC, 13);
    let mut c = device.client_as(OWNER_CSE);
    let tag = c.mac(&s.key("k", 13), b"Hi There").unwrap();
    assert_eq!(
        hex::encode(tag),
        "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"
    );
    assert!(c.mac_verify(&s.key("k", 13), b"Hi There", &tag).unwrap());
    let mut wrong = tag;
    wrong[31] ^= 1;
    assert!(!c.mac_verify(&s.key("k", 13), b"Hi There", &wrong).unwrap());
}

#[test]
fn hash_and_rand() {
    let device = Device::new();
    let mut c = device.client();
    assert_eq!(
        hex::encode(c.hash(b"abc").unwrap()),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
    let a = c.random(32).unwrap();
    let b = c.random(32).unwrap();
    assert_eq!(a.len(), 32);
    assert_ne!(a, b);
    assert_eq!(c.random(1024).unwrap().len(), 1024);
    assert_eq!(
        c.random(0).unwrap_err().reason(),
        Some(Reason::InvalidParameter)
    );
    assert_eq!(
        c.random(1025).unwrap_err().reason(),
        Some(Reason::InvalidParameter)
    );
}

#[test]
fn se_info_reports_the_m2m_se_id_type_and_level() {
    let device = Device::new();
    let s = device.stakeholder("info");
    let mut c = device.client();
    let node = c.node().unwrap();
    let info = c.se_info(&s.se).unwrap();
    let node_hex: String = node.node_id.0.iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(info.m2m_se_id.as_str(), format!("3-{node_hex}-{}", s.se));
    assert_eq!(info.se_type, 3);
    let level = match device.backend() {
        seam_tests::Backend::Simulator => 0,
        seam_tests::Backend::Tee => 2,
    };
    assert_eq!(info.security_level, level);
    assert_eq!(info.admin, s.admin_public());
    assert!(info
        .supported_resource_types
        .contains(&seam::proto::ResourceType::Signature));
    assert_eq!(c.se_info("no-such-se").unwrap_err().status(), 4004);
}

#[test]
fn sensitive_data_objects_created_by_a_cse() {
    let device = Device::new();
    let s = device.stakeholder("sdo");
    s.grant("*", OWNER_CSE, Ops::CREATE, 0);
    let mut c = device.client_as(OWNER_CSE);
    c.sdo_create(&s.se, "cfg", b"v1").unwrap();
    assert_eq!(
        c.sdo_create(&s.se, "cfg", b"v1").unwrap_err().reason(),
        Some(Reason::AlreadyExists)
    );
    c.sdo_update(&s.se, "cfg", b"v2").unwrap();
    assert_eq!(c.sdo_retrieve(&s.se, "cfg").unwrap(), b"v2");
    let info = c.object_info(&s.se, "cfg").unwrap();
    assert_eq!(info.creator, Some(OWNER_CSE.id()));
    assert_eq!(info.size, 2);
    c.sdo_delete(&s.se, "cfg").unwrap();
    assert_eq!(c.sdo_retrieve(&s.se, "cfg").unwrap_err().status(), 4103);
    let big = vec![0u8; seam::proto::MAX_DATA + 1];
    assert!(matches!(
        c.sdo_create(&s.se, "big", &big),
        Err(seam::Error::InvalidInput(_))
    ));
}
