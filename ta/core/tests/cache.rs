//! The write-through record cache: what it serves, what it writes, what it
//! forgets, and the Secure Environment giving the same answers over it.

use std::cell::RefCell;
use std::rc::Rc;

use seam_core::store::MemStore;
use seam_core::{
    CachingStore, Caller, Platform, Rng, RngError, SecureEnvironment, Store, StoreError,
};
use seam_crypto::sign::{public_key, sign_message_low_s as sign_message};
use seam_proto::*;

/// A MemStore that counts reads and fails on command; shared with the test
/// through an Rc so the test can look behind the cache and tamper.
#[derive(Default)]
struct Backing {
    mem: MemStore,
    reads: usize,
    lists: usize,
    fail_next: Option<StoreError>,
}

#[derive(Clone, Default)]
struct Probe(Rc<RefCell<Backing>>);

impl Probe {
    fn fail(&self) -> Result<(), StoreError> {
        match self.0.borrow_mut().fail_next.take() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
    fn reads(&self) -> usize {
        self.0.borrow().reads
    }
    fn raw(&self, name: &str) -> Option<Vec<u8>> {
        self.0.borrow().mem.objects.get(name).cloned()
    }
    fn tamper(&self, name: &str, data: &[u8]) {
        self.0
            .borrow_mut()
            .mem
            .objects
            .insert(name.into(), data.to_vec());
    }
    fn fail_next(&self, e: StoreError) {
        self.0.borrow_mut().fail_next = Some(e);
    }
}

impl Store for Probe {
    fn get(&mut self, name: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.0.borrow_mut().reads += 1;
        self.fail()?;
        self.0.borrow_mut().mem.get(name)
    }
    fn put(&mut self, name: &str, data: &[u8]) -> Result<(), StoreError> {
        self.fail()?;
        self.0.borrow_mut().mem.put(name, data)
    }
    fn delete(&mut self, name: &str) -> Result<(), StoreError> {
        self.fail()?;
        self.0.borrow_mut().mem.delete(name)
    }
    fn list(&mut self) -> Result<Vec<String>, StoreError> {
        self.0.borrow_mut().lists += 1;
        self.fail()?;
        self.0.borrow_mut().mem.list()
    }
}

fn cached(max_entries: usize, max_bytes: usize) -> (CachingStore<Probe>, Probe) {
    let probe = Probe::default();
    (
        CachingStore::new(probe.clone(), max_entries, max_bytes),
        probe,
    )
}

#[test]
fn a_second_read_is_served_from_memory() {
    let (mut c, probe) = cached(4, 1024);
    probe.tamper("a", b"one");
    assert_eq!(c.get("a").unwrap().as_deref(), Some(&b"one"[..]));
    assert_eq!(c.get("a").unwrap().as_deref(), Some(&b"one"[..]));
    assert_eq!(probe.reads(), 1);
    assert_eq!(c.stats().hits, 1);
    assert_eq!(c.stats().misses, 1);
}

#[test]
fn writes_reach_the_store_and_are_then_served() {
    let (mut c, probe) = cached(4, 1024);
    c.put("a", b"v1").unwrap();
    assert_eq!(probe.raw("a").as_deref(), Some(&b"v1"[..]));
    c.put("a", b"v2").unwrap();
    assert_eq!(probe.raw("a").as_deref(), Some(&b"v2"[..]));
    assert_eq!(c.get("a").unwrap().as_deref(), Some(&b"v2"[..]));
    assert_eq!(
        probe.reads(),
        0,
        "a written record is served without a read"
    );
    c.delete("a").unwrap();
    assert_eq!(probe.raw("a"), None);
    assert_eq!(c.get("a").unwrap(), None);
}

#[test]
fn a_failed_write_changes_nothing_cached_and_drops_the_cache() {
    let (mut c, probe) = cached(4, 1024);
    c.put("a", b"old").unwrap();
    c.put("b", b"other").unwrap();
    probe.fail_next(StoreError::Full);
    assert_eq!(c.put("a", b"new"), Err(StoreError::Full));
    assert_eq!(c.stats().entries, 0, "the cache is dropped on an error");
    // The next read goes to the store and sees what it holds.
    assert_eq!(c.get("a").unwrap().as_deref(), Some(&b"old"[..]));
    assert_eq!(c.get("b").unwrap().as_deref(), Some(&b"other"[..]));
    assert_eq!(probe.reads(), 2);
}

#[test]
fn a_read_error_drops_the_cache_and_is_reported() {
    let (mut c, probe) = cached(4, 1024);
    c.put("a", b"A").unwrap();
    probe.tamper("b", b"B");
    probe.fail_next(StoreError::Corrupt);
    assert_eq!(c.get("b"), Err(StoreError::Corrupt));
    assert_eq!(c.stats().entries, 0);
    assert_eq!(c.get("a").unwrap().as_deref(), Some(&b"A"[..]));
    assert_eq!(probe.reads(), 2, "`a` was read again from the store");
}

#[test]
fn failed_delete_and_list_drop_the_cache() {
    let (mut c, probe) = cached(4, 1024);
    c.put("a", b"A").unwrap();
    probe.fail_next(StoreError::Failure);
    assert_eq!(c.delete("a"), Err(StoreError::Failure));
    assert_eq!(c.stats().entries, 0);
    assert_eq!(probe.raw("a").as_deref(), Some(&b"A"[..]));
    c.get("a").unwrap();
    probe.fail_next(StoreError::Failure);
    assert_eq!(c.list(), Err(StoreError::Failure));
    assert_eq!(c.stats().entries, 0);
}

#[test]
fn the_least_recently_used_record_is_evicted() {
    let (mut c, probe) = cached(2, 1024);
    for n in ["a", "b", "c"] {
        probe.tamper(n, n.as_bytes());
    }
    c.get("a").unwrap();
    c.get("b").unwrap();
    c.get("a").unwrap(); // `b` is now the least recently used
    c.get("c").unwrap(); // evicts `b`
    assert_eq!(c.stats().entries, 2);
    let before = probe.reads();
    c.get("a").unwrap();
    c.get("c").unwrap();
    assert_eq!(probe.reads(), before, "a and c stayed");
    c.get("b").unwrap();
    assert_eq!(probe.reads(), before + 1, "b was evicted");
}

#[test]
fn the_byte_bound_holds_and_an_oversized_record_is_not_cached() {
    let (mut c, probe) = cached(8, 10);
    c.put("a", &[1; 6]).unwrap();
    c.put("b", &[2; 4]).unwrap();
    assert_eq!(c.stats().bytes, 10);
    c.put("c", &[3; 5]).unwrap(); // evicts `a`
    assert_eq!(c.stats().bytes, 9);
    assert_eq!(c.stats().entries, 2);
    c.put("big", &[4; 11]).unwrap();
    assert_eq!(probe.raw("big").map(|v| v.len()), Some(11));
    assert!(c.stats().bytes <= 10);
    let before = probe.reads();
    assert_eq!(c.get("big").unwrap().map(|v| v.len()), Some(11));
    assert_eq!(probe.reads(), before + 1, "big is read from the store");
    // Replacing a cached record by an oversized one drops the old bytes.
    c.put("b", &[5; 11]).unwrap();
    assert_eq!(c.get("b").unwrap().unwrap(), vec![5; 11]);
}

#[test]
fn the_listing_is_cached_and_answers_absent_names() {
    let (mut c, probe) = cached(4, 1024);
    probe.tamper("x", b"X");
    assert_eq!(c.list().unwrap(), vec!["x".to_string()]);
    c.put("y", b"Y").unwrap();
    assert_eq!(c.list().unwrap(), vec!["x".to_string(), "y".to_string()]);
    c.delete("x").unwrap();
    assert_eq!(c.list().unwrap(), vec!["y".to_string()]);
    assert_eq!(probe.0.borrow().lists, 1);
    let before = probe.reads();
    assert_eq!(c.get("nothing").unwrap(), None);
    assert_eq!(probe.reads(), before, "a name not listed is absent");
}

#[test]
fn tampering_behind_a_cached_record_is_seen_after_clear() {
    let (mut c, probe) = cached(4, 1024);
    c.put("se.a", b"genuine").unwrap();
    probe.tamper("se.a", b"forged");
    // Served: the copy the cache wrote, not the changed backing bytes.
    assert_eq!(c.get("se.a").unwrap().as_deref(), Some(&b"genuine"[..]));
    c.clear();
    assert_eq!(c.get("se.a").unwrap().as_deref(), Some(&b"forged"[..]));
}

struct TestRng(u64);

impl Rng for TestRng {
    fn fill(&mut self, out: &mut [u8]) -> Result<(), RngError> {
        for b in out {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            *b = self.0 as u8;
        }
        Ok(())
    }
}

const ISSUER: [u8; 32] = [0x11; 32];
const ADMIN: [u8; 32] = [0x22; 32];
const ALICE: Caller = Caller::Client(ClientId([0xa1; 16]));

fn name(s: &str) -> Name {
    Name::new(s).unwrap()
}

fn call<S: Store>(env: &mut SecureEnvironment<S, TestRng>, op: Op) -> Vec<u8> {
    env.process(&ALICE, &postcard::to_allocvec(&Request::new(op)).unwrap())
}

fn node_id<S: Store>(env: &mut SecureEnvironment<S, TestRng>) -> NodeId {
    let r: Response = postcard::from_bytes(&call(env, Op::NodeInfo)).unwrap();
    match r.reply {
        Reply::NodeInfo(NodeInfo { node: Some(n), .. }) => n.node_id,
        other => panic!("{other:?}"),
    }
}

fn issuer<S: Store>(
    env: &mut SecureEnvironment<S, TestRng>,
    counter: u64,
    op: IssuerOp,
) -> Vec<u8> {
    let node_id = node_id(env);
    let payload = IssuerPayload {
        domain: ISSUER_DOMAIN,
        node_id: &node_id,
        counter,
        op: &op,
    };
    let sig = sign_message(&ISSUER, &postcard::to_allocvec(&payload).unwrap()).unwrap();
    call(
        env,
        Op::Issuer(IssuerCommand {
            counter,
            op,
            signature: Signature(sig),
        }),
    )
}

fn admin<S: Store>(
    env: &mut SecureEnvironment<S, TestRng>,
    counter: u64,
    ops: &[AdminOp],
) -> Vec<u8> {
    let node_id = node_id(env);
    let payload = AdminPayload {
        domain: ADMIN_DOMAIN,
        node_id: &node_id,
        se: "op",
        se_instance: 1,
        counter,
        ops,
    };
    let sig = sign_message(&ADMIN, &postcard::to_allocvec(&payload).unwrap()).unwrap();
    call(
        env,
        Op::Admin(AdminCommand {
            se: name("op"),
            counter,
            ops: heapless::Vec::from_slice(ops).unwrap(),
            signature: Signature(sig),
        }),
    )
}

/// Provisioning, use, refusals and retirement: every response.
fn story<S: Store>(env: &mut SecureEnvironment<S, TestRng>) -> Vec<Vec<u8>> {
    let suid = Suid::new(45).unwrap();
    let key = KeyRef {
        se: name("op"),
        key: name("k"),
        suid,
    };
    let sign = || Op::Sign {
        key: key.clone(),
        input: SignInput::Digest(Digest([7; 32])),
    };
    let create = IssuerOp::CreateSe {
        se: name("op"),
        admin: PublicKey(public_key(&ADMIN).unwrap()),
        allow_plaintext_import: false,
    };
    let generate = [
        AdminOp::GenerateKeyPair {
            object: name("k"),
            suid,
            attributes: Default::default(),
        },
        AdminOp::Grant {
            object: GrantTarget::Object(name("k")),
            entry: AclEntry {
                grantee: ClientId([0xa1; 16]),
                ops: Ops::SIGN,
                suid: Some(suid),
            },
        },
    ];
    let mut out = vec![
        call(env, Op::NodeInfo),
        call(env, sign()),
        call(
            env,
            Op::InitNode {
                issuer: PublicKey(public_key(&ISSUER).unwrap()),
            },
        ),
    ];
    out.push(issuer(env, 1, create.clone()));
    out.push(issuer(env, 1, create)); // a replayed counter
    out.push(admin(env, 1, &generate));
    out.push(admin(env, 1, &generate)); // stale
    for _ in 0..3 {
        out.push(call(env, sign()));
    }
    out.push(call(env, Op::SeList));
    out.push(call(env, Op::SeInfo { se: name("op") }));
    out.push(call(env, Op::ObjectList { se: name("op") }));
    out.push(call(env, Op::SeInfo { se: name("nope") }));
    out.push(issuer(env, 2, IssuerOp::RetireSe { se: name("op") }));
    out.push(call(env, sign()));
    out.push(call(env, Op::SeList));
    out
}

/// The same requests through the same core, with and without the cache,
/// get byte-identical responses; the cached one reads storage far less.
#[test]
fn the_core_answers_the_same_over_the_cache() {
    let platform = Platform { security_level: 2 };
    let plain_probe = Probe::default();
    let mut plain = SecureEnvironment::new(plain_probe.clone(), TestRng(7), platform);
    let probe = Probe::default();
    let mut fast = SecureEnvironment::new(
        CachingStore::new(probe.clone(), 9, 32 * 1024),
        TestRng(7),
        platform,
    );
    let expected = story(&mut plain);
    let got = story(&mut fast);
    assert_eq!(expected.len(), got.len());
    for (i, (e, g)) in expected.iter().zip(&got).enumerate() {
        assert_eq!(e, g, "response {i} differs over the cache");
    }
    // The story does what it says: provisioning, use, refusals, retirement.
    let statuses: Vec<u16> = got
        .iter()
        .map(|r| postcard::from_bytes::<Response>(r).unwrap().status)
        .collect();
    assert_eq!(
        statuses,
        [
            2000, 4004, 2001, 2001, 4106, 2000, 4106, 2000, 2000, 2000, 2000, 2000, 2000, 4004,
            2002, 4004, 2000
        ]
    );
    assert_eq!(plain_probe.0.borrow().mem, probe.0.borrow().mem);
    println!(
        "storage reads: {} without the cache, {} with it",
        plain_probe.reads(),
        probe.reads()
    );
    assert!(probe.reads() * 4 <= plain_probe.reads());
}
