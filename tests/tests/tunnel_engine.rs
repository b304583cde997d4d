//! What the tunnel needs from the (D)TLS engine, on the simulator: the
//! stateless cookie gate a DTLS server with many clients puts in front of
//! its connections, the PSK identity in the connection info, and oneM2M key
//! export from a live connection into the SE (both ends store the same key
//! under the same RelativeKeID; nothing secret comes out).

use std::time::Instant;

use seam::dtls::{
    Admission, Config, Connection, CookieGate, ExportLabel, Role, SeamSecrets, Suite,
    TaCredentials, Variant,
};
use seam::proto::{KeyRef, ObjectKind, Ops};
use seam::Client;
use seam_tests::{Device, Stakeholder, Who};

const PSK: [u8; 16] = *b"tunnel-test-PSK!";
const IDENTITY: &[u8] = b"cse-7@m2m.seam.test";

type Conn = Connection<SeamSecrets<Client>>;

/// An SE holding the PSK under `suid`, granted HANDSHAKE to this process.
fn psk_node(device: &Device, suid: u8) -> (Stakeholder<'_>, KeyRef) {
    let st = device.stakeholder("tunnel");
    device
        .client()
        .import_wrapped(
            &st.admin,
            &st.se,
            "psk",
            seam_tests::suid(suid),
            ObjectKind::Secret,
            &PSK,
        )
        .expect("importing the PSK");
    st.grant("psk", Who::Me, Ops::HANDSHAKE, suid);
    let key = st.key("psk", suid);
    (st, key)
}

fn pair(device: &Device, psk: &KeyRef, variant: Variant) -> (Conn, Config) {
    let mut client = Config::new(variant, vec![Suite::PskAes128Ccm8]);
    client.psk_identity = Some(IDENTITY.to_vec());
    let creds = TaCredentials {
        psk: Some(psk.clone()),
        ..Default::default()
    };
    let c = Connection::client(
        client,
        SeamSecrets::new(device.client(), creds),
        Instant::now(),
    );
    (c, Config::new(variant, vec![Suite::PskAes128Ccm8]))
}

fn server_creds(psk: &KeyRef) -> TaCredentials {
    TaCredentials {
        psk_by_identity: vec![(IDENTITY.to_vec(), psk.clone())],
        ..Default::default()
    }
}

/// Moves datagrams both ways until neither side has anything to send.
fn settle(c: &mut Conn, s: &mut Conn) {
    for _ in 0..32 {
        let mut moved = false;
        while let Some(d) = c.poll_output() {
            let _ = s.handle_input(&d, Instant::now());
            moved = true;
        }
        while let Some(d) = s.poll_output() {
            let _ = c.handle_input(&d, Instant::now());
            moved = true;
        }
        if !moved {
            return;
        }
    }
}

#[test]
fn cookie_gate_answers_without_state_and_admits_the_echo() {
    let device = Device::new();
    let (_st, psk) = psk_node(&device, 12);
    let (mut c, server_config) = pair(&device, &psk, Variant::Dtls);
    let gate = CookieGate::new(server_config.clone());
    let hello = c.poll_output().expect("a ClientHello");

    // A ClientHello without a cookie: a HelloVerifyRequest, nothing kept.
    let Admission::Answer(answer) = gate.check(&hello, Instant::now()) else {
        panic!("a cookie-less ClientHello must be answered");
    };
    assert_eq!(answer.len(), 1);
    assert_eq!(answer[0][0], 22, "a handshake record");
    assert_eq!(answer[0][13], 3, "a HelloVerifyRequest");
    // Garbage and non-ClientHello records are ignored.
    assert_eq!(gate.check(b"not dtls", Instant::now()), Admission::Ignore);
    assert_eq!(
        gate.check(
            &[23, 0xfe, 0xfd, 0, 1, 0, 0, 0, 0, 0, 1, 0, 0],
            Instant::now()
        ),
        Admission::Ignore
    );
    // The same gate answers a replayed hello with a cookie of another secret.
    let other = CookieGate::new(server_config.clone());

    c.handle_input(&answer[0], Instant::now()).unwrap();
    let echoed = c.poll_output().expect("the ClientHello with the cookie");
    let Admission::Admit {
        message_seq,
        record_seq,
    } = gate.check(&echoed, Instant::now())
    else {
        panic!("the echoed cookie must be admitted");
    };
    assert_eq!(message_seq, 1);
    assert!(
        matches!(other.check(&echoed, Instant::now()), Admission::Answer(_)),
        "a cookie is only valid under the secret that made it"
    );

    let mut s = gate.admit(
        server_config,
        SeamSecrets::new(device.client(), server_creds(&psk)),
        message_seq,
        record_seq,
        Instant::now(),
    );
    s.handle_input(&echoed, Instant::now()).unwrap();
    settle(&mut c, &mut s);
    assert!(c.is_established(), "client: {:?}", c.error());
    assert!(s.is_established(), "server: {:?}", s.error());
    assert_eq!(s.info().psk_identity.as_deref(), Some(IDENTITY));
    assert_eq!(c.info().psk_identity.as_deref(), Some(IDENTITY));
}

#[test]
fn both_ends_export_the_same_connection_key_into_the_se() {
    let device = Device::new();
    // SUID use digit 1 (MAF): the credential EXPORTER-oneM2M-Connection needs.
    let (st, psk) = psk_node(&device, 21);
    for variant in [Variant::Tls, Variant::Dtls] {
        let (mut c, mut server_config) = pair(&device, &psk, variant);
        server_config.cookie_exchange = false;
        let mut s = Connection::server(
            server_config,
            SeamSecrets::new(device.client(), server_creds(&psk)),
            Instant::now(),
        );
        settle(&mut c, &mut s);
        assert!(c.is_established() && s.is_established());
        let name = |side: &str| format!("kc-{side}-{variant:?}").to_lowercase();
        let from_client = c
            .export_key(ExportLabel::Connection { kc_suid: 35 }, &name("c"))
            .expect("client export");
        let from_server = s
            .export_key(ExportLabel::Connection { kc_suid: 35 }, &name("s"))
            .expect("server export");
        assert_eq!(from_client.relative_id, from_server.relative_id);
        assert_ne!(from_client.relative_id, [0; 16]);
        // Kc under the SUID registered with the MAF (35: it MACs), not 31.
        assert_eq!(from_client.suid, 35);
        assert_eq!(from_server.object, name("s"));
        // Same key inside: the same MAC under each.
        let mut cl = device.client();
        let tag = |cl: &mut Client, object: &str| {
            cl.mac(&st.key(object, 35), b"one key, two ends").unwrap()
        };
        assert_eq!(tag(&mut cl, &name("c")), tag(&mut cl, &name("s")));

        // A label the credential's SUID does not allow is refused.
        let refused = c.export_key(ExportLabel::Bootstrap, "ke");
        assert!(refused.is_err(), "Bootstrap export from a MAF PSK");
        // Once released, the session is gone: no more exports.
        s.secrets_mut().release();
        assert!(s
            .export_key(ExportLabel::Connection { kc_suid: 35 }, "late")
            .is_err());
    }
    let _ = Role::Client;
}
