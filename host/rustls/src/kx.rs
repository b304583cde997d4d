//! ECDHE over P-256 with the ephemeral key inside the TA.
//!
//! `start` opens a TA handshake session, which generates the key pair and
//! returns only the public key. `complete` (TLS 1.3) does not compute
//! anything: it checks the peer's point and returns a token standing for the
//! shared secret, which the TA computes when the HKDF asks for the handshake
//! secret. For TLS 1.2 rustls hands the key exchange to our PRF, which finds
//! the session by its public key. A key exchange dropped unused (the TLS 1.3
//! key share of a ClientHello that ended in TLS 1.2) closes its session.

use std::sync::Arc;

use rustls::crypto::{ActiveKeyExchange, SharedSecret, SupportedKxGroup};
use rustls::{Error, NamedGroup, PeerMisbehaved};
use seam_proto::PublicKey;

use super::secrets::{self, lock, Glue, Inner, Kind};

pub(crate) struct TaKxGroup(pub Arc<Inner>);

impl std::fmt::Debug for TaKxGroup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("seam TA secp256r1")
    }
}

impl SupportedKxGroup for TaKxGroup {
    fn start(&self) -> Result<Box<dyn ActiveKeyExchange>, Error> {
        let (opened, glue) = self.0.open_ecdhe().map_err(secrets::ta_error)?;
        let public = opened.public;
        secrets::register_kx(&public.0, glue.clone());
        Ok(Box::new(TaKx {
            glue,
            public: public.0.to_vec(),
        }))
    }

    fn name(&self) -> NamedGroup {
        NamedGroup::secp256r1
    }
}

pub(crate) struct TaKx {
    glue: Arc<Glue>,
    public: Vec<u8>,
}

/// The peer's share: an uncompressed point on P-256 (RFC 8446 §4.2.8.2,
/// RFC 8422 §5.4.1). The TA checks it again before using it.
pub(crate) fn peer_point(peer: &[u8]) -> Result<PublicKey, Error> {
    let bytes: [u8; 65] = peer
        .try_into()
        .map_err(|_| Error::from(PeerMisbehaved::InvalidKeyShare))?;
    if bytes[0] != 4 || p256::PublicKey::from_sec1_bytes(&bytes).is_err() {
        return Err(PeerMisbehaved::InvalidKeyShare.into());
    }
    Ok(PublicKey(bytes))
}

impl ActiveKeyExchange for TaKx {
    fn complete(self: Box<Self>, peer_pub_key: &[u8]) -> Result<SharedSecret, Error> {
        let peer = peer_point(peer_pub_key)?;
        self.glue.claim();
        lock(&self.glue.state).peer = Some(peer);
        Ok(SharedSecret::from(secrets::issue(
            &self.glue,
            Kind::Tls13Shared,
            32,
        )))
    }

    fn pub_key(&self) -> &[u8] {
        &self.public
    }

    fn group(&self) -> NamedGroup {
        NamedGroup::secp256r1
    }
}

impl Drop for TaKx {
    fn drop(&mut self) {
        // A used key exchange stays findable by its point: the TLS 1.2
        // signatures name their session by it. Closing forgets it.
        if !self.glue.claimed() {
            secrets::unregister_kx(&self.public);
            self.glue.inner.close(self.glue.session);
        }
    }
}
