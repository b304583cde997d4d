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
    Derivation, Derive, KM_LABEL, KM_SUID, KPSA_LABEL, KPSA_SUID, SESSION_ESPRIM_LABEL,
    USAGE_CONSTRAINED_LABEL,
};
use seam_proto::{
    Name, ObjectInfo, ObjectKind, Ops, Reason, Reply, Status, Suid, MAX_OBJECTS_PER_SE,
};
use zeroize::Zeroizing;

use crate::access::{self, Identified};
use crate::crypto::kdf::{hkdf_expand, hkdf_extract};
use crate::crypto::mac::hmac_sha256;
use crate::functions::with_key;
use crate::records::{self, StoredObject};
use crate::store::Store;

fn identifier(id: &str) -> Result<&[u8], Reason> {
    if !id.is_empty() && id.bytes().all(|b| (0x21..=0x7e).contains(&b)) {
        Ok(id.as_bytes())
    } else {
        Err(Reason::InvalidParameter)
    }
}

/// `Op::Derive`.
pub fn derive(
    store: &mut impl Store,
    who: Identified,
    d: &Derive,
) -> Result<(Status, Reply), Reason> {
    // `with_key` found a key whose SUID is the request's: the source's SUID.
    let source_suid = d.source.suid;
    let secret = with_key(
        store,
        who,
        &d.source,
        Ops::DERIVE,
        ObjectKind::Secret,
        |o| Ok(Zeroizing::new(o.secret.clone())),
    )?;
    // The grant was checked on this very read; the new key goes into the
    // SE instance the source was read from.
    let instance = records::load_se(store, &d.source.se)?.instance;
    let (output, suid): (Zeroizing<Vec<u8>>, Suid) = match &d.rule {
        Derivation::Km { maf_id } => {
            access::check_derivation_source(source_suid, 0)?;
            let mac = hmac_sha256(&secret, &[KM_LABEL.as_bytes(), identifier(maf_id)?]);
            (Zeroizing::new(mac.to_vec()), KM_SUID)
        }
        Derivation::Kpsa { enrolee_id } => {
            access::check_derivation_source(source_suid, 0)?;
            let mac = hmac_sha256(&secret, &[KPSA_LABEL.as_bytes(), identifier(enrolee_id)?]);
            (Zeroizing::new(mac.to_vec()), KPSA_SUID)
        }
        Derivation::UsageConstrained { suid, target_id } => {
            access::check_derivation_source(source_suid, 0)?;
            access::check_usage_constrained(*suid)?;
            let digits = [b'0' + suid.credential_type(), b'0' + suid.use_digit()];
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
            access::check_derivation_source(source_suid, 2)?;
            let len = usize::from(*len);
            if !crate::admin::SECRET_LEN.contains(&len) {
                return Err(Reason::InvalidParameter);
            }
            // Ke2e_master = HKDF-Extract(salt, Kpsa); the key = HKDF-Expand.
            let master = hkdf_extract(salt, &secret);
            let mut out = Zeroizing::new(vec![0u8; len]);
            // Bounded by SECRET_LEN above, far below HKDF's limit: a failure is ours.
            hkdf_expand(master.as_ref(), key.info().as_bytes(), &mut out)
                .map_err(|_| Reason::Internal)?;
            // Use digits 3..=5 with any credential type are SUIDs.
            let suid = Suid::from_digits(source_suid.credential_type(), key.use_digit())?;
            (out, suid)
        }
        Derivation::SessionEsPrim {
            receiver_rand,
            originator_rand,
        } => {
            access::check_derivation_source(source_suid, 3)?;
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
    let info = store_key(store, who, &d.source.se, instance, &d.object, suid, &output)?;
    Ok((Status::Created, Reply::Derived(info)))
}

/// Stores `secret` as a new key `object` in SE `se`, created by the caller
/// and usable by it for what `suid` allows — only if `se` is still the SE
/// instance `instance` (a retired SE's name may belong to another SE now).
pub(crate) fn store_key(
    store: &mut impl Store,
    who: Identified,
    se: &Name,
    instance: u64,
    object: &Name,
    suid: Suid,
    secret: &[u8],
) -> Result<ObjectInfo, Reason> {
    let mut record = match records::load_se(store, se) {
        Ok(r) if r.instance == instance => r,
        Ok(_) | Err(Reason::UnknownSe) => return Err(Reason::HandshakeRevoked),
        Err(e) => return Err(e),
    };
    if record.object(object).is_some() {
        return Err(Reason::AlreadyExists);
    }
    if record.objects.len() >= MAX_OBJECTS_PER_SE {
        return Err(Reason::LimitReached);
    }
    let stored = StoredObject {
        name: object.clone(),
        kind: ObjectKind::Secret,
        suid: Some(suid),
        secret: secret.to_vec(),
        public_key: None,
        creator: Some(who.id()),
        acl: vec![access::creator_grant(who, suid)],
    };
    let info = ObjectInfo {
        name: stored.name.clone(),
        kind: stored.kind,
        suid: Some(suid),
        size: secret.len() as u16,
        public_key: None,
        creator: Some(who.id()),
    };
    record.objects.push(stored);
    records::save_se(store, &record)?;
    Ok(info)
}
