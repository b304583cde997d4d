//! Writes the fuzz seed corpus: `cargo run -p seam-tests --example write_fuzz_seeds`.

fn main() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus/process");
    std::fs::create_dir_all(&dir).expect("corpus dir");
    for (name, bytes) in seam_tests::fuzzing::seeds() {
        std::fs::write(dir.join(format!("seed-{name}")), bytes).expect("write seed");
    }
    println!("wrote seeds to {}", dir.display());
}
