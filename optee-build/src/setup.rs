//! `cargo optee setup`: host tools, the Rust target, Debian trixie arm64
//! packages (through a private apt configuration), TF-A, the flash image.
//!
//! `--optee-suite sid` takes OP-TEE itself (`optee-os`, its dev kit and
//! xtest, whose TAs are signed with that build's key) from Debian sid
//! instead, everything else still from trixie: a second OP-TEE to run the
//! TA on (stress.rs says how each takes clients killed mid-call). The
//! choice is recorded and kept by later setups until changed.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::bail;
use crate::manifest::Manifest;
use crate::paths::Paths;
use crate::util::{
    fnv, mkdirs, note, output, remove_dir, run, run_quiet, show, size, step, write, Context, Result,
};

/// Debian (host) packages the emulated device needs.
const HOST_PACKAGES: &[&str] = &[
    "qemu-system-arm",
    "gcc-aarch64-linux-gnu",
    "binutils-aarch64-linux-gnu",
    "libc6-dev-arm64-cross",
    "u-boot-qemu",
    "u-boot-tools",
    "python3-cryptography",
    "e2fsprogs",
    "cpio",
    "xz-utils",
    "gzip",
    "make",
    "gcc",
    "libc6-dev",
    "libssl-dev",
    "device-tree-compiler",
    "dpkg-dev",
    "ca-certificates",
];

/// Trixie arm64 packages: OP-TEE, its dev kit, and the guest's user space.
/// The kernel is added by resolving `linux-image-arm64`.
const GUEST_PACKAGES: &[&str] = &[
    "optee-os",
    "optee-os-dev",
    "optee-client-dev",
    "busybox-static",
    "libc6",
    "libgcc-s1",
    "tee-supplicant",
    "libteec2",
    "libckteec0t64",
    "optee-test-qemu",
    "openssl",
    "libssl3t64",
    "openssl-provider-legacy",
    "libzstd1",
    "zlib1g",
];

pub const RUST_TARGET: &str = "aarch64-unknown-linux-gnu";
const TFA_SOURCE: &str = "arm-trusted-firmware";
/// The OP-TEE platform directory inside Debian's optee-os packages.
pub const OPTEE_PLATFORM: &str = "vexpress-qemu_armv8a";

/// The packages `--optee-suite` takes from its suite: OP-TEE OS, its TA dev
/// kit, and xtest (its TAs must be signed with the OS's key).
const OPTEE_PACKAGES: &[&str] = &["optee-os", "optee-os-dev", "optee-test-qemu"];

/// Where every package comes from, and the suites OP-TEE may come from.
const BASE_SUITE: &str = "trixie";
pub const OPTEE_SUITES: &[&str] = &[BASE_SUITE, "sid"];

pub struct Options {
    /// Refresh the package lists and pick up newer versions.
    pub refresh: bool,
    /// The Debian suite OP-TEE comes from; `None` keeps the last setup's
    /// choice (trixie the first time).
    pub optee_suite: Option<String>,
}

/// The suite to set up OP-TEE from: the one asked for, else the recorded one.
fn optee_suite(opts: &Options, recorded: Option<&Manifest>) -> Result<String> {
    let suite = match &opts.optee_suite {
        Some(s) => s.clone(),
        None => recorded
            .and_then(|m| m.get("optee.suite").ok())
            .unwrap_or(BASE_SUITE)
            .to_string(),
    };
    if !OPTEE_SUITES.contains(&suite.as_str()) {
        bail!(
            "--optee-suite {suite}: OP-TEE can come from {} only",
            OPTEE_SUITES.join(" or ")
        );
    }
    Ok(suite)
}

pub fn setup(p: &Paths, opts: &Options) -> Result<Manifest> {
    step("host tools (apt)", host_tools)?;
    step("rust target", rust_target)?;

    let mpath = p.setup_manifest();
    let recorded = Manifest::load(&mpath);
    let suite = optee_suite(opts, recorded.as_ref())?;
    if !opts.refresh {
        if let Some(m) = recorded {
            let same_suite = m.get("optee.suite").unwrap_or(BASE_SUITE) == suite;
            if m.paths_exist() && same_suite {
                println!(
                    "==> setup is up to date (optee-os {} from {suite}, {} {}, TF-A {}): nothing to do",
                    m.get("ver.optee-os")?,
                    m.get("kernel.package")?,
                    m.get("ver.kernel")?,
                    m.get("ver.tfa")?
                );
                note("(`cargo optee setup --refresh` looks for newer Debian packages)");
                return Ok(m);
            }
        }
    }
    mkdirs(&p.cache)?;
    let apt = PrivateApt::new(&p.cache, &suite)?;
    step(
        &format!("{} arm64 package lists (private apt)", apt.suites()),
        || apt.update(opts.refresh),
    )?;
    let resolve_and_download = || -> Result<_> {
        let versions = step("resolve package versions", || resolve(&apt))?;
        for (pkg, ver) in &versions {
            note(format!("{pkg} {ver}"));
        }
        let debs = step("download packages", || download(&apt, &p.cache, &versions))?;
        Ok((versions, debs))
    };
    // Cached lists go stale: the mirror drops a version once a newer one
    // lands (often in sid, in trixie with each point release).
    let (versions, debs) = match resolve_and_download() {
        Ok(found) => found,
        Err(e) if !opts.refresh => {
            note(format!(
                "{e}: refreshing the package lists and trying again"
            ));
            apt.update(true)?;
            resolve_and_download()?
        }
        Err(e) => return Err(e),
    };
    let kernel_pkg = versions[0].0.clone();
    let (kernel_deb, user_debs) = debs.split_first().expect("kernel first");

    let key: String = versions.iter().map(|(p, v)| format!("{p}={v}\n")).collect();
    let sysroot = p
        .cache
        .join(format!("sysroot-{:016x}", fnv(key.as_bytes())));
    step("unpack guest packages", || unpack(user_debs, &sysroot))?;
    let kdir = p.cache.join(format!("kernel-{}", versions[0].1));
    step("unpack kernel", || {
        unpack(std::slice::from_ref(kernel_deb), &kdir)
    })?;
    let (vmlinuz, modules) = find_kernel(&kdir)?;

    let tfa_ver = step("TF-A source", || tfa_version(&apt))?;
    let tfa_src = step("fetch TF-A source", || fetch_tfa(&apt, &p.cache, &tfa_ver))?;

    let optee_ver = lookup(&versions, "optee-os");
    let uboot = PathBuf::from("/usr/lib/u-boot/qemu_arm64/u-boot.bin");
    let uboot_ver =
        output(Command::new("dpkg-query").args(["-W", "-f=${Version}", "u-boot-qemu"]))?;
    let fw_key = format!("{tfa_ver} {optee_ver} {uboot_ver}");
    let fw = p
        .cache
        .join(format!("firmware-{:016x}", fnv(fw_key.as_bytes())));
    let optee_bins = sysroot.join("usr/lib/optee").join(OPTEE_PLATFORM);
    step(
        "build TF-A (PLAT=qemu SPD=opteed GICv3) and flash image",
        || build_firmware(&tfa_src, &optee_bins, &uboot, &fw),
    )?;
    step("U-Boot environment image", || env_image(&fw))?;
    let export = p
        .cache
        .join(format!("teec-export-{:016x}", fnv(key.as_bytes())));
    step("libteec export dir (OPTEE_CLIENT_EXPORT)", || {
        teec_export(&sysroot, &export)
    })?;

    let mut m = Manifest::default();
    m.set("optee.suite", suite);
    for (pkg, ver) in &versions {
        m.set(&format!("ver.{pkg}"), ver.clone());
    }
    m.set("ver.kernel", versions[0].1.clone());
    m.set("kernel.package", kernel_pkg);
    m.set("ver.tfa", tfa_ver);
    m.set("ver.u-boot-qemu", uboot_ver);
    m.set("sysroot.path", sysroot.display().to_string());
    m.set("vmlinuz.path", vmlinuz.display().to_string());
    m.set("modules.path", modules.display().to_string());
    m.set("flash.path", fw.join("flash.bin").display().to_string());
    m.set(
        "uboot-env.path",
        fw.join("uboot-env.img").display().to_string(),
    );
    m.set(
        "devkit.path",
        sysroot
            .join("usr/lib/optee-os-dev")
            .join(OPTEE_PLATFORM)
            .display()
            .to_string(),
    );
    m.set("teec-export.path", export.display().to_string());
    m.save(&mpath)?;
    note(format!("setup recorded in {}", show(&mpath)));
    Ok(m)
}

fn lookup<'a>(versions: &'a [(String, String)], pkg: &str) -> &'a str {
    versions
        .iter()
        .find(|(p, _)| p == pkg)
        .map(|(_, v)| v.as_str())
        .unwrap_or("?")
}

fn host_tools() -> Result<()> {
    let mut missing = Vec::new();
    for pkg in HOST_PACKAGES {
        let st = Command::new("dpkg-query")
            .args(["-W", "-f=${db:Status-Abbrev}", pkg])
            .output()
            .ctx(|| "dpkg-query".to_string())?;
        if !String::from_utf8_lossy(&st.stdout).starts_with("ii") {
            missing.push(*pkg);
        }
    }
    if missing.is_empty() {
        note("all host packages are installed");
        return Ok(());
    }
    note(format!("installing: {}", missing.join(" ")));
    let install = |update: bool| -> Result<()> {
        if update {
            run_quiet(Command::new("apt-get").args(["-q", "update"]))?;
        }
        run_quiet(
            Command::new("apt-get")
                .args(["-q", "-y", "--no-install-recommends", "install"])
                .args(&missing)
                .env("DEBIAN_FRONTEND", "noninteractive"),
        )
    };
    // Try with the lists the machine has; refresh them once if that fails.
    install(false).or_else(|_| install(true))
}

fn rust_target() -> Result<()> {
    let installed = output(Command::new("rustup").args(["target", "list", "--installed"]))?;
    if installed.lines().any(|l| l.trim() == RUST_TARGET) {
        note(format!("{RUST_TARGET} is installed"));
        return Ok(());
    }
    run(Command::new("rustup").args(["target", "add", RUST_TARGET]))
}

/// apt-get and apt-cache with their own sources, lists and cache, so that the
/// system's apt configuration and package state are never touched.
struct PrivateApt {
    root: PathBuf,
    /// The suite OP-TEE's packages come from, when not trixie.
    optee_suite: Option<String>,
}

impl PrivateApt {
    fn new(cache: &Path, optee_suite: &str) -> Result<PrivateApt> {
        let extra = (optee_suite != BASE_SUITE).then(|| optee_suite.to_string());
        // One apt root per set of suites: switching back and forth reuses
        // each one's lists.
        let root = match &extra {
            None => cache.join("apt"),
            Some(s) => cache.join(format!("apt-{s}")),
        };
        mkdirs(&root.join("lists/partial"))?;
        mkdirs(&root.join("cache/archives/partial"))?;
        let mirror = debian_mirror()?;
        let mut sources = format!(
            "deb [arch=arm64] {mirror} {BASE_SUITE} main\ndeb-src {mirror} {BASE_SUITE} main\n"
        );
        if let Some(s) = &extra {
            sources.push_str(&format!("deb [arch=arm64] {mirror} {s} main\n"));
        }
        write(&root.join("sources.list"), sources)?;
        write(&root.join("preferences"), pins(extra.as_deref()))?;
        Ok(PrivateApt {
            root,
            optee_suite: extra,
        })
    }

    /// The suites in use, for messages.
    fn suites(&self) -> String {
        match &self.optee_suite {
            None => BASE_SUITE.to_string(),
            Some(s) => format!("{BASE_SUITE} (+ OP-TEE from {s})"),
        }
    }

    fn cmd(&self, tool: &str) -> Command {
        let r = &self.root;
        let mut c = Command::new(tool);
        for opt in [
            format!("Dir::Etc::SourceList={}", r.join("sources.list").display()),
            "Dir::Etc::SourceParts=/dev/null".to_string(),
            format!("Dir::Etc::Preferences={}", r.join("preferences").display()),
            "Dir::Etc::PreferencesParts=/dev/null".to_string(),
            format!("Dir::State::Lists={}", r.join("lists").display()),
            "Dir::State::status=/dev/null".to_string(),
            format!("Dir::Cache={}", r.join("cache").display()),
            "APT::Architectures::=amd64".to_string(),
            "APT::Architectures::=arm64".to_string(),
            "Acquire::Languages=none".to_string(),
            "APT::Sandbox::User=root".to_string(),
        ] {
            c.arg("-o").arg(opt);
        }
        c
    }

    fn update(&self, refresh: bool) -> Result<()> {
        let have = fs::read_dir(self.root.join("lists"))
            .map(|d| {
                d.flatten()
                    .any(|e| e.file_name().to_string_lossy().ends_with("_Packages"))
            })
            .unwrap_or(false);
        if have && !refresh {
            note("using cached lists");
            return Ok(());
        }
        run_quiet(self.cmd("apt-get").args(["-q", "update"]))
    }

    /// Field `field` of the candidate version of arm64 package `pkg`.
    fn field(&self, pkg: &str, field: &str) -> Result<String> {
        let text = output(
            self.cmd("apt-cache")
                .args(["show", "--no-all-versions"])
                .arg(format!("{pkg}:arm64")),
        )?;
        let prefix = format!("{field}: ");
        text.lines()
            .find_map(|l| l.strip_prefix(&prefix))
            .map(str::to_string)
            .ok_or_else(|| format!("no {field} for {pkg} in {} arm64", self.suites()))
    }
}

/// apt preferences that take OP-TEE's packages, and nothing else, from
/// `optee_suite` (none for trixie alone).
fn pins(optee_suite: Option<&str>) -> String {
    let Some(s) = optee_suite else {
        return String::new();
    };
    // A pin on a bare name only covers the native (amd64) package.
    let names: Vec<String> = OPTEE_PACKAGES
        .iter()
        .map(|n| format!("{n}:arm64"))
        .collect();
    format!(
        "Package: {}\nPin: release n={s}\nPin-Priority: 990\n\n\
         Package: *\nPin: release n={s}\nPin-Priority: 100\n",
        names.join(" ")
    )
}

/// The Debian mirror the system already uses (or `$SEAM_DEBIAN_MIRROR`).
fn debian_mirror() -> Result<String> {
    if let Ok(m) = std::env::var("SEAM_DEBIAN_MIRROR") {
        return Ok(m);
    }
    let mut texts: Vec<String> = fs::read_to_string("/etc/apt/sources.list")
        .into_iter()
        .collect();
    if let Ok(d) = fs::read_dir("/etc/apt/sources.list.d") {
        for e in d.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if name.ends_with(".list") || name.ends_with(".sources") {
                texts.extend(fs::read_to_string(e.path()).ok());
            }
        }
    }
    for text in &texts {
        for line in text.lines() {
            let line = line.trim();
            if line.starts_with('#') {
                continue;
            }
            for word in line.split_whitespace() {
                let w = word.trim_end_matches('/');
                if (w.starts_with("http://") || w.starts_with("https://")) && w.ends_with("/debian")
                {
                    return Ok(w.to_string());
                }
            }
        }
    }
    bail!("no Debian mirror in the system's apt sources: set SEAM_DEBIAN_MIRROR to one")
}

/// (package, version) for the kernel first, then every guest package (the
/// candidates: trixie's, OP-TEE's from its pinned suite).
fn resolve(apt: &PrivateApt) -> Result<Vec<(String, String)>> {
    let dep = apt.field("linux-image-arm64", "Depends")?;
    let kernel = dep
        .split([',', ' ', '('])
        .find(|w| w.starts_with("linux-image-"))
        .ok_or_else(|| format!("cannot find the kernel package in `{dep}`"))?
        .to_string();
    // One apt-cache call for all (each call parses every list: ~2 s).
    let mut names = vec![kernel.as_str()];
    names.extend(GUEST_PACKAGES);
    let text = output(
        apt.cmd("apt-cache")
            .args(["show", "--no-all-versions"])
            .args(names.iter().map(|n| format!("{n}:arm64"))),
    )?;
    let mut found = std::collections::BTreeMap::new();
    for stanza in text.split("\n\n") {
        let get = |f: &str| {
            stanza
                .lines()
                .find_map(|l| l.strip_prefix(&format!("{f}: ")).map(str::to_string))
        };
        if let (Some(p), Some(v)) = (get("Package"), get("Version")) {
            found.entry(p).or_insert(v);
        }
    }
    names
        .iter()
        .map(|n| {
            found
                .get(*n)
                .map(|v| (n.to_string(), v.clone()))
                .ok_or_else(|| format!("{n} is not in {} arm64", apt.suites()))
        })
        .collect()
}

fn deb_name(pkg: &str, ver: &str) -> String {
    format!("{pkg}_{}_arm64.deb", ver.replace(':', "%3a"))
}

fn download(apt: &PrivateApt, cache: &Path, versions: &[(String, String)]) -> Result<Vec<PathBuf>> {
    let dir = cache.join("debs");
    mkdirs(&dir)?;
    let missing: Vec<String> = versions
        .iter()
        .filter(|(p, v)| !dir.join(deb_name(p, v)).exists())
        .map(|(p, v)| format!("{p}:arm64={v}"))
        .collect();
    if missing.is_empty() {
        note("all packages are cached");
    } else {
        note(format!("downloading {} packages", missing.len()));
        run_quiet(
            apt.cmd("apt-get")
                .arg("-q")
                .arg("download")
                .args(&missing)
                .current_dir(&dir),
        )?;
    }
    let mut total = 0;
    let mut out = Vec::new();
    for (p, v) in versions {
        let f = dir.join(deb_name(p, v));
        total += f
            .metadata()
            .ctx(|| format!("{} not downloaded", f.display()))?
            .len();
        out.push(f);
    }
    note(format!("{} in {}", size(total), show(&dir)));
    Ok(out)
}

/// `dpkg -x` every deb into `dest` (via a temporary directory: `dest` exists
/// only once it is complete).
fn unpack(debs: &[PathBuf], dest: &Path) -> Result<()> {
    if dest.exists() {
        note(format!("cached: {}", show(dest)));
        return Ok(());
    }
    let tmp = dest.with_extension("partial");
    remove_dir(&tmp)?;
    mkdirs(&tmp)?;
    for deb in debs {
        run(Command::new("dpkg").arg("-x").arg(deb).arg(&tmp))?;
    }
    fs::rename(&tmp, dest).ctx(|| format!("rename to {}", dest.display()))
}

fn find_kernel(kdir: &Path) -> Result<(PathBuf, PathBuf)> {
    let boot = kdir.join("boot");
    let vmlinuz = fs::read_dir(&boot)
        .ctx(|| format!("read {}", boot.display()))?
        .flatten()
        .map(|e| e.path())
        .find(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("vmlinuz-"))
        })
        .ok_or("no vmlinuz in the kernel package")?;
    let kver = vmlinuz.file_name().unwrap().to_string_lossy()["vmlinuz-".len()..].to_string();
    for base in ["usr/lib/modules", "lib/modules"] {
        let m = kdir.join(base).join(&kver);
        if m.exists() {
            return Ok((vmlinuz, m));
        }
    }
    bail!("no modules for {kver} in the kernel package")
}

fn tfa_version(apt: &PrivateApt) -> Result<String> {
    let text = output(apt.cmd("apt-cache").args(["showsrc", TFA_SOURCE]))?;
    // Several stanzas may appear; take the highest version.
    let mut vers: Vec<String> = text
        .lines()
        .filter_map(|l| l.strip_prefix("Version: "))
        .map(str::to_string)
        .collect();
    vers.sort_by(|a, b| {
        let ok = Command::new("dpkg")
            .args(["--compare-versions", a, "lt", b])
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        if ok {
            std::cmp::Ordering::Less
        } else {
            std::cmp::Ordering::Greater
        }
    });
    let v = vers
        .pop()
        .ok_or("no arm-trusted-firmware source in trixie")?;
    note(format!("{TFA_SOURCE} {v}"));
    Ok(v)
}

fn fetch_tfa(apt: &PrivateApt, cache: &Path, ver: &str) -> Result<PathBuf> {
    let base = cache.join("src");
    let upstream = ver.split(':').next_back().unwrap_or(ver);
    let dest = base.join(format!("{TFA_SOURCE}-{upstream}"));
    if dest.join("Makefile").exists() {
        note(format!("cached: {}", show(&dest)));
        return Ok(dest);
    }
    mkdirs(&base)?;
    let dl = base.join(format!("dl-{upstream}"));
    mkdirs(&dl)?;
    run_quiet(
        apt.cmd("apt-get")
            .args(["-q", "source", "--download-only"])
            .arg(format!("{TFA_SOURCE}={ver}"))
            .current_dir(&dl),
    )?;
    let dsc = fs::read_dir(&dl)
        .ctx(|| dl.display().to_string())?
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|e| e == "dsc"))
        .ok_or("no .dsc downloaded")?;
    let tmp = dest.with_extension("partial");
    remove_dir(&tmp)?;
    run_quiet(
        Command::new("dpkg-source")
            .args(["--no-check", "-x"])
            .arg(&dsc)
            .arg(&tmp),
    )?;
    fs::rename(&tmp, &dest).ctx(|| format!("rename to {}", dest.display()))?;
    Ok(dest)
}

fn build_firmware(src: &Path, optee: &Path, uboot: &Path, fw: &Path) -> Result<()> {
    let flash = fw.join("flash.bin");
    if flash.exists() {
        note(format!("cached: {}", show(&flash)));
        return Ok(());
    }
    for f in [
        "tee-header_v2.bin",
        "tee-pager_v2.bin",
        "tee-pageable_v2.bin",
    ] {
        if !optee.join(f).exists() {
            bail!("{} missing from optee-os", optee.join(f).display());
        }
    }
    if !uboot.exists() {
        bail!("{} missing (u-boot-qemu)", uboot.display());
    }
    let build = fw.join("build");
    mkdirs(&build)?;
    run_quiet(
        Command::new("make")
            .current_dir(src)
            .arg(format!("-j{}", jobs()))
            .arg("CROSS_COMPILE=aarch64-linux-gnu-")
            .arg("PLAT=qemu")
            .arg("SPD=opteed")
            .arg("BL32_RAM_LOCATION=tdram")
            .arg("QEMU_USE_GIC_DRIVER=QEMU_GICV3")
            .arg(format!("BUILD_BASE={}", build.display()))
            .arg(format!(
                "BL32={}",
                optee.join("tee-header_v2.bin").display()
            ))
            .arg(format!(
                "BL32_EXTRA1={}",
                optee.join("tee-pager_v2.bin").display()
            ))
            .arg(format!(
                "BL32_EXTRA2={}",
                optee.join("tee-pageable_v2.bin").display()
            ))
            .arg(format!("BL33={}", uboot.display()))
            .args(["all", "fip"]),
    )?;
    let out = build.join("qemu/release");
    let bl1 = fs::read(out.join("bl1.bin")).ctx(|| "bl1.bin".to_string())?;
    let fip = fs::read(out.join("fip.bin")).ctx(|| "fip.bin".to_string())?;
    // bl1 at 0, the FIP at 256 KiB (what TF-A's qemu platform expects).
    const FIP_OFFSET: usize = 64 * 4096;
    if bl1.len() > FIP_OFFSET {
        bail!("bl1.bin is larger than {FIP_OFFSET} bytes");
    }
    let mut img = bl1;
    img.resize(FIP_OFFSET, 0);
    img.extend_from_slice(&fip);
    crate::util::write_atomic(&flash, img)?;
    note(format!(
        "{} ({})",
        show(&flash),
        size(flash.metadata().map(|m| m.len()).unwrap_or(0))
    ));
    Ok(())
}

/// U-Boot loads the kernel and initrd QEMU puts in fw_cfg and boots at once.
/// The kernel goes above OP-TEE's static shared memory (0x42000000).
const UBOOT_ENV: &str = "bootdelay=0
kernel_addr_r=0x42200000
ramdisk_addr_r=0x48000000
bootcmd=qfw load ${kernel_addr_r} ${ramdisk_addr_r} && booti ${kernel_addr_r} ${ramdisk_addr_r}:${filesize} ${fdtcontroladdr}
";

fn env_image(fw: &Path) -> Result<()> {
    let img = fw.join("uboot-env.img");
    if img.exists() {
        note(format!("cached: {}", show(&img)));
        return Ok(());
    }
    let txt = fw.join("uboot-env.txt");
    write(&txt, UBOOT_ENV)?;
    let tmp = fw.join("uboot-env.tmp");
    run_quiet(
        Command::new("mkenvimage")
            .args(["-s", "0x40000", "-o"])
            .arg(&tmp)
            .arg(&txt),
    )?;
    // QEMU's second pflash must be exactly 64 MiB.
    let mut data = fs::read(&tmp).ctx(|| "env image".to_string())?;
    data.resize(64 << 20, 0);
    crate::util::write_atomic(&img, data)?;
    let _ = fs::remove_file(&tmp);
    Ok(())
}

/// optee-teec-sys links `$OPTEE_CLIENT_EXPORT/usr/lib/libteec.so`; Debian
/// ships it under usr/lib/aarch64-linux-gnu.
fn teec_export(sysroot: &Path, export: &Path) -> Result<()> {
    if export.join("usr/lib/libteec.so").exists() {
        note(format!("cached: {}", show(export)));
        return Ok(());
    }
    let lib = export.join("usr/lib");
    let inc = export.join("usr/include");
    mkdirs(&lib)?;
    mkdirs(&inc)?;
    let srclib = sysroot.join("usr/lib/aarch64-linux-gnu");
    for e in fs::read_dir(&srclib)
        .ctx(|| srclib.display().to_string())?
        .flatten()
    {
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with("libteec.so") {
            let target = fs::canonicalize(e.path()).ctx(|| name.clone())?;
            fs::copy(&target, lib.join(&name)).ctx(|| name.clone())?;
        }
    }
    let srcinc = sysroot.join("usr/include");
    for e in fs::read_dir(&srcinc)
        .ctx(|| srcinc.display().to_string())?
        .flatten()
    {
        if e.path().is_file() {
            fs::copy(e.path(), inc.join(e.file_name())).ctx(|| "header".to_string())?;
        }
    }
    if !lib.join("libteec.so").exists() {
        bail!("libteec.so not found in optee-client-dev/libteec2");
    }
    Ok(())
}

pub fn jobs() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(suite: Option<&str>) -> Options {
        Options {
            refresh: false,
            optee_suite: suite.map(str::to_string),
        }
    }

    fn recorded(suite: &str) -> Manifest {
        let mut m = Manifest::default();
        m.set("optee.suite", suite);
        m
    }

    #[test]
    fn the_asked_suite_wins_then_the_recorded_one_then_trixie() {
        let sid = recorded("sid");
        assert_eq!(
            optee_suite(&opts(Some("trixie")), Some(&sid)).unwrap(),
            "trixie"
        );
        assert_eq!(optee_suite(&opts(None), Some(&sid)).unwrap(), "sid");
        // A setup from before the option records no suite: it was trixie.
        assert_eq!(
            optee_suite(&opts(None), Some(&Manifest::default())).unwrap(),
            "trixie"
        );
        assert_eq!(optee_suite(&opts(None), None).unwrap(), "trixie");
    }

    #[test]
    fn only_optee_comes_from_the_other_suite() {
        assert_eq!(pins(None), "");
        let text = pins(Some("sid"));
        let stanzas: Vec<&str> = text.split("\n\n").collect();
        assert_eq!(stanzas.len(), 2, "{text}");
        // The arm64 packages by name (a bare name pins amd64's), above
        // trixie's default 500; everything else of sid below it.
        for pkg in OPTEE_PACKAGES {
            assert!(stanzas[0].contains(&format!("{pkg}:arm64")), "{text}");
        }
        assert!(
            stanzas[0].contains("Pin: release n=sid\nPin-Priority: 990"),
            "{text}"
        );
        assert!(
            stanzas[1].starts_with("Package: *\nPin: release n=sid\nPin-Priority: 100"),
            "{text}"
        );
    }

    #[test]
    fn an_unknown_suite_is_refused_by_name() {
        let err = optee_suite(&opts(Some("bookworm")), None).unwrap_err();
        assert!(err.to_string().contains("--optee-suite bookworm"), "{err}");
        assert!(err.to_string().contains("trixie or sid"), "{err}");
    }
}
