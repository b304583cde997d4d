//! The Secure Environment in memory, behind a real [`Client`]: seam-core's
//! `process` over a `MemStore`, with a deterministic RNG. The (D)TLS engine's
//! tests and fuzz targets run their handshakes against it, so the engine is
//! always exercised with the TA's own handshake sessions (there is no second,
//! in-process key schedule to drift from it).

use std::sync::{Arc, Mutex};

use seam::dtls::TaCredentials;
use seam::proto::{AclEntry, KeyRef, ObjectKind, Ops};
use seam::{AdminKey, Client, CommandSigner, Transport};
use seam_core::store::MemStore;
use seam_core::{Caller, Platform, SecureEnvironment};

use crate::testing::Seeded;
use crate::{Who, TEST_ISSUER_SCALAR};

type Node = SecureEnvironment<MemStore, Seeded>;

/// One in-memory node; every [`MemoryTa::client`] calls into the same one.
#[derive(Clone)]
pub struct MemoryTa {
    node: Arc<Mutex<Node>>,
}

struct MemoryTransport {
    node: Arc<Mutex<Node>>,
    caller: Caller,
}

impl Transport for MemoryTransport {
    fn call(&mut self, request: &[u8]) -> seam::Result<Vec<u8>> {
        // A poisoned lock means another test thread panicked mid-call; the
        // node's state is still a value, so keep serving.
        let mut node = self.node.lock().unwrap_or_else(|e| e.into_inner());
        Ok(node.process(&self.caller, request))
    }

    fn name(&self) -> &'static str {
        "memory"
    }
}

/// The SE the fixture provisions, and its admin key's scalar.
pub const SE: &str = "dtls";
const ADMIN_SCALAR: [u8; 32] = [0x24; 32];
/// The SUIDs the fixture stores PSKs and signing keys under.
pub const PSK_SUID: u8 = 12;
pub const SIGNING_SUID: u8 = 42;

/// What to store in the node, each granted `HANDSHAKE` to [`Who::Me`].
#[derive(Clone, Debug, Default)]
pub struct Credentials {
    /// PSKs by object name.
    pub psks: Vec<(String, Vec<u8>)>,
    /// P-256 private scalars by object name.
    pub signing_keys: Vec<(String, [u8; 32])>,
}

impl MemoryTa {
    /// A node with `credentials` provisioned; its RNG starts at `seed`.
    pub fn new(credentials: &Credentials, seed: u64) -> MemoryTa {
        let node = SecureEnvironment::new(
            MemStore::default(),
            Seeded::new(seed),
            Platform { security_level: 0 },
        );
        let ta = MemoryTa {
            node: Arc::new(Mutex::new(node)),
        };
        ta.provision(credentials);
        ta
    }

    /// A copy of this node (its whole store) with its RNG restarted at
    /// `seed`: fuzzing provisions once and runs each input on a copy.
    pub fn fork(&self, seed: u64) -> MemoryTa {
        let store = {
            let mut node = self.node.lock().unwrap_or_else(|e| e.into_inner());
            node.store_mut().clone()
        };
        let node = SecureEnvironment::new(store, Seeded::new(seed), Platform { security_level: 0 });
        MemoryTa {
            node: Arc::new(Mutex::new(node)),
        }
    }

    /// A client calling as this process's user.
    pub fn client(&self) -> Client {
        Client::new(MemoryTransport {
            node: self.node.clone(),
            caller: Caller::Client(Who::Me.id()),
        })
    }

    /// Handshake sessions the node holds now (all should end with their
    /// connection).
    pub fn handshake_count(&self) -> usize {
        self.node
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .handshake_count()
    }

    /// The reference to the stored object `name`, under `suid`.
    pub fn key(name: &str, suid: u8) -> KeyRef {
        KeyRef {
            se: seam::client::name(SE).expect("fixture SE name"),
            key: seam::client::name(name).expect("fixture object name"),
            suid: crate::suid(suid),
        }
    }

    fn provision(&self, credentials: &Credentials) {
        let issuer = AdminKey::from_scalar(&TEST_ISSUER_SCALAR).expect("issuer scalar");
        let admin = AdminKey::from_scalar(&ADMIN_SCALAR).expect("admin scalar");
        let mut c = self.client();
        c.init_node(&issuer.public_key()).expect("init node");
        c.create_se(&issuer, SE, &admin.public_key(), false)
            .expect("create SE");
        let grant = |c: &mut Client, object: &str, suid: u8| {
            let entry = AclEntry {
                grantee: Who::Me.id(),
                ops: Ops::HANDSHAKE,
                suid: Some(crate::suid(suid)),
            };
            c.grant(&admin, SE, object, entry)
                .unwrap_or_else(|e| panic!("granting {object}: {e}"));
        };
        for (name, psk) in &credentials.psks {
            c.import_wrapped(
                &admin,
                SE,
                name,
                crate::suid(PSK_SUID),
                ObjectKind::Secret,
                psk,
            )
            .unwrap_or_else(|e| panic!("importing PSK {name}: {e}"));
            grant(&mut c, name, PSK_SUID);
        }
        for (name, scalar) in &credentials.signing_keys {
            c.import_wrapped(
                &admin,
                SE,
                name,
                crate::suid(SIGNING_SUID),
                ObjectKind::EcP256,
                scalar,
            )
            .unwrap_or_else(|e| panic!("importing key {name}: {e}"));
            grant(&mut c, name, SIGNING_SUID);
        }
    }
}

/// [`TaCredentials`] naming the fixture's objects: the client PSK, the
/// server's PSKs by identity, and the signing key.
pub fn ta_credentials(
    psk: Option<&str>,
    psk_by_identity: &[(&[u8], &str)],
    signing_key: Option<&str>,
) -> TaCredentials {
    TaCredentials {
        psk: psk.map(|n| MemoryTa::key(n, PSK_SUID)),
        psk_by_identity: psk_by_identity
            .iter()
            .map(|(id, n)| (id.to_vec(), MemoryTa::key(n, PSK_SUID)))
            .collect(),
        signing_key: signing_key.map(|n| MemoryTa::key(n, SIGNING_SUID)),
    }
}
