//! The boundary between the (D)TLS engine and whoever holds the secrets.
//!
//! [`HandshakeSecrets`] has two methods per role, shaped so that each call
//! is one TA invocation of seam's handshake sessions
//! (`seam_proto::handshake`): **two invocations per handshake**, for every
//! suite, in both roles.
//!
//! | role | first call | second call |
//! |---|---|---|
//! | client | [`client_open`]: our random (+ ECDHE point), before the ClientHello | [`client_finish`]: after our ClientKeyExchange, with every message so far → key block, CertificateVerify, Finished, the server's expected verify_data |
//! | server | [`server_open`]: on the ClientHello → our random (+ ECDHE point and ServerKeyExchange signature) | [`server_finish`]: after the client's ClientKeyExchange (and CertificateVerify) → key block, the client's expected verify_data, our Finished |
//!
//! Whoever implements it owns what makes the handshake its own: it chooses
//! our random and our ECDHE key, and hashes the transcript itself from the
//! message bytes it is given. The engine compares the peer's Finished with
//! the expected verify_data in constant time, and verifies the peer's
//! certificate and signatures (public values) itself. Retransmissions
//! never call it.
//!
//! What crosses it: randoms, handshake messages (public), public keys,
//! signatures, Finished messages and verify_data, and the traffic keys.
//! What never does: PSKs, private keys, ECDH shared secrets, premaster and
//! master secrets.
//!
//! The `seam` host library implements it over the TA's handshake sessions
//! (`seam::dtls::SeamSecrets`, on the real TA or the simulator); this crate
//! never computes a handshake secret itself.
//!
//! [`client_open`]: HandshakeSecrets::client_open
//! [`client_finish`]: HandshakeSecrets::client_finish
//! [`server_open`]: HandshakeSecrets::server_open
//! [`server_finish`]: HandshakeSecrets::server_finish

use std::fmt;

use super::cipher::TrafficKeys;
use super::{Suite, Variant};

/// The client's random and, if an ECDHE suite is offered, its point.
#[derive(Clone, Debug)]
pub struct ClientOpen {
    pub random: [u8; 32],
    /// 65-byte uncompressed SEC 1, for the ClientKeyExchange.
    pub public: Option<Vec<u8>>,
}

/// The client's key block and the messages that end its flight, each whole
/// with its TLS or DTLS header, exactly as they enter the transcript.
pub struct ClientFinish {
    pub keys: TrafficKeys,
    pub certificate_verify: Option<Vec<u8>>,
    pub finished: Vec<u8>,
    /// The server's Finished must carry this.
    pub expected_server_verify_data: [u8; 12],
}

/// The server's random and, for ECDHE, its share.
#[derive(Clone, Debug)]
pub struct ServerOpen {
    pub random: [u8; 32],
    pub key_share: Option<ServerKeyShare>,
}

/// The server's ECDHE share.
#[derive(Clone, Debug)]
pub struct ServerKeyShare {
    /// Our ephemeral point, 65-byte uncompressed SEC 1.
    pub public: Vec<u8>,
    /// ECDSA-SHA256 over `client_random ‖ server_random ‖ ServerECDHParams`, DER.
    pub signature: Vec<u8>,
}

/// The server's key block, the client's expected Finished and ours.
pub struct ServerFinish {
    pub keys: TrafficKeys,
    /// The client's Finished must carry this.
    pub expected_client_verify_data: [u8; 12],
    /// Our Finished message, whole with its header.
    pub finished: Vec<u8>,
}

/// Why a secret step failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SecretsError {
    /// No PSK for the identity the client sent.
    UnknownPskIdentity,
    /// The peer's Finished does not verify.
    FinishedMismatch,
    /// The peer's public key is not a valid P-256 point.
    InvalidPeerKey,
    /// No credential for what the suite needs (no PSK, no signing key).
    MissingCredential(&'static str),
    /// The Secure Environment refused, or could not be reached.
    Failed(String),
}

impl fmt::Display for SecretsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SecretsError::UnknownPskIdentity => f.write_str("no PSK for that identity"),
            SecretsError::FinishedMismatch => f.write_str("the peer's Finished does not verify"),
            SecretsError::InvalidPeerKey => f.write_str("the peer's public key is invalid"),
            SecretsError::MissingCredential(what) => write!(f, "no credential: {what}"),
            SecretsError::Failed(e) => f.write_str(e),
        }
    }
}

/// The secret side of a TLS 1.2 / DTLS 1.2 handshake (see the module docs
/// for the calls per handshake). One object serves one handshake; calls
/// out of order fail.
pub trait HandshakeSecrets {
    /// Client, before the first ClientHello: our random and, if `suites`
    /// has an ECDHE suite, our ephemeral point.
    fn client_open(
        &mut self,
        variant: Variant,
        suites: &[Suite],
    ) -> Result<ClientOpen, SecretsError>;

    /// Client, after our ClientKeyExchange: `messages` = every handshake
    /// message from the ClientHello on, as hashed. A CertificateVerify comes
    /// back iff our Certificate message is not empty.
    fn client_finish(
        &mut self,
        suite: Suite,
        messages: &[u8],
    ) -> Result<ClientFinish, SecretsError>;

    /// Server, on the ClientHello (`client_hello`: the message as hashed)
    /// and the suite we chose.
    fn server_open(
        &mut self,
        variant: Variant,
        suite: Suite,
        client_hello: &[u8],
    ) -> Result<ServerOpen, SecretsError>;

    /// Server, after the client's ClientKeyExchange (and its
    /// CertificateVerify, if it sent a certificate): `messages` = every
    /// handshake message from the ClientHello on.
    fn server_finish(
        &mut self,
        suite: Suite,
        messages: &[u8],
    ) -> Result<ServerFinish, SecretsError>;

    /// Secure Environment invocations so far (0 for in-process secrets).
    fn invocations(&self) -> u32 {
        0
    }
}
