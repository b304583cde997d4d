//! Who may use what: the one place access is decided.
//!
//! * A PUBLIC login has no identity: it may only read the node's public
//!   information, the SE list and SE attributes. Dispatch serves those
//!   before it [`identify`]s the caller, once per request; every other
//!   handler takes the resulting [`Identified`] and never sees a `Caller`.
//! * The device issuer and each SE's admin act through signed commands
//!   ([`authorize_issuer`], [`authorize_admin`]): a signature over the
//!   canonical payload, and a counter above the last accepted one.
//! * A caller may use an object for an operation when an ACL entry naming the
//!   caller grants that operation — on the object itself, or on `*` with the
//!   object's SUID — and, for a key, when the request's SUID is the key's
//!   SUID and that SUID's use allows the operation. Callers who created a
//!   sensitive data object may retrieve, update and delete it.
//! * An object the caller holds no grant on is reported as `NoPrivilege`
//!   whether or not it exists, so nothing of another's objects shows.

use seam_proto::handshake::OneM2mExport;
use seam_proto::{
    AclEntry, AdminCommand, AdminPayload, ClientId, IssuerCommand, IssuerPayload, KeyRef, Name,
    Ops, PublicKey, Reason, Signature, Suid, ADMIN_DOMAIN, ISSUER_DOMAIN,
};
use zeroize::Zeroizing;

use crate::crypto;
use crate::records::{NodeRecord, SeRecord, StoredObject};
use crate::Caller;

/// A caller the platform identified. Only [`identify`] makes one, so a
/// handler holding it needs no check of its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Identified(ClientId);

impl Identified {
    pub fn id(self) -> ClientId {
        self.0
    }
}

/// The caller's identity, or `NoIdentity` for a PUBLIC login.
pub fn identify(caller: &Caller) -> Result<Identified, Reason> {
    match caller {
        Caller::Client(id) => Ok(Identified(*id)),
        Caller::Public => Err(Reason::NoIdentity),
    }
}

fn verify_signed<T: serde::Serialize>(
    key: &PublicKey,
    payload: &T,
    signature: &Signature,
) -> Result<(), Reason> {
    let bytes = Zeroizing::new(postcard::to_allocvec(payload)?);
    if crypto::sign::verify_message(key.as_bytes(), &bytes, signature.as_bytes()) {
        Ok(())
    } else {
        Err(Reason::BadSignature)
    }
}

/// Is this command the device issuer's, and new?
pub fn authorize_issuer(node: &NodeRecord, cmd: &IssuerCommand) -> Result<(), Reason> {
    let payload = IssuerPayload {
        domain: ISSUER_DOMAIN,
        node_id: &node.node_id,
        counter: cmd.counter,
        op: &cmd.op,
    };
    verify_signed(&node.issuer, &payload, &cmd.signature)?;
    if cmd.counter <= node.issuer_counter {
        return Err(Reason::StaleCounter);
    }
    Ok(())
}

/// Is this command the SE admin's, for this node and SE instance, and new?
pub fn authorize_admin(node: &NodeRecord, se: &SeRecord, cmd: &AdminCommand) -> Result<(), Reason> {
    let payload = AdminPayload {
        domain: ADMIN_DOMAIN,
        node_id: &node.node_id,
        se: &cmd.se,
        se_instance: se.instance,
        counter: cmd.counter,
        ops: &cmd.ops,
    };
    verify_signed(&se.admin, &payload, &cmd.signature)?;
    if cmd.counter <= se.admin_counter {
        return Err(Reason::StaleCounter);
    }
    Ok(())
}

/// The operations a SUID's use digit allows (our reading of TS-0003 §8.2.2.3,
/// documented in docs and tested): authentication uses sign, MAC, derive and
/// handshake; (D)TLS uses handshake, sign and derive; ESPrim uses AEAD, MAC
/// and derive; ESData encryption only AEAD; ESData signature sign and MAC.
pub fn ops_allowed_by_suid(suid: Suid) -> Ops {
    let o = |ops: &[Ops]| ops.iter().fold(Ops(0), |a, b| a.union(*b));
    match suid.use_digit() {
        0 | 1 => o(&[
            Ops::SIGN,
            Ops::VERIFY,
            Ops::MAC,
            Ops::DERIVE,
            Ops::HANDSHAKE,
        ]),
        2 => o(&[Ops::HANDSHAKE, Ops::SIGN, Ops::VERIFY, Ops::DERIVE]),
        3 => o(&[Ops::ENCRYPT, Ops::DECRYPT, Ops::MAC, Ops::DERIVE]),
        4 => o(&[Ops::ENCRYPT, Ops::DECRYPT]),
        5 => o(&[Ops::SIGN, Ops::VERIFY, Ops::MAC]),
        _ => Ops(0),
    }
}

fn entries_for<'a>(
    se: &'a SeRecord,
    object: &'a StoredObject,
    who: Identified,
) -> impl Iterator<Item = &'a AclEntry> {
    let own = object.acl.iter();
    let wide = se.se_acl.iter().filter(move |e| e.suid == object.suid);
    own.chain(wide).filter(move |e| e.grantee == who.0)
}

/// Does the caller hold any grant (or creatorship) on this object? Decides
/// whether it may see that the object exists.
pub fn may_see(se: &SeRecord, object: &StoredObject, who: Identified) -> bool {
    object.creator == Some(who.0) || entries_for(se, object, who).any(|e| e.ops.0 != 0)
}

/// The object, if the caller may see it; `NoPrivilege` whether or not it exists.
pub fn visible_object<'a>(
    se: &'a SeRecord,
    who: Identified,
    object: &Name,
) -> Result<&'a StoredObject, Reason> {
    match se.object(object) {
        Some(o) if may_see(se, o, who) => Ok(o),
        _ => Err(Reason::NoPrivilege),
    }
}

/// The key `key` names, if the caller may use it for `op` under `key.suid`.
/// Only a caller granted `op` on every object of that SUID (`*`) learns that
/// a key is missing (`UnknownObject`); anyone else gets `NoPrivilege`.
pub fn usable_key<'a>(
    se: &'a SeRecord,
    who: Identified,
    key: &KeyRef,
    op: Ops,
) -> Result<&'a StoredObject, Reason> {
    let Some(object) = se.object(&key.key) else {
        let wildcard = se
            .se_acl
            .iter()
            .any(|e| e.grantee == who.0 && e.ops.contains(op) && e.suid == Some(key.suid));
        return Err(if wildcard {
            Reason::UnknownObject
        } else {
            Reason::NoPrivilege
        });
    };
    check_key_use(se, object, who, op, key.suid)?;
    Ok(object)
}

fn check_key_use(
    se: &SeRecord,
    object: &StoredObject,
    who: Identified,
    op: Ops,
    suid: Suid,
) -> Result<(), Reason> {
    let granted_op =
        entries_for(se, object, who).any(|e| e.ops.contains(op) && e.suid == Some(suid));
    if !granted_op {
        // A grant for the op under another SUID is a SUID error, not silence.
        let any_suid = entries_for(se, object, who).any(|e| e.ops.contains(op));
        return Err(if any_suid {
            Reason::SuidMismatch
        } else {
            Reason::NoPrivilege
        });
    }
    match object.suid {
        Some(own) if own == suid => {}
        _ => return Err(Reason::SuidMismatch),
    }
    if !ops_allowed_by_suid(suid).contains(op) {
        return Err(Reason::SuidForbidsOperation);
    }
    Ok(())
}

/// The data object `object`, if the caller may retrieve, update or delete it
/// (`op`); `NoPrivilege` whether or not it exists.
pub fn usable_data<'a>(
    se: &'a SeRecord,
    who: Identified,
    object: &Name,
    op: Ops,
) -> Result<&'a StoredObject, Reason> {
    let found = se.object(object).ok_or(Reason::NoPrivilege)?;
    if found.creator == Some(who.0) || entries_for(se, found, who).any(|e| e.ops.contains(op)) {
        Ok(found)
    } else {
        Err(Reason::NoPrivilege)
    }
}

/// May the caller create sensitive data objects in this SE?
pub fn check_create(se: &SeRecord, who: Identified) -> Result<(), Reason> {
    if se
        .se_acl
        .iter()
        .any(|e| e.grantee == who.0 && e.ops.contains(Ops::CREATE))
    {
        Ok(())
    } else {
        Err(Reason::NoPrivilege)
    }
}

/// Plaintext import is for SEs created to allow it (development) only.
pub fn check_plaintext_import(se: &SeRecord) -> Result<(), Reason> {
    if se.allow_plaintext_import {
        Ok(())
    } else {
        Err(Reason::PlaintextImportRefused)
    }
}

/// May the admin add `entry` to `object`'s ACL (`None`: to the SE's `*`
/// ACL)? A `*` entry covers objects of its SUID, and one granting only
/// `CREATE` may have none; an object's entry has the object's SUID.
pub fn check_grant(entry: &AclEntry, object: Option<&StoredObject>) -> Result<(), Reason> {
    match object {
        None if entry.suid.is_none() && entry.ops != Ops::CREATE => {
            return Err(Reason::InvalidSuid)
        }
        None => {}
        Some(target) if entry.suid != target.suid => return Err(Reason::SuidMismatch),
        Some(_) => {}
    }
    if entry.ops.0 & !Ops::ALL.0 != 0 || entry.ops.0 == 0 {
        return Err(Reason::InvalidParameter);
    }
    Ok(())
}

/// The entry a caller gets on a key it derived: what the key's SUID allows.
pub fn creator_grant(who: Identified, suid: Suid) -> AclEntry {
    AclEntry {
        grantee: who.0,
        ops: ops_allowed_by_suid(suid),
        suid: Some(suid),
    }
}

/// May a key of SUID `source` be the source of a derivation that needs a
/// credential of use `digit`?
pub fn check_derivation_source(source: Suid, digit: u8) -> Result<(), Reason> {
    if source.use_digit() == digit {
        Ok(())
    } else {
        Err(Reason::SuidForbidsOperation)
    }
}

/// A usage-constrained key is a remote-provisioning key (tens digit 2).
pub fn check_usage_constrained(suid: Suid) -> Result<(), Reason> {
    if suid.credential_type() == 2 {
        Ok(())
    } else {
        Err(Reason::InvalidSuid)
    }
}

/// May a session bound to a credential of SUID `credential` (none: not
/// bound) produce the oneM2M exporter key `label`?
pub fn check_export(credential: Option<Suid>, label: OneM2mExport) -> Result<(), Reason> {
    match credential {
        Some(suid) if suid.use_digit() == label.credential_use() => Ok(()),
        _ => Err(Reason::LabelNotAllowed),
    }
}

/// A handshake session is its opener's alone: others cannot tell it exists.
pub fn owns_session(owner: ClientId, who: Identified) -> bool {
    owner == who.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn suid(n: u8) -> Suid {
        Suid::new(n).unwrap()
    }

    #[test]
    fn suid_use_table() {
        // (D)TLS keys handshake but never encrypt application data directly.
        assert!(ops_allowed_by_suid(suid(22)).contains(Ops::HANDSHAKE));
        assert!(!ops_allowed_by_suid(suid(22)).contains(Ops::ENCRYPT));
        // ESData encryption keys only encrypt and decrypt.
        assert_eq!(
            ops_allowed_by_suid(suid(44)),
            Ops::ENCRYPT.union(Ops::DECRYPT)
        );
        assert!(!ops_allowed_by_suid(suid(45)).contains(Ops::ENCRYPT));
        assert!(ops_allowed_by_suid(suid(45)).contains(Ops::SIGN));
        // No SUID allows data-object operations or creation: those are ACL-only.
        for n in [10u8, 11, 22, 33, 44, 45] {
            let ops = ops_allowed_by_suid(suid(n));
            assert!(
                !ops.contains(Ops::RETRIEVE) && !ops.contains(Ops::CREATE),
                "{n}"
            );
        }
    }

    #[test]
    fn grants() {
        let entry = |ops, s: Option<Suid>| AclEntry {
            grantee: ClientId([1; 16]),
            ops,
            suid: s,
        };
        assert_eq!(check_grant(&entry(Ops::CREATE, None), None), Ok(()));
        assert_eq!(
            check_grant(&entry(Ops::SIGN, None), None),
            Err(Reason::InvalidSuid)
        );
        assert_eq!(check_grant(&entry(Ops::SIGN, Some(suid(25))), None), Ok(()));
        assert_eq!(
            check_grant(&entry(Ops(1 << 15), Some(suid(25))), None),
            Err(Reason::InvalidParameter)
        );
        assert_eq!(
            check_grant(&entry(Ops(0), Some(suid(25))), None),
            Err(Reason::InvalidParameter)
        );
    }

    #[test]
    fn exports_need_the_labels_credential_use() {
        assert_eq!(
            check_export(Some(suid(20)), OneM2mExport::Bootstrap),
            Ok(())
        );
        assert_eq!(
            check_export(Some(suid(21)), OneM2mExport::Bootstrap),
            Err(Reason::LabelNotAllowed)
        );
        assert_eq!(
            check_export(None, OneM2mExport::EsCertKe),
            Err(Reason::LabelNotAllowed)
        );
        assert_eq!(check_usage_constrained(suid(23)), Ok(()));
        assert_eq!(check_usage_constrained(suid(13)), Err(Reason::InvalidSuid));
    }
}
