//! The tunnel's bounds: connections open at once, handshakes in the SE at
//! once (taken only while a handshake actually holds a TA session, so a peer
//! that connects and stays silent holds nothing), and the SIGTERM drain.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use seam::dtls::secrets::{
    ClientFinish, ClientOpen, HandshakeSecrets, SecretsError, ServerFinish, ServerOpen,
};
use seam::dtls::{SeamSecrets, Suite, Variant};
use seam::Client;

/// A counting semaphore.
pub struct Semaphore {
    free: Mutex<usize>,
    freed: Condvar,
}

pub struct Permit(Arc<Semaphore>);

impl Semaphore {
    pub fn new(n: usize) -> Arc<Semaphore> {
        Arc::new(Semaphore {
            free: Mutex::new(n),
            freed: Condvar::new(),
        })
    }

    /// Waits until `deadline` for a permit.
    pub fn acquire_until(self: &Arc<Self>, deadline: Instant) -> Option<Permit> {
        let mut free = self.free.lock().unwrap_or_else(|p| p.into_inner());
        while *free == 0 {
            let now = Instant::now();
            if now >= deadline {
                return None;
            }
            free = self
                .freed
                .wait_timeout(free, deadline - now)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
        *free -= 1;
        Some(Permit(self.clone()))
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        *self.0.free.lock().unwrap_or_else(|p| p.into_inner()) += 1;
        self.0.freed.notify_one();
    }
}

/// SIGTERM / SIGINT: stop accepting, let open connections finish until the
/// drain deadline, then close them.
pub struct Shutdown {
    drain: Duration,
    since: Mutex<Option<Instant>>,
    pub active: AtomicUsize,
}

static SIGNALLED: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(_: libc::c_int) {
    // Only an atomic store: async-signal-safe.
    SIGNALLED.store(true, Ordering::SeqCst);
}

impl Shutdown {
    /// Installs the SIGTERM and SIGINT handlers.
    pub fn install(drain: Duration) -> Arc<Shutdown> {
        let handler = on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t;
        // SAFETY: the handler only stores to an atomic; SIGPIPE is ignored so
        // a peer that vanished makes a write fail instead of killing us.
        unsafe {
            libc::signal(libc::SIGTERM, handler);
            libc::signal(libc::SIGINT, handler);
            libc::signal(libc::SIGPIPE, libc::SIG_IGN);
        }
        Arc::new(Shutdown {
            drain,
            since: Mutex::new(None),
            active: AtomicUsize::new(0),
        })
    }

    /// Whether a signal asked us to stop (new connections are refused).
    pub fn stopping(&self) -> bool {
        if !SIGNALLED.load(Ordering::SeqCst) {
            return false;
        }
        let mut since = self.since.lock().unwrap_or_else(|p| p.into_inner());
        since.get_or_insert_with(Instant::now);
        true
    }

    /// Whether open connections must close now.
    pub fn drained(&self) -> bool {
        self.stopping()
            && self
                .since
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .is_some_and(|t| t.elapsed() >= self.drain)
    }

    /// Counts one open connection until the guard drops.
    pub fn enter(self: &Arc<Self>) -> Active {
        self.active.fetch_add(1, Ordering::SeqCst);
        Active(self.clone())
    }

    pub fn open(&self) -> usize {
        self.active.load(Ordering::SeqCst)
    }

    /// After the listener closed: wait for the connections (they close
    /// themselves at the drain deadline).
    pub fn wait_idle(&self) {
        let limit = Instant::now() + self.drain + Duration::from_secs(5);
        while self.open() > 0 && Instant::now() < limit {
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

pub struct Active(Arc<Shutdown>);

impl Drop for Active {
    fn drop(&mut self) {
        self.0.active.fetch_sub(1, Ordering::SeqCst);
    }
}

/// The SE's handshake steps, with a handshake permit taken at the first
/// step and given back (with the TA session) by [`Gated::finish`].
pub struct Gated {
    inner: SeamSecrets<Client>,
    permits: Arc<Semaphore>,
    permit: Option<Permit>,
    deadline: Instant,
}

impl Gated {
    pub fn new(inner: SeamSecrets<Client>, permits: Arc<Semaphore>, deadline: Instant) -> Gated {
        Gated {
            inner,
            permits,
            permit: None,
            deadline,
        }
    }

    fn gate(&mut self) -> Result<&mut SeamSecrets<Client>, SecretsError> {
        if self.permit.is_none() {
            self.permit = Some(self.permits.acquire_until(self.deadline).ok_or_else(|| {
                SecretsError::Failed("every SE handshake slot stayed busy".into())
            })?);
        }
        Ok(&mut self.inner)
    }

    /// The handshake is over: close its TA session, free the slot.
    pub fn finish(&mut self) {
        self.inner.release();
        self.permit = None;
    }
}

impl HandshakeSecrets for Gated {
    fn client_open(
        &mut self,
        variant: Variant,
        suites: &[Suite],
    ) -> Result<ClientOpen, SecretsError> {
        self.gate()?.client_open(variant, suites)
    }
    fn client_finish(
        &mut self,
        suite: Suite,
        messages: &[u8],
    ) -> Result<ClientFinish, SecretsError> {
        self.gate()?.client_finish(suite, messages)
    }
    fn server_open(
        &mut self,
        variant: Variant,
        suite: Suite,
        client_hello: &[u8],
    ) -> Result<ServerOpen, SecretsError> {
        self.gate()?.server_open(variant, suite, client_hello)
    }
    fn server_finish(
        &mut self,
        suite: Suite,
        messages: &[u8],
    ) -> Result<ServerFinish, SecretsError> {
        self.gate()?.server_finish(suite, messages)
    }
    fn invocations(&self) -> u32 {
        self.inner.invocations()
    }
}
