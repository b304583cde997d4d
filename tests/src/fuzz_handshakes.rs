//! Structure-aware fuzzing of the handshake sessions (protocol version 2):
//! several callers open sessions on real credentials — seam's engine's
//! (D)TLS 1.2 client and server sessions (`ClientOpen`/`ServerOpen`, then
//! `ClientFinish`/`ServerFinish`) and the step interface's ECDHE sessions
//! (`Open`, `Steps`, `Tls12SignCertificateVerify`) — on their own and on
//! each other's sessions, close them, derive keys, and disconnect, all
//! against one node. A client finish may carry a well-formed PSK transcript
//! for the TA's own random, so sessions get established and the fuzzer
//! reaches the exporter (`ExportKey`, which writes a key). The
//! `handshake_steps` fuzz target runs [`run`]; the corpus replay test too.
//!
//! What must hold after every call: no caller's call touches another
//! caller's session; a caller without a `HANDSHAKE` grant opens nothing on a
//! stored credential; a refused call changes nothing in the store; the TA
//! never holds more than `MAX_HANDSHAKES` sessions, nor more than the three
//! identified callers' quotas together; and once every caller's sessions are closed
//! (as when its last TA session ends) none is left.

use std::sync::{Arc, Mutex};

use arbitrary::{Arbitrary, Unstructured};
use seam::proto::handshake::{
    Derivation, Framing, Role, SessionId, Step, MAX_HANDSHAKES, MAX_HANDSHAKES_PER_CALLER,
};
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
                    material: seam::proto::HeapVec::from_slice(&[9; 16]).expect("psk"),
                    attributes: Default::default(),
                },
                AdminOp::GenerateKeyPair {
                    object: name(SIGNING),
                    suid: crate::fuzz_requests::suid(SIGNING_SUID),
                    attributes: Default::default(),
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
            let cmd = seam::client::sign_admin_for(
                &admin,
                &id.node_id,
                SE,
                1,
                fuzzing::FIXTURE_COUNTER + 1 + i as u64,
                ops,
            )
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
        crate::testing::Seeded::new(1 << 40),
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

/// Cipher suites the engine sessions name: PSK (CBC, CCM_8), ECDHE-ECDSA
/// (CCM_8, CBC) and one the TA does not know.
#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum Suite {
    PskCbc,
    PskCcm8,
    EcdheCcm8,
    EcdheCbc,
    Other(u16),
}

impl Suite {
    fn code(self) -> u16 {
        match self {
            Suite::PskCbc => 0x00AE,
            Suite::PskCcm8 => 0xC0A8,
            Suite::EcdheCcm8 => 0xC0AE,
            Suite::EcdheCbc => 0xC023,
            Suite::Other(c) => c,
        }
    }
}

/// What a finish carries: bytes as they come, or a well-formed PSK client
/// transcript (ClientHello with the session's random, ServerHello,
/// ServerHelloDone, ClientKeyExchange) that the TA accepts.
#[derive(Arbitrary, Debug)]
pub enum Messages {
    Raw(Vec<u8>),
    PskTranscript { server_random: [u8; 32], ems: bool },
}

#[derive(Arbitrary, Debug)]
pub enum Action {
    ClientOpen {
        who: Actor,
        dtls: bool,
        suites: Vec<Suite>,
        psk: bool,
        sign: bool,
    },
    ClientFinish {
        who: Actor,
        /// Which of the sessions opened so far (any caller's).
        session: u8,
        messages: Messages,
    },
    ServerOpen {
        who: Actor,
        dtls: bool,
        suite: Suite,
        client_hello: Vec<u8>,
        psk: bool,
        sign: bool,
    },
    ServerFinish {
        who: Actor,
        session: u8,
        messages: Vec<u8>,
    },
    /// A step-interface ECDHE session on the signing key or the PSK.
    Open {
        who: Actor,
        server: bool,
        psk: bool,
    },
    Steps {
        who: Actor,
        session: u8,
        /// Postcard-encoded steps (decoded as far as they go).
        steps: Vec<u8>,
    },
    SignCertificateVerify {
        who: Actor,
        session: u8,
        messages: Vec<u8>,
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

/// A handshake message with its TLS or DTLS header (built here, not by the
/// TA's parser).
fn msg(dtls: bool, kind: u8, seq: u16, body: &[u8]) -> Vec<u8> {
    let n = body.len();
    let len = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
    let mut m = vec![kind];
    m.extend_from_slice(&len);
    if dtls {
        m.extend_from_slice(&seq.to_be_bytes());
        m.extend_from_slice(&[0, 0, 0]);
        m.extend_from_slice(&len);
    }
    m.extend_from_slice(body);
    m
}

fn hello(dtls: bool, kind: u8, random: &[u8; 32], suites: &[u16], ems: bool) -> Vec<u8> {
    let mut b = if dtls { vec![0xfe, 0xfd] } else { vec![3, 3] };
    b.extend_from_slice(random);
    b.push(0); // session_id
    if kind == 1 {
        if dtls {
            b.push(0); // cookie
        }
        b.extend_from_slice(&((suites.len() * 2) as u16).to_be_bytes());
        for s in suites {
            b.extend_from_slice(&s.to_be_bytes());
        }
        b.extend_from_slice(&[1, 0]);
    } else {
        b.extend_from_slice(&suites[0].to_be_bytes());
        b.push(0);
    }
    if ems {
        b.extend_from_slice(&[0, 4, 0, 0x17, 0, 0]);
    } else {
        b.extend_from_slice(&[0, 0]);
    }
    msg(dtls, kind, u16::from(kind == 2), &b)
}

/// A PSK client transcript for the TA's client random and `suite`.
fn psk_transcript(dtls: bool, random: &[u8; 32], suite: u16, sr: &[u8; 32], ems: bool) -> Vec<u8> {
    let mut t = hello(dtls, 1, random, &[suite], ems);
    t.extend(hello(dtls, 2, sr, &[suite], ems));
    t.extend(msg(dtls, 14, 2, &[]));
    let mut cke = (crate::dtls_fuzzing::IDENTITY.len() as u16)
        .to_be_bytes()
        .to_vec();
    cke.extend_from_slice(crate::dtls_fuzzing::IDENTITY);
    t.extend(msg(dtls, 16, 1, &cke));
    t
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

/// An engine client session's framing (DTLS?), first suite and TA random,
/// from which a transcript for it is built.
type ClientSide = Option<(bool, u16, [u8; 32])>;
/// A session opened so far: its id, who opened it, its client side.
type Opened = (SessionId, Actor, ClientSide);

pub struct Sessions {
    node: Arc<Mutex<FuzzNode>>,
    /// Every session opened: its id, who opened it, and for engine client
    /// sessions the framing, first suite and TA random (to build a transcript).
    opened: Vec<Opened>,
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

    /// Records a successful open (and checks who may open at all).
    fn opened(
        &mut self,
        action: &Action,
        who: Actor,
        named_credential: bool,
        r: seam::Result<(SessionId, ClientSide)>,
    ) -> bool {
        if matches!(who, Actor::Stranger | Actor::Public) && named_credential {
            assert!(r.is_err(), "{action:?}: opened on a credential not granted");
        }
        if who == Actor::Public {
            assert!(r.is_err(), "{action:?}: a public caller opened a session");
        }
        match r {
            Ok((id, client)) => {
                self.opened.push((id, who, client));
                false
            }
            Err(_) => true,
        }
    }

    /// A session opened so far, and whether `who` may touch it: a call by
    /// anyone else must fail.
    fn on<T>(
        &self,
        action: &Action,
        who: Actor,
        session: u8,
        call: impl FnOnce(&mut Client, SessionId, ClientSide) -> seam::Result<T>,
    ) -> Option<bool> {
        let &(id, owner, client) = self.pick(session)?;
        let r = call(&mut self.client(who), id, client);
        if owner != who {
            assert!(r.is_err(), "{action:?}: touched another caller's session");
        }
        Some(r.is_err())
    }

    pub fn step(&mut self, action: &Action) {
        let before = self.store();
        let refused = match action {
            Action::ClientOpen {
                who,
                dtls,
                suites,
                psk,
                sign,
            } => {
                let codes: Vec<u16> = suites.iter().take(8).map(|s| s.code()).collect();
                let framing = if *dtls { Framing::Dtls } else { Framing::Tls };
                let psk_ref = psk.then(|| key(PSK, PSK_SUID));
                let sign_ref = sign.then(|| key(SIGNING, SIGNING_SUID));
                let r = self
                    .client(*who)
                    .handshake_client_open(framing, &codes, psk_ref.as_ref(), sign_ref.as_ref())
                    .map(|o| {
                        (
                            o.session,
                            Some((*dtls, codes.first().copied().unwrap_or(0), o.random)),
                        )
                    });
                self.opened(action, *who, *psk || *sign, r)
            }
            Action::ClientFinish {
                who,
                session,
                messages,
            } => {
                let r = self.on(action, *who, *session, |c, id, client| {
                    let bytes = match (messages, client) {
                        (
                            Messages::PskTranscript { server_random, ems },
                            Some((dtls, suite, random)),
                        ) => psk_transcript(dtls, &random, suite, server_random, *ems),
                        (Messages::PskTranscript { .. }, None) => Vec::new(),
                        (Messages::Raw(bytes), _) => bytes.clone(),
                    };
                    c.handshake_client_finish(id, &bytes)
                });
                let Some(r) = r else { return };
                r
            }
            Action::ServerOpen {
                who,
                dtls,
                suite,
                client_hello,
                psk,
                sign,
            } => {
                let framing = if *dtls { Framing::Dtls } else { Framing::Tls };
                let psks: Vec<(Vec<u8>, KeyRef)> = if *psk {
                    vec![(crate::dtls_fuzzing::IDENTITY.to_vec(), key(PSK, PSK_SUID))]
                } else {
                    Vec::new()
                };
                let sign_ref = sign.then(|| key(SIGNING, SIGNING_SUID));
                // A ClientHello the TA parses, unless the input's bytes are
                // a better guess.
                let hello_bytes = if client_hello.is_empty() {
                    hello(*dtls, 1, &[0x5a; 32], &[suite.code()], true)
                } else {
                    client_hello.clone()
                };
                let r = self
                    .client(*who)
                    .handshake_server_open(
                        framing,
                        suite.code(),
                        &hello_bytes,
                        &psks,
                        sign_ref.as_ref(),
                    )
                    .map(|o| (o.session, None));
                self.opened(action, *who, *psk || *sign, r)
            }
            Action::ServerFinish {
                who,
                session,
                messages,
            } => {
                let Some(r) = self.on(action, *who, *session, |c, id, _| {
                    c.handshake_server_finish(id, messages)
                }) else {
                    return;
                };
                r
            }
            Action::Open { who, server, psk } => {
                let role = if *server { Role::Server } else { Role::Client };
                let credential = if *psk {
                    key(PSK, PSK_SUID)
                } else {
                    key(SIGNING, SIGNING_SUID)
                };
                let r = self
                    .client(*who)
                    .handshake_open(role, &credential)
                    .map(|o| (o.session, None));
                self.opened(action, *who, true, r)
            }
            Action::Steps {
                who,
                session,
                steps: bytes,
            } => {
                let Some(r) = self.on(action, *who, *session, |c, id, _| {
                    c.handshake_steps(id, steps(bytes))
                }) else {
                    return;
                };
                r
            }
            Action::SignCertificateVerify {
                who,
                session,
                messages,
            } => {
                let Some(r) = self.on(action, *who, *session, |c, id, _| {
                    c.handshake_sign_certificate_verify(id, messages)
                }) else {
                    return;
                };
                r
            }
            Action::Close { who, session } => {
                let Some(r) = self.on(action, *who, *session, |c, id, _| c.handshake_close(id))
                else {
                    return;
                };
                r
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
        // Three identified callers, each within its quota (the public
        // caller opens nothing).
        assert!(
            self.count() <= 3 * MAX_HANDSHAKES_PER_CALLER,
            "more sessions than three callers' quotas of {MAX_HANDSHAKES_PER_CALLER}"
        );
    }

    fn pick(&self, i: u8) -> Option<&Opened> {
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
