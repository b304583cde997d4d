//! The person-facing loop behind `seam dtls-client|tls-client|dtls-server|
//! tls-server`: connect or listen, handshake with credentials held in the
//! Secure Environment, then copy input to the peer and the peer to output.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, ToSocketAddrs, UdpSocket};
use std::sync::Arc;
use std::time::{Duration, Instant};

use seam_proto::{KeyRef, ObjectKind};

use seam_dtls::io::{copy_session, drive_handshake, Link, TcpLink, UdpLink};
use seam_dtls::{
    Config, Connection, ConnectionInfo, DtlsError, OwnCertificate, PeerTrust, Role, Step, Suite,
    SystemClock, Variant,
};

use super::ta_secrets::{SeamSecrets, TaCredentials};
use crate::Client;

/// Credentials in the Secure Environment, by reference.
#[derive(Clone, Debug, Default)]
pub struct Credential {
    /// Client, PSK suites: our identity (KpsaID) and the PSK.
    pub psk: Option<(Vec<u8>, KeyRef)>,
    /// Server, PSK suites: every identity a client may use, with its PSK
    /// (an empty identity matches any).
    pub psk_by_identity: Vec<(Vec<u8>, KeyRef)>,
    /// ECDHE_ECDSA suites: the private key of `certificate`.
    pub signing_key: Option<KeyRef>,
    /// Our certificate chain (DER, leaf first) or raw public key.
    pub certificate: OwnCertificate,
}

impl Credential {
    /// The credential named `se`/`key` as a client uses it: a secret is a
    /// PSK sent under `psk_identity` (required then); a P-256 key signs for
    /// `certificate` (required then, unless the server asks for none).
    pub fn for_client(
        client: &mut Client,
        se: &str,
        key: &str,
        psk_identity: Option<&[u8]>,
        certificate: OwnCertificate,
    ) -> Result<Credential, DtlsError> {
        match lookup(client, se, key)? {
            (ObjectKind::Secret, key) => {
                let identity = psk_identity.ok_or_else(|| {
                    DtlsError::io(
                        Step::Connect,
                        format!("{se}/{}: a PSK needs a PSK identity", key.key),
                    )
                })?;
                Ok(Credential {
                    psk: Some((identity.to_vec(), key)),
                    ..Default::default()
                })
            }
            (_, key) => Ok(Credential {
                signing_key: Some(key),
                certificate,
                ..Default::default()
            }),
        }
    }

    /// The credential named `se`/`key` as a server uses it: a secret is the
    /// PSK of every client identity (the Finished exchange proves the client
    /// has it); a P-256 key signs for `certificate`.
    pub fn for_server(
        client: &mut Client,
        se: &str,
        key: &str,
        certificate: OwnCertificate,
    ) -> Result<Credential, DtlsError> {
        match lookup(client, se, key)? {
            (ObjectKind::Secret, key) => Ok(Credential {
                psk_by_identity: vec![(Vec::new(), key)],
                ..Default::default()
            }),
            (_, key) => Ok(Credential {
                signing_key: Some(key),
                certificate,
                ..Default::default()
            }),
        }
    }
}

/// The object's kind, and a reference to it under its own SUID.
fn lookup(client: &mut Client, se: &str, key: &str) -> Result<(ObjectKind, KeyRef), DtlsError> {
    let info = client
        .object_info(se, key)
        .map_err(|e| DtlsError::io(Step::Connect, format!("credential {se}/{key}: {e}")))?;
    if info.kind == ObjectKind::Data {
        return Err(DtlsError::io(
            Step::Connect,
            format!("credential {se}/{key} is a data object, not a PSK or a P-256 key"),
        ));
    }
    let name =
        |t: &str| crate::client::name(t).map_err(|e| DtlsError::io(Step::Connect, e.to_string()));
    Ok((
        info.kind,
        KeyRef {
            se: name(se)?,
            key: name(key)?,
            suid: info.suid.ok_or_else(|| {
                DtlsError::io(
                    Step::Connect,
                    format!("credential {se}/{key} has no SUID, so it cannot be a key"),
                )
            })?,
        },
    ))
}

/// Reads a PEM file of certificates (leaf first) into DER.
pub fn read_pem_certificates(path: &std::path::Path) -> Result<Vec<Vec<u8>>, DtlsError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| DtlsError::io(Step::Connect, format!("reading {}: {e}", path.display())))?;
    let certs = seam_dtls::cert::pem_certificates(&text);
    if certs.is_empty() {
        return Err(DtlsError::io(
            Step::Connect,
            format!("{} holds no PEM certificate", path.display()),
        ));
    }
    Ok(certs)
}

/// `seam dtls-client` / `seam tls-client`.
#[derive(Clone, Debug)]
pub struct ConnectOptions {
    pub variant: Variant,
    /// `host:port`.
    pub address: String,
    /// Suites to offer, preferred first (default: the two of the variant's
    /// oneM2M profile that the credential allows).
    pub suites: Vec<Suite>,
    pub credential: Credential,
    /// SNI (TS-0003: mandatory) and the name the server's certificate must
    /// carry. Default: the host part of `address` when it is a name.
    pub server_name: Option<String>,
    /// How the server's certificate is checked.
    pub peer_trust: PeerTrust,
    pub require_extended_master_secret: bool,
    pub handshake_timeout: Duration,
    /// DTLS: largest datagram.
    pub mtu: usize,
    /// After our input ends: how long to wait for the peer's close_notify.
    pub linger: Duration,
}

impl ConnectOptions {
    pub fn new(variant: Variant, address: impl Into<String>, credential: Credential) -> Self {
        ConnectOptions {
            variant,
            address: address.into(),
            suites: Vec::new(),
            credential,
            server_name: None,
            peer_trust: PeerTrust::NotConfigured,
            require_extended_master_secret: false,
            handshake_timeout: Duration::from_secs(30),
            mtu: 1200,
            linger: Duration::from_secs(2),
        }
    }
}

/// `seam dtls-server` / `seam tls-server`.
#[derive(Clone, Debug)]
pub struct ListenOptions {
    pub variant: Variant,
    /// `host:port` to bind (port 0: any; see `on_listening`).
    pub address: String,
    pub suites: Vec<Suite>,
    pub credential: Credential,
    /// Accepted SNI names (empty: any).
    pub server_names: Vec<String>,
    /// Ask for and check a client certificate (ECDHE_ECDSA suites).
    pub require_client_certificate: bool,
    pub peer_trust: PeerTrust,
    pub psk_identity_hint: Option<Vec<u8>>,
    pub require_extended_master_secret: bool,
    /// DTLS: answer with a HelloVerifyRequest first.
    pub cookie_exchange: bool,
    pub handshake_timeout: Duration,
    pub mtu: usize,
    pub linger: Duration,
}

impl ListenOptions {
    pub fn new(variant: Variant, address: impl Into<String>, credential: Credential) -> Self {
        ListenOptions {
            variant,
            address: address.into(),
            suites: Vec::new(),
            credential,
            server_names: Vec::new(),
            require_client_certificate: false,
            peer_trust: PeerTrust::NotConfigured,
            psk_identity_hint: None,
            require_extended_master_secret: false,
            cookie_exchange: true,
            handshake_timeout: Duration::from_secs(30),
            mtu: 1200,
            linger: Duration::from_secs(2),
        }
    }
}

/// The suites a credential can serve, the variant's profile suite first
/// (TS-0003 §10.2: CCM_8 over DTLS, CBC_SHA256 over TLS). A client offers
/// ECDHE_ECDSA only when it can authenticate the server (a trust anchor or
/// a pinned key) or holds a P-256 key (then [`Config::check`] insists on
/// one): a PSK-only client offers only PSK suites.
fn default_suites(
    variant: Variant,
    credential: &Credential,
    server: bool,
    trust: &PeerTrust,
) -> Vec<Suite> {
    let psk = if server {
        !credential.psk_by_identity.is_empty()
    } else {
        credential.psk.is_some()
    };
    let authenticates = matches!(
        trust,
        PeerTrust::CaCertificates(_) | PeerTrust::PinnedKey(_)
    );
    let cert = credential.signing_key.is_some() || (!server && authenticates);
    let order = match variant {
        Variant::Dtls => [
            Suite::PskAes128Ccm8,
            Suite::EcdheEcdsaAes128Ccm8,
            Suite::PskAes128CbcSha256,
            Suite::EcdheEcdsaAes128CbcSha256,
        ],
        Variant::Tls => [
            Suite::PskAes128CbcSha256,
            Suite::EcdheEcdsaAes128CbcSha256,
            Suite::PskAes128Ccm8,
            Suite::EcdheEcdsaAes128Ccm8,
        ],
    };
    order
        .into_iter()
        .filter(|s| if s.is_psk() { psk } else { cert })
        .collect()
}

fn resolve(address: &str) -> Result<SocketAddr, DtlsError> {
    address
        .to_socket_addrs()
        .map_err(|e| DtlsError::io(Step::Connect, format!("cannot resolve {address}: {e}")))?
        .next()
        .ok_or_else(|| DtlsError::io(Step::Connect, format!("{address} resolves to nothing")))
}

fn ta_credentials(c: &Credential) -> TaCredentials {
    TaCredentials {
        psk: c.psk.as_ref().map(|(_, k)| k.clone()),
        psk_by_identity: c.psk_by_identity.clone(),
        signing_key: c.signing_key.clone(),
    }
}

/// Connects, handshakes with the credentials in `client`'s Secure
/// Environment, and copies `input` to the peer and the peer to `output`
/// until either side closes. Errors name the failing step and alert.
pub fn run_client(
    client: &mut Client,
    opts: &ConnectOptions,
    input: Box<dyn Read + Send>,
    output: &mut dyn Write,
) -> Result<ConnectionInfo, DtlsError> {
    let peer = resolve(&opts.address)?;
    let mut config =
        Config::new(opts.variant, opts.suites.clone()).with_time(Arc::new(SystemClock));
    if config.suites.is_empty() {
        config.suites = default_suites(opts.variant, &opts.credential, false, &opts.peer_trust);
    }
    let host = opts
        .address
        .rsplit_once(':')
        .map(|(h, _)| h.trim_matches(['[', ']']));
    config.server_names = opts
        .server_name
        .clone()
        .or_else(|| {
            host.filter(|h| h.parse::<std::net::IpAddr>().is_err())
                .map(str::to_owned)
        })
        .into_iter()
        .collect();
    config.psk_identity = opts.credential.psk.as_ref().map(|(id, _)| id.clone());
    config.certificate = opts.credential.certificate.clone();
    config.peer_trust = opts.peer_trust.clone();
    config.require_extended_master_secret = opts.require_extended_master_secret;
    config.mtu = opts.mtu;
    // Refuse a configuration that would authenticate nobody before dialling.
    config.check(Role::Client)?;
    let mut link: Box<dyn Link> = match opts.variant {
        Variant::Dtls => Box::new(
            UdpLink::connect(peer)
                .map_err(|e| DtlsError::io(Step::Connect, format!("UDP to {peer}: {e}")))?,
        ),
        Variant::Tls => Box::new(
            TcpLink::connect(peer, opts.handshake_timeout)
                .map_err(|e| DtlsError::io(Step::Connect, format!("TCP to {peer}: {e}")))?,
        ),
    };
    let secrets = SeamSecrets::new(client, ta_credentials(&opts.credential));
    let mut conn = Connection::client(config, secrets, Instant::now());
    drive_handshake(&mut conn, link.as_mut(), opts.handshake_timeout)?;
    let info = conn.info();
    copy_session(&mut conn, link.as_mut(), input, output, opts.linger)?;
    Ok(info)
}

/// Listens, accepts one client, handshakes with the credentials in
/// `client`'s Secure Environment, and copies `input` to the peer and the
/// peer to `output` until either side closes. `on_listening` gets the bound
/// address (useful with port 0).
pub fn run_server(
    client: &mut Client,
    opts: &ListenOptions,
    input: Box<dyn Read + Send>,
    output: &mut dyn Write,
    on_listening: &mut dyn FnMut(SocketAddr),
) -> Result<ConnectionInfo, DtlsError> {
    let bind = resolve(&opts.address)?;
    let mut config =
        Config::new(opts.variant, opts.suites.clone()).with_time(Arc::new(SystemClock));
    if config.suites.is_empty() {
        config.suites = default_suites(opts.variant, &opts.credential, true, &opts.peer_trust);
    }
    config.server_names = opts.server_names.clone();
    config.certificate = opts.credential.certificate.clone();
    config.peer_trust = opts.peer_trust.clone();
    config.require_client_certificate = opts.require_client_certificate;
    config.psk_identity_hint = opts.psk_identity_hint.clone();
    config.require_extended_master_secret = opts.require_extended_master_secret;
    config.cookie_exchange = opts.cookie_exchange;
    config.mtu = opts.mtu;
    config.check(Role::Server)?;
    let mut link: Box<dyn Link> = match opts.variant {
        Variant::Dtls => {
            let socket = UdpSocket::bind(bind)
                .map_err(|e| DtlsError::io(Step::Connect, format!("binding UDP {bind}: {e}")))?;
            if let Ok(a) = socket.local_addr() {
                on_listening(a);
            }
            Box::new(UdpLink::listen(socket))
        }
        Variant::Tls => {
            let listener = TcpListener::bind(bind)
                .map_err(|e| DtlsError::io(Step::Connect, format!("binding TCP {bind}: {e}")))?;
            if let Ok(a) = listener.local_addr() {
                on_listening(a);
            }
            let (stream, _) = listener
                .accept()
                .map_err(|e| DtlsError::io(Step::Connect, format!("accepting: {e}")))?;
            Box::new(TcpLink::new(stream))
        }
    };
    let secrets = SeamSecrets::new(client, ta_credentials(&opts.credential));
    let mut conn = Connection::server(config, secrets, Instant::now());
    // A DTLS server waits for its first datagram as long as it takes.
    if opts.variant == Variant::Dtls {
        let mut buf = vec![0u8; 65536];
        loop {
            if let Some(n) = link
                .recv(&mut buf, Duration::from_secs(3600))
                .map_err(|e| DtlsError::io(Step::Connect, format!("receiving: {e}")))?
            {
                conn.handle_input(&buf[..n], Instant::now())?;
                break;
            }
        }
    }
    drive_handshake(&mut conn, link.as_mut(), opts.handshake_timeout)?;
    let info = conn.info();
    copy_session(&mut conn, link.as_mut(), input, output, opts.linger)?;
    Ok(info)
}

#[cfg(test)]
mod unit {
    use super::*;

    fn psk_client() -> Credential {
        Credential {
            psk: Some((
                b"id".to_vec(),
                KeyRef {
                    se: crate::client::name("se").unwrap(),
                    key: crate::client::name("psk").unwrap(),
                    suid: seam_proto::Suid::new(22).unwrap(),
                },
            )),
            ..Default::default()
        }
    }

    #[test]
    fn a_psk_only_client_offers_only_psk_suites() {
        for variant in [Variant::Dtls, Variant::Tls] {
            let suites = default_suites(variant, &psk_client(), false, &PeerTrust::NotConfigured);
            assert!(!suites.is_empty());
            assert!(suites.iter().all(|s| s.is_psk()), "{variant:?}: {suites:?}");
            // With a trust anchor it may also take a certificate-authenticated server.
            let trust = PeerTrust::PinnedKey(vec![4; 65]);
            let suites = default_suites(variant, &psk_client(), false, &trust);
            assert!(
                suites.iter().any(|s| !s.is_psk()),
                "{variant:?}: {suites:?}"
            );
        }
    }
}
