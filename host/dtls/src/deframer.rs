//! From bytes to records, and from handshake records to messages: a TLS
//! byte stream is cut into records, a DTLS datagram split into the records
//! it carries, and TLS handshake records joined into whole messages (DTLS
//! messages are reassembled from fragments by [`crate::reassembly`]).

use crate::msgs::enums::ContentType;
use crate::msgs::handshake::TLS_HEADER_LEN;
use crate::reassembly::MAX_MESSAGE;
use crate::record::{self, RecordHeader, TlsFrame};

/// The DTLS records of a datagram worth looking at: a known content type,
/// a DTLS version, a sane length. Others are dropped silently (RFC 6347
/// §4.1.2.7), as is everything after a record cut short.
pub(crate) fn dtls_records(datagram: &[u8]) -> Vec<(RecordHeader, ContentType, &[u8])> {
    record::split_datagram(datagram)
        .into_iter()
        .filter_map(|(h, fragment)| {
            let ct = ContentType::from_u8(h.content_type)?;
            let ok = h.version >> 8 == 0xFE && fragment.len() <= record::MAX_CIPHERTEXT;
            ok.then_some((h, ct, fragment))
        })
        .collect()
}

/// Why the TLS stream cannot go on.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum StreamError {
    /// A record longer than 2^14 + 2048: `record_overflow`.
    Overflow,
    /// A content type we do not know: `unexpected_message`.
    UnknownContentType(u8),
    /// Not a TLS version: `protocol_version`.
    Version(u16),
}

/// Buffers a TLS byte stream and hands out whole records.
#[derive(Default)]
pub(crate) struct TlsDeframer {
    buf: Vec<u8>,
}

impl TlsDeframer {
    pub fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// The next whole record (header, content type, fragment), if one is in.
    pub fn pop(&mut self) -> Result<Option<(RecordHeader, ContentType, Vec<u8>)>, StreamError> {
        // The type and version are judged as soon as their bytes are in, not
        // once the whole record is: bytes that are no record (injected into
        // the stream, or a peer out of step) end the stream at once instead
        // of leaving it waiting for a length read from garbage.
        if let Some(&t) = self.buf.first() {
            ContentType::from_u8(t).ok_or(StreamError::UnknownContentType(t))?;
        }
        if let [_, major, minor, ..] = self.buf[..] {
            if major != 3 {
                return Err(StreamError::Version(u16::from_be_bytes([major, minor])));
            }
        }
        let (h, total) = match record::parse_tls(&self.buf) {
            TlsFrame::Incomplete => return Ok(None),
            TlsFrame::Overflow => return Err(StreamError::Overflow),
            TlsFrame::Record(h, total) => (h, total),
        };
        let rec: Vec<u8> = self.buf.drain(..total).collect();
        let ct = ContentType::from_u8(h.content_type)
            .ok_or(StreamError::UnknownContentType(h.content_type))?;
        if h.version >> 8 != 3 {
            return Err(StreamError::Version(h.version));
        }
        Ok(Some((h, ct, rec[record::TLS_HEADER..].to_vec())))
    }
}

/// Joins TLS handshake records into messages (a message may span records,
/// a record may hold several messages).
#[derive(Default)]
pub(crate) struct HandshakeJoiner {
    buf: Vec<u8>,
}

impl HandshakeJoiner {
    pub fn push(&mut self, data: &[u8]) -> Result<(), &'static str> {
        if data.is_empty() {
            return Err("an empty handshake record");
        }
        self.buf.extend_from_slice(data);
        Ok(())
    }

    /// Whether part of a message is waiting for the rest (a
    /// ChangeCipherSpec may not come in between).
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// The next whole message: its type and body.
    pub fn pop(&mut self) -> Result<Option<(u8, Vec<u8>)>, &'static str> {
        if self.buf.len() < TLS_HEADER_LEN {
            return Ok(None);
        }
        let len = u32::from_be_bytes([0, self.buf[1], self.buf[2], self.buf[3]]);
        if len > MAX_MESSAGE {
            return Err("handshake message too large");
        }
        let total = TLS_HEADER_LEN + len as usize;
        if self.buf.len() < total {
            return Ok(None);
        }
        let whole: Vec<u8> = self.buf.drain(..total).collect();
        Ok(Some((whole[0], whole[TLS_HEADER_LEN..].to_vec())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls_stream_in_pieces() {
        let mut bytes = Vec::new();
        record::encode_tls(ContentType::Handshake, 0x0303, &[1, 0, 0, 1], &mut bytes);
        record::encode_tls(
            ContentType::Handshake,
            0x0303,
            &[7, 14, 0, 0, 0],
            &mut bytes,
        );
        let mut d = TlsDeframer::default();
        let mut j = HandshakeJoiner::default();
        let mut messages = Vec::new();
        for b in &bytes {
            d.push(&[*b]);
            while let Some((_, ct, fragment)) = d.pop().unwrap() {
                assert_eq!(ct, ContentType::Handshake);
                j.push(&fragment).unwrap();
                while let Some(m) = j.pop().unwrap() {
                    messages.push(m);
                }
            }
        }
        assert_eq!(messages, vec![(1, vec![7]), (14, vec![])]);
        assert!(j.is_empty());
        assert_eq!(j.push(&[]), Err("an empty handshake record"));
    }

    #[test]
    fn tls_stream_refusals() {
        let refused = |bytes: &[u8]| {
            let mut d = TlsDeframer::default();
            d.push(bytes);
            d.pop()
        };
        assert_eq!(
            refused(&[99, 3, 3, 0, 0]),
            Err(StreamError::UnknownContentType(99))
        );
        assert_eq!(
            refused(&[22, 0xFE, 0xFD, 0, 0]),
            Err(StreamError::Version(0xFEFD))
        );
        assert_eq!(refused(&[22, 3, 3, 0xFF, 0xFF]), Err(StreamError::Overflow));
        // Judged from the first bytes, before a length is even in (found by
        // the engine_pair fuzz target: an injected byte left a stream
        // waiting for good instead of failing).
        assert_eq!(refused(&[255]), Err(StreamError::UnknownContentType(255)));
        assert_eq!(refused(&[23, 23, 3]), Err(StreamError::Version(0x1703)));
        assert_eq!(refused(&[23, 3, 3, 0]), Ok(None));
    }

    #[test]
    fn datagram_records_are_filtered() {
        let mut d = Vec::new();
        record::encode_dtls(ContentType::Handshake, 0xFEFD, 0, 1, b"a", &mut d);
        d.extend_from_slice(&[99, 0xFE, 0xFD, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0]);
        record::encode_dtls(ContentType::Alert, 0x0303, 0, 3, b"b", &mut d);
        record::encode_dtls(ContentType::Alert, 0xFEFD, 0, 4, b"c", &mut d);
        let recs = dtls_records(&d);
        assert_eq!(recs.len(), 2);
        assert_eq!((recs[0].1, recs[0].2), (ContentType::Handshake, &b"a"[..]));
        assert_eq!((recs[1].0.seq, recs[1].2), (4, &b"c"[..]));
    }
}
