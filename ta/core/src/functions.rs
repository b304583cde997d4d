//! The TS-0016 functions a caller uses stored credentials through:
//! sensitiveDataObject, signature, hash, rand, cipher, MAC.

use alloc::vec::Vec;
use seam_proto::{
    AeadAlg, Data, Digest, HashAlg, KeyRef, Name, ObjectKind, Ops, Reason, Reply, SignInput,
    Signature, Status, MAX_DATA, MAX_OBJECTS_PER_SE, MAX_RANDOM,
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
        let sig =
            crypto::sign::sign_digest(&d, &digest_of(input)).map_err(|_| Reason::StorageCorrupt)?;
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
        let ok =
            crypto::sign::verify_digest(public.as_bytes(), &digest_of(input), signature.as_bytes());
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

pub fn encrypt(
    store: &mut impl Store,
    who: Identified,
    key: &KeyRef,
    alg: AeadAlg,
    nonce: &[u8],
    aad: &[u8],
    plaintext: &[u8],
) -> Result<Reply, Reason> {
    with_key(
        store,
        who,
        key,
        Ops::ENCRYPT,
        ObjectKind::Secret,
        |object| {
            let (aes, aead) = aes_key(object, alg)?;
            let sealed = crypto::aead::seal(aead, aes, nonce, aad, plaintext)?;
            let out =
                seam_proto::HeapVec::from_slice(&sealed).map_err(|_| Reason::InvalidParameter)?;
            Ok(Reply::Ciphertext(out))
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
            let opened = crypto::aead::open(aead, aes, nonce, aad, ciphertext)?;
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
        Ok(Reply::Mac(Digest(crypto::mac::hmac_sha256(
            &object.secret,
            &[message],
        ))))
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
    se.object_mut(object).ok_or(Reason::Internal)
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
    if se.object(object).is_some() {
        return Err(Reason::AlreadyExists);
    }
    if se.objects.len() >= MAX_OBJECTS_PER_SE {
        return Err(Reason::LimitReached);
    }
    se.objects.push(StoredObject {
        name: object.clone(),
        kind: ObjectKind::Data,
        suid: None,
        secret: data.to_vec(),
        public_key: None,
        creator: Some(who.id()),
        acl: Vec::new(),
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
    data_object(&mut se, who, object, Ops::DELETE)?;
    se.objects.retain(|o| o.name != *object);
    records::save_se(store, &se)?;
    Ok((Status::Deleted, Reply::Done))
}
