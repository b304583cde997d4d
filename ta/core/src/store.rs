//! Where the Secure Environment keeps its records: the platform's job.
//!
//! OP-TEE implements it with persistent objects in TEE_STORAGE_PRIVATE, the
//! simulator with files. Every `put` must be atomic: after a power cut the
//! store holds the old value or the new one, never a mix.

use alloc::string::String;
use alloc::vec::Vec;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StoreError {
    /// The object exists but failed its integrity check.
    Corrupt,
    /// No space left for the object.
    Full,
    /// Any other failure to read or write.
    Failure,
}

/// Named blobs. Names are ASCII, at most 64 bytes, `[A-Za-z0-9._-]`.
pub trait Store {
    /// The object's bytes, or `None` if there is no such object.
    fn get(&mut self, name: &str) -> Result<Option<Vec<u8>>, StoreError>;
    /// Create or atomically replace the object.
    fn put(&mut self, name: &str, data: &[u8]) -> Result<(), StoreError>;
    /// Remove the object; removing an absent object is not an error.
    fn delete(&mut self, name: &str) -> Result<(), StoreError>;
    /// Names of all objects.
    fn list(&mut self) -> Result<Vec<String>, StoreError>;
}

/// A store in memory: for tests and fuzzing.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MemStore {
    pub objects: alloc::collections::BTreeMap<String, Vec<u8>>,
}

impl Store for MemStore {
    fn get(&mut self, name: &str) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.objects.get(name).cloned())
    }

    fn put(&mut self, name: &str, data: &[u8]) -> Result<(), StoreError> {
        self.objects.insert(String::from(name), data.to_vec());
        Ok(())
    }

    fn delete(&mut self, name: &str) -> Result<(), StoreError> {
        self.objects.remove(name);
        Ok(())
    }

    fn list(&mut self) -> Result<Vec<String>, StoreError> {
        Ok(self.objects.keys().cloned().collect())
    }
}
