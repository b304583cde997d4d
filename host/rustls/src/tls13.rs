//! The TLS 1.3 key schedule (RFC 8446 §7.1) with every secret inside the TA.
//!
//! rustls drives the schedule through the generic `Hkdf` / `HkdfExpander`
//! traits. Secrets it would hold become tokens (see [`super::secrets`]), and
//! each call on a token is mapped onto the TA's typed steps by its
//! `HkdfLabel`:
//!
//! | rustls asks for | we answer with | TA step |
//! |---|---|---|
//! | Extract(derived₀, shared-secret token) | handshake-secret expander | — |
//! | "c hs traffic" / "s hs traffic" | tokens | `Tls13Handshake` (once) |
//! | "key" / "iv" of a traffic-secret token | the key / IV | — (cached) |
//! | "finished" of a handshake-traffic token | a finished-key token | — |
//! | HMAC(finished-key token, hash) | the verify_data | `Tls13Finished` |
//! | "derived" then Extract(token, 0) | master-secret expander | — |
//! | "c ap traffic" / "s ap traffic" / "exp master" | tokens | `Tls13Application` (once) |
//! | "traffic upd" of an application-traffic token | token | `Tls13KeyUpdate` |
//! | exporter (label, then "exporter") | the output | `Tls13Export` |
//! | "res master", "resumption" | dead tokens | — (resumption is refused) |
//!
//! Values that are public by construction (the early secret without a PSK
//! and its "derived" salt) and everything not involving a token use the
//! software HKDF of seam-core. The trait methods cannot fail: a refused step
//! yields random bytes, and the handshake fails at the next MAC check.

use std::sync::{Arc, OnceLock};

use rustls::crypto::hmac::Tag;
use rustls::crypto::tls13::{Hkdf, HkdfExpander, OkmBlock, OutputLengthError};
use rustls::crypto::CipherSuiteCommon;
use rustls::{SupportedCipherSuite, Tls13CipherSuite};
use seam_crypto::{kdf, mac};
use seam_proto::handshake::{Role, Step, StepReply, TrafficKey};
use seam_proto::Digest;
use zeroize::Zeroizing;

use super::secrets::{self, lock, side_index, Entry, Glue, Kind};

const HASH_LEN: usize = 32;

/// Our HKDF for one TLS 1.3 suite: `key_len` is its AEAD key length.
pub(crate) struct TaHkdf {
    key_len: u8,
}

pub(crate) static HKDF_AES_128: TaHkdf = TaHkdf { key_len: 16 };
pub(crate) static HKDF_CHACHA20: TaHkdf = TaHkdf { key_len: 32 };

/// HKDF over a PRK held here (public or non-TA values).
struct SoftExpander(Zeroizing<[u8; 32]>);

impl HkdfExpander for SoftExpander {
    fn expand_slice(&self, info: &[&[u8]], output: &mut [u8]) -> Result<(), OutputLengthError> {
        kdf::hkdf_expand(self.0.as_ref(), &info.concat(), output).map_err(|_| OutputLengthError)
    }

    fn expand_block(&self, info: &[&[u8]]) -> OkmBlock {
        let mut out = Zeroizing::new([0u8; HASH_LEN]);
        let _ = kdf::hkdf_expand(self.0.as_ref(), &info.concat(), out.as_mut());
        OkmBlock::new(out.as_ref())
    }

    fn hash_len(&self) -> usize {
        HASH_LEN
    }
}

/// An HkdfLabel (RFC 8446 §7.1): output length, label without "tls13 ",
/// context.
fn parse_label(info: &[&[u8]]) -> Option<(usize, Vec<u8>, Vec<u8>)> {
    let info = info.concat();
    let (len, rest) = info.split_at_checked(2)?;
    let (&label_len, rest) = rest.split_first()?;
    let (label, rest) = rest.split_at_checked(usize::from(label_len))?;
    let label = label.strip_prefix(b"tls13 ")?;
    let (&ctx_len, ctx) = rest.split_first()?;
    if ctx.len() != usize::from(ctx_len) {
        return None;
    }
    Some((
        usize::from(u16::from_be_bytes([len[0], len[1]])),
        label.to_vec(),
        ctx.to_vec(),
    ))
}

fn fill_random(output: &mut [u8]) {
    output.copy_from_slice(&secrets::random(output.len()));
}

fn dead(glue: &Arc<Glue>) -> OkmBlock {
    OkmBlock::new(&secrets::issue(glue, Kind::Dead, HASH_LEN))
}

fn token(glue: &Arc<Glue>, kind: Kind) -> OkmBlock {
    OkmBlock::new(&secrets::issue(glue, kind, HASH_LEN))
}

fn digest(ctx: &[u8]) -> Option<Digest> {
    Digest::try_from(ctx).ok()
}

fn traffic_keys(reply: StepReply) -> Option<[TrafficKey; 2]> {
    match reply {
        StepReply::TrafficKeys { client, server } => Some([client, server]),
        _ => None,
    }
}

/// Which stage of the schedule an expander over a TA secret is.
enum Stage {
    /// The handshake secret.
    Handshake,
    /// The master secret.
    Master,
    /// A token-named secret.
    Secret(Kind),
}

struct TaExpander {
    glue: Arc<Glue>,
    stage: Stage,
    key_len: u8,
}

impl TaExpander {
    fn fail(&self, why: String) -> OkmBlock {
        self.glue.inner.record_error(why);
        dead(&self.glue)
    }

    fn block(&self, label: &[u8], ctx: &[u8]) -> OkmBlock {
        let glue = &self.glue;
        match (&self.stage, label) {
            (Stage::Handshake, b"c hs traffic" | b"s hs traffic") => {
                let mut state = lock(&glue.state);
                if state.hs.is_none() {
                    let Some(transcript) = digest(ctx) else {
                        return self.fail("handshake hash not SHA-256".into());
                    };
                    let Some(peer_public) = state.peer else {
                        return self.fail("no peer key share".into());
                    };
                    let step = Step::Tls13Handshake {
                        peer_public,
                        transcript,
                        key_len: self.key_len,
                    };
                    match glue.step(step).ok().and_then(traffic_keys) {
                        Some(keys) => state.hs = Some(keys),
                        None => return dead(glue),
                    }
                }
                let side = if label == b"c hs traffic" {
                    Role::Client
                } else {
                    Role::Server
                };
                token(glue, Kind::HsTraffic(side))
            }
            (Stage::Handshake, b"derived") => token(glue, Kind::Derived),
            (Stage::Master, b"c ap traffic" | b"s ap traffic" | b"exp master") => {
                let mut state = lock(&glue.state);
                if state.app.is_none() {
                    let Some(transcript) = digest(ctx) else {
                        return self.fail("handshake hash not SHA-256".into());
                    };
                    // The client's Finished covers the same transcript
                    // unless the client authenticates: computed ahead, in
                    // the same invocation, on that guess.
                    let steps = vec![
                        Step::Tls13Application {
                            transcript,
                            key_len: self.key_len,
                        },
                        Step::Tls13Finished {
                            side: Role::Client,
                            transcript,
                        },
                    ];
                    let replies = lock(&glue.inner.client).handshake_steps(glue.session, steps);
                    let mut replies = match replies {
                        Ok(r) => r.into_iter(),
                        Err(e) => return self.fail(format!("application secrets: {e}")),
                    };
                    match replies.next().and_then(traffic_keys) {
                        Some(keys) => state.app = Some(keys),
                        None => return dead(glue),
                    }
                    if let Some(StepReply::VerifyData(vd)) = replies.next() {
                        state.finished_ahead[0] = Some((transcript.0, vd.to_vec()));
                    }
                }
                match label {
                    b"c ap traffic" => token(glue, Kind::ApTraffic(Role::Client, 0)),
                    b"s ap traffic" => token(glue, Kind::ApTraffic(Role::Server, 0)),
                    _ => token(glue, Kind::ExporterMaster),
                }
            }
            (Stage::Secret(Kind::HsTraffic(side)), b"finished") => {
                token(glue, Kind::FinishedKey(*side))
            }
            (Stage::Secret(Kind::ApTraffic(side, generation)), b"traffic upd") => {
                let step = Step::Tls13KeyUpdate {
                    side: *side,
                    key_len: self.key_len,
                };
                match glue.step(step) {
                    Ok(StepReply::TrafficKey(key)) => {
                        let next = generation + 1;
                        let mut state = lock(&glue.state);
                        state.updated.insert((side_index(*side), next), key);
                        state.generation[side_index(*side)] = next;
                        token(glue, Kind::ApTraffic(*side, next))
                    }
                    _ => dead(glue),
                }
            }
            (Stage::Secret(Kind::ExporterMaster), label) => {
                token(glue, Kind::ExporterSecret(label.to_vec()))
            }
            // "res master", "resumption", anything else: never produced.
            _ => dead(glue),
        }
    }

    fn slice(&self, len: usize, label: &[u8], ctx: &[u8], output: &mut [u8]) -> Result<(), String> {
        let glue = &self.glue;
        let Stage::Secret(kind) = &self.stage else {
            return Err("expand_slice on a schedule stage".into());
        };
        if let (Kind::ExporterSecret(exporter_label), b"exporter") = (kind, label) {
            let step = Step::Tls13Export {
                label: heapless::Vec::from_slice(exporter_label)
                    .map_err(|_| "exporter label too long")?,
                context_hash: digest(ctx).ok_or("exporter context hash not SHA-256")?,
                len: u16::try_from(output.len()).map_err(|_| "export too long")?,
            };
            return match glue.step(step) {
                Ok(StepReply::Exported(out)) if out.len() == output.len() => {
                    output.copy_from_slice(&out);
                    Ok(())
                }
                other => Err(format!("exporter: {other:?}")),
            };
        }
        let state = lock(&glue.state);
        let key = match kind {
            Kind::HsTraffic(side) => state.hs.as_ref().map(|k| &k[side_index(*side)]),
            Kind::ApTraffic(side, 0) => state.app.as_ref().map(|k| &k[side_index(*side)]),
            Kind::ApTraffic(side, generation) => {
                state.updated.get(&(side_index(*side), *generation))
            }
            _ => None,
        }
        .ok_or("no traffic key for this secret")?;
        // rustls asks for the AEAD key with a 32-byte buffer and the real
        // length in the label, then truncates.
        let value: &[u8] = match label {
            b"key" => &key.key,
            b"iv" => &key.iv,
            _ => return Err("only traffic keys and IVs leave".into()),
        };
        if value.len() != len || output.len() < len {
            return Err("traffic key of another length".into());
        }
        output.fill(0);
        output[..len].copy_from_slice(value);
        Ok(())
    }
}

impl HkdfExpander for TaExpander {
    fn expand_slice(&self, info: &[&[u8]], output: &mut [u8]) -> Result<(), OutputLengthError> {
        let r = match parse_label(info) {
            Some((len, label, ctx)) => self.slice(len, &label, &ctx, output),
            None => Err("not an HkdfLabel".into()),
        };
        if let Err(why) = r {
            self.glue.inner.record_error(why);
            fill_random(output);
        }
        Ok(())
    }

    fn expand_block(&self, info: &[&[u8]]) -> OkmBlock {
        match parse_label(info) {
            Some((HASH_LEN, label, ctx)) => self.block(&label, &ctx),
            _ => self.fail("expand_block: not a 32-byte HkdfLabel".into()),
        }
    }

    fn hash_len(&self) -> usize {
        HASH_LEN
    }
}

impl TaHkdf {
    fn expander(&self, entry: Entry) -> Box<dyn HkdfExpander> {
        Box::new(TaExpander {
            glue: entry.glue,
            stage: Stage::Secret(entry.kind),
            key_len: self.key_len,
        })
    }
}

impl Hkdf for TaHkdf {
    fn extract_from_zero_ikm(&self, salt: Option<&[u8]>) -> Box<dyn HkdfExpander> {
        match salt.and_then(secrets::lookup) {
            // Master Secret = HKDF-Extract(Derive-Secret(HS, "derived", ""), 0).
            Some(Entry {
                glue,
                kind: Kind::Derived,
            }) => Box::new(TaExpander {
                glue,
                stage: Stage::Master,
                key_len: self.key_len,
            }),
            // Early Secret = HKDF-Extract(0, 0) without a PSK: public.
            _ => self.extract_from_secret(salt, &[0u8; HASH_LEN]),
        }
    }

    fn extract_from_secret(&self, salt: Option<&[u8]>, secret: &[u8]) -> Box<dyn HkdfExpander> {
        match secrets::lookup(secret) {
            // Handshake Secret = HKDF-Extract(derived₀, ECDHE): in the TA.
            Some(Entry {
                glue,
                kind: Kind::Tls13Shared,
            }) => Box::new(TaExpander {
                glue,
                stage: Stage::Handshake,
                key_len: self.key_len,
            }),
            Some(entry) => self.expander(entry),
            None => Box::new(SoftExpander(kdf::hkdf_extract(salt.unwrap_or(&[]), secret))),
        }
    }

    fn expander_for_okm(&self, okm: &OkmBlock) -> Box<dyn HkdfExpander> {
        match secrets::lookup(okm.as_ref()) {
            Some(entry) => self.expander(entry),
            None => {
                let mut prk = Zeroizing::new([0u8; 32]);
                let n = okm.as_ref().len().min(32);
                prk[..n].copy_from_slice(&okm.as_ref()[..n]);
                Box::new(SoftExpander(prk))
            }
        }
    }

    fn hmac_sign(&self, key: &OkmBlock, message: &[u8]) -> Tag {
        match secrets::lookup(key.as_ref()) {
            Some(Entry {
                glue,
                kind: Kind::FinishedKey(side),
            }) => {
                let ahead = lock(&glue.state).finished_ahead[side_index(side)].clone();
                if let Some((h, vd)) = ahead {
                    if h[..] == *message {
                        return Tag::new(&vd);
                    }
                }
                let step =
                    digest(message).map(|transcript| Step::Tls13Finished { side, transcript });
                match step.map(|s| glue.step(s)) {
                    Some(Ok(StepReply::VerifyData(vd))) => Tag::new(&vd),
                    other => {
                        glue.inner.record_error(format!("finished: {other:?}"));
                        Tag::new(&secrets::random(HASH_LEN))
                    }
                }
            }
            Some(_) => Tag::new(&secrets::random(HASH_LEN)),
            None => Tag::new(&mac::hmac_sha256(key.as_ref(), &[message])),
        }
    }
}

fn with_ta_hkdf(base: SupportedCipherSuite, hkdf: &'static TaHkdf) -> Option<Tls13CipherSuite> {
    let SupportedCipherSuite::Tls13(s) = base else {
        return None;
    };
    Some(Tls13CipherSuite {
        common: CipherSuiteCommon {
            suite: s.common.suite,
            hash_provider: s.common.hash_provider,
            confidentiality_limit: s.common.confidentiality_limit,
        },
        hkdf_provider: hkdf,
        aead_alg: s.aead_alg,
        // QUIC would need the secrets themselves: not offered.
        quic: s.quic,
    })
}

/// TLS13_AES_128_GCM_SHA256 (ring's AEAD, our key schedule).
pub fn tls13_aes_128_gcm_sha256() -> SupportedCipherSuite {
    static S: OnceLock<Option<Tls13CipherSuite>> = OnceLock::new();
    let base = rustls::crypto::ring::cipher_suite::TLS13_AES_128_GCM_SHA256;
    match S.get_or_init(|| with_ta_hkdf(base, &HKDF_AES_128)) {
        Some(s) => SupportedCipherSuite::Tls13(s),
        None => base,
    }
}

/// TLS13_CHACHA20_POLY1305_SHA256 (ring's AEAD, our key schedule).
pub fn tls13_chacha20_poly1305_sha256() -> SupportedCipherSuite {
    static S: OnceLock<Option<Tls13CipherSuite>> = OnceLock::new();
    let base = rustls::crypto::ring::cipher_suite::TLS13_CHACHA20_POLY1305_SHA256;
    match S.get_or_init(|| with_ta_hkdf(base, &HKDF_CHACHA20)) {
        Some(s) => SupportedCipherSuite::Tls13(s),
        None => base,
    }
}
