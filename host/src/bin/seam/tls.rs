//! `seam tls-client|dtls-client|tls-server|dtls-server`: (D)TLS 1.2 with the
//! handshake secrets inside the SE. The flags are the contract; the engines
//! are not part of this build, and these commands say so rather than pretend.

use clap::Args;

use crate::failure::{Failure, Outcome};
use crate::input;

pub const TLS_CLIENT_EXAMPLE: &str = "\
Examples:
  seam tls-client --credential operator/psk --psk-identity cse1@m2m.example --connect in-cse.example:8443
  seam tls-client --credential operator/cse-key --cert cse.crt.pem --ca ca.pem --connect in-cse.example:8443

Not yet available in this build: the command exits with code 2.";

pub const DTLS_CLIENT_EXAMPLE: &str = "\
Example:
  seam dtls-client --credential operator/psk --psk-identity cse1@m2m.example --connect in-cse.example:5684

Not yet available in this build: the command exits with code 2.";

pub const TLS_SERVER_EXAMPLE: &str = "\
Example:
  seam tls-server --credential operator/cse-key --cert cse.crt.pem --listen 0.0.0.0:8443

Not yet available in this build: the command exits with code 2.";

pub const DTLS_SERVER_EXAMPLE: &str = "\
Example:
  seam dtls-server --credential operator/psk --listen 0.0.0.0:5684

Not yet available in this build: the command exits with code 2.";

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
    /// The server name (SNI, mandatory in oneM2M; default: HOST of --connect).
    #[arg(long, value_name = "NAME")]
    server_name: Option<String>,
}

#[derive(Args)]
pub struct ServerArgs {
    /// The SE credential (PSK or P-256 key) the handshake uses: SE/KEY.
    #[arg(long, value_name = "SE/KEY")]
    credential: String,
    /// Where to listen.
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
    /// This side's certificate (PEM) for a P-256 credential.
    #[arg(long, value_name = "FILE.pem")]
    cert: Option<std::path::PathBuf>,
    /// Trust anchors (PEM) for the peer's certificate.
    #[arg(long, value_name = "FILE.pem")]
    ca: Option<std::path::PathBuf>,
    /// The cipher suite, by its OpenSSL name (e.g. PSK-AES128-CCM8).
    #[arg(long, value_name = "OPENSSL-NAME")]
    cipher: Option<String>,
    /// Allow TLS 1.3 (oneM2M profiles TLS 1.2).
    #[arg(long)]
    tls13: bool,
}

fn host_port(flag: &str, text: &str) -> Outcome<()> {
    match text.rsplit_once(':') {
        Some((host, port)) if !host.is_empty() && port.parse::<u16>().is_ok() => Ok(()),
        _ => Err(Failure::usage(format!(
            "{flag} `{text}`: expected HOST:PORT"
        ))),
    }
}

fn not_available(command: &str) -> Failure {
    Failure::usage(format!(
        "seam {command}: not yet available in this build: the (D)TLS engine, which keeps \
         the handshake secrets inside the SE, is not part of this version of seam"
    ))
}

pub fn client(command: &str, a: ClientArgs) -> Outcome {
    input::key_path(&a.credential, false)?;
    host_port("--connect", &a.connect)?;
    let _ = (a.common, a.server_name);
    Err(not_available(command))
}

pub fn server(command: &str, a: ServerArgs) -> Outcome {
    input::key_path(&a.credential, false)?;
    host_port("--listen", &a.listen)?;
    let _ = a.common;
    Err(not_available(command))
}
