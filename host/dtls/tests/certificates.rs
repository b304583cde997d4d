//! Certificate path validation (rustls-webpki plus our keyUsage, anchor
//! validity and URI-name checks): each malformed or misused certificate is
//! refused with the alert the engine sends for it, and good chains pass.
//! Certificates are made here with rcgen, at a fixed time.

use rcgen::{
    BasicConstraints, CertificateParams, CustomExtension, DistinguishedName, DnType,
    ExtendedKeyUsagePurpose, GeneralSubtree, IsCa, KeyPair, KeyUsagePurpose, NameConstraints,
    SanType,
};
use seam_dtls::cert::{leaf_public_key, verify_chain};
use seam_dtls::{AlertDescription as A, FixedTime, PeerTrust, Role, TimeProvider, UnixTime};

/// 2030-01-01T00:00:00Z.
fn now() -> Option<UnixTime> {
    FixedTime::at_unix(1_893_456_000).current_time()
}

struct Ca {
    cert: rcgen::Certificate,
    key: KeyPair,
}

fn new_key() -> KeyPair {
    KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap()
}

fn dn(cn: &str) -> DistinguishedName {
    let mut d = DistinguishedName::new();
    d.push(DnType::CommonName, cn);
    d
}

fn ca_params(cn: &str) -> CertificateParams {
    let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
    p.distinguished_name = dn(cn);
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    p.not_before = rcgen::date_time_ymd(2025, 1, 1);
    p.not_after = rcgen::date_time_ymd(2045, 1, 1);
    p
}

fn ca_from(p: CertificateParams) -> Ca {
    let key = new_key();
    Ca {
        cert: p.self_signed(&key).unwrap(),
        key,
    }
}

fn ca() -> Ca {
    ca_from(ca_params("Test CA"))
}

/// A leaf naming `sans` (DNS names), valid 2025–2045, for any purpose.
fn leaf_params(sans: &[&str]) -> CertificateParams {
    let mut p =
        CertificateParams::new(sans.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap();
    p.distinguished_name = dn(sans.first().copied().unwrap_or("leaf"));
    p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    p.not_before = rcgen::date_time_ymd(2025, 1, 1);
    p.not_after = rcgen::date_time_ymd(2045, 1, 1);
    p
}

fn issue(p: CertificateParams, ca: &Ca) -> Vec<Vec<u8>> {
    let cert = p.signed_by(&new_key(), &ca.cert, &ca.key).unwrap();
    vec![cert.der().to_vec()]
}

fn trust(ca: &Ca) -> PeerTrust {
    PeerTrust::CaCertificates(vec![ca.cert.der().to_vec()])
}

/// The alert verify_chain refuses with, checking the leaf as a server's
/// named `host`.
fn server_alert(chain: &[Vec<u8>], ca: &Ca, host: &str) -> Option<A> {
    verify_chain(chain, &trust(ca), Role::Server, Some(host), now())
        .err()
        .map(|(alert, _)| alert)
}

#[test]
fn a_good_chain_is_accepted_with_its_key() {
    let ca = ca();
    let chain = issue(leaf_params(&["server.seam.test"]), &ca);
    let key = verify_chain(
        &chain,
        &trust(&ca),
        Role::Server,
        Some("server.seam.test"),
        now(),
    )
    .unwrap();
    assert_eq!(key, leaf_public_key(&chain[0]).unwrap());
    // Through an intermediate CA, too.
    let mut mid = ca_params("Intermediate");
    mid.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    let mid_key = new_key();
    let mid_cert = mid.signed_by(&mid_key, &ca.cert, &ca.key).unwrap();
    let mid_ca = Ca {
        cert: mid_cert,
        key: mid_key,
    };
    let mut chain = issue(leaf_params(&["server.seam.test"]), &mid_ca);
    chain.push(mid_ca.cert.der().to_vec());
    assert_eq!(server_alert(&chain, &ca, "server.seam.test"), None);
    // Without the intermediate, the path does not reach the anchor.
    assert_eq!(
        server_alert(&chain[..1], &ca, "server.seam.test"),
        Some(A::UNKNOWN_CA)
    );
}

#[test]
fn the_wrong_extended_key_usage_is_refused() {
    let ca = ca();
    let mut p = leaf_params(&["server.seam.test"]);
    p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    let client_only = issue(p, &ca);
    assert_eq!(
        server_alert(&client_only, &ca, "server.seam.test"),
        Some(A::UNSUPPORTED_CERTIFICATE)
    );
    // The same certificate is fine for a client.
    assert!(verify_chain(&client_only, &trust(&ca), Role::Client, None, now()).is_ok());

    let mut p = leaf_params(&["client.seam.test"]);
    p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let server_only = issue(p, &ca);
    assert_eq!(
        verify_chain(&server_only, &trust(&ca), Role::Client, None, now())
            .unwrap_err()
            .0,
        A::UNSUPPORTED_CERTIFICATE
    );
}

#[test]
fn an_expired_certificate_or_anchor_is_refused() {
    let ca = ca();
    let mut p = leaf_params(&["server.seam.test"]);
    p.not_after = rcgen::date_time_ymd(2029, 12, 31);
    let expired = issue(p, &ca);
    assert_eq!(
        server_alert(&expired, &ca, "server.seam.test"),
        Some(A::CERTIFICATE_EXPIRED)
    );
    let mut p = leaf_params(&["server.seam.test"]);
    p.not_before = rcgen::date_time_ymd(2030, 1, 2);
    let not_yet = issue(p, &ca);
    assert_eq!(
        server_alert(&not_yet, &ca, "server.seam.test"),
        Some(A::CERTIFICATE_EXPIRED)
    );
    // An anchor past its own notAfter, over a leaf that is still valid.
    let mut old = ca_params("Old CA");
    old.not_after = rcgen::date_time_ymd(2029, 6, 1);
    let old_ca = ca_from(old);
    let chain = issue(leaf_params(&["server.seam.test"]), &old_ca);
    assert_eq!(
        server_alert(&chain, &old_ca, "server.seam.test"),
        Some(A::CERTIFICATE_EXPIRED)
    );
    // And without a time provider nothing is checked.
    let chain = issue(leaf_params(&["server.seam.test"]), &ca);
    assert_eq!(
        verify_chain(&chain, &trust(&ca), Role::Server, None, None)
            .unwrap_err()
            .0,
        A::INTERNAL_ERROR
    );
}

#[test]
fn a_name_constraint_violation_is_refused() {
    let mut p = ca_params("Constrained CA");
    p.name_constraints = Some(NameConstraints {
        permitted_subtrees: vec![GeneralSubtree::DnsName("allowed.test".into())],
        excluded_subtrees: Vec::new(),
    });
    let ca = ca_from(p);
    let inside = issue(leaf_params(&["cse.allowed.test"]), &ca);
    assert_eq!(server_alert(&inside, &ca, "cse.allowed.test"), None);
    let outside = issue(leaf_params(&["server.seam.test"]), &ca);
    assert_eq!(
        server_alert(&outside, &ca, "server.seam.test"),
        Some(A::BAD_CERTIFICATE)
    );
}

#[test]
fn an_unknown_critical_extension_is_refused() {
    let ca = ca();
    let mut p = leaf_params(&["server.seam.test"]);
    // A private OID holding a DER NULL, marked critical.
    let mut ext = CustomExtension::from_oid_content(&[1, 3, 6, 1, 4, 1, 99999, 1], vec![5, 0]);
    ext.set_criticality(true);
    p.custom_extensions = vec![ext];
    let chain = issue(p, &ca);
    assert_eq!(
        server_alert(&chain, &ca, "server.seam.test"),
        Some(A::BAD_CERTIFICATE)
    );
    // Not critical: ignored.
    let mut p = leaf_params(&["server.seam.test"]);
    p.custom_extensions = vec![CustomExtension::from_oid_content(
        &[1, 3, 6, 1, 4, 1, 99999, 1],
        vec![5, 0],
    )];
    assert_eq!(server_alert(&issue(p, &ca), &ca, "server.seam.test"), None);
}

#[test]
fn key_usage_must_allow_signing() {
    let ca = ca();
    let mut p = leaf_params(&["server.seam.test"]);
    p.key_usages = vec![KeyUsagePurpose::KeyEncipherment];
    assert_eq!(
        server_alert(&issue(p, &ca), &ca, "server.seam.test"),
        Some(A::UNSUPPORTED_CERTIFICATE)
    );
    // A CA whose keyUsage does not allow certificate signing vouches for nobody.
    let mut p = ca_params("Signing-only CA");
    p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    let ca = ca_from(p);
    assert_eq!(
        server_alert(
            &issue(leaf_params(&["server.seam.test"]), &ca),
            &ca,
            "server.seam.test"
        ),
        Some(A::BAD_CERTIFICATE)
    );
}

#[test]
fn a_name_only_in_the_common_name_is_refused() {
    let ca = ca();
    let mut p = leaf_params(&[]);
    p.distinguished_name = dn("server.seam.test");
    let chain = issue(p, &ca);
    assert_eq!(
        server_alert(&chain, &ca, "server.seam.test"),
        Some(A::BAD_CERTIFICATE)
    );
}

#[test]
fn a_common_name_hidden_in_another_attribute_is_refused() {
    // The old CN fallback split the subject's display string on commas, so
    // O="Evil, CN=server.seam.test" looked like a CN.
    let ca = ca();
    let mut p = leaf_params(&[]);
    let mut d = DistinguishedName::new();
    d.push(DnType::OrganizationName, "Evil, CN=server.seam.test");
    d.push(DnType::CommonName, "attacker.example");
    p.distinguished_name = d;
    let chain = issue(p, &ca);
    assert_eq!(
        server_alert(&chain, &ca, "server.seam.test"),
        Some(A::BAD_CERTIFICATE)
    );
    // Nor does the trick work next to a SAN for another name.
    let mut p = leaf_params(&["attacker.example"]);
    let mut d = DistinguishedName::new();
    d.push(DnType::OrganizationName, "Evil, CN=server.seam.test");
    p.distinguished_name = d;
    assert_eq!(
        server_alert(&issue(p, &ca), &ca, "server.seam.test"),
        Some(A::BAD_CERTIFICATE)
    );
}

#[test]
fn dns_and_uri_names_match_exactly() {
    let ca = ca();
    let cse_id = "//m2m.example.org/in-cse";
    let mut p = leaf_params(&["server.seam.test", "*.wild.seam.test"]);
    p.subject_alt_names
        .push(SanType::URI(cse_id.try_into().unwrap()));
    let chain = issue(p, &ca);
    for good in [
        cse_id,
        "server.seam.test",
        "SERVER.seam.test",
        "a.wild.seam.test",
    ] {
        assert_eq!(server_alert(&chain, &ca, good), None, "{good}");
    }
    for wrong in [
        "//m2m.example.org/in-cs",
        "//m2m.example.org/in-cse/",
        "//M2M.example.org/in-cse",
        "seam.test",
        "other.seam.test",
        "a.b.wild.seam.test",
    ] {
        assert_eq!(
            server_alert(&chain, &ca, wrong),
            Some(A::BAD_CERTIFICATE),
            "{wrong}"
        );
    }
}

#[test]
fn pinned_keys_and_missing_trust() {
    let ca = ca();
    let chain = issue(leaf_params(&["server.seam.test"]), &ca);
    let key = leaf_public_key(&chain[0]).unwrap();
    let pinned = PeerTrust::PinnedKey(key.clone());
    assert_eq!(
        verify_chain(&chain, &pinned, Role::Server, None, None).unwrap(),
        key
    );
    let other = issue(leaf_params(&["server.seam.test"]), &ca);
    assert_eq!(
        verify_chain(&other, &pinned, Role::Server, None, None)
            .unwrap_err()
            .0,
        A::BAD_CERTIFICATE
    );
    assert_eq!(
        verify_chain(&chain, &PeerTrust::NotConfigured, Role::Server, None, now())
            .unwrap_err()
            .0,
        A::CERTIFICATE_UNKNOWN
    );
}
