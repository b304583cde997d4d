//! Malformed, truncated, oversized and wrong-version requests are answered
//! with 4000 and change nothing stored; the session stays usable.

use proptest::prelude::*;
use seam::proto::{AdminOp, Op, Reason, Reply, Request, MAX_MESSAGE, PROTOCOL_VERSION};
use seam::Ops;
use seam_tests::{decode, encode, Device, Stakeholder, OWNER_CSE};

/// What a caller can observe of the node, plus (on the simulator) the exact
/// stored bytes.
fn snapshot(device: &Device, s: &Stakeholder<'_>) -> String {
    let mut c = device.client();
    // The node's identity, not its issuer counter: on the device other tests
    // share the node and create SEs meanwhile.
    let node = c.node().unwrap();
    let mut out = format!(
        "{:?} {:?} {:?}\n{:?}\n",
        node.node_id,
        node.issuer,
        node.key_agreement,
        c.se_info(&s.se).unwrap()
    );
    let mut owner = device.client_as(OWNER_CSE);
    out += &format!("{:?}\n", owner.object_list(&s.se).unwrap());
    if let Some(dir) = device.store_dir() {
        let mut files: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        for f in files {
            out += &format!("{}: {:?}\n", f.display(), std::fs::read(&f).unwrap());
        }
    }
    out
}

fn fixture(device: &Device) -> Stakeholder<'_> {
    let s = device.stakeholder("malformed");
    s.generate("k", 45);
    s.grant("k", OWNER_CSE, Ops::SIGN, 45);
    s
}

fn valid_requests(s: &Stakeholder<'_>) -> Vec<Vec<u8>> {
    let mut c = s.device.client();
    let node = c.node().unwrap();
    let info = c.se_info(&s.se).unwrap();
    let admin = seam::client::sign_admin(
        &s.admin,
        &node,
        &info,
        info.admin_counter + 1,
        vec![AdminOp::GenerateSecret {
            object: "fresh".try_into().unwrap(),
            suid: seam_tests::suid(12),
            len: 32,
            attributes: Default::default(),
        }],
    )
    .unwrap();
    [
        Op::NodeInfo,
        Op::SeInfo {
            se: s.se.as_str().try_into().unwrap(),
        },
        Op::Sign {
            key: s.key("k", 45),
            input: seam::proto::SignInput::Message(
                seam::proto::Data::from_slice(b"hello").unwrap(),
            ),
        },
        Op::Admin(admin),
    ]
    .into_iter()
    .map(|op| encode(&Request::new(op)))
    .collect()
}

fn assert_bad_request(bytes: &[u8], reason: Reason, c: &mut seam::Client) {
    let response = decode(&c.call_raw(bytes).unwrap());
    assert_eq!(response.status, 4000, "{bytes:02x?}");
    assert_eq!(response.reply, Reply::Failed(reason), "{bytes:02x?}");
}

#[test]
fn every_truncation_of_a_valid_request_is_malformed() {
    let device = Device::new();
    let s = fixture(&device);
    let before = snapshot(&device, &s);
    let mut c = device.client();
    for request in valid_requests(&s) {
        for len in 0..request.len() {
            assert_bad_request(&request[..len], Reason::Malformed, &mut c);
        }
        // A trailing byte is as wrong as a missing one.
        let mut longer = request.clone();
        longer.push(0);
        assert_bad_request(&longer, Reason::Malformed, &mut c);
    }
    assert_eq!(before, snapshot(&device, &s));
    // The session still works.
    assert!(device
        .client_as(OWNER_CSE)
        .sign(&s.key("k", 45), b"still alive")
        .is_ok());
}

#[test]
fn oversized_and_wrong_version_requests_are_refused() {
    let device = Device::new();
    let s = fixture(&device);
    let before = snapshot(&device, &s);
    let mut c = device.client();
    let mut big = encode(&Request::new(Op::NodeInfo));
    big.resize(MAX_MESSAGE + 1, 0);
    assert_bad_request(&big, Reason::TooLarge, &mut c);
    for version in [0u16, PROTOCOL_VERSION + 1, 0xffff] {
        let request = Request {
            version,
            op: Op::NodeInfo,
        };
        assert_bad_request(&encode(&request), Reason::UnsupportedVersion, &mut c);
    }
    assert_eq!(before, snapshot(&device, &s));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_change_nothing(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let device = shared_device();
        let (s, before) = shared_fixture(device);
        let response = decode(&device.client().call_raw(&bytes).unwrap());
        // Bytes that happen to form a valid read may succeed; anything else is 4000.
        if let Reply::Failed(reason) = response.reply {
            prop_assert!(seam::Status::from_code(response.status).is_some());
            prop_assert_eq!(reason.status().code(), response.status);
        }
        prop_assert_eq!(before, &snapshot(device, s));
    }

    #[test]
    fn flipped_bytes_in_valid_requests_change_nothing(which in 0usize..4, pos in any::<prop::sample::Index>(), bit in 0u8..8) {
        let device = shared_device();
        let (s, before) = shared_fixture(device);
        let mut request = valid_requests(s)[which].clone();
        let i = pos.index(request.len());
        request[i] ^= 1 << bit;
        let response = decode(&device.client().call_raw(&request).unwrap());
        if which == 3 {
            // A flipped admin command never applies.
            prop_assert!(response.status >= 4000, "{:?}", response);
        }
        prop_assert_eq!(before, &snapshot(device, s));
    }
}

/// 128 cases on the simulator; 32 under emulation, where each costs a TA call.
fn cases() -> u32 {
    let default = match seam_tests::backend() {
        seam_tests::Backend::Tee => 32,
        seam_tests::Backend::Simulator => 128,
    };
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

// One device and fixture shared by all cases of a property (leaked: it lives
// for the whole test process).
fn shared_device() -> &'static Device {
    use std::sync::OnceLock;
    static DEVICE: OnceLock<&'static Device> = OnceLock::new();
    DEVICE.get_or_init(|| Box::leak(Box::new(Device::new())))
}

fn shared_fixture(device: &'static Device) -> (&'static Stakeholder<'static>, &'static String) {
    use std::sync::OnceLock;
    static FIXTURE: OnceLock<(&'static Stakeholder<'static>, &'static String)> = OnceLock::new();
    *FIXTURE.get_or_init(|| {
        let s: &'static Stakeholder<'static> = Box::leak(Box::new(fixture(device)));
        let before: &'static String = Box::leak(Box::new(snapshot(device, s)));
        (s, before)
    })
}
