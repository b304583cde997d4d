//! The one error type of the host library.

use seam_proto::{Reason, Status};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The Secure Environment answered with a failure status.
    #[error("{} {}: {}", .status, status_name(*.status), .reason.describe())]
    Refused { status: u16, reason: Reason },
    /// The seam TA is not installed on this device (`/lib/optee_armtz/<uuid>.ta`).
    #[error(
        "the seam TA is not installed (TEEC_ERROR_ITEM_NOT_FOUND opening {})",
        seam_proto::TA_UUID
    )]
    TaNotInstalled,
    /// The TA died twice in a row (after one reopen and retry).
    #[error("the seam TA crashed (TEEC_ERROR_TARGET_DEAD), also after reopening the session")]
    TaCrashed,
    /// OP-TEE stayed busy through every retry.
    #[error("OP-TEE is busy (no free thread) after retrying")]
    Busy,
    /// Any other failure to reach the Secure Environment.
    #[error("transport: {0}")]
    Transport(String),
    /// The response did not decode, or did not answer the request.
    #[error("protocol: {0}")]
    Protocol(String),
    /// A value given to the library is not acceptable (named in the message).
    #[error("invalid input: {0}")]
    InvalidInput(String),
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
}

fn status_name(code: u16) -> &'static str {
    Status::from_code(code)
        .map(Status::name)
        .unwrap_or("UNKNOWN_STATUS")
}

impl Error {
    /// The oneM2M response status code for this error (5000 for local failures).
    pub fn status(&self) -> u16 {
        match self {
            Error::Refused { status, .. } => *status,
            Error::InvalidInput(_) => Status::BadRequest.code(),
            _ => Status::InternalServerError.code(),
        }
    }

    /// The reason the Secure Environment gave, if it answered.
    pub fn reason(&self) -> Option<Reason> {
        match self {
            Error::Refused { reason, .. } => Some(*reason),
            _ => None,
        }
    }

    #[cfg(any(feature = "simulator", feature = "tee"))]
    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io {
            context: context.into(),
            source,
        }
    }
}

pub type Result<T> = std::result::Result<T, Error>;
