//! Reference values computed outside seam's crypto: `tests/py/kdf.py`
//! (Python's hmac and hashlib) where python3 and the source tree are at hand,
//! else (on the emulated device) the same constructions over `ring`'s HMAC
//! and SHA-256 — BoringSSL's code, nothing shared with RustCrypto — so that a
//! bug in seam's code paths cannot hide in a comparison.

use std::process::Command;

/// Whether python3 and the reference script are here.
pub fn python_available() -> bool {
    use std::sync::OnceLock;
    static AVAILABLE: OnceLock<bool> = OnceLock::new();
    *AVAILABLE.get_or_init(|| {
        std::path::Path::new(SCRIPT).exists()
            && Command::new("python3")
                .arg("--version")
                .output()
                .map(|o| o.status.success())
                .unwrap_or(false)
    })
}

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/py/kdf.py");

/// Runs `kdf.py` with `args` and returns the bytes it prints (hex).
pub fn py(args: &[&str]) -> Vec<u8> {
    if !python_available() {
        return ring_ref::run(args);
    }
    let out = Command::new("python3")
        .arg(SCRIPT)
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

/// The constructions of `kdf.py`, over ring's HMAC-SHA-256 and SHA-256.
mod ring_ref {
    use ring::{digest, hmac};

    fn h(x: &str) -> Vec<u8> {
        hex::decode(x).expect("hex argument")
    }

    fn mac(key: &[u8], data: &[u8]) -> Vec<u8> {
        hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, key), data)
            .as_ref()
            .to_vec()
    }

    fn expand(prk: &[u8], info: &[u8], n: usize) -> Vec<u8> {
        let (mut out, mut t, mut i) = (Vec::new(), Vec::new(), 1u8);
        while out.len() < n {
            t = mac(prk, &[t.as_slice(), info, &[i]].concat());
            out.extend_from_slice(&t);
            i += 1;
        }
        out.truncate(n);
        out
    }

    fn salt_or_zeros(salt: Vec<u8>) -> Vec<u8> {
        if salt.is_empty() {
            vec![0; 32]
        } else {
            salt
        }
    }

    pub fn run(args: &[&str]) -> Vec<u8> {
        let (cmd, a) = (args[0], &args[1..]);
        match cmd {
            "prf" => {
                let (secret, n) = (h(a[0]), a[3].parse::<usize>().unwrap());
                let seed = [a[1].as_bytes(), &h(a[2])].concat();
                let (mut out, mut x) = (Vec::new(), mac(&secret, &seed));
                while out.len() < n {
                    out.extend(mac(&secret, &[x.as_slice(), &seed].concat()));
                    x = mac(&secret, &x);
                }
                out.truncate(n);
                out
            }
            "psk_premaster" => {
                let psk = h(a[0]);
                let n = (psk.len() as u16).to_be_bytes();
                [&n[..], &vec![0; psk.len()], &n, &psk].concat()
            }
            "hmac" => mac(
                &h(a[0]),
                &a[1..].iter().flat_map(|x| h(x)).collect::<Vec<u8>>(),
            ),
            "hkdf" => {
                let prk = mac(&salt_or_zeros(h(a[0])), &h(a[1]));
                expand(&prk, a[2].as_bytes(), a[3].parse().unwrap())
            }
            "sha256" => {
                let data: Vec<u8> = a.iter().flat_map(|x| h(x)).collect();
                digest::digest(&digest::SHA256, &data).as_ref().to_vec()
            }
            "extract" => mac(&salt_or_zeros(h(a[0])), &h(a[1])),
            "expand_label" => {
                let (secret, ctx, n) = (h(a[0]), h(a[2]), a[3].parse::<usize>().unwrap());
                let label = [b"tls13 ".as_slice(), a[1].as_bytes()].concat();
                let info = [
                    &(n as u16).to_be_bytes()[..],
                    &[label.len() as u8],
                    &label,
                    &[ctx.len() as u8],
                    &ctx,
                ]
                .concat();
                expand(&secret, &info, n)
            }
            "text" => a[0].as_bytes().to_vec(),
            other => panic!("unknown reference command {other}"),
        }
    }
}

#[cfg(test)]
mod tests {
    /// The device's reference (ring) agrees with the host's (python) on
    /// every construction.
    #[test]
    fn ring_and_python_references_agree() {
        if !crate::require_tool("python3") {
            return;
        }
        let cases: &[&[&str]] = &[
            &[
                "prf",
                "9bbe436ba940f017b17652849a71db35",
                "test label",
                "a0ba9f936cda311827a6f796ffd5198c",
                "100",
            ],
            &["psk_premaster", "0102030405"],
            &["hmac", "0b0b0b0b", "4869", "205468657265"],
            &["hkdf", "", "0b0b0b0b0b0b0b0b", "info", "82"],
            &["hkdf", "000102", "0b0b", "x", "42"],
            &["sha256", "616263", ""],
            &["extract", "", "0b0b"],
            &["expand_label", "00112233", "c hs traffic", "aabb", "32"],
        ];
        for args in cases {
            assert_eq!(super::py(args), super::ring_ref::run(args), "{args:?}");
        }
    }
}
