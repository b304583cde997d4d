//! Failure at every point: a provisioning script (init, SE creation, key
//! generation, wrapped import, grants, a bundle, a derivation, a (D)TLS
//! handshake whose oneM2M exporter stores a key, SDO create, update and
//! delete, revocation, deletion, retirement) is run once to record the
//! store before and after each command; then, for every store operation N
//! of every command, the command is run again from the state before it
//! with operation N failing (once; or carried out but reported failed; or
//! for good as on a power cut; or — on the simulator's file store — leaving
//! a torn or unrenamed temporary file). A fresh `SecureEnvironment` over what survives must then hold
//! exactly the state before the command or after it; after it if the
//! command was acknowledged; before it if it was refused.
//!
//! The store stack is the TA's: seam-core's write-through [`CachingStore`]
//! (the TA's sizes) over the failing store. After a one-off failure (or
//! one carried out but reported failed) the same
//! environment also goes on, as the TA does without a restart: its next
//! request finishes a committed issuer command, and then every record its
//! cache serves must be the record in the store, and the store again
//! exactly before or after the command.
//!
//! Runs on the host only (the store is driven directly).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use seam::bundle::{Bundle, BundleGrant, BundleKey, Material, NodeDescriptor};
use seam::proto::handshake::{Derivation, Framing, OneM2mExport, Step};
use seam::proto::{AclEntry, AdminOp, ObjectKind, Ops};
use seam::transport::simulator::FileStore;
use seam::{AdminKey, Client, CommandSigner, Transport};
use seam_core::store::MemStore;
use seam_core::{CachingStore, Caller, Platform, SecureEnvironment, Store};
use seam_tests::faults::{Fault, FaultyStore};
use seam_tests::testing::Seeded;
use seam_tests::{backend, Backend, Who, TEST_ISSUER_SCALAR};
use zeroize::Zeroizing;

type Objects = BTreeMap<String, Vec<u8>>;
type Env<S> = SecureEnvironment<CachingStore<FaultyStore<S>>, Seeded>;

/// The TA's cache sizes (ta/optee/src/cache.rs): one node record and
/// `MAX_SES` SE records, 32 KiB.
const CACHE_ENTRIES: usize = 1 + seam::proto::MAX_SES;
const CACHE_BYTES: usize = 32 * 1024;

fn env_over<S: Backing>(store: FaultyStore<S>, rng: Seeded) -> Env<S> {
    SecureEnvironment::new(
        CachingStore::new(store, CACHE_ENTRIES, CACHE_BYTES),
        rng,
        Platform { security_level: 0 },
    )
}

/// The failing store under the environment's cache.
fn faulty<S: Backing>(env: &mut Env<S>) -> &mut FaultyStore<S> {
    env.store_mut().inner_mut()
}

const ADMIN_A: [u8; 32] = [0xa1; 32];
const ADMIN_B: [u8; 32] = [0xb2; 32];
const OWNER: Who = Who::Group(61001);

/// A platform store the test can fill from a snapshot and read back whole.
trait Backing: Store + Send + 'static {
    fn from_objects(objects: &Objects) -> Self;
    fn objects(&mut self) -> Objects {
        let mut out = Objects::new();
        for name in self.list().expect("list") {
            let data = self.get(&name).expect("get").expect("listed object");
            out.insert(name, data);
        }
        out
    }
    fn dir(&self) -> Option<&std::path::Path> {
        None
    }
}

impl Backing for MemStore {
    fn from_objects(objects: &Objects) -> Self {
        MemStore {
            objects: objects.clone(),
        }
    }
}

/// The simulator's file store in a temporary directory it owns.
struct Files {
    store: FileStore,
    dir: tempfile::TempDir,
}

impl Store for Files {
    fn get(&mut self, name: &str) -> Result<Option<Vec<u8>>, seam_core::StoreError> {
        self.store.get(name)
    }
    fn put(&mut self, name: &str, data: &[u8]) -> Result<(), seam_core::StoreError> {
        self.store.put(name, data)
    }
    fn delete(&mut self, name: &str) -> Result<(), seam_core::StoreError> {
        self.store.delete(name)
    }
    fn list(&mut self) -> Result<Vec<String>, seam_core::StoreError> {
        self.store.list()
    }
}

impl Backing for Files {
    fn from_objects(objects: &Objects) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        // Seeded with plain writes: the state before a command needs no
        // fsync, and thousands of them would make the test slow.
        for (name, data) in objects {
            std::fs::write(dir.path().join(name), data).expect("seeding the file store");
        }
        let store = FileStore::new(dir.path());
        Files { store, dir }
    }
    fn dir(&self) -> Option<&std::path::Path> {
        Some(self.dir.path())
    }
}

/// Every caller's transport into one environment.
struct As<S: Backing> {
    env: Arc<Mutex<Env<S>>>,
    caller: Caller,
}

impl<S: Backing> Transport for As<S> {
    fn call(&mut self, request: &[u8]) -> seam::Result<Vec<u8>> {
        let mut env = self.env.lock().unwrap_or_else(|e| e.into_inner());
        Ok(env.process(&self.caller, request))
    }
    fn name(&self) -> &'static str {
        "every-point"
    }
}

struct Ctx<S: Backing> {
    env: Arc<Mutex<Env<S>>>,
    issuer: AdminKey,
    admin_a: AdminKey,
    admin_b: AdminKey,
}

impl<S: Backing> Ctx<S> {
    fn client(&self, who: Who) -> Client {
        Client::new(As {
            env: self.env.clone(),
            caller: Caller::Client(who.id()),
        })
    }
    fn me(&self) -> Client {
        self.client(Who::Me)
    }
}

type Command<S> = (&'static str, fn(&Ctx<S>) -> seam::Result<()>);

fn s(v: u8) -> seam::proto::Suid {
    seam::proto::Suid::new(v).expect("a valid SUID")
}

fn grant(object: &str, who: Who, ops: Ops, suid: u8) -> AdminOp {
    AdminOp::Grant {
        object: seam::proto::GrantTarget::new(object).unwrap(),
        entry: AclEntry {
            grantee: who.id(),
            ops,
            suid: Some(s(suid)),
        },
    }
}

fn script<S: Backing>() -> Vec<Command<S>> {
    vec![
        ("init", |c| {
            c.me().init_node(&c.issuer.public_key()).map(|_| ())
        }),
        ("create SE alpha", |c| {
            c.me()
                .create_se(&c.issuer, "alpha", &c.admin_a.public_key(), false)
                .map(|_| ())
        }),
        ("create SE beta", |c| {
            c.me()
                .create_se(&c.issuer, "beta", &c.admin_b.public_key(), true)
                .map(|_| ())
        }),
        ("generate a key pair and a secret", |c| {
            let ops = vec![
                // A P-256 key is a certificate credential: tens digit 4.
                AdminOp::GenerateKeyPair {
                    object: seam::client::name("sig").unwrap(),
                    suid: s(45),
                    attributes: Default::default(),
                },
                AdminOp::GenerateSecret {
                    object: seam::client::name("aes").unwrap(),
                    suid: s(24),
                    len: 16,
                    attributes: Default::default(),
                },
            ];
            c.me().admin(&c.admin_a, "alpha", ops).map(|_| ())
        }),
        ("import a wrapped PSK", |c| {
            c.me()
                .import_wrapped(
                    &c.admin_a,
                    "alpha",
                    "psk",
                    s(10),
                    ObjectKind::Secret,
                    &[5; 16],
                )
                .map(|_| ())
        }),
        ("grants", |c| {
            let ops = vec![
                grant("sig", OWNER, Ops::SIGN, 45),
                grant("aes", OWNER, Ops::ENCRYPT.union(Ops::DECRYPT), 24),
                grant("psk", Who::Me, Ops::DERIVE.union(Ops::HANDSHAKE), 10),
                grant("*", OWNER, Ops::CREATE, 12),
            ];
            c.me().admin(&c.admin_a, "alpha", ops).map(|_| ())
        }),
        ("a bundle for beta", |c| {
            let mut me = c.me();
            let node = NodeDescriptor::from_device(&mut me, Some("beta"))?;
            let counter = node.se.as_ref().map_or(0, |s| s.admin_counter) + 1;
            let keys = [
                BundleKey {
                    name: "cert".into(),
                    suid: s(42),
                    material: Material::EcP256(Zeroizing::new(vec![3; 32])),
                    attributes: Default::default(),
                },
                BundleKey {
                    name: "blob".into(),
                    suid: s(14),
                    material: Material::Data(Zeroizing::new(b"opaque".to_vec())),
                    attributes: Default::default(),
                },
            ];
            let grants = [BundleGrant {
                object: "cert".into(),
                entry: AclEntry {
                    grantee: OWNER.id(),
                    ops: Ops::HANDSHAKE,
                    suid: Some(s(42)),
                },
            }];
            Bundle::create(&c.admin_b, &node, "beta", counter, &keys, &grants)?
                .apply(&mut me)
                .map(|_| ())
        }),
        ("a TLS PSK handshake exports Ke", |c| {
            // Protocol version 2: the engine's client session in the TA,
            // opened, finished on a transcript for its random, then the
            // oneM2M exporter stores Ke (SUID use 0: Bootstrap) in alpha.
            let mut owner = c.me();
            let psk = seam::KeyRef {
                se: seam::client::name("alpha").unwrap(),
                key: seam::client::name("psk").unwrap(),
                suid: s(10),
            };
            let opened = owner.handshake_client_open(Framing::Tls, &[PSK_CBC], Some(&psk), None)?;
            let t = psk_client_transcript(&opened.random, &[0x5e; 32]);
            owner.handshake_client_finish(opened.session, &t)?;
            owner.handshake_step(
                opened.session,
                Step::ExportKey {
                    label: OneM2mExport::Bootstrap,
                    object: seam::client::name("ke").unwrap(),
                    suid: None,
                },
            )?;
            owner.handshake_close(opened.session)
        }),
        ("derive Km", |c| {
            // From the exported Ke: only a Bootstrap key derives Km (issue 11).
            let source = seam::KeyRef {
                se: seam::client::name("alpha").unwrap(),
                key: seam::client::name("ke").unwrap(),
                suid: s(10),
            };
            let rule = Derivation::Km {
                maf_id: "maf.example".try_into().unwrap(),
            };
            c.me().derive_key(&source, rule, "km").map(|_| ())
        }),
        ("SDO create", |c| {
            c.client(OWNER).sdo_create("alpha", "note", b"first")
        }),
        ("SDO update", |c| {
            c.client(OWNER)
                .sdo_update("alpha", "note", b"second, longer")
        }),
        ("SDO delete", |c| {
            c.client(OWNER).sdo_delete("alpha", "note")
        }),
        ("revoke and delete", |c| {
            let ops = vec![
                AdminOp::Revoke {
                    object: seam::proto::GrantTarget::new("aes").unwrap(),
                    grantee: OWNER.id(),
                },
                AdminOp::Delete {
                    object: seam::client::name("aes").unwrap(),
                },
            ];
            c.me().admin(&c.admin_a, "alpha", ops).map(|_| ())
        }),
        ("retire SE beta", |c| c.me().retire_se(&c.issuer, "beta")),
        ("create SE gamma", |c| {
            c.me()
                .create_se(&c.issuer, "gamma", &c.admin_b.public_key(), false)
                .map(|_| ())
        }),
    ]
}

const PSK_CBC: u16 = 0x00AE;

/// A TLS handshake message (built here, not by the TA's parser).
fn msg(kind: u8, body: &[u8]) -> Vec<u8> {
    let n = body.len();
    let mut m = vec![kind, (n >> 16) as u8, (n >> 8) as u8, n as u8];
    m.extend_from_slice(body);
    m
}

/// ClientHello (our random, PSK_CBC), ServerHello, ServerHelloDone and a
/// PSK ClientKeyExchange: what a PSK client's transcript holds at finish.
fn psk_client_transcript(random: &[u8; 32], server_random: &[u8; 32]) -> Vec<u8> {
    let suite = PSK_CBC.to_be_bytes();
    let mut ch = vec![3, 3];
    ch.extend_from_slice(random);
    ch.extend_from_slice(&[0, 0, 2, suite[0], suite[1], 1, 0, 0, 0]);
    let mut sh = vec![3, 3];
    sh.extend_from_slice(server_random);
    sh.extend_from_slice(&[0, suite[0], suite[1], 0, 0, 0]);
    let identity = b"kpsa@m2m.example";
    let mut cke = (identity.len() as u16).to_be_bytes().to_vec();
    cke.extend_from_slice(identity);
    [msg(1, &ch), msg(2, &sh), msg(14, &[]), msg(16, &cke)].concat()
}

fn ctx<S: Backing>(store: FaultyStore<S>, rng: Seeded) -> Ctx<S> {
    let env = env_over(store, rng);
    Ctx {
        env: Arc::new(Mutex::new(env)),
        issuer: AdminKey::from_scalar(&TEST_ISSUER_SCALAR).unwrap(),
        admin_a: AdminKey::from_scalar(&ADMIN_A).unwrap(),
        admin_b: AdminKey::from_scalar(&ADMIN_B).unwrap(),
    }
}

/// The state the platform would find at boot: a fresh environment over
/// what the store holds (it may finish a committed command first).
fn recovered<S: Backing>(mut store: S) -> Objects {
    let mut env = env_over(
        FaultyStore::counting(S::from_objects(&store.objects())),
        Seeded::new(0xdead),
    );
    node_info(&mut env);
    faulty(&mut env).inner.objects()
}

/// Any request: the environment finishes a committed command first.
fn node_info<S: Backing>(env: &mut Env<S>) {
    let _ = env.process(
        &Caller::Public,
        &seam_tests::encode(&seam::proto::Request::new(seam::proto::Op::NodeInfo)),
    );
}

/// Every record as the environment's cache serves it (listing and reads
/// through the cache), to compare with the store beneath.
fn through_cache<S: Backing>(env: &mut Env<S>) -> Objects {
    let cache = env.store_mut();
    let mut out = Objects::new();
    for name in cache.list().expect("list through the cache") {
        let data = cache.get(&name).expect("get").expect("listed object");
        out.insert(name, data);
    }
    out
}

/// One command's reference: the state before and after it, the RNG it
/// starts from, and how many store operations it makes.
struct Reference {
    before: Objects,
    after: Objects,
    rng_seed: u64,
    ops: u64,
}

/// The RNG each command starts from: fixed per command, so a rerun from
/// the state before it draws the same values.
fn seed(k: usize) -> u64 {
    1000 + 1_000_000 * k as u64
}

fn reference<S: Backing>() -> Vec<Reference> {
    let mut out = Vec::new();
    let mut objects = Objects::new();
    for (k, (name, command)) in script::<S>().into_iter().enumerate() {
        let c = ctx(
            FaultyStore::counting(S::from_objects(&objects)),
            Seeded::new(seed(k)),
        );
        command(&c).unwrap_or_else(|e| panic!("reference run, {name}: {e}"));
        let mut env = c.env.lock().unwrap();
        let ops = faulty(&mut env)
            .ops
            .load(std::sync::atomic::Ordering::SeqCst);
        let after = faulty(&mut env).inner.objects();
        out.push(Reference {
            before: objects,
            after: after.clone(),
            rng_seed: seed(k),
            ops,
        });
        objects = after;
    }
    out
}

fn every_point<S: Backing>(faults: &[Fault]) -> (u64, u64, u64) {
    let refs = reference::<S>();
    let (mut runs, mut acked, mut refused) = (0, 0, 0);
    for (k, (name, command)) in script::<S>().into_iter().enumerate() {
        let r = &refs[k];
        assert!(r.ops > 0, "{name} makes no store operation");
        for &fault in faults {
            for at in 0..r.ops {
                let inner = S::from_objects(&r.before);
                let mut store = FaultyStore::failing(inner, at, fault);
                if let Some(dir) = store.inner.dir().map(|d| d.to_path_buf()) {
                    store = store.with_dir(&dir);
                }
                let c = ctx(store, Seeded::new(r.rng_seed));
                let result = command(&c);
                let env = Arc::try_unwrap(c.env).ok().expect("one owner");
                let mut env = env.into_inner().unwrap();
                assert!(faulty(&mut env).tripped(), "{name}: op {at} never happened");
                let what = format!("{name}, {fault:?} at store operation {at} of {}", r.ops);
                if matches!(fault, Fault::FailOnce | Fault::AppliedButFailed) {
                    // No restart: the same environment, cache and all, goes on.
                    node_info(&mut env);
                    let served = through_cache(&mut env);
                    let stored = faulty(&mut env).inner.objects();
                    assert!(
                        served == stored,
                        "{what}: the cache serves records the store does not hold \
                         (result {result:?})\n  cache {:?}\n  store {:?}",
                        served.keys().collect::<Vec<_>>(),
                        stored.keys().collect::<Vec<_>>()
                    );
                    assert!(
                        stored == r.after || (stored == r.before && result.is_err()),
                        "{what}: going on without a restart, the store is neither the state \
                         before nor after the command (result {result:?})"
                    );
                }
                let store = std::mem::replace(
                    &mut faulty(&mut env).inner,
                    S::from_objects(&Objects::new()),
                );
                let state = recovered(store);
                if state == r.after {
                    acked += u64::from(result.is_ok());
                } else {
                    assert!(
                        state == r.before,
                        "{what}: after recovery the store is neither the state before \
                         the command nor after it (result {result:?})\n  got {:?}\n  before {:?}\n  after {:?}",
                        state.keys().collect::<Vec<_>>(),
                        r.before.keys().collect::<Vec<_>>(),
                        r.after.keys().collect::<Vec<_>>()
                    );
                    assert!(
                        result.is_err(),
                        "{what}: the command was acknowledged but is not in the store"
                    );
                    refused += 1;
                }
                runs += 1;
            }
        }
    }
    (runs, acked, refused)
}

fn on_host() -> bool {
    if backend() == Backend::Tee {
        eprintln!("the every-point test drives seam-core's store directly: host only");
        return false;
    }
    true
}

#[test]
fn every_store_operation_failing_leaves_before_or_after() {
    if !on_host() {
        return;
    }
    let (runs, acked, refused) = every_point::<MemStore>(&[
        Fault::FailOnce,
        Fault::AppliedButFailed,
        Fault::StopTheWorld,
    ]);
    eprintln!("memory store: {runs} runs, {acked} acknowledged and applied, {refused} not applied");
    assert!(runs > 50 && refused > 0);
}

#[test]
fn every_power_cut_in_the_simulator_file_store_leaves_before_or_after() {
    if !on_host() {
        return;
    }
    let (runs, acked, refused) =
        every_point::<Files>(&[Fault::StopTheWorld, Fault::TornTemp, Fault::UnrenamedTemp]);
    eprintln!("file store: {runs} runs, {acked} acknowledged and applied, {refused} not applied");
    assert!(runs > 50 && refused > 0);
}
