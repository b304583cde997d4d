//! What only a real TEE shows: Linux users as callers, the kernel's client
//! UUIDs, REE FS integrity, persistence across a reboot. These run with
//! `SEAM_BACKEND=tee` inside the emulated device (`cargo optee test`, as
//! root); elsewhere they are ignored, except the session test, which holds
//! on both.

use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::Command;

use seam::proto::{AdminOp, ObjectKind, Reason};
use seam::{identity, CommandSigner, Ops};
use seam_tests::{backend, Backend, Device, OWNER_CSE};

/// tee-supplicant's REE FS directory in the guest (Debian's layout).
const REE_FS: &str = "/var/lib/optee-client/data/tee";
const ALICE: u32 = 1001;
const BOB: u32 = 1002;

/// Built for the device (`--features tee`) but run elsewhere: say so.
fn on_device() -> bool {
    if backend() != Backend::Tee {
        seam_tests::tools::skipped("runs on the emulated device only (SEAM_BACKEND=tee)");
        return false;
    }
    true
}

/// The `seam` tool built for the device (`/opt/seam/bin` is on its PATH).
fn seam_cli() -> PathBuf {
    std::env::var_os("SEAM_CLI")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("seam"))
}

/// Run the tool as another Linux user; returns (exit code, stdout, stderr).
fn seam_as(uid: u32, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(seam_cli())
        .args(["--backend", "tee"])
        .args(args)
        .env("HOME", "/tmp")
        .uid(uid)
        .gid(uid)
        .output()
        .expect("running seam as another user");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Let unprivileged users open the TEE (the guest's device node is root-only).
fn open_tee_to_users() {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions("/dev/teepriv0", std::fs::Permissions::from_mode(0o666))
        .expect("chmod /dev/teepriv0 (tests on the device run as root)");
}

#[test]
#[cfg_attr(
    not(feature = "tee"),
    ignore = "needs the emulated device: cargo optee test"
)]
fn two_linux_users_are_two_callers_and_isolated() {
    if !on_device() {
        return;
    }
    open_tee_to_users();
    let device = Device::new();
    let s = device.stakeholder("users");
    let public = s.generate("k", 45);
    // Granted to Alice by the UUID the library computes for her uid: if it
    // differed from the kernel's, her call below would be refused.
    let entry = seam::AclEntry {
        grantee: identity::for_uid(ALICE),
        ops: Ops::SIGN,
        suid: Some(seam_tests::suid(45)),
    };
    device.client().grant(&s.admin, &s.se, "k", entry).unwrap();
    std::fs::write("/tmp/device-msg", b"signed by alice").unwrap();
    let key = format!("{}/k", s.se);

    let (code, _, err) = seam_as(
        ALICE,
        &[
            "sign",
            &key,
            "--suid",
            "45",
            "--in",
            "/tmp/device-msg",
            "--out",
            "/tmp/alice.sig",
        ],
    );
    assert_eq!(code, 0, "alice could not sign: {err}");
    let der = std::fs::read("/tmp/alice.sig").unwrap();
    let sig = p256::ecdsa::Signature::from_der(&der).expect("DER signature");
    let raw = seam::proto::Signature(sig.to_bytes().into());
    assert!(seam::signer::verify_with(&public, b"signed by alice", &raw));

    let (code, _, err) = seam_as(
        BOB,
        &[
            "sign",
            &key,
            "--suid",
            "45",
            "--in",
            "/tmp/device-msg",
            "--out",
            "/tmp/bob.sig",
        ],
    );
    assert_ne!(code, 0, "bob signed with alice's grant");
    assert!(err.contains("4103"), "bob's refusal should be 4103: {err}");
    let (code, listed, err) = seam_as(BOB, &["key", "list", &s.se]);
    assert_eq!(code, 0, "{err}");
    assert!(listed.trim().is_empty(), "bob lists alice's key: {listed}");
}

#[test]
#[cfg_attr(
    not(feature = "tee"),
    ignore = "needs the emulated device: cargo optee test"
)]
fn the_library_computes_the_uuid_optee_reports() {
    if !on_device() {
        return;
    }
    open_tee_to_users();
    // What the tool prints for a uid is the library's computation...
    let (code, printed, err) = seam_as(0, &["identity", "--uid", &ALICE.to_string()]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(printed.trim(), identity::for_uid(ALICE).to_string());
    // ...and OP-TEE agrees: an object created by Alice records the creator
    // UUID the TA read from her session.
    let device = Device::new();
    let s = device.stakeholder("uuid");
    let entry = seam::AclEntry {
        grantee: identity::for_uid(ALICE),
        ops: Ops::CREATE,
        suid: None, // a CREATE-only `*` grant has no key SUID
    };
    device.client().grant(&s.admin, &s.se, "*", entry).unwrap();
    // The library, run as Alice in a child process of this test binary.
    let status = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "child_creates_an_object",
            "--nocapture",
            "--include-ignored",
        ])
        .env("SEAM_CHILD_SE", &s.se)
        .env("HOME", "/tmp")
        .uid(ALICE)
        .gid(ALICE)
        .status()
        .unwrap();
    assert!(status.success(), "the child (uid {ALICE}) failed");
    // The child checked the creator field; root (no grant) sees nothing of
    // Alice's object but its count.
    assert!(device.client().object_list(&s.se).unwrap().is_empty());
    assert_eq!(device.client().se_info(&s.se).unwrap().objects, 1);
}

/// Run only as the child of the test above.
#[cfg(feature = "tee")]
#[test]
#[ignore = "run by the_library_computes_the_uuid_optee_reports as another user"]
fn child_creates_an_object() {
    let Some(se) = std::env::var_os("SEAM_CHILD_SE") else {
        return;
    };
    let se = se.to_string_lossy().into_owned();
    // SAFETY: getuid has no preconditions.
    let uid = unsafe { libc::getuid() };
    let mut me =
        seam::Client::new(seam::transport::Tee::open().expect("TEE session as the child's user"));
    me.sdo_create(&se, "note", b"alice's note").unwrap();
    let info = me.object_info(&se, "note").unwrap();
    assert_eq!(
        info.creator,
        Some(identity::for_uid(uid)),
        "OP-TEE's UUID differs from the library's"
    );
}

#[test]
fn a_malformed_request_leaves_the_session_alive() {
    let device = Device::new();
    let mut c = device.client();
    for junk in [
        &b""[..],
        &[0xff; 7],
        &[1, 0xee, 0xee],
        &[0x01, 0x02, 0x03, 0xff, 0xff, 0xff, 0xff],
    ] {
        let response = seam_tests::decode(&c.call_raw(junk).unwrap());
        assert_eq!(response.status, 4000, "{junk:02x?}");
    }
    // The same session (one TA session on the device) still answers.
    assert_eq!(c.hash(b"abc").unwrap()[0], 0xba);
    assert!(c.node_info().unwrap().node.is_some());
}

/// Every REE FS object file and its bytes (the directory file aside).
fn ree_fs_files() -> std::collections::BTreeMap<PathBuf, Vec<u8>> {
    std::fs::read_dir(REE_FS)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file() && p.file_name().is_some_and(|n| n != "dirf.db"))
        .map(|p| {
            let bytes = std::fs::read(&p).unwrap();
            (p, bytes)
        })
        .collect()
}

#[test]
#[cfg_attr(
    not(feature = "tee"),
    ignore = "needs the emulated device: cargo optee test"
)]
fn zz_a_flipped_byte_in_an_ree_fs_object_is_reported_as_corrupt() {
    if !on_device() {
        return;
    }
    let device = Device::new();
    let bystander = device.stakeholder("bystander");
    bystander.generate("k", 45);
    bystander.grant("k", OWNER_CSE, Ops::SIGN, 45);
    let victim = device.stakeholder("victim");
    let before = ree_fs_files();
    victim.generate("k", 45);
    // The files that write touched hold the victim's SE record.
    let touched: Vec<(PathBuf, Vec<u8>)> = ree_fs_files()
        .into_iter()
        .filter(|(p, b)| before.get(p) != Some(b))
        .collect();
    assert!(
        !touched.is_empty(),
        "no REE FS file changed when the victim's record was written"
    );
    let expected = device.client().se_info(&victim.se).unwrap();

    // REE FS keeps two copies of each block and header, so a flip in the
    // stale copy changes nothing. Walk single-byte flips through the file:
    // each answer is the unchanged record or `StorageCorrupt`, never anything
    // else, and some flip must be caught.
    //
    // The TA caches records while any session is open: a session held
    // across the flip keeps being answered from the copy the TA verified
    // (the flip is neither used nor seen), and once the last session closes
    // the next request reads the file again and meets the flip.
    let mut caught = None;
    'files: for (path, original) in &touched {
        let stride = (original.len() / 256).max(1);
        for pos in (0..original.len()).step_by(stride) {
            let mut held = device.client();
            assert_eq!(held.se_info(&victim.se).unwrap(), expected);
            let mut bytes = original.clone();
            bytes[pos] ^= 0x5a;
            std::fs::write(path, &bytes).unwrap();
            assert_eq!(
                held.se_info(&victim.se).unwrap(),
                expected,
                "{} byte {pos}: a held session is answered from the cached record",
                path.display()
            );
            drop(held);
            match device.client().se_info(&victim.se) {
                Ok(info) => assert_eq!(
                    info,
                    expected,
                    "{} byte {pos}: a changed answer",
                    path.display()
                ),
                Err(e) => {
                    assert_eq!(
                        e.reason(),
                        Some(Reason::StorageCorrupt),
                        "{} byte {pos}: {e}",
                        path.display()
                    );
                    caught = Some((path.clone(), pos));
                    break 'files;
                }
            }
            std::fs::write(path, original).unwrap();
        }
    }
    let (path, pos) = caught.expect("no flipped byte was detected");
    eprintln!(
        "flip at byte {pos} of {} reported as corrupt",
        path.display()
    );
    let mut owner = device.client_as(OWNER_CSE);
    assert!(owner.sign(&bystander.key("k", 45), b"still here").is_ok());
    assert!(device.client().node_info().unwrap().node.is_some());
}

const REBOOT_SE: &str = "reboot-probe";
/// RFC 6979 A.2.5's key: its public key is known without asking the TA.
const REBOOT_SCALAR: &str = "c9afa9d845ba75166b5c215767b1d6934e50c3db36e89b127b8a622b120f6721";

#[test]
#[cfg_attr(
    not(feature = "tee"),
    ignore = "needs the emulated device: cargo optee test"
)]
fn provision_before_reboot() {
    if !on_device() {
        return;
    }
    let device = Device::new();
    let mut c = device.client();
    if c.se_list().unwrap().iter().any(|s| s == REBOOT_SE) {
        return; // provisioned by an earlier boot of this disk
    }
    let admin = seam::AdminKey::from_scalar(&[0x77; 32]).unwrap();
    c.create_se(device.issuer(), REBOOT_SE, &admin.public_key(), true)
        .unwrap();
    let material = seam::proto::Data::from_slice(&hex::decode(REBOOT_SCALAR).unwrap()).unwrap();
    c.admin(
        &admin,
        REBOOT_SE,
        vec![
            AdminOp::ImportPlaintext {
                object: "k".try_into().unwrap(),
                suid: seam_tests::suid(45),
                kind: ObjectKind::EcP256,
                material,
                attributes: Default::default(),
            },
            AdminOp::Grant {
                object: "k".try_into().unwrap(),
                entry: seam::AclEntry {
                    grantee: OWNER_CSE.id(),
                    ops: Ops::SIGN,
                    suid: Some(seam_tests::suid(45)),
                },
            },
        ],
    )
    .unwrap();
}

#[test]
#[cfg_attr(
    not(feature = "tee"),
    ignore = "needs the emulated device: cargo optee test"
)]
fn credential_survives_after_reboot() {
    if !on_device() {
        return;
    }
    if std::env::var_os("SEAM_AFTER_REBOOT").is_none() {
        seam_tests::tools::skipped("needs the second boot (cargo optee test runs it)");
        return;
    }
    let device = Device::new();
    let mut owner = device.client_as(OWNER_CSE);
    let key = seam::KeyRef {
        se: REBOOT_SE.try_into().unwrap(),
        key: "k".try_into().unwrap(),
        suid: seam_tests::suid(45),
    };
    let sig = owner
        .sign(&key, b"after reboot")
        .expect("the credential survived the reboot");
    let scalar: [u8; 32] = hex::decode(REBOOT_SCALAR).unwrap().try_into().unwrap();
    let public = seam::AdminKey::from_scalar(&scalar).unwrap().public_key();
    assert!(seam::signer::verify_with(&public, b"after reboot", &sig));
    device
        .client()
        .retire_se(device.issuer(), REBOOT_SE)
        .unwrap();
}

/// A PSK client transcript (TLS 1.2, no extensions) for the TA's random.
fn psk_transcript(random: &[u8; 32]) -> Vec<u8> {
    let message = |kind: u8, body: &[u8]| {
        let n = body.len();
        [&[kind, (n >> 16) as u8, (n >> 8) as u8, n as u8][..], body].concat()
    };
    [
        message(
            1,
            &[&[3, 3][..], random, &[0, 0, 2, 0, 0xAE, 1, 0]].concat(),
        ),
        message(2, &[&[3, 3][..], &[9; 32], &[0, 0, 0xAE, 0]].concat()),
        message(14, &[]),
        message(16, &[0, 1, b'x']),
    ]
    .concat()
}

/// The TA wipes a caller's handshake sessions when the caller's last TEE
/// session closes (its close-session entry), not before: a second TEE
/// session of the same caller keeps them alive.
#[test]
#[cfg_attr(
    not(feature = "tee"),
    ignore = "needs the emulated device: cargo optee test"
)]
fn closing_the_last_tee_session_wipes_the_callers_handshakes() {
    use seam::proto::handshake::Framing;
    if !on_device() {
        return;
    }
    let device = Device::new();
    let s = device.stakeholder_with("closing", true);
    let op = AdminOp::ImportPlaintext {
        object: "psk".try_into().unwrap(),
        suid: seam_tests::suid(12),
        kind: ObjectKind::Secret,
        material: seam::proto::Data::from_slice(&[7; 16]).unwrap(),
        attributes: Default::default(),
    };
    device.client().admin(&s.admin, &s.se, vec![op]).unwrap();
    s.grant("psk", OWNER_CSE, Ops::HANDSHAKE, 12);
    let psk = s.key("psk", 12);
    let open = |c: &mut seam::Client| {
        c.handshake_client_open(Framing::Tls, &[0x00AE], Some(&psk), None)
            .unwrap()
    };

    // Two TEE sessions of one caller: closing one keeps the handshakes.
    let mut first = device.client_as(OWNER_CSE);
    let mut second = device.client_as(OWNER_CSE);
    let kept = open(&mut first);
    drop(first);
    second
        .handshake_client_finish(kept.session, &psk_transcript(&kept.random))
        .expect("the caller still has a TEE session open");

    // Its last TEE session closes: its handshakes are gone.
    let lost = open(&mut second);
    drop(second);
    let mut third = device.client_as(OWNER_CSE);
    let why = third
        .handshake_client_finish(lost.session, &psk_transcript(&lost.random))
        .unwrap_err()
        .reason();
    assert_eq!(why, Some(Reason::UnknownHandshake));
}
