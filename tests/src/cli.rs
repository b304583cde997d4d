//! The `seam` tool for tests that run it as a user would (the tunnel, the
//! ACME scenarios): on the device the one installed on its PATH; on the
//! host the workspace's, built here if needed (a no-op when up to date).

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

use crate::{backend, Backend};

/// Path of the `seam` binary to run.
pub fn seam_binary() -> PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        if let Some(p) = std::env::var_os("SEAM_CLI") {
            return PathBuf::from(p);
        }
        if backend() == Backend::Tee {
            return PathBuf::from("seam");
        }
        // target/<profile>/deps/<test> → target/<profile>/seam
        let exe = std::env::current_exe().expect("the test's own path");
        let dir = exe
            .parent()
            .and_then(|d| d.parent())
            .expect("the test runs from target/<profile>/deps")
            .to_path_buf();
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let mut build = Command::new(cargo);
        build.args(["build", "-p", "seam-cli", "--bin", "seam"]);
        if dir.file_name().is_some_and(|n| n == "release") {
            build.arg("--release");
        }
        let status = build
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .status()
            .expect("running cargo build -p seam-cli");
        assert!(status.success(), "cargo build -p seam-cli failed");
        let path = dir.join("seam");
        assert!(path.exists(), "{} was not built", path.display());
        path
    })
    .clone()
}
