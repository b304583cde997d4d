//! Elliptic-curve Diffie-Hellman over P-256 (SEC 1 §3.3.1, RFC 8422 §5.10),
//! via the `p256` crate.

use zeroize::Zeroizing;

use super::{sign::secret_key, CryptoError};

/// The ECDH shared secret: the big-endian x-coordinate of `d · Q`.
///
/// `private` must be a valid scalar (`InvalidKey` otherwise). `peer_public`
/// is a SEC 1 point, either 65-byte uncompressed (`04 ‖ X ‖ Y`) or 33-byte
/// compressed (`02|03 ‖ X`); anything else, a point not on the curve, or the
/// identity is refused with `InvalidPublicKey`. P-256 has cofactor 1, so a
/// valid point cannot be of small order.
pub fn ecdh(private: &[u8; 32], peer_public: &[u8]) -> Result<Zeroizing<[u8; 32]>, CryptoError> {
    let peer = parse_peer(peer_public)?;
    let secret = secret_key(private)?;
    let shared = p256::ecdh::diffie_hellman(secret.to_nonzero_scalar(), peer.as_affine());
    let mut out = Zeroizing::new([0u8; 32]);
    for (o, s) in out.iter_mut().zip(shared.raw_secret_bytes().iter()) {
        *o = *s;
    }
    Ok(out)
}

fn parse_peer(bytes: &[u8]) -> Result<p256::PublicKey, CryptoError> {
    let well_formed = matches!(
        (bytes.len(), bytes.first()),
        (65, Some(0x04)) | (33, Some(0x02 | 0x03))
    );
    if !well_formed {
        return Err(CryptoError::InvalidPublicKey);
    }
    p256::PublicKey::from_sec1_bytes(bytes).map_err(|_| CryptoError::InvalidPublicKey)
}
