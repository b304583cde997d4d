//! What the Secure Environment stores, and how records are read and written.
//!
//! One store object per node (`node`) and one per stakeholder SE (`se.<name>`),
//! holding that SE's credentials, ACLs and admin counter. Keeping an SE in one
//! object makes a signed admin command — several operations — apply all or
//! nothing with a single atomic `put`, and a corrupt SE object cannot damage
//! another SE.
//!
//! An issuer command changes two objects (the node's counter and an SE), so
//! it is first written whole to a `journal` object — its one atomic commit
//! point — then applied, then the journal is removed. A journal found later
//! (after a power cut) is applied again: every step is idempotent.

use alloc::string::String;
use alloc::vec::Vec;
use seam_proto::{
    AclEntry, ClientId, KeyAttributes, KeyRole, Name, NodeId, ObjectKind, PublicKey, Reason, Suid,
};
use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, Zeroizing};

use crate::store::Store;

/// Layout version of stored records; a record of another version is reported
/// as corrupt rather than misread. 2: objects carry a role and a lifetime.
const RECORD_VERSION: u8 = 2;

pub const NODE_OBJECT: &str = "node";
const SE_PREFIX: &str = "se.";

#[derive(Serialize, Deserialize)]
pub struct NodeRecord {
    pub version: u8,
    pub node_id: NodeId,
    pub issuer: PublicKey,
    pub issuer_counter: u64,
    pub key_agreement_public: PublicKey,
    pub key_agreement_private: [u8; 32],
}

impl Drop for NodeRecord {
    fn drop(&mut self) {
        self.key_agreement_private.zeroize();
    }
}

#[derive(Clone, Serialize, Deserialize)]
pub struct SeRecord {
    pub version: u8,
    pub name: Name,
    pub admin: PublicKey,
    pub instance: u64,
    pub admin_counter: u64,
    pub allow_plaintext_import: bool,
    /// Grants on `*`: every object whose SUID matches, and SDO creation.
    pub se_acl: Vec<AclEntry>,
    pub objects: Vec<StoredObject>,
}

#[derive(Clone, Serialize, Deserialize)]
pub struct StoredObject {
    pub name: Name,
    pub kind: ObjectKind,
    /// None (0, as the record stores it) for a sensitive data object a
    /// caller created.
    #[serde(with = "seam_proto::suid::or_zero")]
    pub suid: Option<Suid>,
    /// The secret: key bytes, scalar or data. Never leaves, except `Data`
    /// through an authorised SDO retrieve.
    pub secret: Vec<u8>,
    pub public_key: Option<PublicKey>,
    pub creator: Option<ClientId>,
    pub acl: Vec<AclEntry>,
    /// Fixed at creation (see `KeyRole`).
    pub role: KeyRole,
    /// Platform time from which the key is refused.
    pub not_after: Option<u64>,
}

impl StoredObject {
    pub fn attributes(&self) -> KeyAttributes {
        KeyAttributes {
            role: self.role,
            not_after: self.not_after,
        }
    }
}

impl Drop for StoredObject {
    fn drop(&mut self) {
        self.secret.zeroize();
    }
}

impl SeRecord {
    /// The admin's object of that name (what admin commands address).
    pub fn object(&self, name: &str) -> Option<&StoredObject> {
        self.objects
            .iter()
            .find(|o| o.creator.is_none() && o.name.as_str() == name)
    }

    pub fn object_mut(&mut self, name: &str) -> Option<&mut StoredObject> {
        self.objects
            .iter_mut()
            .find(|o| o.creator.is_none() && o.name.as_str() == name)
    }

    /// What `name` means to caller `who`: its own object, else the admin's.
    /// Other callers' objects are in namespaces of their own.
    pub fn resolve(&self, who: ClientId, name: &str) -> Option<&StoredObject> {
        self.objects
            .iter()
            .find(|o| o.creator == Some(who) && o.name.as_str() == name)
            .or_else(|| self.object(name))
    }

    pub fn resolve_mut(&mut self, who: ClientId, name: &str) -> Option<&mut StoredObject> {
        let index = self
            .objects
            .iter()
            .position(|o| o.creator == Some(who) && o.name.as_str() == name)
            .or_else(|| {
                self.objects
                    .iter()
                    .position(|o| o.creator.is_none() && o.name.as_str() == name)
            })?;
        self.objects.get_mut(index)
    }
}

/// A committed issuer command, until both its objects are written.
#[derive(Serialize, Deserialize)]
pub struct Journal {
    pub version: u8,
    /// The command's counter, which becomes the node's issuer counter.
    pub issuer_counter: u64,
    pub change: SeChange,
}

#[derive(Serialize, Deserialize)]
pub enum SeChange {
    /// The new SE's record (no credentials yet).
    Create(SeRecord),
    Retire(Name),
}

pub const JOURNAL_OBJECT: &str = "journal";

pub fn load_journal(store: &mut impl Store) -> Result<Option<Journal>, Reason> {
    match store.get(JOURNAL_OBJECT)? {
        None => Ok(None),
        Some(bytes) => decode(Zeroizing::new(bytes)).map(Some),
    }
}

pub fn save_journal(store: &mut impl Store, journal: &Journal) -> Result<(), Reason> {
    let bytes = encode(journal)?;
    Ok(store.put(JOURNAL_OBJECT, &bytes)?)
}

pub fn delete_journal(store: &mut impl Store) -> Result<(), Reason> {
    Ok(store.delete(JOURNAL_OBJECT)?)
}

pub fn se_object_name(se: &Name) -> String {
    let mut s = String::with_capacity(SE_PREFIX.len() + se.len());
    s.push_str(SE_PREFIX);
    s.push_str(se);
    s
}

fn decode<T: for<'de> Deserialize<'de>>(bytes: Zeroizing<Vec<u8>>) -> Result<T, Reason> {
    match bytes.split_first() {
        Some((&RECORD_VERSION, _)) => {}
        _ => return Err(Reason::StorageCorrupt),
    }
    match postcard::take_from_bytes::<T>(&bytes) {
        Ok((value, [])) => Ok(value),
        _ => Err(Reason::StorageCorrupt),
    }
}

fn encode<T: Serialize>(value: &T) -> Result<Zeroizing<Vec<u8>>, Reason> {
    Ok(crate::wipe::encode(value)?)
}

pub fn load_node(store: &mut impl Store) -> Result<Option<NodeRecord>, Reason> {
    match store.get(NODE_OBJECT)? {
        None => Ok(None),
        Some(bytes) => decode(Zeroizing::new(bytes)).map(Some),
    }
}

pub fn save_node(store: &mut impl Store, node: &NodeRecord) -> Result<(), Reason> {
    let bytes = encode(node)?;
    Ok(store.put(NODE_OBJECT, &bytes)?)
}

/// The SE a request names.
pub fn load_se(store: &mut impl Store, se: &Name) -> Result<SeRecord, Reason> {
    match store.get(&se_object_name(se))? {
        None => Err(Reason::UnknownSe),
        Some(bytes) => {
            let record: SeRecord = decode(Zeroizing::new(bytes))?;
            // A record stored under another name is tampering, not an SE.
            if record.name != *se {
                return Err(Reason::StorageCorrupt);
            }
            Ok(record)
        }
    }
}

pub fn save_se(store: &mut impl Store, record: &SeRecord) -> Result<(), Reason> {
    let bytes = encode(record)?;
    Ok(store.put(&se_object_name(&record.name), &bytes)?)
}

pub fn delete_se(store: &mut impl Store, se: &Name) -> Result<(), Reason> {
    Ok(store.delete(&se_object_name(se))?)
}

/// Names of the SEs in the store (read from object names: a corrupt SE
/// record is still listed, and reported when used).
pub fn se_names(store: &mut impl Store) -> Result<Vec<String>, Reason> {
    let mut names: Vec<String> = store
        .list()?
        .into_iter()
        .filter_map(|n| n.strip_prefix(SE_PREFIX).map(String::from))
        .collect();
    names.sort();
    Ok(names)
}

pub const fn record_version() -> u8 {
    RECORD_VERSION
}
