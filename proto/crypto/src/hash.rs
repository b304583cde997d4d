//! SHA-256 (FIPS 180-4), via the `sha2` crate.

use sha2::{Digest, Sha256};

/// SHA-256 of `data`.
pub fn sha256(data: &[u8]) -> [u8; 32] {
    Sha256::digest(data).into()
}

/// SHA-256 of the concatenation of `parts` (without copying them).
pub fn sha256_parts(parts: &[&[u8]]) -> [u8; 32] {
    let mut h = Sha256::new();
    for part in parts {
        h.update(part);
    }
    h.finalize().into()
}

/// A SHA-256 computation that can be handed over and resumed elsewhere: the
/// host hashes a TLS transcript, the TA appends the messages it builds and
/// finishes it (`seam_proto::handshake::Transcript` carries it).
///
/// The state is FIPS 180-4's chaining value after the whole 64-byte blocks
/// hashed so far, plus the bytes of the incomplete block.
#[derive(Clone)]
pub struct Sha256Midstate {
    state: [u32; 8],
    /// Bytes compressed into `state` (a multiple of 64).
    compressed: u64,
    tail: [u8; 64],
    tail_len: usize,
}

/// FIPS 180-4 §5.3.3: the initial hash value of SHA-256.
const SHA256_IV: [u32; 8] = [
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
];

impl Default for Sha256Midstate {
    fn default() -> Self {
        Self::new()
    }
}

impl Sha256Midstate {
    pub fn new() -> Self {
        Sha256Midstate {
            state: SHA256_IV,
            compressed: 0,
            tail: [0; 64],
            tail_len: 0,
        }
    }

    /// Resumes from a state exported by [`Sha256Midstate::export`]: the
    /// state words big-endian, the total length, and the uncompressed tail.
    /// `None` if `length` does not agree with the tail (`length mod 64` must
    /// be the tail's length) or the tail is 64 bytes or more.
    pub fn import(state: &[u8; 32], length: u64, tail: &[u8]) -> Option<Self> {
        if tail.len() >= 64 || length % 64 != tail.len() as u64 {
            return None;
        }
        let mut words = [0u32; 8];
        for (w, chunk) in words.iter_mut().zip(state.chunks_exact(4)) {
            *w = u32::from_be_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
        }
        let mut out = Sha256Midstate {
            state: words,
            compressed: length - tail.len() as u64,
            tail: [0; 64],
            tail_len: tail.len(),
        };
        out.tail[..tail.len()].copy_from_slice(tail);
        Some(out)
    }

    /// The state words (big-endian), the total length, and the tail.
    pub fn export(&self) -> ([u8; 32], u64, &[u8]) {
        let mut state = [0u8; 32];
        for (chunk, w) in state.chunks_exact_mut(4).zip(self.state.iter()) {
            chunk.copy_from_slice(&w.to_be_bytes());
        }
        (
            state,
            self.compressed + self.tail_len as u64,
            &self.tail[..self.tail_len],
        )
    }

    pub fn update(&mut self, mut data: &[u8]) {
        if self.tail_len > 0 {
            let take = (64 - self.tail_len).min(data.len());
            self.tail[self.tail_len..self.tail_len + take].copy_from_slice(&data[..take]);
            self.tail_len += take;
            data = &data[take..];
            if self.tail_len < 64 {
                return;
            }
            let block = self.tail;
            self.compress(&block);
            self.tail_len = 0;
        }
        let mut blocks = data.chunks_exact(64);
        for block in &mut blocks {
            let mut b = [0u8; 64];
            b.copy_from_slice(block);
            self.compress(&b);
        }
        let rest = blocks.remainder();
        self.tail[..rest.len()].copy_from_slice(rest);
        self.tail_len = rest.len();
    }

    fn compress(&mut self, block: &[u8; 64]) {
        sha2::compress256(&mut self.state, &[(*block).into()]);
        self.compressed = self.compressed.wrapping_add(64);
    }

    /// The digest of everything hashed so far (the midstate is unchanged).
    pub fn finish(&self) -> [u8; 32] {
        let mut m = self.clone();
        let bits = (m.compressed + m.tail_len as u64).wrapping_mul(8);
        // Padding: 0x80, zeros to 56 mod 64, the 64-bit big-endian bit length.
        let mut pad = [0u8; 72];
        pad[0] = 0x80;
        let zeros = (55usize.wrapping_sub(m.tail_len)) % 64;
        pad[1 + zeros..9 + zeros].copy_from_slice(&bits.to_be_bytes());
        m.update(&pad[..9 + zeros]);
        let mut out = [0u8; 32];
        for (chunk, w) in out.chunks_exact_mut(4).zip(m.state.iter()) {
            chunk.copy_from_slice(&w.to_be_bytes());
        }
        out
    }
}
