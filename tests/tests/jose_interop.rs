//! seam's JOSE against an implementation nobody here wrote: Python's
//! jwcrypto (pinned, installed by this test into a venv under target/)
//! verifies and decrypts what seam produces, and seam verifies and decrypts
//! what jwcrypto produces, for ES256, HS256 and every JWE alg × enc seam
//! offers, in both serialisations. Without python3/jwcrypto the test fails
//! under SEAM_REQUIRE_TOOLS=1 and otherwise skips, saying so loudly.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use seam::jose::{self, JweAlg, JweEnc, JwsAlg, Serialization};
use seam::proto::KeyRef;
use seam_tests::jose_keys::{JoseKey, JoseKeys};
use seam_tests::{Device, OWNER_CSE};
use serde_json::{json, Map, Value};

/// The jwcrypto release the test pins.
const JWCRYPTO: &str = "jwcrypto==1.5.6";

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"))
}

fn run(cmd: &mut Command) -> Result<(), String> {
    let out = cmd.output().map_err(|e| format!("running {cmd:?}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{cmd:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// A python with jwcrypto, installing it the way CI would.
fn jwcrypto_python() -> Result<PathBuf, String> {
    let venv = target_dir().join("jose-venv");
    let python = venv.join("bin/python");
    let has = |p: &Path| {
        Command::new(p)
            .args(["-c", "import jwcrypto"])
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false)
    };
    if has(&python) {
        return Ok(python);
    }
    if run(Command::new("python3").args(["-m", "venv"]).arg(&venv)).is_err() {
        // Debian splits venv out; as root, install it as CI would.
        let _ = run(Command::new("apt-get").arg("update").arg("-q"));
        run(Command::new("apt-get").args(["install", "-y", "-q", "python3-venv"]))?;
        let _ = std::fs::remove_dir_all(&venv);
        run(Command::new("python3").args(["-m", "venv"]).arg(&venv))?;
    }
    run(Command::new(&python).args(["-m", "pip", "install", "-q", JWCRYPTO]))?;
    if has(&python) {
        Ok(python)
    } else {
        Err("jwcrypto did not import after installing it".into())
    }
}

fn peer(python: &Path, job: &Value) -> Value {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("interop/jose_jwcrypto.py");
    let mut child = Command::new(python)
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("starting the jwcrypto peer");
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(job.to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "jwcrypto peer failed");
    serde_json::from_slice(&out.stdout).expect("peer output is JSON")
}

fn serializations() -> [(Serialization, bool); 2] {
    [
        (Serialization::Compact, true),
        (Serialization::Flattened, false),
    ]
}

/// Flip one bit in the middle of the last base64url part of a compact
/// object, keeping it valid base64url: a tampered token the peer must refuse.
fn tamper(token: &str) -> String {
    let dot = token.rfind('.').unwrap();
    let mut bytes = token.as_bytes().to_vec();
    let i = dot + 2;
    bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
    String::from_utf8(bytes).unwrap()
}

struct Case<'a> {
    id: String,
    key: &'a JoseKey,
    /// The key the peer uses, when not `key`'s own.
    peer_key: &'a JoseKey,
}

#[test]
fn seam_and_jwcrypto_interoperate() {
    if !seam_tests::require_tool("python3") {
        return;
    }
    let python = match jwcrypto_python() {
        Ok(p) => p,
        Err(why) if seam_tests::tools::tools_required() => {
            panic!("jwcrypto is required (SEAM_REQUIRE_TOOLS=1) but could not be had: {why}")
        }
        Err(why) => {
            use std::io::Write;
            let _ = writeln!(
                std::io::stderr(),
                "SKIPPED seam_and_jwcrypto_interoperate: no jwcrypto ({why})"
            );
            return;
        }
    };
    let device = Device::new();
    let s = device.stakeholder("jose");
    let k = JoseKeys::provision(&s, OWNER_CSE);
    let mut c = device.client_as(OWNER_CSE);
    let none = Map::new();
    let payload = b"{\"op\":1,\"to\":\"/cse-in/ae\",\"pc\":{\"m2m:cin\":{\"con\":\"21.5\"}}}";

    let mut keys = Map::new();
    let mut check = Vec::new();
    let mut make = Vec::new();
    // What seam must accept from the peer: (id, kind, our key, expected payload).
    let mut ours: Vec<(String, &str, KeyRef)> = Vec::new();

    // --- JWS
    let jws_cases = [
        (JwsAlg::Es256, &k.es_own, &k.es_peer, "es"),
        (JwsAlg::Hs256, &k.hs, &k.hs, "hs"),
    ];
    for (alg, own, theirs, name) in jws_cases {
        keys.insert(format!("{name}-own"), own.jwk.clone());
        keys.insert(format!("{name}-peer"), theirs.jwk.clone());
        for (ser, compact) in serializations() {
            let id = format!("jws-{}-{compact}", alg.name());
            let token = jose::jws_sign(&mut c, &own.key, alg, payload, &none, ser).unwrap();
            check.push(
                json!({"id": id, "kind": "jws", "key": format!("{name}-own"),
                              "token": token, "alg": alg.name()}),
            );
            if compact {
                check.push(json!({"id": format!("{id}-tampered"), "kind": "jws",
                                  "key": format!("{name}-own"), "token": tamper(&token)}));
            }
            make.push(json!({"id": id, "kind": "jws", "alg": alg.name(),
                             "key": format!("{name}-peer"), "payload": hex::encode(payload),
                             "compact": compact}));
            ours.push((id, "jws", theirs.key.clone()));
        }
    }

    // --- JWE: (alg, enc, the SE's key to encrypt with, the peer's key to
    // decrypt with, the peer's key to encrypt with, the SE's key to decrypt with)
    let jwe_cases: Vec<(JweAlg, JweEnc, Case, Case)> = vec![
        (
            JweAlg::Dir,
            JweEnc::A128Gcm,
            Case {
                id: "dir128".into(),
                key: &k.dir128,
                peer_key: &k.dir128,
            },
            Case {
                id: "dir128".into(),
                key: &k.dir128,
                peer_key: &k.dir128,
            },
        ),
        (
            JweAlg::Dir,
            JweEnc::A256Gcm,
            Case {
                id: "dir256".into(),
                key: &k.dir256,
                peer_key: &k.dir256,
            },
            Case {
                id: "dir256".into(),
                key: &k.dir256,
                peer_key: &k.dir256,
            },
        ),
        (
            JweAlg::A128Kw,
            JweEnc::A128Gcm,
            Case {
                id: "kw128".into(),
                key: &k.kw128,
                peer_key: &k.kw128,
            },
            Case {
                id: "kw128".into(),
                key: &k.kw128,
                peer_key: &k.kw128,
            },
        ),
        (
            JweAlg::A128Kw,
            JweEnc::A256Gcm,
            Case {
                id: "kw128".into(),
                key: &k.kw128,
                peer_key: &k.kw128,
            },
            Case {
                id: "kw128".into(),
                key: &k.kw128,
                peer_key: &k.kw128,
            },
        ),
        (
            JweAlg::A256Kw,
            JweEnc::A128Gcm,
            Case {
                id: "kw256".into(),
                key: &k.kw256,
                peer_key: &k.kw256,
            },
            Case {
                id: "kw256".into(),
                key: &k.kw256,
                peer_key: &k.kw256,
            },
        ),
        (
            JweAlg::A256Kw,
            JweEnc::A256Gcm,
            Case {
                id: "kw256".into(),
                key: &k.kw256,
                peer_key: &k.kw256,
            },
            Case {
                id: "kw256".into(),
                key: &k.kw256,
                peer_key: &k.kw256,
            },
        ),
        // The SE encrypts to the peer's public key; the peer to the SE's.
        (
            JweAlg::EcdhEsA128Kw,
            JweEnc::A128Gcm,
            Case {
                id: "ecdh-peer".into(),
                key: &k.ecdh_peer,
                peer_key: &k.ecdh_peer,
            },
            Case {
                id: "ecdh-own".into(),
                key: &k.ecdh_own,
                peer_key: &k.ecdh_own,
            },
        ),
        (
            JweAlg::EcdhEsA128Kw,
            JweEnc::A256Gcm,
            Case {
                id: "ecdh-peer".into(),
                key: &k.ecdh_peer,
                peer_key: &k.ecdh_peer,
            },
            Case {
                id: "ecdh-own".into(),
                key: &k.ecdh_own,
                peer_key: &k.ecdh_own,
            },
        ),
    ];
    for (alg, enc, to_peer, from_peer) in &jwe_cases {
        keys.insert(to_peer.id.clone(), to_peer.peer_key.jwk.clone());
        keys.insert(from_peer.id.clone(), from_peer.peer_key.jwk.clone());
        for (ser, compact) in serializations() {
            let id = format!("jwe-{}-{}-{compact}", alg.name(), enc.name());
            let token =
                jose::jwe_encrypt(&mut c, &to_peer.key.key, *alg, *enc, payload, &none, ser)
                    .unwrap_or_else(|e| panic!("{id}: {e}"));
            check.push(json!({"id": id, "kind": "jwe", "key": to_peer.id, "token": token}));
            if compact {
                check.push(json!({"id": format!("{id}-tampered"), "kind": "jwe",
                                  "key": to_peer.id, "token": tamper(&token)}));
            }
            make.push(
                json!({"id": id, "kind": "jwe", "alg": alg.name(), "enc": enc.name(),
                             "key": from_peer.id, "plaintext": hex::encode(payload),
                             "compact": compact}),
            );
            ours.push((id, "jwe", from_peer.key.key.clone()));
        }
    }

    let out = peer(
        &python,
        &json!({"keys": keys, "check": check, "make": make}),
    );

    // The peer accepted every object seam made, with the right payload, and
    // refused every tampered one.
    let mut accepted = 0;
    let mut refused = 0;
    for item in &check {
        let id = item["id"].as_str().unwrap();
        let r = &out["checked"][id];
        if id.ends_with("-tampered") {
            assert_eq!(r["ok"], false, "jwcrypto accepted tampered {id}");
            refused += 1;
        } else {
            assert_eq!(
                r["ok"], true,
                "jwcrypto refused seam's {id}: {}",
                r["error"]
            );
            assert_eq!(r["payload"], hex::encode(payload), "{id}");
            accepted += 1;
        }
    }
    // Seam accepts every object the peer made, with the right payload.
    for (id, kind, key) in &ours {
        let token = out["made"][id.as_str()].as_str().unwrap().as_bytes();
        let got = match *kind {
            "jws" => jose::jws_verify(&mut c, key, token).map(|v| v.payload),
            _ => jose::jwe_decrypt(&mut c, key, token),
        }
        .unwrap_or_else(|e| panic!("seam refused jwcrypto's {id}: {e}"));
        assert_eq!(got, payload, "{id}");
    }
    println!(
        "jwcrypto accepted {accepted} seam objects and refused {refused} tampered ones; \
         seam accepted {} jwcrypto objects",
        ours.len()
    );
    assert_eq!(accepted, 4 + 16);
    assert_eq!(ours.len(), 4 + 16);
}
