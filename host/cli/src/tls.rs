//! `seam tls-client|dtls-client|tls-server|dtls-server`: (D)TLS 1.2 with the
//! handshake secrets inside the SE, through the engine in `seam::dtls`.
//!
//! Standard input goes to the peer and the peer's data to standard output;
//! what happened (listening address, suite, failures) goes to standard
//! error. Exit 0 after a completed handshake and a clean close; exit 5 when
//! the connection fails, with the step that failed and the alert.
//!
//! TLS 1.3 (`seam tls-client|tls-server --tls13`) runs through rustls with
//! the SE provider instead ([`crate::tls13`]): certificates only; DTLS 1.3
//! is not available.

use std::path::{Path, PathBuf};

use clap::Args;
use seam::dtls::{
    read_pem_certificates, run_client, run_server, AlertDescription, ConnectOptions,
    ConnectionInfo, Credential, DtlsError, ListenOptions, OwnCertificate, PeerTrust, Suite,
    Variant,
};
use seam::proto::ObjectKind;

use crate::ctx::Ctx;
use crate::failure::{Context, Failure, Kind, Outcome};
use crate::input::{self, KeyPath};

const MORE: &str = "
Standard input goes to the peer and the peer's data to standard output.
Exit 0 after a completed handshake and a clean close (close_notify); exit 5
if the connection fails, naming the failed step and the alert.
A PSK credential uses the PSK suites, a P-256 key the ECDHE_ECDSA suites.
--tls13 (tls-client, tls-server): TLS 1.3 through rustls with the SE
provider, a P-256 credential with certificates (--ca on a client, --cert on
a server); no PSK, raw public keys or --cipher. DTLS 1.3 is not available.";

pub fn tls_client_example() -> String {
    format!(
        "\
Examples:
  seam tls-client --credential operator/psk --psk-identity cse1@m2m.example --connect in-cse.example:8443
  seam tls-client --credential operator/cse-key --cert cse.crt.pem --ca ca.pem --connect in-cse.example:8443
{MORE}"
    )
}

pub fn dtls_client_example() -> String {
    format!(
        "\
Examples:
  seam dtls-client --credential operator/psk --psk-identity cse1@m2m.example --connect in-cse.example:5684
  seam dtls-client --credential operator/cse-key --cert cse.crt.pem --ca ca.pem --cipher ECDHE-ECDSA-AES128-CCM8 --connect in-cse.example:5684
{MORE}"
    )
}

pub fn tls_server_example() -> String {
    format!(
        "\
Examples:
  seam tls-server --credential operator/cse-key --cert cse.crt.pem --listen 0.0.0.0:8443
  seam tls-server --credential operator/psk --listen 127.0.0.1:0   # prints the port on stderr
{MORE}
A server serves one client, then exits. With --ca it requires a client
certificate issued by one of those CAs."
    )
}

pub fn dtls_server_example() -> String {
    format!(
        "\
Example:
  seam dtls-server --credential operator/psk --listen 0.0.0.0:5684
{MORE}
A server serves one client, then exits. With --ca it requires a client
certificate issued by one of those CAs."
    )
}

#[derive(Args)]
pub struct ClientArgs {
    /// The SE credential (PSK or P-256 key) the handshake uses: SE/KEY.
    #[arg(long, value_name = "SE/KEY")]
    credential: String,
    /// The server to connect to.
    #[arg(long, value_name = "HOST:PORT")]
    connect: String,
    #[command(flatten)]
    common: Common,
    /// The server name (SNI, mandatory in oneM2M; default: HOST of --connect
    /// when it is a name), also checked against the server's certificate.
    #[arg(long, value_name = "NAME")]
    server_name: Option<String>,
}

#[derive(Args)]
pub struct ServerArgs {
    /// The SE credential (PSK or P-256 key) the handshake uses: SE/KEY.
    #[arg(long, value_name = "SE/KEY")]
    credential: String,
    /// Where to listen (port 0: any free port; the address is printed on stderr).
    #[arg(long, value_name = "HOST:PORT")]
    listen: String,
    #[command(flatten)]
    common: Common,
}

#[derive(Args)]
pub struct Common {
    /// The PSK identity (RFC 4279; oneM2M KpsaID) to send, or as a server the hint.
    #[arg(long, value_name = "ID")]
    psk_identity: Option<String>,
    /// This side's certificate chain (PEM, leaf first) for a P-256 credential.
    #[arg(long, value_name = "FILE.pem")]
    cert: Option<PathBuf>,
    /// Trust anchors (PEM) for the peer's certificate (required by a client
    /// using an ECDHE_ECDSA suite; makes a server require a client certificate).
    #[arg(long, value_name = "FILE.pem")]
    ca: Option<PathBuf>,
    /// The cipher suite, by its OpenSSL name (PSK-AES128-CCM8,
    /// ECDHE-ECDSA-AES128-CCM8, PSK-AES128-CBC-SHA256, ECDHE-ECDSA-AES128-SHA256)
    /// or IANA name. Default: the credential's two suites, the transport's
    /// oneM2M profile first (CCM_8 over DTLS, CBC_SHA256 over TLS).
    #[arg(long, value_name = "OPENSSL-NAME")]
    cipher: Option<String>,
    /// TLS 1.3 through rustls with the SE provider (tls-client/tls-server;
    /// a P-256 credential with certificates).
    #[arg(long)]
    tls13: bool,
    /// Present the P-256 credential as a raw public key (RFC 7250) instead of a certificate.
    #[arg(long, conflicts_with = "cert")]
    raw_public_key: bool,
    /// Pin the peer's P-256 key (PEM public key): its certificate or raw
    /// public key (RFC 7250) must carry exactly this key.
    #[arg(long, value_name = "FILE.pem", conflicts_with = "ca")]
    peer_key: Option<PathBuf>,
}

/// `--raw-public-key`: the credential's public key as a SubjectPublicKeyInfo.
fn raw_public_key(ctx: &mut Ctx, credential: &KeyPath) -> Outcome<OwnCertificate> {
    let info = ctx
        .client()?
        .object_info(&credential.se, &credential.key)
        .what(format!("--raw-public-key: credential {credential}"))?;
    info.public_key
        .and_then(|p| seam::dtls::cert::spki_for(&p.0))
        .map(OwnCertificate::RawPublicKey)
        .ok_or_else(|| Failure::usage(format!("--raw-public-key: {credential} is not a P-256 key")))
}

/// This side's certificate: `--cert`, `--raw-public-key`, or none.
fn own_certificate(ctx: &mut Ctx, c: &Common, credential: &KeyPath) -> Outcome<OwnCertificate> {
    if c.raw_public_key {
        return raw_public_key(ctx, credential);
    }
    Ok(match &c.cert {
        Some(p) => OwnCertificate::X509(certificates("--cert", p)?),
        None => OwnCertificate::None,
    })
}

/// How the peer is authenticated: `--ca`, `--peer-key`, or not at all.
fn peer_trust(c: &Common) -> Outcome<Option<PeerTrust>> {
    if let Some(p) = &c.ca {
        return Ok(Some(PeerTrust::CaCertificates(certificates("--ca", p)?)));
    }
    match &c.peer_key {
        Some(p) => Ok(Some(PeerTrust::PinnedKey(crate::tunnel::read_peer_key(p)?))),
        None => Ok(None),
    }
}

fn host_port(flag: &str, text: &str) -> Outcome<()> {
    match text.rsplit_once(':') {
        Some((host, port)) if !host.is_empty() && port.parse::<u16>().is_ok() => Ok(()),
        _ => Err(Failure::usage(format!(
            "{flag} `{text}`: expected HOST:PORT"
        ))),
    }
}

fn variant(command: &str) -> Variant {
    if command.starts_with("dtls") {
        Variant::Dtls
    } else {
        Variant::Tls
    }
}

/// The checks that need neither the SE nor the network.
fn check_common(command: &str, c: &Common) -> Outcome<Vec<Suite>> {
    if c.tls13 {
        if variant(command) == Variant::Dtls {
            return Err(Failure::usage(format!(
                "seam {command} --tls13: DTLS 1.3 is not available; use DTLS 1.2 \
                 (the oneM2M profile) or `seam tls-{}` --tls13",
                command.trim_start_matches("dtls-")
            )));
        }
        if c.raw_public_key
            || c.peer_key.is_some()
            || c.cipher.is_some()
            || c.psk_identity.is_some()
        {
            return Err(Failure::usage(format!(
                "seam {command} --tls13: --raw-public-key, --peer-key, --cipher and \
                 --psk-identity apply to TLS 1.2 only; TLS 1.3 here runs with certificates"
            )));
        }
    }
    match &c.cipher {
        None => Ok(Vec::new()),
        Some(name) => Suite::parse(name).map(|s| vec![s]).ok_or_else(|| {
            Failure::usage(format!(
                "--cipher `{name}`: not one of the oneM2M suites: {}",
                Suite::ALL.map(|s| s.openssl_name()).join(", ")
            ))
        }),
    }
}

/// The suites for a PSK (`psk`) or P-256 credential: the one asked for (if it fits the
/// credential), else both of the credential's, the variant's profile first.
fn suites(
    variant: Variant,
    psk: bool,
    asked: Vec<Suite>,
    credential: &KeyPath,
) -> Outcome<Vec<Suite>> {
    if let Some(s) = asked.first() {
        if s.is_psk() != psk {
            return Err(Failure::usage(format!(
                "--cipher {}: {credential} is {}, which that suite cannot use",
                s.openssl_name(),
                if psk { "a PSK" } else { "a P-256 key" }
            )));
        }
        return Ok(asked);
    }
    let mut all: Vec<Suite> = Suite::ALL
        .into_iter()
        .filter(|s| s.is_psk() == psk)
        .collect();
    // CCM_8 first over DTLS, CBC_SHA256 first over TLS (TS-0003 §10.2).
    all.sort_by_key(|s| s.is_ccm8() != (variant == Variant::Dtls));
    Ok(all)
}

/// Whether `credential` is a PSK (a secret) or a P-256 key; a data object
/// or a missing key fails here with the SE's answer.
fn credential_kind(ctx: &mut Ctx, command: &str, credential: &KeyPath) -> Outcome<bool> {
    let info = ctx
        .client()?
        .object_info(&credential.se, &credential.key)
        .what(format!("seam {command}: credential {credential}"))?;
    match info.kind {
        ObjectKind::Secret => Ok(true),
        ObjectKind::Data => Err(Failure::usage(format!(
            "seam {command}: credential {credential} is a data object, not a PSK or a P-256 key"
        ))),
        _ => Ok(false),
    }
}

fn certificates(flag: &str, path: &Path) -> Outcome<Vec<Vec<u8>>> {
    read_pem_certificates(path).map_err(|e| Failure::usage(format!("{flag}: {}", cause_text(&e))))
}

/// The error without its step prefix (for errors that are about a file).
fn cause_text(e: &DtlsError) -> String {
    let text = e.to_string();
    let prefix = format!("{}: ", e.step);
    text.strip_prefix(&prefix).unwrap_or(&text).to_string()
}

/// A failed connection: exit 5, naming the step and (in the cause) the alert.
fn connection_failure(command: &str, address: &str, psk: bool, e: &DtlsError) -> Failure {
    let wrong_key = matches!(
        e.alert(),
        Some(AlertDescription::BAD_RECORD_MAC | AlertDescription::DECRYPT_ERROR)
    ) && psk;
    Failure {
        kind: Kind::Connection,
        message: format!(
            "seam {command} {address}: failed at step {}: {}{}",
            e.step,
            cause_text(e),
            if wrong_key {
                " (during a PSK handshake this usually means the peer holds a different PSK)"
            } else {
                ""
            }
        ),
        status: None,
        reason: None,
    }
}

fn report_done(ctx: &Ctx, command: &str, info: &ConnectionInfo) {
    let suite = info.suite.map(|s| s.name()).unwrap_or("?");
    if ctx.json {
        eprintln!(
            "{}",
            serde_json::json!({
                "closed": true,
                "suite": suite,
                "extended_master_secret": info.extended_master_secret,
                "server_name": info.server_name,
                "se_invocations": info.invocations,
            })
        );
    } else {
        eprintln!(
            "seam {command}: closed cleanly after a {suite} handshake ({} SE invocations{})",
            info.invocations,
            if info.extended_master_secret {
                ", extended master secret"
            } else {
                ""
            }
        );
    }
}

pub fn client(ctx: &mut Ctx, command: &str, a: ClientArgs) -> Outcome {
    let credential = input::key_path(&a.credential, false)?;
    host_port("--connect", &a.connect)?;
    let asked = check_common(command, &a.common)?;
    if a.common.tls13 {
        return crate::tls13::client(
            ctx,
            crate::tls13::Options {
                command,
                credential,
                address: a.connect,
                server_name: a.server_name,
                cert: a.common.cert.as_deref(),
                ca: a.common.ca.as_deref(),
            },
        );
    }
    let variant = variant(command);
    let psk = credential_kind(ctx, command, &credential)?;
    let own = own_certificate(ctx, &a.common, &credential)?;
    let trust = peer_trust(&a.common)?;
    let suites = suites(variant, psk, asked, &credential)?;
    if psk && a.common.psk_identity.is_none() {
        return Err(Failure::usage(format!(
            "seam {command}: {credential} is a PSK: --psk-identity ID is required \
             (the oneM2M KpsaID the server knows it by)"
        )));
    }
    if !psk && trust.is_none() {
        return Err(Failure::usage(format!(
            "seam {command}: {credential} is a P-256 key (ECDHE_ECDSA suites): --ca FILE.pem \
             is required to authenticate the server (or --peer-key FILE.pem to pin its key)"
        )));
    }
    let client = ctx.client()?;
    let cred = Credential::for_client(
        client,
        &credential.se,
        &credential.key,
        a.common.psk_identity.as_deref().map(str::as_bytes),
        own,
    )
    .map_err(|e| connection_failure(command, &a.connect, psk, &e))?;
    let mut opts = ConnectOptions::new(variant, a.connect.clone(), cred);
    opts.suites = suites;
    opts.server_name = a.server_name;
    if let Some(trust) = trust {
        opts.peer_trust = trust;
    }
    let mut stdout = std::io::stdout();
    let info = run_client(client, &opts, Box::new(std::io::stdin()), &mut stdout)
        .map_err(|e| connection_failure(command, &a.connect, psk, &e))?;
    report_done(ctx, command, &info);
    Ok(())
}

pub fn server(ctx: &mut Ctx, command: &str, a: ServerArgs) -> Outcome {
    let credential = input::key_path(&a.credential, false)?;
    host_port("--listen", &a.listen)?;
    let asked = check_common(command, &a.common)?;
    if a.common.tls13 {
        return crate::tls13::server(
            ctx,
            crate::tls13::Options {
                command,
                credential,
                address: a.listen,
                server_name: None,
                cert: a.common.cert.as_deref(),
                ca: a.common.ca.as_deref(),
            },
        );
    }
    let variant = variant(command);
    let psk = credential_kind(ctx, command, &credential)?;
    let own = own_certificate(ctx, &a.common, &credential)?;
    let trust = peer_trust(&a.common)?;
    let suites = suites(variant, psk, asked, &credential)?;
    if !psk && matches!(own, OwnCertificate::None) {
        return Err(Failure::usage(format!(
            "seam {command}: {credential} is a P-256 key (ECDHE_ECDSA suites): --cert FILE.pem \
             is required (what the server presents for it; or --raw-public-key)"
        )));
    }
    let json = ctx.json;
    let client = ctx.client()?;
    let cred = Credential::for_server(client, &credential.se, &credential.key, own)
        .map_err(|e| connection_failure(command, &a.listen, psk, &e))?;
    let mut opts = ListenOptions::new(variant, a.listen.clone(), cred);
    opts.suites = suites;
    opts.psk_identity_hint = a.common.psk_identity.map(String::into_bytes);
    if let Some(trust) = trust {
        opts.require_client_certificate = !psk;
        opts.peer_trust = trust;
    }
    let mut on_listening = |addr: std::net::SocketAddr| {
        if json {
            eprintln!("{}", serde_json::json!({ "listening": addr.to_string() }));
        } else {
            eprintln!("seam {command}: listening on {addr}");
        }
    };
    let mut stdout = std::io::stdout();
    let info = run_server(
        client,
        &opts,
        Box::new(std::io::stdin()),
        &mut stdout,
        &mut on_listening,
    )
    .map_err(|e| connection_failure(command, &a.listen, psk, &e))?;
    report_done(ctx, command, &info);
    Ok(())
}
