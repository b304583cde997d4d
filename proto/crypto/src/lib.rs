//! seam-crypto: the cryptography both sides of seam compute — the Secure
//! Environment (seam-core, in the TA) and the host library (credential
//! wrapping, the rustls provider's public steps).
//!
//! Thin, `no_std` wrappers over the RustCrypto crates: nothing here
//! implements a primitive itself. It holds seam's own formats too (the
//! credential wrap and its binding), so that the sender and the TA cannot
//! drift apart. Conventions shared by every submodule:
//!
//! * Nothing panics on any input: every length or value problem is reported
//!   as an `Err(CryptoError::…)` (or `false` for the `verify_*` predicates).
//! * Secret outputs (private scalars, shared secrets, derived keys, opened
//!   plaintexts) are returned inside [`zeroize::Zeroizing`] so they are wiped
//!   when dropped, and no type holding a secret implements `Debug`.
//! * Randomness comes from the platform through the [`Rng`] trait; an RNG
//!   failure is reported as [`CryptoError::Rng`], never as a panic and never
//!   by silently using weak randomness.

#![no_std]
#![forbid(unsafe_code)]
extern crate alloc;

pub mod aead;
pub mod ecdh_es;
pub mod framing;
pub mod hash;
pub mod kdf;
pub mod keywrap;
pub mod kx;
pub mod mac;
pub mod prf;
pub mod sign;
pub mod wrap;

mod reason;

use zeroize::Zeroize;

/// Why a cryptographic operation was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CryptoError {
    /// A private key or symmetric key is malformed (wrong length, or a
    /// scalar outside `1..n`).
    InvalidKey,
    /// A public key is malformed, not on the curve, or the identity.
    InvalidPublicKey,
    /// A signature is malformed.
    InvalidSignature,
    /// An input or output length is not supported (nonce size, message too
    /// long for the CCM length field, HKDF output too long, …).
    InvalidLength,
    /// An authenticated decryption failed: wrong key, nonce, associated data,
    /// or a tampered / truncated ciphertext.
    AuthenticationFailed,
    /// The platform random number generator failed.
    Rng,
}

/// The platform's cryptographically secure random number generator.
///
/// OP-TEE implements it with `TEE_GenerateRandom`; the simulator with the
/// host's CSPRNG (or a seeded generator in tests).
pub trait Rng {
    /// Fills `out` entirely with random bytes, or fails.
    fn fill(&mut self, out: &mut [u8]) -> Result<(), RngError>;
}

/// The platform RNG could not produce random bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RngError;

impl From<RngError> for CryptoError {
    fn from(_: RngError) -> Self {
        CryptoError::Rng
    }
}

/// Fills `out` from `rng`, mapping failure to [`CryptoError::Rng`] and
/// wiping whatever the RNG may have partially written.
pub(crate) fn fill_random<R: Rng + ?Sized>(rng: &mut R, out: &mut [u8]) -> Result<(), CryptoError> {
    match rng.fill(out) {
        Ok(()) => Ok(()),
        Err(RngError) => {
            out.zeroize();
            Err(CryptoError::Rng)
        }
    }
}

/// Adapts a platform [`Rng`] to `rand_core::RngCore + CryptoRng`, for
/// RustCrypto APIs that want one (e.g. `p256::ecdh::EphemeralSecret`).
///
/// `RngCore::fill_bytes` cannot report failure, so on an RNG error the
/// adapter fills the output with zeros and latches a failure flag instead of
/// panicking. **Whoever uses the adapter must call [`RngAdapter::check`]
/// (or [`RngAdapter::failed`]) after the operation and discard its result on
/// failure.** `try_fill_bytes` additionally returns an error.
pub struct RngAdapter<'a, R: Rng + ?Sized> {
    rng: &'a mut R,
    failed: bool,
}

impl<'a, R: Rng + ?Sized> RngAdapter<'a, R> {
    /// Wraps `rng`; the failure flag starts cleared.
    pub fn new(rng: &'a mut R) -> Self {
        Self { rng, failed: false }
    }

    /// Whether any request to the underlying RNG has failed so far.
    pub fn failed(&self) -> bool {
        self.failed
    }

    /// `Err(CryptoError::Rng)` if any request to the underlying RNG failed.
    pub fn check(&self) -> Result<(), CryptoError> {
        if self.failed {
            Err(CryptoError::Rng)
        } else {
            Ok(())
        }
    }
}

impl<R: Rng + ?Sized> rand_core::RngCore for RngAdapter<'_, R> {
    fn next_u32(&mut self) -> u32 {
        let mut b = [0u8; 4];
        self.fill_bytes(&mut b);
        u32::from_le_bytes(b)
    }

    fn next_u64(&mut self) -> u64 {
        let mut b = [0u8; 8];
        self.fill_bytes(&mut b);
        u64::from_le_bytes(b)
    }

    fn fill_bytes(&mut self, dest: &mut [u8]) {
        if fill_random(self.rng, dest).is_err() {
            self.failed = true;
        }
    }

    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core::Error> {
        match fill_random(self.rng, dest) {
            Ok(()) => Ok(()),
            Err(_) => {
                self.failed = true;
                Err(rand_core::Error::from(RNG_ERROR_CODE))
            }
        }
    }
}

impl<R: Rng + ?Sized> rand_core::CryptoRng for RngAdapter<'_, R> {}

/// The custom `rand_core` error code used by [`RngAdapter::try_fill_bytes`].
const RNG_ERROR_CODE: core::num::NonZeroU32 =
    match core::num::NonZeroU32::new(rand_core::Error::CUSTOM_START) {
        Some(c) => c,
        None => core::num::NonZeroU32::MIN,
    };
