//! The TLS 1.2 PRF (RFC 5246 §5) with the master secret inside the TA.
//!
//! `for_key_exchange` records the peer's point and the master secret's
//! seed and gives rustls a 48-byte token for the master secret; nothing is
//! asked of the TA yet. `for_secret` on that token: "key expansion" runs
//! the ECDH, the master secret (RFC 5246 §8.1 or RFC 7627) and the key
//! block in **one** invocation — and our side's Finished too when its hash
//! is already known (the EMS session hash when no CertificateVerify
//! follows, or the transcript through our CertificateVerify); a Finished
//! `verify_data` is then served from that, or asked for; any other label
//! is an exporter output (the oneM2M labels are refused there and must be
//! stored as keys with `Step::ExportKey`).
//!
//! `Prf::for_secret` cannot fail; if the TA refuses, the output is random
//! bytes, so the handshake fails at the Finished check (the reason is in
//! [`super::TaTls::last_error`]).

use std::sync::OnceLock;

use rustls::crypto::tls12::Prf;
use rustls::crypto::{ActiveKeyExchange, CipherSuiteCommon};
use rustls::{Error, SupportedCipherSuite, Tls12CipherSuite};
use seam_proto::handshake::{MasterSeed, Role, Step, StepReply};
use seam_proto::Digest;
use zeroize::Zeroizing;

use super::kx::peer_point;
use super::secrets::{self, lock, Kind};

pub(crate) struct TaPrf;

pub(crate) static PRF: TaPrf = TaPrf;

fn split_randoms(seed: &[u8]) -> Option<([u8; 32], [u8; 32])> {
    let first: [u8; 32] = seed.get(..32)?.try_into().ok()?;
    let second: [u8; 32] = seed.get(32..64)?.try_into().ok()?;
    Some((first, second))
}

impl Prf for TaPrf {
    fn for_key_exchange(
        &self,
        output: &mut [u8; 48],
        kx: Box<dyn ActiveKeyExchange>,
        peer_pub_key: &[u8],
        label: &[u8],
        seed: &[u8],
    ) -> Result<(), Error> {
        let glue = secrets::kx_for(kx.pub_key())
            .ok_or_else(|| Error::General("seam TA: key exchange not from the TA".into()))?;
        glue.claim();
        drop(kx);
        let peer = peer_point(peer_pub_key)?;
        let ems = label == b"extended master secret";
        let seed = match label {
            b"master secret" => {
                let (client_random, server_random) = split_randoms(seed)
                    .ok_or_else(|| Error::General("seam TA: bad master secret seed".into()))?;
                MasterSeed::Randoms {
                    client_random,
                    server_random,
                }
            }
            b"extended master secret" => MasterSeed::Extended {
                session_hash: Digest::try_from(seed)
                    .map_err(|_| Error::General("seam TA: session hash not SHA-256".into()))?,
            },
            _ => {
                return Err(Error::General(
                    "seam TA: unknown master secret label".into(),
                ))
            }
        };
        {
            let mut state = lock(&glue.state);
            state.peer = Some(peer);
            state.master_seed = Some(seed.clone());
            // Without a CertificateVerify, a client's Finished covers the
            // same messages as the EMS session hash.
            if let (true, MasterSeed::Extended { session_hash }) = (ems, &seed) {
                if !(glue.inner.role == Role::Client && state.signed) {
                    state.client_finished_hash.get_or_insert(session_hash.0);
                }
            }
        }
        output.copy_from_slice(&secrets::issue(&glue, Kind::Tls12Master, 48));
        Ok(())
    }

    fn for_secret(&self, output: &mut [u8], secret: &[u8], label: &[u8], seed: &[u8]) {
        let filled = match secrets::lookup(secret) {
            Some(e) if e.kind == Kind::Tls12Master => {
                let glue = e.glue;
                let r = match label {
                    b"key expansion" => key_block(&glue, output, seed),
                    b"client finished" | b"server finished" => {
                        let side = if label == b"client finished" {
                            Role::Client
                        } else {
                            Role::Server
                        };
                        verify_data(&glue, output, side, seed)
                    }
                    _ => export(&glue, output, label, seed),
                };
                if let Err(why) = &r {
                    glue.inner.record_error(why.clone());
                }
                r.is_ok()
            }
            _ => false,
        };
        if !filled {
            output.copy_from_slice(&secrets::random(output.len()));
        }
    }
}

fn key_block(glue: &secrets::Glue, output: &mut [u8], seed: &[u8]) -> Result<(), String> {
    let mut state = lock(&glue.state);
    if state.key_block.is_none() {
        // The key expansion seed is server_random ‖ client_random.
        let (server_random, client_random) = split_randoms(seed).ok_or("bad key expansion seed")?;
        let len = u8::try_from(output.len()).map_err(|_| "key block too long")?;
        let (Some(peer_public), Some(master_seed)) = (state.peer, state.master_seed.take()) else {
            return Err("key block before the key exchange".into());
        };
        let mut steps = vec![
            Step::Tls12MasterSecret {
                peer_public,
                seed: master_seed,
            },
            Step::Tls12KeyBlock {
                client_random,
                server_random,
                len,
            },
        ];
        // Our Finished (client) or the client's expected one (server), ahead.
        let ahead = state.client_finished_hash;
        if let Some(h) = ahead {
            steps.push(Step::Tls12Finished {
                side: Role::Client,
                transcript: Digest(h),
            });
        }
        let replies = lock(&glue.inner.client)
            .handshake_steps(glue.session, steps)
            .map_err(|e| format!("master secret and key block: {e}"))?;
        match replies.get(1) {
            Some(StepReply::KeyBlock(block)) => {
                state.key_block = Some(Zeroizing::new(block.to_vec()));
            }
            other => return Err(format!("key block: {other:?}")),
        }
        if let (Some(h), Some(StepReply::VerifyData(vd))) = (ahead, replies.get(2)) {
            state.finished_ahead[0] = Some((h, vd.to_vec()));
        }
    }
    match &state.key_block {
        Some(block) if block.len() == output.len() => {
            output.copy_from_slice(block);
            Ok(())
        }
        _ => Err("key block of another length".into()),
    }
}

fn verify_data(
    glue: &secrets::Glue,
    output: &mut [u8],
    side: Role,
    seed: &[u8],
) -> Result<(), String> {
    let transcript = Digest::try_from(seed).map_err(|_| "handshake hash not SHA-256")?;
    let i = secrets::side_index(side);
    if let Some((h, vd)) = &lock(&glue.state).finished_ahead[i] {
        if *h == transcript.0 && vd.len() == output.len() {
            output.copy_from_slice(vd);
            return Ok(());
        }
    }
    match glue.step(Step::Tls12Finished { side, transcript }) {
        Ok(StepReply::VerifyData(vd)) if vd.len() == output.len() => {
            output.copy_from_slice(&vd);
            Ok(())
        }
        other => Err(format!("verify_data: {other:?}")),
    }
}

fn export(
    glue: &secrets::Glue,
    output: &mut [u8],
    label: &[u8],
    seed: &[u8],
) -> Result<(), String> {
    // client_random ‖ server_random [‖ u16 length ‖ context]: the TA uses
    // the randoms it already has.
    let context = match seed.get(64..) {
        None | Some([]) => None,
        Some([_, _, ctx @ ..]) => {
            Some(heapless::Vec::from_slice(ctx).map_err(|_| "exporter context too long")?)
        }
        Some(_) => return Err("bad exporter seed".into()),
    };
    let step = Step::Tls12Export {
        label: heapless::Vec::from_slice(label).map_err(|_| "exporter label too long")?,
        context,
        len: u16::try_from(output.len()).map_err(|_| "exporter output too long")?,
    };
    match glue.step(step) {
        Ok(StepReply::Exported(out)) if out.len() == output.len() => {
            output.copy_from_slice(&out);
            Ok(())
        }
        other => Err(format!("exporter: {other:?}")),
    }
}

fn with_ta_prf(base: SupportedCipherSuite) -> Option<Tls12CipherSuite> {
    let SupportedCipherSuite::Tls12(s) = base else {
        return None;
    };
    Some(Tls12CipherSuite {
        common: CipherSuiteCommon {
            suite: s.common.suite,
            hash_provider: s.common.hash_provider,
            confidentiality_limit: s.common.confidentiality_limit,
        },
        kx: s.kx,
        sign: s.sign,
        aead_alg: s.aead_alg,
        prf_provider: &PRF,
    })
}

/// TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 (ring's AEAD, our PRF).
pub fn tls_ecdhe_ecdsa_with_aes_128_gcm_sha256() -> SupportedCipherSuite {
    static S: OnceLock<Option<Tls12CipherSuite>> = OnceLock::new();
    let base = rustls::crypto::ring::cipher_suite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256;
    match S.get_or_init(|| with_ta_prf(base)) {
        Some(s) => SupportedCipherSuite::Tls12(s),
        None => base,
    }
}

/// TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256 (ring's AEAD, our PRF).
pub fn tls_ecdhe_ecdsa_with_chacha20_poly1305_sha256() -> SupportedCipherSuite {
    static S: OnceLock<Option<Tls12CipherSuite>> = OnceLock::new();
    let base = rustls::crypto::ring::cipher_suite::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256;
    match S.get_or_init(|| with_ta_prf(base)) {
        Some(s) => SupportedCipherSuite::Tls12(s),
        None => base,
    }
}
