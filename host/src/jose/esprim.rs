//! ESPrim (TS-0003 §8.4.2): end-to-end protection of a whole oneM2M request
//! or response primitive between its originator and its target, which share
//! a pairwise ESPrim key (a Kpsa-based E2E key, an ESCertKE key, or a
//! pre-provisioned one: a secret under a SUID whose use digit is 3).
//!
//! The exchange: the target publishes an ESPrim random object
//! ([`RandObject`]: `esprimRandID`, `esprimRandValue`, `esprimRandExpiry`);
//! the originator makes its own, and both derive
//! sessionESPrimKey = HMAC-SHA-256(pairwise key, receiver rand ‖ originator
//! rand ‖ label). The originator's random object travels in the ESPrim
//! object's protected header beside the receiver's random ID, so the target
//! can derive the same key. The ESPrim object is a compact JWE, `dir` with
//! `A256GCM`, whose CEK is the sessionESPrimKey: the SE derives it for each
//! call from the stored pairwise key and the two random values and never
//! stores or returns it ([`seam_proto::jose::JoseOp::EsPrimEncrypt`]). The
//! response travels back under the same session key.
//!
//! Choices where TS-0003 leaves one (listed in docs/api.md): the header
//! members' names and the direction/identity binding below; random values of
//! 32 bytes from the SE's RNG (16..=64 accepted), base64url in JSON; expiry as
//! a Unix time in seconds; a random object is refused at or after its expiry.

use seam_proto::jose::{
    EsPrimRands, JoseOp, JoseReply, JweEnc, JWE_IV_LEN, JWE_TAG_LEN, MAX_ESPRIM_RAND,
    MIN_ESPRIM_RAND,
};
use seam_proto::{KeyRef, Op, Reply, MAX_DATA};
use serde_json::{json, Map, Value};

use super::{alg_of, b64, jose_text, malformed, protected_header, unb64, JoseError, Result};
use crate::Client;

/// The content encryption of every ESPrim object: the session key is 256 bits.
pub const ESPRIM_ENC: JweEnc = JweEnc::A256Gcm;
/// How many random bytes [`RandObject::generate`] asks the SE for.
pub const RAND_LEN: usize = 32;

/// An ESPrim random object (TS-0003 §8.4.2, TS-0004 `esprimRandObject`).
/// Public: the target publishes its own, the originator sends its own.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RandObject {
    /// `esprimRandID`.
    pub id: String,
    /// `esprimRandValue`: 16..=64 bytes.
    pub value: Vec<u8>,
    /// `esprimRandExpiry`, Unix seconds.
    pub expiry: u64,
}

impl RandObject {
    /// A new random object with [`RAND_LEN`] bytes from the SE's RNG.
    pub fn generate(client: &mut Client, id: &str, expiry: u64) -> Result<RandObject> {
        check_id(id, "esprimRandID")?;
        Ok(RandObject {
            id: id.to_owned(),
            value: client.random(RAND_LEN)?,
            expiry,
        })
    }

    /// `{"esprimRandID":…,"esprimRandValue":base64url,"esprimRandExpiry":unix}`.
    pub fn to_json(&self) -> Value {
        json!({
            "esprimRandID": self.id,
            "esprimRandValue": b64(&self.value),
            "esprimRandExpiry": self.expiry,
        })
    }

    /// Parse and check a random object.
    pub fn from_json(value: &Value) -> Result<RandObject> {
        let o = value
            .as_object()
            .ok_or_else(|| malformed("an ESPrim random object is a JSON object"))?;
        let text = |name: &str| -> Result<&str> {
            o.get(name)
                .and_then(Value::as_str)
                .ok_or_else(|| malformed(format!("random object has no string \"{name}\"")))
        };
        let id = text("esprimRandID")?;
        check_id(id, "esprimRandID")?;
        let value = unb64(text("esprimRandValue")?, "esprimRandValue")?;
        if !(MIN_ESPRIM_RAND..=MAX_ESPRIM_RAND).contains(&value.len()) {
            return Err(malformed(format!(
                "esprimRandValue is {} bytes, not {MIN_ESPRIM_RAND} to {MAX_ESPRIM_RAND}",
                value.len()
            )));
        }
        let expiry = o
            .get("esprimRandExpiry")
            .and_then(Value::as_u64)
            .ok_or_else(|| malformed("random object has no Unix-time \"esprimRandExpiry\""))?;
        Ok(RandObject {
            id: id.to_owned(),
            value,
            expiry,
        })
    }

    /// Parse a random object from JSON text.
    pub fn parse(text: &[u8]) -> Result<RandObject> {
        let value: Value = serde_json::from_slice(text)
            .map_err(|e| malformed(format!("random object is not JSON: {e}")))?;
        RandObject::from_json(&value)
    }

    fn check_live(&self, now: u64, whose: &str) -> Result<()> {
        if now >= self.expiry {
            return Err(JoseError::EsPrimRefused(format!(
                "the {whose} ESPrim random object {} expired (expiry {}, now {now})",
                self.id, self.expiry
            )));
        }
        Ok(())
    }
}

/// Identifiers (CSE-IDs, AE-IDs, random IDs): printable ASCII, as the SE's
/// derivations take them, at most 256 bytes.
fn check_id(id: &str, what: &str) -> Result<()> {
    if id.is_empty() || id.len() > 256 || !id.bytes().all(|b| (0x21..=0x7e).contains(&b)) {
        return Err(malformed(format!(
            "{what} must be 1 to 256 printable ASCII characters"
        )));
    }
    Ok(())
}

/// What both ends know of an ESPrim session: who is who and the two random
/// objects. Holds no key; the session key exists only inside each SE call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Session {
    /// The request's originator (AE-ID or CSE-ID).
    pub originator: String,
    /// The request's target, the ESPrim receiver.
    pub target: String,
    /// The target's random object.
    pub receiver_rand: RandObject,
    /// The originator's random object.
    pub originator_rand: RandObject,
}

impl Session {
    fn rands(&self) -> Result<EsPrimRands> {
        let v = |r: &RandObject| {
            heapless::Vec::from_slice(&r.value)
                .map_err(|_| malformed("esprimRandValue longer than 64 bytes"))
        };
        Ok(EsPrimRands {
            receiver: v(&self.receiver_rand)?,
            originator: v(&self.originator_rand)?,
        })
    }

    /// The session as JSON (to keep it between a request and its response).
    pub fn to_json(&self) -> Value {
        json!({
            "originator": self.originator,
            "target": self.target,
            "receiverRand": self.receiver_rand.to_json(),
            "originatorRand": self.originator_rand.to_json(),
        })
    }

    pub fn from_json(value: &Value) -> Result<Session> {
        let o = value
            .as_object()
            .ok_or_else(|| malformed("an ESPrim session is a JSON object"))?;
        let id = |name: &str| -> Result<String> {
            let s = o
                .get(name)
                .and_then(Value::as_str)
                .ok_or_else(|| malformed(format!("session has no string \"{name}\"")))?;
            check_id(s, name)?;
            Ok(s.to_owned())
        };
        let rand = |name: &str| {
            RandObject::from_json(
                o.get(name)
                    .ok_or_else(|| malformed(format!("session has no \"{name}\"")))?,
            )
        };
        Ok(Session {
            originator: id("originator")?,
            target: id("target")?,
            receiver_rand: rand("receiverRand")?,
            originator_rand: rand("originatorRand")?,
        })
    }
}

/// Which primitive an ESPrim object carries: the header binds it, so a
/// request cannot be reflected back as a response.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    Request,
    Response,
}

impl Direction {
    fn name(self) -> &'static str {
        match self {
            Direction::Request => "request",
            Direction::Response => "response",
        }
    }
}

/// Originator: protect `request` for `target`, whose published random object
/// is `receiver_rand`, under the pairwise key `key`, at Unix time `now`. The
/// originator's random object is made here (expiring with the receiver's).
/// Returns the ESPrim object (a compact JWE) and the session, which
/// [`unprotect_response`] needs.
pub fn protect_request(
    client: &mut Client,
    key: &KeyRef,
    originator: &str,
    target: &str,
    receiver_rand: &RandObject,
    now: u64,
    request: &[u8],
) -> Result<(String, Session)> {
    check_id(originator, "originator")?;
    check_id(target, "target")?;
    receiver_rand.check_live(now, "receiver's")?;
    // The originator's random ID only needs to be unique for this
    // originator: the receiver's ID and a random value's prefix make it so.
    let suffix = hex(&client.random(8)?);
    let originator_rand = RandObject::generate(
        client,
        &format!("{}-{suffix}", receiver_rand.id),
        receiver_rand.expiry,
    )?;
    let session = Session {
        originator: originator.to_owned(),
        target: target.to_owned(),
        receiver_rand: receiver_rand.clone(),
        originator_rand,
    };
    let jwe = protect(client, key, &session, Direction::Request, request)?;
    Ok((jwe, session))
}

/// Target: open an ESPrim request addressed to `own_id`, made with one of
/// `own_rands` (the random objects this target published), at `now`.
/// Returns the request primitive and the session for the response. The
/// caller still checks that the primitive's `fr` is `session.originator`.
pub fn unprotect_request(
    client: &mut Client,
    key: &KeyRef,
    own_id: &str,
    own_rands: &[RandObject],
    now: u64,
    esprim: &[u8],
) -> Result<(Vec<u8>, Session)> {
    let object = Parsed::parse(esprim)?;
    object.expect_direction(Direction::Request)?;
    let to = object.member("esprimTo")?;
    if to != own_id {
        return Err(JoseError::EsPrimRefused(format!(
            "the ESPrim object is for {to}, not {own_id}"
        )));
    }
    let receiver_id = object.member("esprimReceiverRandID")?;
    let receiver_rand = own_rands
        .iter()
        .find(|r| r.id == receiver_id)
        .ok_or_else(|| {
            JoseError::EsPrimRefused(format!(
                "no random object of this receiver has the ID {receiver_id}"
            ))
        })?
        .clone();
    receiver_rand.check_live(now, "receiver's")?;
    let originator_rand = RandObject::from_json(
        object
            .header
            .get("esprimOriginatorRandObject")
            .ok_or_else(|| malformed("ESPrim header has no \"esprimOriginatorRandObject\""))?,
    )?;
    originator_rand.check_live(now, "originator's")?;
    let originator = object.member("esprimFrom")?.to_owned();
    check_id(&originator, "esprimFrom")?;
    let session = Session {
        originator,
        target: own_id.to_owned(),
        receiver_rand,
        originator_rand,
    };
    let primitive = object.open(client, key, &session)?;
    Ok((primitive, session))
}

/// Target: protect the response to a request [`unprotect_request`] opened.
pub fn protect_response(
    client: &mut Client,
    key: &KeyRef,
    session: &Session,
    now: u64,
    response: &[u8],
) -> Result<String> {
    session.receiver_rand.check_live(now, "receiver's")?;
    protect(client, key, session, Direction::Response, response)
}

/// Originator: open the response to the request [`protect_request`] made.
pub fn unprotect_response(
    client: &mut Client,
    key: &KeyRef,
    session: &Session,
    now: u64,
    esprim: &[u8],
) -> Result<Vec<u8>> {
    session.receiver_rand.check_live(now, "receiver's")?;
    let object = Parsed::parse(esprim)?;
    object.expect_direction(Direction::Response)?;
    for (member, want) in [
        ("esprimFrom", &session.target),
        ("esprimTo", &session.originator),
        ("esprimReceiverRandID", &session.receiver_rand.id),
    ] {
        let got = object.member(member)?;
        if got != want {
            return Err(JoseError::EsPrimRefused(format!(
                "\"{member}\" is {got}, this session's is {want}"
            )));
        }
    }
    match object.header.get("esprimOriginatorRandObject") {
        Some(v) if RandObject::from_json(v)? == session.originator_rand => {}
        _ => {
            return Err(JoseError::EsPrimRefused(
                "the response names another originator random object than this session's".into(),
            ))
        }
    }
    object.open(client, key, session)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn protect(
    client: &mut Client,
    key: &KeyRef,
    session: &Session,
    direction: Direction,
    primitive: &[u8],
) -> Result<String> {
    if primitive.len() > MAX_DATA {
        return Err(JoseError::Unsupported(format!(
            "the primitive is {} bytes; the SE encrypts at most {MAX_DATA}",
            primitive.len()
        )));
    }
    let (from, to) = match direction {
        Direction::Request => (&session.originator, &session.target),
        Direction::Response => (&session.target, &session.originator),
    };
    let header = json!({
        "alg": "dir",
        "enc": ESPRIM_ENC.name(),
        "esprimPrimitive": direction.name(),
        "esprimFrom": from,
        "esprimTo": to,
        "esprimReceiverRandID": session.receiver_rand.id,
        "esprimOriginatorRandObject": session.originator_rand.to_json(),
    })
    .to_string();
    let op = Op::Jose(JoseOp::EsPrimEncrypt {
        key: key.clone(),
        rands: session.rands()?,
        enc: ESPRIM_ENC,
        header: crate::convert::bounded(header.as_bytes(), "ESPrim protected header")?,
        plaintext: crate::convert::data(primitive)?,
    });
    let (protected, iv, sealed) = match client.call(op)?.reply {
        Reply::Jose(JoseReply::Jwe {
            protected,
            iv,
            ciphertext,
            ..
        }) => (protected, iv, ciphertext),
        other => {
            return Err(
                crate::Error::Protocol(format!("expected a JWE reply, got {other:?}")).into(),
            )
        }
    };
    let protected =
        String::from_utf8(protected.to_vec()).map_err(|_| malformed("SE header not UTF-8"))?;
    let split = sealed
        .len()
        .checked_sub(JWE_TAG_LEN)
        .ok_or_else(|| crate::Error::Protocol("JWE ciphertext shorter than its tag".into()))?;
    let (ciphertext, tag) = sealed.split_at(split);
    Ok(format!(
        "{protected}..{}.{}.{}",
        b64(&iv),
        b64(ciphertext),
        b64(tag)
    ))
}

/// A parsed ESPrim object, checked before any key is touched.
struct Parsed {
    protected: String,
    header: Map<String, Value>,
    iv: [u8; JWE_IV_LEN],
    sealed: Vec<u8>,
}

impl Parsed {
    fn parse(esprim: &[u8]) -> Result<Parsed> {
        let text = jose_text(esprim)?;
        let parts: Vec<&str> = text.split('.').collect();
        let [protected, encrypted_key, iv, ciphertext, tag] = parts.as_slice() else {
            return Err(malformed(
                "an ESPrim object is a compact JWE: five base64url parts separated by '.'",
            ));
        };
        let header = protected_header(protected)?;
        if alg_of(&header)? != "dir" || header.get("enc") != Some(&json!(ESPRIM_ENC.name())) {
            return Err(JoseError::Unsupported(format!(
                "an ESPrim object is \"alg\":\"dir\" with \"enc\":\"{}\"",
                ESPRIM_ENC.name()
            )));
        }
        if header.contains_key("zip") {
            return Err(JoseError::Unsupported("\"zip\"".into()));
        }
        if !encrypted_key.is_empty() {
            return Err(malformed("an ESPrim object (\"dir\") has no encrypted key"));
        }
        let iv = unb64(iv, "IV")?;
        let iv: [u8; JWE_IV_LEN] = iv
            .as_slice()
            .try_into()
            .map_err(|_| malformed(format!("the IV is {} bytes, not {JWE_IV_LEN}", iv.len())))?;
        let tag = unb64(tag, "tag")?;
        if tag.len() != JWE_TAG_LEN {
            return Err(malformed(format!(
                "the tag is {} bytes, not {JWE_TAG_LEN} (truncated tags are refused)",
                tag.len()
            )));
        }
        let mut sealed = unb64(ciphertext, "ciphertext")?;
        if sealed.len() > MAX_DATA {
            return Err(JoseError::Unsupported(format!(
                "the ciphertext is {} bytes; the SE decrypts at most {MAX_DATA}",
                sealed.len()
            )));
        }
        sealed.extend_from_slice(&tag);
        Ok(Parsed {
            protected: protected.to_string(),
            header,
            iv,
            sealed,
        })
    }

    fn member(&self, name: &str) -> Result<&str> {
        self.header
            .get(name)
            .and_then(Value::as_str)
            .ok_or_else(|| malformed(format!("ESPrim header has no string \"{name}\"")))
    }

    fn expect_direction(&self, want: Direction) -> Result<()> {
        let got = self.member("esprimPrimitive")?;
        if got != want.name() {
            return Err(JoseError::EsPrimRefused(format!(
                "the ESPrim object carries a {got}, a {} was expected",
                want.name()
            )));
        }
        Ok(())
    }

    fn open(&self, client: &mut Client, key: &KeyRef, session: &Session) -> Result<Vec<u8>> {
        let op = Op::Jose(JoseOp::EsPrimDecrypt {
            key: key.clone(),
            rands: session.rands()?,
            enc: ESPRIM_ENC,
            protected: crate::convert::bounded(
                self.protected.as_bytes(),
                "ESPrim protected header",
            )?,
            iv: self.iv,
            ciphertext: crate::convert::bounded(&self.sealed, "ciphertext")?,
        });
        match client.call(op)?.reply {
            Reply::Plaintext(p) => Ok(p.to_vec()),
            other => {
                Err(crate::Error::Protocol(format!("expected a plaintext, got {other:?}")).into())
            }
        }
    }
}
