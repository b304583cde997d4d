//! What went wrong, and the exit code that says which kind of wrong.

use std::fmt::Display;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `seam verify`: the signature does not verify (exit 1).
    NotVerified,
    /// A bad argument or input file, or a feature not in this build (exit 2).
    Usage,
    /// The Secure Environment refused the request (exit 3).
    Refused,
    /// The Secure Environment could not be reached (exit 4).
    Unreachable,
    /// `seam (d)tls-client|server`: the connection failed (exit 5).
    Connection,
}

#[derive(Debug)]
pub struct Failure {
    pub kind: Kind,
    pub message: String,
    /// The oneM2M status code, when the SE answered (or 4000 for bad input).
    pub status: Option<u16>,
    pub reason: Option<seam::proto::Reason>,
}

impl Failure {
    pub fn usage(message: impl Into<String>) -> Failure {
        Failure {
            kind: Kind::Usage,
            message: message.into(),
            status: None,
            reason: None,
        }
    }

    pub fn not_verified(message: impl Into<String>) -> Failure {
        Failure {
            kind: Kind::NotVerified,
            message: message.into(),
            status: None,
            reason: None,
        }
    }

    /// Say what was being done: `seam sign a/b: <the error>`.
    pub fn context(mut self, what: impl Display) -> Failure {
        self.message = format!("{what}: {}", self.message);
        self
    }

    /// Add a hint after the message.
    pub fn hint(mut self, hint: impl Display) -> Failure {
        self.message = format!("{} ({hint})", self.message);
        self
    }

    pub fn exit_code(&self) -> u8 {
        match self.kind {
            Kind::NotVerified => 1,
            Kind::Usage => 2,
            Kind::Refused => 3,
            Kind::Unreachable => 4,
            Kind::Connection => 5,
        }
    }

    pub fn report(&self, json: bool) {
        if json {
            let value = serde_json::json!({
                "error": {
                    "message": self.message,
                    "exit_code": self.exit_code(),
                    "status": self.status,
                    "reason": self.reason.map(|r| format!("{r:?}")),
                }
            });
            eprintln!("{value}");
        } else {
            eprintln!("seam: error: {}", self.message);
        }
    }
}

impl From<seam::Error> for Failure {
    fn from(e: seam::Error) -> Failure {
        use seam::Error as E;
        let (kind, message) = match &e {
            E::Refused { .. } => (Kind::Refused, format!("refused: {e}")),
            E::InvalidInput(m) => (Kind::Usage, m.clone()),
            _ => (Kind::Unreachable, e.to_string()),
        };
        Failure {
            kind,
            message,
            status: Some(e.status()),
            reason: e.reason(),
        }
    }
}

pub type Outcome<T = ()> = Result<T, Failure>;

/// `.what(...)` on any library result: the error with context.
pub trait Context<T> {
    fn what(self, what: impl Display) -> Outcome<T>;
}

impl<T, E: Into<Failure>> Context<T> for Result<T, E> {
    fn what(self, what: impl Display) -> Outcome<T> {
        self.map_err(|e| e.into().context(what))
    }
}
