//! Handshake message codecs (RFC 5246 §7.4, RFC 6347 §4.2, RFC 4279,
//! RFC 8422, RFC 7627, RFC 6066, RFC 7250, RFC 5746): one `encode` and one
//! `decode` per message, over a bounds-checked [`Reader`].
//!
//! Decoders never panic: every length is checked against what is left, and
//! any inconsistency is a [`DecodeError`] (which the connection turns into a
//! `decode_error` or `illegal_parameter` alert).

use std::fmt;

use super::Suite;

/// A message or field did not decode; the text says what.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecodeError(pub &'static str);

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

pub type Result<T> = std::result::Result<T, DecodeError>;

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
fn put_vec(out: &mut Vec<u8>, width: usize, data: &[u8]) {
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

// ---- message types and headers ----------------------------------------------

/// `HandshakeType` (RFC 5246 §7.4, RFC 6347 §4.3.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum HandshakeType {
    HelloRequest = 0,
    ClientHello = 1,
    ServerHello = 2,
    HelloVerifyRequest = 3,
    Certificate = 11,
    ServerKeyExchange = 12,
    CertificateRequest = 13,
    ServerHelloDone = 14,
    CertificateVerify = 15,
    ClientKeyExchange = 16,
    Finished = 20,
}

impl HandshakeType {
    pub fn from_u8(v: u8) -> Option<Self> {
        use HandshakeType::*;
        Some(match v {
            0 => HelloRequest,
            1 => ClientHello,
            2 => ServerHello,
            3 => HelloVerifyRequest,
            11 => Certificate,
            12 => ServerKeyExchange,
            13 => CertificateRequest,
            14 => ServerHelloDone,
            15 => CertificateVerify,
            16 => ClientKeyExchange,
            20 => Finished,
            _ => return None,
        })
    }
}

/// The DTLS handshake header (RFC 6347 §4.2.2): 12 bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FragmentHeader {
    pub msg_type: u8,
    /// Length of the whole message body.
    pub length: u32,
    pub message_seq: u16,
    pub fragment_offset: u32,
    pub fragment_length: u32,
}

pub const DTLS_HEADER_LEN: usize = 12;
pub const TLS_HEADER_LEN: usize = 4;

impl FragmentHeader {
    /// Decodes one header and its fragment from a handshake record's
    /// payload; the fragment must lie inside the message and the record.
    pub fn decode<'a>(r: &mut Reader<'a>) -> Result<(FragmentHeader, &'a [u8])> {
        let msg_type = r.u8("handshake header")?;
        let length = r.u24("handshake header")?;
        let message_seq = r.u16("handshake header")?;
        let fragment_offset = r.u24("handshake header")?;
        let fragment_length = r.u24("handshake header")?;
        let end = fragment_offset as u64 + fragment_length as u64;
        if end > length as u64 {
            return Err(DecodeError("handshake fragment extends past its message"));
        }
        let body = r.bytes(fragment_length as usize, "handshake fragment truncated")?;
        Ok((
            FragmentHeader {
                msg_type,
                length,
                message_seq,
                fragment_offset,
                fragment_length,
            },
            body,
        ))
    }

    pub fn encode(&self, out: &mut Vec<u8>) {
        out.push(self.msg_type);
        put_u24(out, self.length);
        put_u16(out, self.message_seq);
        put_u24(out, self.fragment_offset);
        put_u24(out, self.fragment_length);
    }
}

/// A whole handshake message as it enters the transcript hash: with the
/// TLS header (type, length) or the DTLS one (RFC 6347 §4.2.6: offset 0,
/// fragment length = length).
pub fn full_message(dtls: bool, msg_type: u8, message_seq: u16, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len() + DTLS_HEADER_LEN);
    let len = body.len() as u32;
    if dtls {
        FragmentHeader {
            msg_type,
            length: len,
            message_seq,
            fragment_offset: 0,
            fragment_length: len,
        }
        .encode(&mut out);
    } else {
        out.push(msg_type);
        put_u24(&mut out, len);
    }
    out.extend_from_slice(body);
    out
}

// ---- extensions ---------------------------------------------------------------

pub mod ext {
    pub const SERVER_NAME: u16 = 0;
    pub const SUPPORTED_GROUPS: u16 = 10;
    pub const EC_POINT_FORMATS: u16 = 11;
    pub const SIGNATURE_ALGORITHMS: u16 = 13;
    pub const CLIENT_CERTIFICATE_TYPE: u16 = 19;
    pub const SERVER_CERTIFICATE_TYPE: u16 = 20;
    pub const EXTENDED_MASTER_SECRET: u16 = 23;
    pub const RENEGOTIATION_INFO: u16 = 0xFF01;
}

/// `secp256r1` (RFC 8422).
pub const GROUP_SECP256R1: u16 = 23;
/// `ecdsa_secp256r1_sha256`: hash sha256(4), signature ecdsa(3).
pub const SIG_ECDSA_SHA256: u16 = 0x0403;
/// `TLS_EMPTY_RENEGOTIATION_INFO_SCSV` (RFC 5746).
pub const SCSV_RENEGOTIATION: u16 = 0x00FF;
/// Certificate types (RFC 7250): X.509 and RawPublicKey.
pub const CERT_TYPE_X509: u8 = 0;
pub const CERT_TYPE_RAW_PUBLIC_KEY: u8 = 2;
/// `ClientCertificateType.ecdsa_sign` (RFC 8422).
pub const CLIENT_CERT_ECDSA_SIGN: u8 = 64;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Extension {
    pub typ: u16,
    pub data: Vec<u8>,
}

impl Extension {
    pub fn new(typ: u16, data: Vec<u8>) -> Self {
        Extension { typ, data }
    }

    /// `server_name` with one `host_name` (RFC 6066 §3).
    pub fn server_name(name: &str) -> Self {
        let mut entry = vec![0u8];
        put_vec(&mut entry, 2, name.as_bytes());
        let mut list = Vec::new();
        put_vec(&mut list, 2, &entry);
        Extension::new(ext::SERVER_NAME, list)
    }

    /// A list of u16 values with a 2-byte length (supported_groups, signature_algorithms).
    pub fn u16_list(typ: u16, values: &[u16]) -> Self {
        let mut body = Vec::new();
        put_u16(&mut body, (values.len() * 2) as u16);
        for v in values {
            put_u16(&mut body, *v);
        }
        Extension::new(typ, body)
    }
}

/// Decodes an extensions block (absent = empty). Duplicate types are refused
/// (RFC 5246 §7.4.1.4).
pub fn decode_extensions(r: &mut Reader<'_>) -> Result<Vec<Extension>> {
    let mut out: Vec<Extension> = Vec::new();
    if r.is_empty() {
        return Ok(out);
    }
    let block = r.vec16("extensions block truncated")?;
    let mut er = Reader::new(block);
    while !er.is_empty() {
        let typ = er.u16("extension header truncated")?;
        let data = er.vec16("extension body truncated")?;
        if out.iter().any(|e| e.typ == typ) {
            return Err(DecodeError("an extension appears twice"));
        }
        out.push(Extension::new(typ, data.to_vec()));
    }
    Ok(out)
}

fn encode_extensions(out: &mut Vec<u8>, exts: &[Extension]) {
    if exts.is_empty() {
        return;
    }
    let mut block = Vec::new();
    for e in exts {
        put_u16(&mut block, e.typ);
        put_vec(&mut block, 2, &e.data);
    }
    put_vec(out, 2, &block);
}

pub fn find_ext(exts: &[Extension], typ: u16) -> Option<&[u8]> {
    exts.iter()
        .find(|e| e.typ == typ)
        .map(|e| e.data.as_slice())
}

/// The host name of a `server_name` extension body, if it names one.
pub fn decode_server_name(data: &[u8]) -> Result<Option<String>> {
    let mut r = Reader::new(data);
    let list = r.vec16("server_name list truncated")?;
    r.end("bytes after the server_name list")?;
    let mut lr = Reader::new(list);
    let mut host = None;
    while !lr.is_empty() {
        let name_type = lr.u8("server_name entry truncated")?;
        let name = lr.vec16("server_name entry truncated")?;
        if name_type == 0 {
            if host.is_some() {
                return Err(DecodeError("two host names in server_name"));
            }
            let s =
                std::str::from_utf8(name).map_err(|_| DecodeError("server_name is not UTF-8"))?;
            host = Some(s.to_owned());
        }
    }
    Ok(host)
}

/// The values of a u16 list extension (supported_groups, signature_algorithms).
pub fn decode_u16_list(data: &[u8]) -> Result<Vec<u16>> {
    let mut r = Reader::new(data);
    let list = r.vec16("list truncated")?;
    r.end("bytes after the list")?;
    if list.len() % 2 != 0 {
        return Err(DecodeError("odd-length u16 list"));
    }
    Ok(list
        .chunks_exact(2)
        .map(|c| u16::from_be_bytes([c[0], c[1]]))
        .collect())
}

// ---- messages --------------------------------------------------------------------

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientHello {
    pub version: u16,
    pub random: [u8; 32],
    pub session_id: Vec<u8>,
    /// DTLS only (RFC 6347 §4.2.1); `None` on TLS.
    pub cookie: Option<Vec<u8>>,
    pub cipher_suites: Vec<u16>,
    pub compression_methods: Vec<u8>,
    pub extensions: Vec<Extension>,
}

impl ClientHello {
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(128);
        put_u16(&mut out, self.version);
        out.extend_from_slice(&self.random);
        put_vec(&mut out, 1, &self.session_id);
        if let Some(c) = &self.cookie {
            put_vec(&mut out, 1, c);
        }
        put_u16(&mut out, (self.cipher_suites.len() * 2) as u16);
        for s in &self.cipher_suites {
            put_u16(&mut out, *s);
        }
        put_vec(&mut out, 1, &self.compression_methods);
        encode_extensions(&mut out, &self.extensions);
        out
    }

    pub fn decode(body: &[u8], dtls: bool) -> Result<Self> {
        let mut r = Reader::new(body);
        let version = r.u16("ClientHello version")?;
        let random = r.array("ClientHello random")?;
        let session_id = r.vec8("ClientHello session_id")?;
        if session_id.len() > 32 {
            return Err(DecodeError("ClientHello session_id longer than 32"));
        }
        let cookie = if dtls {
            Some(r.vec8("ClientHello cookie")?.to_vec())
        } else {
            None
        };
        let suites = r.vec16("ClientHello cipher_suites")?;
        if suites.is_empty() || suites.len() % 2 != 0 {
            return Err(DecodeError("ClientHello cipher_suites malformed"));
        }
        let compression_methods = r.vec8("ClientHello compression_methods")?.to_vec();
        if compression_methods.is_empty() {
            return Err(DecodeError("ClientHello offers no compression method"));
        }
        let extensions = decode_extensions(&mut r)?;
        r.end("bytes after the ClientHello extensions")?;
        Ok(ClientHello {
            version,
            random,
            session_id: session_id.to_vec(),
            cookie,
            cipher_suites: suites
                .chunks_exact(2)
                .map(|c| u16::from_be_bytes([c[0], c[1]]))
                .collect(),
            compression_methods,
            extensions,
        })
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerHello {
    pub version: u16,
    pub random: [u8; 32],
    pub session_id: Vec<u8>,
    pub cipher_suite: u16,
    pub compression_method: u8,
    pub extensions: Vec<Extension>,
}

impl ServerHello {
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(96);
        put_u16(&mut out, self.version);
        out.extend_from_slice(&self.random);
        put_vec(&mut out, 1, &self.session_id);
        put_u16(&mut out, self.cipher_suite);
        out.push(self.compression_method);
        encode_extensions(&mut out, &self.extensions);
        out
    }

    pub fn decode(body: &[u8]) -> Result<Self> {
        let mut r = Reader::new(body);
        let version = r.u16("ServerHello version")?;
        let random = r.array("ServerHello random")?;
        let session_id = r.vec8("ServerHello session_id")?;
        if session_id.len() > 32 {
            return Err(DecodeError("ServerHello session_id longer than 32"));
        }
        let cipher_suite = r.u16("ServerHello cipher_suite")?;
        let compression_method = r.u8("ServerHello compression_method")?;
        let extensions = decode_extensions(&mut r)?;
        r.end("bytes after the ServerHello extensions")?;
        Ok(ServerHello {
            version,
            random,
            session_id: session_id.to_vec(),
            cipher_suite,
            compression_method,
            extensions,
        })
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HelloVerifyRequest {
    pub version: u16,
    pub cookie: Vec<u8>,
}

impl HelloVerifyRequest {
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(3 + self.cookie.len());
        put_u16(&mut out, self.version);
        put_vec(&mut out, 1, &self.cookie);
        out
    }

    pub fn decode(body: &[u8]) -> Result<Self> {
        let mut r = Reader::new(body);
        let version = r.u16("HelloVerifyRequest version")?;
        let cookie = r.vec8("HelloVerifyRequest cookie")?.to_vec();
        r.end("bytes after the HelloVerifyRequest cookie")?;
        Ok(HelloVerifyRequest { version, cookie })
    }
}

/// `Certificate`: an X.509 chain, or with RFC 7250 RawPublicKey a single
/// DER SubjectPublicKeyInfo (which is then the message's only content).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Certificate {
    X509(Vec<Vec<u8>>),
    RawPublicKey(Vec<u8>),
}

impl Certificate {
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        match self {
            Certificate::X509(chain) => {
                let mut list = Vec::new();
                for c in chain {
                    put_vec(&mut list, 3, c);
                }
                put_vec(&mut out, 3, &list);
            }
            Certificate::RawPublicKey(spki) => put_vec(&mut out, 3, spki),
        }
        out
    }

    pub fn decode(body: &[u8], raw_public_key: bool) -> Result<Self> {
        let mut r = Reader::new(body);
        let list = r.vec24("Certificate list truncated")?;
        r.end("bytes after the Certificate list")?;
        if raw_public_key {
            return Ok(Certificate::RawPublicKey(list.to_vec()));
        }
        let mut lr = Reader::new(list);
        let mut chain = Vec::new();
        while !lr.is_empty() {
            let c = lr.vec24("certificate entry truncated")?;
            if c.is_empty() {
                return Err(DecodeError("empty certificate entry"));
            }
            chain.push(c.to_vec());
        }
        Ok(Certificate::X509(chain))
    }

    pub fn is_empty(&self) -> bool {
        match self {
            Certificate::X509(c) => c.is_empty(),
            Certificate::RawPublicKey(k) => k.is_empty(),
        }
    }
}

/// `ServerECDHParams` for secp256r1 with an uncompressed point (RFC 8422 §5.4).
pub fn ecdhe_params(public: &[u8]) -> Vec<u8> {
    let mut out = vec![3]; // named_curve
    put_u16(&mut out, GROUP_SECP256R1);
    put_vec(&mut out, 1, public);
    out
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ServerKeyExchange {
    /// RFC 4279 §2: `psk_identity_hint<0..2^16-1>`.
    Psk { hint: Vec<u8> },
    /// RFC 8422 §5.4: ECParameters, the server's point, and a TLS 1.2
    /// `DigitallySigned` over `client_random ‖ server_random ‖ params`.
    Ecdhe {
        curve: u16,
        public: Vec<u8>,
        sig_alg: u16,
        signature: Vec<u8>,
    },
}

impl ServerKeyExchange {
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        match self {
            ServerKeyExchange::Psk { hint } => put_vec(&mut out, 2, hint),
            ServerKeyExchange::Ecdhe {
                curve,
                public,
                sig_alg,
                signature,
            } => {
                out.push(3);
                put_u16(&mut out, *curve);
                put_vec(&mut out, 1, public);
                put_u16(&mut out, *sig_alg);
                put_vec(&mut out, 2, signature);
            }
        }
        out
    }

    pub fn decode(body: &[u8], suite: Suite) -> Result<Self> {
        let mut r = Reader::new(body);
        if suite.is_psk() {
            let hint = r.vec16("ServerKeyExchange psk_identity_hint")?.to_vec();
            r.end("bytes after the psk_identity_hint")?;
            return Ok(ServerKeyExchange::Psk { hint });
        }
        let curve_type = r.u8("ServerKeyExchange curve type")?;
        if curve_type != 3 {
            return Err(DecodeError("ServerKeyExchange curve is not a named curve"));
        }
        let curve = r.u16("ServerKeyExchange named curve")?;
        let public = r.vec8("ServerKeyExchange public point")?.to_vec();
        let sig_alg = r.u16("ServerKeyExchange signature algorithm")?;
        let signature = r.vec16("ServerKeyExchange signature")?.to_vec();
        r.end("bytes after the ServerKeyExchange signature")?;
        Ok(ServerKeyExchange::Ecdhe {
            curve,
            public,
            sig_alg,
            signature,
        })
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CertificateRequest {
    pub certificate_types: Vec<u8>,
    pub signature_algorithms: Vec<u16>,
    pub authorities: Vec<Vec<u8>>,
}

impl CertificateRequest {
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        put_vec(&mut out, 1, &self.certificate_types);
        put_u16(&mut out, (self.signature_algorithms.len() * 2) as u16);
        for a in &self.signature_algorithms {
            put_u16(&mut out, *a);
        }
        let mut cas = Vec::new();
        for a in &self.authorities {
            put_vec(&mut cas, 2, a);
        }
        put_vec(&mut out, 2, &cas);
        out
    }

    pub fn decode(body: &[u8]) -> Result<Self> {
        let mut r = Reader::new(body);
        let certificate_types = r.vec8("CertificateRequest types")?.to_vec();
        let algs = r.vec16("CertificateRequest signature algorithms")?;
        if algs.len() % 2 != 0 {
            return Err(DecodeError("odd-length signature algorithm list"));
        }
        let cas = r.vec16("CertificateRequest authorities")?;
        r.end("bytes after the CertificateRequest")?;
        let mut cr = Reader::new(cas);
        let mut authorities = Vec::new();
        while !cr.is_empty() {
            authorities.push(cr.vec16("CertificateRequest authority")?.to_vec());
        }
        Ok(CertificateRequest {
            certificate_types,
            signature_algorithms: algs
                .chunks_exact(2)
                .map(|c| u16::from_be_bytes([c[0], c[1]]))
                .collect(),
            authorities,
        })
    }
}

/// `ServerHelloDone`: empty.
pub fn decode_server_hello_done(body: &[u8]) -> Result<()> {
    Reader::new(body).end("ServerHelloDone is not empty")
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClientKeyExchange {
    /// RFC 4279 §2: `psk_identity<0..2^16-1>`.
    Psk { identity: Vec<u8> },
    /// RFC 8422 §5.7: the client's point, `<1..2^8-1>`.
    Ecdhe { public: Vec<u8> },
}

impl ClientKeyExchange {
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        match self {
            ClientKeyExchange::Psk { identity } => put_vec(&mut out, 2, identity),
            ClientKeyExchange::Ecdhe { public } => put_vec(&mut out, 1, public),
        }
        out
    }

    pub fn decode(body: &[u8], suite: Suite) -> Result<Self> {
        let mut r = Reader::new(body);
        let out = if suite.is_psk() {
            ClientKeyExchange::Psk {
                identity: r.vec16("ClientKeyExchange psk_identity")?.to_vec(),
            }
        } else {
            let public = r.vec8("ClientKeyExchange public point")?;
            if public.is_empty() {
                return Err(DecodeError("ClientKeyExchange point is empty"));
            }
            ClientKeyExchange::Ecdhe {
                public: public.to_vec(),
            }
        };
        r.end("bytes after the ClientKeyExchange")?;
        Ok(out)
    }
}

/// `CertificateVerify` / a TLS 1.2 `DigitallySigned`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DigitallySigned {
    pub sig_alg: u16,
    pub signature: Vec<u8>,
}

impl DigitallySigned {
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        put_u16(&mut out, self.sig_alg);
        put_vec(&mut out, 2, &self.signature);
        out
    }

    pub fn decode(body: &[u8]) -> Result<Self> {
        let mut r = Reader::new(body);
        let sig_alg = r.u16("CertificateVerify algorithm")?;
        let signature = r.vec16("CertificateVerify signature")?.to_vec();
        r.end("bytes after the CertificateVerify signature")?;
        Ok(DigitallySigned { sig_alg, signature })
    }
}

/// `Finished`: 12 bytes of verify_data in TLS 1.2.
pub fn decode_finished(body: &[u8]) -> Result<[u8; 12]> {
    let mut r = Reader::new(body);
    let vd = r.array("Finished verify_data")?;
    r.end("Finished is longer than 12 bytes")?;
    Ok(vd)
}

/// Decodes any handshake message body by type, for the fuzz target: it must
/// return `Ok` or `Err`, never panic.
pub fn decode_any(msg_type: u8, body: &[u8], suite: Suite, dtls: bool) -> Result<()> {
    match HandshakeType::from_u8(msg_type) {
        Some(HandshakeType::HelloRequest) => Reader::new(body).end("HelloRequest is not empty"),
        Some(HandshakeType::ClientHello) => ClientHello::decode(body, dtls).map(|ch| {
            for e in &ch.extensions {
                let _ = match e.typ {
                    ext::SERVER_NAME => decode_server_name(&e.data).map(|_| ()),
                    ext::SUPPORTED_GROUPS | ext::SIGNATURE_ALGORITHMS => {
                        decode_u16_list(&e.data).map(|_| ())
                    }
                    _ => Ok(()),
                };
            }
        }),
        Some(HandshakeType::ServerHello) => ServerHello::decode(body).map(|_| ()),
        Some(HandshakeType::HelloVerifyRequest) => HelloVerifyRequest::decode(body).map(|_| ()),
        Some(HandshakeType::Certificate) => {
            Certificate::decode(body, false).map(|_| ())?;
            Certificate::decode(body, true).map(|_| ())
        }
        Some(HandshakeType::ServerKeyExchange) => {
            ServerKeyExchange::decode(body, suite).map(|_| ())
        }
        Some(HandshakeType::CertificateRequest) => CertificateRequest::decode(body).map(|_| ()),
        Some(HandshakeType::ServerHelloDone) => decode_server_hello_done(body),
        Some(HandshakeType::CertificateVerify) => DigitallySigned::decode(body).map(|_| ()),
        Some(HandshakeType::ClientKeyExchange) => {
            ClientKeyExchange::decode(body, suite).map(|_| ())
        }
        Some(HandshakeType::Finished) => decode_finished(body).map(|_| ()),
        None => Err(DecodeError("unknown handshake type")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hello() -> ClientHello {
        ClientHello {
            version: 0xFEFD,
            random: [7; 32],
            session_id: vec![],
            cookie: Some(vec![1, 2, 3]),
            cipher_suites: vec![0xC0A8, 0xC0AE],
            compression_methods: vec![0],
            extensions: vec![
                Extension::server_name("cse.example.org"),
                Extension::u16_list(ext::SUPPORTED_GROUPS, &[GROUP_SECP256R1]),
                Extension::new(ext::EXTENDED_MASTER_SECRET, vec![]),
            ],
        }
    }

    #[test]
    fn client_hello_round_trips() {
        let ch = hello();
        let bytes = ch.encode();
        assert_eq!(ClientHello::decode(&bytes, true).unwrap(), ch);
        let sni = find_ext(&ch.extensions, ext::SERVER_NAME).unwrap();
        assert_eq!(
            decode_server_name(sni).unwrap().as_deref(),
            Some("cse.example.org")
        );
        // Every truncation fails cleanly, except the one that drops the
        // whole (optional) extensions block.
        for n in 0..bytes.len() {
            if let Ok(h) = ClientHello::decode(&bytes[..n], true) {
                assert!(h.extensions.is_empty(), "prefix {n}");
            }
        }
    }

    #[test]
    fn duplicate_extensions_are_refused() {
        let mut ch = hello();
        ch.extensions
            .push(Extension::new(ext::EXTENDED_MASTER_SECRET, vec![]));
        assert!(ClientHello::decode(&ch.encode(), true).is_err());
    }

    #[test]
    fn server_messages_round_trip() {
        let sh = ServerHello {
            version: 0x0303,
            random: [9; 32],
            session_id: vec![1; 32],
            cipher_suite: 0xC023,
            compression_method: 0,
            extensions: vec![Extension::new(ext::RENEGOTIATION_INFO, vec![0])],
        };
        assert_eq!(ServerHello::decode(&sh.encode()).unwrap(), sh);
        let ske = ServerKeyExchange::Ecdhe {
            curve: GROUP_SECP256R1,
            public: vec![4; 65],
            sig_alg: SIG_ECDSA_SHA256,
            signature: vec![0x30; 70],
        };
        let body = ske.encode();
        assert_eq!(
            ServerKeyExchange::decode(&body, Suite::EcdheEcdsaAes128Ccm8).unwrap(),
            ske
        );
        assert_eq!(&body[..4 + 65], &ecdhe_params(&[4; 65])[..]);
        let cr = CertificateRequest {
            certificate_types: vec![CLIENT_CERT_ECDSA_SIGN],
            signature_algorithms: vec![SIG_ECDSA_SHA256],
            authorities: vec![vec![0x30, 0]],
        };
        assert_eq!(CertificateRequest::decode(&cr.encode()).unwrap(), cr);
        let cert = Certificate::X509(vec![vec![1, 2, 3], vec![4]]);
        assert_eq!(Certificate::decode(&cert.encode(), false).unwrap(), cert);
        let cke = ClientKeyExchange::Psk {
            identity: b"id@m2m".to_vec(),
        };
        assert_eq!(
            ClientKeyExchange::decode(&cke.encode(), Suite::PskAes128Ccm8).unwrap(),
            cke
        );
    }

    #[test]
    fn fragment_header_bounds() {
        let mut out = Vec::new();
        FragmentHeader {
            msg_type: 1,
            length: 10,
            message_seq: 0,
            fragment_offset: 8,
            fragment_length: 4,
        }
        .encode(&mut out);
        out.extend_from_slice(&[0; 4]);
        assert!(FragmentHeader::decode(&mut Reader::new(&out)).is_err());
    }
}
