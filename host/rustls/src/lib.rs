//! seam-rustls: rustls 0.23 with the handshake's secrets in the TA.
//!
//! [`TaTls::provider`] is a rustls `CryptoProvider` whose key exchange
//! (P-256 ECDHE), TLS 1.2 PRF, TLS 1.3 HKDF and signing key are backed by a
//! TA handshake session; ring does the record layer (AES-GCM,
//! ChaCha20-Poly1305 with the traffic keys), hashing, randomness and the
//! verification of the peer's signatures. A Rust CSE gets TLS 1.2
//! (`TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256`,
//! `…_CHACHA20_POLY1305_SHA256`) and TLS 1.3 (`TLS13_AES_128_GCM_SHA256`,
//! `TLS13_CHACHA20_POLY1305_SHA256`) with a TA-held certificate key by
//! handing rustls this provider and [`TaTls::certified_key`].
//!
//! # What rustls still sees
//!
//! rustls's traits pass secrets as bytes. Ours hand it random **tokens**
//! instead ([`secrets`]), which our PRF and HKDF resolve to values inside
//! the TA; so rustls never holds the ECDHE private key or shared secret, the
//! TLS 1.2 master secret, or the TLS 1.3 early, handshake, master, traffic,
//! exporter-master or Finished secrets. It does see, as it must to run the
//! record layer and the protocol:
//! * the **traffic keys and IVs** (the TLS 1.2 key block; the TLS 1.3 keys
//!   and IVs of each traffic secret, also after key updates);
//! * both sides' **Finished verify_data** — rustls computes the peer's and
//!   compares it itself, so with rustls the peer's Finished is *not* checked
//!   inside the TA (seam's own engine does check it inside);
//! * **exporter outputs** for labels other than the oneM2M ones (which the
//!   TA refuses to export; store them as keys with
//!   [`TaTls::export_key`]);
//! * signatures it asked for (see below).
//!
//! # Signing: only inside a handshake session
//!
//! There is no standalone `Sign`: the key needs a `HANDSHAKE` grant only,
//! and every signature is a step of the session it belongs to, which the
//! TA checks (`seam_proto::handshake`). What a rustls caller can make the
//! TA sign with a `HANDSHAKE` grant, and no more:
//! * **TLS 1.3 CertificateVerify**: the RFC 8446 §4.4.3 content (64 spaces,
//!   the context string of the session's role, 0x00, a 32-byte hash), once
//!   per session, after its handshake keys. rustls hands the signer the
//!   content with the transcript hash already in it and gives the provider
//!   no transcript, so the TA cannot recompute that hash: a caller can
//!   choose it. The signature is domain-separated — it means "TLS 1.3
//!   CertificateVerify" and nothing else — which is exactly what a
//!   handshake grant allows.
//! * **TLS 1.2 ServerKeyExchange**: `client_random ‖ server_random ‖
//!   ServerECDHParams`, where the TA builds the params from its own fresh
//!   ephemeral key (rustls chooses the randoms, so those 64 bytes are the
//!   caller's).
//! * **TLS 1.2 client CertificateVerify**: the handshake messages, which
//!   the TA parses: they must start with a ClientHello and end with a
//!   ClientKeyExchange carrying the session's fresh key.
//!
//! # Invocations per handshake, and why this is rustls's floor
//!
//! rustls asks for each secret when it needs it and uses the answer at
//! once (the `Prf`, `Hkdf` and `Signer` traits return values, not
//! promises), and each request depends on a transcript hash rustls only
//! knows at that moment. So the provider cannot batch across those
//! points; it batches whatever it can know ahead: the TLS 1.2 master
//! secret is computed with the key block (one invocation), our Finished
//! (or the client's expected one) is computed in the same invocation when
//! its hash is already known (the EMS session hash, or the transcript
//! through our CertificateVerify), and the TLS 1.3 client Finished is
//! computed with the application secrets on the guess that no client
//! certificate follows. Counted (tests/tests/tls_interop.rs, `cargo optee
//! bench`):
//!
//! | handshake | TA invocations |
//! |---|---|
//! | TLS 1.2 client, server-authenticated (EMS) | 3: key share · master+key block+our Finished · server Finished |
//! | TLS 1.2 client, mutual | 4: key share · CertificateVerify · master+key block+our Finished · server Finished |
//! | TLS 1.2 server, mutual | 5: key share · ServerKeyExchange · master+key block · client Finished · our Finished |
//! | TLS 1.3 client, server-authenticated | 4: key share · handshake keys · server Finished · application keys+our Finished |
//! | TLS 1.3 client or server, mutual | 6 |
//!
//! A client offering both TLS 1.3 and 1.2 that ends in TLS 1.2 pays 2 more
//! (the unused TLS 1.3 key share's session is opened, then closed).
//!
//! Limits: session resumption must stay off (tickets and session caches
//! would hold tokens, and the TA refuses "res master" / "resumption"): our
//! config helpers turn it off. QUIC and `KeyLog` see tokens, not secrets.
//! Each handshake is one TA session bound to this provider's key (which
//! must be granted `HANDSHAKE`): a caller holds at most
//! `MAX_HANDSHAKES_PER_CALLER` (4) at once, a session lives 300 s, so
//! export keying material soon after the handshake. A signer finds its TLS
//! 1.3 session as the newest one of this provider waiting for a
//! CertificateVerify: give each concurrently handshaking connection its own
//! `TaTls`. If the TA refuses a step in a trait method that cannot fail,
//! the output is random and the handshake fails at its next check; the
//! reason is in [`TaTls::last_error`].

mod kx;
pub(crate) mod secrets;
mod sign;
mod tls12;
mod tls13;

use std::sync::{Arc, Mutex};

use rustls::crypto::CryptoProvider;
use rustls::pki_types::CertificateDer;
use rustls::sign::{CertifiedKey, SigningKey};
use seam_proto::handshake::{OneM2mExport, Role, SessionId, Step, StepReply};
use seam_proto::{KeyRef, ObjectInfo};

pub use tls12::{
    tls_ecdhe_ecdsa_with_aes_128_gcm_sha256, tls_ecdhe_ecdsa_with_chacha20_poly1305_sha256,
};
pub use tls13::{tls13_aes_128_gcm_sha256, tls13_chacha20_poly1305_sha256};

use seam::{Client, Error, Result};
use secrets::{lock, Inner};

/// rustls backed by the TA, for one role and (optionally) one stored key.
#[derive(Clone)]
pub struct TaTls {
    inner: Arc<Inner>,
}

impl TaTls {
    /// `key`: a key in the TA the caller holds a `HANDSHAKE` grant on under
    /// its SUID (no `SIGN` grant: signatures are steps of the session). A
    /// P-256 key signs CertificateVerify / ServerKeyExchange; any such key
    /// binds the handshake sessions (for the oneM2M exporter labels and
    /// the SE's quota). Without one, opening a session fails.
    pub fn new(client: Client, role: Role, key: Option<KeyRef>) -> Self {
        Self::shared(Arc::new(Mutex::new(client)), role, key)
    }

    /// As [`TaTls::new`] over a client shared with other users.
    pub fn shared(client: Arc<Mutex<Client>>, role: Role, key: Option<KeyRef>) -> Self {
        TaTls {
            inner: Arc::new(Inner::new(client, role, key)),
        }
    }

    /// The provider: our key exchange, PRF, HKDF; ring for the rest.
    ///
    /// rustls wants `&'static` key-exchange groups: each call leaks one
    /// small object, so build the provider once per `TaTls`, not per
    /// connection.
    pub fn provider(&self) -> CryptoProvider {
        let ring = rustls::crypto::ring::default_provider();
        let kx: &'static kx::TaKxGroup = Box::leak(Box::new(kx::TaKxGroup(self.inner.clone())));
        CryptoProvider {
            cipher_suites: vec![
                tls13_aes_128_gcm_sha256(),
                tls13_chacha20_poly1305_sha256(),
                tls_ecdhe_ecdsa_with_aes_128_gcm_sha256(),
                tls_ecdhe_ecdsa_with_chacha20_poly1305_sha256(),
            ],
            kx_groups: vec![kx],
            ..ring
        }
    }

    /// The TA key as a rustls signing key (None without a key).
    pub fn signing_key(&self) -> Option<Arc<dyn SigningKey>> {
        self.inner.key.clone().map(|key| {
            Arc::new(sign::TaSigningKey {
                inner: self.inner.clone(),
                key,
            }) as Arc<dyn SigningKey>
        })
    }

    /// The certificate chain (leaf first, issued to the TA key) and the TA key.
    pub fn certified_key(&self, chain: Vec<CertificateDer<'static>>) -> Result<Arc<CertifiedKey>> {
        let key = self
            .signing_key()
            .ok_or_else(|| Error::InvalidInput("this TaTls has no key".into()))?;
        Ok(Arc::new(CertifiedKey::new(chain, key)))
    }

    /// The most recent handshake session this provider opened.
    pub fn last_session(&self) -> Option<SessionId> {
        self.inner.last_session()
    }

    /// Why the last TA step this provider asked for failed, if one did.
    pub fn last_error(&self) -> Option<String> {
        self.inner.last_error()
    }

    /// The client, to make other calls on the same TA connection.
    pub fn client(&self) -> std::sync::MutexGuard<'_, Client> {
        lock(&self.inner.client)
    }

    /// Stores a oneM2M exporter output of a completed handshake as the key
    /// `object` (Ke, Kc or the pairwise E2E key); returns the RelativeKeID
    /// and the new key's attributes. Nothing secret leaves the TA. `suid`:
    /// Kc's SUID as registered with the MAF (32–35); None for Ke and the
    /// pairwise E2E key, whose SUIDs are fixed.
    pub fn export_key(
        &self,
        session: SessionId,
        label: OneM2mExport,
        object: &str,
        suid: Option<seam::Suid>,
    ) -> Result<([u8; 16], ObjectInfo)> {
        let step = Step::ExportKey {
            label,
            object: seam::client::name(object)?,
            suid,
        };
        match self.inner.step(session, step)? {
            StepReply::ExportedKey {
                relative_id,
                object,
            } => Ok((relative_id, object)),
            other => Err(Error::Protocol(format!(
                "expected an exported key, got {other:?}"
            ))),
        }
    }

    /// Wipes a handshake session (e.g. when its connection ends).
    pub fn close(&self, session: SessionId) {
        self.inner.close(session);
    }
}

/// A client config for `provider`: no resumption (see the module docs).
pub fn client_config(
    tls: &TaTls,
    versions: &[&'static rustls::SupportedProtocolVersion],
    roots: rustls::RootCertStore,
    chain: Option<Vec<CertificateDer<'static>>>,
) -> Result<rustls::ClientConfig> {
    let builder = rustls::ClientConfig::builder_with_provider(Arc::new(tls.provider()))
        .with_protocol_versions(versions)
        .map_err(|e| Error::InvalidInput(format!("TLS versions: {e}")))?
        .with_root_certificates(roots);
    let mut config = match chain {
        Some(chain) => builder.with_client_cert_resolver(Arc::new(
            rustls::sign::SingleCertAndKey::from(tls.certified_key(chain)?),
        )),
        None => builder.with_no_client_auth(),
    };
    config.resumption = rustls::client::Resumption::disabled();
    Ok(config)
}

/// A server config for `provider`: the TA key's certificate chain, client
/// certificates verified against `client_roots` if given, no resumption.
pub fn server_config(
    tls: &TaTls,
    versions: &[&'static rustls::SupportedProtocolVersion],
    chain: Vec<CertificateDer<'static>>,
    client_roots: Option<rustls::RootCertStore>,
) -> Result<rustls::ServerConfig> {
    let provider = Arc::new(tls.provider());
    let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(versions)
        .map_err(|e| Error::InvalidInput(format!("TLS versions: {e}")))?;
    let builder = match client_roots {
        Some(roots) => builder.with_client_cert_verifier(
            rustls::server::WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                .build()
                .map_err(|e| Error::InvalidInput(format!("client verifier: {e}")))?,
        ),
        None => builder.with_no_client_auth(),
    };
    let mut config = builder.with_cert_resolver(Arc::new(rustls::sign::SingleCertAndKey::from(
        tls.certified_key(chain)?,
    )));
    config.session_storage = Arc::new(rustls::server::NoServerSessionStorage {});
    config.send_tls13_tickets = 0;
    Ok(config)
}
