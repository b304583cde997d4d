//! The server's handshake (RFC 5246 §7.3, RFC 6347 §4.2), one type per
//! state: [`hs`] takes the ClientHello (with the cookie exchange),
//! negotiates and sends our flight; [`tls12`] the client's flight and the
//! Finished exchange.

mod hs;
mod tls12;

pub(crate) use hs::{cookie, start, start_with_cookie_secret};
