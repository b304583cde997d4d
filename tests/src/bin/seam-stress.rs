//! The workload of `cargo optee stress`: many client processes on one TA.
//!
//! `seam-stress run --clients C --seconds S [--seed X]` (as root) provisions
//! SE `stress` (a signing key, an AES/MAC key, a PSK and a certificate key,
//! each granted to six callers: uids 1001 and 1002 by TEEC_LOGIN_USER, gids
//! 61001..61004 by TEEC_LOGIN_GROUP), then runs C `seam-stress client`
//! processes, client i as caller i % 6, for S seconds. Each loops over a
//! random mix of every operation: sign, verify, AEAD round trips, MAC, hash,
//! random, SDO create/update/retrieve/delete, listings, DTLS PSK and TLS
//! ECDHE handshakes (seam's engine against itself in memory, both ends'
//! secrets in the TA) and signed admin commands (racing each other for the
//! counter: a stale counter is retried). One client in four also
//! misbehaves: malformed and oversized requests, keys it has no grant for,
//! handshakes opened and abandoned (on a PSK of a second SE, `stress-x`:
//! the TA's per-SE quota keeps them from starving `stress`'s handshakes).
//! The parent kills a random client with SIGKILL every few seconds,
//! mid-call, and starts another in its place.
//!
//! The handshakes are protocol version 2's: seam's engine opens and
//! finishes each side in the TA (`ClientOpen`/`ClientFinish`,
//! `ServerOpen`/`ServerFinish`). Several processes share each caller and
//! one SE, so the TA's quotas (`MAX_HANDSHAKES_PER_CALLER`: a caller's
//! next open wipes its oldest session, perhaps another of its processes'
//! in-flight one; `MAX_HANDSHAKES_PER_SE`) may refuse a handshake: those
//! refusals are counted apart ("quota"), as the design's answer, not as
//! failures.
//!
//! It prints the TA's memory every 30 s, then, per operation, the count,
//! unexpected failures, quota refusals, p50 and p99 latency; then the TA's
//! heap and stack peaks, the handshake sessions it still holds once every
//! client is gone and the heap allocations it could not make (from the TA's
//! STATS command). Passes with 0 unexpected failures, 0 sessions left and 0
//! failed allocations.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use seam::dtls::{
    cert, Config, Connection, OwnCertificate, PeerTrust, RandomSource, Role, SeamSecrets, Suite,
    TaCredentials, Variant,
};
use seam::proto::{AclEntry, AdminOp, KeyAttributes, Ops, Reason};
use seam::{identity, AdminKey, Client, CommandSigner, KeyRef};
use seam_tests::{Device, Who, TEST_ISSUER_SCALAR};

const SE: &str = "stress";
/// Where misbehaving clients abandon their handshakes.
const SE_X: &str = "stress-x";
const ADMIN: [u8; 32] = [0x5d; 32];
const GROUPS: [u32; 4] = [61001, 61002, 61003, 61004];
const USERS: [u32; 2] = [1001, 1002];

/// Caller `i % 6`: a uid (USER login) or a gid (GROUP login, as root).
fn caller(i: u32) -> (Option<u32>, Who) {
    match i % 6 {
        0 => (Some(USERS[0]), Who::Me),
        1 => (Some(USERS[1]), Who::Me),
        n => (None, Who::Group(GROUPS[n as usize - 2])),
    }
}

fn grantees() -> Vec<seam::ClientId> {
    let mut v: Vec<_> = USERS.iter().map(|u| identity::for_uid(*u)).collect();
    v.extend(GROUPS.iter().map(|g| identity::for_gid(*g)));
    v
}

fn suid(v: u8) -> seam::proto::Suid {
    seam::proto::Suid::new(v).expect("a valid SUID")
}

fn key(name: &str, v: u8) -> KeyRef {
    KeyRef {
        se: seam::client::name(SE).expect("name"),
        key: seam::client::name(name).expect("name"),
        suid: suid(v),
    }
}

// A P-256 key is a certificate credential: SUID tens digit 4 (issue 11).
const SIG: (&str, u8) = ("sig", 45);
const AES: (&str, u8) = ("aes", 23);
const PSK: (&str, u8) = ("psk", 12);
const CERT: (&str, u8) = ("cert", 42);

struct Rand(u64);

impl Rand {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

impl RandomSource for Rand {
    fn fill(&mut self, out: &mut [u8]) {
        for b in out {
            *b = self.next() as u8;
        }
    }
}

fn setup() -> Result<(), String> {
    let device = Device::new();
    let issuer = AdminKey::from_scalar(&TEST_ISSUER_SCALAR).expect("issuer");
    let admin = AdminKey::from_scalar(&ADMIN).expect("admin");
    let mut me = device.client();
    // Leftover SEs of an earlier run are retired first.
    let _ = me.retire_se(&issuer, SE);
    let _ = me.retire_se(&issuer, SE_X);
    me.create_se(&issuer, SE, &admin.public_key(), false)
        .map_err(|e| format!("creating {SE}: {e}"))?;
    me.create_se(&issuer, SE_X, &admin.public_key(), false)
        .map_err(|e| format!("creating {SE_X}: {e}"))?;
    let name = |s: &str| seam::client::name(s).expect("name");
    let mut x = vec![AdminOp::GenerateSecret {
        object: name(PSK.0),
        suid: suid(PSK.1),
        len: 32,
        attributes: KeyAttributes::default(),
    }];
    for who in grantees() {
        x.push(AdminOp::Grant {
            object: seam::proto::GrantTarget::Object(name(PSK.0)),
            entry: AclEntry {
                grantee: who,
                ops: Ops::HANDSHAKE,
                suid: Some(suid(PSK.1)),
            },
        });
    }
    for chunk in x.chunks(seam::proto::MAX_ADMIN_OPS) {
        me.admin(&admin, SE_X, chunk.to_vec())
            .map_err(|e| format!("provisioning {SE_X}: {e}"))?;
    }
    let mut ops = vec![
        AdminOp::GenerateKeyPair {
            object: name(SIG.0),
            suid: suid(SIG.1),
            attributes: KeyAttributes::default(),
        },
        AdminOp::GenerateSecret {
            object: name(AES.0),
            suid: suid(AES.1),
            len: 16,
            attributes: KeyAttributes::default(),
        },
        AdminOp::GenerateSecret {
            object: name(PSK.0),
            suid: suid(PSK.1),
            len: 32,
            attributes: KeyAttributes::default(),
        },
        AdminOp::GenerateKeyPair {
            object: name(CERT.0),
            suid: suid(CERT.1),
            attributes: KeyAttributes::default(),
        },
    ];
    for who in grantees() {
        for (object, ops_granted, suid_v) in [
            (SIG, Ops::SIGN.union(Ops::VERIFY), SIG.1),
            (AES, Ops::ENCRYPT.union(Ops::DECRYPT).union(Ops::MAC), AES.1),
            (PSK, Ops::HANDSHAKE, PSK.1),
            (CERT, Ops::HANDSHAKE, CERT.1),
            (("*", 0), Ops::CREATE, 25),
        ] {
            let target = match object.0 {
                "*" => seam::proto::GrantTarget::All,
                o => seam::proto::GrantTarget::Object(name(o)),
            };
            ops.push(AdminOp::Grant {
                object: target,
                entry: AclEntry {
                    grantee: who,
                    ops: ops_granted,
                    suid: Some(suid(suid_v)),
                },
            });
        }
    }
    for chunk in ops.chunks(seam::proto::MAX_ADMIN_OPS) {
        me.admin(&admin, SE, chunk.to_vec())
            .map_err(|e| format!("provisioning {SE}: {e}"))?;
    }
    Ok(())
}

/// Latencies as a histogram in 5% steps, so clients can send theirs.
#[derive(Default)]
struct Stats {
    ok: u64,
    unexpected: u64,
    /// Refused by a handshake quota (see the module documentation).
    quota: u64,
    buckets: BTreeMap<u32, u64>,
}

fn bucket(us: u64) -> u32 {
    ((us.max(1) as f64).ln() / 1.05f64.ln()) as u32
}

fn bucket_us(b: u32) -> f64 {
    1.05f64.powi(b as i32)
}

struct Worker {
    id: u32,
    who: Who,
    misbehave: bool,
    rng: Rand,
    device: Device,
    client: Client,
    /// Unexpected failures reported so far (the first few are described).
    errors: u32,
    secret_exists: bool,
}

type Outcome = Result<(), String>;

/// How often the parent samples the TA's memory.
const SAMPLE_EVERY: Duration = Duration::from_secs(30);

/// How a handshake refused by a quota is reported.
const QUOTA: &str = "quota: ";

/// A handshake error caused by the TA's quotas: the SE's sessions are all
/// taken (`LimitReached`), or another process of the same caller opened one
/// more and the TA wiped this one as the caller's oldest (`UnknownHandshake`).
fn quota_or(err: String) -> String {
    if err.contains("limit reached") || err.contains("no such handshake session") {
        format!("{QUOTA}{err}")
    } else {
        err
    }
}

impl Worker {
    /// Reports the operation to the parent at once, one line each (stdout
    /// is line-buffered): a client killed later still has its work and its
    /// failures counted.
    fn record(&mut self, op: &'static str, t: Instant, outcome: Outcome) {
        match outcome {
            Ok(()) => println!("O {op} ok {}", bucket(t.elapsed().as_micros() as u64)),
            Err(e) if e.starts_with(QUOTA) => println!("O {op} quota"),
            Err(e) => {
                println!("O {op} unexpected");
                if self.errors < 20 {
                    println!("E client {}: {op}: {e}", self.id);
                }
                self.errors += 1;
            }
        }
    }

    fn one(&mut self) {
        let n = if self.misbehave { 16 } else { 13 };
        let t = Instant::now();
        let (op, outcome): (&'static str, Outcome) = match self.rng.below(n) {
            0 => ("sign", self.sign()),
            1 => ("verify", self.verify()),
            2 => ("aead", self.aead()),
            3 => ("mac", self.mac()),
            4 => ("hash", self.client.hash(b"stress").map(|_| ()).map_err(e)),
            5 => ("random", self.random()),
            6 => ("sdo", self.sdo()),
            7 => ("list", self.list()),
            8 | 9 => (
                "dtls-psk",
                self.handshake(Variant::Dtls, Suite::PskAes128Ccm8),
            ),
            10 => (
                "tls-ecdhe",
                self.handshake(Variant::Tls, Suite::EcdheEcdsaAes128CbcSha256),
            ),
            11 | 12 => ("admin", self.admin()),
            13 => ("malformed", self.malformed()),
            14 => ("ungranted", self.ungranted()),
            _ => ("abandoned-handshake", self.abandon()),
        };
        self.record(op, t, outcome);
    }

    fn sign(&mut self) -> Outcome {
        self.client
            .sign(&key(SIG.0, SIG.1), b"message")
            .map(|_| ())
            .map_err(e)
    }

    fn verify(&mut self) -> Outcome {
        let k = key(SIG.0, SIG.1);
        let sig = self.client.sign(&k, b"message").map_err(e)?;
        match self.client.verify(&k, b"message", &sig).map_err(e)? {
            true => Ok(()),
            false => Err("its own signature does not verify".into()),
        }
    }

    fn aead(&mut self) -> Outcome {
        let k = key(AES.0, AES.1);
        let msg = format!("client {} says {}", self.id, self.rng.next());
        // The SE draws the nonce (issue 11).
        let (nonce, ct) = self
            .client
            .encrypt(&k, seam::AeadAlg::Aes128Gcm, 12, b"aad", msg.as_bytes())
            .map_err(e)?;
        let pt = self
            .client
            .decrypt(&k, seam::AeadAlg::Aes128Gcm, &nonce, b"aad", &ct)
            .map_err(e)?;
        (pt == msg.as_bytes())
            .then_some(())
            .ok_or("round trip changed".into())
    }

    fn mac(&mut self) -> Outcome {
        let k = key(AES.0, AES.1);
        let tag = self.client.mac(&k, b"mac me").map_err(e)?;
        match self.client.mac_verify(&k, b"mac me", &tag).map_err(e)? {
            true => Ok(()),
            false => Err("its own tag does not verify".into()),
        }
    }

    fn random(&mut self) -> Outcome {
        let r = self.client.random(32).map_err(e)?;
        (r.len() == 32).then_some(()).ok_or("wrong length".into())
    }

    fn sdo(&mut self) -> Outcome {
        // Its own object, by client number: a client killed mid-call may
        // leave it behind for the one that replaces it.
        let name = format!("o{}", self.id);
        let data = self.rng.next().to_be_bytes();
        match self.client.sdo_create(SE, &name, &data) {
            Err(err) if err.reason() == Some(Reason::AlreadyExists) => {}
            other => other.map_err(e)?,
        }
        let more = self.rng.next().to_be_bytes();
        self.client.sdo_update(SE, &name, &more).map_err(e)?;
        let got = self.client.sdo_retrieve(SE, &name).map_err(e)?;
        self.client.sdo_delete(SE, &name).map_err(e)?;
        (got == more)
            .then_some(())
            .ok_or("SDO read back changed".into())
    }

    fn list(&mut self) -> Outcome {
        let objects = self.client.object_list(SE).map_err(e)?;
        if objects.len() < 4 {
            return Err(format!("sees {} objects, granted 4", objects.len()));
        }
        self.client.se_info(SE).map(|_| ()).map_err(e)
    }

    fn handshake(&mut self, variant: Variant, suite: Suite) -> Outcome {
        let cert_public = self
            .client
            .object_info(SE, CERT.0)
            .map_err(e)?
            .public_key
            .ok_or("no public key")?;
        let spki = cert::spki_for(&cert_public.0).ok_or("no SPKI for the key")?;
        let mut cc = Config::new(variant, vec![suite]);
        cc.psk_identity = Some(b"stress".to_vec());
        cc.peer_trust = PeerTrust::PinnedKey(cert_public.0.to_vec());
        let mut sc = Config::new(variant, vec![suite]);
        sc.certificate = OwnCertificate::RawPublicKey(spki);
        let secrets = |c| {
            SeamSecrets::new(
                c,
                TaCredentials {
                    psk: Some(key(PSK.0, PSK.1)),
                    psk_by_identity: vec![(b"stress".to_vec(), key(PSK.0, PSK.1))],
                    signing_key: Some(key(CERT.0, CERT.1)),
                },
            )
        };
        let t0 = Instant::now();
        let mut c = Connection::new(
            Role::Client,
            cc,
            secrets(self.device.client_as(self.who)),
            Box::new(Rand(self.rng.next() | 1)),
            t0,
        );
        let mut s = Connection::new(
            Role::Server,
            sc,
            secrets(self.device.client_as(self.who)),
            Box::new(Rand(self.rng.next() | 1)),
            t0,
        );
        for _ in 0..64 {
            if c.is_established() && s.is_established() {
                break;
            }
            // A quota refusal on one end reaches the other as an alert
            // (internal_error): the end that was refused says why.
            let errors: Vec<String> = [c.error(), s.error()]
                .into_iter()
                .flatten()
                .map(|err| quota_or(format!("{suite:?}: {err}")))
                .collect();
            if let Some(err) = errors
                .iter()
                .find(|e| e.starts_with(QUOTA))
                .or(errors.first())
            {
                return Err(err.clone());
            }
            while let Some(d) = c.poll_output() {
                let _ = s.handle_input(&d, t0);
            }
            while let Some(d) = s.poll_output() {
                let _ = c.handle_input(&d, t0);
            }
        }
        if !(c.is_established() && s.is_established()) {
            return Err(format!("{suite:?}: not established"));
        }
        c.send(b"ping").map_err(|e| e.to_string())?;
        while let Some(d) = c.poll_output() {
            s.handle_input(&d, t0).map_err(|e| e.to_string())?;
        }
        (s.recv().as_deref() == Some(b"ping".as_slice()))
            .then_some(())
            .ok_or("data did not arrive".into())
    }

    /// A signed admin command: generate or delete this client's own secret
    /// (by client number; the caller cannot see it, so it keeps track, and
    /// a predecessor killed mid-call may have left it either way). Clients
    /// race for the SE's counter; a stale one is signed again.
    fn admin(&mut self) -> Outcome {
        let admin = AdminKey::from_scalar(&ADMIN).expect("admin");
        let object = seam::client::name(&format!("t{}", self.id)).map_err(e)?;
        for _ in 0..20 {
            let op = if self.secret_exists {
                AdminOp::Delete {
                    object: object.clone(),
                }
            } else {
                AdminOp::GenerateSecret {
                    object: object.clone(),
                    suid: suid(AES.1),
                    len: 16,
                    attributes: KeyAttributes::default(),
                }
            };
            match self.client.admin(&admin, SE, vec![op]) {
                Ok(_) => {
                    self.secret_exists = !self.secret_exists;
                    return Ok(());
                }
                // Another admin command took the counter: retry.
                Err(err) if err.reason() == Some(Reason::StaleCounter) => continue,
                // Left by a killed predecessor: now we know.
                Err(err) if err.reason() == Some(Reason::AlreadyExists) || err.status() == 4004 => {
                    self.secret_exists = !self.secret_exists;
                }
                Err(err) => return Err(err.to_string()),
            }
        }
        Err("stale counter 20 times in a row".into())
    }

    fn malformed(&mut self) -> Outcome {
        let mut bytes = vec![0u8; 1 + self.rng.below(64) as usize];
        self.rng.fill(&mut bytes);
        if self.rng.below(4) == 0 {
            bytes = vec![0; seam::proto::MAX_MESSAGE + 100];
        }
        let answer = self.client.call_raw(&bytes).map_err(e)?;
        let response: seam::proto::Response =
            seam::proto::postcard::from_bytes(&answer).map_err(|e| format!("answer: {e}"))?;
        // A few random bytes may be a valid request (NodeInfo is a 2-byte
        // one); anything else must be refused as bad input.
        (response.status == 4000 || response.status < 3000)
            .then_some(())
            .ok_or(format!("status {} for garbage", response.status))
    }

    fn ungranted(&mut self) -> Outcome {
        // Signing with the AES key, and under a wrong SUID: refused.
        match self.client.sign(&key(AES.0, AES.1), b"x") {
            Err(err) if err.status() == 4103 || err.status() == 4005 => {}
            other => return Err(format!("signing with the AES key: {other:?}")),
        }
        match self.client.sign(&key(SIG.0, 24), b"x") {
            Err(err) if err.status() == 4103 => Ok(()),
            other => Err(format!("signing under a wrong SUID: {other:?}")),
        }
    }

    /// Opens a DTLS PSK client session in `stress-x` on a fresh TA session
    /// and walks away (the session stays until it expires, the caller's
    /// last TA session closes, or its next open wipes it). `stress-x` full
    /// is the quota doing its work: not a failure.
    fn abandon(&mut self) -> Outcome {
        let mut c = self.device.client_as(self.who);
        let psk = KeyRef {
            se: seam::client::name(SE_X).expect("name"),
            ..key(PSK.0, PSK.1)
        };
        match c.handshake_client_open(
            seam::proto::handshake::Framing::Dtls,
            &[0xC0A8],
            Some(&psk),
            None,
        ) {
            Ok(_) => Ok(()),
            Err(err) if err.reason() == Some(seam::proto::Reason::LimitReached) => Ok(()),
            Err(err) => Err(e(err)),
        }
    }
}

fn e(err: seam::Error) -> String {
    err.to_string()
}

fn client(id: u32, seconds: u64, seed: u64) -> ExitCode {
    let (_, who) = caller(id);
    let device = Device::uninitialised();
    let client = device.client_as(who);
    let mut w = Worker {
        id,
        who,
        misbehave: id % 4 == 3,
        rng: Rand(seed ^ (u64::from(id) << 32) | 1),
        device,
        client,
        errors: 0,
        secret_exists: false,
    };
    let deadline = Instant::now() + Duration::from_secs(seconds);
    while Instant::now() < deadline {
        w.one();
    }
    ExitCode::SUCCESS
}

/// What the clients reported, live and dead.
#[derive(Default)]
struct Totals {
    stats: BTreeMap<String, Stats>,
    errors: Vec<String>,
}

type Shared = std::sync::Arc<std::sync::Mutex<Totals>>;

/// Reads a client's reports until its stdout closes (it finished or was
/// killed), on a thread of its own so that no client ever blocks on a full
/// pipe.
fn collect(child: &mut Child, totals: &Shared) -> std::thread::JoinHandle<()> {
    let out = child.stdout.take().expect("piped");
    let totals = totals.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            let mut t = totals.lock().unwrap_or_else(|p| p.into_inner());
            let f: Vec<&str> = line.split(' ').collect();
            match f.as_slice() {
                ["O", op, "ok", b] => {
                    let s = t.stats.entry(op.to_string()).or_default();
                    s.ok += 1;
                    *s.buckets.entry(b.parse().unwrap_or(0)).or_default() += 1;
                }
                ["O", op, "quota"] => t.stats.entry(op.to_string()).or_default().quota += 1,
                ["O", op, "unexpected"] => {
                    t.stats.entry(op.to_string()).or_default().unexpected += 1
                }
                _ if line.starts_with("E ") => t.errors.push(line[2..].to_string()),
                _ => {}
            }
        }
    })
}

fn spawn(id: u32, seconds: u64, seed: u64) -> std::io::Result<Child> {
    let (uid, _) = caller(id);
    let mut c = Command::new(std::env::current_exe()?);
    c.args([
        "client",
        &id.to_string(),
        &seconds.to_string(),
        &seed.to_string(),
    ])
    .env(
        "SEAM_BACKEND",
        std::env::var("SEAM_BACKEND").unwrap_or_default(),
    )
    .stdout(Stdio::piped());
    if let Some(uid) = uid {
        c.uid(uid).gid(uid);
    }
    c.spawn()
}

fn run(clients: u32, seconds: u64, seed: u64, kill: bool) -> ExitCode {
    if let Err(err) = setup() {
        eprintln!("seam-stress: setup failed: {err}");
        return ExitCode::FAILURE;
    }
    println!("stress: {clients} clients for {seconds} s, seed {seed}");
    let start = Instant::now();
    let deadline = start + Duration::from_secs(seconds);
    let mut rng = Rand(seed | 1);
    let totals = Shared::default();
    let mut readers = Vec::new();
    let mut children: Vec<(u32, Child)> = Vec::new();
    for id in 0..clients {
        match spawn(id, seconds, seed) {
            Ok(mut c) => {
                readers.push(collect(&mut c, &totals));
                children.push((id, c));
            }
            Err(err) => {
                eprintln!("seam-stress: cannot start client {id}: {err}");
                return ExitCode::FAILURE;
            }
        }
    }
    let mut killed = 0u32;
    // Every 2–6 s, a random client is killed mid-call and replaced.
    let mut next_kill = Instant::now() + Duration::from_millis(2000 + rng.below(4000));
    // The TA's memory, sampled as the run goes: growth shows here before it
    // shows as a failed allocation.
    let mut next_sample = Instant::now() + SAMPLE_EVERY;
    while Instant::now() + Duration::from_secs(3) < deadline {
        std::thread::sleep(Duration::from_millis(100));
        if Instant::now() >= next_sample {
            println!(
                "stress: at {:.0} s: {}",
                start.elapsed().as_secs_f64(),
                ta_stats()
            );
            next_sample = Instant::now() + SAMPLE_EVERY;
        }
        if kill && Instant::now() >= next_kill && !children.is_empty() {
            let i = rng.below(children.len() as u64) as usize;
            let (id, mut victim) = children.swap_remove(i);
            let _ = victim.kill();
            let _ = victim.wait();
            killed += 1;
            let left = deadline.saturating_duration_since(Instant::now()).as_secs();
            if let Ok(mut c) = spawn(id, left.max(1), rng.next()) {
                readers.push(collect(&mut c, &totals));
                children.push((id, c));
            }
            next_kill = Instant::now() + Duration::from_millis(2000 + rng.below(4000));
        }
    }
    // The survivors end by their own deadline; one still running a minute
    // later is hung, killed, and counted as a client that exited badly.
    let hard_stop = deadline + Duration::from_secs(60);
    let mut failed_clients = 0;
    for (_, mut child) in children {
        let status = loop {
            match child.try_wait() {
                Ok(Some(status)) => break Some(status),
                Ok(None) if Instant::now() < hard_stop => {
                    std::thread::sleep(Duration::from_millis(100))
                }
                _ => {
                    let _ = child.kill();
                    let _ = child.wait();
                    break None;
                }
            }
        };
        if !status.is_some_and(|s| s.success()) {
            failed_clients += 1;
        }
    }
    for r in readers {
        let _ = r.join();
    }
    let Totals {
        stats: totals,
        errors,
    } = std::mem::take(&mut *totals.lock().unwrap_or_else(|p| p.into_inner()));
    let (mut ops, mut unexpected, mut quota) = (0, 0, 0);
    println!(
        "{:<20} {:>9} {:>10} {:>6} {:>10} {:>10}",
        "operation", "count", "unexpected", "quota", "p50 ms", "p99 ms"
    );
    for (op, s) in &totals {
        let pct = |q: f64| {
            let target = (s.ok as f64 * q).ceil() as u64;
            let mut seen = 0;
            for (b, n) in &s.buckets {
                seen += n;
                if seen >= target.max(1) {
                    return bucket_us(*b) / 1000.0;
                }
            }
            0.0
        };
        println!(
            "{op:<20} {:>9} {:>10} {:>6} {:>10.2} {:>10.2}",
            s.ok + s.unexpected + s.quota,
            s.unexpected,
            s.quota,
            pct(0.5),
            pct(0.99)
        );
        ops += s.ok + s.unexpected + s.quota;
        unexpected += s.unexpected;
        quota += s.quota;
    }
    for err in errors.iter().take(20) {
        println!("unexpected: {err}");
    }
    // Every client is gone: its TA sessions closed, its handshakes wiped.
    let stats = ta_stats();
    println!(
        "stress: {ops} operations in {:.0} s, {unexpected} unexpected failures, {quota} handshakes \
         refused by a quota, {killed} clients killed mid-call, {failed_clients} clients exited badly",
        start.elapsed().as_secs_f64()
    );
    println!("stress: {stats}");
    if ops > 0
        && unexpected == 0
        && failed_clients == 0
        && stats.contains("handshake sessions left 0")
        && stats.contains("heap allocation failures 0")
    {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

#[cfg(feature = "tee")]
fn ta_stats() -> String {
    match seam::transport::Tee::open().and_then(|mut t| t.ta_stats()) {
        Ok(s) => format!(
            "TA heap in use {}, peak {} of {} bytes, stack peak {} of {} bytes, handshake \
             sessions left {}, heap allocation failures {}",
            s.heap_in_use,
            s.heap_peak,
            s.heap_size,
            s.stack_peak,
            s.stack_size,
            s.handshakes.map_or("unknown".into(), |n| n.to_string()),
            s.alloc_failures
                .map_or("unknown".into(), |f| if f.count == 0 {
                    "0".into()
                } else {
                    format!(
                        "{} (the largest {} bytes, with {} in use)",
                        f.count, f.biggest, f.in_use_at_biggest
                    )
                })
        ),
        Err(err) => format!("TA stats unavailable: {err}"),
    }
}

#[cfg(not(feature = "tee"))]
fn ta_stats() -> String {
    "TA stats: only on the TEE (handshake sessions left unknown)".into()
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let num = |name: &str, default: u64| -> u64 {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .and_then(|n| n.parse().ok())
            .unwrap_or(default)
    };
    match args.first().map(String::as_str) {
        Some("client") => {
            let n = |i: usize| args.get(i).and_then(|s| s.parse().ok()).unwrap_or(0);
            client(n(1) as u32, n(2), n(3))
        }
        Some("run") => run(
            num("--clients", 4) as u32,
            num("--seconds", 60),
            num("--seed", 1),
            !args.iter().any(|a| a == "--no-kill"),
        ),
        _ => {
            eprintln!("usage: seam-stress run [--clients C] [--seconds S] [--seed X] [--no-kill]");
            ExitCode::from(2)
        }
    }
}
