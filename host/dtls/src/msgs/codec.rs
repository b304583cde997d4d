//! The wire codec every (D)TLS structure goes through: a bounded [`Reader`]
//! over untrusted bytes, the `put_*` writers, and the [`Codec`] trait (one
//! `encode`, one `read` per structure).
//!
//! Readers never panic: every length is checked against what is left, and
//! any inconsistency is a [`DecodeError`] (which the connection turns into a
//! `decode_error` or `illegal_parameter` alert).

use std::fmt;

/// A message or field did not decode; the text says what.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecodeError(pub &'static str);

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

pub type Result<T> = std::result::Result<T, DecodeError>;

/// A wire structure with one encoding and one decoding.
pub trait Codec: Sized {
    /// Appends the encoding to `out`.
    fn encode(&self, out: &mut Vec<u8>);

    /// Reads one value, leaving `r` after it.
    fn read(r: &mut Reader<'_>) -> Result<Self>;

    /// The encoding on its own.
    fn get_encoding(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode(&mut out);
        out
    }

    /// Reads a value that must fill `bytes` exactly.
    fn read_bytes(bytes: &[u8]) -> Result<Self> {
        let mut r = Reader::new(bytes);
        let v = Self::read(&mut r)?;
        r.end("bytes after the end of a message")?;
        Ok(v)
    }
}

/// A cursor over untrusted bytes. Every read checks the remaining length.
#[derive(Clone, Debug)]
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub fn new(buf: &'a [u8]) -> Self {
        Reader { buf, pos: 0 }
    }

    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    pub fn is_empty(&self) -> bool {
        self.remaining() == 0
    }

    pub fn position(&self) -> usize {
        self.pos
    }

    pub fn bytes(&mut self, n: usize, what: &'static str) -> Result<&'a [u8]> {
        if n > self.remaining() {
            return Err(DecodeError(what));
        }
        let out = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(out)
    }

    pub fn u8(&mut self, what: &'static str) -> Result<u8> {
        Ok(self.bytes(1, what)?[0])
    }

    pub fn u16(&mut self, what: &'static str) -> Result<u16> {
        let b = self.bytes(2, what)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    pub fn u24(&mut self, what: &'static str) -> Result<u32> {
        let b = self.bytes(3, what)?;
        Ok(u32::from_be_bytes([0, b[0], b[1], b[2]]))
    }

    pub fn u48(&mut self, what: &'static str) -> Result<u64> {
        let b = self.bytes(6, what)?;
        Ok(u64::from_be_bytes([
            0, 0, b[0], b[1], b[2], b[3], b[4], b[5],
        ]))
    }

    pub fn array<const N: usize>(&mut self, what: &'static str) -> Result<[u8; N]> {
        let b = self.bytes(N, what)?;
        let mut out = [0u8; N];
        out.copy_from_slice(b);
        Ok(out)
    }

    /// `opaque x<0..2^8-1>`
    pub fn vec8(&mut self, what: &'static str) -> Result<&'a [u8]> {
        let n = self.u8(what)? as usize;
        self.bytes(n, what)
    }

    /// `opaque x<0..2^16-1>`
    pub fn vec16(&mut self, what: &'static str) -> Result<&'a [u8]> {
        let n = self.u16(what)? as usize;
        self.bytes(n, what)
    }

    /// `opaque x<0..2^24-1>`
    pub fn vec24(&mut self, what: &'static str) -> Result<&'a [u8]> {
        let n = self.u24(what)? as usize;
        self.bytes(n, what)
    }

    /// `uint16 x<0..2^16-2>`: a list of u16 values with a 2-byte length.
    pub fn u16_list(&mut self, what: &'static str) -> Result<Vec<u16>> {
        let list = self.vec16(what)?;
        if list.len() % 2 != 0 {
            return Err(DecodeError(what));
        }
        Ok(list
            .chunks_exact(2)
            .map(|c| u16::from_be_bytes([c[0], c[1]]))
            .collect())
    }

    pub fn rest(&mut self) -> &'a [u8] {
        let out = &self.buf[self.pos..];
        self.pos = self.buf.len();
        out
    }

    /// Fails unless everything was read.
    pub fn end(&self, what: &'static str) -> Result<()> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(DecodeError(what))
        }
    }
}

/// Appends `data` with a length prefix of `width` bytes (1, 2 or 3).
/// Callers keep lengths in range: each message encoder bounds what it puts in.
pub fn put_vec(out: &mut Vec<u8>, width: usize, data: &[u8]) {
    let n = data.len();
    debug_assert!(width == 3 || n < (1 << (8 * width)));
    let len = (n as u32).to_be_bytes();
    out.extend_from_slice(&len[4 - width..]);
    out.extend_from_slice(data);
}

pub fn put_u16(out: &mut Vec<u8>, v: u16) {
    out.extend_from_slice(&v.to_be_bytes());
}

pub fn put_u24(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_be_bytes()[1..]);
}

pub fn put_u48(out: &mut Vec<u8>, v: u64) {
    out.extend_from_slice(&v.to_be_bytes()[2..]);
}

/// Appends a list of u16 values with a 2-byte length.
pub fn put_u16_list(out: &mut Vec<u8>, values: &[u16]) {
    put_u16(out, (values.len() * 2) as u16);
    for v in values {
        put_u16(out, *v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_stop_at_the_bound() {
        let mut r = Reader::new(&[0, 3, 1, 2]);
        assert_eq!(r.vec16("v"), Err(DecodeError("v")));
        let mut r = Reader::new(&[0, 2, 1, 2, 9]);
        assert_eq!(r.vec16("v").unwrap(), &[1, 2]);
        assert_eq!(r.end("tail"), Err(DecodeError("tail")));
        assert_eq!(r.u16("short"), Err(DecodeError("short")));
        assert_eq!(r.u8("x").unwrap(), 9);
        assert!(r.end("tail").is_ok());
        assert_eq!(
            Reader::new(&[0, 3, 1, 2, 3]).u16_list("odd"),
            Err(DecodeError("odd"))
        );
    }

    #[test]
    fn length_prefixes_round_trip() {
        let mut out = Vec::new();
        put_vec(&mut out, 1, b"ab");
        put_vec(&mut out, 2, b"cde");
        put_vec(&mut out, 3, b"");
        put_u16_list(&mut out, &[0x0403, 23]);
        put_u48(&mut out, 0x0102_0304_0506);
        let mut r = Reader::new(&out);
        assert_eq!(r.vec8("a").unwrap(), b"ab");
        assert_eq!(r.vec16("b").unwrap(), b"cde");
        assert_eq!(r.vec24("c").unwrap(), b"");
        assert_eq!(r.u16_list("d").unwrap(), vec![0x0403, 23]);
        assert_eq!(r.u48("e").unwrap(), 0x0102_0304_0506);
        assert!(r.is_empty());
    }
}
