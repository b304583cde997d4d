//! Validated SE and object names, and the target of a grant.
//!
//! A [`Name`] can only hold what the Secure Environment accepts (1 to
//! [`MAX_NAME`] bytes of `[A-Za-z0-9._-]`, not starting with a dot, since
//! names become store object names), whether it was built by a caller or
//! decoded from the wire. On the wire it is a plain postcard string.

use core::fmt;
use core::ops::Deref;
use core::str::FromStr;

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::MAX_NAME;

/// An SE or object name that follows the rules.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Name(heapless::String<MAX_NAME>);

/// Why a string is not a [`Name`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NameError {
    Empty,
    /// Longer than [`MAX_NAME`] bytes (the length it has).
    TooLong(usize),
    /// Starts with `.` (names become store object names).
    LeadingDot,
    /// A character outside `[A-Za-z0-9._-]`.
    InvalidChar(char),
}

impl fmt::Display for NameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NameError::Empty => f.write_str("a name must not be empty"),
            NameError::TooLong(len) => {
                write!(f, "a name is at most {MAX_NAME} bytes, this one has {len}")
            }
            NameError::LeadingDot => f.write_str("a name must not start with a dot"),
            NameError::InvalidChar(c) => {
                write!(f, "{c:?} is not allowed in a name (only A-Z a-z 0-9 . _ -)")
            }
        }
    }
}

impl core::error::Error for NameError {}

impl Name {
    /// `name` if it follows the rules.
    pub fn new(name: &str) -> Result<Name, NameError> {
        Name::check(name)?;
        let mut s = heapless::String::new();
        // `check` bounded the length: this push cannot fail.
        s.push_str(name)
            .map_err(|_| NameError::TooLong(name.len()))?;
        Ok(Name(s))
    }

    /// Whether `name` follows the rules, and if not, why.
    pub fn check(name: &str) -> Result<(), NameError> {
        if name.is_empty() {
            return Err(NameError::Empty);
        }
        if name.len() > MAX_NAME {
            return Err(NameError::TooLong(name.len()));
        }
        if name.starts_with('.') {
            return Err(NameError::LeadingDot);
        }
        match name
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
        {
            Some(c) => Err(NameError::InvalidChar(c)),
            None => Ok(()),
        }
    }

    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
}

impl Deref for Name {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for Name {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl TryFrom<&str> for Name {
    type Error = NameError;
    fn try_from(name: &str) -> Result<Name, NameError> {
        Name::new(name)
    }
}

impl FromStr for Name {
    type Err = NameError;
    fn from_str(name: &str) -> Result<Name, NameError> {
        Name::new(name)
    }
}

impl PartialEq<str> for Name {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Name {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl Serialize for Name {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Name {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Name, D::Error> {
        let s = heapless::String::<MAX_NAME>::deserialize(d)?;
        Name::check(&s).map_err(D::Error::custom)?;
        Ok(Name(s))
    }
}

/// What a grant or revoke applies to: one object, or (`*`) every object of
/// the SE with the entry's SUID, and the creation of sensitive data objects.
/// On the wire it is a string: `*` or the name.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum GrantTarget {
    /// `*`.
    All,
    Object(Name),
}

impl GrantTarget {
    /// How `GrantTarget::All` is spelt.
    pub const WILDCARD: &'static str = "*";

    /// `*` or a valid name.
    pub fn new(target: &str) -> Result<GrantTarget, NameError> {
        if target == Self::WILDCARD {
            Ok(GrantTarget::All)
        } else {
            Name::new(target).map(GrantTarget::Object)
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            GrantTarget::All => Self::WILDCARD,
            GrantTarget::Object(name) => name.as_str(),
        }
    }
}

impl From<Name> for GrantTarget {
    fn from(name: Name) -> Self {
        GrantTarget::Object(name)
    }
}

impl TryFrom<&str> for GrantTarget {
    type Error = NameError;
    fn try_from(target: &str) -> Result<GrantTarget, NameError> {
        GrantTarget::new(target)
    }
}

impl FromStr for GrantTarget {
    type Err = NameError;
    fn from_str(target: &str) -> Result<GrantTarget, NameError> {
        GrantTarget::new(target)
    }
}

impl fmt::Display for GrantTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for GrantTarget {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for GrantTarget {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<GrantTarget, D::Error> {
        let s = heapless::String::<MAX_NAME>::deserialize(d)?;
        GrantTarget::new(&s).map_err(D::Error::custom)
    }
}
