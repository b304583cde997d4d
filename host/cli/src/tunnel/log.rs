//! One line per connection on standard error: who the peer is (address and
//! authenticated identity), what was negotiated, and what became of it; or
//! why it was refused. `--json` makes each line a JSON object.

use std::io::Write;
use std::net::SocketAddr;

use serde_json::{json, Value};

/// Who the peer authenticated as.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Identity {
    /// PSK suites: the identity the client sent.
    pub psk_identity: Option<String>,
    /// The certificate's subject (RFC 4514 string).
    pub subject: Option<String>,
    /// The certificate's SAN URIs (oneM2M CSE-IDs and AE-IDs).
    pub san_uris: Vec<String>,
    /// RFC 7250: SHA-256 of the raw public key (the SEC 1 point).
    pub raw_key_sha256: Option<String>,
}

impl Identity {
    /// From what the handshake authenticated.
    pub fn of(
        psk_identity: Option<&[u8]>,
        certificates: &[Vec<u8>],
        public_key: Option<&[u8]>,
    ) -> Identity {
        if let Some(id) = psk_identity {
            return Identity {
                psk_identity: Some(String::from_utf8_lossy(id).into_owned()),
                ..Default::default()
            };
        }
        if let Some(leaf) = certificates.first() {
            if let Some(id) = from_certificate(leaf) {
                return id;
            }
        }
        if let Some(key) = public_key {
            use sha2::Digest;
            return Identity {
                raw_key_sha256: Some(hex::encode(sha2::Sha256::digest(key))),
                ..Default::default()
            };
        }
        Identity::default()
    }

    fn text(&self) -> String {
        if let Some(id) = &self.psk_identity {
            return format!("psk-identity {id:?}");
        }
        if let Some(subject) = &self.subject {
            let mut t = format!("subject {subject:?}");
            if !self.san_uris.is_empty() {
                t.push_str(&format!(" uri {}", self.san_uris.join(",")));
            }
            return t;
        }
        if let Some(k) = &self.raw_key_sha256 {
            return format!("raw-public-key sha256:{k}");
        }
        "unauthenticated".into()
    }

    fn json(&self) -> Value {
        json!({
            "psk_identity": self.psk_identity,
            "subject": self.subject,
            "san_uris": self.san_uris,
            "raw_key_sha256": self.raw_key_sha256,
        })
    }
}

fn from_certificate(der: &[u8]) -> Option<Identity> {
    use x509_cert::der::Decode;
    use x509_cert::ext::pkix::name::GeneralName;
    use x509_cert::ext::pkix::SubjectAltName;
    let cert = x509_cert::Certificate::from_der(der).ok()?;
    let tbs = &cert.tbs_certificate;
    let mut san_uris = Vec::new();
    for ext in tbs.extensions.iter().flatten() {
        if ext.extn_id == x509_cert::der::oid::db::rfc5280::ID_CE_SUBJECT_ALT_NAME {
            if let Ok(san) = SubjectAltName::from_der(ext.extn_value.as_bytes()) {
                for name in san.0 {
                    if let GeneralName::UniformResourceIdentifier(uri) = name {
                        san_uris.push(uri.to_string());
                    }
                }
            }
        }
    }
    Some(Identity {
        subject: Some(tbs.subject.to_string()),
        san_uris,
        ..Default::default()
    })
}

/// An established connection.
pub struct Opened<'a> {
    pub peer: SocketAddr,
    pub version: &'a str,
    pub suite: &'a str,
    pub identity: &'a Identity,
    /// Where the plaintext goes (server) or comes from (client).
    pub local: String,
}

pub struct Log {
    pub json: bool,
    pub command: &'static str,
}

impl Log {
    fn line(&self, text: String, value: Value) {
        let mut err = std::io::stderr().lock();
        let _ = if self.json {
            writeln!(err, "{value}")
        } else {
            writeln!(err, "seam {}: {text}", self.command)
        };
    }

    pub fn listening(&self, addr: SocketAddr, transport: &str, target: &str) {
        self.line(
            format!("listening on {addr} ({transport}), to {target}"),
            json!({"event": "listening", "address": addr.to_string(), "transport": transport, "target": target}),
        );
    }

    pub fn connection(&self, c: &Opened<'_>) {
        self.line(
            format!(
                "{} {} {} {} <-> {}",
                c.peer,
                c.version,
                c.suite,
                c.identity.text(),
                c.local
            ),
            json!({
                "event": "connection",
                "peer": c.peer.to_string(),
                "version": c.version,
                "suite": c.suite,
                "identity": c.identity.json(),
                "local": c.local,
            }),
        );
    }

    pub fn refused(&self, peer: SocketAddr, reason: &str) {
        self.line(
            format!("{peer} refused: {reason}"),
            json!({"event": "refused", "peer": peer.to_string(), "reason": reason}),
        );
    }

    pub fn note(&self, text: &str) {
        self.line(text.to_string(), json!({"event": "note", "message": text}));
    }
}
