//! A damaged store object is reported as corrupt and takes down nothing
//! else. (Simulator files here; the REE FS equivalent runs on the device.)

use seam::proto::Reason;
use seam::Ops;
use seam_tests::{Backend, Device, OWNER_CSE};

#[test]
#[cfg_attr(
    feature = "tee",
    ignore = "simulator files (the device has its REE FS version)"
)]
fn a_corrupt_se_record_is_reported_and_the_others_still_work() {
    let device = Device::new();
    if device.backend() != Backend::Simulator {
        seam_tests::tools::skipped("simulator files (the device has its REE FS version)");
        return;
    }
    let a = device.stakeholder("victim");
    let b = device.stakeholder("bystander");
    for s in [&a, &b] {
        s.generate("k", 45);
        s.grant("k", OWNER_CSE, Ops::SIGN, 45);
    }
    let path = device.store_dir().unwrap().join(format!("se.{}", a.se));
    let mut bytes = std::fs::read(&path).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0xff;
    bytes.truncate(bytes.len() - 3);
    std::fs::write(&path, &bytes).unwrap();

    let mut owner = device.client_as(OWNER_CSE);
    let err = owner.sign(&a.key("k", 45), b"m").unwrap_err();
    assert_eq!(err.reason(), Some(Reason::StorageCorrupt));
    assert_eq!(err.status(), 5000);
    assert!(owner.sign(&b.key("k", 45), b"m").is_ok());
    let mut c = device.client();
    assert!(
        c.se_list().unwrap().contains(&a.se),
        "a corrupt SE is still listed"
    );
    assert!(c.node_info().unwrap().node.is_some());
}

#[test]
#[cfg_attr(
    feature = "tee",
    ignore = "simulator files (the device has its REE FS version)"
)]
fn a_record_moved_under_another_name_is_corrupt() {
    let device = Device::new();
    if device.backend() != Backend::Simulator {
        seam_tests::tools::skipped("simulator files (the device has its REE FS version)");
        return;
    }
    let a = device.stakeholder("moved-a");
    let b = device.stakeholder("moved-b");
    let dir = device.store_dir().unwrap();
    std::fs::copy(
        dir.join(format!("se.{}", a.se)),
        dir.join(format!("se.{}", b.se)),
    )
    .unwrap();
    let err = device.client().se_info(&b.se).unwrap_err();
    assert_eq!(err.reason(), Some(Reason::StorageCorrupt));
}

#[test]
#[cfg_attr(
    feature = "tee",
    ignore = "simulator files (the device has its REE FS version)"
)]
fn state_survives_reopening_the_store() {
    let device = Device::new();
    let a = device.stakeholder("durable");
    let public = a.generate("k", 45);
    a.grant("k", OWNER_CSE, Ops::SIGN, 45);
    // A new client is a new session (and on the simulator a new core over
    // the same files).
    let mut owner = device.client_as(OWNER_CSE);
    let sig = owner.sign(&a.key("k", 45), b"m").unwrap();
    assert!(seam::signer::verify_with(&public, b"m", &sig));
    assert_eq!(device.client().object_list(&a.se).unwrap().len(), 0);
    assert_eq!(
        owner.object_list(&a.se).unwrap()[0].public_key,
        Some(public)
    );
}
