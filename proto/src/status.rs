//! Response status codes (oneM2M TS-0004 Response Status Codes) and the
//! reasons behind a failure.

use serde::{Deserialize, Serialize};

/// The oneM2M response status codes seam answers with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u16)]
pub enum Status {
    Ok = 2000,
    Created = 2001,
    Deleted = 2002,
    Updated = 2004,
    BadRequest = 4000,
    NotFound = 4004,
    OperationNotAllowed = 4005,
    ContentsUnacceptable = 4102,
    OriginatorHasNoPrivilege = 4103,
    Conflict = 4105,
    OriginatorNotAuthenticated = 4106,
    InternalServerError = 5000,
    NotImplemented = 5001,
    AlreadyExists = 5106,
}

impl Status {
    pub const ALL: [Status; 14] = [
        Status::Ok,
        Status::Created,
        Status::Deleted,
        Status::Updated,
        Status::BadRequest,
        Status::NotFound,
        Status::OperationNotAllowed,
        Status::ContentsUnacceptable,
        Status::OriginatorHasNoPrivilege,
        Status::Conflict,
        Status::OriginatorNotAuthenticated,
        Status::InternalServerError,
        Status::NotImplemented,
        Status::AlreadyExists,
    ];

    pub const fn code(self) -> u16 {
        self as u16
    }

    pub fn from_code(code: u16) -> Option<Status> {
        Status::ALL.iter().copied().find(|s| s.code() == code)
    }

    pub const fn is_success(self) -> bool {
        (self as u16) < 3000
    }

    /// The TS-0004 name.
    pub const fn name(self) -> &'static str {
        match self {
            Status::Ok => "OK",
            Status::Created => "CREATED",
            Status::Deleted => "DELETED",
            Status::Updated => "UPDATED",
            Status::BadRequest => "BAD_REQUEST",
            Status::NotFound => "NOT_FOUND",
            Status::OperationNotAllowed => "OPERATION_NOT_ALLOWED",
            Status::ContentsUnacceptable => "CONTENTS_UNACCEPTABLE",
            Status::OriginatorHasNoPrivilege => "ORIGINATOR_HAS_NO_PRIVILEGE",
            Status::Conflict => "CONFLICT",
            Status::OriginatorNotAuthenticated => "ORIGINATOR_NOT_AUTHENTICATED",
            Status::InternalServerError => "INTERNAL_SERVER_ERROR",
            Status::NotImplemented => "NOT_IMPLEMENTED",
            Status::AlreadyExists => "ALREADY_EXISTS",
        }
    }
}

/// Why a request failed. Each reason has exactly one status.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Reason {
    /// The request did not decode as a `Request`.
    Malformed,
    /// The request is larger than `MAX_MESSAGE`.
    TooLarge,
    /// `version` is not `PROTOCOL_VERSION`.
    UnsupportedVersion,
    /// A name is empty, too long or has characters outside `[A-Za-z0-9._-]`.
    /// A host library's own check reports it (`From<NameError>`); the TA
    /// cannot decode such a name and answers `Malformed`.
    InvalidName,
    /// A SUID is not one of TS-0004's (tens 1..=4, units 0..=5), or not one
    /// the request allows (a `*` grant of more than `CREATE` without a SUID,
    /// a usage-constrained key outside tens digit 2).
    InvalidSuid,
    /// Key material of the wrong length or value (e.g. a scalar out of range).
    InvalidKeyMaterial,
    /// A public key is not a valid P-256 point.
    InvalidPublicKey,
    /// A parameter is out of range (nonce length, random length, secret length…).
    InvalidParameter,
    /// The node has no issuer yet: `InitNode` first.
    NotInitialized,
    /// `InitNode` on a node that already has an issuer.
    AlreadyInitialized,
    /// The command's signature does not verify under the expected key.
    BadSignature,
    /// The command's counter is not above the last accepted one (a replay).
    StaleCounter,
    /// No such SE on this node.
    UnknownSe,
    /// No such object (or none the caller may know of).
    UnknownObject,
    /// An SE or object of that name exists already.
    AlreadyExists,
    /// The caller has no grant for this operation on this object.
    NoPrivilege,
    /// A PUBLIC-login caller has no identity to grant anything to.
    NoIdentity,
    /// The request's SUID is not the key's SUID.
    SuidMismatch,
    /// The operation is not a use the key's SUID allows.
    SuidForbidsOperation,
    /// The object's kind cannot do this (e.g. sign with a secret).
    WrongObjectKind,
    /// A plaintext import into an SE that was not created to allow it.
    PlaintextImportRefused,
    /// A wrapped secret did not open (wrong node, SE, name, kind, SUID or tampered).
    UnwrapFailed,
    /// An AEAD ciphertext failed authentication.
    AuthenticationFailed,
    /// A node, SE or ACL limit would be exceeded.
    LimitReached,
    /// A stored object failed its integrity check.
    StorageCorrupt,
    /// The store could not be read or written.
    StorageFailure,
    /// The random number generator failed.
    RngFailure,
    /// An internal error that should not happen (reported, never a panic).
    Internal,
    /// No such handshake session for this caller (never opened, closed,
    /// wiped, evicted or expired).
    UnknownHandshake,
    /// A handshake step out of order, or a one-shot step used twice; the
    /// session is wiped.
    StepOutOfOrder,
    /// The handshake session outlived its lifetime or step budget; it is wiped.
    HandshakeExpired,
    /// The peer's Finished (or a PSK binder) did not verify; the session is wiped.
    FinishedMismatch,
    /// An exporter label or derivation this session or key may not produce
    /// (a oneM2M label whose output must stay inside, a reserved label, a
    /// credential of the wrong use).
    LabelNotAllowed,
    /// What authorised a handshake session is gone: its SE was retired (or
    /// recreated), its credential deleted, or the caller's grant revoked;
    /// the session is wiped.
    HandshakeRevoked,
    /// The handshake messages of a session operation are malformed, out of
    /// order, or not this session's (another random, suite or key share);
    /// the session is wiped.
    BadTranscript,
    /// The key's `not_after` has passed (or the platform has no time to
    /// check it against).
    KeyExpired,
}

/// What a client of another protocol version is told. Names the version
/// this build speaks, so an old host library says what to upgrade to.
const UNSUPPORTED_VERSION: &str =
    "unsupported protocol version (this Secure Environment speaks version 3)";
const _: () = assert!(crate::PROTOCOL_VERSION == 3, "update UNSUPPORTED_VERSION");

impl Reason {
    /// The status code this reason is reported with.
    pub const fn status(self) -> Status {
        use Reason::*;
        match self {
            Malformed | TooLarge | UnsupportedVersion | InvalidName | InvalidSuid
            | InvalidKeyMaterial | InvalidPublicKey | InvalidParameter => Status::BadRequest,
            NotInitialized | PlaintextImportRefused | WrongObjectKind | LimitReached => {
                Status::OperationNotAllowed
            }
            // TS-0004 §7.3.3: a resource whose name exists is a CONFLICT.
            AlreadyInitialized | AlreadyExists => Status::Conflict,
            // A replayed command authenticates an old request, not this one.
            BadSignature | StaleCounter | NoIdentity => Status::OriginatorNotAuthenticated,
            // A wrapped secret that does not open is content the TA cannot accept.
            UnwrapFailed => Status::ContentsUnacceptable,
            UnknownSe | UnknownObject => Status::NotFound,
            NoPrivilege | SuidMismatch | SuidForbidsOperation => Status::OriginatorHasNoPrivilege,
            AuthenticationFailed => Status::BadRequest,
            StorageCorrupt | StorageFailure | RngFailure | Internal => Status::InternalServerError,
            UnknownHandshake => Status::NotFound,
            StepOutOfOrder | HandshakeExpired => Status::OperationNotAllowed,
            FinishedMismatch => Status::OriginatorNotAuthenticated,
            LabelNotAllowed => Status::OriginatorHasNoPrivilege,
            HandshakeRevoked => Status::OriginatorHasNoPrivilege,
            BadTranscript => Status::BadRequest,
            KeyExpired => Status::OperationNotAllowed,
        }
    }

    pub const fn describe(self) -> &'static str {
        use Reason::*;
        match self {
            Malformed => "request did not decode",
            TooLarge => "request larger than the protocol limit",
            UnsupportedVersion => UNSUPPORTED_VERSION,
            InvalidName => "invalid name (1-32 bytes of A-Z a-z 0-9 . _ -)",
            InvalidSuid => "invalid SUID (10-15, 21-25, 32-35, 40-45, matching the key's kind)",
            InvalidKeyMaterial => "invalid key material",
            InvalidPublicKey => "invalid P-256 public key",
            InvalidParameter => "parameter out of range",
            NotInitialized => "node not initialised (no issuer yet)",
            AlreadyInitialized => "node already initialised",
            BadSignature => "signature does not verify",
            StaleCounter => "command counter not above the last accepted (replay)",
            UnknownSe => "no such SE",
            UnknownObject => "no such object",
            AlreadyExists => "already exists",
            NoPrivilege => "caller has no privilege for this operation",
            NoIdentity => "caller has no identity (public login)",
            SuidMismatch => "SUID does not match the key's SUID",
            SuidForbidsOperation => "the key's SUID or role does not allow this operation",
            WrongObjectKind => "object kind does not support this operation",
            PlaintextImportRefused => "plaintext import not allowed on this SE",
            UnwrapFailed => "wrapped secret failed to open",
            AuthenticationFailed => "ciphertext failed authentication",
            LimitReached => "limit reached",
            StorageCorrupt => "stored object is corrupt",
            StorageFailure => "storage failure",
            RngFailure => "random number generator failure",
            Internal => "internal error",
            UnknownHandshake => "no such handshake session",
            StepOutOfOrder => "handshake step out of order or repeated (session wiped)",
            HandshakeExpired => "handshake session expired (session wiped)",
            FinishedMismatch => "peer Finished or binder does not verify (session wiped)",
            LabelNotAllowed => "exporter label or derivation not allowed here",
            HandshakeRevoked => {
                "the grant, key or SE that authorised this handshake session is gone (session wiped)"
            }
            BadTranscript => {
                "handshake messages malformed or not this session's (session wiped)"
            }
            KeyExpired => "key expired (its not-after time has passed)",
        }
    }
}

impl From<crate::NameError> for Reason {
    fn from(_: crate::NameError) -> Reason {
        Reason::InvalidName
    }
}

impl From<crate::SuidError> for Reason {
    fn from(_: crate::SuidError) -> Reason {
        Reason::InvalidSuid
    }
}

impl From<crate::ParseSuidError> for Reason {
    fn from(_: crate::ParseSuidError) -> Reason {
        Reason::InvalidSuid
    }
}

/// A value that does not decode is `Malformed`; one we cannot encode is our
/// own fault (`Internal`): bounded types always fit postcard's encoder.
impl From<postcard::Error> for Reason {
    fn from(e: postcard::Error) -> Reason {
        use postcard::Error::*;
        match e {
            SerializeBufferFull | SerializeSeqLengthUnknown | SerdeSerCustom | CollectStrError => {
                Reason::Internal
            }
            _ => Reason::Malformed,
        }
    }
}

/// Our bounded reply types are sized for what we put in them: one that
/// overflows is our own fault. (Where a caller's value is what overflows,
/// the core maps it to the caller's reason explicitly.)
impl From<heapless::CapacityError> for Reason {
    fn from(_: heapless::CapacityError) -> Reason {
        Reason::Internal
    }
}
