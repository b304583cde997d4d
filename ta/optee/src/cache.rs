//! The TA's record cache: seam-core's [`CachingStore`] over [`TeeStore`],
//! sized for this TA, and emptied when the TA has no session left.
//!
//! Bound: [`MAX_ENTRIES`] records (the node record and one per SE: a node
//! holds at most `MAX_SES` SEs, so every record fits) and [`MAX_BYTES`] of
//! them; beyond either, the least recently used record is evicted, and a
//! record larger than [`MAX_BYTES`] is never cached.
//!
//! REE FS tampering while a record is cached: the TA goes on using the copy
//! it verified (or wrote) itself and does not see the changed file. The cache
//! is emptied when the last TA session closes (and at every storage error,
//! and the TA instance dies with the TEE), so a tampered file is reported as
//! `StorageCorrupt` at the first request after the TA has been idle, or
//! after a reboot — never served. Long-lived clients (a CSE holding its
//! session) keep the cache warm; a tool opening one session per command
//! reads storage as before.

use seam_core::CachingStore;
use seam_proto::MAX_SES;

use crate::store::TeeStore;

pub const MAX_ENTRIES: usize = 1 + MAX_SES;
/// A typical SE record is a few hundred bytes to a few KiB (keys, ACLs);
/// a full one (32 data objects of 2 KiB) is not cached.
pub const MAX_BYTES: usize = 32 * 1024;

pub type Records = CachingStore<TeeStore>;

pub fn records() -> Records {
    CachingStore::new(TeeStore, MAX_ENTRIES, MAX_BYTES)
}

/// Open TA sessions, counted so the cache can be emptied when none is left.
/// Entry points are serialized by OP-TEE (single-instance TA).
pub struct Sessions(core::cell::Cell<u32>);

// SAFETY: only touched from entry points, which OP-TEE serializes.
unsafe impl Sync for Sessions {}

impl Sessions {
    pub const fn new() -> Self {
        Sessions(core::cell::Cell::new(0))
    }

    pub fn opened(&self) {
        self.0.set(self.0.get().saturating_add(1));
    }

    /// True when this was the last open session.
    pub fn closed(&self) -> bool {
        let n = self.0.get().saturating_sub(1);
        self.0.set(n);
        n == 0
    }
}
