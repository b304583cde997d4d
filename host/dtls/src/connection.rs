//! The sans-IO connection: record layer, epochs, the DTLS handshake
//! transport (fragmentation, reassembly, flights, retransmission) and the
//! application-data interface. The handshake state machines are in
//! [`super::client`] and [`super::server`].

use std::collections::VecDeque;
use std::time::Instant;

use super::cipher::{RecordCipher, TrafficKeys};
use super::handshake::{self, full_message, FragmentHeader, HandshakeType, Reader};
use super::msgs::codec::Codec as _;
use super::reassembly::{self, Fragment, Reassembler};
use super::record::{self, ContentType, RecordHeader, ReplayWindow, TlsFrame};
use super::retransmit::{Flight, FlightItem};
use super::secrets::{HandshakeSecrets, SecretsError};
use super::{AlertDescription, Cause, Config, DtlsError, Role, Step, Suite, Variant};

/// Where randoms come from (ClientHello/ServerHello randoms, CBC explicit
/// IVs, the cookie secret). [`OsRandom`] in production; tests pass a seeded
/// generator so runs repeat exactly.
pub trait RandomSource: Send {
    fn fill(&mut self, out: &mut [u8]);
}

/// The operating system's generator.
pub struct OsRandom;

impl RandomSource for OsRandom {
    fn fill(&mut self, out: &mut [u8]) {
        // getrandom fails only without any entropy source at all; there is no
        // safe way on without one.
        getrandom::getrandom(out).expect("the OS random generator failed");
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum State {
    ClientWaitHello,
    ClientWaitFlight,
    ClientWaitCcs,
    ClientWaitFinished,
    ServerWaitHello,
    ServerWaitFlight,
    ServerWaitCertificateVerify,
    ServerWaitCcs,
    ServerWaitFinished,
    Established,
    Closed,
    Failed,
}

impl State {
    /// The step an error in this state belongs to.
    pub(super) fn step(self) -> Step {
        match self {
            State::ClientWaitHello => Step::ServerHello,
            State::ClientWaitFlight => Step::ServerHelloDone,
            State::ServerWaitHello => Step::ClientHello,
            State::ServerWaitFlight => Step::ClientKeyExchange,
            State::ServerWaitCertificateVerify => Step::CertificateVerify,
            State::ClientWaitCcs | State::ServerWaitCcs => Step::ChangeCipherSpec,
            State::ClientWaitFinished | State::ServerWaitFinished => Step::Finished,
            State::Established => Step::ApplicationData,
            State::Closed | State::Failed => Step::Close,
        }
    }
}

/// The handshake's working data (all public).
#[derive(Default)]
pub(super) struct Handshake {
    pub suite: Option<Suite>,
    pub client_random: [u8; 32],
    pub server_random: [u8; 32],
    pub extended_master_secret: bool,
    /// Every handshake message that enters the Finished hashes, as hashed.
    pub transcript: Vec<u8>,
    /// Client: the cookie from a HelloVerifyRequest.
    pub cookie: Vec<u8>,
    /// Server: the cookie secret.
    pub cookie_secret: [u8; 32],
    /// The peer's ephemeral ECDHE point.
    pub peer_share: Option<Vec<u8>>,
    /// The peer's authenticated P-256 key (certificate or raw public key).
    pub peer_key: Option<Vec<u8>>,
    pub peer_certificates: Vec<Vec<u8>>,
    /// Client: the server asked for a certificate. Server: we asked.
    pub certificate_requested: bool,
    /// Client: the request accepts our certificate. Server: the client
    /// sent a non-empty certificate.
    pub client_certificate: bool,
    /// Server: the client's Certificate message arrived.
    pub certificate_message_seen: bool,
    /// RFC 7250 negotiated for the server's / client's certificate.
    pub server_raw_key: bool,
    pub client_raw_key: bool,
    /// Server: the SNI host name the client asked for.
    pub server_name: Option<String>,
    /// PSK suites: the identity the client sent (client: the one we sent).
    pub psk_identity: Option<Vec<u8>>,
    /// Keys waiting for our ChangeCipherSpec.
    pub pending_write: Option<RecordCipher>,
}

struct Writer {
    cipher: Option<RecordCipher>,
    next_seq: u64,
}

/// What is known about an established (or failed) connection.
#[derive(Clone, Debug, Default)]
pub struct ConnectionInfo {
    pub suite: Option<Suite>,
    pub extended_master_secret: bool,
    /// Server: the SNI name the client sent.
    pub server_name: Option<String>,
    /// PSK suites: the PSK identity the client sent in its
    /// ClientKeyExchange (what a server authenticated the client as).
    pub psk_identity: Option<Vec<u8>>,
    /// The peer's P-256 key, if it authenticated with one.
    pub peer_public_key: Option<Vec<u8>>,
    pub peer_certificates: Vec<Vec<u8>>,
    /// Secure Environment invocations the handshake cost.
    pub invocations: u32,
    /// DTLS flights we retransmitted.
    pub retransmissions: u32,
}

/// Records of the next epoch that arrive before its ChangeCipherSpec are kept,
/// this many at most.
const MAX_DEFERRED: usize = 8;

/// One (D)TLS 1.2 connection, client or server. Feed it with
/// [`handle_input`](Self::handle_input) and
/// [`handle_timeout`](Self::handle_timeout); drain
/// [`poll_output`](Self::poll_output) after each call and sleep until
/// [`poll_timeout`](Self::poll_timeout).
pub struct Connection<S: HandshakeSecrets> {
    pub(super) role: Role,
    pub(super) config: Config,
    pub(super) secrets: S,
    pub(super) rng: Box<dyn RandomSource>,
    pub(super) state: State,
    error: Option<DtlsError>,
    pub(super) hs: Handshake,

    write_epoch: u16,
    writers: Vec<Writer>,
    read_epoch: u16,
    reader: Option<RecordCipher>,
    pub(super) pending_read: Option<RecordCipher>,
    replay: ReplayWindow,
    tls_read_seq: u64,

    reassembler: Reassembler,
    pub(super) next_send_seq: u16,
    flight: Flight,
    deferred: Vec<(RecordHeader, Vec<u8>)>,
    peer_retransmitted: bool,
    /// DTLS: the `message_seq` of the last message of the peer flight our
    /// current flight answers. The peer resending it (it missed our answer)
    /// is what makes us resend (RFC 6347 §4.2.4); anything else old is not.
    answered_seq: Option<u16>,
    retransmissions: u32,

    tls_in: Vec<u8>,
    tls_handshake: Vec<u8>,

    out: VecDeque<Vec<u8>>,
    app_in: VecDeque<Vec<u8>>,
    sent_close: bool,
    peer_closed: bool,
    half_close: bool,
}

impl<S: HandshakeSecrets> Connection<S> {
    /// A client: the ClientHello is queued at once.
    pub fn client(config: Config, secrets: S, now: Instant) -> Self {
        Self::new(Role::Client, config, secrets, Box::new(OsRandom), now)
    }

    /// A server waiting for a ClientHello.
    pub fn server(config: Config, secrets: S, now: Instant) -> Self {
        Self::new(Role::Server, config, secrets, Box::new(OsRandom), now)
    }

    /// A connection in `role`. A configuration [`Config::check`] refuses
    /// gives a connection that has already failed with [`Cause::Config`] and
    /// sends nothing.
    pub fn new(
        role: Role,
        config: Config,
        secrets: S,
        rng: Box<dyn RandomSource>,
        now: Instant,
    ) -> Self {
        let flight = Flight::new(config.retransmit);
        let refused = config.check(role).err();
        let mut c = Connection {
            role,
            config,
            secrets,
            rng,
            state: match role {
                Role::Client => State::ClientWaitHello,
                Role::Server => State::ServerWaitHello,
            },
            error: None,
            hs: Handshake::default(),
            write_epoch: 0,
            writers: vec![Writer {
                cipher: None,
                next_seq: 0,
            }],
            read_epoch: 0,
            reader: None,
            pending_read: None,
            replay: ReplayWindow::default(),
            tls_read_seq: 0,
            reassembler: Reassembler::new(),
            next_send_seq: 0,
            flight,
            deferred: Vec::new(),
            peer_retransmitted: false,
            answered_seq: None,
            retransmissions: 0,
            tls_in: Vec::new(),
            tls_handshake: Vec::new(),
            out: VecDeque::new(),
            app_in: VecDeque::new(),
            sent_close: false,
            peer_closed: false,
            half_close: false,
        };
        if let Some(e) = refused {
            c.record_error(e);
            return c;
        }
        match role {
            Role::Client => c.client_start(now),
            Role::Server => {
                let mut secret = [0u8; 32];
                c.rng.fill(&mut secret);
                c.hs.cookie_secret = secret;
            }
        }
        c
    }

    /// A DTLS server admitted by a stateless cookie check: the cookie
    /// secret is the gate's, and the first message expected is the
    /// ClientHello that carried the cookie. Our records continue from that
    /// ClientHello's record number, as the stateless HelloVerifyRequest used
    /// the previous one's (RFC 6347 §4.2.1), so the client's replay window
    /// does not drop them.
    pub(crate) fn admit_after_cookie(
        &mut self,
        secret: [u8; 32],
        message_seq: u16,
        record_seq: u64,
    ) {
        self.hs.cookie_secret = secret;
        self.reassembler.start_at(message_seq);
        self.writers[0].next_seq = record_seq;
    }

    pub(super) fn dtls(&self) -> bool {
        self.config.variant == Variant::Dtls
    }

    // ---- public interface ---------------------------------------------------------

    /// Takes one datagram (DTLS) or the next bytes of the stream (TLS).
    pub fn handle_input(&mut self, bytes: &[u8], now: Instant) -> Result<(), DtlsError> {
        if let Some(e) = &self.error {
            return Err(e.clone());
        }
        if self.state == State::Closed {
            return Ok(());
        }
        let result = if self.dtls() {
            self.handle_datagram(bytes, now)
        } else {
            self.handle_stream(bytes, now)
        };
        result.map_err(|e| self.record_error(e))
    }

    /// Call at or after [`poll_timeout`](Self::poll_timeout)'s deadline.
    pub fn handle_timeout(&mut self, now: Instant) -> Result<(), DtlsError> {
        if let Some(e) = &self.error {
            return Err(e.clone());
        }
        match self.flight.on_timeout(now) {
            Some(true) => {
                self.retransmissions += 1;
                self.transmit_flight();
                Ok(())
            }
            Some(false) => {
                let e = DtlsError {
                    step: self.state.step(),
                    cause: Cause::Timeout,
                };
                self.state = State::Failed;
                Err(self.record_error(e))
            }
            None => Ok(()),
        }
    }

    /// When [`handle_timeout`](Self::handle_timeout) is next due, if ever.
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.error.is_some() {
            return None;
        }
        self.flight.deadline()
    }

    /// The next datagram (DTLS) or bytes (TLS) to send.
    pub fn poll_output(&mut self) -> Option<Vec<u8>> {
        self.out.pop_front()
    }

    /// Application data received, in order of arrival.
    pub fn recv(&mut self) -> Option<Vec<u8>> {
        self.app_in.pop_front()
    }

    pub fn is_established(&self) -> bool {
        self.state == State::Established
    }

    /// Whether the handshake is still running.
    pub fn is_handshaking(&self) -> bool {
        !matches!(
            self.state,
            State::Established | State::Closed | State::Failed
        )
    }

    /// The peer sent close_notify (or the connection failed).
    pub fn is_closed(&self) -> bool {
        self.peer_closed || matches!(self.state, State::Closed | State::Failed)
    }

    pub fn error(&self) -> Option<&DtlsError> {
        self.error.as_ref()
    }

    pub fn info(&self) -> ConnectionInfo {
        ConnectionInfo {
            suite: self.hs.suite,
            extended_master_secret: self.hs.extended_master_secret,
            server_name: self.hs.server_name.clone(),
            psk_identity: self.hs.psk_identity.clone(),
            peer_public_key: self.hs.peer_key.clone(),
            peer_certificates: self.hs.peer_certificates.clone(),
            invocations: self.secrets.invocations(),
            retransmissions: self.retransmissions,
        }
    }

    /// The handshake secrets (e.g. to count invocations).
    pub fn secrets(&self) -> &S {
        &self.secrets
    }

    /// Largest application payload one record (one datagram on DTLS) carries.
    pub fn max_payload(&self) -> usize {
        if self.dtls() {
            let overhead = self.writers[self.write_epoch as usize]
                .cipher
                .as_ref()
                .map_or(0, |c| c.overhead());
            self.config
                .mtu
                .saturating_sub(record::DTLS_HEADER + overhead)
                .clamp(1, record::MAX_PLAINTEXT)
        } else {
            record::MAX_PLAINTEXT
        }
    }

    /// Sends application data (split into records as needed).
    pub fn send(&mut self, data: &[u8]) -> Result<(), DtlsError> {
        if self.state != State::Established || self.sent_close {
            return Err(DtlsError {
                step: Step::ApplicationData,
                cause: Cause::NotConnected,
            });
        }
        let max = self.max_payload();
        for chunk in data.chunks(max) {
            let rec = self.encode_record(self.write_epoch, ContentType::ApplicationData, chunk);
            self.push_output(rec);
        }
        Ok(())
    }

    /// The peer's close_notify ends only its direction: we go on sending
    /// until our own [`close`](Self::close) (a relay passing a TCP
    /// half-close on). By default we answer it at once (RFC 5246 §7.2.1).
    pub fn allow_half_close(&mut self) {
        self.half_close = true;
    }

    /// Sends close_notify (once). Further [`send`](Self::send)s fail.
    pub fn close(&mut self) {
        if self.sent_close || matches!(self.state, State::Failed) {
            return;
        }
        self.sent_close = true;
        let rec = self.encode_record(
            self.write_epoch,
            ContentType::Alert,
            &[1, AlertDescription::CLOSE_NOTIFY.0],
        );
        self.push_output(rec);
        if self.peer_closed {
            self.state = State::Closed;
        }
    }

    // ---- errors -------------------------------------------------------------------

    fn record_error(&mut self, e: DtlsError) -> DtlsError {
        if self.error.is_none() {
            self.error = Some(e.clone());
        }
        self.state = State::Failed;
        self.flight.answered();
        e
    }

    /// Sends a fatal alert and fails the connection.
    pub(super) fn fatal(
        &mut self,
        step: Step,
        alert: AlertDescription,
        detail: impl Into<String>,
    ) -> DtlsError {
        let e = DtlsError::sent(step, alert, detail);
        if self.error.is_none() {
            let rec = self.encode_record(self.write_epoch, ContentType::Alert, &[2, alert.0]);
            self.push_output(rec);
        }
        self.record_error(e)
    }

    /// Maps a Secure Environment failure to its alert.
    pub(super) fn secrets_failed(&mut self, step: Step, e: SecretsError) -> DtlsError {
        let alert = match e {
            SecretsError::UnknownPskIdentity => AlertDescription::UNKNOWN_PSK_IDENTITY,
            SecretsError::FinishedMismatch => AlertDescription::DECRYPT_ERROR,
            SecretsError::InvalidPeerKey => AlertDescription::ILLEGAL_PARAMETER,
            SecretsError::MissingCredential(_) | SecretsError::Failed(_) => {
                AlertDescription::INTERNAL_ERROR
            }
        };
        let detail = e.to_string();
        let err = self.fatal(step, alert, detail.clone());
        match e {
            SecretsError::Failed(_) | SecretsError::MissingCredential(_) => {
                let e = DtlsError {
                    step,
                    cause: Cause::Secrets(detail),
                };
                self.error = Some(e.clone());
                e
            }
            _ => err,
        }
    }

    pub(super) fn decode_failed(&mut self, step: Step, e: handshake::DecodeError) -> DtlsError {
        self.fatal(step, AlertDescription::DECODE_ERROR, e.0)
    }

    // ---- output -------------------------------------------------------------------

    fn push_output(&mut self, bytes: Vec<u8>) {
        if bytes.is_empty() {
            return;
        }
        if self.dtls() {
            self.out.push_back(bytes);
        } else if let Some(last) = self.out.back_mut() {
            last.extend_from_slice(&bytes);
        } else {
            self.out.push_back(bytes);
        }
    }

    fn encode_record(&mut self, epoch: u16, ct: ContentType, payload: &[u8]) -> Vec<u8> {
        let dtls = self.dtls();
        let version = self.config.variant.version();
        let Some(w) = self.writers.get_mut(epoch as usize) else {
            return Vec::new();
        };
        let seq = w.next_seq;
        w.next_seq += 1;
        let mac_seq = if dtls {
            ((epoch as u64) << 48) | (seq & record::MAX_DTLS_SEQ)
        } else {
            seq
        };
        let rng = &mut self.rng;
        let fragment = match &w.cipher {
            Some(c) => c.seal(mac_seq, ct as u8, version, payload, &mut |b| rng.fill(b)),
            None => payload.to_vec(),
        };
        let mut out = Vec::with_capacity(fragment.len() + record::DTLS_HEADER);
        if dtls {
            record::encode_dtls(ct, version, epoch, seq, &fragment, &mut out);
        } else {
            record::encode_tls(ct, version, &fragment, &mut out);
        }
        out
    }

    /// Adds a handshake message we send to the transcript and to `items`.
    pub(super) fn queue_message(
        &mut self,
        items: &mut Vec<FlightItem>,
        t: HandshakeType,
        body: Vec<u8>,
    ) {
        let seq = self.next_send_seq;
        self.next_send_seq = self.next_send_seq.wrapping_add(1);
        self.hs
            .transcript
            .extend_from_slice(&full_message(self.dtls(), t as u8, seq, &body));
        items.push(FlightItem::Handshake {
            epoch: self.write_epoch,
            msg_type: t as u8,
            message_seq: seq,
            body,
        });
    }

    /// A message built elsewhere (by the Secure Environment), whole with its
    /// header: checked, added to the transcript as is, and queued.
    pub(super) fn queue_built_message(
        &mut self,
        items: &mut Vec<FlightItem>,
        t: HandshakeType,
        whole: &[u8],
    ) -> Result<(), String> {
        let header = if self.dtls() {
            handshake::DTLS_HEADER_LEN
        } else {
            handshake::TLS_HEADER_LEN
        };
        let body = whole
            .get(header..)
            .ok_or("a message from the Secure Environment is truncated")?;
        let expected = full_message(self.dtls(), t as u8, self.next_send_seq, body);
        if expected != whole {
            return Err(format!(
                "the Secure Environment's {t:?} message has an unexpected header"
            ));
        }
        self.queue_message(items, t, body.to_vec());
        Ok(())
    }

    /// Our ChangeCipherSpec: queued, then our write epoch moves on.
    pub(super) fn queue_change_cipher_spec(&mut self, items: &mut Vec<FlightItem>) {
        items.push(FlightItem::ChangeCipherSpec {
            epoch: self.write_epoch,
        });
        let cipher = self.hs.pending_write.take();
        self.writers.push(Writer {
            cipher,
            next_seq: 0,
        });
        self.write_epoch += 1;
    }

    /// Installs the keys: the peer's direction waits for its ChangeCipherSpec,
    /// ours for our own.
    pub(super) fn install_keys(&mut self, suite: Suite, keys: &TrafficKeys) {
        let peer = match self.role {
            Role::Client => Role::Server,
            Role::Server => Role::Client,
        };
        self.pending_read = Some(RecordCipher::new(suite, keys, peer));
        self.hs.pending_write = Some(RecordCipher::new(suite, keys, self.role));
    }

    /// Sends a flight. `await_answer`: arm the retransmission timer (DTLS).
    pub(super) fn send_flight(&mut self, items: Vec<FlightItem>, await_answer: bool, now: Instant) {
        if self.dtls() {
            self.answered_seq = self.reassembler.next_seq().checked_sub(1);
            self.flight.start(items, await_answer, now);
            self.transmit_flight();
        } else {
            for item in &items {
                self.transmit_tls_item(item);
            }
        }
    }

    /// Drops the flight: nothing left to retransmit.
    pub(super) fn flight_done(&mut self) {
        self.flight.clear();
    }

    /// Stops the timer but keeps the flight (the server's last flight, resent
    /// if the client shows it missed it).
    pub(super) fn flight_answered(&mut self) {
        self.flight.answered();
    }

    fn transmit_tls_item(&mut self, item: &FlightItem) {
        match item {
            FlightItem::Handshake {
                epoch,
                msg_type,
                body,
                ..
            } => {
                let whole = full_message(false, *msg_type, 0, body);
                for chunk in whole.chunks(record::MAX_PLAINTEXT) {
                    let rec = self.encode_record(*epoch, ContentType::Handshake, chunk);
                    self.push_output(rec);
                }
            }
            FlightItem::ChangeCipherSpec { epoch } => {
                let rec = self.encode_record(*epoch, ContentType::ChangeCipherSpec, &[1]);
                self.push_output(rec);
            }
        }
    }

    /// (Re)sends the current DTLS flight, packing records into datagrams of
    /// at most `mtu` bytes and fragmenting handshake messages to fit.
    fn transmit_flight(&mut self) {
        let items = self.flight.items.clone();
        let mtu = self.config.mtu.max(64);
        let mut datagram: Vec<u8> = Vec::new();
        for item in &items {
            let records: Vec<Vec<u8>> = match item {
                FlightItem::Handshake {
                    epoch,
                    msg_type,
                    message_seq,
                    body,
                } => {
                    let overhead = self
                        .writers
                        .get(*epoch as usize)
                        .and_then(|w| w.cipher.as_ref())
                        .map_or(0, |c| c.overhead());
                    let room = mtu.saturating_sub(
                        record::DTLS_HEADER + overhead + handshake::DTLS_HEADER_LEN,
                    );
                    let pieces: Vec<Vec<u8>> =
                        reassembly::fragment(*msg_type, *message_seq, body, room)
                            .into_iter()
                            .map(|(h, d)| {
                                let mut p = Vec::with_capacity(d.len() + 12);
                                h.encode(&mut p);
                                p.extend_from_slice(d);
                                p
                            })
                            .collect();
                    pieces
                        .iter()
                        .map(|p| self.encode_record(*epoch, ContentType::Handshake, p))
                        .collect()
                }
                FlightItem::ChangeCipherSpec { epoch } => {
                    vec![self.encode_record(*epoch, ContentType::ChangeCipherSpec, &[1])]
                }
            };
            for rec in records {
                if !datagram.is_empty() && datagram.len() + rec.len() > mtu {
                    self.out.push_back(std::mem::take(&mut datagram));
                }
                datagram.extend_from_slice(&rec);
            }
        }
        if !datagram.is_empty() {
            self.out.push_back(datagram);
        }
    }

    // ---- input: DTLS ---------------------------------------------------------------

    fn handle_datagram(&mut self, datagram: &[u8], now: Instant) -> Result<(), DtlsError> {
        self.peer_retransmitted = false;
        for (h, fragment) in record::split_datagram(datagram) {
            self.handle_dtls_record(h, fragment, now)?;
            if matches!(self.state, State::Closed | State::Failed) {
                return Ok(());
            }
        }
        if self.peer_retransmitted {
            self.peer_retransmitted = false;
            // A client that is done has nothing to resend (the server's flight
            // was the last); anyone else resends the flight the peer missed.
            let done_client = self.role == Role::Client && self.state == State::Established;
            let resend = !self.flight.items.is_empty() && !done_client;
            if resend {
                self.retransmissions += 1;
                self.transmit_flight();
            }
        }
        Ok(())
    }

    fn handle_dtls_record(
        &mut self,
        h: RecordHeader,
        fragment: &[u8],
        now: Instant,
    ) -> Result<(), DtlsError> {
        // RFC 6347 §4.1.2.7: invalid records are dropped silently.
        let Some(ct) = ContentType::from_u8(h.content_type) else {
            return Ok(());
        };
        if h.version >> 8 != 0xFE || fragment.len() > record::MAX_CIPHERTEXT {
            return Ok(());
        }
        if h.epoch == self.read_epoch {
            if !self.replay.check(h.seq) {
                return Ok(());
            }
            let plaintext = match &self.reader {
                Some(c) => match c.open(h.mac_seq(true), h.content_type, h.version, fragment) {
                    Ok(p) => p,
                    Err(_) => return Ok(()),
                },
                None => fragment.to_vec(),
            };
            if plaintext.len() > record::MAX_PLAINTEXT {
                return Ok(());
            }
            self.replay.mark(h.seq);
            self.handle_plaintext(ct, h.epoch, &plaintext, now)
        } else if h.epoch == self.read_epoch.wrapping_add(1) {
            if self.deferred.len() < MAX_DEFERRED {
                self.deferred.push((h, fragment.to_vec()));
            }
            Ok(())
        } else {
            // An older epoch: the peer resends a flight we processed; its
            // last message (in the current epoch) decides a resend.
            Ok(())
        }
    }

    // ---- input: TLS -------------------------------------------------------------------

    fn handle_stream(&mut self, bytes: &[u8], now: Instant) -> Result<(), DtlsError> {
        self.tls_in.extend_from_slice(bytes);
        loop {
            if matches!(self.state, State::Closed | State::Failed) {
                return Ok(());
            }
            let (h, total) = match record::parse_tls(&self.tls_in) {
                TlsFrame::Incomplete => return Ok(()),
                TlsFrame::Overflow => {
                    return Err(self.fatal(
                        Step::Record,
                        AlertDescription::RECORD_OVERFLOW,
                        "a record is longer than 2^14 + 2048 bytes",
                    ))
                }
                TlsFrame::Record(h, total) => (h, total),
            };
            let rec: Vec<u8> = self.tls_in.drain(..total).collect();
            let fragment = &rec[record::TLS_HEADER..];
            let Some(ct) = ContentType::from_u8(h.content_type) else {
                return Err(self.fatal(
                    Step::Record,
                    AlertDescription::UNEXPECTED_MESSAGE,
                    format!("unknown record content type {}", h.content_type),
                ));
            };
            if h.version >> 8 != 3 {
                return Err(self.fatal(
                    Step::Record,
                    AlertDescription::PROTOCOL_VERSION,
                    format!("record version 0x{:04x} is not TLS", h.version),
                ));
            }
            let seq = self.tls_read_seq;
            self.tls_read_seq += 1;
            let plaintext = match &self.reader {
                Some(c) => match c.open(seq, h.content_type, h.version, fragment) {
                    Ok(p) => p,
                    Err(_) => {
                        return Err(self.fatal(
                            Step::Record,
                            AlertDescription::BAD_RECORD_MAC,
                            "a record does not authenticate",
                        ))
                    }
                },
                None => fragment.to_vec(),
            };
            if plaintext.len() > record::MAX_PLAINTEXT {
                return Err(self.fatal(
                    Step::Record,
                    AlertDescription::RECORD_OVERFLOW,
                    "a plaintext record is longer than 2^14 bytes",
                ));
            }
            self.handle_plaintext(ct, self.read_epoch, &plaintext, now)?;
        }
    }

    // ---- input: common ------------------------------------------------------------------

    fn handle_plaintext(
        &mut self,
        ct: ContentType,
        epoch: u16,
        data: &[u8],
        now: Instant,
    ) -> Result<(), DtlsError> {
        match ct {
            ContentType::Handshake => self.handle_handshake_record(data, now),
            ContentType::ChangeCipherSpec => self.handle_change_cipher_spec(data, now),
            ContentType::Alert => self.handle_alert(data),
            ContentType::ApplicationData => {
                if self.state == State::Established && epoch > 0 {
                    if !data.is_empty() {
                        self.app_in.push_back(data.to_vec());
                    }
                    Ok(())
                } else if self.dtls() {
                    Ok(())
                } else {
                    Err(self.fatal(
                        Step::ApplicationData,
                        AlertDescription::UNEXPECTED_MESSAGE,
                        "application data before the handshake completed",
                    ))
                }
            }
        }
    }

    fn handle_handshake_record(&mut self, data: &[u8], now: Instant) -> Result<(), DtlsError> {
        if self.dtls() {
            let mut r = Reader::new(data);
            while !r.is_empty() {
                let (h, body) = match FragmentHeader::decode(&mut r) {
                    Ok(x) => x,
                    Err(e) => return Err(self.decode_failed(self.state.step(), e)),
                };
                match self.reassembler.insert(&h, body) {
                    Ok(Fragment::Accepted) => {}
                    Ok(Fragment::Old { message_seq }) => {
                        if Some(message_seq) == self.answered_seq && h.fragment_offset == 0 {
                            self.peer_retransmitted = true;
                        }
                    }
                    Ok(Fragment::TooFar) => {}
                    Err(e) => return Err(self.decode_failed(self.state.step(), e)),
                }
            }
            while let Some(m) = self.reassembler.pop() {
                self.handle_message(m.msg_type, m.message_seq, m.body, now)?;
                if matches!(self.state, State::Closed | State::Failed) {
                    break;
                }
            }
            Ok(())
        } else {
            if data.is_empty() {
                return Err(self.fatal(
                    self.state.step(),
                    AlertDescription::DECODE_ERROR,
                    "an empty handshake record",
                ));
            }
            self.tls_handshake.extend_from_slice(data);
            loop {
                if self.tls_handshake.len() < handshake::TLS_HEADER_LEN {
                    return Ok(());
                }
                let len = u32::from_be_bytes([
                    0,
                    self.tls_handshake[1],
                    self.tls_handshake[2],
                    self.tls_handshake[3],
                ]);
                if len > reassembly::MAX_MESSAGE {
                    return Err(self.fatal(
                        self.state.step(),
                        AlertDescription::DECODE_ERROR,
                        "handshake message too large",
                    ));
                }
                let total = handshake::TLS_HEADER_LEN + len as usize;
                if self.tls_handshake.len() < total {
                    return Ok(());
                }
                let whole: Vec<u8> = self.tls_handshake.drain(..total).collect();
                self.handle_message(whole[0], 0, whole[4..].to_vec(), now)?;
                if matches!(self.state, State::Closed | State::Failed) {
                    return Ok(());
                }
            }
        }
    }

    fn handle_message(
        &mut self,
        msg_type: u8,
        seq: u16,
        body: Vec<u8>,
        now: Instant,
    ) -> Result<(), DtlsError> {
        match self.role {
            Role::Client => self.client_message(msg_type, seq, body, now),
            Role::Server => self.server_message(msg_type, seq, body, now),
        }
    }

    /// Adds a received message to the transcript.
    pub(super) fn hash_received(&mut self, msg_type: u8, seq: u16, body: &[u8]) {
        let m = full_message(self.dtls(), msg_type, seq, body);
        self.hs.transcript.extend_from_slice(&m);
    }

    fn handle_change_cipher_spec(&mut self, data: &[u8], now: Instant) -> Result<(), DtlsError> {
        let expected = matches!(self.state, State::ClientWaitCcs | State::ServerWaitCcs)
            && self.pending_read.is_some();
        if data != [1] {
            if self.dtls() {
                return Ok(());
            }
            return Err(self.fatal(
                Step::ChangeCipherSpec,
                AlertDescription::DECODE_ERROR,
                "a ChangeCipherSpec is not the single byte 1",
            ));
        }
        if !expected || !self.tls_handshake.is_empty() {
            if self.dtls() {
                // Early (reordered before the messages it follows) or stale:
                // the peer retransmits its flight if it matters.
                return Ok(());
            }
            return Err(self.fatal(
                Step::ChangeCipherSpec,
                AlertDescription::UNEXPECTED_MESSAGE,
                "a ChangeCipherSpec out of place",
            ));
        }
        self.reader = self.pending_read.take();
        self.read_epoch += 1;
        self.replay = ReplayWindow::default();
        self.tls_read_seq = 0;
        self.state = match self.state {
            State::ClientWaitCcs => State::ClientWaitFinished,
            _ => State::ServerWaitFinished,
        };
        // Records of the new epoch that came early.
        let deferred = std::mem::take(&mut self.deferred);
        for (h, fragment) in deferred {
            if h.epoch == self.read_epoch {
                self.handle_dtls_record(h, &fragment, now)?;
                if matches!(self.state, State::Closed | State::Failed) {
                    break;
                }
            }
        }
        Ok(())
    }

    fn handle_alert(&mut self, data: &[u8]) -> Result<(), DtlsError> {
        if data.len() != 2 {
            if self.dtls() {
                return Ok(());
            }
            return Err(self.fatal(
                Step::Record,
                AlertDescription::DECODE_ERROR,
                "an alert is not two bytes",
            ));
        }
        let desc = AlertDescription(data[1]);
        if desc == AlertDescription::CLOSE_NOTIFY {
            self.peer_closed = true;
            if !self.sent_close && self.state == State::Established && !self.half_close {
                self.close();
            }
            if self.is_handshaking() {
                return Err(self.record_error(DtlsError {
                    step: self.state.step(),
                    cause: Cause::ReceivedAlert(desc),
                }));
            }
            // Half-closed: we may still send until our own close().
            if self.sent_close || !self.half_close {
                self.state = State::Closed;
            }
            return Ok(());
        }
        if data[0] == 2 {
            let e = DtlsError {
                step: self.state.step(),
                cause: Cause::ReceivedAlert(desc),
            };
            return Err(self.record_error(e));
        }
        // Warnings (no_renegotiation, …) change nothing.
        Ok(())
    }

    /// A ClientHello or HelloRequest after the handshake: renegotiation,
    /// which we refuse with a warning (RFC 5746 §4.2 leaves that open).
    pub(super) fn refuse_renegotiation(&mut self) {
        let rec = self.encode_record(
            self.write_epoch,
            ContentType::Alert,
            &[1, AlertDescription::NO_RENEGOTIATION.0],
        );
        self.push_output(rec);
    }

    /// Fresh random bytes.
    pub(super) fn random32(&mut self) -> [u8; 32] {
        let mut r = [0u8; 32];
        self.rng.fill(&mut r);
        r
    }

    /// Resets the DTLS transcript and message numbering for a ClientHello
    /// after a HelloVerifyRequest (RFC 6347 §4.2.1: neither the first
    /// ClientHello nor the HelloVerifyRequest is hashed).
    pub(super) fn reset_transcript(&mut self) {
        self.hs.transcript.clear();
    }
}
