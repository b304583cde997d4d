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
