//! TLS 1.2 for the step interface (rustls), and the TLS 1.2 computations
//! both interfaces share (RFC 5246, RFC 8422, RFC 7627, RFC 5705).
//!
//! Step interface sessions are always ECDHE with the TA's fresh key, so a
//! caller that replays another's public values computes with another
//! premaster. Order: `SignServerKeyExchange` (server, optional, before the
//! master secret) → `MasterSecret` → `KeyBlock` → `Finished` of each side →
//! `Export` / `ExportKey`. A client's CertificateVerify is
//! [`sign_certificate_verify`], over a transcript it checks.

use seam_proto::handshake::{MasterSeed, Role, Step, StepReply, MAX_EXPORT, MAX_KEY_BLOCK};
use seam_proto::{Reason, Signature};
use zeroize::Zeroizing;

use super::{exportable_label, Kind, Session, Use};
use crate::crypto::framing::{self, kind, Framing, Messages, NAMED_CURVE_P256};
use crate::crypto::hash::{sha256, sha256_parts};
use crate::crypto::{kx, prf::tls12_prf_sha256, sign};
use crate::records::SeRecord;

pub(crate) type Master = Zeroizing<[u8; 48]>;

/// The master secret (RFC 5246 §8.1, or RFC 7627 with the session hash).
pub(crate) fn master_secret(
    premaster: &[u8],
    session_hash: Option<&[u8; 32]>,
    client_random: &[u8; 32],
    server_random: &[u8; 32],
) -> Master {
    let mut master = Zeroizing::new([0u8; 48]);
    match session_hash {
        Some(h) => tls12_prf_sha256(premaster, b"extended master secret", &[h], master.as_mut()),
        None => tls12_prf_sha256(
            premaster,
            b"master secret",
            &[client_random, server_random],
            master.as_mut(),
        ),
    }
    master
}

/// The key block (RFC 5246 §6.3): MAC keys, write keys, IVs.
pub(crate) fn key_block(
    master: &[u8; 48],
    client_random: &[u8; 32],
    server_random: &[u8; 32],
    len: usize,
) -> Result<heapless::Vec<u8, MAX_KEY_BLOCK>, Reason> {
    if len == 0 || len > MAX_KEY_BLOCK {
        return Err(Reason::InvalidParameter);
    }
    let mut block = Zeroizing::new([0u8; MAX_KEY_BLOCK]);
    tls12_prf_sha256(
        master,
        b"key expansion",
        &[server_random, client_random],
        &mut block[..len],
    );
    heapless::Vec::from_slice(&block[..len]).map_err(|_| Reason::Internal)
}

/// Finished verify_data of `side` over the handshake hash.
pub(crate) fn verify_data(master: &[u8; 48], side: Role, hash: &[u8; 32]) -> [u8; 12] {
    let label: &[u8] = match side {
        Role::Client => b"client finished",
        Role::Server => b"server finished",
    };
    let mut out = [0u8; 12];
    tls12_prf_sha256(master, label, &[hash], &mut out);
    out
}

/// The oneM2M exporter output (RFC 5705 without context, 48 bytes).
pub(crate) fn export_onem2m(
    master: &[u8; 48],
    client_random: &[u8; 32],
    server_random: &[u8; 32],
    label: &[u8],
) -> Zeroizing<[u8; 48]> {
    let mut out = Zeroizing::new([0u8; 48]);
    tls12_prf_sha256(master, label, &[client_random, server_random], out.as_mut());
    out
}

/// A handshake message with its TLS or DTLS header.
pub(crate) fn message(
    framing: Framing,
    kind: u8,
    body: &[&[u8]],
    seq: u16,
) -> Result<heapless::Vec<u8, { seam_proto::handshake::MAX_HS_MESSAGE }>, Reason> {
    let len: usize = body.iter().map(|b| b.len()).sum();
    let mut header = [0u8; 12];
    let n = framing::header(framing, kind, len, seq, &mut header);
    let mut out = heapless::Vec::new();
    out.extend_from_slice(&header[..n])
        .map_err(|_| Reason::Internal)?;
    for b in body {
        out.extend_from_slice(b).map_err(|_| Reason::Internal)?;
    }
    Ok(out)
}

/// A CertificateVerify body: ecdsa_secp256r1_sha256, then the DER signature.
pub(crate) fn certificate_verify_body(
    key: &[u8; 32],
    hash: &[u8; 32],
) -> Result<heapless::Vec<u8, 80>, Reason> {
    let sig = sign::sign_digest(key, hash).map_err(|_| Reason::StorageCorrupt)?;
    let (der, der_len) = sign::signature_to_der(&sig);
    let der = der.get(..der_len).ok_or(Reason::Internal)?;
    let mut body = heapless::Vec::new();
    let mut put = |b: &[u8]| body.extend_from_slice(b).map_err(|_| Reason::Internal);
    put(&[0x04, 0x03])?;
    put(&(der.len() as u16).to_be_bytes())?;
    put(der)?;
    Ok(body)
}

#[derive(Default)]
pub(crate) struct State {
    master: Option<Master>,
    /// client_random, server_random.
    randoms: Option<([u8; 32], [u8; 32])>,
    ske_done: bool,
    cv_done: bool,
    key_block_done: bool,
    /// Finished computed, `[client, server]`.
    finished: [bool; 2],
}

fn side_index(side: Role) -> usize {
    match side {
        Role::Client => 0,
        Role::Server => 1,
    }
}

impl State {
    fn established(&self) -> bool {
        self.finished == [true, true]
    }

    fn master(&self) -> Result<&[u8; 48], Reason> {
        self.master.as_deref().ok_or(Reason::StepOutOfOrder)
    }

    fn set_randoms(&mut self, client: &[u8; 32], server: &[u8; 32]) -> Result<(), Reason> {
        match &self.randoms {
            Some((c, s)) if c != client || s != server => Err(Reason::InvalidParameter),
            _ => {
                self.randoms = Some((*client, *server));
                Ok(())
            }
        }
    }

    pub(crate) fn export_onem2m(&mut self, label: &[u8]) -> Result<Zeroizing<[u8; 48]>, Reason> {
        if !self.established() {
            return Err(Reason::StepOutOfOrder);
        }
        let (c, s) = self.randoms.ok_or(Reason::StepOutOfOrder)?;
        Ok(export_onem2m(self.master()?, &c, &s, label))
    }
}

fn state(session: &mut Session) -> Result<&mut State, Reason> {
    if let Kind::Undecided = session.kind {
        session.kind = Kind::Tls12(State::default());
    }
    match &mut session.kind {
        Kind::Tls12(state) => Ok(state),
        _ => Err(Reason::StepOutOfOrder),
    }
}

/// TLS 1.2 client CertificateVerify on the step interface: `messages` must
/// be a TLS transcript from a ClientHello to a ClientKeyExchange that
/// carries this session's ephemeral key, which makes the signed hash one
/// that no other session, and no caller's choice, can produce.
pub(crate) fn sign_certificate_verify(
    session: &mut Session,
    record: &SeRecord,
    messages: &[u8],
) -> Result<[u8; 64], Reason> {
    if session.role != Role::Client {
        return Err(Reason::StepOutOfOrder);
    }
    let key = session.binding.signing_key(record)?;
    let public = session.ephemeral_public.ok_or(Reason::StepOutOfOrder)?;
    let state = state(session)?;
    if state.cv_done || state.finished != [false, false] {
        return Err(Reason::StepOutOfOrder);
    }
    let mut first = None;
    let mut last = None;
    for m in Messages::new(Framing::Tls, messages) {
        let m = m.map_err(|_| Reason::BadTranscript)?;
        if first.is_none() {
            first = Some(m.kind);
        }
        last = Some(m);
    }
    let last = last.ok_or(Reason::BadTranscript)?;
    if first != Some(kind::CLIENT_HELLO) || last.kind != kind::CLIENT_KEY_EXCHANGE {
        return Err(Reason::BadTranscript);
    }
    let point = framing::ecdhe_client_point(last.body).map_err(|_| Reason::BadTranscript)?;
    if point != public {
        return Err(Reason::BadTranscript);
    }
    let sig = sign::sign_digest(&key, &sha256(messages)).map_err(|_| Reason::StorageCorrupt)?;
    state.cv_done = true;
    Ok(sig)
}

pub(crate) fn run(
    session: &mut Session,
    record: &SeRecord,
    step: &Step,
) -> Result<StepReply, Reason> {
    let role = session.role;
    match step {
        Step::Tls12SignServerKeyExchange {
            client_random,
            server_random,
        } => {
            let key = session.binding.signing_key(record)?;
            let public = session.ephemeral_public.ok_or(Reason::StepOutOfOrder)?;
            let state = state(session)?;
            if role != Role::Server || state.ske_done || state.master.is_some() {
                return Err(Reason::StepOutOfOrder);
            }
            state.set_randoms(client_random, server_random)?;
            // The params are ours: named curve P-256 and our fresh point.
            let digest = sha256_parts(&[client_random, server_random, &NAMED_CURVE_P256, &public]);
            let sig = sign::sign_digest(&key, &digest).map_err(|_| Reason::StorageCorrupt)?;
            state.ske_done = true;
            Ok(StepReply::Signature(Signature(sig)))
        }
        Step::Tls12MasterSecret { peer_public, seed } => {
            let private = session.ephemeral.take().ok_or(Reason::StepOutOfOrder)?;
            let state = state(session)?;
            if state.master.is_some() {
                return Err(Reason::StepOutOfOrder);
            }
            let shared =
                kx::ecdh(&private, peer_public.as_bytes()).map_err(|_| Reason::InvalidPublicKey)?;
            // Forward secrecy: `private` is dropped (zeroized) here.
            drop(private);
            let master = match seed {
                MasterSeed::Randoms {
                    client_random,
                    server_random,
                } => {
                    state.set_randoms(client_random, server_random)?;
                    master_secret(shared.as_ref(), None, client_random, server_random)
                }
                MasterSeed::Extended { session_hash } => master_secret(
                    shared.as_ref(),
                    Some(session_hash.as_bytes()),
                    &[0; 32],
                    &[0; 32],
                ),
            };
            state.master = Some(master);
            Ok(StepReply::Done)
        }
        Step::Tls12KeyBlock {
            client_random,
            server_random,
            len,
        } => {
            let state = state(session)?;
            if state.key_block_done {
                return Err(Reason::StepOutOfOrder);
            }
            state.set_randoms(client_random, server_random)?;
            let block = key_block(
                state.master()?,
                client_random,
                server_random,
                usize::from(*len),
            )?;
            state.key_block_done = true;
            Ok(StepReply::KeyBlock(block))
        }
        Step::Tls12Finished { side, transcript } => {
            // Not one-shot: a verify_data under this session's own master
            // secret is worth nothing elsewhere, and rustls's provider may
            // compute one ahead on a guess of the hash.
            let state = state(session)?;
            let i = side_index(*side);
            let vd = verify_data(state.master()?, *side, transcript.as_bytes());
            state.finished[i] = true;
            Ok(StepReply::VerifyData(
                heapless::Vec::from_slice(&vd).map_err(|_| Reason::Internal)?,
            ))
        }
        Step::Tls12Export {
            label,
            context,
            len,
        } => {
            exportable_label(label)?;
            let len = usize::from(*len);
            if len == 0 || len > MAX_EXPORT {
                return Err(Reason::InvalidParameter);
            }
            let state = state(session)?;
            if !state.established() {
                return Err(Reason::StepOutOfOrder);
            }
            let (c, s) = state.randoms.ok_or(Reason::StepOutOfOrder)?;
            let mut out = seam_proto::HeapVec::<u8, MAX_EXPORT>::new();
            out.resize(len, 0).map_err(|_| Reason::Internal)?;
            match context {
                None => tls12_prf_sha256(state.master()?, label, &[&c, &s], &mut out),
                Some(ctx) => tls12_prf_sha256(
                    state.master()?,
                    label,
                    &[&c, &s, &(ctx.len() as u16).to_be_bytes(), ctx],
                    &mut out,
                ),
            }
            Ok(StepReply::Exported(out))
        }
        _ => Err(Reason::StepOutOfOrder),
    }
}

/// The binding usage of a client's own PSK.
pub(crate) fn own_psk() -> Use {
    Use::Psk(heapless::Vec::new())
}
