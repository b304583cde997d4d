//! Fuzzing seam's (D)TLS engine in both roles at once: a client and a
//! server, each with its handshake secrets in the same in-memory TA, talk
//! through a network the fuzzer controls (deliver, drop, duplicate, reorder,
//! corrupt, cut, let time pass, send data, close). The `engine_pair` fuzz
//! target runs [`run`]; the corpus replay test too.
//!
//! What must hold: nothing panics; when both ends are established and
//! neither failed, data sent now arrives intact; and when both connections
//! are gone, the TA holds no handshake session (the engine closes its own).

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use arbitrary::{Arbitrary, Unstructured};
use seam::dtls::{
    cert, Config, Connection, OwnCertificate, PeerTrust, Role, SeamSecrets, Suite, Variant,
};
use seam::Client;

use crate::dtls_fuzzing::{self, IDENTITY};
use crate::memory_ta::MemoryTa;
use crate::testing::Seeded;

#[derive(Arbitrary, Debug)]
pub struct Setup {
    tls: bool,
    cookie: bool,
    /// Bit i offers `Suite::ALL[i]` (none set: all).
    client_suites: u8,
    server_suites: u8,
    mutual: bool,
    ems: bool,
    small_mtu: bool,
}

#[derive(Arbitrary, Debug)]
pub enum Net {
    /// Deliver the next queued piece towards the server (or the client).
    Deliver(bool),
    Drop(bool),
    Duplicate(bool),
    /// Move the next piece to the back of its queue.
    Reorder(bool),
    /// Flip a byte of the next piece, then deliver it.
    Corrupt(bool, u16, u8),
    /// Deliver only the first bytes of the next piece.
    Cut(bool, u16),
    /// Deliver bytes of the fuzzer's own.
    Inject(bool, Vec<u8>),
    /// Let seconds pass and fire the timers.
    Wait(u8),
    /// Application data from the client (or the server).
    Send(bool, Vec<u8>),
    Close(bool),
}

fn suites(mask: u8) -> Vec<Suite> {
    let chosen: Vec<Suite> = Suite::ALL
        .iter()
        .enumerate()
        .filter(|(i, _)| mask & (1 << i) != 0)
        .map(|(_, s)| *s)
        .collect();
    if chosen.is_empty() {
        Suite::ALL.to_vec()
    } else {
        chosen
    }
}

fn configs(s: &Setup) -> (Config, Config) {
    let variant = if s.tls { Variant::Tls } else { Variant::Dtls };
    let public = dtls_fuzzing::signing_public_key();
    let spki = cert::spki_for(&public).unwrap_or_default();
    let mut c = Config::new(variant, suites(s.client_suites));
    c.psk_identity = Some(IDENTITY.to_vec());
    c.peer_trust = PeerTrust::PinnedKey(public.to_vec());
    c.require_extended_master_secret = s.ems;
    let mut sv = Config::new(variant, suites(s.server_suites));
    sv.certificate = OwnCertificate::RawPublicKey(spki.clone());
    sv.cookie_exchange = s.cookie;
    if s.mutual {
        c.certificate = OwnCertificate::RawPublicKey(spki);
        sv.require_client_certificate = true;
        sv.peer_trust = PeerTrust::PinnedKey(public.to_vec());
    }
    if s.small_mtu {
        c.mtu = 200;
        sv.mtu = 200;
    }
    (c, sv)
}

type Conn = Connection<SeamSecrets<Client>>;

struct Pair {
    ends: [Conn; 2],
    /// TLS: one byte stream each way, so bytes dropped, cut, changed or
    /// added towards an end leave that end's stream out of step for good.
    stream: bool,
    /// Streams (towards end 0, end 1) something other than in-order,
    /// whole delivery touched.
    tampered: [bool; 2],
    /// Pieces in flight towards end 0 (the client) and end 1 (the server).
    queues: [VecDeque<Vec<u8>>; 2],
    now: Instant,
}

impl Pair {
    fn flush(&mut self) {
        for from in 0..2 {
            while let Some(d) = self.ends[from].poll_output() {
                // Bounded: a connection that floods is not our subject here.
                if self.queues[1 - from].len() < 64 {
                    self.queues[1 - from].push_back(d);
                }
            }
            while self.ends[from].recv().is_some() {}
        }
    }

    fn input(&mut self, to: usize, bytes: &[u8]) {
        let _ = self.ends[to].handle_input(bytes, self.now);
    }

    fn apply(&mut self, net: &Net) {
        let to = |b: &bool| usize::from(!*b);
        if let Net::Drop(d)
        | Net::Duplicate(d)
        | Net::Reorder(d)
        | Net::Corrupt(d, ..)
        | Net::Cut(d, _)
        | Net::Inject(d, _) = net
        {
            self.tampered[to(d)] |= self.stream;
        }
        match net {
            Net::Deliver(d) => {
                if let Some(p) = self.queues[to(d)].pop_front() {
                    self.input(to(d), &p);
                }
            }
            Net::Drop(d) => {
                self.queues[to(d)].pop_front();
            }
            Net::Duplicate(d) => {
                if let Some(p) = self.queues[to(d)].front().cloned() {
                    self.queues[to(d)].push_back(p);
                }
            }
            Net::Reorder(d) => {
                if let Some(p) = self.queues[to(d)].pop_front() {
                    self.queues[to(d)].push_back(p);
                }
            }
            Net::Corrupt(d, at, xor) => {
                if let Some(mut p) = self.queues[to(d)].pop_front() {
                    if !p.is_empty() {
                        let i = usize::from(*at) % p.len();
                        p[i] ^= (*xor).max(1);
                    }
                    self.input(to(d), &p);
                }
            }
            Net::Cut(d, n) => {
                if let Some(p) = self.queues[to(d)].pop_front() {
                    let n = usize::from(*n) % (p.len() + 1);
                    self.input(to(d), &p[..n]);
                }
            }
            Net::Inject(d, bytes) => self.input(to(d), bytes),
            Net::Wait(s) => {
                self.now += Duration::from_secs(u64::from(*s));
                for end in &mut self.ends {
                    let _ = end.handle_timeout(self.now);
                }
            }
            Net::Send(from_client, data) => {
                let from = usize::from(!*from_client);
                let _ = self.ends[from].send(data);
            }
            Net::Close(client) => self.ends[usize::from(!*client)].close(),
        }
        self.flush();
    }

    fn healthy(&self) -> bool {
        self.ends
            .iter()
            .all(|e| e.is_established() && e.error().is_none() && !e.is_closed())
    }

    /// Both established and healthy: fresh data arrives intact both ways.
    /// Into a TLS stream the network tampered with, it may instead fail or
    /// not arrive (a stream out of step cannot recover), but never arrive
    /// changed.
    fn check_data(&mut self) {
        if !self.healthy() {
            return;
        }
        // What is still in flight is dropped: for a stream, that is bytes
        // lost, as much tampering as a Drop.
        for to in 0..2 {
            self.tampered[to] |= self.stream && !self.queues[to].is_empty();
        }
        self.queues = Default::default();
        for from in 0..2 {
            let message = format!("data from end {from}").into_bytes();
            if self.ends[from].send(&message).is_err() {
                return;
            }
            let to = 1 - from;
            let mut got = Vec::new();
            while let Some(d) = self.ends[from].poll_output() {
                if let Err(e) = self.ends[to].handle_input(&d, self.now) {
                    assert!(
                        self.tampered[to],
                        "a healthy connection refused fresh data: {e}"
                    );
                    return;
                }
                while let Some(m) = self.ends[to].recv() {
                    got.extend_from_slice(&m);
                }
            }
            if got.is_empty() && self.tampered[to] {
                return;
            }
            assert_eq!(got, message, "data between healthy ends arrived changed");
        }
    }
}

/// Runs one input.
pub fn run(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let Ok(setup) = Setup::arbitrary(&mut u) else {
        return;
    };
    let ta: MemoryTa = dtls_fuzzing::ta().fork(1);
    let (cc, sc) = configs(&setup);
    let t0 = Instant::now();
    let secrets = || SeamSecrets::new(ta.client(), dtls_fuzzing::credentials());
    let client = Connection::new(Role::Client, cc, secrets(), Box::new(Seeded::new(3)), t0);
    let server = Connection::new(Role::Server, sc, secrets(), Box::new(Seeded::new(5)), t0);
    let mut pair = Pair {
        ends: [client, server],
        stream: setup.tls,
        tampered: [false; 2],
        queues: Default::default(),
        now: t0,
    };
    pair.flush();
    for _ in 0..256 {
        let Ok(net) = Net::arbitrary(&mut u) else {
            break;
        };
        pair.apply(&net);
        if u.is_empty() {
            break;
        }
    }
    pair.check_data();
    drop(pair);
    assert_eq!(
        ta.handshake_count(),
        0,
        "handshake sessions left in the TA after both connections ended"
    );
}
