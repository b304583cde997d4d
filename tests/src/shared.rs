//! One simulated TA instance shared by several callers, counting its
//! invocations: handshake sessions live in the TA's memory, so tests of
//! their per-caller binding, and counts of TA invocations per handshake,
//! need one instance (on the TEE the single-instance TA is one already).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use seam::{Client, Simulator, Transport};
use seam_core::Caller;

use crate::{Device, Who};

/// A simulator over a device's store, shared by every [`SharedTa::client`].
#[derive(Clone)]
pub struct SharedTa {
    sim: Arc<Mutex<Simulator>>,
    calls: Arc<AtomicU64>,
}

struct As {
    ta: SharedTa,
    caller: Caller,
}

impl Transport for As {
    fn call(&mut self, request: &[u8]) -> seam::Result<Vec<u8>> {
        self.ta.calls.fetch_add(1, Ordering::SeqCst);
        let mut sim = self.ta.sim.lock().unwrap_or_else(|p| p.into_inner());
        sim.set_caller(self.caller);
        sim.call(request)
    }

    fn name(&self) -> &'static str {
        "shared simulator"
    }
}

/// A transport that counts the invocations through it.
pub struct Counting<T: Transport> {
    pub inner: T,
    pub calls: Arc<AtomicU64>,
}

impl<T: Transport> Transport for Counting<T> {
    fn call(&mut self, request: &[u8]) -> seam::Result<Vec<u8>> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        self.inner.call(request)
    }

    fn name(&self) -> &'static str {
        self.inner.name()
    }
}

impl SharedTa {
    /// One TA instance over the simulator store of `device` (None on the TEE).
    pub fn new(device: &Device) -> Option<SharedTa> {
        let dir = device.store_dir()?;
        let sim = Simulator::open_as(dir, Caller::Client(Who::Me.id())).expect("simulator");
        Some(SharedTa {
            sim: Arc::new(Mutex::new(sim)),
            calls: Arc::new(AtomicU64::new(0)),
        })
    }

    pub fn client(&self, who: Who) -> Client {
        let caller = match who {
            Who::Public => Caller::Public,
            other => Caller::Client(other.id()),
        };
        Client::new(As {
            ta: self.clone(),
            caller,
        })
    }

    /// TA invocations so far, by every client of this instance.
    pub fn calls(&self) -> u64 {
        self.calls.load(Ordering::SeqCst)
    }

    /// A client whose own invocations are counted in the returned counter
    /// (as well as in [`SharedTa::calls`]).
    pub fn counted_client(&self, who: Who) -> (Client, Arc<AtomicU64>) {
        let calls = Arc::new(AtomicU64::new(0));
        let caller = match who {
            Who::Public => Caller::Public,
            other => Caller::Client(other.id()),
        };
        let inner = As {
            ta: self.clone(),
            caller,
        };
        let client = Client::new(Counting {
            inner,
            calls: calls.clone(),
        });
        (client, calls)
    }

    /// The clock this TA instance's handshake sessions expire by.
    pub fn set_clock(&self, clock: seam_core::ManualClock) {
        self.sim
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .set_clock(clock);
    }

    /// What the TA does when `who`'s last TEE session closes.
    pub fn close_handshakes(&self, who: Who) {
        self.sim
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .close_handshakes(&Caller::Client(who.id()));
    }

    /// Handshake sessions the TA holds now.
    pub fn handshake_count(&self) -> usize {
        self.sim
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .handshake_count()
    }
}
