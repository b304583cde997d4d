//! seam: the oneM2M Secure Environment API for CSEs.
//!
//! A [`Client`] offers the TS-0016 resources as typed calls over a
//! [`Transport`]: the real OP-TEE TA (`tee` feature) or the in-process
//! [`Simulator`] (development only, security level 0).

pub mod bundle;
pub mod client;
mod convert;
#[cfg(feature = "dtls")]
pub mod dtls;
mod error;
pub mod handshake;
pub mod identity;
pub mod signer;
#[cfg(feature = "rustls")]
pub mod tls;
pub mod transport;

pub use client::{Answer, Client};
pub use error::{Error, Result};
pub use seam_proto as proto;
pub use seam_proto::{AclEntry, AeadAlg, ClientId, KeyRef, ObjectKind, Ops, Status};
pub use signer::{AdminKey, CommandSigner};
pub use transport::{Simulator, Transport};

impl Client {
    /// The simulator over `dir`, calling as this process's user.
    pub fn simulator(dir: impl AsRef<std::path::Path>) -> Result<Client> {
        Ok(Client::new(Simulator::open(dir)?))
    }
}
