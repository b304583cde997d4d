//! Booting the emulated device: QEMU virt (secure=on, GICv3, cortex-a57),
//! TF-A + OP-TEE + U-Boot in flash, the Debian kernel and our initramfs.
//!
//! The normal world's console is the first serial port; OP-TEE's own
//! console (TA panics, aborts) is the second. Both are written to a run
//! directory under `target/optee/logs/`, each bounded in size.

use std::fs::{self, File};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::bail;
use crate::manifest::Manifest;
use crate::util::{mkdirs, note, show, Context, Result};

/// No log grows beyond this (an OP-TEE crash loop writes tens of MB a minute).
pub const LOG_LIMIT: u64 = 16 << 20;

pub struct Boot<'a> {
    pub setup: &'a Manifest,
    pub initrd: PathBuf,
    pub data_disk: Option<PathBuf>,
    pub logs: PathBuf,
}

impl Boot<'_> {
    pub(crate) fn qemu(&self, interactive: bool) -> Result<Command> {
        let flash = self.setup.path("flash.path")?;
        let env = self.setup.path("uboot-env.path")?;
        let kernel = self.setup.path("vmlinuz.path")?;
        let mut append = String::from("console=ttyAMA0 quiet loglevel=3");
        let mut c = Command::new("qemu-system-aarch64");
        c.args(["-machine", "virt,secure=on,gic-version=3"])
            .args(["-cpu", "cortex-a57", "-smp", "2", "-m", "1024"])
            .arg("-bios")
            .arg(&flash)
            .arg("-drive")
            .arg(format!(
                "if=pflash,unit=1,format=raw,snapshot=on,file={}",
                env.display()
            ))
            .arg("-kernel")
            .arg(&kernel)
            .arg("-initrd")
            .arg(&self.initrd)
            .args(["-no-reboot", "-nic", "none"]);
        if let Some(disk) = &self.data_disk {
            c.arg("-drive")
                .arg(format!("if=virtio,format=raw,file={}", disk.display()));
            append.push_str(" seam.data=1");
        }
        c.arg("-append").arg(append);
        if interactive {
            // The terminal is the console and QEMU's monitor (Ctrl-A C), and
            // the console is logged too; Ctrl-C goes to the guest.
            c.args(["-display", "none", "-chardev"])
                .arg(format!(
                    "stdio,id=con,mux=on,signal=off,logfile={}",
                    self.console_log().display()
                ))
                .args([
                    "-serial",
                    "chardev:con",
                    "-mon",
                    "chardev=con,mode=readline",
                ]);
        } else {
            c.args(["-display", "none", "-monitor", "none", "-serial", "stdio"]);
        }
        c.arg("-serial")
            .arg(format!("file:{}", self.secure_log().display()));
        Ok(c)
    }

    pub fn console_log(&self) -> PathBuf {
        self.logs.join("console.log")
    }

    pub fn secure_log(&self) -> PathBuf {
        self.logs.join("secure.log")
    }

    pub fn print_logs(&self) {
        note(format!(
            "logs: {} (normal world), {} (OP-TEE secure console)",
            show(&self.console_log()),
            show(&self.secure_log())
        ));
    }

    /// `run`: an interactive shell on this terminal.
    pub fn interactive(&self) -> Result<()> {
        mkdirs(&self.logs)?;
        let mut c = self.qemu(true)?;
        println!("==> booting (interactive; Ctrl-A X quits QEMU, `poweroff -f` stops the guest)");
        let st = c.status().ctx(|| "qemu-system-aarch64".to_string())?;
        self.print_logs();
        if !st.success() {
            bail!("QEMU exited with {st}");
        }
        Ok(())
    }

    /// Boots, streams what the guest prints between `@@ BEGIN` and `@@ DONE
    /// rc=N` (everything when `verbose`), and returns N. Kills the guest
    /// after `timeout`.
    pub fn run_script(&self, timeout: Duration, verbose: bool) -> Result<Outcome> {
        mkdirs(&self.logs)?;
        let start = Instant::now();
        let mut child = self
            .qemu(false)?
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .ctx(|| "cannot start qemu-system-aarch64".to_string())?;
        let stdout = child.stdout.take().expect("piped");
        let (tx, rx) = mpsc::channel::<Vec<u8>>();
        std::thread::spawn(move || {
            let mut r = BufReader::new(stdout);
            loop {
                let mut line = Vec::new();
                match r.read_until(b'\n', &mut line) {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {
                        if tx.send(line).is_err() {
                            break;
                        }
                    }
                }
            }
        });
        let mut log = BoundedLog::create(&self.console_log())?;
        let mut began: Option<Duration> = None;
        let mut rc: Option<i32> = None;
        let mut failure: Option<String> = None;
        let mut done_at: Option<Instant> = None;
        let mut counts = Counts::default();
        let stdout = std::io::stdout();
        loop {
            match rx.recv_timeout(Duration::from_millis(250)) {
                Ok(raw) => {
                    log.write(&raw);
                    let text = String::from_utf8_lossy(&raw);
                    let line = text.trim_end_matches(['\n', '\r']).replace('\r', "");
                    if line.starts_with("@@ BEGIN") && began.is_none() {
                        let t = start.elapsed();
                        began = Some(t);
                        println!("    guest ready in {:.1} s", t.as_secs_f64());
                        continue;
                    }
                    if let Some(n) = line.strip_prefix("@@ DONE rc=") {
                        rc = n.trim().parse().ok();
                        done_at = Some(Instant::now());
                        continue;
                    }
                    if line.starts_with("@@ WARN") {
                        println!("    guest: {line}");
                        continue;
                    }
                    if began.is_some() && rc.is_none() {
                        counts.add(&line);
                    }
                    if (began.is_some() && rc.is_none()) || verbose {
                        let mut out = stdout.lock();
                        let _ = writeln!(out, "{line}");
                        let _ = out.flush();
                    }
                    if line.contains("Kernel panic") {
                        failure = Some(format!("kernel panic: {line}"));
                    }
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
            }
            if let Some(f) = &failure {
                kill(&mut child);
                self.print_logs();
                bail!("{f}");
            }
            if start.elapsed() > timeout {
                kill(&mut child);
                self.print_logs();
                bail!(
                    "guest timed out after {} s ({})",
                    timeout.as_secs(),
                    if began.is_some() {
                        "the command did not finish"
                    } else {
                        "it never got to run the command"
                    }
                );
            }
            if let Ok(m) = fs::metadata(self.secure_log()) {
                if m.len() > LOG_LIMIT {
                    kill(&mut child);
                    self.print_logs();
                    bail!("OP-TEE's secure console passed {LOG_LIMIT} bytes: a crash loop?");
                }
            }
            if done_at.is_some_and(|t| t.elapsed() > Duration::from_secs(30)) {
                note("guest did not power off within 30 s: killed");
                kill(&mut child);
                break;
            }
        }
        let status = child.wait().ctx(|| "waiting for QEMU".to_string())?;
        let total = start.elapsed();
        match rc {
            Some(rc) => Ok(Outcome {
                rc,
                counts,
                boot: began.unwrap_or_default(),
                total,
            }),
            None => {
                self.print_logs();
                bail!("the guest stopped ({status}) without reporting a result")
            }
        }
    }
}

pub struct Outcome {
    pub rc: i32,
    /// Test results the guest printed (cargo test harnesses and xtest).
    pub counts: Counts,
    pub boot: Duration,
    pub total: Duration,
}

/// Tests passed and failed, summed over cargo's `test result:` lines and
/// xtest's `N test cases of which M failed`.
#[derive(Default, Clone, Copy)]
pub struct Counts {
    pub passed: u64,
    pub failed: u64,
}

impl Counts {
    fn add(&mut self, line: &str) {
        let num_before = |word: &str| -> Option<u64> {
            let i = line.find(word)?;
            line[..i].split_whitespace().last()?.parse().ok()
        };
        if line.starts_with("test result:") {
            self.passed += num_before(" passed").unwrap_or(0);
            self.failed += num_before(" failed").unwrap_or(0);
        } else if let Some((p, f)) = c_summary(line) {
            self.passed += p;
            self.failed += f;
        } else if let Some(rest) = line.strip_suffix(" failed") {
            // xtest: "6 test cases of which 0 failed"
            if let Some((total, failed)) = rest.split_once(" test cases of which ") {
                if let (Ok(t), Ok(f)) = (total.trim().parse::<u64>(), failed.trim().parse::<u64>())
                {
                    self.passed += t.saturating_sub(f);
                    self.failed += f;
                }
            }
        }
    }

    pub fn merge(&mut self, o: Counts) {
        self.passed += o.passed;
        self.failed += o.failed;
    }
}

/// libseam's C tests end with exactly "N passed, M failed".
fn c_summary(line: &str) -> Option<(u64, u64)> {
    let (p, f) = line.strip_suffix(" failed")?.split_once(" passed, ")?;
    let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !all_digits(p) || !all_digits(f) {
        return None;
    }
    Some((p.parse().ok()?, f.parse().ok()?))
}

fn kill(child: &mut Child) {
    let _ = child.kill();
    let _ = child.wait();
}

/// A log file that stops growing at [`LOG_LIMIT`].
struct BoundedLog {
    file: File,
    written: u64,
    full: bool,
}

impl BoundedLog {
    fn create(p: &Path) -> Result<BoundedLog> {
        Ok(BoundedLog {
            file: File::create(p).ctx(|| p.display().to_string())?,
            written: 0,
            full: false,
        })
    }

    fn write(&mut self, data: &[u8]) {
        if self.full {
            return;
        }
        if self.written + data.len() as u64 > LOG_LIMIT {
            let _ = self.file.write_all(b"\n[optee-build: log truncated]\n");
            self.full = true;
            return;
        }
        let _ = self.file.write_all(data);
        self.written += data.len() as u64;
    }
}

/// A fresh directory for one boot's logs; keeps the last 20.
pub fn new_log_dir(out: &Path, what: &str) -> Result<PathBuf> {
    let base = out.join("logs");
    mkdirs(&base)?;
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0);
    let dir = base.join(format!("{stamp}-{what}"));
    mkdirs(&dir)?;
    let mut all: Vec<PathBuf> = fs::read_dir(&base)
        .map(|d| {
            d.flatten()
                .map(|e| e.path())
                .filter(|p| p.is_dir())
                .collect()
        })
        .unwrap_or_default();
    all.sort();
    while all.len() > 20 {
        let _ = fs::remove_dir_all(all.remove(0));
    }
    Ok(dir)
}

/// Creates an ext4 image for tee-supplicant's data if `path` does not exist.
pub fn ensure_data_disk(path: &Path) -> Result<()> {
    if path.exists() {
        note(format!("data disk {} (kept)", show(path)));
        return Ok(());
    }
    if let Some(p) = path.parent() {
        if !p.as_os_str().is_empty() {
            mkdirs(p)?;
        }
    }
    let f = File::create(path).ctx(|| path.display().to_string())?;
    f.set_len(64 << 20).ctx(|| path.display().to_string())?;
    crate::util::run_quiet(
        Command::new("mkfs.ext4")
            .args(["-q", "-F", "-L", "seam-data"])
            .arg(path),
    )?;
    note(format!("data disk {} (new, 64 MiB ext4)", show(path)));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::Counts;

    fn count(lines: &[&str]) -> (u64, u64) {
        let mut c = Counts::default();
        for l in lines {
            c.add(l);
        }
        (c.passed, c.failed)
    }

    #[test]
    fn counts_cargo_xtest_and_the_c_tests() {
        assert_eq!(
            count(&[
                "test result: ok. 12 passed; 0 failed; 1 ignored; 0 measured",
                "6 test cases of which 1 failed",
                "97 passed, 0 failed",
                "31 passed, 2 failed",
            ]),
            (12 + 5 + 97 + 31, 1 + 2)
        );
    }

    #[test]
    fn other_lines_count_nothing() {
        assert_eq!(
            count(&[
                "FAIL tests/c/test_seam.c:12: 3 passed, 1 failed",
                "x passed, 0 failed",
                "passed, 0 failed",
                " 3 passed, 0 failed",
                "device-test: every C test passed",
            ]),
            (0, 0)
        );
    }
}
