//! `cargo optee bench [N] [--json FILE]`: seam on the real TA against
//! anchors measured in the same guest boot.
//!
//! The build adds, besides the `device_bench` example (seam-tests), two
//! small C programs compiled here with aarch64-linux-gnu-gcc against the
//! guest's own libraries, and OP-TEE's PKCS#11 TA from the dev kit:
//! * `openssl_client` (bench/openssl_client.c, libssl 3): the OpenSSL client
//!   the handshake rows compare with; both it and seam's client talk to the
//!   same `openssl s_server` in the guest.
//! * `pkcs11_sign` (bench/pkcs11_sign.c, libckteec): ECDSA P-256 `C_Sign`
//!   with a token key in OP-TEE's PKCS#11 TA, the anchor of the sign row.
//!
//! Both run as coprocesses of `device_bench` (one handshake or signature
//! per line on stdin, timed inside), so rounds interleave without process
//! start-up in any figure. `device_bench` prints the table; with `--json`
//! it also prints the cases as JSON between markers on the console, which
//! this command copies to FILE.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::bail;
use crate::image::Extra;
use crate::manifest::Manifest;
use crate::paths::Paths;
use crate::util::{mkdirs, note, run_quiet, show, Context, Result};

/// OP-TEE's PKCS#11 TA, shipped in the dev kit's `ta/` folder.
pub const PKCS11_TA: &str = "fd02c9da-306c-48c7-a49c-bbd827ae86ee.ta";

const JSON_BEGIN: &str = "@@ BENCH-JSON BEGIN";
const JSON_END: &str = "@@ BENCH-JSON END";

pub struct Options {
    pub rounds: u32,
    pub json: Option<PathBuf>,
}

pub fn parse(rest: &[String]) -> Result<Options> {
    const USAGE: &str = "usage: cargo optee bench [N] [--json FILE] (N: rounds of each case)";
    let mut o = Options {
        rounds: 10,
        json: None,
    };
    let mut it = rest.iter();
    let mut seen_n = false;
    while let Some(a) = it.next() {
        if a == "--json" {
            o.json = Some(PathBuf::from(it.next().ok_or(USAGE)?));
        } else if !seen_n {
            o.rounds = a.parse::<u32>().ok().filter(|&n| n > 0).ok_or(USAGE)?;
            seen_n = true;
        } else {
            bail!("{USAGE}");
        }
    }
    Ok(o)
}

/// The anchors' programs and the PKCS#11 TA, for the bench's initramfs.
pub fn extras(p: &Paths, s: &Manifest) -> Result<Vec<Extra>> {
    let sysroot = s.path("sysroot.path")?;
    let devkit = s.path("devkit.path")?;
    let libs = sysroot.join("usr/lib/aarch64-linux-gnu");
    let out = p.out.join("bench");
    mkdirs(&out)?;
    let src = p.repo.join("optee-build/bench");
    let mut extras = Vec::new();
    for (name, libs_needed, include) in [
        (
            "openssl_client",
            vec![libs.join("libssl.so.3"), libs.join("libcrypto.so.3")],
            false,
        ),
        ("pkcs11_sign", vec![libs.join("libckteec.so.0")], true),
    ] {
        let exe = out.join(name);
        let mut cmd = Command::new("aarch64-linux-gnu-gcc");
        cmd.args(["-O2", "-Wall", "-Wextra", "-Werror"]);
        if include {
            // pkcs11.h from optee-client-dev.
            cmd.arg(format!("-I{}", sysroot.join("usr/include").display()));
        }
        cmd.arg("-o").arg(&exe).arg(src.join(format!("{name}.c")));
        cmd.args(&libs_needed);
        // The guest's libraries need a newer glibc than the cross
        // toolchain's; the guest has it.
        cmd.arg("-Wl,--allow-shlib-undefined");
        run_quiet(&mut cmd)?;
        note(format!("{} (bench anchor)", show(&exe)));
        extras.push(Extra {
            guest: format!("/opt/seam/bin/{name}"),
            host: exe,
        });
    }
    let ta = find_pkcs11_ta(&devkit)?;
    extras.push(Extra {
        guest: format!("/usr/lib/optee_armtz/{PKCS11_TA}"),
        host: ta,
    });
    Ok(extras)
}

fn find_pkcs11_ta(devkit: &Path) -> Result<PathBuf> {
    let ta = devkit.join("ta").join(PKCS11_TA);
    if !ta.exists() {
        bail!(
            "OP-TEE's PKCS#11 TA is not in the dev kit ({}): the sign anchor needs it",
            ta.display()
        );
    }
    Ok(ta)
}

/// The guest command: device_bench, then its JSON between markers.
pub fn script(o: &Options) -> String {
    let json = if o.json.is_some() {
        format!(
            " --json /tmp/bench.json && echo '{JSON_BEGIN}' && cat /tmp/bench.json && echo '{JSON_END}'"
        )
    } else {
        String::new()
    };
    format!(
        "if [ -x /opt/seam/bin/device_bench ]; then \
         SEAM_BACKEND=tee device_bench {}{json}; \
         else echo 'device_bench was not built (seam-tests example)'; exit 2; fi\n",
        o.rounds
    )
}

/// Copies the JSON the guest printed to `dest`.
pub fn save_json(console: &Path, dest: &Path) -> Result<()> {
    let log = std::fs::read(console).ctx(|| console.display().to_string())?;
    let log = String::from_utf8_lossy(&log).replace('\r', "");
    let (Some(b), Some(e)) = (log.rfind(JSON_BEGIN), log.rfind(JSON_END)) else {
        bail!(
            "the guest printed no benchmark JSON (see {})",
            console.display()
        );
    };
    if e < b {
        bail!("malformed benchmark JSON markers in {}", console.display());
    }
    let json = log[b + JSON_BEGIN.len()..e].trim();
    std::fs::write(dest, format!("{json}\n")).ctx(|| dest.display().to_string())?;
    note(format!("benchmark JSON written to {}", dest.display()));
    Ok(())
}
