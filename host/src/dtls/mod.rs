//! The (D)TLS 1.2 engine ([`seam_dtls`], re-exported here) driving the
//! Secure Environment's handshake sessions: [`SeamSecrets`] implements the
//! engine's secrets trait over a [`crate::Client`], and [`run_client`] /
//! [`run_server`] are the connect-and-copy loops behind the `seam` tool's
//! `dtls-client|tls-client|dtls-server|tls-server`.

mod run;
mod ta_secrets;

pub use run::{
    read_pem_certificates, run_client, run_server, ConnectOptions, Credential, ListenOptions,
};
pub use seam_dtls::*;
pub use ta_secrets::{SeamSecrets, TaCredentials};
