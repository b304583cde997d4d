//! The real TA through OP-TEE's client library (libteec, via optee-teec's raw
//! bindings: its safe API cannot pass the gid a TEEC_LOGIN_GROUP needs).
//!
//! Sessions are opened with TEEC_LOGIN_USER ([`Tee::open`]),
//! TEEC_LOGIN_GROUP ([`Tee::open_group`]) or TEEC_LOGIN_PUBLIC
//! ([`Tee::open_public`], no identity). The Linux kernel derives the
//! client UUID the TA sees from the process's effective uid, or from the gid
//! (`tee_session_calc_client_uuid` in drivers/tee/tee_core.c), and refuses a
//! group login unless the process is in that group (`in_egroup_p`: its
//! effective gid or a supplementary group; root is not exempt, it must
//! `setgroups`/`setegid` first).
//!
//! Each connection allocates one block of shared memory
//! (TEEC_AllocateSharedMemory) holding a request region and a response
//! region, and passes both as partial memory references: an invocation copies
//! the request's bytes in and the response's bytes out, and nothing is
//! allocated or registered per call.
//!
//! Errors: the TA missing from `/lib/optee_armtz` is [`Error::TaNotInstalled`];
//! a TA that died (TEEC_ERROR_TARGET_DEAD) gets its session reopened and the
//! request retried once, then [`Error::TaCrashed`]; OP-TEE busy
//! (TEEC_ERROR_BUSY) is retried with back-off, then [`Error::Busy`].

use std::ffi::c_void;
use std::ptr;
use std::time::Duration;

use optee_teec::raw;

use super::Transport;
use crate::Error;

/// The TA's command: memref input = request, memref output = response.
pub const CMD_PROCESS: u32 = 0;
/// Diagnostics: the TA's heap and stack use (see [`TaStats`]).
pub const CMD_STATS: u32 = 1;
/// Does nothing: a bare invocation, the floor benchmarks compare with.
pub const CMD_NOOP: u32 = 2;

/// Tries for a busy TEE, and the first back-off (doubled each time).
const BUSY_TRIES: u32 = 6;
const BUSY_BACKOFF: Duration = Duration::from_millis(20);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Login {
    Public,
    User,
    Group(u32),
}

/// A connection to the seam TA: one TEEC context, one session, and one
/// block of shared memory allocated with the context and reused by every
/// invocation (temporary memory references would have libteec allocate,
/// register and release shared memory twice per call).
pub struct Tee {
    // Boxed: libteec keeps pointers to all three (the session and the shared
    // memory to their context).
    ctx: Box<raw::TEEC_Context>,
    session: Option<Box<raw::TEEC_Session>>,
    shm: Option<Box<raw::TEEC_SharedMemory>>,
    login: Login,
    /// Size of the response region after the request region; grows if the
    /// TA asks for more.
    out_len: usize,
}

/// The request region: one byte more than the largest request, so the TA
/// sees that a longer one is too long (it copies no more than that either).
const IN_LEN: usize = seam_proto::MAX_MESSAGE + 1;
/// The response region starts here (cache-line aligned).
const OUT_OFFSET: usize = (IN_LEN + 63) & !63;

// SAFETY: the context and session are only used through `&mut self`, and
// libteec's handles may move between threads (they are file descriptors and
// ids, not thread-bound).
unsafe impl Send for Tee {}

/// The TA's memory use, from [`CMD_STATS`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TaStats {
    pub heap_in_use: u32,
    pub heap_peak: u32,
    pub heap_size: u32,
    pub stack_peak: u32,
    pub stack_size: u32,
    /// Handshake sessions the TA holds (None from a TA that does not say).
    pub handshakes: Option<u32>,
    /// Failed heap allocations since the TA instance started, the largest
    /// one asked for, and the bytes in use when it failed (None from a TA
    /// that does not say).
    pub alloc_failures: Option<AllocFailures>,
}

/// Heap allocations the TA could not make (OP-TEE's malloc statistics).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AllocFailures {
    pub count: u32,
    pub biggest: u32,
    pub in_use_at_biggest: u32,
}

impl Tee {
    /// A session as this process's user (TEEC_LOGIN_USER, the effective uid).
    pub fn open() -> Result<Tee, Error> {
        Tee::connect(Login::User)
    }

    /// A session with no identity (TEEC_LOGIN_PUBLIC): the TA answers only
    /// what is public.
    pub fn open_public() -> Result<Tee, Error> {
        Tee::connect(Login::Public)
    }

    /// A session as group `gid` (TEEC_LOGIN_GROUP). The process must be in
    /// that group, or the kernel refuses.
    pub fn open_group(gid: u32) -> Result<Tee, Error> {
        Tee::connect(Login::Group(gid))
    }

    fn connect(login: Login) -> Result<Tee, Error> {
        // SAFETY: TEEC_Context is plain data, and zero is its "not yet
        // initialized" state; InitializeContext fills it in.
        let mut ctx: Box<raw::TEEC_Context> = Box::new(unsafe { std::mem::zeroed() });
        // SAFETY: a valid out-pointer; NULL selects the default TEE.
        let res = unsafe { raw::TEEC_InitializeContext(ptr::null(), &mut *ctx) };
        if res != raw::TEEC_SUCCESS {
            return Err(Error::Transport(format!(
                "no TEE (TEEC_InitializeContext: {}): is /dev/tee0 there and the optee driver loaded?",
                describe(res)
            )));
        }
        let mut tee = Tee {
            ctx,
            session: None,
            shm: None,
            login,
            out_len: seam_proto::MAX_MESSAGE,
        };
        tee.allocate_shm()?;
        tee.open_session()?;
        Ok(tee)
    }

    fn open_session(&mut self) -> Result<(), Error> {
        let uuid = ta_uuid();
        let gid: u32;
        let (method, data) = match self.login {
            Login::Public => (raw::TEEC_LOGIN_PUBLIC, ptr::null()),
            Login::User => (raw::TEEC_LOGIN_USER, ptr::null()),
            Login::Group(g) => {
                gid = g;
                (raw::TEEC_LOGIN_GROUP, &gid as *const u32 as *const c_void)
            }
        };
        let mut tries = 0;
        loop {
            // SAFETY: zero is a valid TEEC_Session before OpenSession.
            let mut session: Box<raw::TEEC_Session> = Box::new(unsafe { std::mem::zeroed() });
            let mut origin = 0u32;
            // SAFETY: valid context, session and UUID; `data` is NULL or
            // points to the gid (a gid_t, u32 on Linux), as libteec expects.
            let res = unsafe {
                raw::TEEC_OpenSession(
                    &mut *self.ctx,
                    &mut *session,
                    &uuid,
                    method,
                    data,
                    ptr::null_mut(),
                    &mut origin,
                )
            };
            match res {
                raw::TEEC_SUCCESS => {
                    self.session = Some(session);
                    return Ok(());
                }
                raw::TEEC_ERROR_ITEM_NOT_FOUND if origin != raw::TEEC_ORIGIN_TRUSTED_APP => {
                    return Err(Error::TaNotInstalled)
                }
                raw::TEEC_ERROR_BUSY if tries + 1 < BUSY_TRIES => {
                    std::thread::sleep(BUSY_BACKOFF * 2u32.pow(tries));
                    tries += 1;
                }
                raw::TEEC_ERROR_BUSY => return Err(Error::Busy),
                _ => {
                    let who = match self.login {
                        Login::Public => "TEEC_LOGIN_PUBLIC".to_string(),
                        Login::User => "TEEC_LOGIN_USER".to_string(),
                        Login::Group(g) => {
                            format!("TEEC_LOGIN_GROUP gid {g} (the process must be in that group)")
                        }
                    };
                    return Err(Error::Transport(format!(
                        "cannot open a session with the seam TA as {who}: {} from {}",
                        describe(res),
                        origin_name(origin)
                    )));
                }
            }
        }
    }

    /// (Re)allocates the shared block for the current `out_len`.
    fn allocate_shm(&mut self) -> Result<(), Error> {
        self.release_shm();
        // SAFETY: zero is a valid TEEC_SharedMemory before allocation.
        let mut shm: Box<raw::TEEC_SharedMemory> = Box::new(unsafe { std::mem::zeroed() });
        shm.size = OUT_OFFSET + self.out_len;
        shm.flags = raw::TEEC_MEM_INPUT | raw::TEEC_MEM_OUTPUT;
        // SAFETY: an initialized context and a shared-memory struct that
        // stays at this address (boxed) until released.
        let res = unsafe { raw::TEEC_AllocateSharedMemory(&mut *self.ctx, &mut *shm) };
        if res != raw::TEEC_SUCCESS {
            return Err(Error::Transport(format!(
                "TEEC_AllocateSharedMemory ({} bytes): {}",
                shm.size,
                describe(res)
            )));
        }
        self.shm = Some(shm);
        Ok(())
    }

    fn release_shm(&mut self) {
        if let Some(mut shm) = self.shm.take() {
            // SAFETY: shared memory we allocated in our context; no
            // invocation is in flight (we hold `&mut self`).
            unsafe { raw::TEEC_ReleaseSharedMemory(&mut *shm) };
        }
    }

    /// Whether invocations go through one block of shared memory allocated
    /// with the connection (diagnostics and tests).
    pub fn uses_registered_memory(&self) -> bool {
        self.shm.is_some()
    }

    fn close_session(&mut self) {
        if let Some(mut s) = self.session.take() {
            // SAFETY: an open session of our context.
            unsafe { raw::TEEC_CloseSession(&mut *s) };
        }
    }

    /// One TEEC_InvokeCommand: the request (if any) is copied into the
    /// shared block's request region — only its own bytes, at most
    /// [`IN_LEN`] — and the TA writes the response into the response region.
    /// Returns the result code, the origin and the response's size.
    fn invoke(&mut self, cmd: u32, input: Option<&[u8]>) -> (u32, u32, usize) {
        let (Some(session), Some(shm)) = (self.session.as_mut(), self.shm.as_mut()) else {
            return (raw::TEEC_ERROR_TARGET_DEAD, raw::TEEC_ORIGIN_API, 0);
        };
        let parent: *mut raw::TEEC_SharedMemory = &mut **shm;
        let memref = |offset: usize, size: usize| raw::TEEC_Parameter {
            memref: raw::TEEC_RegisteredMemoryReference {
                parent,
                size,
                offset,
            },
        };
        let none = raw::TEEC_Parameter {
            value: raw::TEEC_Value { a: 0, b: 0 },
        };
        let out_ref = memref(OUT_OFFSET, self.out_len);
        let (types, params) = match input {
            Some(inp) => {
                let len = inp.len().min(IN_LEN);
                // SAFETY: the block is at least OUT_OFFSET >= IN_LEN bytes and
                // ours; `inp` does not overlap it.
                unsafe {
                    ptr::copy_nonoverlapping(inp.as_ptr(), shm.buffer.cast::<u8>(), len);
                }
                (
                    raw::TEEC_PARAM_TYPES(
                        raw::TEEC_MEMREF_PARTIAL_INPUT,
                        raw::TEEC_MEMREF_PARTIAL_OUTPUT,
                        raw::TEEC_NONE,
                        raw::TEEC_NONE,
                    ),
                    [memref(0, len), out_ref, none, none],
                )
            }
            None => (
                raw::TEEC_PARAM_TYPES(
                    raw::TEEC_MEMREF_PARTIAL_OUTPUT,
                    raw::TEEC_NONE,
                    raw::TEEC_NONE,
                    raw::TEEC_NONE,
                ),
                [out_ref, none, none, none],
            ),
        };
        let mut op = raw::TEEC_Operation {
            started: 0,
            paramTypes: types,
            params,
            imp: raw::TEEC_Operation__Imp {
                session: ptr::null_mut(),
            },
        };
        let mut origin = 0u32;
        // SAFETY: an open session; the memory references point into our
        // allocated block, which outlives the call.
        let res = unsafe { raw::TEEC_InvokeCommand(&mut **session, cmd, &mut op, &mut origin) };
        let out_index = if input.is_some() { 1 } else { 0 };
        // SAFETY: that parameter is the memref we set; libteec updates its
        // size to what the TA wrote (or needs, for SHORT_BUFFER).
        let updated = unsafe { op.params[out_index].memref.size };
        (res, origin, updated)
    }

    /// The first `n` bytes of the response region (`n` at most its size).
    fn response(&self, n: usize) -> Vec<u8> {
        let Some(shm) = self.shm.as_ref() else {
            return Vec::new();
        };
        let n = n.min(self.out_len);
        let mut out = vec![0u8; n];
        // SAFETY: [OUT_OFFSET, OUT_OFFSET + out_len) lies in the block, which
        // no one else writes while we hold `&self` after the call returned.
        unsafe {
            ptr::copy_nonoverlapping(shm.buffer.cast::<u8>().add(OUT_OFFSET), out.as_mut_ptr(), n);
        }
        out
    }

    /// One invocation of [`CMD_NOOP`], with no parameters: what any request
    /// costs before the TA does anything (benchmarks).
    pub fn noop(&mut self) -> Result<(), Error> {
        let Some(session) = self.session.as_mut() else {
            return Err(Error::TaCrashed);
        };
        let none = raw::TEEC_Parameter {
            value: raw::TEEC_Value { a: 0, b: 0 },
        };
        let mut op = raw::TEEC_Operation {
            started: 0,
            paramTypes: 0,
            params: [none; 4],
            imp: raw::TEEC_Operation__Imp {
                session: ptr::null_mut(),
            },
        };
        let mut origin = 0u32;
        // SAFETY: an open session and an operation without parameters.
        let res =
            unsafe { raw::TEEC_InvokeCommand(&mut **session, CMD_NOOP, &mut op, &mut origin) };
        if res != raw::TEEC_SUCCESS {
            return Err(Error::Transport(format!(
                "TA no-op: {} from {}",
                describe(res),
                origin_name(origin)
            )));
        }
        Ok(())
    }

    /// The TA's heap and stack use so far (diagnostics; no secret in it).
    pub fn ta_stats(&mut self) -> Result<TaStats, Error> {
        let (res, origin, n) = self.invoke(CMD_STATS, None);
        let out = self.response(n);
        // Older TAs send five or six words.
        if res != raw::TEEC_SUCCESS || !matches!(n, 20 | 24 | 36) {
            return Err(Error::Transport(format!(
                "TA stats: {} from {}",
                describe(res),
                origin_name(origin)
            )));
        }
        let w = |i: usize| u32::from_le_bytes(out[i * 4..i * 4 + 4].try_into().unwrap());
        Ok(TaStats {
            heap_in_use: w(0),
            heap_peak: w(1),
            heap_size: w(2),
            stack_peak: w(3),
            stack_size: w(4),
            handshakes: (n >= 24).then(|| w(5)),
            alloc_failures: (n >= 36).then(|| AllocFailures {
                count: w(6),
                biggest: w(7),
                in_use_at_biggest: w(8),
            }),
        })
    }
}

impl Transport for Tee {
    fn call(&mut self, request: &[u8]) -> Result<Vec<u8>, Error> {
        let mut crashed = false;
        let mut busy = 0;
        loop {
            if self.session.is_none() {
                self.open_session()?;
            }
            let (res, origin, n) = self.invoke(CMD_PROCESS, Some(request));
            match res {
                raw::TEEC_SUCCESS => return Ok(self.response(n)),
                // The TA keeps the response; asking again returns it without
                // running the request a second time.
                raw::TEEC_ERROR_SHORT_BUFFER if n > self.out_len => {
                    self.out_len = n;
                    self.allocate_shm()?;
                }
                raw::TEEC_ERROR_TARGET_DEAD => {
                    self.close_session();
                    if crashed {
                        return Err(Error::TaCrashed);
                    }
                    crashed = true;
                }
                raw::TEEC_ERROR_BUSY => {
                    busy += 1;
                    if busy >= BUSY_TRIES {
                        return Err(Error::Busy);
                    }
                    std::thread::sleep(BUSY_BACKOFF * 2u32.pow(busy - 1));
                }
                _ => {
                    return Err(Error::Transport(format!(
                        "TEEC_InvokeCommand: {} from {}",
                        describe(res),
                        origin_name(origin)
                    )))
                }
            }
        }
    }

    fn name(&self) -> &'static str {
        "tee"
    }
}

impl Drop for Tee {
    fn drop(&mut self) {
        self.close_session();
        self.release_shm();
        // SAFETY: an initialized context with no open session or shared
        // memory left.
        unsafe { raw::TEEC_FinalizeContext(&mut *self.ctx) };
    }
}

/// seam_proto::TA_UUID as libteec's struct.
fn ta_uuid() -> raw::TEEC_UUID {
    let hex: Vec<u8> = seam_proto::TA_UUID.bytes().filter(|b| *b != b'-').collect();
    let mut b = [0u8; 16];
    for (i, byte) in b.iter_mut().enumerate() {
        let s = std::str::from_utf8(&hex[i * 2..i * 2 + 2]).expect("ASCII");
        *byte = u8::from_str_radix(s, 16).expect("TA_UUID is a UUID");
    }
    raw::TEEC_UUID {
        timeLow: u32::from_be_bytes([b[0], b[1], b[2], b[3]]),
        timeMid: u16::from_be_bytes([b[4], b[5]]),
        timeHiAndVersion: u16::from_be_bytes([b[6], b[7]]),
        clockSeqAndNode: b[8..16].try_into().unwrap(),
    }
}

fn describe(code: u32) -> String {
    let name = match code {
        0xFFFF0000 => "TEEC_ERROR_GENERIC",
        raw::TEEC_ERROR_ACCESS_DENIED => "TEEC_ERROR_ACCESS_DENIED",
        0xFFFF0002 => "TEEC_ERROR_CANCEL",
        raw::TEEC_ERROR_ACCESS_CONFLICT => "TEEC_ERROR_ACCESS_CONFLICT",
        0xFFFF0004 => "TEEC_ERROR_EXCESS_DATA",
        0xFFFF0005 => "TEEC_ERROR_BAD_FORMAT",
        0xFFFF0006 => "TEEC_ERROR_BAD_PARAMETERS",
        0xFFFF0007 => "TEEC_ERROR_BAD_STATE",
        raw::TEEC_ERROR_ITEM_NOT_FOUND => "TEEC_ERROR_ITEM_NOT_FOUND",
        0xFFFF000A => "TEEC_ERROR_NOT_SUPPORTED",
        raw::TEEC_ERROR_OUT_OF_MEMORY => "TEEC_ERROR_OUT_OF_MEMORY",
        raw::TEEC_ERROR_BUSY => "TEEC_ERROR_BUSY",
        raw::TEEC_ERROR_COMMUNICATION => "TEEC_ERROR_COMMUNICATION",
        0xFFFF000F => "TEEC_ERROR_SECURITY",
        raw::TEEC_ERROR_SHORT_BUFFER => "TEEC_ERROR_SHORT_BUFFER",
        raw::TEEC_ERROR_TARGET_DEAD => "TEEC_ERROR_TARGET_DEAD",
        _ => "",
    };
    if name.is_empty() {
        format!("0x{code:08x}")
    } else {
        format!("{name} (0x{code:08x})")
    }
}

fn origin_name(origin: u32) -> &'static str {
    match origin {
        raw::TEEC_ORIGIN_API => "the client API",
        raw::TEEC_ORIGIN_COMMS => "the communication stack",
        raw::TEEC_ORIGIN_TEE => "the TEE",
        raw::TEEC_ORIGIN_TRUSTED_APP => "the TA",
        _ => "an unknown origin",
    }
}

/// Run inside the emulated device (`cargo optee exec -- seam-unit
/// transport::tee --test-threads=1 --nocapture` with SEAM_BACKEND=tee); they
/// do nothing elsewhere.
#[cfg(test)]
mod tests {
    use super::*;

    fn on_device() -> bool {
        std::env::var("SEAM_BACKEND").as_deref() == Ok("tee")
    }

    #[test]
    fn uuid_matches_the_text() {
        let u = ta_uuid();
        assert_eq!(u.timeLow, 0x5ea30016);
        assert_eq!(u.timeMid, 0x7a1e);
        assert_eq!(u.timeHiAndVersion, 0x4c0b);
        assert_eq!(
            u.clockSeqAndNode,
            [0x9d, 0x2e, 0x0e, 0x2d, 0x1c, 0x5e, 0x5e, 0xa3]
        );
    }

    /// A round trip through libteec: a malformed request gets an encoded
    /// answer, and the session still works afterwards.
    #[test]
    fn round_trip_through_libteec() {
        if !on_device() {
            return;
        }
        let mut tee = Tee::open().expect("open a session with the seam TA");
        assert!(tee.uses_registered_memory());
        let block = tee.shm.as_ref().unwrap().buffer;
        for _ in 0..3 {
            let resp = tee.call(&[0xff, 0xff, 0xff, 0xff]).expect("call");
            println!(
                "malformed request -> {} response bytes: {:02x?}",
                resp.len(),
                resp
            );
        }
        assert_eq!(
            tee.shm.as_ref().unwrap().buffer,
            block,
            "one block per connection"
        );
        // A request longer than any the TA accepts is refused as too long,
        // though only one byte more than the limit is copied.
        let long = vec![0u8; seam_proto::MAX_MESSAGE * 2];
        let resp = tee.call(&long).expect("call");
        let resp: seam_proto::Response = postcard::from_bytes(&resp).expect("a response");
        assert_eq!(
            resp.reply,
            seam_proto::Reply::Failed(seam_proto::Reason::TooLarge)
        );
        tee.noop().expect("the no-op command");
        let stats = tee.ta_stats().expect("stats");
        println!("TA memory: {stats:?}");
        assert!(stats.heap_size > 0);
    }

    /// The TA instance stays loaded between sessions, so run last this
    /// reports the heap and stack high-water marks of everything before it.
    #[test]
    fn ta_memory_report() {
        if !on_device() {
            return;
        }
        let stats = Tee::open().expect("open").ta_stats().expect("stats");
        println!(
            "seam TA memory: heap peak {} of {} bytes (in use now {}), stack peak {} of {} bytes",
            stats.heap_peak, stats.heap_size, stats.heap_in_use, stats.stack_peak, stats.stack_size
        );
    }

    #[test]
    fn group_login_needs_membership() {
        if !on_device() {
            return;
        }
        // A gid this process is not in.
        let r = Tee::open_group(54321);
        assert!(matches!(r, Err(Error::Transport(_))), "{:?}", r.err());
    }
}
