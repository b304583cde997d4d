//! One secured byte stream, whichever engine runs it: seam's (D)TLS 1.2
//! engine, or rustls with the SE provider for TLS 1.3. The relays drive
//! both through [`Secure`].

use std::io::{Read, Write};
use std::time::Instant;

use seam::dtls::{Connection, Variant};
use seam_rustls::TaTls;

use std::sync::Arc;

use super::limits::{Gated, Permit, Semaphore};
use super::log::Identity;
use super::tls13::SlotGuard;

/// What a finished handshake negotiated.
pub struct Negotiated {
    pub version: &'static str,
    pub suite: String,
    pub identity: Identity,
}

pub trait Secure: Send {
    /// Bytes (TLS) or one datagram (DTLS) from the network.
    fn feed(&mut self, data: &[u8]) -> Result<(), String>;
    /// What to send to the network: a stream's bytes, or datagrams one by one.
    fn output(&mut self) -> Option<Vec<u8>>;
    fn is_handshaking(&self) -> bool;
    /// DTLS retransmissions: when [`on_timer`](Self::on_timer) is due.
    fn timer(&self) -> Option<Instant> {
        None
    }
    fn on_timer(&mut self) -> Result<(), String> {
        Ok(())
    }
    /// Plaintext that arrived.
    fn plaintext(&mut self, out: &mut Vec<u8>);
    /// The peer ended its side (close_notify).
    fn peer_closed(&self) -> bool;
    fn send(&mut self, data: &[u8]) -> Result<(), String>;
    /// Sends close_notify.
    fn close(&mut self);
    /// After the handshake: what it negotiated; frees its SE resources.
    fn finish(&mut self) -> Negotiated;
}

// ---- seam's engine --------------------------------------------------------------

pub struct Engine {
    pub conn: Connection<Gated>,
    pub variant: Variant,
}

impl Secure for Engine {
    fn feed(&mut self, data: &[u8]) -> Result<(), String> {
        self.conn
            .handle_input(data, Instant::now())
            .map_err(|e| e.to_string())
    }
    fn output(&mut self) -> Option<Vec<u8>> {
        self.conn.poll_output()
    }
    fn is_handshaking(&self) -> bool {
        self.conn.is_handshaking()
    }
    fn timer(&self) -> Option<Instant> {
        self.conn.poll_timeout()
    }
    fn on_timer(&mut self) -> Result<(), String> {
        self.conn
            .handle_timeout(Instant::now())
            .map_err(|e| e.to_string())
    }
    fn plaintext(&mut self, out: &mut Vec<u8>) {
        while let Some(d) = self.conn.recv() {
            out.extend_from_slice(&d);
        }
    }
    fn peer_closed(&self) -> bool {
        self.conn.is_closed()
    }
    fn send(&mut self, data: &[u8]) -> Result<(), String> {
        self.conn.send(data).map_err(|e| e.to_string())
    }
    fn close(&mut self) {
        self.conn.close()
    }
    fn finish(&mut self) -> Negotiated {
        self.conn.secrets_mut().finish();
        let info = self.conn.info();
        let psk = info.suite.is_some_and(|s| s.is_psk());
        Negotiated {
            version: match self.variant {
                Variant::Dtls => "DTLSv1.2",
                Variant::Tls => "TLSv1.2",
            },
            suite: info.suite.map_or("?", |s| s.name()).to_string(),
            identity: Identity::of(
                if psk {
                    info.psk_identity.as_deref()
                } else {
                    None
                },
                &info.peer_certificates,
                info.peer_public_key.as_deref(),
            ),
        }
    }
}

// ---- rustls (TLS 1.3) -------------------------------------------------------------

/// rustls over the SE provider. The provider (and its TA client) is borrowed
/// from a pool for the connection's life; the handshake permit is held from
/// the first TA step to the end of the handshake.
pub struct Rustls {
    pub conn: rustls::Connection,
    pub tls: TaTls,
    pub permit: Option<Permit>,
    pub peer_closed: bool,
    pub failed: bool,
    /// Goes back to the pool with the connection.
    _slot: SlotGuard,
    permits: Arc<Semaphore>,
    deadline: Instant,
}

impl Rustls {
    pub fn new(
        conn: rustls::Connection,
        tls: TaTls,
        slot: SlotGuard,
        permits: Arc<Semaphore>,
        deadline: Instant,
    ) -> Rustls {
        Rustls {
            conn,
            tls,
            permit: None,
            peer_closed: false,
            failed: false,
            _slot: slot,
            permits,
            deadline,
        }
    }
}

impl Secure for Rustls {
    fn feed(&mut self, mut data: &[u8]) -> Result<(), String> {
        if self.conn.is_handshaking() && self.permit.is_none() {
            self.permit = Some(
                self.permits
                    .acquire_until(self.deadline)
                    .ok_or("every SE handshake slot stayed busy")?,
            );
        }
        while !data.is_empty() {
            self.conn.read_tls(&mut data).map_err(|e| e.to_string())?;
            if let Err(e) = self.conn.process_new_packets() {
                self.failed = true;
                let why = match self.tls.last_error() {
                    Some(ta) => format!("{e} (the SE: {ta})"),
                    None => e.to_string(),
                };
                return Err(why);
            }
        }
        Ok(())
    }
    fn output(&mut self) -> Option<Vec<u8>> {
        let mut out = Vec::new();
        while self.conn.wants_write() {
            if self.conn.write_tls(&mut out).is_err() {
                break;
            }
        }
        (!out.is_empty()).then_some(out)
    }
    fn is_handshaking(&self) -> bool {
        self.conn.is_handshaking() && !self.failed
    }
    fn plaintext(&mut self, out: &mut Vec<u8>) {
        let mut buf = [0u8; 16384];
        loop {
            match self.conn.reader().read(&mut buf) {
                Ok(0) => {
                    self.peer_closed = true;
                    return;
                }
                Ok(n) => out.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return,
                Err(_) => {
                    self.peer_closed = true;
                    return;
                }
            }
        }
    }
    fn peer_closed(&self) -> bool {
        self.peer_closed
    }
    fn send(&mut self, data: &[u8]) -> Result<(), String> {
        self.conn
            .writer()
            .write_all(data)
            .map_err(|e| e.to_string())
    }
    fn close(&mut self) {
        self.conn.send_close_notify();
    }
    fn finish(&mut self) -> Negotiated {
        // No key update will need the session: release it and the slot.
        if let Some(session) = self.tls.last_session() {
            self.tls.close(session);
        }
        self.permit = None;
        let certs: Vec<Vec<u8>> = self
            .conn
            .peer_certificates()
            .map(|c| c.iter().map(|c| c.as_ref().to_vec()).collect())
            .unwrap_or_default();
        Negotiated {
            version: match self.conn.protocol_version() {
                Some(rustls::ProtocolVersion::TLSv1_3) => "TLSv1.3",
                Some(rustls::ProtocolVersion::TLSv1_2) => "TLSv1.2",
                _ => "TLS",
            },
            suite: self
                .conn
                .negotiated_cipher_suite()
                .and_then(|s| s.suite().as_str())
                .unwrap_or("?")
                .to_string(),
            identity: Identity::of(None, &certs, None),
        }
    }
}
