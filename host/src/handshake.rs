//! Handshake sessions and key derivations on the [`Client`]: the calls a
//! (D)TLS engine makes to have the TA do a handshake's secret steps (see
//! [`seam_proto::handshake`] for the operations, their order and what
//! leaves).

use seam_proto::handshake::{
    Derivation, Derive, Framing, HandshakeOp, HandshakeReply, PskCandidate, Role, SessionId, Step,
    StepReply, MAX_TRANSCRIPT,
};
use seam_proto::{KeyRef, ObjectInfo, Op, PublicKey, Reply, Signature};

use crate::{Client, Error, Result};

/// A newly opened step-interface session (see [`HandshakeOp::Open`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Opened {
    pub session: SessionId,
    /// The TA's ephemeral ECDHE public key (uncompressed SEC 1).
    pub public: PublicKey,
}

/// A (D)TLS 1.2 client session of seam's engine, opened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientOpened {
    pub session: SessionId,
    /// The ClientHello must carry this random.
    pub random: [u8; 32],
    /// The ClientKeyExchange must carry this point (ECDHE suites).
    pub public: Option<PublicKey>,
}

/// What the client's second invocation returns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientFinished {
    pub key_block: Vec<u8>,
    /// The CertificateVerify message (with its header), if we sent a certificate.
    pub certificate_verify: Option<Vec<u8>>,
    /// Our Finished message (with its header).
    pub finished: Vec<u8>,
    pub expected_server_verify_data: [u8; 12],
}

/// A (D)TLS 1.2 server session of seam's engine, opened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerOpened {
    pub session: SessionId,
    /// The ServerHello must carry this random.
    pub random: [u8; 32],
    /// ECDHE: our point and the ServerKeyExchange signature (`r ‖ s`).
    pub ecdhe: Option<(PublicKey, Signature)>,
}

/// What the server's second invocation returns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerFinished {
    pub key_block: Vec<u8>,
    pub expected_client_verify_data: [u8; 12],
    /// Our Finished message (with its header).
    pub finished: Vec<u8>,
}

fn bounded_steps(
    steps: Vec<Step>,
) -> Result<heapless::Vec<Step, { seam_proto::handshake::MAX_STEPS }>> {
    heapless::Vec::from_slice(&steps).map_err(|_| {
        Error::InvalidInput(format!(
            "{} handshake steps in one call, the limit is {}",
            steps.len(),
            seam_proto::handshake::MAX_STEPS
        ))
    })
}

fn transcript(messages: &[u8]) -> Result<seam_proto::HeapVec<u8, MAX_TRANSCRIPT>> {
    seam_proto::HeapVec::from_slice(messages).map_err(|_| {
        Error::InvalidInput(format!(
            "{} bytes of handshake messages, the limit is {MAX_TRANSCRIPT}",
            messages.len()
        ))
    })
}

fn unexpected(what: &str, got: &Reply) -> Error {
    Error::Protocol(format!("expected {what}, got {got:?}"))
}

impl Client {
    fn handshake(&mut self, op: HandshakeOp, what: &str) -> Result<HandshakeReply> {
        match self.call(Op::Handshake(op))?.reply {
            Reply::Handshake(r) => Ok(r),
            other => Err(unexpected(what, &other)),
        }
    }

    /// Opens a (D)TLS 1.2 client session (see [`HandshakeOp::ClientOpen`]).
    pub fn handshake_client_open(
        &mut self,
        framing: Framing,
        suites: &[u16],
        psk: Option<&KeyRef>,
        sign: Option<&KeyRef>,
    ) -> Result<ClientOpened> {
        let op = HandshakeOp::ClientOpen {
            framing,
            suites: heapless::Vec::from_slice(suites)
                .map_err(|_| Error::InvalidInput("too many cipher suites".into()))?,
            psk: psk.cloned(),
            sign: sign.cloned(),
        };
        match self.handshake(op, "ClientOpened")? {
            HandshakeReply::ClientOpened {
                session,
                random,
                public,
            } => Ok(ClientOpened {
                session,
                random,
                public,
            }),
            other => Err(Error::Protocol(format!(
                "expected ClientOpened, got {other:?}"
            ))),
        }
    }

    /// The client's second invocation: `messages` = ClientHello …
    /// ClientKeyExchange as they entered the transcript.
    pub fn handshake_client_finish(
        &mut self,
        session: SessionId,
        messages: &[u8],
    ) -> Result<ClientFinished> {
        let op = HandshakeOp::ClientFinish {
            session,
            messages: transcript(messages)?,
        };
        match self.handshake(op, "ClientFinished")? {
            HandshakeReply::ClientFinished {
                key_block,
                certificate_verify,
                finished,
                expected_server_verify_data,
            } => Ok(ClientFinished {
                key_block: key_block.to_vec(),
                certificate_verify: certificate_verify.map(|m| m.to_vec()),
                finished: finished.to_vec(),
                expected_server_verify_data,
            }),
            other => Err(Error::Protocol(format!(
                "expected ClientFinished, got {other:?}"
            ))),
        }
    }

    /// Opens a (D)TLS 1.2 server session on the ClientHello (see
    /// [`HandshakeOp::ServerOpen`]). `psks`: (identity, key) pairs.
    pub fn handshake_server_open(
        &mut self,
        framing: Framing,
        suite: u16,
        client_hello: &[u8],
        psks: &[(Vec<u8>, KeyRef)],
        sign: Option<&KeyRef>,
    ) -> Result<ServerOpened> {
        let mut candidates = heapless::Vec::new();
        for (identity, key) in psks {
            let c = PskCandidate {
                identity: heapless::Vec::from_slice(identity)
                    .map_err(|_| Error::InvalidInput("PSK identity too long".into()))?,
                key: key.clone(),
            };
            candidates
                .push(c)
                .map_err(|_| Error::InvalidInput("too many PSKs for one server session".into()))?;
        }
        let op = HandshakeOp::ServerOpen {
            framing,
            suite,
            client_hello: seam_proto::HeapVec::from_slice(client_hello)
                .map_err(|_| Error::InvalidInput("ClientHello too long".into()))?,
            psks: candidates,
            sign: sign.cloned(),
        };
        match self.handshake(op, "ServerOpened")? {
            HandshakeReply::ServerOpened {
                session,
                random,
                ecdhe,
            } => Ok(ServerOpened {
                session,
                random,
                ecdhe: ecdhe.map(|e| (e.public, e.signature)),
            }),
            other => Err(Error::Protocol(format!(
                "expected ServerOpened, got {other:?}"
            ))),
        }
    }

    /// The server's second invocation: `messages` = ClientHello … the
    /// client's ClientKeyExchange (and CertificateVerify).
    pub fn handshake_server_finish(
        &mut self,
        session: SessionId,
        messages: &[u8],
    ) -> Result<ServerFinished> {
        let op = HandshakeOp::ServerFinish {
            session,
            messages: transcript(messages)?,
        };
        match self.handshake(op, "ServerFinished")? {
            HandshakeReply::ServerFinished {
                key_block,
                expected_client_verify_data,
                finished,
            } => Ok(ServerFinished {
                key_block: key_block.to_vec(),
                expected_client_verify_data,
                finished: finished.to_vec(),
            }),
            other => Err(Error::Protocol(format!(
                "expected ServerFinished, got {other:?}"
            ))),
        }
    }

    /// Opens an ECDHE session of the step interface (see [`HandshakeOp::Open`]).
    pub fn handshake_open(&mut self, role: Role, credential: &KeyRef) -> Result<Opened> {
        let op = HandshakeOp::Open {
            role,
            credential: credential.clone(),
        };
        match self.handshake(op, "Opened")? {
            HandshakeReply::Opened { session, public } => Ok(Opened { session, public }),
            other => Err(Error::Protocol(format!("expected Opened, got {other:?}"))),
        }
    }

    /// Runs up to `MAX_STEPS` steps on a session, in one TA invocation. A
    /// refusal wipes the session in the TA.
    pub fn handshake_steps(
        &mut self,
        session: SessionId,
        steps: Vec<Step>,
    ) -> Result<Vec<StepReply>> {
        let op = HandshakeOp::Steps {
            session,
            steps: bounded_steps(steps)?,
        };
        match self.handshake(op, "Steps")? {
            HandshakeReply::Steps(replies) => Ok(replies.into_iter().collect()),
            other => Err(Error::Protocol(format!("expected Steps, got {other:?}"))),
        }
    }

    /// Runs one step.
    pub fn handshake_step(&mut self, session: SessionId, step: Step) -> Result<StepReply> {
        let mut replies = self.handshake_steps(session, vec![step])?;
        replies
            .pop()
            .ok_or_else(|| Error::Protocol("no reply to a handshake step".into()))
    }

    /// TLS 1.2 client CertificateVerify on the step interface (see
    /// [`HandshakeOp::Tls12SignCertificateVerify`]).
    pub fn handshake_sign_certificate_verify(
        &mut self,
        session: SessionId,
        messages: &[u8],
    ) -> Result<Signature> {
        let op = HandshakeOp::Tls12SignCertificateVerify {
            session,
            messages: transcript(messages)?,
        };
        match self.call(Op::Handshake(op))?.reply {
            Reply::Signature(s) => Ok(s),
            other => Err(unexpected("Signature", &other)),
        }
    }

    /// Wipes a session.
    pub fn handshake_close(&mut self, session: SessionId) -> Result<()> {
        self.call(Op::Handshake(HandshakeOp::Close { session }))
            .map(|_| ())
    }

    /// A TS-0003 §10.3 derivation from `source` into a new key `object` of
    /// the same SE (see [`Derivation`]).
    pub fn derive_key(
        &mut self,
        source: &KeyRef,
        rule: Derivation,
        object: &str,
    ) -> Result<ObjectInfo> {
        let op = Op::Derive(Derive {
            source: source.clone(),
            rule,
            object: crate::client::name(object)?,
        });
        match self.call(op)?.reply {
            Reply::Derived(info) => Ok(info),
            other => Err(unexpected("Derived", &other)),
        }
    }
}
