//! The ACME oneM2M CSE (`acmecse` from PyPI, pinned, installed by this test
//! into a venv under target/) secured by `seam tunnel`, as a device image
//! would run it: a real CSE that nobody here wrote, speaking plain HTTP and
//! CoAP on loopback, with every (D)TLS secret in an SE.
//!
//! - Mcc over HTTPS with mutual TLS: an IN-CSE behind `seam tunnel server`,
//!   an MN-CSE registering to it through `seam tunnel client`, each side's
//!   key generated inside its own SE (two simulator stores) and certified by
//!   a test CA with the CSE-ID as SAN URI. The `<remoteCSE>` appears on the
//!   IN-CSE, a request retargeted from the MN to the IN succeeds, and a TLS
//!   client holding no credential, or a tunnel client certified by another
//!   CA, is refused and creates nothing.
//! - CoAP over DTLS with PSK-AES128-CCM8: ACME's CoAP binding behind `seam
//!   tunnel server --dtls`, Debian's libcoap client creating an AE with the
//!   PSK; the AE is then visible over HTTP; a wrong PSK creates nothing.
//!
//! ACME's traps, handled here: `--headless` exits 0 without a word on a bad
//! configuration (so a CSE that exits before `CSE started` fails the test
//! with its log file); after registration an MN-CSE talks to the point of
//! access the IN-CSE advertises, so the IN-CSE advertises the tunnel client;
//! each instance has its own base directory and ports.

mod tunnel_support;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, SanType};
use seam::dtls::Suite;
use seam::proto::Ops;
use seam_tests::{Device, Who};
use tunnel_support::*;

/// The ACME release the test pins.
const ACMECSE: &str = "acmecse==2026.5.3";
/// How long an ACME CSE may take to start or an MN-CSE to register on a
/// busy host.
const CSE_TIMEOUT: Duration = Duration::from_secs(120);
const SP: &str = "//m2m.seam.test";
const IN_NAME: &str = "in-cse.seam.test";
/// The CSE keys' SUID: 4 certificate credential, 2 (D)TLS.
const KEY_SUID: u8 = 42;

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

/// The `acmecse` entry point of a venv with the pinned ACME, installed the
/// way CI would (once; the tests of this file share it).
fn acmecse() -> Option<PathBuf> {
    static INSTALL: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _one = INSTALL.lock().unwrap_or_else(|p| p.into_inner());
    let venv = target_dir().join("acme-venv");
    let python = venv.join("bin/python");
    let pinned = |p: &Path| {
        Command::new(p)
            .args(["-m", "pip", "show", "acmecse"])
            .output()
            .map(|o| {
                let version = ACMECSE.split_once("==").map_or("", |v| v.1);
                String::from_utf8_lossy(&o.stdout).contains(&format!("Version: {version}\n"))
            })
            .unwrap_or(false)
    };
    let install = || -> Result<(), String> {
        if !python.exists() && run(Command::new("python3").args(["-m", "venv"]).arg(&venv)).is_err()
        {
            // Debian splits venv out; as root, install it as CI would.
            let _ = run(Command::new("apt-get").arg("update").arg("-q"));
            run(Command::new("apt-get").args(["install", "-y", "-q", "python3-venv"]))?;
            let _ = std::fs::remove_dir_all(&venv);
            run(Command::new("python3").args(["-m", "venv"]).arg(&venv))?;
        }
        run(Command::new(&python).args(["-m", "pip", "install", "-q", ACMECSE]))
    };
    let outcome = if pinned(&python) {
        Ok(())
    } else {
        install().and_then(|()| {
            if pinned(&python) {
                Ok(())
            } else {
                Err(format!("{ACMECSE} is not there after installing it"))
            }
        })
    };
    match outcome {
        Ok(()) => Some(venv.join("bin/acmecse")),
        Err(why) => {
            if seam_tests::tools::tools_required() {
                panic!("ACME is required (SEAM_REQUIRE_TOOLS=1) but could not be had: {why}");
            }
            seam_tests::tools::skipped(&format!("no ACME CSE ({why})"));
            None
        }
    }
}

/// A running ACME CSE in its own base directory; killed on drop.
struct Cse {
    proc: Proc,
    dir: tempfile::TempDir,
    http: SocketAddr,
    name: &'static str,
}

impl Cse {
    /// Writes `ini` as the CSE's acme.ini and waits for `CSE started`.
    fn start(acmecse: &Path, name: &'static str, ini: &str) -> Cse {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("acme.ini"), ini).unwrap();
        let mut cmd = Command::new(acmecse);
        cmd.arg("--base-directory")
            .arg(dir.path())
            .arg("--headless");
        cmd.current_dir(dir.path());
        let proc = Proc::spawn(cmd, None);
        let http_port: u16 = ini
            .lines()
            .find_map(|l| l.strip_prefix("httpPort="))
            .and_then(|p| p.trim().parse().ok())
            .expect("the ini names httpPort");
        let cse = Cse {
            proc,
            dir,
            http: SocketAddr::from(([127, 0, 0, 1], http_port)),
            name,
        };
        let start = Instant::now();
        while !cse.proc.output().contains("CSE started") {
            // `--headless` exits 0 silently on a bad configuration: say so.
            let exited = std::fs::read_to_string(format!("/proc/{}/stat", cse.proc.child.id()))
                .map(|s| s.split_whitespace().nth(2) == Some("Z"))
                .unwrap_or(true);
            assert!(
                !exited && start.elapsed() < CSE_TIMEOUT,
                "ACME {name} did not start (exited: {exited}):\n{}\nlog:\n{}",
                cse.proc.output(),
                cse.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        cse
    }

    /// The CSE's log file(s).
    fn log(&self) -> String {
        let mut all = String::new();
        if let Ok(entries) = std::fs::read_dir(self.dir.path().join("logs")) {
            for e in entries.flatten() {
                all.push_str(&std::fs::read_to_string(e.path()).unwrap_or_default());
            }
        }
        all
    }

    fn get(&self, path: &str, origin: &str) -> (u16, serde_json::Value) {
        http(self.http, "GET", path, origin, None, None)
            .unwrap_or_else(|e| panic!("GET {path} on {}: {e}\n{}", self.name, self.log()))
    }
}

/// The settings both CSEs share: loopback only, memory DB, logs in a file
/// (screen logging would fill the pipe), CSEs identified under one SP.
fn ini(kind: &str, id: &str, name: &str, http_port: u16, extra: &str) -> String {
    format!(
        "[basic.config]\ncseType={kind}\ncseID={id}\ncseName={name}\nserviceProviderID={SP}\n\
         adminID=CAdmin\nnetworkInterface=127.0.0.1\ncseHost=127.0.0.1\nhttpPort={http_port}\n\
         databaseType=memory\nlogLevel=info\nconsoleType=simple\n{extra}\n\
         [logging]\nenableFileLogging=true\nenableScreenLogging=false\n\
         [textui]\nstartWithTUI=false\n"
    )
}

/// One oneM2M request over HTTP/1.1 (`Connection: close`): the status and
/// the JSON body (Null when there is none).
fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    origin: &str,
    ty: Option<u8>,
    body: Option<&str>,
) -> std::io::Result<(u16, serde_json::Value)> {
    let mut s = TcpStream::connect_timeout(&addr, TIMEOUT)?;
    s.set_read_timeout(Some(Duration::from_secs(30)))?;
    let body = body.unwrap_or("");
    let content_type = match ty {
        Some(ty) => format!("Content-Type: application/json;ty={ty}\r\n"),
        None => String::new(),
    };
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nX-M2M-Origin: {origin}\r\n\
         X-M2M-RI: seam-{}\r\nX-M2M-RVI: 3\r\nAccept: application/json\r\n{content_type}\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        std::process::id(),
        body.len()
    )?;
    let mut got = Vec::new();
    s.read_to_end(&mut got)?;
    let text = String::from_utf8_lossy(&got).into_owned();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("no HTTP response: {text:?}"),
            )
        })?;
    let json = text
        .split_once("\r\n\r\n")
        .and_then(|(_, b)| serde_json::from_str(b).ok())
        .unwrap_or(serde_json::Value::Null);
    Ok((status, json))
}

/// A certificate for an SE key with a CSE-ID as SAN URI.
fn cse_cert(
    cn: &str,
    dns: &str,
    cse_id: &str,
    public: &seam::proto::PublicKey,
    ca: &rcgen::Certificate,
    ca_key: &KeyPair,
) -> String {
    let mut p = CertificateParams::new(vec![dns.to_string()]).unwrap();
    p.subject_alt_names
        .push(SanType::URI(cse_id.try_into().unwrap()));
    p.distinguished_name.push(DnType::CommonName, cn);
    p.signed_by(&TaPublicKey(*public), ca, ca_key)
        .unwrap()
        .pem()
}

fn test_ca(name: &str) -> (rcgen::Certificate, KeyPair) {
    let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.distinguished_name.push(DnType::CommonName, name);
    (p.self_signed(&key).unwrap(), key)
}

/// `seam --json tunnel ARGS` on `device`'s store.
fn tunnel(device: &Device, args: &[String]) -> Tunnel {
    let mut cmd = Command::new(seam_tests::cli::seam_binary());
    match seam_tests::backend() {
        seam_tests::Backend::Simulator => {
            cmd.arg("--backend").arg("sim").arg("--store");
            cmd.arg(device.store_dir().expect("a simulator store"));
        }
        seam_tests::Backend::Tee => {
            cmd.args(["--backend", "tee"]);
        }
    }
    cmd.arg("--json").arg("tunnel").args(args);
    Tunnel::spawn(cmd)
}

fn wait_until(what: &str, mut done: impl FnMut() -> bool, context: impl Fn() -> String) {
    let start = Instant::now();
    while !done() {
        assert!(
            start.elapsed() < CSE_TIMEOUT,
            "timed out waiting for {what}\n{}",
            context()
        );
        std::thread::sleep(Duration::from_millis(250));
    }
}

const AE_ROGUE: &str = r#"{"m2m:ae":{"rn":"rogue","api":"Nrogue","rr":false,"srv":["3"]}}"#;

#[test]
fn mn_cse_registers_to_in_cse_over_mutual_tls_through_seam() {
    if seam_tests::backend() != seam_tests::Backend::Simulator {
        return seam_tests::tools::skipped("ACME runs on the host (simulator backend)");
    }
    if !seam_tests::require_tool("openssl") {
        return;
    }
    let Some(acmecse) = acmecse() else { return };

    // Each CSE's key is generated inside its own SE, on its own node.
    let in_device = Device::new();
    let mn_device = Device::new();
    let in_st = in_device.stakeholder("in-cse");
    let mn_st = mn_device.stakeholder("mn-cse");
    let in_public = in_st.generate("cse-key", KEY_SUID);
    in_st.grant(
        "cse-key",
        Who::Me,
        Ops::HANDSHAKE.union(Ops::SIGN),
        KEY_SUID,
    );
    let mn_public = mn_st.generate("cse-key", KEY_SUID);
    mn_st.grant(
        "cse-key",
        Who::Me,
        Ops::HANDSHAKE.union(Ops::SIGN),
        KEY_SUID,
    );
    // A key in the MN's SE that another CA certified.
    let rogue_public = mn_st.generate("rogue-key", KEY_SUID);
    mn_st.grant(
        "rogue-key",
        Who::Me,
        Ops::HANDSHAKE.union(Ops::SIGN),
        KEY_SUID,
    );

    let pki = tempfile::tempdir().unwrap();
    let file = |name: &str| pki.path().join(name).display().to_string();
    let (ca, ca_key) = test_ca("seam m2m test CA");
    let (other_ca, other_key) = test_ca("another CA");
    let w = |name: &str, text: String| std::fs::write(pki.path().join(name), text).unwrap();
    w("ca.pem", ca.pem());
    w(
        "in.pem",
        cse_cert(
            "IN-CSE",
            IN_NAME,
            "//m2m.seam.test/id-in",
            &in_public,
            &ca,
            &ca_key,
        ),
    );
    w(
        "mn.pem",
        cse_cert(
            "MN-CSE",
            "mn-cse.seam.test",
            "//m2m.seam.test/id-mn",
            &mn_public,
            &ca,
            &ca_key,
        ),
    );
    w(
        "rogue.pem",
        cse_cert(
            "MN-CSE",
            "mn-cse.seam.test",
            "//m2m.seam.test/id-mn",
            &rogue_public,
            &other_ca,
            &other_key,
        ),
    );

    // The IN-CSE's plain HTTP port, then the two tunnels, then the CSEs:
    // the IN-CSE advertises the tunnel client as its point of access.
    let in_port = free_port(false);
    let mn_port = free_port(false);
    let server = tunnel(
        &in_device,
        &[
            s("server"),
            s("--tls"),
            s("--listen"),
            s("127.0.0.1:0"),
            s("--forward"),
            format!("127.0.0.1:{in_port}"),
            s("--credential"),
            format!("{}/cse-key", in_st.se),
            s("--cert"),
            file("in.pem"),
            s("--ca"),
            file("ca.pem"),
        ],
    );
    let client_args = |key: &str, cert: &str| {
        vec![
            s("client"),
            s("--tls"),
            s("--listen"),
            s("127.0.0.1:0"),
            s("--connect"),
            server.addr.to_string(),
            s("--credential"),
            format!("{}/{key}", mn_st.se),
            s("--cert"),
            file(cert),
            s("--ca"),
            file("ca.pem"),
            s("--server-name"),
            s(IN_NAME),
        ]
    };
    let client = tunnel(&mn_device, &client_args("cse-key", "mn.pem"));

    let in_cse = Cse::start(
        &acmecse,
        "IN-CSE",
        &ini(
            "IN",
            "id-in",
            "cse-in",
            in_port,
            &format!(
                "[cse]\npoa=http://{}\n[cse.registration]\nallowedCSROriginators=/id-mn\n\
                 [coap]\nenable=false\n",
                client.addr
            ),
        ),
    );
    let mn_cse = Cse::start(
        &acmecse,
        "MN-CSE",
        &ini(
            "MN",
            "id-mn",
            "cse-mn",
            mn_port,
            &format!(
                "registrarCseHost=127.0.0.1\nregistrarCsePort={}\nregistrarCseID=id-in\n\
                 registrarCseName=cse-in\n[coap]\nenable=false\n",
                client.addr.port()
            ),
        ),
    );
    let context = || {
        format!(
            "IN-CSE log:\n{}\nMN-CSE log:\n{}\ntunnel server:\n{}\ntunnel client:\n{}",
            in_cse.log(),
            mn_cse.log(),
            server.proc.output(),
            client.proc.output()
        )
    };

    // The registration: a <remoteCSE> for the MN-CSE on the IN-CSE.
    let csrs = || in_cse.get("/~/id-in/cse-in?fu=1&ty=16", "CAdmin").1;
    wait_until(
        "the MN-CSE's <remoteCSE> on the IN-CSE",
        || csrs()["m2m:uril"] == serde_json::json!(["cse-in/id-mn"]),
        context,
    );
    let (status, csr) = in_cse.get("/~/id-in/cse-in/id-mn", "CAdmin");
    assert_eq!(status, 200, "{csr}\n{}", context());
    assert_eq!(csr["m2m:csr"]["csi"], "/id-mn", "{csr}");
    // And the MN-CSE's own <remoteCSE> for its registrar.
    wait_until(
        "the IN-CSE's <remoteCSE> on the MN-CSE",
        || mn_cse.get("/~/id-mn/cse-mn/id-in", "CAdmin").0 == 200,
        context,
    );

    // Each tunnel authenticated the other CSE by the CSE-ID in its certificate.
    let accepted = server.wait_events("connection", 1);
    assert!(!accepted.is_empty(), "{}", context());
    for c in &accepted {
        assert_eq!(c["identity"]["san_uris"][0], "//m2m.seam.test/id-mn", "{c}");
    }
    let opened = client.wait_events("connection", 1);
    assert_eq!(
        opened[0]["identity"]["san_uris"][0], "//m2m.seam.test/id-in",
        "{opened:?}"
    );
    let suite = opened[0]["suite"].as_str().unwrap_or_default().to_string();
    assert!(
        [
            Suite::EcdheEcdsaAes128Ccm8.name(),
            Suite::EcdheEcdsaAes128CbcSha256.name()
        ]
        .contains(&suite.as_str()),
        "{opened:?}"
    );

    // A request retargeted from the MN-CSE to the IN-CSE: the IN-CSE's
    // admin makes a container the MN-CSE's admin may write, and the MN-CSE
    // forwards a <contentInstance> to it through the tunnel.
    let (status, acp) = http(
        in_cse.http,
        "POST",
        "/~/id-in/cse-in",
        "CAdmin",
        Some(1),
        Some(
            r#"{"m2m:acp":{"rn":"acpMn","pv":{"acr":[{"acor":["/id-mn/CAdmin"],"acop":63}]},
                "pvs":{"acr":[{"acor":["CAdmin"],"acop":63}]}}}"#,
        ),
    )
    .unwrap();
    assert_eq!(status, 201, "{acp}");
    let acp_ri = acp["m2m:acp"]["ri"].as_str().unwrap().to_string();
    let (status, cnt) = http(
        in_cse.http,
        "POST",
        "/~/id-in/cse-in",
        "CAdmin",
        Some(3),
        Some(&format!(
            r#"{{"m2m:cnt":{{"rn":"fromMn","acpi":["{acp_ri}"]}}}}"#
        )),
    )
    .unwrap();
    assert_eq!(status, 201, "{cnt}");
    let before = server.events("connection").len();
    let (status, cin) = http(
        mn_cse.http,
        "POST",
        "/~/id-in/cse-in/fromMn",
        "CAdmin",
        Some(4),
        Some(r#"{"m2m:cin":{"con":"written on the MN-CSE, stored on the IN-CSE"}}"#),
    )
    .unwrap();
    assert_eq!(status, 201, "retargeted CREATE: {cin}\n{}", context());
    let (status, la) = in_cse.get("/~/id-in/cse-in/fromMn/la", "CAdmin");
    assert_eq!(status, 200, "{la}");
    assert_eq!(
        la["m2m:cin"]["con"], "written on the MN-CSE, stored on the IN-CSE",
        "{la}"
    );
    let (status, back) = mn_cse.get("/~/id-in/cse-in/fromMn/la", "CAdmin");
    assert_eq!(status, 200, "retargeted RETRIEVE: {back}\n{}", context());
    assert_eq!(la["m2m:cin"]["ri"], back["m2m:cin"]["ri"]);
    assert!(
        server.events("connection").len() > before,
        "the retargeted requests went through the tunnel\n{}",
        context()
    );

    // The same AE creation that succeeds through the tunnel client ...
    let (status, ae) = http(
        client.addr,
        "POST",
        "/~/id-in/cse-in",
        "Clegit",
        Some(2),
        Some(r#"{"m2m:ae":{"rn":"legit","api":"Nlegit","rr":false,"srv":["3"]}}"#),
    )
    .unwrap();
    assert_eq!(status, 201, "{ae}\n{}", context());

    // ... from a TLS client holding no credential: refused, nothing created.
    let refused_before = server.events("refused").len();
    let mut openssl = Command::new("openssl");
    openssl.args([
        "s_client",
        "-connect",
        &server.addr.to_string(),
        "-tls1_2",
        "-CAfile",
        &file("ca.pem"),
        "-servername",
        IN_NAME,
        "-quiet",
        "-no_ign_eof",
    ]);
    let request = format!(
        "POST /~/id-in/cse-in HTTP/1.1\r\nHost: in\r\nX-M2M-Origin: Crogue\r\n\
         X-M2M-RI: r1\r\nX-M2M-RVI: 3\r\nContent-Type: application/json;ty=2\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{AE_ROGUE}",
        AE_ROGUE.len()
    );
    let anonymous = Proc::spawn(openssl, Some(&request));
    let start = Instant::now();
    while server.events("refused").len() == refused_before && start.elapsed() < TIMEOUT {
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        !anonymous.output().contains("HTTP/1.1"),
        "a client without a certificate got an answer:\n{}",
        anonymous.output()
    );
    drop(anonymous);

    // ... and from a tunnel client whose certificate another CA issued.
    let rogue = tunnel(&mn_device, &client_args("rogue-key", "rogue.pem"));
    let answer = http(
        rogue.addr,
        "POST",
        "/~/id-in/cse-in",
        "Crogue",
        Some(2),
        Some(AE_ROGUE),
    );
    assert!(answer.is_err(), "another CA's client got {answer:?}");
    let refused = server.wait_events("refused", refused_before + 2);
    assert_eq!(
        refused.len(),
        refused_before + 2,
        "both refusals are logged\n{}",
        context()
    );
    for r in &refused[refused_before..] {
        assert!(!r["reason"].as_str().unwrap_or("").is_empty(), "{r}");
    }
    let (status, nothing) = in_cse.get("/~/id-in/cse-in/rogue", "CAdmin");
    assert_eq!(status, 404, "the refused clients created {nothing}");
    assert_eq!(
        csrs()["m2m:uril"],
        serde_json::json!(["cse-in/id-mn"]),
        "still the one <remoteCSE>"
    );
    let (status, _) = in_cse.get("/~/id-in/cse-in/legit", "CAdmin");
    assert_eq!(status, 200);
}

/// Debian's libcoap client, with OpenSSL as its DTLS stack.
const COAP_CLIENT: &str = "coap-client-openssl";

/// Runs Debian's libcoap client against `uri` with `psk`; its output.
/// (`-v 7`: its debug log, for the failure message; `-B`: how long it waits
/// for the answer, in seconds.)
fn coap_post(uri: &str, psk: &str, wait: u32, originator: &str, body: &str) -> String {
    let wait = wait.to_string();
    let out = Command::new(COAP_CLIENT)
        .args([
            "-v", "7", "-m", "post", "-B", &wait, "-k", psk, "-u", IDENTITY,
        ])
        // Content-Format application/json; oneM2M options: TY (267) = 2,
        // RVI (271), FR (279), RQI (283).
        .args(["-t", "50", "-O", "267,0x02", "-O", "271,3"])
        .arg("-O")
        .arg(format!("279,{originator}"))
        .args(["-O", "283,seam-coap", "-e", body, uri])
        .output()
        .unwrap_or_else(|e| panic!("running {COAP_CLIENT}: {e}"));
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn coap_client_creates_an_ae_over_dtls_psk_through_seam() {
    if seam_tests::backend() != seam_tests::Backend::Simulator {
        return seam_tests::tools::skipped("ACME runs on the host (simulator backend)");
    }
    if !tool(COAP_CLIENT, "libcoap3-bin", "CoAP over DTLS with ACME") {
        return;
    }
    let Some(acmecse) = acmecse() else { return };
    let device = Device::new();
    let node = node(&device);

    let http_port = free_port(false);
    let coap_port = free_port(true);
    let in_cse = Cse::start(
        &acmecse,
        "IN-CSE (CoAP)",
        &ini(
            "IN",
            "id-in",
            "cse-in",
            http_port,
            &format!("[coap]\nenable=true\nport={coap_port}\n"),
        ),
    );
    let server = node.tunnel(&[
        s("server"),
        s("--dtls"),
        s("--listen"),
        s("127.0.0.1:0"),
        s("--forward"),
        format!("127.0.0.1:{coap_port}"),
        s("--credential"),
        node.credential("psk"),
        s("--psk-identity"),
        s(IDENTITY),
        s("--cipher"),
        s(Suite::PskAes128Ccm8.openssl_name()),
    ]);
    let uri = format!("coaps://{}/cse-in", server.addr);
    let psk = std::str::from_utf8(&PSK).unwrap();

    // Generous: the first request waits for the handshake on a busy host.
    let out = coap_post(
        &uri,
        psk,
        30,
        "CcoapSensor",
        r#"{"m2m:ae":{"rn":"coapSensor","api":"NcoapSensor","rr":false,"srv":["3"]}}"#,
    );
    let context = || {
        format!(
            "coap-client:\n{out}\ntunnel:\n{}\nACME log:\n{}",
            server.proc.output(),
            in_cse.log()
        )
    };
    assert!(
        out.contains("\"aei\""),
        "no AE in the answer\n{}",
        context()
    );
    let opened = server.wait_events("connection", 1);
    assert_eq!(
        opened[0]["suite"],
        Suite::PskAes128Ccm8.name(),
        "{opened:?}"
    );
    assert_eq!(
        opened[0]["identity"]["psk_identity"], IDENTITY,
        "{opened:?}"
    );
    // The AE, seen over HTTP.
    let (status, ae) = in_cse.get("/~/id-in/cse-in/coapSensor", "CcoapSensor");
    assert_eq!(status, 200, "{ae}\n{}", context());
    assert_eq!(ae["m2m:ae"]["api"], "NcoapSensor");

    // A wrong PSK: refused, nothing created.
    let out = coap_post(
        &uri,
        "not-the-right-PSK",
        5,
        "Cintruder",
        r#"{"m2m:ae":{"rn":"intruder","api":"Nintruder","rr":false,"srv":["3"]}}"#,
    );
    assert!(!out.contains("\"aei\""), "a wrong PSK got {out}");
    let refused = server.wait_events("refused", 1);
    assert!(!refused.is_empty(), "{}", server.proc.output());
    let (status, nothing) = in_cse.get("/~/id-in/cse-in/intruder", "CAdmin");
    assert_eq!(status, 404, "a wrong PSK created {nothing}");
}
