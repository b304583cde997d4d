//! `seam se create|list|info|retire`: stakeholder SEs (TS-0016 `<SE>`).

use std::path::PathBuf;

use clap::{Args, Subcommand};
use seam::bundle::{NodeDescriptor, SeDescriptor};
use seam::proto::{ResourceType, SeInfo};
use serde_json::json;

use crate::ctx::Ctx;
use crate::failure::{Context, Outcome};
use crate::input;

#[derive(Subcommand)]
pub enum SeCommand {
    /// Create a stakeholder SE, signed by the device issuer.
    #[command(after_help = "\
Example:
  seam se create operator --admin operator-admin.pub.pem --sign-with issuer.pem

The admin public key is the stakeholder's: only commands signed with its private key
manage the SE's credentials and grants. --allow-plaintext-import makes a development
SE that also takes credentials in the clear.")]
    Create(CreateArgs),
    /// List the SEs on this node.
    #[command(after_help = "Example:\n  seam se list")]
    List,
    /// An SE's attributes; the text output is the node descriptor a stakeholder needs for bundles.
    #[command(after_help = "\
Example:
  seam se info operator > operator.node.pem

The output names the node id, the SE instance and admin counter, and ends with the
node's key-agreement public key: give it to the stakeholder for `seam bundle create
--node-key`. `--json` prints the same as JSON, which `bundle create` also reads.")]
    Info(NameArg),
    /// Retire (delete) an SE and everything in it, signed by the device issuer.
    #[command(after_help = "Example:\n  seam se retire operator --sign-with issuer.pem")]
    Retire(RetireArgs),
}

#[derive(Args)]
pub struct CreateArgs {
    /// The SE name (1-32 of A-Z a-z 0-9 . _ -).
    se: String,
    /// The stakeholder's admin public key (SPKI PEM).
    #[arg(long, value_name = "PUB.pem")]
    admin: PathBuf,
    /// Also accept credentials in the clear (development SEs only).
    #[arg(long)]
    allow_plaintext_import: bool,
    /// The device issuer's private key (PEM), used here only to sign the command.
    #[arg(long, value_name = "ISSUER.pem")]
    sign_with: PathBuf,
}

#[derive(Args)]
pub struct NameArg {
    /// The SE name.
    se: String,
}

#[derive(Args)]
pub struct RetireArgs {
    /// The SE name.
    se: String,
    /// The device issuer's private key (PEM).
    #[arg(long, value_name = "ISSUER.pem")]
    sign_with: PathBuf,
}

pub fn run(ctx: &mut Ctx, command: SeCommand) -> Outcome {
    match command {
        SeCommand::Create(a) => create(ctx, a),
        SeCommand::List => list(ctx),
        SeCommand::Info(a) => info(ctx, &a.se),
        SeCommand::Retire(a) => retire(ctx, a),
    }
}

fn create(ctx: &mut Ctx, a: CreateArgs) -> Outcome {
    let se = input::se_name(&a.se)?;
    let admin = input::public_key(&a.admin, "--admin")?;
    let issuer = input::signing_key(&a.sign_with)?;
    ctx.client()?
        .create_se(&issuer, &se, &admin, a.allow_plaintext_import)
        .what(format!("seam se create {se}"))?;
    info(ctx, &se)
}

fn list(ctx: &mut Ctx) -> Outcome {
    let names = ctx.client()?.se_list().what("seam se list")?;
    ctx.print(names.join("\n"), json!(names));
    Ok(())
}

pub fn resource_name(t: ResourceType) -> &'static str {
    match t {
        ResourceType::SensitiveDataObject => "sensitiveDataObject",
        ResourceType::Cipher => "cipher",
        ResourceType::Signature => "signature",
        ResourceType::Hash => "hash",
        ResourceType::Rand => "rand",
        ResourceType::SecureConnection => "secureConnection",
        ResourceType::Identity => "identity",
    }
}

fn info(ctx: &mut Ctx, se: &str) -> Outcome {
    let se = input::se_name(se)?;
    let what = format!("seam se info {se}");
    let client = ctx.client()?;
    let node = client.node().what(&what)?;
    let info: SeInfo = client.se_info(&se).what(&what)?;
    let descriptor = NodeDescriptor {
        node_id: node.node_id,
        node_key: node.key_agreement,
        se: Some(SeDescriptor::from_info(&info)),
    };
    let types: Vec<&str> = info
        .supported_resource_types
        .iter()
        .map(|t| resource_name(*t))
        .collect();
    let mut text = String::from("# seam node descriptor\n");
    for (k, v) in descriptor.fields() {
        text.push_str(&format!("{k}: {v}\n"));
    }
    text.push_str(&format!(
        "m2m-se-id: {}\nse-type: {}\nsecurity-level: {}\nsupported-resource-types: {}\n\
         allow-plaintext-import: {}\nobjects: {}\n",
        info.m2m_se_id,
        info.se_type,
        info.security_level,
        types.join(","),
        info.allow_plaintext_import,
        info.objects
    ));
    let node_pem = input::pem_of(&node.key_agreement)?;
    text.push_str(&node_pem);
    let json = json!({
        "name": info.name.as_str(),
        "m2m_se_id": info.m2m_se_id.as_str(),
        "se_type": info.se_type,
        "security_level": info.security_level,
        "supported_resource_types": types,
        "admin_key": input::pem_of(&info.admin)?,
        "instance": info.instance,
        "admin_counter": info.admin_counter,
        "allow_plaintext_import": info.allow_plaintext_import,
        "objects": info.objects,
        "node_id": hex::encode(node.node_id.0),
        "node_key": node_pem,
    });
    ctx.print(text, json);
    Ok(())
}

fn retire(ctx: &mut Ctx, a: RetireArgs) -> Outcome {
    let se = input::se_name(&a.se)?;
    let issuer = input::signing_key(&a.sign_with)?;
    ctx.client()?
        .retire_se(&issuer, &se)
        .what(format!("seam se retire {se}"))?;
    ctx.print(format!("retired SE {se}"), json!({ "retired": se }));
    Ok(())
}
