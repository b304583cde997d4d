//! TLS 1.3 through rustls and the SE provider (`seam_rustls`). A provider
//! leaks one small object when built, so providers are pooled: at most one
//! per connection slot, each with its own TA client, reused connection
//! after connection.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use rustls::pki_types::{CertificateDer, ServerName};
use seam::proto::handshake::Role;
use seam_rustls::TaTls;

use super::limits::Semaphore;
use super::secure::Rustls;
use super::settings::{Settings, Side};
use crate::ctx::Opener;

struct Slot {
    tls: TaTls,
    client: Option<Arc<rustls::ClientConfig>>,
    server: Option<Arc<rustls::ServerConfig>>,
}

pub struct Pool {
    settings: Arc<Settings>,
    opener: Opener,
    free: Mutex<Vec<Slot>>,
}

/// A slot in use; it returns to the pool when dropped.
pub struct SlotGuard {
    pool: Arc<Pool>,
    slot: Option<Slot>,
}

impl Drop for SlotGuard {
    fn drop(&mut self) {
        if let Some(slot) = self.slot.take() {
            self.pool
                .free
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(slot);
        }
    }
}

fn roots(cas: &[Vec<u8>]) -> Result<rustls::RootCertStore, String> {
    let mut roots = rustls::RootCertStore::empty();
    for der in cas {
        roots
            .add(CertificateDer::from(der.clone()))
            .map_err(|e| format!("--ca: {e}"))?;
    }
    Ok(roots)
}

impl Pool {
    pub fn new(settings: Arc<Settings>, opener: Opener) -> Arc<Pool> {
        Arc::new(Pool {
            settings,
            opener,
            free: Mutex::new(Vec::new()),
        })
    }

    fn make_slot(&self) -> Result<Slot, String> {
        let s = &self.settings;
        let client = self.opener.open().map_err(|e| e.message)?;
        let chain: Vec<CertificateDer<'static>> = match &s.own {
            seam::dtls::OwnCertificate::X509(chain) => {
                chain.iter().cloned().map(CertificateDer::from).collect()
            }
            _ => Vec::new(),
        };
        let versions = [&rustls::version::TLS13];
        match s.side {
            Side::Server => {
                let tls = TaTls::new(client, Role::Server, Some(s.key.clone()));
                let client_roots = s.ca.as_deref().map(roots).transpose()?;
                let config = seam_rustls::server_config(&tls, &versions, chain, client_roots)
                    .map_err(|e| e.to_string())?;
                Ok(Slot {
                    tls,
                    client: None,
                    server: Some(Arc::new(config)),
                })
            }
            Side::Client => {
                let tls = TaTls::new(client, Role::Client, Some(s.key.clone()));
                let cas = s.ca.as_deref().unwrap_or_default();
                let chain = (!chain.is_empty()).then_some(chain);
                let config = seam_rustls::client_config(&tls, &versions, roots(cas)?, chain)
                    .map_err(|e| e.to_string())?;
                Ok(Slot {
                    tls,
                    client: Some(Arc::new(config)),
                    server: None,
                })
            }
        }
    }

    /// A new rustls connection on a pooled provider. A client's first TA
    /// step runs right here (its key share), so it takes its handshake
    /// permit now; a server takes it when the ClientHello arrives.
    pub fn connection(
        self: &Arc<Self>,
        permits: &Arc<Semaphore>,
        deadline: Instant,
    ) -> Result<Rustls, String> {
        let early = match self.settings.side {
            Side::Client => Some(
                permits
                    .acquire_until(deadline)
                    .ok_or("every SE handshake slot stayed busy")?,
            ),
            Side::Server => None,
        };
        let slot = self.free.lock().unwrap_or_else(|p| p.into_inner()).pop();
        let slot = match slot {
            Some(s) => s,
            None => self.make_slot()?,
        };
        let conn: rustls::Connection = match (&slot.client, &slot.server) {
            (Some(config), _) => {
                let name = match &self.settings.server_name {
                    Some(n) => ServerName::try_from(n.clone()).map_err(|e| e.to_string())?,
                    None => ServerName::IpAddress(self.settings.target.ip().into()),
                };
                rustls::ClientConnection::new(config.clone(), name)
                    .map_err(|e| e.to_string())?
                    .into()
            }
            (None, Some(config)) => rustls::ServerConnection::new(config.clone())
                .map_err(|e| e.to_string())?
                .into(),
            (None, None) => return Err("no TLS configuration".into()),
        };
        let tls = slot.tls.clone();
        let guard = SlotGuard {
            pool: self.clone(),
            slot: Some(slot),
        };
        let mut r = Rustls::new(conn, tls, guard, permits.clone(), deadline);
        r.permit = early;
        Ok(r)
    }
}
