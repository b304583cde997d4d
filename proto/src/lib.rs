//! Wire types between the seam host library and the seam Secure Environment.
//!
//! Every request and response is a postcard-encoded value of [`Request`] or
//! [`Response`]. All collections are bounded so that an oversized message is
//! rejected by the decoder, not by an allocator: small ones inline
//! ([`heapless`]), large ones on the heap ([`HeapVec`], which keeps a decoded
//! request small enough for the TA's stack). This crate has no behaviour beyond the
//! codec: policy lives in `seam-core`.
#![no_std]
#![forbid(unsafe_code)]
// Small bounded values stay inline; the large ones are `HeapVec`s.
#![allow(clippy::large_enum_variant)]

extern crate alloc;

mod bytes;
pub mod handshake;
mod heap;
pub mod jose;
mod name;
mod status;
pub mod suid;

pub use bytes::{ClientId, Digest, NodeId, PublicKey, Signature};
pub use heap::HeapVec;
pub use heapless;
pub use name::{GrantTarget, Name, NameError};
pub use postcard;
pub use status::{Reason, Status};
pub use suid::{ParseSuidError, Suid, SuidError};

use heapless::{String, Vec};
use serde::{Deserialize, Serialize};

/// Version of this protocol; the TA refuses any other with 4000 /
/// `UnsupportedVersion`. Version 2: handshake sessions in which the TA
/// chooses its random and hashes the transcript itself (see [`handshake`]).
/// Version 3: key attributes (role, lifetime), `Encrypt` returning the
/// nonce it drew, Kc's SUID in `ExportKey`, `KeyExpired` (issue 11).
pub const PROTOCOL_VERSION: u16 = 3;

/// The TA's UUID, as OP-TEE names it (`/lib/optee_armtz/<uuid>.ta`).
pub const TA_UUID: &str = "5ea30016-7a1e-4c0b-9d2e-0e2d1c5e5ea3";

/// Largest encoded request or response, in bytes. The host and the TA both
/// refuse anything larger before decoding it.
pub const MAX_MESSAGE: usize = 16 * 1024;
/// Longest SE or object name, in bytes (`[A-Za-z0-9._-]`, or `*` in a grant).
pub const MAX_NAME: usize = 32;
/// Largest sensitive data object, message to sign, MAC or encrypt.
pub const MAX_DATA: usize = 2048;
/// Largest AEAD tag (AES-CCM-16 and AES-GCM).
pub const MAX_TAG: usize = 16;
/// Largest additional authenticated data for AEAD.
/// Largest additional authenticated data for AEAD: what a 16 KiB message
/// holds beside the largest decrypt request's other fields (an ESPrim JWE
/// protected header carries its random objects, hundreds of bytes).
pub const MAX_AAD: usize = 12 * 1024;
/// Largest AEAD nonce (AES-CCM allows 7..=13 bytes, AES-GCM uses 12).
pub const MAX_NONCE: usize = 13;
/// Largest `rand` request.
pub const MAX_RANDOM: usize = 1024;
/// Stakeholder SEs a node holds at most.
pub const MAX_SES: usize = 8;
/// Objects (keys and sensitive data) one SE holds at most.
pub const MAX_OBJECTS_PER_SE: usize = 32;
/// Access-control entries per object at most.
pub const MAX_ACL_ENTRIES: usize = 16;
/// Operations one signed admin command carries at most; they apply all or none.
pub const MAX_ADMIN_OPS: usize = 4;
/// Longest M2M-SE-ID string.
pub const MAX_SE_ID: usize = 72;
/// Longest DER encoding of an ECDSA P-256 signature (what TLS and X.509
/// carry): a SEQUENCE of two INTEGERs of up to 33 bytes each.
pub const MAX_SIGNATURE_DER: usize = 72;

// What the C header mirrors, all usable in `const` assertions
// (`const _: () = assert!(SEAM_NAME_MAX == seam_proto::MAX_NAME);`):
// status codes `Status::X.code()`; limits `MAX_NAME`, `MAX_DATA`,
// `MAX_RANDOM`, `MAX_NONCE`, `MAX_AAD`, `MAX_TAG`, `MAX_SIGNATURE_DER`;
// lengths `Signature::LEN`, `Digest::LEN`, `PublicKey::LEN`,
// `ClientId::UUID_LEN`; operation bits `Ops::X.0`; SUID bounds
// `suid::SUID_MIN`, `suid::SUID_MAX`, `suid::SUID_USE_MAX`,
// `suid::SUID_CREDENTIAL_TYPE_MIN/MAX`, and `Suid::is_valid`.

/// Domain-separation strings for the two kinds of signed command.
pub const ISSUER_DOMAIN: &str = "seam issuer command v1";
pub const ADMIN_DOMAIN: &str = "seam admin command v1";

/// Bytes of a sensitive data object or a message.
pub type Data = HeapVec<u8, MAX_DATA>;
/// AEAD output: data plus its tag.
pub type Sealed = HeapVec<u8, { MAX_DATA + MAX_TAG }>;

/// One request to the Secure Environment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Request {
    pub version: u16,
    pub op: Op,
}

impl Request {
    pub fn new(op: Op) -> Self {
        Request {
            version: PROTOCOL_VERSION,
            op,
        }
    }
}

/// What a request asks for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Op {
    /// Public: node id, key-agreement public key, issuer key. Any caller, even PUBLIC login.
    NodeInfo,
    /// Trust on first use: bind the node to a device issuer's P-256 public key.
    InitNode {
        issuer: PublicKey,
    },
    /// A command signed by the device issuer (create or retire a stakeholder SE).
    Issuer(IssuerCommand),
    /// A command signed by one SE's admin key (manage credentials and ACLs).
    Admin(AdminCommand),
    /// Names of the SEs on this node.
    SeList,
    /// `<SE>` resource attributes.
    SeInfo {
        se: Name,
    },
    /// Objects of an SE that the caller holds a grant on (others are not listed).
    ObjectList {
        se: Name,
    },
    /// One object's public attributes (never its secret).
    ObjectInfo {
        se: Name,
        object: Name,
    },
    /// The access-control entries of an object (to a caller holding a grant on it).
    AclShow {
        se: Name,
        object: Name,
    },

    /// `<sensitiveDataObject>` create, by a caller granted `CREATE` on the SE (`*`).
    SdoCreate {
        se: Name,
        object: Name,
        data: Data,
    },
    SdoRetrieve {
        se: Name,
        object: Name,
    },
    SdoUpdate {
        se: Name,
        object: Name,
        data: Data,
    },
    SdoDelete {
        se: Name,
        object: Name,
    },

    /// `<signature>`: ECDSA P-256 SHA-256 with a stored private key.
    Sign {
        key: KeyRef,
        input: SignInput,
    },
    Verify {
        key: KeyRef,
        input: SignInput,
        signature: Signature,
    },
    /// `<hash>`.
    Hash {
        alg: HashAlg,
        message: Data,
    },
    /// `<rand>`.
    Random {
        len: u16,
    },
    /// `<cipher>` `<encrypt>` / `<decrypt>` with a stored AES-128 key. The
    /// TA draws the nonce (`nonce_len` bytes: 12 for GCM, 7..=13 for CCM)
    /// and returns it with the ciphertext: a caller never chooses an
    /// encryption nonce, so it cannot make the TA reuse another's.
    Encrypt {
        key: KeyRef,
        alg: AeadAlg,
        nonce_len: u8,
        aad: HeapVec<u8, MAX_AAD>,
        plaintext: Data,
    },
    Decrypt {
        key: KeyRef,
        alg: AeadAlg,
        nonce: Vec<u8, MAX_NONCE>,
        aad: HeapVec<u8, MAX_AAD>,
        ciphertext: Sealed,
    },
    /// HMAC-SHA-256 with a stored secret.
    Mac {
        key: KeyRef,
        message: Data,
    },
    /// HMAC-SHA-256 checked inside, in constant time.
    MacVerify {
        key: KeyRef,
        message: Data,
        tag: Digest,
    },
    /// A (D)TLS handshake session: see [`handshake`].
    Handshake(handshake::HandshakeOp),
    /// A TS-0003 §10.3 key derivation into a new stored key: see [`handshake::Derive`].
    Derive(handshake::Derive),
    /// A JOSE key operation (JWE), see [`jose`].
    Jose(jose::JoseOp),
}

/// A stored key, and the SUID the caller means to use it for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyRef {
    pub se: Name,
    pub key: Name,
    pub suid: Suid,
}

/// What gets signed or verified: a message (hashed inside) or a SHA-256 digest.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SignInput {
    Message(Data),
    Digest(Digest),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum HashAlg {
    Sha256,
}

/// TS-0003 Annex L AEAD algorithms (our own codes: TS-0016 §9 was not available).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum AeadAlg {
    /// ALG_AEAD_AES_128_CCM (16-byte tag)
    Aes128Ccm,
    /// ALG_AEAD_AES_128_CCM_8 (8-byte tag)
    Aes128Ccm8,
    /// ALG_AEAD_AES_128_GCM (16-byte tag, 12-byte nonce)
    Aes128Gcm,
}

/// A command from the device issuer. The signature covers [`IssuerPayload`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuerCommand {
    pub counter: u64,
    pub op: IssuerOp,
    pub signature: Signature,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum IssuerOp {
    CreateSe {
        se: Name,
        admin: PublicKey,
        allow_plaintext_import: bool,
    },
    RetireSe {
        se: Name,
    },
}

/// A command from one SE's admin. The signature covers [`AdminPayload`]; all
/// of `ops` apply, or none does.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminCommand {
    pub se: Name,
    pub counter: u64,
    pub ops: Vec<AdminOp, MAX_ADMIN_OPS>,
    pub signature: Signature,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum AdminOp {
    /// A P-256 key pair generated inside; the public key comes back.
    GenerateKeyPair {
        object: Name,
        suid: Suid,
        attributes: KeyAttributes,
    },
    /// A random symmetric secret of `len` bytes (16..=64) generated inside.
    GenerateSecret {
        object: Name,
        suid: Suid,
        len: u8,
        attributes: KeyAttributes,
    },
    /// A credential wrapped to the node's key-agreement key.
    Import {
        object: Name,
        suid: Suid,
        kind: ObjectKind,
        wrapped: WrappedSecret,
        attributes: KeyAttributes,
    },
    /// A credential in the clear: only for an SE created with `allow_plaintext_import`.
    ImportPlaintext {
        object: Name,
        suid: Suid,
        kind: ObjectKind,
        material: Data,
        attributes: KeyAttributes,
    },
    Delete {
        object: Name,
    },
    /// Add (or replace, for the same grantee) an access-control entry. `object`
    /// may be `*`: the entry then covers every object of the SE with its SUID,
    /// and `CREATE` of sensitive data objects (an entry granting only `CREATE`
    /// may have no SUID).
    Grant {
        object: GrantTarget,
        entry: AclEntry,
    },
    Revoke {
        object: GrantTarget,
        grantee: ClientId,
    },
    /// A P-256 public key ([`ObjectKind::PublicKey`]) to verify with or
    /// encrypt to. Not secret, so not wrapped; the admin's signature is what
    /// makes it trusted.
    ImportPublicKey {
        object: Name,
        suid: Suid,
        key: PublicKey,
        attributes: KeyAttributes,
    },
}

/// What a key is for, fixed when it is created (never changed: a key once
/// used for a generic operation could have produced, through that
/// operation, the keys it would later derive).
///
/// A derivation source is usable only by the derivations its role names,
/// never by a generic `Mac`, `Sign` or `Encrypt`: every TS-0003 derivation
/// is an HMAC keyed with its source, which a generic MAC would reproduce.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum KeyRole {
    /// Used directly, by the operations its SUID allows.
    #[default]
    Operational,
    /// Ke, the enrolment key a bootstrap established (TS-0003 §8.3.9.2):
    /// derives Km, Kpsa and usage-constrained keys, nothing else. SUID use
    /// digit 0 (shared with the MEF).
    Bootstrap,
    /// A pairwise ESPrim key (TS-0003 §8.4.2): the source of
    /// sessionESPrimKeys and nothing else, used by ESPrim encrypt/decrypt
    /// (which derive it per call) and by the `SessionEsPrim` derivation,
    /// never by a generic `Mac`, `Encrypt` or `Decrypt`. SUID use digit 3.
    Pairwise,
}

/// Attributes a key is created with.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyAttributes {
    pub role: KeyRole,
    /// The platform time (seconds since the Unix epoch) from which on the
    /// key is refused (`KeyExpired`); None: no expiry. A derived key's
    /// `not_after` is never later than its source's.
    pub not_after: Option<u64>,
}

/// What kind of secret an object holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ObjectKind {
    /// A symmetric secret of 16..=64 bytes: a PSK, an AES-128 key (16 bytes), an HMAC key.
    Secret,
    /// A P-256 private key (32-byte big-endian scalar).
    EcP256,
    /// Opaque sensitive data; the only kind a caller may read back.
    Data,
    /// A P-256 public key held for verification (a token issuer's, a peer's)
    /// or as an ECDH-ES recipient: trusted because an admin-signed command
    /// imported it, so never created by a plain grantee.
    PublicKey,
}

/// A secret sealed to the node's key-agreement key: ECDH P-256 with an
/// ephemeral key, HKDF-SHA256, AES-256-GCM. The key derivation and the AAD bind
/// it to the node, the SE, the object name, its kind and SUID (see seam-core's
/// `crypto::wrap`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WrappedSecret {
    pub ephemeral: PublicKey,
    pub nonce: [u8; 12],
    pub ciphertext: Sealed,
}

/// Who may do what with an object.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AclEntry {
    pub grantee: ClientId,
    pub ops: Ops,
    /// None (0 on the wire): a `*` entry granting only `CREATE`, or an entry
    /// on a sensitive data object created by a caller (it has no SUID).
    #[serde(with = "suid::or_zero")]
    pub suid: Option<Suid>,
}

/// A set of operations, as bits.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ops(pub u16);

impl Ops {
    pub const RETRIEVE: Ops = Ops(1 << 0);
    pub const UPDATE: Ops = Ops(1 << 1);
    pub const DELETE: Ops = Ops(1 << 2);
    pub const SIGN: Ops = Ops(1 << 3);
    pub const VERIFY: Ops = Ops(1 << 4);
    pub const ENCRYPT: Ops = Ops(1 << 5);
    pub const DECRYPT: Ops = Ops(1 << 6);
    pub const MAC: Ops = Ops(1 << 7);
    pub const DERIVE: Ops = Ops(1 << 8);
    pub const HANDSHAKE: Ops = Ops(1 << 9);
    pub const CREATE: Ops = Ops(1 << 10);
    pub const ALL: Ops = Ops((1 << 11) - 1);

    /// Names as the CLI spells them, in bit order.
    pub const NAMES: [(&'static str, Ops); 11] = [
        ("retrieve", Ops::RETRIEVE),
        ("update", Ops::UPDATE),
        ("delete", Ops::DELETE),
        ("sign", Ops::SIGN),
        ("verify", Ops::VERIFY),
        ("encrypt", Ops::ENCRYPT),
        ("decrypt", Ops::DECRYPT),
        ("mac", Ops::MAC),
        ("derive", Ops::DERIVE),
        ("handshake", Ops::HANDSHAKE),
        ("create", Ops::CREATE),
    ];

    pub const fn contains(self, other: Ops) -> bool {
        self.0 & other.0 == other.0
    }
    pub const fn union(self, other: Ops) -> Ops {
        Ops(self.0 | other.0)
    }
}

/// The bytes an issuer signs (postcard encoding of this value).
#[derive(Clone, Debug, Serialize)]
pub struct IssuerPayload<'a> {
    pub domain: &'a str,
    pub node_id: &'a NodeId,
    pub counter: u64,
    pub op: &'a IssuerOp,
}

/// The bytes an SE admin signs (postcard encoding of this value). The node id,
/// SE name and SE instance make a command useless on any other node or SE; the counter,
/// which must exceed the last one the SE accepted, makes it useless twice.
#[derive(Clone, Debug, Serialize)]
pub struct AdminPayload<'a> {
    pub domain: &'a str,
    pub node_id: &'a NodeId,
    pub se: &'a str,
    /// The SE's instance ([`SeInfo::instance`]): a command for a retired SE
    /// is useless on a new SE of the same name.
    pub se_instance: u64,
    pub counter: u64,
    pub ops: &'a [AdminOp],
}

/// The answer to one request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Response {
    /// A oneM2M response status code (TS-0004), see [`Status`].
    pub status: u16,
    pub reply: Reply,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Reply {
    /// Success with nothing to return.
    Done,
    /// Failure; `status` says the class, this says what was wrong.
    Failed(Reason),
    NodeInfo(NodeInfo),
    SeList(Vec<Name, MAX_SES>),
    SeInfo(SeInfo),
    Objects(HeapVec<ObjectInfo, MAX_OBJECTS_PER_SE>),
    Object(ObjectInfo),
    Acl(Vec<AclEntry, MAX_ACL_ENTRIES>),
    /// One outcome per admin op, in order.
    Admin(Vec<AdminOutcome, MAX_ADMIN_OPS>),
    Data(Data),
    Signature(Signature),
    Verified(bool),
    Digest(Digest),
    Random(HeapVec<u8, MAX_RANDOM>),
    /// The nonce the TA drew, and the ciphertext with its tag.
    Ciphertext {
        nonce: Vec<u8, MAX_NONCE>,
        ciphertext: Sealed,
    },
    Plaintext(Data),
    Mac(Digest),
    Handshake(handshake::HandshakeReply),
    /// The key a `Derive` created.
    Derived(ObjectInfo),
    Jose(jose::JoseReply),
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeInfo {
    pub protocol_version: u16,
    /// None until `InitNode`.
    pub node: Option<NodeIdentity>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeIdentity {
    pub node_id: NodeId,
    pub issuer: PublicKey,
    /// The key credentials are wrapped to for import.
    pub key_agreement: PublicKey,
    /// Last issuer command counter accepted.
    pub issuer_counter: u64,
}

/// `<SE>` resource attributes (TS-0016 §7.3).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeInfo {
    pub name: Name,
    /// m2mSeID (`sID`): `3-<node id hex>-<name>`, type code 3 = TEE.
    pub m2m_se_id: String<MAX_SE_ID>,
    /// SEType (`seT`): 3, a GlobalPlatform TEE.
    pub se_type: u8,
    /// securityLevel (`seL`): 2 on OP-TEE; the simulator reports 0.
    pub security_level: u8,
    /// supportedResourceType (`srt`), our codes in [`ResourceType`].
    pub supported_resource_types: Vec<ResourceType, 8>,
    pub admin: PublicKey,
    /// The issuer counter of the command that created this SE; unique on the
    /// node, and part of every admin signature.
    pub instance: u64,
    /// Last admin command counter accepted.
    pub admin_counter: u64,
    pub allow_plaintext_import: bool,
    pub objects: u16,
}

/// TS-0016 resource types this SE serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ResourceType {
    SensitiveDataObject,
    Cipher,
    Signature,
    Hash,
    Rand,
    SecureConnection,
    Identity,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectInfo {
    pub name: Name,
    pub kind: ObjectKind,
    /// None (0 on the wire) for a sensitive data object a caller created.
    #[serde(with = "suid::or_zero")]
    pub suid: Option<Suid>,
    /// currentByteSize (`cbs`) of the secret.
    pub size: u16,
    /// Public key of an `EcP256` object.
    pub public_key: Option<PublicKey>,
    /// Who created it: the SE admin (None) or a caller (SDO create).
    pub creator: Option<ClientId>,
    /// Role and lifetime of a key (`Operational`, no expiry, for data).
    pub attributes: KeyAttributes,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum AdminOutcome {
    Done,
    PublicKey(PublicKey),
}

/// What a [`WrappedSecret`] is bound to (postcard encoding of this value is the
/// key-derivation info and the AEAD associated data): a secret wrapped for one
/// node, SE, object, kind and SUID opens nowhere else.
#[derive(Clone, Debug, Serialize)]
pub struct WrapBinding<'a> {
    pub domain: &'a str,
    pub node_id: &'a NodeId,
    pub se: &'a str,
    pub se_instance: u64,
    pub object: &'a str,
    pub kind: ObjectKind,
    pub suid: u8,
}

pub const WRAP_DOMAIN: &str = "seam wrapped secret v1";
