//! The wire: the codec ([`codec`]), code points ([`enums`]) and the
//! handshake messages ([`handshake`]). Nothing here keeps state.

pub mod codec;
pub mod enums;
pub mod handshake;
