//! Peer authentication for the ECDHE_ECDSA suites: X.509 P-256 chains
//! validated by rustls-webpki against given CA certificates (path building,
//! validity, name constraints, extended key usage, critical extensions; our
//! p256 glue verifies the signatures), plus what webpki leaves to its caller:
//! keyUsage, the anchor's own validity and oneM2M's URI subjectAltNames.
//! Raw public keys (RFC 7250) and pinned keys match the exact key. Only
//! public data is handled here.

use std::time::Duration;

use rustls_pki_types::{
    alg_id, AlgorithmIdentifier, CertificateDer, DnsName, InvalidSignature, ServerName,
    SignatureVerificationAlgorithm,
};
use webpki::{EndEntityCert, KeyUsage};

use crate::time::UnixTime;

use p256::ecdsa::signature::hazmat::PrehashVerifier;
use p256::ecdsa::signature::Verifier;
use p256::ecdsa::{Signature, VerifyingKey};
use x509_cert::der::{Decode, Encode};
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::SubjectAltName;
use x509_cert::spki::SubjectPublicKeyInfoOwned;
use x509_cert::Certificate;

use super::{AlertDescription, PeerTrust, Role};

const ID_EC_PUBLIC_KEY: &str = "1.2.840.10045.2.1";
const SECP256R1: &str = "1.2.840.10045.3.1.7";
const SUBJECT_ALT_NAME: &str = "2.5.29.17";
const KEY_USAGE: &str = "2.5.29.15";
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

/// ECDSA P-256 with SHA-256 for rustls-webpki, verified by `p256`: the only
/// certificate signature the oneM2M suites use, and no ring or aws-lc.
#[derive(Debug)]
struct EcdsaP256Sha256;

impl SignatureVerificationAlgorithm for EcdsaP256Sha256 {
    fn verify_signature(
        &self,
        public_key: &[u8],
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), InvalidSignature> {
        if verify_ecdsa_sha256(public_key, message, signature) {
            Ok(())
        } else {
            Err(InvalidSignature)
        }
    }

    fn public_key_alg_id(&self) -> AlgorithmIdentifier {
        alg_id::ECDSA_P256
    }

    fn signature_alg_id(&self) -> AlgorithmIdentifier {
        alg_id::ECDSA_SHA256
    }
}

static SIGNATURE_ALGORITHMS: &[&dyn SignatureVerificationAlgorithm] = &[&EcdsaP256Sha256];

/// The alert for a path webpki refused (the mapping rustls uses).
fn refused(e: webpki::Error) -> Refusal {
    use webpki::Error as E;
    let alert = match &e {
        E::CertExpired { .. } | E::CertNotValidYet { .. } => AlertDescription::CERTIFICATE_EXPIRED,
        E::UnknownIssuer => AlertDescription::UNKNOWN_CA,
        E::RequiredEkuNotFoundContext(_) => AlertDescription::UNSUPPORTED_CERTIFICATE,
        E::InvalidSignatureForPublicKey => AlertDescription::DECRYPT_ERROR,
        E::UnsupportedSignatureAlgorithmContext(_)
        | E::UnsupportedSignatureAlgorithmForPublicKeyContext(_) => {
            AlertDescription::UNSUPPORTED_CERTIFICATE
        }
        _ => AlertDescription::BAD_CERTIFICATE,
    };
    let why = match &e {
        E::CertExpired { .. } | E::CertNotValidYet { .. } => {
            "a certificate is outside its validity period".to_string()
        }
        E::UnknownIssuer => "the certificate chain does not lead to a trusted CA".to_string(),
        E::RequiredEkuNotFoundContext(_) => {
            "the certificate's extended key usage does not allow this role".to_string()
        }
        E::NameConstraintViolation => "the certificate violates a CA's name constraints".into(),
        E::UnsupportedCriticalExtension => {
            "a certificate has a critical extension we do not understand".to_string()
        }
        other => format!("the certificate path is refused: {other}"),
    };
    bad(alert, why)
}

/// keyUsage bits (RFC 5280 §4.2.1.3), counted from the first bit.
const KU_DIGITAL_SIGNATURE: usize = 0;
const KU_KEY_CERT_SIGN: usize = 5;

/// Whether `cert`'s keyUsage, if it has one, asserts bit `bit`. webpki
/// leaves keyUsage to the caller.
fn key_usage_allows(der: &[u8], bit: usize) -> Result<bool, Refusal> {
    let cert = parse(der)?;
    let Some(ext) = cert
        .tbs_certificate
        .extensions
        .iter()
        .flatten()
        .find(|e| e.extn_id.to_string() == KEY_USAGE)
    else {
        return Ok(true);
    };
    let bits = x509_cert::der::asn1::BitString::from_der(ext.extn_value.as_bytes())
        .map_err(|_| bad(AlertDescription::BAD_CERTIFICATE, "keyUsage does not parse"))?;
    Ok(bits.bits().nth(bit).unwrap_or(false))
}

/// Whether a CA certificate (a trust anchor) is inside its validity period;
/// webpki checks every certificate of the path but the anchor.
fn anchor_valid(der: &[u8], now: UnixTime) -> Result<(), Refusal> {
    let v = parse(der)?.tbs_certificate.validity;
    let now = Duration::from_secs(now.as_secs());
    if now < v.not_before.to_unix_duration() || now > v.not_after.to_unix_duration() {
        return Err(bad(
            AlertDescription::CERTIFICATE_EXPIRED,
            "the trusted CA certificate is outside its validity period",
        ));
    }
    Ok(())
}

/// Whether the leaf names `expected`: a DNS name or an IP address through
/// webpki (subjectAltName only, no common-name fallback); anything else (a
/// oneM2M CSE-ID) must equal one of its URI subjectAltNames exactly.
fn check_name(leaf_der: &[u8], leaf: &EndEntityCert<'_>, expected: &str) -> Result<(), Refusal> {
    let wrong = || {
        bad(
            AlertDescription::BAD_CERTIFICATE,
            format!("the certificate does not name {expected}"),
        )
    };
    if let Ok(ip) = expected.parse::<std::net::IpAddr>() {
        let name = ServerName::IpAddress(ip.into());
        return leaf
            .verify_is_valid_for_subject_name(&name)
            .map_err(|_| wrong());
    }
    if let Ok(dns) = DnsName::try_from(expected) {
        let name = ServerName::DnsName(dns);
        return leaf
            .verify_is_valid_for_subject_name(&name)
            .map_err(|_| wrong());
    }
    let cert = parse(leaf_der)?;
    for e in cert.tbs_certificate.extensions.iter().flatten() {
        if e.extn_id.to_string() != SUBJECT_ALT_NAME {
            continue;
        }
        let san = SubjectAltName::from_der(e.extn_value.as_bytes()).map_err(|_| {
            bad(
                AlertDescription::BAD_CERTIFICATE,
                "subjectAltName does not parse",
            )
        })?;
        let named = san.0.iter().any(
            |n| matches!(n, GeneralName::UniformResourceIdentifier(u) if u.as_str() == expected),
        );
        if named {
            return Ok(());
        }
    }
    Err(wrong())
}

/// Authenticates an X.509 chain (leaf first) and returns the leaf's P-256
/// key. `peer`: the role the chain's owner plays (the extended key usage it
/// needs: serverAuth or clientAuth). `expected_name`: a name the leaf must
/// carry (a client checking a server). `now`: from the caller's time
/// provider.
pub fn verify_chain(
    chain: &[Vec<u8>],
    trust: &PeerTrust,
    peer: Role,
    expected_name: Option<&str>,
    now: Option<UnixTime>,
) -> Result<Vec<u8>, Refusal> {
    let leaf_der = chain.first().ok_or(bad(
        AlertDescription::HANDSHAKE_FAILURE,
        "the peer sent no certificate",
    ))?;
    let leaf_key = leaf_public_key(leaf_der)?;
    match trust {
        PeerTrust::UnauthenticatedForTesting => Ok(leaf_key),
        PeerTrust::NotConfigured => Err(bad(
            AlertDescription::CERTIFICATE_UNKNOWN,
            "no trust anchor or pinned key is configured to check the peer's certificate",
        )),
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
            let now = now.ok_or(bad(
                AlertDescription::INTERNAL_ERROR,
                "no time provider to check certificate validity against",
            ))?;
            let ca_ders: Vec<CertificateDer<'_>> = cas
                .iter()
                .map(|d| CertificateDer::from(d.as_slice()))
                .collect();
            let anchors = ca_ders
                .iter()
                .map(|d| {
                    webpki::anchor_from_trusted_cert(d).map_err(|e| {
                        bad(
                            AlertDescription::INTERNAL_ERROR,
                            format!("a trusted CA certificate does not parse: {e}"),
                        )
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
            let leaf_cert = CertificateDer::from(leaf_der.as_slice());
            let leaf = EndEntityCert::try_from(&leaf_cert).map_err(refused)?;
            let intermediates: Vec<CertificateDer<'_>> = chain[1..]
                .iter()
                .map(|d| CertificateDer::from(d.as_slice()))
                .collect();
            let usage = match peer {
                Role::Server => KeyUsage::server_auth(),
                Role::Client => KeyUsage::client_auth(),
            };
            let path = leaf
                .verify_for_usage(
                    SIGNATURE_ALGORITHMS,
                    &anchors,
                    &intermediates,
                    now,
                    usage,
                    None,
                    None,
                )
                .map_err(refused)?;
            let anchor = anchors
                .iter()
                .position(|a| std::ptr::eq(a, path.anchor()))
                .ok_or(bad(
                    AlertDescription::INTERNAL_ERROR,
                    "no anchor for the path",
                ))?;
            anchor_valid(&cas[anchor], now)?;
            // The leaf signs the handshake; every CA above it signs certificates.
            if !key_usage_allows(leaf_der, KU_DIGITAL_SIGNATURE)? {
                return Err(bad(
                    AlertDescription::UNSUPPORTED_CERTIFICATE,
                    "the certificate's keyUsage does not allow digitalSignature",
                ));
            }
            for ca in path.intermediate_certificates() {
                if !key_usage_allows(ca.der().as_ref(), KU_KEY_CERT_SIGN)? {
                    return Err(bad(
                        AlertDescription::BAD_CERTIFICATE,
                        "an intermediate CA's keyUsage does not allow keyCertSign",
                    ));
                }
            }
            if !key_usage_allows(&cas[anchor], KU_KEY_CERT_SIGN)? {
                return Err(bad(
                    AlertDescription::BAD_CERTIFICATE,
                    "the trusted CA's keyUsage does not allow keyCertSign",
                ));
            }
            if let Some(name) = expected_name {
                check_name(leaf_der, &leaf, name)?;
            }
            Ok(leaf_key)
        }
    }
}

/// Checks a raw public key against the trust setting (only a pinned key,
/// or no authentication, can accept one: a CA cannot vouch for it).
pub fn verify_raw_public_key(spki_der: &[u8], trust: &PeerTrust) -> Result<Vec<u8>, Refusal> {
    let key = raw_public_key(spki_der)?;
    match trust {
        PeerTrust::UnauthenticatedForTesting => Ok(key),
        PeerTrust::NotConfigured => Err(bad(
            AlertDescription::CERTIFICATE_UNKNOWN,
            "no pinned key is configured to check the peer's raw public key",
        )),
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
