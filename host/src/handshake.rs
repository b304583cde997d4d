//! Handshake sessions and key derivations on the [`Client`]: the calls a
//! (D)TLS engine makes to have the TA do a handshake's secret steps (see
//! [`seam_proto::handshake`] for the steps, their order and what leaves).

use seam_proto::handshake::{
    Derivation, Derive, HandshakeOp, HandshakeReply, Role, SessionId, Step, StepReply, Transcript,
};
use seam_proto::{KeyRef, ObjectInfo, Op, PublicKey, Reply};

pub use seam_crypto::hash::Sha256Midstate;

use crate::{Client, Error, Result};

/// A newly opened handshake session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Opened {
    pub session: SessionId,
    /// The ephemeral ECDHE public key (uncompressed SEC 1), if asked for.
    pub public: Option<PublicKey>,
    /// The replies to the steps run at once.
    pub replies: Vec<StepReply>,
}

/// The midstate of a running transcript hash, for
/// [`Step::Tls12ClientFlight`].
pub fn transcript(hash: &Sha256Midstate) -> Transcript {
    let (state, length, tail) = hash.export();
    Transcript {
        state,
        length,
        // The tail is shorter than a block by construction.
        tail: heapless::Vec::from_slice(tail).unwrap_or_default(),
    }
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

fn unexpected(what: &str, got: &Reply) -> Error {
    Error::Protocol(format!("expected {what}, got {got:?}"))
}

impl Client {
    /// Opens a handshake session (see [`HandshakeOp::Open`]) and runs `then`
    /// on it in the same TA invocation.
    pub fn handshake_open(
        &mut self,
        role: Role,
        psk: Option<&KeyRef>,
        ecdhe: bool,
        sign: Option<&KeyRef>,
        then: Vec<Step>,
    ) -> Result<Opened> {
        let op = HandshakeOp::Open {
            role,
            psk: psk.cloned(),
            ecdhe,
            sign: sign.cloned(),
            then: bounded_steps(then)?,
        };
        match self.call(Op::Handshake(op))?.reply {
            Reply::Handshake(HandshakeReply::Opened {
                session,
                public,
                replies,
            }) => Ok(Opened {
                session,
                public,
                replies: replies.into_iter().collect(),
            }),
            other => Err(unexpected("Opened", &other)),
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
        match self.call(Op::Handshake(op))?.reply {
            Reply::Handshake(HandshakeReply::Steps(replies)) => Ok(replies.into_iter().collect()),
            other => Err(unexpected("Steps", &other)),
        }
    }

    /// Runs one step.
    pub fn handshake_step(&mut self, session: SessionId, step: Step) -> Result<StepReply> {
        let mut replies = self.handshake_steps(session, vec![step])?;
        replies
            .pop()
            .ok_or_else(|| Error::Protocol("no reply to a handshake step".into()))
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
