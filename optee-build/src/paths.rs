//! Where things live.
//!
//! * the download cache (Debian packages, TF-A source and build, flash image)
//!   is `$SEAM_CACHE`, or `~/.cache/seam/optee`: it is independent of the
//!   checkout and survives `cargo clean`;
//! * everything built from this repository (TA, aarch64 programs, initramfs,
//!   guest logs) is under `target/optee/`.

use std::path::PathBuf;

use crate::util::home;

pub struct Paths {
    pub repo: PathBuf,
    pub cache: PathBuf,
    pub out: PathBuf,
}

impl Paths {
    pub fn new() -> Paths {
        // The crate sits at <repo>/optee-build.
        let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .expect("optee-build has a parent directory")
            .to_path_buf();
        let cache = std::env::var_os("SEAM_CACHE")
            .map(PathBuf::from)
            .unwrap_or_else(|| home().join(".cache/seam/optee"));
        let out = std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .map(|t| if t.is_relative() { repo.join(t) } else { t })
            .unwrap_or_else(|| repo.join("target"))
            .join("optee");
        Paths { repo, cache, out }
    }

    /// The record of a finished setup: what was downloaded and built.
    pub fn setup_manifest(&self) -> PathBuf {
        self.cache.join("setup.manifest")
    }

    /// The record of a finished build: the initramfs and what is in it.
    pub fn build_manifest(&self) -> PathBuf {
        self.out.join("build.manifest")
    }
}
