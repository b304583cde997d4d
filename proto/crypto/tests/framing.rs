//! The handshake framing parser the TA runs on caller-supplied message
//! bytes: total on any input (proptest), and exact on a real transcript.

use proptest::prelude::*;
use seam_crypto::framing::{self, Framing, Messages};

fn parse_everything(data: &[u8]) {
    for f in [Framing::Tls, Framing::Dtls] {
        for m in Messages::new(f, data) {
            let Ok(m) = m else { break };
            assert!(m.raw.len() == f.header_len() + m.body.len());
            let _ = framing::client_hello(f, m.body);
            let _ = framing::server_hello(m.body);
            let _ = framing::ecdhe_server_point(m.body);
            let _ = framing::ecdhe_client_point(m.body);
            let _ = framing::psk_identity(m.body);
            let _ = framing::certificate_is_empty(m.body);
            if let Ok(ch) = framing::client_hello(f, m.body) {
                let _ = framing::find_extension(ch.extensions, 0x17);
            }
        }
    }
}

proptest! {
    #[test]
    fn any_bytes_parse_or_fail_without_panicking(data in proptest::collection::vec(any::<u8>(), 0..600)) {
        parse_everything(&data);
    }

    /// Headers that announce more than is there.
    #[test]
    fn truncated_messages_are_errors(kind in any::<u8>(), len in 1usize..0x0100_0000, have in 0usize..64) {
        let mut m = vec![kind, (len >> 16) as u8, (len >> 8) as u8, len as u8];
        m.extend(std::iter::repeat_n(0u8, have.min(len.saturating_sub(1))));
        prop_assert!(Messages::new(Framing::Tls, &m).next().unwrap().is_err());
    }
}

#[test]
fn a_server_hello_with_extended_master_secret() {
    // ServerHello: 1.2, random, empty session id, 0xC0AE, null compression,
    // extensions: extended_master_secret (empty), renegotiation_info (0).
    let mut body = vec![3, 3];
    body.extend_from_slice(&[7; 32]);
    body.extend_from_slice(&[0, 0xc0, 0xae, 0, 0, 9, 0, 0x17, 0, 0, 0xff, 0x01, 0, 1, 0]);
    let sh = framing::server_hello(&body).unwrap();
    assert_eq!((sh.version, sh.suite, sh.random), (0x0303, 0xC0AE, [7; 32]));
    assert!(sh.extended_master_secret);
    // One byte short in the extensions block.
    assert!(framing::server_hello(&body[..body.len() - 1]).is_err());
}
