//! Small helpers: errors, timed steps, running commands, files.

use std::fmt::Display;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

pub type Result<T> = std::result::Result<T, String>;

/// Turns any displayable error into this tool's error, with context.
pub trait Context<T> {
    fn ctx(self, what: impl FnOnce() -> String) -> Result<T>;
}

impl<T, E: Display> Context<T> for std::result::Result<T, E> {
    fn ctx(self, what: impl FnOnce() -> String) -> Result<T> {
        self.map_err(|e| format!("{}: {e}", what()))
    }
}

#[macro_export]
macro_rules! bail {
    ($($t:tt)*) => { return Err(format!($($t)*)) };
}

/// Runs one named step, printing what it does and how long it took.
pub fn step<T>(name: &str, f: impl FnOnce() -> Result<T>) -> Result<T> {
    println!("==> {name}");
    let _ = std::io::stdout().flush();
    let start = Instant::now();
    let r = f();
    let secs = start.elapsed().as_secs_f64();
    match &r {
        Ok(_) => println!("    {name}: done in {secs:.1} s"),
        Err(_) => println!("    {name}: FAILED after {secs:.1} s"),
    }
    r
}

pub fn note(msg: impl Display) {
    println!("    {msg}");
}

fn describe(cmd: &Command) -> String {
    let mut s = cmd.get_program().to_string_lossy().into_owned();
    for a in cmd.get_args() {
        s.push(' ');
        s.push_str(&a.to_string_lossy());
    }
    s
}

/// Runs a command with inherited output; fails if it fails.
pub fn run(cmd: &mut Command) -> Result<()> {
    let d = describe(cmd);
    let status = cmd.status().ctx(|| format!("cannot start `{d}`"))?;
    if !status.success() {
        bail!("`{d}` failed ({status})");
    }
    Ok(())
}

/// Runs a command and returns its stdout; stderr is shown only on failure.
pub fn output(cmd: &mut Command) -> Result<String> {
    let d = describe(cmd);
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .ctx(|| format!("cannot start `{d}`"))?;
    if !out.status.success() {
        bail!(
            "`{d}` failed ({}):\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim_end()
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Runs a command quietly, showing its output only when it fails.
pub fn run_quiet(cmd: &mut Command) -> Result<()> {
    let d = describe(cmd);
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .ctx(|| format!("cannot start `{d}`"))?;
    if !out.status.success() {
        let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
        text.push_str(&String::from_utf8_lossy(&out.stderr));
        let tail: Vec<&str> = text.lines().rev().take(40).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        bail!(
            "`{d}` failed ({}); last output:\n{}",
            out.status,
            tail.join("\n")
        );
    }
    Ok(())
}

pub fn mkdirs(p: &Path) -> Result<()> {
    fs::create_dir_all(p).ctx(|| format!("mkdir {}", p.display()))
}

pub fn write(p: &Path, data: impl AsRef<[u8]>) -> Result<()> {
    if let Some(parent) = p.parent() {
        mkdirs(parent)?;
    }
    fs::write(p, data).ctx(|| format!("write {}", p.display()))
}

/// Writes a file through a temporary name, so a reader never sees half of it.
pub fn write_atomic(p: &Path, data: impl AsRef<[u8]>) -> Result<()> {
    let tmp = p.with_extension("tmp");
    write(&tmp, data)?;
    fs::rename(&tmp, p).ctx(|| format!("rename to {}", p.display()))
}

pub fn read(p: &Path) -> Result<String> {
    fs::read_to_string(p).ctx(|| format!("read {}", p.display()))
}

pub fn remove_dir(p: &Path) -> Result<()> {
    if p.exists() {
        fs::remove_dir_all(p).ctx(|| format!("rm -r {}", p.display()))?;
    }
    Ok(())
}

pub fn home() -> PathBuf {
    std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/root"))
}

/// `a/b/c` relative to `base` if under it, for shorter messages.
pub fn show(p: &Path) -> String {
    if let Ok(cwd) = std::env::current_dir() {
        if let Ok(rel) = p.strip_prefix(&cwd) {
            return rel.display().to_string();
        }
    }
    p.display().to_string()
}

/// Size in human units.
pub fn size(n: u64) -> String {
    if n >= 1 << 20 {
        format!("{:.1} MiB", n as f64 / (1u64 << 20) as f64)
    } else if n >= 1 << 10 {
        format!("{:.1} KiB", n as f64 / 1024.0)
    } else {
        format!("{n} B")
    }
}

/// Quote one word for a POSIX shell.
pub fn shell_quote(s: &str) -> String {
    if !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./=:,+@%".contains(&b))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// A stable hash for cache keys (FNV-1a 64).
pub fn fnv(data: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf29ce484222325;
    for b in data {
        h ^= *b as u64;
        h = h.wrapping_mul(0x100000001b3);
    }
    h
}
