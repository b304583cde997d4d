//! How seam-crypto's errors become the [`Reason`] a caller sees, where one
//! answer fits every use (seam-core maps the rest at the call site).

use seam_proto::Reason;

use crate::{CryptoError, RngError};

impl From<RngError> for Reason {
    fn from(_: RngError) -> Reason {
        Reason::RngFailure
    }
}

/// What a caller-supplied value that the primitive refused was wrong with.
impl From<CryptoError> for Reason {
    fn from(e: CryptoError) -> Reason {
        match e {
            CryptoError::InvalidKey => Reason::InvalidKeyMaterial,
            CryptoError::InvalidPublicKey => Reason::InvalidPublicKey,
            CryptoError::InvalidSignature | CryptoError::InvalidLength => Reason::InvalidParameter,
            CryptoError::AuthenticationFailed => Reason::AuthenticationFailed,
            CryptoError::Rng => Reason::RngFailure,
        }
    }
}
