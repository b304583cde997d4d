//! **Tests only** (feature `dtls-soft`): [`HandshakeSecrets`] computed in
//! this process with seam-core's crypto (`prf`, `kx`, `sign`), the PSK and
//! private keys in ordinary memory. It lets the engine be developed and
//! interop-tested independently of the TA. Nothing in seam's production
//! paths uses it: they take [`super::SeamSecrets`].

use seam_core::crypto::{hash::sha256, kx, prf::tls12_prf_sha256, sign};
use zeroize::Zeroizing;

use super::{
    signature_der, ClientFlight, ClientFlightRequest, HandshakeSecrets, MasterSeed,
    PeerKeyExchange, SecretsError, ServerKeyShare,
};
use crate::dtls::cipher::TrafficKeys;
use crate::dtls::handshake::{
    ecdhe_params, full_message, DigitallySigned, HandshakeType, SIG_ECDSA_SHA256,
};
use crate::dtls::Suite;

/// Credentials held in this process.
#[derive(Clone, Default)]
pub struct SoftwareCredentials {
    /// Client: the PSK.
    pub psk: Option<Vec<u8>>,
    /// Server: the PSK of each identity.
    pub psk_by_identity: Vec<(Vec<u8>, Vec<u8>)>,
    /// Our certificate's P-256 private scalar.
    pub signing_key: Option<[u8; 32]>,
}

pub struct SoftwareSecrets {
    credentials: SoftwareCredentials,
    rng: Box<dyn seam_core::Rng + Send>,
    ephemeral: Option<Zeroizing<[u8; 32]>>,
    master: Option<Zeroizing<[u8; 48]>>,
    /// Client: the transcript hash the server's Finished covers.
    expected_server_hash: Option<[u8; 32]>,
}

impl SoftwareSecrets {
    pub fn new(credentials: SoftwareCredentials) -> Self {
        Self::with_rng(credentials, Box::new(crate::transport::simulator::OsRng))
    }

    /// With a given RNG (deterministic tests).
    pub fn with_rng(credentials: SoftwareCredentials, rng: Box<dyn seam_core::Rng + Send>) -> Self {
        SoftwareSecrets {
            credentials,
            rng,
            ephemeral: None,
            master: None,
            expected_server_hash: None,
        }
    }

    fn generate(&mut self) -> Result<Vec<u8>, SecretsError> {
        let private = sign::generate(self.rng.as_mut())
            .map_err(|e| SecretsError::Failed(format!("{e:?}")))?;
        let public =
            sign::public_key(&private).map_err(|e| SecretsError::Failed(format!("{e:?}")))?;
        self.ephemeral = Some(private);
        Ok(public.to_vec())
    }

    fn premaster(
        &self,
        psk: Option<&[u8]>,
        peer_public: Option<&[u8]>,
    ) -> Result<Zeroizing<Vec<u8>>, SecretsError> {
        if let Some(psk) = psk {
            // RFC 4279 §2: u16 N ‖ N zeros ‖ u16 N ‖ psk.
            let n = psk.len() as u16;
            let mut pm = Zeroizing::new(Vec::with_capacity(4 + 2 * psk.len()));
            pm.extend_from_slice(&n.to_be_bytes());
            pm.resize(2 + psk.len(), 0);
            pm.extend_from_slice(&n.to_be_bytes());
            pm.extend_from_slice(psk);
            return Ok(pm);
        }
        let private = self
            .ephemeral
            .as_ref()
            .ok_or(SecretsError::Failed("no ephemeral key".into()))?;
        let peer = peer_public.ok_or(SecretsError::InvalidPeerKey)?;
        let shared = kx::ecdh(private, peer).map_err(|_| SecretsError::InvalidPeerKey)?;
        Ok(Zeroizing::new(shared.to_vec()))
    }

    fn derive(
        &mut self,
        suite: Suite,
        premaster: &[u8],
        seed: MasterSeed,
        client_random: &[u8; 32],
        server_random: &[u8; 32],
    ) -> Result<TrafficKeys, SecretsError> {
        let mut master = Zeroizing::new([0u8; 48]);
        match seed {
            MasterSeed::Randoms => tls12_prf_sha256(
                premaster,
                b"master secret",
                &[client_random, server_random],
                master.as_mut(),
            ),
            MasterSeed::Extended(h) => {
                tls12_prf_sha256(premaster, b"extended master secret", &[&h], master.as_mut())
            }
        }
        let mut block = Zeroizing::new(vec![0u8; TrafficKeys::block_len(suite)]);
        tls12_prf_sha256(
            master.as_ref(),
            b"key expansion",
            &[server_random, client_random],
            &mut block,
        );
        self.master = Some(master);
        TrafficKeys::from_key_block(suite, &block).ok_or(SecretsError::Failed("key block".into()))
    }

    fn verify_data(&self, label: &[u8], hash: &[u8; 32]) -> Result<[u8; 12], SecretsError> {
        let master = self
            .master
            .as_ref()
            .ok_or(SecretsError::Failed("no master secret yet".into()))?;
        let mut vd = [0u8; 12];
        tls12_prf_sha256(master.as_ref(), label, &[hash], &mut vd);
        Ok(vd)
    }

    fn sign(&self, digest: &[u8; 32]) -> Result<Vec<u8>, SecretsError> {
        let key = self
            .credentials
            .signing_key
            .as_ref()
            .ok_or(SecretsError::MissingCredential("a signing key"))?;
        let rs =
            sign::sign_digest(key, digest).map_err(|e| SecretsError::Failed(format!("{e:?}")))?;
        signature_der(&rs)
    }
}

impl HandshakeSecrets for SoftwareSecrets {
    fn client_key_share(
        &mut self,
        suite: Suite,
        certificate: bool,
    ) -> Result<Option<Vec<u8>>, SecretsError> {
        if certificate && self.credentials.signing_key.is_none() {
            return Err(SecretsError::MissingCredential("a signing key"));
        }
        if suite.is_psk() {
            return Ok(None);
        }
        self.generate().map(Some)
    }

    fn client_flight(
        &mut self,
        req: &ClientFlightRequest<'_>,
    ) -> Result<ClientFlight, SecretsError> {
        let psk = if req.suite.is_psk() {
            Some(
                self.credentials
                    .psk
                    .clone()
                    .ok_or(SecretsError::MissingCredential("a PSK"))?,
            )
        } else {
            None
        };
        let pm = self.premaster(psk.as_deref(), req.peer_public)?;
        let keys = self.derive(
            req.suite,
            &pm,
            req.seed,
            &req.client_random,
            &req.server_random,
        )?;
        let dtls = req.dtls_message_seq.is_some();
        let mut seq = req.dtls_message_seq.unwrap_or(0);
        let mut transcript = req.transcript.to_vec();
        let certificate_verify = if req.certificate_verify {
            let signature = self.sign(&sha256(&transcript))?;
            let body = DigitallySigned {
                sig_alg: SIG_ECDSA_SHA256,
                signature,
            }
            .encode();
            let m = full_message(dtls, HandshakeType::CertificateVerify as u8, seq, &body);
            seq = seq.wrapping_add(1);
            transcript.extend_from_slice(&m);
            Some(m)
        } else {
            None
        };
        let vd = self.verify_data(b"client finished", &sha256(&transcript))?;
        let finished = full_message(dtls, HandshakeType::Finished as u8, seq, &vd);
        transcript.extend_from_slice(&finished);
        self.expected_server_hash = Some(sha256(&transcript));
        Ok(ClientFlight {
            keys,
            certificate_verify,
            finished,
        })
    }

    fn verify_server_finished(&mut self, verify_data: &[u8; 12]) -> Result<(), SecretsError> {
        let hash = self
            .expected_server_hash
            .take()
            .ok_or(SecretsError::Failed("out of order".into()))?;
        let expected = self.verify_data(b"server finished", &hash)?;
        if subtle::ConstantTimeEq::ct_eq(&expected[..], &verify_data[..]).into() {
            Ok(())
        } else {
            Err(SecretsError::FinishedMismatch)
        }
    }

    fn server_key_share(
        &mut self,
        suite: Suite,
        client_random: &[u8; 32],
        server_random: &[u8; 32],
    ) -> Result<Option<ServerKeyShare>, SecretsError> {
        if suite.is_psk() {
            return Ok(None);
        }
        let public = self.generate()?;
        let params = ecdhe_params(&public);
        let digest =
            seam_core::crypto::hash::sha256_parts(&[client_random, server_random, &params]);
        let signature = self.sign(&digest)?;
        Ok(Some(ServerKeyShare { public, signature }))
    }

    fn server_keys(
        &mut self,
        suite: Suite,
        peer: PeerKeyExchange<'_>,
        seed: MasterSeed,
        client_random: &[u8; 32],
        server_random: &[u8; 32],
    ) -> Result<TrafficKeys, SecretsError> {
        let pm = match peer {
            PeerKeyExchange::PskIdentity(id) => {
                let psk = self
                    .credentials
                    .psk_by_identity
                    .iter()
                    .find(|(i, _)| i.is_empty() || i.as_slice() == id)
                    .map(|(_, k)| Zeroizing::new(k.clone()))
                    .ok_or(SecretsError::UnknownPskIdentity)?;
                self.premaster(Some(&psk), None)?
            }
            PeerKeyExchange::Ecdhe(p) => self.premaster(None, Some(p))?,
        };
        self.derive(suite, &pm, seed, client_random, server_random)
    }

    fn server_finished(
        &mut self,
        client_hash: &[u8; 32],
        client_verify_data: &[u8; 12],
        server_hash: &[u8; 32],
    ) -> Result<[u8; 12], SecretsError> {
        let expected = self.verify_data(b"client finished", client_hash)?;
        if !bool::from(subtle::ConstantTimeEq::ct_eq(
            &expected[..],
            &client_verify_data[..],
        )) {
            return Err(SecretsError::FinishedMismatch);
        }
        self.verify_data(b"server finished", server_hash)
    }
}
