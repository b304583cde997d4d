//! `seam tls-client|tls-server --tls13`: TLS 1.3 through rustls with the SE
//! provider (`seam_rustls`): the key exchange, the key schedule and the
//! CertificateVerify signature run inside the SE; rustls does the records.
//! Certificates only (a P-256 credential with `--cert`/`--ca`): TLS 1.3 here
//! has no PSK mode, raw public keys or oneM2M suite choice.
//!
//! Standard input goes to the peer and the peer's data to standard output,
//! as for TLS 1.2; exit 0 after the peer's close_notify, 5 on a failure.

use std::io::{ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::mpsc;
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::{CertificateDer, ServerName};
use seam::dtls::read_pem_certificates;
use seam::proto::handshake::Role;
use seam::proto::ObjectKind;
use seam_rustls::TaTls;

use crate::ctx::Ctx;
use crate::failure::{Context, Failure, Kind, Outcome};
use crate::input::KeyPath;

/// What `--tls13` takes from the one-shot commands' flags.
pub struct Options<'a> {
    pub command: &'a str,
    pub credential: KeyPath,
    /// `--connect` (client) or `--listen` (server).
    pub address: String,
    pub server_name: Option<String>,
    pub cert: Option<&'a std::path::Path>,
    pub ca: Option<&'a std::path::Path>,
}

fn failure(o: &Options, what: impl std::fmt::Display) -> Failure {
    Failure {
        kind: Kind::Connection,
        message: format!("seam {} --tls13 {}: {what}", o.command, o.address),
        status: None,
        reason: None,
    }
}

fn pem(flag: &str, path: &std::path::Path) -> Outcome<Vec<CertificateDer<'static>>> {
    let certs = read_pem_certificates(path).map_err(|e| Failure::usage(format!("{flag}: {e}")))?;
    Ok(certs.into_iter().map(CertificateDer::from).collect())
}

/// The provider for the credential: a P-256 key the caller may handshake with.
fn provider(ctx: &mut Ctx, o: &Options, role: Role) -> Outcome<TaTls> {
    let info = ctx
        .client()?
        .object_info(&o.credential.se, &o.credential.key)
        .what(format!(
            "seam {} --tls13: credential {}",
            o.command, o.credential
        ))?;
    if info.kind == ObjectKind::Secret {
        return Err(Failure::usage(format!(
            "seam {} --tls13: {} is a PSK; TLS 1.3 here runs with a P-256 key and \
             certificates (use TLS 1.2 for PSK suites)",
            o.command, o.credential
        )));
    }
    let suid = info.suid.ok_or_else(|| {
        Failure::usage(format!(
            "seam {} --tls13: {} has no SUID",
            o.command, o.credential
        ))
    })?;
    let key = o.credential.key_ref(suid)?;
    let client = ctx.opener()?.open()?;
    Ok(TaTls::new(client, role, Some(key)))
}

fn roots(certs: Vec<CertificateDer<'static>>) -> Outcome<rustls::RootCertStore> {
    let mut roots = rustls::RootCertStore::empty();
    for c in certs {
        roots
            .add(c)
            .map_err(|e| Failure::usage(format!("--ca: {e}")))?;
    }
    Ok(roots)
}

/// The handshake's failure, with the SE's reason when a step failed there.
fn handshake_failure(o: &Options, tls: &TaTls, e: impl std::fmt::Display) -> Failure {
    match tls.last_error() {
        Some(se) => failure(o, format_args!("handshake failed: {e} (SE: {se})")),
        None => failure(o, format_args!("handshake failed: {e}")),
    }
}

pub fn client(ctx: &mut Ctx, o: Options) -> Outcome {
    let ca = o.ca.ok_or_else(|| {
        Failure::usage(format!(
            "seam {} --tls13: --ca FILE.pem is required to authenticate the server",
            o.command
        ))
    })?;
    let roots = roots(pem("--ca", ca)?)?;
    let chain = o.cert.map(|p| pem("--cert", p)).transpose()?;
    let host = o
        .address
        .rsplit_once(':')
        .map(|(h, _)| h.trim_matches(['[', ']']).to_string())
        .unwrap_or_default();
    let name = o.server_name.clone().unwrap_or(host);
    let name = ServerName::try_from(name.clone())
        .map_err(|e| Failure::usage(format!("--server-name `{name}`: {e}")))?;
    let tls = provider(ctx, &o, Role::Client)?;
    let config = seam_rustls::client_config(&tls, &[&rustls::version::TLS13], roots, chain)
        .map_err(|e| Failure::usage(format!("seam {} --tls13: {e}", o.command)))?;
    let conn = rustls::ClientConnection::new(Arc::new(config), name)
        .map_err(|e| handshake_failure(&o, &tls, e))?;
    let sock = TcpStream::connect(&o.address).map_err(|e| failure(&o, e))?;
    pump(ctx, &o, &tls, conn.into(), sock)
}

pub fn server(ctx: &mut Ctx, o: Options) -> Outcome {
    let cert = o.cert.ok_or_else(|| {
        Failure::usage(format!(
            "seam {} --tls13: --cert FILE.pem is required (what the server presents)",
            o.command
        ))
    })?;
    let chain = pem("--cert", cert)?;
    let client_roots = o.ca.map(|p| pem("--ca", p).and_then(roots)).transpose()?;
    let tls = provider(ctx, &o, Role::Server)?;
    let config = seam_rustls::server_config(&tls, &[&rustls::version::TLS13], chain, client_roots)
        .map_err(|e| Failure::usage(format!("seam {} --tls13: {e}", o.command)))?;
    let listener = TcpListener::bind(&o.address).map_err(|e| failure(&o, e))?;
    let addr = listener.local_addr().map_err(|e| failure(&o, e))?;
    if ctx.json {
        eprintln!("{}", serde_json::json!({ "listening": addr.to_string() }));
    } else {
        eprintln!("seam {}: listening on {addr}", o.command);
    }
    let (sock, _) = listener.accept().map_err(|e| failure(&o, e))?;
    let conn = rustls::ServerConnection::new(Arc::new(config))
        .map_err(|e| handshake_failure(&o, &tls, e))?;
    pump(ctx, &o, &tls, conn.into(), sock)
}

/// The handshake, then stdin to the peer and the peer to stdout until the
/// peer's close_notify (ours goes when stdin ends).
fn pump(
    ctx: &Ctx,
    o: &Options,
    tls: &TaTls,
    mut conn: rustls::Connection,
    mut sock: TcpStream,
) -> Outcome {
    while conn.is_handshaking() {
        conn.complete_io(&mut sock)
            .map_err(|e| handshake_failure(o, tls, e))?;
    }
    // Session tickets or our Finished may still be queued.
    while conn.wants_write() {
        conn.write_tls(&mut sock).map_err(|e| failure(o, e))?;
    }
    let suite = conn
        .negotiated_cipher_suite()
        .map(|s| format!("{:?}", s.suite()))
        .unwrap_or_else(|| "?".into());
    let (tx, rx) = mpsc::channel::<Option<Vec<u8>>>();
    std::thread::spawn(move || {
        let mut stdin = std::io::stdin();
        let mut buf = vec![0u8; 16384];
        loop {
            match stdin.read(&mut buf) {
                Ok(0) | Err(_) => {
                    let _ = tx.send(None);
                    return;
                }
                Ok(n) => {
                    if tx.send(Some(buf[..n].to_vec())).is_err() {
                        return;
                    }
                }
            }
        }
    });
    sock.set_read_timeout(Some(Duration::from_millis(20)))
        .map_err(|e| failure(o, e))?;
    let mut stdout = std::io::stdout();
    let mut stdin_open = true;
    let mut buf = vec![0u8; 16384];
    loop {
        while stdin_open {
            match rx.try_recv() {
                Ok(Some(data)) => conn.writer().write_all(&data).map_err(|e| failure(o, e))?,
                Ok(None) | Err(mpsc::TryRecvError::Disconnected) => {
                    conn.send_close_notify();
                    stdin_open = false;
                }
                Err(mpsc::TryRecvError::Empty) => break,
            }
        }
        while conn.wants_write() {
            conn.write_tls(&mut sock).map_err(|e| failure(o, e))?;
        }
        match conn.read_tls(&mut sock) {
            Ok(0) => {
                return Err(failure(
                    o,
                    "the peer closed the connection without close_notify",
                ))
            }
            Ok(_) => {
                let state = conn
                    .process_new_packets()
                    .map_err(|e| failure(o, format_args!("records: {e}")))?;
                loop {
                    match conn.reader().read(&mut buf) {
                        Ok(0) => break,
                        Ok(n) => {
                            stdout.write_all(&buf[..n]).map_err(|e| failure(o, e))?;
                            stdout.flush().map_err(|e| failure(o, e))?;
                        }
                        Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                        Err(e) => return Err(failure(o, e)),
                    }
                }
                if state.peer_has_closed() {
                    break;
                }
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(e) => return Err(failure(o, e)),
        }
    }
    if stdin_open {
        conn.send_close_notify();
        while conn.wants_write() {
            if conn.write_tls(&mut sock).is_err() {
                break;
            }
        }
    }
    if ctx.json {
        eprintln!(
            "{}",
            serde_json::json!({ "closed": true, "suite": suite, "version": "TLSv1.3" })
        );
    } else {
        eprintln!(
            "seam {}: closed cleanly after a TLSv1.3 {suite} handshake",
            o.command
        );
    }
    Ok(())
}
