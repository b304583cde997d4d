//! The TS-0016 functions a caller uses stored credentials through:
//! sensitiveDataObject, signature, hash, rand, cipher, MAC.

use alloc::vec::Vec;
use seam_proto::{
    AeadAlg, Data, Digest, HashAlg, KeyRef, KeyRole, Name, ObjectKind, Ops, Reason, Reply,
    SignInput, Signature, Status, MAX_DATA, MAX_NONCE, MAX_RANDOM,
};
use zeroize::Zeroizing;

use crate::access::{self, Identified};
use crate::crypto::{self, Rng};
use crate::records::{self, SeRecord, StoredObject};
use crate::store::Store;

/// A 32-byte scalar from a stored EC object.
fn scalar(object: &StoredObject) -> Result<Zeroizing<[u8; 32]>, Reason> {
    let bytes: [u8; 32] = object
        .secret
        .as_slice()
        .try_into()
        .map_err(|_| Reason::StorageCorrupt)?;
    Ok(Zeroizing::new(bytes))
}

/// Loads the SE and finds the key the caller may use for `op` (see
/// [`access::usable_key`]), of kind `kind`, and runs `f` on it.
pub(crate) fn with_key<T>(
    store: &mut impl Store,
    who: Identified,
    key: &KeyRef,
    op: Ops,
    kind: ObjectKind,
    f: impl FnOnce(&StoredObject) -> Result<T, Reason>,
) -> Result<T, Reason> {
    let se = records::load_se(store, &key.se)?;
    let object = access::usable_key(&se, who, key, op)?;
    if object.kind != kind {
        return Err(Reason::WrongObjectKind);
    }
    f(object)
}

/// [`with_key`] for an operation more than one kind of object can do.
fn with_key_of<T>(
    store: &mut impl Store,
    who: Identified,
    key: &KeyRef,
    op: Ops,
    kinds: &[ObjectKind],
    f: impl FnOnce(&StoredObject) -> Result<T, Reason>,
) -> Result<T, Reason> {
    let se = records::load_se(store, &key.se)?;
    let object = access::usable_key(&se, who, key, op)?;
    if !kinds.contains(&object.kind) {
        return Err(Reason::WrongObjectKind);
    }
    f(object)
}

fn digest_of(input: &SignInput) -> [u8; 32] {
    match input {
        SignInput::Message(m) => crypto::hash::sha256(m),
        SignInput::Digest(d) => d.0,
    }
}

pub fn sign(
    store: &mut impl Store,
    who: Identified,
    key: &KeyRef,
    input: &SignInput,
) -> Result<Reply, Reason> {
    with_key(store, who, key, Ops::SIGN, ObjectKind::EcP256, |object| {
        let d = scalar(object)?;
        // Low-S, so that `Verify` (which refuses high-S) accepts it.
        let sig = crypto::sign::sign_digest_low_s(&d, &digest_of(input))
            .map_err(|_| Reason::StorageCorrupt)?;
        Ok(Reply::Signature(Signature(sig)))
    })
}

pub fn verify(
    store: &mut impl Store,
    who: Identified,
    key: &KeyRef,
    input: &SignInput,
    signature: &Signature,
) -> Result<Reply, Reason> {
    // A key pair verifies with its public half; a public-key object is for nothing else.
    let kinds = [ObjectKind::EcP256, ObjectKind::PublicKey];
    with_key_of(store, who, key, Ops::VERIFY, &kinds, |object| {
        let public = object.public_key.ok_or(Reason::StorageCorrupt)?;
        // Low-S only: a signature has one valid encoding (no malleability).
        let ok = crypto::sign::verify_digest_low_s(
            public.as_bytes(),
            &digest_of(input),
            signature.as_bytes(),
        );
        Ok(Reply::Verified(ok))
    })
}

fn aead_of(alg: AeadAlg) -> crypto::aead::Aead {
    match alg {
        AeadAlg::Aes128Ccm => crypto::aead::Aead::Aes128Ccm,
        AeadAlg::Aes128Ccm8 => crypto::aead::Aead::Aes128Ccm8,
        AeadAlg::Aes128Gcm => crypto::aead::Aead::Aes128Gcm,
    }
}

/// The AES key and the mode's variant for its length (16 bytes: AES-128, 32: AES-256).
fn aes_key(object: &StoredObject, alg: AeadAlg) -> Result<(&[u8], crypto::aead::Aead), Reason> {
    let aead = crypto::aead::Aead::for_key(aead_of(alg), object.secret.len())
        .map_err(|_| Reason::WrongObjectKind)?;
    Ok((&object.secret, aead))
}

/// Nonce lengths the TA draws: 12 bytes for GCM (SP 800-38D's
/// recommendation), 7..=13 for CCM (RFC 3610); a random nonce, so the
/// longer the better (13 makes CCM collisions negligible).
fn nonce_len_fits(alg: AeadAlg, len: usize) -> bool {
    match alg {
        AeadAlg::Aes128Gcm => len == 12,
        AeadAlg::Aes128Ccm | AeadAlg::Aes128Ccm8 => (7..=MAX_NONCE).contains(&len),
    }
}

/// `Encrypt`: the nonce is drawn here, never the caller's, so no caller can
/// make the TA encrypt twice under one nonce (which would hand out the
/// keystream, and under GCM the authentication key).
#[allow(clippy::too_many_arguments)]
pub fn encrypt(
    store: &mut impl Store,
    rng: &mut dyn Rng,
    who: Identified,
    key: &KeyRef,
    alg: AeadAlg,
    nonce_len: u8,
    aad: &[u8],
    plaintext: &[u8],
) -> Result<Reply, Reason> {
    let len = usize::from(nonce_len);
    if !nonce_len_fits(alg, len) {
        return Err(Reason::InvalidParameter);
    }
    with_key(
        store,
        who,
        key,
        Ops::ENCRYPT,
        ObjectKind::Secret,
        |object| {
            let (aes, aead) = aes_key(object, alg)?;
            let mut nonce = heapless::Vec::<u8, MAX_NONCE>::new();
            nonce.resize(len, 0).map_err(|_| Reason::InvalidParameter)?;
            rng.fill(&mut nonce)?;
            let sealed = Zeroizing::new(crypto::aead::seal(aead, aes, &nonce, aad, plaintext)?);
            let ciphertext =
                seam_proto::HeapVec::from_slice(&sealed).map_err(|_| Reason::InvalidParameter)?;
            Ok(Reply::Ciphertext { nonce, ciphertext })
        },
    )
}

pub fn decrypt(
    store: &mut impl Store,
    who: Identified,
    key: &KeyRef,
    alg: AeadAlg,
    nonce: &[u8],
    aad: &[u8],
    ciphertext: &[u8],
) -> Result<Reply, Reason> {
    with_key(
        store,
        who,
        key,
        Ops::DECRYPT,
        ObjectKind::Secret,
        |object| {
            let (aes, aead) = aes_key(object, alg)?;
            let opened = Zeroizing::new(crypto::aead::open(aead, aes, nonce, aad, ciphertext)?);
            let out =
                seam_proto::HeapVec::from_slice(&opened).map_err(|_| Reason::InvalidParameter)?;
            Ok(Reply::Plaintext(out))
        },
    )
}

pub fn mac(
    store: &mut impl Store,
    who: Identified,
    key: &KeyRef,
    message: &[u8],
) -> Result<Reply, Reason> {
    with_key(store, who, key, Ops::MAC, ObjectKind::Secret, |object| {
        let tag = Zeroizing::new(crypto::mac::hmac_sha256(&object.secret, &[message]));
        Ok(Reply::Mac(Digest(*tag)))
    })
}

pub fn mac_verify(
    store: &mut impl Store,
    who: Identified,
    key: &KeyRef,
    message: &[u8],
    tag: &Digest,
) -> Result<Reply, Reason> {
    with_key(store, who, key, Ops::MAC, ObjectKind::Secret, |object| {
        Ok(Reply::Verified(crypto::mac::verify_hmac_sha256(
            &object.secret,
            &[message],
            tag.as_bytes(),
        )))
    })
}

pub fn hash(alg: HashAlg, message: &[u8]) -> Result<Reply, Reason> {
    match alg {
        HashAlg::Sha256 => Ok(Reply::Digest(Digest(crypto::hash::sha256(message)))),
    }
}

pub fn random(rng: &mut dyn Rng, len: u16) -> Result<Reply, Reason> {
    let len = usize::from(len);
    if len == 0 || len > MAX_RANDOM {
        return Err(Reason::InvalidParameter);
    }
    let mut out = seam_proto::HeapVec::new();
    out.resize(len, 0).map_err(|_| Reason::InvalidParameter)?;
    rng.fill(&mut out)?;
    Ok(Reply::Random(out))
}

/// Finds a data object the caller may use for `op` (see [`access::usable_data`]).
fn data_object<'a>(
    se: &'a mut SeRecord,
    who: Identified,
    object: &Name,
    op: Ops,
) -> Result<&'a mut StoredObject, Reason> {
    if access::usable_data(se, who, object, op)?.kind != ObjectKind::Data {
        return Err(Reason::WrongObjectKind);
    }
    se.resolve_mut(who.id(), object).ok_or(Reason::Internal)
}

pub fn sdo_create(
    store: &mut impl Store,
    who: Identified,
    se_name: &Name,
    object: &Name,
    data: &Data,
) -> Result<(Status, Reply), Reason> {
    let mut se = records::load_se(store, se_name)?;
    access::check_create(&se, who)?;
    if data.is_empty() || data.len() > MAX_DATA {
        return Err(Reason::InvalidParameter);
    }
    access::check_caller_create(&se, who, object)?;
    se.objects.push(StoredObject {
        name: object.clone(),
        kind: ObjectKind::Data,
        suid: None,
        secret: data.to_vec(),
        public_key: None,
        creator: Some(who.id()),
        acl: Vec::new(),
        role: KeyRole::Operational,
        not_after: None,
    });
    records::save_se(store, &se)?;
    Ok((Status::Created, Reply::Done))
}

pub fn sdo_retrieve(
    store: &mut impl Store,
    who: Identified,
    se_name: &Name,
    object: &Name,
) -> Result<Reply, Reason> {
    let mut se = records::load_se(store, se_name)?;
    let found = data_object(&mut se, who, object, Ops::RETRIEVE)?;
    let out = seam_proto::HeapVec::from_slice(&found.secret).map_err(|_| Reason::StorageCorrupt)?;
    Ok(Reply::Data(out))
}

pub fn sdo_update(
    store: &mut impl Store,
    who: Identified,
    se_name: &Name,
    object: &Name,
    data: &Data,
) -> Result<(Status, Reply), Reason> {
    let mut se = records::load_se(store, se_name)?;
    let found = data_object(&mut se, who, object, Ops::UPDATE)?;
    if data.is_empty() {
        return Err(Reason::InvalidParameter);
    }
    let old = core::mem::replace(&mut found.secret, data.to_vec());
    drop(Zeroizing::new(old));
    records::save_se(store, &se)?;
    Ok((Status::Updated, Reply::Done))
}

pub fn sdo_delete(
    store: &mut impl Store,
    who: Identified,
    se_name: &Name,
    object: &Name,
) -> Result<(Status, Reply), Reason> {
    let mut se = records::load_se(store, se_name)?;
    let creator = data_object(&mut se, who, object, Ops::DELETE)?.creator;
    se.objects
        .retain(|o| !(o.name == *object && o.creator == creator));
    records::save_se(store, &se)?;
    Ok((Status::Deleted, Reply::Done))
}
