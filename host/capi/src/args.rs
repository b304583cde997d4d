//! Reading arguments from C: every pointer is checked for NULL and every
//! length against its limit before anything is read through it.

use std::ffi::c_char;

use crate::{Fail, Res};

/// Read a NUL-terminated string of at most `max` bytes, never looking past
/// byte `max` (so an unterminated or overlong string is refused, not
/// followed into unowned memory).
///
/// # Safety
/// `p` is NULL or points to at least `min(strlen(p) + 1, max + 1)` readable bytes.
pub unsafe fn text(p: *const c_char, max: usize, what: &str) -> Res<String> {
    if p.is_null() {
        return Err(Fail::bad(format!("`{what}` is NULL")));
    }
    let mut bytes = Vec::new();
    for i in 0..=max {
        // SAFETY: within the bytes the caller promises are readable.
        let b = unsafe { *p.add(i) } as u8;
        if b == 0 {
            return String::from_utf8(bytes)
                .map_err(|_| Fail::bad(format!("`{what}` is not UTF-8")));
        }
        bytes.push(b);
    }
    Err(Fail::bad(format!(
        "`{what}` is longer than {max} bytes (or not NUL-terminated)"
    )))
}

/// As [`text`], with NULL meaning "not given".
///
/// # Safety
/// As [`text`].
pub unsafe fn opt_text(p: *const c_char, max: usize, what: &str) -> Res<Option<String>> {
    if p.is_null() {
        Ok(None)
    } else {
        unsafe { text(p, max, what) }.map(Some)
    }
}

/// An SE or object name.
///
/// # Safety
/// As [`text`].
pub unsafe fn name(p: *const c_char, what: &str) -> Res<String> {
    let name = unsafe { text(p, crate::SEAM_NAME_MAX, what) }?;
    // The SE's own rule, so a bad name fails here naming what is wrong.
    seam_host::proto::Name::check(&name)
        .map_err(|e| Fail::bad(format!("`{what}` `{name}`: {e}")))?;
    Ok(name)
}

/// An input buffer of `len` bytes, refused if `len > max`.
///
/// # Safety
/// `p` is NULL (with `len` 0) or points to `len` readable bytes.
pub unsafe fn bytes<'a>(p: *const u8, len: usize, max: usize, what: &str) -> Res<&'a [u8]> {
    if len > max {
        return Err(Fail::bad(format!(
            "`{what}` is {len} bytes, the limit is {max}"
        )));
    }
    if len == 0 {
        return Ok(&[]);
    }
    if p.is_null() {
        return Err(Fail::bad(format!("`{what}` is NULL with length {len}")));
    }
    // SAFETY: non-NULL, `len` bytes readable by the caller's promise, and
    // len <= max (small), so within isize::MAX.
    Ok(unsafe { std::slice::from_raw_parts(p, len) })
}

/// A fixed-size input, e.g. a 64-byte signature.
///
/// # Safety
/// `p` is NULL or points to `N` readable bytes.
pub unsafe fn array<const N: usize>(p: *const u8, what: &str) -> Res<[u8; N]> {
    if p.is_null() {
        return Err(Fail::bad(format!("`{what}` is NULL")));
    }
    let mut out = [0u8; N];
    // SAFETY: the caller promises N readable bytes; `out` is ours.
    unsafe { std::ptr::copy_nonoverlapping(p, out.as_mut_ptr(), N) };
    Ok(out)
}

/// A fixed-size output pointer, checked before the operation runs.
pub fn out_ptr<T>(p: *mut T, what: &str) -> Res<*mut T> {
    if p.is_null() {
        Err(Fail::bad(format!("`{what}` is NULL")))
    } else {
        Ok(p)
    }
}

/// Write `data` to a fixed-size output.
///
/// # Safety
/// `p` (checked non-NULL by [`out_ptr`]) points to `data.len()` writable bytes.
pub unsafe fn write_fixed(p: *mut u8, data: &[u8]) {
    // SAFETY: the caller's promise.
    unsafe { std::ptr::copy_nonoverlapping(data.as_ptr(), p, data.len()) };
}

/// A variable-size output: `buf` of capacity `*len`. Checked before the
/// operation runs; see [`VarOut::write`].
pub struct VarOut {
    buf: *mut u8,
    len: *mut usize,
    capacity: usize,
    what: &'static str,
}

impl VarOut {
    /// # Safety
    /// `len` is NULL or points to a readable and writable `size_t`.
    pub unsafe fn new(buf: *mut u8, len: *mut usize, what: &'static str) -> Res<VarOut> {
        if len.is_null() {
            return Err(Fail::bad(format!("the length of `{what}` is NULL")));
        }
        // SAFETY: non-NULL, the caller's promise.
        let capacity = unsafe { *len };
        if buf.is_null() && capacity != 0 {
            return Err(Fail::bad(format!(
                "`{what}` is NULL with capacity {capacity}"
            )));
        }
        Ok(VarOut {
            buf,
            len,
            capacity,
            what,
        })
    }

    /// Copy `data` out and set the length; if it does not fit, set the
    /// length to the size needed and fail with 4000.
    ///
    /// # Safety
    /// `buf` points to `capacity` writable bytes.
    pub unsafe fn write(&self, data: &[u8]) -> Res<()> {
        // SAFETY: `len` checked non-NULL in `new`.
        unsafe { *self.len = data.len() };
        if data.len() > self.capacity {
            return Err(Fail::bad(format!(
                "`{}` is too small: {} bytes needed, {} given",
                self.what,
                data.len(),
                self.capacity
            )));
        }
        if !data.is_empty() {
            // SAFETY: data fits in the caller's buffer.
            unsafe { std::ptr::copy_nonoverlapping(data.as_ptr(), self.buf, data.len()) };
        }
        Ok(())
    }
}

/// Copy a string into a fixed `[c_char; N]` field, NUL-terminated (it fits:
/// the fields are sized for the protocol's longest values).
pub fn fill_text<const N: usize>(field: &mut [c_char; N], text: &str) {
    *field = [0; N];
    for (slot, b) in field.iter_mut().zip(text.bytes().take(N - 1)) {
        *slot = b as c_char;
    }
}
