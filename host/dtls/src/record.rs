//! The record layer's framing: TLS records (RFC 5246 §6.2, 5-byte header)
//! and DTLS records (RFC 6347 §4.1, 13-byte header with epoch and a 48-bit
//! sequence number), and the DTLS anti-replay window (RFC 6347 §4.1.2.6).
//! Protection (encryption, MACs) is in [`super::cipher`].

use crate::msgs::codec::{put_u16, put_u48, Reader};
pub use crate::msgs::enums::ContentType;

pub const TLS_HEADER: usize = 5;
pub const DTLS_HEADER: usize = 13;
/// Largest plaintext fragment (2^14).
pub const MAX_PLAINTEXT: usize = 1 << 14;
/// Largest protected fragment we accept: 2^14 + 2048 (RFC 5246 §6.2.3).
pub const MAX_CIPHERTEXT: usize = MAX_PLAINTEXT + 2048;
/// Largest 48-bit DTLS sequence number.
pub const MAX_DTLS_SEQ: u64 = (1 << 48) - 1;

/// One record's header. On TLS `epoch` is 0 and `seq` is not on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecordHeader {
    /// The raw content type byte (unknown types are dropped by the caller).
    pub content_type: u8,
    pub version: u16,
    pub epoch: u16,
    pub seq: u64,
    pub length: u16,
}

impl RecordHeader {
    /// The 64-bit sequence number the MAC and AEAD bind: `epoch ‖ seq48` on
    /// DTLS (RFC 6347 §4.1.2.1), the implicit counter on TLS.
    pub fn mac_seq(&self, dtls: bool) -> u64 {
        if dtls {
            ((self.epoch as u64) << 48) | (self.seq & MAX_DTLS_SEQ)
        } else {
            self.seq
        }
    }
}

/// Encodes a DTLS record.
pub fn encode_dtls(
    content_type: ContentType,
    version: u16,
    epoch: u16,
    seq: u64,
    fragment: &[u8],
    out: &mut Vec<u8>,
) {
    out.push(content_type as u8);
    put_u16(out, version);
    put_u16(out, epoch);
    put_u48(out, seq);
    put_u16(out, fragment.len() as u16);
    out.extend_from_slice(fragment);
}

/// Encodes a TLS record.
pub fn encode_tls(content_type: ContentType, version: u16, fragment: &[u8], out: &mut Vec<u8>) {
    out.push(content_type as u8);
    put_u16(out, version);
    put_u16(out, fragment.len() as u16);
    out.extend_from_slice(fragment);
}

/// Splits a datagram into DTLS records. A record whose header is cut short
/// or whose length runs past the datagram ends the walk (RFC 6347 §4.1.2.7:
/// invalid records are discarded, the rest of the datagram with them).
pub fn split_datagram(datagram: &[u8]) -> Vec<(RecordHeader, &[u8])> {
    let mut out = Vec::new();
    let mut r = Reader::new(datagram);
    while !r.is_empty() {
        let Ok(h) = decode_dtls_header(&mut r) else {
            break;
        };
        let Ok(fragment) = r.bytes(h.length as usize, "record truncated") else {
            break;
        };
        out.push((h, fragment));
    }
    out
}

fn decode_dtls_header(r: &mut Reader<'_>) -> crate::msgs::codec::Result<RecordHeader> {
    let content_type = r.u8("record header")?;
    let version = r.u16("record header")?;
    let epoch = r.u16("record header")?;
    let seq = r.u48("record header")?;
    let length = r.u16("record header")?;
    Ok(RecordHeader {
        content_type,
        version,
        epoch,
        seq,
        length,
    })
}

/// What the start of a TLS byte stream holds.
#[derive(Debug, PartialEq, Eq)]
pub enum TlsFrame {
    /// Not a whole record yet.
    Incomplete,
    /// A record: its header and the length of header plus fragment.
    Record(RecordHeader, usize),
    /// A length beyond [`MAX_CIPHERTEXT`]: fatal `record_overflow`.
    Overflow,
}

/// Looks for one whole TLS record at the start of `buf`.
pub fn parse_tls(buf: &[u8]) -> TlsFrame {
    if buf.len() < TLS_HEADER {
        return TlsFrame::Incomplete;
    }
    let length = u16::from_be_bytes([buf[3], buf[4]]);
    if length as usize > MAX_CIPHERTEXT {
        return TlsFrame::Overflow;
    }
    let total = TLS_HEADER + length as usize;
    if buf.len() < total {
        return TlsFrame::Incomplete;
    }
    TlsFrame::Record(
        RecordHeader {
            content_type: buf[0],
            version: u16::from_be_bytes([buf[1], buf[2]]),
            epoch: 0,
            seq: 0,
            length,
        },
        total,
    )
}

/// The sliding anti-replay window of one epoch (RFC 6347 §4.1.2.6, RFC 4303
/// §3.4.3): the highest sequence number accepted and a 64-bit map of the ones
/// below it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReplayWindow {
    top: Option<u64>,
    /// Bit `i` set: `top - i` was accepted.
    bitmap: u64,
}

impl ReplayWindow {
    pub const SIZE: u64 = 64;

    /// Whether `seq` is new: above the window, or inside it and not yet seen.
    /// Call before authenticating the record; [`mark`](Self::mark) after.
    pub fn check(&self, seq: u64) -> bool {
        match self.top {
            None => true,
            Some(top) if seq > top => true,
            Some(top) => {
                let behind = top - seq;
                behind < Self::SIZE && self.bitmap & (1 << behind) == 0
            }
        }
    }

    /// Records `seq` as received (only for records that authenticated).
    pub fn mark(&mut self, seq: u64) {
        match self.top {
            None => {
                self.top = Some(seq);
                self.bitmap = 1;
            }
            Some(top) if seq > top => {
                let shift = seq - top;
                self.bitmap = if shift >= Self::SIZE {
                    0
                } else {
                    self.bitmap << shift
                };
                self.bitmap |= 1;
                self.top = Some(seq);
            }
            Some(top) => {
                let behind = top - seq;
                if behind < Self::SIZE {
                    self.bitmap |= 1 << behind;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dtls_records_round_trip_and_truncation_stops() {
        let mut d = Vec::new();
        encode_dtls(ContentType::Handshake, 0xFEFD, 0, 5, b"abc", &mut d);
        encode_dtls(ContentType::Alert, 0xFEFD, 1, 6, b"de", &mut d);
        let recs = split_datagram(&d);
        assert_eq!(recs.len(), 2);
        assert_eq!(recs[0].0.seq, 5);
        assert_eq!(recs[1].0.epoch, 1);
        assert_eq!(recs[1].1, b"de");
        assert_eq!(recs[1].0.mac_seq(true), (1 << 48) | 6);
        assert_eq!(split_datagram(&d[..d.len() - 1]).len(), 1);
    }

    #[test]
    fn tls_framing() {
        let mut b = Vec::new();
        encode_tls(ContentType::ApplicationData, 0x0303, &[1, 2, 3], &mut b);
        assert_eq!(parse_tls(&b[..4]), TlsFrame::Incomplete);
        assert_eq!(parse_tls(&b[..7]), TlsFrame::Incomplete);
        assert!(matches!(parse_tls(&b), TlsFrame::Record(_, 8)));
        assert_eq!(parse_tls(&[23, 3, 3, 0xFF, 0xFF]), TlsFrame::Overflow);
    }

    #[test]
    fn replay_window() {
        let mut w = ReplayWindow::default();
        assert!(w.check(10));
        w.mark(10);
        assert!(!w.check(10));
        assert!(w.check(9));
        assert!(w.check(11));
        w.mark(100);
        assert!(!w.check(36), "fell out of the window");
        assert!(w.check(37));
        w.mark(37);
        assert!(!w.check(37));
        assert!(!w.check(100));
        w.mark(1000);
        assert!(!w.check(936));
        assert!(w.check(999));
    }
}
