//! The core end to end, in memory: who may call what (identity checked at
//! dispatch), the access decisions, and what a request whose names or SUIDs
//! break the rules gets.

use seam_core::store::MemStore;
use seam_core::{Caller, ManualClock, Platform, Rng, RngError, SecureEnvironment};
use seam_crypto::sign::{public_key, sign_message_low_s as sign_message};
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

/// The platform time of every request in these tests.
const NOW: u64 = 1_700_000_000;

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
    env.set_clock(ManualClock::at(NOW * 1000));
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
                suid: suid(45),
                attributes: Default::default(),
            },
            grant("k", Ops::SIGN.union(Ops::VERIFY), Some(suid(45))),
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
        sign("k", 45),
        Op::InitNode {
            issuer: PublicKey([4; 65]),
        },
        Op::Handshake(handshake::HandshakeOp::Close { session: 1 }),
    ] {
        let r = call(&mut env, &public, op);
        assert_eq!(failed(&r), Some(Reason::NoIdentity));
        assert_eq!(r.status, 4106, "TS-0004: not authenticated");
    }
}

#[test]
fn keys_are_used_as_granted() {
    let mut env = fixture();
    let r = call(&mut env, &ALICE, sign("k", 45));
    assert!(matches!(r.reply, Reply::Signature(_)), "{r:?}");
    assert_eq!(
        failed(&call(&mut env, &BOB, sign("k", 45))),
        Some(Reason::NoPrivilege)
    );
    assert_eq!(
        failed(&call(&mut env, &ALICE, sign("k", 22))),
        Some(Reason::SuidMismatch)
    );
    // A missing key looks like one not granted.
    assert_eq!(
        failed(&call(&mut env, &ALICE, sign("nope", 45))),
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
    let r = admin(&mut env, 2, &[grant("gone", Ops::SIGN, Some(suid(45)))]);
    assert_eq!(failed(&r), Some(Reason::UnknownObject));
    let r = admin(&mut env, 2, &[grant("*", Ops::SIGN, Some(suid(45)))]);
    assert_eq!(r.status, 2000, "{r:?}");
    // A `*` grant tells its holder that a key is missing.
    assert_eq!(
        failed(&call(&mut env, &BOB, sign("nope", 45))),
        Some(Reason::UnknownObject)
    );
    assert!(matches!(
        call(&mut env, &BOB, sign("k", 45)).reply,
        Reply::Signature(_)
    ));
    // Replayed: the counter is spent.
    let r = admin(&mut env, 2, &[grant("*", Ops::SIGN, Some(suid(45)))]);
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
    let good = postcard::to_allocvec(&Request::new(sign("k", 45))).unwrap();
    let at = good.iter().position(|b| *b == 45).unwrap();
    for bad in [0u8, 20, 26, 30, 31, 50, 99] {
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

fn key(object: &str, s: u8) -> KeyRef {
    KeyRef {
        se: name("op"),
        key: name(object),
        suid: suid(s),
    }
}

fn data(bytes: &[u8]) -> Data {
    HeapVec::from_slice(bytes).unwrap()
}

fn secret_op(object: &str, s: u8, role: KeyRole, not_after: Option<u64>) -> AdminOp {
    AdminOp::GenerateSecret {
        object: name(object),
        suid: suid(s),
        len: 16,
        attributes: KeyAttributes { role, not_after },
    }
}

fn grant_all(object: &str, s: u8, who: &Caller) -> AdminOp {
    let Caller::Client(id) = who else {
        panic!("a grant needs an identity")
    };
    AdminOp::Grant {
        object: object.try_into().unwrap(),
        entry: AclEntry {
            grantee: *id,
            ops: Ops::ALL,
            suid: Some(suid(s)),
        },
    }
}

/// Every keyed generic operation on `k` under SUID `s`.
fn generic_ops(k: &str, s: u8) -> [Op; 6] {
    [
        Op::Mac {
            key: key(k, s),
            message: data(b"oneM2M Enrolment Key to Master Credential derivation"),
        },
        Op::MacVerify {
            key: key(k, s),
            message: data(b"m"),
            tag: Digest([0; 32]),
        },
        Op::Encrypt {
            key: key(k, s),
            alg: AeadAlg::Aes128Gcm,
            nonce_len: 12,
            aad: HeapVec::new(),
            plaintext: data(&[0; 32]),
        },
        Op::Decrypt {
            key: key(k, s),
            alg: AeadAlg::Aes128Gcm,
            nonce: heapless::Vec::from_slice(&[0; 12]).unwrap(),
            aad: HeapVec::new(),
            ciphertext: HeapVec::from_slice(&[0; 32]).unwrap(),
        },
        sign(k, s),
        Op::Verify {
            key: key(k, s),
            input: SignInput::Digest(Digest([7; 32])),
            signature: Signature([1; 64]),
        },
    ]
}

/// Issue 11: a caller with every grant on a derivation source (Ke, a
/// pairwise ESPrim key, a Kpsa) gets no generic operation out of it, so no
/// MAC, encryption or signature can reproduce a key derived from it (every
/// TS-0003 derivation is an HMAC keyed with its source). Before, a `mac`
/// grant on Ke returned Km in the clear.
#[test]
fn no_generic_operation_runs_on_a_derivation_source() {
    let mut env = fixture();
    let r = admin(
        &mut env,
        2,
        &[
            secret_op("ke", 10, KeyRole::Bootstrap, None),
            secret_op("pairwise", 23, KeyRole::Pairwise, None),
            secret_op("kpsa", 22, KeyRole::Operational, None),
        ],
    );
    assert_eq!(r.status, 2000, "{r:?}");
    let r = admin(
        &mut env,
        3,
        &[
            grant_all("ke", 10, &ALICE),
            grant_all("pairwise", 23, &ALICE),
            grant_all("kpsa", 22, &ALICE),
        ],
    );
    assert_eq!(r.status, 2000, "{r:?}");
    for (k, s) in [("ke", 10), ("pairwise", 23), ("kpsa", 22)] {
        for op in generic_ops(k, s) {
            let r = call(&mut env, &ALICE, op.clone());
            let refused = failed(&r);
            assert!(
                matches!(
                    refused,
                    Some(Reason::SuidForbidsOperation) | Some(Reason::WrongObjectKind)
                ),
                "{k}: {op:?} answered {r:?}"
            );
        }
    }
    // ...while each still derives what its role allows, into keys that do
    // their own job.
    let derive = |source: KeyRef, rule, object: &str| {
        Op::Derive(handshake::Derive {
            source,
            rule,
            object: name(object),
        })
    };
    let km = call(
        &mut env,
        &ALICE,
        derive(
            key("ke", 10),
            handshake::Derivation::Km {
                maf_id: "maf.example".try_into().unwrap(),
            },
            "km",
        ),
    );
    assert_eq!(km.status, 2001, "{km:?}");
    let r = call(
        &mut env,
        &ALICE,
        Op::Mac {
            key: key("km", 21),
            message: data(b"x"),
        },
    );
    assert!(matches!(r.reply, Reply::Mac(_)), "{r:?}");
    // A pairwise key does not derive Km, and an operational key is no Ke.
    let r = call(
        &mut env,
        &ALICE,
        derive(
            key("pairwise", 23),
            handshake::Derivation::Km {
                maf_id: "maf.example".try_into().unwrap(),
            },
            "km2",
        ),
    );
    assert_eq!(failed(&r), Some(Reason::SuidForbidsOperation));
}

/// Issue 11: roles and kinds are fixed at creation and must fit the SUID.
#[test]
fn a_key_is_created_only_with_a_suid_and_role_that_fit_it() {
    let mut env = fixture();
    // A P-256 key is a certificate credential (tens digit 4): not 12.
    let r = admin(
        &mut env,
        2,
        &[AdminOp::GenerateKeyPair {
            object: name("p"),
            suid: suid(12),
            attributes: KeyAttributes::default(),
        }],
    );
    assert_eq!(failed(&r), Some(Reason::InvalidSuid));
    // Ke is a use-0 secret; a pairwise key a use-3 one.
    let r = admin(
        &mut env,
        2,
        &[secret_op("ke", 12, KeyRole::Bootstrap, None)],
    );
    assert_eq!(failed(&r), Some(Reason::InvalidParameter));
    let r = admin(&mut env, 2, &[secret_op("pw", 24, KeyRole::Pairwise, None)]);
    assert_eq!(failed(&r), Some(Reason::InvalidParameter));
}

/// Issue 11: a `*` grant of CREATE only shows no data object, and a name
/// another caller (or the admin, unseen) holds is free to take; both
/// answers are those of an absent object.
#[test]
fn nothing_shows_to_a_caller_without_a_grant() {
    let mut env = fixture();
    let grant_create = AdminOp::Grant {
        object: "*".try_into().unwrap(),
        entry: AclEntry {
            grantee: ClientId([0xb0; 16]),
            ops: Ops::CREATE,
            suid: None,
        },
    };
    let r = admin(&mut env, 2, &[grant_create]);
    assert_eq!(r.status, 2000, "{r:?}");
    let create = |object: &str| Op::SdoCreate {
        se: name("op"),
        object: name(object),
        data: data(b"alice's"),
    };
    assert_eq!(call(&mut env, &ALICE, create("d")).status, 2001);
    let list = |env: &mut Env, who| match call(env, who, Op::ObjectList { se: name("op") }).reply {
        Reply::Objects(o) => o.iter().map(|o| o.name.to_string()).collect::<Vec<_>>(),
        other => panic!("{other:?}"),
    };
    // Before, Bob's CREATE-only `*` grant listed Alice's "d".
    assert_eq!(list(&mut env, &BOB), Vec::<String>::new());
    // Before, Bob's create of "d" and of the admin's "k" answered 5106.
    assert_eq!(call(&mut env, &BOB, create("d")).status, 2001);
    assert_eq!(call(&mut env, &BOB, create("k")).status, 2001);
    assert_eq!(list(&mut env, &BOB), ["d", "k"]);
    // Each reads its own "d"; Alice's own name is a CONFLICT (4105).
    let retrieve = Op::SdoRetrieve {
        se: name("op"),
        object: name("d"),
    };
    assert_eq!(
        call(&mut env, &ALICE, retrieve.clone()).reply,
        Reply::Data(data(b"alice's"))
    );
    assert_eq!(
        call(&mut env, &BOB, retrieve).reply,
        Reply::Data(data(b"alice's"))
    );
    let again = call(&mut env, &ALICE, create("d"));
    assert_eq!(
        (again.status, failed(&again)),
        (4105, Some(Reason::AlreadyExists))
    );
    // Alice may see "k" (she holds a grant on it): for her it is a conflict.
    assert_eq!(
        failed(&call(&mut env, &ALICE, create("k"))),
        Some(Reason::AlreadyExists)
    );
}

/// Issue 11: callers' objects are bounded per caller and in all, so the
/// admin keeps room to provision.
#[test]
fn callers_cannot_fill_the_se() {
    let mut env = fixture();
    let mut created = 0;
    for i in 0..MAX_OBJECTS_PER_SE {
        let r = call(
            &mut env,
            &ALICE,
            Op::SdoCreate {
                se: name("op"),
                object: name(&format!("d{i}")),
                data: data(b"x"),
            },
        );
        if r.status == 2001 {
            created += 1;
        } else {
            assert_eq!(failed(&r), Some(Reason::LimitReached));
        }
    }
    assert_eq!(created, 8, "one caller's quota");
    // The admin still provisions up to the SE's limit.
    for i in 1..(MAX_OBJECTS_PER_SE - 8) {
        let op = secret_op(&format!("a{i}"), 14, KeyRole::Operational, None);
        let r = admin(&mut env, 1 + i as u64, &[op]);
        assert_eq!(r.status, 2000, "admin object {i}: {r:?}");
    }
}

/// Issue 11: the high-S twin of a valid signature is refused, for admin
/// commands and for `Verify`.
#[test]
fn high_s_twins_are_refused() {
    let mut env = fixture();
    // n of P-256: s' = n - s is the other valid `s`.
    const N: [u8; 32] = [
        0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63,
        0x25, 0x51,
    ];
    fn twin(sig: &[u8; 64]) -> [u8; 64] {
        let mut out = *sig;
        let mut borrow = 0i16;
        for i in (0..32).rev() {
            let d = i16::from(N[i]) - i16::from(sig[32 + i]) - borrow;
            out[32 + i] = d.rem_euclid(256) as u8;
            borrow = i16::from(d < 0);
        }
        out
    }
    let Reply::Signature(sig) = call(&mut env, &ALICE, sign("k", 45)).reply else {
        panic!("no signature")
    };
    let verify = |s: [u8; 64]| Op::Verify {
        key: key("k", 45),
        input: SignInput::Digest(Digest([7; 32])),
        signature: Signature(s),
    };
    assert_eq!(
        call(&mut env, &ALICE, verify(sig.0)).reply,
        Reply::Verified(true)
    );
    assert_eq!(
        call(&mut env, &ALICE, verify(twin(&sig.0))).reply,
        Reply::Verified(false)
    );
    // An admin command whose signature is the twin of a valid one.
    let node_id = node_id(&mut env);
    let ops = [secret_op("x", 14, KeyRole::Operational, None)];
    let payload = AdminPayload {
        domain: ADMIN_DOMAIN,
        node_id: &node_id,
        se: "op",
        se_instance: 1,
        counter: 2,
        ops: &ops,
    };
    let low = sign_message(&ADMIN, &postcard::to_allocvec(&payload).unwrap()).unwrap();
    let cmd = |s| AdminCommand {
        se: name("op"),
        counter: 2,
        ops: heapless::Vec::from_slice(&ops).unwrap(),
        signature: Signature(s),
    };
    let r = call(&mut env, &ALICE, Op::Admin(cmd(twin(&low))));
    assert_eq!(failed(&r), Some(Reason::BadSignature));
    assert_eq!(call(&mut env, &ALICE, Op::Admin(cmd(low))).status, 2000);
    // Replayed: 4106, the command no longer authenticates anyone.
    let r = call(&mut env, &ALICE, Op::Admin(cmd(low)));
    assert_eq!((r.status, failed(&r)), (4106, Some(Reason::StaleCounter)));
}

/// Issue 11 (TS-0003 §10.7): a key past its `not_after` is refused, and a
/// key derived from it never outlives it.
#[test]
fn keys_expire_and_derived_keys_inherit_the_cap() {
    let mut env = fixture();
    let r = admin(
        &mut env,
        2,
        &[
            secret_op("old", 14, KeyRole::Operational, Some(NOW)),
            secret_op("ke", 10, KeyRole::Bootstrap, Some(NOW + 60)),
            grant_all("old", 14, &ALICE),
            grant_all("ke", 10, &ALICE),
        ],
    );
    assert_eq!(r.status, 2000, "{r:?}");
    let encrypt = Op::Encrypt {
        key: key("old", 14),
        alg: AeadAlg::Aes128Gcm,
        nonce_len: 12,
        aad: HeapVec::new(),
        plaintext: data(b"x"),
    };
    let r = call(&mut env, &ALICE, encrypt);
    assert_eq!((r.status, failed(&r)), (4005, Some(Reason::KeyExpired)));
    let r = call(
        &mut env,
        &ALICE,
        Op::Derive(handshake::Derive {
            source: key("ke", 10),
            rule: handshake::Derivation::Km {
                maf_id: "maf.example".try_into().unwrap(),
            },
            object: name("km"),
        }),
    );
    match r.reply {
        Reply::Derived(info) => assert_eq!(info.attributes.not_after, Some(NOW + 60)),
        other => panic!("{other:?}"),
    }
}

/// Issue 11: `Encrypt` draws its nonce; two encryptions of one plaintext
/// never share one.
#[test]
fn encrypt_draws_a_fresh_nonce_each_time() {
    let mut env = fixture();
    let r = admin(
        &mut env,
        2,
        &[
            secret_op("aes", 14, KeyRole::Operational, None),
            grant_all("aes", 14, &ALICE),
        ],
    );
    assert_eq!(r.status, 2000, "{r:?}");
    let encrypt = |len| Op::Encrypt {
        key: key("aes", 14),
        alg: AeadAlg::Aes128Ccm,
        nonce_len: len,
        aad: HeapVec::new(),
        plaintext: data(b"same"),
    };
    let nonce = |env: &mut Env| match call(env, &ALICE, encrypt(13)).reply {
        Reply::Ciphertext { nonce, .. } => nonce,
        other => panic!("{other:?}"),
    };
    let (a, b) = (nonce(&mut env), nonce(&mut env));
    assert_eq!(a.len(), 13);
    assert_ne!(a, b);
    assert_eq!(
        failed(&call(&mut env, &ALICE, encrypt(6))),
        Some(Reason::InvalidParameter)
    );
}

/// ESPrim derives sessionESPrimKey = HMAC(key, rands ‖ label) inside, so it
/// takes only a `Pairwise` key, on which no generic operation runs. An
/// `Operational` use-3 key allows `MAC`, which would compute that very
/// sessionESPrimKey in the clear: ESPrim refuses it, as it refuses the
/// (operational) sessionESPrimKey a `Derive` stores.
#[test]
fn esprim_takes_only_a_pairwise_key() {
    use seam_proto::handshake::{Derivation, Derive, SESSION_ESPRIM_LABEL};
    use seam_proto::jose::{EsPrimRands, JoseOp, JweAlg, JweEnc};
    let mut env = fixture();
    let r = admin(
        &mut env,
        2,
        &[
            secret_op("pw", 23, KeyRole::Pairwise, None),
            secret_op("op3", 23, KeyRole::Operational, None),
        ],
    );
    assert_eq!(r.status, 2000, "{r:?}");
    let r = admin(
        &mut env,
        3,
        &[grant_all("pw", 23, &ALICE), grant_all("op3", 23, &ALICE)],
    );
    assert_eq!(r.status, 2000, "{r:?}");
    let (receiver, originator) = ([1u8; 16], [2u8; 16]);
    let esprim = |k: &str| {
        Op::Jose(JoseOp::EsPrimEncrypt {
            key: key(k, 23),
            rands: EsPrimRands {
                receiver: heapless::Vec::from_slice(&receiver).unwrap(),
                originator: heapless::Vec::from_slice(&originator).unwrap(),
            },
            enc: JweEnc::A256Gcm,
            header: HeapVec::from_slice(br#"{"alg":"dir","enc":"A256GCM"}"#).unwrap(),
            plaintext: data(b"x"),
        })
    };
    let r = call(&mut env, &ALICE, esprim("pw"));
    assert_eq!(r.status, 2000, "{r:?}");
    let r = call(&mut env, &ALICE, esprim("op3"));
    assert_eq!(failed(&r), Some(Reason::SuidForbidsOperation), "{r:?}");

    // Nothing generic on the pairwise key: not the MAC that is
    // sessionESPrimKey, not a JWE `dir`, not any other.
    let session_mac = Op::Mac {
        key: key("pw", 23),
        message: data(&[&receiver[..], &originator, SESSION_ESPRIM_LABEL.as_bytes()].concat()),
    };
    let jwe_dir = Op::Jose(JoseOp::JweEncrypt {
        key: key("pw", 23),
        alg: JweAlg::Dir,
        enc: JweEnc::A128Gcm,
        header: HeapVec::from_slice(br#"{"alg":"dir","enc":"A128GCM"}"#).unwrap(),
        plaintext: data(b"x"),
    });
    for op in generic_ops("pw", 23)
        .into_iter()
        .chain([session_mac, jwe_dir])
    {
        let r = call(&mut env, &ALICE, op.clone());
        assert!(
            matches!(
                failed(&r),
                Some(Reason::SuidForbidsOperation) | Some(Reason::WrongObjectKind)
            ),
            "{op:?} answered {r:?}"
        );
    }

    // The stored sessionESPrimKey is an operational key: no ESPrim source.
    let r = call(
        &mut env,
        &ALICE,
        Op::Derive(Derive {
            source: key("pw", 23),
            rule: Derivation::SessionEsPrim {
                receiver_rand: heapless::Vec::from_slice(&receiver).unwrap(),
                originator_rand: heapless::Vec::from_slice(&originator).unwrap(),
            },
            object: name("session"),
        }),
    );
    assert_eq!(r.status, 2001, "{r:?}");
    let r = call(&mut env, &ALICE, esprim("session"));
    assert_eq!(failed(&r), Some(Reason::SuidForbidsOperation), "{r:?}");
}
