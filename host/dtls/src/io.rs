//! Thin adapters between the sans-IO [`Connection`] and real sockets: a
//! [`Link`] over UDP (one datagram per `send`) or TCP (a byte stream), and
//! [`drive_handshake`] / [`copy_session`], which pump bytes and deadlines.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use super::connection::Connection;
use super::secrets::HandshakeSecrets;
use super::{Cause, DtlsError, Step};

/// One transport to the peer.
pub trait Link {
    fn send(&mut self, bytes: &[u8]) -> io::Result<()>;
    /// Waits at most `timeout` for input: `Ok(None)` on timeout, `Ok(Some(0))`
    /// when a stream reached its end.
    fn recv(&mut self, buf: &mut [u8], timeout: Duration) -> io::Result<Option<usize>>;
}

/// A UDP socket. A server's link learns its peer from the first datagram
/// and then connects to it, so later datagrams from elsewhere are ignored.
pub struct UdpLink {
    socket: UdpSocket,
    peer: Option<SocketAddr>,
}

impl UdpLink {
    /// A client's link: a fresh socket connected to `peer`.
    pub fn connect(peer: SocketAddr) -> io::Result<UdpLink> {
        let local: SocketAddr = if peer.is_ipv4() {
            "0.0.0.0:0".parse().expect("literal")
        } else {
            "[::]:0".parse().expect("literal")
        };
        let socket = UdpSocket::bind(local)?;
        socket.connect(peer)?;
        Ok(UdpLink {
            socket,
            peer: Some(peer),
        })
    }

    /// A server's link on a bound socket, waiting for its first client.
    pub fn listen(socket: UdpSocket) -> UdpLink {
        UdpLink { socket, peer: None }
    }

    pub fn peer(&self) -> Option<SocketAddr> {
        self.peer
    }
}

fn timeout_kind(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut | io::ErrorKind::Interrupted
    )
}

impl Link for UdpLink {
    fn send(&mut self, bytes: &[u8]) -> io::Result<()> {
        match self.peer {
            Some(_) => self.socket.send(bytes).map(|_| ()),
            None => Ok(()),
        }
    }

    fn recv(&mut self, buf: &mut [u8], timeout: Duration) -> io::Result<Option<usize>> {
        self.socket
            .set_read_timeout(Some(timeout.max(Duration::from_millis(1))))?;
        if self.peer.is_some() {
            match self.socket.recv(buf) {
                Ok(n) => Ok(Some(n)),
                // A connected UDP socket reports an ICMP port unreachable as
                // ECONNREFUSED: the peer is not there (yet); keep waiting.
                Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => Ok(None),
                Err(e) if timeout_kind(&e) => Ok(None),
                Err(e) => Err(e),
            }
        } else {
            match self.socket.recv_from(buf) {
                Ok((n, from)) => {
                    self.socket.connect(from)?;
                    self.peer = Some(from);
                    Ok(Some(n))
                }
                Err(e) if timeout_kind(&e) => Ok(None),
                Err(e) => Err(e),
            }
        }
    }
}

/// A TCP stream.
pub struct TcpLink {
    stream: TcpStream,
}

impl TcpLink {
    pub fn new(stream: TcpStream) -> TcpLink {
        let _ = stream.set_nodelay(true);
        TcpLink { stream }
    }

    pub fn connect(peer: SocketAddr, timeout: Duration) -> io::Result<TcpLink> {
        TcpStream::connect_timeout(&peer, timeout).map(TcpLink::new)
    }
}

impl Link for TcpLink {
    fn send(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.stream.write_all(bytes)
    }

    fn recv(&mut self, buf: &mut [u8], timeout: Duration) -> io::Result<Option<usize>> {
        self.stream
            .set_read_timeout(Some(timeout.max(Duration::from_millis(1))))?;
        match self.stream.read(buf) {
            Ok(n) => Ok(Some(n)),
            Err(e) if timeout_kind(&e) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// Sends everything the connection has queued.
pub fn flush<S: HandshakeSecrets>(
    conn: &mut Connection<S>,
    link: &mut dyn Link,
) -> Result<(), DtlsError> {
    while let Some(out) = conn.poll_output() {
        link.send(&out)
            .map_err(|e| DtlsError::io(Step::Connect, format!("sending: {e}")))?;
    }
    Ok(())
}

/// One round: wait for input or the next deadline (at most until `limit`)
/// and feed the connection. `Ok(false)` when the stream ended.
fn pump<S: HandshakeSecrets>(
    conn: &mut Connection<S>,
    link: &mut dyn Link,
    limit: Instant,
    buf: &mut [u8],
) -> Result<bool, DtlsError> {
    flush(conn, link)?;
    let now = Instant::now();
    let wake = conn.poll_timeout().map_or(limit, |t| t.min(limit));
    let wait = wake.saturating_duration_since(now);
    let got = link
        .recv(buf, wait)
        .map_err(|e| DtlsError::io(Step::Connect, format!("receiving: {e}")))?;
    let now = Instant::now();
    let alive = match got {
        Some(0) => false,
        Some(n) => {
            conn.handle_input(&buf[..n], now)?;
            true
        }
        None => true,
    };
    if conn.poll_timeout().is_some_and(|t| now >= t) {
        conn.handle_timeout(now)?;
    }
    flush(conn, link)?;
    Ok(alive)
}

/// Runs the handshake to completion, or fails within `timeout`.
pub fn drive_handshake<S: HandshakeSecrets>(
    conn: &mut Connection<S>,
    link: &mut dyn Link,
    timeout: Duration,
) -> Result<(), DtlsError> {
    let limit = Instant::now() + timeout;
    let mut buf = vec![0u8; 65536];
    while conn.is_handshaking() {
        if Instant::now() >= limit {
            return Err(DtlsError {
                step: handshake_step(conn),
                cause: Cause::Timeout,
            });
        }
        if !pump(conn, link, limit, &mut buf)? {
            return Err(DtlsError {
                step: handshake_step(conn),
                cause: Cause::Io("the peer closed the connection during the handshake".into()),
            });
        }
    }
    if let Some(e) = conn.error() {
        return Err(e.clone());
    }
    flush(conn, link)
}

fn handshake_step<S: HandshakeSecrets>(conn: &Connection<S>) -> Step {
    conn.error().map_or(Step::ServerHello, |e| e.step)
}

/// After the handshake: copies `input` to the peer and the peer to `output`
/// until the peer closes, or `input` ends (we then send close_notify and
/// wait up to `linger` for the peer's; the peer closing the transport
/// instead of answering also ends this close cleanly).
pub fn copy_session<S: HandshakeSecrets>(
    conn: &mut Connection<S>,
    link: &mut dyn Link,
    input: Box<dyn Read + Send>,
    output: &mut dyn Write,
    linger: Duration,
) -> Result<(), DtlsError> {
    let (tx, rx) = mpsc::channel::<Option<Vec<u8>>>();
    // A reader thread, since stdin cannot be polled portably; it ends with
    // the process if the peer closes first.
    std::thread::spawn(move || {
        let mut input = input;
        let mut buf = vec![0u8; 4096];
        loop {
            match input.read(&mut buf) {
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
    let mut buf = vec![0u8; 65536];
    let mut closing_since: Option<Instant> = None;
    loop {
        // Our input.
        while closing_since.is_none() {
            match rx.try_recv() {
                Ok(Some(data)) => conn.send(&data)?,
                Ok(None) | Err(mpsc::TryRecvError::Disconnected) => {
                    conn.close();
                    closing_since = Some(Instant::now());
                }
                Err(mpsc::TryRecvError::Empty) => break,
            }
        }
        let limit = Instant::now() + Duration::from_millis(20);
        let alive = match pump(conn, link, limit, &mut buf) {
            Ok(alive) => alive,
            // After our close_notify, the peer may drop the connection at
            // once (a reset, or a write into a closed socket): that ends a
            // close we started, cleanly. A protocol error still fails.
            Err(e) if closing_since.is_some() && matches!(e.cause, Cause::Io(_)) => return Ok(()),
            Err(e) => return Err(e),
        };
        while let Some(data) = conn.recv() {
            output
                .write_all(&data)
                .and_then(|_| output.flush())
                .map_err(|e| {
                    DtlsError::io(Step::ApplicationData, format!("writing output: {e}"))
                })?;
        }
        if let Some(e) = conn.error() {
            return Err(e.clone());
        }
        if conn.is_closed() {
            if closing_since.is_none() {
                conn.close();
                flush(conn, link)?;
            }
            return Ok(());
        }
        if !alive {
            // RFC 5246 §7.2.1: the side that sent close_notify need not wait
            // for the answer, and the peer may close without one (GnuTLS's
            // gnutls-cli does). Only a close nobody announced is an error.
            if closing_since.is_some() {
                return Ok(());
            }
            return Err(DtlsError {
                step: Step::Close,
                cause: Cause::Io("the peer closed the connection without close_notify".into()),
            });
        }
        if closing_since.is_some_and(|t| t.elapsed() >= linger) {
            return Ok(());
        }
    }
}
