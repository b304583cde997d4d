//! seam-core in this process, over files: for laptops and CI.
//!
//! **Development only: security level 0.** The secrets are in ordinary files
//! readable by whoever can read the directory; nothing here is isolated from
//! the caller. The access rules, wire protocol and caller identities are the
//! real ones, so what works here works against the TA.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};

use seam_core::{Caller, Clock, Platform, SecureEnvironment, Store, StoreError};

use super::Transport;
use crate::{identity, Error, OsRng};

/// The TS-0003 security level the simulator reports: none.
pub const SIMULATOR_SECURITY_LEVEL: u8 = 0;

/// The store directory: `$SEAM_STORE`, else `~/.local/share/seam`.
pub fn default_store_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("SEAM_STORE") {
        return PathBuf::from(dir);
    }
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."));
    home.join(".local/share/seam")
}

/// The host's date when the simulator opened, advanced by its monotonic
/// clock (as the TA does with REE time and TEE_GetSystemTime): key
/// lifetimes read the date, handshake sessions never see time go back.
struct HostClock {
    opened: std::time::Instant,
    /// Milliseconds since the Unix epoch at `opened`; None before 1970.
    date_ms: Option<u64>,
}

impl HostClock {
    fn new() -> Self {
        let date_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .ok()
            .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
        HostClock {
            opened: std::time::Instant::now(),
            date_ms,
        }
    }
}

impl Clock for HostClock {
    fn now_ms(&self) -> u64 {
        let elapsed = u64::try_from(self.opened.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.date_ms.unwrap_or(0).saturating_add(elapsed)
    }

    fn knows_date(&self) -> bool {
        self.date_ms.is_some()
    }
}

pub struct Simulator {
    env: SecureEnvironment<FileStore, OsRng>,
    caller: Caller,
    lock: File,
}

impl Simulator {
    /// A simulator over `dir` (created if missing), calling as this process's
    /// user, exactly as OP-TEE would identify it.
    pub fn open(dir: impl AsRef<Path>) -> Result<Self, Error> {
        Self::open_as(dir, Caller::Client(identity::current_user()))
    }

    /// A simulator calling as someone else: for tests that need several
    /// callers in one process, and for a PUBLIC login.
    pub fn open_as(dir: impl AsRef<Path>, caller: Caller) -> Result<Self, Error> {
        let dir = dir.as_ref().to_path_buf();
        fs::create_dir_all(&dir)
            .map_err(|e| Error::io(format!("creating store {}", dir.display()), e))?;
        let _ = fs::set_permissions(&dir, std::os::unix::fs::PermissionsExt::from_mode(0o700));
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .mode(0o600)
            .open(dir.join(".lock"))
            .map_err(|e| Error::io(format!("opening lock in {}", dir.display()), e))?;
        let platform = Platform {
            security_level: SIMULATOR_SECURITY_LEVEL,
        };
        let mut env = SecureEnvironment::new(FileStore { dir }, OsRng, platform);
        env.set_clock(HostClock::new());
        Ok(Simulator { env, caller, lock })
    }

    /// Replaces the host clock handshake sessions and key lifetimes go by (tests: a
    /// [`seam_core::ManualClock`]).
    pub fn set_clock(&mut self, clock: impl Clock + Send + 'static) {
        self.env.set_clock(clock);
    }

    /// What the TA does when a caller's last TEE session closes: wipe its
    /// handshake sessions.
    pub fn close_handshakes(&mut self, caller: &Caller) {
        self.env.close_handshakes(caller);
    }

    /// Handshake sessions held now.
    pub fn handshake_count(&self) -> usize {
        self.env.handshake_count()
    }

    pub fn caller(&self) -> Caller {
        self.caller
    }

    /// Act as another caller from now on, on the same in-memory state (the
    /// handshake sessions): for tests with several callers on one TA.
    pub fn set_caller(&mut self, caller: Caller) {
        self.caller = caller;
    }
}

impl Transport for Simulator {
    fn call(&mut self, request: &[u8]) -> Result<Vec<u8>, Error> {
        // Several processes may share a store: one request at a time, as the
        // single-instance TA serialises them.
        let fd = self.lock.as_raw_fd();
        // SAFETY: flock on a descriptor we own; no memory is involved.
        if unsafe { libc::flock(fd, libc::LOCK_EX) } != 0 {
            return Err(Error::io(
                "locking the simulator store",
                std::io::Error::last_os_error(),
            ));
        }
        let response = self.env.process(&self.caller, request);
        // SAFETY: as above.
        unsafe { libc::flock(fd, libc::LOCK_UN) };
        Ok(response)
    }

    fn name(&self) -> &'static str {
        "simulator"
    }
}

/// One file per store object; writes go to a temporary file that is synced
/// and renamed over the old one, so a crash leaves the old or the new object.
pub struct FileStore {
    dir: PathBuf,
}

impl FileStore {
    /// The store in `dir`, which must exist (tests drive it directly, e.g.
    /// to inject faults between the core and the files).
    pub fn new(dir: impl Into<PathBuf>) -> FileStore {
        FileStore { dir: dir.into() }
    }

    fn path(&self, name: &str) -> Result<PathBuf, StoreError> {
        let ok = !name.is_empty()
            && !name.starts_with('.')
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
        if ok {
            Ok(self.dir.join(name))
        } else {
            Err(StoreError::Failure)
        }
    }
}

impl Store for FileStore {
    fn get(&mut self, name: &str) -> Result<Option<Vec<u8>>, StoreError> {
        match fs::read(self.path(name)?) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(_) => Err(StoreError::Failure),
        }
    }

    fn put(&mut self, name: &str, data: &[u8]) -> Result<(), StoreError> {
        let path = self.path(name)?;
        let tmp = self.dir.join(format!(".{name}.tmp"));
        let write = || -> std::io::Result<()> {
            let mut f = OpenOptions::new()
                .create(true)
                .truncate(true)
                .write(true)
                .mode(0o600)
                .open(&tmp)?;
            f.write_all(data)?;
            f.sync_all()?;
            fs::rename(&tmp, &path)?;
            File::open(&self.dir)?.sync_all()
        };
        write().map_err(|e| match e.raw_os_error() {
            Some(libc::ENOSPC) => StoreError::Full,
            _ => StoreError::Failure,
        })
    }

    fn delete(&mut self, name: &str) -> Result<(), StoreError> {
        match fs::remove_file(self.path(name)?) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(_) => Err(StoreError::Failure),
        }
    }

    fn list(&mut self) -> Result<Vec<String>, StoreError> {
        let entries = fs::read_dir(&self.dir).map_err(|_| StoreError::Failure)?;
        let mut names = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|_| StoreError::Failure)?;
            if let Some(name) = entry.file_name().to_str() {
                if !name.starts_with('.') {
                    names.push(name.to_string());
                }
            }
        }
        Ok(names)
    }
}
