//! The handshake codec under its earlier path (fuzz targets and tools use
//! `seam_dtls::handshake::…`): everything now lives in [`crate::msgs`].

pub use crate::msgs::codec::{put_u16, put_u24, put_u48, Codec, DecodeError, Reader, Result};
pub use crate::msgs::enums::{
    ext, HandshakeType, CERT_TYPE_RAW_PUBLIC_KEY, CERT_TYPE_X509, CLIENT_CERT_ECDSA_SIGN,
    GROUP_SECP256R1, SCSV_RENEGOTIATION, SIG_ECDSA_SHA256,
};
pub use crate::msgs::handshake::*;
