//! Handshake sessions: the secret half of (D)TLS 1.2 and TLS 1.3 handshakes
//! that a host-side engine drives (see `seam_proto::handshake` for the
//! operations, what each side sees, and the rules).
//!
//! The table lives in memory only, in the one [`crate::SecureEnvironment`]:
//! nothing of a handshake is ever stored, and every secret is zeroized when
//! its session is closed, wiped, evicted or expired (or the TA instance is
//! torn down).
//!
//! * [`engine`]: the two-invocation (D)TLS 1.2 operations of seam's engine,
//!   which take message bytes and hash the transcript here.
//! * [`tls12`], [`tls13`]: the step interface rustls's provider uses.
//!
//! Every operation on a session first re-reads the SE it is bound to and
//! re-checks every grant it was opened with ([`Binding::authorise`]): that
//! read also yields the credentials' secrets, so it costs nothing extra.

mod engine;
mod tls12;
mod tls13;

pub mod derive;

use alloc::vec::Vec;
use heapless::Vec as HVec;
use seam_proto::handshake::{
    HandshakeOp, HandshakeReply, Role, SessionId, Step, StepReply, HANDSHAKE_LIFETIME_MS,
    MAX_HANDSHAKES, MAX_HANDSHAKES_PER_CALLER, MAX_HANDSHAKES_PER_SE, MAX_PSK_CANDIDATES,
    MAX_PSK_IDENTITY, MAX_SESSION_STEPS, MAX_STEPS,
};
use seam_proto::{ClientId, KeyRef, Name, ObjectKind, Ops, Reason, Reply, Signature, Suid};
use zeroize::Zeroizing;

use crate::access::{self, Identified};
use crate::crypto::{self, Rng};
use crate::functions::with_key;
use crate::records::{self, SeRecord};
use crate::store::Store;
use crate::Caller;

/// What a bound credential is for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Use {
    /// A PSK, for the identity a client sends (server) or for us (client).
    Psk(HVec<u8, MAX_PSK_IDENTITY>),
    /// The P-256 key of our certificate.
    Sign,
    /// Only binds the session (a non-P-256 credential of the step interface).
    Bind,
}

/// A credential the session was opened with.
#[derive(Clone, Debug)]
pub(crate) struct Bound {
    pub key: KeyRef,
    pub kind: ObjectKind,
    pub usage: Use,
}

/// `keys` copied into an exact heap allocation; running out of heap is a
/// refusal, not an abort of the TA that every stakeholder shares.
fn bound_copy(keys: &[Bound]) -> Result<Vec<Bound>, Reason> {
    if keys.len() > MAX_PSK_CANDIDATES + 1 {
        return Err(Reason::InvalidParameter);
    }
    let mut copy = Vec::new();
    copy.try_reserve_exact(keys.len())
        .map_err(|_| Reason::LimitReached)?;
    copy.extend_from_slice(keys);
    Ok(copy)
}

/// What authorised a session: one SE instance and the credentials in it,
/// as its opener's names resolve them.
pub(crate) struct Binding {
    pub se: Name,
    pub instance: u64,
    /// The opener: a credential's name means its own object, else the
    /// admin's ([`SeRecord::resolve`]), for the grant check and for the
    /// secret alike (never one object checked and another one used).
    owner: ClientId,
    /// The SUID of the credential that decides the oneM2M exporter labels
    /// (the first one named).
    pub suid: Suid,
    /// On the heap, sized to what was named: a session usually binds one
    /// credential, and 64 inline slots of five would not fit the TA's heap.
    pub keys: Vec<Bound>,
}

impl Binding {
    /// Checks every credential as a new use (normal refusals: NoPrivilege,
    /// UnknownObject, …) and binds them: for opening a session.
    fn new<S: Store>(store: &mut S, who: Identified, keys: &[Bound]) -> Result<Self, Reason> {
        let first = keys.first().ok_or(Reason::InvalidParameter)?;
        if keys.iter().any(|b| b.key.se != first.key.se) {
            // One session, one stakeholder: its quota and its exports.
            return Err(Reason::InvalidParameter);
        }
        for b in keys {
            with_key(store, who, &b.key, Ops::HANDSHAKE, b.kind, |_| Ok(()))?;
        }
        let record = records::load_se(store, &first.key.se)?;
        Ok(Binding {
            se: first.key.se.clone(),
            instance: record.instance,
            owner: who.id(),
            suid: first.key.suid,
            keys: bound_copy(keys)?,
        })
    }

    /// The SE record, if the SE instance, every object and every grant the
    /// session was opened with still hold; `HandshakeRevoked` otherwise.
    pub fn authorise<S: Store>(&self, store: &mut S, who: Identified) -> Result<SeRecord, Reason> {
        let record = match records::load_se(store, &self.se) {
            Ok(r) => r,
            Err(Reason::UnknownSe) => return Err(Reason::HandshakeRevoked),
            Err(e) => return Err(e),
        };
        if record.instance != self.instance {
            return Err(Reason::HandshakeRevoked);
        }
        for b in &self.keys {
            match access::usable_key(&record, who, &b.key, Ops::HANDSHAKE) {
                Ok(object) if object.kind == b.kind => {}
                // Still granted, but past its lifetime: say so.
                Err(Reason::KeyExpired) => return Err(Reason::KeyExpired),
                _ => return Err(Reason::HandshakeRevoked),
            }
        }
        Ok(record)
    }

    /// The earliest `not_after` of the bound credentials (from an
    /// authorised record): what keys exported from the session inherit.
    pub fn not_after(&self, record: &SeRecord) -> Option<u64> {
        self.keys
            .iter()
            .filter_map(|b| {
                record
                    .resolve(self.owner, &b.key.key)
                    .and_then(|o| o.not_after)
            })
            .min()
    }

    /// The secret of the credential used as `usage` (from an authorised record).
    pub fn secret<'r>(&self, record: &'r SeRecord, usage: &Use) -> Result<&'r [u8], Reason> {
        let b = self
            .keys
            .iter()
            .find(|b| &b.usage == usage)
            .ok_or(Reason::InvalidParameter)?;
        record
            .resolve(self.owner, &b.key.key)
            .map(|o| o.secret.as_slice())
            .ok_or(Reason::HandshakeRevoked)
    }

    /// The signing key's scalar.
    pub fn signing_key(&self, record: &SeRecord) -> Result<Zeroizing<[u8; 32]>, Reason> {
        let s = self.secret(record, &Use::Sign)?;
        let s: [u8; 32] = s.try_into().map_err(|_| Reason::StorageCorrupt)?;
        Ok(Zeroizing::new(s))
    }

    pub fn has(&self, usage: &Use) -> bool {
        self.keys.iter().any(|b| &b.usage == usage)
    }

    /// PSK candidates (server): the one for `identity`, or the wildcard.
    pub fn psk_for<'r>(&self, record: &'r SeRecord, identity: &[u8]) -> Result<&'r [u8], Reason> {
        let psks = || {
            self.keys.iter().filter_map(|b| match &b.usage {
                Use::Psk(id) => Some((id, b)),
                _ => None,
            })
        };
        let chosen = psks()
            .find(|(id, _)| id.as_slice() == identity)
            .or_else(|| psks().find(|(id, _)| id.is_empty()))
            .map(|(_, b)| b)
            .ok_or(Reason::UnknownObject)?;
        record
            .resolve(self.owner, &chosen.key.key)
            .map(|o| o.secret.as_slice())
            .ok_or(Reason::HandshakeRevoked)
    }
}

/// What a session does.
pub(crate) enum Kind {
    /// seam's engine: the two-invocation (D)TLS 1.2 operations.
    Engine(engine::State),
    /// The step interface, before its first versioned step.
    Undecided,
    Tls12(tls12::State),
    Tls13(tls13::State),
}

pub(crate) struct Session {
    id: SessionId,
    owner: ClientId,
    opened_ms: u64,
    steps_run: u16,
    pub role: Role,
    pub binding: Binding,
    pub ephemeral: Option<Zeroizing<[u8; 32]>>,
    pub ephemeral_public: Option<[u8; 65]>,
    pub kind: Kind,
}

impl Session {
    /// Generates the ephemeral P-256 key.
    fn ecdhe(&mut self, rng: &mut dyn Rng) -> Result<[u8; 65], Reason> {
        let private = crypto::sign::generate(rng).map_err(|_| Reason::RngFailure)?;
        let public = crypto::sign::public_key(&private).map_err(|_| Reason::Internal)?;
        self.ephemeral = Some(private);
        self.ephemeral_public = Some(public);
        Ok(public)
    }
}

/// The in-progress handshakes of one Secure Environment.
pub struct Handshakes {
    sessions: Vec<Session>,
    next_id: SessionId,
}

impl Default for Handshakes {
    fn default() -> Self {
        Self::new()
    }
}

/// A session operation's view of the platform.
pub(crate) struct Context<'a, S: Store> {
    pub store: &'a mut S,
    pub who: Identified,
    pub rng: &'a mut dyn Rng,
}

impl Handshakes {
    pub const fn new() -> Self {
        Handshakes {
            sessions: Vec::new(),
            next_id: 1,
        }
    }

    /// Sessions currently held (for tests and diagnostics).
    pub fn len(&self) -> usize {
        self.sessions.len()
    }

    pub fn is_empty(&self) -> bool {
        self.sessions.is_empty()
    }

    fn expired(s: &Session, now_ms: u64) -> bool {
        now_ms.saturating_sub(s.opened_ms) >= HANDSHAKE_LIFETIME_MS
    }

    fn purge_expired(&mut self, now_ms: u64) {
        self.sessions.retain(|s| !Self::expired(s, now_ms));
    }

    /// Wipes every session of `caller`.
    pub fn close_all(&mut self, caller: &Caller) {
        if let Ok(who) = access::identify(caller, None) {
            self.sessions
                .retain(|s| !access::owns_session(s.owner, who));
        }
    }

    /// Wipes every session whose SE, credential or grant is gone (or whose
    /// credential expired by `now`, Unix seconds): after an issuer or admin
    /// command changed what authorised them.
    pub fn revalidate<S: Store>(&mut self, store: &mut S, now: Option<u64>) {
        self.sessions.retain(|s| {
            access::identify(&Caller::Client(s.owner), now)
                .and_then(|who| s.binding.authorise(store, who))
                .is_ok()
        });
    }

    pub fn handle<S: Store>(
        &mut self,
        store: &mut S,
        rng: &mut dyn Rng,
        now_ms: u64,
        who: Identified,
        op: &HandshakeOp,
    ) -> Result<Reply, Reason> {
        let mut cx = Context { store, who, rng };
        match op {
            HandshakeOp::ClientOpen {
                framing,
                suites,
                psk,
                sign,
            } => {
                let (open, keys) = engine::client_open_keys(*framing, suites, psk, sign)?;
                let binding = Binding::new(cx.store, who, &keys)?;
                let id = self.insert(who, now_ms, Role::Client, binding)?;
                let r = self.with_session(&mut cx, who, id, now_ms, |s, _, cx| {
                    engine::client_open(s, cx, open)
                });
                r.map(Reply::Handshake)
            }
            HandshakeOp::ClientFinish { session, messages } => {
                let r = self.with_session(&mut cx, who, *session, now_ms, |s, record, _| {
                    engine::client_finish(s, &record, messages)
                });
                r.map(Reply::Handshake)
            }
            HandshakeOp::ServerOpen {
                framing,
                suite,
                client_hello,
                psks,
                sign,
            } => {
                let (open, keys) =
                    engine::server_open_keys(*framing, *suite, client_hello, psks, sign)?;
                let binding = Binding::new(cx.store, who, &keys)?;
                let id = self.insert(who, now_ms, Role::Server, binding)?;
                let r = self.with_session(&mut cx, who, id, now_ms, |s, record, cx| {
                    engine::server_open(s, &record, cx, open)
                });
                r.map(Reply::Handshake)
            }
            HandshakeOp::ServerFinish { session, messages } => {
                let r = self.with_session(&mut cx, who, *session, now_ms, |s, record, _| {
                    engine::server_finish(s, &record, messages)
                });
                r.map(Reply::Handshake)
            }
            HandshakeOp::Open { role, credential } => {
                let kind = credential_kind(cx.store, who, credential)?;
                let usage = if kind == ObjectKind::EcP256 {
                    Use::Sign
                } else {
                    Use::Bind
                };
                let bound = Bound {
                    key: credential.clone(),
                    kind,
                    usage,
                };
                let binding = Binding::new(cx.store, who, &[bound])?;
                let id = self.insert(who, now_ms, *role, binding)?;
                let r = self.with_session(&mut cx, who, id, now_ms, |s, _, cx| {
                    let public = s.ecdhe(cx.rng)?;
                    s.kind = Kind::Undecided;
                    Ok(HandshakeReply::Opened {
                        session: s.id,
                        public: seam_proto::PublicKey(public),
                    })
                });
                r.map(Reply::Handshake)
            }
            HandshakeOp::Steps { session, steps } => {
                if steps.is_empty() || steps.len() > MAX_STEPS {
                    return Err(Reason::InvalidParameter);
                }
                let r = self.with_session(&mut cx, who, *session, now_ms, |s, record, cx| {
                    let budget_left = MAX_SESSION_STEPS.saturating_sub(s.steps_run);
                    if steps.len() > usize::from(budget_left) {
                        return Err(Reason::HandshakeExpired);
                    }
                    s.steps_run += steps.len() as u16;
                    let mut out = HVec::new();
                    for step in steps {
                        let reply = run(s, &record, cx, step)?;
                        out.push(reply).map_err(|_| Reason::Internal)?;
                    }
                    Ok(out)
                });
                r.map(|replies| Reply::Handshake(HandshakeReply::Steps(replies)))
            }
            HandshakeOp::Tls12SignCertificateVerify { session, messages } => {
                let r = self.with_session(&mut cx, who, *session, now_ms, |s, record, _| {
                    tls12::sign_certificate_verify(s, &record, messages)
                });
                r.map(|sig| Reply::Signature(Signature(sig)))
            }
            HandshakeOp::Close { session } => {
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

    /// A new session for `who` bound to `binding`, within the quotas: at its
    /// own cap a caller loses its own oldest session; a full SE quota (or
    /// table) refuses, and never evicts another caller's session.
    fn insert(
        &mut self,
        who: Identified,
        now_ms: u64,
        role: Role,
        binding: Binding,
    ) -> Result<SessionId, Reason> {
        self.purge_expired(now_ms);
        let mine = self
            .sessions
            .iter()
            .filter(|s| access::owns_session(s.owner, who))
            .count();
        if mine >= MAX_HANDSHAKES_PER_CALLER {
            // Sessions are kept in opening order: the first of ours is the oldest.
            if let Some(i) = self
                .sessions
                .iter()
                .position(|s| access::owns_session(s.owner, who))
            {
                self.sessions.remove(i);
            }
        }
        let in_se = self
            .sessions
            .iter()
            .filter(|s| s.binding.se == binding.se)
            .count();
        if in_se >= MAX_HANDSHAKES_PER_SE || self.sessions.len() >= MAX_HANDSHAKES {
            return Err(Reason::LimitReached);
        }
        // A failed allocation would abort the TA for every caller: refuse
        // this one instead (found by 16 clients holding 64 sessions).
        self.sessions
            .try_reserve(1)
            .map_err(|_| Reason::LimitReached)?;
        let id = self.next_id;
        self.next_id = self.next_id.wrapping_add(1).max(1);
        self.sessions.push(Session {
            id,
            owner: who.id(),
            opened_ms: now_ms,
            steps_run: 0,
            role,
            binding,
            ephemeral: None,
            ephemeral_public: None,
            kind: Kind::Undecided,
        });
        Ok(id)
    }

    /// Runs `f` on the caller's session after the checks every operation
    /// gets (owner, lifetime, and the binding re-read from the store); any
    /// failure wipes the session.
    fn with_session<S: Store, T>(
        &mut self,
        cx: &mut Context<'_, S>,
        who: Identified,
        id: SessionId,
        now_ms: u64,
        f: impl FnOnce(&mut Session, SeRecord, &mut Context<'_, S>) -> Result<T, Reason>,
    ) -> Result<T, Reason> {
        let index = self
            .sessions
            .iter()
            .position(|s| s.id == id && access::owns_session(s.owner, who))
            .ok_or(Reason::UnknownHandshake)?;
        let session = &mut self.sessions[index];
        let result = if Self::expired(session, now_ms) {
            Err(Reason::HandshakeExpired)
        } else {
            match session.binding.authorise(cx.store, cx.who) {
                Ok(record) => f(session, record, cx),
                Err(e) => Err(e),
            }
        };
        if result.is_err() {
            // Drop zeroizes the session's secrets.
            self.sessions.remove(index);
        }
        result
    }
}

/// The kind of a credential the caller may use for `HANDSHAKE` (a P-256
/// key or a secret); refusals as for any use.
fn credential_kind<S: Store>(
    store: &mut S,
    who: Identified,
    key: &KeyRef,
) -> Result<ObjectKind, Reason> {
    match with_key(store, who, key, Ops::HANDSHAKE, ObjectKind::EcP256, |_| {
        Ok(())
    }) {
        Ok(()) => Ok(ObjectKind::EcP256),
        Err(Reason::WrongObjectKind) => {
            with_key(store, who, key, Ops::HANDSHAKE, ObjectKind::Secret, |_| {
                Ok(())
            })?;
            Ok(ObjectKind::Secret)
        }
        Err(e) => Err(e),
    }
}

fn run<S: Store>(
    session: &mut Session,
    record: &SeRecord,
    cx: &mut Context<'_, S>,
    step: &Step,
) -> Result<StepReply, Reason> {
    use Step::*;
    match step {
        Tls12SignServerKeyExchange { .. }
        | Tls12MasterSecret { .. }
        | Tls12KeyBlock { .. }
        | Tls12Finished { .. }
        | Tls12Export { .. } => tls12::run(session, record, step),
        Tls13Handshake { .. }
        | Tls13SignCertificateVerify { .. }
        | Tls13Finished { .. }
        | Tls13Application { .. }
        | Tls13KeyUpdate { .. }
        | Tls13Export { .. } => tls13::run(session, record, step),
        ExportKey {
            label,
            object,
            suid,
        } => {
            // ECDHE-ECDSA: the session ran ECDHE and no PSK (ESCertKE is
            // defined for certificate-based sessions only).
            let certificate_session = match &session.kind {
                Kind::Engine(state) => state.certificate_session()?,
                // The step interface is ECDHE always; certificate-based
                // when its credential is our certificate's key.
                Kind::Tls12(_) | Kind::Tls13(_) => session.binding.has(&Use::Sign),
                Kind::Undecided => return Err(Reason::StepOutOfOrder),
            };
            let (key_suid, role) = access::check_export(
                Some(session.binding.suid),
                *label,
                certificate_session,
                *suid,
            )?;
            let output = match &mut session.kind {
                Kind::Engine(state) => state.export_onem2m(label.label().as_bytes())?,
                Kind::Tls12(state) => state.export_onem2m(label.label().as_bytes())?,
                Kind::Tls13(state) => state.export_onem2m(label.label().as_bytes())?,
                Kind::Undecided => return Err(Reason::StepOutOfOrder),
            };
            // TS-0003 §10.3: the 16 most significant bytes are the
            // RelativeKeID, the 32 least significant the key.
            let mut relative_id = [0u8; 16];
            relative_id.copy_from_slice(&output[..16]);
            // The grant was re-checked for this invocation; the key goes
            // into the very SE instance that authorised the session, and
            // expires no later than any credential the session was bound to.
            let attributes = seam_proto::KeyAttributes {
                role,
                not_after: session.binding.not_after(record),
            };
            let info = derive::store_key(
                cx.store,
                cx.who,
                (&session.binding.se, session.binding.instance),
                object,
                key_suid,
                attributes,
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

/// RFC 4279 §2 premaster of a PSK: u16 N ‖ N zeros ‖ u16 N ‖ psk.
pub(crate) fn psk_premaster(psk: &[u8]) -> Result<Zeroizing<Vec<u8>>, Reason> {
    let n = u16::try_from(psk.len()).map_err(|_| Reason::StorageCorrupt)?;
    let mut p = Zeroizing::new(Vec::with_capacity(4 + 2 * psk.len()));
    p.extend_from_slice(&n.to_be_bytes());
    p.resize(2 + psk.len(), 0);
    p.extend_from_slice(&n.to_be_bytes());
    p.extend_from_slice(psk);
    Ok(p)
}
