//! DTLS flights and their retransmission timer, under their earlier path:
//! they live in the flight module with the rest of what we send.

pub use crate::flight::{Flight, FlightItem};
