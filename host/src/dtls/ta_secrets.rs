//! [`HandshakeSecrets`] over seam's handshake sessions: the engine's two
//! calls per role, each one TA invocation (see `seam_dtls::secrets`).

use std::borrow::BorrowMut;

use seam_dtls::cipher::TrafficKeys;
use seam_dtls::secrets::{
    ClientFinish, ClientOpen, HandshakeSecrets, SecretsError, ServerFinish, ServerKeyShare,
    ServerOpen,
};
use seam_dtls::{Suite, Variant};
use seam_proto::handshake::{Framing, SessionId, Step, StepReply};
use seam_proto::{KeyRef, Reason};

use crate::{Client, Error};

/// The credentials a [`SeamSecrets`] may use: references to keys inside the
/// Secure Environment (the caller needs a `HANDSHAKE` grant on each).
#[derive(Clone, Debug, Default)]
pub struct TaCredentials {
    /// Client, PSK suites: the PSK.
    pub psk: Option<KeyRef>,
    /// Server, PSK suites: the PSK for each identity a client may send (an
    /// empty identity matches any; at most
    /// `seam_proto::handshake::MAX_PSK_CANDIDATES`).
    pub psk_by_identity: Vec<(Vec<u8>, KeyRef)>,
    /// ECDHE_ECDSA suites: the P-256 key of our certificate (server; client
    /// when it presents one). A client offering only ECDHE suites needs it
    /// (or a PSK) even without a certificate: every TA session is bound to
    /// a credential its caller holds a `HANDSHAKE` grant on.
    pub signing_key: Option<KeyRef>,
}

/// [`HandshakeSecrets`] over seam's handshake sessions: every secret step
/// runs in the Secure Environment behind `client` (a `Client` or a
/// `&mut Client`: owned when the connection outlives the caller's scope).
pub struct SeamSecrets<C: BorrowMut<Client>> {
    client: C,
    credentials: TaCredentials,
    session: Option<SessionId>,
    invocations: u32,
}

impl<C: BorrowMut<Client>> SeamSecrets<C> {
    pub fn new(client: C, credentials: TaCredentials) -> Self {
        SeamSecrets {
            client,
            credentials,
            session: None,
            invocations: 0,
        }
    }

    /// The TA session of this handshake (for `ExportKey` once it is done).
    pub fn session(&self) -> Option<SessionId> {
        self.session
    }

    /// The client, for other calls on the same TA connection.
    pub fn client(&mut self) -> &mut Client {
        self.client.borrow_mut()
    }

    /// Runs one TA invocation, counted.
    fn call<T>(
        &mut self,
        f: impl FnOnce(&mut Client) -> crate::Result<T>,
        unknown_object: SecretsError,
    ) -> Result<T, SecretsError> {
        self.invocations += 1;
        f(self.client.borrow_mut()).map_err(|e| match e {
            Error::Refused { reason, .. } => match reason {
                // The only key material our operations carry is the peer's point.
                Reason::InvalidPublicKey => SecretsError::InvalidPeerKey,
                Reason::UnknownObject => unknown_object,
                other => SecretsError::Failed(format!(
                    "refused: {} ({})",
                    other.describe(),
                    other.status().code()
                )),
            },
            e => SecretsError::Failed(e.to_string()),
        })
    }

    fn session_id(&self) -> Result<SessionId, SecretsError> {
        self.session
            .ok_or(SecretsError::Failed("no handshake session open".into()))
    }
}

impl<C: BorrowMut<Client>> Drop for SeamSecrets<C> {
    fn drop(&mut self) {
        // Best effort: the TA wipes abandoned sessions by itself too.
        if let Some(session) = self.session.take() {
            let _ = self.client.borrow_mut().handshake_close(session);
        }
    }
}

fn framing(v: Variant) -> Framing {
    match v {
        Variant::Tls => Framing::Tls,
        Variant::Dtls => Framing::Dtls,
    }
}

fn keys(suite: Suite, block: &[u8]) -> Result<TrafficKeys, SecretsError> {
    TrafficKeys::from_key_block(suite, block)
        .ok_or(SecretsError::Failed("key block of the wrong length".into()))
}

/// DER (X9.62) of an `r ‖ s` signature, as TLS carries it.
pub(crate) fn signature_der(rs: &[u8; 64]) -> Result<Vec<u8>, SecretsError> {
    p256::ecdsa::Signature::from_slice(rs)
        .map(|s| s.to_der().as_bytes().to_vec())
        .map_err(|_| SecretsError::Failed("the signature is malformed".into()))
}

impl<C: BorrowMut<Client>> HandshakeSecrets for SeamSecrets<C> {
    fn client_open(
        &mut self,
        variant: Variant,
        suites: &[Suite],
    ) -> Result<ClientOpen, SecretsError> {
        let ids: Vec<u16> = suites.iter().map(|s| s.id()).collect();
        let psk = self.credentials.psk.clone();
        let sign = self.credentials.signing_key.clone();
        if suites.iter().any(|s| s.is_psk()) && psk.is_none() {
            return Err(SecretsError::MissingCredential("a PSK"));
        }
        if psk.is_none() && sign.is_none() {
            return Err(SecretsError::MissingCredential(
                "a key with a handshake grant to bind the session to",
            ));
        }
        let opened = self.call(
            |c| c.handshake_client_open(framing(variant), &ids, psk.as_ref(), sign.as_ref()),
            SecretsError::MissingCredential("the PSK or signing key"),
        )?;
        self.session = Some(opened.session);
        Ok(ClientOpen {
            random: opened.random,
            public: opened.public.map(|p| p.0.to_vec()),
        })
    }

    fn client_finish(
        &mut self,
        suite: Suite,
        messages: &[u8],
    ) -> Result<ClientFinish, SecretsError> {
        let session = self.session_id()?;
        let done = self.call(
            |c| c.handshake_client_finish(session, messages),
            SecretsError::Failed("unknown object".into()),
        )?;
        Ok(ClientFinish {
            keys: keys(suite, &done.key_block)?,
            certificate_verify: done.certificate_verify,
            finished: done.finished,
            expected_server_verify_data: done.expected_server_verify_data,
        })
    }

    fn server_open(
        &mut self,
        variant: Variant,
        suite: Suite,
        client_hello: &[u8],
    ) -> Result<ServerOpen, SecretsError> {
        let (psks, sign) = if suite.is_psk() {
            if self.credentials.psk_by_identity.is_empty() {
                return Err(SecretsError::MissingCredential("a PSK"));
            }
            (self.credentials.psk_by_identity.clone(), None)
        } else {
            let sign =
                self.credentials
                    .signing_key
                    .clone()
                    .ok_or(SecretsError::MissingCredential(
                        "a signing key for ECDHE_ECDSA",
                    ))?;
            (Vec::new(), Some(sign))
        };
        let opened = self.call(
            |c| {
                c.handshake_server_open(
                    framing(variant),
                    suite.id(),
                    client_hello,
                    &psks,
                    sign.as_ref(),
                )
            },
            SecretsError::MissingCredential("the PSK or signing key"),
        )?;
        self.session = Some(opened.session);
        let key_share = match opened.ecdhe {
            Some((public, signature)) => Some(ServerKeyShare {
                public: public.0.to_vec(),
                signature: signature_der(&signature.0)?,
            }),
            None => None,
        };
        Ok(ServerOpen {
            random: opened.random,
            key_share,
        })
    }

    fn server_finish(
        &mut self,
        suite: Suite,
        messages: &[u8],
    ) -> Result<ServerFinish, SecretsError> {
        let session = self.session_id()?;
        // The TA picks the PSK by the identity in the ClientKeyExchange; an
        // identity none of ours names is an unknown object there.
        let done = self.call(
            |c| c.handshake_server_finish(session, messages),
            SecretsError::UnknownPskIdentity,
        )?;
        Ok(ServerFinish {
            keys: keys(suite, &done.key_block)?,
            expected_client_verify_data: done.expected_client_verify_data,
            finished: done.finished,
        })
    }

    fn invocations(&self) -> u32 {
        self.invocations
    }
}

impl<C: BorrowMut<Client>> SeamSecrets<C> {
    /// Closes the handshake session now (the TA keeps few per caller): a
    /// connection that will not export keys calls this once established.
    pub fn release(&mut self) {
        if let Some(session) = self.session.take() {
            let _ = self.client.borrow_mut().handshake_close(session);
        }
    }
}

impl<C: BorrowMut<Client>> seam_dtls::KeyExport for SeamSecrets<C> {
    fn export_key(
        &mut self,
        label: seam_dtls::ExportLabel,
        object: &str,
    ) -> Result<seam_dtls::ExportedKey, SecretsError> {
        let (label, suid) = match label {
            seam_dtls::ExportLabel::Bootstrap => {
                (seam_proto::handshake::OneM2mExport::Bootstrap, None)
            }
            seam_dtls::ExportLabel::Connection { kc_suid } => (
                seam_proto::handshake::OneM2mExport::Connection,
                Some(
                    seam_proto::Suid::new(kc_suid)
                        .map_err(|e| SecretsError::Failed(e.to_string()))?,
                ),
            ),
        };
        let object =
            crate::client::name(object).map_err(|e| SecretsError::Failed(e.to_string()))?;
        let session = self.session_id()?;
        let reply = self.call(
            |c| {
                c.handshake_step(
                    session,
                    Step::ExportKey {
                        label,
                        object,
                        suid,
                    },
                )
            },
            SecretsError::Failed("unknown object".into()),
        )?;
        match Some(&reply) {
            Some(StepReply::ExportedKey {
                relative_id,
                object,
            }) => Ok(seam_dtls::ExportedKey {
                relative_id: *relative_id,
                object: object.name.as_str().to_string(),
                suid: object
                    .suid
                    .map(|s| s.get())
                    .ok_or_else(|| SecretsError::Failed("the exported key has no SUID".into()))?,
            }),
            other => Err(SecretsError::Failed(format!(
                "expected an exported key, got {other:?}"
            ))),
        }
    }
}
