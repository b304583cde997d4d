//! A write-through record cache in front of a [`Store`].
//!
//! On OP-TEE, reading a record from REE FS costs milliseconds (an RPC to
//! tee-supplicant per block, then hashing and decrypting it), while decoding
//! it costs microseconds; every request that names a key reads its SE's
//! record. [`CachingStore`] keeps the bytes of recently used records (as the
//! backing store verified and returned them, or as they were last written) in
//! memory, so a request reads storage only on a miss.
//!
//! Rules:
//! * **Bounded**: at most `max_entries` records and `max_bytes` bytes of
//!   them. A record larger than `max_bytes` is never cached. When a new record
//!   does not fit, the least recently used ones are evicted.
//! * **Write-through**: `put` and `delete` reach the backing store first; the
//!   cache changes only when they succeed.
//! * **Dropped on any storage error**: an error from the backing store (read,
//!   write, delete or list) empties the cache, so after a failed or
//!   half-known write nothing stale is served: the next read goes to storage.
//! * **Listing**: the list of names is cached too, kept up to date by `put`
//!   and `delete`; once it is known, reading a name it lacks answers "absent"
//!   without a storage read.
//! * Cached bytes hold secrets: they are zeroized when evicted or dropped.
//!
//! What this means for tampering with the backing store (REE FS files
//! changed by the normal world): while a record is cached, the platform
//! serves the copy it verified or wrote itself, so a changed file is neither
//! used nor noticed. It is noticed — as `StoreError::Corrupt`, as without the
//! cache — at the record's next read from storage: after it was evicted,
//! after [`CachingStore::clear`] (the TA clears when its last session
//! closes), or after a restart. A `put` of a cached record replaces the
//! tampered file with a good one. The cache must therefore only wrap a store
//! that nothing else writes: the TA's private storage, not the simulator's
//! files, which several processes share.

use alloc::collections::BTreeSet;
use alloc::string::String;
use alloc::vec::Vec;
use zeroize::Zeroizing;

use crate::store::{Store, StoreError};

/// Cache counters (diagnostics; no secret in them).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CacheStats {
    /// Reads answered from memory (a cached record or a known absence).
    pub hits: u64,
    /// Reads that went to the backing store.
    pub misses: u64,
    /// Records cached now, and their bytes.
    pub entries: usize,
    pub bytes: usize,
}

struct Entry {
    name: String,
    data: Zeroizing<Vec<u8>>,
}

/// See the module documentation.
pub struct CachingStore<S: Store> {
    inner: S,
    /// Least recently used first.
    entries: Vec<Entry>,
    bytes: usize,
    /// Every name in the backing store, once listed.
    names: Option<BTreeSet<String>>,
    max_entries: usize,
    max_bytes: usize,
    hits: u64,
    misses: u64,
}

impl<S: Store> CachingStore<S> {
    pub fn new(inner: S, max_entries: usize, max_bytes: usize) -> Self {
        CachingStore {
            inner,
            entries: Vec::new(),
            bytes: 0,
            names: None,
            max_entries,
            max_bytes,
            hits: 0,
            misses: 0,
        }
    }

    /// Forgets every cached record (zeroized) and the listing: the next read
    /// of each goes to the backing store.
    pub fn clear(&mut self) {
        self.entries.clear();
        self.bytes = 0;
        self.names = None;
    }

    pub fn stats(&self) -> CacheStats {
        CacheStats {
            hits: self.hits,
            misses: self.misses,
            entries: self.entries.len(),
            bytes: self.bytes,
        }
    }

    /// The backing store, bypassing the cache (tests and maintenance; call
    /// [`clear`](Self::clear) after writing through it).
    pub fn inner_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    fn position(&self, name: &str) -> Option<usize> {
        self.entries.iter().position(|e| e.name == name)
    }

    fn forget(&mut self, name: &str) {
        if let Some(i) = self.position(name) {
            let e = self.entries.remove(i);
            self.bytes -= e.data.len();
        }
    }

    fn remember(&mut self, name: &str, data: &[u8]) {
        self.forget(name);
        if data.len() > self.max_bytes || self.max_entries == 0 {
            return;
        }
        while self.entries.len() >= self.max_entries || self.bytes + data.len() > self.max_bytes {
            let e = self.entries.remove(0);
            self.bytes -= e.data.len();
        }
        self.bytes += data.len();
        self.entries.push(Entry {
            name: String::from(name),
            data: Zeroizing::new(data.to_vec()),
        });
    }

    /// Passes a backing-store result through, emptying the cache on error.
    fn checked<T>(&mut self, r: Result<T, StoreError>) -> Result<T, StoreError> {
        if r.is_err() {
            self.clear();
        }
        r
    }
}

impl<S: Store> Store for CachingStore<S> {
    fn get(&mut self, name: &str) -> Result<Option<Vec<u8>>, StoreError> {
        if let Some(i) = self.position(name) {
            self.hits += 1;
            // Most recently used last.
            let e = self.entries.remove(i);
            let data = e.data.to_vec();
            self.entries.push(e);
            return Ok(Some(data));
        }
        if self.names.as_ref().is_some_and(|n| !n.contains(name)) {
            self.hits += 1;
            return Ok(None);
        }
        self.misses += 1;
        let r = self.inner.get(name);
        match self.checked(r)? {
            Some(data) => {
                self.remember(name, &data);
                Ok(Some(data))
            }
            None => {
                // Listed but gone: the listing is stale; list again later.
                self.names = None;
                Ok(None)
            }
        }
    }

    fn put(&mut self, name: &str, data: &[u8]) -> Result<(), StoreError> {
        let r = self.inner.put(name, data);
        self.checked(r)?;
        self.remember(name, data);
        if let Some(names) = self.names.as_mut() {
            names.insert(String::from(name));
        }
        Ok(())
    }

    fn delete(&mut self, name: &str) -> Result<(), StoreError> {
        let r = self.inner.delete(name);
        self.checked(r)?;
        self.forget(name);
        if let Some(names) = self.names.as_mut() {
            names.remove(name);
        }
        Ok(())
    }

    fn list(&mut self) -> Result<Vec<String>, StoreError> {
        if let Some(names) = &self.names {
            self.hits += 1;
            return Ok(names.iter().cloned().collect());
        }
        self.misses += 1;
        let r = self.inner.list();
        let names = self.checked(r)?;
        self.names = Some(names.iter().cloned().collect());
        Ok(names)
    }
}
