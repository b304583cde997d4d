//! (D)TLS 1.2 handshake framing: the messages of a handshake transcript as
//! they enter the handshake hash, and the few fields of them the Secure
//! Environment needs (RFC 5246 §7.4, RFC 6347 §4.2.2, RFC 8422 §5.4,
//! RFC 4279 §2, RFC 7627 §5.1).
//!
//! Both sides use it: the TA to take apart the message bytes a host engine
//! passes in (and hash them itself), the host to find the session a rustls
//! signing request belongs to. Bounded and panic-free on any input: every
//! read is checked, nothing allocates, and a malformed transcript is a
//! [`FramingError`].

/// Handshake message types (RFC 5246 §7.4, RFC 6347 §4.3.2).
pub mod kind {
    pub const CLIENT_HELLO: u8 = 1;
    pub const SERVER_HELLO: u8 = 2;
    pub const HELLO_VERIFY_REQUEST: u8 = 3;
    pub const CERTIFICATE: u8 = 11;
    pub const SERVER_KEY_EXCHANGE: u8 = 12;
    pub const CERTIFICATE_REQUEST: u8 = 13;
    pub const SERVER_HELLO_DONE: u8 = 14;
    pub const CERTIFICATE_VERIFY: u8 = 15;
    pub const CLIENT_KEY_EXCHANGE: u8 = 16;
    pub const FINISHED: u8 = 20;
}

/// The extended_master_secret extension (RFC 7627).
pub const EXT_EXTENDED_MASTER_SECRET: u16 = 0x0017;
/// ServerECDHParams prefix: named_curve (3), secp256r1 (23), point length 65.
pub const NAMED_CURVE_P256: [u8; 4] = [0x03, 0x00, 0x17, 65];

/// How messages are framed: TLS (type, u24 length) or DTLS (type, u24
/// length, u16 message_seq, u24 fragment_offset, u24 fragment_length).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Framing {
    Tls,
    Dtls,
}

impl Framing {
    pub const fn header_len(self) -> usize {
        match self {
            Framing::Tls => 4,
            Framing::Dtls => 12,
        }
    }
}

/// What was wrong with a transcript or a message in it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FramingError(pub &'static str);

type Result<T> = core::result::Result<T, FramingError>;

/// A cursor over bytes that never reads past the end.
#[derive(Clone, Copy, Debug)]
pub struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    pub const fn new(bytes: &'a [u8]) -> Self {
        Reader { rest: bytes }
    }

    pub fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8]> {
        if n > self.rest.len() {
            return Err(FramingError(what));
        }
        let (head, tail) = self.rest.split_at(n);
        self.rest = tail;
        Ok(head)
    }

    pub fn u8(&mut self, what: &'static str) -> Result<u8> {
        Ok(self.take(1, what)?[0])
    }

    pub fn u16(&mut self, what: &'static str) -> Result<u16> {
        let b = self.take(2, what)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    pub fn u24(&mut self, what: &'static str) -> Result<usize> {
        let b = self.take(3, what)?;
        Ok((usize::from(b[0]) << 16) | (usize::from(b[1]) << 8) | usize::from(b[2]))
    }

    pub fn vec8(&mut self, what: &'static str) -> Result<&'a [u8]> {
        let n = self.u8(what)?;
        self.take(usize::from(n), what)
    }

    pub fn vec16(&mut self, what: &'static str) -> Result<&'a [u8]> {
        let n = self.u16(what)?;
        self.take(usize::from(n), what)
    }

    pub fn array32(&mut self, what: &'static str) -> Result<[u8; 32]> {
        let mut out = [0u8; 32];
        out.copy_from_slice(self.take(32, what)?);
        Ok(out)
    }

    pub fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }

    pub fn rest(&self) -> &'a [u8] {
        self.rest
    }

    pub fn end(&self, what: &'static str) -> Result<()> {
        if self.rest.is_empty() {
            Ok(())
        } else {
            Err(FramingError(what))
        }
    }
}

/// One whole handshake message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Message<'a> {
    pub kind: u8,
    /// DTLS message_seq (0 on TLS).
    pub seq: u16,
    pub body: &'a [u8],
    /// The message with its header, as it enters the handshake hash.
    pub raw: &'a [u8],
}

/// The messages of a transcript, in order. DTLS messages must be whole
/// (fragment_offset 0, fragment_length = length), as the hash wants them.
#[derive(Clone, Debug)]
pub struct Messages<'a> {
    framing: Framing,
    reader: Reader<'a>,
}

impl<'a> Messages<'a> {
    pub const fn new(framing: Framing, bytes: &'a [u8]) -> Self {
        Messages {
            framing,
            reader: Reader::new(bytes),
        }
    }

    fn next_message(&mut self) -> Result<Message<'a>> {
        let start = self.reader.rest();
        let kind = self.reader.u8("message type")?;
        let len = self.reader.u24("message length")?;
        let seq = match self.framing {
            Framing::Tls => 0,
            Framing::Dtls => {
                let seq = self.reader.u16("message_seq")?;
                let offset = self.reader.u24("fragment_offset")?;
                let frag = self.reader.u24("fragment_length")?;
                if offset != 0 || frag != len {
                    return Err(FramingError("a DTLS message fragment, not a whole message"));
                }
                seq
            }
        };
        let body = self.reader.take(len, "message body")?;
        let raw = start
            .get(..self.framing.header_len() + len)
            .ok_or(FramingError("message length"))?;
        Ok(Message {
            kind,
            seq,
            body,
            raw,
        })
    }
}

impl<'a> Iterator for Messages<'a> {
    type Item = Result<Message<'a>>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.reader.is_empty() {
            return None;
        }
        let r = self.next_message();
        if r.is_err() {
            // One error ends the iteration: nothing after it is trusted.
            self.reader = Reader::new(&[]);
        }
        Some(r)
    }
}

/// The ClientHello fields the Secure Environment checks.
#[derive(Clone, Copy, Debug)]
pub struct ClientHello<'a> {
    pub version: u16,
    pub random: [u8; 32],
    /// The cipher_suites list, u16 big-endian each.
    pub suites: &'a [u8],
    /// The extensions block (possibly empty), without its length.
    pub extensions: &'a [u8],
}

impl ClientHello<'_> {
    pub fn offers(&self, suite: u16) -> bool {
        self.suites
            .chunks_exact(2)
            .any(|c| u16::from_be_bytes([c[0], c[1]]) == suite)
    }
}

pub fn client_hello(framing: Framing, body: &[u8]) -> Result<ClientHello<'_>> {
    let mut r = Reader::new(body);
    let version = r.u16("ClientHello version")?;
    let random = r.array32("ClientHello random")?;
    let session_id = r.vec8("ClientHello session_id")?;
    if session_id.len() > 32 {
        return Err(FramingError("ClientHello session_id longer than 32"));
    }
    if framing == Framing::Dtls {
        r.vec8("ClientHello cookie")?;
    }
    let suites = r.vec16("ClientHello cipher_suites")?;
    if suites.is_empty() || suites.len() % 2 != 0 {
        return Err(FramingError("ClientHello cipher_suites"));
    }
    r.vec8("ClientHello compression_methods")?;
    let extensions = if r.is_empty() {
        &[][..]
    } else {
        let e = r.vec16("ClientHello extensions")?;
        r.end("bytes after the ClientHello extensions")?;
        check_extensions(e)?;
        e
    };
    Ok(ClientHello {
        version,
        random,
        suites,
        extensions,
    })
}

/// The ServerHello fields the Secure Environment needs.
#[derive(Clone, Copy, Debug)]
pub struct ServerHello {
    pub version: u16,
    pub random: [u8; 32],
    pub suite: u16,
    /// The server agreed to the extended master secret (RFC 7627).
    pub extended_master_secret: bool,
}

pub fn server_hello(body: &[u8]) -> Result<ServerHello> {
    let mut r = Reader::new(body);
    let version = r.u16("ServerHello version")?;
    let random = r.array32("ServerHello random")?;
    let session_id = r.vec8("ServerHello session_id")?;
    if session_id.len() > 32 {
        return Err(FramingError("ServerHello session_id longer than 32"));
    }
    let suite = r.u16("ServerHello cipher_suite")?;
    let compression = r.u8("ServerHello compression_method")?;
    if compression != 0 {
        return Err(FramingError("ServerHello compression"));
    }
    let extended_master_secret = if r.is_empty() {
        false
    } else {
        let e = r.vec16("ServerHello extensions")?;
        r.end("bytes after the ServerHello extensions")?;
        check_extensions(e)?;
        find_extension(e, EXT_EXTENDED_MASTER_SECRET)?.is_some()
    };
    Ok(ServerHello {
        version,
        random,
        suite,
        extended_master_secret,
    })
}

fn check_extensions(mut exts: &[u8]) -> Result<()> {
    while !exts.is_empty() {
        let mut r = Reader::new(exts);
        r.u16("extension type")?;
        r.vec16("extension data")?;
        exts = r.rest();
    }
    Ok(())
}

/// The data of extension `typ`, if present (the block must be well formed).
pub fn find_extension(exts: &[u8], typ: u16) -> Result<Option<&[u8]>> {
    let mut r = Reader::new(exts);
    while !r.is_empty() {
        let t = r.u16("extension type")?;
        let data = r.vec16("extension data")?;
        if t == typ {
            return Ok(Some(data));
        }
    }
    Ok(None)
}

/// ServerKeyExchange of an ECDHE suite: the server's point (named curve
/// secp256r1, uncompressed), and the params that the signature covers.
pub fn ecdhe_server_point(body: &[u8]) -> Result<&[u8]> {
    let mut r = Reader::new(body);
    let prefix = r.take(4, "ServerECDHParams")?;
    if prefix != NAMED_CURVE_P256 {
        return Err(FramingError("ServerECDHParams: not named curve secp256r1"));
    }
    let point = r.take(65, "ServerECDHParams point")?;
    if point[0] != 4 {
        return Err(FramingError("ServerECDHParams point is not uncompressed"));
    }
    // The signature that follows is the client engine's to verify.
    r.u16("ServerKeyExchange signature algorithm")?;
    r.vec16("ServerKeyExchange signature")?;
    r.end("bytes after the ServerKeyExchange")?;
    Ok(point)
}

/// ClientKeyExchange of an ECDHE suite: the client's point.
pub fn ecdhe_client_point(body: &[u8]) -> Result<&[u8]> {
    let mut r = Reader::new(body);
    let point = r.vec8("ClientKeyExchange point")?;
    r.end("bytes after the ClientKeyExchange point")?;
    if point.len() != 65 || point[0] != 4 {
        return Err(FramingError(
            "ClientKeyExchange point is not uncompressed P-256",
        ));
    }
    Ok(point)
}

/// ClientKeyExchange of a PSK suite: the psk_identity (RFC 4279 §2).
pub fn psk_identity(body: &[u8]) -> Result<&[u8]> {
    let mut r = Reader::new(body);
    let identity = r.vec16("ClientKeyExchange psk_identity")?;
    r.end("bytes after the psk_identity")?;
    Ok(identity)
}

/// Is this Certificate message empty (no certificate, or RFC 7250 nothing)?
pub fn certificate_is_empty(body: &[u8]) -> Result<bool> {
    let mut r = Reader::new(body);
    let len = r.u24("Certificate length")?;
    r.take(len, "Certificate list")?;
    r.end("bytes after the Certificate list")?;
    Ok(len == 0)
}

/// Writes a handshake header for a body of `len` bytes into `out` (4 or 12
/// bytes, by framing); returns its length.
pub fn header(framing: Framing, kind: u8, len: usize, seq: u16, out: &mut [u8; 12]) -> usize {
    let len24 = [(len >> 16) as u8, (len >> 8) as u8, len as u8];
    out[0] = kind;
    out[1..4].copy_from_slice(&len24);
    if framing == Framing::Dtls {
        out[4..6].copy_from_slice(&seq.to_be_bytes());
        out[6..9].copy_from_slice(&[0, 0, 0]);
        out[9..12].copy_from_slice(&len24);
    }
    framing.header_len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    #[test]
    fn tls_messages_split() {
        let t = [1u8, 0, 0, 2, 0xaa, 0xbb, 14, 0, 0, 0];
        let m: Vec<_> = Messages::new(Framing::Tls, &t)
            .collect::<Result<Vec<_>>>()
            .unwrap();
        assert_eq!(m.len(), 2);
        assert_eq!(
            (m[0].kind, m[0].body, m[0].raw),
            (1, &[0xaa, 0xbb][..], &t[..6])
        );
        assert_eq!((m[1].kind, m[1].body.len()), (14, 0));
    }

    #[test]
    fn truncated_and_fragmented_messages_are_errors() {
        assert!(Messages::new(Framing::Tls, &[1, 0, 0, 5, 1])
            .next()
            .unwrap()
            .is_err());
        // DTLS: fragment_length != length.
        let frag = [1u8, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 1, 0xaa, 0xbb];
        assert!(Messages::new(Framing::Dtls, &frag).next().unwrap().is_err());
    }
}
