//! Any bytes into the (D)TLS engine's message parsers: every handshake
//! message decoder for every suite and framing, the DTLS fragment header and
//! reassembly, record splitting, and the certificate / raw public key
//! parsers, and the TA's own transcript parser (`seam_crypto::framing`,
//! which takes apart the message bytes of a handshake session's finish
//! operation). Each must return a value or an error, never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use seam_crypto::framing;
use seam_dtls::handshake::{decode_any, FragmentHeader, Reader};
use seam_dtls::reassembly::Reassembler;
use seam_dtls::{cert, record, Suite};

fuzz_target!(|data: &[u8]| {
    let Some((&msg_type, body)) = data.split_first() else {
        return;
    };
    for suite in Suite::ALL {
        let _ = decode_any(msg_type, body, suite, true);
        let _ = decode_any(msg_type, body, suite, false);
    }
    // A handshake record's payload: fragments into a reassembler.
    let mut r = Reader::new(data);
    let mut reassembler = Reassembler::new();
    while let Ok((h, fragment)) = FragmentHeader::decode(&mut r) {
        let _ = reassembler.insert(&h, fragment);
        while reassembler.pop().is_some() {}
    }
    for f in [framing::Framing::Tls, framing::Framing::Dtls] {
        for m in framing::Messages::new(f, data).flatten() {
            let _ = framing::client_hello(f, m.body);
            let _ = framing::server_hello(m.body);
            let _ = framing::ecdhe_server_point(m.body);
            let _ = framing::ecdhe_client_point(m.body);
            let _ = framing::psk_identity(m.body);
            let _ = framing::certificate_is_empty(m.body);
        }
    }
    let _ = record::split_datagram(data);
    let _ = record::parse_tls(data);
    let _ = cert::raw_public_key(data);
    let _ = cert::leaf_public_key(data);
    let _ = cert::pem_certificates(&String::from_utf8_lossy(data));
});
