//! The sans-IO connection: it routes what comes in (through the
//! [`deframer`](crate::deframer), the [`record layer`](crate::record_layer)
//! and reassembly) to the handshake, alerts or application data, and what
//! goes out through [`flights`](crate::flight). The handshake state machines
//! are in [`super::client`] and [`super::server`], one type per state; the
//! connection holds the current one and hands it each message.

use std::collections::VecDeque;
use std::time::Instant;

use super::client;
use super::common::{Context, Message, State};
use super::deframer::{self, HandshakeJoiner, StreamError, TlsDeframer};
use super::flight::{FlightItem, Flights, Output};
use super::msgs::codec::Reader;
use super::msgs::enums::ContentType;
use super::msgs::handshake::FragmentHeader;
use super::reassembly::{Fragment, Reassembler};
use super::record::{self, RecordHeader};
use super::record_layer::{OpenError, RecordLayer};
use super::secrets::HandshakeSecrets;
use super::server;
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

/// Where the connection is: in a handshake or traffic state, or over.
enum Phase {
    Running(Box<dyn State>),
    Closed,
    Failed,
}

/// What the handshake states send through: the record layer, our flights
/// and the output queue (and the randoms sealing needs).
pub(crate) struct Link {
    dtls: bool,
    pub(crate) rng: Box<dyn RandomSource>,
    pub(crate) record_layer: RecordLayer,
    pub(crate) flights: Flights,
    pub(crate) out: Output,
    reassembler: Reassembler,
}

impl Link {
    pub fn dtls(&self) -> bool {
        self.dtls
    }

    /// One record of the current write epoch.
    pub fn send_record(&mut self, ct: ContentType, payload: &[u8]) {
        let epoch = self.record_layer.write_epoch();
        let rec = self.record_layer.seal(epoch, ct, payload, &mut *self.rng);
        self.out.push(rec);
    }

    /// Sends a flight. `await_answer`: arm the retransmission timer (DTLS).
    pub fn send_flight(&mut self, items: Vec<FlightItem>, await_answer: bool, now: Instant) {
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

    fn resend_flight(&mut self) {
        self.flights
            .resend(&mut self.record_layer, &mut *self.rng, &mut self.out);
    }
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
    role: Role,
    config: Config,
    pub(super) secrets: S,
    phase: Phase,
    error: Option<DtlsError>,
    /// What the handshake learnt (the counters are filled in by `info`).
    info: ConnectionInfo,
    link: Link,

    tls_deframer: TlsDeframer,
    tls_joiner: HandshakeJoiner,
    deferred: Vec<(RecordHeader, Vec<u8>)>,
    peer_retransmitted: bool,

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
            link: Link {
                dtls,
                rng,
                record_layer: RecordLayer::new(config.variant),
                flights: Flights::new(dtls, config.mtu, config.retransmit),
                out: Output::new(dtls),
                reassembler: Reassembler::new(),
            },
            role,
            config,
            secrets,
            phase: Phase::Failed,
            error: None,
            info: ConnectionInfo::default(),
            tls_deframer: TlsDeframer::default(),
            tls_joiner: HandshakeJoiner::default(),
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
        let mut cx = Context {
            config: &c.config,
            secrets: &mut c.secrets,
            info: &mut c.info,
            link: &mut c.link,
            now,
        };
        let first = match role {
            Role::Client => client::start(&mut cx),
            Role::Server => Ok(server::start(&mut cx)),
        };
        match first {
            Ok(state) => c.phase = Phase::Running(state),
            // The Secure Environment refused to open the handshake.
            Err(e) => {
                c.record_error(e);
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
        if matches!(&self.phase, Phase::Running(state) if state.step() == Step::ClientHello) {
            self.phase = Phase::Running(server::start_with_cookie_secret(secret));
        }
        self.link.reassembler.start_at(message_seq);
        self.link.record_layer.continue_epoch0_at(record_seq);
    }

    fn dtls(&self) -> bool {
        self.link.dtls
    }

    /// The step an error now belongs to.
    fn step(&self) -> Step {
        match &self.phase {
            Phase::Running(state) => state.step(),
            Phase::Closed | Phase::Failed => Step::Close,
        }
    }

    fn is_over(&self) -> bool {
        matches!(self.phase, Phase::Closed | Phase::Failed)
    }

    // ---- public interface ---------------------------------------------------------

    /// Takes one datagram (DTLS) or the next bytes of the stream (TLS).
    pub fn handle_input(&mut self, bytes: &[u8], now: Instant) -> Result<(), DtlsError> {
        if let Some(e) = &self.error {
            return Err(e.clone());
        }
        if matches!(self.phase, Phase::Closed) {
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
        let link = &mut self.link;
        let timeout =
            link.flights
                .on_timeout(now, &mut link.record_layer, &mut *link.rng, &mut link.out);
        match timeout {
            Some(true) => Ok(()),
            Some(false) => {
                let e = DtlsError {
                    step: self.step(),
                    cause: Cause::Timeout,
                };
                self.phase = Phase::Failed;
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
        self.link.flights.deadline()
    }

    /// The next datagram (DTLS) or bytes (TLS) to send.
    pub fn poll_output(&mut self) -> Option<Vec<u8>> {
        self.link.out.pop()
    }

    /// Application data received, in order of arrival.
    pub fn recv(&mut self) -> Option<Vec<u8>> {
        self.app_in.pop_front()
    }

    pub fn is_established(&self) -> bool {
        matches!(&self.phase, Phase::Running(state) if state.is_traffic())
    }

    /// Whether the handshake is still running.
    pub fn is_handshaking(&self) -> bool {
        matches!(&self.phase, Phase::Running(state) if !state.is_traffic())
    }

    /// The peer sent close_notify (or the connection failed).
    pub fn is_closed(&self) -> bool {
        self.peer_closed || self.is_over()
    }

    pub fn error(&self) -> Option<&DtlsError> {
        self.error.as_ref()
    }

    pub fn info(&self) -> ConnectionInfo {
        ConnectionInfo {
            invocations: self.secrets.invocations(),
            retransmissions: self.link.flights.retransmissions,
            ..self.info.clone()
        }
    }

    /// The handshake secrets (e.g. to count invocations).
    pub fn secrets(&self) -> &S {
        &self.secrets
    }

    /// Largest application payload one record (one datagram on DTLS) carries.
    pub fn max_payload(&self) -> usize {
        if self.dtls() {
            let overhead = self
                .link
                .record_layer
                .overhead(self.link.record_layer.write_epoch());
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
        if !self.is_established() || self.sent_close {
            return Err(DtlsError {
                step: Step::ApplicationData,
                cause: Cause::NotConnected,
            });
        }
        let max = self.max_payload();
        for chunk in data.chunks(max) {
            self.link.send_record(ContentType::ApplicationData, chunk);
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
        if self.sent_close || matches!(self.phase, Phase::Failed) {
            return;
        }
        self.sent_close = true;
        self.link
            .send_record(ContentType::Alert, &[1, AlertDescription::CLOSE_NOTIFY.0]);
        if self.peer_closed {
            self.phase = Phase::Closed;
        }
    }

    // ---- errors -------------------------------------------------------------------

    fn record_error(&mut self, e: DtlsError) -> DtlsError {
        if self.error.is_none() {
            self.error = Some(e.clone());
        }
        self.phase = Phase::Failed;
        self.link.flights.answered();
        e
    }

    /// Sends a fatal alert and fails the connection (for what the record
    /// layer finds; the handshake states send theirs through their context).
    fn fatal(
        &mut self,
        step: Step,
        alert: AlertDescription,
        detail: impl Into<String>,
    ) -> DtlsError {
        let e = DtlsError::sent(step, alert, detail);
        if self.error.is_none() {
            self.link.send_record(ContentType::Alert, &[2, alert.0]);
        }
        self.record_error(e)
    }

    // ---- input: DTLS ---------------------------------------------------------------

    fn handle_datagram(&mut self, datagram: &[u8], now: Instant) -> Result<(), DtlsError> {
        self.peer_retransmitted = false;
        for (h, ct, fragment) in deframer::dtls_records(datagram) {
            self.handle_dtls_record(h, ct, fragment, now)?;
            if self.is_over() {
                return Ok(());
            }
        }
        if self.peer_retransmitted {
            self.peer_retransmitted = false;
            // A client that is done has nothing to resend (the server's flight
            // was the last); anyone else resends the flight the peer missed.
            let done_client = self.role == Role::Client && self.is_established();
            if self.link.flights.has_flight() && !done_client {
                self.link.resend_flight();
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
        let read_epoch = self.link.record_layer.read_epoch();
        if h.epoch == read_epoch {
            // RFC 6347 §4.1.2.7: invalid records are dropped silently.
            match self.link.record_layer.open_dtls(&h, fragment) {
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
            if self.is_over() {
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
            let plaintext = match self.link.record_layer.open_tls(&h, &fragment) {
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
            let epoch = self.link.record_layer.read_epoch();
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
                if self.is_established() && epoch > 0 {
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
                    Err(e) => {
                        return Err(self.fatal(self.step(), AlertDescription::DECODE_ERROR, e.0))
                    }
                };
                match self.link.reassembler.insert(&h, body) {
                    Ok(Fragment::Accepted) => {}
                    Ok(Fragment::Old { message_seq }) => {
                        if self
                            .link
                            .flights
                            .is_peer_resend(message_seq, h.fragment_offset)
                        {
                            self.peer_retransmitted = true;
                        }
                    }
                    Ok(Fragment::TooFar) => {}
                    Err(e) => {
                        return Err(self.fatal(self.step(), AlertDescription::DECODE_ERROR, e.0))
                    }
                }
            }
            while let Some(m) = self.link.reassembler.pop() {
                self.handle_message(m.msg_type, m.message_seq, m.body, now)?;
                if self.is_over() {
                    break;
                }
            }
            Ok(())
        } else {
            if let Err(why) = self.tls_joiner.push(data) {
                return Err(self.fatal(self.step(), AlertDescription::DECODE_ERROR, why));
            }
            loop {
                let (msg_type, body) = match self.tls_joiner.pop() {
                    Ok(Some(m)) => m,
                    Ok(None) => return Ok(()),
                    Err(why) => {
                        return Err(self.fatal(self.step(), AlertDescription::DECODE_ERROR, why))
                    }
                };
                self.handle_message(msg_type, 0, body, now)?;
                if self.is_over() {
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
        self.dispatch(
            Message::Handshake {
                msg_type,
                seq,
                body,
            },
            now,
        )
    }

    /// Hands a message to the current state, which becomes the next one.
    fn dispatch(&mut self, m: Message, now: Instant) -> Result<(), DtlsError> {
        let Phase::Running(state) = std::mem::replace(&mut self.phase, Phase::Failed) else {
            return Ok(());
        };
        let mut cx = Context {
            config: &self.config,
            secrets: &mut self.secrets,
            info: &mut self.info,
            link: &mut self.link,
            now,
        };
        // On an error the phase stays Failed, and the error fails the
        // connection on its way out.
        self.phase = Phase::Running(state.handle(&mut cx, m)?);
        Ok(())
    }

    fn handle_change_cipher_spec(&mut self, data: &[u8], now: Instant) -> Result<(), DtlsError> {
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
        if !self.tls_joiner.is_empty() {
            // In the middle of a handshake message.
            return Err(self.fatal(
                Step::ChangeCipherSpec,
                AlertDescription::UNEXPECTED_MESSAGE,
                "a ChangeCipherSpec out of place",
            ));
        }
        let epoch = self.link.record_layer.read_epoch();
        self.dispatch(Message::ChangeCipherSpec, now)?;
        if self.link.record_layer.read_epoch() == epoch {
            return Ok(());
        }
        // Records of the new epoch that came early.
        let deferred = std::mem::take(&mut self.deferred);
        for (h, fragment) in deferred {
            let Some(ct) = ContentType::from_u8(h.content_type) else {
                continue;
            };
            if h.epoch == self.link.record_layer.read_epoch() {
                self.handle_dtls_record(h, ct, &fragment, now)?;
                if self.is_over() {
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
            if !self.sent_close && self.is_established() && !self.half_close {
                self.close();
            }
            if self.is_handshaking() {
                return Err(self.record_error(DtlsError {
                    step: self.step(),
                    cause: Cause::ReceivedAlert(desc),
                }));
            }
            // Half-closed: we may still send until our own close().
            if self.sent_close || !self.half_close {
                self.phase = Phase::Closed;
            }
            return Ok(());
        }
        if data[0] == 2 {
            let e = DtlsError {
                step: self.step(),
                cause: Cause::ReceivedAlert(desc),
            };
            return Err(self.record_error(e));
        }
        // Warnings (no_renegotiation, …) change nothing.
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::msgs::codec::Codec as _;
    use crate::msgs::enums::{ext, HandshakeType};
    use crate::msgs::handshake::{full_message, Extension, ServerHello};
    use crate::secrets::{ClientFinish, ClientOpen, SecretsError, ServerFinish, ServerOpen};
    use crate::PeerTrust;

    /// Secrets that open a client handshake (a fixed random and point) and
    /// that no test here should reach further: every other call fails.
    struct Unreachable;

    impl HandshakeSecrets for Unreachable {
        fn client_open(&mut self, _: Variant, _: &[Suite]) -> Result<ClientOpen, SecretsError> {
            Ok(ClientOpen {
                random: [0; 32],
                public: Some(vec![4; 65]),
            })
        }
        fn client_finish(&mut self, _: Suite, _: &[u8]) -> Result<ClientFinish, SecretsError> {
            Err(SecretsError::Failed("not reached".into()))
        }
        fn server_open(
            &mut self,
            _: Variant,
            _: Suite,
            _: &[u8],
        ) -> Result<ServerOpen, SecretsError> {
            Err(SecretsError::Failed("not reached".into()))
        }
        fn server_finish(&mut self, _: Suite, _: &[u8]) -> Result<ServerFinish, SecretsError> {
            Err(SecretsError::Failed("not reached".into()))
        }
    }

    struct Zeros;

    impl RandomSource for Zeros {
        fn fill(&mut self, out: &mut [u8]) {
            out.fill(0);
        }
    }

    /// A TLS client that sent its ClientHello and is then given `messages`
    /// (type, body) after a ServerHello choosing `suite`.
    fn client_given(
        suite: Suite,
        messages: &[(HandshakeType, Vec<u8>)],
    ) -> Connection<Unreachable> {
        let mut config = Config::new(Variant::Tls, vec![suite]);
        config.psk_identity = Some(b"id".to_vec());
        config.peer_trust = PeerTrust::UnauthenticatedForTesting;
        let now = Instant::now();
        let mut c = Connection::new(Role::Client, config, Unreachable, Box::new(Zeros), now);
        assert!(c.poll_output().is_some(), "the ClientHello");
        let sh = ServerHello {
            version: 0x0303,
            random: [1; 32],
            session_id: Vec::new(),
            cipher_suite: suite.id(),
            compression_method: 0,
            extensions: vec![Extension::new(ext::RENEGOTIATION_INFO, vec![0])],
        };
        let mut payload = full_message(
            false,
            HandshakeType::ServerHello as u8,
            0,
            &sh.get_encoding(),
        );
        for (t, body) in messages {
            payload.extend(full_message(false, *t as u8, 0, body));
        }
        let mut rec = Vec::new();
        record::encode_tls(ContentType::Handshake, 0x0303, &payload, &mut rec);
        let _ = c.handle_input(&rec, now);
        c
    }

    #[test]
    fn messages_out_of_order_are_unexpected() {
        // PSK: a Finished where the ServerKeyExchange or ServerHelloDone belongs.
        let c = client_given(
            Suite::PskAes128Ccm8,
            &[(HandshakeType::Finished, vec![0; 12])],
        );
        let e = c.error().expect("refused");
        assert_eq!(
            (e.step, e.alert()),
            (
                Step::ServerKeyExchange,
                Some(AlertDescription::UNEXPECTED_MESSAGE)
            )
        );
        // ECDHE: a ServerKeyExchange before the Certificate that signs it.
        let mut c = client_given(
            Suite::EcdheEcdsaAes128Ccm8,
            &[(HandshakeType::ServerKeyExchange, vec![3, 0, 23, 0])],
        );
        let e = c.error().expect("refused");
        assert_eq!(
            (e.step, e.alert()),
            (
                Step::Certificate,
                Some(AlertDescription::UNEXPECTED_MESSAGE)
            )
        );
        assert_eq!(
            c.poll_output(),
            Some(vec![21, 3, 3, 0, 2, 2, 10]),
            "the alert sent"
        );
        // ECDHE: ServerHelloDone with no ServerKeyExchange.
        let c = client_given(
            Suite::EcdheEcdsaAes128Ccm8,
            &[(HandshakeType::ServerHelloDone, Vec::new())],
        );
        assert_eq!(
            c.error().unwrap().alert(),
            Some(AlertDescription::UNEXPECTED_MESSAGE)
        );
        assert!(!c.is_established() && c.is_closed());
    }
}
