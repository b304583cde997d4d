//! The node itself: `seam init`, `seam identity`, `seam keygen`.

use std::path::PathBuf;

use clap::Args;
use seam::bundle::NodeDescriptor;
use seam::CommandSigner;
use serde_json::json;

use crate::ctx::Ctx;
use crate::failure::{Context, Failure, Outcome};
use crate::input;

pub const INIT_EXAMPLE: &str = "\
Example:
  seam keygen --out issuer.pem > issuer.pub.pem
  seam init --issuer issuer.pub.pem > node.pem

The output (node id and the node's key-agreement public key, one PEM block) is
the node part of a node descriptor; `seam se info SE` prints the whole one.";

pub const IDENTITY_EXAMPLE: &str = "\
Examples:
  seam identity             # this user's caller UUID
  seam identity --uid 1000  # the UUID OP-TEE sees for uid 1000 (TEEC_LOGIN_USER)
  seam identity --gid 2000  # ... for gid 2000 (TEEC_LOGIN_GROUP)";

pub const KEYGEN_EXAMPLE: &str = "\
Example:
  seam keygen --out admin.pem > admin.pub.pem

Writes a new P-256 private key (PKCS#8 PEM, mode 0600) and prints its public key
(SPKI PEM). It never touches the Secure Environment: this is the key an issuer or
SE admin keeps on its own side to sign commands with `--sign-with`.";

#[derive(Args)]
pub struct InitArgs {
    /// The device issuer's P-256 public key (SPKI PEM): only commands it signs create or retire SEs.
    #[arg(long, value_name = "PUB.pem")]
    issuer: PathBuf,
}

pub fn init(ctx: &mut Ctx, args: InitArgs) -> Outcome {
    let issuer = input::public_key(&args.issuer, "--issuer")?;
    let client = ctx.client()?;
    let node = client.init_node(&issuer).what("seam init")?;
    let descriptor = NodeDescriptor {
        node_id: node.node_id,
        node_key: node.key_agreement,
        se: None,
    };
    let pem = input::pem_of(&node.key_agreement)?;
    ctx.print(
        descriptor.to_text()?,
        json!({
            "node_id": hex::encode(node.node_id.0),
            "node_key": pem,
            "issuer_counter": node.issuer_counter,
        }),
    );
    Ok(())
}

#[derive(Args)]
#[group(multiple = false)]
pub struct IdentityArgs {
    /// The identity of this user id (TEEC_LOGIN_USER).
    #[arg(long, value_name = "N")]
    uid: Option<u32>,
    /// The identity of this group id (TEEC_LOGIN_GROUP).
    #[arg(long, value_name = "N")]
    gid: Option<u32>,
}

pub fn identity(ctx: &mut Ctx, args: IdentityArgs) -> Outcome {
    let (id, of) = match (args.uid, args.gid) {
        (Some(uid), _) => (seam::identity::for_uid(uid), format!("uid:{uid}")),
        (_, Some(gid)) => (seam::identity::for_gid(gid), format!("gid:{gid}")),
        // SAFETY: geteuid has no preconditions and cannot fail.
        _ => (
            seam::identity::current_user(),
            format!("uid:{}", unsafe { libc::geteuid() }),
        ),
    };
    ctx.print(
        id.to_string(),
        json!({ "identity": id.to_string(), "of": of }),
    );
    Ok(())
}

#[derive(Args)]
pub struct KeygenArgs {
    /// Where to write the private key (PKCS#8 PEM, mode 0600).
    #[arg(long, value_name = "FILE.pem")]
    out: PathBuf,
    /// Replace the file if it exists.
    #[arg(long)]
    force: bool,
}

pub fn keygen(ctx: &mut Ctx, args: KeygenArgs) -> Outcome {
    let key = seam::AdminKey::generate();
    let private = zeroize::Zeroizing::new(key.to_pem()?);
    input::write_new(&args.out, private.as_bytes(), true, args.force)
        .map_err(|f: Failure| f.context("seam keygen"))?;
    let public = input::pem_of(&key.public_key())?;
    ctx.print(
        &public,
        json!({ "private_key_file": args.out.display().to_string(), "public_key": public }),
    );
    Ok(())
}
