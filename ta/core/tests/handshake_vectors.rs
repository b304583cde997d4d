//! Vectors for the crypto the handshake sessions add: the resumable SHA-256
//! (`Sha256Midstate`), DER signatures, TLS 1.3 HKDF-Expand-Label.

use seam_crypto::hash::{sha256, Sha256Midstate};
use seam_crypto::kdf::tls13_expand_label;
use seam_crypto::sign::{sign_digest, signature_to_der};

#[test]
fn midstate_agrees_with_sha256_at_every_split_and_across_export() {
    let data: Vec<u8> = (0..300u32).map(|i| (i * 31 + 7) as u8).collect();
    for len in [0, 1, 55, 56, 63, 64, 65, 119, 128, 200, 300] {
        let data = &data[..len];
        for split in [0, 1.min(len), len / 3, len / 2, len.saturating_sub(1), len] {
            let mut m = Sha256Midstate::new();
            m.update(&data[..split]);
            // Hand the state over, as the host does to the TA.
            let (state, length, tail) = m.export();
            let mut resumed = Sha256Midstate::import(&state, length, tail).unwrap();
            resumed.update(&data[split..]);
            assert_eq!(resumed.finish(), sha256(data), "len {len} split {split}");
            assert_eq!(m.finish(), sha256(&data[..split]));
        }
    }
    // FIPS 180-2 "abc".
    let mut m = Sha256Midstate::new();
    m.update(b"abc");
    assert_eq!(
        hex::encode(m.finish()),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
}

#[test]
fn midstate_import_refuses_inconsistent_states() {
    assert!(Sha256Midstate::import(&[0; 32], 3, &[1, 2]).is_none());
    assert!(Sha256Midstate::import(&[0; 32], 64, &[0; 64]).is_none());
    assert!(Sha256Midstate::import(&[0; 32], 66, &[1, 2]).is_some());
}

#[test]
fn der_signatures_match_the_ecdsa_crate() {
    let key = [0x17u8; 32];
    for i in 0..64u8 {
        let sig = sign_digest(&key, &[i; 32]).unwrap();
        let (der, len) = signature_to_der(&sig);
        let theirs = ecdsa::Signature::<p256::NistP256>::from_slice(&sig)
            .unwrap()
            .to_der();
        assert_eq!(&der[..len], theirs.as_bytes());
    }
    // Leading zeros and high bits: r = 0x00…01, s = 0x80….
    let mut sig = [0u8; 64];
    sig[31] = 1;
    sig[32] = 0x80;
    let (der, len) = signature_to_der(&sig);
    assert_eq!(&der[..8], &[0x30, 0x26, 0x02, 0x01, 0x01, 0x02, 0x21, 0x00]);
    assert_eq!(len, 2 + 3 + 35);
}

#[test]
fn tls13_expand_label_rfc8448_server_handshake_key() {
    // RFC 8448 §3: server_handshake_traffic_secret → key and iv.
    let secret =
        hex::decode("b67b7d690cc16c4e75e54213cb2d37b4e9c912bcded9105d42befd59d391ad38").unwrap();
    let mut key = [0u8; 16];
    tls13_expand_label(&secret, b"key", &[], &mut key).unwrap();
    assert_eq!(hex::encode(key), "3fce516009c21727d0f2e4e86ee403bc");
    let mut iv = [0u8; 12];
    tls13_expand_label(&secret, b"iv", &[], &mut iv).unwrap();
    assert_eq!(hex::encode(iv), "5d313eb2671276ee13000b30");
    let mut too_long = vec![0u8; 255 * 32 + 1];
    assert!(tls13_expand_label(&secret, b"key", &[], &mut too_long).is_err());
}
