//! Handshake sessions and key derivations: the TA side of (D)TLS 1.2 and
//! TLS 1.3 handshakes, and the TS-0003 §10.3 derivations from stored keys
//! into stored keys.
//!
//! # Handshake sessions
//!
//! A host-side (D)TLS engine — seam's own, or rustls through `seam::tls` —
//! drives the protocol; the TA performs every step that touches a secret.
//! [`HandshakeOp::Open`] binds a new session to the caller and to its
//! credentials (a PSK and/or a P-256 signing key the caller holds a
//! `HANDSHAKE` grant on), and generates the ephemeral ECDHE key inside.
//! [`HandshakeOp::Steps`] then runs up to [`MAX_STEPS`] [`Step`]s in one TA
//! invocation, in order; the replies come back in the same order. What comes
//! out: public keys, signatures, traffic keys and IVs (the key block),
//! Finished `verify_data`, and exporter outputs for labels other than the
//! oneM2M ones. What never comes out: PSKs, private keys, ECDH shared
//! secrets, premaster / master / handshake / traffic secrets, Finished keys,
//! and the oneM2M exporter outputs (they become stored keys with
//! [`Step::ExportKey`]).
//!
//! Rules, enforced by the TA:
//! * at most [`MAX_HANDSHAKES_PER_CALLER`] sessions per caller (opening one
//!   more wipes that caller's oldest) and [`MAX_HANDSHAKES`] in all (opening
//!   one more is refused with `LimitReached` while none has expired);
//! * a session lives [`HANDSHAKE_LIFETIME`] TA invocations (of any caller)
//!   after it was opened, and runs at most [`MAX_SESSION_STEPS`] steps: the
//!   core has no clock, so its lifetime is an operation budget;
//! * a session is only visible to the caller that opened it (others get
//!   `UnknownHandshake`, exactly as for a session that never existed);
//! * a step out of order, a one-shot step used twice, a Finished that does
//!   not verify, an expired session — any failing step — is refused and
//!   wipes the session (its secrets are zeroized).
//!
//! # Invocations per handshake (seam's own engine)
//!
//! | handshake | TA invocations |
//! |---|---|
//! | TLS 1.2 ECDHE_ECDSA client, with or without client certificate | 3: `Open` · `[Tls12MasterSecret, Tls12KeyBlock, Tls12ClientFlight]` · `[Tls12VerifyServerFinished]` |
//! | TLS 1.2 ECDHE_ECDSA server | 3: `Open{then: [Tls12ServerKeyExchange]}` · `[Tls12MasterSecret, Tls12KeyBlock]` · `[Tls12Finished{Client, expect}, Tls12Finished{Server}]` |
//! | TLS 1.2 PSK client | 2: `Open{then: [Tls12MasterSecret, Tls12KeyBlock, Tls12ClientFlight]}` · `[Tls12VerifyServerFinished]` |
//! | TLS 1.2 PSK server | 2: `Open{then: [Tls12MasterSecret, Tls12KeyBlock]}` · `[Tls12Finished{Client, expect}, Tls12Finished{Server}]` |
//! | TLS 1.3 ECDHE client, server-authenticated | 3: `Open` · `[Tls13Handshake]` · `[Tls13Finished{Server, expect}, Tls13Application, Tls13Finished{Client}]` |
//! | TLS 1.3 ECDHE client, mutual | 4: as above, with `[Tls13CertificateVerify]` before the client Finished |
//!
//! DTLS 1.2 is the same with `dtls_message_seq` set. (rustls cannot batch:
//! it asks for each secret value separately, see `seam::tls`.)
//!
//! The TLS 1.2 client's `Tls12ClientFlight` takes the SHA-256 *midstate* of
//! the transcript ([`Transcript`]) so that the TA itself appends the
//! CertificateVerify and Finished messages it produces and knows the hash the
//! server's Finished covers: that is what keeps the client at 3 invocations
//! with the server's Finished checked inside.

use heapless::{String, Vec};
use serde::{Deserialize, Serialize};

use crate::{Digest, KeyRef, Name, ObjectInfo, PublicKey, Signature, Suid};

/// Sessions one caller holds at most; opening another wipes its oldest.
pub const MAX_HANDSHAKES_PER_CALLER: usize = 4;
/// Sessions the TA holds at most.
pub const MAX_HANDSHAKES: usize = 16;
/// TA invocations (of any caller) a session lives after it was opened.
pub const HANDSHAKE_LIFETIME: u64 = 1024;
/// Steps one invocation carries at most.
pub const MAX_STEPS: usize = 4;
/// Steps one session runs at most over its life (TLS 1.3 key updates count).
pub const MAX_SESSION_STEPS: u16 = 32;
/// Largest TLS 1.2 key block: AES-128-CBC-SHA256 needs 2·32 + 2·16 + 2·16 = 128.
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
/// Longest oneM2M identifier in a derivation (MAF-ID, Enrolee-B-ID, …).
pub const MAX_IDENTIFIER: usize = 128;
/// Longest salt or random value in a derivation.
pub const MAX_DERIVE_INPUT: usize = 64;

/// Which end of the handshake.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Role {
    Client,
    Server,
}

/// A TA handshake session.
pub type SessionId = u64;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum HandshakeOp {
    /// Opens a session for the caller. `psk`: a stored secret (SUID use
    /// digit 0, 1 or 2, `HANDSHAKE` grant) for TLS 1.2 PSK or a TLS 1.3
    /// external PSK. `ecdhe`: generate an ephemeral P-256 key inside (its
    /// public key comes back). `sign`: a stored P-256 key (`HANDSHAKE` grant)
    /// for ServerKeyExchange / CertificateVerify signatures. TLS 1.2 takes
    /// exactly one of `psk` and `ecdhe`; TLS 1.3 takes `ecdhe`, `psk` or both
    /// (psk_dhe_ke). The credential that binds the session (for the oneM2M
    /// exporter labels) is `psk` if given, else `sign`. If a step of `then`
    /// fails, the session is wiped and the request fails.
    /// → [`HandshakeReply::Opened`].
    Open {
        role: Role,
        psk: Option<KeyRef>,
        ecdhe: bool,
        sign: Option<KeyRef>,
        /// Steps to run at once on the new session, as with `Steps`.
        then: Vec<Step, MAX_STEPS>,
    },
    /// Runs `steps` in order on the caller's session, all or nothing: the
    /// first failing step wipes the session and fails the request.
    /// → [`HandshakeReply::Steps`].
    Steps {
        session: SessionId,
        steps: Vec<Step, MAX_STEPS>,
    },
    /// Wipes the session. → `Reply::Done`.
    Close { session: SessionId },
}

/// One secret step of a handshake. The protocol version is fixed by the
/// first `Tls12*` or `Tls13*` step; the other version's steps are then out
/// of order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Step {
    /// TLS 1.2 server, ECDHE: signs `SHA-256(client_random ‖ server_random ‖
    /// ServerECDHParams)` (RFC 8422 §5.4; named curve secp256r1 and the
    /// session's ephemeral key) with the session's signing key.
    /// → [`StepReply::Signature`] (`r ‖ s`). One-shot, before the master secret.
    Tls12ServerKeyExchange {
        client_random: [u8; 32],
        server_random: [u8; 32],
    },
    /// TLS 1.2: the premaster secret (ECDH with `peer_public`, which must be
    /// given for ECDHE and absent for PSK; or the RFC 4279 PSK premaster) and
    /// from it the master secret (RFC 5246 §8.1 or RFC 7627). → `Done`. One-shot.
    Tls12MasterSecret {
        peer_public: Option<PublicKey>,
        seed: MasterSeed,
    },
    /// TLS 1.2: the key block (`len` bytes, ≤ [`MAX_KEY_BLOCK`]): MAC keys,
    /// write keys and IVs, which leave. The randoms are also those of the
    /// exporter. → [`StepReply::KeyBlock`]. One-shot, after the master secret.
    Tls12KeyBlock {
        client_random: [u8; 32],
        server_random: [u8; 32],
        len: u8,
    },
    /// TLS 1.2: Finished `verify_data` of `side` over the handshake hash
    /// `transcript`. With `expect` (the peer's), the TA compares in constant
    /// time → [`StepReply::Verified`], or fails with `FinishedMismatch`.
    /// Without, → [`StepReply::VerifyData`] (12 bytes). Once per side.
    Tls12Finished {
        side: Role,
        transcript: Digest,
        expect: Option<[u8; 12]>,
    },
    /// TLS 1.2 client, after the master secret: `transcript` is the
    /// midstate of the handshake hash through ClientKeyExchange. The TA
    /// builds CertificateVerify (if `certificate_verify`: ECDSA-SHA256 with
    /// the session's key, scheme 0x0403) and Finished, appends both to the
    /// transcript and keeps the server Finished it expects. DTLS framing
    /// (12-byte headers) when `dtls_message_seq` gives the first message's
    /// sequence number. → [`StepReply::ClientFlight`]. One-shot.
    Tls12ClientFlight {
        transcript: Transcript,
        certificate_verify: bool,
        dtls_message_seq: Option<u16>,
    },
    /// TLS 1.2 client, after `Tls12ClientFlight`: checks the server's
    /// Finished in constant time. → `Verified` or `FinishedMismatch`. One-shot.
    Tls12VerifyServerFinished { verify_data: [u8; 12] },
    /// TLS 1.2 RFC 5705 exporter, after both Finished: `len` bytes (≤
    /// [`MAX_EXPORT`]) for `label` and `context`, which leave. The oneM2M
    /// labels (`EXPORTER-oneM2M-…`) and the labels RFC 5246/7627 reserve are
    /// refused (`LabelNotAllowed`): use [`Step::ExportKey`].
    /// → [`StepReply::Exported`].
    Tls12Export {
        label: Vec<u8, MAX_LABEL>,
        context: Option<Vec<u8, MAX_CONTEXT>>,
        len: u16,
    },
    /// TLS 1.3, external PSK session, before `Tls13Handshake`: the PSK
    /// binder (RFC 8446 §4.2.11.2, "ext binder") over the truncated
    /// ClientHello hash. → [`StepReply::VerifyData`] (32 bytes). One-shot.
    Tls13Binder { transcript: Digest },
    /// TLS 1.3: early secret (from the PSK, or zeros), ECDH with
    /// `peer_public` (given iff the session has ECDHE), handshake secret and
    /// both handshake traffic secrets over `transcript` = Hash(ClientHello ‖
    /// ServerHello); their keys (`key_len` 16 or 32) and IVs leave.
    /// → [`StepReply::TrafficKeys`]. One-shot.
    Tls13Handshake {
        peer_public: Option<PublicKey>,
        transcript: Digest,
        key_len: u8,
    },
    /// TLS 1.3: signs the CertificateVerify content (RFC 8446 §4.4.3; the
    /// session's role picks the context string) over `transcript` with the
    /// session's signing key. → [`StepReply::Signature`] (`r ‖ s`). One-shot.
    Tls13CertificateVerify { transcript: Digest },
    /// TLS 1.3: Finished of `side` (HMAC with the finished key of that side's
    /// handshake traffic secret) over `transcript`. With `expect`: constant-
    /// time check → `Verified` or `FinishedMismatch`; without →
    /// `VerifyData` (32 bytes). Once per side, after `Tls13Handshake`.
    Tls13Finished {
        side: Role,
        transcript: Digest,
        expect: Option<Digest>,
    },
    /// TLS 1.3: master secret, both application traffic secrets and the
    /// exporter master secret over `transcript` (through server Finished);
    /// the traffic keys and IVs leave. → [`StepReply::TrafficKeys`].
    /// One-shot, after the server's Finished was computed or checked.
    Tls13Application { transcript: Digest, key_len: u8 },
    /// TLS 1.3: the next application traffic secret of `side` (RFC 8446
    /// §7.2); its key and IV leave. → [`StepReply::TrafficKey`].
    Tls13KeyUpdate { side: Role, key_len: u8 },
    /// TLS 1.3 exporter (RFC 8446 §7.5) after `Tls13Application`:
    /// `context_hash` is SHA-256 of the context (of the empty string for
    /// none). Label rules as for `Tls12Export`. → [`StepReply::Exported`].
    Tls13Export {
        label: Vec<u8, MAX_LABEL>,
        context_hash: Digest,
        len: u16,
    },
    /// The oneM2M exporter (TS-0003 §10.3; RFC 5705 / RFC 8446 §7.5, no
    /// context), 48 bytes, kept inside: the 32 least significant (last)
    /// bytes become a new secret `object` in the SE of the session's
    /// credential; the 16 most significant (first) are the RelativeKeID,
    /// which leaves. Needs a completed handshake and a credential whose SUID
    /// use digit fits the label (see [`OneM2mExport`]).
    /// → [`StepReply::ExportedKey`].
    ExportKey { label: OneM2mExport, object: Name },
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

/// A SHA-256 computation in progress (FIPS 180-4 §6.2): the chaining
/// value after `length - tail.len()` bytes (a multiple of 64), and the
/// bytes not yet compressed. `seam_core::crypto::hash::Sha256Midstate`
/// produces and consumes it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transcript {
    /// The eight 32-bit state words, big-endian.
    pub state: [u8; 32],
    /// Bytes hashed so far, including `tail`.
    pub length: u64,
    pub tail: Vec<u8, 63>,
}

/// The oneM2M exporter labels (TS-0003 §10.3) and the SUID use digit the
/// session's credential must have for each, and the SUID of the key it
/// stores (our decisions; TS-0003 leaves them open):
///
/// | label | credential use digit | stored key | its SUID |
/// |---|---|---|---|
/// | `EXPORTER-oneM2M-Bootstrap` | 0 (MEF) | Ke | 20 (remote provisioning, MEF) |
/// | `EXPORTER-oneM2M-Connection` | 1 (MAF) | Kc | 31 (MAF, MAF) |
/// | `EXPORTER-oneM2M-ESCertKE` | 2 ((D)TLS, certificate session) | pairwise E2E key | 43 (certificate, ESPrim) |
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

    /// The SUID of the stored key.
    pub const fn key_suid(self) -> Suid {
        match self {
            OneM2mExport::Bootstrap => Suid::known(20),
            OneM2mExport::Connection => Suid::known(31),
            OneM2mExport::EsCertKe => Suid::known(43),
        }
    }
}

/// One write key and IV.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrafficKey {
    pub key: Vec<u8, 32>,
    pub iv: [u8; 12],
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum HandshakeReply {
    Opened {
        session: SessionId,
        /// The ephemeral P-256 public key of an ECDHE session.
        public: Option<PublicKey>,
        /// The replies of `then`.
        replies: Vec<StepReply, MAX_STEPS>,
    },
    Steps(Vec<StepReply, MAX_STEPS>),
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum StepReply {
    Done,
    /// An ECDSA signature, `r ‖ s` (TLS wants it DER-encoded).
    Signature(Signature),
    KeyBlock(Vec<u8, MAX_KEY_BLOCK>),
    VerifyData(Vec<u8, 32>),
    Verified,
    /// The exact handshake messages (with their TLS or DTLS headers) the TA
    /// appended to the transcript: send them as they are.
    ClientFlight {
        certificate_verify: Option<Vec<u8, MAX_HS_MESSAGE>>,
        finished: Vec<u8, MAX_HS_MESSAGE>,
    },
    TrafficKeys {
        client: TrafficKey,
        server: TrafficKey,
    },
    TrafficKey(TrafficKey),
    Exported(Vec<u8, MAX_EXPORT>),
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
/// | `Km` | 0 (Ke) | HMAC(Ke, "oneM2M Enrolment Key to Master Credential derivation" ‖ MAF-ID) | 21 |
/// | `Kpsa` | 0 (Ke) | HMAC(Ke, "oneM2M Enrolment Key to Provisioned Secure Connection Key derivation" ‖ Enrolee-B-ID) | 22 |
/// | `UsageConstrained` | 0 (Ke) | HMAC(Ke, "oneM2M Enrolment Key to Usage-Constrained Symmetric Key derivation" ‖ SUID ‖ Enrolment-Target-ID) | `suid` (tens digit 2) |
/// | `E2e` | 2 (Kpsa) | HKDF-Expand(HKDF-Extract(salt, Kpsa), info, len) | tens of source; use 3, 3, 5, 4 by key |
/// | `SessionEsPrim` | 3 (pairwise ESPrim key) | HMAC(key, receiverRand ‖ originatorRand ‖ "oneM2M HMAC-SHA256 sessionESPrimKey derivation algorithm") | the source's |
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
        /// 16..=64 bytes.
        len: u8,
    },
    SessionEsPrim {
        receiver_rand: Vec<u8, MAX_DERIVE_INPUT>,
        originator_rand: Vec<u8, MAX_DERIVE_INPUT>,
    },
}

/// The four E2E keys derived from Ke2e_master (TS-0003 §10.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum E2eKey {
    MessageAuthentication,
    MessageConfidentiality,
    AttributeAuthenticity,
    AttributeConfidentiality,
}

impl E2eKey {
    /// The HKDF-Expand info.
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
