//! [`HeapVec`]: a bounded vector whose elements live on the heap.
//!
//! The large fields of requests and replies (data, AAD, transcripts, JOSE
//! headers) used to be `heapless` buffers, inline in the value: a decoded
//! `Request` was 14.5 KB and serde's derive builds it, and each enum level
//! around it, by value on the stack, so decoding one needed several times
//! that (the TA's stack peak was ~118 KB). With these fields on the heap a
//! decoded request is a few hundred bytes to ~1.5 KB, and only what the
//! message really carries is allocated.
//!
//! The bound is checked before anything is allocated, so an oversized
//! length prefix is refused by the decoder (as with `heapless`), and the
//! wire format is the same as `heapless::Vec`'s: a sequence.

use alloc::vec::Vec;
use core::fmt;
use core::marker::PhantomData;
use core::ops::{Deref, DerefMut};

use heapless::CapacityError;
use serde::de::{Error as _, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// heapless' error, so callers' conversions (`?` into `Reason`) stay the
/// same; its constructor is private, this is how to get one.
fn capacity_error() -> CapacityError {
    match heapless::Vec::<u8, 0>::new().extend_from_slice(&[0]) {
        Err(e) => e,
        Ok(()) => unreachable!("a zero-capacity vector takes nothing"),
    }
}

/// Request and reply fields carry key material and plaintext: wiped when
/// dropped so that none of it stays in freed heap. (Growing by `push` can
/// leave an earlier copy behind; the decoder allocates once, from the
/// length prefix.)
impl<T, const N: usize> Drop for HeapVec<T, N> {
    fn drop(&mut self) {
        self.0.clear();
        zeroize::Zeroize::zeroize(self.0.spare_capacity_mut());
    }
}

/// At most `N` elements, on the heap. The API follows `heapless::Vec`
/// (fallible `push`/`extend_from_slice`/`from_slice`, `capacity() == N`).
#[derive(Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct HeapVec<T, const N: usize>(Vec<T>);

impl<T, const N: usize> HeapVec<T, N> {
    pub const fn new() -> Self {
        HeapVec(Vec::new())
    }

    pub fn from_slice(other: &[T]) -> Result<Self, CapacityError>
    where
        T: Clone,
    {
        if other.len() > N {
            return Err(capacity_error());
        }
        Ok(HeapVec(other.to_vec()))
    }

    pub fn extend_from_slice(&mut self, other: &[T]) -> Result<(), CapacityError>
    where
        T: Clone,
    {
        if self.0.len() + other.len() > N {
            return Err(capacity_error());
        }
        self.0.extend_from_slice(other);
        Ok(())
    }

    pub fn push(&mut self, item: T) -> Result<(), T> {
        if self.0.len() >= N {
            return Err(item);
        }
        self.0.push(item);
        Ok(())
    }

    pub fn pop(&mut self) -> Option<T> {
        self.0.pop()
    }

    /// The bound, `N` (not the allocation's size).
    pub const fn capacity(&self) -> usize {
        N
    }

    pub fn is_full(&self) -> bool {
        self.0.len() == N
    }

    pub fn clear(&mut self) {
        self.0.clear()
    }

    pub fn truncate(&mut self, len: usize) {
        self.0.truncate(len)
    }

    pub fn resize(&mut self, new_len: usize, value: T) -> Result<(), CapacityError>
    where
        T: Clone,
    {
        if new_len > N {
            return Err(capacity_error());
        }
        self.0.resize(new_len, value);
        Ok(())
    }

    pub fn as_slice(&self) -> &[T] {
        &self.0
    }

    pub fn as_mut_slice(&mut self) -> &mut [T] {
        &mut self.0
    }

    /// The elements, as an unbounded `Vec` (no copy).
    pub fn into_vec(mut self) -> Vec<T> {
        core::mem::take(&mut self.0)
    }
}

impl<T, const N: usize> Deref for HeapVec<T, N> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        &self.0
    }
}

impl<T, const N: usize> DerefMut for HeapVec<T, N> {
    fn deref_mut(&mut self) -> &mut [T] {
        &mut self.0
    }
}

impl<T, const N: usize> AsRef<[T]> for HeapVec<T, N> {
    fn as_ref(&self) -> &[T] {
        &self.0
    }
}

impl<T: fmt::Debug, const N: usize> fmt::Debug for HeapVec<T, N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        <[T] as fmt::Debug>::fmt(&self.0, f)
    }
}

impl<T: Clone, const N: usize> TryFrom<&[T]> for HeapVec<T, N> {
    type Error = CapacityError;
    fn try_from(s: &[T]) -> Result<Self, CapacityError> {
        HeapVec::from_slice(s)
    }
}

impl<T, const N: usize> TryFrom<Vec<T>> for HeapVec<T, N> {
    type Error = CapacityError;
    fn try_from(v: Vec<T>) -> Result<Self, CapacityError> {
        if v.len() > N {
            return Err(capacity_error());
        }
        Ok(HeapVec(v))
    }
}

impl<T: Clone, const N: usize, const M: usize> TryFrom<heapless::Vec<T, M>> for HeapVec<T, N> {
    type Error = CapacityError;
    fn try_from(v: heapless::Vec<T, M>) -> Result<Self, CapacityError> {
        HeapVec::from_slice(&v)
    }
}

/// Like `heapless::Vec`'s: panics past `N` elements, so only for values
/// known to fit (tests, constants); decoding never goes through it.
impl<T, const N: usize> FromIterator<T> for HeapVec<T, N> {
    fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> Self {
        let mut v = HeapVec::new();
        for x in iter {
            if v.push(x).is_err() {
                panic!("HeapVec::from_iter overflow");
            }
        }
        v
    }
}

impl<T, const N: usize> IntoIterator for HeapVec<T, N> {
    type Item = T;
    type IntoIter = alloc::vec::IntoIter<T>;
    fn into_iter(mut self) -> Self::IntoIter {
        core::mem::take(&mut self.0).into_iter()
    }
}

impl<'a, T, const N: usize> IntoIterator for &'a HeapVec<T, N> {
    type Item = &'a T;
    type IntoIter = core::slice::Iter<'a, T>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl<A: PartialEq<B>, B, const N: usize> PartialEq<[B]> for HeapVec<A, N> {
    fn eq(&self, other: &[B]) -> bool {
        self.0[..] == other[..]
    }
}

impl<A: PartialEq<B>, B, const N: usize> PartialEq<&[B]> for HeapVec<A, N> {
    fn eq(&self, other: &&[B]) -> bool {
        self.0[..] == other[..]
    }
}

impl<A: PartialEq<B>, B, const N: usize, const M: usize> PartialEq<[B; M]> for HeapVec<A, N> {
    fn eq(&self, other: &[B; M]) -> bool {
        self.0[..] == other[..]
    }
}

impl<A: PartialEq<B>, B, const N: usize, const M: usize> PartialEq<&[B; M]> for HeapVec<A, N> {
    fn eq(&self, other: &&[B; M]) -> bool {
        self.0[..] == other[..]
    }
}

impl<const N: usize> fmt::Write for HeapVec<u8, N> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.extend_from_slice(s.as_bytes()).map_err(|_| fmt::Error)
    }
}

impl<T: Serialize, const N: usize> Serialize for HeapVec<T, N> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.iter())
    }
}

impl<'de, T: Deserialize<'de>, const N: usize> Deserialize<'de> for HeapVec<T, N> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Seq<T, const N: usize>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>, const N: usize> Visitor<'de> for Seq<T, N> {
            type Value = HeapVec<T, N>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "a sequence of at most {N} elements")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                // The length a format announces (postcard's prefix) is
                // checked before it decides the allocation.
                let hint = seq.size_hint().unwrap_or(0);
                if hint > N {
                    return Err(A::Error::invalid_length(hint, &self));
                }
                // Fallible: a TA out of heap refuses this request instead of
                // aborting for every caller. Built inside a HeapVec so that
                // a half-decoded field is wiped too.
                let mut v = HeapVec::<T, N>::new();
                v.0.try_reserve_exact(hint)
                    .map_err(|_| A::Error::custom("out of memory"))?;
                while let Some(x) = seq.next_element()? {
                    if v.0.len() == N {
                        return Err(A::Error::invalid_length(N + 1, &self));
                    }
                    v.0.push(x);
                }
                Ok(v)
            }
        }
        d.deserialize_seq(Seq::<T, N>(PhantomData))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_wire_format_as_heapless() {
        let h = heapless::Vec::<u8, 8>::from_slice(&[1, 2, 3]).unwrap();
        let v = HeapVec::<u8, 8>::from_slice(&[1, 2, 3]).unwrap();
        let mut a = [0u8; 16];
        let mut b = [0u8; 16];
        assert_eq!(
            postcard::to_slice(&h, &mut a).unwrap(),
            postcard::to_slice(&v, &mut b).unwrap()
        );
        let back: HeapVec<u8, 8> = postcard::from_bytes(&b[..4]).unwrap();
        assert_eq!(back, v);
    }

    #[test]
    fn bound_checked_on_decode_and_build() {
        // A length prefix of 9 for a bound of 8: refused before allocating.
        let bytes = [9u8, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        assert!(postcard::from_bytes::<HeapVec<u8, 8>>(&bytes).is_err());
        // A huge prefix with no data behind it.
        assert!(postcard::from_bytes::<HeapVec<u8, 8>>(&[0xff, 0xff, 0xff, 0x0f]).is_err());
        assert!(HeapVec::<u8, 2>::from_slice(&[1, 2, 3]).is_err());
        let mut v = HeapVec::<u8, 2>::new();
        assert!(v.push(1).is_ok() && v.push(2).is_ok());
        assert_eq!(v.push(3), Err(3));
        assert!(v.extend_from_slice(&[4]).is_err());
        assert_eq!(v.capacity(), 2);
        assert!(v.is_full());
    }
}
