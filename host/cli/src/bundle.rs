//! `seam bundle create|apply|show`: offline provisioning (docs/provisioning.md).

use std::path::PathBuf;

use clap::{Args, Subcommand};
use seam::bundle::{time_counter, Bundle, BundleGrant, BundleKey, NodeDescriptor, SeDescriptor};
use seam::proto::suid::or_zero as suid;
use seam::proto::{AclEntry, AdminOp, AdminOutcome, KeyRole, Reason};
use serde_json::json;

use crate::ctx::Ctx;
use crate::failure::{Context, Failure, Outcome};
use crate::input;
use crate::key::{kind_name, material, Role};

#[derive(Subcommand)]
pub enum BundleCommand {
    /// Make a signed provisioning bundle on the stakeholder's machine (no TEE needed).
    #[command(after_help = "\
Example:
  seam bundle create --node-key operator.node.pem --se operator --sign-with admin.pem \\
      --key tls-psk:22:psk:00112233445566778899aabbccddeeff \\
      --key cse-key:25:private-key:cse.key.pem \\
      --grant cse-key:uid:1000:sign,verify:25 --out operator.bundle

--node-key is the node descriptor: the output of `seam se info SE` (or its --json) on
the device. --key is NAME:SUID:psk:HEX, NAME:SUID:private-key:FILE or NAME:SUID:data:FILE;
each is sealed to the node key for that SE, name, kind and SUID; --key-role NAME:ROLE
gives one a role other than operational (bootstrap, pairwise). --grant is
KEY:GRANTEE:OPS:SUID with GRANTEE uid:N, gid:N or a UUID (KEY may be *). A bundle is
one admin command, applied all or nothing: at most 4 keys and grants together.
--counter defaults to `time` (Unix microseconds, above the descriptor's counter).")]
    Create(CreateArgs),
    /// Relay a bundle into the SE on this device.
    #[command(after_help = "\
Example:
  seam bundle apply operator.bundle

The device cannot read the wrapped keys nor alter the command: the SE checks the
admin signature over its own node id, SE instance and counter, so a changed byte, a
bundle for another node or SE, and a bundle applied before are all refused, and a
refused bundle changes nothing.")]
    Apply(ApplyArgs),
    /// Show what a bundle contains (names, kinds, SUIDs, grants; never a secret).
    #[command(after_help = "Example:\n  seam bundle show operator.bundle")]
    Show(ApplyArgs),
}

#[derive(Args)]
pub struct CreateArgs {
    /// The node descriptor (`seam se info SE` output, text or --json).
    #[arg(long, value_name = "NODE.pem")]
    node_key: PathBuf,
    /// The SE the bundle is for.
    #[arg(long, value_name = "SE")]
    se: String,
    /// The SE admin's private key (PEM).
    #[arg(long, value_name = "ADMIN.pem")]
    sign_with: PathBuf,
    /// A credential: NAME:SUID:psk:HEX, NAME:SUID:private-key:FILE, NAME:SUID:data:FILE,
    /// or a public key to trust (a token issuer's, a peer's): NAME:SUID:public-key:FILE.pem.
    #[arg(long = "key", value_name = "NAME:SUID:KIND:VALUE")]
    keys: Vec<String>,
    /// The role of a --key of this bundle: NAME:operational (the default),
    /// NAME:bootstrap (a Ke: derives only) or NAME:pairwise (a pairwise
    /// ESPrim key: ESPrim and derive only), as `seam key import --role`.
    #[arg(long = "key-role", value_name = "NAME:ROLE")]
    key_roles: Vec<String>,
    /// A grant: KEY:GRANTEE:OPS:SUID, e.g. cse-key:uid:1000:sign,verify:25.
    #[arg(long = "grant", value_name = "KEY:GRANTEE:OPS:SUID")]
    grants: Vec<String>,
    /// The command counter: a number, `next` (descriptor counter + 1) or `time` (default).
    #[arg(long, value_name = "N|next|time", default_value = "time")]
    counter: String,
    /// Where to write the bundle.
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
    /// Replace the output file if it exists.
    #[arg(long)]
    force: bool,
}

#[derive(Args)]
pub struct ApplyArgs {
    /// The bundle file.
    #[arg(value_name = "FILE")]
    file: PathBuf,
}

pub fn run(ctx: &mut Ctx, command: BundleCommand) -> Outcome {
    match command {
        BundleCommand::Create(a) => create(ctx, a),
        BundleCommand::Apply(a) => apply(ctx, a),
        BundleCommand::Show(a) => show(ctx, a),
    }
}

/// A descriptor file: the text form, or `seam se info --json` output.
fn read_descriptor(path: &std::path::Path) -> Outcome<NodeDescriptor> {
    let text = input::read_text(path, "--node-key")?;
    let bad = |m: String| Failure::usage(format!("--node-key {}: {m}", path.display()));
    if !text.trim_start().starts_with('{') {
        return NodeDescriptor::parse(&text).map_err(|e| bad(input::message_of(e)));
    }
    let v: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| bad(format!("not JSON: {e}")))?;
    let field = |k: &str| -> Outcome<&serde_json::Value> {
        v.get(k).ok_or_else(|| {
            bad(format!(
                "the JSON has no `{k}` (expected `seam se info SE --json`)"
            ))
        })
    };
    let text_of = |k: &str| -> Outcome<String> {
        field(k)?
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| bad(format!("`{k}` is not a string")))
    };
    let number = |k: &str| -> Outcome<u64> {
        field(k)?
            .as_u64()
            .ok_or_else(|| bad(format!("`{k}` is not a number")))
    };
    // Reuse the text parser for the node part, so both forms are checked alike.
    let node = NodeDescriptor::parse(&format!(
        "node-id: {}\n{}",
        text_of("node_id")?,
        text_of("node_key")?
    ))
    .map_err(|e| bad(input::message_of(e)))?;
    let admin = seam::signer::public_key_from_pem(&text_of("admin_key")?)
        .map_err(|e| bad(format!("admin_key: {}", input::message_of(e))))?;
    Ok(NodeDescriptor {
        se: Some(SeDescriptor {
            name: text_of("name")?,
            instance: number("instance")?,
            admin_counter: number("admin_counter")?,
            admin: Some(admin),
        }),
        ..node
    })
}

/// `NAME:SUID:psk:HEX`, `NAME:SUID:private-key:FILE`, `NAME:SUID:data:FILE`.
fn parse_key(spec: &str) -> Outcome<BundleKey> {
    parse_key_inner(spec).map_err(|f| {
        f.hint(
            "--key is NAME:SUID:psk:HEX, NAME:SUID:private-key:FILE, NAME:SUID:data:FILE \
             or NAME:SUID:public-key:FILE.pem",
        )
    })
}

fn parse_key_inner(spec: &str) -> Outcome<BundleKey> {
    let usage = || Failure::usage(format!("--key `{spec}`: not four `:`-separated fields"));
    let mut parts = spec.splitn(4, ':');
    let (Some(name), Some(suid), Some(kind), Some(value)) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(usage());
    };
    input::check_name("key", name).map_err(|f| f.context(format!("--key `{name}:…`")))?;
    let suid = suid
        .parse::<u8>()
        .map_err(|_| Failure::usage(format!("--key {name}: SUID `{suid}` is not a number")))
        .and_then(input::suid)
        .map_err(|f| f.context(format!("--key {name}")))?;
    let path = PathBuf::from(value);
    let material = match kind {
        "psk" => material(Some(value), None, None),
        "private-key" => material(None, Some(&path), None),
        "data" => material(None, None, Some(&path)),
        // A key to trust (a token issuer's, an ECDH-ES recipient's): imported
        // as it is, the bundle's admin signature being the trust decision.
        "public-key" => input::public_key(&path, "--key").map(seam::bundle::Material::PublicKey),
        other => {
            return Err(Failure::usage(format!(
                "--key {name}: unknown kind `{other}` (psk, private-key, data or public-key)"
            )))
        }
    }
    .map_err(|f| f.context(format!("--key {name}")))?;
    Ok(BundleKey {
        name: name.to_string(),
        suid,
        material,
        attributes: Default::default(),
    })
}

/// Applies each `--key-role NAME:ROLE` to the `--key` named NAME.
fn set_roles(keys: &mut [BundleKey], specs: &[String]) -> Outcome {
    let mut seen = Vec::new();
    for spec in specs {
        let (name, role) = spec.split_once(':').ok_or_else(|| {
            Failure::usage(format!(
                "--key-role `{spec}`: expected NAME:ROLE (operational, bootstrap or pairwise)"
            ))
        })?;
        let role = <Role as clap::ValueEnum>::from_str(role, false).map_err(|_| {
            Failure::usage(format!(
                "--key-role {name}: unknown role `{role}` (operational, bootstrap or pairwise)"
            ))
        })?;
        if seen.contains(&name) {
            return Err(Failure::usage(format!("--key-role {name}: given twice")));
        }
        seen.push(name);
        let key = keys.iter_mut().find(|k| k.name == name).ok_or_else(|| {
            Failure::usage(format!(
                "--key-role {name}: this bundle has no --key {name}"
            ))
        })?;
        key.attributes.role = role.into();
    }
    Ok(())
}

/// `KEY:GRANTEE:OPS:SUID`, the grantee itself being `uid:N`, `gid:N` or a UUID.
fn parse_grant(spec: &str) -> Outcome<BundleGrant> {
    parse_grant_inner(spec).map_err(|f| {
        f.hint("--grant is KEY:GRANTEE:OPS:SUID, e.g. cse-key:uid:1000:sign,verify:25")
    })
}

fn parse_grant_inner(spec: &str) -> Outcome<BundleGrant> {
    let usage = || Failure::usage(format!("--grant `{spec}`: not four `:`-separated fields"));
    let mut back = spec.rsplitn(3, ':');
    let (Some(suid), Some(ops), Some(front)) = (back.next(), back.next(), back.next()) else {
        return Err(usage());
    };
    let (object, grantee) = front.split_once(':').ok_or_else(usage)?;
    if object != "*" {
        input::check_name("key", object)?;
    }
    let grantee = input::grantee(grantee).map_err(|f| f.context(format!("--grant {object}")))?;
    let ops = input::ops(ops).map_err(|f| f.context(format!("--grant {object}")))?;
    let suid: u8 = suid
        .parse()
        .map_err(|_| Failure::usage(format!("--grant {object}: SUID `{suid}` is not a number")))?;
    let suid = if object == "*" && ops == seam::Ops::CREATE && suid == 0 {
        None
    } else {
        Some(input::suid(suid).map_err(|f| f.context(format!("--grant {object}")))?)
    };
    Ok(BundleGrant {
        object: object.to_string(),
        entry: AclEntry { grantee, ops, suid },
    })
}

fn create(ctx: &mut Ctx, a: CreateArgs) -> Outcome {
    let se = input::se_name(&a.se)?;
    let node = read_descriptor(&a.node_key)?;
    let admin = input::signing_key(&a.sign_with)?;
    let mut keys = a
        .keys
        .iter()
        .map(|k| parse_key(k))
        .collect::<Outcome<Vec<_>>>()?;
    set_roles(&mut keys, &a.key_roles)?;
    let grants = a
        .grants
        .iter()
        .map(|g| parse_grant(g))
        .collect::<Outcome<Vec<_>>>()?;
    let last = node.se.as_ref().map(|s| s.admin_counter).unwrap_or(0);
    let counter = match a.counter.as_str() {
        "time" => time_counter(last + 1),
        "next" => last + 1,
        n => n.parse().map_err(|_| {
            Failure::usage(format!(
                "--counter `{n}`: expected a number, `next` or `time`"
            ))
        })?,
    };
    let bundle =
        Bundle::create(&admin, &node, &se, counter, &keys, &grants).what("seam bundle create")?;
    let bytes = bundle.to_bytes()?;
    input::write_new(&a.out, &bytes, false, a.force)?;
    ctx.print(
        format!(
            "wrote {}: {} operation(s) for SE {se} on node {}, counter {counter}",
            a.out.display(),
            bundle.command.ops.len(),
            hex::encode(bundle.node_id.0)
        ),
        json!({
            "out": a.out.display().to_string(),
            "se": se,
            "node_id": hex::encode(bundle.node_id.0),
            "se_instance": bundle.se_instance,
            "counter": counter,
            "operations": bundle.command.ops.len(),
        }),
    );
    Ok(())
}

fn read_bundle(path: &std::path::Path) -> Outcome<Bundle> {
    let bytes = input::read_file(path, "bundle")?;
    Bundle::from_bytes(&bytes)
        .map_err(|e| Failure::usage(format!("{}: {}", path.display(), input::message_of(e))))
}

fn apply(ctx: &mut Ctx, a: ApplyArgs) -> Outcome {
    let bundle = read_bundle(&a.file)?;
    let what = format!("seam bundle apply {}", a.file.display());
    let outcomes = bundle.apply(ctx.client()?).map_err(|e| {
        let replay = e.reason() == Some(Reason::StaleCounter);
        let f = Failure::from(e).context(&what);
        if replay {
            f.hint("this bundle was applied before, or a later command has been")
        } else {
            f
        }
    })?;
    let mut text = format!(
        "applied {} operation(s) to SE {} (counter {})\n",
        outcomes.len(),
        bundle.se(),
        bundle.command.counter
    );
    let mut keys = Vec::new();
    for (op, outcome) in bundle.command.ops.iter().zip(&outcomes) {
        if let (AdminOp::Import { object, .. }, AdminOutcome::PublicKey(pk)) = (op, outcome) {
            let pem = input::pem_of(pk)?;
            text.push_str(&format!("{}/{object}:\n{pem}", bundle.se()));
            keys.push(json!({ "key": format!("{}/{object}", bundle.se()), "public_key": pem }));
        }
    }
    ctx.print(
        text,
        json!({
            "se": bundle.se(),
            "counter": bundle.command.counter,
            "operations": outcomes.len(),
            "public_keys": keys,
        }),
    );
    Ok(())
}

fn role_name(role: KeyRole) -> &'static str {
    match role {
        KeyRole::Operational => "operational",
        KeyRole::Bootstrap => "bootstrap",
        KeyRole::Pairwise => "pairwise",
    }
}

fn show(ctx: &mut Ctx, a: ApplyArgs) -> Outcome {
    let bundle = read_bundle(&a.file)?;
    let mut text = format!(
        "node-id: {}\nse: {}\nse-instance: {}\ncounter: {}\n",
        hex::encode(bundle.node_id.0),
        bundle.se(),
        bundle.se_instance,
        bundle.command.counter
    );
    let mut ops = Vec::new();
    for op in &bundle.command.ops {
        let (line, value) = match op {
            AdminOp::Import {
                object,
                suid,
                kind,
                attributes,
                ..
            } => (
                format!(
                    "import {object} ({}, suid {suid}, {}wrapped)",
                    kind_name(*kind),
                    // Named when it is not the default, so the operational
                    // line reads as before.
                    match attributes.role {
                        KeyRole::Operational => String::new(),
                        role => format!("{} role, ", role_name(role)),
                    }
                ),
                json!({ "import": object.as_str(), "kind": kind_name(*kind), "suid": suid,
                        "role": role_name(attributes.role) }),
            ),
            AdminOp::Grant { object, entry } => {
                let names = input::ops_names(entry.ops);
                (
                    format!(
                        "grant {object} to {}: {} (suid {})",
                        entry.grantee,
                        names.join(","),
                        suid::to_u8(entry.suid)
                    ),
                    json!({ "grant": object.as_str(), "grantee": entry.grantee.to_string(),
                            "ops": names, "suid": suid::to_u8(entry.suid) }),
                )
            }
            AdminOp::ImportPlaintext {
                object, suid, kind, ..
            } => (
                format!(
                    "import {object} ({}, suid {suid}, IN THE CLEAR)",
                    kind_name(*kind)
                ),
                json!({ "import_plaintext": object.as_str(), "kind": kind_name(*kind), "suid": suid }),
            ),
            AdminOp::GenerateKeyPair { object, suid, .. } => (
                format!("generate {object} (ec-p256, suid {suid})"),
                json!({ "generate": object.as_str(), "suid": suid }),
            ),
            AdminOp::GenerateSecret {
                object, suid, len, ..
            } => (
                format!("generate {object} (secret of {len} bytes, suid {suid})"),
                json!({ "generate_secret": object.as_str(), "suid": suid, "len": len }),
            ),
            AdminOp::Delete { object } => (
                format!("delete {object}"),
                json!({ "delete": object.as_str() }),
            ),
            AdminOp::ImportPublicKey {
                object, suid, key, ..
            } => (
                format!("import {object} (public-key, suid {suid}, trusted)"),
                json!({ "import_public_key": object.as_str(), "suid": suid,
                        "public_key": hex::encode(key.0) }),
            ),
            AdminOp::Revoke { object, grantee } => (
                format!("revoke {object} from {grantee}"),
                json!({ "revoke": object.as_str(), "grantee": grantee.to_string() }),
            ),
        };
        text.push_str(&format!("op: {line}\n"));
        ops.push(value);
    }
    ctx.print(
        text,
        json!({
            "node_id": hex::encode(bundle.node_id.0),
            "se": bundle.se(),
            "se_instance": bundle.se_instance,
            "counter": bundle.command.counter,
            "operations": ops,
        }),
    );
    Ok(())
}
