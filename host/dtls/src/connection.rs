//! The sans-IO connection: it routes what comes in (through the
//! [`deframer`](crate::deframer), the [`record layer`](crate::record_layer)
//! and reassembly) to the handshake, alerts or application data, and what
//! goes out through [`flights`](crate::flight). The handshake state machines
//! are in [`super::client`] and [`super::server`].

use std::collections::VecDeque;
use std::time::Instant;

use super::cipher::TrafficKeys;
use super::deframer::{self, HandshakeJoiner, StreamError, TlsDeframer};
use super::flight::{FlightItem, Flights, Output};
use super::msgs::codec::{DecodeError, Reader};
use super::msgs::enums::{ContentType, HandshakeType};
use super::msgs::handshake::{self, full_message, FragmentHeader};
use super::reassembly::{Fragment, Reassembler};
use super::record::{self, RecordHeader};
use super::record_layer::{OpenError, RecordLayer};
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
    /// The peer's keys are installed, waiting for its ChangeCipherSpec.
    pub keys_pending: bool,
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

    record_layer: RecordLayer,
    tls_deframer: TlsDeframer,
    tls_joiner: HandshakeJoiner,
    reassembler: Reassembler,
    deferred: Vec<(RecordHeader, Vec<u8>)>,
    peer_retransmitted: bool,
    flights: Flights,
    out: Output,

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
        let refused = config.check(role).err();
        let dtls = config.variant == Variant::Dtls;
        let mut c = Connection {
            record_layer: RecordLayer::new(config.variant),
            flights: Flights::new(dtls, config.mtu, config.retransmit),
            out: Output::new(dtls),
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
            tls_deframer: TlsDeframer::default(),
            tls_joiner: HandshakeJoiner::default(),
            reassembler: Reassembler::new(),
            deferred: Vec::new(),
            peer_retransmitted: false,
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
        self.record_layer.continue_epoch0_at(record_seq);
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
        let timeout =
            self.flights
                .on_timeout(now, &mut self.record_layer, &mut *self.rng, &mut self.out);
        match timeout {
            Some(true) => Ok(()),
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
        self.flights.deadline()
    }

    /// The next datagram (DTLS) or bytes (TLS) to send.
    pub fn poll_output(&mut self) -> Option<Vec<u8>> {
        self.out.pop()
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
            retransmissions: self.flights.retransmissions,
        }
    }

    /// The handshake secrets (e.g. to count invocations).
    pub fn secrets(&self) -> &S {
        &self.secrets
    }

    /// Largest application payload one record (one datagram on DTLS) carries.
    pub fn max_payload(&self) -> usize {
        if self.dtls() {
            let overhead = self.record_layer.overhead(self.record_layer.write_epoch());
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
            self.send_record(ContentType::ApplicationData, chunk);
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
        self.send_record(ContentType::Alert, &[1, AlertDescription::CLOSE_NOTIFY.0]);
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
        self.flights.answered();
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
            self.send_record(ContentType::Alert, &[2, alert.0]);
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

    pub(super) fn decode_failed(&mut self, step: Step, e: DecodeError) -> DtlsError {
        self.fatal(step, AlertDescription::DECODE_ERROR, e.0)
    }

    // ---- output -------------------------------------------------------------------

    /// One record of the current write epoch.
    fn send_record(&mut self, ct: ContentType, payload: &[u8]) {
        let epoch = self.record_layer.write_epoch();
        let rec = self.record_layer.seal(epoch, ct, payload, &mut *self.rng);
        self.out.push(rec);
    }

    /// The `message_seq` our next handshake message gets.
    pub(super) fn next_send_seq(&self) -> u16 {
        self.flights.next_send_seq()
    }

    /// DTLS server: our next message follows the ClientHello in numbering.
    pub(super) fn set_next_send_seq(&mut self, seq: u16) {
        self.flights.set_next_send_seq(seq);
    }

    /// Adds a handshake message we send to the transcript and to `items`.
    pub(super) fn queue_message(
        &mut self,
        items: &mut Vec<FlightItem>,
        t: HandshakeType,
        body: Vec<u8>,
    ) {
        let epoch = self.record_layer.write_epoch();
        let whole = self.flights.queue_message(items, epoch, t as u8, body);
        self.hs.transcript.extend_from_slice(&whole);
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
        let expected = full_message(self.dtls(), t as u8, self.next_send_seq(), body);
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
            epoch: self.record_layer.write_epoch(),
        });
        self.record_layer.next_write_epoch();
    }

    /// Installs the keys: the peer's direction waits for its ChangeCipherSpec,
    /// ours for our own.
    pub(super) fn install_keys(&mut self, suite: Suite, keys: &TrafficKeys) {
        self.record_layer.install_keys(suite, keys, self.role);
        self.hs.keys_pending = true;
    }

    /// Sends a flight. `await_answer`: arm the retransmission timer (DTLS).
    pub(super) fn send_flight(&mut self, items: Vec<FlightItem>, await_answer: bool, now: Instant) {
        self.flights.send(
            items,
            await_answer,
            now,
            self.reassembler.next_seq(),
            &mut self.record_layer,
            &mut *self.rng,
            &mut self.out,
        );
    }

    /// Drops the flight: nothing left to retransmit.
    pub(super) fn flight_done(&mut self) {
        self.flights.done();
    }

    /// Stops the timer but keeps the flight (the server's last flight, resent
    /// if the client shows it missed it).
    pub(super) fn flight_answered(&mut self) {
        self.flights.answered();
    }

    // ---- input: DTLS ---------------------------------------------------------------

    fn handle_datagram(&mut self, datagram: &[u8], now: Instant) -> Result<(), DtlsError> {
        self.peer_retransmitted = false;
        for (h, ct, fragment) in deframer::dtls_records(datagram) {
            self.handle_dtls_record(h, ct, fragment, now)?;
            if matches!(self.state, State::Closed | State::Failed) {
                return Ok(());
            }
        }
        if self.peer_retransmitted {
            self.peer_retransmitted = false;
            // A client that is done has nothing to resend (the server's flight
            // was the last); anyone else resends the flight the peer missed.
            let done_client = self.role == Role::Client && self.state == State::Established;
            if self.flights.has_flight() && !done_client {
                self.flights
                    .resend(&mut self.record_layer, &mut *self.rng, &mut self.out);
            }
        }
        Ok(())
    }

    fn handle_dtls_record(
        &mut self,
        h: RecordHeader,
        ct: ContentType,
        fragment: &[u8],
        now: Instant,
    ) -> Result<(), DtlsError> {
        let read_epoch = self.record_layer.read_epoch();
        if h.epoch == read_epoch {
            // RFC 6347 §4.1.2.7: invalid records are dropped silently.
            match self.record_layer.open_dtls(&h, fragment) {
                Some(plaintext) => self.handle_plaintext(ct, h.epoch, &plaintext, now),
                None => Ok(()),
            }
        } else if h.epoch == read_epoch.wrapping_add(1) {
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
        self.tls_deframer.push(bytes);
        loop {
            if matches!(self.state, State::Closed | State::Failed) {
                return Ok(());
            }
            let (h, ct, fragment) = match self.tls_deframer.pop() {
                Ok(Some(rec)) => rec,
                Ok(None) => return Ok(()),
                Err(StreamError::Overflow) => {
                    return Err(self.fatal(
                        Step::Record,
                        AlertDescription::RECORD_OVERFLOW,
                        "a record is longer than 2^14 + 2048 bytes",
                    ))
                }
                Err(StreamError::UnknownContentType(t)) => {
                    return Err(self.fatal(
                        Step::Record,
                        AlertDescription::UNEXPECTED_MESSAGE,
                        format!("unknown record content type {t}"),
                    ))
                }
                Err(StreamError::Version(v)) => {
                    return Err(self.fatal(
                        Step::Record,
                        AlertDescription::PROTOCOL_VERSION,
                        format!("record version 0x{v:04x} is not TLS"),
                    ))
                }
            };
            let plaintext = match self.record_layer.open_tls(&h, &fragment) {
                Ok(p) => p,
                Err(OpenError::BadMac) => {
                    return Err(self.fatal(
                        Step::Record,
                        AlertDescription::BAD_RECORD_MAC,
                        "a record does not authenticate",
                    ))
                }
                Err(OpenError::Overflow) => {
                    return Err(self.fatal(
                        Step::Record,
                        AlertDescription::RECORD_OVERFLOW,
                        "a plaintext record is longer than 2^14 bytes",
                    ))
                }
            };
            let epoch = self.record_layer.read_epoch();
            self.handle_plaintext(ct, epoch, &plaintext, now)?;
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
                        if self.flights.is_peer_resend(message_seq, h.fragment_offset) {
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
            if let Err(why) = self.tls_joiner.push(data) {
                return Err(self.fatal(self.state.step(), AlertDescription::DECODE_ERROR, why));
            }
            loop {
                let (msg_type, body) = match self.tls_joiner.pop() {
                    Ok(Some(m)) => m,
                    Ok(None) => return Ok(()),
                    Err(why) => {
                        return Err(self.fatal(
                            self.state.step(),
                            AlertDescription::DECODE_ERROR,
                            why,
                        ))
                    }
                };
                self.handle_message(msg_type, 0, body, now)?;
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
            && self.hs.keys_pending;
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
        if !expected || !self.tls_joiner.is_empty() {
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
        self.record_layer.next_read_epoch();
        self.hs.keys_pending = false;
        self.state = match self.state {
            State::ClientWaitCcs => State::ClientWaitFinished,
            _ => State::ServerWaitFinished,
        };
        // Records of the new epoch that came early.
        let deferred = std::mem::take(&mut self.deferred);
        for (h, fragment) in deferred {
            let Some(ct) = ContentType::from_u8(h.content_type) else {
                continue;
            };
            if h.epoch == self.record_layer.read_epoch() {
                self.handle_dtls_record(h, ct, &fragment, now)?;
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
        self.send_record(
            ContentType::Alert,
            &[1, AlertDescription::NO_RENEGOTIATION.0],
        );
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
