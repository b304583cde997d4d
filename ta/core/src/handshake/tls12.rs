//! (D)TLS 1.2 handshake steps (RFC 5246, RFC 6347, RFC 4279, RFC 8422,
//! RFC 7627, RFC 5705) for the PSK and ECDHE_ECDSA suites, any record
//! protection (the key block length is the engine's).
//!
//! Order, per session: `ServerKeyExchange` (server, ECDHE, optional) →
//! `MasterSecret` → `KeyBlock` → the Finished steps (`Finished` for either
//! side, or `ClientFlight` then `VerifyServerFinished` for a client) →
//! `Export` / `ExportKey` once both Finished are done. Every step but
//! `Export` is one-shot. The ephemeral ECDH key is wiped as soon as the
//! premaster secret is computed, the premaster as soon as the master secret is.

use seam_proto::handshake::{MasterSeed, Role, Step, StepReply, MAX_EXPORT, MAX_KEY_BLOCK};
use seam_proto::{Reason, Signature};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use super::{exportable_label, Session, Version};
use crate::crypto::hash::{sha256_parts, Sha256Midstate};
use crate::crypto::{kx, prf::tls12_prf_sha256, sign};

/// Handshake message types (RFC 5246 §7.4).
const CERTIFICATE_VERIFY: u8 = 15;
const FINISHED: u8 = 20;
/// SignatureAndHashAlgorithm {sha256, ecdsa} (RFC 5246 §7.4.1.4.1).
const ECDSA_SHA256: [u8; 2] = [0x04, 0x03];
/// ServerECDHParams prefix: named_curve (3), secp256r1 (23), point length 65.
const NAMED_CURVE_P256: [u8; 4] = [0x03, 0x00, 0x17, 65];

#[derive(Default)]
pub(crate) struct State {
    master: Option<Zeroizing<[u8; 48]>>,
    /// client_random, server_random.
    randoms: Option<([u8; 32], [u8; 32])>,
    ske_done: bool,
    key_block_done: bool,
    /// Finished done, `[client, server]`.
    finished: [bool; 2],
    flight_done: bool,
    expected_server: Option<Zeroizing<[u8; 12]>>,
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

    /// The oneM2M exporter output (RFC 5705 without context, 48 bytes).
    pub(crate) fn export_onem2m(&mut self, label: &[u8]) -> Result<Zeroizing<[u8; 48]>, Reason> {
        if !self.established() {
            return Err(Reason::StepOutOfOrder);
        }
        let (c, s) = self.randoms.ok_or(Reason::StepOutOfOrder)?;
        let mut out = Zeroizing::new([0u8; 48]);
        tls12_prf_sha256(self.master()?, label, &[&c, &s], out.as_mut());
        Ok(out)
    }
}

/// A handshake message header: TLS (type, u24 length) or DTLS (type, u24
/// length, u16 message_seq, u24 fragment_offset 0, u24 fragment_length).
fn message(
    kind: u8,
    body: &[&[u8]],
    dtls_seq: Option<u16>,
) -> Result<heapless::Vec<u8, { seam_proto::handshake::MAX_HS_MESSAGE }>, Reason> {
    let len: usize = body.iter().map(|b| b.len()).sum();
    let len24 = [(len >> 16) as u8, (len >> 8) as u8, len as u8];
    let mut out = heapless::Vec::new();
    let mut put = |b: &[u8]| out.extend_from_slice(b);
    put(&[kind])?;
    put(&len24)?;
    if let Some(seq) = dtls_seq {
        put(&seq.to_be_bytes())?;
        put(&[0, 0, 0])?;
        put(&len24)?;
    }
    for b in body {
        put(b)?;
    }
    Ok(out)
}

fn verify_data(master: &[u8; 48], side: Role, transcript: &[u8; 32]) -> Zeroizing<[u8; 12]> {
    let label: &[u8] = match side {
        Role::Client => b"client finished",
        Role::Server => b"server finished",
    };
    let mut out = Zeroizing::new([0u8; 12]);
    tls12_prf_sha256(master, label, &[transcript], out.as_mut());
    out
}

pub(crate) fn run(session: &mut Session, step: &Step) -> Result<StepReply, Reason> {
    if let Version::Undecided = session.version {
        // TLS 1.2 has no psk_dhe_ke here: exactly one key exchange.
        if session.psk.is_some() == session.ephemeral.is_some() {
            return Err(Reason::InvalidParameter);
        }
        session.version = Version::Tls12(State::default());
    }
    let Session {
        version,
        role,
        psk,
        sign: sign_key,
        ephemeral,
        ephemeral_public,
        ..
    } = session;
    let Version::Tls12(state) = version else {
        return Err(Reason::StepOutOfOrder);
    };
    match step {
        Step::Tls12ServerKeyExchange {
            client_random,
            server_random,
        } => {
            let (Some(key), Some(public)) = (sign_key.as_ref(), ephemeral_public.as_ref()) else {
                return Err(Reason::InvalidParameter);
            };
            if *role != Role::Server || state.ske_done || state.master.is_some() {
                return Err(Reason::StepOutOfOrder);
            }
            let digest = sha256_parts(&[client_random, server_random, &NAMED_CURVE_P256, public]);
            let sig = sign::sign_digest(key, &digest).map_err(|_| Reason::StorageCorrupt)?;
            state.ske_done = true;
            Ok(StepReply::Signature(Signature(sig)))
        }
        Step::Tls12MasterSecret { peer_public, seed } => {
            if state.master.is_some() {
                return Err(Reason::StepOutOfOrder);
            }
            let premaster: Zeroizing<alloc::vec::Vec<u8>> = match (psk.as_ref(), peer_public) {
                (Some(psk), None) => {
                    // RFC 4279 §2: u16 N ‖ N zeros ‖ u16 N ‖ psk.
                    let n = u16::try_from(psk.len()).map_err(|_| Reason::StorageCorrupt)?;
                    let mut p = Zeroizing::new(alloc::vec::Vec::with_capacity(4 + 2 * psk.len()));
                    p.extend_from_slice(&n.to_be_bytes());
                    p.resize(2 + psk.len(), 0);
                    p.extend_from_slice(&n.to_be_bytes());
                    p.extend_from_slice(psk);
                    p
                }
                (None, Some(peer)) => {
                    let private = ephemeral.as_ref().ok_or(Reason::StepOutOfOrder)?;
                    let shared = kx::ecdh(private, peer.as_bytes())?;
                    Zeroizing::new(shared.to_vec())
                }
                _ => return Err(Reason::InvalidParameter),
            };
            // Forward secrecy: the ephemeral key is of no further use.
            *ephemeral = None;
            let mut master = Zeroizing::new([0u8; 48]);
            match seed {
                MasterSeed::Randoms {
                    client_random,
                    server_random,
                } => {
                    state.set_randoms(client_random, server_random)?;
                    tls12_prf_sha256(
                        &premaster,
                        b"master secret",
                        &[client_random, server_random],
                        master.as_mut(),
                    );
                }
                MasterSeed::Extended { session_hash } => tls12_prf_sha256(
                    &premaster,
                    b"extended master secret",
                    &[session_hash.as_bytes()],
                    master.as_mut(),
                ),
            }
            state.master = Some(master);
            Ok(StepReply::Done)
        }
        Step::Tls12KeyBlock {
            client_random,
            server_random,
            len,
        } => {
            let len = usize::from(*len);
            if len == 0 || len > MAX_KEY_BLOCK {
                return Err(Reason::InvalidParameter);
            }
            if state.key_block_done {
                return Err(Reason::StepOutOfOrder);
            }
            state.set_randoms(client_random, server_random)?;
            let mut block = Zeroizing::new([0u8; MAX_KEY_BLOCK]);
            tls12_prf_sha256(
                state.master()?,
                b"key expansion",
                &[server_random, client_random],
                &mut block[..len],
            );
            state.key_block_done = true;
            let out = heapless::Vec::from_slice(&block[..len])?;
            Ok(StepReply::KeyBlock(out))
        }
        Step::Tls12Finished {
            side,
            transcript,
            expect,
        } => {
            let i = side_index(*side);
            if state.finished[i] || state.flight_done {
                return Err(Reason::StepOutOfOrder);
            }
            let vd = verify_data(state.master()?, *side, transcript.as_bytes());
            state.finished[i] = true;
            match expect {
                Some(peer) => {
                    if bool::from(vd.ct_eq(peer)) {
                        Ok(StepReply::Verified)
                    } else {
                        Err(Reason::FinishedMismatch)
                    }
                }
                None => Ok(StepReply::VerifyData(heapless::Vec::from_slice(&vd[..])?)),
            }
        }
        Step::Tls12ClientFlight {
            transcript,
            certificate_verify,
            dtls_message_seq,
        } => {
            if *role != Role::Client || state.flight_done || state.finished != [false, false] {
                return Err(Reason::StepOutOfOrder);
            }
            let master = state.master()?;
            let mut hash =
                Sha256Midstate::import(&transcript.state, transcript.length, &transcript.tail)
                    .ok_or(Reason::InvalidParameter)?;
            let mut seq = *dtls_message_seq;
            let cv = if *certificate_verify {
                let key = sign_key.as_ref().ok_or(Reason::InvalidParameter)?;
                let sig =
                    sign::sign_digest(key, &hash.finish()).map_err(|_| Reason::StorageCorrupt)?;
                let (der, der_len) = sign::signature_to_der(&sig);
                let der = &der[..der_len];
                let msg = message(
                    CERTIFICATE_VERIFY,
                    &[&ECDSA_SHA256, &(der.len() as u16).to_be_bytes(), der],
                    seq,
                )?;
                hash.update(&msg);
                seq = seq.map(|s| s.wrapping_add(1));
                Some(msg)
            } else {
                None
            };
            let vd = verify_data(master, Role::Client, &hash.finish());
            let finished = message(FINISHED, &[&vd[..]], seq)?;
            hash.update(&finished);
            let expected = verify_data(master, Role::Server, &hash.finish());
            state.expected_server = Some(expected);
            state.flight_done = true;
            state.finished[0] = true;
            Ok(StepReply::ClientFlight {
                certificate_verify: cv,
                finished,
            })
        }
        Step::Tls12VerifyServerFinished { verify_data } => {
            let expected = match (&state.expected_server, state.finished[1]) {
                (Some(e), false) => e,
                _ => return Err(Reason::StepOutOfOrder),
            };
            if bool::from(expected.ct_eq(verify_data)) {
                state.finished[1] = true;
                Ok(StepReply::Verified)
            } else {
                Err(Reason::FinishedMismatch)
            }
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
            if !state.established() {
                return Err(Reason::StepOutOfOrder);
            }
            let (c, s) = state.randoms.ok_or(Reason::StepOutOfOrder)?;
            let mut out = heapless::Vec::<u8, MAX_EXPORT>::new();
            out.resize(len, 0)?;
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
