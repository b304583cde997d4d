//! `cargo optee`: seam's emulated device — real OP-TEE (trixie's 4.5, or
//! sid's 4.10 with `setup --optee-suite sid`) on QEMU ARMv8, built only from
//! Debian packages and crates.io, running the real seam TA.
//!
//! ```text
//! cargo optee setup [--refresh] [--optee-suite S]
//!                                    host tools, trixie arm64 packages, TF-A, flash image
//! cargo optee build [--no-host]      TA + aarch64 programs, sign, verify, initramfs
//! cargo optee clippy                 clippy -D warnings on the TA (aarch64, dev kit)
//! cargo optee run [--data-disk F]    boot to an interactive shell
//! cargo optee exec [opts] -- CMD...  boot, run CMD in the guest, exit with its status
//! cargo optee test [opts]            boot, xtest health check, seam e2e suite
//! cargo optee demo                   boot and run the seam story (seam-demo) on the TA
//! cargo optee bench [N] [--json F]   boot and time seam against OpenSSL, PKCS#11, a bare call
//! cargo optee powercut [--cycles N]  kill QEMU mid-workload, reboot, check nothing acknowledged is lost
//! cargo optee stress [--minutes M]   many client processes, misbehaving ones too, on the TA
//! ```
//!
//! `run`, `exec` and `test` run `setup` (a no-op once done) and `build`
//! first unless `--no-build`. `cargo optee help` lists every option.
//!
//! # What it puts together
//!
//! | piece | from |
//! |---|---|
//! | QEMU 7.2, aarch64 cross gcc/binutils, U-Boot (qemu_arm64), mkenvimage | the host's Debian (apt) |
//! | OP-TEE OS 4.5 (`vexpress-qemu_armv8a`, GICv3) and its TA dev kit | trixie arm64 `optee-os`, `optee-os-dev` (or sid's 4.10, with its xtest: `setup --optee-suite sid`) |
//! | TF-A (BL1 + FIP: BL2, BL31, BL32 = OP-TEE, BL33 = U-Boot) | built from trixie's `arm-trusted-firmware` source: `PLAT=qemu SPD=opteed QEMU_USE_GIC_DRIVER=QEMU_GICV3` |
//! | kernel and the `tee`, `optee`, virtio-blk and ext4 modules | trixie arm64 `linux-image-*-arm64` (modules' deps from their `.modinfo`) |
//! | user space: busybox, glibc, tee-supplicant, libteec, xtest (+ its TAs), openssl | trixie arm64 packages, `dpkg -x`'d into a merged-/usr initramfs |
//!
//! Trixie packages come through a private apt configuration (own sources
//! list, lists, cache and an empty dpkg status, `APT::Architectures` amd64 +
//! arm64) pointed at the mirror the system already uses: the system's apt
//! state is never touched and nothing arm64 is installed on the host.
//! Everything downloaded or built from packages is cached in
//! `~/.cache/seam/optee` (or `$SEAM_CACHE`) under names keyed by package
//! versions; `setup.manifest` there records the result, and a second `setup`
//! only checks that it is still complete.
//!
//! # The emulated device
//!
//! `qemu-system-aarch64 -machine virt,secure=on,gic-version=3 -cpu cortex-a57
//! -smp 2 -m 1024`, flash 0 = BL1 + FIP, flash 1 = a U-Boot environment
//! (`bootdelay=0`, kernel at 0x42200000 above OP-TEE's shared memory, `qfw
//! load` + `booti`), the kernel and initramfs through fw_cfg. The guest's
//! `/init` loads the modules, mounts the optional data disk on
//! `/var/lib/optee-client/data` (where Debian's tee-supplicant keeps the REE
//! FS), starts `tee-supplicant -d`, then either runs `/seam/cmd` (a second
//! cpio appended for `exec`/`test`) between `@@ BEGIN` and `@@ DONE rc=N`
//! markers and powers off, or gives a shell. Users `seam1` (1001) and
//! `seam2` (1002) exist; `/dev/tee0` is world-usable so tests can switch uid.
//!
//! # The TA build and its checks
//!
//! `ta/optee` is its own cargo workspace, built in its own invocation (host
//! features such as `p256/std` must never unify into it), `--release` for
//! `aarch64-unknown-linux-gnu` with `TA_DEV_KIT_DIR` set (its Cargo.lock is
//! committed and updated when seam-core gains a dependency);
//! then stripped, checked and signed with the dev kit's `sign_encrypt.py`
//! and `default_ta.pem`. OP-TEE 4.5's loader refuses a TA silently on the
//! normal-world side, so the build fails loudly unless: no `DT_NEEDED`
//! (OP-TEE takes each for a TA library UUID — glibc's `getauxval` via sha2
//! and gcc's start files are the usual culprits), only `R_AARCH64_RELATIVE`
//! relocations, `ta_head` in `.dynsym`, LOAD segments aligned 0x1000, and the
//! signed file starting with the SHDR magic `0x4f545348`.
//!
//! The aarch64 host side is four cargo invocations (five for `bench`) into
//! `target/optee/host-target` with `OPTEE_CLIENT_EXPORT` pointing at a
//! libteec export directory laid out from Debian's `libteec2` and
//! `optee-client-dev`: `seam`'s unit tests (`/opt/seam/bin/seam-unit`, whose
//! `transport::tee` tests are the libteec round-trip probe), the `seam`
//! binaries, the `seam-tests` e2e harnesses (`/opt/seam/tests/`) and
//! `libseam.so` (`/opt/seam/lib/`). `host/capi/Makefile` then compiles the C
//! tests with `aarch64-linux-gnu-gcc` against that library
//! (`/opt/seam/c/`, with their provisioning scripts).
//!
//! # `test`
//!
//! One boot on a fresh data disk (`target/optee/test-data.img`, unless
//! `--data-disk` is given): `xtest 1001 1002 4001 6001`, the libteec probe,
//! every e2e harness with `SEAM_BACKEND=tee --test-threads=1 --skip
//! after_reboot`, libseam's C tests (`test_seam`, `test_jose`, `test_conn`
//! against the guest's openssl; `host/capi/tests/c/device-test.sh`, which
//! provisions their SEs with the seam CLI under the test issuer from
//! `seam-test-issuer`), and the TA's heap/stack high-water marks. If any harness
//! holds a test named `*after_reboot*`, a second boot on the same disk runs
//! just those with `SEAM_AFTER_REBOOT=1`. Ends with `optee: N passed, M
//! failed`; the exit status is non-zero on any failure.
//!
//! # When something goes wrong
//!
//! Every boot's two serial logs — `console.log` (normal world) and
//! `secure.log` (OP-TEE's console: TA panics and aborts, with the TA's
//! register dump and call stack) — are in `target/optee/logs/<time>-<cmd>/`,
//! each bounded at 16 MiB, the last 20 runs kept; their paths are printed on
//! failure. A guest that does not finish within `--timeout` is killed, and
//! so is one whose secure console floods (OP-TEE crash loops: the classic
//! symptom of a GICv2/GICv3 mismatch between QEMU and TF-A).
//! `-cpu max` hangs xtest 1006 (SVE); Debian's EDK2 `QEMU_EFI.fd` hangs
//! after TF-A (use U-Boot, as here).

mod bench;
mod cross;
mod guest;
mod image;
mod manifest;
mod paths;
mod powercut;
mod setup;
mod stress;
mod util;
mod watch;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use manifest::Manifest;
use paths::Paths;
use util::{shell_quote, step, Result};

const HELP: &str = "\
cargo optee — seam's emulated device (OP-TEE 4.5 or 4.10 on QEMU ARMv8, from Debian packages)

USAGE:
    cargo optee <COMMAND> [OPTIONS] [-- CMD...]

COMMANDS:
    setup     Install host tools with apt (only what is missing), add the Rust
              target aarch64-unknown-linux-gnu, download Debian trixie arm64
              packages (OP-TEE OS + dev kit, kernel, busybox, libc,
              tee-supplicant, libteec, xtest, openssl) with a private apt
              configuration, build TF-A (PLAT=qemu SPD=opteed, GICv3) from
              trixie's source package, and make the flash and U-Boot env
              images. Cached, keyed by versions: a second run does nothing.
    build     Cross-build the seam TA (ta/optee, its own workspace) and the
              aarch64 host programs (seam-cli with --features tee, the seam-tests
              test binaries, libseam.so and its C tests) in separate
              cargo invocations; strip, sign and
              verify the TA (no DT_NEEDED, only R_AARCH64_RELATIVE, ta_head
              exported, SHDR magic); assemble the initramfs.
    clippy    Run clippy on the seam TA (ta/optee, its own workspace) as
              `build` compiles it: aarch64-unknown-linux-gnu, release,
              TA_DEV_KIT_DIR from setup; warnings are errors.
    run       Build if needed, then boot to an interactive shell.
    exec      Build if needed, boot, run `CMD...` in the guest (as root, from
              /root, PATH includes /opt/seam/bin), stream its output, power
              off, and exit with CMD's status.
    test      Build if needed, boot, run `xtest 1001 1002 4001 6001` as a
              health check, then every seam e2e test binary with
              SEAM_BACKEND=tee --test-threads=1, then libseam's C tests
              (test_seam, test_jose, test_conn against openssl) on SEs
              provisioned with the seam CLI. Non-zero on any failure.
    demo      Build if needed, boot, and run the seam story (seam-demo from
              seam-tests) against the real TA.
    bench [N] [--json FILE]
              Build if needed (device_bench, a seam-tests example, with
              --features tee; two C anchors, openssl_client over libssl and
              pkcs11_sign over libckteec; OP-TEE's PKCS#11 TA from the dev
              kit), boot once, and time N interleaved rounds (default 10) of:
              DTLS 1.2 PSK-AES128-CCM8, TLS 1.2 ECDHE-ECDSA-AES128-CCM8
              mutual and TLS 1.3 mutual client handshakes, seam with TA
              secrets against OpenSSL's client, both to the same openssl
              s_server; ECDSA P-256 sign against the PKCS#11 TA's C_Sign;
              a request touching no key and one using a stored key against
              a bare TA invocation. Prints medians with min-max, each ratio
              to its anchor, and TA invocations per operation; --json FILE
              writes one object per case (case, n, seam_ms, anchor_ms,
              ratio, ta_invocations).
    powercut  Build if needed, then power cuts on the real TA: boot on a
              fresh data disk, run seam-powercut (a deterministic
              provisioning script that logs each acknowledged command on the
              serial console), SIGKILL QEMU at a random moment, boot again
              and check every acknowledged command is in the TA and the one
              in flight applied wholly or not at all. --cycles N (10),
              --seed S (printed; from the clock by default). Prints cycles,
              torn stores, lost acknowledged commands, corruptions.
    stress    Build if needed, boot, and run seam-stress: --clients C (4)
              processes under several uids and gids, each a mix of every
              operation, handshakes and admin commands, some misbehaving
              (malformed requests, abandoned handshakes, killed mid-call), for
              --minutes M (1). Prints operations, unexpected failures, p50/p99
              latency per operation, the TA's heap and stack peaks, handshake
              sessions left over, and any TA panic in OP-TEE's secure log.
    help      This text.

OPTIONS:
    --data-disk FILE   Attach FILE (an ext4 image, created if missing) as a
                       virtio disk mounted on tee-supplicant's data directory
                       (/var/lib/optee-client/data): secure storage then
                       survives a reboot.
    --timeout SECS     Kill a hung guest after SECS (exec, demo: 600; bench
                       900; test: 1800, its after-reboot boot 900).
    --no-build         run/exec/test: use the last build as it is.
    --no-host          build: leave out the aarch64 host programs.
    --verbose, -v      Show the whole guest console, not just CMD's output.
    --refresh          setup: refresh the package lists, take newer versions.
    --optee-suite S    setup: the Debian suite OP-TEE OS, its dev kit and
                       xtest come from: trixie (default, OP-TEE 4.5) or sid
                       (OP-TEE 4.10 as of 2026-11; see stress for how each
                       takes clients killed mid-call). Everything else
                       stays trixie's. Kept by later commands until changed;
                       `cargo optee build` afterwards rebuilds the TA with
                       that dev kit and signing key.
    --cycles N         powercut: power cuts to make (default 10).
    --seed S           powercut, stress: the random seed (printed).
    --minutes M        stress: how long (default 1; fractions allowed).
    --clients C        stress: client processes (default 4, at most 64).
    --no-kill          stress: no client is SIGKILLed mid-call (see below).

GUEST:
    /lib/optee_armtz/<uuid>.ta   our TA (and xtest's TAs)
    /opt/seam/bin/               our aarch64 programs
    /opt/seam/tests/             the e2e test binaries
    /opt/seam/lib/libseam.so     the C library (with the tee feature)
    /opt/seam/c/                 its C tests, device-test.sh runs them
    users seam1 (uid 1001), seam2 (uid 1002); /dev/tee0 is world-usable.

LOGS:
    Every boot writes target/optee/logs/<time>-<command>/{console,secure}.log
    (normal world, OP-TEE's secure console), each at most 16 MiB; their paths
    are printed when something fails. The last 20 runs are kept.

ENVIRONMENT:
    SEAM_CACHE           download cache (default ~/.cache/seam/optee)
    SEAM_DEBIAN_MIRROR   Debian mirror (default: the one the system uses)
";

#[derive(Clone)]
struct Args {
    command: String,
    data_disk: Option<PathBuf>,
    timeout: Option<u64>,
    no_build: bool,
    no_host: bool,
    verbose: bool,
    refresh: bool,
    optee_suite: Option<String>,
    /// powercut: cycles and seed; stress: minutes and clients.
    cycles: Option<u32>,
    seed: Option<u64>,
    minutes: Option<f64>,
    clients: Option<u32>,
    no_kill: bool,
    rest: Vec<String>,
}

fn parse() -> Result<Args> {
    let mut it = std::env::args().skip(1);
    let mut a = Args {
        command: String::new(),
        data_disk: None,
        timeout: None,
        no_build: false,
        no_host: false,
        verbose: false,
        refresh: false,
        optee_suite: None,
        cycles: None,
        seed: None,
        minutes: None,
        clients: None,
        no_kill: false,
        rest: Vec::new(),
    };
    fn number<T: std::str::FromStr>(v: Option<String>, what: &str) -> Result<T> {
        v.and_then(|s| s.parse().ok())
            .ok_or_else(|| format!("{what} needs a number"))
    }
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--" => {
                a.rest.extend(it.by_ref());
            }
            "--data-disk" => {
                a.data_disk = Some(PathBuf::from(it.next().ok_or("--data-disk needs a file")?))
            }
            "--timeout" => {
                a.timeout = Some(
                    it.next()
                        .and_then(|s| s.parse().ok())
                        .ok_or("--timeout needs a number of seconds")?,
                )
            }
            "--cycles" => a.cycles = Some(number(it.next(), "--cycles")?),
            "--seed" => a.seed = Some(number(it.next(), "--seed")?),
            "--minutes" => a.minutes = Some(number(it.next(), "--minutes")?),
            "--clients" => a.clients = Some(number(it.next(), "--clients")?),
            "--no-kill" => a.no_kill = true,
            "--no-build" => a.no_build = true,
            "--no-host" => a.no_host = true,
            "--verbose" | "-v" => a.verbose = true,
            "--refresh" => a.refresh = true,
            "--optee-suite" => {
                a.optee_suite = Some(it.next().ok_or_else(|| {
                    format!(
                        "--optee-suite needs a suite: {}",
                        setup::OPTEE_SUITES.join(" or ")
                    )
                })?)
            }
            // bench's own option, passed on with its value.
            "--json" => {
                a.rest.push(arg.clone());
                a.rest
                    .push(it.next().ok_or("--json needs a file (cargo optee bench)")?);
            }
            "-h" | "--help" => a.command = "help".into(),
            s if s.starts_with('-') => bail!("unknown option {s} (see `cargo optee help`)"),
            s if a.command.is_empty() => a.command = s.to_string(),
            s => a.rest.push(s.to_string()),
        }
    }
    Ok(a)
}

fn main() -> ExitCode {
    let started = Instant::now();
    let result = parse().and_then(|a| dispatch(&a));
    match result {
        Ok(code) => {
            if code != 0 {
                println!(
                    "==> exit status {code} ({:.1} s in all)",
                    started.elapsed().as_secs_f64()
                );
            }
            ExitCode::from(code.clamp(0, 255) as u8)
        }
        Err(e) => {
            eprintln!("cargo optee: error: {e}");
            ExitCode::from(2)
        }
    }
}

fn dispatch(a: &Args) -> Result<i32> {
    let p = Paths::new();
    match a.command.as_str() {
        "" | "help" => {
            print!("{HELP}");
            Ok(0)
        }
        "setup" => {
            let t = Instant::now();
            setup::setup(
                &p,
                &setup::Options {
                    refresh: a.refresh,
                    optee_suite: a.optee_suite.clone(),
                },
            )?;
            println!("==> setup finished in {:.1} s", t.elapsed().as_secs_f64());
            Ok(0)
        }
        "build" => {
            let t = Instant::now();
            build(&p, a)?;
            println!("==> build finished in {:.1} s", t.elapsed().as_secs_f64());
            Ok(0)
        }
        "clippy" => {
            let s = Manifest::load_required(&p.setup_manifest(), "cargo optee setup")?;
            let devkit = s.path("devkit.path")?;
            step("clippy on the TA (ta/optee, aarch64, -D warnings)", || {
                clippy_ta(&p, &devkit)
            })?;
            Ok(0)
        }
        "run" => {
            let (s, b) = ready(&p, a)?;
            let boot = boot_for(&p, a, &s, b.path("initramfs.path")?, "run")?;
            boot.interactive()?;
            Ok(0)
        }
        "exec" => {
            if a.rest.is_empty() {
                bail!("usage: cargo optee exec [--data-disk FILE] -- CMD [ARGS...]");
            }
            let (s, b) = ready(&p, a)?;
            let cmd: Vec<String> = a.rest.iter().map(|w| shell_quote(w)).collect();
            let script = format!("{}\n", cmd.join(" "));
            let out = boot_script(&p, a, &s, &b, "exec", &script, 600)?;
            Ok(out)
        }
        "test" => {
            let (s, b) = ready(&p, a)?;
            // Secure storage on a fresh data disk (unless one is given), so
            // the suite starts from an empty TA and can check a reboot.
            let mut a2 = a.clone();
            if a2.data_disk.is_none() {
                let disk = p.out.join("test-data.img");
                let _ = std::fs::remove_file(&disk);
                a2.data_disk = Some(disk);
            }
            let (rc1, mut counts) =
                boot_script_counts(&p, &a2, &s, &b, "test", &test_script(&b), 1800)?;
            let reboot = reboot_tests(&b);
            let mut rc = rc1;
            if !reboot.is_empty() {
                println!("==> reboot: tests named *after_reboot* run in a second boot");
                let (rc2, c2) = boot_script_counts(
                    &p,
                    &a2,
                    &s,
                    &b,
                    "test-after-reboot",
                    &after_reboot_script(&reboot),
                    900,
                )?;
                counts.merge(c2);
                if rc == 0 {
                    rc = rc2;
                }
            }
            println!(
                "==> cargo optee test: {}",
                if rc == 0 { "all passed" } else { "FAILED" }
            );
            println!("optee: {} passed, {} failed", counts.passed, counts.failed);
            Ok(if rc == 0 && counts.failed > 0 { 1 } else { rc })
        }
        "demo" => {
            let (s, b) = ready(&p, a)?;
            let script = "if [ -x /opt/seam/bin/seam-demo ]; then SEAM_BACKEND=tee seam-demo; \
                          else echo 'seam-demo was not built (seam-tests)'; exit 2; fi\n";
            boot_script(&p, a, &s, &b, "demo", script, 600)
        }
        "bench" => {
            let o = bench::parse(&a.rest)?;
            let (s, b) = ready(&p, a)?;
            let mut boot = boot_for(&p, a, &s, PathBuf::new(), "bench")?;
            boot.initrd =
                image::with_command(&b.path("initramfs.path")?, &bench::script(&o), &boot.logs)?;
            let timeout = Duration::from_secs(a.timeout.unwrap_or(900));
            let out = step("boot and run (bench)", || {
                boot.run_script(timeout, a.verbose)
            })?;
            let _ = std::fs::remove_file(&boot.initrd);
            if out.rc != 0 {
                boot.print_logs();
                return Ok(out.rc);
            }
            if let Some(json) = &o.json {
                bench::save_json(&boot.console_log(), json)?;
            }
            Ok(0)
        }
        "powercut" => {
            let (s, b) = ready(&p, a)?;
            let o = powercut::Options {
                cycles: a.cycles.unwrap_or(10).max(1),
                seed: a.seed.unwrap_or_else(powercut::clock_seed),
                timeout: Duration::from_secs(a.timeout.unwrap_or(300)),
                verbose: a.verbose,
            };
            powercut::run(&p, &s, &b, &o)
        }
        "stress" => {
            let (s, b) = ready(&p, a)?;
            let o = stress::Options {
                minutes: a.minutes.unwrap_or(1.0),
                clients: a.clients.unwrap_or(4).clamp(1, 64),
                seed: a.seed.unwrap_or_else(powercut::clock_seed),
                no_kill: a.no_kill,
                verbose: a.verbose,
            };
            stress::run(&p, &s, &b, &o)
        }
        other => bail!("unknown command `{other}` (see `cargo optee help`)"),
    }
}

/// Clippy over the TA exactly as `cross::build` compiles it (same target,
/// profile, dev kit and target directory, so it reuses that build's
/// dependencies): the TA is its own workspace, which the workspace-wide
/// clippy of `./scripts/test-all` never sees.
fn clippy_ta(p: &Paths, devkit: &std::path::Path) -> Result<()> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    util::run(
        std::process::Command::new(cargo)
            .current_dir(p.repo.join("ta/optee"))
            .args(["clippy", "--release", "--target", setup::RUST_TARGET])
            .args(["--", "-D", "warnings"])
            .env("CARGO_TARGET_DIR", p.out.join("ta-target"))
            .env("TA_DEV_KIT_DIR", devkit)
            .env_remove("RUSTFLAGS"),
    )
}

/// Setup (a no-op when done) and build unless --no-build.
fn ready(p: &Paths, a: &Args) -> Result<(Manifest, Manifest)> {
    let s = setup::setup(
        p,
        &setup::Options {
            refresh: false,
            optee_suite: None,
        },
    )?;
    if !a.no_build {
        build(p, a)?;
    }
    let b = Manifest::load_required(&p.build_manifest(), "cargo optee build")?;
    if let (Some(built_for), Ok(now)) = (b.0.get("setup.sysroot"), s.get("sysroot.path")) {
        if built_for != now {
            bail!(
                "the last build was made for another setup (OP-TEE from another suite?): \
                 run `cargo optee build` (or leave out --no-build)"
            );
        }
    }
    Ok((s, b))
}

fn build(p: &Paths, a: &Args) -> Result<Manifest> {
    let s = Manifest::load_required(&p.setup_manifest(), "cargo optee setup")?;
    cross::build(p, &s, !a.no_host, a.command == "bench")
}

fn boot_for<'a>(
    p: &Paths,
    a: &Args,
    s: &'a Manifest,
    initrd: PathBuf,
    what: &str,
) -> Result<guest::Boot<'a>> {
    let data_disk = match &a.data_disk {
        Some(d) => {
            let d = if d.is_relative() {
                std::env::current_dir()
                    .map(|c| c.join(d))
                    .unwrap_or(d.clone())
            } else {
                d.clone()
            };
            step("data disk", || guest::ensure_data_disk(&d))?;
            Some(d)
        }
        None => None,
    };
    Ok(guest::Boot {
        setup: s,
        initrd,
        data_disk,
        logs: guest::new_log_dir(&p.out, what)?,
    })
}

fn boot_script(
    p: &Paths,
    a: &Args,
    s: &Manifest,
    b: &Manifest,
    what: &str,
    script: &str,
    default_timeout: u64,
) -> Result<i32> {
    boot_script_counts(p, a, s, b, what, script, default_timeout).map(|(rc, _)| rc)
}

#[allow(clippy::too_many_arguments)]
fn boot_script_counts(
    p: &Paths,
    a: &Args,
    s: &Manifest,
    b: &Manifest,
    what: &str,
    script: &str,
    default_timeout: u64,
) -> Result<(i32, guest::Counts)> {
    let mut boot = boot_for(p, a, s, PathBuf::new(), what)?;
    boot.initrd = image::with_command(&b.path("initramfs.path")?, script, &boot.logs)?;
    let timeout = Duration::from_secs(a.timeout.unwrap_or(default_timeout));
    let out = step(&format!("boot and run ({what})"), || {
        boot.run_script(timeout, a.verbose)
    })?;
    let _ = std::fs::remove_file(&boot.initrd);
    println!(
        "    guest command exited with {}; boot {:.1} s, whole run {:.1} s",
        out.rc,
        out.boot.as_secs_f64(),
        out.total.as_secs_f64()
    );
    if out.rc != 0 {
        boot.print_logs();
    }
    Ok((out.rc, out.counts))
}

/// Test binaries that hold a test named `*after_reboot*` (test names are
/// plain strings in the binary).
fn reboot_tests(b: &Manifest) -> Vec<String> {
    let Ok(dir) = b.path("host-tests.path") else {
        return Vec::new();
    };
    let tests = b.get("tests").unwrap_or("");
    tests
        .split(',')
        .filter(|t| !t.is_empty())
        .filter(|t| {
            std::fs::read(dir.join(t))
                .map(|d| d.windows(12).any(|w| w == b"after_reboot"))
                .unwrap_or(false)
        })
        .map(str::to_string)
        .collect()
}

/// The second boot of `test`: the same data disk, only the tests named
/// `*after_reboot*`, with SEAM_AFTER_REBOOT=1.
fn after_reboot_script(tests: &[String]) -> String {
    let mut s = String::from(STEP_FN);
    for t in tests {
        s.push_str(&format!(
            "step {t} env SEAM_BACKEND=tee SEAM_AFTER_REBOOT=1 /opt/seam/tests/{t} after_reboot --test-threads=1\n"
        ));
    }
    s.push_str("printf 'summary:%b\\n' \"$summary\"\nexit $fail\n");
    s
}

/// A shell function that runs one named step, timing it and noting failure.
const STEP_FN: &str = "fail=0\nsummary=\n\
    step() { name=$1; shift; echo \"@@@ $name\"; t0=$(cut -d' ' -f1 /proc/uptime); \"$@\"; rc=$?; \
    t1=$(cut -d' ' -f1 /proc/uptime); \
    summary=\"$summary\\n  $name: rc=$rc ($(awk \"BEGIN{print $t1-$t0}\") s)\"; \
    [ $rc -eq 0 ] || fail=1; }\n";

/// The guest script for `test`: the xtest health check, the libteec probe,
/// every e2e test binary but its `*after_reboot*` tests, and the TA's memory
/// high-water marks; a summary line per step.
fn test_script(b: &Manifest) -> String {
    let mut s = String::from(STEP_FN);
    s.push_str("step xtest xtest 1001 1002 4001 6001\n");
    let probe = "/opt/seam/bin/seam-unit";
    s.push_str(&format!(
        "[ -x {probe} ] && step tee-probe env SEAM_BACKEND=tee {probe} transport::tee:: \
         --test-threads=1 --nocapture --skip ta_memory_report\n"
    ));
    let tests = b.get("tests").unwrap_or("");
    for t in tests.split(',').filter(|t| !t.is_empty()) {
        s.push_str(&format!(
            "step {t} env SEAM_BACKEND=tee /opt/seam/tests/{t} --test-threads=1 --skip after_reboot\n"
        ));
    }
    if tests.is_empty() {
        s.push_str("echo '@@@ no seam e2e test binaries were built'\n");
    }
    if let Some(dir) = b.get("c-tests").ok().filter(|d| !d.is_empty()) {
        // libseam's C tests against the TA, on SEs the seam CLI provisions
        // under the test issuer the e2e suite bound the node to (bound here
        // if no e2e test ran; an already bound node refuses, as it should).
        s.push_str(&format!(
            "seam-test-issuer > /tmp/issuer.pem && seam-test-issuer --public > /tmp/issuer.pub.pem \
             && {{ seam --backend tee init --issuer /tmp/issuer.pub.pem > /dev/null 2>&1; true; }}\n\
             step c-tests env SEAM=/opt/seam/bin/seam BACKEND=tee \
             sh {dir}/device-test.sh {dir} /tmp/issuer.pem\n"
        ));
    }
    s.push_str(&format!(
        "[ -x {probe} ] && step ta-memory env SEAM_BACKEND=tee {probe} \
         transport::tee::tests::ta_memory_report --exact --nocapture\n"
    ));
    s.push_str("printf 'summary:%b\\n' \"$summary\"\nexit $fail\n");
    s
}
