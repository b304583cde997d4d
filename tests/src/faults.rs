//! Stores that fail on purpose, for the every-point failure test
//! (`tests/tests/every_point.rs`): the Nth store operation (get, put,
//! delete or list) fails once, or the world stops there as on a power cut
//! (it and every later operation fail, and what they would have written is
//! lost), or it happens but reports a failure (as when OP-TEE's RPC to
//! tee-supplicant is cut after the write), or — for the simulator's file
//! store — a put is torn: its temporary file is left half written or whole
//! but never renamed.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use seam_core::{Store, StoreError};

/// What happens at the chosen operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// That one operation fails; the ones after it work.
    FailOnce,
    /// That one operation is carried out but reports a failure; the ones
    /// after it work. (What a write-through cache must not trust.)
    AppliedButFailed,
    /// That operation and every later one fail: a power cut.
    StopTheWorld,
    /// A power cut during the simulator's put: the temporary file holds the
    /// first half of the new value and was never renamed (for other
    /// operations, as `StopTheWorld`). Only for [`FileStore`]s.
    TornTemp,
    /// A power cut after the temporary file was written and synced but
    /// before the rename. Only for [`FileStore`]s.
    UnrenamedTemp,
}

/// Counts operations and fails the one numbered `at` (from 0) as `fault` says.
pub struct FaultyStore<S> {
    pub inner: S,
    /// Operations so far, shared so the test can read it while the store is
    /// inside a `SecureEnvironment`.
    pub ops: Arc<AtomicU64>,
    at: Option<u64>,
    fault: Fault,
    /// Where the simulator keeps its files, for the torn faults.
    dir: Option<PathBuf>,
}

impl<S: Store> FaultyStore<S> {
    /// A store that counts and never fails.
    pub fn counting(inner: S) -> Self {
        FaultyStore {
            inner,
            ops: Arc::new(AtomicU64::new(0)),
            at: None,
            fault: Fault::FailOnce,
            dir: None,
        }
    }

    /// A store whose operation number `at` (from 0) fails as `fault` says.
    pub fn failing(inner: S, at: u64, fault: Fault) -> Self {
        FaultyStore {
            at: Some(at),
            fault,
            ..FaultyStore::counting(inner)
        }
    }

    /// For torn puts: the directory of the simulator's [`FileStore`].
    pub fn with_dir(mut self, dir: &Path) -> Self {
        self.dir = Some(dir.to_path_buf());
        self
    }

    /// Whether the fault has happened.
    pub fn tripped(&self) -> bool {
        self.at
            .is_some_and(|at| self.ops.load(Ordering::SeqCst) > at)
    }

    /// Counts one operation; `Err` if it must fail, `Ok(true)` if it must be
    /// carried out and then fail. `put` is the value a put would write, for
    /// the torn faults.
    fn check(&mut self, put: Option<(&str, &[u8])>) -> Result<bool, StoreError> {
        let n = self.ops.fetch_add(1, Ordering::SeqCst);
        let Some(at) = self.at else {
            return Ok(false);
        };
        if n < at {
            return Ok(false);
        }
        if n > at {
            return match self.fault {
                Fault::FailOnce | Fault::AppliedButFailed => Ok(false),
                _ => Err(StoreError::Failure),
            };
        }
        if self.fault == Fault::AppliedButFailed {
            return Ok(true);
        }
        if let (Some((name, data)), Some(dir)) = (put, &self.dir) {
            // The simulator's put writes `.<name>.tmp`, syncs, renames: leave
            // the temporary file as a power cut in that window would.
            let tmp = dir.join(format!(".{name}.tmp"));
            match self.fault {
                Fault::TornTemp => std::fs::write(&tmp, &data[..data.len() / 2]),
                Fault::UnrenamedTemp => std::fs::write(&tmp, data),
                _ => Ok(()),
            }
            .map_err(|_| StoreError::Failure)?;
        }
        Err(StoreError::Failure)
    }
}

/// `r`, or a failure once it is done if `fail_after`.
fn then_fail<T>(fail_after: bool, r: Result<T, StoreError>) -> Result<T, StoreError> {
    let v = r?;
    if fail_after {
        return Err(StoreError::Failure);
    }
    Ok(v)
}

impl<S: Store> Store for FaultyStore<S> {
    fn get(&mut self, name: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let fail_after = self.check(None)?;
        then_fail(fail_after, self.inner.get(name))
    }

    fn put(&mut self, name: &str, data: &[u8]) -> Result<(), StoreError> {
        let fail_after = self.check(Some((name, data)))?;
        then_fail(fail_after, self.inner.put(name, data))
    }

    fn delete(&mut self, name: &str) -> Result<(), StoreError> {
        let fail_after = self.check(None)?;
        then_fail(fail_after, self.inner.delete(name))
    }

    fn list(&mut self) -> Result<Vec<String>, StoreError> {
        let fail_after = self.check(None)?;
        then_fail(fail_after, self.inner.list())
    }
}
