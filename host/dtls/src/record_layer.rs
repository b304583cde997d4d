//! Record protection per epoch: which keys seal and open records, their
//! sequence numbers, the DTLS anti-replay window, and the switch to the next
//! epoch at each ChangeCipherSpec. The framing is in [`crate::record`], the
//! ciphers in [`crate::cipher`].

use crate::cipher::{RecordCipher, TrafficKeys};
use crate::connection::RandomSource;
use crate::record::{self, ContentType, RecordHeader, ReplayWindow};
use crate::{Role, Suite, Variant};

/// The write side of one epoch.
struct Writer {
    cipher: Option<RecordCipher>,
    next_seq: u64,
}

/// Why a TLS record was refused (DTLS records that fail are dropped).
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum OpenError {
    /// The record does not authenticate: `bad_record_mac`.
    BadMac,
    /// The plaintext is longer than 2^14: `record_overflow`.
    Overflow,
}

pub(crate) struct RecordLayer {
    variant: Variant,
    /// Every epoch we wrote in: a retransmitted flight is re-sealed with the
    /// keys of the epoch it was first sent in.
    writers: Vec<Writer>,
    write_epoch: u16,
    read_epoch: u16,
    reader: Option<RecordCipher>,
    /// Keys waiting for the peer's / our ChangeCipherSpec.
    pending_read: Option<RecordCipher>,
    pending_write: Option<RecordCipher>,
    replay: ReplayWindow,
    tls_read_seq: u64,
}

impl RecordLayer {
    pub fn new(variant: Variant) -> Self {
        RecordLayer {
            variant,
            writers: vec![Writer {
                cipher: None,
                next_seq: 0,
            }],
            write_epoch: 0,
            read_epoch: 0,
            reader: None,
            pending_read: None,
            pending_write: None,
            replay: ReplayWindow::default(),
            tls_read_seq: 0,
        }
    }

    fn dtls(&self) -> bool {
        self.variant == Variant::Dtls
    }

    pub fn write_epoch(&self) -> u16 {
        self.write_epoch
    }

    pub fn read_epoch(&self) -> u16 {
        self.read_epoch
    }

    /// Bytes protection adds to a record of `epoch`.
    pub fn overhead(&self, epoch: u16) -> usize {
        self.writers
            .get(epoch as usize)
            .and_then(|w| w.cipher.as_ref())
            .map_or(0, |c| c.overhead())
    }

    /// Seals `payload` as one record of `epoch` (empty if we never wrote in
    /// that epoch).
    pub fn seal(
        &mut self,
        epoch: u16,
        ct: ContentType,
        payload: &[u8],
        rng: &mut dyn RandomSource,
    ) -> Vec<u8> {
        let dtls = self.dtls();
        let version = self.variant.version();
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

    /// Opens a DTLS record of the current read epoch: `None` (drop it
    /// silently, RFC 6347 §4.1.2.7) if it is a replay, does not
    /// authenticate or is too long.
    pub fn open_dtls(&mut self, h: &RecordHeader, fragment: &[u8]) -> Option<Vec<u8>> {
        if h.epoch != self.read_epoch || !self.replay.check(h.seq) {
            return None;
        }
        let plaintext = match &self.reader {
            Some(c) => c
                .open(h.mac_seq(true), h.content_type, h.version, fragment)
                .ok()?,
            None => fragment.to_vec(),
        };
        if plaintext.len() > record::MAX_PLAINTEXT {
            return None;
        }
        self.replay.mark(h.seq);
        Some(plaintext)
    }

    /// Opens the next TLS record.
    pub fn open_tls(&mut self, h: &RecordHeader, fragment: &[u8]) -> Result<Vec<u8>, OpenError> {
        let seq = self.tls_read_seq;
        self.tls_read_seq += 1;
        let plaintext = match &self.reader {
            Some(c) => c
                .open(seq, h.content_type, h.version, fragment)
                .map_err(|_| OpenError::BadMac)?,
            None => fragment.to_vec(),
        };
        if plaintext.len() > record::MAX_PLAINTEXT {
            return Err(OpenError::Overflow);
        }
        Ok(plaintext)
    }

    /// New keys: the peer's direction waits for its ChangeCipherSpec, ours
    /// for our own.
    pub fn install_keys(&mut self, suite: Suite, keys: &TrafficKeys, us: Role) {
        let peer = match us {
            Role::Client => Role::Server,
            Role::Server => Role::Client,
        };
        self.pending_read = Some(RecordCipher::new(suite, keys, peer));
        self.pending_write = Some(RecordCipher::new(suite, keys, us));
    }

    /// A DTLS server admitted after a stateless cookie exchange: our
    /// epoch-0 records continue from `seq` (the HelloVerifyRequest used the
    /// numbers before it).
    pub fn continue_epoch0_at(&mut self, seq: u64) {
        self.writers[0].next_seq = seq;
    }

    /// Our ChangeCipherSpec went out: later records use the next epoch.
    pub fn next_write_epoch(&mut self) {
        let cipher = self.pending_write.take();
        self.writers.push(Writer {
            cipher,
            next_seq: 0,
        });
        self.write_epoch += 1;
    }

    /// The peer's ChangeCipherSpec came in: read with the new keys.
    pub fn next_read_epoch(&mut self) {
        self.reader = self.pending_read.take();
        self.read_epoch += 1;
        self.replay = ReplayWindow::default();
        self.tls_read_seq = 0;
    }
}
