//! Caller identities as OP-TEE sees them.
//!
//! For TEEC_LOGIN_USER and TEEC_LOGIN_GROUP the Linux kernel (drivers/tee,
//! `tee_session_calc_client_uuid`) derives the client UUID as a UUIDv5 in a
//! fixed namespace over the text `uid=<hex uid>` or `gid=<hex gid>`. The
//! simulator derives it the same way, so an ACL written on a laptop holds on a
//! device.

use seam_proto::ClientId;
use uuid::Uuid;

/// The kernel's namespace for TEE client UUIDs.
pub const TEE_CLIENT_NAMESPACE: Uuid = uuid::uuid!("58ac9ca0-2086-4683-a1b8-ec4bc08e01b6");

/// The client UUID OP-TEE reports for a TEEC_LOGIN_USER session of `uid`.
pub fn for_uid(uid: u32) -> ClientId {
    derive(&format!("uid={uid:x}"))
}

/// The client UUID OP-TEE reports for a TEEC_LOGIN_GROUP session of `gid`.
pub fn for_gid(gid: u32) -> ClientId {
    derive(&format!("gid={gid:x}"))
}

/// The identity of this process (the kernel uses the effective uid).
pub fn current_user() -> ClientId {
    // SAFETY: geteuid has no preconditions and cannot fail.
    for_uid(unsafe { libc::geteuid() })
}

fn derive(name: &str) -> ClientId {
    ClientId(*Uuid::new_v5(&TEE_CLIENT_NAMESPACE, name.as_bytes()).as_bytes())
}

/// Parse `uid:N`, `gid:N` or a UUID, as the command line takes a grantee.
pub fn parse_grantee(text: &str) -> Result<ClientId, String> {
    if let Some(n) = text.strip_prefix("uid:") {
        let uid = n
            .parse()
            .map_err(|_| format!("`{text}`: uid must be a decimal number"))?;
        return Ok(for_uid(uid));
    }
    if let Some(n) = text.strip_prefix("gid:") {
        let gid = n
            .parse()
            .map_err(|_| format!("`{text}`: gid must be a decimal number"))?;
        return Ok(for_gid(gid));
    }
    Uuid::parse_str(text)
        .map(|u| ClientId(*u.as_bytes()))
        .map_err(|_| format!("`{text}`: expected uid:N, gid:N or a UUID"))
}
