//! TLS over TCP: one thread per connection (bounded), each running its
//! handshake and then relaying both directions with `poll(2)`, half-close
//! passed on either way, idle connections closed.

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown as Half, SocketAddr, TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::sync::Arc;
use std::time::{Duration, Instant};

use seam::dtls::{Connection, SeamSecrets};

use super::limits::{Gated, Semaphore, Shutdown};
use super::log::{Log, Opened};
use super::secure::{Engine, Negotiated, Secure};
use super::settings::{Settings, Side};
use super::tls13::Pool;
use crate::ctx::Opener;
use crate::failure::{Failure, Outcome};

/// What every connection thread shares.
pub struct Shared {
    pub settings: Arc<Settings>,
    pub opener: Opener,
    pub log: Log,
    pub shutdown: Arc<Shutdown>,
    pub handshakes: Arc<Semaphore>,
    pub tls13: Arc<Pool>,
}

/// Waits until one of `fds` is readable (or `timeout`); which ones are.
pub fn poll_readable(fds: &[i32], timeout: Duration) -> Vec<bool> {
    let mut p: Vec<libc::pollfd> = fds
        .iter()
        .map(|&fd| libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        })
        .collect();
    let ms = timeout.as_millis().min(i32::MAX as u128) as i32;
    // SAFETY: `p` is a valid array of pollfd for the duration of the call.
    let n = unsafe { libc::poll(p.as_mut_ptr(), p.len() as libc::nfds_t, ms) };
    if n <= 0 {
        return vec![false; fds.len()];
    }
    p.iter()
        .map(|x| x.revents & (libc::POLLIN | libc::POLLHUP | libc::POLLERR) != 0)
        .collect()
}

pub fn serve(shared: Arc<Shared>) -> Outcome {
    let s = &shared.settings;
    let listener = TcpListener::bind(s.listen).map_err(|e| {
        Failure::usage(format!("seam {}: binding TCP {}: {e}", s.command, s.listen))
    })?;
    let bound = listener.local_addr().unwrap_or(s.listen);
    shared.log.listening(
        bound,
        if s.tls13 { "tls1.3" } else { "tls" },
        &s.target_text,
    );
    let _ = listener.set_nonblocking(true);
    while !shared.shutdown.stopping() {
        if !poll_readable(&[listener.as_raw_fd()], Duration::from_millis(200))[0] {
            continue;
        }
        let (stream, peer) = match listener.accept() {
            Ok(x) => x,
            Err(e) if e.kind() == ErrorKind::WouldBlock => continue,
            Err(e) => {
                shared.log.note(&format!("accept failed: {e}"));
                std::thread::sleep(Duration::from_millis(50));
                continue;
            }
        };
        if shared.shutdown.open() >= s.max_connections {
            shared.log.refused(
                peer,
                &format!("{} connections open (--max-connections)", s.max_connections),
            );
            continue;
        }
        let active = shared.shutdown.enter();
        let conn_shared = shared.clone();
        let spawned = std::thread::Builder::new()
            .name(format!("conn {peer}"))
            .spawn(move || {
                let _active = active;
                let _ = stream.set_nonblocking(false);
                let _ = stream.set_nodelay(true);
                match conn_shared.settings.side {
                    Side::Server => server_connection(&conn_shared, stream, peer),
                    Side::Client => client_connection(&conn_shared, stream, peer),
                }
            });
        if let Err(e) = spawned {
            shared
                .log
                .note(&format!("cannot start a connection thread: {e}"));
        }
    }
    drop(listener);
    shared.shutdown.wait_idle();
    Ok(())
}

/// The secured side of one connection, before its handshake.
fn new_secure(shared: &Shared, deadline: Instant) -> Result<Box<dyn Secure>, String> {
    let s = &shared.settings;
    if s.tls13 {
        let r = shared.tls13.connection(&shared.handshakes, deadline)?;
        return Ok(Box::new(r));
    }
    let client = shared.opener.open().map_err(|e| e.message)?;
    let secrets = Gated::new(
        SeamSecrets::new(client, s.ta_credentials()),
        shared.handshakes.clone(),
        deadline,
    );
    let config = s.engine_config();
    let mut conn = match s.side {
        Side::Client => Connection::client(config, secrets, Instant::now()),
        Side::Server => Connection::server(config, secrets, Instant::now()),
    };
    conn.allow_half_close();
    Ok(Box::new(Engine {
        conn,
        variant: s.variant,
    }))
}

fn flush(secure: &mut dyn Secure, mut net: &TcpStream) -> Result<(), String> {
    while let Some(out) = secure.output() {
        net.write_all(&out).map_err(|e| format!("sending: {e}"))?;
    }
    Ok(())
}

/// Runs the handshake on `net` until `deadline`.
fn handshake(
    secure: &mut dyn Secure,
    mut net: &TcpStream,
    deadline: Instant,
) -> Result<(), String> {
    let mut buf = vec![0u8; 16 * 1024 + 2048];
    flush(secure, net)?;
    while secure.is_handshaking() {
        let now = Instant::now();
        if now >= deadline {
            return Err("the handshake timed out".into());
        }
        if !poll_readable(&[net.as_raw_fd()], deadline - now)[0] {
            continue;
        }
        let n = match net.read(&mut buf) {
            Ok(0) => return Err("the peer closed the connection during the handshake".into()),
            Ok(n) => n,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return Err(format!("receiving: {e}")),
        };
        let fed = secure.feed(&buf[..n]);
        // Send what the engine queued, a fatal alert included.
        let sent = flush(secure, net);
        fed?;
        sent?;
    }
    Ok(())
}

fn server_connection(shared: &Shared, net: TcpStream, peer: SocketAddr) {
    let s = &shared.settings;
    let deadline = Instant::now() + s.handshake_timeout;
    let mut secure = match new_secure(shared, deadline) {
        Ok(x) => x,
        Err(e) => return shared.log.refused(peer, &e),
    };
    if let Err(e) = handshake(secure.as_mut(), &net, deadline) {
        return shared.log.refused(peer, &e);
    }
    let negotiated = secure.finish();
    let plain = match TcpStream::connect_timeout(&s.target, Duration::from_secs(5)) {
        Ok(p) => p,
        Err(e) => {
            secure.close();
            let _ = flush(secure.as_mut(), &net);
            let reason = format!("forwarding to {} failed: {e}", s.target_text);
            return log_refused_after(shared, peer, &negotiated, &reason);
        }
    };
    let _ = plain.set_nodelay(true);
    shared.log.connection(&Opened {
        peer,
        version: negotiated.version,
        suite: &negotiated.suite,
        identity: &negotiated.identity,
        local: s.target_text.clone(),
    });
    relay(shared, secure.as_mut(), &net, &plain);
}

fn client_connection(shared: &Shared, plain: TcpStream, local: SocketAddr) {
    let s = &shared.settings;
    let net = match TcpStream::connect_timeout(&s.target, s.handshake_timeout) {
        Ok(n) => n,
        Err(e) => {
            return shared
                .log
                .refused(local, &format!("connecting to {}: {e}", s.target_text))
        }
    };
    let _ = net.set_nodelay(true);
    let deadline = Instant::now() + s.handshake_timeout;
    let mut secure = match new_secure(shared, deadline) {
        Ok(x) => x,
        Err(e) => return shared.log.refused(local, &e),
    };
    if let Err(e) = handshake(secure.as_mut(), &net, deadline) {
        return shared
            .log
            .refused(local, &format!("handshake with {}: {e}", s.target_text));
    }
    let negotiated = secure.finish();
    let peer = net.peer_addr().unwrap_or(s.target);
    shared.log.connection(&Opened {
        peer,
        version: negotiated.version,
        suite: &negotiated.suite,
        identity: &negotiated.identity,
        local: local.to_string(),
    });
    relay(shared, secure.as_mut(), &net, &plain);
}

fn log_refused_after(shared: &Shared, peer: SocketAddr, n: &Negotiated, reason: &str) {
    shared.log.refused(
        peer,
        &format!("{reason} (after a {} {} handshake)", n.version, n.suite),
    );
}

/// Both directions until both ended, the connection idled out, or the
/// drain after SIGTERM ended.
fn relay(shared: &Shared, secure: &mut dyn Secure, mut net: &TcpStream, mut plain: &TcpStream) {
    let s = &shared.settings;
    let _ = net.set_write_timeout(Some(s.idle_timeout));
    let _ = plain.set_write_timeout(Some(s.idle_timeout));
    let mut buf = vec![0u8; 16 * 1024 + 2048];
    let mut from_net = true; // still reading the peer
    let mut from_plain = true; // still reading the local side
    let mut last = Instant::now();
    // Data that came with the peer's last handshake flight.
    let mut clear = Vec::new();
    secure.plaintext(&mut clear);
    if !clear.is_empty() && plain.write_all(&clear).is_err() {
        return;
    }
    let result: Result<(), String> = loop {
        if !from_net && !from_plain {
            break Ok(());
        }
        if last.elapsed() >= s.idle_timeout || shared.shutdown.drained() {
            break Ok(());
        }
        let fds: Vec<i32> = [(from_net, net.as_raw_fd()), (from_plain, plain.as_raw_fd())]
            .iter()
            .filter(|(open, _)| *open)
            .map(|(_, fd)| *fd)
            .collect();
        let ready = poll_readable(&fds, Duration::from_millis(250));
        let mut ready = ready.into_iter();
        let net_ready = from_net && ready.next().unwrap_or(false);
        let plain_ready = from_plain && ready.next().unwrap_or(false);
        if net_ready {
            last = Instant::now();
            match net.read(&mut buf) {
                Ok(0) | Err(_) => {
                    // The peer's TCP ended (with or without close_notify).
                    from_net = false;
                    let _ = plain.shutdown(Half::Write);
                }
                Ok(n) => {
                    let fed = secure.feed(&buf[..n]);
                    clear.clear();
                    secure.plaintext(&mut clear);
                    if !clear.is_empty() && plain.write_all(&clear).is_err() {
                        // The local side is gone: nothing more to deliver.
                        break Err("the local side closed early".into());
                    }
                    if let Err(e) = flush(secure, net) {
                        break Err(e);
                    }
                    if let Err(e) = fed {
                        break Err(e);
                    }
                    if secure.peer_closed() {
                        from_net = false;
                        let _ = plain.shutdown(Half::Write);
                    }
                }
            }
        }
        if plain_ready {
            last = Instant::now();
            match plain.read(&mut buf) {
                Ok(0) | Err(_) => {
                    // Half-close: the local side is done sending.
                    from_plain = false;
                    secure.close();
                    if let Err(e) = flush(secure, net) {
                        break Err(e);
                    }
                    let _ = net.shutdown(Half::Write);
                }
                Ok(n) => {
                    if let Err(e) = secure.send(&buf[..n]).and_then(|_| flush(secure, net)) {
                        break Err(e);
                    }
                }
            }
        }
    };
    if from_plain {
        secure.close();
        let _ = flush(secure, net);
    }
    let _ = net.shutdown(Half::Both);
    let _ = plain.shutdown(Half::Both);
    // The connection's line was logged when it opened; only a failure after
    // that gets another.
    if let Err(e) = result {
        shared
            .log
            .note(&format!("connection to {} ended: {e}", peer_of(net)));
    }
}

fn peer_of(net: &TcpStream) -> String {
    net.peer_addr()
        .map_or_else(|_| "?".into(), |a| a.to_string())
}
