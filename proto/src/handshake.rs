//! Handshake sessions and key derivations: the TA side of (D)TLS 1.2 and
//! TLS 1.3 handshakes, and the TS-0003 §10.3 derivations from stored keys
//! into stored keys.
//!
//! # Handshake sessions (protocol version 2)
//!
//! A host-side engine drives the protocol; the TA performs every step that
//! touches a secret **and owns what makes the handshake its own**: it
//! chooses its side's random and its ephemeral P-256 key, and it hashes the
//! transcript itself from the handshake message bytes the caller passes in
//! (the caller never passes a hash or a hash midstate to the (D)TLS 1.2
//! operations). What the TA signs is computed inside from what it saw and
//! generated:
//! * a ServerKeyExchange signature covers `client_random ‖ server_random ‖
//!   ServerECDHParams` where the server random and the point are the TA's own;
//! * a TLS 1.2 CertificateVerify covers a transcript that the TA parsed
//!   and checked: it begins with a ClientHello carrying the TA's random
//!   (seam's engine) or ends with a ClientKeyExchange carrying the TA's
//!   fresh ephemeral key (rustls);
//! * a TLS 1.3 CertificateVerify (rustls only) must be the RFC 8446 §4.4.3
//!   content: 64 spaces, the context string of the session's role, 0x00,
//!   a 32-byte hash, once per session, after the handshake keys.
//!
//! So a `handshake` grant never yields a signature over data the caller
//! chose, and a co-grantee replaying another caller's public values gets
//! other keys (the TA's random and ephemeral key are fresh).
//!
//! ## seam's (D)TLS 1.2 engine: two invocations per handshake
//!
//! | role | 1st invocation | 2nd invocation |
//! |---|---|---|
//! | client, all four suites | [`HandshakeOp::ClientOpen`] → random (+ ECDHE public key) | [`HandshakeOp::ClientFinish`] with ClientHello … ClientKeyExchange → key block, CertificateVerify, Finished, the server's expected verify_data |
//! | server, all four suites | [`HandshakeOp::ServerOpen`] with the ClientHello → random (+ ECDHE public key and ServerKeyExchange signature) | [`HandshakeOp::ServerFinish`] with ClientHello … ClientKeyExchange [… CertificateVerify] → key block, the client's expected verify_data, our Finished |
//!
//! The finish operations take every handshake message as it enters the
//! transcript (with its TLS or DTLS header; DTLS: without the first
//! ClientHello and the HelloVerifyRequest, RFC 6347 §4.2.1), and the TA
//! checks them: the ClientHello carries the TA's random (client) or is the
//! one the session was opened with (server), the ServerHello's suite is one
//! the session allows (and carries the TA's random, server), the
//! ServerKeyExchange (server) and ClientKeyExchange (client) carry the TA's
//! point, extended_master_secret is used when the ServerHello has it. The
//! engine compares the peer's Finished with the expected verify_data in
//! constant time; it verifies the peer's certificate and signatures
//! (public values) itself. Retransmissions never call the TA.
//!
//! ## rustls: the step interface
//!
//! rustls asks for each secret value separately, so its provider uses
//! [`HandshakeOp::Open`] (an ECDHE session: the TA's key share) and
//! [`HandshakeOp::Steps`] (up to [`MAX_STEPS`] [`Step`]s per invocation),
//! and [`HandshakeOp::Tls12SignCertificateVerify`] for a TLS 1.2 client
//! certificate. Every session is ECDHE with a fresh TA key. See
//! `seam_rustls` for the invocations per handshake and why.
//!
//! ## What leaves the TA
//!
//! Randoms and public keys, signatures over the contents above, traffic
//! keys and IVs (the key block), Finished messages and verify_data, and
//! exporter outputs for labels other than the oneM2M ones. Never: PSKs,
//! private keys, ECDH shared secrets, premaster / master / handshake /
//! traffic secrets, Finished keys, and the oneM2M exporter outputs (they
//! become stored keys with [`Step::ExportKey`]).
//!
//! ## Rules the TA enforces
//!
//! * **Grants.** Opening any session needs a `HANDSHAKE` grant on every
//!   credential it names (at least one; all in one SE). The session records
//!   the SE's instance and the objects; every later invocation re-reads the
//!   SE and refuses (and wipes the session) with `HandshakeRevoked` if the
//!   SE was retired or recreated, an object deleted, or a grant revoked.
//!   Admin and issuer commands also wipe the sessions they invalidate.
//!   `ExportKey` writes only into that same SE instance.
//! * **Quotas.** A caller (a client UUID) holds at most
//!   [`MAX_HANDSHAKES_PER_CALLER`] sessions: opening one more wipes its own
//!   oldest, never another caller's. The sessions bound to one SE are at
//!   most [`MAX_HANDSHAKES_PER_SE`] (beyond that `LimitReached`), and the
//!   table holds [`MAX_HANDSHAKES`] = one SE quota for every SE the node can
//!   hold: whatever one uid and its groups do with their grants in one
//!   stakeholder's SE, every other stakeholder's SE keeps all its slots.
//! * **Time.** A session lives [`HANDSHAKE_LIFETIME_MS`] from its opening,
//!   by the platform's clock (`TEE_GetSystemTime` in the TA), and runs at
//!   most [`MAX_SESSION_STEPS`] steps. Nobody else's traffic ages it.
//! * **Ownership.** A session is visible only to the caller that opened it
//!   (others get `UnknownHandshake`); the TA wipes a caller's sessions when
//!   its last TEE session closes.
//! * **Failure wipes.** Any failing operation on a session wipes it (its
//!   secrets are zeroized).

use heapless::{String, Vec};
use serde::{Deserialize, Serialize};

use crate::{Digest, HeapVec, KeyRef, Name, ObjectInfo, PublicKey, Signature, Suid, MAX_SES};

/// Sessions one caller holds at most; opening another wipes its oldest.
pub const MAX_HANDSHAKES_PER_CALLER: usize = 4;
/// Sessions bound to one SE's credentials at most.
pub const MAX_HANDSHAKES_PER_SE: usize = 8;
/// Sessions the TA holds at most: a full quota for every SE.
pub const MAX_HANDSHAKES: usize = MAX_SES * MAX_HANDSHAKES_PER_SE;
/// Milliseconds a session lives after it was opened (a DTLS handshake that
/// retransmits to its limit fits; rustls's TLS 1.3 key updates after this
/// fail).
pub const HANDSHAKE_LIFETIME_MS: u64 = 300_000;
/// Steps one invocation carries at most.
pub const MAX_STEPS: usize = 4;
/// Steps one session runs at most over its life (TLS 1.3 key updates count).
pub const MAX_SESSION_STEPS: u16 = 32;
/// Largest TLS 1.2 key block that may be asked for (the suites here need
/// at most 96: AES-128-CBC-SHA256's 2·32 + 2·16).
pub const MAX_KEY_BLOCK: usize = 128;
/// Largest exporter output that may leave the TA.
pub const MAX_EXPORT: usize = 1024;
/// Longest exporter label.
pub const MAX_LABEL: usize = 64;
/// Longest RFC 5705 exporter context.
pub const MAX_CONTEXT: usize = 256;
/// Largest handshake message the TA builds (a DTLS CertificateVerify:
/// 12-byte header, 2-byte scheme, 2-byte length, DER signature ≤ 72).
pub const MAX_HS_MESSAGE: usize = 96;
/// Largest transcript (handshake messages with their headers) a finish
/// operation carries: room for certificate chains of a few kilobytes.
pub const MAX_TRANSCRIPT: usize = 8 * 1024;
/// Largest ClientHello message a server session opens with.
pub const MAX_CLIENT_HELLO: usize = 1024;
/// Cipher suites a client session may allow.
pub const MAX_SUITES: usize = 8;
/// Longest PSK identity (RFC 4279 allows 2^16-1; oneM2M KpsaIDs are short).
pub const MAX_PSK_IDENTITY: usize = 128;
/// PSKs a server session may choose from by the client's identity.
pub const MAX_PSK_CANDIDATES: usize = 4;
/// Longest oneM2M identifier in a derivation (MAF-ID, Enrolee-B-ID, …).
pub const MAX_IDENTIFIER: usize = 128;
/// Longest salt or random value in a derivation.
pub const MAX_DERIVE_INPUT: usize = 64;
/// A TLS 1.3 CertificateVerify content: 64 spaces, a 33-byte context
/// string, 0x00, a SHA-256 hash.
pub const TLS13_CV_CONTENT: usize = 64 + 33 + 1 + 32;

/// The (D)TLS 1.2 suites of the two-invocation operations (TS-0003 §10.2).
pub mod suites {
    pub const TLS_PSK_WITH_AES_128_CBC_SHA256: u16 = 0x00AE;
    pub const TLS_PSK_WITH_AES_128_CCM_8: u16 = 0xC0A8;
    pub const TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256: u16 = 0xC023;
    pub const TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8: u16 = 0xC0AE;

    /// `(is PSK, key block length)` of a suite the TA runs, or None.
    pub const fn info(suite: u16) -> Option<(bool, u8)> {
        match suite {
            // 2 MAC keys (32), 2 AES keys (16); CBC IVs are explicit per
            // record in TLS 1.2 (RFC 5246 §6.3, §6.2.3.2)
            TLS_PSK_WITH_AES_128_CBC_SHA256 => Some((true, 96)),
            TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256 => Some((false, 96)),
            // 2 AES keys (16), 2 implicit nonces (4) — RFC 6655 §3
            TLS_PSK_WITH_AES_128_CCM_8 => Some((true, 40)),
            TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8 => Some((false, 40)),
            _ => None,
        }
    }
}

/// Which end of the handshake.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Role {
    Client,
    Server,
}

/// TLS 1.2 or DTLS 1.2 message framing (RFC 5246 §7.4, RFC 6347 §4.2.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Framing {
    Tls,
    Dtls,
}

/// A TA handshake session.
pub type SessionId = u64;

/// A PSK a server session may use, for the identity a client sends (an
/// empty identity matches any identity no other candidate names).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PskCandidate {
    pub identity: Vec<u8, MAX_PSK_IDENTITY>,
    pub key: KeyRef,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum HandshakeOp {
    /// (D)TLS 1.2 client, seam's engine. `suites`: the suites the
    /// ClientHello will offer (of [`suites`]). `psk`: needed iff a PSK suite
    /// is offered. `sign`: the P-256 key of our certificate (if the server
    /// asks for one); with ECDHE suites and no PSK it is also the
    /// credential that binds the session, so it is needed then. The TA
    /// chooses the client random and, if an ECDHE suite is offered, an
    /// ephemeral key. → [`HandshakeReply::ClientOpened`].
    ClientOpen {
        framing: Framing,
        suites: Vec<u16, MAX_SUITES>,
        psk: Option<KeyRef>,
        sign: Option<KeyRef>,
    },
    /// (D)TLS 1.2 client, after the server's flight and our
    /// ClientKeyExchange: `messages` = ClientHello … ClientKeyExchange as
    /// they enter the transcript. → [`HandshakeReply::ClientFinished`].
    ClientFinish {
        session: SessionId,
        messages: HeapVec<u8, MAX_TRANSCRIPT>,
    },
    /// (D)TLS 1.2 server, seam's engine, on the ClientHello (the message as
    /// it enters the transcript) and the suite the engine chose from it.
    /// PSK suites: the `psks` a client may use, by identity. ECDHE suites:
    /// `sign`, our certificate's key. → [`HandshakeReply::ServerOpened`].
    ServerOpen {
        framing: Framing,
        suite: u16,
        client_hello: HeapVec<u8, MAX_CLIENT_HELLO>,
        psks: Vec<PskCandidate, MAX_PSK_CANDIDATES>,
        sign: Option<KeyRef>,
    },
    /// (D)TLS 1.2 server, after the client's ClientKeyExchange (and its
    /// Certificate and CertificateVerify, if any): `messages` = ClientHello
    /// … as they enter the transcript. → [`HandshakeReply::ServerFinished`].
    ServerFinish {
        session: SessionId,
        messages: HeapVec<u8, MAX_TRANSCRIPT>,
    },
    /// An ECDHE session for the step interface (rustls): the TA generates
    /// the ephemeral P-256 key. `credential`: a key the caller holds a
    /// `HANDSHAKE` grant on; the session is bound to it, and signs with it
    /// if it is a P-256 key. → [`HandshakeReply::Opened`].
    Open { role: Role, credential: KeyRef },
    /// Runs `steps` in order on the caller's session, all or nothing: the
    /// first failing step wipes the session and fails the request.
    /// → [`HandshakeReply::Steps`].
    Steps {
        session: SessionId,
        steps: Vec<Step, MAX_STEPS>,
    },
    /// TLS 1.2 client on the step interface, after the master secret: signs
    /// `messages` (every handshake message so far, TLS framing) as the
    /// CertificateVerify, if they parse as a transcript that starts with a
    /// ClientHello and ends with our ClientKeyExchange carrying the session's
    /// ephemeral key. One-shot. → `Reply::Signature` (`r ‖ s`).
    Tls12SignCertificateVerify {
        session: SessionId,
        messages: HeapVec<u8, MAX_TRANSCRIPT>,
    },
    /// Wipes the session. → `Reply::Done`.
    Close { session: SessionId },
}

/// One step of the step interface (ECDHE sessions from [`HandshakeOp::Open`]).
/// The protocol version is fixed by the first `Tls12*` or `Tls13*` step.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Step {
    /// TLS 1.2 server, before the master secret: signs `SHA-256(client_random
    /// ‖ server_random ‖ ServerECDHParams)` with the session's key, where the
    /// params are built inside from the session's own ephemeral key.
    /// → [`StepReply::Signature`]. One-shot.
    Tls12SignServerKeyExchange {
        client_random: [u8; 32],
        server_random: [u8; 32],
    },
    /// TLS 1.2: ECDH with `peer_public` and from it the master secret
    /// (RFC 5246 §8.1 or RFC 7627). → `Done`. One-shot.
    Tls12MasterSecret {
        peer_public: PublicKey,
        seed: MasterSeed,
    },
    /// TLS 1.2: the key block (`len` bytes, ≤ [`MAX_KEY_BLOCK`]).
    /// → [`StepReply::KeyBlock`]. One-shot, after the master secret.
    Tls12KeyBlock {
        client_random: [u8; 32],
        server_random: [u8; 32],
        len: u8,
    },
    /// TLS 1.2: Finished `verify_data` of `side` over the handshake hash
    /// `transcript`. → [`StepReply::VerifyData`] (12 bytes). Once per side.
    Tls12Finished { side: Role, transcript: Digest },
    /// TLS 1.2 RFC 5705 exporter, after both Finished: `len` bytes (≤
    /// [`MAX_EXPORT`]) for `label` and `context`, which leave. The oneM2M
    /// labels and the labels RFC 5246/7627 reserve are refused
    /// (`LabelNotAllowed`): use [`Step::ExportKey`].
    Tls12Export {
        label: Vec<u8, MAX_LABEL>,
        context: Option<Vec<u8, MAX_CONTEXT>>,
        len: u16,
    },
    /// TLS 1.3: ECDH with `peer_public`, handshake secret and both
    /// handshake traffic secrets over `transcript` = Hash(ClientHello ‖
    /// ServerHello); their keys (`key_len` 16 or 32) and IVs leave.
    /// → [`StepReply::TrafficKeys`]. One-shot.
    Tls13Handshake {
        peer_public: PublicKey,
        transcript: Digest,
        key_len: u8,
    },
    /// TLS 1.3: signs `content`, which must be a CertificateVerify content
    /// (RFC 8446 §4.4.3: 64 spaces, the context string of the session's
    /// role, 0x00, a 32-byte hash), with the session's key. One-shot,
    /// after `Tls13Handshake`. → [`StepReply::Signature`].
    Tls13SignCertificateVerify { content: Vec<u8, TLS13_CV_CONTENT> },
    /// TLS 1.3: Finished of `side` over `transcript`. → `VerifyData` (32
    /// bytes). Once per side, after `Tls13Handshake`.
    Tls13Finished { side: Role, transcript: Digest },
    /// TLS 1.3: master secret, both application traffic secrets and the
    /// exporter master secret over `transcript` (through server Finished);
    /// the traffic keys and IVs leave. → [`StepReply::TrafficKeys`].
    /// One-shot, after the server's Finished was computed.
    Tls13Application { transcript: Digest, key_len: u8 },
    /// TLS 1.3: the next application traffic secret of `side`.
    /// → [`StepReply::TrafficKey`].
    Tls13KeyUpdate { side: Role, key_len: u8 },
    /// TLS 1.3 exporter (RFC 8446 §7.5) after `Tls13Application`.
    Tls13Export {
        label: Vec<u8, MAX_LABEL>,
        context_hash: Digest,
        len: u16,
    },
    /// The oneM2M exporter (TS-0003 §10.3; RFC 5705 / RFC 8446 §7.5, no
    /// context), 48 bytes, kept inside: the 32 least significant (last)
    /// bytes become a new secret `object` in the SE instance the session
    /// was bound to; the 16 most significant (first) are the RelativeKeID,
    /// which leaves. Needs a completed handshake, the caller's `HANDSHAKE`
    /// grant on the session's credential at this moment, and a credential
    /// whose SUID use digit fits the label; `suid` is the SUID of the stored
    /// key where the caller chooses it (Kc: the one registered with the
    /// MAF), and must be absent otherwise (see [`OneM2mExport`]).
    /// → [`StepReply::ExportedKey`].
    ExportKey {
        label: OneM2mExport,
        object: Name,
        suid: Option<Suid>,
    },
}

/// The seed of the TLS 1.2 master secret.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum MasterSeed {
    /// RFC 5246 §8.1: label "master secret", seed client_random ‖ server_random.
    Randoms {
        client_random: [u8; 32],
        server_random: [u8; 32],
    },
    /// RFC 7627: label "extended master secret", seed the session hash.
    Extended { session_hash: Digest },
}

/// The oneM2M exporter labels (TS-0003 §10.3), the session each needs,
/// and the key it stores (our decisions where TS-0003 leaves them open):
///
/// | label | session's credential | stored key | its SUID | its role |
/// |---|---|---|---|---|
/// | `EXPORTER-oneM2M-Bootstrap` | use digit 0 (MEF) | Ke | the credential's (10 or 40) | `Bootstrap` |
/// | `EXPORTER-oneM2M-Connection` | use digit 1 (MAF) | Kc | the caller's `suid`, one of 32–35 | `Pairwise` for 33, else `Operational` |
/// | `EXPORTER-oneM2M-ESCertKE` | use digit 2, ECDHE-ECDSA session (no PSK) | pairwise E2E key | 43 | `Pairwise` |
///
/// The stored key expires no later than the session's credential.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum OneM2mExport {
    Bootstrap,
    Connection,
    EsCertKe,
}

impl OneM2mExport {
    pub const fn label(self) -> &'static str {
        match self {
            OneM2mExport::Bootstrap => "EXPORTER-oneM2M-Bootstrap",
            OneM2mExport::Connection => "EXPORTER-oneM2M-Connection",
            OneM2mExport::EsCertKe => "EXPORTER-oneM2M-ESCertKE",
        }
    }

    /// The SUID use digit the session's credential must have.
    pub const fn credential_use(self) -> u8 {
        match self {
            OneM2mExport::Bootstrap => 0,
            OneM2mExport::Connection => 1,
            OneM2mExport::EsCertKe => 2,
        }
    }
}

/// The SUID of a pairwise E2E key from `EXPORTER-oneM2M-ESCertKE`
/// (certificate-based, ESPrim).
pub const ESCERTKE_SUID: Suid = Suid::known(43);

/// One write key and IV.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrafficKey {
    pub key: Vec<u8, 32>,
    pub iv: [u8; 12],
}

/// A handshake message the TA built, with its TLS or DTLS header, exactly
/// as it enters the transcript: send it as it is.
pub type HsMessage = Vec<u8, MAX_HS_MESSAGE>;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum HandshakeReply {
    ClientOpened {
        session: SessionId,
        /// The ClientHello's random.
        random: [u8; 32],
        /// Our ephemeral P-256 key for the ClientKeyExchange, if an ECDHE
        /// suite was allowed.
        public: Option<PublicKey>,
    },
    ClientFinished {
        key_block: Vec<u8, MAX_KEY_BLOCK>,
        /// Present iff our Certificate message is not empty.
        certificate_verify: Option<HsMessage>,
        finished: HsMessage,
        /// The server's Finished must carry this (compare in constant time).
        expected_server_verify_data: [u8; 12],
    },
    ServerOpened {
        session: SessionId,
        /// The ServerHello's random.
        random: [u8; 32],
        /// ECDHE suites: our point and the ServerKeyExchange signature.
        ecdhe: Option<ServerEcdhe>,
    },
    ServerFinished {
        key_block: Vec<u8, MAX_KEY_BLOCK>,
        /// The client's Finished must carry this (compare in constant time).
        expected_client_verify_data: [u8; 12],
        /// Our Finished, over the transcript through the client's Finished.
        finished: HsMessage,
    },
    Opened {
        session: SessionId,
        /// The ephemeral P-256 public key.
        public: PublicKey,
    },
    Steps(Vec<StepReply, MAX_STEPS>),
}

/// A server's ECDHE share: the point (uncompressed SEC 1) and the
/// ServerKeyExchange signature (`r ‖ s`; TLS wants it DER-encoded).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerEcdhe {
    pub public: PublicKey,
    pub signature: Signature,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum StepReply {
    Done,
    /// An ECDSA signature, `r ‖ s` (TLS wants it DER-encoded).
    Signature(Signature),
    KeyBlock(Vec<u8, MAX_KEY_BLOCK>),
    VerifyData(Vec<u8, 32>),
    TrafficKeys {
        client: TrafficKey,
        server: TrafficKey,
    },
    TrafficKey(TrafficKey),
    Exported(HeapVec<u8, MAX_EXPORT>),
    ExportedKey {
        relative_id: [u8; 16],
        object: ObjectInfo,
    },
}

/// A TS-0003 §10.3 derivation from a stored key into a new stored key
/// (`HMAC-SHA-256` or HKDF-SHA-256), inside the TA. The caller needs a
/// `DERIVE` grant on `source` under its SUID; the new key is a secret in
/// the same SE, created by the caller, who gets the operations its SUID
/// allows on it. → `Reply::Derived` with status 2001 CREATED.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Derive {
    pub source: KeyRef,
    pub rule: Derivation,
    pub object: Name,
}

/// What to derive, and from what (our decisions where TS-0003 is silent:
/// identifiers are printable ASCII — for which NFKC is the identity — and
/// enter the HMAC as their bytes; the SUID of a usage-constrained key enters
/// as its two decimal digits in ASCII; random values enter as raw bytes,
/// receiver's first, without length prefixes; an HKDF salt is the caller's,
/// empty meaning RFC 5869's zeros).
///
/// | rule | source SUID use | output | new key's SUID |
/// |---|---|---|---|
/// | `Km` | `Bootstrap` role (Ke) | HMAC(Ke, "oneM2M Enrolment Key to Master Credential derivation" ‖ MAF-ID) | 21 |
/// | `Kpsa` | `Bootstrap` role (Ke) | HMAC(Ke, "oneM2M Enrolment Key to Provisioned Secure Connection Key derivation" ‖ Enrolee-B-ID) | 22 |
/// | `UsageConstrained` | `Bootstrap` role (Ke) | HMAC(Ke, "oneM2M Enrolment Key to Usage-Constrained Symmetric Key derivation" ‖ SUID ‖ Enrolment-Target-ID) | `suid` (tens digit 2) |
/// | `E2e` | 2 (Kpsa) | T(n) of the TS-0003 §10.3.6.2 chain over Ke2e_master = HMAC(salt, Kpsa), first `len` bytes | tens of source; use 3, 3, 5, 4 by key (Ke2e_msg_conf is `Pairwise`, the pairwise ESPrim key) |
/// | `SessionEsPrim` | `Pairwise` role, use 3 (pairwise ESPrim key) | HMAC(key, receiverRand ‖ originatorRand ‖ "oneM2M HMAC-SHA256 sessionESPrimKey derivation algorithm") | the source's |
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Derivation {
    Km {
        maf_id: String<MAX_IDENTIFIER>,
    },
    Kpsa {
        enrolee_id: String<MAX_IDENTIFIER>,
    },
    UsageConstrained {
        suid: Suid,
        target_id: String<MAX_IDENTIFIER>,
    },
    E2e {
        key: E2eKey,
        salt: Vec<u8, MAX_DERIVE_INPUT>,
        /// 16..=32 bytes: the first `len` bytes of the key's chain block.
        len: u8,
    },
    SessionEsPrim {
        receiver_rand: Vec<u8, MAX_DERIVE_INPUT>,
        originator_rand: Vec<u8, MAX_DERIVE_INPUT>,
    },
}

/// The four E2E keys derived from Ke2e_master (TS-0003 §10.3.6.2), in the
/// order of their chain: key `n` is T(n) = HMAC(Ke2e_master, T(n-1) ‖
/// label_n ‖ n), T(0) empty.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum E2eKey {
    MessageAuthentication,
    MessageConfidentiality,
    AttributeAuthenticity,
    AttributeConfidentiality,
}

impl E2eKey {
    /// Its position in the chain, 1..=4.
    pub const fn index(self) -> u8 {
        match self {
            E2eKey::MessageAuthentication => 1,
            E2eKey::MessageConfidentiality => 2,
            E2eKey::AttributeAuthenticity => 3,
            E2eKey::AttributeConfidentiality => 4,
        }
    }

    /// The keys in chain order.
    pub const CHAIN: [E2eKey; 4] = [
        E2eKey::MessageAuthentication,
        E2eKey::MessageConfidentiality,
        E2eKey::AttributeAuthenticity,
        E2eKey::AttributeConfidentiality,
    ];

    /// The label of its chain block.
    pub const fn info(self) -> &'static str {
        match self {
            E2eKey::MessageAuthentication => "E2E Message Authentication Key",
            E2eKey::MessageConfidentiality => "E2E Message Confidentiality Key",
            E2eKey::AttributeAuthenticity => "E2E Attribute Authenticity Key",
            E2eKey::AttributeConfidentiality => "E2E Attribute Confidentiality Key",
        }
    }

    /// The SUID use digit of the derived key.
    pub const fn use_digit(self) -> u8 {
        match self {
            E2eKey::MessageAuthentication | E2eKey::MessageConfidentiality => 3,
            E2eKey::AttributeAuthenticity => 5,
            E2eKey::AttributeConfidentiality => 4,
        }
    }
}

/// The SUID of a `Km` (remote provisioning, MAF).
pub const KM_SUID: Suid = Suid::known(21);
/// The SUID of a `Kpsa` (remote provisioning, (D)TLS).
pub const KPSA_SUID: Suid = Suid::known(22);

pub const KM_LABEL: &str = "oneM2M Enrolment Key to Master Credential derivation";
pub const KPSA_LABEL: &str = "oneM2M Enrolment Key to Provisioned Secure Connection Key derivation";
pub const USAGE_CONSTRAINED_LABEL: &str =
    "oneM2M Enrolment Key to Usage-Constrained Symmetric Key derivation";
pub const SESSION_ESPRIM_LABEL: &str = "oneM2M HMAC-SHA256 sessionESPrimKey derivation algorithm";
