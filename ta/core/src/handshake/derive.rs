//! The TS-0003 §10.3 key derivations, from stored keys into stored keys
//! (`Op::Derive`), and the store side of the oneM2M exporter (`ExportKey`).
//!
//! Decisions where TS-0003 is silent (see `seam_proto::handshake::Derivation`
//! for the table): identifiers must be printable ASCII (`0x21..=0x7e`), for
//! which NFKC normalisation is the identity, so the TA never normalises and
//! refuses anything else with `InvalidParameter`; the SUID of a
//! usage-constrained key enters its HMAC as two ASCII decimal digits; the
//! random values of sessionESPrimKey enter as raw bytes, receiver's first,
//! without length prefixes; the E2E HKDF salt is the caller's (empty = RFC
//! 5869's zeros).
//!
//! A derived key is a secret in the source's SE, created by the caller
//! (`creator`), with one ACL entry granting the caller the operations its
//! SUID allows under that SUID; the SE admin may grant or revoke more as
//! for any key.

use alloc::vec;
use alloc::vec::Vec;
use seam_proto::handshake::{
    Derivation, Derive, KM_LABEL, KPSA_LABEL, SESSION_ESPRIM_LABEL, USAGE_CONSTRAINED_LABEL,
};
use seam_proto::{
    AclEntry, Name, ObjectInfo, ObjectKind, Ops, Reason, Reply, Status, MAX_OBJECTS_PER_SE,
};
use zeroize::Zeroizing;

use crate::crypto::kdf::{hkdf_expand, hkdf_extract};
use crate::crypto::mac::hmac_sha256;
use crate::functions::with_key;
use crate::records::{self, StoredObject};
use crate::store::Store;
use crate::{access, validate, Caller};

fn identifier(id: &str) -> Result<&[u8], Reason> {
    if !id.is_empty() && id.bytes().all(|b| (0x21..=0x7e).contains(&b)) {
        Ok(id.as_bytes())
    } else {
        Err(Reason::InvalidParameter)
    }
}

fn needs_use(source_suid: u8, digit: u8) -> Result<(), Reason> {
    if source_suid % 10 == digit {
        Ok(())
    } else {
        Err(Reason::SuidForbidsOperation)
    }
}

/// `Op::Derive`.
pub fn derive(
    store: &mut impl Store,
    caller: &Caller,
    d: &Derive,
) -> Result<(Status, Reply), Reason> {
    access::identity(caller)?;
    validate::name(&d.object)?;
    let (secret, source_suid) = with_key(
        store,
        caller,
        &d.source,
        Ops::DERIVE,
        ObjectKind::Secret,
        |o| Ok((Zeroizing::new(o.secret.clone()), o.suid)),
    )?;
    let (output, suid): (Zeroizing<Vec<u8>>, u8) = match &d.rule {
        Derivation::Km { maf_id } => {
            needs_use(source_suid, 0)?;
            let mac = hmac_sha256(&secret, &[KM_LABEL.as_bytes(), identifier(maf_id)?]);
            (Zeroizing::new(mac.to_vec()), 21)
        }
        Derivation::Kpsa { enrolee_id } => {
            needs_use(source_suid, 0)?;
            let mac = hmac_sha256(&secret, &[KPSA_LABEL.as_bytes(), identifier(enrolee_id)?]);
            (Zeroizing::new(mac.to_vec()), 22)
        }
        Derivation::UsageConstrained { suid, target_id } => {
            needs_use(source_suid, 0)?;
            validate::suid(*suid)?;
            if suid / 10 != 2 {
                return Err(Reason::InvalidSuid);
            }
            let digits = [b'0' + suid / 10, b'0' + suid % 10];
            let mac = hmac_sha256(
                &secret,
                &[
                    USAGE_CONSTRAINED_LABEL.as_bytes(),
                    &digits,
                    identifier(target_id)?,
                ],
            );
            (Zeroizing::new(mac.to_vec()), *suid)
        }
        Derivation::E2e { key, salt, len } => {
            needs_use(source_suid, 2)?;
            let len = usize::from(*len);
            if !crate::admin::SECRET_LEN.contains(&len) {
                return Err(Reason::InvalidParameter);
            }
            // Ke2e_master = HKDF-Extract(salt, Kpsa); the key = HKDF-Expand.
            let master = hkdf_extract(salt, &secret);
            let mut out = Zeroizing::new(vec![0u8; len]);
            hkdf_expand(master.as_ref(), key.info().as_bytes(), &mut out)
                .map_err(|_| Reason::Internal)?;
            (out, (source_suid / 10) * 10 + key.use_digit())
        }
        Derivation::SessionEsPrim {
            receiver_rand,
            originator_rand,
        } => {
            needs_use(source_suid, 3)?;
            if receiver_rand.is_empty() || originator_rand.is_empty() {
                return Err(Reason::InvalidParameter);
            }
            let mac = hmac_sha256(
                &secret,
                &[
                    receiver_rand,
                    originator_rand,
                    SESSION_ESPRIM_LABEL.as_bytes(),
                ],
            );
            (Zeroizing::new(mac.to_vec()), source_suid)
        }
    };
    let info = store_key(store, caller, &d.source.se, &d.object, suid, &output)?;
    Ok((Status::Created, Reply::Derived(info)))
}

/// Stores `secret` as a new key `object` in SE `se`, created by the caller
/// and usable by it for what `suid` allows.
pub(crate) fn store_key(
    store: &mut impl Store,
    caller: &Caller,
    se: &str,
    object: &Name,
    suid: u8,
    secret: &[u8],
) -> Result<ObjectInfo, Reason> {
    let who = access::identity(caller)?;
    validate::name(object)?;
    validate::suid(suid)?;
    let mut record = records::load_se(store, se)?;
    if record.object(object).is_some() {
        return Err(Reason::AlreadyExists);
    }
    if record.objects.len() >= MAX_OBJECTS_PER_SE {
        return Err(Reason::LimitReached);
    }
    let stored = StoredObject {
        name: object.clone(),
        kind: ObjectKind::Secret,
        suid,
        secret: secret.to_vec(),
        public_key: None,
        creator: Some(who),
        acl: vec![AclEntry {
            grantee: who,
            ops: access::ops_allowed_by_suid(suid),
            suid,
        }],
    };
    let info = ObjectInfo {
        name: stored.name.clone(),
        kind: stored.kind,
        suid,
        size: secret.len() as u16,
        public_key: None,
        creator: Some(who),
    };
    record.objects.push(stored);
    records::save_se(store, &record)?;
    Ok(info)
}
