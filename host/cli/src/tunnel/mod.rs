//! `seam tunnel client|server`: the (D)TLS sidecar. A long-running process
//! that carries a local program's plain TCP connections or UDP datagrams
//! over (D)TLS whose every handshake secret stays in the SE (client), or
//! terminates (D)TLS and hands the plaintext to a local service (server) —
//! what stunnel and ghostunnel do with key files, for CSEs that cannot
//! reach a TA themselves.
//!
//! Folder = pipeline: [`settings`] (flags, checked once) → [`stream`] (TCP)
//! or [`datagram`] (UDP) → [`secure`] (seam's engine, or rustls for TLS 1.3
//! through [`tls13`]) → [`log`] (one line per connection), bounded by
//! [`limits`].

mod datagram;
mod limits;
mod log;
mod secure;
mod settings;
mod stream;
mod tls13;

use std::sync::Arc;

use clap::Subcommand;
use seam::dtls::Variant;

use crate::ctx::Ctx;
use crate::failure::Outcome;

pub(crate) use settings::read_peer_key;

pub const CLIENT_EXAMPLE: &str = "\
Examples:
  seam tunnel client --tls --listen 127.0.0.1:8080 --connect in-cse.example:8443 \\
      --credential operator/cse-key --cert mn-cse.pem --ca m2m-ca.pem
  seam tunnel client --dtls --listen 127.0.0.1:5683 --connect in-cse.example:5684 \\
      --credential operator/psk --psk-identity mn-cse@m2m.example

Each local TCP connection (--tls) or local UDP source address and port
(--dtls) gets its own (D)TLS session to --connect. One line per connection
goes to stderr (--json: a JSON object): peer, version, suite, the peer's
identity (certificate subject and SAN URIs, or PSK identity), or why it
was refused. SIGTERM stops accepting, lets open connections finish
(--drain-timeout) and exits 0.";

pub const SERVER_EXAMPLE: &str = "\
Examples:
  seam tunnel server --tls --listen 0.0.0.0:8443 --forward 127.0.0.1:8080 \\
      --credential operator/cse-key --cert in-cse.pem --ca m2m-ca.pem
  seam tunnel server --dtls --listen 0.0.0.0:5684 --forward 127.0.0.1:5683 \\
      --credential operator/psk --psk-identity mn-cse@m2m.example

Terminates (D)TLS and forwards the plaintext to --forward. With --ca a client
certificate from one of those CAs is required; with --peer-key the client
must hold that key. A peer that fails the handshake is logged with the
reason and never reaches --forward. DTLS: a ClientHello from an unknown
address is answered with a cookie (HelloVerifyRequest) and nothing else.";

#[derive(Subcommand)]
pub enum TunnelCommand {
    /// Plain in locally, (D)TLS out: for a CSE that registers to a remote one.
    #[command(after_help = CLIENT_EXAMPLE)]
    Client(settings::ClientArgs),
    /// (D)TLS in, plain to a local CSE: for a CSE that others register to.
    #[command(after_help = SERVER_EXAMPLE)]
    Server(settings::ServerArgs),
}

pub fn run(ctx: &mut Ctx, c: TunnelCommand) -> Outcome {
    let settings = match c {
        TunnelCommand::Client(a) => settings::Settings::client(ctx, a)?,
        TunnelCommand::Server(a) => settings::Settings::server(ctx, a)?,
    };
    let opener = ctx.opener()?;
    let settings = Arc::new(settings);
    let shutdown = limits::Shutdown::install(settings.drain_timeout);
    let shared = Arc::new(stream::Shared {
        log: log::Log {
            json: settings.json,
            command: settings.command,
        },
        shutdown,
        handshakes: limits::Semaphore::new(settings.max_handshakes),
        tls13: tls13::Pool::new(settings.clone(), opener.clone()),
        opener,
        settings: settings.clone(),
    });
    match settings.variant {
        Variant::Tls => stream::serve(shared),
        Variant::Dtls => datagram::serve(shared),
    }
}
