//! A guest whose console the host watches line by line and may kill at any
//! moment (as a power cut): for `powercut` and `stress`, which need more
//! than `Boot::run_script`'s run-to-completion.

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::process::Stdio;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::bail;
use crate::guest::{Boot, LOG_LIMIT};
use crate::util::{mkdirs, Context, Result};

/// What the watcher wants after a line (or a quiet 100 ms).
pub enum Next {
    Continue,
    /// SIGKILL QEMU now: the guest gets no chance to flush anything.
    Kill,
}

/// How a watched boot ended.
pub struct Ended {
    /// `@@ DONE rc=N` if the guest got that far.
    pub rc: Option<i32>,
    pub elapsed: Duration,
}

/// Boots `boot` (its initrd already holds the command) and calls `on_line`
/// with every console line, and with `None` when nothing came for 100 ms.
/// Kills the guest when `on_line` says so, after `timeout`, when the
/// secure console floods, or when OP-TEE's core has panicked (the guest
/// would then wait out the whole timeout: every TEE call blocks for good).
pub fn watch(
    boot: &Boot,
    timeout: Duration,
    mut on_line: impl FnMut(Option<&str>) -> Next,
) -> Result<Ended> {
    mkdirs(&boot.logs)?;
    let start = Instant::now();
    let mut child = boot
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
    let mut log = File::create(boot.console_log()).ctx(|| "console log".to_string())?;
    let mut written = 0u64;
    let mut rc = None;
    let mut core_panic = CorePanicWatch::default();
    loop {
        let next = match rx.recv_timeout(Duration::from_millis(100)) {
            Ok(raw) => {
                if written < LOG_LIMIT {
                    let _ = log.write_all(&raw);
                    written += raw.len() as u64;
                }
                let text = String::from_utf8_lossy(&raw);
                let line = text.trim_end_matches(['\n', '\r']).replace('\r', "");
                if let Some(n) = line.strip_prefix("@@ DONE rc=") {
                    rc = n.trim().parse().ok();
                }
                if line.contains("Kernel panic") {
                    let _ = child.kill();
                    let _ = child.wait();
                    boot.print_logs();
                    bail!("kernel panic: {line}");
                }
                on_line(Some(&line))
            }
            Err(mpsc::RecvTimeoutError::Timeout) => on_line(None),
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        };
        if matches!(next, Next::Kill) {
            let _ = child.kill();
            // What QEMU wrote to the pipe before it died is still read,
            // so the log of acknowledged commands is complete.
            while let Ok(raw) = rx.recv_timeout(Duration::from_millis(500)) {
                let text = String::from_utf8_lossy(&raw);
                let line = text.trim_end_matches(['\n', '\r']).replace('\r', "");
                let _ = log.write_all(&raw);
                on_line(Some(&line));
            }
            break;
        }
        if start.elapsed() > timeout {
            let _ = child.kill();
            let _ = child.wait();
            boot.print_logs();
            bail!("guest timed out after {} s", timeout.as_secs());
        }
        if let Some(panic) = core_panic.check(&boot.secure_log()) {
            let _ = child.kill();
            let _ = child.wait();
            boot.print_logs();
            bail!("OP-TEE's core panicked and halted: {panic}");
        }
        if std::fs::metadata(boot.secure_log()).is_ok_and(|m| m.len() > LOG_LIMIT) {
            let _ = child.kill();
            let _ = child.wait();
            bail!("OP-TEE's secure console passed {LOG_LIMIT} bytes: a crash loop?");
        }
        if rc.is_some() {
            // The guest powers off by itself; give it a moment, then kill.
            let t = Instant::now();
            while t.elapsed() < Duration::from_secs(30) {
                if rx.recv_timeout(Duration::from_millis(200)).is_err()
                    && child.try_wait().ok().flatten().is_some()
                {
                    break;
                }
            }
            let _ = child.kill();
            break;
        }
    }
    let _ = child.wait();
    Ok(Ended {
        rc,
        elapsed: start.elapsed(),
    })
}

/// Reads the secure console as it grows (every 2 s) for the line OP-TEE
/// prints when its core halts after a panic.
#[derive(Default)]
struct CorePanicWatch {
    read: u64,
    last: Option<Instant>,
    /// The last `Panic` line seen, to name the cause.
    panic_line: Option<String>,
    partial: String,
}

impl CorePanicWatch {
    fn check(&mut self, secure_log: &std::path::Path) -> Option<String> {
        if self
            .last
            .is_some_and(|t| t.elapsed() < Duration::from_secs(2))
        {
            return None;
        }
        self.last = Some(Instant::now());
        let mut f = File::open(secure_log).ok()?;
        f.seek(SeekFrom::Start(self.read)).ok()?;
        let mut new = Vec::new();
        f.take(LOG_LIMIT).read_to_end(&mut new).ok()?;
        self.read += new.len() as u64;
        self.partial.push_str(&String::from_utf8_lossy(&new));
        let complete = self.partial.rfind('\n').map_or(0, |i| i + 1);
        let text: String = self.partial.drain(..complete).collect();
        for line in text.lines() {
            if line.contains("Panic '") {
                self.panic_line = Some(line.trim().to_string());
            }
            if line.contains("Halting CPU") {
                return Some(
                    self.panic_line
                        .clone()
                        .unwrap_or_else(|| line.trim().to_string()),
                );
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_core_panic_is_seen_once_the_core_halts() {
        let dir = std::env::temp_dir().join(format!("seam-watch-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let log = dir.join("secure.log");
        let append = |text: &str| {
            let mut f = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&log)
                .unwrap();
            f.write_all(text.as_bytes()).unwrap();
        };
        let mut w = CorePanicWatch::default();
        append("E/TC:? 0 get_rpc_alloc_res:644 RPC allocation failed.\n");
        append("E/TC:1 0 Panic 'unhandled pageable abort' at core/arch/arm/kernel/abort.c:582\n");
        append("I/TC: Halt");
        assert_eq!(w.check(&log), None, "half a line is not a halt");
        append("ing CPU 0\n");
        w.last = None;
        let seen = w.check(&log).expect("the halt is seen");
        assert!(seen.contains("Panic 'unhandled pageable abort'"), "{seen}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
