//! `cargo optee build`: the TA and the aarch64 host programs (two separate
//! cargo invocations, so host features never unify into the TA), signing and
//! checking the TA, and the initramfs.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::bail;
use crate::image::{self, Extra};
use crate::manifest::Manifest;
use crate::paths::Paths;
use crate::setup::RUST_TARGET;
use crate::util::{mkdirs, note, run, run_quiet, show, size, step, Context, Result};

pub const TA_UUID: &str = seam_proto::TA_UUID;

/// `bench`: also build the `device_bench` example (for `cargo optee bench`;
/// plain builds leave it out).
pub fn build(p: &Paths, s: &Manifest, host: bool, bench: bool) -> Result<Manifest> {
    mkdirs(&p.out)?;
    let devkit = s.path("devkit.path")?;
    let mut extras = Vec::new();
    let mut m = Manifest::default();

    let ta_dir = p.repo.join("ta/optee");
    if ta_dir.join("Cargo.toml").exists() {
        let elf = step("cross-build the TA (ta/optee, release)", || {
            build_ta(p, &ta_dir, &devkit)
        })?;
        let signed = step("strip, sign and verify the TA", || {
            sign_and_verify(p, &elf, &devkit)
        })?;
        m.set("ta.path", signed.display().to_string());
        extras.push(Extra {
            guest: format!("/usr/lib/optee_armtz/{TA_UUID}.ta"),
            host: signed,
        });
    } else {
        note("ta/optee has no Cargo.toml yet: no seam TA in the image");
    }
    let shim = step("cross-build tee-supplicant's keep-going shim", || {
        build_supplicant_shim(p)
    })?;
    extras.push(Extra {
        guest: image::SUPPLICANT_SHIM.to_string(),
        host: shim,
    });

    let (bins, tests) = if host {
        step("cross-build the aarch64 host programs", || {
            build_host(p, s, bench)
        })?
    } else {
        note("--no-host: no aarch64 host programs in the image");
        (Vec::new(), Vec::new())
    };
    let mut test_names = Vec::new();
    for b in &bins {
        let name = b.file_name().unwrap().to_string_lossy().into_owned();
        extras.push(Extra {
            guest: format!("/opt/seam/bin/{name}"),
            host: b.clone(),
        });
    }
    for t in &tests {
        let name = t.file_name().unwrap().to_string_lossy().into_owned();
        extras.push(Extra {
            guest: format!("/opt/seam/tests/{name}"),
            host: t.clone(),
        });
        test_names.push(name);
    }
    if host {
        extras.extend(step("cross-build libseam.so and its C tests", || {
            build_c_tests(p, s)
        })?);
        m.set("c-tests", C_TESTS_DIR);
    }
    if bench && host {
        extras.extend(step("bench anchors (C) and the PKCS#11 TA", || {
            crate::bench::extras(p, s)
        })?);
    }
    m.set("tests", test_names.join(","));
    m.set(
        "host-tests.path",
        p.out.join("host-tests").display().to_string(),
    );

    let cpio = step("assemble the initramfs", || {
        image::assemble(
            &s.path("sysroot.path")?,
            &s.path("modules.path")?,
            &extras,
            &p.out,
        )
    })?;
    m.set("initramfs.path", cpio.display().to_string());
    // The image is only good for this setup: the TA is signed with its
    // OP-TEE's key and the initramfs holds its packages.
    m.set("setup.sysroot", s.get("sysroot.path")?);
    m.save(&p.build_manifest())?;
    Ok(m)
}

/// Where libseam.so and its C tests go in the guest.
pub const C_LIB_DIR: &str = "/opt/seam/lib";
pub const C_TESTS_DIR: &str = "/opt/seam/c";

/// libseam.so with the `tee` feature, libseam's C test programs compiled by
/// host/capi/Makefile with the cross compiler against it (the same files
/// and flags as on a workstation), and the scripts that provision their SEs
/// and run them: `test` runs host/capi/tests/c/device-test.sh in the guest.
fn build_c_tests(p: &Paths, s: &Manifest) -> Result<Vec<Extra>> {
    let target = p.out.join("host-target");
    let export = s.path("teec-export.path")?;
    run(cargo()
        .current_dir(&p.repo)
        .args(["build", "-p", "seam-capi", "--features", "tee", "--release"])
        .args(["--target", RUST_TARGET])
        .env("CARGO_TARGET_DIR", &target)
        .env("OPTEE_CLIENT_EXPORT", &export))?;
    let libdir = target.join(RUST_TARGET).join("release");
    let out = p.out.join("capi");
    let lib = out.join("lib/libseam.so");
    copy_to(&libdir.join("libseam.so"), &lib)?;
    let capi = p.repo.join("host/capi");
    run_quiet(
        Command::new("make")
            .arg("-C")
            .arg(&capi)
            .arg("all")
            .arg("CC=aarch64-linux-gnu-gcc")
            .arg(format!("LIBDIR={}", libdir.display()))
            .arg(format!("OUT={}", out.join("bin").display()))
            .arg(format!("RPATH={C_LIB_DIR}"))
            // libseam.so needs libteec.so.2: the linker looks for it there.
            .arg(format!(
                "LDFLAGS=-Wl,-rpath-link,{}",
                export.join("usr/lib").display()
            )),
    )?;
    let mut extras = vec![Extra {
        guest: format!("{C_LIB_DIR}/libseam.so"),
        host: lib,
    }];
    for program in ["test_seam", "test_jose", "test_conn", "seam-sign"] {
        extras.push(Extra {
            guest: format!("{C_TESTS_DIR}/{program}"),
            host: out.join("bin").join(program),
        });
    }
    for script in [
        "device-test.sh",
        "provision.sh",
        "provision_jose.sh",
        "provision_conn.sh",
    ] {
        extras.push(Extra {
            guest: format!("{C_TESTS_DIR}/{script}"),
            host: capi.join("tests/c").join(script),
        });
    }
    for e in &extras {
        note(format!(
            "{} ({})",
            e.guest,
            size(e.host.metadata().map(|m| m.len()).unwrap_or(0))
        ));
    }
    Ok(extras)
}

fn cargo() -> Command {
    Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
}

fn build_ta(p: &Paths, dir: &Path, devkit: &Path) -> Result<PathBuf> {
    let target = p.out.join("ta-target");
    run(cargo()
        .current_dir(dir)
        // ta/optee/Cargo.lock is committed; not --locked, so a new
        // dependency of seam-core only updates it (commit the change).
        .args(["build", "--release", "--target", RUST_TARGET])
        .env("CARGO_TARGET_DIR", &target)
        .env("TA_DEV_KIT_DIR", devkit)
        .env_remove("RUSTFLAGS"))?;
    let elf = target.join(RUST_TARGET).join("release/seam-ta");
    if !elf.exists() {
        bail!("{} was not built", elf.display());
    }
    Ok(elf)
}

/// optee-build/guest/supplicant_keep_going.c as a preloadable library (see
/// its comment and image.rs).
fn build_supplicant_shim(p: &Paths) -> Result<PathBuf> {
    let src = p.repo.join("optee-build/guest/supplicant_keep_going.c");
    let out = p.out.join("guest");
    mkdirs(&out)?;
    let lib = out.join("supplicant_keep_going.so");
    run_quiet(
        Command::new("aarch64-linux-gnu-gcc")
            .args(["-O2", "-Wall", "-Wextra", "-Werror", "-shared", "-fPIC"])
            .arg("-o")
            .arg(&lib)
            .arg(&src)
            .arg("-ldl"),
    )?;
    note(show(&lib));
    Ok(lib)
}

/// The signed TA's size budget: it ships in every device image.
const MAX_SIGNED_TA: u64 = 256 * 1024;

/// Strips and signs the TA, then checks what OP-TEE's loader will need.
fn sign_and_verify(p: &Paths, elf: &Path, devkit: &Path) -> Result<PathBuf> {
    let dir = p.out.join("ta");
    mkdirs(&dir)?;
    let stripped = dir.join("seam-ta.stripped.elf");
    run_quiet(
        Command::new("aarch64-linux-gnu-strip")
            .arg("-o")
            .arg(&stripped)
            .arg(elf),
    )?;
    verify_elf(&stripped)?;
    let signed = dir.join(format!("{TA_UUID}.ta"));
    run_quiet(
        Command::new("python3")
            .arg(devkit.join("scripts/sign_encrypt.py"))
            .args(["--uuid", TA_UUID, "--key"])
            .arg(devkit.join("keys/default_ta.pem"))
            .arg("--in")
            .arg(&stripped)
            .arg("--out")
            .arg(&signed),
    )?;
    let data = fs::read(&signed).ctx(|| signed.display().to_string())?;
    // struct shdr starts with magic 0x4f545348 ("HSTO" little-endian).
    if data.len() < 4 || u32::from_le_bytes([data[0], data[1], data[2], data[3]]) != 0x4f54_5348 {
        bail!(
            "{} does not start with the SHDR magic 0x4f545348",
            signed.display()
        );
    }
    note(format!(
        "{} ({}, stripped ELF {}; at most {})",
        show(&signed),
        size(data.len() as u64),
        size(stripped.metadata().map(|m| m.len()).unwrap_or(0)),
        size(MAX_SIGNED_TA)
    ));
    if data.len() as u64 > MAX_SIGNED_TA {
        bail!(
            "the signed TA is {}, over its budget of {} (issue 12): see the size notes \
             in ta/optee/Cargo.toml's release profile",
            size(data.len() as u64),
            size(MAX_SIGNED_TA)
        );
    }
    Ok(signed)
}

/// The TA must load in OP-TEE 4.5: its loader takes every DT_NEEDED for a TA
/// library UUID, applies only R_AARCH64_RELATIVE, and needs `ta_head`.
pub fn verify_elf(elf: &Path) -> Result<()> {
    let dynamic = image::readelf(&["-d", "-W"], elf)?;
    let needed: Vec<&str> = dynamic.lines().filter(|l| l.contains("(NEEDED)")).collect();
    if !needed.is_empty() {
        bail!(
            "the TA has DT_NEEDED entries, OP-TEE will refuse it:\n{}",
            needed.join("\n")
        );
    }
    let relocs = image::readelf(&["-r", "-W"], elf)?;
    let bad: Vec<&str> = relocs
        .lines()
        .filter(|l| l.contains("R_AARCH64_") && !l.contains("R_AARCH64_RELATIVE"))
        .collect();
    if !bad.is_empty() {
        bail!(
            "the TA has relocations other than R_AARCH64_RELATIVE:\n{}",
            bad.iter().take(20).copied().collect::<Vec<_>>().join("\n")
        );
    }
    let syms = image::readelf(&["--dyn-syms", "-W"], elf)?;
    if !syms
        .lines()
        .any(|l| l.split_whitespace().last() == Some("ta_head"))
    {
        bail!("`ta_head` is not in the TA's dynamic symbols");
    }
    let phdrs = image::readelf(&["-l", "-W"], elf)?;
    for l in phdrs.lines().filter(|l| l.trim_start().starts_with("LOAD")) {
        let align = l.split_whitespace().last().unwrap_or("");
        if align != "0x1000" && align != "0x10000" {
            bail!("a LOAD segment is aligned {align}, not 0x1000: {l}");
        }
    }
    note("no DT_NEEDED, only R_AARCH64_RELATIVE, ta_head exported, LOAD aligned");
    Ok(())
}

/// The seam library with the `tee` feature (its unit tests include the TEE
/// transport's round-trip probe), the `seam` tool (seam-cli) and the
/// seam-tests e2e binaries, built for aarch64 against Debian's libteec. With
/// `bench`, a fourth invocation builds the `device_bench` example.
fn build_host(p: &Paths, s: &Manifest, bench: bool) -> Result<(Vec<PathBuf>, Vec<PathBuf>)> {
    let target = p.out.join("host-target");
    let export = s.path("teec-export.path")?;
    let mut bins = Vec::new();
    let mut tests = Vec::new();
    // One invocation for the library's binaries and tests; one for the e2e
    // suite (its features must not leak into the library build and back).
    let mut builds: Vec<&[&str]> = vec![
        &[
            "test",
            "-p",
            "seam",
            "--features",
            "tee,simulator",
            "--no-run",
            "--lib",
        ],
        &["build", "-p", "seam-cli", "--features", "tee", "--bins"],
        &["test", "-p", "seam-tests", "--features", "tee", "--no-run"],
    ];
    if bench {
        builds.push(&[
            "build",
            "-p",
            "seam-tests",
            "--features",
            "tee",
            "--example",
            "device_bench",
        ]);
    }
    for args in builds {
        let out = cargo()
            .current_dir(&p.repo)
            .args(args)
            .args([
                "--release",
                "--target",
                RUST_TARGET,
                "--message-format=json-render-diagnostics",
            ])
            .env("CARGO_TARGET_DIR", &target)
            .env("OPTEE_CLIENT_EXPORT", &export)
            .stderr(Stdio::inherit())
            .output()
            .ctx(|| "cargo".to_string())?;
        if !out.status.success() {
            bail!("`cargo {}` for aarch64 failed", args.join(" "));
        }
        for line in String::from_utf8_lossy(&out.stdout).lines() {
            if !line.contains("\"reason\":\"compiler-artifact\"") {
                continue;
            }
            let Some(exe) = json_str(line, "executable") else {
                continue;
            };
            let path = PathBuf::from(exe);
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let kind = json_str(line, "kind").unwrap_or("");
            let harness = profile_is_test(line);
            if !harness {
                // A program (seam CLI, demo): /opt/seam/bin.
                let dest = p.out.join("host-bin").join(&name);
                copy_to(&path, &dest)?;
                push_unique(&mut bins, dest);
                continue;
            }
            // A test harness: name it without cargo's hash.
            let clean = match name.rsplit_once('-') {
                Some((base, hash)) if hash.len() == 16 => base.to_string(),
                _ => name.clone(),
            };
            if args[2] == "seam" {
                // seam's own unit tests hold the libteec round-trip probe.
                let dest = p.out.join("host-bin/seam-unit");
                copy_to(&path, &dest)?;
                push_unique(&mut bins, dest);
            } else if kind == "test" || kind == "lib" {
                // The e2e suite: integration tests (and the crate's own unit
                // tests), not the unit tests of its binaries.
                let dest = p.out.join("host-tests").join(clean);
                copy_to(&path, &dest)?;
                push_unique(&mut tests, dest);
            }
        }
    }
    for b in bins.iter().chain(&tests) {
        note(format!(
            "{} ({})",
            show(b),
            size(b.metadata().map(|m| m.len()).unwrap_or(0))
        ));
    }
    Ok((bins, tests))
}

/// Copies a binary, stripped (the initramfs is RAM).
fn copy_to(src: &Path, dest: &Path) -> Result<()> {
    if let Some(d) = dest.parent() {
        mkdirs(d)?;
    }
    run_quiet(
        Command::new("aarch64-linux-gnu-strip")
            .arg("-o")
            .arg(dest)
            .arg(src),
    )
}

fn push_unique(v: &mut Vec<PathBuf>, p: PathBuf) {
    if !v.contains(&p) {
        v.push(p);
    }
}

/// Whether cargo built this artifact as a test harness (`"profile":{…,
/// "test":true}`), as opposed to a target that merely may be tested.
fn profile_is_test(line: &str) -> bool {
    line.find("\"profile\":{")
        .and_then(|i| line[i..].find('}').map(|j| &line[i..i + j]))
        .is_some_and(|p| p.contains("\"test\":true"))
}

/// The string value of `"key":"…"` in one line of cargo's JSON (paths here
/// never contain quotes or escapes).
/// For an array value (`"kind":["test"]`) it gives the first element.
fn json_str<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    let pat = format!("\"{key}\":\"");
    let arr = format!("\"{key}\":[\"");
    if let Some(i) = line.find(&arr) {
        let start = i + arr.len();
        let end = line[start..].find('"')? + start;
        return Some(&line[start..end]);
    }
    let start = line.find(&pat)? + pat.len();
    let end = line[start..].find('"')? + start;
    Some(&line[start..end])
}
