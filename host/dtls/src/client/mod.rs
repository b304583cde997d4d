//! The client's handshake (RFC 5246 §7.3, RFC 6347 §4.2), one type per
//! state: [`hs`] sends the ClientHello (again with the cookie after a
//! HelloVerifyRequest) and takes the ServerHello; [`tls12`] the rest of the
//! server's flight, our key exchange flight, and the server's Finished.

mod hs;
mod tls12;

pub(crate) use hs::start;
