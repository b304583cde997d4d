//! Where the wall-clock time for certificate validity comes from. The engine
//! never reads a clock itself: the caller gives a [`TimeProvider`] in the
//! [`Config`](crate::Config) (rustls's shape), [`SystemClock`] in production
//! and a [`FixedTime`] in tests, so a test about an expired certificate does
//! not depend on the day it runs.

use std::fmt;

pub use rustls_pki_types::UnixTime;

/// The current wall-clock time, as the caller sees it.
pub trait TimeProvider: fmt::Debug + Send + Sync {
    /// Now, or `None` when no time is known (certificate checks then fail).
    fn current_time(&self) -> Option<UnixTime>;
}

/// The operating system's clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl TimeProvider for SystemClock {
    fn current_time(&self) -> Option<UnixTime> {
        Some(UnixTime::now())
    }
}

/// A time that never moves (tests, or a device whose clock is set elsewhere).
#[derive(Clone, Copy, Debug)]
pub struct FixedTime(pub UnixTime);

impl FixedTime {
    /// Seconds since the Unix epoch.
    pub fn at_unix(seconds: u64) -> Self {
        FixedTime(UnixTime::since_unix_epoch(std::time::Duration::from_secs(
            seconds,
        )))
    }
}

impl TimeProvider for FixedTime {
    fn current_time(&self) -> Option<UnixTime> {
        Some(self.0)
    }
}
