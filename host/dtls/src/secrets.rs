//! The boundary between the (D)TLS engine and whoever holds the secrets.
//!
//! [`HandshakeSecrets`] has one method per batch of secret steps, shaped so
//! that each call is one TA invocation of seam's handshake sessions
//! (`seam_proto::handshake`):
//!
//! | handshake | calls (= TA invocations) |
//! |---|---|
//! | client, ECDHE_ECDSA (with or without a client certificate) | [`client_key_share`] · [`client_flight`] · [`verify_server_finished`] = 3 |
//! | client, PSK | [`client_flight`] · [`verify_server_finished`] = 2 |
//! | server, ECDHE_ECDSA | [`server_key_share`] · [`server_keys`] · [`server_finished`] = 3 |
//! | server, PSK | [`server_keys`] · [`server_finished`] = 2 |
//!
//! What crosses it: randoms, transcripts (public), public keys, PSK
//! identities (public), signatures, Finished messages and the traffic keys.
//! What never does: PSKs, private keys, ECDH shared secrets, premaster and
//! master secrets.
//!
//! The `seam` host library implements it over the TA's handshake sessions
//! (`seam::dtls::SeamSecrets`, on the real TA or the simulator); this crate
//! never computes a handshake secret itself.
//!
//! [`client_key_share`]: HandshakeSecrets::client_key_share
//! [`client_flight`]: HandshakeSecrets::client_flight
//! [`verify_server_finished`]: HandshakeSecrets::verify_server_finished
//! [`server_key_share`]: HandshakeSecrets::server_key_share
//! [`server_keys`]: HandshakeSecrets::server_keys
//! [`server_finished`]: HandshakeSecrets::server_finished

use std::fmt;

use super::cipher::TrafficKeys;
use super::Suite;

/// The seed of the TLS 1.2 master secret.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MasterSeed {
    /// RFC 5246 §8.1: `client_random ‖ server_random`.
    Randoms,
    /// RFC 7627: the session hash (SHA-256 of the handshake messages
    /// through ClientKeyExchange).
    Extended([u8; 32]),
}

/// What the client asks for once the server's flight is in.
#[derive(Clone, Debug)]
pub struct ClientFlightRequest<'a> {
    pub suite: Suite,
    /// The server's ephemeral point (ECDHE), absent for PSK.
    pub peer_public: Option<&'a [u8]>,
    pub seed: MasterSeed,
    pub client_random: [u8; 32],
    pub server_random: [u8; 32],
    /// Every handshake message so far, through our ClientKeyExchange, as it
    /// enters the handshake hash (with TLS or DTLS headers).
    pub transcript: &'a [u8],
    /// Produce a CertificateVerify (we sent a certificate).
    pub certificate_verify: bool,
    /// DTLS: the `message_seq` of the first message produced (the
    /// CertificateVerify if any, else the Finished). `None` on TLS.
    pub dtls_message_seq: Option<u16>,
}

/// The client's key block and the messages that end its flight, each whole
/// with its TLS or DTLS header, exactly as they enter the transcript.
pub struct ClientFlight {
    pub keys: TrafficKeys,
    pub certificate_verify: Option<Vec<u8>>,
    pub finished: Vec<u8>,
}

/// The server's ECDHE share.
#[derive(Clone, Debug)]
pub struct ServerKeyShare {
    /// Our ephemeral point, 65-byte uncompressed SEC 1.
    pub public: Vec<u8>,
    /// ECDSA-SHA256 over `client_random ‖ server_random ‖ ServerECDHParams`, DER.
    pub signature: Vec<u8>,
}

/// What the client sent in its ClientKeyExchange.
#[derive(Clone, Copy, Debug)]
pub enum PeerKeyExchange<'a> {
    PskIdentity(&'a [u8]),
    Ecdhe(&'a [u8]),
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

/// The secret steps of a TLS 1.2 / DTLS 1.2 handshake (see the module docs
/// for the calls per handshake). One object serves one handshake; calls out
/// of order fail.
pub trait HandshakeSecrets {
    /// Client, once the server's flight is in: for ECDHE our ephemeral
    /// public key (65-byte SEC 1); `None` for PSK (nothing to do yet).
    /// `certificate`: we will send a certificate, so [`client_flight`]
    /// must be able to sign a CertificateVerify.
    ///
    /// [`client_flight`]: HandshakeSecrets::client_flight
    fn client_key_share(
        &mut self,
        suite: Suite,
        certificate: bool,
    ) -> Result<Option<Vec<u8>>, SecretsError>;

    /// Client: premaster (ECDH, or RFC 4279 from our PSK), master secret,
    /// key block, and the CertificateVerify and Finished messages.
    fn client_flight(
        &mut self,
        req: &ClientFlightRequest<'_>,
    ) -> Result<ClientFlight, SecretsError>;

    /// Client: checks the server's Finished (over the transcript through our
    /// Finished, which the other side already knows).
    fn verify_server_finished(&mut self, verify_data: &[u8; 12]) -> Result<(), SecretsError>;

    /// Server, after the ClientHello: for ECDHE our ephemeral key and its
    /// ServerKeyExchange signature; `None` for PSK.
    fn server_key_share(
        &mut self,
        suite: Suite,
        client_random: &[u8; 32],
        server_random: &[u8; 32],
    ) -> Result<Option<ServerKeyShare>, SecretsError>;

    /// Server, after the ClientKeyExchange: premaster, master secret, key block.
    fn server_keys(
        &mut self,
        suite: Suite,
        peer: PeerKeyExchange<'_>,
        seed: MasterSeed,
        client_random: &[u8; 32],
        server_random: &[u8; 32],
    ) -> Result<TrafficKeys, SecretsError>;

    /// Server: checks the client's Finished over `client_hash` and returns
    /// ours over `server_hash` (the transcript through the client's Finished).
    fn server_finished(
        &mut self,
        client_hash: &[u8; 32],
        client_verify_data: &[u8; 12],
        server_hash: &[u8; 32],
    ) -> Result<[u8; 12], SecretsError>;

    /// Secure Environment invocations so far (0 for in-process secrets).
    fn invocations(&self) -> u32 {
        0
    }
}
