//! Handshake messages (RFC 5246 §7.4, RFC 6347 §4.2, RFC 4279, RFC 8422,
//! RFC 7627, RFC 6066, RFC 7250, RFC 5746): one encoding and one decoding
//! per message, through [`Codec`], or [`ContextCodec`] for the four whose
//! layout depends on what was negotiated (the variant, the suite, the
//! certificate type).

use super::codec::{put_u16, put_u16_list, put_u24, put_vec, Codec, DecodeError, Reader, Result};
use super::enums::{ext, HandshakeType, CURVE_TYPE_NAMED, GROUP_SECP256R1};
use crate::Suite;

/// A message whose layout depends on a negotiated parameter.
pub trait ContextCodec: Sized {
    /// What decoding needs to know.
    type Context: Copy;

    fn encode(&self, out: &mut Vec<u8>);

    fn read(r: &mut Reader<'_>, cx: Self::Context) -> Result<Self>;

    fn get_encoding(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode(&mut out);
        out
    }

    /// Reads a value that must fill `bytes` exactly.
    fn read_bytes(bytes: &[u8], cx: Self::Context) -> Result<Self> {
        let mut r = Reader::new(bytes);
        let v = Self::read(&mut r, cx)?;
        r.end("bytes after the end of a message")?;
        Ok(v)
    }
}

// ---- headers ----------------------------------------------------------------

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

impl Codec for FragmentHeader {
    fn encode(&self, out: &mut Vec<u8>) {
        out.push(self.msg_type);
        put_u24(out, self.length);
        put_u16(out, self.message_seq);
        put_u24(out, self.fragment_offset);
        put_u24(out, self.fragment_length);
    }

    /// The header alone; the fragment must lie inside the message.
    fn read(r: &mut Reader<'_>) -> Result<Self> {
        let h = FragmentHeader {
            msg_type: r.u8("handshake header")?,
            length: r.u24("handshake header")?,
            message_seq: r.u16("handshake header")?,
            fragment_offset: r.u24("handshake header")?,
            fragment_length: r.u24("handshake header")?,
        };
        if h.fragment_offset as u64 + h.fragment_length as u64 > h.length as u64 {
            return Err(DecodeError("handshake fragment extends past its message"));
        }
        Ok(h)
    }
}

impl FragmentHeader {
    /// Decodes one header and its fragment from a handshake record's
    /// payload; the fragment must lie inside the message and the record.
    pub fn decode<'a>(r: &mut Reader<'a>) -> Result<(FragmentHeader, &'a [u8])> {
        let h = <FragmentHeader as Codec>::read(r)?;
        let body = r.bytes(h.fragment_length as usize, "handshake fragment truncated")?;
        Ok((h, body))
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

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Extension {
    pub typ: u16,
    pub data: Vec<u8>,
}

impl Codec for Extension {
    fn encode(&self, out: &mut Vec<u8>) {
        put_u16(out, self.typ);
        put_vec(out, 2, &self.data);
    }

    fn read(r: &mut Reader<'_>) -> Result<Self> {
        let typ = r.u16("extension header truncated")?;
        let data = r.vec16("extension body truncated")?;
        Ok(Extension::new(typ, data.to_vec()))
    }
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
        put_u16_list(&mut body, values);
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
        let e = Extension::read(&mut er)?;
        if out.iter().any(|o| o.typ == e.typ) {
            return Err(DecodeError("an extension appears twice"));
        }
        out.push(e);
    }
    Ok(out)
}

fn encode_extensions(out: &mut Vec<u8>, exts: &[Extension]) {
    if exts.is_empty() {
        return;
    }
    let mut block = Vec::new();
    for e in exts {
        e.encode(&mut block);
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

impl ContextCodec for ClientHello {
    /// DTLS (the hello carries a cookie) or TLS.
    type Context = bool;

    fn encode(&self, out: &mut Vec<u8>) {
        put_u16(out, self.version);
        out.extend_from_slice(&self.random);
        put_vec(out, 1, &self.session_id);
        if let Some(c) = &self.cookie {
            put_vec(out, 1, c);
        }
        put_u16_list(out, &self.cipher_suites);
        put_vec(out, 1, &self.compression_methods);
        encode_extensions(out, &self.extensions);
    }

    fn read(r: &mut Reader<'_>, dtls: bool) -> Result<Self> {
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
        let extensions = decode_extensions(r)?;
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

impl ClientHello {
    pub fn decode(body: &[u8], dtls: bool) -> Result<Self> {
        Self::read_bytes(body, dtls)
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

impl Codec for ServerHello {
    fn encode(&self, out: &mut Vec<u8>) {
        put_u16(out, self.version);
        out.extend_from_slice(&self.random);
        put_vec(out, 1, &self.session_id);
        put_u16(out, self.cipher_suite);
        out.push(self.compression_method);
        encode_extensions(out, &self.extensions);
    }

    fn read(r: &mut Reader<'_>) -> Result<Self> {
        let version = r.u16("ServerHello version")?;
        let random = r.array("ServerHello random")?;
        let session_id = r.vec8("ServerHello session_id")?;
        if session_id.len() > 32 {
            return Err(DecodeError("ServerHello session_id longer than 32"));
        }
        let cipher_suite = r.u16("ServerHello cipher_suite")?;
        let compression_method = r.u8("ServerHello compression_method")?;
        let extensions = decode_extensions(r)?;
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

impl ServerHello {
    pub fn decode(body: &[u8]) -> Result<Self> {
        Self::read_bytes(body)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HelloVerifyRequest {
    pub version: u16,
    pub cookie: Vec<u8>,
}

impl Codec for HelloVerifyRequest {
    fn encode(&self, out: &mut Vec<u8>) {
        put_u16(out, self.version);
        put_vec(out, 1, &self.cookie);
    }

    fn read(r: &mut Reader<'_>) -> Result<Self> {
        let version = r.u16("HelloVerifyRequest version")?;
        let cookie = r.vec8("HelloVerifyRequest cookie")?.to_vec();
        r.end("bytes after the HelloVerifyRequest cookie")?;
        Ok(HelloVerifyRequest { version, cookie })
    }
}

impl HelloVerifyRequest {
    pub fn decode(body: &[u8]) -> Result<Self> {
        Self::read_bytes(body)
    }
}

/// `Certificate`: an X.509 chain, or with RFC 7250 RawPublicKey a single
/// DER SubjectPublicKeyInfo (which is then the message's only content).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Certificate {
    X509(Vec<Vec<u8>>),
    RawPublicKey(Vec<u8>),
}

impl ContextCodec for Certificate {
    /// RFC 7250 RawPublicKey was negotiated for this certificate.
    type Context = bool;

    fn encode(&self, out: &mut Vec<u8>) {
        match self {
            Certificate::X509(chain) => {
                let mut list = Vec::new();
                for c in chain {
                    put_vec(&mut list, 3, c);
                }
                put_vec(out, 3, &list);
            }
            Certificate::RawPublicKey(spki) => put_vec(out, 3, spki),
        }
    }

    fn read(r: &mut Reader<'_>, raw_public_key: bool) -> Result<Self> {
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
}

impl Certificate {
    pub fn decode(body: &[u8], raw_public_key: bool) -> Result<Self> {
        Self::read_bytes(body, raw_public_key)
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
    let mut out = vec![CURVE_TYPE_NAMED];
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

impl ContextCodec for ServerKeyExchange {
    type Context = Suite;

    fn encode(&self, out: &mut Vec<u8>) {
        match self {
            ServerKeyExchange::Psk { hint } => put_vec(out, 2, hint),
            ServerKeyExchange::Ecdhe {
                curve,
                public,
                sig_alg,
                signature,
            } => {
                out.push(CURVE_TYPE_NAMED);
                put_u16(out, *curve);
                put_vec(out, 1, public);
                put_u16(out, *sig_alg);
                put_vec(out, 2, signature);
            }
        }
    }

    fn read(r: &mut Reader<'_>, suite: Suite) -> Result<Self> {
        if suite.is_psk() {
            let hint = r.vec16("ServerKeyExchange psk_identity_hint")?.to_vec();
            r.end("bytes after the psk_identity_hint")?;
            return Ok(ServerKeyExchange::Psk { hint });
        }
        let curve_type = r.u8("ServerKeyExchange curve type")?;
        if curve_type != CURVE_TYPE_NAMED {
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

impl ServerKeyExchange {
    pub fn decode(body: &[u8], suite: Suite) -> Result<Self> {
        Self::read_bytes(body, suite)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CertificateRequest {
    pub certificate_types: Vec<u8>,
    pub signature_algorithms: Vec<u16>,
    pub authorities: Vec<Vec<u8>>,
}

impl Codec for CertificateRequest {
    fn encode(&self, out: &mut Vec<u8>) {
        put_vec(out, 1, &self.certificate_types);
        put_u16_list(out, &self.signature_algorithms);
        let mut cas = Vec::new();
        for a in &self.authorities {
            put_vec(&mut cas, 2, a);
        }
        put_vec(out, 2, &cas);
    }

    fn read(r: &mut Reader<'_>) -> Result<Self> {
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

impl CertificateRequest {
    pub fn decode(body: &[u8]) -> Result<Self> {
        Self::read_bytes(body)
    }
}

/// `ServerHelloDone`: empty.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ServerHelloDone;

impl Codec for ServerHelloDone {
    fn encode(&self, _: &mut Vec<u8>) {}

    fn read(r: &mut Reader<'_>) -> Result<Self> {
        r.end("ServerHelloDone is not empty")?;
        Ok(ServerHelloDone)
    }
}

/// `ServerHelloDone`: empty.
pub fn decode_server_hello_done(body: &[u8]) -> Result<()> {
    ServerHelloDone::read_bytes(body).map(|_| ())
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClientKeyExchange {
    /// RFC 4279 §2: `psk_identity<0..2^16-1>`.
    Psk { identity: Vec<u8> },
    /// RFC 8422 §5.7: the client's point, `<1..2^8-1>`.
    Ecdhe { public: Vec<u8> },
}

impl ContextCodec for ClientKeyExchange {
    type Context = Suite;

    fn encode(&self, out: &mut Vec<u8>) {
        match self {
            ClientKeyExchange::Psk { identity } => put_vec(out, 2, identity),
            ClientKeyExchange::Ecdhe { public } => put_vec(out, 1, public),
        }
    }

    fn read(r: &mut Reader<'_>, suite: Suite) -> Result<Self> {
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

impl ClientKeyExchange {
    pub fn decode(body: &[u8], suite: Suite) -> Result<Self> {
        Self::read_bytes(body, suite)
    }
}

/// `CertificateVerify` / a TLS 1.2 `DigitallySigned`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DigitallySigned {
    pub sig_alg: u16,
    pub signature: Vec<u8>,
}

impl Codec for DigitallySigned {
    fn encode(&self, out: &mut Vec<u8>) {
        put_u16(out, self.sig_alg);
        put_vec(out, 2, &self.signature);
    }

    fn read(r: &mut Reader<'_>) -> Result<Self> {
        let sig_alg = r.u16("CertificateVerify algorithm")?;
        let signature = r.vec16("CertificateVerify signature")?.to_vec();
        r.end("bytes after the CertificateVerify signature")?;
        Ok(DigitallySigned { sig_alg, signature })
    }
}

impl DigitallySigned {
    pub fn decode(body: &[u8]) -> Result<Self> {
        Self::read_bytes(body)
    }
}

/// `Finished`: 12 bytes of verify_data in TLS 1.2.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Finished(pub [u8; 12]);

impl Codec for Finished {
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.0);
    }

    fn read(r: &mut Reader<'_>) -> Result<Self> {
        let vd = r.array("Finished verify_data")?;
        r.end("Finished is longer than 12 bytes")?;
        Ok(Finished(vd))
    }
}

/// `Finished`: 12 bytes of verify_data in TLS 1.2.
pub fn decode_finished(body: &[u8]) -> Result<[u8; 12]> {
    Finished::read_bytes(body).map(|f| f.0)
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
    use crate::msgs::enums::{CLIENT_CERT_ECDSA_SIGN, SIG_ECDSA_SHA256};

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
        let bytes = ch.get_encoding();
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
        assert!(ClientHello::decode(&ch.get_encoding(), true).is_err());
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
        assert_eq!(ServerHello::decode(&sh.get_encoding()).unwrap(), sh);
        let ske = ServerKeyExchange::Ecdhe {
            curve: GROUP_SECP256R1,
            public: vec![4; 65],
            sig_alg: SIG_ECDSA_SHA256,
            signature: vec![0x30; 70],
        };
        let body = ske.get_encoding();
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
        assert_eq!(CertificateRequest::decode(&cr.get_encoding()).unwrap(), cr);
        let cert = Certificate::X509(vec![vec![1, 2, 3], vec![4]]);
        assert_eq!(
            Certificate::decode(&cert.get_encoding(), false).unwrap(),
            cert
        );
        let cke = ClientKeyExchange::Psk {
            identity: b"id@m2m".to_vec(),
        };
        assert_eq!(
            ClientKeyExchange::decode(&cke.get_encoding(), Suite::PskAes128Ccm8).unwrap(),
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
