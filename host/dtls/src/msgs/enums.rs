//! The code points of the wire: record content types, handshake message
//! types, alert descriptions, extension types, and the few groups,
//! signature schemes and certificate types the four suites use.

use std::fmt;

/// `ContentType` (RFC 5246 §6.2.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum ContentType {
    ChangeCipherSpec = 20,
    Alert = 21,
    Handshake = 22,
    ApplicationData = 23,
}

impl ContentType {
    pub fn from_u8(v: u8) -> Option<Self> {
        match v {
            20 => Some(ContentType::ChangeCipherSpec),
            21 => Some(ContentType::Alert),
            22 => Some(ContentType::Handshake),
            23 => Some(ContentType::ApplicationData),
            _ => None,
        }
    }
}

/// `HandshakeType` (RFC 5246 §7.4, RFC 6347 §4.3.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum HandshakeType {
    HelloRequest = 0,
    ClientHello = 1,
    ServerHello = 2,
    HelloVerifyRequest = 3,
    Certificate = 11,
    ServerKeyExchange = 12,
    CertificateRequest = 13,
    ServerHelloDone = 14,
    CertificateVerify = 15,
    ClientKeyExchange = 16,
    Finished = 20,
}

impl HandshakeType {
    pub fn from_u8(v: u8) -> Option<Self> {
        use HandshakeType::*;
        Some(match v {
            0 => HelloRequest,
            1 => ClientHello,
            2 => ServerHello,
            3 => HelloVerifyRequest,
            11 => Certificate,
            12 => ServerKeyExchange,
            13 => CertificateRequest,
            14 => ServerHelloDone,
            15 => CertificateVerify,
            16 => ClientKeyExchange,
            20 => Finished,
            _ => return None,
        })
    }
}

/// A TLS alert description (RFC 5246 §7.2, RFC 4279 §2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct AlertDescription(pub u8);

impl AlertDescription {
    pub const CLOSE_NOTIFY: Self = Self(0);
    pub const UNEXPECTED_MESSAGE: Self = Self(10);
    pub const BAD_RECORD_MAC: Self = Self(20);
    pub const RECORD_OVERFLOW: Self = Self(22);
    pub const HANDSHAKE_FAILURE: Self = Self(40);
    pub const BAD_CERTIFICATE: Self = Self(42);
    pub const UNSUPPORTED_CERTIFICATE: Self = Self(43);
    pub const CERTIFICATE_EXPIRED: Self = Self(45);
    pub const CERTIFICATE_UNKNOWN: Self = Self(46);
    pub const ILLEGAL_PARAMETER: Self = Self(47);
    pub const UNKNOWN_CA: Self = Self(48);
    pub const DECODE_ERROR: Self = Self(50);
    pub const DECRYPT_ERROR: Self = Self(51);
    pub const PROTOCOL_VERSION: Self = Self(70);
    pub const INSUFFICIENT_SECURITY: Self = Self(71);
    pub const INTERNAL_ERROR: Self = Self(80);
    pub const NO_RENEGOTIATION: Self = Self(100);
    pub const UNSUPPORTED_EXTENSION: Self = Self(110);
    pub const UNRECOGNIZED_NAME: Self = Self(112);
    pub const UNKNOWN_PSK_IDENTITY: Self = Self(115);

    pub fn name(self) -> &'static str {
        match self.0 {
            0 => "close_notify",
            10 => "unexpected_message",
            20 => "bad_record_mac",
            21 => "decryption_failed",
            22 => "record_overflow",
            30 => "decompression_failure",
            40 => "handshake_failure",
            42 => "bad_certificate",
            43 => "unsupported_certificate",
            44 => "certificate_revoked",
            45 => "certificate_expired",
            46 => "certificate_unknown",
            47 => "illegal_parameter",
            48 => "unknown_ca",
            49 => "access_denied",
            50 => "decode_error",
            51 => "decrypt_error",
            70 => "protocol_version",
            71 => "insufficient_security",
            80 => "internal_error",
            90 => "user_canceled",
            100 => "no_renegotiation",
            110 => "unsupported_extension",
            112 => "unrecognized_name",
            115 => "unknown_psk_identity",
            _ => "unknown_alert",
        }
    }
}

impl fmt::Display for AlertDescription {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}({})", self.name(), self.0)
    }
}

/// `ExtensionType` values we send or understand.
pub mod ext {
    pub const SERVER_NAME: u16 = 0;
    pub const SUPPORTED_GROUPS: u16 = 10;
    pub const EC_POINT_FORMATS: u16 = 11;
    pub const SIGNATURE_ALGORITHMS: u16 = 13;
    pub const CLIENT_CERTIFICATE_TYPE: u16 = 19;
    pub const SERVER_CERTIFICATE_TYPE: u16 = 20;
    pub const EXTENDED_MASTER_SECRET: u16 = 23;
    pub const RENEGOTIATION_INFO: u16 = 0xFF01;
}

/// `secp256r1` (RFC 8422).
pub const GROUP_SECP256R1: u16 = 23;
/// `ecdsa_secp256r1_sha256`: hash sha256(4), signature ecdsa(3).
pub const SIG_ECDSA_SHA256: u16 = 0x0403;
/// `TLS_EMPTY_RENEGOTIATION_INFO_SCSV` (RFC 5746).
pub const SCSV_RENEGOTIATION: u16 = 0x00FF;
/// Certificate types (RFC 7250): X.509 and RawPublicKey.
pub const CERT_TYPE_X509: u8 = 0;
pub const CERT_TYPE_RAW_PUBLIC_KEY: u8 = 2;
/// `ClientCertificateType.ecdsa_sign` (RFC 8422).
pub const CLIENT_CERT_ECDSA_SIGN: u8 = 64;
/// `ECCurveType.named_curve` (RFC 8422 §5.4).
pub const CURVE_TYPE_NAMED: u8 = 3;
/// DTLS 1.0's version, which RFC 6347 §4.2.1 asks HelloVerifyRequest to carry.
pub const DTLS10: u16 = 0xFEFF;
