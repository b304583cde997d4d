//! Fixed-size byte strings. serde derives stop at 32-byte arrays, and postcard
//! encodes a tuple of bytes as the bytes themselves, so these serialize as
//! tuples: no length prefix, and a wrong length cannot decode.

use core::fmt;
use serde::de::{Error, SeqAccess, Visitor};
use serde::ser::SerializeTuple;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

macro_rules! fixed_bytes {
    ($(#[$doc:meta])* $name:ident, $len:expr) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub [u8; $len]);

        impl $name {
            pub const LEN: usize = $len;
            pub fn as_bytes(&self) -> &[u8; $len] {
                &self.0
            }
        }

        impl Default for $name {
            fn default() -> Self {
                $name([0; $len])
            }
        }

        impl From<[u8; $len]> for $name {
            fn from(b: [u8; $len]) -> Self {
                $name(b)
            }
        }

        impl AsRef<[u8]> for $name {
            fn as_ref(&self) -> &[u8] {
                &self.0
            }
        }

        impl TryFrom<&[u8]> for $name {
            type Error = core::array::TryFromSliceError;
            fn try_from(b: &[u8]) -> Result<Self, Self::Error> {
                Ok($name(<[u8; $len]>::try_from(b)?))
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(concat!(stringify!($name), "("))?;
                for b in self.0.iter() {
                    write!(f, "{:02x}", b)?;
                }
                f.write_str(")")
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                let mut t = s.serialize_tuple($len)?;
                for b in self.0.iter() {
                    t.serialize_element(b)?;
                }
                t.end()
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct V;
                impl<'de> Visitor<'de> for V {
                    type Value = $name;
                    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                        write!(f, "{} bytes", $len)
                    }
                    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<$name, A::Error> {
                        let mut out = [0u8; $len];
                        for (i, slot) in out.iter_mut().enumerate() {
                            *slot = seq
                                .next_element()?
                                .ok_or_else(|| A::Error::invalid_length(i, &self))?;
                        }
                        Ok($name(out))
                    }
                }
                d.deserialize_tuple($len, V)
            }
        }
    };
}

fixed_bytes!(
    /// An uncompressed SEC1 P-256 public key (`04 ‖ x ‖ y`).
    PublicKey, 65
);
fixed_bytes!(
    /// An ECDSA P-256 signature, `r ‖ s`, 32 bytes each, big-endian.
    Signature, 64
);
fixed_bytes!(
    /// A SHA-256 digest or HMAC-SHA-256 tag.
    Digest, 32
);
fixed_bytes!(
    /// A node's random identifier, fixed at `InitNode`.
    NodeId, 16
);
fixed_bytes!(
    /// A caller identity: the OP-TEE client UUID (TEEC_LOGIN_USER / GROUP).
    ClientId, 16
);

impl ClientId {
    /// Length of the canonical text form, without a terminating NUL.
    pub const UUID_LEN: usize = 36;

    /// The UUID in its canonical 8-4-4-4-12 text form.
    pub fn write_uuid(&self, f: &mut impl fmt::Write) -> fmt::Result {
        for (i, b) in self.0.iter().enumerate() {
            if matches!(i, 4 | 6 | 8 | 10) {
                f.write_char('-')?;
            }
            write!(f, "{:02x}", b)?;
        }
        Ok(())
    }
}

impl fmt::Display for ClientId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write_uuid(f)
    }
}
