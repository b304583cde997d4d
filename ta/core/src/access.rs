//! Who may use what: the one place access is decided.
//!
//! A caller may use an object for an operation when an ACL entry naming the
//! caller grants that operation — on the object itself, or on `*` with the
//! object's SUID — and, for a key, when the request's SUID is the key's SUID
//! and that SUID's use allows the operation. Callers who created a sensitive
//! data object may retrieve, update and delete it.

use seam_proto::{AclEntry, ClientId, Ops, Reason};

use crate::records::{SeRecord, StoredObject};
use crate::Caller;

/// The caller's identity, or `NoIdentity` for a PUBLIC login.
pub fn identity(caller: &Caller) -> Result<ClientId, Reason> {
    match caller {
        Caller::Client(id) => Ok(*id),
        Caller::Public => Err(Reason::NoIdentity),
    }
}

/// The operations a SUID's use digit allows (our reading of TS-0003 §8.2.2.3,
/// documented in docs and tested): authentication uses sign, MAC, derive and
/// handshake; (D)TLS uses handshake, sign and derive; ESPrim uses AEAD, MAC
/// and derive; ESData encryption only AEAD; ESData signature sign and MAC.
pub fn ops_allowed_by_suid(suid: u8) -> Ops {
    let o = |ops: &[Ops]| ops.iter().fold(Ops(0), |a, b| a.union(*b));
    match suid % 10 {
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
    who: ClientId,
) -> impl Iterator<Item = &'a AclEntry> {
    let own = object.acl.iter();
    let wide = se.se_acl.iter().filter(move |e| e.suid == object.suid);
    own.chain(wide).filter(move |e| e.grantee == who)
}

/// Does the caller hold any grant (or creatorship) on this object? Decides
/// whether it may see that the object exists.
pub fn may_see(se: &SeRecord, object: &StoredObject, caller: &Caller) -> bool {
    match caller {
        Caller::Public => false,
        Caller::Client(who) => {
            object.creator == Some(*who) || entries_for(se, object, *who).any(|e| e.ops.0 != 0)
        }
    }
}

/// May the caller use this key for `op` under `suid`?
pub fn check_key_use(
    se: &SeRecord,
    object: &StoredObject,
    caller: &Caller,
    op: Ops,
    suid: u8,
) -> Result<(), Reason> {
    let who = identity(caller)?;
    let granted_op = entries_for(se, object, who).any(|e| e.ops.contains(op) && e.suid == suid);
    if !granted_op {
        // A grant for the op under another SUID is a SUID error, not silence.
        let any_suid = entries_for(se, object, who).any(|e| e.ops.contains(op));
        return Err(if any_suid {
            Reason::SuidMismatch
        } else {
            Reason::NoPrivilege
        });
    }
    if suid != object.suid {
        return Err(Reason::SuidMismatch);
    }
    if !ops_allowed_by_suid(object.suid).contains(op) {
        return Err(Reason::SuidForbidsOperation);
    }
    Ok(())
}

/// May the caller retrieve, update or delete this data object?
pub fn check_data_use(
    se: &SeRecord,
    object: &StoredObject,
    caller: &Caller,
    op: Ops,
) -> Result<(), Reason> {
    let who = identity(caller)?;
    if object.creator == Some(who) {
        return Ok(());
    }
    if entries_for(se, object, who).any(|e| e.ops.contains(op)) {
        Ok(())
    } else {
        Err(Reason::NoPrivilege)
    }
}

/// May the caller create sensitive data objects in this SE?
pub fn check_create(se: &SeRecord, caller: &Caller) -> Result<(), Reason> {
    let who = identity(caller)?;
    if se
        .se_acl
        .iter()
        .any(|e| e.grantee == who && e.ops.contains(Ops::CREATE))
    {
        Ok(())
    } else {
        Err(Reason::NoPrivilege)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suid_use_table() {
        // (D)TLS keys handshake but never encrypt application data directly.
        assert!(ops_allowed_by_suid(22).contains(Ops::HANDSHAKE));
        assert!(!ops_allowed_by_suid(22).contains(Ops::ENCRYPT));
        // ESData encryption keys only encrypt and decrypt.
        assert_eq!(ops_allowed_by_suid(44), Ops::ENCRYPT.union(Ops::DECRYPT));
        assert!(!ops_allowed_by_suid(45).contains(Ops::ENCRYPT));
        assert!(ops_allowed_by_suid(45).contains(Ops::SIGN));
        // No SUID allows data-object operations or creation: those are ACL-only.
        for suid in [10u8, 11, 22, 33, 44, 45] {
            let ops = ops_allowed_by_suid(suid);
            assert!(
                !ops.contains(Ops::RETRIEVE) && !ops.contains(Ops::CREATE),
                "{suid}"
            );
        }
    }
}
