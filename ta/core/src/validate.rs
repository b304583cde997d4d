//! Checks on the values a request names: SE and object names, SUIDs.

use seam_proto::{Reason, MAX_NAME};

/// The name a grant uses to mean "every object of the SE".
pub const WILDCARD: &str = "*";

/// SE and object names: 1..=32 bytes of `[A-Za-z0-9._-]`, not starting with
/// a dot (they become store object names).
pub fn name(n: &str) -> Result<(), Reason> {
    let ok = !n.is_empty()
        && n.len() <= MAX_NAME
        && !n.starts_with('.')
        && n.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(Reason::InvalidName)
    }
}

/// An object name in a grant: a name, or `*`.
pub fn grant_target(n: &str) -> Result<(), Reason> {
    if n == WILDCARD {
        Ok(())
    } else {
        name(n)
    }
}

/// A Security Usage Identifier (TS-0004 6.3.4.2.39): tens digit the key
/// source (1 pre-provisioned, 2 remote provisioning, 3 MAF, 4 certificate),
/// units digit the use (0 MEF, 1 MAF, 2 (D)TLS, 3 ESPrim, 4 ESData
/// encryption, 5 ESData signature).
pub fn suid(s: u8) -> Result<(), Reason> {
    if (1..=4).contains(&(s / 10)) && s % 10 <= 5 {
        Ok(())
    } else {
        Err(Reason::InvalidSuid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suids_are_the_ts0004_set() {
        let valid: alloc::vec::Vec<u8> = (0..=255u8).filter(|s| suid(*s).is_ok()).collect();
        let expected: alloc::vec::Vec<u8> = [10u8, 20, 30, 40]
            .iter()
            .flat_map(|t| (0..=5).map(move |u| t + u))
            .collect();
        assert_eq!(valid, expected);
    }

    #[test]
    fn names() {
        for ok in ["a", "operator", "cse-id.v2_1", "A0"] {
            assert!(name(ok).is_ok(), "{ok}");
        }
        let too_long = "x".repeat(MAX_NAME + 1);
        for bad in ["", ".hidden", "a/b", "a b", "é", "*", too_long.as_str()] {
            assert_eq!(name(bad), Err(Reason::InvalidName), "{bad}");
        }
        assert!(grant_target("*").is_ok());
        assert!(name(&"x".repeat(MAX_NAME)).is_ok());
    }
}
