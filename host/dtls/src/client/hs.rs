//! ClientHello out, HelloVerifyRequest or ServerHello in.

use crate::common::{unexpected, Context, Message, Negotiated, State, Transcript};
use crate::msgs::codec::{Codec as _, DecodeError};
use crate::msgs::enums::{
    ext, HandshakeType, CERT_TYPE_RAW_PUBLIC_KEY, CERT_TYPE_X509, GROUP_SECP256R1, SIG_ECDSA_SHA256,
};
use crate::msgs::handshake::{
    ClientHello, ContextCodec as _, Extension, HelloVerifyRequest, ServerHello,
};
use crate::{AlertDescription, DtlsError, OwnCertificate, PeerTrust, Step, Suite};

use super::tls12::{ExpectCertificate, ExpectServerKx};

/// The first of the handshake's two Secure Environment calls (it chooses
/// our random and ECDHE key), then the first ClientHello.
pub(crate) fn start(cx: &mut Context<'_>) -> Result<Box<dyn State>, DtlsError> {
    let suites = cx.config.suites.clone();
    let open = cx
        .secrets
        .client_open(cx.config.variant, &suites)
        .map_err(|e| cx.secrets_failed(Step::ClientHello, e))?;
    Ok(ExpectServerHello::send_hello(
        cx,
        open.random,
        open.public,
        Vec::new(),
    ))
}

/// Our ClientHello is out; a ServerHello (or, on DTLS, a
/// HelloVerifyRequest asking for a cookie) comes next.
pub(super) struct ExpectServerHello {
    client_random: [u8; 32],
    /// Our ECDHE point (an ECDHE suite is offered).
    own_share: Option<Vec<u8>>,
    /// Every message since our latest ClientHello.
    transcript: Transcript,
}

impl ExpectServerHello {
    /// Sends a ClientHello (with `cookie` on DTLS). Neither the first
    /// ClientHello nor a HelloVerifyRequest is hashed (RFC 6347 §4.2.1): the
    /// transcript starts afresh with each ClientHello.
    fn send_hello(
        cx: &mut Context<'_>,
        client_random: [u8; 32],
        own_share: Option<Vec<u8>>,
        cookie: Vec<u8>,
    ) -> Box<dyn State> {
        let config = cx.config;
        let mut suites: Vec<u16> = config.suites.iter().map(|s| s.id()).collect();
        suites.dedup();
        let ecdhe = config.suites.iter().any(|s| !s.is_psk());
        let mut extensions = Vec::new();
        if let Some(name) = config.server_names.first() {
            // RFC 6066 §3: no IP literals in server_name.
            if name.parse::<std::net::IpAddr>().is_err() && !name.is_empty() {
                extensions.push(Extension::server_name(name));
            }
        }
        if ecdhe {
            extensions.push(Extension::u16_list(
                ext::SUPPORTED_GROUPS,
                &[GROUP_SECP256R1],
            ));
            extensions.push(Extension::new(ext::EC_POINT_FORMATS, vec![1, 0]));
            if matches!(config.peer_trust, PeerTrust::PinnedKey(_)) {
                extensions.push(Extension::new(
                    ext::SERVER_CERTIFICATE_TYPE,
                    vec![2, CERT_TYPE_RAW_PUBLIC_KEY, CERT_TYPE_X509],
                ));
            }
            if matches!(config.certificate, OwnCertificate::RawPublicKey(_)) {
                extensions.push(Extension::new(
                    ext::CLIENT_CERTIFICATE_TYPE,
                    vec![1, CERT_TYPE_RAW_PUBLIC_KEY],
                ));
            }
        }
        extensions.push(Extension::u16_list(
            ext::SIGNATURE_ALGORITHMS,
            &[SIG_ECDSA_SHA256],
        ));
        extensions.push(Extension::new(ext::EXTENDED_MASTER_SECRET, vec![]));
        extensions.push(Extension::new(ext::RENEGOTIATION_INFO, vec![0]));
        let dtls = cx.dtls();
        let hello = ClientHello {
            version: config.variant.version(),
            random: client_random,
            session_id: Vec::new(),
            cookie: dtls.then_some(cookie),
            cipher_suites: suites,
            compression_methods: vec![0],
            extensions,
        };
        let mut transcript = Transcript::new(dtls);
        let mut items = Vec::new();
        cx.queue(
            &mut transcript,
            &mut items,
            HandshakeType::ClientHello,
            hello.get_encoding(),
        );
        cx.send_flight(items, true);
        Box::new(ExpectServerHello {
            client_random,
            own_share,
            transcript,
        })
    }
}

impl State for ExpectServerHello {
    fn handle(
        self: Box<Self>,
        cx: &mut Context<'_>,
        m: Message,
    ) -> Result<Box<dyn State>, DtlsError> {
        if let (true, Some((_, body))) = (cx.dtls(), m.of(HandshakeType::HelloVerifyRequest)) {
            let hvr = HelloVerifyRequest::read_bytes(body)
                .map_err(|e| cx.decode_failed(Step::HelloVerifyRequest, e))?;
            // Same random and share: no Secure Environment call.
            return Ok(Self::send_hello(
                cx,
                self.client_random,
                self.own_share,
                hvr.cookie,
            ));
        }
        if let Some((seq, body)) = m.of(HandshakeType::ServerHello) {
            return (*self).on_server_hello(cx, seq, body);
        }
        unexpected(self, cx, &m)
    }

    fn step(&self) -> Step {
        Step::ServerHello
    }
}

impl ExpectServerHello {
    fn on_server_hello(
        self,
        cx: &mut Context<'_>,
        seq: u16,
        body: &[u8],
    ) -> Result<Box<dyn State>, DtlsError> {
        let step = Step::ServerHello;
        let config = cx.config;
        let sh = ServerHello::read_bytes(body).map_err(|e| cx.decode_failed(step, e))?;
        if sh.version != config.variant.version() {
            return Err(cx.fatal(
                step,
                AlertDescription::PROTOCOL_VERSION,
                format!("the server chose version 0x{:04x}, not 1.2", sh.version),
            ));
        }
        let Some(suite) = Suite::from_id(sh.cipher_suite).filter(|s| config.suites.contains(s))
        else {
            return Err(cx.fatal(
                step,
                AlertDescription::ILLEGAL_PARAMETER,
                format!(
                    "the server chose suite 0x{:04x}, which we did not offer",
                    sh.cipher_suite
                ),
            ));
        };
        if sh.compression_method != 0 {
            return Err(cx.fatal(
                step,
                AlertDescription::ILLEGAL_PARAMETER,
                "the server chose compression",
            ));
        }
        let mut extended_master_secret = false;
        // RFC 7250: the types of the server's certificate and of ours.
        let mut server_raw_key = false;
        let mut client_raw_key = false;
        for e in &sh.extensions {
            match e.typ {
                ext::EXTENDED_MASTER_SECRET => {
                    if !e.data.is_empty() {
                        return Err(cx.decode_failed(
                            step,
                            DecodeError("extended_master_secret is not empty"),
                        ));
                    }
                    extended_master_secret = true;
                }
                ext::RENEGOTIATION_INFO => {
                    if e.data != [0] {
                        return Err(cx.fatal(
                            step,
                            AlertDescription::HANDSHAKE_FAILURE,
                            "renegotiation_info is not empty on an initial handshake",
                        ));
                    }
                }
                ext::SERVER_NAME | ext::EC_POINT_FORMATS => {}
                ext::SERVER_CERTIFICATE_TYPE
                    if matches!(config.peer_trust, PeerTrust::PinnedKey(_)) =>
                {
                    match e.data.as_slice() {
                        [CERT_TYPE_RAW_PUBLIC_KEY] => server_raw_key = true,
                        [CERT_TYPE_X509] => {}
                        _ => {
                            return Err(cx.fatal(
                                step,
                                AlertDescription::ILLEGAL_PARAMETER,
                                "server_certificate_type is not one we offered",
                            ))
                        }
                    }
                }
                ext::CLIENT_CERTIFICATE_TYPE
                    if matches!(config.certificate, OwnCertificate::RawPublicKey(_)) =>
                {
                    match e.data.as_slice() {
                        [CERT_TYPE_RAW_PUBLIC_KEY] => client_raw_key = true,
                        _ => {
                            return Err(cx.fatal(
                                step,
                                AlertDescription::ILLEGAL_PARAMETER,
                                "client_certificate_type is not one we offered",
                            ))
                        }
                    }
                }
                other => {
                    return Err(cx.fatal(
                        step,
                        AlertDescription::UNSUPPORTED_EXTENSION,
                        format!("the server sent extension {other}, which we did not offer"),
                    ))
                }
            }
        }
        cx.info.extended_master_secret = extended_master_secret;
        if config.require_extended_master_secret && !extended_master_secret {
            return Err(cx.fatal(
                step,
                AlertDescription::HANDSHAKE_FAILURE,
                "the server does not do extended master secret (RFC 7627)",
            ));
        }
        cx.info.suite = Some(suite);
        let mut transcript = self.transcript;
        transcript.add_received(HandshakeType::ServerHello as u8, seq, body);
        let hs = Negotiated {
            suite,
            client_random: self.client_random,
            server_random: sh.random,
            transcript,
            own_share: self.own_share,
        };
        Ok(if suite.is_psk() {
            Box::new(ExpectServerKx {
                hs,
                server_key: None,
                client_raw_key,
            })
        } else {
            Box::new(ExpectCertificate {
                hs,
                server_raw_key,
                client_raw_key,
            })
        })
    }
}
