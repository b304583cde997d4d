//! The seam Secure Environment: every stakeholder SE, credential, access
//! check and cryptographic operation, as one pure entry point
//! [`SecureEnvironment::process`] over a [`Store`] and an [`Rng`].
//!
//! The same code runs in the OP-TEE TA (`seam-ta`) and in the host library's
//! simulator. It never panics on input: every failure becomes a response.
#![no_std]
#![forbid(unsafe_code)]
extern crate alloc;
#[cfg(test)]
extern crate std;

mod access;
mod admin;
pub mod cache;
mod error;
mod functions;
pub mod handshake;
mod info;
mod jose_ops;
mod records;
pub mod store;
pub mod wipe;

// The shared crypto crate under the name the core's modules have always used.
use seam_crypto as crypto;

pub use cache::{CacheStats, CachingStore};
pub use seam_crypto::{Rng, RngError};
pub use store::{Store, StoreError};

use access::Identified;
use alloc::vec::Vec;
use seam_proto::{
    ClientId, Op, Reason, Reply, Request, Response, Status, MAX_MESSAGE, PROTOCOL_VERSION,
};

/// Who is calling, as the platform established it (never the caller's word).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Caller {
    /// No identity (TEEC_LOGIN_PUBLIC): may only read public node information.
    Public,
    /// An OP-TEE client UUID (TEEC_LOGIN_USER / TEEC_LOGIN_GROUP).
    Client(ClientId),
}

/// The platform's one clock, in milliseconds since the Unix epoch, never
/// going backwards while the TA runs: handshake sessions expire by its
/// differences, key lifetimes (`not_after`, Unix seconds) by its value.
/// The TA reads the normal world's date once (TEE_GetREETime) and advances
/// it by TEE_GetSystemTime; the simulator reads the host's date and its
/// monotonic clock; tests use a [`ManualClock`].
pub trait Clock {
    fn now_ms(&self) -> u64;

    /// Whether [`Clock::now_ms`] counts from the Unix epoch. A clock that
    /// does not know the date still times handshake sessions, but every key
    /// with a lifetime is refused (`KeyExpired`): it cannot be checked.
    fn knows_date(&self) -> bool {
        true
    }
}

/// A clock that stands still and knows no date: without a platform clock,
/// sessions end only by their quotas, step budgets and the caller's own
/// operations, and keys with a lifetime are refused.
#[derive(Clone, Copy, Debug, Default)]
pub struct StoppedClock;

impl Clock for StoppedClock {
    fn now_ms(&self) -> u64 {
        0
    }

    fn knows_date(&self) -> bool {
        false
    }
}

/// A clock tests move by hand; clones share the time.
#[derive(Clone, Debug, Default)]
pub struct ManualClock(alloc::sync::Arc<core::sync::atomic::AtomicU64>);

impl ManualClock {
    /// A clock showing `ms` since the Unix epoch.
    pub fn at(ms: u64) -> Self {
        ManualClock(alloc::sync::Arc::new(core::sync::atomic::AtomicU64::new(
            ms,
        )))
    }

    pub fn advance(&self, ms: u64) {
        self.0.fetch_add(ms, core::sync::atomic::Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now_ms(&self) -> u64 {
        self.0.load(core::sync::atomic::Ordering::SeqCst)
    }
}

/// What the platform vouches for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Platform {
    /// TS-0003 security level reported in SE info: 2 for a TEE, 0 for the simulator.
    pub security_level: u8,
}

pub struct SecureEnvironment<S: Store, R: Rng> {
    store: S,
    rng: R,
    platform: Platform,
    /// In-progress (D)TLS handshakes, in memory only.
    handshakes: handshake::Handshakes,
    clock: alloc::boxed::Box<dyn Clock + Send>,
    /// Whether a committed issuer command may be unfinished in the store: at
    /// start (a power cut may have interrupted one) and after each one.
    recovery_needed: bool,
}

impl<S: Store, R: Rng> SecureEnvironment<S, R> {
    pub fn new(store: S, rng: R, platform: Platform) -> Self {
        SecureEnvironment {
            store,
            rng,
            platform,
            handshakes: handshake::Handshakes::new(),
            clock: alloc::boxed::Box::new(StoppedClock),
            recovery_needed: true,
        }
    }

    /// The platform's clock (see [`Clock`]); the TA and the simulator set one.
    pub fn set_clock(&mut self, clock: impl Clock + Send + 'static) {
        self.clock = alloc::boxed::Box::new(clock);
    }

    /// Wipes every handshake session of `caller`: for the platform, when the
    /// caller's last TA session closes.
    pub fn close_handshakes(&mut self, caller: &Caller) {
        self.handshakes.close_all(caller);
    }

    /// Handshake sessions currently held (diagnostics and tests).
    pub fn handshake_count(&self) -> usize {
        self.handshakes.len()
    }

    /// Decode `request`, run it for `caller`, and encode the response. Every
    /// failure, including an undecodable request, is an encoded response.
    /// The decoded request and the response value are wiped when dropped;
    /// the returned bytes are the platform's to copy out and wipe
    /// ([`wipe::wipe`]).
    pub fn process(&mut self, caller: &Caller, request: &[u8]) -> Vec<u8> {
        let mut response = match self.handle(caller, request) {
            Ok((status, reply)) => Response {
                status: status.code(),
                reply,
            },
            Err(reason) => Response {
                status: reason.status().code(),
                reply: Reply::Failed(reason),
            },
        };
        let bytes = encode_response(&response);
        wipe::wipe_reply(&mut response.reply);
        bytes
    }

    /// The store, for the platform's own maintenance (and tests).
    pub fn store_mut(&mut self) -> &mut S {
        &mut self.store
    }

    fn handle(&mut self, caller: &Caller, request: &[u8]) -> Result<(Status, Reply), Reason> {
        let mut request = decode_request(request)?;
        let result = self.dispatch(caller, &request);
        wipe::wipe_request(&mut request);
        result
    }

    fn dispatch(&mut self, caller: &Caller, request: &Request) -> Result<(Status, Reply), Reason> {
        // Nothing may see the store between an issuer command's commit and
        // its completion.
        if self.recovery_needed {
            admin::recover(&mut self.store)?;
            self.recovery_needed = false;
        }
        let ok = |reply| Ok((Status::Ok, reply));
        match &request.op {
            // What anyone may read, even a PUBLIC login.
            Op::NodeInfo => ok(info::node_info(&mut self.store)?),
            Op::SeList => ok(info::se_list(&mut self.store)?),
            Op::SeInfo { se } => ok(info::se_info(&mut self.store, &self.platform, se)?),
            // Everything else runs as an identified caller, checked here once.
            op => {
                // One reading per request: key lifetimes are checked
                // against it (Unix seconds), if the clock knows the date.
                let now = self.clock.knows_date().then(|| self.clock.now_ms() / 1000);
                self.identified(access::identify(caller, now)?, op)
            }
        }
    }

    fn identified(&mut self, who: Identified, op: &Op) -> Result<(Status, Reply), Reason> {
        let ok = |reply| Ok((Status::Ok, reply));
        let store = &mut self.store;
        let rng: &mut dyn Rng = &mut self.rng;
        match op {
            // `handle` answers these for any caller before identifying it.
            Op::NodeInfo | Op::SeList | Op::SeInfo { .. } => Err(Reason::Internal),
            Op::InitNode { issuer } => Ok((Status::Created, admin::init_node(store, rng, issuer)?)),
            Op::Issuer(cmd) => {
                // Until its journal is applied and removed, the command
                // is finished before anything else reads the store.
                self.recovery_needed = true;
                let r = admin::issuer_command(store, cmd);
                if admin::recover(store).is_ok() {
                    self.recovery_needed = false;
                }
                // A retired SE ends the sessions it authorised, and frees
                // their slots, now rather than at their next step.
                self.handshakes.revalidate(store, who.now());
                r
            }
            Op::Admin(cmd) => {
                let r = admin::admin_command(store, rng, cmd);
                self.handshakes.revalidate(store, who.now());
                r
            }
            Op::ObjectList { se } => ok(info::object_list(store, who, se)?),
            Op::ObjectInfo { se, object } => ok(info::object_info(store, who, se, object)?),
            Op::AclShow { se, object } => ok(info::acl_show(store, who, se, object)?),
            Op::SdoCreate { se, object, data } => {
                functions::sdo_create(store, who, se, object, data)
            }
            Op::SdoRetrieve { se, object } => ok(functions::sdo_retrieve(store, who, se, object)?),
            Op::SdoUpdate { se, object, data } => {
                functions::sdo_update(store, who, se, object, data)
            }
            Op::SdoDelete { se, object } => functions::sdo_delete(store, who, se, object),
            Op::Sign { key, input } => ok(functions::sign(store, who, key, input)?),
            Op::Verify {
                key,
                input,
                signature,
            } => ok(functions::verify(store, who, key, input, signature)?),
            Op::Hash { alg, message } => ok(functions::hash(*alg, message)?),
            Op::Random { len } => ok(functions::random(rng, *len)?),
            Op::Encrypt {
                key,
                alg,
                nonce_len,
                aad,
                plaintext,
            } => ok(functions::encrypt(
                store, rng, who, key, *alg, *nonce_len, aad, plaintext,
            )?),
            Op::Decrypt {
                key,
                alg,
                nonce,
                aad,
                ciphertext,
            } => ok(functions::decrypt(
                store, who, key, *alg, nonce, aad, ciphertext,
            )?),
            Op::Mac { key, message } => ok(functions::mac(store, who, key, message)?),
            Op::MacVerify { key, message, tag } => {
                ok(functions::mac_verify(store, who, key, message, tag)?)
            }
            Op::Handshake(op) => {
                let now = self.clock.now_ms();
                ok(self.handshakes.handle(store, rng, now, who, op)?)
            }
            Op::Derive(d) => handshake::derive::derive(store, who, d),
            Op::Jose(op) => ok(jose_ops::handle(store, rng, who, op)?),
        }
    }
}

/// Size, then version, then the whole request: a request of another version
/// is reported as such even if the rest of it means nothing to us.
///
/// Boxed, and never inlined: the TA's stack is small (a decoded request is
/// ~1.4 KB, its large fields `HeapVec`s), and this way the deserializer's
/// temporaries are gone before dispatch goes deeper.
#[inline(never)]
fn decode_request(bytes: &[u8]) -> Result<alloc::boxed::Box<Request>, Reason> {
    if bytes.len() > MAX_MESSAGE {
        return Err(Reason::TooLarge);
    }
    let (version, _) = postcard::take_from_bytes::<u16>(bytes)?;
    if version != PROTOCOL_VERSION {
        return Err(Reason::UnsupportedVersion);
    }
    match postcard::take_from_bytes::<Request>(bytes) {
        Ok((request, [])) => Ok(alloc::boxed::Box::new(request)),
        _ => Err(Reason::Malformed),
    }
}

fn encode_response(response: &Response) -> Vec<u8> {
    // Encoded through wiped buffers; the final copy is the caller's.
    match wipe::encode(response) {
        Ok(bytes) => bytes.to_vec(),
        // Cannot happen for our bounded types; still answer, never panic.
        Err(_) => {
            let failed = Response {
                status: Status::InternalServerError.code(),
                reply: Reply::Failed(Reason::Internal),
            };
            postcard::to_allocvec(&failed).unwrap_or_default()
        }
    }
}
