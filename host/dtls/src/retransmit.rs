//! DTLS flights and their retransmission timer (RFC 6347 §4.2.4), with
//! timers as explicit deadlines: the engine never reads a clock, it is told
//! `now` and answers with the next deadline.

use std::time::{Duration, Instant};

use super::RetransmitPolicy;

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
