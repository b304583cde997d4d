//! Reading what the user gave: `SE/KEY` names, SUIDs, operation lists,
//! grantees, files and keys, each with an error that names the problem.

use std::io::Read;
use std::path::Path;

use seam::proto::{ClientId, KeyRef, Name, Ops, PublicKey, Suid};
use seam::AdminKey;

use crate::failure::{Failure, Outcome};

/// An `SE/KEY` argument.
#[derive(Clone, Debug)]
pub struct KeyPath {
    pub se: String,
    pub key: String,
}

impl KeyPath {
    pub fn key_ref(&self, suid: Suid) -> Outcome<KeyRef> {
        Ok(KeyRef {
            se: seam::client::name(&self.se)?,
            key: seam::client::name(&self.key)?,
            suid,
        })
    }
}

impl std::fmt::Display for KeyPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.se, self.key)
    }
}

/// Check a name with the SE's own rule (`seam_proto::Name`), so a bad one
/// fails here with a message naming what is wrong.
pub fn check_name(what: &str, name: &str) -> Outcome<()> {
    Name::check(name).map_err(|e| Failure::usage(format!("invalid {what} name `{name}`: {e}")))
}

/// Parse `SE/KEY`; `wildcard` allows `SE/*` (a grant on every key of the SE).
pub fn key_path(text: &str, wildcard: bool) -> Outcome<KeyPath> {
    let Some((se, key)) = text.split_once('/') else {
        return Err(Failure::usage(format!(
            "`{text}` is not SE/KEY: name the SE and the key, separated by `/` \
             (e.g. operator/cse-key)"
        )));
    };
    if key.contains('/') {
        return Err(Failure::usage(format!(
            "`{text}` is not SE/KEY: it has more than one `/`"
        )));
    }
    check_name("SE", se)?;
    if !(wildcard && key == "*") {
        check_name("key", key)?;
    }
    Ok(KeyPath {
        se: se.to_string(),
        key: key.to_string(),
    })
}

pub fn se_name(text: &str) -> Outcome<String> {
    check_name("SE", text)?;
    Ok(text.to_string())
}

/// A TS-0004 Security Usage Identifier, by the SE's own rule (`Suid`).
pub fn suid(value: u8) -> Outcome<Suid> {
    Suid::new(value).map_err(|e| Failure::usage(format!("--suid {value} is not a SUID: {e}")))
}

/// `sign,verify,…` as an operation set.
pub fn ops(text: &str) -> Outcome<Ops> {
    let mut ops = Ops(0);
    for word in text.split(',').map(str::trim).filter(|w| !w.is_empty()) {
        let found = Ops::NAMES
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(word))
            .ok_or_else(|| {
                let names: Vec<&str> = Ops::NAMES.iter().map(|(n, _)| *n).collect();
                Failure::usage(format!(
                    "--ops: unknown operation `{word}`; the operations are {}",
                    names.join(", ")
                ))
            })?;
        ops = ops.union(found.1);
    }
    if ops.0 == 0 {
        return Err(Failure::usage("--ops: name at least one operation"));
    }
    Ok(ops)
}

pub fn ops_names(ops: seam::Ops) -> Vec<&'static str> {
    Ops::NAMES
        .iter()
        .filter(|(_, o)| ops.contains(*o))
        .map(|(n, _)| *n)
        .collect()
}

/// `uid:N`, `gid:N` or a UUID.
pub fn grantee(text: &str) -> Outcome<ClientId> {
    seam::identity::parse_grantee(text).map_err(|e| Failure::usage(format!("--to {e}")))
}

/// A file's bytes; `-` reads standard input.
pub fn read_file(path: &Path, what: &str) -> Outcome<Vec<u8>> {
    if path == Path::new("-") {
        let mut out = Vec::new();
        std::io::stdin()
            .read_to_end(&mut out)
            .map_err(|e| Failure::usage(format!("reading {what} from standard input: {e}")))?;
        return Ok(out);
    }
    std::fs::read(path)
        .map_err(|e| Failure::usage(format!("reading {what} {}: {e}", path.display())))
}

pub fn read_text(path: &Path, what: &str) -> Outcome<String> {
    let bytes = read_file(path, what)?;
    String::from_utf8(bytes).map_err(|_| {
        Failure::usage(format!(
            "{what} {} is not text (expected PEM)",
            path.display()
        ))
    })
}

/// A signing key (`--sign-with`): a P-256 private key, PKCS#8 or SEC1 PEM.
pub fn signing_key(path: &Path) -> Outcome<AdminKey> {
    let pem = zeroize::Zeroizing::new(read_text(path, "--sign-with key")?);
    AdminKey::from_pem(&pem)
        .map_err(|e| Failure::usage(format!("--sign-with {}: {}", path.display(), message_of(e))))
}

/// A public key (SPKI PEM, `BEGIN PUBLIC KEY`).
pub fn public_key(path: &Path, flag: &str) -> Outcome<PublicKey> {
    let pem = read_text(path, flag)?;
    seam::signer::public_key_from_pem(&pem)
        .map_err(|e| Failure::usage(format!("{flag} {}: {}", path.display(), message_of(e))))
}

pub fn pem_of(key: &PublicKey) -> Outcome<String> {
    Ok(seam::signer::public_key_to_pem(key)?)
}

/// The message of a library error without its "invalid input:" prefix.
pub fn message_of(e: seam::Error) -> String {
    match e {
        seam::Error::InvalidInput(m) => m,
        other => other.to_string(),
    }
}

/// Write a file, refusing to replace one unless `force`.
pub fn write_new(path: &Path, bytes: &[u8], private: bool, force: bool) -> Outcome<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut options = std::fs::OpenOptions::new();
    options
        .write(true)
        .mode(if private { 0o600 } else { 0o644 });
    if force {
        options.create(true).truncate(true);
    } else {
        options.create_new(true);
    }
    let mut file = options.open(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            Failure::usage(format!(
                "{} exists already (pass --force to replace it)",
                path.display()
            ))
        } else {
            Failure::usage(format!("creating {}: {e}", path.display()))
        }
    })?;
    file.write_all(bytes)
        .map_err(|e| Failure::usage(format!("writing {}: {e}", path.display())))
}

/// Write output bytes to a file (replacing it) or, for `-`, standard output.
/// A new file is created 0600: what the functions write (signatures today,
/// decrypted or retrieved data tomorrow) is the caller's alone.
pub fn write_out(path: &Path, bytes: &[u8]) -> Outcome<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    if path == Path::new("-") {
        let mut out = std::io::stdout().lock();
        return out
            .write_all(bytes)
            .and_then(|_| out.flush())
            .map_err(|e| Failure::usage(format!("writing to standard output: {e}")));
    }
    std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .and_then(|mut f| f.write_all(bytes))
        .map_err(|e| Failure::usage(format!("writing {}: {e}", path.display())))
}
