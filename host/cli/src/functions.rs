//! `seam sign|verify|hash|rand`: the TS-0016 `<signature>`, `<hash>` and
//! `<rand>` resources.

use std::io::IsTerminal;
use std::path::PathBuf;

use clap::Args;
use p256::ecdsa::Signature as EcdsaSignature;
use seam::proto::{Digest, Op, Reply, SignInput, Signature, Suid, MAX_DATA, MAX_RANDOM};
use serde_json::json;
use sha2::{Digest as _, Sha256};

use crate::ctx::Ctx;
use crate::failure::{Context, Failure, Outcome};
use crate::input::{self, KeyPath};

pub const SIGN_EXAMPLE: &str = "\
Example:
  seam sign operator/cse-key --in request.json --out request.sig
  openssl dgst -sha256 -verify cse-key.pub.pem -signature request.sig request.json

ECDSA P-256 with SHA-256: the file is hashed here and the digest signed inside the
SE, so files of any size can be signed. The signature is DER (what openssl and most
TLS stacks use); without --out it goes to standard output (as hex on a terminal).
--suid defaults to the key's own SUID.";

pub const VERIFY_EXAMPLE: &str = "\
Example:
  seam verify operator/cse-key --in request.json --sig request.sig

Exits 0 when the signature verifies and 1 when it does not. --sig takes DER (or the
raw 64-byte r||s form). --suid defaults to the key's own SUID.";

pub const HASH_EXAMPLE: &str = "\
Example:
  seam hash --in message.bin

The SE's <hash> resource computes SHA-256 of at most 2048 bytes (one request).";

pub const RAND_EXAMPLE: &str = "\
Example:
  seam rand 32

Prints N (1 to 1024) random bytes from the SE's generator as hex.";

#[derive(Args)]
pub struct SignArgs {
    /// SE/KEY
    key: String,
    /// The file to sign (`-` for standard input).
    #[arg(long = "in", value_name = "FILE")]
    input: PathBuf,
    /// Where to write the DER signature (default: standard output).
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// The SUID to use the key under (default: the key's own, looked up).
    #[arg(long, value_name = "N")]
    suid: Option<u8>,
}

#[derive(Args)]
pub struct VerifyArgs {
    /// SE/KEY
    key: String,
    /// The signed file (`-` for standard input).
    #[arg(long = "in", value_name = "FILE")]
    input: PathBuf,
    /// The signature (DER, or raw r||s).
    #[arg(long, value_name = "FILE")]
    sig: PathBuf,
    /// The SUID to use the key under (default: the key's own, looked up).
    #[arg(long, value_name = "N")]
    suid: Option<u8>,
}

#[derive(Args)]
pub struct HashArgs {
    /// The file to hash (`-` for standard input).
    #[arg(long = "in", value_name = "FILE")]
    input: PathBuf,
}

#[derive(Args)]
pub struct RandArgs {
    /// How many bytes (1 to 1024).
    #[arg(value_name = "N")]
    n: usize,
}

/// The key's SUID: given, or looked up from the key's attributes.
pub(crate) fn key_suid(
    ctx: &mut Ctx,
    path: &KeyPath,
    given: Option<u8>,
    what: &str,
) -> Outcome<Suid> {
    match given {
        Some(s) => input::suid(s),
        None => ctx
            .client()?
            .object_info(&path.se, &path.key)
            .what(format!(
                "{what}: looking up the key's SUID (or pass --suid)"
            ))?
            .suid
            .ok_or_else(|| Failure::usage(format!("{what}: {path} is not a key (it has no SUID)"))),
    }
}

pub fn sign(ctx: &mut Ctx, a: SignArgs) -> Outcome {
    let path = input::key_path(&a.key, false)?;
    let what = format!("seam sign {path}");
    let message = input::read_file(&a.input, "--in")?;
    let digest: [u8; 32] = Sha256::digest(&message).into();
    let suid = key_suid(ctx, &path, a.suid, &what)?;
    let key = path.key_ref(suid)?;
    let raw = ctx.client()?.sign_digest(&key, &digest).what(&what)?;
    let der = EcdsaSignature::from_slice(raw.as_bytes())
        .map_err(|_| Failure::usage(format!("{what}: the SE returned an invalid signature")))?
        .to_der();
    let der = der.as_bytes();
    if ctx.json {
        if let Some(out) = &a.out {
            input::write_out(out, der)?;
        }
        ctx.print(
            "",
            json!({
                "key": path.to_string(),
                "suid": suid,
                "signature_der": hex::encode(der),
                "signature_rs": hex::encode(raw.0),
                "out": a.out.as_ref().map(|p| p.display().to_string()),
            }),
        );
        return Ok(());
    }
    match &a.out {
        Some(out) => input::write_out(out, der),
        None if std::io::stdout().is_terminal() => {
            println!("{}", hex::encode(der));
            eprintln!("seam: (the DER signature as hex; redirect or use --out for the bytes)");
            Ok(())
        }
        None => input::write_out(std::path::Path::new("-"), der),
    }
}

/// A signature file: DER, or the raw 64-byte `r ‖ s`.
fn read_signature(path: &std::path::Path) -> Outcome<Signature> {
    let bytes = input::read_file(path, "--sig")?;
    if let Ok(sig) = EcdsaSignature::from_der(&bytes) {
        let rs: [u8; 64] = sig.to_bytes().into();
        return Ok(Signature(rs));
    }
    if let Ok(rs) = <[u8; 64]>::try_from(bytes.as_slice()) {
        return Ok(Signature(rs));
    }
    Err(Failure::usage(format!(
        "--sig {}: not an ECDSA P-256 signature (DER, or 64 bytes r||s)",
        path.display()
    )))
}

pub fn verify(ctx: &mut Ctx, a: VerifyArgs) -> Outcome {
    let path = input::key_path(&a.key, false)?;
    let what = format!("seam verify {path}");
    let message = input::read_file(&a.input, "--in")?;
    let signature = read_signature(&a.sig)?;
    let digest: [u8; 32] = Sha256::digest(&message).into();
    let suid = key_suid(ctx, &path, a.suid, &what)?;
    let op = Op::Verify {
        key: path.key_ref(suid)?,
        input: SignInput::Digest(Digest(digest)),
        signature,
    };
    let valid = match ctx.client()?.call(op).what(&what)?.reply {
        Reply::Verified(v) => v,
        other => {
            return Err(Failure::from(seam::Error::Protocol(format!(
                "expected a Verified reply, got {other:?}"
            )))
            .context(&what))
        }
    };
    if valid || ctx.json {
        ctx.print(
            "signature OK",
            json!({ "key": path.to_string(), "suid": suid, "valid": valid }),
        );
    }
    if valid {
        Ok(())
    } else {
        Err(Failure::not_verified(format!(
            "{what}: the signature does not verify"
        )))
    }
}

pub fn hash(ctx: &mut Ctx, a: HashArgs) -> Outcome {
    let message = input::read_file(&a.input, "--in")?;
    if message.len() > MAX_DATA {
        return Err(Failure::usage(format!(
            "seam hash: --in is {} bytes; the SE's <hash> resource takes at most {MAX_DATA} \
             bytes in one request (sha256sum hashes larger files; seam sign hashes on this \
             side and signs the digest)",
            message.len()
        )));
    }
    let digest = ctx.client()?.hash(&message).what("seam hash")?;
    ctx.print(
        hex::encode(digest),
        json!({ "algorithm": "SHA-256", "hash": hex::encode(digest) }),
    );
    Ok(())
}

pub fn rand(ctx: &mut Ctx, a: RandArgs) -> Outcome {
    if a.n == 0 || a.n > MAX_RANDOM {
        return Err(Failure::usage(format!(
            "seam rand {}: ask for 1 to {MAX_RANDOM} bytes",
            a.n
        )));
    }
    let bytes = ctx.client()?.random(a.n).what("seam rand")?;
    ctx.print(
        hex::encode(&bytes),
        json!({ "random": hex::encode(&bytes) }),
    );
    Ok(())
}
