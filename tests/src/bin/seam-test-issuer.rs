//! The fixed test issuer's key as PEM, for tools that provision through the
//! command line (`seam ... --sign-with ISSUER.pem`) on a node the e2e suite
//! bound to that issuer: `cargo optee test` runs libseam's C tests this way
//! in the emulated device.
//!
//! ```text
//! seam-test-issuer            the private key (PKCS#8 PEM)
//! seam-test-issuer --public   its public key (SPKI PEM), for `seam init --issuer`
//! ```
//!
//! The key is public in this repository: it is only ever a test node's issuer.

use std::process::ExitCode;

use seam::{AdminKey, CommandSigner};
use seam_tests::TEST_ISSUER_SCALAR;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let public = match args.as_slice() {
        [] => false,
        [a] if a == "--public" => true,
        _ => {
            eprintln!("usage: seam-test-issuer [--public]");
            return ExitCode::from(2);
        }
    };
    let key = AdminKey::from_scalar(&TEST_ISSUER_SCALAR).expect("the test issuer scalar");
    let pem = if public {
        seam::signer::public_key_to_pem(&key.public_key())
    } else {
        key.to_pem()
    };
    match pem {
        Ok(pem) => {
            print!("{pem}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("seam-test-issuer: {e}");
            ExitCode::FAILURE
        }
    }
}
