//! `cargo optee powercut [--cycles N] [--seed S]`: power cuts on the real TA.
//!
//! Each cycle boots the guest on one data disk and runs `seam-powercut`
//! (seam-tests), which first reads the TA's state and says how many
//! commands of its deterministic provisioning script the state holds
//! (`@@PC STATE applied=P ok`, or `CORRUPT` with what is wrong), then runs
//! the next commands, printing `@@PC BEGIN i` / `@@PC ACK i` on the serial
//! console, drained before it goes on. The host keeps those lines (the
//! console is outside the guest and survives the kill) and SIGKILLs QEMU at
//! a random moment (seeded; the seed is printed) while commands run. The next
//! boot's P must hold every acknowledged command and every command an
//! earlier boot found applied, and at most the one command in flight (the
//! last one begun) more, applied wholly or not at all (the guest checks the
//! whole state against the script's state after P commands). A last boot
//! only verifies.
//!
//! What is in the path of a write when QEMU dies: the TA writes through
//! OP-TEE's REE FS, whose files tee-supplicant opens with O_SYNC, on an
//! ext4 data disk (default mount: data=ordered, barriers). The disk is
//! QEMU's default `cache=writeback`: QEMU's writes go to the host's page
//! cache, which a SIGKILL of QEMU does not lose, and a guest flush is an
//! fdatasync on the host. So a kill loses exactly what the guest had not
//! yet written to its virtual disk; nothing in the guest calls `sync`
//! for us.

use std::time::{Duration, Instant};

use crate::guest::{self, Boot};
use crate::manifest::Manifest;
use crate::paths::Paths;
use crate::util::{note, Result};
use crate::watch::{watch, Next};
use crate::{bail, image};

pub struct Options {
    pub cycles: u32,
    pub seed: u64,
    pub timeout: Duration,
    pub verbose: bool,
}

/// A small seeded generator (xorshift64*): the kill moments are
/// reproducible from the printed seed.
pub struct Rand(u64);

impl Rand {
    pub fn new(seed: u64) -> Rand {
        Rand(seed.max(1))
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % n.max(1)
    }
}

/// A seed from the clock, when none is given.
pub fn clock_seed() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(1)
}

#[derive(Default)]
struct Tally {
    cycles: u32,
    acknowledged: u64,
    /// The command in flight at the cut was not applied.
    torn: u32,
    /// The command in flight was applied, its acknowledgement lost.
    applied_unacknowledged: u32,
    /// No command was in flight (the cut fell between commands).
    between: u32,
    lost: u32,
    corrupt: u32,
}

/// The longest a cycle waits for the workload to start before the kill
/// window opens; the window is this long after the state line.
const KILL_WINDOW_MS: u64 = 4000;

pub fn run(p: &Paths, s: &Manifest, b: &Manifest, o: &Options) -> Result<i32> {
    if !p.out.join("host-bin/seam-powercut").exists() {
        bail!("seam-powercut (seam-tests) is not in the image: cargo optee build");
    }
    let disk = p.out.join("powercut-data.img");
    let _ = std::fs::remove_file(&disk);
    guest::ensure_data_disk(&disk)?;
    println!(
        "==> powercut: {} cycles, seed {} (repeat with --seed {})",
        o.cycles, o.seed, o.seed
    );
    let mut rng = Rand::new(o.seed);
    let mut tally = Tally::default();
    // The last command acknowledged and the last one begun, over all boots.
    let mut acked: i64 = -1;
    let mut begun: i64 = -1;
    // How many commands the last boot found applied.
    let mut found: i64 = 0;
    let started = Instant::now();
    for cycle in 0..=o.cycles {
        let last = cycle == o.cycles;
        let kill_after = Duration::from_millis(rng.below(KILL_WINDOW_MS));
        let script = format!(
            "SEAM_BACKEND=tee /opt/seam/bin/seam-powercut{}\n",
            if last { " --verify-only" } else { "" }
        );
        // Its own log directory: a long campaign must not rotate away
        // the logs of other runs (new_log_dir keeps the last 20).
        let logs = guest::new_log_dir(&p.out.join("powercut"), &format!("cycle-{cycle}"))?;
        let initrd = image::with_command(&b.path("initramfs.path")?, &script, &logs)?;
        let boot = Boot {
            setup: s,
            initrd: initrd.clone(),
            data_disk: Some(disk.clone()),
            logs,
        };
        let mut state: Option<(Option<i64>, String)> = None;
        let mut kill_at: Option<Instant> = None;
        let mut this_acked = acked;
        let mut this_begun = begun;
        let mut failed: Option<String> = None;
        let ended = watch(&boot, o.timeout, |line| {
            if let Some(line) = line {
                if o.verbose {
                    println!("    {line}");
                }
                if let Some(rest) = line.strip_prefix("@@PC STATE applied=") {
                    let (n, verdict) = rest.split_once(' ').unwrap_or((rest, ""));
                    state = Some((n.parse().ok(), verdict.to_string()));
                    if !last {
                        kill_at = Some(Instant::now() + kill_after);
                    }
                } else if let Some(i) = line.strip_prefix("@@PC ACK ") {
                    this_acked = this_acked.max(i.trim().parse().unwrap_or(-1));
                } else if let Some(i) = line.strip_prefix("@@PC BEGIN ") {
                    this_begun = this_begun.max(i.trim().parse().unwrap_or(-1));
                } else if line.starts_with("@@PC FAIL") {
                    failed = Some(line.to_string());
                }
            }
            match kill_at {
                Some(t) if Instant::now() >= t => Next::Kill,
                _ => Next::Continue,
            }
        })?;
        let _ = std::fs::remove_file(&initrd);
        let Some((applied, verdict)) = state else {
            boot.print_logs();
            bail!("cycle {cycle}: the workload never reported the state");
        };
        // The state this boot found, against what the previous boots logged
        // and found. Durable: every acknowledged command, and every command
        // a previous boot found applied. At most one more: the command in
        // flight at the cut (the last one begun), applied or not.
        let durable = (acked + 1).max(found);
        let in_flight = (begun >= durable).then_some(begun);
        let most = in_flight.map_or(durable, |b| b + 1);
        let outcome = match applied {
            _ if !verdict.starts_with("ok") => {
                tally.corrupt += 1;
                format!("CORRUPT: {verdict}")
            }
            None => {
                tally.corrupt += 1;
                "CORRUPT: no count".into()
            }
            Some(n) if n < durable => {
                tally.lost += 1;
                format!(
                    "LOST: applied {n}, but command {} was acknowledged and {} found applied before",
                    acked,
                    found - 1
                )
            }
            Some(n) if n > most => {
                tally.corrupt += 1;
                format!("CORRUPT: applied {n}, but only commands up to {begun} were begun")
            }
            Some(n) if cycle == 0 => format!("fresh disk, applied {n}"),
            Some(n) => match in_flight {
                None => {
                    tally.between += 1;
                    format!("applied {n}: the cut fell between commands")
                }
                Some(b) if n == b => {
                    tally.torn += 1;
                    format!("applied {n}: command {b} in flight, not applied")
                }
                Some(b) => {
                    tally.applied_unacknowledged += 1;
                    format!("applied {n}: command {b} in flight, applied")
                }
            },
        };
        if cycle > 0 {
            tally.cycles += 1;
        }
        tally.acknowledged += (this_acked - acked).max(0) as u64;
        println!(
            "    cycle {cycle:>3}: {outcome}; then {} acknowledged, killed after {} ms ({:.1} s)",
            (this_acked - acked).max(0),
            kill_after.as_millis(),
            ended.elapsed.as_secs_f64()
        );
        if let Some(f) = failed {
            boot.print_logs();
            bail!("cycle {cycle}: a command was refused: {f}");
        }
        if !verdict.starts_with("ok") || applied.is_none_or(|n| n < durable || n > most) {
            boot.print_logs();
            if cycle > 0 {
                note(
                    "the data disk of the failed cycle is kept: target/optee/powercut-data.img; \
                      each cycle's logs are in target/optee/powercut/logs/",
                );
            }
        }
        if last && ended.rc != Some(0) {
            boot.print_logs();
        }
        acked = this_acked;
        begun = this_begun;
        found = found.max(applied.unwrap_or(0));
    }
    println!(
        "==> powercut: {} cycles in {:.0} s, seed {}: {} commands acknowledged; torn stores \
         (in-flight command not applied) {}, in-flight applied {}, cut between commands {}; \
         lost acknowledged commands {}, corruptions detected {}",
        tally.cycles,
        started.elapsed().as_secs_f64(),
        o.seed,
        tally.acknowledged,
        tally.torn,
        tally.applied_unacknowledged,
        tally.between,
        tally.lost,
        tally.corrupt
    );
    Ok(if tally.lost + tally.corrupt == 0 {
        0
    } else {
        1
    })
}
