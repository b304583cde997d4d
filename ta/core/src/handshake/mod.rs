//! Handshake sessions: the secret half of (D)TLS 1.2 and TLS 1.3 handshakes
//! that a host-side engine drives (see `seam_proto::handshake` for the
//! protocol, the steps and the invocations per handshake).
//!
//! The table lives in memory only, in the one [`crate::SecureEnvironment`]:
//! nothing of a handshake is ever stored, and every secret is zeroized when
//! its session is closed, wiped, evicted or expired (or the TA instance is
//! torn down).
//!
//! # Bounds and expiry without a clock
//!
//! At most `MAX_HANDSHAKES_PER_CALLER` (4) sessions per caller and
//! `MAX_HANDSHAKES` (16) in all. The core has no clock, so a session's
//! lifetime is counted in TA invocations: the environment counts every
//! `process` call (a monotonic *tick*), and a session opened at tick `t`
//! is expired from tick `t + HANDSHAKE_LIFETIME` (1024) on; it also runs at
//! most `MAX_SESSION_STEPS` (32) steps. Expired sessions are wiped whenever
//! the table is touched; a step on one is refused with `HandshakeExpired`.
//! A caller opening a fifth session loses its oldest (so a crashed engine
//! cannot lock its caller out); a full table with nothing expired refuses
//! new sessions with `LimitReached` (no caller can evict another's).
//! The OP-TEE layer may also call
//! [`crate::SecureEnvironment::close_handshakes`] when a caller's last TA
//! session closes.

mod tls12;
mod tls13;

pub mod derive;

use alloc::vec::Vec;
use seam_proto::handshake::{
    HandshakeOp, HandshakeReply, Role, SessionId, Step, StepReply, HANDSHAKE_LIFETIME,
    MAX_HANDSHAKES, MAX_HANDSHAKES_PER_CALLER, MAX_SESSION_STEPS, MAX_STEPS,
};
use seam_proto::{ClientId, KeyRef, Name, ObjectKind, Ops, Reason, Reply, Suid};
use zeroize::Zeroizing;

use crate::access::{self, Identified};
use crate::crypto::{self, Rng};
use crate::functions::with_key;
use crate::store::Store;
use crate::Caller;

/// The credential a session is bound to: where its oneM2M exporter keys go
/// and which of them it may produce.
#[derive(Clone)]
pub(crate) struct Credential {
    pub se: Name,
    pub suid: Suid,
}

/// The protocol a session runs, fixed by its first versioned step.
pub(crate) enum Version {
    Undecided,
    Tls12(tls12::State),
    Tls13(tls13::State),
}

pub(crate) struct Session {
    id: SessionId,
    owner: ClientId,
    opened_at: u64,
    steps_run: u16,
    pub role: Role,
    pub credential: Option<Credential>,
    pub psk: Option<Zeroizing<Vec<u8>>>,
    pub sign: Option<Zeroizing<[u8; 32]>>,
    pub ephemeral: Option<Zeroizing<[u8; 32]>>,
    pub ephemeral_public: Option<[u8; 65]>,
    pub version: Version,
}

/// What a step may need besides its session.
pub(crate) struct Context<'a, S: Store> {
    pub store: &'a mut S,
    pub who: Identified,
}

/// The in-progress handshakes of one Secure Environment.
pub struct Handshakes {
    sessions: Vec<Session>,
    next_id: SessionId,
    tick: u64,
}

impl Default for Handshakes {
    fn default() -> Self {
        Self::new()
    }
}

impl Handshakes {
    pub const fn new() -> Self {
        Handshakes {
            sessions: Vec::new(),
            next_id: 1,
            tick: 0,
        }
    }

    /// One more TA invocation: the clock sessions expire by.
    pub fn tick(&mut self) {
        self.tick = self.tick.wrapping_add(1);
    }

    /// Sessions currently held (for tests and diagnostics).
    pub fn len(&self) -> usize {
        self.sessions.len()
    }

    pub fn is_empty(&self) -> bool {
        self.sessions.is_empty()
    }

    fn expired(&self, s: &Session) -> bool {
        self.tick.wrapping_sub(s.opened_at) >= HANDSHAKE_LIFETIME
    }

    fn purge_expired(&mut self) {
        let tick = self.tick;
        self.sessions
            .retain(|s| tick.wrapping_sub(s.opened_at) < HANDSHAKE_LIFETIME);
    }

    /// Wipes every session of `caller` (a PUBLIC login holds none).
    pub fn close_all(&mut self, caller: &Caller) {
        if let Ok(who) = access::identify(caller) {
            self.sessions
                .retain(|s| !access::owns_session(s.owner, who));
        }
    }

    pub fn handle<S: Store>(
        &mut self,
        store: &mut S,
        rng: &mut dyn Rng,
        who: Identified,
        op: &HandshakeOp,
    ) -> Result<Reply, Reason> {
        let mut cx = Context { store, who };
        match op {
            HandshakeOp::Open {
                role,
                psk,
                ecdhe,
                sign,
                then,
            } => self.open(
                &mut cx,
                rng,
                who,
                *role,
                psk.as_ref(),
                *ecdhe,
                sign.as_ref(),
                then,
            ),
            HandshakeOp::Steps { session, steps } => {
                let replies = self.steps(&mut cx, who, *session, steps)?;
                Ok(Reply::Handshake(HandshakeReply::Steps(replies)))
            }
            HandshakeOp::Close { session } => {
                self.purge_expired();
                let before = self.sessions.len();
                self.sessions
                    .retain(|s| !(s.id == *session && access::owns_session(s.owner, who)));
                if self.sessions.len() == before {
                    Err(Reason::UnknownHandshake)
                } else {
                    Ok(Reply::Done)
                }
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn open<S: Store>(
        &mut self,
        cx: &mut Context<'_, S>,
        rng: &mut dyn Rng,
        who: Identified,
        role: Role,
        psk: Option<&KeyRef>,
        ecdhe: bool,
        sign: Option<&KeyRef>,
        then: &[Step],
    ) -> Result<Reply, Reason> {
        if psk.is_none() && !ecdhe {
            return Err(Reason::InvalidParameter);
        }
        if then.len() > MAX_STEPS {
            return Err(Reason::InvalidParameter);
        }
        // Credentials first: a refused key opens nothing and evicts nothing.
        let psk_secret = match psk {
            Some(key) => Some(with_key(
                cx.store,
                cx.who,
                key,
                Ops::HANDSHAKE,
                ObjectKind::Secret,
                |o| Ok(Zeroizing::new(o.secret.clone())),
            )?),
            None => None,
        };
        let sign_key = match sign {
            Some(key) => Some(with_key(
                cx.store,
                cx.who,
                key,
                Ops::HANDSHAKE,
                ObjectKind::EcP256,
                |o| {
                    let s: [u8; 32] = o
                        .secret
                        .as_slice()
                        .try_into()
                        .map_err(|_| Reason::StorageCorrupt)?;
                    Ok(Zeroizing::new(s))
                },
            )?),
            None => None,
        };
        let credential = psk.or(sign).map(|k| Credential {
            se: k.se.clone(),
            suid: k.suid,
        });
        let (ephemeral, ephemeral_public) = if ecdhe {
            let private = crypto::sign::generate(rng)?;
            // A key we just generated that has no public key is our fault.
            let public = crypto::sign::public_key(&private).map_err(|_| Reason::Internal)?;
            (Some(private), Some(public))
        } else {
            (None, None)
        };

        self.purge_expired();
        let mine: Vec<usize> = (0..self.sessions.len())
            .filter(|i| access::owns_session(self.sessions[*i].owner, who))
            .collect();
        if mine.len() >= MAX_HANDSHAKES_PER_CALLER {
            // Sessions are kept in opening order: the first is the oldest.
            self.sessions.remove(mine[0]);
        } else if self.sessions.len() >= MAX_HANDSHAKES {
            return Err(Reason::LimitReached);
        }
        let id = self.next_id;
        self.next_id = self.next_id.wrapping_add(1).max(1);
        self.sessions.push(Session {
            id,
            owner: who.id(),
            opened_at: self.tick,
            steps_run: 0,
            role,
            credential,
            psk: psk_secret,
            sign: sign_key,
            ephemeral,
            ephemeral_public,
            version: Version::Undecided,
        });
        let replies = if then.is_empty() {
            heapless::Vec::new()
        } else {
            self.steps(cx, who, id, then)?
        };
        Ok(Reply::Handshake(HandshakeReply::Opened {
            session: id,
            public: ephemeral_public.map(seam_proto::PublicKey),
            replies,
        }))
    }

    fn steps<S: Store>(
        &mut self,
        cx: &mut Context<'_, S>,
        who: Identified,
        id: SessionId,
        steps: &[Step],
    ) -> Result<heapless::Vec<StepReply, MAX_STEPS>, Reason> {
        let index = self
            .sessions
            .iter()
            .position(|s| s.id == id && access::owns_session(s.owner, who))
            .ok_or(Reason::UnknownHandshake)?;
        let expired = self.expired(&self.sessions[index]);
        let session = &mut self.sessions[index];
        let budget_left = MAX_SESSION_STEPS.saturating_sub(session.steps_run);
        let result = if expired || steps.len() > usize::from(budget_left) {
            Err(Reason::HandshakeExpired)
        } else if steps.is_empty() || steps.len() > MAX_STEPS {
            Err(Reason::InvalidParameter)
        } else {
            session.steps_run += steps.len() as u16;
            run_all(session, cx, steps)
        };
        if result.is_err() {
            // Any failure wipes the session (Drop zeroizes its secrets).
            self.sessions.remove(index);
        }
        result
    }
}

fn run_all<S: Store>(
    session: &mut Session,
    cx: &mut Context<'_, S>,
    steps: &[Step],
) -> Result<heapless::Vec<StepReply, MAX_STEPS>, Reason> {
    let mut out = heapless::Vec::new();
    for step in steps {
        let reply = run(session, cx, step)?;
        out.push(reply).map_err(|_| Reason::Internal)?;
    }
    Ok(out)
}

fn run<S: Store>(
    session: &mut Session,
    cx: &mut Context<'_, S>,
    step: &Step,
) -> Result<StepReply, Reason> {
    use Step::*;
    match step {
        Tls12ServerKeyExchange { .. }
        | Tls12MasterSecret { .. }
        | Tls12KeyBlock { .. }
        | Tls12Finished { .. }
        | Tls12ClientFlight { .. }
        | Tls12VerifyServerFinished { .. }
        | Tls12Export { .. } => tls12::run(session, step),
        Tls13Binder { .. }
        | Tls13Handshake { .. }
        | Tls13CertificateVerify { .. }
        | Tls13Finished { .. }
        | Tls13Application { .. }
        | Tls13KeyUpdate { .. }
        | Tls13Export { .. } => tls13::run(session, step),
        ExportKey { label, object } => {
            let credential = session.credential.clone();
            access::check_export(credential.as_ref().map(|c| c.suid), *label)?;
            let credential = credential.ok_or(Reason::LabelNotAllowed)?;
            let output = match &mut session.version {
                Version::Tls12(state) => state.export_onem2m(label.label().as_bytes())?,
                Version::Tls13(state) => state.export_onem2m(label.label().as_bytes())?,
                Version::Undecided => return Err(Reason::StepOutOfOrder),
            };
            // TS-0003 §10.3: the 16 most significant bytes are the
            // RelativeKeID, the 32 least significant the key.
            let mut relative_id = [0u8; 16];
            relative_id.copy_from_slice(&output[..16]);
            let info = derive::store_key(
                cx.store,
                cx.who,
                &credential.se,
                object,
                label.key_suid(),
                &output[16..],
            )?;
            Ok(StepReply::ExportedKey {
                relative_id,
                object: info,
            })
        }
    }
}

/// Labels RFC 5246 and RFC 7627 reserve, and the oneM2M labels whose
/// output must stay inside: none may leave through a generic exporter.
pub(crate) fn exportable_label(label: &[u8]) -> Result<(), Reason> {
    const RESERVED: [&[u8]; 5] = [
        b"client finished",
        b"server finished",
        b"master secret",
        b"key expansion",
        b"extended master secret",
    ];
    if label.is_empty()
        || RESERVED.contains(&label)
        || label
            .get(..15)
            .is_some_and(|p| p.eq_ignore_ascii_case(b"EXPORTER-oneM2M"))
    {
        Err(Reason::LabelNotAllowed)
    } else {
        Ok(())
    }
}
