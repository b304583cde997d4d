//! The operating system's random generator behind seam's one RNG trait
//! (`seam_crypto::Rng`), for what the host draws itself: wrapping a
//! credential for import, the simulator's TA-side randomness.

use seam_crypto::{Rng, RngError};

/// The operating system's random number generator (`getrandom`).
#[derive(Clone, Copy, Debug, Default)]
pub struct OsRng;

impl Rng for OsRng {
    fn fill(&mut self, out: &mut [u8]) -> Result<(), RngError> {
        getrandom::getrandom(out).map_err(|_| RngError)
    }
}
