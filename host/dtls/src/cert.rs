//! Peer authentication for the ECDHE_ECDSA suites: X.509 P-256 chains
//! checked against given CA certificates (parsed with `x509-cert`, signatures
//! verified with `p256`), raw public keys (RFC 7250), and pinned keys. Only
//! public data is handled here.

use std::time::{Duration, SystemTime};

use crate::time::UnixTime;

use p256::ecdsa::signature::hazmat::PrehashVerifier;
use p256::ecdsa::signature::Verifier;
use p256::ecdsa::{Signature, VerifyingKey};
use x509_cert::der::{Decode, Encode};
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{BasicConstraints, SubjectAltName};
use x509_cert::spki::SubjectPublicKeyInfoOwned;
use x509_cert::Certificate;

use super::{AlertDescription, PeerTrust};

const ID_EC_PUBLIC_KEY: &str = "1.2.840.10045.2.1";
const SECP256R1: &str = "1.2.840.10045.3.1.7";
const ECDSA_WITH_SHA256: &str = "1.2.840.10045.4.3.2";
const SUBJECT_ALT_NAME: &str = "2.5.29.17";
const BASIC_CONSTRAINTS: &str = "2.5.29.19";
/// Longest chain we walk (leaf, intermediates).
const MAX_DEPTH: usize = 8;

/// A refusal: the alert to send and why.
pub type Refusal = (AlertDescription, String);

fn bad(alert: AlertDescription, why: impl Into<String>) -> Refusal {
    (alert, why.into())
}

/// The P-256 key (65-byte SEC 1) of a DER SubjectPublicKeyInfo.
pub fn spki_public_key(spki: &SubjectPublicKeyInfoOwned) -> Result<Vec<u8>, Refusal> {
    let alg = spki.algorithm.oid.to_string();
    let curve = spki
        .algorithm
        .parameters
        .as_ref()
        .and_then(|p| p.decode_as::<x509_cert::der::asn1::ObjectIdentifier>().ok())
        .map(|o| o.to_string());
    if alg != ID_EC_PUBLIC_KEY || curve.as_deref() != Some(SECP256R1) {
        return Err(bad(
            AlertDescription::UNSUPPORTED_CERTIFICATE,
            "the key is not a P-256 key",
        ));
    }
    let key = spki.subject_public_key.raw_bytes();
    VerifyingKey::from_sec1_bytes(key).map_err(|_| {
        bad(
            AlertDescription::BAD_CERTIFICATE,
            "the public key is not a valid P-256 point",
        )
    })?;
    // Normalise a compressed point to the uncompressed form.
    let point = p256::PublicKey::from_sec1_bytes(key)
        .map_err(|_| bad(AlertDescription::BAD_CERTIFICATE, "invalid P-256 point"))?;
    use p256::elliptic_curve::sec1::ToEncodedPoint;
    Ok(point.to_encoded_point(false).as_bytes().to_vec())
}

/// The key of a raw public key certificate (RFC 7250: a DER SPKI).
pub fn raw_public_key(der: &[u8]) -> Result<Vec<u8>, Refusal> {
    let spki = SubjectPublicKeyInfoOwned::from_der(der).map_err(|_| {
        bad(
            AlertDescription::BAD_CERTIFICATE,
            "the raw public key is not a DER SubjectPublicKeyInfo",
        )
    })?;
    spki_public_key(&spki)
}

/// A DER SubjectPublicKeyInfo for a P-256 key (to send as a raw public key).
pub fn spki_for(public_sec1: &[u8]) -> Option<Vec<u8>> {
    use p256::pkcs8::EncodePublicKey;
    let key = p256::PublicKey::from_sec1_bytes(public_sec1).ok()?;
    key.to_public_key_der().ok().map(|d| d.as_bytes().to_vec())
}

fn parse(der: &[u8]) -> Result<Certificate, Refusal> {
    Certificate::from_der(der).map_err(|e| {
        bad(
            AlertDescription::BAD_CERTIFICATE,
            format!("a certificate does not parse: {e}"),
        )
    })
}

/// The leaf's P-256 key, without checking anything else.
pub fn leaf_public_key(der: &[u8]) -> Result<Vec<u8>, Refusal> {
    let cert = parse(der)?;
    spki_public_key(&cert.tbs_certificate.subject_public_key_info)
}

/// Whether `issuer`'s key signed `cert` (ECDSA-SHA256).
fn signed_by(cert: &Certificate, issuer_key: &[u8]) -> bool {
    if cert.signature_algorithm.oid.to_string() != ECDSA_WITH_SHA256 {
        return false;
    }
    let Ok(tbs) = cert.tbs_certificate.to_der() else {
        return false;
    };
    let Some(sig) = cert.signature.as_bytes() else {
        return false;
    };
    verify_ecdsa_sha256(issuer_key, &tbs, sig)
}

/// Verifies a DER ECDSA-SHA256 signature over `message` with a SEC 1 key.
pub fn verify_ecdsa_sha256(public: &[u8], message: &[u8], der_sig: &[u8]) -> bool {
    let (Ok(key), Ok(sig)) = (
        VerifyingKey::from_sec1_bytes(public),
        Signature::from_der(der_sig),
    ) else {
        return false;
    };
    key.verify(message, &sig).is_ok()
}

/// Verifies a DER ECDSA signature over a SHA-256 digest.
pub fn verify_ecdsa_digest(public: &[u8], digest: &[u8; 32], der_sig: &[u8]) -> bool {
    let (Ok(key), Ok(sig)) = (
        VerifyingKey::from_sec1_bytes(public),
        Signature::from_der(der_sig),
    ) else {
        return false;
    };
    key.verify_prehash(digest, &sig).is_ok()
}

fn check_validity(cert: &Certificate, now: SystemTime) -> Result<(), Refusal> {
    let v = &cert.tbs_certificate.validity;
    let at = |t: &x509_cert::time::Time| SystemTime::UNIX_EPOCH + t.to_unix_duration();
    if now < at(&v.not_before) || now > at(&v.not_after) {
        return Err(bad(
            AlertDescription::CERTIFICATE_EXPIRED,
            "a certificate is outside its validity period",
        ));
    }
    Ok(())
}

fn is_ca(cert: &Certificate) -> bool {
    cert.tbs_certificate
        .extensions
        .iter()
        .flatten()
        .filter(|e| e.extn_id.to_string() == BASIC_CONSTRAINTS)
        .any(|e| {
            BasicConstraints::from_der(e.extn_value.as_bytes())
                .map(|b| b.ca)
                .unwrap_or(false)
        })
}

/// Whether the leaf names `host` (a subjectAltName dNSName, exact or a
/// left-most `*.` wildcard; or, without SANs, the subject common name).
fn names_host(cert: &Certificate, host: &str) -> bool {
    let matches = |pattern: &str| {
        let p = pattern.to_ascii_lowercase();
        let h = host.to_ascii_lowercase();
        if let Some(rest) = p.strip_prefix("*.") {
            h.split_once('.').is_some_and(|(_, tail)| tail == rest)
        } else {
            p == h
        }
    };
    let mut had_san = false;
    for e in cert.tbs_certificate.extensions.iter().flatten() {
        if e.extn_id.to_string() != SUBJECT_ALT_NAME {
            continue;
        }
        had_san = true;
        if let Ok(san) = SubjectAltName::from_der(e.extn_value.as_bytes()) {
            for n in san.0 {
                match n {
                    GeneralName::DnsName(d) if matches(d.as_str()) => return true,
                    GeneralName::UniformResourceIdentifier(u) if matches(u.as_str()) => {
                        return true
                    }
                    _ => {}
                }
            }
        }
    }
    if had_san {
        return false;
    }
    // No SAN: fall back to the CN (RFC 6125 allows it for legacy certificates).
    cert.tbs_certificate
        .subject
        .to_string()
        .split(',')
        .any(|rdn| {
            rdn.trim()
                .strip_prefix("CN=")
                .is_some_and(|cn| matches(cn.trim()))
        })
}

/// Authenticates an X.509 chain (leaf first) and returns the leaf's P-256
/// key. `host`: a name the leaf must carry (a client checking a server).
pub fn verify_chain(
    chain: &[Vec<u8>],
    trust: &PeerTrust,
    host: Option<&str>,
    now: Option<UnixTime>,
) -> Result<Vec<u8>, Refusal> {
    let leaf_der = chain.first().ok_or(bad(
        AlertDescription::HANDSHAKE_FAILURE,
        "the peer sent no certificate",
    ))?;
    let leaf = parse(leaf_der)?;
    let leaf_key = spki_public_key(&leaf.tbs_certificate.subject_public_key_info)?;
    match trust {
        PeerTrust::Unauthenticated => Ok(leaf_key),
        PeerTrust::PinnedKey(pinned) => {
            if pinned.as_slice() == leaf_key.as_slice() {
                Ok(leaf_key)
            } else {
                Err(bad(
                    AlertDescription::BAD_CERTIFICATE,
                    "the peer's key is not the pinned key",
                ))
            }
        }
        PeerTrust::CaCertificates(cas) => {
            if chain.len() > MAX_DEPTH {
                return Err(bad(
                    AlertDescription::BAD_CERTIFICATE,
                    "the certificate chain is too long",
                ));
            }
            let anchors = cas
                .iter()
                .map(|d| parse(d))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|(_, e)| bad(AlertDescription::INTERNAL_ERROR, format!("CA: {e}")))?;
            let mut rest = chain[1..]
                .iter()
                .map(|d| parse(d))
                .collect::<Result<Vec<_>, _>>()?;
            let now = now.ok_or(bad(
                AlertDescription::INTERNAL_ERROR,
                "no time provider to check certificate validity against",
            ))?;
            let now = SystemTime::UNIX_EPOCH + Duration::from_secs(now.as_secs());
            check_validity(&leaf, now)?;
            if let Some(h) = host {
                if !names_host(&leaf, h) {
                    return Err(bad(
                        AlertDescription::BAD_CERTIFICATE,
                        format!("the certificate does not name {h}"),
                    ));
                }
            }
            let mut current = leaf;
            for _ in 0..=MAX_DEPTH {
                for anchor in &anchors {
                    if anchor.tbs_certificate.subject != current.tbs_certificate.issuer {
                        continue;
                    }
                    let Ok(key) = spki_public_key(&anchor.tbs_certificate.subject_public_key_info)
                    else {
                        continue;
                    };
                    if signed_by(&current, &key) {
                        return Ok(leaf_key);
                    }
                }
                // Up one level through an intermediate the peer sent.
                let pos = rest.iter().position(|c| {
                    c.tbs_certificate.subject == current.tbs_certificate.issuer
                        && is_ca(c)
                        && spki_public_key(&c.tbs_certificate.subject_public_key_info)
                            .is_ok_and(|k| signed_by(&current, &k))
                });
                let Some(pos) = pos else {
                    return Err(bad(
                        AlertDescription::UNKNOWN_CA,
                        "the certificate chain does not lead to a trusted CA",
                    ));
                };
                let next = rest.remove(pos);
                check_validity(&next, now)?;
                current = next;
            }
            Err(bad(
                AlertDescription::UNKNOWN_CA,
                "the certificate chain does not lead to a trusted CA",
            ))
        }
    }
}

/// Checks a raw public key against the trust setting (only a pinned key,
/// or no authentication, can accept one: a CA cannot vouch for it).
pub fn verify_raw_public_key(spki_der: &[u8], trust: &PeerTrust) -> Result<Vec<u8>, Refusal> {
    let key = raw_public_key(spki_der)?;
    match trust {
        PeerTrust::Unauthenticated => Ok(key),
        PeerTrust::PinnedKey(pinned) if pinned.as_slice() == key.as_slice() => Ok(key),
        PeerTrust::PinnedKey(_) => Err(bad(
            AlertDescription::BAD_CERTIFICATE,
            "the peer's raw public key is not the pinned key",
        )),
        PeerTrust::CaCertificates(_) => Err(bad(
            AlertDescription::UNSUPPORTED_CERTIFICATE,
            "a raw public key cannot be checked against a CA",
        )),
    }
}

/// Reads PEM certificates (`-----BEGIN CERTIFICATE-----` blocks) into DER.
pub fn pem_certificates(pem: &str) -> Vec<Vec<u8>> {
    use x509_cert::der::DecodePem;
    let mut out = Vec::new();
    let mut rest = pem;
    while let Some(start) = rest.find("-----BEGIN CERTIFICATE-----") {
        let Some(end_rel) = rest[start..].find("-----END CERTIFICATE-----") else {
            break;
        };
        let end = start + end_rel + "-----END CERTIFICATE-----".len();
        if let Ok(c) = Certificate::from_pem(&rest.as_bytes()[start..end]) {
            if let Ok(d) = c.to_der() {
                out.push(d);
            }
        }
        rest = &rest[end..];
    }
    out
}
