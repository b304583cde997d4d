//! `seam`: provision and use the oneM2M Secure Environment from a shell.
//!
//! One module per command group; each defines its clap arguments and runs
//! them against a [`Ctx`]. The command names, flags and `SE/KEY` naming are a
//! contract that scripts depend on (docs/api.md).

mod acl;
mod bundle;
mod ctx;
mod failure;
mod functions;
mod input;
mod jose;
mod key;
mod node;
mod se;
mod tls;
mod tls13;
mod tunnel;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use ctx::{BackendArg, Ctx};
use failure::Failure;

const EXIT_CODES: &str = "\
Exit codes: 0 success; 1 `seam verify`: the signature does not verify;
2 usage: a bad argument or input file, or a feature not in this build;
3 the Secure Environment refused (its oneM2M status code is printed);
4 the Secure Environment could not be reached (backend, store, TA);
5 `seam (d)tls-client|server`: the connection failed (the step and alert are printed).
`seam tunnel` runs until SIGTERM or SIGINT, then exits 0.";

#[derive(Parser)]
#[command(
    name = "seam",
    version,
    about = "The oneM2M Secure Environment (TS-0016) on OP-TEE: provision stakeholder SEs and use their credentials",
    after_help = EXIT_CODES,
    propagate_version = true
)]
struct Cli {
    /// Where the Secure Environment runs: `tee` (the OP-TEE TA) or `sim` (the
    /// in-process simulator, which protects nothing). Default: tee when
    /// /dev/teepriv0 exists, else sim.
    #[arg(long, global = true, value_enum, value_name = "sim|tee")]
    backend: Option<BackendArg>,
    /// The simulator's store directory (default: $SEAM_STORE, else ~/.local/share/seam).
    #[arg(long, global = true, value_name = "DIR")]
    store: Option<std::path::PathBuf>,
    /// Print results (and errors, on stderr) as JSON.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Bind the node to its device issuer (trust on first use); prints the node descriptor.
    #[command(after_help = node::INIT_EXAMPLE)]
    Init(node::InitArgs),
    /// Stakeholder SEs: create, list, info, retire.
    #[command(subcommand)]
    Se(se::SeCommand),
    /// Credentials in an SE: generate, import, public, list, delete.
    #[command(subcommand)]
    Key(key::KeyCommand),
    /// Who may use a credential: grant, revoke, show.
    #[command(subcommand)]
    Acl(acl::AclCommand),
    /// The caller UUID OP-TEE sees for a user or group (grant to it).
    #[command(after_help = node::IDENTITY_EXAMPLE)]
    Identity(node::IdentityArgs),
    /// Sign a file with an SE key (<signature>); writes a DER ECDSA signature.
    #[command(after_help = functions::SIGN_EXAMPLE)]
    Sign(functions::SignArgs),
    /// Verify a DER ECDSA signature with an SE key (<signature>).
    #[command(after_help = functions::VERIFY_EXAMPLE)]
    Verify(functions::VerifyArgs),
    /// JSON Web Signatures with an SE key: sign, verify.
    #[command(subcommand)]
    Jws(jose::JwsCommand),
    /// JSON Web Encryption with an SE key: encrypt, decrypt.
    #[command(subcommand)]
    Jwe(jose::JweCommand),
    /// oneM2M dynamic authorization tokens (TS-0003 7.3): verify.
    #[command(subcommand)]
    Token(jose::TokenCommand),
    /// oneM2M end-to-end primitive protection (ESPrim, TS-0003 8.4.2): rand, protect, unprotect.
    #[command(subcommand)]
    Esprim(jose::EsPrimCommand),
    /// SHA-256 of a file, computed by the SE (<hash>).
    #[command(after_help = functions::HASH_EXAMPLE)]
    Hash(functions::HashArgs),
    /// N random bytes from the SE (<rand>), as hex.
    #[command(after_help = functions::RAND_EXAMPLE)]
    Rand(functions::RandArgs),
    /// Make a P-256 private key file (an issuer's or SE admin's) and print its public key.
    #[command(after_help = node::KEYGEN_EXAMPLE)]
    Keygen(node::KeygenArgs),
    /// Offline provisioning: create a signed bundle without a TEE, apply it on the device.
    #[command(subcommand)]
    Bundle(bundle::BundleCommand),
    /// TLS 1.2 client with an SE credential: stdin to the peer, the peer to stdout.
    #[command(after_help = tls::tls_client_example())]
    TlsClient(tls::ClientArgs),
    /// DTLS 1.2 client with an SE credential: stdin to the peer, the peer to stdout.
    #[command(after_help = tls::dtls_client_example())]
    DtlsClient(tls::ClientArgs),
    /// TLS 1.2 server with an SE credential: stdin to the peer, the peer to stdout.
    #[command(after_help = tls::tls_server_example())]
    TlsServer(tls::ServerArgs),
    /// DTLS 1.2 server with an SE credential: stdin to the peer, the peer to stdout.
    #[command(after_help = tls::dtls_server_example())]
    DtlsServer(tls::ServerArgs),
    /// The (D)TLS sidecar: carry a local CSE's traffic over (D)TLS with the secrets in the SE.
    #[command(subcommand)]
    Tunnel(tunnel::TunnelCommand),
}

fn run(cli: Cli, ctx: &mut Ctx) -> Result<(), Failure> {
    match cli.command {
        Command::Init(a) => node::init(ctx, a),
        Command::Se(c) => se::run(ctx, c),
        Command::Key(c) => key::run(ctx, c),
        Command::Acl(c) => acl::run(ctx, c),
        Command::Identity(a) => node::identity(ctx, a),
        Command::Sign(a) => functions::sign(ctx, a),
        Command::Verify(a) => functions::verify(ctx, a),
        Command::Jws(c) => jose::jws(ctx, c),
        Command::Jwe(c) => jose::jwe(ctx, c),
        Command::Token(c) => jose::token(ctx, c),
        Command::Esprim(c) => jose::esprim(ctx, c),
        Command::Hash(a) => functions::hash(ctx, a),
        Command::Rand(a) => functions::rand(ctx, a),
        Command::Keygen(a) => node::keygen(ctx, a),
        Command::Bundle(c) => bundle::run(ctx, c),
        Command::TlsClient(a) => tls::client(ctx, "tls-client", a),
        Command::DtlsClient(a) => tls::client(ctx, "dtls-client", a),
        Command::TlsServer(a) => tls::server(ctx, "tls-server", a),
        Command::DtlsServer(a) => tls::server(ctx, "dtls-server", a),
        Command::Tunnel(c) => tunnel::run(ctx, c),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let mut ctx = Ctx::new(cli.backend, cli.store.clone(), cli.json);
    match run(cli, &mut ctx) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            failure.report(ctx.json);
            ExitCode::from(failure.exit_code())
        }
    }
}
