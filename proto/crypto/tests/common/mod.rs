//! What the seam-crypto test files share: hex decoding of vectors and test
//! RNGs (scripted, deterministic, broken, constant).
#![allow(dead_code)] // each test file uses a different subset

use seam_crypto::{hash, Rng, RngError};

pub fn h(s: &str) -> Vec<u8> {
    let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    hex::decode(s).expect("test vector hex")
}

pub fn arr<const N: usize>(s: &str) -> [u8; N] {
    h(s).try_into().expect("test vector length")
}

/// Returns scripted bytes, then fails.
pub struct Scripted {
    bytes: Vec<u8>,
    at: usize,
}

impl Scripted {
    pub fn new(bytes: Vec<u8>) -> Self {
        Self { bytes, at: 0 }
    }
}

impl Rng for Scripted {
    fn fill(&mut self, out: &mut [u8]) -> Result<(), RngError> {
        let end = self.at + out.len();
        if end > self.bytes.len() {
            return Err(RngError);
        }
        out.copy_from_slice(&self.bytes[self.at..end]);
        self.at = end;
        Ok(())
    }
}

/// Deterministic pseudo-random stream: SHA-256(seed ‖ counter) blocks.
pub struct Counter {
    seed: u64,
    n: u64,
}

impl Counter {
    pub fn new(seed: u64) -> Self {
        Self { seed, n: 0 }
    }
}

impl Rng for Counter {
    fn fill(&mut self, out: &mut [u8]) -> Result<(), RngError> {
        for chunk in out.chunks_mut(32) {
            let block = hash::sha256_parts(&[&self.seed.to_be_bytes(), &self.n.to_be_bytes()]);
            self.n += 1;
            chunk.copy_from_slice(&block[..chunk.len()]);
        }
        Ok(())
    }
}

/// Always fails.
pub struct Broken;

impl Rng for Broken {
    fn fill(&mut self, out: &mut [u8]) -> Result<(), RngError> {
        out.fill(0x55); // garbage that must not be used
        Err(RngError)
    }
}

/// Always returns the same byte.
pub struct Constant(pub u8);

impl Rng for Constant {
    fn fill(&mut self, out: &mut [u8]) -> Result<(), RngError> {
        out.fill(self.0);
        Ok(())
    }
}
