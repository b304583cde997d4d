//! libseam: the seam Secure Environment API for C (`include/seam.h`).
//!
//! One opaque `seam_handle` per connection to a Secure Environment (the
//! OP-TEE TA or the simulator). Every operation returns a oneM2M response
//! status code (TS-0004): 2000..2999 is success, anything else a failure
//! whose message `seam_last_error` returns. Nothing panics across the
//! boundary: a panic inside the library is caught and reported as 5000.
//!
//! Conventions, the same for every function:
//! - Names (`se`, `key`, `object`) are NUL-terminated UTF-8, 1 to 32 bytes of
//!   `A-Z a-z 0-9 . _ -`; a longer or unterminated name is refused without
//!   reading past byte 33.
//! - Input buffers are a pointer and a length; a length over the protocol
//!   limit is refused (4000) before the pointer is read; NULL is allowed
//!   only with length 0.
//! - Variable-size outputs are a buffer and `size_t *len`: on entry the
//!   buffer's capacity, on return the bytes written, or, if the buffer was
//!   too small (4000), the size needed.
//! - A SUID of 0 means "the key's own SUID" (looked up first).
//! - A handle is not thread-safe: use one per thread, or serialise calls.

#![allow(non_camel_case_types)]

mod args;
mod conn;
mod functions;
mod jose;

pub use conn::*;
pub use functions::*;
pub use jose::*;

use std::cell::RefCell;
use std::ffi::{c_char, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::OnceLock;

use seam_host::proto::Status;
use seam_host::Client;

// ---- status codes (TS-0004 Response Status Codes) --------------------------

pub const SEAM_OK: u16 = 2000;
pub const SEAM_CREATED: u16 = 2001;
pub const SEAM_DELETED: u16 = 2002;
pub const SEAM_UPDATED: u16 = 2004;
pub const SEAM_BAD_REQUEST: u16 = 4000;
pub const SEAM_NOT_FOUND: u16 = 4004;
pub const SEAM_OPERATION_NOT_ALLOWED: u16 = 4005;
pub const SEAM_CONTENTS_UNACCEPTABLE: u16 = 4102;
pub const SEAM_ORIGINATOR_HAS_NO_PRIVILEGE: u16 = 4103;
pub const SEAM_CONFLICT: u16 = 4105;
pub const SEAM_ORIGINATOR_NOT_AUTHENTICATED: u16 = 4106;
pub const SEAM_INTERNAL_SERVER_ERROR: u16 = 5000;
pub const SEAM_NOT_IMPLEMENTED: u16 = 5001;
pub const SEAM_ALREADY_EXISTS: u16 = 5106;

// ---- sizes -----------------------------------------------------------------

/// Longest SE or object name, in bytes (without the NUL).
pub const SEAM_NAME_MAX: usize = 32;
/// Largest message, data object or plaintext.
pub const SEAM_DATA_MAX: usize = 2048;
/// Largest `seam_rand` request.
pub const SEAM_RANDOM_MAX: usize = 1024;
/// Largest AEAD nonce and associated data; AEAD tags are at most 16 bytes.
pub const SEAM_NONCE_MAX: usize = 13;
pub const SEAM_AAD_MAX: usize = 12 * 1024;
pub const SEAM_TAG_MAX: usize = 16;
/// A raw ECDSA P-256 signature, `r || s`.
pub const SEAM_SIGNATURE_LEN: usize = 64;
/// The longest DER encoding of an ECDSA P-256 signature.
pub const SEAM_SIGNATURE_DER_MAX: usize = 72;
/// A SHA-256 digest or HMAC-SHA-256 tag.
pub const SEAM_DIGEST_LEN: usize = 32;
/// An uncompressed SEC 1 P-256 public key (`04 || x || y`).
pub const SEAM_PUBLIC_KEY_LEN: usize = 65;
/// A caller UUID as text (36 characters and the NUL).
pub const SEAM_UUID_STR_LEN: usize = 37;

// ---- algorithms and kinds ----------------------------------------------------

/// ALG_AEAD_AES_128_CCM (16-byte tag, 7..13-byte nonce).
pub const SEAM_AEAD_AES_128_CCM: u32 = 1;
/// ALG_AEAD_AES_128_CCM_8 (8-byte tag).
pub const SEAM_AEAD_AES_128_CCM_8: u32 = 2;
/// ALG_AEAD_AES_128_GCM (16-byte tag, 12-byte nonce).
pub const SEAM_AEAD_AES_128_GCM: u32 = 3;

/// A symmetric secret (PSK, AES or HMAC key).
pub const SEAM_KIND_SECRET: u8 = 1;
/// A P-256 private key.
pub const SEAM_KIND_EC_P256: u8 = 2;
/// Opaque sensitive data (the only kind that can be read back).
pub const SEAM_KIND_DATA: u8 = 3;
/// A P-256 public key imported by the SE admin, to verify with or encrypt to.
pub const SEAM_KIND_PUBLIC_KEY: u8 = 4;

/// Bits of `seam_se_info_t.supported_resource_types`.
pub const SEAM_RT_SENSITIVE_DATA_OBJECT: u32 = 1 << 0;
pub const SEAM_RT_CIPHER: u32 = 1 << 1;
pub const SEAM_RT_SIGNATURE: u32 = 1 << 2;
pub const SEAM_RT_HASH: u32 = 1 << 3;
pub const SEAM_RT_RAND: u32 = 1 << 4;
pub const SEAM_RT_SECURE_CONNECTION: u32 = 1 << 5;
pub const SEAM_RT_IDENTITY: u32 = 1 << 6;

// The C constants are proto's, restated for cbindgen (which cannot follow
// `seam_proto::X` paths): a change on either side fails the build here.
const _: () = {
    use seam_host::proto::{
        ClientId, Digest, PublicKey, Signature, Status, MAX_AAD, MAX_DATA, MAX_NAME, MAX_NONCE,
        MAX_RANDOM, MAX_SIGNATURE_DER, MAX_TAG,
    };
    assert!(SEAM_OK == Status::Ok.code());
    assert!(SEAM_CREATED == Status::Created.code());
    assert!(SEAM_DELETED == Status::Deleted.code());
    assert!(SEAM_UPDATED == Status::Updated.code());
    assert!(SEAM_BAD_REQUEST == Status::BadRequest.code());
    assert!(SEAM_NOT_FOUND == Status::NotFound.code());
    assert!(SEAM_OPERATION_NOT_ALLOWED == Status::OperationNotAllowed.code());
    assert!(SEAM_CONTENTS_UNACCEPTABLE == Status::ContentsUnacceptable.code());
    assert!(SEAM_ORIGINATOR_HAS_NO_PRIVILEGE == Status::OriginatorHasNoPrivilege.code());
    assert!(SEAM_CONFLICT == Status::Conflict.code());
    assert!(SEAM_ORIGINATOR_NOT_AUTHENTICATED == Status::OriginatorNotAuthenticated.code());
    assert!(SEAM_INTERNAL_SERVER_ERROR == Status::InternalServerError.code());
    assert!(SEAM_NOT_IMPLEMENTED == Status::NotImplemented.code());
    assert!(SEAM_ALREADY_EXISTS == Status::AlreadyExists.code());
    assert!(SEAM_NAME_MAX == MAX_NAME);
    assert!(SEAM_DATA_MAX == MAX_DATA);
    assert!(SEAM_RANDOM_MAX == MAX_RANDOM);
    assert!(SEAM_NONCE_MAX == MAX_NONCE);
    assert!(SEAM_AAD_MAX == MAX_AAD);
    assert!(SEAM_TAG_MAX == MAX_TAG);
    assert!(SEAM_SIGNATURE_LEN == Signature::LEN);
    assert!(SEAM_SIGNATURE_DER_MAX == MAX_SIGNATURE_DER);
    assert!(SEAM_DIGEST_LEN == Digest::LEN);
    assert!(SEAM_PUBLIC_KEY_LEN == PublicKey::LEN);
    // The C string form carries a terminating NUL.
    assert!(SEAM_UUID_STR_LEN == ClientId::UUID_LEN + 1);
};

// ---- the handle and its errors ---------------------------------------------

/// A connection to a Secure Environment. Opaque to C.
pub struct SeamHandle {
    client: Client,
    last_error: CString,
}

/// A failure inside the library: a status code and what was wrong.
pub(crate) struct Fail {
    pub status: u16,
    pub message: String,
}

impl Fail {
    pub fn bad(message: impl Into<String>) -> Fail {
        Fail {
            status: SEAM_BAD_REQUEST,
            message: message.into(),
        }
    }
}

impl From<seam_host::Error> for Fail {
    fn from(e: seam_host::Error) -> Fail {
        Fail {
            status: e.status(),
            message: e.to_string(),
        }
    }
}

pub(crate) type Res<T = u16> = Result<T, Fail>;

thread_local! {
    static THREAD_ERROR: RefCell<CString> = RefCell::new(CString::default());
}

fn c_string(message: &str) -> CString {
    CString::new(message.replace('\0', " ")).unwrap_or_default()
}

pub(crate) fn set_thread_error(message: &str) {
    THREAD_ERROR.with(|e| *e.borrow_mut() = c_string(message));
}

const PANIC_MESSAGE: &str = "internal error: a panic inside libseam was caught";

/// Run `f` with a live handle, catching panics, recording any failure on the
/// handle and the thread, and returning the status code.
pub(crate) fn with_handle(h: *mut SeamHandle, f: impl FnOnce(&mut Client) -> Res) -> u16 {
    if h.is_null() {
        set_thread_error("the seam_handle is NULL");
        return SEAM_BAD_REQUEST;
    }
    // SAFETY: the caller passes a handle from seam_open that it has not
    // closed, and does not use it from two threads at once (seam.h says so).
    let result = catch_unwind(AssertUnwindSafe(|| f(unsafe { &mut (*h).client })));
    record(h, result)
}

/// The status of a guarded call, its failure (if any) recorded on the
/// live, non-NULL handle `h` and on the thread.
pub(crate) fn record(h: *mut SeamHandle, result: std::thread::Result<Res>) -> u16 {
    // SAFETY: the callers pass a live handle, checked non-NULL, and hold no
    // other reference into it now.
    let handle = unsafe { &mut *h };
    let (status, message) = match result {
        Ok(Ok(status)) => (status, None),
        Ok(Err(fail)) => (fail.status, Some(fail.message)),
        Err(_) => (SEAM_INTERNAL_SERVER_ERROR, Some(PANIC_MESSAGE.to_string())),
    };
    match message {
        None => handle.last_error = CString::default(),
        Some(m) => {
            handle.last_error = c_string(&m);
            set_thread_error(&m);
        }
    }
    status
}

/// Run `f` that needs no handle, with the same guarantees.
pub(crate) fn without_handle(f: impl FnOnce() -> Res) -> u16 {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(status)) => {
            set_thread_error("");
            status
        }
        Ok(Err(fail)) => {
            set_thread_error(&fail.message);
            fail.status
        }
        Err(_) => {
            set_thread_error(PANIC_MESSAGE);
            SEAM_INTERNAL_SERVER_ERROR
        }
    }
}

/// Open a connection to a Secure Environment.
///
/// `backend` is `"tee"` (the seam TA in OP-TEE; needs a libseam built with
/// TEE support), `"sim"` (the in-process simulator over files in
/// `store_dir`, development only: it protects nothing) or NULL (tee when
/// /dev/teepriv0 exists and this build supports it, else sim). `store_dir`
/// NULL means `$SEAM_STORE`, else `~/.local/share/seam`. On success `*out`
/// receives the handle (close it with `seam_close`); on failure `*out` is
/// NULL and `seam_last_error(NULL)` says why.
///
/// # Safety
/// `backend` and `store_dir` are NULL or NUL-terminated strings; `out` is
/// NULL or points to writable storage for one pointer.
#[no_mangle]
pub unsafe extern "C" fn seam_open(
    backend: *const c_char,
    store_dir: *const c_char,
    out: *mut *mut SeamHandle,
) -> u16 {
    without_handle(|| {
        if out.is_null() {
            return Err(Fail::bad("`out` is NULL"));
        }
        // SAFETY: checked non-NULL; the caller provides writable storage.
        unsafe { *out = std::ptr::null_mut() };
        let backend = unsafe { args::opt_text(backend, 16, "backend") }?;
        let dir = unsafe { args::opt_text(store_dir, 4096, "store_dir") }?;
        let client = open_client(backend.as_deref(), dir.as_deref())?;
        let handle = Box::new(SeamHandle {
            client,
            last_error: CString::default(),
        });
        // SAFETY: as above.
        unsafe { *out = Box::into_raw(handle) };
        Ok(SEAM_OK)
    })
}

fn open_client(backend: Option<&str>, dir: Option<&str>) -> Res<Client> {
    let tee_present = std::path::Path::new("/dev/teepriv0").exists();
    match backend {
        Some("sim") => open_sim(dir),
        Some("tee") => open_tee(),
        None if tee_present && cfg!(feature = "tee") => open_tee(),
        None => open_sim(dir),
        Some(other) => Err(Fail::bad(format!(
            "backend `{other}`: expected \"tee\", \"sim\" or NULL"
        ))),
    }
}

fn open_sim(dir: Option<&str>) -> Res<Client> {
    let dir = dir
        .map(std::path::PathBuf::from)
        .unwrap_or_else(seam_host::transport::simulator::default_store_dir);
    Ok(Client::simulator(dir)?)
}

#[cfg(feature = "tee")]
fn open_tee() -> Res<Client> {
    Ok(Client::new(seam_host::transport::Tee::open()?))
}

#[cfg(not(feature = "tee"))]
fn open_tee() -> Res<Client> {
    Err(Fail {
        status: SEAM_NOT_IMPLEMENTED,
        message: "this libseam was built without TEE support (cargo feature `tee`)".into(),
    })
}

/// Close a handle (NULL is ignored).
///
/// # Safety
/// `h` is NULL or a handle from `seam_open` not closed before.
#[no_mangle]
pub unsafe extern "C" fn seam_close(h: *mut SeamHandle) {
    if !h.is_null() {
        // SAFETY: the handle came from Box::into_raw in seam_open.
        let _ = catch_unwind(AssertUnwindSafe(|| drop(unsafe { Box::from_raw(h) })));
    }
}

/// The message of the last failure: of the last call on `h`, or with `h`
/// NULL, of the last failed call on this thread (e.g. `seam_open`). Empty
/// after a success. Valid until the next call on `h` (or on this thread).
///
/// # Safety
/// `h` is NULL or a live handle from `seam_open`.
#[no_mangle]
pub unsafe extern "C" fn seam_last_error(h: *const SeamHandle) -> *const c_char {
    if h.is_null() {
        THREAD_ERROR.with(|e| e.borrow().as_ptr())
    } else {
        // SAFETY: the caller passes a live handle.
        unsafe { (*h).last_error.as_ptr() }
    }
}

/// The TS-0004 name of a status code ("OK", "ORIGINATOR_HAS_NO_PRIVILEGE",
/// ...), or "UNKNOWN_STATUS". A static string.
#[no_mangle]
pub extern "C" fn seam_status_name(status: u16) -> *const c_char {
    static NAMES: OnceLock<Vec<(u16, CString)>> = OnceLock::new();
    let names = NAMES.get_or_init(|| {
        Status::ALL
            .iter()
            .map(|s| (s.code(), c_string(s.name())))
            .collect()
    });
    names
        .iter()
        .find(|(code, _)| *code == status)
        .map(|(_, name)| name.as_ptr())
        .unwrap_or(c"UNKNOWN_STATUS".as_ptr())
}
