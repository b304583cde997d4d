//! Replays the fuzz corpora (seeds and anything the fuzzer kept): `process`
//! inputs get a decodable answer and the stored credentials survive them;
//! the structure-aware targets' inputs pass their own checks.

use seam_tests::{backend, fuzzing, Backend};

/// The corpus exercises seam-core in memory, not a backend: on the device
/// (where the source tree is absent) there is nothing more to learn.
fn on_host() -> bool {
    if backend() == Backend::Tee {
        seam_tests::tools::skipped("the corpus drives seam-core in memory, on the host");
        return false;
    }
    true
}

#[test]
#[cfg_attr(
    feature = "tee",
    ignore = "the corpus drives seam-core in memory, on the host"
)]
fn the_corpus_replays_without_harm() {
    if !on_host() {
        return;
    }
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus/process");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(
        files.len() >= fuzzing::seeds().len(),
        "corpus has fewer files than seeds"
    );
    let caller = fuzzing::caller();
    for file in &files {
        let input = std::fs::read(file).unwrap();
        let mut node = fuzzing::node();
        let response = seam_tests::decode(&node.process(&caller, &input));
        assert!(
            seam::Status::from_code(response.status).is_some(),
            "{}: status {}",
            file.display(),
            response.status
        );
        // A valid retire or admin command may rightly remove the key.
        let destructive =
            response.status == 2002 || matches!(response.reply, seam::proto::Reply::Admin(_));
        if !destructive {
            assert!(
                fuzzing::key_still_signs(&mut node),
                "{} destroyed the fixture key",
                file.display()
            );
        }
    }
}

#[test]
#[cfg_attr(
    feature = "tee",
    ignore = "the corpus drives seam-core in memory, on the host"
)]
fn the_seeds_are_valid_requests() {
    if !on_host() {
        return;
    }
    // Each seed is answered with success by a fresh fixture: if the protocol
    // changes, the committed corpus must be regenerated.
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus/process");
    for (name, bytes) in fuzzing::seeds() {
        let committed = std::fs::read(dir.join(format!("seed-{name}"))).unwrap();
        assert_eq!(
            committed, bytes,
            "seed-{name} is stale: cargo run -p seam-tests --example write_fuzz_seeds"
        );
        let mut node = fuzzing::node();
        let response = seam_tests::decode(&node.process(&fuzzing::caller(), &bytes));
        let expected = match name.as_str() {
            "init" => 4105, // already initialised (CONFLICT)
            "decrypt" | "jwe-decrypt" | "esprim-decrypt" => 4000, // the ciphertext is not authentic
            "mac" | "sdo-create" | "sdo-retrieve" => 4103, // not granted
            "issuer-retire" => 2002,
            // Handshake seeds reach the TA's message parser, then stop: the
            // fixture grants no handshake, names no credential, has no session.
            "hs-server-open" => 4103,
            "hs-client-open" => 4000,
            "hs-client-finish" => 4004,
            _ => 2000,
        };
        assert_eq!(response.status, expected, "seed {name}: {response:?}");
    }
}

/// Every committed input of a structure-aware target, through the same
/// function the fuzz target calls (each checks its own invariants).
fn replay(target: &str, run: fn(&[u8])) {
    if !on_host() {
        return;
    }
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/corpus")
        .join(target);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "{}: no corpus", dir.display());
    for file in &files {
        let input = std::fs::read(file).unwrap();
        let outcome = std::panic::catch_unwind(|| run(&input));
        assert!(outcome.is_ok(), "{} fails its checks", file.display());
    }
}

#[test]
fn the_requests_corpus_replays() {
    replay("requests", seam_tests::fuzz_requests::run);
}

#[test]
fn the_handshake_steps_corpus_replays() {
    replay("handshake_steps", seam_tests::fuzz_handshakes::run);
}

#[test]
fn the_bundles_corpus_replays() {
    replay("bundles", seam_tests::fuzz_bundles::run);
}

#[test]
fn the_engine_pair_corpus_replays() {
    replay("engine_pair", seam_tests::fuzz_engines::run);
}
