//! The (D)TLS 1.2 handshake of seam's engine in two invocations per role
//! (RFC 5246 §7, RFC 6347 §4.2, RFC 4279, RFC 8422, RFC 7627).
//!
//! Open: the TA chooses its random (and, for ECDHE, its ephemeral key; a
//! server signs its ServerKeyExchange over its own random and point).
//! Finish: the caller passes every handshake message as it entered the
//! transcript; the TA walks them in the order RFC 5246 §7.3 allows, checks
//! that they are this session's (its random in the hello it sent, the
//! ClientHello it was opened with, its point in the key exchange it sent, a
//! suite it allows), hashes them itself, and computes everything from
//! there: premaster, master secret (extended when the ServerHello says
//! so), key block, a client's CertificateVerify, both Finished.

use heapless::Vec as HVec;
use seam_proto::handshake::{
    suites, Framing as WireFraming, HandshakeReply, PskCandidate, Role, ServerEcdhe, MAX_KEY_BLOCK,
    MAX_SUITES,
};
use seam_proto::{KeyRef, ObjectKind, PublicKey, Reason, Signature};
use zeroize::Zeroizing;

use super::tls12::{self, certificate_verify_body, key_block, master_secret, message, verify_data};
use super::{psk_premaster, Bound, Context, Kind, Session, Use};
use crate::crypto::framing::{self, kind, Framing, Message, Messages, NAMED_CURVE_P256};
use crate::crypto::hash::{sha256, sha256_parts, Sha256Midstate};
use crate::crypto::{kx, sign};
use crate::records::SeRecord;
use crate::store::Store;

fn framing_of(f: WireFraming) -> Framing {
    match f {
        WireFraming::Tls => Framing::Tls,
        WireFraming::Dtls => Framing::Dtls,
    }
}

/// ProtocolVersion of TLS 1.2 and DTLS 1.2.
fn version(f: Framing) -> u16 {
    match f {
        Framing::Tls => 0x0303,
        Framing::Dtls => 0xFEFD,
    }
}

fn bad<T>(_: T) -> Reason {
    Reason::BadTranscript
}

/// After the finish: what the exporter needs.
struct Established {
    master: tls12::Master,
    client_random: [u8; 32],
    server_random: [u8; 32],
    /// An ECDHE-ECDSA suite was negotiated (no PSK).
    certificate: bool,
}

pub(crate) struct State {
    framing: Framing,
    /// Our random (the client's or the server's).
    random: [u8; 32],
    /// Client: the suites allowed; server: the one chosen.
    suites: HVec<u16, MAX_SUITES>,
    /// Server: the ClientHello the session was opened with.
    client_hello: Option<([u8; 32], [u8; 32])>,
    done: Option<Established>,
}

impl State {
    /// Was the completed handshake certificate-based (ECDHE-ECDSA)?
    pub(crate) fn certificate_session(&self) -> Result<bool, Reason> {
        Ok(self
            .done
            .as_ref()
            .ok_or(Reason::StepOutOfOrder)?
            .certificate)
    }

    pub(crate) fn export_onem2m(&mut self, label: &[u8]) -> Result<Zeroizing<[u8; 48]>, Reason> {
        let e = self.done.as_ref().ok_or(Reason::StepOutOfOrder)?;
        Ok(tls12::export_onem2m(
            &e.master,
            &e.client_random,
            &e.server_random,
            label,
        ))
    }
}

/// The walk over a transcript: messages in order, hashed as they go.
struct Walk<'a> {
    it: Messages<'a>,
    peeked: Option<Message<'a>>,
    hash: Sha256Midstate,
}

impl<'a> Walk<'a> {
    fn new(framing: Framing, bytes: &'a [u8]) -> Self {
        Walk {
            it: Messages::new(framing, bytes),
            peeked: None,
            hash: Sha256Midstate::new(),
        }
    }

    fn peek(&mut self) -> Result<Option<&Message<'a>>, Reason> {
        if self.peeked.is_none() {
            self.peeked = self.it.next().transpose().map_err(bad)?;
        }
        Ok(self.peeked.as_ref())
    }

    /// The next message if it is of `kind` (hashed), else None.
    fn take_if(&mut self, kind: u8) -> Result<Option<Message<'a>>, Reason> {
        match self.peek()? {
            Some(m) if m.kind == kind => {
                let m = self.peeked.take().ok_or(Reason::Internal)?;
                self.hash.update(m.raw);
                Ok(Some(m))
            }
            _ => Ok(None),
        }
    }

    fn expect(&mut self, kind: u8) -> Result<Message<'a>, Reason> {
        self.take_if(kind)?.ok_or(Reason::BadTranscript)
    }

    fn end(&mut self) -> Result<(), Reason> {
        match self.peek()? {
            None => Ok(()),
            Some(_) => Err(Reason::BadTranscript),
        }
    }
}

/// What a client open will do, checked before any credential is read.
pub(crate) struct ClientOpenArgs {
    framing: Framing,
    suites: HVec<u16, MAX_SUITES>,
    ecdhe: bool,
}

pub(crate) fn client_open_keys(
    framing: WireFraming,
    allowed: &[u16],
    psk: &Option<KeyRef>,
    sign: &Option<KeyRef>,
) -> Result<(ClientOpenArgs, HVec<Bound, 2>), Reason> {
    let mut any_psk = false;
    let mut any_ecdhe = false;
    for s in allowed {
        match suites::info(*s) {
            Some((true, _)) => any_psk = true,
            Some((false, _)) => any_ecdhe = true,
            None => return Err(Reason::InvalidParameter),
        }
    }
    if allowed.is_empty() || (any_psk && psk.is_none()) || (psk.is_none() && sign.is_none()) {
        // A PSK suite needs the PSK; any session needs a credential to bind it.
        return Err(Reason::InvalidParameter);
    }
    let mut keys = HVec::new();
    if let Some(k) = psk {
        let b = Bound {
            key: k.clone(),
            kind: ObjectKind::Secret,
            usage: tls12::own_psk(),
        };
        keys.push(b).map_err(|_| Reason::Internal)?;
    }
    if let Some(k) = sign {
        let b = Bound {
            key: k.clone(),
            kind: ObjectKind::EcP256,
            usage: Use::Sign,
        };
        keys.push(b).map_err(|_| Reason::Internal)?;
    }
    Ok((
        ClientOpenArgs {
            framing: framing_of(framing),
            suites: HVec::from_slice(allowed).map_err(|_| Reason::InvalidParameter)?,
            ecdhe: any_ecdhe,
        },
        keys,
    ))
}

pub(crate) fn client_open<S: Store>(
    s: &mut Session,
    cx: &mut Context<'_, S>,
    args: ClientOpenArgs,
) -> Result<HandshakeReply, Reason> {
    let mut random = [0u8; 32];
    cx.rng.fill(&mut random).map_err(|_| Reason::RngFailure)?;
    let public = if args.ecdhe {
        Some(PublicKey(s.ecdhe(cx.rng)?))
    } else {
        None
    };
    s.kind = Kind::Engine(State {
        framing: args.framing,
        random,
        suites: args.suites,
        client_hello: None,
        done: None,
    });
    Ok(HandshakeReply::ClientOpened {
        session: s.id,
        random,
        public,
    })
}

fn engine_state(s: &mut Session, role: Role) -> Result<&mut State, Reason> {
    match &mut s.kind {
        Kind::Engine(state) if s.role == role && state.done.is_none() => Ok(state),
        _ => Err(Reason::StepOutOfOrder),
    }
}

fn key_block_len(suite: u16) -> Result<(bool, usize), Reason> {
    let (psk, len) = suites::info(suite).ok_or(Reason::BadTranscript)?;
    Ok((psk, usize::from(len)))
}

fn offers_ems(ch: &framing::ClientHello<'_>) -> Result<bool, Reason> {
    Ok(
        framing::find_extension(ch.extensions, framing::EXT_EXTENDED_MASTER_SECRET)
            .map_err(bad)?
            .is_some(),
    )
}

pub(crate) fn client_finish(
    s: &mut Session,
    record: &SeRecord,
    messages: &[u8],
) -> Result<HandshakeReply, Reason> {
    let public = s.ephemeral_public;
    let ephemeral = s.ephemeral.take();
    let binding_psk = if s.binding.has(&tls12::own_psk()) {
        Some(Zeroizing::new(
            s.binding.secret(record, &tls12::own_psk())?.to_vec(),
        ))
    } else {
        None
    };
    let sign_key = if s.binding.has(&Use::Sign) {
        Some(s.binding.signing_key(record)?)
    } else {
        None
    };
    let state = engine_state(s, Role::Client)?;
    let f = state.framing;
    let mut w = Walk::new(f, messages);

    let ch_msg = w.expect(kind::CLIENT_HELLO)?;
    let ch = framing::client_hello(f, ch_msg.body).map_err(bad)?;
    if ch.random != state.random || ch.version != version(f) {
        return Err(Reason::BadTranscript);
    }
    let sh = framing::server_hello(w.expect(kind::SERVER_HELLO)?.body).map_err(bad)?;
    if sh.version != version(f) || !state.suites.contains(&sh.suite) || !ch.offers(sh.suite) {
        return Err(Reason::BadTranscript);
    }
    if sh.extended_master_secret && !offers_ems(&ch)? {
        return Err(Reason::BadTranscript);
    }
    let (psk_suite, block_len) = key_block_len(sh.suite)?;
    let mut server_point = None;
    let mut certificate_request = false;
    if psk_suite {
        w.take_if(kind::SERVER_KEY_EXCHANGE)?; // an identity hint: public, unused
    } else {
        w.expect(kind::CERTIFICATE)?;
        let ske = w.expect(kind::SERVER_KEY_EXCHANGE)?;
        server_point = Some(framing::ecdhe_server_point(ske.body).map_err(bad)?);
        certificate_request = w.take_if(kind::CERTIFICATE_REQUEST)?.is_some();
    }
    if !w.expect(kind::SERVER_HELLO_DONE)?.body.is_empty() {
        return Err(Reason::BadTranscript);
    }
    let mut sends_certificate = false;
    if certificate_request {
        let c = w.expect(kind::CERTIFICATE)?;
        sends_certificate = !framing::certificate_is_empty(c.body).map_err(bad)?;
    }
    let cke = w.expect(kind::CLIENT_KEY_EXCHANGE)?;
    w.end()?;
    let session_hash = w.hash.finish();

    let premaster: Zeroizing<alloc::vec::Vec<u8>> = match server_point {
        None => {
            framing::psk_identity(cke.body).map_err(bad)?;
            psk_premaster(binding_psk.as_deref().ok_or(Reason::BadTranscript)?)?
        }
        Some(point) => {
            let ours = framing::ecdhe_client_point(cke.body).map_err(bad)?;
            if Some(ours) != public.as_ref().map(|p| &p[..]) {
                return Err(Reason::BadTranscript);
            }
            let private = ephemeral.ok_or(Reason::StepOutOfOrder)?;
            let shared = kx::ecdh(&private, point).map_err(|_| Reason::InvalidPublicKey)?;
            Zeroizing::new(shared.to_vec())
        }
    };
    let ems = sh.extended_master_secret.then_some(&session_hash);
    let master = master_secret(&premaster, ems, &ch.random, &sh.random);
    drop(premaster);
    let block = key_block(&master, &ch.random, &sh.random, block_len)?;

    let mut seq = cke.seq.wrapping_add(1);
    let mut hash = w.hash;
    let certificate_verify = if sends_certificate {
        let key = sign_key.as_ref().ok_or(Reason::BadTranscript)?;
        // RFC 5246 §7.4.8: over the messages through ClientKeyExchange.
        let body = certificate_verify_body(key, &session_hash)?;
        let m = message(f, kind::CERTIFICATE_VERIFY, &[&body], seq)?;
        hash.update(&m);
        seq = seq.wrapping_add(1);
        Some(m)
    } else {
        None
    };
    let ours = verify_data(&master, Role::Client, &hash.finish());
    let finished = message(f, kind::FINISHED, &[&ours], seq)?;
    hash.update(&finished);
    let expected = verify_data(&master, Role::Server, &hash.finish());
    state.done = Some(Established {
        master,
        client_random: ch.random,
        server_random: sh.random,
        certificate: !psk_suite,
    });
    Ok(HandshakeReply::ClientFinished {
        key_block: block,
        certificate_verify,
        finished,
        expected_server_verify_data: expected,
    })
}

pub(crate) struct ServerOpenArgs {
    framing: Framing,
    suite: u16,
    psk: bool,
    client_random: [u8; 32],
    client_hello_hash: [u8; 32],
}

pub(crate) fn server_open_keys(
    framing: WireFraming,
    suite: u16,
    client_hello: &[u8],
    psks: &[PskCandidate],
    sign: &Option<KeyRef>,
) -> Result<
    (
        ServerOpenArgs,
        HVec<Bound, { seam_proto::handshake::MAX_PSK_CANDIDATES + 1 }>,
    ),
    Reason,
> {
    let f = framing_of(framing);
    let (psk, _) = suites::info(suite).ok_or(Reason::InvalidParameter)?;
    let mut it = Messages::new(f, client_hello);
    let ch_msg = match (it.next(), it.next()) {
        (Some(Ok(m)), None) if m.kind == kind::CLIENT_HELLO => m,
        _ => return Err(Reason::BadTranscript),
    };
    let ch = framing::client_hello(f, ch_msg.body).map_err(bad)?;
    if !ch.offers(suite) || ch.version != version(f) {
        return Err(Reason::BadTranscript);
    }
    let mut keys = HVec::new();
    if psk {
        if psks.is_empty() {
            return Err(Reason::InvalidParameter);
        }
        for c in psks {
            let b = Bound {
                key: c.key.clone(),
                kind: ObjectKind::Secret,
                usage: Use::Psk(c.identity.clone()),
            };
            keys.push(b).map_err(|_| Reason::InvalidParameter)?;
        }
    } else {
        let k = sign.as_ref().ok_or(Reason::InvalidParameter)?;
        let b = Bound {
            key: k.clone(),
            kind: ObjectKind::EcP256,
            usage: Use::Sign,
        };
        keys.push(b).map_err(|_| Reason::InvalidParameter)?;
    }
    Ok((
        ServerOpenArgs {
            framing: f,
            suite,
            psk,
            client_random: ch.random,
            client_hello_hash: sha256(ch_msg.raw),
        },
        keys,
    ))
}

pub(crate) fn server_open<S: Store>(
    s: &mut Session,
    record: &SeRecord,
    cx: &mut Context<'_, S>,
    args: ServerOpenArgs,
) -> Result<HandshakeReply, Reason> {
    let mut random = [0u8; 32];
    cx.rng.fill(&mut random).map_err(|_| Reason::RngFailure)?;
    let ecdhe = if args.psk {
        None
    } else {
        let key = s.binding.signing_key(record)?;
        let public = s.ecdhe(cx.rng)?;
        // RFC 8422 §5.4: over both randoms and params, all of them seen or
        // made here.
        let digest = sha256_parts(&[&args.client_random, &random, &NAMED_CURVE_P256, &public]);
        let sig = sign::sign_digest(&key, &digest).map_err(|_| Reason::StorageCorrupt)?;
        Some(ServerEcdhe {
            public: PublicKey(public),
            signature: Signature(sig),
        })
    };
    let mut suites = HVec::new();
    suites.push(args.suite).map_err(|_| Reason::Internal)?;
    s.kind = Kind::Engine(State {
        framing: args.framing,
        random,
        suites,
        client_hello: Some((args.client_random, args.client_hello_hash)),
        done: None,
    });
    Ok(HandshakeReply::ServerOpened {
        session: s.id,
        random,
        ecdhe,
    })
}

pub(crate) fn server_finish(
    s: &mut Session,
    record: &SeRecord,
    messages: &[u8],
) -> Result<HandshakeReply, Reason> {
    let public = s.ephemeral_public;
    let ephemeral = s.ephemeral.take();
    let binding = &s.binding;
    // A shared view while walking; the state changes only at the end.
    let state = match &s.kind {
        Kind::Engine(state) if s.role == Role::Server && state.done.is_none() => state,
        _ => return Err(Reason::StepOutOfOrder),
    };
    let f = state.framing;
    let suite = *state.suites.first().ok_or(Reason::Internal)?;
    let (client_random, ch_hash) = state.client_hello.ok_or(Reason::StepOutOfOrder)?;
    let mut w = Walk::new(f, messages);

    let ch_msg = w.expect(kind::CLIENT_HELLO)?;
    if sha256(ch_msg.raw) != ch_hash {
        return Err(Reason::BadTranscript);
    }
    let ch = framing::client_hello(f, ch_msg.body).map_err(bad)?;
    let sh = framing::server_hello(w.expect(kind::SERVER_HELLO)?.body).map_err(bad)?;
    if sh.random != state.random || sh.suite != suite || sh.version != version(f) {
        return Err(Reason::BadTranscript);
    }
    if sh.extended_master_secret && !offers_ems(&ch)? {
        return Err(Reason::BadTranscript);
    }
    let (psk_suite, block_len) = key_block_len(suite)?;
    let mut certificate_request = false;
    if psk_suite {
        w.take_if(kind::SERVER_KEY_EXCHANGE)?;
    } else {
        w.expect(kind::CERTIFICATE)?;
        let ske = w.expect(kind::SERVER_KEY_EXCHANGE)?;
        let point = framing::ecdhe_server_point(ske.body).map_err(bad)?;
        if Some(point) != public.as_ref().map(|p| &p[..]) {
            return Err(Reason::BadTranscript);
        }
        certificate_request = w.take_if(kind::CERTIFICATE_REQUEST)?.is_some();
    }
    let shd = w.expect(kind::SERVER_HELLO_DONE)?;
    if !shd.body.is_empty() {
        return Err(Reason::BadTranscript);
    }
    let mut client_certificate = false;
    if certificate_request {
        let c = w.expect(kind::CERTIFICATE)?;
        client_certificate = !framing::certificate_is_empty(c.body).map_err(bad)?;
    }
    let cke = w.expect(kind::CLIENT_KEY_EXCHANGE)?;
    let session_hash = w.hash.finish();
    let mut last_client_seq = cke.seq;
    if client_certificate {
        // Its signature is public: the engine verifies it.
        last_client_seq = w.expect(kind::CERTIFICATE_VERIFY)?.seq;
    }
    w.end()?;

    let premaster: Zeroizing<alloc::vec::Vec<u8>> = if psk_suite {
        let identity = framing::psk_identity(cke.body).map_err(bad)?;
        psk_premaster(binding.psk_for(record, identity)?)?
    } else {
        let peer = framing::ecdhe_client_point(cke.body).map_err(bad)?;
        let private = ephemeral.ok_or(Reason::StepOutOfOrder)?;
        let shared = kx::ecdh(&private, peer).map_err(|_| Reason::InvalidPublicKey)?;
        Zeroizing::new(shared.to_vec())
    };
    let ems = sh.extended_master_secret.then_some(&session_hash);
    let master = master_secret(&premaster, ems, &client_random, &sh.random);
    drop(premaster);
    let block: HVec<u8, MAX_KEY_BLOCK> = key_block(&master, &client_random, &sh.random, block_len)?;

    let mut hash = w.hash;
    let expected = verify_data(&master, Role::Client, &hash.finish());
    let client_finished = message(
        f,
        kind::FINISHED,
        &[&expected],
        last_client_seq.wrapping_add(1),
    )?;
    hash.update(&client_finished);
    let ours = verify_data(&master, Role::Server, &hash.finish());
    let finished = message(f, kind::FINISHED, &[&ours], shd.seq.wrapping_add(1))?;
    let server_random = sh.random;
    if let Kind::Engine(state) = &mut s.kind {
        state.done = Some(Established {
            master,
            client_random,
            server_random,
            certificate: !psk_suite,
        });
    }
    Ok(HandshakeReply::ServerFinished {
        key_block: block,
        expected_client_verify_data: expected,
        finished,
    })
}
