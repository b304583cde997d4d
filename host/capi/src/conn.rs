//! `seam_conn_*`: (D)TLS 1.2 connections over a socket the caller owns, with
//! every handshake secret in the Secure Environment (seam's engine driving
//! the TA's handshake sessions), and oneM2M key export into the SE.
//!
//! A connection borrows the `seam_handle` it was opened with for its whole
//! life (its handshake session lives there): the handle stays open until
//! `seam_conn_close`, and the two are used from one thread at a time.

use std::borrow::{Borrow, BorrowMut};
use std::collections::VecDeque;
use std::ffi::c_char;
use std::io;
use std::os::fd::RawFd;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;
use std::time::{Duration, Instant};

use seam_host::dtls::io::{drive_handshake, flush, Link};
use seam_host::dtls::{
    cert, Cause, Config, Connection, Credential, DtlsError, ExportLabel, OwnCertificate, PeerTrust,
    Role, SeamSecrets, Suite, SystemClock, TaCredentials, Variant,
};
use seam_host::proto::ObjectKind;
use seam_host::Client;

use crate::args::{self, VarOut};
use crate::{record, Fail, Res, SeamHandle, SEAM_BAD_REQUEST, SEAM_OK};

/// `seam_conn_options_t.protocol`: TLS 1.2 over a TCP socket.
pub const SEAM_CONN_TLS: u32 = 1;
/// `seam_conn_options_t.protocol`: DTLS 1.2 over a UDP socket.
pub const SEAM_CONN_DTLS: u32 = 2;

/// `seam_conn_export_key` labels (TS-0003 §10.3).
/// `EXPORTER-oneM2M-Bootstrap`: Ke, after a bootstrap handshake.
pub const SEAM_EXPORT_BOOTSTRAP: u32 = 1;
/// `EXPORTER-oneM2M-Connection`: Kc, after a MAF handshake.
pub const SEAM_EXPORT_CONNECTION: u32 = 2;

/// Longest PEM text accepted in the options (certificate chain, CAs).
pub const SEAM_PEM_MAX: usize = 65536;
/// Longest PSK identity, server name or suite list, in bytes.
pub const SEAM_CONN_TEXT_MAX: usize = 255;
/// Largest `seam_conn_write` (TLS; DTLS: one record, see `max_payload`).
pub const SEAM_CONN_WRITE_MAX: usize = 1 << 20;
/// The RelativeKeID `seam_conn_export_key` returns.
pub const SEAM_RELATIVE_ID_LEN: usize = 16;

const DEFAULT_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(30);

/// How to connect or accept. Zero-initialise it, then set what you need:
/// every zero/NULL field means its default.
#[repr(C)]
pub struct SeamConnOptions {
    /// `SEAM_CONN_TLS` (a TCP socket) or `SEAM_CONN_DTLS` (a UDP socket).
    pub protocol: u32,
    /// The credential, `se`/`key`: a PSK (a secret) or a P-256 key, with a
    /// HANDSHAKE grant for the caller (and SIGN for a P-256 key).
    pub se: *const c_char,
    pub key: *const c_char,
    /// NULL: the credential's suites (PSK or ECDHE_ECDSA), the protocol's
    /// oneM2M profile suite first. Else a comma-separated list of IANA or
    /// OpenSSL names, e.g. "PSK-AES128-CCM8".
    pub suites: *const c_char,
    /// Client with a PSK: the identity to send (required then). Server: the
    /// only identity accepted (NULL: any; the Finished exchange proves the
    /// client holds the PSK).
    pub psk_identity: *const c_char,
    /// Our certificate chain, PEM text, leaf first, for the P-256 key (NULL:
    /// none; a client then answers a certificate request with none).
    pub certificate_pem: *const c_char,
    /// Present the P-256 key as an RFC 7250 raw public key instead.
    pub raw_public_key: bool,
    /// CA certificates, PEM text, that the peer's chain must end at.
    pub ca_pem: *const c_char,
    /// NULL, or a pinned peer key: 65 bytes, an uncompressed SEC 1 P-256
    /// point; the peer's certificate or raw key must carry exactly this key.
    pub peer_key: *const u8,
    /// Client: the SNI name to send and to check the server's certificate
    /// against. Server: the only name accepted (NULL: any).
    pub server_name: *const c_char,
    /// Server: ask for and verify a client certificate (needs `ca_pem` or
    /// `peer_key`).
    pub require_client_certificate: bool,
    /// Keep the handshake session in the SE after the handshake so that
    /// `seam_conn_export_key` works; it holds one of the few sessions the TA
    /// keeps per caller until `seam_conn_close`. Without it the session is
    /// released as soon as the handshake ends.
    pub keep_for_export: bool,
    /// 0: 30000.
    pub handshake_timeout_ms: u32,
    /// DTLS: the largest datagram to send; 0: 1200.
    pub mtu: u32,
}

/// What a connection negotiated and whom it authenticated.
#[repr(C)]
pub struct SeamConnInfo {
    /// `SEAM_CONN_TLS` or `SEAM_CONN_DTLS`.
    pub protocol: u32,
    /// The suite's IANA code point, e.g. 0xC0A8.
    pub suite: u16,
    /// Its IANA name, e.g. "TLS_PSK_WITH_AES_128_CCM_8".
    pub suite_name: [c_char; 48],
    pub extended_master_secret: bool,
    /// Whether the peer authenticated with a P-256 key (certificate or raw
    /// key), and that key.
    pub has_peer_public_key: bool,
    pub peer_public_key: [u8; 65],
    /// Largest payload of one `seam_conn_write` that makes one record (DTLS:
    /// one datagram; a longer DTLS write is refused).
    pub max_payload: u32,
}

/// A live (D)TLS connection. Opaque to C.
pub struct SeamConn {
    handle: *mut SeamHandle,
    conn: Connection<SeamSecrets<HandleRef>>,
    link: FdLink,
    variant: Variant,
    /// Plaintext received but not yet read.
    pending: VecDeque<Vec<u8>>,
    kept_for_export: bool,
    scratch: Vec<u8>,
}

/// The connection's way back to its handle's `Client`.
struct HandleRef(*mut SeamHandle);

impl Borrow<Client> for HandleRef {
    fn borrow(&self) -> &Client {
        // SAFETY: the handle outlives the connection and is not used
        // concurrently (seam.h's contract for seam_conn_*).
        unsafe { &(*self.0).client }
    }
}

impl BorrowMut<Client> for HandleRef {
    fn borrow_mut(&mut self) -> &mut Client {
        // SAFETY: as above.
        unsafe { &mut (*self.0).client }
    }
}

// ---- the caller's socket ------------------------------------------------------

/// A socket we use but do not own: never closed here.
struct FdLink {
    fd: RawFd,
    stream: bool,
}

fn last_os_error() -> io::Error {
    io::Error::last_os_error()
}

impl FdLink {
    /// Checks that `fd` is a socket of the kind `variant` runs over.
    fn new(fd: RawFd, variant: Variant) -> Res<FdLink> {
        if fd < 0 {
            return Err(Fail::bad(format!("`fd` {fd} is not a file descriptor")));
        }
        let mut kind: libc::c_int = 0;
        let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
        // SAFETY: valid out-pointers of the right size.
        let rc = unsafe {
            libc::getsockopt(
                fd,
                libc::SOL_SOCKET,
                libc::SO_TYPE,
                (&mut kind as *mut libc::c_int).cast(),
                &mut len,
            )
        };
        if rc != 0 {
            return Err(Fail::bad(format!(
                "`fd` {fd} is not a socket: {}",
                last_os_error()
            )));
        }
        let want = match variant {
            Variant::Tls => libc::SOCK_STREAM,
            Variant::Dtls => libc::SOCK_DGRAM,
        };
        if kind != want {
            return Err(Fail::bad(format!(
                "`fd` {fd} is a {} socket; {} needs a {} socket",
                if kind == libc::SOCK_STREAM {
                    "stream (TCP)"
                } else if kind == libc::SOCK_DGRAM {
                    "datagram (UDP)"
                } else {
                    "other"
                },
                if variant == Variant::Tls {
                    "SEAM_CONN_TLS"
                } else {
                    "SEAM_CONN_DTLS"
                },
                if variant == Variant::Tls {
                    "stream (TCP)"
                } else {
                    "datagram (UDP)"
                },
            )));
        }
        Ok(FdLink {
            fd,
            stream: variant == Variant::Tls,
        })
    }

    /// Waits for `events` at most `timeout`; false on timeout.
    fn wait(&self, events: libc::c_short, timeout: Duration) -> io::Result<bool> {
        let mut p = libc::pollfd {
            fd: self.fd,
            events,
            revents: 0,
        };
        let ms = timeout.as_millis().clamp(1, i32::MAX as u128) as libc::c_int;
        // SAFETY: one valid pollfd.
        match unsafe { libc::poll(&mut p, 1, ms) } {
            n if n > 0 => Ok(true),
            0 => Ok(false),
            _ => {
                let e = last_os_error();
                if e.kind() == io::ErrorKind::Interrupted {
                    Ok(false)
                } else {
                    Err(e)
                }
            }
        }
    }

    /// A UDP server socket that is not connected yet learns its peer from
    /// the first datagram and is connected to it (seam.h says so).
    fn connected(&self) -> bool {
        // SAFETY: storage of the right size for any address.
        let mut addr: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
        let mut len = std::mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
        unsafe {
            libc::getpeername(
                self.fd,
                (&mut addr as *mut libc::sockaddr_storage).cast(),
                &mut len,
            ) == 0
        }
    }
}

impl Link for FdLink {
    fn send(&mut self, bytes: &[u8]) -> io::Result<()> {
        let mut rest = bytes;
        loop {
            // SAFETY: `rest` is valid for its length. MSG_NOSIGNAL: a closed
            // peer is an error here, not a SIGPIPE in the caller's process.
            let n = unsafe {
                libc::send(
                    self.fd,
                    rest.as_ptr().cast(),
                    rest.len(),
                    libc::MSG_NOSIGNAL,
                )
            };
            if n < 0 {
                let e = last_os_error();
                match e.kind() {
                    io::ErrorKind::Interrupted => continue,
                    io::ErrorKind::WouldBlock => {
                        // A non-blocking socket: wait until it drains.
                        if !self.wait(libc::POLLOUT, Duration::from_secs(30))? {
                            return Err(io::Error::new(
                                io::ErrorKind::TimedOut,
                                "the socket stayed full for 30 s",
                            ));
                        }
                        continue;
                    }
                    // Connected UDP: nobody listening (yet); DTLS retransmits.
                    io::ErrorKind::ConnectionRefused if !self.stream => return Ok(()),
                    _ => return Err(e),
                }
            }
            if !self.stream {
                return Ok(());
            }
            rest = &rest[n as usize..];
            if rest.is_empty() {
                return Ok(());
            }
        }
    }

    fn recv(&mut self, buf: &mut [u8], timeout: Duration) -> io::Result<Option<usize>> {
        if !self.wait(libc::POLLIN, timeout)? {
            return Ok(None);
        }
        let learn_peer = !self.stream && !self.connected();
        // SAFETY: storage of the right size for any address.
        let mut from: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
        let mut from_len = std::mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
        // SAFETY: `buf` is valid for its length; `from` for `from_len`.
        let n = unsafe {
            libc::recvfrom(
                self.fd,
                buf.as_mut_ptr().cast(),
                buf.len(),
                libc::MSG_DONTWAIT,
                (&mut from as *mut libc::sockaddr_storage).cast(),
                &mut from_len,
            )
        };
        if n < 0 {
            let e = last_os_error();
            return match e.kind() {
                io::ErrorKind::Interrupted | io::ErrorKind::WouldBlock => Ok(None),
                // Connected UDP: an ICMP port unreachable; keep waiting.
                io::ErrorKind::ConnectionRefused if !self.stream => Ok(None),
                _ => Err(e),
            };
        }
        if self.stream {
            return Ok(Some(n as usize));
        }
        if learn_peer {
            // SAFETY: the address recvfrom filled in.
            if unsafe {
                libc::connect(
                    self.fd,
                    (&from as *const libc::sockaddr_storage).cast(),
                    from_len,
                )
            } != 0
            {
                return Err(last_os_error());
            }
        }
        // An empty datagram is not the end of anything.
        Ok((n > 0).then_some(n as usize))
    }
}

// ---- options ------------------------------------------------------------------

struct Options {
    variant: Variant,
    se: String,
    key: String,
    suites: Vec<Suite>,
    psk_identity: Option<String>,
    certificate: Option<Vec<Vec<u8>>>,
    raw_public_key: bool,
    cas: Option<Vec<Vec<u8>>>,
    peer_key: Option<[u8; 65]>,
    server_name: Option<String>,
    require_client_certificate: bool,
    keep_for_export: bool,
    handshake_timeout: Duration,
    mtu: usize,
}

fn pem_certificates(text: Option<String>, what: &str) -> Res<Option<Vec<Vec<u8>>>> {
    let Some(text) = text else { return Ok(None) };
    let certs = cert::pem_certificates(&text);
    if certs.is_empty() {
        return Err(Fail::bad(format!("`{what}` holds no PEM certificate")));
    }
    Ok(Some(certs))
}

/// # Safety
/// `o` is NULL or points to a readable `seam_conn_options_t` whose pointers
/// are NULL or valid as documented there.
unsafe fn read_options(o: *const SeamConnOptions) -> Res<Options> {
    if o.is_null() {
        return Err(Fail::bad("`options` is NULL"));
    }
    // SAFETY: non-NULL, the caller's promise.
    let o = unsafe { &*o };
    let variant = match o.protocol {
        SEAM_CONN_TLS => Variant::Tls,
        SEAM_CONN_DTLS => Variant::Dtls,
        other => {
            return Err(Fail::bad(format!(
                "`options.protocol` {other}: expected SEAM_CONN_TLS or SEAM_CONN_DTLS"
            )))
        }
    };
    let se = unsafe { args::name(o.se, "options.se") }?;
    let key = unsafe { args::name(o.key, "options.key") }?;
    let text = |p, what| unsafe { args::opt_text(p, SEAM_CONN_TEXT_MAX, what) };
    let suites = match text(o.suites, "options.suites")? {
        None => Vec::new(),
        Some(list) => list
            .split(',')
            .map(|name| {
                Suite::parse(name).ok_or_else(|| {
                    Fail::bad(format!(
                        "`options.suites`: `{}` is not one of the oneM2M suites ({})",
                        name.trim(),
                        Suite::ALL.map(|s| s.openssl_name()).join(", ")
                    ))
                })
            })
            .collect::<Res<Vec<_>>>()?,
    };
    let psk_identity = text(o.psk_identity, "options.psk_identity")?;
    let server_name = text(o.server_name, "options.server_name")?;
    let pem = |p, what| unsafe { args::opt_text(p, SEAM_PEM_MAX, what) };
    let certificate = pem_certificates(
        pem(o.certificate_pem, "options.certificate_pem")?,
        "options.certificate_pem",
    )?;
    let cas = pem_certificates(pem(o.ca_pem, "options.ca_pem")?, "options.ca_pem")?;
    let peer_key = if o.peer_key.is_null() {
        None
    } else {
        let k = unsafe { args::array::<65>(o.peer_key, "options.peer_key") }?;
        if k[0] != 4 || p256::PublicKey::from_sec1_bytes(&k).is_err() {
            return Err(Fail::bad(
                "`options.peer_key` is not an uncompressed P-256 point (65 bytes, 04 || x || y)",
            ));
        }
        Some(k)
    };
    if certificate.is_some() && o.raw_public_key {
        return Err(Fail::bad(
            "`options.certificate_pem` and `options.raw_public_key` exclude each other",
        ));
    }
    if cas.is_some() && peer_key.is_some() {
        return Err(Fail::bad(
            "`options.ca_pem` and `options.peer_key` exclude each other: trust one",
        ));
    }
    let mtu = match o.mtu {
        0 => 1200,
        m @ 256..=65507 => m as usize,
        m => return Err(Fail::bad(format!("`options.mtu` {m}: expected 256..65507"))),
    };
    Ok(Options {
        variant,
        se,
        key,
        suites,
        psk_identity,
        certificate,
        raw_public_key: o.raw_public_key,
        cas,
        peer_key,
        server_name,
        require_client_certificate: o.require_client_certificate,
        keep_for_export: o.keep_for_export,
        handshake_timeout: match o.handshake_timeout_ms {
            0 => DEFAULT_HANDSHAKE_TIMEOUT,
            ms => Duration::from_millis(ms.into()),
        },
        mtu,
    })
}

/// The handshake's configuration and credentials, the credential looked up
/// in the SE behind `client`.
fn configure(client: &mut Client, o: &Options, role: Role) -> Res<(Config, TaCredentials)> {
    let info = client.object_info(&o.se, &o.key).map_err(|e| Fail {
        status: e.status(),
        message: format!("credential {}/{}: {e}", o.se, o.key),
    })?;
    let own = if let Some(chain) = &o.certificate {
        OwnCertificate::X509(chain.clone())
    } else if o.raw_public_key {
        let public = info.public_key.ok_or_else(|| {
            Fail::bad(format!(
                "`options.raw_public_key`: {}/{} is not a P-256 key",
                o.se, o.key
            ))
        })?;
        OwnCertificate::RawPublicKey(
            cert::spki_for(&public.0)
                .ok_or_else(|| Fail::bad("the SE key is not a P-256 point"))?,
        )
    } else {
        OwnCertificate::None
    };
    let dtls = |e: DtlsError| Fail::bad(e.to_string());
    let credential = match role {
        Role::Client => Credential::for_client(
            client,
            &o.se,
            &o.key,
            o.psk_identity.as_deref().map(str::as_bytes),
            own,
        )
        .map_err(dtls)?,
        Role::Server => {
            let mut c = Credential::for_server(client, &o.se, &o.key, own).map_err(dtls)?;
            if let (Some(id), Some(entry)) = (&o.psk_identity, c.psk_by_identity.first_mut()) {
                entry.0 = id.as_bytes().to_vec();
            }
            c
        }
    };
    let psk = info.kind == ObjectKind::Secret;
    let mut suites = o.suites.clone();
    if suites.is_empty() {
        let profile_first = match o.variant {
            Variant::Dtls => [Suite::PskAes128Ccm8, Suite::EcdheEcdsaAes128Ccm8],
            Variant::Tls => [Suite::PskAes128CbcSha256, Suite::EcdheEcdsaAes128CbcSha256],
        };
        suites = profile_first
            .into_iter()
            .chain(Suite::ALL)
            .filter(|s| s.is_psk() == psk)
            .fold(Vec::new(), |mut v, s| {
                if !v.contains(&s) {
                    v.push(s);
                }
                v
            });
    } else if let Some(s) = suites.iter().find(|s| s.is_psk() != psk) {
        return Err(Fail::bad(format!(
            "`options.suites`: {} needs {}, but {}/{} is {}",
            s.name(),
            if s.is_psk() { "a PSK" } else { "a P-256 key" },
            o.se,
            o.key,
            if psk { "a PSK" } else { "a P-256 key" },
        )));
    }
    let mut config = Config::new(o.variant, suites).with_time(Arc::new(SystemClock));
    config.server_names = o.server_name.clone().into_iter().collect();
    config.psk_identity = credential.psk.as_ref().map(|(id, _)| id.clone());
    config.certificate = credential.certificate.clone();
    config.peer_trust = match (&o.cas, &o.peer_key) {
        (Some(cas), _) => PeerTrust::CaCertificates(cas.clone()),
        (_, Some(k)) => PeerTrust::PinnedKey(k.to_vec()),
        _ => PeerTrust::NotConfigured,
    };
    config.require_client_certificate = o.require_client_certificate;
    config.mtu = o.mtu;
    config.check(role).map_err(|e| Fail::bad(e.to_string()))?;
    Ok((
        config,
        TaCredentials {
            psk: credential.psk.map(|(_, k)| k),
            psk_by_identity: credential.psk_by_identity,
            signing_key: credential.signing_key,
        },
    ))
}

/// A failed connection as a status: a refused or failed handshake is 4106
/// (the peer was not authenticated), a configuration 4000, the transport 5000.
fn fail(e: DtlsError) -> Fail {
    let status = match e.cause {
        Cause::Config(_) => SEAM_BAD_REQUEST,
        Cause::NotConnected => crate::SEAM_OPERATION_NOT_ALLOWED,
        Cause::Io(_) | Cause::Timeout => crate::SEAM_INTERNAL_SERVER_ERROR,
        Cause::SentAlert { .. } | Cause::ReceivedAlert(_) | Cause::Secrets(_) => {
            crate::SEAM_ORIGINATOR_NOT_AUTHENTICATED
        }
    };
    Fail {
        status,
        message: e.to_string(),
    }
}

// ---- the calls ---------------------------------------------------------------------

/// Catches panics and records a failure on the handle and the thread.
fn guarded(h: *mut SeamHandle, f: impl FnOnce() -> Res) -> u16 {
    if h.is_null() {
        crate::set_thread_error("the seam_handle is NULL");
        return SEAM_BAD_REQUEST;
    }
    record(h, catch_unwind(AssertUnwindSafe(f)))
}

fn with_conn(c: *mut SeamConn, f: impl FnOnce(&mut SeamConn) -> Res) -> u16 {
    if c.is_null() {
        crate::set_thread_error("the seam_conn is NULL");
        return SEAM_BAD_REQUEST;
    }
    // SAFETY: a live connection from seam_conn_connect/accept, used from
    // one thread at a time.
    let conn = unsafe { &mut *c };
    let h = conn.handle;
    guarded(h, || f(conn))
}

unsafe fn open(
    h: *mut SeamHandle,
    fd: RawFd,
    options: *const SeamConnOptions,
    out: *mut *mut SeamConn,
    role: Role,
) -> u16 {
    guarded(h, || {
        let out = args::out_ptr(out, "out")?;
        // SAFETY: checked non-NULL; the caller's storage.
        unsafe { *out = std::ptr::null_mut() };
        let o = unsafe { read_options(options) }?;
        let mut link = FdLink::new(fd, o.variant)?;
        // SAFETY: the live handle; this borrow ends before HandleRef's use.
        let (config, credentials) = configure(unsafe { &mut (*h).client }, &o, role)?;
        let secrets = SeamSecrets::new(HandleRef(h), credentials);
        let mut conn = match role {
            Role::Client => Connection::client(config, secrets, Instant::now()),
            Role::Server => Connection::server(config, secrets, Instant::now()),
        };
        drive_handshake(&mut conn, &mut link, o.handshake_timeout).map_err(fail)?;
        if !o.keep_for_export {
            conn.secrets_mut().release();
        }
        let c = Box::new(SeamConn {
            handle: h,
            conn,
            link,
            variant: o.variant,
            pending: VecDeque::new(),
            kept_for_export: o.keep_for_export,
            scratch: vec![0u8; 65536],
        });
        // SAFETY: as above.
        unsafe { *out = Box::into_raw(c) };
        Ok(SEAM_OK)
    })
}

/// Runs a client handshake over `fd`: a connected TCP socket
/// (`SEAM_CONN_TLS`) or a connected UDP socket (`SEAM_CONN_DTLS`), which
/// the caller keeps owning (seam_conn_close does not close it). Blocks until
/// the handshake ends or `options.handshake_timeout_ms` passes. On success
/// `*out` is the connection; on failure NULL, and seam_last_error(h) says
/// why (4106: the peer or we refused the handshake; 4000: bad options;
/// 5000: the socket failed or timed out).
///
/// # Safety
/// `h` is a live handle that outlives the connection and is not used from
/// another thread meanwhile; `options` points to a readable
/// `seam_conn_options_t`; `out` to storage for one pointer.
#[no_mangle]
pub unsafe extern "C" fn seam_conn_connect(
    h: *mut SeamHandle,
    fd: libc::c_int,
    options: *const SeamConnOptions,
    out: *mut *mut SeamConn,
) -> u16 {
    unsafe { open(h, fd, options, out, Role::Client) }
}

/// As seam_conn_connect, for the server side: `fd` is an accepted TCP
/// socket, or a UDP socket bound to the server's address (connected to the
/// client, or not yet: it is then connected to whoever sends the first
/// datagram). DTLS answers the first ClientHello with a cookie exchange.
///
/// # Safety
/// As seam_conn_connect.
#[no_mangle]
pub unsafe extern "C" fn seam_conn_accept(
    h: *mut SeamHandle,
    fd: libc::c_int,
    options: *const SeamConnOptions,
    out: *mut *mut SeamConn,
) -> u16 {
    unsafe { open(h, fd, options, out, Role::Server) }
}

impl SeamConn {
    /// Waits up to `deadline` for plaintext (or the peer's close).
    fn fill(&mut self, deadline: Instant) -> Res<()> {
        while self.pending.is_empty() && !self.conn.is_closed() {
            if let Some(e) = self.conn.error() {
                return Err(fail(e.clone()));
            }
            let now = Instant::now();
            let wake = self
                .conn
                .poll_timeout()
                .map_or(deadline, |t| t.min(deadline));
            let got = self
                .link
                .recv(&mut self.scratch, wake.saturating_duration_since(now))
                .map_err(|e| Fail {
                    status: crate::SEAM_INTERNAL_SERVER_ERROR,
                    message: format!("receiving: {e}"),
                })?;
            let now = Instant::now();
            match got {
                Some(0) => {
                    return Err(Fail {
                        status: crate::SEAM_INTERNAL_SERVER_ERROR,
                        message: "the peer closed the connection without close_notify \
                                  (the data may be truncated)"
                            .into(),
                    })
                }
                Some(n) => self
                    .conn
                    .handle_input(&self.scratch[..n], now)
                    .map_err(fail)?,
                None => {}
            }
            if self.conn.poll_timeout().is_some_and(|t| now >= t) {
                self.conn.handle_timeout(now).map_err(fail)?;
            }
            flush(&mut self.conn, &mut self.link).map_err(fail)?;
            while let Some(d) = self.conn.recv() {
                if !d.is_empty() {
                    self.pending.push_back(d);
                }
            }
            if now >= deadline {
                break;
            }
        }
        Ok(())
    }
}

/// Reads plaintext: waits at most `timeout_ms` for some, then copies up to
/// `*len` bytes into `buf` and sets `*len` to the count (0 if nothing came
/// in time). DTLS: one datagram's payload per read (the rest of a longer
/// one on the next reads). `*closed` (may be NULL) becomes true once the
/// peer has closed (close_notify) and everything it sent has been read.
///
/// # Safety
/// `c` is a live connection; `len` points to a `size_t`; `buf` to `*len`
/// writable bytes; `closed` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn seam_conn_read(
    c: *mut SeamConn,
    buf: *mut u8,
    len: *mut usize,
    timeout_ms: u32,
    closed: *mut bool,
) -> u16 {
    with_conn(c, |c| {
        if len.is_null() {
            return Err(Fail::bad("`len` is NULL"));
        }
        // SAFETY: non-NULL, the caller's promise.
        let capacity = unsafe { *len };
        unsafe { *len = 0 };
        if buf.is_null() && capacity != 0 {
            return Err(Fail::bad(format!("`buf` is NULL with capacity {capacity}")));
        }
        if !closed.is_null() {
            unsafe { *closed = false };
        }
        c.fill(Instant::now() + Duration::from_millis(timeout_ms.into()))?;
        let mut n = 0;
        if let Some(front) = c.pending.front_mut() {
            n = front.len().min(capacity);
            // SAFETY: n <= capacity, the caller's buffer.
            unsafe { std::ptr::copy_nonoverlapping(front.as_ptr(), buf, n) };
            front.drain(..n);
            if front.is_empty() {
                c.pending.pop_front();
            }
        }
        unsafe { *len = n };
        if !closed.is_null() {
            unsafe { *closed = c.pending.is_empty() && c.conn.is_closed() };
        }
        Ok(SEAM_OK)
    })
}

/// Sends `len` bytes of plaintext (TLS: split into records; DTLS: one
/// datagram, so at most `max_payload` of seam_conn_info).
///
/// # Safety
/// `c` is a live connection; `data` points to `len` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn seam_conn_write(c: *mut SeamConn, data: *const u8, len: usize) -> u16 {
    with_conn(c, |c| {
        let data = unsafe { args::bytes(data, len, SEAM_CONN_WRITE_MAX, "data") }?;
        if c.variant == Variant::Dtls && data.len() > c.conn.max_payload() {
            return Err(Fail::bad(format!(
                "`data` is {} bytes; one DTLS datagram carries at most {}",
                data.len(),
                c.conn.max_payload()
            )));
        }
        c.conn.send(data).map_err(fail)?;
        flush(&mut c.conn, &mut c.link).map_err(fail)?;
        Ok(SEAM_OK)
    })
}

/// What the handshake negotiated.
///
/// # Safety
/// `c` is a live connection; `out` is writable.
#[no_mangle]
pub unsafe extern "C" fn seam_conn_info(c: *mut SeamConn, out: *mut SeamConnInfo) -> u16 {
    with_conn(c, |c| {
        let out = args::out_ptr(out, "out")?;
        let info = c.conn.info();
        let mut r = SeamConnInfo {
            protocol: match c.variant {
                Variant::Tls => SEAM_CONN_TLS,
                Variant::Dtls => SEAM_CONN_DTLS,
            },
            suite: info.suite.map_or(0, |s| s.id()),
            suite_name: [0; 48],
            extended_master_secret: info.extended_master_secret,
            has_peer_public_key: false,
            peer_public_key: [0; 65],
            max_payload: c.conn.max_payload() as u32,
        };
        args::fill_text(&mut r.suite_name, info.suite.map_or("", |s| s.name()));
        if let Some(k) = info
            .peer_public_key
            .as_deref()
            .and_then(|k| <[u8; 65]>::try_from(k).ok())
        {
            r.has_peer_public_key = true;
            r.peer_public_key = k;
        }
        // SAFETY: checked non-NULL; the caller's storage.
        unsafe { out.write(r) };
        Ok(SEAM_OK)
    })
}

fn nul_terminated(text: &str) -> Vec<u8> {
    let mut v = text.replace('\0', " ").into_bytes();
    v.push(0);
    v
}

/// The peer certificate's parsed leaf: its subject (RFC 4514) and SAN URIs.
fn peer_names(c: &SeamConn) -> Option<(String, Vec<String>)> {
    use x509_cert::der::Decode;
    use x509_cert::ext::pkix::name::GeneralName;
    use x509_cert::ext::pkix::SubjectAltName;
    let info = c.conn.info();
    let cert = x509_cert::Certificate::from_der(info.peer_certificates.first()?).ok()?;
    let tbs = &cert.tbs_certificate;
    let mut uris = Vec::new();
    for ext in tbs.extensions.iter().flatten() {
        if ext.extn_id == x509_cert::der::oid::db::rfc5280::ID_CE_SUBJECT_ALT_NAME {
            if let Ok(san) = SubjectAltName::from_der(ext.extn_value.as_bytes()) {
                for name in san.0 {
                    if let GeneralName::UniformResourceIdentifier(uri) = name {
                        uris.push(uri.to_string());
                    }
                }
            }
        }
    }
    Some((tbs.subject.to_string(), uris))
}

/// The peer certificate's subject, e.g. "CN=peer", NUL-terminated, in `buf`
/// of capacity `*len` (which receives the length with the NUL); 4004 if
/// the peer presented no certificate.
///
/// # Safety
/// `c` is a live connection; `len` points to a `size_t`; `buf` to `*len` bytes.
#[no_mangle]
pub unsafe extern "C" fn seam_conn_peer_subject(
    c: *mut SeamConn,
    buf: *mut c_char,
    len: *mut usize,
) -> u16 {
    with_conn(c, |c| {
        let out = unsafe { VarOut::new(buf.cast(), len, "buf") }?;
        let (subject, _) = peer_names(c).ok_or(Fail {
            status: crate::SEAM_NOT_FOUND,
            message: "the peer presented no certificate".into(),
        })?;
        unsafe { out.write(&nul_terminated(&subject)) }?;
        Ok(SEAM_OK)
    })
}

/// The peer certificate's SAN URIs (oneM2M CSE-IDs and AE-IDs), one per
/// line, NUL-terminated (empty if none); 4004 if it presented no certificate.
///
/// # Safety
/// As seam_conn_peer_subject.
#[no_mangle]
pub unsafe extern "C" fn seam_conn_peer_uris(
    c: *mut SeamConn,
    buf: *mut c_char,
    len: *mut usize,
) -> u16 {
    with_conn(c, |c| {
        let out = unsafe { VarOut::new(buf.cast(), len, "buf") }?;
        let (_, uris) = peer_names(c).ok_or(Fail {
            status: crate::SEAM_NOT_FOUND,
            message: "the peer presented no certificate".into(),
        })?;
        unsafe { out.write(&nul_terminated(&uris.join("\n"))) }?;
        Ok(SEAM_OK)
    })
}

/// PSK suites: the PSK identity the handshake used (the one the client
/// sent), NUL-terminated; 4004 on a certificate suite.
///
/// # Safety
/// As seam_conn_peer_subject.
#[no_mangle]
pub unsafe extern "C" fn seam_conn_psk_identity(
    c: *mut SeamConn,
    buf: *mut c_char,
    len: *mut usize,
) -> u16 {
    with_conn(c, |c| {
        let out = unsafe { VarOut::new(buf.cast(), len, "buf") }?;
        let info = c.conn.info();
        let id = info
            .psk_identity
            .filter(|_| info.suite.is_some_and(|s| s.is_psk()))
            .ok_or(Fail {
                status: crate::SEAM_NOT_FOUND,
                message: "the connection used no PSK".into(),
            })?;
        unsafe { out.write(&nul_terminated(&String::from_utf8_lossy(&id))) }?;
        Ok(SEAM_OK)
    })
}

/// Stores this connection's oneM2M exporter output (`label`:
/// SEAM_EXPORT_BOOTSTRAP or SEAM_EXPORT_CONNECTION) as the key `object` in
/// the SE of the connection's credential. The key never leaves the SE: the
/// caller learns its RelativeKeID (`relative_id`, 16 bytes, may be NULL)
/// and SUID (`suid`). For SEAM_EXPORT_CONNECTION `*suid` is also an input:
/// the SUID Kc was registered with at the MAF (32 to 35), under which it is
/// stored; for SEAM_EXPORT_BOOTSTRAP `suid` may be NULL. Needs
/// `options.keep_for_export` and a grant on the label.
///
/// # Safety
/// `c` is a live connection; `object` a NUL-terminated name; `relative_id`
/// NULL or 16 writable bytes; `suid` NULL or readable and writable.
#[no_mangle]
pub unsafe extern "C" fn seam_conn_export_key(
    c: *mut SeamConn,
    label: u32,
    object: *const c_char,
    relative_id: *mut u8,
    suid: *mut u8,
) -> u16 {
    with_conn(c, |c| {
        let label = match label {
            SEAM_EXPORT_BOOTSTRAP => ExportLabel::Bootstrap,
            SEAM_EXPORT_CONNECTION => ExportLabel::Connection { kc_suid: 0 },
            other => {
                return Err(Fail::bad(format!(
                    "label {other}: expected SEAM_EXPORT_BOOTSTRAP or SEAM_EXPORT_CONNECTION"
                )))
            }
        };
        let object = unsafe { args::name(object, "object") }?;
        if !c.kept_for_export {
            return Err(Fail {
                status: crate::SEAM_OPERATION_NOT_ALLOWED,
                message: "the connection was opened without `keep_for_export`, so its \
                          handshake session is gone"
                    .into(),
            });
        }
        let label = match label {
            ExportLabel::Connection { .. } if suid.is_null() => {
                return Err(Fail::bad(
                    "SEAM_EXPORT_CONNECTION needs `*suid`: the SUID Kc was registered with \
                     at the MAF (32 to 35)",
                ))
            }
            ExportLabel::Connection { .. } => {
                // SAFETY: non-NULL, readable (the caller's promise).
                let kc_suid = unsafe { *suid };
                if kc_suid / 10 != 3 || !seam_host::proto::Suid::is_valid(kc_suid) {
                    return Err(Fail::bad(format!(
                        "*suid {kc_suid}: Kc's SUID is one of 32 to 35 (TS-0004)"
                    )));
                }
                ExportLabel::Connection { kc_suid }
            }
            other => other,
        };
        let key = c.conn.export_key(label, &object).map_err(|e| {
            let mut f = fail(e);
            if f.status == crate::SEAM_ORIGINATOR_NOT_AUTHENTICATED {
                // The SE refused the export (e.g. no grant on the label).
                f.status = crate::SEAM_ORIGINATOR_HAS_NO_PRIVILEGE;
            }
            f
        })?;
        if !relative_id.is_null() {
            unsafe { args::write_fixed(relative_id, &key.relative_id) };
        }
        if !suid.is_null() {
            unsafe { *suid = key.suid };
        }
        Ok(crate::SEAM_CREATED)
    })
}

/// Sends close_notify (best effort), frees the connection and releases its
/// handshake session in the SE. Does not close the socket. NULL is ignored.
///
/// # Safety
/// `c` is NULL or a live connection, closed once; its handle still open.
#[no_mangle]
pub unsafe extern "C" fn seam_conn_close(c: *mut SeamConn) {
    if c.is_null() {
        return;
    }
    let _ = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: from Box::into_raw in open.
        let mut c = unsafe { Box::from_raw(c) };
        c.conn.close();
        let _ = flush(&mut c.conn, &mut c.link);
        drop(c);
    }));
}
