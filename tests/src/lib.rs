//! End-to-end fixtures: one node, stakeholders, and callers, on whichever
//! backend `SEAM_BACKEND` names (`sim`, the default, or `tee`).
//!
//! On the simulator every [`Device`] is a fresh node in a temporary
//! directory. On the TEE there is one node — the real TA — so the fixture
//! binds it to a fixed test issuer, gives each stakeholder a unique SE name,
//! and retires the SEs it created when dropped. Run with `--test-threads=1`
//! there (the TA holds at most `MAX_SES` SEs).

use std::sync::atomic::{AtomicU32, Ordering};

use seam::proto::{AclEntry, ClientId, KeyRef, Ops, PublicKey};
use seam::{identity, AdminKey, Client, CommandSigner};
use seam_core::Caller;

/// The issuer every test node is bound to. A fixed key, so that a real TA
/// initialised by one test run accepts the next.
pub const TEST_ISSUER_SCALAR: [u8; 32] = [
    0x5e, 0xa3, 0x00, 0x16, 0x15, 0x5e, 0x1f, 0x2a, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa,
    0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10,
];

/// Callers the tests act as, by Linux group: OP-TEE identifies a
/// TEEC_LOGIN_GROUP session by `gid=<hex>`, and a root process may join any
/// group, so one test process can be several callers on the real TA too.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Who {
    /// This process's own user (TEEC_LOGIN_USER).
    Me,
    /// A caller identified by group (TEEC_LOGIN_GROUP).
    Group(u32),
    /// No identity (TEEC_LOGIN_PUBLIC).
    Public,
}

/// The CSE that a stakeholder grants use of its credentials.
pub const OWNER_CSE: Who = Who::Group(61001);
/// A CSE that another stakeholder grants its own credentials to.
pub const OTHER_CSE: Who = Who::Group(61002);
/// A caller nobody granted anything.
pub const STRANGER: Who = Who::Group(61003);

impl Who {
    pub fn id(self) -> ClientId {
        match self {
            Who::Me => identity::current_user(),
            Who::Group(g) => identity::for_gid(g),
            Who::Public => ClientId([0; 16]),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Simulator,
    Tee,
}

pub fn backend() -> Backend {
    match std::env::var("SEAM_BACKEND").as_deref() {
        Ok("tee") => Backend::Tee,
        Ok("sim") | Err(_) => Backend::Simulator,
        Ok(other) => panic!("SEAM_BACKEND={other}: expected sim or tee"),
    }
}

/// One node to test against.
pub struct Device {
    backend: Backend,
    dir: Option<tempfile::TempDir>,
    issuer: AdminKey,
}

static SE_SEQUENCE: AtomicU32 = AtomicU32::new(0);

impl Device {
    /// A node bound to the test issuer.
    pub fn new() -> Device {
        let device = Device::uninitialised();
        let mut c = device.client();
        let info = c.node_info().expect("node info");
        match info.node {
            None => {
                c.init_node(&device.issuer.public_key()).expect("init node");
            }
            Some(node) => assert_eq!(
                node.issuer,
                device.issuer.public_key(),
                "this node is bound to another issuer than the test issuer"
            ),
        }
        device
    }

    /// A node as it comes out of the factory (only meaningful on the simulator).
    pub fn uninitialised() -> Device {
        let backend = backend();
        let dir = match backend {
            Backend::Simulator => Some(tempfile::tempdir().expect("temp dir")),
            Backend::Tee => None,
        };
        Device {
            backend,
            dir,
            issuer: AdminKey::from_scalar(&TEST_ISSUER_SCALAR).expect("issuer key"),
        }
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub fn issuer(&self) -> &AdminKey {
        &self.issuer
    }

    /// The simulator's store directory (None on the TEE).
    pub fn store_dir(&self) -> Option<&std::path::Path> {
        self.dir.as_ref().map(|d| d.path())
    }

    /// A client acting as this process's user.
    pub fn client(&self) -> Client {
        self.client_as(Who::Me)
    }

    pub fn client_as(&self, who: Who) -> Client {
        match self.backend {
            Backend::Simulator => {
                let caller = match who {
                    Who::Public => Caller::Public,
                    other => Caller::Client(other.id()),
                };
                let dir = self.dir.as_ref().expect("simulator dir").path();
                Client::new(seam::Simulator::open_as(dir, caller).expect("simulator"))
            }
            Backend::Tee => tee_client(who),
        }
    }

    /// A new stakeholder SE with a fresh admin key; retired when dropped.
    pub fn stakeholder(&self, role: &str) -> Stakeholder<'_> {
        self.stakeholder_with(role, false)
    }

    pub fn stakeholder_with(&self, role: &str, allow_plaintext_import: bool) -> Stakeholder<'_> {
        let n = SE_SEQUENCE.fetch_add(1, Ordering::Relaxed);
        let se = format!("{role}-{}-{n}", std::process::id());
        let admin = AdminKey::generate();
        self.client()
            .create_se(
                &self.issuer,
                &se,
                &admin.public_key(),
                allow_plaintext_import,
            )
            .unwrap_or_else(|e| panic!("creating SE {se}: {e}"));
        Stakeholder {
            device: self,
            se,
            admin,
        }
    }
}

impl Default for Device {
    fn default() -> Self {
        Device::new()
    }
}

#[cfg(feature = "tee")]
fn tee_client(who: Who) -> Client {
    let tee = match who {
        Who::Me => seam::transport::Tee::open(),
        Who::Group(gid) => {
            join_group(gid);
            seam::transport::Tee::open_group(gid)
        }
        Who::Public => seam::transport::Tee::open_public(),
    };
    Client::new(tee.expect("opening a TA session"))
}

/// Add `gid` to this process's supplementary groups (root only), so the
/// kernel lets it open TEEC_LOGIN_GROUP sessions for that group.
#[cfg(feature = "tee")]
fn join_group(gid: u32) {
    let mut groups = vec![0 as libc::gid_t; 256];
    // SAFETY: the buffer holds 256 gids and we pass its length.
    let n = unsafe { libc::getgroups(groups.len() as libc::c_int, groups.as_mut_ptr()) };
    assert!(n >= 0, "getgroups failed");
    groups.truncate(n as usize);
    if groups.contains(&gid) {
        return;
    }
    groups.push(gid);
    // SAFETY: the pointer and length describe `groups`.
    let rc = unsafe { libc::setgroups(groups.len(), groups.as_ptr()) };
    assert_eq!(rc, 0, "setgroups (tests on the TEE must run as root)");
}

#[cfg(not(feature = "tee"))]
fn tee_client(_who: Who) -> Client {
    panic!("SEAM_BACKEND=tee needs seam-tests built with --features tee")
}

/// A stakeholder's SE and its admin key.
pub struct Stakeholder<'d> {
    pub device: &'d Device,
    pub se: String,
    pub admin: AdminKey,
}

impl Stakeholder<'_> {
    pub fn admin_public(&self) -> PublicKey {
        self.admin.public_key()
    }

    pub fn key(&self, object: &str, suid: u8) -> KeyRef {
        KeyRef {
            se: seam::client::name(&self.se).unwrap(),
            key: seam::client::name(object).unwrap(),
            suid: crate::suid(suid),
        }
    }

    pub fn generate(&self, object: &str, suid: u8) -> PublicKey {
        self.device
            .client()
            .generate_key_pair(&self.admin, &self.se, object, crate::suid(suid))
            .unwrap_or_else(|e| panic!("generating {object}: {e}"))
    }

    /// `suid` 0: none (a `*` grant of CREATE only).
    pub fn grant(&self, object: &str, who: Who, ops: Ops, suid: u8) {
        let entry = AclEntry {
            grantee: who.id(),
            ops,
            suid: seam::proto::suid::or_zero::from_u8(suid)
                .unwrap_or_else(|e| panic!("test SUID: {e}")),
        };
        self.device
            .client()
            .grant(&self.admin, &self.se, object, entry)
            .unwrap_or_else(|e| panic!("granting {object}: {e}"));
    }
}

impl Drop for Stakeholder<'_> {
    fn drop(&mut self) {
        // Best effort: a test that already retired its SE is fine.
        let _ = self
            .device
            .client()
            .retire_se(&self.device.issuer, &self.se);
    }
}

/// Pass through for tests that need to build raw requests.
pub fn encode(request: &seam::proto::Request) -> Vec<u8> {
    seam::proto::postcard::to_allocvec(request).expect("encode")
}

/// Decode a raw response, panicking with the bytes if it does not decode.
pub fn decode(bytes: &[u8]) -> seam::proto::Response {
    seam::proto::postcard::from_bytes(bytes)
        .unwrap_or_else(|e| panic!("response {bytes:02x?} does not decode: {e}"))
}

/// The status of a result: the success code, or the refusal's code.
pub fn status_of<T>(r: &seam::Result<T>) -> u16 {
    match r {
        Ok(_) => 2000,
        Err(e) => e.status(),
    }
}

/// The SUID `value` (a test literal seam accepts; panics otherwise).
pub fn suid(value: u8) -> seam::Suid {
    seam::Suid::new(value).unwrap_or_else(|e| panic!("test SUID: {e}"))
}

pub mod cli;
pub mod dtls_fuzzing;
pub mod faults;
pub mod fuzz_bundles;
pub mod fuzz_engines;
pub mod fuzz_handshakes;
pub mod fuzz_requests;
pub mod fuzzing;
pub mod jose_keys;
pub mod memory_ta;
pub mod reference;
pub mod shared;
pub mod testing;
pub mod tools;

pub use tools::require_tool;

pub use seam;
