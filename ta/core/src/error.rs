//! How the core's internal errors become the [`Reason`] a caller sees, where
//! one answer fits every use: `?` then says it. Where the same error means
//! different things (a stored key that fails is `StorageCorrupt`, a key we
//! just generated `Internal`), the call site maps it explicitly. The
//! conversions of seam-crypto's errors live in seam-crypto (the orphan rule).

use seam_proto::Reason;

use crate::store::StoreError;

impl From<StoreError> for Reason {
    fn from(e: StoreError) -> Reason {
        match e {
            StoreError::Corrupt => Reason::StorageCorrupt,
            StoreError::Full => Reason::LimitReached,
            StoreError::Failure => Reason::StorageFailure,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::{CryptoError, RngError};

    #[test]
    fn conversions_keep_the_statuses_callers_saw() {
        use seam_proto::Status;
        let cases = [
            (
                Reason::from(StoreError::Corrupt),
                Status::InternalServerError,
            ),
            (Reason::from(StoreError::Full), Status::OperationNotAllowed),
            (
                Reason::from(StoreError::Failure),
                Status::InternalServerError,
            ),
            (Reason::from(RngError), Status::InternalServerError),
            (Reason::from(CryptoError::Rng), Status::InternalServerError),
            (
                Reason::from(CryptoError::InvalidPublicKey),
                Status::BadRequest,
            ),
            (Reason::from(CryptoError::InvalidLength), Status::BadRequest),
            (
                Reason::from(CryptoError::AuthenticationFailed),
                Status::BadRequest,
            ),
        ];
        for (reason, status) in cases {
            assert_eq!(reason.status(), status, "{reason:?}");
        }
    }
}
