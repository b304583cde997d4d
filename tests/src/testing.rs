//! What the engine's tests, the end-to-end tests, the benchmarks and the
//! fuzz targets share to drive (D)TLS connections in memory: a seeded RNG,
//! a datagram link that loses, duplicates and reorders, and a pump that runs
//! two connections on virtual time until they are established or stall.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use seam::dtls::{Connection, HandshakeSecrets, RandomSource};
use seam_crypto::{Rng, RngError};

/// xorshift64*: deterministic randomness, so that every run repeats exactly
/// (a failing seed stays failing).
#[derive(Clone, Debug)]
pub struct Seeded(u64);

impl Seeded {
    /// Any seed, 0 included (the state is never 0, xorshift's fixed point).
    pub fn new(seed: u64) -> Self {
        // splitmix64 spreads nearby seeds apart.
        let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        Seeded(if z == 0 { 1 } else { z })
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub fn fill_bytes(&mut self, out: &mut [u8]) {
        for c in out.chunks_mut(8) {
            let v = self.next_u64().to_le_bytes();
            c.copy_from_slice(&v[..c.len()]);
        }
    }

    /// 0..100.
    pub fn percent(&mut self) -> u64 {
        self.next_u64() % 100
    }

    /// 0..n (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
}

/// The engine's randomness (client and server randoms, cookies, IVs).
impl RandomSource for Seeded {
    fn fill(&mut self, out: &mut [u8]) {
        self.fill_bytes(out)
    }
}

/// The in-memory Secure Environment's randomness (key generation, wraps).
impl Rng for Seeded {
    fn fill(&mut self, out: &mut [u8]) -> Result<(), RngError> {
        self.fill_bytes(out);
        Ok(())
    }
}

/// What a [`LossyLink`] did to the datagrams pushed into it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LinkStats {
    pub sent: usize,
    pub dropped: usize,
    pub duplicated: usize,
    /// Queued ahead of a datagram sent earlier.
    pub reordered: usize,
    /// The longest datagram pushed, in bytes.
    pub largest: usize,
}

impl std::ops::Add for LinkStats {
    type Output = LinkStats;
    fn add(self, o: LinkStats) -> LinkStats {
        LinkStats {
            sent: self.sent + o.sent,
            dropped: self.dropped + o.dropped,
            duplicated: self.duplicated + o.duplicated,
            reordered: self.reordered + o.reordered,
            largest: self.largest.max(o.largest),
        }
    }
}

/// One direction of a datagram link that loses, duplicates and reorders
/// with the given percentages, from a seeded generator.
pub struct LossyLink {
    rng: Seeded,
    pub loss: u64,
    pub duplication: u64,
    pub reordering: u64,
    queue: VecDeque<Vec<u8>>,
    stats: LinkStats,
}

impl LossyLink {
    pub fn new(seed: u64, loss: u64, duplication: u64, reordering: u64) -> Self {
        LossyLink {
            rng: Seeded::new(seed),
            loss,
            duplication,
            reordering,
            queue: VecDeque::new(),
            stats: LinkStats::default(),
        }
    }

    /// A link that delivers everything once, in order.
    pub fn perfect() -> Self {
        LossyLink::new(0, 0, 0, 0)
    }

    /// From now on deliver everything once, in order.
    pub fn make_perfect(&mut self) {
        (self.loss, self.duplication, self.reordering) = (0, 0, 0);
    }

    pub fn push(&mut self, datagram: Vec<u8>) {
        self.stats.sent += 1;
        self.stats.largest = self.stats.largest.max(datagram.len());
        if self.loss > 0 && self.rng.percent() < self.loss {
            self.stats.dropped += 1;
            return;
        }
        if self.duplication > 0 && self.rng.percent() < self.duplication {
            self.stats.duplicated += 1;
            self.queue.push_back(datagram.clone());
        }
        if self.reordering > 0 && !self.queue.is_empty() && self.rng.percent() < self.reordering {
            let at = self.rng.below(self.queue.len());
            self.stats.reordered += 1;
            self.queue.insert(at, datagram);
        } else {
            self.queue.push_back(datagram);
        }
    }

    pub fn pop(&mut self) -> Option<Vec<u8>> {
        self.queue.pop_front()
    }

    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    pub fn stats(&self) -> LinkStats {
        self.stats
    }
}

/// Moves everything `from` has to send into `link`.
pub fn send_all<S: HandshakeSecrets>(from: &mut Connection<S>, link: &mut LossyLink) {
    while let Some(d) = from.poll_output() {
        link.push(d);
    }
}

/// Delivers everything in `link` to `to`, ignoring its errors (the caller
/// looks at `to.error()`).
pub fn deliver_all<S: HandshakeSecrets>(
    link: &mut LossyLink,
    to: &mut Connection<S>,
    now: Instant,
) {
    while let Some(d) = link.pop() {
        let _ = to.handle_input(&d, now);
    }
}

/// How [`pump`] stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pumped {
    /// Both ends established and nothing left in flight.
    Established,
    /// An end failed; what was in flight (its alert) was delivered.
    Failed,
    /// Nothing in flight and no timer pending on either end.
    Stalled,
    /// The virtual time limit passed.
    TimedOut,
}

/// Runs client `c` and server `s` over the two links until both are
/// established, one fails, both wait for nothing, or `limit` of virtual time
/// passes; idle links advance the clock to the next retransmission deadline.
/// Returns how it stopped and the virtual time then.
pub fn pump<A: HandshakeSecrets, B: HandshakeSecrets>(
    c: &mut Connection<A>,
    s: &mut Connection<B>,
    to_s: &mut LossyLink,
    to_c: &mut LossyLink,
    t0: Instant,
    limit: Duration,
) -> (Pumped, Instant) {
    let mut now = t0;
    let end = t0 + limit;
    // A bound on the loop itself, whatever the clock does.
    for _ in 0..1_000_000 {
        if now >= end {
            return (Pumped::TimedOut, now);
        }
        send_all(c, to_s);
        send_all(s, to_c);
        if c.is_established() && s.is_established() && to_s.is_empty() && to_c.is_empty() {
            return (Pumped::Established, now);
        }
        if c.error().is_some() || s.error().is_some() {
            // Deliver what is in flight (the alert), and any answer to it.
            for _ in 0..2 {
                send_all(c, to_s);
                send_all(s, to_c);
                deliver_all(to_s, s, now);
                deliver_all(to_c, c, now);
            }
            return (Pumped::Failed, now);
        }
        let mut moved = false;
        if let Some(d) = to_s.pop() {
            let _ = s.handle_input(&d, now);
            moved = true;
        }
        if let Some(d) = to_c.pop() {
            let _ = c.handle_input(&d, now);
            moved = true;
        }
        if !moved {
            let Some(next) = [c.poll_timeout(), s.poll_timeout()]
                .into_iter()
                .flatten()
                .min()
            else {
                return (Pumped::Stalled, now);
            };
            now = now.max(next);
            if c.poll_timeout().is_some_and(|t| t <= now) {
                let _ = c.handle_timeout(now);
            }
            if s.poll_timeout().is_some_and(|t| t <= now) {
                let _ = s.handle_timeout(now);
            }
        }
    }
    panic!("pump: a million steps without an end");
}

/// Runs a handshake over perfect links and panics unless both ends are
/// established (benchmarks: no loss, no timers).
pub fn handshake<A: HandshakeSecrets, B: HandshakeSecrets>(
    c: &mut Connection<A>,
    s: &mut Connection<B>,
    now: Instant,
) {
    let (how, _) = pump(
        c,
        s,
        &mut LossyLink::perfect(),
        &mut LossyLink::perfect(),
        now,
        Duration::from_secs(60),
    );
    assert_eq!(
        how,
        Pumped::Established,
        "the handshake did not finish: client {:?} / server {:?}",
        c.error(),
        s.error()
    );
}

/// Runs one rustls handshake in memory, client against server (the
/// handshake benchmarks and the TLS tests).
pub fn rustls_handshake(client: Arc<rustls::ClientConfig>, server: Arc<rustls::ServerConfig>) {
    let mut c = rustls::ClientConnection::new(
        client,
        rustls::pki_types::ServerName::try_from("localhost").unwrap(),
    )
    .unwrap();
    let mut s = rustls::ServerConnection::new(server).unwrap();
    let mut buf = Vec::new();
    while c.is_handshaking() || s.is_handshaking() {
        buf.clear();
        while c.wants_write() {
            c.write_tls(&mut buf).unwrap();
        }
        let mut rd = &buf[..];
        while !rd.is_empty() {
            s.read_tls(&mut rd).unwrap();
        }
        s.process_new_packets().unwrap();
        buf.clear();
        while s.wants_write() {
            s.write_tls(&mut buf).unwrap();
        }
        let mut rd = &buf[..];
        while !rd.is_empty() {
            c.read_tls(&mut rd).unwrap();
        }
        c.process_new_packets().unwrap();
    }
}
