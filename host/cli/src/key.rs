//! `seam key generate|import|public|list|delete`: credentials in an SE.

use std::path::PathBuf;

use clap::{ArgGroup, Args, Subcommand, ValueEnum};
use seam::bundle::{secret_from_hex, Material};
use seam::proto::{AdminOp, AdminOutcome, KeyAttributes, KeyRole, ObjectInfo, ObjectKind};
use serde_json::json;
use zeroize::Zeroizing;

use crate::ctx::Ctx;
use crate::failure::{Context, Failure, Outcome};
use crate::input;

#[derive(Subcommand)]
pub enum KeyCommand {
    /// Generate a P-256 key pair inside the SE; prints its public key.
    #[command(after_help = "\
Example:
  seam key generate operator/cse-key --suid 45 --sign-with operator-admin.pem > cse-key.pub.pem")]
    Generate(GenerateArgs),
    /// Import a credential, wrapped to the node's key by this tool.
    #[command(after_help = "\
Examples:
  seam key import operator/psk --suid 22 --psk-file psk.hex --sign-with admin.pem
  seam key import operator/psk --suid 22 --psk-stdin --sign-with admin.pem < psk.hex
  seam key import operator/tls --suid 42 --private-key tls.key.pem --sign-with admin.pem
  seam key import operator/token --suid 25 --data token.bin --sign-with admin.pem

The secret is sealed to the node's key-agreement key (ECDH P-256, HKDF, AES-GCM) for
exactly this SE, name, kind and SUID before it leaves this process. --psk HEX also
works, but the process list shows it to every user (seam warns). --plaintext sends
it in the clear instead, which only an SE created with --allow-plaintext-import takes.")]
    Import(ImportArgs),
    /// A key's public key (SPKI PEM).
    #[command(after_help = "Example:\n  seam key public operator/cse-key > cse-key.pub.pem")]
    Public(PathArg),
    /// The keys of an SE that this caller holds a grant on.
    #[command(after_help = "Example:\n  seam key list operator")]
    List(SeArg),
    /// Delete a key (admin-signed).
    #[command(
        after_help = "Example:\n  seam key delete operator/old-key --sign-with operator-admin.pem"
    )]
    Delete(DeleteArgs),
}

#[derive(Args)]
pub struct GenerateArgs {
    /// SE/KEY
    key: String,
    /// The key's Security Usage Identifier (e.g. 22 (D)TLS, 25 ESData signature).
    #[arg(long, value_name = "N")]
    suid: u8,
    /// The SE admin's private key (PEM), used here only to sign the command.
    #[arg(long, value_name = "ADMIN.pem")]
    sign_with: PathBuf,
}

#[derive(Args)]
#[command(group(ArgGroup::new("material").required(true).args(["psk", "psk_file", "psk_stdin", "private_key", "data"])))]
pub struct ImportArgs {
    /// SE/KEY
    key: String,
    /// The key's Security Usage Identifier.
    #[arg(long, value_name = "N")]
    suid: u8,
    /// A symmetric secret (PSK, AES or HMAC key) in hex, 16 to 64 bytes.
    /// Visible to every user in the process list: prefer --psk-file or
    /// --psk-stdin.
    #[arg(long, value_name = "HEX")]
    psk: Option<String>,
    /// The symmetric secret in hex, read from FILE (surrounding whitespace
    /// ignored).
    #[arg(long, value_name = "FILE")]
    psk_file: Option<PathBuf>,
    /// The symmetric secret in hex, read from standard input.
    #[arg(long)]
    psk_stdin: bool,
    /// A P-256 private key (PKCS#8 or SEC1 PEM).
    #[arg(long, value_name = "FILE.pem")]
    private_key: Option<PathBuf>,
    /// Opaque sensitive data from a file (at most 2048 bytes).
    #[arg(long, value_name = "FILE")]
    data: Option<PathBuf>,
    /// Send the credential in the clear (only for an SE created with --allow-plaintext-import).
    #[arg(long)]
    plaintext: bool,
    /// What the key is for, fixed for its life: operational (used directly
    /// as its SUID allows), bootstrap (a Ke: derives only, SUID use 0) or
    /// pairwise (a pairwise ESPrim key: ESPrim and derive only, SUID use 3).
    #[arg(long, value_enum, default_value = "operational")]
    role: Role,
    /// The SE admin's private key (PEM).
    #[arg(long, value_name = "ADMIN.pem")]
    sign_with: PathBuf,
}

#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum Role {
    Operational,
    Bootstrap,
    Pairwise,
}

impl From<Role> for KeyRole {
    fn from(r: Role) -> Self {
        match r {
            Role::Operational => KeyRole::Operational,
            Role::Bootstrap => KeyRole::Bootstrap,
            Role::Pairwise => KeyRole::Pairwise,
        }
    }
}

#[derive(Args)]
pub struct PathArg {
    /// SE/KEY
    key: String,
}

#[derive(Args)]
pub struct SeArg {
    /// The SE name.
    se: String,
}

#[derive(Args)]
pub struct DeleteArgs {
    /// SE/KEY
    key: String,
    /// The SE admin's private key (PEM).
    #[arg(long, value_name = "ADMIN.pem")]
    sign_with: PathBuf,
}

pub fn run(ctx: &mut Ctx, command: KeyCommand) -> Outcome {
    match command {
        KeyCommand::Generate(a) => generate(ctx, a),
        KeyCommand::Import(a) => import(ctx, a),
        KeyCommand::Public(a) => public(ctx, &a.key),
        KeyCommand::List(a) => list(ctx, &a.se),
        KeyCommand::Delete(a) => delete(ctx, a),
    }
}

fn generate(ctx: &mut Ctx, a: GenerateArgs) -> Outcome {
    let path = input::key_path(&a.key, false)?;
    let suid = input::suid(a.suid)?;
    let admin = input::signing_key(&a.sign_with)?;
    let public = ctx
        .client()?
        .generate_key_pair(&admin, &path.se, &path.key, suid)
        .what(format!("seam key generate {path}"))?;
    let pem = input::pem_of(&public)?;
    ctx.print(
        &pem,
        json!({ "key": path.to_string(), "suid": suid, "public_key": pem }),
    );
    Ok(())
}

/// The credential the import flags name.
pub fn material(
    psk: Option<&str>,
    private_key: Option<&PathBuf>,
    data: Option<&PathBuf>,
) -> Outcome<Material> {
    if let Some(hex) = psk {
        return secret_from_hex(hex)
            .map(Material::Secret)
            .map_err(|e| Failure::usage(format!("--psk: {}", input::message_of(e))));
    }
    if let Some(path) = private_key {
        let pem = Zeroizing::new(input::read_text(path, "--private-key")?);
        return Material::private_key_pem(&pem).map_err(|e| {
            Failure::usage(format!(
                "--private-key {}: {}",
                path.display(),
                input::message_of(e)
            ))
        });
    }
    if let Some(path) = data {
        let bytes = Zeroizing::new(input::read_file(path, "--data")?);
        if bytes.is_empty() || bytes.len() > seam::proto::MAX_DATA {
            return Err(Failure::usage(format!(
                "--data {}: {} bytes; sensitive data is 1 to {} bytes",
                path.display(),
                bytes.len(),
                seam::proto::MAX_DATA
            )));
        }
        return Ok(Material::Data(bytes));
    }
    Err(Failure::usage(
        "name the credential: --psk HEX, --private-key FILE.pem or --data FILE",
    ))
}

/// The PSK hex of `--psk`, `--psk-file` or `--psk-stdin`, and the flag.
fn psk_hex(a: &ImportArgs) -> Outcome<Option<(Zeroizing<String>, &'static str)>> {
    if let Some(hex) = &a.psk {
        eprintln!(
            "seam: warning: --psk puts the secret on the command line, where the process \
             list (ps, /proc/PID/cmdline) shows it to every user; use --psk-file FILE or \
             --psk-stdin"
        );
        return Ok(Some((Zeroizing::new(hex.clone()), "--psk")));
    }
    let (path, flag) = match (&a.psk_file, a.psk_stdin) {
        (Some(p), _) => (p.as_path(), "--psk-file"),
        (None, true) => (std::path::Path::new("-"), "--psk-stdin"),
        (None, false) => return Ok(None),
    };
    let bytes = Zeroizing::new(input::read_file(path, flag)?);
    let text = std::str::from_utf8(&bytes)
        .map_err(|_| Failure::usage(format!("{flag}: the PSK is not hex text")))?;
    let hex = text.trim();
    if hex.is_empty() {
        return Err(Failure::usage(format!(
            "{flag}: no PSK (expected hex, 16 to 64 bytes)"
        )));
    }
    Ok(Some((Zeroizing::new(hex.to_string()), flag)))
}

fn import(ctx: &mut Ctx, a: ImportArgs) -> Outcome {
    let path = input::key_path(&a.key, false)?;
    let suid = input::suid(a.suid)?;
    let material = match psk_hex(&a)? {
        Some((hex, flag)) => secret_from_hex(&hex)
            .map(Material::Secret)
            .map_err(|e| Failure::usage(format!("{flag}: {}", input::message_of(e))))?,
        None => material(None, a.private_key.as_ref(), a.data.as_ref())?,
    };
    let admin = input::signing_key(&a.sign_with)?;
    let what = format!("seam key import {path}");
    let attributes = KeyAttributes {
        role: a.role.into(),
        not_after: None,
    };
    let client = ctx.client()?;
    let outcomes = if a.plaintext {
        let op = AdminOp::ImportPlaintext {
            object: seam::client::name(&path.key)?,
            suid,
            kind: material.kind(),
            material: seam::proto::Data::from_slice(material.bytes())
                .map_err(|_| Failure::usage("the credential is too large"))?,
            attributes,
        };
        client.admin(&admin, &path.se, vec![op]).what(&what)?
    } else {
        client
            .import_wrapped_with(
                &admin,
                &path.se,
                &path.key,
                suid,
                material.kind(),
                material.bytes(),
                attributes,
            )
            .what(&what)?
    };
    let public = match outcomes.as_slice() {
        [AdminOutcome::PublicKey(pk)] => Some(input::pem_of(pk)?),
        _ => None,
    };
    let text = public
        .clone()
        .unwrap_or_else(|| format!("imported {path} ({})", kind_name(material.kind())));
    ctx.print(
        text,
        json!({
            "key": path.to_string(),
            "suid": suid,
            "kind": kind_name(material.kind()),
            "wrapped": !a.plaintext,
            "public_key": public,
        }),
    );
    Ok(())
}

pub fn kind_name(kind: ObjectKind) -> &'static str {
    match kind {
        ObjectKind::Secret => "secret",
        ObjectKind::EcP256 => "ec-p256",
        ObjectKind::Data => "data",
        ObjectKind::PublicKey => "public-key",
    }
}

fn public(ctx: &mut Ctx, key: &str) -> Outcome {
    let path = input::key_path(key, false)?;
    let info = ctx
        .client()?
        .object_info(&path.se, &path.key)
        .what(format!("seam key public {path}"))?;
    let public = info.public_key.ok_or_else(|| {
        Failure::usage(format!(
            "seam key public {path}: the key is a {}, which has no public key",
            kind_name(info.kind)
        ))
    })?;
    let pem = input::pem_of(&public)?;
    ctx.print(&pem, json!({ "key": path.to_string(), "public_key": pem }));
    Ok(())
}

fn object_json(se: &str, o: &ObjectInfo) -> Outcome<serde_json::Value> {
    Ok(json!({
        "key": format!("{se}/{}", o.name),
        "kind": kind_name(o.kind),
        "suid": o.suid,
        "size": o.size,
        "public_key": o.public_key.as_ref().map(input::pem_of).transpose()?,
        "creator": o.creator.map(|c| c.to_string()),
    }))
}

fn list(ctx: &mut Ctx, se: &str) -> Outcome {
    let se = input::se_name(se)?;
    let objects = ctx
        .client()?
        .object_list(&se)
        .what(format!("seam key list {se}"))?;
    let mut text = String::new();
    for o in &objects {
        text.push_str(&format!(
            "{se}/{}\t{}\tsuid {}\t{} bytes\n",
            o.name,
            kind_name(o.kind),
            seam::proto::suid::or_zero::to_u8(o.suid),
            o.size
        ));
    }
    let json = objects
        .iter()
        .map(|o| object_json(&se, o))
        .collect::<Outcome<Vec<_>>>()?;
    ctx.print(text, json!(json));
    Ok(())
}

fn delete(ctx: &mut Ctx, a: DeleteArgs) -> Outcome {
    let path = input::key_path(&a.key, false)?;
    let admin = input::signing_key(&a.sign_with)?;
    let op = AdminOp::Delete {
        object: seam::client::name(&path.key)?,
    };
    ctx.client()?
        .admin(&admin, &path.se, vec![op])
        .what(format!("seam key delete {path}"))?;
    ctx.print(
        format!("deleted {path}"),
        json!({ "deleted": path.to_string() }),
    );
    Ok(())
}
