//! What one tunnel runs with: the flags checked once at start (files read,
//! the credential looked up in the SE), and what each connection builds
//! from them (an engine `Config`, the TA credentials).

use std::net::{SocketAddr, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Args;
use seam::dtls::{
    read_pem_certificates, Config, OwnCertificate, PeerTrust, Suite, TaCredentials, Variant,
};
use seam::proto::{KeyRef, ObjectKind};

use crate::ctx::Ctx;
use crate::failure::{Context, Failure, Outcome};
use crate::input;

/// Which side of the tunnel this process is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// Plain in locally, (D)TLS out to `--connect`.
    Client,
    /// (D)TLS in, plain out to `--forward`.
    Server,
}

/// Flags both sides take.
#[derive(Args, Clone, Debug)]
pub struct Common {
    /// Carry TCP connections over TLS (default).
    #[arg(long, conflicts_with = "dtls")]
    pub tls: bool,
    /// Carry UDP datagrams over DTLS 1.2 (one association per client address and port).
    #[arg(long)]
    pub dtls: bool,
    /// The SE credential the handshakes use (a PSK, or a P-256 key generated in the SE): SE/KEY.
    #[arg(long, value_name = "SE/KEY")]
    pub credential: String,
    /// This side's certificate chain (PEM, leaf first), issued to the P-256 credential.
    #[arg(long, value_name = "FILE.pem")]
    pub cert: Option<PathBuf>,
    /// Trust anchors (PEM) for the peer's certificate. On a server: a client
    /// certificate is then required and verified.
    #[arg(long, value_name = "FILE.pem")]
    pub ca: Option<PathBuf>,
    /// Present the P-256 credential as a raw public key (RFC 7250) instead of a certificate.
    #[arg(long)]
    pub raw_public_key: bool,
    /// Pin the peer's P-256 public key (PEM SubjectPublicKeyInfo): its
    /// certificate or raw public key (RFC 7250) must carry exactly this key.
    #[arg(long, value_name = "FILE.pem")]
    pub peer_key: Option<PathBuf>,
    /// Cipher suites, comma-separated OpenSSL or IANA names (PSK-AES128-CCM8,
    /// ECDHE-ECDSA-AES128-CCM8, PSK-AES128-CBC-SHA256, ECDHE-ECDSA-AES128-SHA256).
    /// Default: the credential's two, the transport's oneM2M profile first.
    #[arg(long, value_name = "OPENSSL-NAME,…", value_delimiter = ',')]
    pub cipher: Vec<String>,
    /// TLS 1.3 through the rustls provider (TLS only, P-256 credential with a certificate).
    #[arg(long)]
    pub tls13: bool,
    /// Connections (DTLS: associations) open at once; more are refused and logged.
    #[arg(long, value_name = "N", default_value_t = 64)]
    pub max_connections: usize,
    /// Handshakes in the SE at once (the TA keeps 4 handshake sessions per caller).
    #[arg(long, value_name = "N", default_value_t = 4)]
    pub max_handshakes: usize,
    /// A handshake that takes longer fails (seconds).
    #[arg(long, value_name = "SECONDS", default_value_t = 10)]
    pub handshake_timeout: u64,
    /// A connection with no traffic either way for this long is closed (seconds).
    #[arg(long, value_name = "SECONDS", default_value_t = 300)]
    pub idle_timeout: u64,
    /// After SIGTERM: how long open connections may go on before they are closed (seconds).
    #[arg(long, value_name = "SECONDS", default_value_t = 10)]
    pub drain_timeout: u64,
}

/// `seam tunnel client`.
#[derive(Args, Clone, Debug)]
pub struct ClientArgs {
    /// Where local programs connect (TCP) or send datagrams (UDP), in plain.
    #[arg(long, value_name = "ADDR:PORT")]
    pub listen: String,
    /// The (D)TLS peer.
    #[arg(long, value_name = "HOST:PORT")]
    pub connect: String,
    /// The PSK identity (oneM2M KpsaID) to send with a PSK credential.
    #[arg(long, value_name = "ID")]
    pub psk_identity: Option<String>,
    /// SNI and the name the server's certificate must carry (default: HOST of --connect when it is a name).
    #[arg(long, value_name = "NAME")]
    pub server_name: Option<String>,
    #[command(flatten)]
    pub common: Common,
}

/// `seam tunnel server`.
#[derive(Args, Clone, Debug)]
pub struct ServerArgs {
    /// Where (D)TLS peers connect.
    #[arg(long, value_name = "ADDR:PORT")]
    pub listen: String,
    /// The local service that gets the plaintext.
    #[arg(long, value_name = "HOST:PORT")]
    pub forward: String,
    /// PSK identities accepted with a PSK credential (repeat the flag; default: any identity).
    #[arg(long, value_name = "ID")]
    pub psk_identity: Vec<String>,
    #[command(flatten)]
    pub common: Common,
}

/// Everything a connection needs, checked once.
#[derive(Clone, Debug)]
pub struct Settings {
    pub side: Side,
    pub command: &'static str,
    pub variant: Variant,
    pub tls13: bool,
    pub listen: SocketAddr,
    /// `--connect` (client) or `--forward` (server), resolved.
    pub target: SocketAddr,
    pub target_text: String,
    pub key: KeyRef,
    pub psk: bool,
    /// Client: the identity sent. Server: those accepted (empty: any).
    pub psk_identities: Vec<Vec<u8>>,
    pub suites: Vec<Suite>,
    pub own: OwnCertificate,
    pub trust: PeerTrust,
    /// `--ca`, for TLS 1.3.
    pub ca: Option<Vec<Vec<u8>>>,
    pub server_name: Option<String>,
    pub max_connections: usize,
    pub max_handshakes: usize,
    pub handshake_timeout: Duration,
    pub idle_timeout: Duration,
    pub drain_timeout: Duration,
    pub json: bool,
}

fn resolve(flag: &str, text: &str) -> Outcome<SocketAddr> {
    match text.rsplit_once(':') {
        Some((host, port)) if !host.is_empty() && port.parse::<u16>().is_ok() => {}
        _ => {
            return Err(Failure::usage(format!(
                "{flag} `{text}`: expected HOST:PORT"
            )))
        }
    }
    text.to_socket_addrs()
        .map_err(|e| Failure::usage(format!("{flag} `{text}`: cannot resolve: {e}")))?
        .next()
        .ok_or_else(|| Failure::usage(format!("{flag} `{text}`: resolves to nothing")))
}

fn certificates(flag: &str, path: &Path) -> Outcome<Vec<Vec<u8>>> {
    read_pem_certificates(path).map_err(|e| {
        let text = e.to_string();
        let text = text.split_once(": ").map_or(text.as_str(), |(_, t)| t);
        Failure::usage(format!("{flag}: {text}"))
    })
}

/// A PEM public key (SubjectPublicKeyInfo) as a 65-byte SEC 1 point.
pub fn read_peer_key(path: &Path) -> Outcome<Vec<u8>> {
    use p256::pkcs8::DecodePublicKey;
    let text = std::fs::read_to_string(path)
        .map_err(|e| Failure::usage(format!("--peer-key {}: {e}", path.display())))?;
    let key = p256::PublicKey::from_public_key_pem(&text).map_err(|e| {
        Failure::usage(format!(
            "--peer-key {}: not a PEM P-256 public key (-----BEGIN PUBLIC KEY-----): {e}",
            path.display()
        ))
    })?;
    Ok(p256::EncodedPoint::from(key).as_bytes().to_vec())
}

/// `--cipher` names, each checked against the credential's kind.
pub fn parse_suites(
    names: &[String],
    variant: Variant,
    psk: bool,
    credential: &str,
) -> Outcome<Vec<Suite>> {
    let mut suites = Vec::new();
    for name in names.iter().filter(|n| !n.trim().is_empty()) {
        let s = Suite::parse(name).ok_or_else(|| {
            Failure::usage(format!(
                "--cipher `{name}`: not one of the oneM2M suites: {}",
                Suite::ALL.map(|s| s.openssl_name()).join(", ")
            ))
        })?;
        if s.is_psk() != psk {
            return Err(Failure::usage(format!(
                "--cipher {}: {credential} is {}, which that suite cannot use",
                s.openssl_name(),
                if psk { "a PSK" } else { "a P-256 key" }
            )));
        }
        if !suites.contains(&s) {
            suites.push(s);
        }
    }
    if suites.is_empty() {
        suites = Suite::ALL
            .into_iter()
            .filter(|s| s.is_psk() == psk)
            .collect();
        // TS-0003 §10.2: CCM_8 first over DTLS, CBC_SHA256 first over TLS.
        suites.sort_by_key(|s| s.is_ccm8() != (variant == Variant::Dtls));
    }
    Ok(suites)
}

impl Settings {
    pub fn client(ctx: &mut Ctx, a: ClientArgs) -> Outcome<Settings> {
        let mut s = Settings::common(ctx, Side::Client, &a.listen, &a.connect, &a.common)?;
        s.server_name = a.server_name.or_else(|| {
            a.connect
                .rsplit_once(':')
                .map(|(h, _)| h.trim_matches(['[', ']']))
                .filter(|h| h.parse::<std::net::IpAddr>().is_err())
                .map(str::to_owned)
        });
        if s.psk {
            let id = a.psk_identity.ok_or_else(|| {
                Failure::usage(format!(
                    "seam tunnel client: {} is a PSK: --psk-identity ID is required \
                     (the oneM2M KpsaID the server knows it by)",
                    a.common.credential
                ))
            })?;
            s.psk_identities = vec![id.into_bytes()];
        } else if matches!(s.trust, PeerTrust::NotConfigured) {
            return Err(Failure::usage(format!(
                "seam tunnel client: {} is a P-256 key (ECDHE_ECDSA suites): --ca FILE.pem or \
                 --peer-key FILE.pem is required to authenticate the server",
                a.common.credential
            )));
        }
        Ok(s)
    }

    pub fn server(ctx: &mut Ctx, a: ServerArgs) -> Outcome<Settings> {
        let mut s = Settings::common(ctx, Side::Server, &a.listen, &a.forward, &a.common)?;
        if s.psk {
            s.psk_identities = a.psk_identity.into_iter().map(String::into_bytes).collect();
        } else {
            if !a.psk_identity.is_empty() {
                return Err(Failure::usage(
                    "seam tunnel server: --psk-identity needs a PSK credential",
                ));
            }
            if matches!(s.own, OwnCertificate::None) {
                return Err(Failure::usage(format!(
                    "seam tunnel server: {} is a P-256 key (ECDHE_ECDSA suites): --cert FILE.pem \
                     or --raw-public-key is required (what the server presents for it)",
                    a.common.credential
                )));
            }
        }
        Ok(s)
    }

    fn common(
        ctx: &mut Ctx,
        side: Side,
        listen: &str,
        target: &str,
        c: &Common,
    ) -> Outcome<Settings> {
        let command = match side {
            Side::Client => "tunnel client",
            Side::Server => "tunnel server",
        };
        let flag = match side {
            Side::Client => "--connect",
            Side::Server => "--forward",
        };
        let credential = input::key_path(&c.credential, false)?;
        let listen = resolve("--listen", listen)?;
        let target_addr = resolve(flag, target)?;
        let variant = if c.dtls { Variant::Dtls } else { Variant::Tls };
        if c.tls13 && variant == Variant::Dtls {
            return Err(Failure::usage(
                "--tls13 with --dtls: DTLS 1.3 is not available; use DTLS 1.2 (the oneM2M profile)",
            ));
        }
        if c.max_connections == 0 || c.max_handshakes == 0 {
            return Err(Failure::usage(
                "--max-connections and --max-handshakes must be at least 1",
            ));
        }
        if c.handshake_timeout == 0 || c.idle_timeout == 0 {
            return Err(Failure::usage(
                "--handshake-timeout and --idle-timeout must be at least 1 second",
            ));
        }
        if c.raw_public_key && c.cert.is_some() {
            return Err(Failure::usage(
                "--raw-public-key and --cert: present one or the other",
            ));
        }
        let cert_chain = match &c.cert {
            Some(p) => Some(certificates("--cert", p)?),
            None => None,
        };
        let ca = match &c.ca {
            Some(p) => Some(certificates("--ca", p)?),
            None => None,
        };
        let pinned = match &c.peer_key {
            Some(p) => Some(read_peer_key(p)?),
            None => None,
        };
        if ca.is_some() && pinned.is_some() {
            return Err(Failure::usage(
                "--ca and --peer-key: authenticate the peer by one or the other",
            ));
        }
        let info = ctx
            .client()?
            .object_info(&credential.se, &credential.key)
            .what(format!("seam {command}: credential {credential}"))?;
        let psk = match info.kind {
            ObjectKind::Secret => true,
            ObjectKind::Data => {
                return Err(Failure::usage(format!(
                    "seam {command}: credential {credential} is a data object, not a PSK or a \
                     P-256 key"
                )))
            }
            _ => false,
        };
        if psk && (c.raw_public_key || cert_chain.is_some()) {
            return Err(Failure::usage(format!(
                "seam {command}: {credential} is a PSK: --cert and --raw-public-key need a P-256 key"
            )));
        }
        if c.tls13 {
            if psk {
                return Err(Failure::usage(format!(
                    "seam {command} --tls13: {credential} is a PSK; TLS 1.3 here runs with a \
                     P-256 key and certificates (the rustls provider)"
                )));
            }
            if c.raw_public_key || pinned.is_some() || !c.cipher.is_empty() {
                return Err(Failure::usage(format!(
                    "seam {command} --tls13: --raw-public-key, --peer-key and --cipher apply to \
                     (D)TLS 1.2 only"
                )));
            }
            if side == Side::Client && ca.is_none() {
                return Err(Failure::usage(format!(
                    "seam {command} --tls13: --ca FILE.pem is required"
                )));
            }
        }
        let suites = parse_suites(&c.cipher, variant, psk, &c.credential)?;
        let own = if c.raw_public_key {
            let public = info.public_key.ok_or_else(|| {
                Failure::usage(format!("--raw-public-key: {credential} has no public key"))
            })?;
            OwnCertificate::RawPublicKey(seam::dtls::cert::spki_for(&public.0).ok_or_else(
                || Failure::usage(format!("--raw-public-key: {credential}'s key is not P-256")),
            )?)
        } else {
            match &cert_chain {
                Some(chain) => OwnCertificate::X509(chain.clone()),
                None => OwnCertificate::None,
            }
        };
        let trust = match (&ca, pinned) {
            (Some(cas), _) => PeerTrust::CaCertificates(cas.clone()),
            (None, Some(key)) => PeerTrust::PinnedKey(key),
            (None, None) => PeerTrust::NotConfigured,
        };
        Ok(Settings {
            side,
            command,
            variant,
            tls13: c.tls13,
            listen,
            target: target_addr,
            target_text: target.to_string(),
            key: credential.key_ref(info.suid.ok_or_else(|| {
                Failure::usage(format!(
                    "seam {command}: credential {credential} has no SUID, so it cannot be a key"
                ))
            })?)?,
            psk,
            psk_identities: Vec::new(),
            suites,
            own,
            trust,
            ca,
            server_name: None,
            max_connections: c.max_connections,
            max_handshakes: c.max_handshakes,
            handshake_timeout: Duration::from_secs(c.handshake_timeout),
            idle_timeout: Duration::from_secs(c.idle_timeout),
            drain_timeout: Duration::from_secs(c.drain_timeout),
            json: ctx.json,
        })
    }

    /// The engine's configuration for one connection.
    pub fn engine_config(&self) -> Config {
        let mut config = Config::new(self.variant, self.suites.clone())
            .with_time(std::sync::Arc::new(seam::dtls::SystemClock));
        config.certificate = self.own.clone();
        config.peer_trust = self.trust.clone();
        match self.side {
            Side::Client => {
                config.psk_identity = self.psk_identities.first().cloned();
                config.server_names = self.server_name.clone().into_iter().collect();
            }
            Side::Server => {
                config.require_client_certificate =
                    !self.psk && !matches!(self.trust, PeerTrust::NotConfigured);
                config.cookie_exchange = true;
            }
        }
        config
    }

    /// The SE credentials one connection's handshake may use.
    pub fn ta_credentials(&self) -> TaCredentials {
        let mut c = TaCredentials::default();
        if self.psk {
            match self.side {
                Side::Client => c.psk = Some(self.key.clone()),
                Side::Server if self.psk_identities.is_empty() => {
                    c.psk_by_identity = vec![(Vec::new(), self.key.clone())];
                }
                Side::Server => {
                    c.psk_by_identity = self
                        .psk_identities
                        .iter()
                        .map(|id| (id.clone(), self.key.clone()))
                        .collect();
                }
            }
        } else {
            c.signing_key = Some(self.key.clone());
        }
        c
    }
}
