//! DTLS handshake fragmentation and reassembly (RFC 6347 §4.2.3).
//!
//! [`Reassembler`] takes fragments in any order, duplicated or overlapping,
//! and yields whole messages strictly in `message_seq` order. Memory is
//! bounded: a message is at most [`MAX_MESSAGE`] bytes and only the next
//! [`WINDOW`] sequence numbers are buffered. [`fragment`] cuts an outgoing
//! message to fit a datagram.

use std::collections::BTreeMap;

use crate::msgs::codec::DecodeError;
use crate::msgs::handshake::FragmentHeader;

/// Largest handshake message we reassemble (a certificate chain fits easily).
pub const MAX_MESSAGE: u32 = 32 * 1024;
/// How many messages ahead of the next expected one we buffer.
pub const WINDOW: u16 = 16;

/// What became of one fragment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fragment {
    /// Part of a message not yet delivered: kept.
    Accepted,
    /// Part of a message already delivered: a retransmission by the peer.
    Old { message_seq: u16 },
    /// Too far ahead of what we expect: dropped.
    TooFar,
}

/// A whole message, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub msg_type: u8,
    pub message_seq: u16,
    pub body: Vec<u8>,
}

struct Partial {
    msg_type: u8,
    body: Vec<u8>,
    /// One bit per body byte received.
    have: Vec<u64>,
    missing: usize,
}

impl Partial {
    fn new(msg_type: u8, len: usize) -> Self {
        Partial {
            msg_type,
            body: vec![0; len],
            have: vec![0; len.div_ceil(64)],
            missing: len,
        }
    }

    fn add(&mut self, offset: usize, data: &[u8]) {
        for (i, b) in data.iter().enumerate() {
            let p = offset + i;
            let (w, bit) = (p / 64, 1u64 << (p % 64));
            if self.have[w] & bit == 0 {
                self.have[w] |= bit;
                self.body[p] = *b;
                self.missing -= 1;
            }
        }
    }
}

#[derive(Default)]
pub struct Reassembler {
    next_seq: u16,
    pending: BTreeMap<u16, Partial>,
}

impl Reassembler {
    pub fn new() -> Self {
        Self::default()
    }

    /// The `message_seq` of the next message to deliver.
    pub fn next_seq(&self) -> u16 {
        self.next_seq
    }

    /// Starts at `message_seq` instead of 0 (a DTLS server whose cookie
    /// exchange ran statelessly, before this connection existed).
    pub fn start_at(&mut self, message_seq: u16) {
        if self.pending.is_empty() && self.next_seq == 0 {
            self.next_seq = message_seq;
        }
    }

    /// Takes one fragment. A fragment that disagrees with earlier fragments
    /// of the same message (type or length), or describes a message larger
    /// than [`MAX_MESSAGE`], is a decode error.
    pub fn insert(&mut self, h: &FragmentHeader, data: &[u8]) -> Result<Fragment, DecodeError> {
        if h.message_seq < self.next_seq {
            return Ok(Fragment::Old {
                message_seq: h.message_seq,
            });
        }
        if h.message_seq - self.next_seq >= WINDOW {
            return Ok(Fragment::TooFar);
        }
        if h.length > MAX_MESSAGE {
            return Err(DecodeError("handshake message too large"));
        }
        if data.len() != h.fragment_length as usize
            || h.fragment_offset as u64 + h.fragment_length as u64 > h.length as u64
        {
            return Err(DecodeError("handshake fragment outside its message"));
        }
        let p = self
            .pending
            .entry(h.message_seq)
            .or_insert_with(|| Partial::new(h.msg_type, h.length as usize));
        if p.msg_type != h.msg_type || p.body.len() != h.length as usize {
            return Err(DecodeError(
                "handshake fragments of one message disagree on its type or length",
            ));
        }
        p.add(h.fragment_offset as usize, data);
        Ok(Fragment::Accepted)
    }

    /// The next whole message, if it is complete.
    pub fn pop(&mut self) -> Option<Message> {
        let done = self
            .pending
            .get(&self.next_seq)
            .is_some_and(|p| p.missing == 0);
        if !done {
            return None;
        }
        let p = self.pending.remove(&self.next_seq)?;
        let m = Message {
            msg_type: p.msg_type,
            message_seq: self.next_seq,
            body: p.body,
        };
        self.next_seq = self.next_seq.wrapping_add(1);
        Some(m)
    }

    /// Forgets everything and expects `next_seq` next.
    pub fn reset(&mut self, next_seq: u16) {
        self.pending.clear();
        self.next_seq = next_seq;
    }
}

/// Cuts one message into fragments whose body is at most `max_body` bytes
/// (at least one fragment, even for an empty body).
pub fn fragment(
    msg_type: u8,
    message_seq: u16,
    body: &[u8],
    max_body: usize,
) -> Vec<(FragmentHeader, &[u8])> {
    let max_body = max_body.max(1);
    let mut out = Vec::new();
    let mut offset = 0;
    loop {
        let n = (body.len() - offset).min(max_body);
        out.push((
            FragmentHeader {
                msg_type,
                length: body.len() as u32,
                message_seq,
                fragment_offset: offset as u32,
                fragment_length: n as u32,
            },
            &body[offset..offset + n],
        ));
        offset += n;
        if offset >= body.len() {
            return out;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reassembles_out_of_order_overlapping_and_duplicated() {
        let body: Vec<u8> = (0..1000u32).map(|i| (i * 7) as u8).collect();
        let mut frags = fragment(11, 0, &body, 97);
        let next: Vec<u8> = vec![1, 2, 3];
        frags.extend(fragment(14, 1, &next, 97));
        frags.reverse();
        let mut r = Reassembler::new();
        // Overlapping fragment covering 50..150.
        let h = FragmentHeader {
            msg_type: 11,
            length: 1000,
            message_seq: 0,
            fragment_offset: 50,
            fragment_length: 100,
        };
        assert_eq!(r.insert(&h, &body[50..150]).unwrap(), Fragment::Accepted);
        for (h, d) in frags.iter().chain(frags.iter()) {
            r.insert(h, d).unwrap();
        }
        let m = r.pop().unwrap();
        assert_eq!((m.msg_type, m.message_seq, &m.body), (11, 0, &body));
        let m = r.pop().unwrap();
        assert_eq!((m.msg_type, m.body), (14, next.clone()));
        assert!(r.pop().is_none());
        let (h, d) = &frags[0];
        assert_eq!(r.insert(h, d).unwrap(), Fragment::Old { message_seq: 1 });
    }

    #[test]
    fn refuses_inconsistent_fragments() {
        let mut r = Reassembler::new();
        let mut h = FragmentHeader {
            msg_type: 1,
            length: 10,
            message_seq: 0,
            fragment_offset: 0,
            fragment_length: 5,
        };
        r.insert(&h, &[0; 5]).unwrap();
        h.length = 11;
        assert!(r.insert(&h, &[0; 5]).is_err());
        h.length = MAX_MESSAGE + 1;
        h.message_seq = 1;
        assert!(r.insert(&h, &[0; 5]).is_err());
        h.message_seq = WINDOW;
        assert_eq!(r.insert(&h, &[0; 5]).unwrap(), Fragment::TooFar);
    }

    #[test]
    fn empty_message_is_one_fragment() {
        let f = fragment(14, 3, &[], 100);
        assert_eq!(f.len(), 1);
        let mut r = Reassembler::new();
        r.reset(3);
        r.insert(&f[0].0, f[0].1).unwrap();
        assert_eq!(r.pop().unwrap().body, Vec::<u8>::new());
    }
}
