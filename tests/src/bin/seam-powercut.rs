//! The workload `cargo optee powercut` runs in the guest, and kills.
//!
//! A deterministic, endless provisioning script: command 0 initialises the
//! node, 1 creates SE `main`, 2 grants a CSE `*`; then, in turn, an admin
//! command that (re)generates key `k0`..`k3`, an SDO update of `progress` by
//! the CSE, and an issuer command that creates or retires SE `tmp`. Every
//! command leaves its index in the state (the admin and issuer counters are
//! index + 1, the SDO holds the index), so the state tells how many commands
//! were applied, and the script tells what the state must then be.
//!
//! On start it reads the state, prints `@@PC STATE applied=P ok` (or
//! `CORRUPT` with what differs from the script's state after P commands),
//! then runs commands P, P+1, … printing `@@PC BEGIN i` before sending each
//! and `@@PC ACK i` once it is acknowledged, each drained to the serial
//! console before going on, so the host's log of acknowledged commands is
//! never behind the guest. The host kills the guest at a random moment and
//! compares P of the next boot with that log.
//!
//! `seam-powercut [--verify-only] [--max N]`, against the TA
//! (SEAM_BACKEND=tee) or the simulator (SEAM_BACKEND=sim, store SEAM_STORE).

use std::collections::BTreeSet;
use std::io::Write;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use seam::proto::{AdminOp, Ops};
use seam::{AclEntry, AdminKey, Client, CommandSigner, KeyRef};
use seam_tests::{backend, Backend, Device, Who, TEST_ISSUER_SCALAR};

const ADMIN: [u8; 32] = [0x7c; 32];
const CSE: Who = Who::Group(61001);
const MAIN: &str = "main";
const TMP: &str = "tmp";

/// What the script's first `applied` commands leave.
#[derive(Debug, Default, PartialEq, Eq, Clone)]
struct State {
    initialised: bool,
    main: bool,
    granted: bool,
    issuer_counter: u64,
    admin_counter: u64,
    progress: Option<u64>,
    tmp: bool,
    keys: BTreeSet<u64>,
}

fn key_of(i: u64) -> u64 {
    (i / 3) % 4
}

impl State {
    fn after(applied: u64) -> State {
        let mut s = State::default();
        for i in 0..applied {
            s.apply(i);
        }
        s
    }

    fn apply(&mut self, i: u64) {
        match i {
            0 => self.initialised = true,
            1 => {
                self.main = true;
                self.issuer_counter = i + 1;
            }
            2 => {
                self.granted = true;
                self.admin_counter = i + 1;
            }
            _ => match i % 3 {
                0 => {
                    self.keys.insert(key_of(i));
                    self.admin_counter = i + 1;
                }
                1 => self.progress = Some(i),
                _ => {
                    self.tmp = !self.tmp;
                    self.issuer_counter = i + 1;
                }
            },
        }
    }

    /// How many commands this state says were applied (each command type
    /// leaves its index: see the module docs).
    fn applied(&self) -> u64 {
        if !self.initialised {
            return 0;
        }
        if !self.main {
            return 1;
        }
        let last = [
            self.issuer_counter.checked_sub(1),
            self.admin_counter.checked_sub(1),
            self.progress,
        ]
        .into_iter()
        .flatten()
        .max()
        .unwrap_or(0);
        last + 1
    }
}

struct Device2 {
    device: Device,
    /// On the simulator: the store that outlives the process.
    store: Option<std::path::PathBuf>,
    issuer: AdminKey,
    admin: AdminKey,
}

impl Device2 {
    fn client_as(&self, who: Who) -> Client {
        match &self.store {
            Some(dir) => Client::new(
                seam::Simulator::open_as(dir, seam_core::Caller::Client(who.id()))
                    .expect("simulator store"),
            ),
            None => self.device.client_as(who),
        }
    }
    fn me(&self) -> Client {
        self.client_as(Who::Me)
    }
    fn cse(&self) -> Client {
        self.client_as(CSE)
    }

    /// The state as the TA shows it; Err names an inconsistency.
    fn read(&self) -> Result<State, String> {
        let mut me = self.me();
        let mut s = State::default();
        let info = me.node_info().map_err(|e| format!("node info: {e}"))?;
        let Some(node) = info.node else {
            return Ok(s);
        };
        s.initialised = true;
        s.issuer_counter = node.issuer_counter;
        let ses = me.se_list().map_err(|e| format!("SE list: {e}"))?;
        s.main = ses.iter().any(|n| n == MAIN);
        s.tmp = ses.iter().any(|n| n == TMP);
        if !s.main {
            return Ok(s);
        }
        s.admin_counter = me
            .se_info(MAIN)
            .map_err(|e| format!("SE info: {e}"))?
            .admin_counter;
        let mut cse = self.cse();
        // Command 2, the grant, is the first admin command: a lost grant
        // shows below as keys the CSE cannot see.
        s.granted = s.admin_counter >= 3;
        if !s.granted {
            return Ok(s);
        }
        let objects = cse
            .object_list(MAIN)
            .map_err(|e| format!("object list: {e}"))?;
        for o in &objects {
            let name = o.name.as_str();
            if name == "progress" {
                let data = cse
                    .sdo_retrieve(MAIN, "progress")
                    .map_err(|e| format!("progress: {e}"))?;
                let bytes: [u8; 8] = data
                    .try_into()
                    .map_err(|d: Vec<u8>| format!("progress holds {} bytes", d.len()))?;
                s.progress = Some(u64::from_be_bytes(bytes));
            } else if let Some(k) = name.strip_prefix('k').and_then(|n| n.parse().ok()) {
                // The key must work, not merely be listed.
                let key = key_ref(name);
                let sig = cse
                    .sign(&key, b"still here")
                    .map_err(|e| format!("{name}: {e}"))?;
                if !cse
                    .verify(&key, b"still here", &sig)
                    .map_err(|e| format!("{name}: {e}"))?
                {
                    return Err(format!("{name} signs but does not verify"));
                }
                s.keys.insert(k);
            } else {
                return Err(format!("unexpected object {name}"));
            }
        }
        Ok(s)
    }

    fn run(&self, i: u64, state: &State) -> seam::Result<()> {
        match i {
            0 => self.me().init_node(&self.issuer.public_key()).map(|_| ()),
            1 => self.issuer_command(i, MAIN, true),
            2 => {
                let entry = AclEntry {
                    grantee: CSE.id(),
                    ops: Ops::SIGN.union(Ops::VERIFY).union(Ops::CREATE),
                    suid: Some(suid45()),
                };
                self.admin_command(i, vec![grant("*", entry)])
            }
            _ => match i % 3 {
                0 => {
                    let k = key_of(i);
                    let object = seam::client::name(&format!("k{k}"))?;
                    let mut ops = Vec::new();
                    if state.keys.contains(&k) {
                        ops.push(AdminOp::Delete {
                            object: object.clone(),
                        });
                    }
                    ops.push(AdminOp::GenerateKeyPair {
                        object,
                        suid: suid45(),
                        attributes: Default::default(),
                    });
                    self.admin_command(i, ops)
                }
                1 => {
                    let data = i.to_be_bytes();
                    let mut cse = self.cse();
                    if state.progress.is_some() {
                        cse.sdo_update(MAIN, "progress", &data)
                    } else {
                        cse.sdo_create(MAIN, "progress", &data)
                    }
                }
                _ => self.issuer_command(i, TMP, !state.tmp),
            },
        }
    }

    /// An issuer command with counter i + 1 (create or retire `se`).
    fn issuer_command(&self, i: u64, se: &str, create: bool) -> seam::Result<()> {
        let mut me = self.me();
        let node = me.node()?;
        let op = if create {
            seam::proto::IssuerOp::CreateSe {
                se: seam::client::name(se)?,
                admin: self.admin.public_key(),
                allow_plaintext_import: false,
            }
        } else {
            seam::proto::IssuerOp::RetireSe {
                se: seam::client::name(se)?,
            }
        };
        let cmd = seam::client::sign_issuer(&self.issuer, &node, i + 1, op)?;
        me.send_issuer(cmd).map(|_| ())
    }

    /// An admin command on `main` with counter i + 1.
    fn admin_command(&self, i: u64, ops: Vec<AdminOp>) -> seam::Result<()> {
        let mut me = self.me();
        let node = me.node()?;
        let info = me.se_info(MAIN)?;
        let cmd = seam::client::sign_admin(&self.admin, &node, &info, i + 1, ops)?;
        me.send_admin(cmd).map(|_| ())
    }
}

fn grant(object: &str, entry: AclEntry) -> AdminOp {
    AdminOp::Grant {
        object: seam::proto::GrantTarget::new(object).expect("grant target"),
        entry,
    }
}

/// The signing keys' SUID: a P-256 key is a certificate credential (tens
/// digit 4, issue 11), for ESData signatures (5).
fn suid45() -> seam::proto::Suid {
    seam::proto::Suid::new(45).expect("45 is a SUID")
}

fn key_ref(name: &str) -> KeyRef {
    KeyRef {
        se: seam::client::name(MAIN).expect("name"),
        key: seam::client::name(name).expect("name"),
        suid: suid45(),
    }
}

/// Prints a marker line and waits until the serial port has sent it.
fn mark(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
    // SAFETY: tcdrain on our own stdout; it fails harmlessly if not a tty.
    unsafe { libc::tcdrain(1) };
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let verify_only = args.iter().any(|a| a == "--verify-only");
    let max: u64 = args
        .iter()
        .position(|a| a == "--max")
        .and_then(|i| args.get(i + 1))
        .and_then(|n| n.parse().ok())
        .unwrap_or(100_000);
    if backend() == Backend::Simulator && std::env::var_os("SEAM_STORE").is_none() {
        eprintln!("seam-powercut: on the simulator, set SEAM_STORE to a directory that persists");
        return ExitCode::from(2);
    }
    let device = Device2 {
        device: Device::uninitialised(),
        store: match backend() {
            Backend::Simulator => std::env::var_os("SEAM_STORE").map(Into::into),
            Backend::Tee => None,
        },
        issuer: AdminKey::from_scalar(&TEST_ISSUER_SCALAR).expect("issuer"),
        admin: AdminKey::from_scalar(&ADMIN).expect("admin"),
    };
    let observed = match device.read() {
        Ok(s) => s,
        Err(e) => {
            mark(&format!("@@PC STATE applied=? CORRUPT {e}"));
            return ExitCode::FAILURE;
        }
    };
    let applied = observed.applied();
    let expected = State::after(applied);
    if observed != expected {
        mark(&format!(
            "@@PC STATE applied={applied} CORRUPT found {observed:?}, the script leaves {expected:?}"
        ));
        return ExitCode::FAILURE;
    }
    mark(&format!("@@PC STATE applied={applied} ok"));
    if verify_only {
        return ExitCode::SUCCESS;
    }
    let mut state = expected;
    let deadline = Instant::now() + Duration::from_secs(900);
    for i in applied..applied.saturating_add(max) {
        if Instant::now() > deadline {
            break;
        }
        mark(&format!("@@PC BEGIN {i}"));
        if let Err(e) = device.run(i, &state) {
            mark(&format!("@@PC FAIL {i} {e}"));
            return ExitCode::FAILURE;
        }
        mark(&format!("@@PC ACK {i}"));
        state.apply(i);
    }
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::State;

    #[test]
    fn every_prefix_tells_its_length() {
        for n in 0..200 {
            assert_eq!(State::after(n).applied(), n);
        }
    }
}
