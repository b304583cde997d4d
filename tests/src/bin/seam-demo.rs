//! The seam story in one run: a device issuer takes ownership of a fresh
//! node, provisions two stakeholders, a CSE signs with its operator-issued
//! identity, and its attempt to use the other stakeholder's key is refused.
//!
//! `cargo optee demo` runs it on the emulated device against the real TA;
//! `cargo run -p seam-tests --bin seam-demo` runs it on the simulator.

use std::process::ExitCode;

use seam::proto::{ObjectKind, Ops};
use seam::{AclEntry, AdminKey, CommandSigner, KeyRef};
use seam_tests::{Device, Who};

const CSE: Who = Who::Group(61001);
const OTHER_CSE: Who = Who::Group(61002);

fn main() -> ExitCode {
    match run() {
        Ok(()) => {
            println!("\nseam demo: OK");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("\nseam demo FAILED: {e}");
            ExitCode::FAILURE
        }
    }
}

fn say(step: &str) {
    println!("\n>> {step}");
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let device = Device::uninitialised();
    let mut node = device.client();
    println!(
        "backend: {} ({})",
        node.backend(),
        match device.backend() {
            seam_tests::Backend::Tee => "the real TA in OP-TEE",
            seam_tests::Backend::Simulator => "simulator: development only, protects nothing",
        }
    );

    say("device issuer takes ownership of the node (trust on first use)");
    let issuer = AdminKey::generate();
    let identity = match node.node_info()?.node {
        Some(_) => {
            return Err("this node already has an issuer: the demo needs a fresh node".into())
        }
        None => node.init_node(&issuer.public_key())?,
    };
    println!("node id {}", hex(&identity.node_id.0));
    println!(
        "key-agreement key {}",
        hex(&identity.key_agreement.0[..9]) + "…"
    );

    say("issuer creates two stakeholder SEs");
    let operator = AdminKey::generate();
    let provider = AdminKey::generate();
    for (se, admin) in [("operator", &operator), ("provider", &provider)] {
        let info = node.create_se(&issuer, se, &admin.public_key(), false)?;
        println!(
            "{se}: m2mSeID {} type {} level {}",
            info.m2m_se_id, info.se_type, info.security_level
        );
    }

    say("operator generates the CSE's identity key inside and grants the CSE sign");
    let public = node.generate_key_pair(&operator, "operator", "cse-id", seam_tests::suid(42))?;
    node.grant(
        &operator,
        "operator",
        "cse-id",
        AclEntry {
            grantee: CSE.id(),
            ops: Ops::SIGN,
            suid: Some(seam_tests::suid(42)),
        },
    )?;
    println!("public key {}…", hex(&public.0[..9]));

    say("provider imports an ESPrim key wrapped to this node and grants another CSE its use");
    node.import_wrapped(
        &provider,
        "provider",
        "e2e-key",
        seam_tests::suid(13),
        ObjectKind::Secret,
        &[0x5e; 16],
    )?;
    node.grant(
        &provider,
        "provider",
        "e2e-key",
        AclEntry {
            grantee: OTHER_CSE.id(),
            ops: Ops::MAC,
            suid: Some(seam_tests::suid(13)),
        },
    )?;

    say("the CSE signs with its identity; anyone verifies with the public key");
    let mut cse = device.client_as(CSE);
    let message = b"oneM2M registration request";
    let id_key = KeyRef {
        se: "operator".try_into()?,
        key: "cse-id".try_into()?,
        suid: seam_tests::suid(42),
    };
    let sig = cse.sign(&id_key, message)?;
    let ok = seam::signer::verify_with(&public, message, &sig);
    println!("signature {}… verifies: {ok}", hex(&sig.0[..9]));
    if !ok {
        return Err("signature did not verify".into());
    }

    say("the CSE tries to use the provider's key");
    let psk = KeyRef {
        se: "provider".try_into()?,
        key: "e2e-key".try_into()?,
        suid: seam_tests::suid(13),
    };
    match cse.mac(&psk, b"x") {
        Err(e) if e.status() == 4103 => println!("refused: {e}"),
        other => return Err(format!("cross-stakeholder use was not refused: {other:?}").into()),
    }
    let visible = cse.object_list("provider")?;
    println!("provider objects the CSE can see: {}", visible.len());
    if !visible.is_empty() {
        return Err("the CSE can list the provider's objects".into());
    }
    let mut other = device.client_as(OTHER_CSE);
    println!(
        "the provider's own CSE computes its MAC: {}…",
        hex(&other.mac(&psk, b"x")?[..9])
    );
    Ok(())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
