//! The client's handshake (RFC 5246 §7.3, RFC 6347 §4.2): ClientHello
//! (again with the cookie after a HelloVerifyRequest), the server's flight,
//! our ClientKeyExchange flight, and the server's Finished.

use std::time::Instant;

use sha2::{Digest as _, Sha256};

use super::cert;
use super::connection::{Connection, State};
use super::handshake::{
    self, decode_server_hello_done, ecdhe_params, ext, Certificate, CertificateRequest,
    ClientHello, ClientKeyExchange, ContextCodec as _, Extension, HandshakeType,
    HelloVerifyRequest, ServerHello, ServerKeyExchange, CERT_TYPE_RAW_PUBLIC_KEY, CERT_TYPE_X509,
    CLIENT_CERT_ECDSA_SIGN, GROUP_SECP256R1, SIG_ECDSA_SHA256,
};
use super::secrets::{ClientFlightRequest, HandshakeSecrets, MasterSeed};
use super::{AlertDescription, DtlsError, OwnCertificate, PeerTrust, Role, Step, Suite};

impl<S: HandshakeSecrets> Connection<S> {
    pub(super) fn client_start(&mut self, now: Instant) {
        self.hs.client_random = self.random32();
        self.send_client_hello(now);
    }

    fn send_client_hello(&mut self, now: Instant) {
        let mut suites: Vec<u16> = self.config.suites.iter().map(|s| s.id()).collect();
        suites.dedup();
        let ecdhe = self.config.suites.iter().any(|s| !s.is_psk());
        let mut extensions = Vec::new();
        if let Some(name) = self.config.server_names.first() {
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
            if matches!(self.config.peer_trust, PeerTrust::PinnedKey(_)) {
                extensions.push(Extension::new(
                    ext::SERVER_CERTIFICATE_TYPE,
                    vec![2, CERT_TYPE_RAW_PUBLIC_KEY, CERT_TYPE_X509],
                ));
            }
            if matches!(self.config.certificate, OwnCertificate::RawPublicKey(_)) {
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
        let hello = ClientHello {
            version: self.config.variant.version(),
            random: self.hs.client_random,
            session_id: Vec::new(),
            cookie: self.dtls().then(|| self.hs.cookie.clone()),
            cipher_suites: suites,
            compression_methods: vec![0],
            extensions,
        };
        self.reset_transcript();
        let mut items = Vec::new();
        self.queue_message(&mut items, HandshakeType::ClientHello, hello.get_encoding());
        self.send_flight(items, true, now);
    }

    pub(super) fn client_message(
        &mut self,
        msg_type: u8,
        seq: u16,
        body: Vec<u8>,
        now: Instant,
    ) -> Result<(), DtlsError> {
        use HandshakeType as T;
        let t = HandshakeType::from_u8(msg_type);
        match (self.state, t) {
            (State::ClientWaitHello, Some(T::HelloVerifyRequest)) if self.dtls() => {
                let hvr = HelloVerifyRequest::decode(&body)
                    .map_err(|e| self.decode_failed(Step::HelloVerifyRequest, e))?;
                self.hs.cookie = hvr.cookie;
                self.send_client_hello(now);
                Ok(())
            }
            (State::ClientWaitHello, Some(T::ServerHello)) => {
                self.on_server_hello(&body)?;
                self.hash_received(msg_type, seq, &body);
                self.state = State::ClientWaitFlight;
                Ok(())
            }
            (State::ClientWaitFlight, Some(T::Certificate)) => {
                self.on_server_certificate(&body)?;
                self.hash_received(msg_type, seq, &body);
                Ok(())
            }
            (State::ClientWaitFlight, Some(T::ServerKeyExchange)) => {
                self.on_server_key_exchange(&body)?;
                self.hash_received(msg_type, seq, &body);
                Ok(())
            }
            (State::ClientWaitFlight, Some(T::CertificateRequest)) => {
                let suite = self.suite()?;
                if suite.is_psk() || self.hs.certificate_requested {
                    return Err(self.unexpected(Step::CertificateRequest));
                }
                let cr = CertificateRequest::decode(&body)
                    .map_err(|e| self.decode_failed(Step::CertificateRequest, e))?;
                self.hs.certificate_requested = true;
                // Ours fits only a request for ecdsa_sign with SHA-256;
                // otherwise we answer with an empty Certificate.
                self.hs.client_certificate = acceptable_request(&cr);
                self.hash_received(msg_type, seq, &body);
                Ok(())
            }
            (State::ClientWaitFlight, Some(T::ServerHelloDone)) => {
                decode_server_hello_done(&body)
                    .map_err(|e| self.decode_failed(Step::ServerHelloDone, e))?;
                self.hash_received(msg_type, seq, &body);
                self.flight_answered();
                self.send_client_flight(now)
            }
            (State::ClientWaitFinished, Some(T::Finished)) => {
                let vd = handshake::decode_finished(&body)
                    .map_err(|e| self.decode_failed(Step::Finished, e))?;
                if let Err(e) = self.secrets.verify_server_finished(&vd) {
                    return Err(self.secrets_failed(Step::Finished, e));
                }
                self.state = State::Established;
                self.flight_done();
                Ok(())
            }
            (State::Established, Some(T::HelloRequest)) => {
                self.refuse_renegotiation();
                Ok(())
            }
            _ => Err(self.unexpected(self.state.step())),
        }
    }

    pub(super) fn unexpected(&mut self, step: Step) -> DtlsError {
        self.fatal(
            step,
            AlertDescription::UNEXPECTED_MESSAGE,
            "a handshake message out of order",
        )
    }

    pub(super) fn suite(&mut self) -> Result<Suite, DtlsError> {
        match self.hs.suite {
            Some(s) => Ok(s),
            None => Err(self.fatal(
                self.state.step(),
                AlertDescription::INTERNAL_ERROR,
                "no suite negotiated",
            )),
        }
    }

    fn on_server_hello(&mut self, body: &[u8]) -> Result<(), DtlsError> {
        let step = Step::ServerHello;
        let sh = ServerHello::decode(body).map_err(|e| self.decode_failed(step, e))?;
        if sh.version != self.config.variant.version() {
            return Err(self.fatal(
                step,
                AlertDescription::PROTOCOL_VERSION,
                format!("the server chose version 0x{:04x}, not 1.2", sh.version),
            ));
        }
        let Some(suite) =
            Suite::from_id(sh.cipher_suite).filter(|s| self.config.suites.contains(s))
        else {
            return Err(self.fatal(
                step,
                AlertDescription::ILLEGAL_PARAMETER,
                format!(
                    "the server chose suite 0x{:04x}, which we did not offer",
                    sh.cipher_suite
                ),
            ));
        };
        if sh.compression_method != 0 {
            return Err(self.fatal(
                step,
                AlertDescription::ILLEGAL_PARAMETER,
                "the server chose compression",
            ));
        }
        for e in &sh.extensions {
            match e.typ {
                ext::EXTENDED_MASTER_SECRET => {
                    if !e.data.is_empty() {
                        return Err(self.decode_failed(
                            step,
                            handshake::DecodeError("extended_master_secret is not empty"),
                        ));
                    }
                    self.hs.extended_master_secret = true;
                }
                ext::RENEGOTIATION_INFO => {
                    if e.data != [0] {
                        return Err(self.fatal(
                            step,
                            AlertDescription::HANDSHAKE_FAILURE,
                            "renegotiation_info is not empty on an initial handshake",
                        ));
                    }
                }
                ext::SERVER_NAME | ext::EC_POINT_FORMATS => {}
                ext::SERVER_CERTIFICATE_TYPE
                    if matches!(self.config.peer_trust, PeerTrust::PinnedKey(_)) =>
                {
                    match e.data.as_slice() {
                        [CERT_TYPE_RAW_PUBLIC_KEY] => self.hs.server_raw_key = true,
                        [CERT_TYPE_X509] => {}
                        _ => {
                            return Err(self.fatal(
                                step,
                                AlertDescription::ILLEGAL_PARAMETER,
                                "server_certificate_type is not one we offered",
                            ))
                        }
                    }
                }
                ext::CLIENT_CERTIFICATE_TYPE
                    if matches!(self.config.certificate, OwnCertificate::RawPublicKey(_)) =>
                {
                    match e.data.as_slice() {
                        [CERT_TYPE_RAW_PUBLIC_KEY] => self.hs.client_raw_key = true,
                        _ => {
                            return Err(self.fatal(
                                step,
                                AlertDescription::ILLEGAL_PARAMETER,
                                "client_certificate_type is not one we offered",
                            ))
                        }
                    }
                }
                other => {
                    return Err(self.fatal(
                        step,
                        AlertDescription::UNSUPPORTED_EXTENSION,
                        format!("the server sent extension {other}, which we did not offer"),
                    ))
                }
            }
        }
        if self.config.require_extended_master_secret && !self.hs.extended_master_secret {
            return Err(self.fatal(
                step,
                AlertDescription::HANDSHAKE_FAILURE,
                "the server does not do extended master secret (RFC 7627)",
            ));
        }
        self.hs.server_random = sh.random;
        self.hs.suite = Some(suite);
        Ok(())
    }

    fn on_server_certificate(&mut self, body: &[u8]) -> Result<(), DtlsError> {
        let step = Step::Certificate;
        let suite = self.suite()?;
        if suite.is_psk() || self.hs.peer_key.is_some() {
            return Err(self.unexpected(step));
        }
        let c = Certificate::decode(body, self.hs.server_raw_key)
            .map_err(|e| self.decode_failed(step, e))?;
        let host = self.config.server_names.first().cloned();
        let checked = match &c {
            Certificate::X509(chain) => {
                self.hs.peer_certificates = chain.clone();
                cert::verify_chain(
                    chain,
                    &self.config.peer_trust,
                    Role::Server,
                    host.as_deref(),
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
                Ok(())
            }
            Err((alert, why)) => Err(self.fatal(step, alert, why)),
        }
    }

    fn on_server_key_exchange(&mut self, body: &[u8]) -> Result<(), DtlsError> {
        let step = Step::ServerKeyExchange;
        let suite = self.suite()?;
        let ske =
            ServerKeyExchange::decode(body, suite).map_err(|e| self.decode_failed(step, e))?;
        match ske {
            ServerKeyExchange::Psk { .. } => Ok(()), // the hint is not used
            ServerKeyExchange::Ecdhe {
                curve,
                public,
                sig_alg,
                signature,
            } => {
                let Some(server_key) = self.hs.peer_key.clone() else {
                    return Err(self.unexpected(step));
                };
                if curve != GROUP_SECP256R1 || public.len() != 65 || public[0] != 4 {
                    return Err(self.fatal(
                        step,
                        AlertDescription::ILLEGAL_PARAMETER,
                        "the server's ECDHE share is not an uncompressed P-256 point",
                    ));
                }
                if sig_alg != SIG_ECDSA_SHA256 {
                    return Err(self.fatal(
                        step,
                        AlertDescription::ILLEGAL_PARAMETER,
                        format!("signature algorithm 0x{sig_alg:04x} was not offered"),
                    ));
                }
                let mut h = Sha256::new();
                h.update(self.hs.client_random);
                h.update(self.hs.server_random);
                h.update(ecdhe_params(&public));
                let digest: [u8; 32] = h.finalize().into();
                if !cert::verify_ecdsa_digest(&server_key, &digest, &signature) {
                    return Err(self.fatal(
                        step,
                        AlertDescription::DECRYPT_ERROR,
                        "the ServerKeyExchange signature does not verify",
                    ));
                }
                self.hs.peer_share = Some(public);
                Ok(())
            }
        }
    }

    fn send_client_flight(&mut self, now: Instant) -> Result<(), DtlsError> {
        let suite = self.suite()?;
        if !suite.is_psk() && (self.hs.peer_share.is_none() || self.hs.peer_key.is_none()) {
            return Err(self.fatal(
                Step::ServerHelloDone,
                AlertDescription::UNEXPECTED_MESSAGE,
                "the server's flight lacks its Certificate or ServerKeyExchange",
            ));
        }
        let mut items = Vec::new();
        // Certificate, if asked (empty if we have none).
        let mut sends_certificate = false;
        if self.hs.certificate_requested {
            let c = match (&self.config.certificate, self.hs.client_raw_key) {
                _ if !self.hs.client_certificate => Certificate::X509(Vec::new()),
                (OwnCertificate::RawPublicKey(spki), true) => {
                    Certificate::RawPublicKey(spki.clone())
                }
                (OwnCertificate::X509(chain), false) => Certificate::X509(chain.clone()),
                _ => Certificate::X509(Vec::new()),
            };
            sends_certificate = !c.is_empty();
            self.queue_message(&mut items, HandshakeType::Certificate, c.get_encoding());
        }
        let share = match self.secrets.client_key_share(suite, sends_certificate) {
            Ok(s) => s,
            Err(e) => return Err(self.secrets_failed(Step::ClientKeyExchange, e)),
        };
        let cke = if suite.is_psk() {
            let Some(identity) = self.config.psk_identity.clone() else {
                return Err(self.fatal(
                    Step::ClientKeyExchange,
                    AlertDescription::INTERNAL_ERROR,
                    "no PSK identity configured",
                ));
            };
            self.hs.psk_identity = Some(identity.clone());
            ClientKeyExchange::Psk { identity }
        } else {
            let Some(public) = share else {
                return Err(self.fatal(
                    Step::ClientKeyExchange,
                    AlertDescription::INTERNAL_ERROR,
                    "the Secure Environment gave no ECDHE share",
                ));
            };
            ClientKeyExchange::Ecdhe { public }
        };
        self.queue_message(
            &mut items,
            HandshakeType::ClientKeyExchange,
            cke.get_encoding(),
        );
        let seed = if self.hs.extended_master_secret {
            MasterSeed::Extended(Sha256::digest(&self.hs.transcript).into())
        } else {
            MasterSeed::Randoms
        };
        let transcript = self.hs.transcript.clone();
        let peer_share = self.hs.peer_share.clone();
        let req = ClientFlightRequest {
            suite,
            peer_public: peer_share.as_deref(),
            seed,
            client_random: self.hs.client_random,
            server_random: self.hs.server_random,
            transcript: &transcript,
            certificate_verify: sends_certificate,
            dtls_message_seq: self.dtls().then_some(self.next_send_seq()),
        };
        let flight = match self.secrets.client_flight(&req) {
            Ok(f) => f,
            Err(e) => return Err(self.secrets_failed(Step::ClientKeyExchange, e)),
        };
        if !flight.keys.fits(suite) || flight.certificate_verify.is_some() != sends_certificate {
            return Err(self.fatal(
                Step::ClientKeyExchange,
                AlertDescription::INTERNAL_ERROR,
                "the Secure Environment's answer does not fit the suite",
            ));
        }
        if let Some(cv) = &flight.certificate_verify {
            if let Err(e) =
                self.queue_built_message(&mut items, HandshakeType::CertificateVerify, cv)
            {
                return Err(self.fatal(
                    Step::CertificateVerify,
                    AlertDescription::INTERNAL_ERROR,
                    e,
                ));
            }
        }
        self.install_keys(suite, &flight.keys);
        self.queue_change_cipher_spec(&mut items);
        if let Err(e) =
            self.queue_built_message(&mut items, HandshakeType::Finished, &flight.finished)
        {
            return Err(self.fatal(Step::Finished, AlertDescription::INTERNAL_ERROR, e));
        }
        self.send_flight(items, true, now);
        self.state = State::ClientWaitCcs;
        Ok(())
    }
}

/// Whether a CertificateRequest accepts an ECDSA P-256 SHA-256 certificate.
fn acceptable_request(cr: &CertificateRequest) -> bool {
    cr.certificate_types.contains(&CLIENT_CERT_ECDSA_SIGN)
        && (cr.signature_algorithms.is_empty()
            || cr.signature_algorithms.contains(&SIG_ECDSA_SHA256))
}
