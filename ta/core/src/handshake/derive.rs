//! The TS-0003 §10.3 key derivations, from stored keys into stored keys
//! (`Op::Derive`), and the store side of the oneM2M exporter (`ExportKey`).
//!
//! Decisions where TS-0003 is silent (see `seam_proto::handshake::Derivation`
//! for the table): identifiers must be printable ASCII (`0x21..=0x7e`), for
//! which NFKC normalisation is the identity, so the TA never normalises and
//! refuses anything else with `InvalidParameter`; the SUID of a
//! usage-constrained key enters its HMAC as two ASCII decimal digits; the
//! random values of sessionESPrimKey enter as raw bytes, receiver's first,
//! without length prefixes; the E2E salt is the caller's (empty = RFC
//! 5869's zeros); the counter byte `i` of the E2E chain (TS-0003
//! §10.3.6.2) is one octet, as in RFC 5869; an E2E key of `len` < 32 bytes
//! is the first `len` bytes of its block.
//!
//! A derived key is a secret in the source's SE, in the caller's own
//! namespace (`creator`), with one ACL entry granting the caller the
//! operations its SUID and role allow under that SUID. It is `Operational`
//! (a sessionESPrimKey, Km, Kpsa, the other E2E keys), or `Pairwise` for a
//! pairwise ESPrim key: a usage-constrained key of use digit 3 and the E2E
//! message confidentiality key (Ke2e_msg_conf); it expires no later than
//! its source.

use alloc::vec;
use alloc::vec::Vec;
use seam_proto::handshake::E2eKey;
use seam_proto::handshake::{
    Derivation, Derive, KM_LABEL, KM_SUID, KPSA_LABEL, KPSA_SUID, SESSION_ESPRIM_LABEL,
    USAGE_CONSTRAINED_LABEL,
};
use seam_proto::{
    KeyAttributes, KeyRole, Name, ObjectInfo, ObjectKind, Ops, Reason, Reply, Status, Suid,
};
use zeroize::Zeroizing;

use crate::access::{self, Identified, SourceNeed};
use crate::crypto::kdf::hkdf_extract;
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
    let need = match &d.rule {
        Derivation::Km { .. } | Derivation::Kpsa { .. } | Derivation::UsageConstrained { .. } => {
            SourceNeed::Enrolment
        }
        Derivation::E2e { .. } => SourceNeed::PresharedSa,
        Derivation::SessionEsPrim { .. } => SourceNeed::PairwiseEsPrim,
    };
    let (secret, source_not_after) = with_key(
        store,
        who,
        &d.source,
        Ops::DERIVE,
        ObjectKind::Secret,
        |o| {
            access::check_derivation_source(o, need)?;
            Ok((Zeroizing::new(o.secret.clone()), o.not_after))
        },
    )?;
    // The grant was checked on this very read; the new key goes into the
    // SE instance the source was read from.
    let instance = records::load_se(store, &d.source.se)?.instance;
    let mut role = KeyRole::Operational;
    let (output, suid): (Zeroizing<Vec<u8>>, Suid) = match &d.rule {
        Derivation::Km { maf_id } => {
            let mac = Zeroizing::new(hmac_sha256(
                &secret,
                &[KM_LABEL.as_bytes(), identifier(maf_id)?],
            ));
            (Zeroizing::new(mac.to_vec()), KM_SUID)
        }
        Derivation::Kpsa { enrolee_id } => {
            let mac = Zeroizing::new(hmac_sha256(
                &secret,
                &[KPSA_LABEL.as_bytes(), identifier(enrolee_id)?],
            ));
            (Zeroizing::new(mac.to_vec()), KPSA_SUID)
        }
        Derivation::UsageConstrained { suid, target_id } => {
            access::check_usage_constrained(*suid)?;
            if suid.use_digit() == 3 {
                // A usage-constrained ESPrim key is a pairwise key.
                role = KeyRole::Pairwise;
            }
            let digits = [b'0' + suid.credential_type(), b'0' + suid.use_digit()];
            let mac = Zeroizing::new(hmac_sha256(
                &secret,
                &[
                    USAGE_CONSTRAINED_LABEL.as_bytes(),
                    &digits,
                    identifier(target_id)?,
                ],
            ));
            (Zeroizing::new(mac.to_vec()), *suid)
        }
        Derivation::E2e { key, salt, len } => {
            let len = usize::from(*len);
            if !(16..=32).contains(&len) {
                return Err(Reason::InvalidParameter);
            }
            if *key == E2eKey::MessageConfidentiality {
                // Ke2e_msg_conf is the pairwise ESPrim key of the two ends
                // (TS-0003 §8.4.2): a derivation source, never MAC'd.
                role = KeyRole::Pairwise;
            }
            let block = e2e_key(&secret, salt, *key);
            // Use digits 3..=5 with any credential type are SUIDs.
            let suid = Suid::from_digits(source_suid.credential_type(), key.use_digit())?;
            (Zeroizing::new(block[..len].to_vec()), suid)
        }
        Derivation::SessionEsPrim {
            receiver_rand,
            originator_rand,
        } => {
            if receiver_rand.is_empty() || originator_rand.is_empty() {
                return Err(Reason::InvalidParameter);
            }
            let mac = Zeroizing::new(hmac_sha256(
                &secret,
                &[
                    receiver_rand,
                    originator_rand,
                    SESSION_ESPRIM_LABEL.as_bytes(),
                ],
            ));
            (Zeroizing::new(mac.to_vec()), source_suid)
        }
    };
    let attributes = KeyAttributes {
        role,
        not_after: source_not_after,
    };
    let info = store_key(
        store,
        who,
        (&d.source.se, instance),
        &d.object,
        suid,
        attributes,
        &output,
    )?;
    Ok((Status::Created, Reply::Derived(info)))
}

/// TS-0003 §10.3.6: Ke2e_master = HMAC-SHA-256(salt, Kpsa) (HKDF-Extract),
/// then one chain T(i) = HMAC(Ke2e_master, T(i-1) ‖ label_i ‖ i), T(0)
/// empty, run up to the block of `key`.
fn e2e_key(kpsa: &[u8], salt: &[u8], key: E2eKey) -> Zeroizing<[u8; 32]> {
    let master = hkdf_extract(salt, kpsa);
    let mut block = Zeroizing::new([0u8; 32]);
    for (i, step) in E2eKey::CHAIN.iter().enumerate() {
        let previous: &[u8] = if i == 0 { &[] } else { &block[..] };
        let next = Zeroizing::new(hmac_sha256(
            master.as_ref(),
            &[previous, step.info().as_bytes(), &[step.index()]],
        ));
        block.copy_from_slice(&next[..]);
        if *step == key {
            break;
        }
    }
    block
}

/// Stores `secret` as a new key `object` in SE `se`, in the caller's
/// namespace and usable by it for what `suid` and the role allow — only if
/// `se` is still the SE instance `instance` (a retired SE's name may belong
/// to another SE now).
pub(crate) fn store_key(
    store: &mut impl Store,
    who: Identified,
    (se, instance): (&Name, u64),
    object: &Name,
    suid: Suid,
    attributes: KeyAttributes,
    secret: &[u8],
) -> Result<ObjectInfo, Reason> {
    let mut record = match records::load_se(store, se) {
        Ok(r) if r.instance == instance => r,
        Ok(_) | Err(Reason::UnknownSe) => return Err(Reason::HandshakeRevoked),
        Err(e) => return Err(e),
    };
    access::check_caller_create(&record, who, object)?;
    let stored = StoredObject {
        name: object.clone(),
        kind: ObjectKind::Secret,
        suid: Some(suid),
        secret: secret.to_vec(),
        public_key: None,
        creator: Some(who.id()),
        acl: vec![access::creator_grant(who, suid, attributes.role)],
        role: attributes.role,
        not_after: attributes.not_after,
    };
    let info = ObjectInfo {
        name: stored.name.clone(),
        kind: stored.kind,
        suid: Some(suid),
        size: secret.len() as u16,
        public_key: None,
        creator: Some(who.id()),
        attributes,
    };
    record.objects.push(stored);
    records::save_se(store, &record)?;
    Ok(info)
}
