//! Helpers shared by the TLS tests, the handshake benchmark and the device
//! benchmark (included with `mod common;` or `#[path]`).
#![allow(dead_code)] // each includer uses a different subset

use std::process::Command;
use std::sync::Arc;

use rustls::pki_types::ServerName;
use rustls::{ClientConfig, ClientConnection, ServerConfig, ServerConnection};

/// Whether OpenSSL's command-line tool runs here; says loudly when it does
/// not, naming what goes untested.
pub fn openssl_available(untested: &str) -> bool {
    let ok = Command::new("openssl")
        .arg("version")
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !ok {
        eprintln!();
        eprintln!("!!!! SKIPPED: `openssl` is not installed: no {untested} was tested !!!!");
        eprintln!();
    }
    ok
}

/// A public key of the TA, for rcgen to issue a certificate to.
pub struct TaPublicKey(pub seam::proto::PublicKey);

impl rcgen::PublicKeyData for TaPublicKey {
    fn der_bytes(&self) -> &[u8] {
        // The subjectPublicKey bits: the uncompressed SEC 1 point.
        &self.0 .0
    }

    fn algorithm(&self) -> &rcgen::SignatureAlgorithm {
        &rcgen::PKCS_ECDSA_P256_SHA256
    }
}

/// Runs one rustls handshake in memory, client against server.
pub fn handshake_in_memory(client: Arc<ClientConfig>, server: Arc<ServerConfig>) {
    let mut c = ClientConnection::new(client, ServerName::try_from("localhost").unwrap()).unwrap();
    let mut s = ServerConnection::new(server).unwrap();
    let mut buf = Vec::new();
    while c.is_handshaking() || s.is_handshaking() {
        buf.clear();
        while c.wants_write() {
            c.write_tls(&mut buf).unwrap();
        }
        let mut rd = &buf[..];
        while !rd.is_empty() {
            s.read_tls(&mut rd).unwrap();
        }
        s.process_new_packets().unwrap();
        buf.clear();
        while s.wants_write() {
            s.write_tls(&mut buf).unwrap();
        }
        let mut rd = &buf[..];
        while !rd.is_empty() {
            c.read_tls(&mut rd).unwrap();
        }
        c.process_new_packets().unwrap();
    }
}
