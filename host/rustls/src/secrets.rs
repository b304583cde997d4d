//! The stand-ins rustls holds instead of secrets.
//!
//! rustls's crypto traits pass secrets around as bytes: the ECDHE shared
//! secret (`SharedSecret`), the TLS 1.2 master secret (`[u8; 48]`), the
//! TLS 1.3 secrets (`OkmBlock`). Ours are random *tokens* of the same length
//! that name a value inside a TA handshake session; when rustls hands a
//! token back to our PRF or HKDF, this registry says which session and which
//! value it stands for, and the TA computes with the real one. A token is
//! worthless anywhere else (in a key log, a session ticket, a core dump).

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, LazyLock, Mutex, MutexGuard};

use seam_proto::handshake::{
    MasterSeed, Role, SessionId, Step, StepReply, TrafficKey, MAX_HANDSHAKES_PER_CALLER,
};
use seam_proto::{KeyRef, PublicKey};
use zeroize::Zeroizing;

use seam::handshake::Opened;
use seam::{Client, Error, Result};

/// What a provider shares with every session it opens.
pub(crate) struct Inner {
    pub client: Arc<Mutex<Client>>,
    pub role: Role,
    pub key: Option<KeyRef>,
    /// Sessions this provider opened, oldest first (the TA keeps at most
    /// `MAX_HANDSHAKES_PER_CALLER` per caller and wipes the oldest).
    sessions: Mutex<VecDeque<Arc<Glue>>>,
    last_error: Mutex<Option<String>>,
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Inner {
    pub fn new(client: Arc<Mutex<Client>>, role: Role, key: Option<KeyRef>) -> Self {
        Inner {
            client,
            role,
            key,
            sessions: Mutex::new(VecDeque::new()),
            last_error: Mutex::new(None),
        }
    }

    /// Opens an ECDHE session bound to our key (the TA's fresh key share).
    pub fn open_ecdhe(self: &Arc<Self>) -> Result<(Opened, Arc<Glue>)> {
        let key = self.key.as_ref().ok_or_else(|| {
            Error::InvalidInput(
                "a TaTls needs a key with a handshake grant: every TA session is bound to one"
                    .into(),
            )
        })?;
        let opened = lock(&self.client).handshake_open(self.role, key)?;
        let glue = Arc::new(Glue::new(self.clone(), opened.session));
        let mut sessions = lock(&self.sessions);
        sessions.push_back(glue.clone());
        while sessions.len() > MAX_HANDSHAKES_PER_CALLER {
            if let Some(old) = sessions.pop_front() {
                forget(self, old.session);
            }
        }
        Ok((opened, glue))
    }

    /// The newest session of ours that `pick` accepts.
    pub fn newest(&self, pick: impl Fn(&GlueState) -> bool) -> Option<Arc<Glue>> {
        lock(&self.sessions)
            .iter()
            .rev()
            .find(|g| pick(&lock(&g.state)))
            .cloned()
    }

    pub fn step(&self, session: SessionId, step: Step) -> Result<StepReply> {
        let r = lock(&self.client).handshake_step(session, step);
        if let Err(e) = &r {
            self.record_error(format!("session {session}: {e}"));
        }
        r
    }

    pub fn close(&self, session: SessionId) {
        let _ = lock(&self.client).handshake_close(session);
        lock(&self.sessions).retain(|g| g.session != session);
        forget(self, session);
    }

    pub fn last_session(&self) -> Option<SessionId> {
        lock(&self.sessions).back().map(|g| g.session)
    }

    pub fn record_error(&self, e: String) {
        *lock(&self.last_error) = Some(e);
    }

    pub fn last_error(&self) -> Option<String> {
        lock(&self.last_error).clone()
    }
}

/// One TA handshake session as rustls drives it, and the public or
/// outgoing values already fetched for it.
pub(crate) struct Glue {
    pub inner: Arc<Inner>,
    pub session: SessionId,
    claimed: AtomicBool,
    pub state: Mutex<GlueState>,
}

#[derive(Default)]
pub(crate) struct GlueState {
    /// The peer's ECDHE share (TLS 1.3: the TA uses it in `Tls13Handshake`).
    pub peer: Option<PublicKey>,
    /// TLS 1.2: the master secret's inputs, kept until the key block is
    /// asked for, so that one invocation computes both.
    pub master_seed: Option<MasterSeed>,
    /// Finished verify_data computed ahead, by side: (hash, verify_data).
    pub finished_ahead: [Option<([u8; 32], Vec<u8>)>; 2],
    /// TLS 1.2 client: the hash our Finished will cover, when known ahead
    /// (the EMS session hash, or the transcript through our CertificateVerify).
    pub client_finished_hash: Option<[u8; 32]>,
    /// A CertificateVerify was signed in this session.
    pub signed: bool,
    /// The TLS 1.2 key block, fetched once.
    pub key_block: Option<Zeroizing<Vec<u8>>>,
    /// TLS 1.3 handshake and application traffic keys, `[client, server]`.
    pub hs: Option<[TrafficKey; 2]>,
    pub app: Option<[TrafficKey; 2]>,
    /// TLS 1.3 keys after key updates, by side and generation.
    pub updated: HashMap<(usize, u32), TrafficKey>,
    pub generation: [u32; 2],
}

impl Glue {
    pub fn new(inner: Arc<Inner>, session: SessionId) -> Self {
        Glue {
            inner,
            session,
            claimed: AtomicBool::new(false),
            state: Mutex::new(GlueState::default()),
        }
    }

    /// The key exchange was used (not abandoned): keep the session.
    pub fn claim(&self) {
        self.claimed.store(true, Ordering::SeqCst);
    }

    pub fn claimed(&self) -> bool {
        self.claimed.load(Ordering::SeqCst)
    }

    pub fn step(&self, step: Step) -> Result<StepReply> {
        self.inner.step(self.session, step)
    }
}

pub(crate) fn side_index(side: Role) -> usize {
    match side {
        Role::Client => 0,
        Role::Server => 1,
    }
}

/// What a token stands for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Tls12Master,
    /// The TLS 1.3 ECDHE shared secret (computed in `Tls13Handshake`).
    Tls13Shared,
    /// A handshake traffic secret.
    HsTraffic(Role),
    /// Derive-Secret(handshake secret, "derived", ""): the master secret's salt.
    Derived,
    /// An application traffic secret, by generation.
    ApTraffic(Role, u32),
    ExporterMaster,
    /// Derive-Secret(exporter master, label, "").
    ExporterSecret(Vec<u8>),
    FinishedKey(Role),
    /// A secret we refuse to produce (resumption): nothing can be done with it.
    Dead,
}

#[derive(Clone)]
pub(crate) struct Entry {
    pub glue: Arc<Glue>,
    pub kind: Kind,
}

static TOKENS: LazyLock<Mutex<HashMap<Vec<u8>, Entry>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));
static KX: LazyLock<Mutex<HashMap<Vec<u8>, Arc<Glue>>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

pub(crate) fn random(len: usize) -> Vec<u8> {
    let mut out = vec![0u8; len];
    // A failing OS RNG leaves zeros: a token that never matches anything
    // useful is still better than a panic inside rustls.
    let _ = seam_crypto::Rng::fill(&mut seam::OsRng, &mut out);
    out
}

/// A new token of `len` bytes for `kind` in `glue`'s session.
pub(crate) fn issue(glue: &Arc<Glue>, kind: Kind, len: usize) -> Vec<u8> {
    let token = random(len);
    lock(&TOKENS).insert(
        token.clone(),
        Entry {
            glue: glue.clone(),
            kind,
        },
    );
    token
}

pub(crate) fn lookup(secret: &[u8]) -> Option<Entry> {
    lock(&TOKENS).get(secret).cloned()
}

pub(crate) fn register_kx(public: &[u8], glue: Arc<Glue>) {
    lock(&KX).insert(public.to_vec(), glue);
}

pub(crate) fn kx_for(public: &[u8]) -> Option<Arc<Glue>> {
    lock(&KX).get(public).cloned()
}

pub(crate) fn unregister_kx(public: &[u8]) {
    lock(&KX).remove(public);
}

/// Drops every token of a provider's session (closed or evicted in the TA).
pub(crate) fn forget(inner: &Inner, session: SessionId) {
    let ours = |g: &Glue| std::ptr::eq(Arc::as_ptr(&g.inner), inner) && g.session == session;
    lock(&TOKENS).retain(|_, e| !ours(&e.glue));
    lock(&KX).retain(|_, g| !ours(g));
}

pub(crate) fn ta_error(e: Error) -> rustls::Error {
    rustls::Error::General(format!("seam TA: {e}"))
}
