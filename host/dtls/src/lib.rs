//! A small (D)TLS 1.2 engine for the four oneM2M suites (TS-0003 §10.2),
//! whose every handshake secret stays in the Secure Environment.
//!
//! * DTLS 1.2 (RFC 6347) over UDP and TLS 1.2 (RFC 5246) over TCP, client
//!   and server, limited to [`Suite::ALL`]: `TLS_PSK_WITH_AES_128_CCM_8`,
//!   `TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8`, `TLS_PSK_WITH_AES_128_CBC_SHA256`
//!   and `TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256` (each on either transport).
//! * Extended master secret (RFC 7627), SNI (RFC 6066), secure renegotiation
//!   signalling (RFC 5746, initial handshake only; renegotiation is refused),
//!   X.509 P-256 certificates checked against given CAs, or raw public keys
//!   (RFC 7250) pinned by the caller.
//! * DTLS: cookie exchange (HelloVerifyRequest), handshake fragmentation and
//!   reassembly, flight retransmission with exponential backoff, epochs, and
//!   a 64-record anti-replay window.
//!
//! The engine is sans-IO: [`Connection`] takes bytes (a datagram, or a piece
//! of a TCP stream) and an explicit `now`, and hands back bytes to send and
//! the next deadline. It never reads a clock, a socket or (unless asked to)
//! the OS random generator, so tests drive it deterministically. [`io`] has
//! thin UDP and TCP adapters.
//!
//! The engine never sees a PSK, a private key, a premaster or a master
//! secret: those steps go through [`secrets::HandshakeSecrets`], which the
//! `seam` host library implements over the TA's handshake sessions
//! (`seam::dtls::SeamSecrets`): two calls per handshake in each role, the
//! first for our random (and key share), the second with every handshake
//! message so far, hashed on the other side. Only the traffic keys, our
//! Finished (and CertificateVerify) messages and the peer's expected
//! verify_data come back; the record layer ([`cipher`]) uses the keys and
//! the peer's Finished is compared here in constant time. Retransmissions
//! resend stored flights and never call the secrets. This crate depends on
//! neither `seam` nor seam-core.

pub mod cert;
pub mod cipher;
mod client;
mod common;
mod connection;
mod deframer;
pub mod export;
mod flight;
pub mod gate;
pub mod handshake;
pub mod io;
pub mod msgs;
pub mod reassembly;
pub mod record;
mod record_layer;
pub mod retransmit;
pub mod secrets;
mod server;
pub mod time;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

pub use connection::{Connection, ConnectionInfo, OsRandom, RandomSource};
pub use export::{ExportLabel, ExportedKey, KeyExport};
pub use gate::{Admission, CookieGate};
pub use msgs::enums::AlertDescription;
pub use secrets::HandshakeSecrets;
pub use time::{FixedTime, SystemClock, TimeProvider, UnixTime};

/// The four cipher suites oneM2M mandates (TS-0003 §10.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Suite {
    /// `TLS_PSK_WITH_AES_128_CCM_8` (0xC0A8), RFC 6655.
    PskAes128Ccm8,
    /// `TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8` (0xC0AE), RFC 7251.
    EcdheEcdsaAes128Ccm8,
    /// `TLS_PSK_WITH_AES_128_CBC_SHA256` (0x00AE), RFC 5487.
    PskAes128CbcSha256,
    /// `TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256` (0xC023), RFC 5289.
    EcdheEcdsaAes128CbcSha256,
}

impl Suite {
    pub const ALL: [Suite; 4] = [
        Suite::PskAes128Ccm8,
        Suite::EcdheEcdsaAes128Ccm8,
        Suite::PskAes128CbcSha256,
        Suite::EcdheEcdsaAes128CbcSha256,
    ];

    /// The IANA code point.
    pub const fn id(self) -> u16 {
        match self {
            Suite::PskAes128Ccm8 => 0xC0A8,
            Suite::EcdheEcdsaAes128Ccm8 => 0xC0AE,
            Suite::PskAes128CbcSha256 => 0x00AE,
            Suite::EcdheEcdsaAes128CbcSha256 => 0xC023,
        }
    }

    pub fn from_id(id: u16) -> Option<Suite> {
        Suite::ALL.into_iter().find(|s| s.id() == id)
    }

    /// PSK key exchange (RFC 4279); otherwise ECDHE with ECDSA certificates.
    pub const fn is_psk(self) -> bool {
        matches!(self, Suite::PskAes128Ccm8 | Suite::PskAes128CbcSha256)
    }

    /// AES-128-CCM-8 record protection; otherwise AES-128-CBC + HMAC-SHA256.
    pub const fn is_ccm8(self) -> bool {
        matches!(self, Suite::PskAes128Ccm8 | Suite::EcdheEcdsaAes128Ccm8)
    }

    /// The IANA name.
    pub const fn name(self) -> &'static str {
        match self {
            Suite::PskAes128Ccm8 => "TLS_PSK_WITH_AES_128_CCM_8",
            Suite::EcdheEcdsaAes128Ccm8 => "TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8",
            Suite::PskAes128CbcSha256 => "TLS_PSK_WITH_AES_128_CBC_SHA256",
            Suite::EcdheEcdsaAes128CbcSha256 => "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256",
        }
    }

    /// OpenSSL's name (for `-cipher`).
    pub const fn openssl_name(self) -> &'static str {
        match self {
            Suite::PskAes128Ccm8 => "PSK-AES128-CCM8",
            Suite::EcdheEcdsaAes128Ccm8 => "ECDHE-ECDSA-AES128-CCM8",
            Suite::PskAes128CbcSha256 => "PSK-AES128-CBC-SHA256",
            Suite::EcdheEcdsaAes128CbcSha256 => "ECDHE-ECDSA-AES128-SHA256",
        }
    }

    /// Parses the IANA name, OpenSSL's name, or the hex code point (`0xC0A8`).
    pub fn parse(text: &str) -> Option<Suite> {
        let t = text.trim();
        if let Some(hex) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
            return u16::from_str_radix(hex, 16).ok().and_then(Suite::from_id);
        }
        Suite::ALL
            .into_iter()
            .find(|s| s.name().eq_ignore_ascii_case(t) || s.openssl_name().eq_ignore_ascii_case(t))
    }
}

impl fmt::Display for Suite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (0x{:04X})", self.name(), self.id())
    }
}

/// Which end of the connection we are.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    Client,
    Server,
}

/// Datagrams (DTLS 1.2, RFC 6347) or a byte stream (TLS 1.2, RFC 5246).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Variant {
    Dtls,
    Tls,
}

impl Variant {
    /// The protocol version on the wire: DTLS 1.2 is `{254, 253}`, TLS 1.2 `{3, 3}`.
    pub const fn version(self) -> u16 {
        match self {
            Variant::Dtls => 0xFEFD,
            Variant::Tls => 0x0303,
        }
    }
}

/// How the peer's certificate (ECDHE_ECDSA suites) is authenticated.
#[derive(Clone, Debug, Default)]
pub enum PeerTrust {
    /// Nothing configured: no peer certificate is accepted. A client offering
    /// ECDHE_ECDSA suites, or a server requiring a client certificate, with
    /// this is a configuration error ([`Config::check`]).
    #[default]
    NotConfigured,
    /// Accept any certificate, authenticating nobody: only for tests of
    /// something else, and only when asked for by this name.
    UnauthenticatedForTesting,
    /// An X.509 chain (P-256, ECDSA-SHA256) that ends at one of these CA
    /// certificates (DER). Validity periods are checked against the
    /// [`Config::time`] provider, and, for a server, its name against the SNI
    /// we sent.
    CaCertificates(Vec<Vec<u8>>),
    /// A pinned P-256 public key (65-byte SEC 1): the peer's X.509 leaf or
    /// raw public key (RFC 7250) must carry exactly this key.
    PinnedKey(Vec<u8>),
}

/// What our side presents for an ECDHE_ECDSA suite (its private key lives in
/// the Secure Environment, behind [`HandshakeSecrets`]).
#[derive(Clone, Debug, Default)]
pub enum OwnCertificate {
    /// None (a client not asked for one, or a PSK-only endpoint).
    #[default]
    None,
    /// An X.509 chain, leaf first, DER.
    X509(Vec<Vec<u8>>),
    /// A raw public key (RFC 7250): a DER SubjectPublicKeyInfo.
    RawPublicKey(Vec<u8>),
}

/// DTLS retransmission timing (RFC 6347 §4.2.4.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetransmitPolicy {
    /// First timeout; doubled on each expiry.
    pub initial: Duration,
    /// Largest timeout.
    pub max: Duration,
    /// Retransmissions of one flight before the handshake fails.
    pub max_retransmissions: u32,
}

impl Default for RetransmitPolicy {
    fn default() -> Self {
        RetransmitPolicy {
            initial: Duration::from_secs(1),
            max: Duration::from_secs(60),
            max_retransmissions: 7,
        }
    }
}

/// Everything about one endpoint's handshake that is not secret.
#[derive(Clone, Debug)]
pub struct Config {
    pub variant: Variant,
    /// Suites offered (client) or accepted (server), in order of preference.
    pub suites: Vec<Suite>,
    /// Client, PSK suites: the identity sent in ClientKeyExchange (oneM2M
    /// KpsaID, `Issuer_Relative_KpsaID@Issuer-FQDN`).
    pub psk_identity: Option<Vec<u8>>,
    /// Server, PSK suites: an identity hint to send (none by default).
    pub psk_identity_hint: Option<Vec<u8>>,
    /// Client: the SNI host name to send (TS-0003 makes SNI mandatory) and to
    /// check the server's certificate against. Server: accepted names (empty:
    /// any).
    pub server_names: Vec<String>,
    /// Our certificate for ECDHE_ECDSA suites.
    pub certificate: OwnCertificate,
    /// How the peer's certificate is checked (ECDHE_ECDSA suites).
    pub peer_trust: PeerTrust,
    /// Server, ECDHE_ECDSA suites: require a client certificate.
    pub require_client_certificate: bool,
    /// Refuse a peer that does not negotiate RFC 7627 extended master secret.
    pub require_extended_master_secret: bool,
    /// DTLS: largest datagram we send (IP and UDP headers excluded).
    pub mtu: usize,
    pub retransmit: RetransmitPolicy,
    /// DTLS server: answer a ClientHello without a valid cookie with a
    /// HelloVerifyRequest (RFC 6347 §4.2.1).
    pub cookie_exchange: bool,
    /// The wall clock for certificate validity ([`SystemClock`] in
    /// production). Without one, checking a certificate chain is refused.
    pub time: Option<Arc<dyn TimeProvider>>,
}

impl Config {
    pub fn new(variant: Variant, suites: Vec<Suite>) -> Config {
        Config {
            variant,
            suites,
            psk_identity: None,
            psk_identity_hint: None,
            server_names: Vec::new(),
            certificate: OwnCertificate::None,
            peer_trust: PeerTrust::NotConfigured,
            require_client_certificate: false,
            require_extended_master_secret: false,
            mtu: 1200,
            retransmit: RetransmitPolicy::default(),
            cookie_exchange: true,
            time: None,
        }
    }

    /// Sets the wall clock for certificate validity.
    pub fn with_time(mut self, time: Arc<dyn TimeProvider>) -> Config {
        self.time = Some(time);
        self
    }

    /// Whether this configuration can work for `role` and authenticates the
    /// peer it should: a client offering ECDHE_ECDSA suites needs a trust
    /// anchor or a pinned key (or [`PeerTrust::UnauthenticatedForTesting`],
    /// by name), a server asking for client certificates likewise, and CA
    /// certificates need a time provider. [`Connection::new`] refuses to
    /// start with a configuration that fails this.
    pub fn check(&self, role: Role) -> Result<(), DtlsError> {
        let refuse = |why: String| {
            Err(DtlsError {
                step: Step::ClientHello,
                cause: Cause::Config(why),
            })
        };
        if self.suites.is_empty() {
            return refuse("no cipher suite configured".into());
        }
        let checks_certificates = match role {
            Role::Client => self.suites.iter().any(|s| !s.is_psk()),
            Role::Server => self.require_client_certificate,
        };
        if checks_certificates {
            match &self.peer_trust {
                PeerTrust::NotConfigured => {
                    return refuse(match role {
                        Role::Client => "ECDHE_ECDSA suites need a trust anchor or a pinned key                                          to authenticate the server (PeerTrust)"
                            .into(),
                        Role::Server => "a client certificate is required, but no trust anchor                                          or pinned key is configured to check it (PeerTrust)"
                            .into(),
                    })
                }
                PeerTrust::CaCertificates(cas) if cas.is_empty() => {
                    return refuse("PeerTrust::CaCertificates holds no CA certificate".into())
                }
                PeerTrust::CaCertificates(_) if self.time.is_none() => {
                    return refuse(
                        "checking certificates against CAs needs a time provider (Config::time)"
                            .into(),
                    )
                }
                _ => {}
            }
        }
        if role == Role::Client
            && self.suites.iter().any(|s| s.is_psk())
            && self.psk_identity.is_none()
        {
            return refuse("PSK suites need a PSK identity (Config::psk_identity)".into());
        }
        Ok(())
    }

    /// Now, from the time provider.
    pub(crate) fn now(&self) -> Option<UnixTime> {
        self.time.as_ref().and_then(|t| t.current_time())
    }
}

/// Where in the connection something went wrong: the message being
/// processed or produced, or the phase.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Step {
    ClientHello,
    HelloVerifyRequest,
    ServerHello,
    Certificate,
    ServerKeyExchange,
    CertificateRequest,
    ServerHelloDone,
    ClientKeyExchange,
    CertificateVerify,
    ChangeCipherSpec,
    Finished,
    /// The record layer (framing, decryption) or a message type nobody expected.
    Record,
    ApplicationData,
    Close,
    /// Reaching the peer (socket, connect, bind).
    Connect,
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            Step::ClientHello => "ClientHello",
            Step::HelloVerifyRequest => "HelloVerifyRequest",
            Step::ServerHello => "ServerHello",
            Step::Certificate => "Certificate",
            Step::ServerKeyExchange => "ServerKeyExchange",
            Step::CertificateRequest => "CertificateRequest",
            Step::ServerHelloDone => "ServerHelloDone",
            Step::ClientKeyExchange => "ClientKeyExchange",
            Step::CertificateVerify => "CertificateVerify",
            Step::ChangeCipherSpec => "ChangeCipherSpec",
            Step::Finished => "Finished",
            Step::Record => "record layer",
            Step::ApplicationData => "application data",
            Step::Close => "close",
            Step::Connect => "connect",
        };
        f.write_str(s)
    }
}

/// Why a connection failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Cause {
    /// We found a problem and sent this fatal alert.
    SentAlert {
        alert: AlertDescription,
        detail: String,
    },
    /// The peer sent this fatal alert.
    ReceivedAlert(AlertDescription),
    /// The Secure Environment refused or failed a handshake step (we also
    /// sent `internal_error`, or the alert the refusal maps to).
    Secrets(String),
    /// DTLS: the peer did not answer a flight within every retransmission.
    Timeout,
    /// The transport failed, or the peer went away without close_notify.
    Io(String),
    /// An operation needs an established connection, or the connection is closed.
    NotConnected,
    /// The configuration cannot work, or would authenticate nobody
    /// ([`Config::check`]); nothing was sent.
    Config(String),
}

/// A failed connection: which step failed, and how.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DtlsError {
    pub step: Step,
    pub cause: Cause,
}

impl DtlsError {
    pub(crate) fn sent(step: Step, alert: AlertDescription, detail: impl Into<String>) -> Self {
        DtlsError {
            step,
            cause: Cause::SentAlert {
                alert,
                detail: detail.into(),
            },
        }
    }

    /// A failure outside the protocol (a socket, a file, a credential lookup).
    pub fn io(step: Step, e: impl fmt::Display) -> Self {
        DtlsError {
            step,
            cause: Cause::Io(e.to_string()),
        }
    }

    /// The alert sent or received, if any.
    pub fn alert(&self) -> Option<AlertDescription> {
        match &self.cause {
            Cause::SentAlert { alert, .. } => Some(*alert),
            Cause::ReceivedAlert(a) => Some(*a),
            _ => None,
        }
    }
}

impl fmt::Display for DtlsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.cause {
            Cause::SentAlert { alert, detail } => {
                write!(f, "{}: {detail} (sent alert {alert})", self.step)
            }
            Cause::ReceivedAlert(a) => write!(f, "{}: the peer sent alert {a}", self.step),
            Cause::Secrets(e) => write!(f, "{}: the Secure Environment failed: {e}", self.step),
            Cause::Timeout => write!(
                f,
                "{}: no answer from the peer after every retransmission",
                self.step
            ),
            Cause::Io(e) => write!(f, "{}: {e}", self.step),
            Cause::NotConnected => write!(f, "{}: the connection is not open", self.step),
            Cause::Config(e) => write!(f, "{}: configuration refused: {e}", self.step),
        }
    }
}

impl std::error::Error for DtlsError {}

#[cfg(test)]
mod unit {
    use super::*;

    #[test]
    fn suites_parse_by_every_name() {
        for s in Suite::ALL {
            assert_eq!(Suite::parse(s.name()), Some(s));
            assert_eq!(Suite::parse(s.openssl_name()), Some(s));
            assert_eq!(Suite::parse(&format!("0x{:04x}", s.id())), Some(s));
            assert_eq!(Suite::from_id(s.id()), Some(s));
        }
        assert_eq!(Suite::parse("TLS_AES_128_GCM_SHA256"), None);
    }

    #[test]
    fn errors_name_the_step_and_alert() {
        let e = DtlsError::sent(
            Step::Finished,
            AlertDescription::DECRYPT_ERROR,
            "the server's Finished does not verify",
        );
        assert_eq!(
            e.to_string(),
            "Finished: the server's Finished does not verify (sent alert decrypt_error(51))"
        );
    }
}
