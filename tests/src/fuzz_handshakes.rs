//! Structure-aware fuzzing of the handshake sessions: several callers open
//! sessions on real credentials through [`Client::handshake_open`], run
//! steps (decoded from the fuzzer's bytes) on their own and on each other's
//! sessions, close them, and derive keys, all against one node. The
//! `handshake_steps` fuzz target runs [`run`]; the corpus replay test too.
//!
//! What must hold after every call: no caller's call touches another
//! caller's session; a caller without a `HANDSHAKE` grant opens nothing on a
//! stored credential; a refused call changes nothing in the store; the TA
//! never holds more than `MAX_HANDSHAKES` sessions; and once every caller's
//! sessions are closed (as when its last TA session ends) none is left.

use std::sync::{Arc, Mutex};

use arbitrary::{Arbitrary, Unstructured};
use seam::proto::handshake::{Derivation, Role, SessionId, Step, MAX_HANDSHAKES};
use seam::proto::{AclEntry, AdminOp, KeyRef, ObjectKind, Op, Ops, Request};
use seam::{AdminKey, Client, Transport};
use seam_core::Caller;

use crate::fuzz_requests::Actor;
use crate::fuzzing::{self, FuzzNode, ADMIN_SCALAR, SE};
use crate::{encode, Who};

/// The PSK (SUID 10: use digit 0, so it is also a Ke for derivations) and
/// the signing key (SUID 42) the fixture adds, granted to Owner and Other.
pub const PSK: &str = "psk";
pub const PSK_SUID: u8 = 10;
pub const SIGNING: &str = "hs";
pub const SIGNING_SUID: u8 = 42;

struct As {
    node: Arc<Mutex<FuzzNode>>,
    caller: Caller,
}

impl Transport for As {
    fn call(&mut self, request: &[u8]) -> seam::Result<Vec<u8>> {
        let mut node = self.node.lock().unwrap_or_else(|e| e.into_inner());
        Ok(node.process(&self.caller, request))
    }

    fn name(&self) -> &'static str {
        "fuzz node"
    }
}

/// The fuzz fixture plus a PSK and a signing key with `HANDSHAKE` and
/// `DERIVE` granted to Owner and Other (never to the stranger).
pub fn node() -> FuzzNode {
    use std::sync::OnceLock;
    static STORE: OnceLock<seam_core::store::MemStore> = OnceLock::new();
    let store = STORE.get_or_init(|| {
        let mut node = fuzzing::node();
        let admin = AdminKey::from_scalar(&ADMIN_SCALAR).expect("admin");
        let id = match crate::decode(
            &node.process(&Caller::Public, &encode(&Request::new(Op::NodeInfo))),
        )
        .reply
        {
            seam::proto::Reply::NodeInfo(info) => info.node.expect("initialised"),
            other => panic!("{other:?}"),
        };
        let name = |s: &str| seam::client::name(s).expect("fixture name");
        let grant = |object: &str, who: Who, suid: u8| AdminOp::Grant {
            object: seam::proto::GrantTarget::Object(name(object)),
            entry: AclEntry {
                grantee: who.id(),
                ops: Ops::HANDSHAKE.union(Ops::DERIVE),
                suid: Some(crate::fuzz_requests::suid(suid)),
            },
        };
        let commands = [
            vec![
                AdminOp::ImportPlaintext {
                    object: name(PSK),
                    suid: crate::fuzz_requests::suid(PSK_SUID),
                    kind: ObjectKind::Secret,
                    material: seam::proto::heapless::Vec::from_slice(&[9; 16]).expect("psk"),
                },
                AdminOp::GenerateKeyPair {
                    object: name(SIGNING),
                    suid: crate::fuzz_requests::suid(SIGNING_SUID),
                },
                grant(PSK, Who::Group(61001), PSK_SUID),
                grant(SIGNING, Who::Group(61001), SIGNING_SUID),
            ],
            vec![
                grant(PSK, Who::Group(61002), PSK_SUID),
                grant(SIGNING, Who::Group(61002), SIGNING_SUID),
            ],
        ];
        for (i, ops) in commands.into_iter().enumerate() {
            let cmd = seam::client::sign_admin_for(&admin, &id.node_id, SE, 1, 2 + i as u64, ops)
                .expect("sign");
            let r = crate::decode(
                &node.process(&fuzzing::caller(), &encode(&Request::new(Op::Admin(cmd)))),
            );
            assert_eq!(r.status, 2000, "fixture admin command: {r:?}");
        }
        node.store_mut().clone()
    });
    seam_core::SecureEnvironment::new(
        store.clone(),
        fuzzing::CountingRng::new(1 << 40),
        seam_core::Platform { security_level: 0 },
    )
}

fn key(name: &str, suid: u8) -> KeyRef {
    KeyRef {
        se: crate::fuzz_requests::name(SE),
        key: crate::fuzz_requests::name(name),
        suid: crate::fuzz_requests::suid(suid),
    }
}

#[derive(Arbitrary, Debug)]
pub enum Action {
    Open {
        who: Actor,
        server: bool,
        psk: bool,
        ecdhe: bool,
        sign: bool,
        /// Postcard-encoded steps to run at once (decoded as far as they go).
        then: Vec<u8>,
    },
    Steps {
        who: Actor,
        /// Which of the sessions opened so far (any caller's).
        session: u8,
        steps: Vec<u8>,
    },
    Close {
        who: Actor,
        session: u8,
    },
    Derive {
        who: Actor,
        /// A postcard-encoded derivation rule.
        rule: Vec<u8>,
        object: u8,
    },
    /// Every session of this caller wiped, as when its TA session closes.
    Disconnect {
        who: Actor,
    },
}

/// Steps decoded one after another from `bytes` (at most `MAX_STEPS`).
fn steps(bytes: &[u8]) -> Vec<Step> {
    let mut out = Vec::new();
    let mut rest = bytes;
    while out.len() < seam::proto::handshake::MAX_STEPS {
        match seam::proto::postcard::take_from_bytes::<Step>(rest) {
            Ok((step, tail)) => {
                out.push(step);
                rest = tail;
            }
            Err(_) => break,
        }
    }
    out
}

pub struct Sessions {
    node: Arc<Mutex<FuzzNode>>,
    /// Every session opened, with who opened it.
    opened: Vec<(SessionId, Actor)>,
}

impl Sessions {
    pub fn new() -> Sessions {
        Sessions {
            node: Arc::new(Mutex::new(node())),
            opened: Vec::new(),
        }
    }

    fn client(&self, who: Actor) -> Client {
        Client::new(As {
            node: self.node.clone(),
            caller: who.caller(),
        })
    }

    fn store(&self) -> seam_core::store::MemStore {
        let mut node = self.node.lock().unwrap_or_else(|e| e.into_inner());
        node.store_mut().clone()
    }

    fn count(&self) -> usize {
        let node = self.node.lock().unwrap_or_else(|e| e.into_inner());
        node.handshake_count()
    }

    pub fn step(&mut self, action: &Action) {
        let before = self.store();
        let refused = match action {
            Action::Open {
                who,
                server,
                psk,
                ecdhe,
                sign,
                then,
            } => {
                let role = if *server { Role::Server } else { Role::Client };
                let psk_ref = psk.then(|| key(PSK, PSK_SUID));
                let sign_ref = sign.then(|| key(SIGNING, SIGNING_SUID));
                let r = self.client(*who).handshake_open(
                    role,
                    psk_ref.as_ref(),
                    *ecdhe,
                    sign_ref.as_ref(),
                    steps(then),
                );
                if matches!(who, Actor::Stranger | Actor::Public) && (*psk || *sign) {
                    assert!(r.is_err(), "{action:?}: opened on a credential not granted");
                }
                if *who == Actor::Public {
                    assert!(r.is_err(), "{action:?}: a public caller opened a session");
                }
                match r {
                    Ok(opened) => {
                        self.opened.push((opened.session, *who));
                        false
                    }
                    Err(_) => true,
                }
            }
            Action::Steps {
                who,
                session,
                steps: bytes,
            } => {
                let Some(&(id, owner)) = self.pick(*session) else {
                    return;
                };
                let r = self.client(*who).handshake_steps(id, steps(bytes));
                if owner != *who {
                    assert!(r.is_err(), "{action:?}: stepped another caller's session");
                }
                r.is_err()
            }
            Action::Close { who, session } => {
                let Some(&(id, owner)) = self.pick(*session) else {
                    return;
                };
                let r = self.client(*who).handshake_close(id);
                if owner != *who {
                    assert!(r.is_err(), "{action:?}: closed another caller's session");
                }
                r.is_err()
            }
            Action::Derive { who, rule, object } => {
                let Ok((rule, _)) = seam::proto::postcard::take_from_bytes::<Derivation>(rule)
                else {
                    return;
                };
                let name = format!("k{}", object % 8);
                let r = self
                    .client(*who)
                    .derive_key(&key(PSK, PSK_SUID), rule, &name);
                if matches!(who, Actor::Stranger | Actor::Public) {
                    assert!(r.is_err(), "{action:?}: derived from a key not granted");
                }
                r.is_err()
            }
            Action::Disconnect { who } => {
                let mut node = self.node.lock().unwrap_or_else(|e| e.into_inner());
                node.close_handshakes(&who.caller());
                false
            }
        };
        if refused {
            assert!(
                self.store() == before,
                "{action:?} was refused but changed the store"
            );
        }
        assert!(
            self.count() <= MAX_HANDSHAKES,
            "more than {MAX_HANDSHAKES} sessions"
        );
    }

    fn pick(&self, i: u8) -> Option<&(SessionId, Actor)> {
        if self.opened.is_empty() {
            return None;
        }
        self.opened.get(usize::from(i) % self.opened.len())
    }

    /// Every caller disconnects: nothing may be left.
    pub fn finish(&mut self) {
        let mut node = self.node.lock().unwrap_or_else(|e| e.into_inner());
        for who in [Actor::Owner, Actor::Other, Actor::Stranger, Actor::Public] {
            node.close_handshakes(&who.caller());
        }
        assert_eq!(
            node.handshake_count(),
            0,
            "sessions left after every caller left"
        );
    }
}

impl Default for Sessions {
    fn default() -> Self {
        Sessions::new()
    }
}

/// One fuzz input: at most 32 actions on a fresh node, then every caller leaves.
pub fn run(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let mut sessions = Sessions::new();
    for _ in 0..32 {
        let Ok(action) = Action::arbitrary(&mut u) else {
            break;
        };
        sessions.step(&action);
        if u.is_empty() {
            break;
        }
    }
    sessions.finish();
}
