//! Security Usage Identifiers (TS-0004 6.3.4.2.39, TS-0003 §8.2.2.3).
//!
//! A SUID is two decimal digits: the tens digit is the credential type (1
//! pre-provisioned, 2 remote provisioning, 3 MAF, 4 certificate), the units
//! digit the use (0 MEF, 1 MAF, 2 (D)TLS, 3 ESPrim, 4 ESData encryption, 5
//! ESData signature). seam accepts exactly the SUIDs of TS-0004 V3.32 Table
//! 6.3.4.2.39-1: 10–15, 21–25, 32–35 and 40–45. Decisions on the values
//! TS-0003 uses but that table omits:
//! * 20 (remote-provisioned key shared with a MEF) is not a SUID: Ke is
//!   marked by its role (`KeyRole::Bootstrap`) and carries the SUID of the
//!   credential that bootstrapped it (10 or 40);
//! * 30 (MAF-distributed key shared with a MEF) describes nothing TS-0003
//!   defines and is refused;
//! * 31 (MAF-distributed key shared with the MAF, TS-0003 §8.3.9.9) is
//!   refused: Kc is stored under the SUID its caller registered with the
//!   MAF, one of 32–35.
//!
//! On the wire a [`Suid`] is a postcard `u8`.

use core::fmt;
use core::str::FromStr;

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Lowest and highest credential type (tens digit).
pub const SUID_CREDENTIAL_TYPE_MIN: u8 = 1;
pub const SUID_CREDENTIAL_TYPE_MAX: u8 = 4;
/// Highest use digit (units digit); the lowest is 0.
pub const SUID_USE_MAX: u8 = 5;
/// The smallest and largest SUID seam accepts (not every value between is one).
pub const SUID_MIN: u8 = SUID_CREDENTIAL_TYPE_MIN * 10;
pub const SUID_MAX: u8 = SUID_CREDENTIAL_TYPE_MAX * 10 + SUID_USE_MAX;

/// A SUID seam accepts.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Suid(u8);

/// A number that is not a SUID seam accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SuidError(pub u8);

impl fmt::Display for SuidError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "SUID {} is not one of TS-0004's (10-15, 21-25, 32-35, 40-45): the tens digit \
             is the credential type (1 pre-provisioned, 2 remote provisioning, 3 MAF, \
             4 certificate), the units digit the use (0 MEF, 1 MAF, 2 (D)TLS, 3 ESPrim, \
             4 ESData encryption, 5 ESData signature), e.g. 22 or 25",
            self.0
        )
    }
}

impl core::error::Error for SuidError {}

impl Suid {
    pub const fn new(value: u8) -> Result<Suid, SuidError> {
        if Suid::is_valid(value) {
            Ok(Suid(value))
        } else {
            Err(SuidError(value))
        }
    }

    /// The SUID of credential type `credential_type` (tens) and use `use_digit` (units).
    pub const fn from_digits(credential_type: u8, use_digit: u8) -> Result<Suid, SuidError> {
        // Saturating: digits out of range make 255, which is refused.
        Suid::new(credential_type.saturating_mul(10).saturating_add(use_digit))
    }

    /// TS-0004's table: use digits 0..=5 for types 1 and 4, 1..=5 for
    /// type 2 (no 20), 2..=5 for type 3 (no 30, 31).
    pub const fn is_valid(value: u8) -> bool {
        let tens = value / 10;
        let units = value % 10;
        let lowest_use = match tens {
            2 => 1,
            3 => 2,
            _ => 0,
        };
        tens >= SUID_CREDENTIAL_TYPE_MIN
            && tens <= SUID_CREDENTIAL_TYPE_MAX
            && units >= lowest_use
            && units <= SUID_USE_MAX
    }

    /// The number, e.g. 25.
    pub const fn get(self) -> u8 {
        self.0
    }

    /// The tens digit: where the credential comes from (1 pre-provisioned,
    /// 2 remote provisioning, 3 MAF, 4 certificate).
    pub const fn credential_type(self) -> u8 {
        self.0 / 10
    }

    /// The units digit: what the credential is for (0 MEF, 1 MAF, 2 (D)TLS,
    /// 3 ESPrim, 4 ESData encryption, 5 ESData signature).
    pub const fn use_digit(self) -> u8 {
        self.0 % 10
    }

    /// For constants in this crate whose value is checked by a test.
    pub(crate) const fn known(value: u8) -> Suid {
        Suid(value)
    }
}

impl TryFrom<u8> for Suid {
    type Error = SuidError;
    fn try_from(value: u8) -> Result<Suid, SuidError> {
        Suid::new(value)
    }
}

impl From<Suid> for u8 {
    fn from(s: Suid) -> u8 {
        s.0
    }
}

/// Why a text is not a SUID.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParseSuidError {
    /// Not a number from 0 to 255.
    NotANumber,
    Invalid(SuidError),
}

impl fmt::Display for ParseSuidError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParseSuidError::NotANumber => f.write_str("a SUID is a two-digit number, e.g. 22"),
            ParseSuidError::Invalid(e) => e.fmt(f),
        }
    }
}

impl core::error::Error for ParseSuidError {}

impl FromStr for Suid {
    type Err = ParseSuidError;
    fn from_str(s: &str) -> Result<Suid, ParseSuidError> {
        let n: u8 = s.parse().map_err(|_| ParseSuidError::NotANumber)?;
        Suid::new(n).map_err(ParseSuidError::Invalid)
    }
}

impl fmt::Display for Suid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl fmt::Debug for Suid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Suid({})", self.0)
    }
}

impl Serialize for Suid {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u8(self.0)
    }
}

impl<'de> Deserialize<'de> for Suid {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Suid, D::Error> {
        Suid::new(u8::deserialize(d)?).map_err(D::Error::custom)
    }
}

/// Serde for an `Option<Suid>` encoded as a `u8`, 0 meaning none: the SUID
/// of a sensitive data object (it has no key use) and of a `*` grant of
/// `CREATE` only. Use with `#[serde(with = "seam_proto::suid::or_zero")]`;
/// the encoding is that of the `u8` these fields were before.
pub mod or_zero {
    use super::*;

    pub fn serialize<S: Serializer>(suid: &Option<Suid>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u8(to_u8(*suid))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Suid>, D::Error> {
        from_u8(u8::deserialize(d)?).map_err(D::Error::custom)
    }

    /// 0 for none.
    pub const fn to_u8(suid: Option<Suid>) -> u8 {
        match suid {
            Some(s) => s.0,
            None => 0,
        }
    }

    /// None for 0.
    pub const fn from_u8(value: u8) -> Result<Option<Suid>, SuidError> {
        match value {
            0 => Ok(None),
            v => match Suid::new(v) {
                Ok(s) => Ok(Some(s)),
                Err(e) => Err(e),
            },
        }
    }
}
