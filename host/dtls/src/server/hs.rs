//! ClientHello in (with the cookie exchange on DTLS), negotiation, and our
//! flight out: ServerHello, Certificate and ServerKeyExchange (ECDHE),
//! CertificateRequest if we want the client's, ServerHelloDone.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::common::{unexpected, Context, Message, Negotiated, State, Transcript};
use crate::msgs::codec::{Codec as _, Reader};
use crate::msgs::enums::{
    ext, HandshakeType, CERT_TYPE_RAW_PUBLIC_KEY, CERT_TYPE_X509, CLIENT_CERT_ECDSA_SIGN, DTLS10,
    GROUP_SECP256R1, SCSV_RENEGOTIATION, SIG_ECDSA_SHA256,
};
use crate::msgs::handshake::{
    decode_server_name, decode_u16_list, find_ext, Certificate, CertificateRequest, ClientHello,
    ContextCodec as _, Extension, HelloVerifyRequest, ServerHello, ServerKeyExchange,
};
use crate::{AlertDescription, DtlsError, OwnCertificate, Step};

use super::tls12::{ExpectCertificate, ExpectClientKx};

/// Waiting for a ClientHello; on DTLS one without our cookie gets a
/// HelloVerifyRequest and leaves us here, keeping no state for it.
struct ExpectClientHello {
    /// Keys the HMAC that makes cookies.
    cookie_secret: [u8; 32],
}

/// A server waiting for a ClientHello.
pub(crate) fn start(cx: &mut Context<'_>) -> Box<dyn State> {
    start_with_cookie_secret(cx.random32())
}

/// A server whose cookies are checked with `secret` (a [`CookieGate`]'s,
/// which ran the exchange before this connection existed).
///
/// [`CookieGate`]: crate::gate::CookieGate
pub(crate) fn start_with_cookie_secret(secret: [u8; 32]) -> Box<dyn State> {
    Box::new(ExpectClientHello {
        cookie_secret: secret,
    })
}

/// The DTLS cookie for `hello` under `secret` (RFC 6347 §4.2.1): an HMAC of
/// what the client must repeat, so it can be checked without state.
pub(crate) fn cookie(secret: &[u8; 32], hello: &ClientHello) -> Vec<u8> {
    let mut m = <Hmac<Sha256> as Mac>::new_from_slice(secret).expect("HMAC takes any key length");
    m.update(&hello.random);
    m.update(&hello.session_id);
    for s in &hello.cipher_suites {
        m.update(&s.to_be_bytes());
    }
    m.finalize().into_bytes()[..16].to_vec()
}

impl ExpectClientHello {
    fn cookie_for(&self, hello: &ClientHello) -> Vec<u8> {
        cookie(&self.cookie_secret, hello)
    }
}

impl State for ExpectClientHello {
    fn handle(
        self: Box<Self>,
        cx: &mut Context<'_>,
        m: Message,
    ) -> Result<Box<dyn State>, DtlsError> {
        match m.of(HandshakeType::ClientHello) {
            Some((seq, body)) => self.on_client_hello(cx, seq, body),
            None => unexpected(self, cx, &m),
        }
    }

    fn step(&self) -> Step {
        Step::ClientHello
    }
}

impl ExpectClientHello {
    fn on_client_hello(
        self: Box<Self>,
        cx: &mut Context<'_>,
        seq: u16,
        body: &[u8],
    ) -> Result<Box<dyn State>, DtlsError> {
        let step = Step::ClientHello;
        let dtls = cx.dtls();
        let config = cx.config;
        let hello = ClientHello::decode(body, dtls).map_err(|e| cx.decode_failed(step, e))?;
        // DTLS versions count down: 0xFEFD (1.2) < 0xFEFF (1.0).
        let version_ok = if dtls {
            hello.version <= 0xFEFD
        } else {
            hello.version >= 0x0303
        };
        if !version_ok {
            return Err(cx.fatal(
                step,
                AlertDescription::PROTOCOL_VERSION,
                format!(
                    "the client offers version 0x{:04x}, below 1.2",
                    hello.version
                ),
            ));
        }
        if dtls && config.cookie_exchange {
            let expected = self.cookie_for(&hello);
            let cookie = hello.cookie.clone().unwrap_or_default();
            if !bool::from(cookie.as_slice().ct_eq(&expected)) {
                // RFC 6347 §4.2.1: stateless answer; nothing is hashed. Our
                // next message follows the HelloVerifyRequest in numbering.
                let hvr = HelloVerifyRequest {
                    version: DTLS10,
                    cookie: expected,
                }
                .get_encoding();
                cx.set_next_send_seq(seq);
                let mut items = Vec::new();
                let mut unhashed = Transcript::new(dtls);
                cx.queue(
                    &mut unhashed,
                    &mut items,
                    HandshakeType::HelloVerifyRequest,
                    hvr,
                );
                cx.send_flight(items, false);
                return Ok(self);
            }
        }
        if !hello.compression_methods.contains(&0) {
            return Err(cx.fatal(
                step,
                AlertDescription::ILLEGAL_PARAMETER,
                "the client does not offer null compression",
            ));
        }
        let mut transcript = Transcript::new(dtls);
        transcript.add_received(HandshakeType::ClientHello as u8, seq, body);
        if dtls {
            cx.set_next_send_seq(seq);
        }

        // Extensions.
        let exts = &hello.extensions;
        let ems = find_ext(exts, ext::EXTENDED_MASTER_SECRET).is_some();
        if config.require_extended_master_secret && !ems {
            return Err(cx.fatal(
                step,
                AlertDescription::HANDSHAKE_FAILURE,
                "the client does not offer extended master secret (RFC 7627)",
            ));
        }
        let secure_renegotiation = hello.cipher_suites.contains(&SCSV_RENEGOTIATION)
            || find_ext(exts, ext::RENEGOTIATION_INFO).is_some();
        if let Some(ri) = find_ext(exts, ext::RENEGOTIATION_INFO) {
            if ri != [0] {
                return Err(cx.fatal(
                    step,
                    AlertDescription::HANDSHAKE_FAILURE,
                    "renegotiation_info is not empty on an initial handshake",
                ));
            }
        }
        let mut sni_ack = false;
        if let Some(data) = find_ext(exts, ext::SERVER_NAME) {
            let name = decode_server_name(data).map_err(|e| cx.decode_failed(step, e))?;
            if let Some(n) = &name {
                if !config.server_names.is_empty()
                    && !config
                        .server_names
                        .iter()
                        .any(|s| s.eq_ignore_ascii_case(n))
                {
                    return Err(cx.fatal(
                        step,
                        AlertDescription::UNRECOGNIZED_NAME,
                        format!("no service for server name {n}"),
                    ));
                }
                sni_ack = true;
            }
            cx.info.server_name = name;
        }
        let groups_ok = match find_ext(exts, ext::SUPPORTED_GROUPS) {
            Some(d) => decode_u16_list(d)
                .map_err(|e| cx.decode_failed(step, e))?
                .contains(&GROUP_SECP256R1),
            None => true,
        };
        let formats_ok = match find_ext(exts, ext::EC_POINT_FORMATS) {
            Some(d) => {
                let mut r = Reader::new(d);
                let list = r
                    .vec8("ec_point_formats list")
                    .map_err(|e| cx.decode_failed(step, e))?;
                list.contains(&0)
            }
            None => true,
        };
        let sigs_ok = match find_ext(exts, ext::SIGNATURE_ALGORITHMS) {
            Some(d) => decode_u16_list(d)
                .map_err(|e| cx.decode_failed(step, e))?
                .contains(&SIG_ECDSA_SHA256),
            None => false,
        };
        // RFC 7250: which certificate types the client accepts from us, and
        // which it can send.
        let server_types = find_ext(exts, ext::SERVER_CERTIFICATE_TYPE)
            .map(|d| d.get(1..).unwrap_or_default().to_vec());
        let client_types = find_ext(exts, ext::CLIENT_CERTIFICATE_TYPE)
            .map(|d| d.get(1..).unwrap_or_default().to_vec());
        let our_type = match &config.certificate {
            OwnCertificate::RawPublicKey(_) => Some(CERT_TYPE_RAW_PUBLIC_KEY),
            OwnCertificate::X509(_) => Some(CERT_TYPE_X509),
            OwnCertificate::None => None,
        };
        let cert_type_ok = match (&server_types, our_type) {
            (_, None) => false,
            (None, Some(t)) => t == CERT_TYPE_X509,
            (Some(list), Some(t)) => list.contains(&t),
        };
        let ecdhe_ok = groups_ok && formats_ok && sigs_ok && cert_type_ok;

        // Suite: ours in our order of preference.
        let suite = config
            .suites
            .iter()
            .copied()
            .find(|s| hello.cipher_suites.contains(&s.id()) && (s.is_psk() || ecdhe_ok));
        let Some(suite) = suite else {
            return Err(cx.fatal(
                step,
                AlertDescription::HANDSHAKE_FAILURE,
                "no cipher suite in common",
            ));
        };
        cx.info.suite = Some(suite);
        cx.info.extended_master_secret = ems;
        let client_random = hello.random;
        // The first of the handshake's two Secure Environment calls: it
        // chooses our random (and ECDHE key, and signs our params) over the
        // ClientHello as hashed.
        let opened = cx
            .secrets
            .server_open(config.variant, suite, transcript.bytes())
            .map_err(|e| cx.secrets_failed(Step::ServerHello, e))?;
        let server_random = opened.random;
        // RFC 7250: the types of our certificate and of the client's.
        let mut server_raw_key = false;
        let mut client_raw_key = false;

        let mut extensions = Vec::new();
        if secure_renegotiation {
            extensions.push(Extension::new(ext::RENEGOTIATION_INFO, vec![0]));
        }
        if ems {
            extensions.push(Extension::new(ext::EXTENDED_MASTER_SECRET, vec![]));
        }
        if sni_ack {
            extensions.push(Extension::new(ext::SERVER_NAME, vec![]));
        }
        if !suite.is_psk() {
            if find_ext(exts, ext::EC_POINT_FORMATS).is_some() {
                extensions.push(Extension::new(ext::EC_POINT_FORMATS, vec![1, 0]));
            }
            if let (Some(_), Some(t)) = (&server_types, our_type) {
                server_raw_key = t == CERT_TYPE_RAW_PUBLIC_KEY;
                extensions.push(Extension::new(ext::SERVER_CERTIFICATE_TYPE, vec![t]));
            }
            if config.require_client_certificate {
                if let Some(list) = &client_types {
                    if list.contains(&CERT_TYPE_RAW_PUBLIC_KEY) {
                        client_raw_key = true;
                        extensions.push(Extension::new(
                            ext::CLIENT_CERTIFICATE_TYPE,
                            vec![CERT_TYPE_RAW_PUBLIC_KEY],
                        ));
                    } else if list.contains(&CERT_TYPE_X509) {
                        extensions.push(Extension::new(
                            ext::CLIENT_CERTIFICATE_TYPE,
                            vec![CERT_TYPE_X509],
                        ));
                    } else {
                        return Err(cx.fatal(
                            step,
                            AlertDescription::UNSUPPORTED_CERTIFICATE,
                            "the client can send no certificate type we accept",
                        ));
                    }
                }
            }
        }
        let sh = ServerHello {
            version: config.variant.version(),
            random: server_random,
            session_id: Vec::new(),
            cipher_suite: suite.id(),
            compression_method: 0,
            extensions,
        };

        let share = opened.key_share;
        let mut items = Vec::new();
        let mut certificate_requested = false;
        cx.queue(
            &mut transcript,
            &mut items,
            HandshakeType::ServerHello,
            sh.get_encoding(),
        );
        if suite.is_psk() {
            if let Some(hint) = config.psk_identity_hint.clone() {
                let ske = ServerKeyExchange::Psk { hint };
                cx.queue(
                    &mut transcript,
                    &mut items,
                    HandshakeType::ServerKeyExchange,
                    ske.get_encoding(),
                );
            }
        } else {
            let certificate = match &config.certificate {
                OwnCertificate::X509(chain) if !server_raw_key => Certificate::X509(chain.clone()),
                OwnCertificate::RawPublicKey(spki) => Certificate::RawPublicKey(spki.clone()),
                _ => {
                    return Err(cx.fatal(
                        Step::Certificate,
                        AlertDescription::INTERNAL_ERROR,
                        "no certificate of the negotiated type",
                    ))
                }
            };
            cx.queue(
                &mut transcript,
                &mut items,
                HandshakeType::Certificate,
                certificate.get_encoding(),
            );
            let Some(share) = share else {
                return Err(cx.fatal(
                    Step::ServerKeyExchange,
                    AlertDescription::INTERNAL_ERROR,
                    "the Secure Environment gave no ECDHE share",
                ));
            };
            let ske = ServerKeyExchange::Ecdhe {
                curve: GROUP_SECP256R1,
                public: share.public,
                sig_alg: SIG_ECDSA_SHA256,
                signature: share.signature,
            };
            cx.queue(
                &mut transcript,
                &mut items,
                HandshakeType::ServerKeyExchange,
                ske.get_encoding(),
            );
            if config.require_client_certificate {
                let req = CertificateRequest {
                    certificate_types: vec![CLIENT_CERT_ECDSA_SIGN],
                    signature_algorithms: vec![SIG_ECDSA_SHA256],
                    authorities: Vec::new(),
                };
                certificate_requested = true;
                cx.queue(
                    &mut transcript,
                    &mut items,
                    HandshakeType::CertificateRequest,
                    req.get_encoding(),
                );
            }
        }
        cx.queue(
            &mut transcript,
            &mut items,
            HandshakeType::ServerHelloDone,
            Vec::new(),
        );
        cx.send_flight(items, true);
        let hs = Negotiated {
            suite,
            client_random,
            server_random,
            transcript,
            own_share: None,
        };
        Ok(if certificate_requested {
            Box::new(ExpectCertificate { hs, client_raw_key })
        } else {
            Box::new(ExpectClientKx {
                hs,
                client_key: None,
            })
        })
    }
}
