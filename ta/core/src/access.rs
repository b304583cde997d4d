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
//!   object's SUID for an object the admin created — and, for a key, when
//!   the request's SUID is the key's SUID, the key's role and SUID allow the
//!   operation ([`ops_allowed`]) and the key has not expired. Callers who
//!   created a sensitive data object may retrieve, update and delete it.
//! * Names: the admin's objects form one namespace, and each caller's
//!   objects (data objects, derived and exported keys) one of its own. A
//!   caller's name resolves to its own object, else to the admin's
//!   ([`SeRecord::resolve`]); another caller's objects are never reachable,
//!   so creating a name another caller holds succeeds, and nothing of it
//!   shows.
//! * An object the caller holds no grant on is reported as `NoPrivilege`
//!   whether or not it exists, so nothing of another's objects shows.
//! * Callers' objects are bounded per caller and in all
//!   ([`check_caller_quota`]), so the admin always keeps room.

use seam_proto::handshake::{OneM2mExport, ESCERTKE_SUID};
use seam_proto::{
    AclEntry, AdminCommand, AdminPayload, ClientId, IssuerCommand, IssuerPayload, KeyAttributes,
    KeyRef, KeyRole, Name, ObjectKind, Ops, PublicKey, Reason, Signature, Suid, ADMIN_DOMAIN,
    ISSUER_DOMAIN, MAX_OBJECTS_PER_SE,
};
use zeroize::Zeroizing;

use crate::crypto;
use crate::records::{NodeRecord, SeRecord, StoredObject};
use crate::Caller;

/// A caller the platform identified, and the platform time of its request.
/// Only [`identify`] makes one, so a handler holding it needs no check of
/// its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Identified(ClientId, Option<u64>);

impl Identified {
    pub fn id(self) -> ClientId {
        self.0
    }

    /// The platform time (Unix seconds) of this request, if it has one.
    pub fn now(self) -> Option<u64> {
        self.1
    }
}

/// The caller's identity, or `NoIdentity` for a PUBLIC login; `now` is the
/// platform's time for key lifetimes.
pub fn identify(caller: &Caller, now: Option<u64>) -> Result<Identified, Reason> {
    match caller {
        Caller::Client(id) => Ok(Identified(*id, now)),
        Caller::Public => Err(Reason::NoIdentity),
    }
}

fn verify_signed<T: serde::Serialize>(
    key: &PublicKey,
    payload: &T,
    signature: &Signature,
) -> Result<(), Reason> {
    let bytes = Zeroizing::new(postcard::to_allocvec(payload)?);
    // Low-S only: a command signature has exactly one valid encoding.
    if crypto::sign::verify_message_low_s(key.as_bytes(), &bytes, signature.as_bytes()) {
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

/// What a key may be used for: the one table of key use (our reading of
/// TS-0003 §8.2.2.3, documented in docs/api.md and tested).
///
/// | role | SUID use digit | operations |
/// |---|---|---|
/// | `Bootstrap` (Ke) | 0 | `DERIVE` (Km, Kpsa, usage-constrained keys) only |
/// | `Pairwise` | 3 | `DERIVE` (sessionESPrimKey) only; ESPrim encrypt/decrypt ([`esprim_ops`]) |
/// | `Operational` | 0 MEF, 1 MAF | `HANDSHAKE`, `SIGN`, `VERIFY`, `MAC` |
/// | `Operational` | 2 (D)TLS | `HANDSHAKE`, `SIGN`, `VERIFY`, `DERIVE` (E2E keys from a Kpsa) |
/// | `Operational` | 3 ESPrim | `ENCRYPT`, `DECRYPT`, `MAC` |
/// | `Operational` | 4 ESData encryption | `ENCRYPT`, `DECRYPT` |
/// | `Operational` | 5 ESData signature | `SIGN`, `VERIFY`, `MAC` |
///
/// A derivation source never does a generic `MAC`, `SIGN` or `ENCRYPT`:
/// every TS-0003 derivation is an HMAC keyed with its source, so a MAC
/// with the source would hand out the derived key. The one operational
/// source, a Kpsa (use 2), allows no MAC and no encryption, and enters its
/// E2E derivation as HMAC *message* (Ke2e_master = HMAC(salt, Kpsa)), which
/// no operation reproduces; `SIGN`/`VERIFY` need a P-256 key, which is
/// never a derivation source.
///
/// These are the generic operations. A pairwise key's `ENCRYPT`/`DECRYPT`
/// grants are for ESPrim alone ([`esprim_ops`]), which derives
/// sessionESPrimKey inside and never returns it.
pub fn ops_allowed(suid: Suid, role: KeyRole) -> Ops {
    let o = |ops: &[Ops]| ops.iter().fold(Ops(0), |a, b| a.union(*b));
    match role {
        KeyRole::Bootstrap | KeyRole::Pairwise => Ops::DERIVE,
        KeyRole::Operational => match suid.use_digit() {
            0 | 1 => o(&[Ops::HANDSHAKE, Ops::SIGN, Ops::VERIFY, Ops::MAC]),
            2 => o(&[Ops::HANDSHAKE, Ops::SIGN, Ops::VERIFY, Ops::DERIVE]),
            3 => o(&[Ops::ENCRYPT, Ops::DECRYPT, Ops::MAC]),
            4 => o(&[Ops::ENCRYPT, Ops::DECRYPT]),
            5 => o(&[Ops::SIGN, Ops::VERIFY, Ops::MAC]),
            _ => Ops(0),
        },
    }
}

/// What ESPrim encrypt/decrypt may use a key for: a `Pairwise` key only.
/// ESPrim HMACs its key into sessionESPrimKey (TS-0003 §8.4.2), so the key
/// must be a derivation source that no generic `Mac` reaches: an
/// `Operational` use-3 key allows `MAC`, which would compute the same
/// sessionESPrimKey in the clear.
pub fn esprim_ops(role: KeyRole) -> Ops {
    match role {
        KeyRole::Pairwise => Ops::ENCRYPT.union(Ops::DECRYPT),
        KeyRole::Bootstrap | KeyRole::Operational => Ops(0),
    }
}

/// What a new key of `kind` may be created with: a P-256 key is a
/// certificate credential (SUID tens digit 4); a symmetric key is not one
/// that authenticates with a certificate (4x with use 1 or 2); a
/// derivation source is a symmetric key of its role's use digit.
pub fn check_new_key(
    kind: ObjectKind,
    suid: Suid,
    attributes: &KeyAttributes,
) -> Result<(), Reason> {
    let tens_fits = match kind {
        ObjectKind::EcP256 | ObjectKind::PublicKey => suid.credential_type() == 4,
        ObjectKind::Secret => !(suid.credential_type() == 4 && matches!(suid.use_digit(), 1 | 2)),
        ObjectKind::Data => true,
    };
    if !tens_fits {
        return Err(Reason::InvalidSuid);
    }
    let role_fits = match attributes.role {
        KeyRole::Operational => true,
        KeyRole::Bootstrap => kind == ObjectKind::Secret && suid.use_digit() == 0,
        KeyRole::Pairwise => kind == ObjectKind::Secret && suid.use_digit() == 3,
    };
    if role_fits {
        Ok(())
    } else {
        Err(Reason::InvalidParameter)
    }
}

/// Is the key usable at the request's time? A key with a lifetime is
/// refused when the platform has no time to check it against.
pub fn check_lifetime(object: &StoredObject, who: Identified) -> Result<(), Reason> {
    match (object.not_after, who.now()) {
        (None, _) => Ok(()),
        (Some(end), Some(now)) if now < end => Ok(()),
        _ => Err(Reason::KeyExpired),
    }
}

fn entries_for<'a>(
    se: &'a SeRecord,
    object: &'a StoredObject,
    who: Identified,
) -> impl Iterator<Item = &'a AclEntry> {
    let own = object.acl.iter();
    // `*` covers the admin's keys of its SUID: never a data object (a
    // `CREATE`-only entry has no SUID) and never a caller's object.
    let wide = se.se_acl.iter().filter(move |e| {
        object.creator.is_none() && object.suid.is_some() && e.suid == object.suid
    });
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
    match se.resolve(who.0, object) {
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
    usable_key_for(se, who, key, op, ops_allowed)
}

/// The key `key` names, if the caller may use it for ESPrim `op`
/// (`ENCRYPT` or `DECRYPT`) under `key.suid`: as [`usable_key`], but the
/// key must be one [`esprim_ops`] allows.
pub fn usable_esprim_key<'a>(
    se: &'a SeRecord,
    who: Identified,
    key: &KeyRef,
    op: Ops,
) -> Result<&'a StoredObject, Reason> {
    usable_key_for(se, who, key, op, |_, role| esprim_ops(role))
}

fn usable_key_for<'a>(
    se: &'a SeRecord,
    who: Identified,
    key: &KeyRef,
    op: Ops,
    allowed: fn(Suid, KeyRole) -> Ops,
) -> Result<&'a StoredObject, Reason> {
    let Some(object) = se.resolve(who.0, &key.key) else {
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
    check_key_use(se, object, who, op, key.suid, allowed)?;
    Ok(object)
}

fn check_key_use(
    se: &SeRecord,
    object: &StoredObject,
    who: Identified,
    op: Ops,
    suid: Suid,
    allowed: fn(Suid, KeyRole) -> Ops,
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
    if !allowed(suid, object.role).contains(op) {
        return Err(Reason::SuidForbidsOperation);
    }
    check_lifetime(object, who)
}

/// The data object `object`, if the caller may retrieve, update or delete it
/// (`op`); `NoPrivilege` whether or not it exists.
pub fn usable_data<'a>(
    se: &'a SeRecord,
    who: Identified,
    object: &Name,
    op: Ops,
) -> Result<&'a StoredObject, Reason> {
    let found = se.resolve(who.0, object).ok_or(Reason::NoPrivilege)?;
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

/// Objects one caller may have created in an SE (data objects, derived and
/// exported keys) at most.
pub const MAX_OBJECTS_PER_CALLER: usize = 8;
/// Objects all callers together may have created in an SE at most: the
/// rest of `MAX_OBJECTS_PER_SE` is the admin's alone.
pub const MAX_CALLER_OBJECTS: usize = MAX_OBJECTS_PER_SE / 2;

/// May the caller create one more object in this SE, and is the name free
/// in what the caller can see? A name the caller's own object has, or an
/// admin object it may see, is a conflict; an admin object it may not see
/// does not exist for it (its own object of that name shadows it).
pub fn check_caller_create(se: &SeRecord, who: Identified, object: &Name) -> Result<(), Reason> {
    if let Some(existing) = se.resolve(who.0, object) {
        if may_see(se, existing, who) {
            return Err(Reason::AlreadyExists);
        }
    }
    let mine = se
        .objects
        .iter()
        .filter(|o| o.creator == Some(who.0))
        .count();
    let callers = se.objects.iter().filter(|o| o.creator.is_some()).count();
    if mine >= MAX_OBJECTS_PER_CALLER
        || callers >= MAX_CALLER_OBJECTS
        || se.objects.len() >= MAX_OBJECTS_PER_SE
    {
        return Err(Reason::LimitReached);
    }
    Ok(())
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

/// The entry a caller gets on a key it derived: what the key's SUID and
/// role allow, ESPrim included.
pub fn creator_grant(who: Identified, suid: Suid, role: KeyRole) -> AclEntry {
    AclEntry {
        grantee: who.0,
        ops: ops_allowed(suid, role).union(esprim_ops(role)),
        suid: Some(suid),
    }
}

/// The derivations of TS-0003 §10.3, by what their source must be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SourceNeed {
    /// Km, Kpsa, usage-constrained keys: a Ke.
    Enrolment,
    /// E2E keys: a Kpsa (operational, use 2).
    PresharedSa,
    /// sessionESPrimKey: a pairwise ESPrim key.
    PairwiseEsPrim,
}

/// May `source` feed a derivation needing `need`?
pub fn check_derivation_source(source: &StoredObject, need: SourceNeed) -> Result<(), Reason> {
    let suid = source.suid.ok_or(Reason::SuidForbidsOperation)?;
    let fits = match need {
        SourceNeed::Enrolment => source.role == KeyRole::Bootstrap,
        SourceNeed::PresharedSa => source.role == KeyRole::Operational && suid.use_digit() == 2,
        SourceNeed::PairwiseEsPrim => source.role == KeyRole::Pairwise,
    };
    if fits {
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
/// bound) produce the oneM2M exporter key `label`, and with what SUID and
/// role is it stored? `certificate_session`: the session ran ECDHE with a
/// signing key and no PSK (ECDHE-ECDSA). `requested`: the caller's SUID,
/// required for Kc (one of 32–35, registered with the MAF) and refused for
/// the others, whose SUID is fixed.
pub fn check_export(
    credential: Option<Suid>,
    label: OneM2mExport,
    certificate_session: bool,
    requested: Option<Suid>,
) -> Result<(Suid, KeyRole), Reason> {
    match credential {
        Some(suid) if suid.use_digit() == label.credential_use() => {}
        _ => return Err(Reason::LabelNotAllowed),
    }
    match (label, requested) {
        (OneM2mExport::Bootstrap, None) => {
            Ok((credential.ok_or(Reason::Internal)?, KeyRole::Bootstrap))
        }
        (OneM2mExport::Connection, Some(kc)) if kc.credential_type() == 3 => {
            let role = if kc.use_digit() == 3 {
                KeyRole::Pairwise
            } else {
                KeyRole::Operational
            };
            Ok((kc, role))
        }
        (OneM2mExport::EsCertKe, None) if certificate_session => {
            Ok((ESCERTKE_SUID, KeyRole::Pairwise))
        }
        (OneM2mExport::EsCertKe, None) => Err(Reason::LabelNotAllowed),
        _ => Err(Reason::InvalidSuid),
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
    fn key_use_table() {
        let op = KeyRole::Operational;
        // (D)TLS keys handshake but never encrypt application data directly.
        assert!(ops_allowed(suid(22), op).contains(Ops::HANDSHAKE));
        assert!(!ops_allowed(suid(22), op).contains(Ops::ENCRYPT));
        // ESData encryption keys only encrypt and decrypt.
        assert_eq!(ops_allowed(suid(44), op), Ops::ENCRYPT.union(Ops::DECRYPT));
        assert!(!ops_allowed(suid(45), op).contains(Ops::ENCRYPT));
        assert!(ops_allowed(suid(45), op).contains(Ops::SIGN));
        // No key allows data-object operations or creation: those are ACL-only.
        for n in [10u8, 11, 22, 33, 44, 45] {
            let ops = ops_allowed(suid(n), op);
            assert!(
                !ops.contains(Ops::RETRIEVE) && !ops.contains(Ops::CREATE),
                "{n}"
            );
        }
    }

    #[test]
    fn derivation_sources_do_nothing_but_derive() {
        for n in [10u8, 40] {
            assert_eq!(ops_allowed(suid(n), KeyRole::Bootstrap), Ops::DERIVE);
        }
        for n in [13u8, 23, 33, 43] {
            assert_eq!(ops_allowed(suid(n), KeyRole::Pairwise), Ops::DERIVE);
        }
        // ESPrim (which derives sessionESPrimKey inside) takes pairwise
        // keys only: an operational use-3 key MACs.
        assert_eq!(
            esprim_ops(KeyRole::Pairwise),
            Ops::ENCRYPT.union(Ops::DECRYPT)
        );
        assert_eq!(esprim_ops(KeyRole::Operational), Ops(0));
        assert_eq!(esprim_ops(KeyRole::Bootstrap), Ops(0));
        // An operational key derives only with use 2 (a Kpsa's E2E keys),
        // and that use allows no MAC and no encryption.
        for n in [
            10u8, 11, 12, 13, 14, 15, 21, 22, 23, 24, 25, 32, 33, 34, 35, 40, 41, 42, 43, 44, 45,
        ] {
            let ops = ops_allowed(suid(n), KeyRole::Operational);
            if ops.contains(Ops::DERIVE) {
                assert!(
                    !ops.contains(Ops::MAC) && !ops.contains(Ops::ENCRYPT),
                    "{n}"
                );
            }
        }
    }

    #[test]
    fn new_keys_match_their_kind() {
        let op = KeyAttributes::default();
        assert_eq!(check_new_key(ObjectKind::EcP256, suid(42), &op), Ok(()));
        assert_eq!(
            check_new_key(ObjectKind::EcP256, suid(12), &op),
            Err(Reason::InvalidSuid)
        );
        assert_eq!(
            check_new_key(ObjectKind::Secret, suid(42), &op),
            Err(Reason::InvalidSuid)
        );
        assert_eq!(check_new_key(ObjectKind::Secret, suid(12), &op), Ok(()));
        let ke = KeyAttributes {
            role: KeyRole::Bootstrap,
            not_after: None,
        };
        assert_eq!(check_new_key(ObjectKind::Secret, suid(10), &ke), Ok(()));
        assert_eq!(
            check_new_key(ObjectKind::Secret, suid(12), &ke),
            Err(Reason::InvalidParameter)
        );
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
    fn exports_need_the_labels_credential_and_session() {
        use OneM2mExport::*;
        assert_eq!(
            check_export(Some(suid(10)), Bootstrap, false, None),
            Ok((suid(10), KeyRole::Bootstrap))
        );
        assert_eq!(
            check_export(Some(suid(21)), Bootstrap, false, None),
            Err(Reason::LabelNotAllowed)
        );
        assert_eq!(
            check_export(None, EsCertKe, true, None),
            Err(Reason::LabelNotAllowed)
        );
        // ESCertKE after a PSK session: refused.
        assert_eq!(
            check_export(Some(suid(22)), EsCertKe, false, None),
            Err(Reason::LabelNotAllowed)
        );
        assert_eq!(
            check_export(Some(suid(42)), EsCertKe, true, None),
            Ok((suid(43), KeyRole::Pairwise))
        );
        // Kc: the caller's SUID, from 32-35 only.
        assert_eq!(
            check_export(Some(suid(11)), Connection, false, Some(suid(34))),
            Ok((suid(34), KeyRole::Operational))
        );
        assert_eq!(
            check_export(Some(suid(11)), Connection, false, Some(suid(24))),
            Err(Reason::InvalidSuid)
        );
        assert_eq!(
            check_export(Some(suid(11)), Connection, false, None),
            Err(Reason::InvalidSuid)
        );
    }
}
