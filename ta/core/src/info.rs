//! What a caller may learn: node, SE and object attributes. Nothing here
//! returns a secret.

use core::fmt::Write;
use seam_proto::{
    Name, NodeIdentity, NodeInfo, ObjectInfo, Reason, Reply, ResourceType, SeInfo, MAX_SES,
    PROTOCOL_VERSION,
};

use crate::access::{self, Identified};
use crate::records::{self, StoredObject};
use crate::store::Store;
use crate::Platform;

/// SEType (`seT`) of a GlobalPlatform TEE (TS-0016 M2M-SE-ID type code 3).
pub const SE_TYPE_TEE: u8 = 3;

pub fn node_info(store: &mut impl Store) -> Result<Reply, Reason> {
    let node = records::load_node(store)?.map(|n| NodeIdentity {
        node_id: n.node_id,
        issuer: n.issuer,
        key_agreement: n.key_agreement_public,
        issuer_counter: n.issuer_counter,
    });
    Ok(Reply::NodeInfo(NodeInfo {
        protocol_version: PROTOCOL_VERSION,
        node,
    }))
}

pub fn se_list(store: &mut impl Store) -> Result<Reply, Reason> {
    let mut out = heapless::Vec::<Name, MAX_SES>::new();
    for name in records::se_names(store)? {
        // Names in the store were validated on creation; skip anything else.
        if let Ok(n) = Name::new(&name) {
            if out.push(n).is_err() {
                break;
            }
        }
    }
    Ok(Reply::SeList(out))
}

pub fn se_info(
    store: &mut impl Store,
    platform: &Platform,
    se_name: &Name,
) -> Result<Reply, Reason> {
    let node = records::load_node(store)?.ok_or(Reason::NotInitialized)?;
    let se = records::load_se(store, se_name)?;
    let mut id = heapless::String::new();
    // m2mSeID: type code, then an id unique to this node and SE.
    let _ = write!(id, "{}-", SE_TYPE_TEE);
    for b in node.node_id.0.iter() {
        let _ = write!(id, "{:02x}", b);
    }
    write!(id, "-{}", se.name).map_err(|_| Reason::Internal)?;
    let types = heapless::Vec::from_slice(&[
        ResourceType::SensitiveDataObject,
        ResourceType::Cipher,
        ResourceType::Signature,
        ResourceType::Hash,
        ResourceType::Rand,
        ResourceType::SecureConnection,
    ])?;
    Ok(Reply::SeInfo(SeInfo {
        name: se.name.clone(),
        m2m_se_id: id,
        se_type: SE_TYPE_TEE,
        security_level: platform.security_level,
        supported_resource_types: types,
        admin: se.admin,
        instance: se.instance,
        admin_counter: se.admin_counter,
        allow_plaintext_import: se.allow_plaintext_import,
        objects: se.objects.len() as u16,
    }))
}

fn describe(object: &StoredObject) -> ObjectInfo {
    ObjectInfo {
        name: object.name.clone(),
        kind: object.kind,
        suid: object.suid,
        size: object.secret.len() as u16,
        public_key: object.public_key,
        creator: object.creator,
        attributes: object.attributes(),
    }
}

pub fn object_list(
    store: &mut impl Store,
    who: Identified,
    se_name: &Name,
) -> Result<Reply, Reason> {
    let se = records::load_se(store, se_name)?;
    let mut out = seam_proto::HeapVec::new();
    for object in se.objects.iter().filter(|o| access::may_see(&se, o, who)) {
        out.push(describe(object)).map_err(|_| Reason::Internal)?;
    }
    Ok(Reply::Objects(out))
}

pub fn object_info(
    store: &mut impl Store,
    who: Identified,
    se_name: &Name,
    object: &Name,
) -> Result<Reply, Reason> {
    let se = records::load_se(store, se_name)?;
    Ok(Reply::Object(describe(access::visible_object(
        &se, who, object,
    )?)))
}

pub fn acl_show(
    store: &mut impl Store,
    who: Identified,
    se_name: &Name,
    object: &Name,
) -> Result<Reply, Reason> {
    let se = records::load_se(store, se_name)?;
    let found = access::visible_object(&se, who, object)?;
    Ok(Reply::Acl(heapless::Vec::from_slice(&found.acl)?))
}
