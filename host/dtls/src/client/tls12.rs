//! The client from the server's Certificate on: each state holds exactly
//! what the states after it need, so a message out of order finds no state
//! that takes it.

use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq;

use crate::cert;
use crate::common::{unexpected, Context, Message, Negotiated, State};
use crate::msgs::codec::Codec as _;
use crate::msgs::enums::{
    HandshakeType, CLIENT_CERT_ECDSA_SIGN, GROUP_SECP256R1, SIG_ECDSA_SHA256,
};
use crate::msgs::handshake::{
    ecdhe_params, Certificate, CertificateRequest, ClientKeyExchange, ContextCodec as _, Finished,
    ServerHelloDone, ServerKeyExchange,
};
use crate::{AlertDescription, DtlsError, OwnCertificate, Role, Step};

/// ECDHE_ECDSA: the server's Certificate comes next.
pub(super) struct ExpectCertificate {
    pub(super) hs: Negotiated,
    /// RFC 7250 RawPublicKey was negotiated for the server's certificate.
    pub(super) server_raw_key: bool,
    /// … and for ours.
    pub(super) client_raw_key: bool,
}

impl State for ExpectCertificate {
    fn handle(
        self: Box<Self>,
        cx: &mut Context<'_>,
        m: Message,
    ) -> Result<Box<dyn State>, DtlsError> {
        let Some((seq, body)) = m.of(HandshakeType::Certificate) else {
            return unexpected(self, cx, &m);
        };
        let step = Step::Certificate;
        let c = Certificate::read_bytes(body, self.server_raw_key)
            .map_err(|e| cx.decode_failed(step, e))?;
        let host = cx.config.server_names.first().map(String::as_str);
        let checked = match &c {
            Certificate::X509(chain) => {
                cx.info.peer_certificates = chain.clone();
                cert::verify_chain(
                    chain,
                    &cx.config.peer_trust,
                    Role::Server,
                    host,
                    cx.config.now(),
                )
            }
            Certificate::RawPublicKey(spki) => {
                cert::verify_raw_public_key(spki, &cx.config.peer_trust)
            }
        };
        let key = checked.map_err(|(alert, why)| cx.fatal(step, alert, why))?;
        cx.info.peer_public_key = Some(key.clone());
        let mut hs = self.hs;
        hs.transcript
            .add_received(HandshakeType::Certificate as u8, seq, body);
        Ok(Box::new(ExpectServerKx {
            hs,
            server_key: Some(key),
            client_raw_key: self.client_raw_key,
        }))
    }

    fn step(&self) -> Step {
        Step::Certificate
    }
}

/// The ServerKeyExchange: ECDHE (signed by the key of the certificate just
/// checked), or for PSK an optional identity hint, in which case the
/// ServerHelloDone may come at once.
pub(super) struct ExpectServerKx {
    pub(super) hs: Negotiated,
    /// The server's authenticated key (ECDHE); `None` for PSK.
    pub(super) server_key: Option<Vec<u8>>,
    pub(super) client_raw_key: bool,
}

impl State for ExpectServerKx {
    fn handle(
        self: Box<Self>,
        cx: &mut Context<'_>,
        m: Message,
    ) -> Result<Box<dyn State>, DtlsError> {
        if let (None, Some((seq, body))) = (&self.server_key, m.of(HandshakeType::ServerHelloDone))
        {
            return on_server_hello_done(cx, self.hs, None, seq, body);
        }
        let Some((seq, body)) = m.of(HandshakeType::ServerKeyExchange) else {
            return unexpected(self, cx, &m);
        };
        let step = Step::ServerKeyExchange;
        let ske = ServerKeyExchange::read_bytes(body, self.hs.suite)
            .map_err(|e| cx.decode_failed(step, e))?;
        let mut hs = self.hs;
        match (ske, self.server_key) {
            // The hint is not used.
            (ServerKeyExchange::Psk { .. }, None) => {
                hs.transcript
                    .add_received(HandshakeType::ServerKeyExchange as u8, seq, body);
                Ok(Box::new(ExpectServerDone {
                    hs,
                    client_certificate: None,
                }))
            }
            (
                ServerKeyExchange::Ecdhe {
                    curve,
                    public,
                    sig_alg,
                    signature,
                },
                Some(server_key),
            ) => {
                if curve != GROUP_SECP256R1 || public.len() != 65 || public[0] != 4 {
                    return Err(cx.fatal(
                        step,
                        AlertDescription::ILLEGAL_PARAMETER,
                        "the server's ECDHE share is not an uncompressed P-256 point",
                    ));
                }
                if sig_alg != SIG_ECDSA_SHA256 {
                    return Err(cx.fatal(
                        step,
                        AlertDescription::ILLEGAL_PARAMETER,
                        format!("signature algorithm 0x{sig_alg:04x} was not offered"),
                    ));
                }
                let mut h = Sha256::new();
                h.update(hs.client_random);
                h.update(hs.server_random);
                h.update(ecdhe_params(&public));
                let digest: [u8; 32] = h.finalize().into();
                if !cert::verify_ecdsa_digest(&server_key, &digest, &signature) {
                    return Err(cx.fatal(
                        step,
                        AlertDescription::DECRYPT_ERROR,
                        "the ServerKeyExchange signature does not verify",
                    ));
                }
                hs.transcript
                    .add_received(HandshakeType::ServerKeyExchange as u8, seq, body);
                // The TA reads the share again from the transcript it
                // is given at ClientFinish, so nothing keeps it here.
                Ok(Box::new(ExpectCertificateRequestOrDone {
                    hs,
                    client_raw_key: self.client_raw_key,
                }))
            }
            // The suite decides the variant, and the suite decided server_key.
            _ => Err(cx.fatal(
                step,
                AlertDescription::INTERNAL_ERROR,
                "a ServerKeyExchange that does not fit the suite",
            )),
        }
    }

    fn step(&self) -> Step {
        Step::ServerKeyExchange
    }
}

/// ECDHE_ECDSA: a CertificateRequest or the ServerHelloDone.
pub(super) struct ExpectCertificateRequestOrDone {
    hs: Negotiated,
    client_raw_key: bool,
}

impl State for ExpectCertificateRequestOrDone {
    fn handle(
        self: Box<Self>,
        cx: &mut Context<'_>,
        m: Message,
    ) -> Result<Box<dyn State>, DtlsError> {
        if let Some((seq, body)) = m.of(HandshakeType::ServerHelloDone) {
            return on_server_hello_done(cx, self.hs, None, seq, body);
        }
        let Some((seq, body)) = m.of(HandshakeType::CertificateRequest) else {
            return unexpected(self, cx, &m);
        };
        let cr = CertificateRequest::read_bytes(body)
            .map_err(|e| cx.decode_failed(Step::CertificateRequest, e))?;
        // Ours fits only a request for ecdsa_sign with SHA-256; otherwise we
        // answer with an empty Certificate.
        let certificate = match (&cx.config.certificate, self.client_raw_key) {
            _ if !acceptable_request(&cr) => Certificate::X509(Vec::new()),
            (OwnCertificate::RawPublicKey(spki), true) => Certificate::RawPublicKey(spki.clone()),
            (OwnCertificate::X509(chain), false) => Certificate::X509(chain.clone()),
            _ => Certificate::X509(Vec::new()),
        };
        let mut hs = self.hs;
        hs.transcript
            .add_received(HandshakeType::CertificateRequest as u8, seq, body);
        Ok(Box::new(ExpectServerDone {
            hs,
            client_certificate: Some(certificate),
        }))
    }

    fn step(&self) -> Step {
        Step::ServerHelloDone
    }
}

/// Only the ServerHelloDone may follow.
pub(super) struct ExpectServerDone {
    hs: Negotiated,
    /// The Certificate we answer a CertificateRequest with (maybe empty);
    /// `None` when none was asked for.
    client_certificate: Option<Certificate>,
}

impl State for ExpectServerDone {
    fn handle(
        self: Box<Self>,
        cx: &mut Context<'_>,
        m: Message,
    ) -> Result<Box<dyn State>, DtlsError> {
        let Some((seq, body)) = m.of(HandshakeType::ServerHelloDone) else {
            return unexpected(self, cx, &m);
        };
        on_server_hello_done(cx, self.hs, self.client_certificate, seq, body)
    }

    fn step(&self) -> Step {
        Step::ServerHelloDone
    }
}

/// The server's flight is in: ours goes out (Certificate if asked,
/// ClientKeyExchange, CertificateVerify if we sent a certificate,
/// ChangeCipherSpec, Finished).
fn on_server_hello_done(
    cx: &mut Context<'_>,
    mut hs: Negotiated,
    client_certificate: Option<Certificate>,
    seq: u16,
    body: &[u8],
) -> Result<Box<dyn State>, DtlsError> {
    ServerHelloDone::read_bytes(body).map_err(|e| cx.decode_failed(Step::ServerHelloDone, e))?;
    hs.transcript
        .add_received(HandshakeType::ServerHelloDone as u8, seq, body);
    cx.flight_answered();
    let suite = hs.suite;
    let mut items = Vec::new();
    let mut sends_certificate = false;
    if let Some(c) = client_certificate {
        sends_certificate = !c.is_empty();
        cx.queue(
            &mut hs.transcript,
            &mut items,
            HandshakeType::Certificate,
            c.get_encoding(),
        );
    }
    let cke = if suite.is_psk() {
        let Some(identity) = cx.config.psk_identity.clone() else {
            return Err(cx.fatal(
                Step::ClientKeyExchange,
                AlertDescription::INTERNAL_ERROR,
                "no PSK identity configured",
            ));
        };
        cx.info.psk_identity = Some(identity.clone());
        ClientKeyExchange::Psk { identity }
    } else {
        let Some(public) = hs.own_share.clone() else {
            return Err(cx.fatal(
                Step::ClientKeyExchange,
                AlertDescription::INTERNAL_ERROR,
                "the Secure Environment gave no ECDHE share",
            ));
        };
        ClientKeyExchange::Ecdhe { public }
    };
    cx.queue(
        &mut hs.transcript,
        &mut items,
        HandshakeType::ClientKeyExchange,
        cke.get_encoding(),
    );
    // The second call: every message so far, hashed in the Secure Environment.
    let flight = match cx.secrets.client_finish(suite, hs.transcript.bytes()) {
        Ok(f) => f,
        Err(e) => return Err(cx.secrets_failed(Step::ClientKeyExchange, e)),
    };
    if !flight.keys.fits(suite) || flight.certificate_verify.is_some() != sends_certificate {
        return Err(cx.fatal(
            Step::ClientKeyExchange,
            AlertDescription::INTERNAL_ERROR,
            "the Secure Environment's answer does not fit the suite",
        ));
    }
    if let Some(cv) = &flight.certificate_verify {
        if let Err(e) = cx.queue_built(
            &mut hs.transcript,
            &mut items,
            HandshakeType::CertificateVerify,
            cv,
        ) {
            return Err(cx.fatal(Step::CertificateVerify, AlertDescription::INTERNAL_ERROR, e));
        }
    }
    cx.install_keys(suite, &flight.keys, Role::Client);
    cx.queue_change_cipher_spec(&mut items);
    if let Err(e) = cx.queue_built(
        &mut hs.transcript,
        &mut items,
        HandshakeType::Finished,
        &flight.finished,
    ) {
        return Err(cx.fatal(Step::Finished, AlertDescription::INTERNAL_ERROR, e));
    }
    cx.send_flight(items, true);
    Ok(Box::new(ExpectCcs {
        expected: flight.expected_server_verify_data,
    }))
}

/// Whether a CertificateRequest accepts an ECDSA P-256 SHA-256 certificate.
fn acceptable_request(cr: &CertificateRequest) -> bool {
    cr.certificate_types.contains(&CLIENT_CERT_ECDSA_SIGN)
        && (cr.signature_algorithms.is_empty()
            || cr.signature_algorithms.contains(&SIG_ECDSA_SHA256))
}

/// Our flight is out, with new keys installed: the server's
/// ChangeCipherSpec comes next. `expected`: the verify_data the server's
/// Finished must carry, from the Secure Environment.
struct ExpectCcs {
    expected: [u8; 12],
}

impl State for ExpectCcs {
    fn handle(
        self: Box<Self>,
        cx: &mut Context<'_>,
        m: Message,
    ) -> Result<Box<dyn State>, DtlsError> {
        match m {
            Message::ChangeCipherSpec => {
                cx.peer_changed_cipher_spec();
                Ok(Box::new(ExpectFinished {
                    expected: self.expected,
                }))
            }
            _ => unexpected(self, cx, &m),
        }
    }

    fn step(&self) -> Step {
        Step::ChangeCipherSpec
    }
}

struct ExpectFinished {
    expected: [u8; 12],
}

impl State for ExpectFinished {
    fn handle(
        self: Box<Self>,
        cx: &mut Context<'_>,
        m: Message,
    ) -> Result<Box<dyn State>, DtlsError> {
        let Some((_, body)) = m.of(HandshakeType::Finished) else {
            return unexpected(self, cx, &m);
        };
        let finished =
            Finished::read_bytes(body).map_err(|e| cx.decode_failed(Step::Finished, e))?;
        if !bool::from(self.expected.ct_eq(&finished.0)) {
            return Err(cx.fatal(
                Step::Finished,
                AlertDescription::DECRYPT_ERROR,
                "the server's Finished does not verify",
            ));
        }
        cx.flight_done();
        Ok(Box::new(ExpectTraffic))
    }

    fn step(&self) -> Step {
        Step::Finished
    }
}

/// Established. A HelloRequest asks for renegotiation, which we refuse.
struct ExpectTraffic;

impl State for ExpectTraffic {
    fn handle(
        self: Box<Self>,
        cx: &mut Context<'_>,
        m: Message,
    ) -> Result<Box<dyn State>, DtlsError> {
        if m.of(HandshakeType::HelloRequest).is_some() {
            cx.refuse_renegotiation();
            return Ok(self);
        }
        unexpected(self, cx, &m)
    }

    fn step(&self) -> Step {
        Step::ApplicationData
    }

    fn is_traffic(&self) -> bool {
        true
    }
}
