//! What we send: handshake flights, packed into datagrams (DTLS) or
//! records (TLS), their retransmission with timers as explicit deadlines
//! (RFC 6347 §4.2.4: the engine never reads a clock, it is told `now` and
//! answers with the next deadline), and the queue of bytes to send.

use std::time::{Duration, Instant};

use std::collections::VecDeque;

use crate::connection::RandomSource;
use crate::msgs::codec::Codec as _;
use crate::msgs::handshake::{self, full_message};
use crate::reassembly;
use crate::record::{self, ContentType};
use crate::record_layer::RecordLayer;
use crate::RetransmitPolicy;

/// One item of a flight, kept in plaintext so that a retransmission is
/// re-protected with fresh record sequence numbers (RFC 6347 §4.2.4).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FlightItem {
    Handshake {
        epoch: u16,
        msg_type: u8,
        message_seq: u16,
        body: Vec<u8>,
    },
    ChangeCipherSpec {
        epoch: u16,
    },
}

/// The last flight we sent, and whether we still wait for an answer to it.
#[derive(Debug)]
pub struct Flight {
    pub items: Vec<FlightItem>,
    timer: Timer,
}

impl Flight {
    pub fn new(policy: RetransmitPolicy) -> Self {
        Flight {
            items: Vec::new(),
            timer: Timer::new(policy),
        }
    }

    /// Replaces the flight. `await_answer`: arm the timer (every flight but
    /// the handshake's last, which is only resent when the peer resends).
    pub fn start(&mut self, items: Vec<FlightItem>, await_answer: bool, now: Instant) {
        self.items = items;
        if await_answer {
            self.timer.arm(now);
        } else {
            self.timer.stop();
        }
    }

    /// The peer answered: stop waiting (the flight is kept, to resend if the
    /// peer shows it missed our answer... only the final flight needs that).
    pub fn answered(&mut self) {
        self.timer.stop();
    }

    /// Nothing left to send or resend.
    pub fn clear(&mut self) {
        self.items.clear();
        self.timer.stop();
    }

    pub fn deadline(&self) -> Option<Instant> {
        self.timer.deadline
    }

    /// At or after the deadline: `Some(true)` to retransmit (timer doubled),
    /// `Some(false)` when every retransmission is spent, `None` if not due.
    pub fn on_timeout(&mut self, now: Instant) -> Option<bool> {
        match self.timer.deadline {
            Some(d) if now >= d => Some(self.timer.backoff(now)),
            _ => None,
        }
    }

    pub fn retransmissions(&self) -> u32 {
        self.timer.count
    }
}

#[derive(Debug)]
struct Timer {
    policy: RetransmitPolicy,
    current: Duration,
    deadline: Option<Instant>,
    count: u32,
}

impl Timer {
    fn new(policy: RetransmitPolicy) -> Self {
        Timer {
            policy,
            current: policy.initial,
            deadline: None,
            count: 0,
        }
    }

    fn arm(&mut self, now: Instant) {
        self.current = self.policy.initial;
        self.count = 0;
        self.deadline = Some(now + self.current);
    }

    fn stop(&mut self) {
        self.deadline = None;
    }

    fn backoff(&mut self, now: Instant) -> bool {
        if self.count >= self.policy.max_retransmissions {
            self.deadline = None;
            return false;
        }
        self.count += 1;
        self.current = (self.current * 2).min(self.policy.max);
        self.deadline = Some(now + self.current);
        true
    }
}

/// Bytes waiting to be sent: datagrams (DTLS), or one growing piece of the
/// stream (TLS).
pub(crate) struct Output {
    dtls: bool,
    queue: VecDeque<Vec<u8>>,
}

impl Output {
    pub fn new(dtls: bool) -> Self {
        Output {
            dtls,
            queue: VecDeque::new(),
        }
    }

    /// Queues records: one datagram on DTLS, more of the stream on TLS.
    pub fn push(&mut self, bytes: Vec<u8>) {
        if bytes.is_empty() {
            return;
        }
        match self.queue.back_mut() {
            Some(last) if !self.dtls => last.extend_from_slice(&bytes),
            _ => self.queue.push_back(bytes),
        }
    }

    fn push_datagram(&mut self, datagram: Vec<u8>) {
        self.queue.push_back(datagram);
    }

    pub fn pop(&mut self) -> Option<Vec<u8>> {
        self.queue.pop_front()
    }
}

/// Our handshake messages on their way out: message numbering, the flight
/// in flight, and what makes us resend it.
pub(crate) struct Flights {
    dtls: bool,
    mtu: usize,
    flight: Flight,
    next_send_seq: u16,
    /// DTLS: the `message_seq` of the last message of the peer flight our
    /// current flight answers. The peer resending it (it missed our answer)
    /// is what makes us resend (RFC 6347 §4.2.4); anything else old is not.
    answered_seq: Option<u16>,
    /// Flights we retransmitted.
    pub retransmissions: u32,
}

impl Flights {
    pub fn new(dtls: bool, mtu: usize, policy: RetransmitPolicy) -> Self {
        Flights {
            dtls,
            mtu,
            flight: Flight::new(policy),
            next_send_seq: 0,
            answered_seq: None,
            retransmissions: 0,
        }
    }

    /// The `message_seq` our next message gets.
    pub fn next_send_seq(&self) -> u16 {
        self.next_send_seq
    }

    /// DTLS server: our next message follows the ClientHello in numbering.
    pub fn set_next_send_seq(&mut self, seq: u16) {
        self.next_send_seq = seq;
    }

    /// Numbers a message we send and adds it to `items`; returns it whole,
    /// as it enters the transcript.
    pub fn queue_message(
        &mut self,
        items: &mut Vec<FlightItem>,
        epoch: u16,
        msg_type: u8,
        body: Vec<u8>,
    ) -> Vec<u8> {
        let seq = self.next_send_seq;
        self.next_send_seq = self.next_send_seq.wrapping_add(1);
        let whole = full_message(self.dtls, msg_type, seq, &body);
        items.push(FlightItem::Handshake {
            epoch,
            msg_type,
            message_seq: seq,
            body,
        });
        whole
    }

    /// Whether an old fragment (`message_seq`, `offset`) shows that the
    /// peer resends the flight our current one answers.
    pub fn is_peer_resend(&self, message_seq: u16, offset: u32) -> bool {
        Some(message_seq) == self.answered_seq && offset == 0
    }

    pub fn has_flight(&self) -> bool {
        !self.flight.items.is_empty()
    }

    pub fn deadline(&self) -> Option<Instant> {
        self.flight.deadline()
    }

    /// Sends a flight. DTLS: `await_answer` arms the retransmission timer;
    /// `peer_next_seq` is the reassembler's next expected `message_seq`.
    #[allow(clippy::too_many_arguments)]
    pub fn send(
        &mut self,
        items: Vec<FlightItem>,
        await_answer: bool,
        now: Instant,
        peer_next_seq: u16,
        rl: &mut RecordLayer,
        rng: &mut dyn RandomSource,
        out: &mut Output,
    ) {
        if self.dtls {
            self.answered_seq = peer_next_seq.checked_sub(1);
            self.flight.start(items, await_answer, now);
            self.transmit(rl, rng, out);
        } else {
            for item in &items {
                transmit_tls_item(item, rl, rng, out);
            }
        }
    }

    /// Drops the flight: nothing left to retransmit.
    pub fn done(&mut self) {
        self.flight.clear();
    }

    /// Stops the timer but keeps the flight (the server's last flight, resent
    /// if the client shows it missed it).
    pub fn answered(&mut self) {
        self.flight.answered();
    }

    /// At or after the deadline: `Some(true)` when the flight was resent,
    /// `Some(false)` when every retransmission is spent, `None` if not due.
    pub fn on_timeout(
        &mut self,
        now: Instant,
        rl: &mut RecordLayer,
        rng: &mut dyn RandomSource,
        out: &mut Output,
    ) -> Option<bool> {
        let resend = self.flight.on_timeout(now)?;
        if resend {
            self.resend(rl, rng, out);
        }
        Some(resend)
    }

    /// Resends the flight (the peer showed it missed it, or the timer).
    pub fn resend(&mut self, rl: &mut RecordLayer, rng: &mut dyn RandomSource, out: &mut Output) {
        self.retransmissions += 1;
        self.transmit(rl, rng, out);
    }

    /// (Re)sends the current DTLS flight, packing records into datagrams of
    /// at most `mtu` bytes and fragmenting handshake messages to fit.
    fn transmit(&mut self, rl: &mut RecordLayer, rng: &mut dyn RandomSource, out: &mut Output) {
        let mtu = self.mtu.max(64);
        let mut datagram: Vec<u8> = Vec::new();
        for item in &self.flight.items {
            let records: Vec<Vec<u8>> = match item {
                FlightItem::Handshake {
                    epoch,
                    msg_type,
                    message_seq,
                    body,
                } => {
                    let room = mtu.saturating_sub(
                        record::DTLS_HEADER + rl.overhead(*epoch) + handshake::DTLS_HEADER_LEN,
                    );
                    reassembly::fragment(*msg_type, *message_seq, body, room)
                        .into_iter()
                        .map(|(h, d)| {
                            let mut p = Vec::with_capacity(d.len() + 12);
                            h.encode(&mut p);
                            p.extend_from_slice(d);
                            rl.seal(*epoch, ContentType::Handshake, &p, rng)
                        })
                        .collect()
                }
                FlightItem::ChangeCipherSpec { epoch } => {
                    vec![rl.seal(*epoch, ContentType::ChangeCipherSpec, &[1], rng)]
                }
            };
            for rec in records {
                if !datagram.is_empty() && datagram.len() + rec.len() > mtu {
                    out.push_datagram(std::mem::take(&mut datagram));
                }
                datagram.extend_from_slice(&rec);
            }
        }
        if !datagram.is_empty() {
            out.push_datagram(datagram);
        }
    }
}

fn transmit_tls_item(
    item: &FlightItem,
    rl: &mut RecordLayer,
    rng: &mut dyn RandomSource,
    out: &mut Output,
) {
    match item {
        FlightItem::Handshake {
            epoch,
            msg_type,
            body,
            ..
        } => {
            let whole = full_message(false, *msg_type, 0, body);
            for chunk in whole.chunks(record::MAX_PLAINTEXT) {
                out.push(rl.seal(*epoch, ContentType::Handshake, chunk, rng));
            }
        }
        FlightItem::ChangeCipherSpec { epoch } => {
            out.push(rl.seal(*epoch, ContentType::ChangeCipherSpec, &[1], rng));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_up_to_the_cap_then_gives_up() {
        let policy = RetransmitPolicy {
            initial: Duration::from_secs(1),
            max: Duration::from_secs(5),
            max_retransmissions: 4,
        };
        let t0 = Instant::now();
        let mut f = Flight::new(policy);
        f.start(vec![FlightItem::ChangeCipherSpec { epoch: 0 }], true, t0);
        assert_eq!(f.deadline(), Some(t0 + Duration::from_secs(1)));
        assert_eq!(f.on_timeout(t0), None);
        let mut now = t0;
        let mut waits = vec![];
        while let Some(d) = f.deadline() {
            let before = now;
            now = d;
            match f.on_timeout(now) {
                Some(true) => waits.push((f.deadline().unwrap() - now).as_secs()),
                Some(false) => break,
                None => unreachable!(),
            }
            assert!(now > before);
        }
        assert_eq!(waits, vec![2, 4, 5, 5]);
        assert_eq!(f.deadline(), None);
        f.start(vec![], false, now);
        assert_eq!(f.deadline(), None);
    }
}
