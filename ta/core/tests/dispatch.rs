//! The core end to end, in memory: who may call what (identity checked at
//! dispatch), the access decisions, and what a request whose names or SUIDs
//! break the rules gets.

use seam_core::store::MemStore;
use seam_core::{Caller, Platform, Rng, RngError, SecureEnvironment};
use seam_crypto::sign::{public_key, sign_message};
use seam_proto::*;

struct TestRng(u64);

impl Rng for TestRng {
    fn fill(&mut self, out: &mut [u8]) -> Result<(), RngError> {
        for b in out {
            // xorshift64: deterministic, good enough for keys nobody attacks.
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
const BOB: Caller = Caller::Client(ClientId([0xb0; 16]));

type Env = SecureEnvironment<MemStore, TestRng>;

fn name(s: &str) -> Name {
    Name::new(s).unwrap()
}

fn suid(n: u8) -> Suid {
    Suid::new(n).unwrap()
}

fn call_raw(env: &mut Env, caller: &Caller, bytes: &[u8]) -> Response {
    postcard::from_bytes(&env.process(caller, bytes)).unwrap()
}

fn call(env: &mut Env, caller: &Caller, op: Op) -> Response {
    call_raw(
        env,
        caller,
        &postcard::to_allocvec(&Request::new(op)).unwrap(),
    )
}

fn failed(r: &Response) -> Option<Reason> {
    match r.reply {
        Reply::Failed(reason) => {
            assert_eq!(reason.status().code(), r.status);
            Some(reason)
        }
        _ => None,
    }
}

fn node_id(env: &mut Env) -> NodeId {
    match call(env, &Caller::Public, Op::NodeInfo).reply {
        Reply::NodeInfo(NodeInfo { node: Some(n), .. }) => n.node_id,
        other => panic!("{other:?}"),
    }
}

fn admin(env: &mut Env, counter: u64, ops: &[AdminOp]) -> Response {
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
    let cmd = AdminCommand {
        se: name("op"),
        counter,
        ops: heapless::Vec::from_slice(ops).unwrap(),
        signature: Signature(sig),
    };
    call(env, &ALICE, Op::Admin(cmd))
}

/// A node with SE `op` holding P-256 key `k` (SUID 25) that Alice may sign
/// and verify with, and a `*` grant letting Alice create data objects.
fn fixture() -> Env {
    let mut env = SecureEnvironment::new(
        MemStore::default(),
        TestRng(0x5eed),
        Platform { security_level: 0 },
    );
    let issuer = PublicKey(public_key(&ISSUER).unwrap());
    let r = call(&mut env, &ALICE, Op::InitNode { issuer });
    assert_eq!(r.status, 2001, "{r:?}");
    let node_id = node_id(&mut env);
    let op = IssuerOp::CreateSe {
        se: name("op"),
        admin: PublicKey(public_key(&ADMIN).unwrap()),
        allow_plaintext_import: false,
    };
    let payload = IssuerPayload {
        domain: ISSUER_DOMAIN,
        node_id: &node_id,
        counter: 1,
        op: &op,
    };
    let sig = sign_message(&ISSUER, &postcard::to_allocvec(&payload).unwrap()).unwrap();
    let cmd = IssuerCommand {
        counter: 1,
        op,
        signature: Signature(sig),
    };
    assert_eq!(call(&mut env, &ALICE, Op::Issuer(cmd)).status, 2001);
    let grant = |object: &str, ops, s| AdminOp::Grant {
        object: object.try_into().unwrap(),
        entry: AclEntry {
            grantee: ClientId([0xa1; 16]),
            ops,
            suid: s,
        },
    };
    let r = admin(
        &mut env,
        1,
        &[
            AdminOp::GenerateKeyPair {
                object: name("k"),
                suid: suid(25),
            },
            grant("k", Ops::SIGN.union(Ops::VERIFY), Some(suid(25))),
            grant("*", Ops::CREATE, None),
        ],
    );
    assert_eq!(r.status, 2000, "{r:?}");
    env
}

fn sign(key: &str, s: u8) -> Op {
    Op::Sign {
        key: KeyRef {
            se: name("op"),
            key: name(key),
            suid: suid(s),
        },
        input: SignInput::Digest(Digest([7; 32])),
    }
}

#[test]
fn a_public_login_only_reads_public_information() {
    let mut env = fixture();
    let public = Caller::Public;
    assert_eq!(call(&mut env, &public, Op::NodeInfo).status, 2000);
    assert_eq!(call(&mut env, &public, Op::SeList).status, 2000);
    let info = call(&mut env, &public, Op::SeInfo { se: name("op") });
    assert_eq!(info.status, 2000, "{info:?}");
    for op in [
        Op::Random { len: 16 },
        Op::ObjectList { se: name("op") },
        sign("k", 25),
        Op::InitNode {
            issuer: PublicKey([4; 65]),
        },
        Op::Handshake(handshake::HandshakeOp::Close { session: 1 }),
    ] {
        let r = call(&mut env, &public, op);
        assert_eq!(failed(&r), Some(Reason::NoIdentity));
        assert_eq!(r.status, 4103);
    }
}

#[test]
fn keys_are_used_as_granted() {
    let mut env = fixture();
    let r = call(&mut env, &ALICE, sign("k", 25));
    assert!(matches!(r.reply, Reply::Signature(_)), "{r:?}");
    assert_eq!(
        failed(&call(&mut env, &BOB, sign("k", 25))),
        Some(Reason::NoPrivilege)
    );
    assert_eq!(
        failed(&call(&mut env, &ALICE, sign("k", 22))),
        Some(Reason::SuidMismatch)
    );
    // A missing key looks like one not granted.
    assert_eq!(
        failed(&call(&mut env, &ALICE, sign("nope", 25))),
        Some(Reason::NoPrivilege)
    );
    // Bob sees nothing of the SE; Alice sees her key.
    let objects = |env: &mut Env, who| match call(env, who, Op::ObjectList { se: name("op") }).reply
    {
        Reply::Objects(o) => o.len(),
        other => panic!("{other:?}"),
    };
    assert_eq!(objects(&mut env, &ALICE), 1);
    assert_eq!(objects(&mut env, &BOB), 0);
    assert_eq!(
        failed(&call(
            &mut env,
            &BOB,
            Op::AclShow {
                se: name("op"),
                object: name("k")
            }
        )),
        Some(Reason::NoPrivilege)
    );
}

#[test]
fn data_objects_belong_to_their_creator() {
    let mut env = fixture();
    let create = |data: &[u8]| Op::SdoCreate {
        se: name("op"),
        object: name("d"),
        data: seam_proto::Data::from_slice(data).unwrap(),
    };
    assert_eq!(
        failed(&call(&mut env, &BOB, create(b"x"))),
        Some(Reason::NoPrivilege)
    );
    assert_eq!(call(&mut env, &ALICE, create(b"x")).status, 2001);
    let retrieve = Op::SdoRetrieve {
        se: name("op"),
        object: name("d"),
    };
    let r = call(&mut env, &ALICE, retrieve.clone());
    assert_eq!(
        r.reply,
        Reply::Data(seam_proto::Data::from_slice(b"x").unwrap())
    );
    assert_eq!(
        failed(&call(&mut env, &BOB, retrieve)),
        Some(Reason::NoPrivilege)
    );
    let info = call(
        &mut env,
        &ALICE,
        Op::ObjectInfo {
            se: name("op"),
            object: name("d"),
        },
    );
    match info.reply {
        Reply::Object(o) => assert_eq!((o.kind, o.suid), (ObjectKind::Data, None)),
        other => panic!("{other:?}"),
    }
}

#[test]
fn grants_follow_the_suid_rules() {
    let mut env = fixture();
    let grant = |object: &str, ops, s| AdminOp::Grant {
        object: object.try_into().unwrap(),
        entry: AclEntry {
            grantee: ClientId([0xb0; 16]),
            ops,
            suid: s,
        },
    };
    let r = admin(&mut env, 2, &[grant("*", Ops::SIGN, None)]);
    assert_eq!(failed(&r), Some(Reason::InvalidSuid));
    let r = admin(&mut env, 2, &[grant("k", Ops::SIGN, Some(suid(22)))]);
    assert_eq!(failed(&r), Some(Reason::SuidMismatch));
    let r = admin(&mut env, 2, &[grant("gone", Ops::SIGN, Some(suid(25)))]);
    assert_eq!(failed(&r), Some(Reason::UnknownObject));
    let r = admin(&mut env, 2, &[grant("*", Ops::SIGN, Some(suid(25)))]);
    assert_eq!(r.status, 2000, "{r:?}");
    // A `*` grant tells its holder that a key is missing.
    assert_eq!(
        failed(&call(&mut env, &BOB, sign("nope", 25))),
        Some(Reason::UnknownObject)
    );
    assert!(matches!(
        call(&mut env, &BOB, sign("k", 25)).reply,
        Reply::Signature(_)
    ));
    // Replayed: the counter is spent.
    let r = admin(&mut env, 2, &[grant("*", Ops::SIGN, Some(suid(25)))]);
    assert_eq!(failed(&r), Some(Reason::StaleCounter));
}

#[test]
fn names_and_suids_breaking_the_rules_are_malformed() {
    let mut env = fixture();
    // Op::SeInfo with a hand-encoded name: version, variant 5, length, bytes.
    let se_info = |n: &[u8]| {
        let mut b = vec![PROTOCOL_VERSION as u8, 5, n.len() as u8];
        b.extend_from_slice(n);
        b
    };
    assert_eq!(call_raw(&mut env, &ALICE, &se_info(b"op")).status, 2000);
    for bad in [&b""[..], b".op", b"a/b", b"*", b"a b"] {
        let r = call_raw(&mut env, &ALICE, &se_info(bad));
        assert_eq!(failed(&r), Some(Reason::Malformed), "{bad:?}");
    }
    // A sign request whose SUID byte (the last of the KeyRef) is not a SUID.
    let good = postcard::to_allocvec(&Request::new(sign("k", 25))).unwrap();
    let at = good.iter().position(|b| *b == 25).unwrap();
    for bad in [0u8, 26, 50, 99] {
        let mut bytes = good.clone();
        bytes[at] = bad;
        let r = call_raw(&mut env, &ALICE, &bytes);
        assert_eq!(failed(&r), Some(Reason::Malformed), "SUID {bad}");
    }
    assert!(matches!(
        call_raw(&mut env, &ALICE, &good).reply,
        Reply::Signature(_)
    ));
}

/// A host library of protocol version 1 (before the TA owned its
/// handshakes) is told, in a way it can still decode, which version to use.
#[test]
fn version_1_requests_are_refused_naming_the_version() {
    let mut env = fixture();
    let mut old = postcard::to_allocvec(&Request::new(Op::NodeInfo)).unwrap();
    old[0] = 1;
    let r = call_raw(&mut env, &ALICE, &old);
    assert_eq!(r.status, 4000);
    assert_eq!(failed(&r), Some(Reason::UnsupportedVersion));
    assert!(Reason::UnsupportedVersion
        .describe()
        .contains(&format!("version {PROTOCOL_VERSION}")));
    // The response's layout is the one version 1 decodes: status, then
    // Reply::Failed (variant 1) with the reason's index.
    let bytes = postcard::to_allocvec(&r).unwrap();
    assert_eq!(&bytes[..3], &[0xa0, 0x1f, 1]);
}
