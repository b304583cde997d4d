//! Lucky13 check: AES-128-CBC + HMAC-SHA256 record decryption must take the
//! same time whether the padding is good, bad, or good with a bad MAC, and
//! whatever the padding length. Criterion times each case; then an
//! interleaved run (the cases alternate, so machine noise hits them alike)
//! prints each case's median time as a ratio to the valid, zero-padding
//! record. A ratio far from 1.0 means the padding or the MAC leaks timing.
//!
//! `cargo bench -p seam-dtls --bench record_cbc`

use std::hint::black_box;
use std::time::Instant;

use aes::Aes128;
use cbc::cipher::{block_padding::NoPadding, BlockEncryptMut, KeyIvInit};
use criterion::Criterion;
use hmac::{Hmac, Mac};
use seam_dtls::cipher::{RecordCipher, TrafficKeys};
use seam_dtls::{Role, Suite};
use sha2::Sha256;

const SUITE: Suite = Suite::PskAes128CbcSha256;
/// Bytes after the explicit IV: content ‖ MAC ‖ padding ‖ length byte.
const BODY: usize = 1024;
const SEQ: u64 = 3;

fn keys() -> TrafficKeys {
    let block: Vec<u8> = (0..TrafficKeys::block_len(SUITE) as u8).collect();
    TrafficKeys::from_key_block(SUITE, &block).unwrap()
}

/// A record of BODY bytes whose length byte says `pad`; `padding_byte` fills
/// the padding (equal to `pad` for a good one); `bad_mac` flips a MAC bit.
fn record(k: &TrafficKeys, pad: usize, padding_byte: u8, bad_mac: bool) -> Vec<u8> {
    let content_len = BODY - 1 - pad - 32;
    let content = vec![0x42u8; content_len];
    let mut aad = [0u8; 13];
    aad[..8].copy_from_slice(&SEQ.to_be_bytes());
    aad[8] = 23;
    aad[9..11].copy_from_slice(&0x0303u16.to_be_bytes());
    aad[11..].copy_from_slice(&(content_len as u16).to_be_bytes());
    let mut m = <Hmac<Sha256> as Mac>::new_from_slice(&k.client_write_mac_key).unwrap();
    m.update(&aad);
    m.update(&content);
    let mut body = content;
    body.extend_from_slice(&m.finalize().into_bytes());
    if bad_mac {
        body[content_len] ^= 1;
    }
    body.extend(std::iter::repeat_n(padding_byte, pad));
    body.push(pad as u8);
    let iv = [7u8; 16];
    cbc::Encryptor::<Aes128>::new((&k.client_write_key).into(), (&iv).into())
        .encrypt_padded_mut::<NoPadding>(&mut body, BODY)
        .unwrap();
    let mut out = iv.to_vec();
    out.extend_from_slice(&body);
    out
}

fn cases(k: &TrafficKeys) -> Vec<(&'static str, Vec<u8>, bool)> {
    vec![
        ("valid, no padding", record(k, 0, 0, false), true),
        (
            "valid, 255 bytes of padding",
            record(k, 255, 255, false),
            true,
        ),
        (
            "bad padding (length 255)",
            record(k, 255, 254, false),
            false,
        ),
        ("bad padding (length 128)", record(k, 128, 0, false), false),
        ("bad MAC, no padding", record(k, 0, 0, true), false),
        (
            "bad MAC, 255 bytes of padding",
            record(k, 255, 255, true),
            false,
        ),
    ]
}

fn bench(c: &mut Criterion, cipher: &RecordCipher, cases: &[(&'static str, Vec<u8>, bool)]) {
    let mut g = c.benchmark_group("cbc_sha256_open_1k");
    for (name, rec, _) in cases {
        g.bench_function(*name, |b| {
            b.iter(|| black_box(cipher.open(SEQ, 23, 0x0303, black_box(rec))).is_ok())
        });
    }
    g.finish();
}

/// Median ns per open for each case, the cases interleaved batch by batch.
fn interleaved_medians(cipher: &RecordCipher, cases: &[(&'static str, Vec<u8>, bool)]) -> Vec<f64> {
    const ROUNDS: usize = 301;
    const BATCH: u32 = 200;
    let mut samples = vec![Vec::with_capacity(ROUNDS); cases.len()];
    for _ in 0..ROUNDS {
        for (i, (_, rec, _)) in cases.iter().enumerate() {
            let t = Instant::now();
            for _ in 0..BATCH {
                black_box(cipher.open(SEQ, 23, 0x0303, black_box(rec)).is_ok());
            }
            samples[i].push(t.elapsed().as_nanos() as f64 / f64::from(BATCH));
        }
    }
    samples
        .into_iter()
        .map(|mut s| {
            s.sort_by(|a, b| a.total_cmp(b));
            s[s.len() / 2]
        })
        .collect()
}

fn main() {
    let k = keys();
    let cipher = RecordCipher::new(SUITE, &k, Role::Client);
    let cases = cases(&k);
    for (name, rec, valid) in &cases {
        assert_eq!(
            cipher.open(SEQ, 23, 0x0303, rec).is_ok(),
            *valid,
            "the {name} record is not what it claims"
        );
    }
    let mut c = Criterion::default().configure_from_args();
    bench(&mut c, &cipher, &cases);
    c.final_summary();

    let medians = interleaved_medians(&cipher, &cases);
    println!("\nCBC-SHA256 open of a {BODY}-byte record, interleaved medians:");
    for ((name, _, _), m) in cases.iter().zip(&medians) {
        println!(
            "  {name:<32} {m:>9.0} ns   ratio to valid/no padding {:.3}",
            m / medians[0]
        );
    }
}
