//! Keys exported from a live connection into whoever holds the secrets: the
//! oneM2M exporter labels (TS-0003 §10.3), whose output must never leave the
//! Secure Environment, become stored keys there; the caller learns the
//! RelativeKeID and the new key's name and SUID.

use super::connection::Connection;
use super::secrets::{HandshakeSecrets, SecretsError};
use super::{Cause, DtlsError, Step};

/// A oneM2M exporter label.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ExportLabel {
    /// `EXPORTER-oneM2M-Bootstrap`: Ke, after a bootstrap (MEF) handshake.
    Bootstrap,
    /// `EXPORTER-oneM2M-Connection`: Kc, after a MAF handshake, stored
    /// under the SUID it was registered with at the MAF (32–35).
    Connection { kc_suid: u8 },
}

impl ExportLabel {
    pub const fn label(self) -> &'static str {
        match self {
            ExportLabel::Bootstrap => "EXPORTER-oneM2M-Bootstrap",
            ExportLabel::Connection { .. } => "EXPORTER-oneM2M-Connection",
        }
    }
}

/// A key the export stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExportedKey {
    /// The 16 most significant bytes of the exporter output (TS-0003 §10.3).
    pub relative_id: [u8; 16],
    /// The stored key's name and SUID.
    pub object: String,
    pub suid: u8,
}

/// Secrets that can store an exporter output as a key.
pub trait KeyExport {
    /// Needs the completed handshake's session (still open).
    fn export_key(&mut self, label: ExportLabel, object: &str)
        -> Result<ExportedKey, SecretsError>;
}

impl<S: HandshakeSecrets> Connection<S> {
    /// The handshake secrets, e.g. to release what they hold once the
    /// handshake is done.
    pub fn secrets_mut(&mut self) -> &mut S {
        &mut self.secrets
    }
}

impl<S: HandshakeSecrets + KeyExport> Connection<S> {
    /// Stores the `label` exporter output of this (established) connection
    /// as the key `object` where the handshake's credential lives.
    pub fn export_key(
        &mut self,
        label: ExportLabel,
        object: &str,
    ) -> Result<ExportedKey, DtlsError> {
        if !self.is_established() {
            return Err(DtlsError {
                step: Step::ApplicationData,
                cause: Cause::NotConnected,
            });
        }
        self.secrets
            .export_key(label, object)
            .map_err(|e| DtlsError {
                step: Step::ApplicationData,
                cause: Cause::Secrets(e.to_string()),
            })
    }
}
