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
#[cfg(feature = "jose")]
pub mod jose;
mod rng;
pub mod signer;
pub mod transport;

pub use client::{Answer, Client};
pub use error::{Error, Result};
pub use rng::OsRng;
pub use seam_proto as proto;
pub use seam_proto::{
    AclEntry, AeadAlg, ClientId, GrantTarget, KeyRef, Name, ObjectKind, Ops, Status, Suid,
};
pub use signer::{AdminKey, CommandSigner};
#[cfg(feature = "simulator")]
pub use transport::Simulator;
pub use transport::Transport;

#[cfg(feature = "simulator")]
impl Client {
    /// The simulator over `dir`, calling as this process's user.
    pub fn simulator(dir: impl AsRef<std::path::Path>) -> Result<Client> {
        Ok(Client::new(Simulator::open(dir)?))
    }
}
