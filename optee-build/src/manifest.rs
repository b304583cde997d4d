//! `key=value` records of what setup and build produced.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::util::{read, write_atomic, Result};

#[derive(Default, Clone, PartialEq, Eq)]
pub struct Manifest(pub BTreeMap<String, String>);

impl Manifest {
    pub fn load(path: &Path) -> Option<Manifest> {
        let text = std::fs::read_to_string(path).ok()?;
        Some(Manifest(
            text.lines()
                .filter_map(|l| l.split_once('='))
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        ))
    }

    pub fn load_required(path: &Path, hint: &str) -> Result<Manifest> {
        if !path.exists() {
            crate::bail!("{} is missing: run `{hint}` first", path.display());
        }
        let text = read(path)?;
        Ok(Manifest(
            text.lines()
                .filter_map(|l| l.split_once('='))
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        ))
    }

    pub fn save(&self, path: &Path) -> Result<()> {
        let mut s = String::new();
        for (k, v) in &self.0 {
            s.push_str(k);
            s.push('=');
            s.push_str(v);
            s.push('\n');
        }
        write_atomic(path, s)
    }

    pub fn set(&mut self, k: &str, v: impl Into<String>) {
        self.0.insert(k.to_string(), v.into());
    }

    pub fn get(&self, k: &str) -> Result<&str> {
        self.0
            .get(k)
            .map(String::as_str)
            .ok_or_else(|| format!("`{k}` missing from a manifest: rerun setup/build"))
    }

    pub fn path(&self, k: &str) -> Result<PathBuf> {
        self.get(k).map(PathBuf::from)
    }

    /// True if every `*.path` entry still exists on disk.
    pub fn paths_exist(&self) -> bool {
        self.0
            .iter()
            .filter(|(k, _)| k.ends_with(".path"))
            .all(|(_, v)| Path::new(v).exists())
    }
}
