//! The server from the client's flight on: its Certificate (when we asked),
//! ClientKeyExchange, CertificateVerify (when it sent a certificate),
//! ChangeCipherSpec and Finished; then our ChangeCipherSpec and Finished.

use crate::cert;
use crate::common::{unexpected, Context, Message, Negotiated, State};
use crate::flight::FlightItem;
use crate::msgs::codec::Codec as _;
use crate::msgs::enums::{HandshakeType, SIG_ECDSA_SHA256};
use crate::msgs::handshake::{
    Certificate, ClientKeyExchange, ContextCodec as _, DigitallySigned, Finished,
};
use crate::secrets::PeerKeyExchange;
use crate::{AlertDescription, DtlsError, Role, Step};

/// We asked for a certificate: the client's Certificate comes first.
pub(super) struct ExpectCertificate {
    pub(super) hs: Negotiated,
    /// RFC 7250 RawPublicKey was negotiated for the client's certificate.
    pub(super) client_raw_key: bool,
}

impl State for ExpectCertificate {
    fn handle(
        self: Box<Self>,
        cx: &mut Context<'_>,
        m: Message,
    ) -> Result<Box<dyn State>, DtlsError> {
        let step = Step::Certificate;
        if m.of(HandshakeType::ClientKeyExchange).is_some() {
            return Err(cx.fatal(
                step,
                AlertDescription::UNEXPECTED_MESSAGE,
                "the client sent no Certificate message",
            ));
        }
        let Some((seq, body)) = m.of(HandshakeType::Certificate) else {
            return unexpected(self, cx, &m);
        };
        let c = Certificate::read_bytes(body, self.client_raw_key)
            .map_err(|e| cx.decode_failed(step, e))?;
        if c.is_empty() {
            return Err(cx.fatal(
                step,
                AlertDescription::HANDSHAKE_FAILURE,
                "the client sent no certificate, and one is required",
            ));
        }
        let checked = match &c {
            Certificate::X509(chain) => {
                cx.info.peer_certificates = chain.clone();
                cert::verify_chain(
                    chain,
                    &cx.config.peer_trust,
                    Role::Client,
                    None,
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
        Ok(Box::new(ExpectClientKx {
            hs,
            client_key: Some(key),
        }))
    }

    fn step(&self) -> Step {
        Step::Certificate
    }
}

pub(super) struct ExpectClientKx {
    pub(super) hs: Negotiated,
    /// The client's authenticated key, when it sent a certificate: its
    /// CertificateVerify must follow.
    pub(super) client_key: Option<Vec<u8>>,
}

impl State for ExpectClientKx {
    fn handle(
        self: Box<Self>,
        cx: &mut Context<'_>,
        m: Message,
    ) -> Result<Box<dyn State>, DtlsError> {
        let Some((seq, body)) = m.of(HandshakeType::ClientKeyExchange) else {
            return unexpected(self, cx, &m);
        };
        let step = Step::ClientKeyExchange;
        let mut hs = self.hs;
        let suite = hs.suite;
        hs.transcript
            .add_received(HandshakeType::ClientKeyExchange as u8, seq, body);
        let cke =
            ClientKeyExchange::read_bytes(body, suite).map_err(|e| cx.decode_failed(step, e))?;
        if let ClientKeyExchange::Ecdhe { public } = &cke {
            if public.len() != 65 || public[0] != 4 {
                return Err(cx.fatal(
                    step,
                    AlertDescription::ILLEGAL_PARAMETER,
                    "the client's ECDHE share is not an uncompressed P-256 point",
                ));
            }
        }
        if let ClientKeyExchange::Psk { identity } = &cke {
            cx.info.psk_identity = Some(identity.clone());
        }
        let peer = match &cke {
            ClientKeyExchange::Psk { identity } => PeerKeyExchange::PskIdentity(identity),
            ClientKeyExchange::Ecdhe { public } => PeerKeyExchange::Ecdhe(public),
        };
        let keys = match cx.secrets.server_keys(
            suite,
            peer,
            hs.seed(),
            &hs.client_random,
            &hs.server_random,
        ) {
            Ok(k) => k,
            Err(e) => return Err(cx.secrets_failed(step, e)),
        };
        if !keys.fits(suite) {
            return Err(cx.fatal(
                step,
                AlertDescription::INTERNAL_ERROR,
                "the Secure Environment's key block does not fit the suite",
            ));
        }
        cx.install_keys(suite, &keys, Role::Server);
        Ok(match self.client_key {
            Some(client_key) => Box::new(ExpectCertificateVerify { hs, client_key }),
            None => Box::new(ExpectCcs { hs }),
        })
    }

    fn step(&self) -> Step {
        Step::ClientKeyExchange
    }
}

/// The client sent a certificate: it proves it holds the key.
struct ExpectCertificateVerify {
    hs: Negotiated,
    client_key: Vec<u8>,
}

impl State for ExpectCertificateVerify {
    fn handle(
        self: Box<Self>,
        cx: &mut Context<'_>,
        m: Message,
    ) -> Result<Box<dyn State>, DtlsError> {
        let Some((seq, body)) = m.of(HandshakeType::CertificateVerify) else {
            return unexpected(self, cx, &m);
        };
        let step = Step::CertificateVerify;
        let cv = DigitallySigned::read_bytes(body).map_err(|e| cx.decode_failed(step, e))?;
        if cv.sig_alg != SIG_ECDSA_SHA256 {
            return Err(cx.fatal(
                step,
                AlertDescription::ILLEGAL_PARAMETER,
                format!("signature algorithm 0x{:04x} was not offered", cv.sig_alg),
            ));
        }
        let mut hs = self.hs;
        let digest = hs.transcript.hash();
        if !cert::verify_ecdsa_digest(&self.client_key, &digest, &cv.signature) {
            return Err(cx.fatal(
                step,
                AlertDescription::DECRYPT_ERROR,
                "the CertificateVerify signature does not verify",
            ));
        }
        hs.transcript
            .add_received(HandshakeType::CertificateVerify as u8, seq, body);
        Ok(Box::new(ExpectCcs { hs }))
    }

    fn step(&self) -> Step {
        Step::CertificateVerify
    }
}

/// Keys installed: the client's ChangeCipherSpec comes next.
struct ExpectCcs {
    hs: Negotiated,
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
                Ok(Box::new(ExpectFinished { hs: self.hs }))
            }
            _ => unexpected(self, cx, &m),
        }
    }

    fn step(&self) -> Step {
        Step::ChangeCipherSpec
    }
}

struct ExpectFinished {
    hs: Negotiated,
}

impl State for ExpectFinished {
    fn handle(
        self: Box<Self>,
        cx: &mut Context<'_>,
        m: Message,
    ) -> Result<Box<dyn State>, DtlsError> {
        let Some((seq, body)) = m.of(HandshakeType::Finished) else {
            return unexpected(self, cx, &m);
        };
        let step = Step::Finished;
        let finished = Finished::read_bytes(body).map_err(|e| cx.decode_failed(step, e))?;
        let mut hs = self.hs;
        let client_hash = hs.transcript.hash();
        hs.transcript
            .add_received(HandshakeType::Finished as u8, seq, body);
        let server_hash = hs.transcript.hash();
        let ours = match cx
            .secrets
            .server_finished(&client_hash, &finished.0, &server_hash)
        {
            Ok(v) => v,
            Err(e) => return Err(cx.secrets_failed(step, e)),
        };
        let mut items: Vec<FlightItem> = Vec::new();
        cx.queue_change_cipher_spec(&mut items);
        cx.queue(
            &mut hs.transcript,
            &mut items,
            HandshakeType::Finished,
            Finished(ours).get_encoding(),
        );
        // The handshake's last flight: resent only when the client resends.
        cx.send_flight(items, false);
        Ok(Box::new(ExpectTraffic))
    }

    fn step(&self) -> Step {
        Step::Finished
    }
}

/// Established. A ClientHello asks for renegotiation, which we refuse.
struct ExpectTraffic;

impl State for ExpectTraffic {
    fn handle(
        self: Box<Self>,
        cx: &mut Context<'_>,
        m: Message,
    ) -> Result<Box<dyn State>, DtlsError> {
        if m.of(HandshakeType::ClientHello).is_some() {
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
