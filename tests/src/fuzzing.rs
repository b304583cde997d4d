//! A deterministic in-memory node for fuzzing `SecureEnvironment::process`
//! and for replaying the fuzz corpus in ordinary tests.

use seam::proto::handshake::{Framing, HandshakeOp};
use seam::proto::jose::{EsPrimRands, JoseOp, JweAlg, JweEnc};
use seam::proto::{
    heapless, AclEntry, AdminOp, IssuerOp, KeyAttributes, KeyRef, KeyRole, Op, Ops, Request,
    SignInput,
};
use seam::{AdminKey, CommandSigner};
use seam_core::store::MemStore;
use seam_core::{Caller, Platform, SecureEnvironment};

use crate::testing::Seeded;
use crate::{encode, Who, TEST_ISSUER_SCALAR};

pub type FuzzNode = SecureEnvironment<MemStore, Seeded>;

pub const ADMIN_SCALAR: [u8; 32] = [0x42; 32];
pub const SE: &str = "fuzz";

/// The caller the fixture grants its keys to.
pub fn caller() -> Caller {
    Caller::Client(Who::Group(61001).id())
}

fn run(node: &mut FuzzNode, caller: &Caller, op: Op) {
    let response = crate::decode(&node.process(caller, &encode(&Request::new(op.clone()))));
    assert!(
        response.status < 3000,
        "fixture step {op:?} failed: {response:?}"
    );
}

/// A node with an issuer, one SE, an EC key and an AES key, both granted
/// to [`caller`]. Built once; each call gets a fresh copy of its store.
pub fn node() -> FuzzNode {
    use std::sync::OnceLock;
    static STORE: OnceLock<MemStore> = OnceLock::new();
    let store = STORE.get_or_init(|| {
        let mut node = build();
        node.store_mut().clone()
    });
    SecureEnvironment::new(
        store.clone(),
        Seeded::new(1 << 32),
        Platform { security_level: 0 },
    )
}

fn build() -> FuzzNode {
    let mut node = SecureEnvironment::new(
        MemStore::default(),
        Seeded::new(0),
        Platform { security_level: 0 },
    );
    let issuer = AdminKey::from_scalar(&TEST_ISSUER_SCALAR).unwrap();
    let admin = AdminKey::from_scalar(&ADMIN_SCALAR).unwrap();
    let me = caller();
    run(
        &mut node,
        &me,
        Op::InitNode {
            issuer: issuer.public_key(),
        },
    );
    let identity = node_identity(&mut node);
    let create = IssuerOp::CreateSe {
        se: SE.try_into().unwrap(),
        admin: admin.public_key(),
        allow_plaintext_import: true,
    };
    run(
        &mut node,
        &me,
        Op::Issuer(seam::client::sign_issuer(&issuer, &identity, 1, create).unwrap()),
    );
    let grant = |object: &str, ops: Ops, suid: u8| AdminOp::Grant {
        object: object.try_into().unwrap(),
        entry: AclEntry {
            grantee: Who::Group(61001).id(),
            ops,
            suid: Some(crate::suid(suid)),
        },
    };
    let ops = vec![
        AdminOp::GenerateKeyPair {
            object: "sig".try_into().unwrap(),
            suid: crate::suid(45),
            attributes: Default::default(),
        },
        AdminOp::GenerateSecret {
            object: "aes".try_into().unwrap(),
            suid: crate::suid(24),
            len: 16,
            attributes: Default::default(),
        },
        grant("sig", Ops::SIGN.union(Ops::VERIFY), 45),
        grant("aes", Ops::ENCRYPT.union(Ops::DECRYPT), 24),
    ];
    run(
        &mut node,
        &me,
        Op::Admin(seam::client::sign_admin_for(&admin, &identity.node_id, SE, 1, 1, ops).unwrap()),
    );
    // An ESPrim pairwise key (an admin command holds at most 4 operations).
    let ops = vec![
        AdminOp::GenerateSecret {
            object: "esprim".try_into().unwrap(),
            suid: crate::suid(23),
            len: 32,
            // ESPrim takes only a pairwise key (a derivation source).
            attributes: KeyAttributes {
                role: KeyRole::Pairwise,
                not_after: None,
            },
        },
        grant("esprim", Ops::ENCRYPT.union(Ops::DECRYPT), 23),
    ];
    run(
        &mut node,
        &me,
        Op::Admin(
            seam::client::sign_admin_for(&admin, &identity.node_id, SE, 1, FIXTURE_COUNTER, ops)
                .unwrap(),
        ),
    );
    node
}

/// The admin counter of the fixture's last command: fixtures built on
/// [`node`] sign theirs from `FIXTURE_COUNTER + 1` on.
pub const FIXTURE_COUNTER: u64 = 2;

fn node_identity(node: &mut FuzzNode) -> seam::proto::NodeIdentity {
    let response =
        crate::decode(&node.process(&Caller::Public, &encode(&Request::new(Op::NodeInfo))));
    match response.reply {
        seam::proto::Reply::NodeInfo(info) => info.node.expect("initialised"),
        other => panic!("{other:?}"),
    }
}

/// Does the fixture's key still sign? (Checks that an input destroyed nothing.)
pub fn key_still_signs(node: &mut FuzzNode) -> bool {
    let key = KeyRef {
        se: SE.try_into().unwrap(),
        key: "sig".try_into().unwrap(),
        suid: crate::suid(45),
    };
    let op = Op::Sign {
        key,
        input: SignInput::Digest(seam::proto::Digest([7; 32])),
    };
    let response = crate::decode(&node.process(&caller(), &encode(&Request::new(op))));
    response.status == 2000
}

/// Valid requests of every kind against the fixture: the fuzz seed corpus.
/// A DTLS 1.2 ClientHello message offering ECDHE_ECDSA_WITH_AES_128_CCM_8
/// and the extended master secret.
fn client_hello() -> Vec<u8> {
    let mut body = vec![0xfe, 0xfd];
    body.extend_from_slice(&[0x5a; 32]);
    body.extend_from_slice(&[0, 0, 0, 2, 0xc0, 0xae, 1, 0, 0, 4, 0, 0x17, 0, 0]);
    let n = body.len();
    let len = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
    let mut m = vec![1];
    m.extend_from_slice(&len);
    m.extend_from_slice(&[0, 0, 0, 0, 0]);
    m.extend_from_slice(&len);
    m.extend_from_slice(&body);
    m
}

pub fn seeds() -> Vec<(String, Vec<u8>)> {
    let mut node = node();
    let identity = node_identity(&mut node);
    let admin = AdminKey::from_scalar(&ADMIN_SCALAR).unwrap();
    let issuer = AdminKey::from_scalar(&TEST_ISSUER_SCALAR).unwrap();
    let se = || -> seam::proto::Name { SE.try_into().unwrap() };
    let key = |k: &str, suid: u8| KeyRef {
        se: se(),
        key: k.try_into().unwrap(),
        suid: crate::suid(suid),
    };
    let data = |d: &[u8]| seam::proto::Data::from_slice(d).unwrap();
    let admin_cmd = |ops| {
        Op::Admin(
            seam::client::sign_admin_for(
                &admin,
                &identity.node_id,
                SE,
                1,
                FIXTURE_COUNTER + 1,
                ops,
            )
            .unwrap(),
        )
    };
    let ops: Vec<(&str, Op)> = vec![
        ("node-info", Op::NodeInfo),
        (
            "init",
            Op::InitNode {
                issuer: issuer.public_key(),
            },
        ),
        ("se-list", Op::SeList),
        ("se-info", Op::SeInfo { se: se() }),
        ("object-list", Op::ObjectList { se: se() }),
        (
            "object-info",
            Op::ObjectInfo {
                se: se(),
                object: "sig".try_into().unwrap(),
            },
        ),
        (
            "acl-show",
            Op::AclShow {
                se: se(),
                object: "sig".try_into().unwrap(),
            },
        ),
        (
            "sign",
            Op::Sign {
                key: key("sig", 45),
                input: SignInput::Message(data(b"hello")),
            },
        ),
        (
            "verify",
            Op::Verify {
                key: key("sig", 45),
                input: SignInput::Message(data(b"hello")),
                signature: seam::proto::Signature([1; 64]),
            },
        ),
        (
            "hash",
            Op::Hash {
                alg: seam::proto::HashAlg::Sha256,
                message: data(b"abc"),
            },
        ),
        ("random", Op::Random { len: 16 }),
        (
            "encrypt",
            Op::Encrypt {
                key: key("aes", 24),
                alg: seam::AeadAlg::Aes128Ccm8,
                nonce_len: 12,
                aad: Default::default(),
                plaintext: data(b"x"),
            },
        ),
        (
            "decrypt",
            Op::Decrypt {
                key: key("aes", 24),
                alg: seam::AeadAlg::Aes128Gcm,
                nonce: data(&[1; 12]).into_iter().collect(),
                aad: Default::default(),
                ciphertext: data(&[0; 17]).into_iter().collect(),
            },
        ),
        (
            "mac",
            Op::Mac {
                key: key("aes", 24),
                message: data(b"m"),
            },
        ),
        (
            "sdo-create",
            Op::SdoCreate {
                se: se(),
                object: "n".try_into().unwrap(),
                data: data(b"d"),
            },
        ),
        (
            "sdo-retrieve",
            Op::SdoRetrieve {
                se: se(),
                object: "n".try_into().unwrap(),
            },
        ),
        (
            "admin-generate",
            admin_cmd(vec![AdminOp::GenerateKeyPair {
                object: "k2".try_into().unwrap(),
                suid: crate::suid(41),
                attributes: Default::default(),
            }]),
        ),
        (
            "admin-import",
            admin_cmd(vec![AdminOp::ImportPlaintext {
                object: "p".try_into().unwrap(),
                suid: crate::suid(12),
                kind: seam::ObjectKind::Secret,
                material: data(&[3; 16]),
                attributes: Default::default(),
            }]),
        ),
        (
            "jwe-encrypt",
            Op::Jose(JoseOp::JweEncrypt {
                key: key("aes", 24),
                alg: JweAlg::Dir,
                enc: JweEnc::A128Gcm,
                header: data(br#"{"alg":"dir","enc":"A128GCM"}"#)
                    .into_iter()
                    .collect(),
                plaintext: data(b"x"),
            }),
        ),
        (
            "jwe-decrypt",
            Op::Jose(JoseOp::JweDecrypt {
                key: key("aes", 24),
                alg: JweAlg::A128Kw,
                enc: JweEnc::A128Gcm,
                protected: data(b"eyJhbGciOiJBMTI4S1cifQ").into_iter().collect(),
                epk: None,
                apu: Default::default(),
                apv: Default::default(),
                encrypted_key: data(&[5; 24]).into_iter().collect(),
                iv: [1; 12],
                ciphertext: data(&[0; 17]).into_iter().collect(),
            }),
        ),
        (
            "esprim-encrypt",
            Op::Jose(JoseOp::EsPrimEncrypt {
                key: key("esprim", 23),
                rands: EsPrimRands {
                    receiver: data(&[1; 32]).into_iter().collect(),
                    originator: data(&[2; 32]).into_iter().collect(),
                },
                enc: JweEnc::A256Gcm,
                header: data(br#"{"alg":"dir","enc":"A256GCM"}"#)
                    .into_iter()
                    .collect(),
                plaintext: data(b"x"),
            }),
        ),
        (
            "esprim-decrypt",
            Op::Jose(JoseOp::EsPrimDecrypt {
                key: key("esprim", 23),
                rands: EsPrimRands {
                    receiver: data(&[1; 32]).into_iter().collect(),
                    originator: data(&[2; 32]).into_iter().collect(),
                },
                enc: JweEnc::A256Gcm,
                protected: data(b"eyJhbGciOiJkaXIifQ").into_iter().collect(),
                iv: [1; 12],
                ciphertext: data(&[0; 17]).into_iter().collect(),
            }),
        ),
        (
            "admin-import-public",
            admin_cmd(vec![AdminOp::ImportPublicKey {
                object: "issuer".try_into().unwrap(),
                suid: crate::suid(45),
                key: issuer.public_key(),
                attributes: Default::default(),
            }]),
        ),
        (
            "admin-delete",
            admin_cmd(vec![AdminOp::Delete {
                object: "aes".try_into().unwrap(),
            }]),
        ),
        // Handshake operations: ServerOpen parses its ClientHello before any
        // grant check, so the fuzzer reaches the TA's message parser.
        (
            "hs-server-open",
            Op::Handshake(HandshakeOp::ServerOpen {
                framing: Framing::Dtls,
                suite: 0xC0AE,
                client_hello: seam::proto::HeapVec::from_slice(&client_hello()).unwrap(),
                psks: heapless::Vec::new(),
                sign: Some(KeyRef {
                    se: se(),
                    key: "sig".try_into().unwrap(),
                    suid: crate::suid(45),
                }),
            }),
        ),
        (
            "hs-client-open",
            Op::Handshake(HandshakeOp::ClientOpen {
                framing: Framing::Tls,
                suites: heapless::Vec::from_slice(&[0x00AE, 0xC023]).unwrap(),
                psk: None,
                sign: None,
            }),
        ),
        (
            "hs-client-finish",
            Op::Handshake(HandshakeOp::ClientFinish {
                session: 1,
                messages: seam::proto::HeapVec::from_slice(&client_hello()).unwrap(),
            }),
        ),
        (
            "issuer-retire",
            Op::Issuer(
                seam::client::sign_issuer(&issuer, &identity, 2, IssuerOp::RetireSe { se: se() })
                    .unwrap(),
            ),
        ),
    ];
    ops.into_iter()
        .map(|(n, op)| (n.to_string(), encode(&Request::new(op))))
        .collect()
}
