//! Signed commands: the device issuer creates and retires stakeholder SEs;
//! each SE's admin manages its credentials and ACLs.
//!
//! A command is accepted only if its ECDSA signature verifies over the
//! canonical payload (which names this node, and for an admin command the SE
//! and its instance) and its counter exceeds the last accepted one. All the
//! operations of an admin command are applied to a copy of the SE record and
//! stored with one atomic write, so a failing operation applies nothing.

use alloc::vec::Vec;
use seam_proto::{
    AdminCommand, AdminOp, AdminOutcome, GrantTarget, IssuerCommand, IssuerOp, KeyAttributes, Name,
    NodeId, ObjectKind, PublicKey, Reason, Reply, Status, Suid, MAX_ACL_ENTRIES, MAX_ADMIN_OPS,
    MAX_DATA, MAX_OBJECTS_PER_SE, MAX_SES,
};
use zeroize::Zeroizing;

use crate::access;
use crate::crypto::{self, Rng};
use crate::records::{self, Journal, NodeRecord, SeChange, SeRecord, StoredObject};
use crate::store::Store;

/// Shortest and longest symmetric secret.
pub const SECRET_LEN: core::ops::RangeInclusive<usize> = 16..=64;

pub fn init_node(
    store: &mut impl Store,
    rng: &mut dyn Rng,
    issuer: &PublicKey,
) -> Result<Reply, Reason> {
    if records::load_node(store)?.is_some() {
        return Err(Reason::AlreadyInitialized);
    }
    crypto::sign::validate_public(issuer.as_bytes())?;
    let mut node_id = [0u8; 16];
    rng.fill(&mut node_id)?;
    let private = crypto::sign::generate(rng)?;
    // A key we just generated that has no public key is our fault.
    let public = crypto::sign::public_key(&private).map_err(|_| Reason::Internal)?;
    let node = NodeRecord {
        version: records::record_version(),
        node_id: NodeId(node_id),
        issuer: *issuer,
        issuer_counter: 0,
        key_agreement_public: PublicKey(public),
        key_agreement_private: *private,
    };
    records::save_node(store, &node)?;
    Ok(Reply::Done)
}

pub fn issuer_command(
    store: &mut impl Store,
    cmd: &IssuerCommand,
) -> Result<(Status, Reply), Reason> {
    let node = records::load_node(store)?.ok_or(Reason::NotInitialized)?;
    access::authorize_issuer(&node, cmd)?;
    match &cmd.op {
        IssuerOp::CreateSe {
            se,
            admin,
            allow_plaintext_import,
        } => {
            crypto::sign::validate_public(admin.as_bytes())?;
            let existing = records::se_names(store)?;
            if existing.iter().any(|n| n.as_str() == se.as_str()) {
                return Err(Reason::AlreadyExists);
            }
            if existing.len() >= MAX_SES {
                return Err(Reason::LimitReached);
            }
            let record = SeRecord {
                version: records::record_version(),
                name: se.clone(),
                admin: *admin,
                instance: cmd.counter,
                admin_counter: 0,
                allow_plaintext_import: *allow_plaintext_import,
                se_acl: Vec::new(),
                objects: Vec::new(),
            };
            commit(store, cmd.counter, SeChange::Create(record))?;
            Ok((Status::Created, Reply::Done))
        }
        IssuerOp::RetireSe { se } => {
            if !records::se_names(store)?
                .iter()
                .any(|n| n.as_str() == se.as_str())
            {
                return Err(Reason::UnknownSe);
            }
            commit(store, cmd.counter, SeChange::Retire(se.clone()))?;
            Ok((Status::Deleted, Reply::Done))
        }
    }
}

/// Writes an issuer command to the journal (the commit point: if that put
/// fails, nothing is applied), then applies it. Once the journal is written
/// the command stands: a failure while applying it is finished by
/// [`recover`], which the environment runs before the next request.
fn commit(store: &mut impl Store, counter: u64, change: SeChange) -> Result<(), Reason> {
    let journal = Journal {
        version: records::record_version(),
        issuer_counter: counter,
        change,
    };
    records::save_journal(store, &journal)?;
    let _ = apply_journal(store, &journal);
    Ok(())
}

/// Applies a journaled issuer command: the node's counter, then the SE,
/// then the journal removed. Each step may run again with the same result.
fn apply_journal(store: &mut impl Store, journal: &Journal) -> Result<(), Reason> {
    let mut node = records::load_node(store)?.ok_or(Reason::StorageCorrupt)?;
    if node.issuer_counter < journal.issuer_counter {
        node.issuer_counter = journal.issuer_counter;
        records::save_node(store, &node)?;
    }
    match &journal.change {
        SeChange::Create(record) => records::save_se(store, record)?,
        SeChange::Retire(se) => records::delete_se(store, se)?,
    }
    records::delete_journal(store)
}

/// Finishes an issuer command that was committed but not wholly applied
/// (a power cut or a storage failure in between).
pub fn recover(store: &mut impl Store) -> Result<(), Reason> {
    match records::load_journal(store)? {
        Some(journal) => apply_journal(store, &journal),
        None => Ok(()),
    }
}

pub fn admin_command(
    store: &mut impl Store,
    rng: &mut dyn Rng,
    cmd: &AdminCommand,
) -> Result<(Status, Reply), Reason> {
    let node = records::load_node(store)?.ok_or(Reason::NotInitialized)?;
    let mut se = records::load_se(store, &cmd.se)?;
    access::authorize_admin(&node, &se, cmd)?;
    if cmd.ops.is_empty() || cmd.ops.len() > MAX_ADMIN_OPS {
        return Err(Reason::InvalidParameter);
    }
    let mut outcomes = heapless::Vec::<AdminOutcome, MAX_ADMIN_OPS>::new();
    for op in cmd.ops.iter() {
        let outcome = apply(&node, &mut se, rng, op)?;
        outcomes.push(outcome).map_err(|_| Reason::Internal)?;
    }
    se.admin_counter = cmd.counter;
    records::save_se(store, &se)?;
    Ok((Status::Ok, Reply::Admin(outcomes)))
}

fn apply(
    node: &NodeRecord,
    se: &mut SeRecord,
    rng: &mut dyn Rng,
    op: &AdminOp,
) -> Result<AdminOutcome, Reason> {
    match op {
        AdminOp::GenerateKeyPair {
            object,
            suid,
            attributes,
        } => {
            check_new_object(se, object)?;
            access::check_new_key(ObjectKind::EcP256, *suid, attributes)?;
            let private = crypto::sign::generate(rng)?;
            // A key we just generated that has no public key is our fault.
            let public =
                PublicKey(crypto::sign::public_key(&private).map_err(|_| Reason::Internal)?);
            insert(
                se,
                object,
                ObjectKind::EcP256,
                *suid,
                &private[..],
                Some(public),
                attributes,
            );
            Ok(AdminOutcome::PublicKey(public))
        }
        AdminOp::GenerateSecret {
            object,
            suid,
            len,
            attributes,
        } => {
            check_new_object(se, object)?;
            access::check_new_key(ObjectKind::Secret, *suid, attributes)?;
            if !SECRET_LEN.contains(&usize::from(*len)) {
                return Err(Reason::InvalidParameter);
            }
            let mut secret = Zeroizing::new([0u8; 64]);
            let secret = secret
                .get_mut(..usize::from(*len))
                .ok_or(Reason::InvalidParameter)?;
            rng.fill(secret)?;
            insert(
                se,
                object,
                ObjectKind::Secret,
                *suid,
                secret,
                None,
                attributes,
            );
            Ok(AdminOutcome::Done)
        }
        AdminOp::Import {
            object,
            suid,
            kind,
            wrapped,
            attributes,
        } => {
            check_new_object(se, object)?;
            access::check_new_key(*kind, *suid, attributes)?;
            let binding = crypto::wrap::binding(
                &node.node_id,
                &se.name,
                se.instance,
                object,
                *kind,
                suid.get(),
            )
            .map_err(|_| Reason::Internal)?;
            let material = crypto::wrap::unwrap(
                &node.key_agreement_private,
                wrapped.ephemeral.as_bytes(),
                &wrapped.nonce,
                &wrapped.ciphertext,
                &binding,
            )
            .map_err(|_| Reason::UnwrapFailed)?;
            import(se, object, *kind, *suid, &material, attributes)
        }
        AdminOp::ImportPlaintext {
            object,
            suid,
            kind,
            material,
            attributes,
        } => {
            access::check_plaintext_import(se)?;
            check_new_object(se, object)?;
            access::check_new_key(*kind, *suid, attributes)?;
            import(se, object, *kind, *suid, material, attributes)
        }
        AdminOp::Delete { object } => {
            // The admin's namespace only: callers' objects of that name are
            // theirs (they go with the SE, and count against their quota).
            let before = se.objects.len();
            se.objects
                .retain(|o| !(o.creator.is_none() && o.name == *object));
            if se.objects.len() == before {
                return Err(Reason::UnknownObject);
            }
            Ok(AdminOutcome::Done)
        }
        AdminOp::Grant { object, entry } => {
            let acl = match object {
                GrantTarget::All => {
                    access::check_grant(entry, None)?;
                    &mut se.se_acl
                }
                GrantTarget::Object(name) => {
                    let target = se.object_mut(name).ok_or(Reason::UnknownObject)?;
                    access::check_grant(entry, Some(target))?;
                    &mut target.acl
                }
            };
            acl.retain(|e| e.grantee != entry.grantee);
            if acl.len() >= MAX_ACL_ENTRIES {
                return Err(Reason::LimitReached);
            }
            acl.push(*entry);
            Ok(AdminOutcome::Done)
        }
        AdminOp::ImportPublicKey {
            object,
            suid,
            key,
            attributes,
        } => {
            check_new_object(se, object)?;
            access::check_new_key(ObjectKind::PublicKey, *suid, attributes)?;
            crypto::sign::validate_public(key.as_bytes())?;
            insert(
                se,
                object,
                ObjectKind::PublicKey,
                *suid,
                &[],
                Some(*key),
                attributes,
            );
            Ok(AdminOutcome::Done)
        }
        AdminOp::Revoke { object, grantee } => {
            let acl = match object {
                GrantTarget::All => &mut se.se_acl,
                GrantTarget::Object(name) => {
                    &mut se.object_mut(name).ok_or(Reason::UnknownObject)?.acl
                }
            };
            acl.retain(|e| e.grantee != *grantee);
            Ok(AdminOutcome::Done)
        }
    }
}

fn check_new_object(se: &SeRecord, object: &Name) -> Result<(), Reason> {
    if se.object(object).is_some() {
        return Err(Reason::AlreadyExists);
    }
    if se.objects.len() >= MAX_OBJECTS_PER_SE {
        return Err(Reason::LimitReached);
    }
    Ok(())
}

fn import(
    se: &mut SeRecord,
    object: &Name,
    kind: ObjectKind,
    suid: Suid,
    material: &[u8],
    attributes: &KeyAttributes,
) -> Result<AdminOutcome, Reason> {
    match kind {
        ObjectKind::Secret => {
            if !SECRET_LEN.contains(&material.len()) {
                return Err(Reason::InvalidKeyMaterial);
            }
            insert(se, object, kind, suid, material, None, attributes);
            Ok(AdminOutcome::Done)
        }
        ObjectKind::EcP256 => {
            crypto::sign::validate_private(material)?;
            let scalar: Zeroizing<[u8; 32]> = Zeroizing::new(
                material
                    .try_into()
                    .map_err(|_| Reason::InvalidKeyMaterial)?,
            );
            let public = PublicKey(crypto::sign::public_key(&scalar)?);
            insert(
                se,
                object,
                kind,
                suid,
                &scalar[..],
                Some(public),
                attributes,
            );
            Ok(AdminOutcome::PublicKey(public))
        }
        // A public key is no secret to wrap: `ImportPublicKey` takes it.
        ObjectKind::PublicKey => Err(Reason::WrongObjectKind),
        ObjectKind::Data => {
            if material.is_empty() || material.len() > MAX_DATA {
                return Err(Reason::InvalidKeyMaterial);
            }
            insert(se, object, kind, suid, material, None, attributes);
            Ok(AdminOutcome::Done)
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn insert(
    se: &mut SeRecord,
    object: &Name,
    kind: ObjectKind,
    suid: Suid,
    secret: &[u8],
    public_key: Option<PublicKey>,
    attributes: &KeyAttributes,
) {
    se.objects.push(StoredObject {
        name: object.clone(),
        kind,
        suid: Some(suid),
        secret: secret.to_vec(),
        public_key,
        creator: None,
        acl: Vec::new(),
        role: attributes.role,
        not_after: attributes.not_after,
    });
}
