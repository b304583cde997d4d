//! seam-ta: the oneM2M Secure Environment as an OP-TEE trusted application.
//!
//! Thin by design: the OP-TEE entry points, the caller's identity from the
//! session login, memref copying, and the platform seam-core needs
//! ([`store::TeeStore`] over persistent objects in TEE_STORAGE_PRIVATE,
//! behind the record cache of [`cache`], [`TeeRng`] over
//! TEE_GenerateRandom, and [`TeeClock`], the REE date advanced by
//! TEE_GetSystemTime, for handshake sessions' and keys' lifetimes). All
//! policy lives in seam-core.
//!
//! Handshake sessions belong to a caller (a client UUID), not to a TEE
//! session: the TA counts each caller's open TEE sessions and, when the
//! last one closes (the process exited or closed its context), wipes that
//! caller's handshake sessions (`SecureEnvironment::close_handshakes`).
//!
//! Commands (the session must have been opened with TEEC_LOGIN_USER,
//! TEEC_LOGIN_GROUP or TEEC_LOGIN_PUBLIC):
//! * [`CMD_PROCESS`] (0): memref input = encoded request, memref output =
//!   encoded response. If the output buffer is too small the TA returns
//!   TEE_ERROR_SHORT_BUFFER with the needed size and keeps the response, so a
//!   retry with the same request gets it without running the request twice.
//! * [`CMD_STATS`] (1): memref output = 5 little-endian u32: heap bytes in
//!   use, heap high-water mark, heap size, stack high-water mark, stack
//!   size; and, if the buffer has room for a sixth, the handshake sessions
//!   held. Diagnostics only: no secret in it.
//! * [`CMD_NOOP`] (2): no parameters, does nothing (the floor `cargo optee
//!   bench` measures requests against).
//!
//! Memory (TaConfig in build.rs): 64 KiB stack, 128 KiB heap, sized from
//! the high-water marks CMD_STATS reported after the whole e2e suite in the
//! emulated device (stack 27.6 KB, heap 43 KB); `cargo optee test` prints
//! them at its end. The numbers and the reasoning are in build.rs.
#![no_std]
#![no_main]

extern crate alloc;

mod cache;
mod size;
mod stack;
mod store;

use alloc::vec::Vec;
use core::cell::UnsafeCell;

use optee_utee::prelude::*;
use optee_utee::{raw, Error, ErrorKind, Result};
use seam_core::{Caller, Clock, Platform, Rng, RngError, SecureEnvironment};
use seam_proto::{ClientId, MAX_MESSAGE};

/// The generated TA header: UUID, flags, stack and heap sizes, ta_head.
#[allow(non_upper_case_globals, dead_code, clippy::all)]
mod ta_header {
    include!(concat!(env!("OUT_DIR"), "/user_ta_header.rs"));
}

pub const CMD_PROCESS: u32 = 0;
pub const CMD_STATS: u32 = 1;
/// Does nothing: the cost of a bare invocation, for `cargo optee bench`.
pub const CMD_NOOP: u32 = 2;

/// sha2 (via cpufeatures) asks glibc's `getauxval` for the CPU's SHA
/// extensions; linking glibc would add a DT_NEEDED OP-TEE refuses. Returning
/// 0 selects the portable implementation.
#[no_mangle]
pub extern "C" fn getauxval(_type: core::ffi::c_ulong) -> core::ffi::c_ulong {
    0
}

/// OP-TEE's CSPRNG through its system call (see [`size`] for why not
/// TEE_GenerateRandom); a failure is an `RngFailure` response, not a panic.
pub struct TeeRng;

impl Rng for TeeRng {
    fn fill(&mut self, out: &mut [u8]) -> core::result::Result<(), RngError> {
        if out.is_empty() {
            return Ok(());
        }
        // SAFETY: `out` is a valid writable buffer of `out.len()` bytes.
        let res =
            unsafe { size::_utee_cryp_random_number_generate(out.as_mut_ptr().cast(), out.len()) };
        if res == raw::TEE_SUCCESS {
            Ok(())
        } else {
            Err(RngError)
        }
    }
}

/// The platform clock (one for handshake sessions and key lifetimes): the
/// normal world's date (TEE_GetREETime, the only date OP-TEE offers a TA
/// without a trusted time source) read once when the TA instance starts,
/// advanced by TEE_GetSystemTime (the secure counter, monotonic). So the
/// normal world cannot move the time of a running TA, and handshake
/// sessions never see it go back; it could give a wrong date at the start,
/// so a key lifetime bounds honest use, not an attacker holding the normal
/// world (docs/threat-model.md).
pub struct TeeClock {
    /// TEE_GetSystemTime at the start, ms.
    start_ms: u64,
    /// The REE date at the start, ms since the Unix epoch; None if the
    /// normal world gave none (then keys with a lifetime are refused).
    date_ms: Option<u64>,
}

const UTEE_TIME_CAT_SYSTEM: core::ffi::c_ulong = 0;
const UTEE_TIME_CAT_REE: core::ffi::c_ulong = 2;

extern "C" {
    /// libutee's system call stub: unlike TEE_GetREETime it returns an
    /// error instead of panicking the TA.
    fn _utee_get_time(cat: core::ffi::c_ulong, time: *mut raw::TEE_Time) -> raw::TEE_Result;
}

fn read_time(cat: core::ffi::c_ulong) -> Option<u64> {
    let mut t = raw::TEE_Time {
        seconds: 0,
        millis: 0,
    };
    // SAFETY: `t` is a valid out-pointer for one TEE_Time.
    let res = unsafe { _utee_get_time(cat, &mut t) };
    (res == raw::TEE_SUCCESS).then(|| u64::from(t.seconds) * 1000 + u64::from(t.millis))
}

impl TeeClock {
    fn new() -> Self {
        TeeClock {
            start_ms: read_time(UTEE_TIME_CAT_SYSTEM).unwrap_or(0),
            // 0 is a normal world that never set its clock.
            date_ms: read_time(UTEE_TIME_CAT_REE).filter(|&ms| ms >= 1000),
        }
    }
}

impl Clock for TeeClock {
    fn now_ms(&self) -> u64 {
        let elapsed = read_time(UTEE_TIME_CAT_SYSTEM)
            .unwrap_or(self.start_ms)
            .saturating_sub(self.start_ms);
        self.date_ms.unwrap_or(0).saturating_add(elapsed)
    }

    fn knows_date(&self) -> bool {
        self.date_ms.is_some()
    }
}

type Se = SecureEnvironment<cache::Records, TeeRng>;

/// The TA's one Secure Environment. OP-TEE never enters a single-instance TA
/// (without TA_FLAG_CONCURRENT) from two threads at once, so plain interior
/// mutability is enough.
struct Global(UnsafeCell<Option<Se>>);
// SAFETY: see above: entry points are serialized by OP-TEE.
unsafe impl Sync for Global {}
static SE: Global = Global(UnsafeCell::new(None));
static SESSIONS: cache::Sessions = cache::Sessions::new();

fn se() -> &'static mut Se {
    // SAFETY: entry points are serialized, and no entry point keeps this
    // reference beyond its own return.
    let slot = unsafe { &mut *SE.0.get() };
    slot.get_or_insert_with(|| {
        let mut se =
            SecureEnvironment::new(cache::records(), TeeRng, Platform { security_level: 2 });
        se.set_clock(TeeClock::new());
        se
    })
}

/// Open TEE sessions per caller (serialized like every entry point).
struct OpenSessions(UnsafeCell<Vec<(Caller, u32)>>);
// SAFETY: entry points are serialized by OP-TEE.
unsafe impl Sync for OpenSessions {}
static OPEN: OpenSessions = OpenSessions(UnsafeCell::new(Vec::new()));

fn open_sessions() -> &'static mut Vec<(Caller, u32)> {
    // SAFETY: entry points are serialized, and no entry point keeps this
    // reference beyond its own return.
    unsafe { &mut *OPEN.0.get() }
}

/// Per-session state.
#[derive(Default)]
pub struct Session {
    caller: Option<Caller>,
    /// A response that did not fit the caller's buffer, with its request.
    pending: Option<(Vec<u8>, Vec<u8>)>,
}

#[ta_create]
fn create() -> Result<()> {
    let _ = se();
    Ok(())
}

#[ta_open_session]
fn open_session(_params: &mut ParametersAny, session: &mut Session) -> Result<()> {
    let caller = client_identity()?;
    let open = open_sessions();
    match open.iter_mut().find(|(c, _)| *c == caller) {
        Some((_, n)) => *n = n.saturating_add(1),
        None => open.push((caller, 1)),
    }
    session.caller = Some(caller);
    SESSIONS.opened();
    Ok(())
}

#[ta_close_session]
fn close_session(session: &mut Session) {
    if let Some((request, response)) = session.pending.take() {
        seam_core::wipe::wipe(request);
        seam_core::wipe::wipe(response);
    }
    if let Some(caller) = session.caller.take() {
        let open = open_sessions();
        if let Some(i) = open.iter().position(|(c, _)| *c == caller) {
            open[i].1 = open[i].1.saturating_sub(1);
            if open[i].1 == 0 {
                open.swap_remove(i);
                // The caller's last TEE session: its handshakes end with it.
                se().close_handshakes(&caller);
            }
        }
    }
    if SESSIONS.closed() {
        // Idle: the next request re-reads (and re-verifies) every record.
        se().store_mut().clear();
    }
}

#[ta_destroy]
fn destroy() {}

#[ta_invoke_command]
fn invoke_command(session: &mut Session, cmd_id: u32, params: &mut ParametersAny) -> Result<()> {
    match cmd_id {
        CMD_PROCESS => process(session, params),
        CMD_STATS => stats(params),
        CMD_NOOP => Ok(()),
        _ => Err(ErrorKind::NotSupported.into()),
    }
}

/// The request's copy out of shared memory. Static, not on the heap: a
/// request is the largest buffer of a call, and on a heap fragmented by
/// long-lived allocations a 16 KiB copy failed with 17 KiB of 128 KiB in
/// use (`cargo optee stress`, 16 clients). One buffer is enough because
/// entry points are serialized (single-instance TA, not concurrent).
struct RequestBuffer(UnsafeCell<[u8; MAX_MESSAGE + 1]>);
// SAFETY: entry points are serialized by OP-TEE.
unsafe impl Sync for RequestBuffer {}
static REQUEST: RequestBuffer = RequestBuffer(UnsafeCell::new([0; MAX_MESSAGE + 1]));

/// The first `len` bytes of [`REQUEST`], wiped when dropped: requests carry
/// secrets (key material, data objects, plaintext).
struct RequestCopy(&'static mut [u8]);

impl RequestCopy {
    fn take(len: usize) -> RequestCopy {
        // SAFETY: entry points are serialized, and the one `RequestCopy` of
        // a call is dropped before the call returns.
        let buffer = unsafe { &mut *REQUEST.0.get() };
        RequestCopy(&mut buffer[..len])
    }
}

impl Drop for RequestCopy {
    fn drop(&mut self) {
        seam_core::wipe::wipe_slice(self.0);
    }
}

fn process(session: &mut Session, params: &mut ParametersAny) -> Result<()> {
    let caller = session.caller.ok_or(ErrorKind::AccessDenied)?;
    params.2.as_none()?;
    params.3.as_none()?;
    let input = params.0.as_memref_input()?;
    let output = params.1.as_memref_output()?;
    // Copy the request out of shared memory (the normal world may change it
    // under us). Anything past MAX_MESSAGE is not copied: one byte more is
    // enough for seam-core to refuse it with a proper response.
    let len = input.buffer_len().min(MAX_MESSAGE + 1);
    let copy = RequestCopy::take(len);
    input.read_at(0, copy.0)?;
    let request: &[u8] = copy.0;

    let response = match session.pending.take() {
        Some((req, resp)) if req == request => {
            seam_core::wipe::wipe(req);
            resp
        }
        Some((req, resp)) => {
            // A different request: the held response is dropped, wiped.
            seam_core::wipe::wipe(req);
            seam_core::wipe::wipe(resp);
            stack::measured(|| se().process(&caller, request))
        }
        None => stack::measured(|| se().process(&caller, request)),
    };
    if response.len() > output.buffer_len() {
        // The caller asks again with a bigger buffer: the request is kept
        // to recognise it (and not run it twice).
        let mut held = Vec::new();
        if held.try_reserve_exact(request.len()).is_err() {
            seam_core::wipe::wipe(response);
            return Err(ErrorKind::OutOfMemory.into());
        }
        held.extend_from_slice(request);
        // SAFETY: for SHORT_BUFFER the size reports the length needed.
        unsafe { output.set_updated_size_unchecked(response.len()) };
        session.pending = Some((held, response));
        return Err(ErrorKind::ShortBuffer.into());
    }
    let written = output.set_output(&response);
    // Responses carry secrets too (key material, data objects, plaintext,
    // key blocks): none outlives the call in TA memory.
    seam_core::wipe::wipe(response);
    written
}

/// OP-TEE's allocator statistics (libutils, CFG_WITH_STATS=y in Debian's
/// build): struct pta_stats_alloc, as the dev kit's header lays it out
/// (build.rs reads it: OP-TEE 4.10 added `free2_sum`).
#[repr(C)]
#[derive(Default)]
struct MallocStats {
    desc: [u8; 32],
    #[cfg(pta_stats_free2_sum)]
    free2_sum: u64,
    allocated: u32,
    max_allocated: u32,
    size: u32,
    num_alloc_fail: u32,
    biggest_alloc_fail: u32,
    biggest_alloc_fail_used: u32,
}

extern "C" {
    fn malloc_get_stats(stats: *mut MallocStats);
}

fn stats(params: &mut ParametersAny) -> Result<()> {
    let out = params.0.as_memref_output()?;
    let mut m = MallocStats::default();
    // SAFETY: `m` has the layout of struct pta_stats_alloc.
    unsafe { malloc_get_stats(&mut m) };
    let mut bytes = [0u8; 36];
    for (i, v) in [
        m.allocated,
        m.max_allocated,
        m.size,
        stack::high_water() as u32,
        stack::STACK_SIZE as u32,
        se().handshake_count() as u32,
        m.num_alloc_fail,
        m.biggest_alloc_fail,
        m.biggest_alloc_fail_used,
    ]
    .into_iter()
    .enumerate()
    {
        bytes[i * 4..i * 4 + 4].copy_from_slice(&v.to_le_bytes());
    }
    // Older hosts ask for exactly the first five or six words.
    let n = match out.buffer_len() {
        36.. => 36,
        24..=35 => 24,
        _ => 20,
    };
    out.set_output(&bytes[..n])
}

/// The caller as OP-TEE established it at open-session time.
fn client_identity() -> Result<Caller> {
    let mut id = raw::TEE_Identity {
        login: 0,
        uuid: raw::TEE_UUID {
            timeLow: 0,
            timeMid: 0,
            timeHiAndVersion: 0,
            clockSeqAndNode: [0; 8],
        },
    };
    // SAFETY: the name is NUL-terminated and `id` is a valid out-pointer.
    let res = unsafe {
        raw::TEE_GetPropertyAsIdentity(
            raw::TEE_PROPSET_CURRENT_CLIENT,
            c"gpd.client.identity".as_ptr(),
            &mut id,
        )
    };
    if res != raw::TEE_SUCCESS {
        return Err(Error::from_raw_error(res));
    }
    match id.login {
        raw::TEE_LOGIN_PUBLIC => Ok(Caller::Public),
        raw::TEE_LOGIN_USER | raw::TEE_LOGIN_GROUP => {
            Ok(Caller::Client(ClientId(uuid_bytes(&id.uuid))))
        }
        // Application logins (which Linux does not offer), TA-to-TA and
        // kernel clients have no place in seam's policy.
        _ => Err(ErrorKind::AccessDenied.into()),
    }
}

/// TEE_UUID (fields in host order) to the RFC 4122 byte order of its text
/// form, which is how the kernel computed it and how seam names clients.
pub fn uuid_bytes(u: &raw::TEE_UUID) -> [u8; 16] {
    let mut b = [0u8; 16];
    b[0..4].copy_from_slice(&u.timeLow.to_be_bytes());
    b[4..6].copy_from_slice(&u.timeMid.to_be_bytes());
    b[6..8].copy_from_slice(&u.timeHiAndVersion.to_be_bytes());
    b[8..16].copy_from_slice(&u.clockSeqAndNode);
    b
}
