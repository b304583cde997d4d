//! DTLS over UDP: one socket for every peer, a dispatcher thread that sorts
//! datagrams by source address and port, and one association (thread,
//! connection, TA client) per source, bounded in number.
//!
//! A server answers a ClientHello from an unknown source statelessly (the
//! engine's `CookieGate`): a flood of ClientHellos from spoofed ports costs
//! one HelloVerifyRequest each, and only a client that receives at its
//! address and echoes the cookie gets an association.

use std::collections::HashMap;
use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use seam::dtls::{Admission, Connection, CookieGate, SeamSecrets, Variant};

use super::limits::Gated;
use super::log::Opened;
use super::secure::{Engine, Secure};
use super::settings::Side;
use super::stream::Shared;
use crate::failure::{Failure, Outcome};

/// Datagrams waiting for one association, at most.
const QUEUE: usize = 64;
const TICK: Duration = Duration::from_millis(200);

enum Event {
    /// From the (D)TLS peer.
    Net(Vec<u8>),
    /// From the local side, in plain.
    Plain(Vec<u8>),
}

type Table = Arc<Mutex<HashMap<SocketAddr, SyncSender<Event>>>>;

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn unspecified(like: SocketAddr) -> SocketAddr {
    if like.is_ipv4() {
        SocketAddr::from(([0, 0, 0, 0], 0))
    } else {
        SocketAddr::from(([0u16; 8], 0))
    }
}

/// A UDP socket connected to `to`, and a thread that turns what it receives
/// into events until `stop`.
fn connected(
    to: SocketAddr,
    wrap: fn(Vec<u8>) -> Event,
    tx: SyncSender<Event>,
    stop: Arc<AtomicBool>,
) -> std::io::Result<Arc<UdpSocket>> {
    let bind = if to.ip().is_loopback() {
        SocketAddr::new(to.ip(), 0)
    } else {
        unspecified(to)
    };
    let socket = Arc::new(UdpSocket::bind(bind)?);
    socket.connect(to)?;
    socket.set_read_timeout(Some(TICK))?;
    let reader = socket.clone();
    std::thread::Builder::new()
        .name(format!("udp {to}"))
        .spawn(move || {
            let mut buf = vec![0u8; 65536];
            while !stop.load(Ordering::SeqCst) {
                match reader.recv(&mut buf) {
                    Ok(n) => {
                        if let Err(TrySendError::Disconnected(_)) =
                            tx.try_send(wrap(buf[..n].to_vec()))
                        {
                            return;
                        }
                    }
                    // Timeouts, and ICMP "port unreachable" from a peer not there yet.
                    Err(_) => continue,
                }
            }
        })?;
    Ok(socket)
}

pub fn serve(shared: Arc<Shared>) -> Outcome {
    let s = shared.settings.clone();
    let socket = Arc::new(UdpSocket::bind(s.listen).map_err(|e| {
        Failure::usage(format!("seam {}: binding UDP {}: {e}", s.command, s.listen))
    })?);
    let _ = socket.set_read_timeout(Some(TICK));
    let bound = socket.local_addr().unwrap_or(s.listen);
    shared.log.listening(bound, "dtls", &s.target_text);
    let gate = Arc::new(CookieGate::new(s.engine_config()));
    let table: Table = Arc::new(Mutex::new(HashMap::new()));
    let mut buf = vec![0u8; 65536];
    while !shared.shutdown.stopping() {
        let (n, from) = match socket.recv_from(&mut buf) {
            Ok(x) => x,
            Err(_) => continue,
        };
        let data = buf[..n].to_vec();
        let event = |d: Vec<u8>| match s.side {
            Side::Server => Event::Net(d),
            Side::Client => Event::Plain(d),
        };
        let known = lock(&table).get(&from).cloned();
        if let Some(tx) = known {
            match tx.try_send(event(data)) {
                Ok(()) | Err(TrySendError::Full(_)) => continue,
                Err(TrySendError::Disconnected(e)) => {
                    // The association ended: this may start a new one.
                    lock(&table).remove(&from);
                    let (Event::Net(d) | Event::Plain(d)) = e;
                    admit_new(&shared, &gate, &socket, &table, from, d);
                }
            }
            continue;
        }
        admit_new(&shared, &gate, &socket, &table, from, data);
    }
    drop(socket);
    shared.shutdown.wait_idle();
    Ok(())
}

/// A datagram from a source with no association: maybe start one.
fn admit_new(
    shared: &Arc<Shared>,
    gate: &Arc<CookieGate>,
    socket: &Arc<UdpSocket>,
    table: &Table,
    from: SocketAddr,
    data: Vec<u8>,
) -> bool {
    let s = &shared.settings;
    let admitted = match s.side {
        Side::Server => match gate.check(&data, Instant::now()) {
            Admission::Ignore => return false,
            Admission::Answer(out) => {
                for d in out {
                    let _ = socket.send_to(&d, from);
                }
                return false;
            }
            Admission::Admit {
                message_seq,
                record_seq,
            } => Some((message_seq, record_seq)),
        },
        Side::Client => None,
    };
    if shared.shutdown.open() >= s.max_connections {
        shared.log.refused(
            from,
            &format!(
                "{} associations open (--max-connections)",
                s.max_connections
            ),
        );
        return false;
    }
    let (tx, rx) = sync_channel(QUEUE);
    lock(table).insert(from, tx.clone());
    let active = shared.shutdown.enter();
    let (shared, gate, socket, table) =
        (shared.clone(), gate.clone(), socket.clone(), table.clone());
    let spawned = std::thread::Builder::new()
        .name(format!("dtls {from}"))
        .spawn(move || {
            let _active = active;
            match admitted {
                Some((m, r)) => {
                    server_association(&shared, &gate, &socket, from, tx, rx, data, m, r)
                }
                None => client_association(&shared, &socket, from, tx, rx, data),
            }
            lock(&table).remove(&from);
        });
    spawned.is_ok()
}

/// Runs the handshake: events from `rx`, datagrams out through `send_net`;
/// plaintext that arrives meanwhile is kept in `early`.
fn handshake(
    secure: &mut Engine,
    rx: &Receiver<Event>,
    send_net: &dyn Fn(&[u8]),
    deadline: Instant,
    early: &mut Vec<Vec<u8>>,
) -> Result<(), String> {
    let out = |secure: &mut Engine| {
        while let Some(d) = secure.output() {
            send_net(&d);
        }
    };
    out(secure);
    while secure.is_handshaking() {
        let now = Instant::now();
        if now >= deadline {
            return Err("the handshake timed out".into());
        }
        let wake = secure.timer().map_or(deadline, |t| t.min(deadline));
        match rx.recv_timeout(wake.saturating_duration_since(now)) {
            Ok(Event::Net(d)) => {
                let r = secure.feed(&d);
                out(secure);
                r?;
            }
            Ok(Event::Plain(d)) => {
                if early.len() < QUEUE {
                    early.push(d);
                }
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => return Err("shut down".into()),
        }
        if secure.timer().is_some_and(|t| Instant::now() >= t) {
            let r = secure.on_timer();
            out(secure);
            r?;
        }
    }
    Ok(())
}

/// After the handshake: datagrams both ways until close_notify, idleness
/// or the end of the drain.
fn relay(
    shared: &Shared,
    secure: &mut Engine,
    rx: &Receiver<Event>,
    send_net: &dyn Fn(&[u8]),
    send_plain: &dyn Fn(&[u8]),
    early: Vec<Vec<u8>>,
) {
    let idle = shared.settings.idle_timeout;
    let mut last = Instant::now();
    // Data that came with the peer's last handshake flight, and ours that
    // waited for the handshake.
    while let Some(p) = secure.conn.recv() {
        send_plain(&p);
    }
    for d in early {
        let _ = secure.send(&d);
    }
    loop {
        while let Some(d) = secure.output() {
            send_net(&d);
        }
        if secure.peer_closed() || last.elapsed() >= idle || shared.shutdown.drained() {
            break;
        }
        match rx.recv_timeout(TICK) {
            Ok(Event::Net(d)) => {
                last = Instant::now();
                if secure.feed(&d).is_err() {
                    break;
                }
                while let Some(p) = secure.conn.recv() {
                    send_plain(&p);
                }
            }
            Ok(Event::Plain(d)) => {
                last = Instant::now();
                if secure.send(&d).is_err() {
                    break;
                }
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => break,
        }
        if secure.timer().is_some_and(|t| Instant::now() >= t) {
            let _ = secure.on_timer();
        }
    }
    if !secure.peer_closed() {
        secure.close();
    }
    while let Some(d) = secure.output() {
        send_net(&d);
    }
}

fn engine(shared: &Shared, deadline: Instant) -> Result<Gated, String> {
    let client = shared.opener.open().map_err(|e| e.message)?;
    Ok(Gated::new(
        SeamSecrets::new(client, shared.settings.ta_credentials()),
        shared.handshakes.clone(),
        deadline,
    ))
}

#[allow(clippy::too_many_arguments)]
fn server_association(
    shared: &Shared,
    gate: &CookieGate,
    socket: &UdpSocket,
    peer: SocketAddr,
    tx: SyncSender<Event>,
    rx: Receiver<Event>,
    first: Vec<u8>,
    message_seq: u16,
    record_seq: u64,
) {
    let s = &shared.settings;
    let deadline = Instant::now() + s.handshake_timeout;
    let secrets = match engine(shared, deadline) {
        Ok(x) => x,
        Err(e) => return shared.log.refused(peer, &e),
    };
    let conn = gate.admit(
        s.engine_config(),
        secrets,
        message_seq,
        record_seq,
        Instant::now(),
    );
    let mut secure = Engine {
        conn,
        variant: Variant::Dtls,
    };
    let send_net = |d: &[u8]| {
        let _ = socket.send_to(d, peer);
    };
    let mut early = Vec::new();
    let first_fed = secure.feed(&first);
    let result =
        first_fed.and_then(|_| handshake(&mut secure, &rx, &send_net, deadline, &mut early));
    if let Err(e) = result {
        while let Some(d) = secure.output() {
            send_net(&d);
        }
        return shared.log.refused(peer, &e);
    }
    let negotiated = secure.finish();
    let stop = Arc::new(AtomicBool::new(false));
    let forward = match connected(s.target, Event::Plain, tx, stop.clone()) {
        Ok(f) => f,
        Err(e) => {
            secure.close();
            while let Some(d) = secure.output() {
                send_net(&d);
            }
            return shared.log.refused(
                peer,
                &format!("forwarding to {} failed: {e}", s.target_text),
            );
        }
    };
    shared.log.connection(&Opened {
        peer,
        version: negotiated.version,
        suite: &negotiated.suite,
        identity: &negotiated.identity,
        local: s.target_text.clone(),
    });
    let send_plain = |d: &[u8]| {
        let _ = forward.send(d);
    };
    relay(shared, &mut secure, &rx, &send_net, &send_plain, early);
    stop.store(true, Ordering::SeqCst);
}

fn client_association(
    shared: &Shared,
    socket: &UdpSocket,
    local: SocketAddr,
    tx: SyncSender<Event>,
    rx: Receiver<Event>,
    first: Vec<u8>,
) {
    let s = &shared.settings;
    let deadline = Instant::now() + s.handshake_timeout;
    let stop = Arc::new(AtomicBool::new(false));
    let net = match connected(s.target, Event::Net, tx, stop.clone()) {
        Ok(n) => n,
        Err(e) => {
            return shared
                .log
                .refused(local, &format!("connecting to {}: {e}", s.target_text))
        }
    };
    let secrets = match engine(shared, deadline) {
        Ok(x) => x,
        Err(e) => {
            stop.store(true, Ordering::SeqCst);
            return shared.log.refused(local, &e);
        }
    };
    let conn = Connection::client(s.engine_config(), secrets, Instant::now());
    let mut secure = Engine {
        conn,
        variant: Variant::Dtls,
    };
    let send_net = |d: &[u8]| {
        let _ = net.send(d);
    };
    let mut early = vec![first];
    if let Err(e) = handshake(&mut secure, &rx, &send_net, deadline, &mut early) {
        stop.store(true, Ordering::SeqCst);
        return shared
            .log
            .refused(local, &format!("handshake with {}: {e}", s.target_text));
    }
    let negotiated = secure.finish();
    shared.log.connection(&Opened {
        peer: s.target,
        version: negotiated.version,
        suite: &negotiated.suite,
        identity: &negotiated.identity,
        local: local.to_string(),
    });
    let send_plain = |d: &[u8]| {
        let _ = socket.send_to(d, local);
    };
    relay(shared, &mut secure, &rx, &send_net, &send_plain, early);
    stop.store(true, Ordering::SeqCst);
}
