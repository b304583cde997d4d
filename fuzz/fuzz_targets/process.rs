//! Any bytes into `SecureEnvironment::process`, from a caller with grants on
//! a provisioned SE: the answer must decode, carry a known status, and leave
//! the SE's key usable (unless the input was a valid retire or delete).
#![no_main]

use libfuzzer_sys::fuzz_target;
use seam_tests::fuzzing;

fuzz_target!(|data: &[u8]| {
    let mut node = fuzzing::node();
    let response = seam_tests::decode(&node.process(&fuzzing::caller(), data));
    assert!(seam_tests::seam::Status::from_code(response.status).is_some());
    let destructive = response.status == 2002
        || matches!(response.reply, seam_tests::seam::proto::Reply::Admin(_));
    if !destructive {
        assert!(fuzzing::key_still_signs(&mut node));
    }
});
