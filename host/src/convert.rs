//! Bytes into the protocol's bounded types, with errors that say which value
//! was too long.

use seam_proto::HeapVec;

use crate::{Error, Result};

/// A bounded byte vector of the protocol: inline (`heapless`) or on the heap.
pub trait BoundedBytes: Sized {
    const LIMIT: usize;
    fn from_bytes(bytes: &[u8]) -> Option<Self>;
}

impl<const N: usize> BoundedBytes for heapless::Vec<u8, N> {
    const LIMIT: usize = N;
    fn from_bytes(bytes: &[u8]) -> Option<Self> {
        heapless::Vec::from_slice(bytes).ok()
    }
}

impl<const N: usize> BoundedBytes for HeapVec<u8, N> {
    const LIMIT: usize = N;
    fn from_bytes(bytes: &[u8]) -> Option<Self> {
        HeapVec::from_slice(bytes).ok()
    }
}

pub fn bounded<T: BoundedBytes>(bytes: &[u8], what: &str) -> Result<T> {
    T::from_bytes(bytes).ok_or_else(|| {
        Error::InvalidInput(format!(
            "{what} is {} bytes, the limit is {}",
            bytes.len(),
            T::LIMIT
        ))
    })
}

pub fn data(bytes: &[u8]) -> Result<seam_proto::Data> {
    bounded(bytes, "data")
}
