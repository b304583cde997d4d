//! How requests reach a Secure Environment: the real TA through libteec
//! (`tee` feature) or seam-core in this process (`Simulator`).

#[cfg(feature = "simulator")]
pub mod simulator;
#[cfg(feature = "tee")]
pub mod tee;

#[cfg(feature = "simulator")]
pub use simulator::Simulator;
#[cfg(feature = "tee")]
pub use tee::{AllocFailures, TaStats, Tee};

use crate::Error;

/// Carries one encoded request to the Secure Environment and brings back its
/// encoded response.
pub trait Transport: Send {
    fn call(&mut self, request: &[u8]) -> Result<Vec<u8>, Error>;
    /// A short name for messages ("simulator", "tee").
    fn name(&self) -> &'static str;
}
