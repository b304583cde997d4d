//! `seam jws sign|verify`, `seam jwe encrypt|decrypt`, `seam token verify`,
//! `seam esprim rand|protect|unprotect`:
//! JOSE with the keys in the SE (seam::jose).

use std::io::Write;
use std::path::PathBuf;

use clap::{Args, Subcommand, ValueEnum};
use seam::jose::{self, esprim, JoseError, JweAlg, JweEnc, JwsAlg, Serialization};
use seam::proto::{KeyRef, ObjectKind};
use serde_json::{json, Map, Value};

use crate::ctx::Ctx;
use crate::failure::{Failure, Outcome};
use crate::functions::key_suid;
use crate::input;

pub const JWS_EXAMPLE: &str = "\
Example:
  seam jws sign operator/token-key --in claims.json > token.jws
  seam jws verify operator/token-key --in token.jws

ES256 signs inside the SE over SHA-256 of the signing input; HS256 MACs inside (signing
input up to 2048 bytes). verify prints the payload and exits 1 when the JWS does not
verify or is malformed (the reason goes to standard error).";

pub const JWE_EXAMPLE: &str = "\
Example:
  seam jwe encrypt operator/peer-pub --in reading.json --alg ECDH-ES+A128KW --enc A128GCM
  seam jwe decrypt operator/ecdh-key --in reading.jwe

The content key is generated, wrapped and used inside the SE. For ECDH-ES+A128KW the
key to encrypt with is the recipient's public key (imported by the SE admin); to decrypt,
the SE's own P-256 key. decrypt exits 1 when the JWE does not authenticate.";

pub const TOKEN_EXAMPLE: &str = "\
Example:
  seam token verify operator/das-key --in token.jwt --audience /cse-mn-1 --now 1900000000

A oneM2M JWT (TS-0003 7.3.2.6, signature-only): the signature is checked with the
issuer key in the SE, then typ, exp/nbf against --now (default: this machine's clock)
and aud against --audience. Prints the claims; exits 1 with the reason if refused.";

#[derive(Subcommand)]
pub enum JwsCommand {
    /// Sign a file as a compact JWS (on standard output).
    #[command(after_help = JWS_EXAMPLE)]
    Sign(JwsSignArgs),
    /// Verify a JWS (compact or flattened JSON); prints its payload.
    #[command(after_help = JWS_EXAMPLE)]
    Verify(VerifyArgs),
}

#[derive(Subcommand)]
pub enum JweCommand {
    /// Encrypt a file as a compact JWE (on standard output).
    #[command(after_help = JWE_EXAMPLE)]
    Encrypt(JweEncryptArgs),
    /// Decrypt a JWE (compact or flattened JSON); prints the plaintext.
    #[command(after_help = JWE_EXAMPLE)]
    Decrypt(VerifyArgs),
}

#[derive(Subcommand)]
pub enum TokenCommand {
    /// Verify a oneM2M dynamic authorization token; prints its claims.
    #[command(after_help = TOKEN_EXAMPLE)]
    Verify(TokenArgs),
}

#[derive(Clone, Copy, ValueEnum)]
pub enum JwsAlgArg {
    #[value(name = "ES256")]
    Es256,
    #[value(name = "HS256")]
    Hs256,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum JweAlgArg {
    #[value(name = "dir")]
    Dir,
    #[value(name = "A128KW")]
    A128Kw,
    #[value(name = "A256KW")]
    A256Kw,
    #[value(name = "ECDH-ES+A128KW")]
    EcdhEsA128Kw,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum JweEncArg {
    #[value(name = "A128GCM")]
    A128Gcm,
    #[value(name = "A256GCM")]
    A256Gcm,
}

#[derive(Args)]
pub struct JwsSignArgs {
    /// SE/KEY
    key: String,
    /// The payload (`-` for standard input).
    #[arg(long = "in", value_name = "FILE")]
    input: PathBuf,
    /// Default: ES256 for a P-256 key, HS256 for a secret.
    #[arg(long, value_enum)]
    alg: Option<JwsAlgArg>,
    /// Write the flattened JSON serialisation instead of the compact one.
    #[arg(long)]
    flattened: bool,
    /// A "typ" protected-header member (JWT for a oneM2M token).
    #[arg(long, value_name = "TYP")]
    typ: Option<String>,
    #[arg(long, value_name = "N")]
    suid: Option<u8>,
}

#[derive(Args)]
pub struct VerifyArgs {
    /// SE/KEY
    key: String,
    /// The JOSE object (`-` for standard input).
    #[arg(long = "in", value_name = "FILE")]
    input: PathBuf,
    #[arg(long, value_name = "N")]
    suid: Option<u8>,
}

#[derive(Args)]
pub struct JweEncryptArgs {
    /// SE/KEY (for ECDH-ES+A128KW, the recipient's public key)
    key: String,
    /// The plaintext (`-` for standard input, at most 2048 bytes).
    #[arg(long = "in", value_name = "FILE")]
    input: PathBuf,
    #[arg(long, value_enum)]
    alg: JweAlgArg,
    #[arg(long, value_enum)]
    enc: JweEncArg,
    /// Write the flattened JSON serialisation instead of the compact one.
    #[arg(long)]
    flattened: bool,
    #[arg(long, value_name = "N")]
    suid: Option<u8>,
}

#[derive(Args)]
pub struct TokenArgs {
    /// SE/KEY: the token issuer's key.
    key: String,
    /// The token (`-` for standard input).
    #[arg(long = "in", value_name = "FILE")]
    input: PathBuf,
    /// This CSE's CSE-ID, which the token's audience must include.
    #[arg(long, value_name = "ID")]
    audience: String,
    /// The time to check exp/nbf at, in Unix seconds (default: now).
    #[arg(long, value_name = "UNIX")]
    now: Option<u64>,
    #[arg(long, value_name = "N")]
    suid: Option<u8>,
}

/// A JOSE failure as the CLI reports it: when checking something, every
/// refusal (malformed, bad signature, failed authentication, a refused
/// token) is "does not verify" (exit 1); when producing, bad input is usage.
fn failure(e: JoseError, what: &str, checking: bool) -> Failure {
    let refused_content =
        |e: &seam::Error| e.reason() == Some(seam::proto::Reason::AuthenticationFailed);
    match e {
        JoseError::Se(se) if checking && refused_content(&se) => {
            Failure::not_verified(format!("{what}: {se}"))
        }
        JoseError::Se(se) => Failure::from(se).context(what),
        other if checking => Failure::not_verified(format!("{what}: {other}")),
        other => Failure::usage(format!("{what}: {other}")),
    }
}

fn key_ref(ctx: &mut Ctx, key: &str, suid: Option<u8>, what: &str) -> Outcome<KeyRef> {
    let path = input::key_path(key, false)?;
    let suid = key_suid(ctx, &path, suid, what)?;
    path.key_ref(suid)
}

fn emit(ctx: &Ctx, text: &[u8], json: Value) -> Outcome {
    if ctx.json {
        ctx.print("", json);
        return Ok(());
    }
    let mut out = std::io::stdout().lock();
    out.write_all(text)
        .and_then(|()| out.flush())
        .map_err(|e| Failure::usage(format!("writing standard output: {e}")))
}

fn serialization(flattened: bool) -> Serialization {
    if flattened {
        Serialization::Flattened
    } else {
        Serialization::Compact
    }
}

pub fn jws(ctx: &mut Ctx, c: JwsCommand) -> Outcome {
    match c {
        JwsCommand::Sign(a) => {
            let what = format!("seam jws sign {}", a.key);
            let key = key_ref(ctx, &a.key, a.suid, &what)?;
            let alg = match a.alg {
                Some(JwsAlgArg::Es256) => JwsAlg::Es256,
                Some(JwsAlgArg::Hs256) => JwsAlg::Hs256,
                None => {
                    let info = ctx
                        .client()?
                        .object_info(&key.se, &key.key)
                        .map_err(|e| Failure::from(e).context(&what))?;
                    match info.kind {
                        ObjectKind::EcP256 => JwsAlg::Es256,
                        ObjectKind::Secret => JwsAlg::Hs256,
                        _ => {
                            return Err(Failure::usage(format!(
                                "{what}: a {:?} object cannot sign; pass an EC or secret key",
                                info.kind
                            )))
                        }
                    }
                }
            };
            let payload = input::read_file(&a.input, "--in")?;
            let mut extra = Map::new();
            if let Some(typ) = a.typ {
                extra.insert("typ".into(), Value::String(typ));
            }
            let token = jose::jws_sign(
                ctx.client()?,
                &key,
                alg,
                &payload,
                &extra,
                serialization(a.flattened),
            )
            .map_err(|e| failure(e, &what, false))?;
            emit(
                ctx,
                format!("{token}\n").as_bytes(),
                json!({"alg": alg.name(), "jws": token}),
            )
        }
        JwsCommand::Verify(a) => {
            let what = format!("seam jws verify {}", a.key);
            let key = key_ref(ctx, &a.key, a.suid, &what)?;
            let jws = input::read_file(&a.input, "--in")?;
            let v =
                jose::jws_verify(ctx.client()?, &key, &jws).map_err(|e| failure(e, &what, true))?;
            emit(
                ctx,
                &v.payload,
                json!({"valid": true, "header": v.header, "payload_hex": hex::encode(&v.payload)}),
            )
        }
    }
}

pub fn jwe(ctx: &mut Ctx, c: JweCommand) -> Outcome {
    match c {
        JweCommand::Encrypt(a) => {
            let what = format!("seam jwe encrypt {}", a.key);
            let key = key_ref(ctx, &a.key, a.suid, &what)?;
            let alg = match a.alg {
                JweAlgArg::Dir => JweAlg::Dir,
                JweAlgArg::A128Kw => JweAlg::A128Kw,
                JweAlgArg::A256Kw => JweAlg::A256Kw,
                JweAlgArg::EcdhEsA128Kw => JweAlg::EcdhEsA128Kw,
            };
            let enc = match a.enc {
                JweEncArg::A128Gcm => JweEnc::A128Gcm,
                JweEncArg::A256Gcm => JweEnc::A256Gcm,
            };
            let plaintext = input::read_file(&a.input, "--in")?;
            let token = jose::jwe_encrypt(
                ctx.client()?,
                &key,
                alg,
                enc,
                &plaintext,
                &Map::new(),
                serialization(a.flattened),
            )
            .map_err(|e| failure(e, &what, false))?;
            emit(
                ctx,
                format!("{token}\n").as_bytes(),
                json!({"alg": alg.name(), "enc": enc.name(), "jwe": token}),
            )
        }
        JweCommand::Decrypt(a) => {
            let what = format!("seam jwe decrypt {}", a.key);
            let key = key_ref(ctx, &a.key, a.suid, &what)?;
            let jwe = input::read_file(&a.input, "--in")?;
            let plaintext = jose::jwe_decrypt(ctx.client()?, &key, &jwe)
                .map_err(|e| failure(e, &what, true))?;
            emit(
                ctx,
                &plaintext,
                json!({"plaintext_hex": hex::encode(&plaintext)}),
            )
        }
    }
}

pub fn token(ctx: &mut Ctx, c: TokenCommand) -> Outcome {
    let TokenCommand::Verify(a) = c;
    let what = format!("seam token verify {}", a.key);
    let key = key_ref(ctx, &a.key, a.suid, &what)?;
    let now = match a.now {
        Some(n) => n,
        None => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_err(|_| Failure::usage(format!("{what}: the clock is before 1970; pass --now")))?
            .as_secs(),
    };
    let token = input::read_file(&a.input, "--in")?;
    let claims = jose::token::verify(ctx.client()?, &key, &token, &a.audience, now)
        .map_err(|e| failure(e, &what, true))?;
    let claims = Value::Object(claims.0);
    emit(
        ctx,
        format!("{claims}\n").as_bytes(),
        json!({"valid": true, "claims": claims}),
    )
}

pub const ESPRIM_EXAMPLE: &str = "\
Example (originator CAE-1 to target CSE-IN, sharing the pairwise ESPrim key e2e-msg: derived
as Ke2e_msg_conf, or imported with --role pairwise):
  target$     seam esprim rand --id rand-1 --expiry 1900000000 > rand.json   # publish it
  originator$ seam esprim protect ae/e2e-msg --in request.json --from CAE-1 --to CSE-IN \\
                --receiver-rand rand.json --session session.json > request.esprim
  target$     seam esprim unprotect cse/e2e-msg --in request.esprim --id CSE-IN \\
                --rand rand.json --session session.json > request.json
  target$     seam esprim protect cse/e2e-msg --in response.json --response \\
                --session session.json > response.esprim
  originator$ seam esprim unprotect ae/e2e-msg --in response.esprim --response \\
                --session session.json

TS-0003 8.4.2: the ESPrim object is a compact JWE (dir, A256GCM) whose key, the
sessionESPrimKey, the SE derives for each call from the pairwise ESPrim key (role pairwise)
and the two random objects, and never stores or returns. The session file holds only
public values (identities, random objects). unprotect exits 1 with the reason when the
object is refused or does not authenticate.";

#[derive(Subcommand)]
pub enum EsPrimCommand {
    /// Make an ESPrim random object (the target publishes it) from the SE's RNG.
    #[command(after_help = ESPRIM_EXAMPLE)]
    Rand(EsPrimRandArgs),
    /// Protect a request (or with --response, a response) primitive.
    #[command(after_help = ESPRIM_EXAMPLE)]
    Protect(EsPrimProtectArgs),
    /// Open a protected request (or with --response, a response) primitive.
    #[command(after_help = ESPRIM_EXAMPLE)]
    Unprotect(EsPrimUnprotectArgs),
}

#[derive(Args)]
pub struct EsPrimRandArgs {
    /// Its esprimRandID.
    #[arg(long, value_name = "ID")]
    id: String,
    /// Its esprimRandExpiry, Unix seconds.
    #[arg(long, value_name = "UNIX")]
    expiry: u64,
}

#[derive(Args)]
pub struct EsPrimProtectArgs {
    /// SE/KEY: the pairwise ESPrim key.
    key: String,
    /// The primitive (`-` for standard input, at most 2048 bytes).
    #[arg(long = "in", value_name = "FILE")]
    input: PathBuf,
    /// Protect a response under the session unprotect wrote to --session.
    #[arg(long)]
    response: bool,
    /// Request: the originator's ID.
    #[arg(long, value_name = "ID")]
    from: Option<String>,
    /// Request: the target's ID.
    #[arg(long, value_name = "ID")]
    to: Option<String>,
    /// Request: the target's published random object (JSON).
    #[arg(long, value_name = "FILE")]
    receiver_rand: Option<PathBuf>,
    /// Request: where to write the session (to open the response); response:
    /// the session to protect it under.
    #[arg(long, value_name = "FILE")]
    session: Option<PathBuf>,
    /// The time to check random objects' expiry at, Unix seconds (default: now).
    #[arg(long, value_name = "UNIX")]
    now: Option<u64>,
    #[arg(long, value_name = "N")]
    suid: Option<u8>,
}

#[derive(Args)]
pub struct EsPrimUnprotectArgs {
    /// SE/KEY: the pairwise ESPrim key.
    key: String,
    /// The ESPrim object (`-` for standard input).
    #[arg(long = "in", value_name = "FILE")]
    input: PathBuf,
    /// Open a response under the session protect wrote to --session.
    #[arg(long)]
    response: bool,
    /// Request: this target's own ID, which the object must be addressed to.
    #[arg(long, value_name = "ID")]
    id: Option<String>,
    /// Request: a random object this target published (repeatable).
    #[arg(long, value_name = "FILE")]
    rand: Vec<PathBuf>,
    /// Request: where to write the session (to protect the response);
    /// response: the session the request was protected under.
    #[arg(long, value_name = "FILE")]
    session: Option<PathBuf>,
    /// The time to check random objects' expiry at, Unix seconds (default: now).
    #[arg(long, value_name = "UNIX")]
    now: Option<u64>,
    #[arg(long, value_name = "N")]
    suid: Option<u8>,
}

fn now_or_clock(now: Option<u64>, what: &str) -> Outcome<u64> {
    match now {
        Some(n) => Ok(n),
        None => Ok(std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_err(|_| Failure::usage(format!("{what}: the clock is before 1970; pass --now")))?
            .as_secs()),
    }
}

fn rand_file(path: &std::path::Path, flag: &str) -> Outcome<esprim::RandObject> {
    let text = input::read_file(path, flag)?;
    esprim::RandObject::parse(&text)
        .map_err(|e| Failure::usage(format!("{flag} {}: {e}", path.display())))
}

fn session_file(path: &std::path::Path) -> Outcome<esprim::Session> {
    let text = input::read_file(path, "--session")?;
    let value: Value = serde_json::from_slice(&text)
        .map_err(|e| Failure::usage(format!("--session {}: not JSON: {e}", path.display())))?;
    esprim::Session::from_json(&value)
        .map_err(|e| Failure::usage(format!("--session {}: {e}", path.display())))
}

fn write_session(path: &std::path::Path, session: &esprim::Session) -> Outcome<()> {
    input::write_out(path, format!("{}\n", session.to_json()).as_bytes())
}

/// Flags that belong to the other direction are refused, not ignored.
fn refuse_flags(what: &str, direction: &str, flags: &[(&str, bool)]) -> Outcome<()> {
    match flags.iter().find(|(_, given)| *given) {
        Some((flag, _)) => Err(Failure::usage(format!(
            "{what}: {flag} is for a request; a {direction} takes --session"
        ))),
        None => Ok(()),
    }
}

fn required<'a, T>(value: &'a Option<T>, flag: &str, what: &str) -> Outcome<&'a T> {
    value
        .as_ref()
        .ok_or_else(|| Failure::usage(format!("{what}: a request needs {flag}")))
}

pub fn esprim(ctx: &mut Ctx, c: EsPrimCommand) -> Outcome {
    match c {
        EsPrimCommand::Rand(a) => {
            let what = "seam esprim rand";
            let rand = esprim::RandObject::generate(ctx.client()?, &a.id, a.expiry)
                .map_err(|e| failure(e, what, false))?;
            let json = rand.to_json();
            emit(ctx, format!("{json}\n").as_bytes(), json)
        }
        EsPrimCommand::Protect(a) => {
            let what = format!("seam esprim protect {}", a.key);
            let now = now_or_clock(a.now, &what)?;
            let primitive = input::read_file(&a.input, "--in")?;
            if a.response {
                refuse_flags(
                    &what,
                    "response",
                    &[
                        ("--from", a.from.is_some()),
                        ("--to", a.to.is_some()),
                        ("--receiver-rand", a.receiver_rand.is_some()),
                    ],
                )?;
                let session = session_file(required(&a.session, "--session", &what)?)?;
                let key = key_ref(ctx, &a.key, a.suid, &what)?;
                let object =
                    esprim::protect_response(ctx.client()?, &key, &session, now, &primitive)
                        .map_err(|e| failure(e, &what, false))?;
                return emit(
                    ctx,
                    format!("{object}\n").as_bytes(),
                    json!({"esprim": object}),
                );
            }
            let from = required(&a.from, "--from", &what)?;
            let to = required(&a.to, "--to", &what)?;
            let rand = rand_file(
                required(&a.receiver_rand, "--receiver-rand", &what)?,
                "--receiver-rand",
            )?;
            let key = key_ref(ctx, &a.key, a.suid, &what)?;
            let (object, session) =
                esprim::protect_request(ctx.client()?, &key, from, to, &rand, now, &primitive)
                    .map_err(|e| failure(e, &what, false))?;
            if let Some(path) = &a.session {
                write_session(path, &session)?;
            }
            emit(
                ctx,
                format!("{object}\n").as_bytes(),
                json!({"esprim": object, "session": session.to_json()}),
            )
        }
        EsPrimCommand::Unprotect(a) => {
            let what = format!("seam esprim unprotect {}", a.key);
            let now = now_or_clock(a.now, &what)?;
            let object = input::read_file(&a.input, "--in")?;
            if a.response {
                refuse_flags(
                    &what,
                    "response",
                    &[("--id", a.id.is_some()), ("--rand", !a.rand.is_empty())],
                )?;
                let session = session_file(required(&a.session, "--session", &what)?)?;
                let key = key_ref(ctx, &a.key, a.suid, &what)?;
                let primitive =
                    esprim::unprotect_response(ctx.client()?, &key, &session, now, &object)
                        .map_err(|e| failure(e, &what, true))?;
                return emit(
                    ctx,
                    &primitive,
                    json!({"primitive_hex": hex::encode(&primitive)}),
                );
            }
            let id = required(&a.id, "--id", &what)?;
            if a.rand.is_empty() {
                return Err(Failure::usage(format!(
                    "{what}: a request needs --rand (a random object this target published)"
                )));
            }
            let rands = a
                .rand
                .iter()
                .map(|p| rand_file(p, "--rand"))
                .collect::<Outcome<Vec<_>>>()?;
            let key = key_ref(ctx, &a.key, a.suid, &what)?;
            let (primitive, session) =
                esprim::unprotect_request(ctx.client()?, &key, id, &rands, now, &object)
                    .map_err(|e| failure(e, &what, true))?;
            if let Some(path) = &a.session {
                write_session(path, &session)?;
            }
            emit(
                ctx,
                &primitive,
                json!({"primitive_hex": hex::encode(&primitive), "originator": session.originator, "session": session.to_json()}),
            )
        }
    }
}
