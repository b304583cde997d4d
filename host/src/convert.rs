//! Bytes into the protocol's bounded types, with errors that say which value
//! was too long.

use crate::{Error, Result};

pub fn bounded<const N: usize>(bytes: &[u8], what: &str) -> Result<heapless::Vec<u8, N>> {
    heapless::Vec::from_slice(bytes).map_err(|_| {
        Error::InvalidInput(format!("{what} is {} bytes, the limit is {N}", bytes.len()))
    })
}

pub fn data(bytes: &[u8]) -> Result<seam_proto::Data> {
    bounded(bytes, "data")
}
