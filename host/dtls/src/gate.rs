//! A DTLS server's front door when one socket serves many clients: the
//! cookie exchange (RFC 6347 §4.2.1) runs here, before any per-client state
//! exists, so a flood of ClientHellos from spoofed addresses costs a
//! HelloVerifyRequest each and nothing else — no connection, no thread, no
//! Secure Environment call. Only a client that echoes a valid cookie (and
//! so receives at its address) is admitted to a [`Connection`] of its own.

use std::time::Instant;

use zeroize::Zeroizing;

use super::connection::{Connection, OsRandom, RandomSource};
use super::handshake::{ClientHello, FragmentHeader, HandshakeType, Reader};
use super::record::{self, ContentType};
use super::secrets::{
    ClientFinish, ClientOpen, HandshakeSecrets, SecretsError, ServerFinish, ServerOpen,
};
use super::{Config, Role, Suite, Variant};

/// What to do with a datagram from an address that has no connection yet.
#[derive(Debug, PartialEq, Eq)]
pub enum Admission {
    /// A ClientHello with a valid cookie: make a connection with
    /// [`CookieGate::admit`] and give it this datagram.
    Admit { message_seq: u16, record_seq: u64 },
    /// Send these datagrams back (a HelloVerifyRequest, or an alert for a
    /// ClientHello of the wrong version) and forget the sender.
    Answer(Vec<Vec<u8>>),
    /// Not an initial ClientHello: drop it silently.
    Ignore,
}

/// The stateless cookie check, with one secret for all clients.
pub struct CookieGate {
    secret: Zeroizing<[u8; 32]>,
    config: Config,
}

impl CookieGate {
    /// `config` is the servers' (only its DTLS settings matter here).
    pub fn new(config: Config) -> CookieGate {
        let mut secret = Zeroizing::new([0u8; 32]);
        OsRandom.fill(&mut secret[..]);
        CookieGate { secret, config }
    }

    /// Classifies the first datagram from an unknown address.
    pub fn check(&self, datagram: &[u8], now: Instant) -> Admission {
        let Some((record_seq, message_seq, hello)) = initial_client_hello(datagram) else {
            return Admission::Ignore;
        };
        let expected = super::server::cookie(&self.secret, &hello);
        let valid = hello
            .cookie
            .as_deref()
            .is_some_and(|c| bool::from(subtle::ConstantTimeEq::ct_eq(c, &expected[..])));
        if valid {
            return Admission::Admit {
                message_seq,
                record_seq,
            };
        }
        // The engine's own answer (HelloVerifyRequest, or an alert), from a
        // connection that lives for this one datagram and has no secrets.
        let mut conn = Connection::new(
            Role::Server,
            self.config.clone(),
            NoSecrets,
            Box::new(OsRandom),
            now,
        );
        conn.admit_after_cookie(*self.secret, message_seq, record_seq);
        let _ = conn.handle_input(datagram, now);
        let mut out = Vec::new();
        while let Some(d) = conn.poll_output() {
            out.push(d);
        }
        Admission::Answer(out)
    }

    /// The connection for a client [`check`](Self::check) admitted; hand it
    /// the same datagram next.
    pub fn admit<S: HandshakeSecrets>(
        &self,
        config: Config,
        secrets: S,
        message_seq: u16,
        record_seq: u64,
        now: Instant,
    ) -> Connection<S> {
        let mut conn = Connection::new(Role::Server, config, secrets, Box::new(OsRandom), now);
        conn.admit_after_cookie(*self.secret, message_seq, record_seq);
        conn
    }
}

/// The record number, `message_seq` and ClientHello of a datagram whose first record is an
/// epoch-0 handshake record holding a whole ClientHello.
fn initial_client_hello(datagram: &[u8]) -> Option<(u64, u16, ClientHello)> {
    let records = record::split_datagram(datagram);
    let (header, fragment) = records.first()?;
    if header.content_type != ContentType::Handshake as u8 || header.epoch != 0 {
        return None;
    }
    let mut r = Reader::new(fragment);
    let (h, body): (FragmentHeader, &[u8]) = FragmentHeader::decode(&mut r).ok()?;
    if h.msg_type != HandshakeType::ClientHello as u8
        || h.fragment_offset != 0
        || h.fragment_length != h.length
    {
        return None;
    }
    let hello = ClientHello::decode(body, true).ok()?;
    Some((header.seq, h.message_seq, hello))
}

/// Secrets for a connection that must never reach them.
struct NoSecrets;

fn refused() -> SecretsError {
    SecretsError::Failed("no secrets before the cookie exchange".into())
}

impl HandshakeSecrets for NoSecrets {
    fn client_open(&mut self, _: Variant, _: &[Suite]) -> Result<ClientOpen, SecretsError> {
        Err(refused())
    }
    fn client_finish(&mut self, _: Suite, _: &[u8]) -> Result<ClientFinish, SecretsError> {
        Err(refused())
    }
    fn server_open(&mut self, _: Variant, _: Suite, _: &[u8]) -> Result<ServerOpen, SecretsError> {
        Err(refused())
    }
    fn server_finish(&mut self, _: Suite, _: &[u8]) -> Result<ServerFinish, SecretsError> {
        Err(refused())
    }
}
