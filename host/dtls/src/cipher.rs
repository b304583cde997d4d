//! Record protection with the traffic keys the Secure Environment hands
//! back: AES-128-CCM-8 (RFC 6655, RFC 7251) and AES-128-CBC with
//! HMAC-SHA256, MAC-then-encrypt with an explicit per-record IV (RFC 5246
//! §6.2.3.2). The primitives are RustCrypto's `aes`, `ccm`, `cbc`, `hmac` and
//! `sha2`; nothing here implements one.

use aes::Aes128;
use ccm::aead::{Aead, KeyInit, Payload};
use ccm::consts::{U12, U8};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, ZeroizeOnDrop};

use super::{Role, Suite};

type Ccm8 = ccm::Ccm<Aes128, U8, U12>;
type HmacSha256 = Hmac<Sha256>;

/// The key block of one connection (RFC 5246 §6.3): for CCM-8 suites a key
/// and a 4-byte implicit nonce (salt) per direction; for CBC suites a key and
/// a 32-byte MAC key per direction.
#[derive(Clone, Default, Zeroize, ZeroizeOnDrop)]
pub struct TrafficKeys {
    pub client_write_mac_key: Vec<u8>,
    pub server_write_mac_key: Vec<u8>,
    pub client_write_key: [u8; 16],
    pub server_write_key: [u8; 16],
    pub client_write_iv: Vec<u8>,
    pub server_write_iv: Vec<u8>,
}

impl std::fmt::Debug for TrafficKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TrafficKeys(..)")
    }
}

impl TrafficKeys {
    /// Key block length for `suite`: CCM-8 2×16 + 2×4, CBC-SHA256 2×32 + 2×16.
    pub const fn block_len(suite: Suite) -> usize {
        if suite.is_ccm8() {
            40
        } else {
            96
        }
    }

    /// Splits a key block (RFC 5246 §6.3 order: MAC keys, keys, IVs).
    pub fn from_key_block(suite: Suite, block: &[u8]) -> Option<TrafficKeys> {
        if block.len() != Self::block_len(suite) {
            return None;
        }
        let mac = if suite.is_ccm8() { 0 } else { 32 };
        let iv = if suite.is_ccm8() { 4 } else { 0 };
        let mut k = TrafficKeys::default();
        k.client_write_mac_key = block[..mac].to_vec();
        k.server_write_mac_key = block[mac..2 * mac].to_vec();
        let keys = &block[2 * mac..];
        k.client_write_key.copy_from_slice(&keys[..16]);
        k.server_write_key.copy_from_slice(&keys[16..32]);
        k.client_write_iv = keys[32..32 + iv].to_vec();
        k.server_write_iv = keys[32 + iv..32 + 2 * iv].to_vec();
        Some(k)
    }

    /// Whether the pieces have the lengths `suite` needs.
    pub fn fits(&self, suite: Suite) -> bool {
        let (mac, iv) = if suite.is_ccm8() { (0, 4) } else { (32, 0) };
        self.client_write_mac_key.len() == mac
            && self.server_write_mac_key.len() == mac
            && self.client_write_iv.len() == iv
            && self.server_write_iv.len() == iv
    }
}

/// One direction's record protection.
pub enum RecordCipher {
    Ccm8 { aead: Box<Ccm8>, salt: [u8; 4] },
    CbcSha256 { key: [u8; 16], mac_key: [u8; 32] },
}

impl Drop for RecordCipher {
    fn drop(&mut self) {
        if let RecordCipher::CbcSha256 { key, mac_key } = self {
            key.zeroize();
            mac_key.zeroize();
        }
    }
}

/// The record failed to authenticate (or is malformed for its cipher).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BadRecord;

const CCM_EXPLICIT_NONCE: usize = 8;
const CCM_TAG: usize = 8;
const BLOCK: usize = 16;
const MAC_LEN: usize = 32;

impl RecordCipher {
    /// The cipher that protects what `writer` sends.
    pub fn new(suite: Suite, keys: &TrafficKeys, writer: Role) -> RecordCipher {
        let (key, mac, iv) = match writer {
            Role::Client => (
                &keys.client_write_key,
                &keys.client_write_mac_key,
                &keys.client_write_iv,
            ),
            Role::Server => (
                &keys.server_write_key,
                &keys.server_write_mac_key,
                &keys.server_write_iv,
            ),
        };
        if suite.is_ccm8() {
            let mut salt = [0u8; 4];
            salt.copy_from_slice(&iv[..4]);
            RecordCipher::Ccm8 {
                aead: Box::new(Ccm8::new(key.into())),
                salt,
            }
        } else {
            let mut mac_key = [0u8; 32];
            mac_key.copy_from_slice(&mac[..32]);
            RecordCipher::CbcSha256 { key: *key, mac_key }
        }
    }

    /// Largest expansion of a record: explicit nonce + tag, or IV + MAC + a
    /// full block of padding.
    pub fn overhead(&self) -> usize {
        match self {
            RecordCipher::Ccm8 { .. } => CCM_EXPLICIT_NONCE + CCM_TAG,
            RecordCipher::CbcSha256 { .. } => BLOCK + MAC_LEN + BLOCK,
        }
    }

    /// Protects one record. `seq` is the 64-bit MAC sequence number
    /// (`epoch ‖ seq48` on DTLS); `random` supplies CBC's explicit IV.
    pub fn seal(
        &self,
        seq: u64,
        content_type: u8,
        version: u16,
        plaintext: &[u8],
        random: &mut dyn FnMut(&mut [u8]),
    ) -> Vec<u8> {
        let aad = additional_data(seq, content_type, version, plaintext.len());
        match self {
            RecordCipher::Ccm8 { aead, salt } => {
                // RFC 6655 §3: the explicit nonce is the record's sequence number.
                let explicit = seq.to_be_bytes();
                let nonce = ccm_nonce(salt, &explicit);
                let sealed = aead
                    .encrypt(
                        (&nonce).into(),
                        Payload {
                            msg: plaintext,
                            aad: &aad,
                        },
                    )
                    // Only a plaintext beyond CCM's 2^24-byte limit fails;
                    // records are at most 2^14.
                    .unwrap_or_default();
                let mut out = Vec::with_capacity(CCM_EXPLICIT_NONCE + sealed.len());
                out.extend_from_slice(&explicit);
                out.extend_from_slice(&sealed);
                out
            }
            RecordCipher::CbcSha256 { key, mac_key } => {
                use cbc::cipher::{block_padding::NoPadding, BlockEncryptMut, KeyIvInit};
                let mut m = <HmacSha256 as Mac>::new_from_slice(mac_key)
                    .expect("HMAC takes any key length");
                m.update(&aad);
                m.update(plaintext);
                let tag = m.finalize().into_bytes();
                let body_len = plaintext.len() + MAC_LEN;
                // Padding bytes plus the length byte bring it to a block multiple.
                let pad = BLOCK - (body_len % BLOCK);
                let mut buf = Vec::with_capacity(BLOCK + body_len + pad);
                let mut iv = [0u8; BLOCK];
                random(&mut iv);
                buf.extend_from_slice(&iv);
                buf.extend_from_slice(plaintext);
                buf.extend_from_slice(&tag);
                buf.resize(BLOCK + body_len + pad, (pad - 1) as u8);
                let n = buf.len() - BLOCK;
                let enc = cbc::Encryptor::<Aes128>::new(key.into(), (&iv).into());
                let _ = enc.encrypt_padded_mut::<NoPadding>(&mut buf[BLOCK..], n);
                buf
            }
        }
    }

    /// Opens one record; `Err(BadRecord)` for any failure, without saying
    /// which (padding and MAC failures look the same).
    pub fn open(
        &self,
        seq: u64,
        content_type: u8,
        version: u16,
        fragment: &[u8],
    ) -> Result<Vec<u8>, BadRecord> {
        match self {
            RecordCipher::Ccm8 { aead, salt } => {
                if fragment.len() < CCM_EXPLICIT_NONCE + CCM_TAG {
                    return Err(BadRecord);
                }
                let (explicit, sealed) = fragment.split_at(CCM_EXPLICIT_NONCE);
                let nonce = ccm_nonce(salt, explicit);
                let aad = additional_data(seq, content_type, version, sealed.len() - CCM_TAG);
                aead.decrypt(
                    (&nonce).into(),
                    Payload {
                        msg: sealed,
                        aad: &aad,
                    },
                )
                .map_err(|_| BadRecord)
            }
            RecordCipher::CbcSha256 { key, mac_key } => {
                use cbc::cipher::{block_padding::NoPadding, BlockDecryptMut, KeyIvInit};
                if fragment.len() < BLOCK + MAC_LEN + BLOCK || fragment.len() % BLOCK != 0 {
                    return Err(BadRecord);
                }
                let (iv, ct) = fragment.split_at(BLOCK);
                let mut buf = ct.to_vec();
                let dec = cbc::Decryptor::<Aes128>::new(key.into(), iv.into());
                dec.decrypt_padded_mut::<NoPadding>(&mut buf)
                    .map_err(|_| BadRecord)?;
                let checked = open_cbc_constant_time(mac_key, seq, content_type, version, &buf);
                match checked {
                    Some(content_len) => {
                        buf.truncate(content_len);
                        Ok(buf)
                    }
                    None => Err(BadRecord),
                }
            }
        }
    }
}

/// Largest CBC padding (RFC 5246 §6.2.3.2: up to 255 bytes plus the length byte).
const MAX_PADDING: usize = 256;
/// SHA-256's block, the unit of its work.
const SHA256_BLOCK: usize = 64;

/// SHA-256 compressions for an HMAC inner hash over `len` bytes of
/// additional data and content (the key block, the data, then at least 9
/// bytes of length padding).
fn inner_hash_blocks(len: usize) -> usize {
    (SHA256_BLOCK + len + 9).div_ceil(SHA256_BLOCK)
}

/// Checks a decrypted CBC record (`content ‖ MAC ‖ padding ‖ length`) in
/// time that does not depend on the padding or on where the MAC failed
/// (Lucky13, AlFardan and Paterson 2013), and returns the content length.
///
/// * The padding is checked with a mask over the largest padding possible,
///   whatever the length byte says.
/// * The MAC is computed over the content the padding implies, then dummy
///   SHA-256 compressions bring the total to what the longest possible
///   content costs (the equalisation s2n uses), so a short content (long
///   padding) costs as much as a long one.
/// * The received MAC is gathered from every position it could start at,
///   so where it sits does not show in memory accesses, and compared with
///   `subtle`.
fn open_cbc_constant_time(
    mac_key: &[u8; 32],
    seq: u64,
    content_type: u8,
    version: u16,
    buf: &[u8],
) -> Option<usize> {
    use subtle::{Choice, ConditionallySelectable, ConstantTimeGreater};
    let n = buf.len();
    // The caller guarantees n ≥ MAC_LEN + BLOCK.
    let pad = buf[n - 1] as u32;
    // The padding fits: pad + 1 + MAC_LEN ≤ n.
    let room = (n - 1 - MAC_LEN) as u32;
    let fits = !pad.ct_gt(&room);
    // When it does not fit, carry on as if it were zero (same work).
    let pad = u32::conditional_select(&0, &pad, fits);
    // Every byte of the largest possible padding, included when it is
    // within `pad`.
    let mut padding_ok = fits;
    let scan = (MAX_PADDING - 1).min(n - 1);
    for i in 0..scan {
        let b = buf[n - 2 - i] as u32;
        let inside = (pad).ct_gt(&(i as u32));
        let same = b.ct_eq(&pad);
        padding_ok &= !inside | same;
    }
    let content_len = n - 1 - pad as usize - MAC_LEN;
    let max_content = n - 1 - MAC_LEN;

    let aad = additional_data(seq, content_type, version, content_len);
    let mut m = <HmacSha256 as Mac>::new_from_slice(mac_key).expect("HMAC takes any key length");
    m.update(&aad);
    m.update(&buf[..content_len]);
    let tag = m.finalize().into_bytes();
    // Dummy compressions: as many as the longest content would have cost.
    let extra =
        inner_hash_blocks(aad.len() + max_content) - inner_hash_blocks(aad.len() + content_len);
    let mut state = [0u32; 8];
    let block = sha2::digest::generic_array::GenericArray::from([0u8; SHA256_BLOCK]);
    for _ in 0..extra {
        sha2::compress256(&mut state, std::slice::from_ref(&block));
    }
    std::hint::black_box(&state);

    // The received MAC, gathered from every offset it could start at.
    let mut received = [0u8; MAC_LEN];
    let lowest = max_content.saturating_sub(MAX_PADDING - 1);
    for start in lowest..=max_content {
        let here = (start as u64).ct_eq(&(content_len as u64));
        for (k, r) in received.iter_mut().enumerate() {
            r.conditional_assign(&buf[start + k], here);
        }
    }
    let mac_ok = tag.as_slice().ct_eq(&received);
    let ok: Choice = mac_ok & padding_ok;
    bool::from(ok).then_some(content_len)
}

fn ccm_nonce(salt: &[u8; 4], explicit: &[u8]) -> [u8; 12] {
    let mut n = [0u8; 12];
    n[..4].copy_from_slice(salt);
    n[4..].copy_from_slice(&explicit[..8]);
    n
}

/// `seq_num ‖ type ‖ version ‖ length` (RFC 5246 §6.2.3.1 / §6.2.3.3).
fn additional_data(seq: u64, content_type: u8, version: u16, len: usize) -> [u8; 13] {
    let mut a = [0u8; 13];
    a[..8].copy_from_slice(&seq.to_be_bytes());
    a[8] = content_type;
    a[9..11].copy_from_slice(&version.to_be_bytes());
    a[11..13].copy_from_slice(&(len as u16).to_be_bytes());
    a
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(suite: Suite) -> TrafficKeys {
        let block: Vec<u8> = (0..TrafficKeys::block_len(suite) as u8).collect();
        TrafficKeys::from_key_block(suite, &block).unwrap()
    }

    fn rnd(b: &mut [u8]) {
        b.fill(0x5a)
    }

    #[test]
    fn seal_open_round_trip_and_tamper() {
        for suite in Suite::ALL {
            let k = keys(suite);
            assert!(k.fits(suite));
            let w = RecordCipher::new(suite, &k, Role::Client);
            let r = RecordCipher::new(suite, &k, Role::Client);
            let other = RecordCipher::new(suite, &k, Role::Server);
            for len in [0usize, 1, 15, 16, 17, 31, 32, 100, 1000] {
                let msg: Vec<u8> = (0..len).map(|i| i as u8).collect();
                let ct = w.seal(7, 23, 0xFEFD, &msg, &mut rnd);
                assert!(ct.len() <= msg.len() + w.overhead());
                assert_eq!(r.open(7, 23, 0xFEFD, &ct).unwrap(), msg);
                assert!(r.open(8, 23, 0xFEFD, &ct).is_err(), "wrong seq");
                assert!(r.open(7, 22, 0xFEFD, &ct).is_err(), "wrong type");
                assert!(other.open(7, 23, 0xFEFD, &ct).is_err(), "wrong key");
                for i in 0..ct.len() {
                    let mut t = ct.clone();
                    t[i] ^= 1;
                    assert!(r.open(7, 23, 0xFEFD, &t).is_err(), "{suite:?} flip {i}");
                }
                for n in 0..ct.len() {
                    assert!(r.open(7, 23, 0xFEFD, &ct[..n]).is_err());
                }
            }
        }
    }

    /// RFC 6655 CCM-8 nonce and AAD layout, checked against an independent
    /// AES-CCM computation with the same parameters.
    #[test]
    fn ccm8_layout() {
        let suite = Suite::PskAes128Ccm8;
        let k = keys(suite);
        let c = RecordCipher::new(suite, &k, Role::Server);
        let ct = c.seal(0x0001_0000_0000_0002, 22, 0xFEFD, b"finished", &mut rnd);
        assert_eq!(&ct[..8], &[0, 1, 0, 0, 0, 0, 0, 2]);
        let aead = Ccm8::new((&k.server_write_key).into());
        let mut nonce = [0u8; 12];
        nonce[..4].copy_from_slice(&k.server_write_iv);
        nonce[4..].copy_from_slice(&ct[..8]);
        let aad = [0, 1, 0, 0, 0, 0, 0, 2, 22, 0xFE, 0xFD, 0, 8];
        let pt = aead
            .decrypt(
                (&nonce).into(),
                Payload {
                    msg: &ct[8..],
                    aad: &aad,
                },
            )
            .unwrap();
        assert_eq!(pt, b"finished");
    }

    /// A CBC record with `pad` padding bytes (all equal to `pad`) and the
    /// content length that makes it whole blocks, encrypted by hand.
    fn cbc_record(
        k: &TrafficKeys,
        pad: usize,
        tamper: impl Fn(&mut Vec<u8>),
    ) -> (Vec<u8>, Vec<u8>) {
        use cbc::cipher::{block_padding::NoPadding, BlockEncryptMut, KeyIvInit};
        let content_len = 64 + (BLOCK - (64 + MAC_LEN + pad + 1) % BLOCK) % BLOCK;
        let content: Vec<u8> = (0..content_len).map(|i| i as u8).collect();
        let mut m = <HmacSha256 as Mac>::new_from_slice(&k.client_write_mac_key).unwrap();
        m.update(&additional_data(3, 23, 0x0303, content_len));
        m.update(&content);
        let mut body = content.clone();
        body.extend_from_slice(&m.finalize().into_bytes());
        body.extend(std::iter::repeat_n(pad as u8, pad + 1));
        tamper(&mut body);
        assert_eq!(body.len() % BLOCK, 0);
        let iv = [9u8; BLOCK];
        let n = body.len();
        cbc::Encryptor::<Aes128>::new((&k.client_write_key).into(), (&iv).into())
            .encrypt_padded_mut::<NoPadding>(&mut body, n)
            .unwrap();
        let mut record = iv.to_vec();
        record.extend_from_slice(&body);
        (record, content)
    }

    #[test]
    fn cbc_accepts_every_padding_length_and_refuses_bad_padding() {
        let suite = Suite::PskAes128CbcSha256;
        let k = keys(suite);
        let r = RecordCipher::new(suite, &k, Role::Client);
        for pad in [0usize, 1, 2, 15, 16, 17, 100, 200, 254, 255] {
            let (record, content) = cbc_record(&k, pad, |_| {});
            assert_eq!(
                r.open(3, 23, 0x0303, &record).unwrap(),
                content,
                "pad {pad}"
            );
            // One wrong padding byte, anywhere in the padding.
            for at in [0, pad / 2, pad.saturating_sub(1)] {
                if pad == 0 {
                    break;
                }
                let (bad, _) = cbc_record(&k, pad, |b| {
                    let n = b.len();
                    b[n - 2 - at] ^= 0x01;
                });
                assert!(r.open(3, 23, 0x0303, &bad).is_err(), "pad {pad} at {at}");
            }
            // A MAC byte flipped under good padding.
            let (bad, _) = cbc_record(&k, pad, |b| {
                let n = b.len();
                b[n - 1 - pad - 1] ^= 0x80;
            });
            assert!(r.open(3, 23, 0x0303, &bad).is_err(), "pad {pad} MAC");
        }
        // A length byte larger than the record can hold.
        let (bad, _) = cbc_record(&k, 0, |b| {
            let n = b.len();
            b[n - 1] = 255;
        });
        assert!(r.open(3, 23, 0x0303, &bad).is_err());
    }

    #[test]
    fn sha256_compressions_are_counted_as_sha256_does() {
        // The top-up for any padding stays small (a few compressions).
        for n in (MAC_LEN + BLOCK..2048).step_by(BLOCK) {
            let max_content = n - 1 - MAC_LEN;
            let target = inner_hash_blocks(13 + max_content);
            for pad in 0..=255usize.min(max_content) {
                let content = max_content - pad;
                let extra = target - inner_hash_blocks(13 + content);
                assert!(extra <= 5, "n {n} pad {pad}: {extra}");
            }
        }
        // And the count matches SHA-256's: 64 key bytes + 13 + L + 9, rounded up.
        assert_eq!(inner_hash_blocks(13 + 42), 2);
        assert_eq!(inner_hash_blocks(13 + 43), 3);
    }
}
