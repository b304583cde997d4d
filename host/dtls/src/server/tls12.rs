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
use crate::{AlertDescription, DtlsError, Role, Step};
use subtle::ConstantTimeEq;

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
        Ok(match self.client_key {
            // The keys come with the CertificateVerify, in one call.
            Some(client_key) => Box::new(ExpectCertificateVerify { hs, client_key }),
            None => {
                let done = finish(cx, &hs, step)?;
                Box::new(ExpectCcs { hs, done })
            }
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
        let done = finish(cx, &hs, step)?;
        Ok(Box::new(ExpectCcs { hs, done }))
    }

    fn step(&self) -> Step {
        Step::CertificateVerify
    }
}

/// What the second Secure Environment call gave besides the keys.
struct Done {
    /// The verify_data the client's Finished must carry.
    expected: [u8; 12],
    /// Our Finished message, whole.
    finished: Vec<u8>,
}

/// The second of the handshake's two Secure Environment calls, over every
/// message the client sent before its Finished: installs the keys.
fn finish(cx: &mut Context<'_>, hs: &Negotiated, step: Step) -> Result<Done, DtlsError> {
    let suite = hs.suite;
    let done = match cx.secrets.server_finish(suite, hs.transcript.bytes()) {
        Ok(d) => d,
        Err(e) => return Err(cx.secrets_failed(step, e)),
    };
    if !done.keys.fits(suite) {
        return Err(cx.fatal(
            step,
            AlertDescription::INTERNAL_ERROR,
            "the Secure Environment's key block does not fit the suite",
        ));
    }
    cx.install_keys(suite, &done.keys, Role::Server);
    Ok(Done {
        expected: done.expected_client_verify_data,
        finished: done.finished,
    })
}

/// Keys installed: the client's ChangeCipherSpec comes next.
struct ExpectCcs {
    hs: Negotiated,
    done: Done,
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
                    hs: self.hs,
                    done: self.done,
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
    hs: Negotiated,
    done: Done,
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
        if !bool::from(self.done.expected.ct_eq(&finished.0)) {
            return Err(cx.fatal(
                step,
                AlertDescription::DECRYPT_ERROR,
                "the client's Finished does not verify",
            ));
        }
        let mut hs = self.hs;
        hs.transcript
            .add_received(HandshakeType::Finished as u8, seq, body);
        let mut items: Vec<FlightItem> = Vec::new();
        cx.queue_change_cipher_spec(&mut items);
        if let Err(e) = cx.queue_built(
            &mut hs.transcript,
            &mut items,
            HandshakeType::Finished,
            &self.done.finished,
        ) {
            return Err(cx.fatal(step, AlertDescription::INTERNAL_ERROR, e));
        }
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
