//! The backend a command talks to (opened only when a command needs it) and
//! how results are printed.

use std::path::{Path, PathBuf};

use seam::Client;

use crate::failure::{Failure, Outcome};

/// The device OP-TEE's driver exposes to normal-world clients.
const TEE_DEVICE: &str = "/dev/teepriv0";

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum BackendArg {
    /// The in-process simulator over files: development only, protects nothing.
    Sim,
    /// The seam TA in OP-TEE.
    Tee,
}

pub struct Ctx {
    backend: Option<BackendArg>,
    store: Option<PathBuf>,
    pub json: bool,
    client: Option<Client>,
}

impl Ctx {
    pub fn new(backend: Option<BackendArg>, store: Option<PathBuf>, json: bool) -> Ctx {
        Ctx {
            backend,
            store,
            json,
            client: None,
        }
    }

    /// The client, opened on first use.
    pub fn client(&mut self) -> Outcome<&mut Client> {
        if self.client.is_none() {
            self.client = Some(self.open()?);
        }
        Ok(self.client.as_mut().expect("opened above"))
    }

    fn open(&self) -> Outcome<Client> {
        self.opener()?.open()
    }

    /// What opens more clients of the same backend, from any thread (the
    /// tunnel opens one per connection).
    pub fn opener(&self) -> Outcome<Opener> {
        let backend = match self.backend {
            Some(b) => b,
            None if Path::new(TEE_DEVICE).exists() => {
                if !cfg!(feature = "tee") {
                    return Err(Failure::usage(format!(
                        "{TEE_DEVICE} exists but this seam was built without TEE support \
                         (cargo feature `tee`): rebuild it with `--features tee`, or pass \
                         `--backend sim` for the simulator, which protects nothing"
                    )));
                }
                BackendArg::Tee
            }
            None => {
                let dir = self.store_dir();
                eprintln!(
                    "seam: warning: no {TEE_DEVICE}, using the simulator backend: it protects \
                     nothing (its secrets are plain files in {}). Pass --backend sim to \
                     silence this.",
                    dir.display()
                );
                BackendArg::Sim
            }
        };
        Ok(Opener {
            backend,
            store: self.store_dir(),
        })
    }

    fn store_dir(&self) -> PathBuf {
        self.store
            .clone()
            .unwrap_or_else(seam::transport::simulator::default_store_dir)
    }

    /// Print a result: `text` normally, `json` with `--json`.
    pub fn print(&self, text: impl AsRef<str>, json: serde_json::Value) {
        if self.json {
            println!("{json}");
        } else {
            let text = text.as_ref();
            if text.is_empty() || text.ends_with('\n') {
                print!("{text}");
            } else {
                println!("{text}");
            }
        }
    }
}

/// The backend resolved once; each [`Opener::open`] is a new client.
#[derive(Clone, Debug)]
pub struct Opener {
    backend: BackendArg,
    store: PathBuf,
}

impl Opener {
    pub fn open(&self) -> Outcome<Client> {
        match self.backend {
            BackendArg::Sim => Client::simulator(&self.store).map_err(|e| {
                Failure::from(e).context(format!(
                    "opening the simulator store {}",
                    self.store.display()
                ))
            }),
            BackendArg::Tee => open_tee(),
        }
    }
}

#[cfg(feature = "tee")]
fn open_tee() -> Outcome<Client> {
    seam::transport::Tee::open()
        .map(Client::new)
        .map_err(|e| Failure::from(e).context("opening a session with the seam TA"))
}

#[cfg(not(feature = "tee"))]
fn open_tee() -> Outcome<Client> {
    Err(Failure::usage(
        "--backend tee: this seam was built without TEE support (cargo feature `tee`); \
         rebuild it with `--features tee` for the device, or use `--backend sim` (the \
         simulator, which protects nothing)",
    ))
}
