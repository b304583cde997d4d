//! The deterministic connections the `dtls_record` fuzz target drives, and
//! the input format it reads, shared with the engine test that writes its
//! seed corpus (whole real handshakes, so that the fuzzer starts from deep
//! states). The handshake secrets are the TA's, on an in-memory node
//! ([`MemoryTa`]) provisioned once and copied for every input.
//!
//! Input: one mode byte (bit 0: TLS, bit 1: server, bit 2: cookie
//! exchange), then pieces `u16 length ‖ bytes`, each one datagram (DTLS) or
//! stream chunk (TLS) from the peer; a zero length advances the clock by two
//! seconds and fires the timers.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use seam::dtls::{cert, Config, Connection, OwnCertificate, PeerTrust, Role, Suite, Variant};
use seam::dtls::{SeamSecrets, TaCredentials};
use seam::Client;

use crate::memory_ta::{self, Credentials, MemoryTa};
use crate::testing::Seeded;

pub const PSK: [u8; 16] = [7; 16];
pub const IDENTITY: &[u8] = b"id";
/// The fuzzed side's certificate key (any valid scalar).
pub const SIGNING_KEY: [u8; 32] = [1; 32];

/// The public key of [`SIGNING_KEY`], 65-byte SEC 1.
pub fn signing_public_key() -> [u8; 65] {
    seam_crypto::sign::public_key(&SIGNING_KEY).unwrap_or([4; 65])
}

pub fn variant(mode: u8) -> Variant {
    if mode & 1 == 0 {
        Variant::Dtls
    } else {
        Variant::Tls
    }
}

pub fn role(mode: u8) -> Role {
    if mode & 2 == 0 {
        Role::Client
    } else {
        Role::Server
    }
}

/// The configuration of both the fuzzed side and, in seeds, its peer.
pub fn config(mode: u8) -> Config {
    let mut config = Config::new(variant(mode), Suite::ALL.to_vec());
    config.psk_identity = Some(IDENTITY.to_vec());
    config.cookie_exchange = mode & 4 != 0;
    // The fuzzer explores the record layer and handshake states, not
    // authentication: a fuzzed client accepts whatever the seeds' server sent.
    config.peer_trust = PeerTrust::UnauthenticatedForTesting;
    if role(mode) == Role::Server {
        config.certificate =
            OwnCertificate::RawPublicKey(cert::spki_for(&signing_public_key()).unwrap_or_default());
    }
    config
}

/// The fuzzed side's credentials in the TA: the PSK (as client, and for
/// [`IDENTITY`] as server) and the signing key.
pub fn credentials() -> TaCredentials {
    memory_ta::ta_credentials(Some("psk"), &[(IDENTITY, "psk")], Some("key"))
}

/// The in-memory TA holding [`PSK`] and [`SIGNING_KEY`], provisioned once.
pub fn ta() -> &'static MemoryTa {
    static TA: OnceLock<MemoryTa> = OnceLock::new();
    TA.get_or_init(|| {
        let credentials = Credentials {
            psks: vec![("psk".into(), PSK.to_vec())],
            signing_keys: vec![("key".into(), SIGNING_KEY)],
        };
        MemoryTa::new(&credentials, 0)
    })
}

/// The fuzzed connection for `mode`, at `t0`, over a fresh copy of [`ta`].
pub fn connection(mode: u8, config: Config, t0: Instant) -> Connection<SeamSecrets<Client>> {
    let secrets = SeamSecrets::new(ta().fork(1).client(), credentials());
    Connection::new(role(mode), config, secrets, Box::new(Seeded::new(2)), t0)
}

/// Runs one fuzz input; returns the connection for inspection.
pub fn run(data: &[u8]) -> Option<Connection<SeamSecrets<Client>>> {
    let (&mode, mut rest) = data.split_first()?;
    let t0 = Instant::now();
    let mut conn = connection(mode, config(mode), t0);
    let mut now = t0;
    while rest.len() >= 2 {
        let len = u16::from_be_bytes([rest[0], rest[1]]) as usize;
        let tail = &rest[2..];
        let n = len.min(tail.len());
        let (piece, next) = tail.split_at(n);
        rest = next;
        if len == 0 {
            now += Duration::from_secs(2);
            let _ = conn.handle_timeout(now);
        } else {
            let _ = conn.handle_input(piece, now);
        }
        while conn.poll_output().is_some() {}
        while conn.recv().is_some() {}
    }
    Some(conn)
}

/// Appends one piece to a fuzz input.
pub fn push_piece(input: &mut Vec<u8>, piece: &[u8]) {
    input.extend_from_slice(&(piece.len() as u16).to_be_bytes());
    input.extend_from_slice(piece);
}
