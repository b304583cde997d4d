//! The TS-0016 operations: `<SE>` discovery, `<sensitiveDataObject>`,
//! `<signature>`, `<hash>`, `<rand>`, `<cipher>`, MAC, and caller identities.

use std::ffi::c_char;

use seam_host::client::name;
use seam_host::proto::{
    AeadAlg, Data, KeyRef, ObjectInfo, ObjectKind, Op, ResourceType, Suid, MAX_AAD, MAX_DATA,
    MAX_NONCE, MAX_RANDOM, MAX_TAG,
};
use seam_host::{identity, Client};

use crate::args::{self, VarOut};
use crate::{
    with_handle, without_handle, Fail, Res, SeamHandle, SEAM_DIGEST_LEN, SEAM_OK,
    SEAM_SIGNATURE_LEN,
};

/// The node: whether it is initialised, its id and public keys.
#[repr(C)]
pub struct SeamNodeInfo {
    /// false until `seam init`; the other fields are then zero.
    pub initialised: bool,
    pub protocol_version: u16,
    pub node_id: [u8; 16],
    /// The key credentials are wrapped to for import.
    pub key_agreement_public_key: [u8; 65],
    /// The device issuer's key.
    pub issuer_public_key: [u8; 65],
}

/// `<SE>` resource attributes (TS-0016 §7.3).
#[repr(C)]
pub struct SeamSeInfo {
    pub name: [c_char; 33],
    /// m2mSeID (`sID`), e.g. "3-<node id>-<name>".
    pub m2m_se_id: [c_char; 73],
    /// SEType (`seT`): 3, a GlobalPlatform TEE.
    pub se_type: u8,
    /// securityLevel (`seL`): 2 on OP-TEE, 0 on the simulator.
    pub security_level: u8,
    pub allow_plaintext_import: bool,
    pub objects: u16,
    /// supportedResourceType (`srt`): `SEAM_RT_*` bits.
    pub supported_resource_types: u32,
    /// Part of every admin signature; changes when an SE is re-created.
    pub instance: u64,
    /// The last admin command counter the SE accepted.
    pub admin_counter: u64,
    pub admin_public_key: [u8; 65],
}

/// One stored object's public attributes (never its secret).
#[repr(C)]
pub struct SeamObjectInfo {
    pub name: [c_char; 33],
    /// `SEAM_KIND_*`.
    pub kind: u8,
    pub suid: u8,
    /// currentByteSize (`cbs`).
    pub size: u16,
    pub has_public_key: bool,
    pub public_key: [u8; 65],
    /// Whether a caller created it (a sensitive data object), and who.
    pub has_creator: bool,
    pub creator: [c_char; 37],
}

pub(crate) unsafe fn key_ref(
    c: &mut Client,
    se: *const c_char,
    key: *const c_char,
    suid: u8,
) -> Res<KeyRef> {
    let se = unsafe { args::name(se, "se") }?;
    let key = unsafe { args::name(key, "key") }?;
    // 0: the key's own SUID, looked up; otherwise one the SE accepts.
    let suid = if suid == 0 {
        c.object_info(&se, &key)
            .map_err(|e| Fail {
                status: e.status(),
                message: format!("looking up the SUID of {se}/{key}: {e}"),
            })?
            .suid
            .ok_or_else(|| Fail::bad(format!("{se}/{key} is not a key (it has no SUID)")))?
    } else {
        Suid::new(suid).map_err(|e| Fail::bad(e.to_string()))?
    };
    Ok(KeyRef {
        se: name(&se)?,
        key: name(&key)?,
        suid,
    })
}

fn to_data(bytes: &[u8]) -> Res<Data> {
    Data::from_slice(bytes).map_err(|_| Fail::bad("data over the limit"))
}

fn aead(alg: u32) -> Res<AeadAlg> {
    match alg {
        crate::SEAM_AEAD_AES_128_CCM => Ok(AeadAlg::Aes128Ccm),
        crate::SEAM_AEAD_AES_128_CCM_8 => Ok(AeadAlg::Aes128Ccm8),
        crate::SEAM_AEAD_AES_128_GCM => Ok(AeadAlg::Aes128Gcm),
        other => Err(Fail::bad(format!(
            "algorithm {other}: expected a SEAM_AEAD_* constant"
        ))),
    }
}

// ---- the node and its SEs ---------------------------------------------------

/// The node's identity and keys.
///
/// # Safety
/// `h` is a live handle; `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn seam_node_info(h: *mut SeamHandle, out: *mut SeamNodeInfo) -> u16 {
    with_handle(h, |c| {
        let out = args::out_ptr(out, "out")?;
        let info = c.node_info()?;
        let mut r = SeamNodeInfo {
            initialised: false,
            protocol_version: info.protocol_version,
            node_id: [0; 16],
            key_agreement_public_key: [0; 65],
            issuer_public_key: [0; 65],
        };
        if let Some(node) = info.node {
            r.initialised = true;
            r.node_id = node.node_id.0;
            r.key_agreement_public_key = node.key_agreement.0;
            r.issuer_public_key = node.issuer.0;
        }
        // SAFETY: checked non-NULL; the caller's storage.
        unsafe { out.write(r) };
        Ok(SEAM_OK)
    })
}

/// The names of the SEs on this node, one per line, NUL-terminated, in
/// `buf` of capacity `*len` (which receives the length with the NUL).
///
/// # Safety
/// `h` is a live handle; `len` points to a `size_t`; `buf` to `*len` bytes.
#[no_mangle]
pub unsafe extern "C" fn seam_se_list(
    h: *mut SeamHandle,
    buf: *mut c_char,
    len: *mut usize,
) -> u16 {
    with_handle(h, |c| {
        let out = unsafe { VarOut::new(buf.cast(), len, "buf") }?;
        let mut text = c.se_list()?.join("\n").into_bytes();
        text.push(0);
        unsafe { out.write(&text) }?;
        Ok(SEAM_OK)
    })
}

/// One SE's `<SE>` attributes.
///
/// # Safety
/// `h` is a live handle; `se` a NUL-terminated name; `out` writable.
#[no_mangle]
pub unsafe extern "C" fn seam_se_info(
    h: *mut SeamHandle,
    se: *const c_char,
    out: *mut SeamSeInfo,
) -> u16 {
    with_handle(h, |c| {
        let se = unsafe { args::name(se, "se") }?;
        let out = args::out_ptr(out, "out")?;
        let info = c.se_info(&se)?;
        let mut r = SeamSeInfo {
            name: [0; 33],
            m2m_se_id: [0; 73],
            se_type: info.se_type,
            security_level: info.security_level,
            allow_plaintext_import: info.allow_plaintext_import,
            objects: info.objects,
            supported_resource_types: 0,
            instance: info.instance,
            admin_counter: info.admin_counter,
            admin_public_key: info.admin.0,
        };
        args::fill_text(&mut r.name, &info.name);
        args::fill_text(&mut r.m2m_se_id, &info.m2m_se_id);
        for t in info.supported_resource_types.iter() {
            r.supported_resource_types |= match t {
                ResourceType::SensitiveDataObject => crate::SEAM_RT_SENSITIVE_DATA_OBJECT,
                ResourceType::Cipher => crate::SEAM_RT_CIPHER,
                ResourceType::Signature => crate::SEAM_RT_SIGNATURE,
                ResourceType::Hash => crate::SEAM_RT_HASH,
                ResourceType::Rand => crate::SEAM_RT_RAND,
                ResourceType::SecureConnection => crate::SEAM_RT_SECURE_CONNECTION,
                ResourceType::Identity => crate::SEAM_RT_IDENTITY,
            };
        }
        // SAFETY: checked non-NULL; the caller's storage.
        unsafe { out.write(r) };
        Ok(SEAM_OK)
    })
}

fn object_info(info: &ObjectInfo) -> SeamObjectInfo {
    let mut r = SeamObjectInfo {
        name: [0; 33],
        kind: match info.kind {
            ObjectKind::Secret => crate::SEAM_KIND_SECRET,
            ObjectKind::EcP256 => crate::SEAM_KIND_EC_P256,
            ObjectKind::Data => crate::SEAM_KIND_DATA,
            ObjectKind::PublicKey => crate::SEAM_KIND_PUBLIC_KEY,
        },
        suid: seam_host::proto::suid::or_zero::to_u8(info.suid),
        size: info.size,
        has_public_key: info.public_key.is_some(),
        public_key: info.public_key.map(|k| k.0).unwrap_or([0; 65]),
        has_creator: info.creator.is_some(),
        creator: [0; 37],
    };
    args::fill_text(&mut r.name, &info.name);
    if let Some(creator) = info.creator {
        args::fill_text(&mut r.creator, &creator.to_string());
    }
    r
}

/// One object's public attributes (to a caller holding a grant on it).
///
/// # Safety
/// `h` is a live handle; `se`, `object` NUL-terminated names; `out` writable.
#[no_mangle]
pub unsafe extern "C" fn seam_object_info(
    h: *mut SeamHandle,
    se: *const c_char,
    object: *const c_char,
    out: *mut SeamObjectInfo,
) -> u16 {
    with_handle(h, |c| {
        let se = unsafe { args::name(se, "se") }?;
        let object = unsafe { args::name(object, "object") }?;
        let out = args::out_ptr(out, "out")?;
        let info = c.object_info(&se, &object)?;
        // SAFETY: checked non-NULL; the caller's storage.
        unsafe { out.write(object_info(&info)) };
        Ok(SEAM_OK)
    })
}

/// The names of the objects of `se` this caller holds a grant on, one per
/// line, NUL-terminated (as `seam_se_list`).
///
/// # Safety
/// As `seam_se_list`; `se` a NUL-terminated name.
#[no_mangle]
pub unsafe extern "C" fn seam_object_list(
    h: *mut SeamHandle,
    se: *const c_char,
    buf: *mut c_char,
    len: *mut usize,
) -> u16 {
    with_handle(h, |c| {
        let se = unsafe { args::name(se, "se") }?;
        let out = unsafe { VarOut::new(buf.cast(), len, "buf") }?;
        let names: Vec<String> = c
            .object_list(&se)?
            .iter()
            .map(|o| o.name.to_string())
            .collect();
        let mut text = names.join("\n").into_bytes();
        text.push(0);
        unsafe { out.write(&text) }?;
        Ok(SEAM_OK)
    })
}

// ---- <sensitiveDataObject> ---------------------------------------------------

/// Create a sensitive data object (needs a `create` grant on the SE); 2001.
///
/// # Safety
/// `h` is a live handle; names NUL-terminated; `data` has `len` bytes.
#[no_mangle]
pub unsafe extern "C" fn seam_sdo_create(
    h: *mut SeamHandle,
    se: *const c_char,
    object: *const c_char,
    data: *const u8,
    len: usize,
) -> u16 {
    with_handle(h, |c| {
        let se = name(&unsafe { args::name(se, "se") }?)?;
        let object = name(&unsafe { args::name(object, "object") }?)?;
        let bytes = unsafe { args::bytes(data, len, MAX_DATA, "data") }?;
        let answer = c.call(Op::SdoCreate {
            se,
            object,
            data: to_data(bytes)?,
        })?;
        Ok(answer.status.code())
    })
}

/// Read a sensitive data object into `out` (capacity `*out_len`).
///
/// # Safety
/// `h` is a live handle; names NUL-terminated; `out_len` points to a
/// `size_t`; `out` to `*out_len` writable bytes.
#[no_mangle]
pub unsafe extern "C" fn seam_sdo_retrieve(
    h: *mut SeamHandle,
    se: *const c_char,
    object: *const c_char,
    out: *mut u8,
    out_len: *mut usize,
) -> u16 {
    with_handle(h, |c| {
        let se = unsafe { args::name(se, "se") }?;
        let object = unsafe { args::name(object, "object") }?;
        let out = unsafe { VarOut::new(out, out_len, "out") }?;
        let bytes = zeroize::Zeroizing::new(c.sdo_retrieve(&se, &object)?);
        unsafe { out.write(&bytes) }?;
        Ok(SEAM_OK)
    })
}

/// Replace a sensitive data object's bytes; 2004.
///
/// # Safety
/// As `seam_sdo_create`.
#[no_mangle]
pub unsafe extern "C" fn seam_sdo_update(
    h: *mut SeamHandle,
    se: *const c_char,
    object: *const c_char,
    data: *const u8,
    len: usize,
) -> u16 {
    with_handle(h, |c| {
        let se = name(&unsafe { args::name(se, "se") }?)?;
        let object = name(&unsafe { args::name(object, "object") }?)?;
        let bytes = unsafe { args::bytes(data, len, MAX_DATA, "data") }?;
        let answer = c.call(Op::SdoUpdate {
            se,
            object,
            data: to_data(bytes)?,
        })?;
        Ok(answer.status.code())
    })
}

/// Delete a sensitive data object; 2002.
///
/// # Safety
/// `h` is a live handle; names NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn seam_sdo_delete(
    h: *mut SeamHandle,
    se: *const c_char,
    object: *const c_char,
) -> u16 {
    with_handle(h, |c| {
        let se = name(&unsafe { args::name(se, "se") }?)?;
        let object = name(&unsafe { args::name(object, "object") }?)?;
        Ok(c.call(Op::SdoDelete { se, object })?.status.code())
    })
}

// ---- <signature>, <hash>, <rand> ---------------------------------------------

/// ECDSA P-256 SHA-256 of `msg` with a stored key; `sig` receives the
/// 64-byte `r || s` (see `seam_signature_to_der`). `suid` 0: the key's own.
///
/// # Safety
/// `h` is a live handle; names NUL-terminated; `msg` has `len` bytes; `sig`
/// 64 writable bytes.
#[no_mangle]
pub unsafe extern "C" fn seam_sign(
    h: *mut SeamHandle,
    se: *const c_char,
    key: *const c_char,
    suid: u8,
    msg: *const u8,
    len: usize,
    sig: *mut u8,
) -> u16 {
    with_handle(h, |c| {
        let msg = unsafe { args::bytes(msg, len, MAX_DATA, "msg") }?;
        let sig = args::out_ptr(sig, "sig")?;
        let key = unsafe { key_ref(c, se, key, suid) }?;
        let s = c.sign(&key, msg)?;
        unsafe { args::write_fixed(sig, &s.0) };
        Ok(SEAM_OK)
    })
}

/// As `seam_sign`, for a message the caller already hashed (SHA-256, 32
/// bytes): signs messages of any size.
///
/// # Safety
/// As `seam_sign`; `digest` has 32 readable bytes.
#[no_mangle]
pub unsafe extern "C" fn seam_sign_digest(
    h: *mut SeamHandle,
    se: *const c_char,
    key: *const c_char,
    suid: u8,
    digest: *const u8,
    sig: *mut u8,
) -> u16 {
    with_handle(h, |c| {
        let digest = unsafe { args::array::<SEAM_DIGEST_LEN>(digest, "digest") }?;
        let sig = args::out_ptr(sig, "sig")?;
        let key = unsafe { key_ref(c, se, key, suid) }?;
        let s = c.sign_digest(&key, &digest)?;
        unsafe { args::write_fixed(sig, &s.0) };
        Ok(SEAM_OK)
    })
}

/// Verify a 64-byte `r || s` signature of `msg` inside the SE. Returns 2000
/// with `*valid` set true or false; a failure status if it could not check.
///
/// # Safety
/// As `seam_sign`; `sig` has 64 readable bytes; `valid` is writable.
#[no_mangle]
pub unsafe extern "C" fn seam_verify(
    h: *mut SeamHandle,
    se: *const c_char,
    key: *const c_char,
    suid: u8,
    msg: *const u8,
    len: usize,
    sig: *const u8,
    valid: *mut bool,
) -> u16 {
    with_handle(h, |c| {
        let msg = unsafe { args::bytes(msg, len, MAX_DATA, "msg") }?;
        let sig = unsafe { args::array::<SEAM_SIGNATURE_LEN>(sig, "sig") }?;
        let valid = args::out_ptr(valid, "valid")?;
        let key = unsafe { key_ref(c, se, key, suid) }?;
        let ok = c.verify(&key, msg, &seam_host::proto::Signature(sig))?;
        // SAFETY: checked non-NULL.
        unsafe { valid.write(ok) };
        Ok(SEAM_OK)
    })
}

/// SHA-256 of `msg` (at most 2048 bytes) computed by the SE.
///
/// # Safety
/// `h` is a live handle; `msg` has `len` bytes; `digest` 32 writable bytes.
#[no_mangle]
pub unsafe extern "C" fn seam_hash(
    h: *mut SeamHandle,
    msg: *const u8,
    len: usize,
    digest: *mut u8,
) -> u16 {
    with_handle(h, |c| {
        let msg = unsafe { args::bytes(msg, len, MAX_DATA, "msg") }?;
        let digest = args::out_ptr(digest, "digest")?;
        let d = c.hash(msg)?;
        unsafe { args::write_fixed(digest, &d) };
        Ok(SEAM_OK)
    })
}

/// `len` (1 to 1024) random bytes from the SE's generator.
///
/// # Safety
/// `h` is a live handle; `out` has `len` writable bytes.
#[no_mangle]
pub unsafe extern "C" fn seam_rand(h: *mut SeamHandle, out: *mut u8, len: usize) -> u16 {
    with_handle(h, |c| {
        if len > MAX_RANDOM {
            return Err(Fail::bad(format!(
                "`len` is {len}, the limit is {MAX_RANDOM}"
            )));
        }
        let out = args::out_ptr(out, "out")?;
        let bytes = c.random(len)?;
        if bytes.len() != len {
            return Err(Fail {
                status: crate::SEAM_INTERNAL_SERVER_ERROR,
                message: format!("asked for {len} random bytes, got {}", bytes.len()),
            });
        }
        unsafe { args::write_fixed(out, &bytes) };
        Ok(SEAM_OK)
    })
}

// ---- <cipher> and MAC --------------------------------------------------------

/// AEAD-encrypt `pt` with a stored AES-128 key (`alg`: `SEAM_AEAD_*`)
/// under a nonce the SE draws: `nonce` receives its `nonce_len` bytes (12
/// for GCM, 7 to 13 for CCM; send it with the ciphertext). `out` receives
/// the ciphertext followed by the tag (`pt_len` + 8 or 16).
///
/// # Safety
/// `h` is a live handle; names NUL-terminated; `nonce` has `nonce_len`
/// writable bytes; each input pointer has its length in readable bytes;
/// `out_len` points to a `size_t`, `out` to `*out_len` writable bytes.
#[no_mangle]
pub unsafe extern "C" fn seam_encrypt(
    h: *mut SeamHandle,
    se: *const c_char,
    key: *const c_char,
    suid: u8,
    alg: u32,
    nonce: *mut u8,
    nonce_len: usize,
    aad: *const u8,
    aad_len: usize,
    pt: *const u8,
    pt_len: usize,
    out: *mut u8,
    out_len: *mut usize,
) -> u16 {
    with_handle(h, |c| {
        let alg = aead(alg)?;
        let nonce = args::out_ptr(nonce, "nonce")?;
        let drawn_len = u8::try_from(nonce_len)
            .ok()
            .filter(|n| usize::from(*n) <= MAX_NONCE)
            .ok_or_else(|| Fail::bad(format!("nonce_len {nonce_len}: at most {MAX_NONCE}")))?;
        let aad = unsafe { args::bytes(aad, aad_len, MAX_AAD, "aad") }?;
        let pt = unsafe { args::bytes(pt, pt_len, MAX_DATA, "pt") }?;
        let out = unsafe { VarOut::new(out, out_len, "out") }?;
        let key = unsafe { key_ref(c, se, key, suid) }?;
        let (drawn, ct) = c.encrypt(&key, alg, drawn_len, aad, pt)?;
        if drawn.len() != nonce_len {
            return Err(Fail::bad("the SE drew a nonce of another length"));
        }
        unsafe { out.write(&ct) }?;
        // SAFETY: `nonce` is non-NULL with `nonce_len` writable bytes (the
        // caller's promise), and `drawn` is that long.
        unsafe { args::write_fixed(nonce, &drawn) };
        Ok(SEAM_OK)
    })
}

/// AEAD-decrypt `ct` (ciphertext and tag); a failed tag check is 4000.
///
/// # Safety
/// As `seam_encrypt`.
#[no_mangle]
pub unsafe extern "C" fn seam_decrypt(
    h: *mut SeamHandle,
    se: *const c_char,
    key: *const c_char,
    suid: u8,
    alg: u32,
    nonce: *const u8,
    nonce_len: usize,
    aad: *const u8,
    aad_len: usize,
    ct: *const u8,
    ct_len: usize,
    out: *mut u8,
    out_len: *mut usize,
) -> u16 {
    with_handle(h, |c| {
        let alg = aead(alg)?;
        let nonce = unsafe { args::bytes(nonce, nonce_len, MAX_NONCE, "nonce") }?;
        let aad = unsafe { args::bytes(aad, aad_len, MAX_AAD, "aad") }?;
        let ct = unsafe { args::bytes(ct, ct_len, MAX_DATA + MAX_TAG, "ct") }?;
        let out = unsafe { VarOut::new(out, out_len, "out") }?;
        let key = unsafe { key_ref(c, se, key, suid) }?;
        let pt = zeroize::Zeroizing::new(c.decrypt(&key, alg, nonce, aad, ct)?);
        unsafe { out.write(&pt) }?;
        Ok(SEAM_OK)
    })
}

/// HMAC-SHA-256 of `msg` with a stored secret; `tag` receives 32 bytes.
///
/// # Safety
/// `h` is a live handle; names NUL-terminated; `msg` has `len` bytes; `tag`
/// 32 writable bytes.
#[no_mangle]
pub unsafe extern "C" fn seam_mac(
    h: *mut SeamHandle,
    se: *const c_char,
    key: *const c_char,
    suid: u8,
    msg: *const u8,
    len: usize,
    tag: *mut u8,
) -> u16 {
    with_handle(h, |c| {
        let msg = unsafe { args::bytes(msg, len, MAX_DATA, "msg") }?;
        let tag = args::out_ptr(tag, "tag")?;
        let key = unsafe { key_ref(c, se, key, suid) }?;
        let t = c.mac(&key, msg)?;
        unsafe { args::write_fixed(tag, &t) };
        Ok(SEAM_OK)
    })
}

/// Check an HMAC-SHA-256 tag inside the SE, in constant time.
///
/// # Safety
/// As `seam_mac`; `tag` has 32 readable bytes; `valid` is writable.
#[no_mangle]
pub unsafe extern "C" fn seam_mac_verify(
    h: *mut SeamHandle,
    se: *const c_char,
    key: *const c_char,
    suid: u8,
    msg: *const u8,
    len: usize,
    tag: *const u8,
    valid: *mut bool,
) -> u16 {
    with_handle(h, |c| {
        let msg = unsafe { args::bytes(msg, len, MAX_DATA, "msg") }?;
        let tag = unsafe { args::array::<SEAM_DIGEST_LEN>(tag, "tag") }?;
        let valid = args::out_ptr(valid, "valid")?;
        let key = unsafe { key_ref(c, se, key, suid) }?;
        let ok = c.mac_verify(&key, msg, &tag)?;
        // SAFETY: checked non-NULL.
        unsafe { valid.write(ok) };
        Ok(SEAM_OK)
    })
}

// ---- helpers without a handle ------------------------------------------------

unsafe fn write_uuid(out: *mut c_char, id: seam_host::ClientId) -> Res {
    let out = args::out_ptr(out, "out")?;
    let mut text = id.to_string().into_bytes();
    text.push(0);
    unsafe { args::write_fixed(out.cast(), &text) };
    Ok(SEAM_OK)
}

/// The caller UUID OP-TEE sees for this process (TEEC_LOGIN_USER, effective
/// uid), as text into `out` (37 bytes): what an SE admin grants to.
///
/// # Safety
/// `out` has 37 writable bytes.
#[no_mangle]
pub unsafe extern "C" fn seam_identity_current(out: *mut c_char) -> u16 {
    without_handle(|| unsafe { write_uuid(out, identity::current_user()) })
}

/// The caller UUID for a TEEC_LOGIN_USER session of `uid`.
///
/// # Safety
/// `out` has 37 writable bytes.
#[no_mangle]
pub unsafe extern "C" fn seam_identity_uid(uid: u32, out: *mut c_char) -> u16 {
    without_handle(|| unsafe { write_uuid(out, identity::for_uid(uid)) })
}

/// The caller UUID for a TEEC_LOGIN_GROUP session of `gid`.
///
/// # Safety
/// `out` has 37 writable bytes.
#[no_mangle]
pub unsafe extern "C" fn seam_identity_gid(gid: u32, out: *mut c_char) -> u16 {
    without_handle(|| unsafe { write_uuid(out, identity::for_gid(gid)) })
}

/// DER-encode a 64-byte `r || s` signature (at most 72 bytes), the form
/// OpenSSL and X.509 use.
///
/// # Safety
/// `sig` has 64 readable bytes; `der_len` points to a `size_t`; `der` to
/// `*der_len` writable bytes.
#[no_mangle]
pub unsafe extern "C" fn seam_signature_to_der(
    sig: *const u8,
    der: *mut u8,
    der_len: *mut usize,
) -> u16 {
    without_handle(|| {
        let sig = unsafe { args::array::<SEAM_SIGNATURE_LEN>(sig, "sig") }?;
        let out = unsafe { VarOut::new(der, der_len, "der") }?;
        let s = p256::ecdsa::Signature::from_slice(&sig)
            .map_err(|_| Fail::bad("`sig` is not a valid P-256 signature (r or s out of range)"))?;
        unsafe { out.write(s.to_der().as_bytes()) }?;
        Ok(SEAM_OK)
    })
}
