//! Reference values computed outside Rust: `tests/py/kdf.py` (Python's
//! hmac and hashlib), so that a bug shared by seam's Rust code paths cannot
//! hide in a comparison.

use std::process::Command;

/// Whether python3 runs here.
pub fn python_available() -> bool {
    Command::new("python3")
        .arg("--version")
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

/// Runs `kdf.py` with `args` and returns the bytes it prints (hex).
pub fn py(args: &[&str]) -> Vec<u8> {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/py/kdf.py");
    let out = Command::new("python3")
        .arg(script)
        .args(args)
        .output()
        .expect("python3 (the reference computations need it)");
    assert!(
        out.status.success(),
        "kdf.py {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    hex::decode(String::from_utf8_lossy(&out.stdout).trim()).expect("kdf.py prints hex")
}

fn hx(b: &[u8]) -> String {
    hex::encode(b)
}

/// TLS 1.2 PRF-SHA256.
pub fn prf(secret: &[u8], label: &str, seed: &[u8], len: usize) -> Vec<u8> {
    py(&["prf", &hx(secret), label, &hx(seed), &len.to_string()])
}

/// RFC 4279 PSK premaster secret.
pub fn psk_premaster(psk: &[u8]) -> Vec<u8> {
    py(&["psk_premaster", &hx(psk)])
}

/// HMAC-SHA-256 of the concatenated parts.
pub fn hmac(key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    let mut args = vec!["hmac".to_string(), hx(key)];
    args.extend(parts.iter().map(|p| hx(p)));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    py(&args)
}

/// RFC 5869 HKDF-SHA-256.
pub fn hkdf(salt: &[u8], ikm: &[u8], info: &str, len: usize) -> Vec<u8> {
    py(&["hkdf", &hx(salt), &hx(ikm), info, &len.to_string()])
}

/// SHA-256 of the concatenated parts.
pub fn sha256(parts: &[&[u8]]) -> Vec<u8> {
    let mut args = vec!["sha256".to_string()];
    args.extend(parts.iter().map(|p| hx(p)));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    py(&args)
}

/// HKDF-Extract (empty salt = zeros).
pub fn extract(salt: &[u8], ikm: &[u8]) -> Vec<u8> {
    py(&["extract", &hx(salt), &hx(ikm)])
}

/// TLS 1.3 HKDF-Expand-Label.
pub fn expand_label(secret: &[u8], label: &str, context: &[u8], len: usize) -> Vec<u8> {
    py(&[
        "expand_label",
        &hx(secret),
        label,
        &hx(context),
        &len.to_string(),
    ])
}
