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
//! [`SeamSecrets`] implements it over a [`crate::Client`] (the TA, or the
//! simulator); `software::SoftwareSecrets` (feature `dtls-soft`, tests only)
//! computes the same in this process with seam-core's crypto.
//!
//! [`client_key_share`]: HandshakeSecrets::client_key_share
//! [`client_flight`]: HandshakeSecrets::client_flight
//! [`verify_server_finished`]: HandshakeSecrets::verify_server_finished
//! [`server_key_share`]: HandshakeSecrets::server_key_share
//! [`server_keys`]: HandshakeSecrets::server_keys
//! [`server_finished`]: HandshakeSecrets::server_finished

use std::fmt;

use seam_proto::handshake::{
    HandshakeOp, HandshakeReply, MasterSeed as ProtoSeed, Role as ProtoRole, SessionId, Step,
    StepReply, Transcript as ProtoTranscript, MAX_STEPS,
};
use seam_proto::{Digest, KeyRef, Op, PublicKey, Reason, Reply};

use super::cipher::TrafficKeys;
use super::Suite;
use crate::{Client, Error};

#[cfg(any(test, feature = "dtls-soft"))]
pub mod software;

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

// ---- the TA-backed implementation -----------------------------------------------

/// The credentials a [`SeamSecrets`] may use: references to keys inside the
/// Secure Environment (the caller needs a `HANDSHAKE` grant on each).
#[derive(Clone, Debug, Default)]
pub struct TaCredentials {
    /// Client, PSK suites: the PSK.
    pub psk: Option<KeyRef>,
    /// Server, PSK suites: the PSK for each identity a client may send (an
    /// empty identity matches any).
    pub psk_by_identity: Vec<(Vec<u8>, KeyRef)>,
    /// ECDHE_ECDSA suites: the P-256 key of our certificate (server; client
    /// when it presents one).
    pub signing_key: Option<KeyRef>,
}

/// [`HandshakeSecrets`] over seam's handshake sessions: every secret step
/// runs in the Secure Environment behind `client`.
pub struct SeamSecrets<'c> {
    client: &'c mut Client,
    credentials: TaCredentials,
    session: Option<SessionId>,
    invocations: u32,
}

impl<'c> SeamSecrets<'c> {
    pub fn new(client: &'c mut Client, credentials: TaCredentials) -> Self {
        SeamSecrets {
            client,
            credentials,
            session: None,
            invocations: 0,
        }
    }

    fn call(&mut self, op: HandshakeOp) -> Result<HandshakeReply, SecretsError> {
        self.invocations += 1;
        match self.client.call(Op::Handshake(op)) {
            Ok(answer) => match answer.reply {
                Reply::Handshake(r) => Ok(r),
                other => Err(SecretsError::Failed(format!(
                    "expected a handshake reply, got {other:?}"
                ))),
            },
            Err(Error::Refused { reason, .. }) => Err(match reason {
                Reason::FinishedMismatch => SecretsError::FinishedMismatch,
                // The only key material our steps carry is the peer's point.
                Reason::InvalidPublicKey => SecretsError::InvalidPeerKey,
                other => SecretsError::Failed(format!(
                    "refused: {} ({})",
                    other.describe(),
                    other.status().code()
                )),
            }),
            Err(e) => Err(SecretsError::Failed(e.to_string())),
        }
    }

    fn open(
        &mut self,
        role: ProtoRole,
        psk: Option<KeyRef>,
        ecdhe: bool,
        sign: Option<KeyRef>,
        then: Vec<Step>,
    ) -> Result<(Option<PublicKey>, Vec<StepReply>), SecretsError> {
        let then = bounded_steps(then)?;
        match self.call(HandshakeOp::Open {
            role,
            psk,
            ecdhe,
            sign,
            then,
        })? {
            HandshakeReply::Opened {
                session,
                public,
                replies,
            } => {
                self.session = Some(session);
                Ok((public, replies.into_iter().collect()))
            }
            other => Err(unexpected(&other)),
        }
    }

    fn steps(&mut self, steps: Vec<Step>) -> Result<Vec<StepReply>, SecretsError> {
        let session = self
            .session
            .ok_or(SecretsError::Failed("no handshake session open".into()))?;
        let steps = bounded_steps(steps)?;
        match self.call(HandshakeOp::Steps { session, steps })? {
            HandshakeReply::Steps(r) => Ok(r.into_iter().collect()),
            other => Err(unexpected(&other)),
        }
    }

    fn signing_key(&self) -> Result<KeyRef, SecretsError> {
        self.credentials
            .signing_key
            .clone()
            .ok_or(SecretsError::MissingCredential(
                "a signing key for ECDHE_ECDSA",
            ))
    }
}

impl Drop for SeamSecrets<'_> {
    fn drop(&mut self) {
        // Best effort: the TA wipes abandoned sessions by itself too.
        if let Some(session) = self.session.take() {
            let _ = self
                .client
                .call(Op::Handshake(HandshakeOp::Close { session }));
        }
    }
}

fn bounded_steps(steps: Vec<Step>) -> Result<heapless::Vec<Step, MAX_STEPS>, SecretsError> {
    heapless::Vec::from_slice(&steps)
        .map_err(|_| SecretsError::Failed("too many steps for one invocation".into()))
}

fn unexpected(r: &HandshakeReply) -> SecretsError {
    SecretsError::Failed(format!("unexpected handshake reply {r:?}"))
}

fn proto_seed(seed: MasterSeed, client_random: &[u8; 32], server_random: &[u8; 32]) -> ProtoSeed {
    match seed {
        MasterSeed::Randoms => ProtoSeed::Randoms {
            client_random: *client_random,
            server_random: *server_random,
        },
        MasterSeed::Extended(h) => ProtoSeed::Extended {
            session_hash: Digest(h),
        },
    }
}

fn peer_point(bytes: &[u8]) -> Result<PublicKey, SecretsError> {
    let b: [u8; 65] = bytes.try_into().map_err(|_| SecretsError::InvalidPeerKey)?;
    if b[0] != 4 {
        return Err(SecretsError::InvalidPeerKey);
    }
    Ok(PublicKey(b))
}

fn key_block(reply: Option<&StepReply>, suite: Suite) -> Result<TrafficKeys, SecretsError> {
    match reply {
        Some(StepReply::KeyBlock(b)) => TrafficKeys::from_key_block(suite, b)
            .ok_or(SecretsError::Failed("key block of the wrong length".into())),
        other => Err(SecretsError::Failed(format!(
            "expected a key block, got {other:?}"
        ))),
    }
}

/// The SHA-256 midstate of `data`, as the TA resumes it.
fn midstate(data: &[u8]) -> Result<ProtoTranscript, SecretsError> {
    let mut h = seam_core::crypto::hash::Sha256Midstate::new();
    h.update(data);
    let (state, length, tail) = h.export();
    Ok(ProtoTranscript {
        state,
        length,
        tail: heapless::Vec::from_slice(tail)
            .map_err(|_| SecretsError::Failed("midstate tail too long".into()))?,
    })
}

/// DER (X9.62) of an `r ‖ s` signature, as TLS carries it.
pub(crate) fn signature_der(rs: &[u8; 64]) -> Result<Vec<u8>, SecretsError> {
    p256::ecdsa::Signature::from_slice(rs)
        .map(|s| s.to_der().as_bytes().to_vec())
        .map_err(|_| SecretsError::Failed("the signature is malformed".into()))
}

impl HandshakeSecrets for SeamSecrets<'_> {
    fn client_key_share(
        &mut self,
        suite: Suite,
        certificate: bool,
    ) -> Result<Option<Vec<u8>>, SecretsError> {
        if suite.is_psk() {
            return Ok(None);
        }
        let sign = if certificate {
            Some(self.signing_key()?)
        } else {
            None
        };
        let (public, _) = self.open(ProtoRole::Client, None, true, sign, Vec::new())?;
        public
            .map(|p| Some(p.0.to_vec()))
            .ok_or(SecretsError::Failed("no ephemeral key came back".into()))
    }

    fn client_flight(
        &mut self,
        req: &ClientFlightRequest<'_>,
    ) -> Result<ClientFlight, SecretsError> {
        let peer_public = match req.peer_public {
            Some(p) => Some(peer_point(p)?),
            None => None,
        };
        let steps = vec![
            Step::Tls12MasterSecret {
                peer_public,
                seed: proto_seed(req.seed, &req.client_random, &req.server_random),
            },
            Step::Tls12KeyBlock {
                client_random: req.client_random,
                server_random: req.server_random,
                len: TrafficKeys::block_len(req.suite) as u8,
            },
            Step::Tls12ClientFlight {
                transcript: midstate(req.transcript)?,
                certificate_verify: req.certificate_verify,
                dtls_message_seq: req.dtls_message_seq,
            },
        ];
        let replies = if req.suite.is_psk() {
            let psk = self
                .credentials
                .psk
                .clone()
                .ok_or(SecretsError::MissingCredential("a PSK"))?;
            self.open(ProtoRole::Client, Some(psk), false, None, steps)?
                .1
        } else {
            self.steps(steps)?
        };
        let keys = key_block(replies.get(1), req.suite)?;
        match replies.get(2) {
            Some(StepReply::ClientFlight {
                certificate_verify,
                finished,
            }) => Ok(ClientFlight {
                keys,
                certificate_verify: certificate_verify.as_ref().map(|m| m.to_vec()),
                finished: finished.to_vec(),
            }),
            other => Err(SecretsError::Failed(format!(
                "expected the client flight, got {other:?}"
            ))),
        }
    }

    fn verify_server_finished(&mut self, verify_data: &[u8; 12]) -> Result<(), SecretsError> {
        let replies = self.steps(vec![Step::Tls12VerifyServerFinished {
            verify_data: *verify_data,
        }])?;
        match replies.first() {
            Some(StepReply::Verified) => Ok(()),
            _ => Err(SecretsError::FinishedMismatch),
        }
    }

    fn server_key_share(
        &mut self,
        suite: Suite,
        client_random: &[u8; 32],
        server_random: &[u8; 32],
    ) -> Result<Option<ServerKeyShare>, SecretsError> {
        if suite.is_psk() {
            return Ok(None);
        }
        let sign = self.signing_key()?;
        let (public, replies) = self.open(
            ProtoRole::Server,
            None,
            true,
            Some(sign),
            vec![Step::Tls12ServerKeyExchange {
                client_random: *client_random,
                server_random: *server_random,
            }],
        )?;
        let public = public.ok_or(SecretsError::Failed("no ephemeral key came back".into()))?;
        match replies.first() {
            Some(StepReply::Signature(sig)) => Ok(Some(ServerKeyShare {
                public: public.0.to_vec(),
                signature: signature_der(&sig.0)?,
            })),
            other => Err(SecretsError::Failed(format!(
                "expected a signature, got {other:?}"
            ))),
        }
    }

    fn server_keys(
        &mut self,
        suite: Suite,
        peer: PeerKeyExchange<'_>,
        seed: MasterSeed,
        client_random: &[u8; 32],
        server_random: &[u8; 32],
    ) -> Result<TrafficKeys, SecretsError> {
        let peer_public = match peer {
            PeerKeyExchange::Ecdhe(p) => Some(peer_point(p)?),
            PeerKeyExchange::PskIdentity(_) => None,
        };
        let steps = vec![
            Step::Tls12MasterSecret {
                peer_public,
                seed: proto_seed(seed, client_random, server_random),
            },
            Step::Tls12KeyBlock {
                client_random: *client_random,
                server_random: *server_random,
                len: TrafficKeys::block_len(suite) as u8,
            },
        ];
        let replies = match peer {
            PeerKeyExchange::PskIdentity(identity) => {
                let psk = self
                    .credentials
                    .psk_by_identity
                    .iter()
                    .find(|(id, _)| id.is_empty() || id.as_slice() == identity)
                    .map(|(_, k)| k.clone())
                    .ok_or(SecretsError::UnknownPskIdentity)?;
                self.open(ProtoRole::Server, Some(psk), false, None, steps)?
                    .1
            }
            PeerKeyExchange::Ecdhe(_) => self.steps(steps)?,
        };
        key_block(replies.get(1), suite)
    }

    fn server_finished(
        &mut self,
        client_hash: &[u8; 32],
        client_verify_data: &[u8; 12],
        server_hash: &[u8; 32],
    ) -> Result<[u8; 12], SecretsError> {
        let replies = self.steps(vec![
            Step::Tls12Finished {
                side: ProtoRole::Client,
                transcript: Digest(*client_hash),
                expect: Some(*client_verify_data),
            },
            Step::Tls12Finished {
                side: ProtoRole::Server,
                transcript: Digest(*server_hash),
                expect: None,
            },
        ])?;
        match (replies.first(), replies.get(1)) {
            (Some(StepReply::Verified), Some(StepReply::VerifyData(vd))) => vd
                .as_slice()
                .try_into()
                .map_err(|_| SecretsError::Failed("verify_data is not 12 bytes".into())),
            other => Err(SecretsError::Failed(format!(
                "expected Verified and VerifyData, got {other:?}"
            ))),
        }
    }

    fn invocations(&self) -> u32 {
        self.invocations
    }
}
