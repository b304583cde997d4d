//! `seam acl grant|revoke|show`: who may use a credential, for what, under which SUID.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use seam::proto::suid::or_zero as suid;
use seam::proto::{AclEntry, AdminOp, Suid};
use serde_json::json;

use crate::ctx::Ctx;
use crate::failure::{Context, Outcome};
use crate::input;

#[derive(Subcommand)]
pub enum AclCommand {
    /// Let a caller use a key for some operations under its SUID (admin-signed).
    #[command(after_help = "\
Examples:
  seam acl grant operator/cse-key --to uid:1000 --ops sign,verify --suid 45 --sign-with admin.pem
  seam acl grant operator/'*' --to gid:2000 --ops create --suid 0 --sign-with admin.pem

--to is uid:N, gid:N or a caller UUID (see `seam identity`). OP is one of retrieve,
update, delete, sign, verify, encrypt, decrypt, mac, derive, handshake (and create,
for SE/*). SE/* grants on every key of the SE with that SUID.")]
    Grant(GrantArgs),
    /// Remove a caller's entry from a key's ACL (admin-signed).
    #[command(after_help = "\
Example:
  seam acl revoke operator/cse-key --to uid:1000 --sign-with admin.pem")]
    Revoke(RevokeArgs),
    /// A key's ACL (to a caller that holds a grant on it).
    #[command(after_help = "Example:\n  seam acl show operator/cse-key")]
    Show(ShowArgs),
}

#[derive(Args)]
pub struct GrantArgs {
    /// SE/KEY, or SE/* for every key of the SE.
    key: String,
    /// The caller: uid:N, gid:N or a UUID.
    #[arg(long, value_name = "uid:N|gid:N|UUID")]
    to: String,
    /// Operations, comma-separated.
    #[arg(long, value_name = "OP,…")]
    ops: String,
    /// The SUID the caller must use the key under (the key's own SUID).
    #[arg(long, value_name = "N")]
    suid: u8,
    /// The SE admin's private key (PEM).
    #[arg(long, value_name = "ADMIN.pem")]
    sign_with: PathBuf,
}

#[derive(Args)]
pub struct RevokeArgs {
    /// SE/KEY, or SE/*.
    key: String,
    /// The caller: uid:N, gid:N or a UUID.
    #[arg(long, value_name = "uid:N|gid:N|UUID")]
    to: String,
    /// The SE admin's private key (PEM).
    #[arg(long, value_name = "ADMIN.pem")]
    sign_with: PathBuf,
}

#[derive(Args)]
pub struct ShowArgs {
    /// SE/KEY
    key: String,
}

pub fn run(ctx: &mut Ctx, command: AclCommand) -> Outcome {
    match command {
        AclCommand::Grant(a) => grant(ctx, a),
        AclCommand::Revoke(a) => revoke(ctx, a),
        AclCommand::Show(a) => show(ctx, &a.key),
    }
}

/// A grant's SUID: a key SUID, or none (`--suid 0`) for a `*` entry that
/// grants only `create`.
fn grant_suid(path: &input::KeyPath, ops: seam::Ops, suid: u8) -> Outcome<Option<Suid>> {
    if path.key == "*" && ops == seam::Ops::CREATE && suid == 0 {
        return Ok(None);
    }
    input::suid(suid).map(Some)
}

fn grant(ctx: &mut Ctx, a: GrantArgs) -> Outcome {
    let path = input::key_path(&a.key, true)?;
    let grantee = input::grantee(&a.to)?;
    let ops = input::ops(&a.ops)?;
    let suid = grant_suid(&path, ops, a.suid)?;
    let admin = input::signing_key(&a.sign_with)?;
    let entry = AclEntry { grantee, ops, suid };
    let suid = suid::to_u8(suid);
    ctx.client()?
        .grant(&admin, &path.se, &path.key, entry)
        .what(format!("seam acl grant {path}"))?;
    let names = input::ops_names(ops);
    ctx.print(
        format!(
            "granted {} on {path} to {} ({grantee}) under SUID {suid}",
            names.join(","),
            a.to
        ),
        json!({ "key": path.to_string(), "grantee": grantee.to_string(), "ops": names, "suid": suid }),
    );
    Ok(())
}

fn revoke(ctx: &mut Ctx, a: RevokeArgs) -> Outcome {
    let path = input::key_path(&a.key, true)?;
    let grantee = input::grantee(&a.to)?;
    let admin = input::signing_key(&a.sign_with)?;
    let op = AdminOp::Revoke {
        object: seam::client::grant_target(&path.key)?,
        grantee,
    };
    ctx.client()?
        .admin(&admin, &path.se, vec![op])
        .what(format!("seam acl revoke {path}"))?;
    ctx.print(
        format!("revoked {} ({grantee}) on {path}", a.to),
        json!({ "key": path.to_string(), "revoked": grantee.to_string() }),
    );
    Ok(())
}

fn show(ctx: &mut Ctx, key: &str) -> Outcome {
    let path = input::key_path(key, false)?;
    let entries = ctx
        .client()?
        .acl_show(&path.se, &path.key)
        .what(format!("seam acl show {path}"))?;
    let mut text = String::new();
    let mut json = Vec::new();
    for e in &entries {
        let names = input::ops_names(e.ops);
        text.push_str(&format!(
            "{}\t{}\tsuid {}\n",
            e.grantee,
            names.join(","),
            suid::to_u8(e.suid)
        ));
        json.push(
            json!({ "grantee": e.grantee.to_string(), "ops": names, "suid": suid::to_u8(e.suid) }),
        );
    }
    ctx.print(text, json!(json));
    Ok(())
}
