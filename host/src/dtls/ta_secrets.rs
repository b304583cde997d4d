//! [`HandshakeSecrets`] over seam's handshake sessions: the engine's secret
//! steps, each one TA invocation (see `seam_dtls::secrets` for the calls per
//! handshake).

use std::borrow::BorrowMut;

use seam_dtls::cipher::TrafficKeys;
use seam_dtls::secrets::{
    ClientFlight, ClientFlightRequest, HandshakeSecrets, MasterSeed, PeerKeyExchange, SecretsError,
    ServerKeyShare,
};
use seam_dtls::Suite;
use seam_proto::handshake::{
    HandshakeOp, HandshakeReply, MasterSeed as ProtoSeed, Role as ProtoRole, SessionId, Step,
    StepReply, Transcript as ProtoTranscript, MAX_STEPS,
};
use seam_proto::{Digest, KeyRef, Op, PublicKey, Reason, Reply};

use crate::{Client, Error};

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
/// runs in the Secure Environment behind `client` (a `Client` or a
/// `&mut Client`: owned when the connection outlives the caller's scope).
pub struct SeamSecrets<C: BorrowMut<Client>> {
    client: C,
    credentials: TaCredentials,
    session: Option<SessionId>,
    invocations: u32,
}

impl<C: BorrowMut<Client>> SeamSecrets<C> {
    pub fn new(client: C, credentials: TaCredentials) -> Self {
        SeamSecrets {
            client,
            credentials,
            session: None,
            invocations: 0,
        }
    }

    fn call(&mut self, op: HandshakeOp) -> Result<HandshakeReply, SecretsError> {
        self.invocations += 1;
        match self.client.borrow_mut().call(Op::Handshake(op)) {
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

impl<C: BorrowMut<Client>> Drop for SeamSecrets<C> {
    fn drop(&mut self) {
        // Best effort: the TA wipes abandoned sessions by itself too.
        if let Some(session) = self.session.take() {
            let _ = self
                .client
                .borrow_mut()
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
    let mut h = seam_crypto::hash::Sha256Midstate::new();
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

impl<C: BorrowMut<Client>> HandshakeSecrets for SeamSecrets<C> {
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

impl<C: BorrowMut<Client>> SeamSecrets<C> {
    /// Closes the handshake session now (the TA keeps few per caller): a
    /// connection that will not export keys calls this once established.
    pub fn release(&mut self) {
        if let Some(session) = self.session.take() {
            let _ = self
                .client
                .borrow_mut()
                .call(Op::Handshake(HandshakeOp::Close { session }));
        }
    }
}

impl<C: BorrowMut<Client>> seam_dtls::KeyExport for SeamSecrets<C> {
    fn export_key(
        &mut self,
        label: seam_dtls::ExportLabel,
        object: &str,
    ) -> Result<seam_dtls::ExportedKey, SecretsError> {
        let label = match label {
            seam_dtls::ExportLabel::Bootstrap => seam_proto::handshake::OneM2mExport::Bootstrap,
            seam_dtls::ExportLabel::Connection => seam_proto::handshake::OneM2mExport::Connection,
        };
        let object =
            crate::client::name(object).map_err(|e| SecretsError::Failed(e.to_string()))?;
        match self.steps(vec![Step::ExportKey { label, object }])?.first() {
            Some(StepReply::ExportedKey {
                relative_id,
                object,
            }) => Ok(seam_dtls::ExportedKey {
                relative_id: *relative_id,
                object: object.name.as_str().to_string(),
                suid: object
                    .suid
                    .map(|s| s.get())
                    .ok_or_else(|| SecretsError::Failed("the exported key has no SUID".into()))?,
            }),
            other => Err(SecretsError::Failed(format!(
                "expected an exported key, got {other:?}"
            ))),
        }
    }
}
