//! Structure-aware fuzzing of one Secure Environment: a sequence of
//! well-formed requests from several callers (granted, ungranted, public),
//! signed admin and issuer commands with right and wrong counters and keys,
//! and raw bytes, against one node whose state carries from request to
//! request. The `requests` fuzz target runs [`run`]; the corpus replay test
//! runs it too.
//!
//! After every request it checks what must hold whatever came before:
//! - a refused request changes nothing in the store;
//! - a public caller gets nothing but node, SE list and SE information;
//! - the stranger (a caller nobody can grant anything here) gets no object
//!   operation, sees no object, and no admin or issuer command signed with
//!   a wrong key or a stale counter is accepted.

use arbitrary::{Arbitrary, Unstructured};
use seam::proto::{
    AclEntry, AdminOp, AeadAlg, ClientId, Digest, GrantTarget, HashAlg, IssuerOp, KeyAttributes,
    KeyRef, KeyRole, Name, ObjectKind, Op, Ops, Reply, Request, Response, SignInput, Signature,
    Suid as WireSuid,
};
use seam::{AdminKey, CommandSigner};
use seam_core::Caller;

use crate::fuzzing::{self, FuzzNode, ADMIN_SCALAR, SE};
use crate::{encode, Who, TEST_ISSUER_SCALAR};

/// Who sends a request.
#[derive(Arbitrary, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor {
    /// The CSE the fixture granted its keys to (group 61001).
    Owner,
    /// A CSE that admin commands in the sequence may grant things to.
    Other,
    /// Never a grantee: every grant in a sequence names Owner or Other.
    Stranger,
    Public,
}

impl Actor {
    pub fn caller(self) -> Caller {
        match self {
            Actor::Owner => Caller::Client(Who::Group(61001).id()),
            Actor::Other => Caller::Client(Who::Group(61002).id()),
            Actor::Stranger => Caller::Client(Who::Group(61003).id()),
            Actor::Public => Caller::Public,
        }
    }

    fn grantee(self) -> ClientId {
        match self.caller() {
            Caller::Client(id) if self != Actor::Stranger => id,
            // A grant names Owner or Other only; the stranger stays one.
            _ => Who::Group(61002).id(),
        }
    }
}

/// Names from a small pool, so requests meet the objects others created.
#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum Object {
    Sig,
    Aes,
    Data,
    New,
    Star,
}

/// A name every request type accepts (the types refuse anything else).
pub fn name(s: &str) -> Name {
    Name::new(s).expect("a valid fixture name")
}

/// A SUID the types accept: `v` if valid, else the signing keys' 25.
pub fn suid(v: u8) -> WireSuid {
    WireSuid::new(v).unwrap_or_else(|_| WireSuid::new(25).expect("25 is a SUID"))
}

impl Object {
    fn name(self) -> Name {
        name(match self {
            Object::Sig => "sig",
            Object::Aes => "aes",
            Object::Data => "d",
            Object::New => "n",
            // `*` is a grant target, not a name: elsewhere, one more name.
            Object::Star => "n2",
        })
    }

    fn target(self) -> GrantTarget {
        match self {
            Object::Star => GrantTarget::All,
            other => GrantTarget::Object(other.name()),
        }
    }
}

#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum SeChoice {
    Fixture,
    Second,
}

impl SeChoice {
    fn name(self) -> Name {
        name(match self {
            SeChoice::Fixture => SE,
            SeChoice::Second => "second",
        })
    }
}

#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum Suid {
    Sign,
    Crypt,
    Other(u8),
}

impl Suid {
    fn value(self) -> WireSuid {
        suid(match self {
            Suid::Sign => 25,
            Suid::Crypt => 24,
            Suid::Other(v) => v,
        })
    }
}

#[derive(Arbitrary, Debug)]
pub enum Use {
    SignMessage(Vec<u8>),
    SignDigest([u8; 32]),
    Verify(Vec<u8>, [u8; 32], [u8; 32]),
    Encrypt(u8, Vec<u8>, Vec<u8>, Vec<u8>),
    Decrypt(u8, Vec<u8>, Vec<u8>, Vec<u8>),
    Mac(Vec<u8>),
    MacVerify(Vec<u8>, [u8; 32]),
    SdoCreate(Vec<u8>),
    SdoRetrieve,
    SdoUpdate(Vec<u8>),
    SdoDelete,
    ObjectInfo,
    AclShow,
    ObjectList,
    SeInfo,
    SeList,
    NodeInfo,
    Hash(Vec<u8>),
    Random(u16),
}

#[derive(Arbitrary, Debug)]
pub enum AdminChoice {
    Generate(Object, Suid),
    Secret(Object, Suid, u8),
    Import(Object, Suid, u8, Vec<u8>),
    Delete(Object),
    Grant(Object, Actor, u16, Suid),
    Revoke(Object, Actor),
}

/// How a signed command is signed and counted.
#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum Signing {
    Good,
    /// The last accepted counter again (a replay).
    Stale,
    /// A counter further ahead (allowed: strictly higher).
    Ahead(u8),
    /// Another key than the SE's admin (or the node's issuer).
    WrongKey,
}

#[derive(Arbitrary, Debug)]
pub enum Action {
    Use {
        who: Actor,
        se: SeChoice,
        object: Object,
        suid: Suid,
        what: Use,
    },
    Admin {
        se: SeChoice,
        signing: Signing,
        ops: Vec<AdminChoice>,
    },
    CreateSe {
        se: SeChoice,
        signing: Signing,
        plaintext: bool,
    },
    RetireSe {
        se: SeChoice,
        signing: Signing,
    },
    Raw {
        who: Actor,
        bytes: Vec<u8>,
    },
}

fn data<const N: usize>(bytes: &[u8]) -> seam::proto::heapless::Vec<u8, N> {
    let n = bytes.len().min(N);
    seam::proto::heapless::Vec::from_slice(&bytes[..n]).unwrap_or_default()
}

fn heap_data<const N: usize>(bytes: &[u8]) -> seam::proto::HeapVec<u8, N> {
    let n = bytes.len().min(N);
    seam::proto::HeapVec::from_slice(&bytes[..n]).unwrap_or_default()
}

fn alg(b: u8) -> AeadAlg {
    match b % 3 {
        0 => AeadAlg::Aes128Ccm,
        1 => AeadAlg::Aes128Ccm8,
        _ => AeadAlg::Aes128Gcm,
    }
}

fn use_op(se: Name, object: Name, suid: WireSuid, what: &Use) -> Op {
    let key = KeyRef {
        se: se.clone(),
        key: object.clone(),
        suid,
    };
    match what {
        Use::SignMessage(m) => Op::Sign {
            key,
            input: SignInput::Message(heap_data(m)),
        },
        Use::SignDigest(d) => Op::Sign {
            key,
            input: SignInput::Digest(Digest(*d)),
        },
        Use::Verify(m, r, s) => {
            let mut sig = [0u8; 64];
            sig[..32].copy_from_slice(r);
            sig[32..].copy_from_slice(s);
            Op::Verify {
                key,
                input: SignInput::Message(heap_data(m)),
                signature: Signature(sig),
            }
        }
        Use::Encrypt(a, nonce, aad, pt) => Op::Encrypt {
            key,
            alg: alg(*a),
            // Encrypt draws its nonce inside: the fuzzer picks its length.
            nonce_len: u8::try_from(nonce.len()).unwrap_or(u8::MAX),
            aad: heap_data(aad),
            plaintext: heap_data(pt),
        },
        Use::Decrypt(a, nonce, aad, ct) => Op::Decrypt {
            key,
            alg: alg(*a),
            nonce: data(nonce),
            aad: heap_data(aad),
            ciphertext: heap_data(ct),
        },
        Use::Mac(m) => Op::Mac {
            key,
            message: heap_data(m),
        },
        Use::MacVerify(m, t) => Op::MacVerify {
            key,
            message: heap_data(m),
            tag: Digest(*t),
        },
        Use::SdoCreate(d) => Op::SdoCreate {
            se,
            object,
            data: heap_data(d),
        },
        Use::SdoRetrieve => Op::SdoRetrieve { se, object },
        Use::SdoUpdate(d) => Op::SdoUpdate {
            se,
            object,
            data: heap_data(d),
        },
        Use::SdoDelete => Op::SdoDelete { se, object },
        Use::ObjectInfo => Op::ObjectInfo { se, object },
        Use::AclShow => Op::AclShow { se, object },
        Use::ObjectList => Op::ObjectList { se },
        Use::SeInfo => Op::SeInfo { se },
        Use::SeList => Op::SeList,
        Use::NodeInfo => Op::NodeInfo,
        Use::Hash(m) => Op::Hash {
            alg: HashAlg::Sha256,
            message: heap_data(m),
        },
        Use::Random(n) => Op::Random { len: *n },
    }
}

fn admin_op(choice: &AdminChoice) -> AdminOp {
    match choice {
        AdminChoice::Generate(o, s) => AdminOp::GenerateKeyPair {
            object: o.name(),
            suid: s.value(),
            attributes: KeyAttributes::default(),
        },
        AdminChoice::Secret(o, s, len) => AdminOp::GenerateSecret {
            object: o.name(),
            suid: s.value(),
            len: *len,
            attributes: attributes(*len),
        },
        AdminChoice::Import(o, s, kind, material) => AdminOp::ImportPlaintext {
            object: o.name(),
            suid: s.value(),
            kind: match kind % 3 {
                0 => ObjectKind::Secret,
                1 => ObjectKind::EcP256,
                _ => ObjectKind::Data,
            },
            material: heap_data(material),
            attributes: attributes(material.first().copied().unwrap_or(0)),
        },
        AdminChoice::Delete(o) => AdminOp::Delete { object: o.name() },
        AdminChoice::Grant(o, who, ops, s) => AdminOp::Grant {
            object: o.target(),
            entry: AclEntry {
                grantee: who.grantee(),
                ops: Ops(ops & Ops::ALL.0),
                suid: Some(s.value()),
            },
        },
        AdminChoice::Revoke(o, who) => AdminOp::Revoke {
            object: o.target(),
            grantee: who.grantee(),
        },
    }
}

/// The node under test, and the keys that sign its commands.
pub struct Session {
    pub node: FuzzNode,
    issuer: AdminKey,
    admin: AdminKey,
    wrong: AdminKey,
}

impl Session {
    pub fn new() -> Session {
        Session {
            node: fuzzing::node(),
            issuer: AdminKey::from_scalar(&TEST_ISSUER_SCALAR).expect("issuer"),
            admin: AdminKey::from_scalar(&ADMIN_SCALAR).expect("admin"),
            wrong: AdminKey::from_scalar(&[0x17; 32]).expect("wrong key"),
        }
    }

    pub fn call(&mut self, caller: &Caller, op: Op) -> Response {
        let bytes = self.node.process(caller, &encode(&Request::new(op)));
        crate::decode(&bytes)
    }

    fn identity(&mut self) -> seam::proto::NodeIdentity {
        match self.call(&Caller::Public, Op::NodeInfo).reply {
            Reply::NodeInfo(info) => info.node.expect("the fixture node is initialised"),
            other => panic!("node info: {other:?}"),
        }
    }

    /// (instance, last admin counter) of an SE, if it exists.
    fn se_state(&mut self, se: &Name) -> Option<(u64, u64)> {
        match self
            .call(&Actor::Owner.caller(), Op::SeInfo { se: se.clone() })
            .reply
        {
            Reply::SeInfo(info) => Some((info.instance, info.admin_counter)),
            _ => None,
        }
    }

    fn counter(last: u64, signing: Signing) -> u64 {
        match signing {
            Signing::Stale => last,
            Signing::Ahead(n) => last + 1 + u64::from(n),
            Signing::Good | Signing::WrongKey => last + 1,
        }
    }

    /// A signed command for this action, or None for the others.
    fn signed(&mut self, action: &Action) -> Option<(Op, Signing)> {
        let node = self.identity();
        match action {
            Action::Admin { se, signing, ops } => {
                let name = se.name();
                let (instance, last) = self.se_state(&name).unwrap_or((1, 0));
                let signer = match signing {
                    Signing::WrongKey => &self.wrong,
                    _ => &self.admin,
                };
                let ops: Vec<AdminOp> = ops
                    .iter()
                    .take(seam::proto::MAX_ADMIN_OPS)
                    .map(admin_op)
                    .collect();
                let counter = Self::counter(last, *signing);
                let cmd = seam::client::sign_admin_for(
                    signer,
                    &node.node_id,
                    &name,
                    instance,
                    counter,
                    ops,
                )
                .ok()?;
                Some((Op::Admin(cmd), *signing))
            }
            Action::CreateSe {
                se,
                signing,
                plaintext,
            } => {
                let op = IssuerOp::CreateSe {
                    se: se.name(),
                    admin: self.admin.public_key(),
                    allow_plaintext_import: *plaintext,
                };
                self.issuer_op(&node, op, *signing)
            }
            Action::RetireSe { se, signing } => {
                self.issuer_op(&node, IssuerOp::RetireSe { se: se.name() }, *signing)
            }
            _ => None,
        }
    }

    fn issuer_op(
        &self,
        node: &seam::proto::NodeIdentity,
        op: IssuerOp,
        signing: Signing,
    ) -> Option<(Op, Signing)> {
        let signer = match signing {
            Signing::WrongKey => &self.wrong,
            _ => &self.issuer,
        };
        let counter = Self::counter(node.issuer_counter, signing);
        let cmd = seam::client::sign_issuer(signer, node, counter, op).ok()?;
        Some((Op::Issuer(cmd), signing))
    }

    /// Runs one action and checks the invariants above.
    pub fn step(&mut self, action: &Action) {
        let before = self.node.store_mut().clone();
        let (who, response, signing, kind) = match action {
            Action::Use {
                who,
                se,
                object,
                suid,
                what,
            } => {
                let op = use_op(se.name(), object.name(), suid.value(), what);
                let response = self.call(&who.caller(), op);
                (*who, response, None, Some(what))
            }
            Action::Raw { who, bytes } => {
                let response = crate::decode(&self.node.process(&who.caller(), bytes));
                (*who, response, None, None)
            }
            signed => {
                let Some((op, signing)) = self.signed(signed) else {
                    return;
                };
                let response = self.call(&Actor::Owner.caller(), op);
                (Actor::Owner, response, Some(signing), None)
            }
        };
        let status = response.status;
        assert!(
            seam::Status::from_code(status).is_some(),
            "{action:?}: unknown status {status}"
        );
        let ok = status < 3000;
        if !ok {
            assert!(
                *self.node.store_mut() == before,
                "{action:?} was refused ({response:?}) but changed the store"
            );
        }
        if matches!(signing, Some(Signing::Stale | Signing::WrongKey)) {
            assert!(
                !ok,
                "{action:?}: a stale or wrongly signed command was accepted"
            );
        }
        if who == Actor::Public && ok {
            let allowed = matches!(kind, Some(Use::NodeInfo | Use::SeList | Use::SeInfo) | None);
            assert!(allowed, "{action:?}: a public caller got {response:?}");
            if kind.is_none() {
                // Raw bytes from a public caller: only the three reads.
                assert!(
                    matches!(
                        response.reply,
                        Reply::NodeInfo(_) | Reply::SeList(_) | Reply::SeInfo(_)
                    ),
                    "{action:?}: a public caller got {response:?}"
                );
            }
        }
        if who == Actor::Stranger && ok {
            let harmless = match &response.reply {
                Reply::Objects(list) => list.is_empty(),
                Reply::NodeInfo(_)
                | Reply::SeList(_)
                | Reply::SeInfo(_)
                | Reply::Digest(_)
                | Reply::Random(_) => true,
                _ => false,
            };
            assert!(harmless, "{action:?}: the stranger got {response:?}");
        }
    }
}

impl Default for Session {
    fn default() -> Self {
        Session::new()
    }
}

/// One fuzz input: a sequence of at most 32 actions on a fresh node.
pub fn run(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let mut session = Session::new();
    for _ in 0..32 {
        let Ok(action) = Action::arbitrary(&mut u) else {
            break;
        };
        session.step(&action);
        if u.is_empty() {
            break;
        }
    }
}

/// Every role, so the fuzzer reaches derivation sources and pairwise keys.
fn attributes(n: u8) -> KeyAttributes {
    KeyAttributes {
        role: match n % 3 {
            0 => KeyRole::Operational,
            1 => KeyRole::Bootstrap,
            _ => KeyRole::Pairwise,
        },
        not_after: None,
    }
}
