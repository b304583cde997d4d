//! Validated names and SUIDs: what they accept, what they refuse (also when
//! decoding), and that their encoding is the plain string or byte they
//! replaced, so stored records, fuzz corpora and bundles still decode.

use seam_proto::handshake::{ESCERTKE_SUID, KM_SUID, KPSA_SUID};
use seam_proto::*;

#[test]
fn names_follow_the_rules() {
    for ok in ["a", "operator", "cse-id.v2_1", "A0", "a.", "-x"] {
        assert_eq!(Name::new(ok).unwrap().as_str(), ok);
    }
    let longest = "x".repeat(MAX_NAME);
    assert!(Name::new(&longest).is_ok());
    let too_long = "x".repeat(MAX_NAME + 1);
    let cases = [
        ("", NameError::Empty),
        (".hidden", NameError::LeadingDot),
        ("a/b", NameError::InvalidChar('/')),
        ("a b", NameError::InvalidChar(' ')),
        ("é", NameError::InvalidChar('é')),
        ("*", NameError::InvalidChar('*')),
        (too_long.as_str(), NameError::TooLong(MAX_NAME + 1)),
    ];
    for (bad, why) in cases {
        assert_eq!(Name::new(bad), Err(why), "{bad}");
        assert_eq!(bad.parse::<Name>(), Err(why));
        assert_eq!(Reason::from(why), Reason::InvalidName);
    }
    assert_eq!(
        NameError::InvalidChar('/').to_string(),
        "'/' is not allowed in a name (only A-Z a-z 0-9 . _ -)"
    );
    let n: Name = "k1".try_into().unwrap();
    assert_eq!(n, "k1");
    assert_eq!(n.to_string(), "k1");
    assert_eq!(format!("{n:?}"), "\"k1\"");
    assert_eq!(n.len(), 2); // Deref to str
}

#[test]
fn grant_targets_are_a_name_or_the_wildcard() {
    assert_eq!(GrantTarget::new("*"), Ok(GrantTarget::All));
    assert_eq!(
        GrantTarget::new("k"),
        Ok(GrantTarget::Object(Name::new("k").unwrap()))
    );
    assert_eq!(GrantTarget::new("**"), Err(NameError::InvalidChar('*')));
    assert_eq!(GrantTarget::All.to_string(), "*");
}

#[test]
fn suids_are_exactly_ts_0004s_table() {
    let valid: Vec<u8> = (0..=255u8).filter(|s| Suid::new(*s).is_ok()).collect();
    // TS-0004 V3.32 Table 6.3.4.2.39-1: no 20, 30 or 31.
    let expected: Vec<u8> = [10u8, 11, 12, 13, 14, 15, 21, 22, 23, 24, 25, 32, 33, 34, 35]
        .into_iter()
        .chain(40..=45)
        .collect();
    assert_eq!(valid, expected);
    for omitted in [20u8, 30, 31] {
        assert_eq!(Suid::new(omitted), Err(SuidError(omitted)));
    }
    assert_eq!(valid.first(), Some(&suid::SUID_MIN));
    assert_eq!(valid.last(), Some(&suid::SUID_MAX));
    let s = Suid::new(25).unwrap();
    assert_eq!((s.get(), s.credential_type(), s.use_digit()), (25, 2, 5));
    assert_eq!(s.to_string(), "25");
    assert_eq!(Suid::from_digits(4, 3), Suid::new(43));
    assert!(Suid::from_digits(26, 0).is_err());
    assert!(Suid::from_digits(1, 255).is_err());
    let e = Suid::new(37).unwrap_err();
    assert!(e
        .to_string()
        .starts_with("SUID 37 is not one of TS-0004's "));
    assert_eq!(Reason::from(e), Reason::InvalidSuid);
    assert_eq!("22".parse::<Suid>().unwrap().get(), 22);
    assert_eq!("x1".parse::<Suid>(), Err(ParseSuidError::NotANumber));
    assert_eq!(
        "99".parse::<Suid>(),
        Err(ParseSuidError::Invalid(SuidError(99)))
    );
    // The constants built without `new` are SUIDs.
    for s in [KM_SUID, KPSA_SUID, ESCERTKE_SUID] {
        assert_eq!(Suid::new(s.get()), Ok(s));
    }
}

fn bytes<T: serde::Serialize>(v: &T) -> Vec<u8> {
    postcard::to_allocvec(v).unwrap()
}

#[test]
fn the_encoding_is_the_string_or_byte_it_was() {
    let raw: heapless::String<MAX_NAME> = "operator".try_into().unwrap();
    let name = Name::new("operator").unwrap();
    assert_eq!(bytes(&name), bytes(&raw));
    assert_eq!(postcard::from_bytes::<Name>(&bytes(&raw)), Ok(name.clone()));
    assert_eq!(bytes(&GrantTarget::All), bytes(&"*"));
    assert_eq!(bytes(&GrantTarget::Object(name)), bytes(&raw));
    assert_eq!(bytes(&Suid::new(25).unwrap()), bytes(&25u8));
    // An ACL entry's optional SUID is the byte it was, 0 for none.
    let entry = |suid| AclEntry {
        grantee: ClientId([7; 16]),
        ops: Ops::SIGN,
        suid,
    };
    let mut with_25 = bytes(&ClientId([7; 16]));
    with_25.extend(bytes(&Ops::SIGN));
    let mut with_0 = with_25.clone();
    with_25.push(25);
    with_0.push(0);
    assert_eq!(bytes(&entry(Suid::new(25).ok())), with_25);
    assert_eq!(bytes(&entry(None)), with_0);
    assert_eq!(postcard::from_bytes::<AclEntry>(&with_0), Ok(entry(None)));
}

#[test]
fn values_breaking_the_rules_do_not_decode() {
    for bad in ["", ".x", "a/b", "*"] {
        let raw: heapless::String<MAX_NAME> = bad.try_into().unwrap();
        assert!(postcard::from_bytes::<Name>(&bytes(&raw)).is_err(), "{bad}");
        let e = postcard::from_bytes::<Name>(&bytes(&raw)).unwrap_err();
        assert_eq!(Reason::from(e), Reason::Malformed);
    }
    assert!(postcard::from_bytes::<GrantTarget>(&bytes(&"a b")).is_err());
    for bad in [0u8, 9, 16, 37, 46, 255] {
        assert!(postcard::from_bytes::<Suid>(&bytes(&bad)).is_err(), "{bad}");
    }
    let mut entry = bytes(&AclEntry {
        grantee: ClientId([7; 16]),
        ops: Ops::SIGN,
        suid: None,
    });
    *entry.last_mut().unwrap() = 16;
    assert!(postcard::from_bytes::<AclEntry>(&entry).is_err());
}

#[test]
fn encoding_errors_are_internal_and_decoding_errors_malformed() {
    assert_eq!(
        Reason::from(postcard::Error::SerializeBufferFull),
        Reason::Internal
    );
    assert_eq!(
        Reason::from(postcard::Error::DeserializeUnexpectedEnd),
        Reason::Malformed
    );
    let overflow = heapless::Vec::<u8, 1>::from_slice(&[1, 2]).unwrap_err();
    assert_eq!(Reason::from(overflow), Reason::Internal);
}
