//! The server's handshake (RFC 5246 §7.3, RFC 6347 §4.2): the cookie
//! exchange, suite and extension negotiation, our flight, the client's
//! key exchange flight, and the Finished exchange.

use std::time::Instant;

use hmac::{Hmac, Mac};
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq;

use super::cert;
use super::connection::{Connection, State};
use super::handshake::{
    self, decode_server_name, decode_u16_list, ext, find_ext, Certificate, CertificateRequest,
    ClientHello, ClientKeyExchange, Codec as _, ContextCodec as _, DigitallySigned, Extension,
    HandshakeType, HelloVerifyRequest, ServerHello, ServerKeyExchange, CERT_TYPE_RAW_PUBLIC_KEY,
    CERT_TYPE_X509, CLIENT_CERT_ECDSA_SIGN, GROUP_SECP256R1, SCSV_RENEGOTIATION, SIG_ECDSA_SHA256,
};
use super::retransmit::FlightItem;
use super::secrets::{HandshakeSecrets, MasterSeed, PeerKeyExchange};
use super::{AlertDescription, DtlsError, OwnCertificate, Role, Step, Suite};

/// DTLS 1.0's version, which RFC 6347 §4.2.1 asks HelloVerifyRequest to carry.
const DTLS10: u16 = 0xFEFF;

impl<S: HandshakeSecrets> Connection<S> {
    pub(super) fn server_message(
        &mut self,
        msg_type: u8,
        seq: u16,
        body: Vec<u8>,
        now: Instant,
    ) -> Result<(), DtlsError> {
        use HandshakeType as T;
        match (self.state, HandshakeType::from_u8(msg_type)) {
            (State::ServerWaitHello, Some(T::ClientHello)) => self.on_client_hello(seq, &body, now),
            (State::ServerWaitFlight, Some(T::Certificate)) => {
                self.on_client_certificate(&body)?;
                self.hash_received(msg_type, seq, &body);
                Ok(())
            }
            (State::ServerWaitFlight, Some(T::ClientKeyExchange)) => {
                if self.hs.certificate_requested && !self.hs.certificate_message_seen {
                    return Err(self.fatal(
                        Step::Certificate,
                        AlertDescription::UNEXPECTED_MESSAGE,
                        "the client sent no Certificate message",
                    ));
                }
                self.hash_received(msg_type, seq, &body);
                self.on_client_key_exchange(&body)
            }
            (State::ServerWaitCertificateVerify, Some(T::CertificateVerify)) => {
                self.on_certificate_verify(&body)?;
                self.hash_received(msg_type, seq, &body);
                self.state = State::ServerWaitCcs;
                Ok(())
            }
            (State::ServerWaitFinished, Some(T::Finished)) => {
                self.on_client_finished(seq, &body, now)
            }
            (State::Established, Some(T::ClientHello)) => {
                self.refuse_renegotiation();
                Ok(())
            }
            _ => Err(self.unexpected(self.state.step())),
        }
    }

    fn cookie_for(&self, hello: &ClientHello) -> Vec<u8> {
        cookie(&self.hs.cookie_secret, hello)
    }

    fn on_client_hello(&mut self, seq: u16, body: &[u8], now: Instant) -> Result<(), DtlsError> {
        let step = Step::ClientHello;
        let dtls = self.dtls();
        let hello = ClientHello::decode(body, dtls).map_err(|e| self.decode_failed(step, e))?;
        // DTLS versions count down: 0xFEFD (1.2) < 0xFEFF (1.0).
        let version_ok = if dtls {
            hello.version <= 0xFEFD
        } else {
            hello.version >= 0x0303
        };
        if !version_ok {
            return Err(self.fatal(
                step,
                AlertDescription::PROTOCOL_VERSION,
                format!(
                    "the client offers version 0x{:04x}, below 1.2",
                    hello.version
                ),
            ));
        }
        if dtls && self.config.cookie_exchange {
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
                self.reset_transcript();
                self.set_next_send_seq(seq);
                let mut items = Vec::new();
                self.queue_message(&mut items, HandshakeType::HelloVerifyRequest, hvr);
                self.reset_transcript();
                self.send_flight(items, false, now);
                return Ok(());
            }
        }
        if !hello.compression_methods.contains(&0) {
            return Err(self.fatal(
                step,
                AlertDescription::ILLEGAL_PARAMETER,
                "the client does not offer null compression",
            ));
        }
        self.reset_transcript();
        self.hash_received(HandshakeType::ClientHello as u8, seq, body);
        if dtls {
            self.set_next_send_seq(seq);
        }

        // Extensions.
        let exts = &hello.extensions;
        let ems = find_ext(exts, ext::EXTENDED_MASTER_SECRET).is_some();
        if self.config.require_extended_master_secret && !ems {
            return Err(self.fatal(
                step,
                AlertDescription::HANDSHAKE_FAILURE,
                "the client does not offer extended master secret (RFC 7627)",
            ));
        }
        let secure_renegotiation = hello.cipher_suites.contains(&SCSV_RENEGOTIATION)
            || find_ext(exts, ext::RENEGOTIATION_INFO).is_some();
        if let Some(ri) = find_ext(exts, ext::RENEGOTIATION_INFO) {
            if ri != [0] {
                return Err(self.fatal(
                    step,
                    AlertDescription::HANDSHAKE_FAILURE,
                    "renegotiation_info is not empty on an initial handshake",
                ));
            }
        }
        let mut sni_ack = false;
        if let Some(data) = find_ext(exts, ext::SERVER_NAME) {
            let name = decode_server_name(data).map_err(|e| self.decode_failed(step, e))?;
            if let Some(n) = &name {
                if !self.config.server_names.is_empty()
                    && !self
                        .config
                        .server_names
                        .iter()
                        .any(|s| s.eq_ignore_ascii_case(n))
                {
                    return Err(self.fatal(
                        step,
                        AlertDescription::UNRECOGNIZED_NAME,
                        format!("no service for server name {n}"),
                    ));
                }
                sni_ack = true;
            }
            self.hs.server_name = name;
        }
        let groups_ok = match find_ext(exts, ext::SUPPORTED_GROUPS) {
            Some(d) => decode_u16_list(d)
                .map_err(|e| self.decode_failed(step, e))?
                .contains(&GROUP_SECP256R1),
            None => true,
        };
        let formats_ok = match find_ext(exts, ext::EC_POINT_FORMATS) {
            Some(d) => {
                let mut r = handshake::Reader::new(d);
                let list = r
                    .vec8("ec_point_formats list")
                    .map_err(|e| self.decode_failed(step, e))?;
                list.contains(&0)
            }
            None => true,
        };
        let sigs_ok = match find_ext(exts, ext::SIGNATURE_ALGORITHMS) {
            Some(d) => decode_u16_list(d)
                .map_err(|e| self.decode_failed(step, e))?
                .contains(&SIG_ECDSA_SHA256),
            None => false,
        };
        // RFC 7250: which certificate types the client accepts from us, and
        // which it can send.
        let server_types = find_ext(exts, ext::SERVER_CERTIFICATE_TYPE)
            .map(|d| d.get(1..).unwrap_or_default().to_vec());
        let client_types = find_ext(exts, ext::CLIENT_CERTIFICATE_TYPE)
            .map(|d| d.get(1..).unwrap_or_default().to_vec());
        let our_type = match &self.config.certificate {
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
        let suite = self
            .config
            .suites
            .iter()
            .copied()
            .find(|s| hello.cipher_suites.contains(&s.id()) && (s.is_psk() || ecdhe_ok));
        let Some(suite) = suite else {
            return Err(self.fatal(
                step,
                AlertDescription::HANDSHAKE_FAILURE,
                "no cipher suite in common",
            ));
        };
        self.hs.suite = Some(suite);
        self.hs.client_random = hello.random;
        self.hs.server_random = self.random32();
        self.hs.extended_master_secret = ems;

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
                self.hs.server_raw_key = t == CERT_TYPE_RAW_PUBLIC_KEY;
                extensions.push(Extension::new(ext::SERVER_CERTIFICATE_TYPE, vec![t]));
            }
            if self.config.require_client_certificate {
                if let Some(list) = &client_types {
                    if list.contains(&CERT_TYPE_RAW_PUBLIC_KEY) {
                        self.hs.client_raw_key = true;
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
                        return Err(self.fatal(
                            step,
                            AlertDescription::UNSUPPORTED_CERTIFICATE,
                            "the client can send no certificate type we accept",
                        ));
                    }
                }
            }
        }
        let sh = ServerHello {
            version: self.config.variant.version(),
            random: self.hs.server_random,
            session_id: Vec::new(),
            cipher_suite: suite.id(),
            compression_method: 0,
            extensions,
        };

        let (cr, sr) = (self.hs.client_random, self.hs.server_random);
        let share = match self.secrets.server_key_share(suite, &cr, &sr) {
            Ok(s) => s,
            Err(e) => return Err(self.secrets_failed(Step::ServerKeyExchange, e)),
        };
        let mut items = Vec::new();
        self.queue_message(&mut items, HandshakeType::ServerHello, sh.get_encoding());
        if suite.is_psk() {
            if let Some(hint) = self.config.psk_identity_hint.clone() {
                let ske = ServerKeyExchange::Psk { hint };
                self.queue_message(
                    &mut items,
                    HandshakeType::ServerKeyExchange,
                    ske.get_encoding(),
                );
            }
        } else {
            let certificate = match &self.config.certificate {
                OwnCertificate::X509(chain) if !self.hs.server_raw_key => {
                    Certificate::X509(chain.clone())
                }
                OwnCertificate::RawPublicKey(spki) => Certificate::RawPublicKey(spki.clone()),
                _ => {
                    return Err(self.fatal(
                        Step::Certificate,
                        AlertDescription::INTERNAL_ERROR,
                        "no certificate of the negotiated type",
                    ))
                }
            };
            self.queue_message(
                &mut items,
                HandshakeType::Certificate,
                certificate.get_encoding(),
            );
            let Some(share) = share else {
                return Err(self.fatal(
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
            self.queue_message(
                &mut items,
                HandshakeType::ServerKeyExchange,
                ske.get_encoding(),
            );
            if self.config.require_client_certificate {
                let req = CertificateRequest {
                    certificate_types: vec![CLIENT_CERT_ECDSA_SIGN],
                    signature_algorithms: vec![SIG_ECDSA_SHA256],
                    authorities: Vec::new(),
                };
                self.hs.certificate_requested = true;
                self.queue_message(
                    &mut items,
                    HandshakeType::CertificateRequest,
                    req.get_encoding(),
                );
            }
        }
        self.queue_message(&mut items, HandshakeType::ServerHelloDone, Vec::new());
        self.send_flight(items, true, now);
        self.state = State::ServerWaitFlight;
        Ok(())
    }

    fn on_client_certificate(&mut self, body: &[u8]) -> Result<(), DtlsError> {
        let step = Step::Certificate;
        if !self.hs.certificate_requested || self.hs.certificate_message_seen {
            return Err(self.unexpected(step));
        }
        self.hs.certificate_message_seen = true;
        let c = Certificate::decode(body, self.hs.client_raw_key)
            .map_err(|e| self.decode_failed(step, e))?;
        if c.is_empty() {
            return Err(self.fatal(
                step,
                AlertDescription::HANDSHAKE_FAILURE,
                "the client sent no certificate, and one is required",
            ));
        }
        let checked = match &c {
            Certificate::X509(chain) => {
                self.hs.peer_certificates = chain.clone();
                cert::verify_chain(
                    chain,
                    &self.config.peer_trust,
                    Role::Client,
                    None,
                    self.config.now(),
                )
            }
            Certificate::RawPublicKey(spki) => {
                cert::verify_raw_public_key(spki, &self.config.peer_trust)
            }
        };
        match checked {
            Ok(key) => {
                self.hs.peer_key = Some(key);
                self.hs.client_certificate = true;
                Ok(())
            }
            Err((alert, why)) => Err(self.fatal(step, alert, why)),
        }
    }

    fn on_client_key_exchange(&mut self, body: &[u8]) -> Result<(), DtlsError> {
        let step = Step::ClientKeyExchange;
        let suite: Suite = self.suite()?;
        let cke =
            ClientKeyExchange::decode(body, suite).map_err(|e| self.decode_failed(step, e))?;
        if let ClientKeyExchange::Ecdhe { public } = &cke {
            if public.len() != 65 || public[0] != 4 {
                return Err(self.fatal(
                    step,
                    AlertDescription::ILLEGAL_PARAMETER,
                    "the client's ECDHE share is not an uncompressed P-256 point",
                ));
            }
        }
        let seed = if self.hs.extended_master_secret {
            MasterSeed::Extended(Sha256::digest(&self.hs.transcript).into())
        } else {
            MasterSeed::Randoms
        };
        if let ClientKeyExchange::Psk { identity } = &cke {
            self.hs.psk_identity = Some(identity.clone());
        }
        let peer = match &cke {
            ClientKeyExchange::Psk { identity } => PeerKeyExchange::PskIdentity(identity),
            ClientKeyExchange::Ecdhe { public } => PeerKeyExchange::Ecdhe(public),
        };
        let (cr, sr) = (self.hs.client_random, self.hs.server_random);
        let keys = match self.secrets.server_keys(suite, peer, seed, &cr, &sr) {
            Ok(k) => k,
            Err(e) => return Err(self.secrets_failed(step, e)),
        };
        if !keys.fits(suite) {
            return Err(self.fatal(
                step,
                AlertDescription::INTERNAL_ERROR,
                "the Secure Environment's key block does not fit the suite",
            ));
        }
        self.install_keys(suite, &keys);
        self.state = if self.hs.client_certificate {
            State::ServerWaitCertificateVerify
        } else {
            State::ServerWaitCcs
        };
        Ok(())
    }

    fn on_certificate_verify(&mut self, body: &[u8]) -> Result<(), DtlsError> {
        let step = Step::CertificateVerify;
        let cv = DigitallySigned::decode(body).map_err(|e| self.decode_failed(step, e))?;
        if cv.sig_alg != SIG_ECDSA_SHA256 {
            return Err(self.fatal(
                step,
                AlertDescription::ILLEGAL_PARAMETER,
                format!("signature algorithm 0x{:04x} was not offered", cv.sig_alg),
            ));
        }
        let digest: [u8; 32] = Sha256::digest(&self.hs.transcript).into();
        let key = self.hs.peer_key.clone().unwrap_or_default();
        if !cert::verify_ecdsa_digest(&key, &digest, &cv.signature) {
            return Err(self.fatal(
                step,
                AlertDescription::DECRYPT_ERROR,
                "the CertificateVerify signature does not verify",
            ));
        }
        Ok(())
    }

    fn on_client_finished(&mut self, seq: u16, body: &[u8], now: Instant) -> Result<(), DtlsError> {
        let step = Step::Finished;
        let vd = handshake::decode_finished(body).map_err(|e| self.decode_failed(step, e))?;
        let client_hash: [u8; 32] = Sha256::digest(&self.hs.transcript).into();
        self.hash_received(HandshakeType::Finished as u8, seq, body);
        let server_hash: [u8; 32] = Sha256::digest(&self.hs.transcript).into();
        let ours = match self
            .secrets
            .server_finished(&client_hash, &vd, &server_hash)
        {
            Ok(v) => v,
            Err(e) => return Err(self.secrets_failed(step, e)),
        };
        let mut items: Vec<FlightItem> = Vec::new();
        self.queue_change_cipher_spec(&mut items);
        self.queue_message(&mut items, HandshakeType::Finished, ours.to_vec());
        // The handshake's last flight: resent only when the client resends.
        self.send_flight(items, false, now);
        self.state = State::Established;
        Ok(())
    }
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
