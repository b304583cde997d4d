//! What every handshake state shares: the [`State`] trait (one type per
//! state, each consuming itself to produce the next), the [`Context`] a
//! state acts through, the messages it is given, and the data both roles
//! carry from state to state.

use std::time::Instant;

use sha2::{Digest as _, Sha256};

use crate::cipher::TrafficKeys;
use crate::connection::{ConnectionInfo, Link};
use crate::flight::FlightItem;
use crate::msgs::codec::DecodeError;
use crate::msgs::enums::{ContentType, HandshakeType};
use crate::msgs::handshake::{self, full_message};
use crate::secrets::{HandshakeSecrets, SecretsError};
use crate::{AlertDescription, Cause, Config, DtlsError, Role, Step, Suite};

/// What the connection hands a state: a whole handshake message, or the
/// peer's ChangeCipherSpec (already checked to be the single byte 1).
pub(crate) enum Message {
    Handshake {
        msg_type: u8,
        /// DTLS `message_seq` (0 on TLS).
        seq: u16,
        body: Vec<u8>,
    },
    ChangeCipherSpec,
}

impl Message {
    /// The message's `(message_seq, body)` if it is a handshake message of
    /// type `t`.
    pub fn of(&self, t: HandshakeType) -> Option<(u16, &[u8])> {
        match self {
            Message::Handshake {
                msg_type,
                seq,
                body,
            } if *msg_type == t as u8 => Some((*seq, body)),
            _ => None,
        }
    }
}

/// One state of a handshake. `handle` takes the next message and returns
/// the state that follows; a message the state does not expect is an
/// `unexpected_message` alert (see [`unexpected`]).
pub(crate) trait State: Send {
    fn handle(
        self: Box<Self>,
        cx: &mut Context<'_>,
        m: Message,
    ) -> Result<Box<dyn State>, DtlsError>;

    /// The step an error in this state (a timeout, an alert, a message that
    /// does not decode) belongs to.
    fn step(&self) -> Step;

    /// The handshake is over and application data flows.
    fn is_traffic(&self) -> bool {
        false
    }
}

/// A message `state` does not take. On DTLS a stray ChangeCipherSpec is
/// dropped (reordered before what it follows, or stale: the peer resends
/// its flight if it matters); anything else is fatal.
pub(crate) fn unexpected(
    state: Box<dyn State>,
    cx: &mut Context<'_>,
    m: &Message,
) -> Result<Box<dyn State>, DtlsError> {
    match m {
        Message::ChangeCipherSpec if cx.dtls() => Ok(state),
        Message::ChangeCipherSpec => Err(cx.fatal(
            Step::ChangeCipherSpec,
            AlertDescription::UNEXPECTED_MESSAGE,
            "a ChangeCipherSpec out of place",
        )),
        Message::Handshake { .. } => Err(cx.fatal(
            state.step(),
            AlertDescription::UNEXPECTED_MESSAGE,
            "a handshake message out of order",
        )),
    }
}

/// Everything a state acts through: the configuration, the secrets, what
/// the connection reports, and the link (record layer, flights, output).
pub(crate) struct Context<'a> {
    pub config: &'a Config,
    pub secrets: &'a mut (dyn HandshakeSecrets + 'a),
    pub info: &'a mut ConnectionInfo,
    pub(crate) link: &'a mut Link,
    pub now: Instant,
}

impl Context<'_> {
    pub fn dtls(&self) -> bool {
        self.link.dtls()
    }

    /// Fresh random bytes.
    pub fn random32(&mut self) -> [u8; 32] {
        let mut r = [0u8; 32];
        self.link.rng.fill(&mut r);
        r
    }

    /// Sends a fatal alert; the caller returns the error, which fails the
    /// connection.
    pub fn fatal(
        &mut self,
        step: Step,
        alert: AlertDescription,
        detail: impl Into<String>,
    ) -> DtlsError {
        self.link.send_record(ContentType::Alert, &[2, alert.0]);
        DtlsError::sent(step, alert, detail)
    }

    pub fn decode_failed(&mut self, step: Step, e: DecodeError) -> DtlsError {
        self.fatal(step, AlertDescription::DECODE_ERROR, e.0)
    }

    /// Maps a Secure Environment failure to its alert.
    pub fn secrets_failed(&mut self, step: Step, e: SecretsError) -> DtlsError {
        let alert = match e {
            SecretsError::UnknownPskIdentity => AlertDescription::UNKNOWN_PSK_IDENTITY,
            SecretsError::FinishedMismatch => AlertDescription::DECRYPT_ERROR,
            SecretsError::InvalidPeerKey => AlertDescription::ILLEGAL_PARAMETER,
            SecretsError::MissingCredential(_) | SecretsError::Failed(_) => {
                AlertDescription::INTERNAL_ERROR
            }
        };
        let detail = e.to_string();
        let sent = self.fatal(step, alert, detail.clone());
        match e {
            SecretsError::Failed(_) | SecretsError::MissingCredential(_) => DtlsError {
                step,
                cause: Cause::Secrets(detail),
            },
            _ => sent,
        }
    }

    /// A ClientHello or HelloRequest after the handshake: renegotiation,
    /// which we refuse with a warning (RFC 5746 §4.2 leaves that open).
    pub fn refuse_renegotiation(&mut self) {
        self.link.send_record(
            ContentType::Alert,
            &[1, AlertDescription::NO_RENEGOTIATION.0],
        );
    }

    /// Numbers a handshake message we send, adds it to `transcript` and
    /// queues it in `items`.
    pub fn queue(
        &mut self,
        transcript: &mut Transcript,
        items: &mut Vec<FlightItem>,
        t: HandshakeType,
        body: Vec<u8>,
    ) {
        let epoch = self.link.record_layer.write_epoch();
        let whole = self.link.flights.queue_message(items, epoch, t as u8, body);
        transcript.add(&whole);
    }

    /// A message built by the Secure Environment, whole with its header:
    /// checked against what we would have framed, then queued.
    pub fn queue_built(
        &mut self,
        transcript: &mut Transcript,
        items: &mut Vec<FlightItem>,
        t: HandshakeType,
        whole: &[u8],
    ) -> Result<(), String> {
        let dtls = self.dtls();
        let header = if dtls {
            handshake::DTLS_HEADER_LEN
        } else {
            handshake::TLS_HEADER_LEN
        };
        let body = whole
            .get(header..)
            .ok_or("a message from the Secure Environment is truncated")?;
        let expected = full_message(dtls, t as u8, self.next_send_seq(), body);
        if expected != whole {
            return Err(format!(
                "the Secure Environment's {t:?} message has an unexpected header"
            ));
        }
        self.queue(transcript, items, t, body.to_vec());
        Ok(())
    }

    /// Our ChangeCipherSpec: queued, then our write epoch moves on.
    pub fn queue_change_cipher_spec(&mut self, items: &mut Vec<FlightItem>) {
        items.push(FlightItem::ChangeCipherSpec {
            epoch: self.link.record_layer.write_epoch(),
        });
        self.link.record_layer.next_write_epoch();
    }

    /// The `message_seq` our next handshake message gets.
    pub fn next_send_seq(&self) -> u16 {
        self.link.flights.next_send_seq()
    }

    /// DTLS server: our next message follows the ClientHello in numbering.
    pub fn set_next_send_seq(&mut self, seq: u16) {
        self.link.flights.set_next_send_seq(seq);
    }

    /// New keys: the peer's direction waits for its ChangeCipherSpec, ours
    /// for our own.
    pub fn install_keys(&mut self, suite: Suite, keys: &TrafficKeys, us: Role) {
        self.link.record_layer.install_keys(suite, keys, us);
    }

    /// The peer's ChangeCipherSpec: read with its new keys from now on.
    pub fn peer_changed_cipher_spec(&mut self) {
        self.link.record_layer.next_read_epoch();
    }

    /// Sends a flight. `await_answer`: arm the retransmission timer (DTLS).
    pub fn send_flight(&mut self, items: Vec<FlightItem>, await_answer: bool) {
        self.link.send_flight(items, await_answer, self.now);
    }

    /// Drops our flight: nothing left to retransmit.
    pub fn flight_done(&mut self) {
        self.link.flights.done();
    }

    /// The peer answered our flight: stop the timer.
    pub fn flight_answered(&mut self) {
        self.link.flights.answered();
    }
}

/// Every handshake message that enters the Finished hashes, as hashed
/// (with TLS or DTLS headers).
pub(crate) struct Transcript {
    dtls: bool,
    bytes: Vec<u8>,
}

impl Transcript {
    pub fn new(dtls: bool) -> Self {
        Transcript {
            dtls,
            bytes: Vec::new(),
        }
    }

    /// A message as framed on the wire.
    pub fn add(&mut self, whole: &[u8]) {
        self.bytes.extend_from_slice(whole);
    }

    /// A received message, framed as it is hashed.
    pub fn add_received(&mut self, msg_type: u8, seq: u16, body: &[u8]) {
        let whole = full_message(self.dtls, msg_type, seq, body);
        self.add(&whole);
    }

    pub fn hash(&self) -> [u8; 32] {
        Sha256::digest(&self.bytes).into()
    }

    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }
}

/// What both roles carry from the hellos on.
pub(crate) struct Negotiated {
    pub suite: Suite,
    pub client_random: [u8; 32],
    pub server_random: [u8; 32],
    pub transcript: Transcript,
    /// Client: our ECDHE point, from the Secure Environment's first call.
    pub own_share: Option<Vec<u8>>,
}
