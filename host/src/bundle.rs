//! Offline provisioning: a stakeholder builds and signs an admin command on
//! its own machine, with no TEE, and the device only relays it.
//!
//! # What the stakeholder needs from the device: the node descriptor
//!
//! An admin command is signed over the node id, the SE name, the SE instance
//! and a counter; credentials are wrapped to the node's key-agreement key. So
//! the stakeholder needs those values once, as a *node descriptor*: the text
//! that `seam se info SE` prints (and `seam init` prints the node part of):
//!
//! ```text
//! # seam node descriptor
//! node-id: 00112233445566778899aabbccddeeff
//! se: operator
//! se-instance: 2
//! admin-counter: 0
//! admin-key: 04…(130 hex digits)
//! m2m-se-id: 3-00112233445566778899aabbccddeeff-operator
//! -----BEGIN PUBLIC KEY-----
//! (the node's key-agreement key, SPKI)
//! -----END PUBLIC KEY-----
//! ```
//!
//! Lines before the PEM block are `key: value`; `#` starts a comment and
//! unknown keys are ignored, so the full `seam se info` output parses as a
//! descriptor. The descriptor is public, but it must reach the stakeholder
//! *authentically* (from the factory record, the issuer, or read off the
//! device by someone the stakeholder trusts): a forged node key would make
//! the stakeholder wrap its secrets to an attacker (docs/threat-model.md).
//!
//! # The counter
//!
//! The TA accepts an admin command only if its counter exceeds the last one
//! the SE accepted. A bundle's counter defaults to [`time_counter`]: the Unix
//! time in microseconds, or the descriptor's counter + 1 if that is larger.
//! So bundles made later from the same descriptor still apply (in the order
//! they were made), online commands after a bundle still work (they use the
//! SE's counter + 1), and a bundle applied or superseded is refused as a
//! replay (4106). An explicit counter can be given instead.
//!
//! # The file format (`SEAMBNDL` version 1)
//!
//! ```text
//! "SEAMBNDL" (8 bytes) ‖ format version (1 byte, = 1) ‖
//! postcard((node id: NodeId, se instance: u64, command: AdminCommand))
//! ```
//!
//! with nothing after it. The node id and SE instance are repeated outside
//! the signed command only so that `seam bundle apply` can say "this bundle
//! is for another node" before relaying it; the TA checks the signature over
//! its own node id and SE instance in any case.
//!
//! # All or nothing
//!
//! A bundle is exactly one [`AdminCommand`], which the TA applies all or
//! nothing; it therefore carries at most [`MAX_ADMIN_OPS`] operations (keys
//! plus grants). More are refused when the bundle is created: make several
//! bundles (each gets its own, higher counter), each of which applies whole
//! or not at all.

use p256::pkcs8::DecodePrivateKey;
use seam_proto::{
    AclEntry, AdminCommand, AdminOp, AdminOutcome, KeyAttributes, NodeId, ObjectKind, Op,
    PublicKey, Request, SeInfo, Suid, MAX_ADMIN_OPS, MAX_MESSAGE,
};
use zeroize::Zeroizing;

use crate::client::{name, sign_admin_for, wrap_to};
use crate::signer::{public_key_from_pem, public_key_to_pem, CommandSigner};
use crate::{Client, Error, Result};

/// The first bytes of a bundle file.
pub const BUNDLE_MAGIC: [u8; 8] = *b"SEAMBNDL";
/// The bundle format this library writes and reads.
pub const BUNDLE_VERSION: u8 = 1;

/// What the stakeholder knows of the node (and, for a bundle, of its SE).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeDescriptor {
    pub node_id: NodeId,
    /// The key credentials are wrapped to.
    pub node_key: PublicKey,
    /// The SE a bundle will be for (absent in what `seam init` prints).
    pub se: Option<SeDescriptor>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SeDescriptor {
    pub name: String,
    /// The SE's instance: part of every admin signature.
    pub instance: u64,
    /// The SE's last accepted admin counter when the descriptor was taken.
    pub admin_counter: u64,
    /// The SE's admin public key, if the descriptor names it.
    pub admin: Option<PublicKey>,
}

impl NodeDescriptor {
    /// Read the descriptor off a device (the node part, and `se` if given).
    pub fn from_device(client: &mut Client, se: Option<&str>) -> Result<NodeDescriptor> {
        let node = client.node()?;
        let se = match se {
            Some(se) => Some(SeDescriptor::from_info(&client.se_info(se)?)),
            None => None,
        };
        Ok(NodeDescriptor {
            node_id: node.node_id,
            node_key: node.key_agreement,
            se,
        })
    }

    /// The `key: value` lines of the descriptor (without the PEM block).
    pub fn fields(&self) -> Vec<(&'static str, String)> {
        let mut out = vec![("node-id", hex::encode(self.node_id.0))];
        if let Some(se) = &self.se {
            out.push(("se", se.name.clone()));
            out.push(("se-instance", se.instance.to_string()));
            out.push(("admin-counter", se.admin_counter.to_string()));
            if let Some(admin) = &se.admin {
                out.push(("admin-key", hex::encode(admin.0)));
            }
        }
        out
    }

    /// The descriptor as text: its fields, then the node key as SPKI PEM.
    pub fn to_text(&self) -> Result<String> {
        let mut text = String::from("# seam node descriptor\n");
        for (k, v) in self.fields() {
            text.push_str(&format!("{k}: {v}\n"));
        }
        text.push_str(&public_key_to_pem(&self.node_key)?);
        Ok(text)
    }

    /// Parse a descriptor: `key: value` lines, then one `BEGIN PUBLIC KEY`
    /// block. Unknown keys and `#` comments are ignored.
    pub fn parse(text: &str) -> Result<NodeDescriptor> {
        let bad = |what: String| Error::InvalidInput(format!("node descriptor: {what}"));
        let begin = text.find("-----BEGIN PUBLIC KEY-----").ok_or_else(|| {
            bad("no `-----BEGIN PUBLIC KEY-----` block (the node's key-agreement key)".into())
        })?;
        let end_marker = "-----END PUBLIC KEY-----";
        let end = text[begin..]
            .find(end_marker)
            .map(|e| begin + e + end_marker.len())
            .ok_or_else(|| bad("the public key block has no END line".into()))?;
        let node_key = public_key_from_pem(&text[begin..end])
            .map_err(|_| bad("the node key is not a P-256 public key in SPKI PEM".into()))?;

        let mut fields = std::collections::BTreeMap::new();
        for line in text[..begin].lines() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (k, v) = line
                .split_once(':')
                .ok_or_else(|| bad(format!("line `{line}` is not `key: value`")))?;
            fields.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
        }
        let node_id = fields
            .get("node-id")
            .ok_or_else(|| bad("no `node-id:` line".into()))?;
        let node_id = hex::decode(node_id)
            .ok()
            .and_then(|b| NodeId::try_from(b.as_slice()).ok())
            .ok_or_else(|| bad(format!("node-id `{node_id}` is not 32 hex digits")))?;
        let number = |key: &str| -> Result<Option<u64>> {
            fields
                .get(key)
                .map(|v| {
                    v.parse::<u64>()
                        .map_err(|_| bad(format!("{key} `{v}` is not a number")))
                })
                .transpose()
        };
        let se = match fields.get("se") {
            None => None,
            Some(se_name) => {
                let instance = number("se-instance")?
                    .ok_or_else(|| bad(format!("SE `{se_name}` without an `se-instance:` line")))?;
                let admin_counter = number("admin-counter")?.unwrap_or(0);
                let admin = match fields.get("admin-key") {
                    None => None,
                    Some(h) => Some(
                        hex::decode(h)
                            .ok()
                            .and_then(|b| PublicKey::try_from(b.as_slice()).ok())
                            .ok_or_else(|| bad(format!("admin-key `{h}` is not 130 hex digits")))?,
                    ),
                };
                Some(SeDescriptor {
                    name: se_name.clone(),
                    instance,
                    admin_counter,
                    admin,
                })
            }
        };
        Ok(NodeDescriptor {
            node_id,
            node_key,
            se,
        })
    }
}

impl SeDescriptor {
    pub fn from_info(info: &SeInfo) -> SeDescriptor {
        SeDescriptor {
            name: info.name.to_string(),
            instance: info.instance,
            admin_counter: info.admin_counter,
            admin: Some(info.admin),
        }
    }
}

/// A credential to put in a bundle (wrapped to the node key when the bundle is made).
pub struct BundleKey {
    pub name: String,
    pub suid: Suid,
    pub material: Material,
    /// Role and lifetime the key is created with.
    pub attributes: KeyAttributes,
}

/// Key material in the clear, on the stakeholder's side only.
pub enum Material {
    /// A symmetric secret (PSK, AES or HMAC key), 16..=64 bytes.
    Secret(Zeroizing<Vec<u8>>),
    /// A P-256 private key: its 32-byte big-endian scalar.
    EcP256(Zeroizing<Vec<u8>>),
    /// Opaque sensitive data, up to `MAX_DATA` bytes.
    Data(Zeroizing<Vec<u8>>),
    /// A P-256 public key to trust (a token issuer's, a peer's): not secret,
    /// so imported as it is (`AdminOp::ImportPublicKey`), not wrapped; the
    /// admin's signature over the bundle is what makes it trusted.
    PublicKey(PublicKey),
}

impl Material {
    /// A P-256 private key from PEM: PKCS#8 (`BEGIN PRIVATE KEY`) or SEC1
    /// (`BEGIN EC PRIVATE KEY`).
    pub fn private_key_pem(pem: &str) -> Result<Material> {
        let key = p256::SecretKey::from_pkcs8_pem(pem)
            .or_else(|_| p256::SecretKey::from_sec1_pem(pem))
            .map_err(|_| {
                Error::InvalidInput("not a P-256 private key in PKCS#8 or SEC1 PEM".into())
            })?;
        Ok(Material::EcP256(Zeroizing::new(key.to_bytes().to_vec())))
    }

    pub fn kind(&self) -> ObjectKind {
        match self {
            Material::Secret(_) => ObjectKind::Secret,
            Material::EcP256(_) => ObjectKind::EcP256,
            Material::Data(_) => ObjectKind::Data,
            Material::PublicKey(_) => ObjectKind::PublicKey,
        }
    }

    pub fn bytes(&self) -> &[u8] {
        match self {
            Material::Secret(b) | Material::EcP256(b) | Material::Data(b) => b,
            Material::PublicKey(k) => &k.0,
        }
    }
}

/// A grant to put in a bundle; `object` may be `*`.
pub struct BundleGrant {
    pub object: String,
    pub entry: AclEntry,
}

/// One signed admin command for one SE of one node, ready to relay.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bundle {
    pub node_id: NodeId,
    pub se_instance: u64,
    pub command: AdminCommand,
}

/// The default bundle counter: the Unix time in microseconds, or `min` if
/// that is larger (a clock behind the SE's counter).
pub fn time_counter(min: u64) -> u64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
        .unwrap_or(0);
    now.max(min)
}

impl Bundle {
    /// Wrap `keys` to the node, add `grants`, and sign the whole as one admin
    /// command with `counter` (see [`time_counter`]). Needs no TEE.
    pub fn create(
        signer: &dyn CommandSigner,
        node: &NodeDescriptor,
        se: &str,
        counter: u64,
        keys: &[BundleKey],
        grants: &[BundleGrant],
    ) -> Result<Bundle> {
        let target = node.se.as_ref().ok_or_else(|| {
            Error::InvalidInput(format!(
                "the node descriptor names no SE; take it from `seam se info {se}` on the device"
            ))
        })?;
        if target.name != se {
            return Err(Error::InvalidInput(format!(
                "the node descriptor is for SE `{}`, not `{se}`",
                target.name
            )));
        }
        if let Some(admin) = &target.admin {
            if *admin != signer.public_key() {
                return Err(Error::InvalidInput(format!(
                    "the signing key is not SE `{se}`'s admin key (the descriptor names another)"
                )));
            }
        }
        let count = keys.len() + grants.len();
        if count == 0 {
            return Err(Error::InvalidInput(
                "an empty bundle: give at least one key or grant".into(),
            ));
        }
        if count > MAX_ADMIN_OPS {
            return Err(Error::InvalidInput(format!(
                "a bundle is one admin command, applied all or nothing, of at most \
                 {MAX_ADMIN_OPS} operations; {} keys and {} grants make {count}: split them \
                 into several bundles",
                keys.len(),
                grants.len()
            )));
        }
        if counter <= target.admin_counter {
            return Err(Error::InvalidInput(format!(
                "counter {counter} is not above the SE's last accepted counter {}",
                target.admin_counter
            )));
        }
        let mut ops = Vec::with_capacity(count);
        for key in keys {
            if let Material::PublicKey(public) = &key.material {
                ops.push(AdminOp::ImportPublicKey {
                    object: name(&key.name)?,
                    suid: key.suid,
                    key: *public,
                    attributes: key.attributes,
                });
                continue;
            }
            let wrapped = wrap_to(
                &node.node_id,
                &node.node_key,
                se,
                target.instance,
                &key.name,
                key.material.kind(),
                key.suid,
                key.material.bytes(),
            )?;
            ops.push(AdminOp::Import {
                object: name(&key.name)?,
                suid: key.suid,
                kind: key.material.kind(),
                wrapped,
                attributes: key.attributes,
            });
        }
        for grant in grants {
            ops.push(AdminOp::Grant {
                object: crate::client::grant_target(&grant.object)?,
                entry: grant.entry,
            });
        }
        let command = sign_admin_for(signer, &node.node_id, se, target.instance, counter, ops)?;
        let request = postcard::to_allocvec(&Request::new(Op::Admin(command.clone())))
            .map_err(|e| Error::InvalidInput(format!("the command does not encode: {e}")))?;
        if request.len() > MAX_MESSAGE {
            return Err(Error::InvalidInput(format!(
                "the bundle's command is {} bytes, a request is at most {MAX_MESSAGE}: \
                 put fewer or smaller items in each bundle",
                request.len()
            )));
        }
        Ok(Bundle {
            node_id: node.node_id,
            se_instance: target.instance,
            command,
        })
    }

    /// The file bytes.
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let body = postcard::to_allocvec(&(&self.node_id, self.se_instance, &self.command))
            .map_err(|e| Error::InvalidInput(format!("the bundle does not encode: {e}")))?;
        let mut out = Vec::with_capacity(BUNDLE_MAGIC.len() + 1 + body.len());
        out.extend_from_slice(&BUNDLE_MAGIC);
        out.push(BUNDLE_VERSION);
        out.extend_from_slice(&body);
        Ok(out)
    }

    /// Parse a bundle file; anything but exactly one well-formed bundle is refused.
    pub fn from_bytes(bytes: &[u8]) -> Result<Bundle> {
        let rest = bytes
            .strip_prefix(&BUNDLE_MAGIC)
            .ok_or_else(|| Error::InvalidInput("not a seam bundle (no SEAMBNDL header)".into()))?;
        let (version, body) = rest
            .split_first()
            .ok_or_else(|| Error::InvalidInput("bundle truncated after its header".into()))?;
        if *version != BUNDLE_VERSION {
            return Err(Error::InvalidInput(format!(
                "bundle format version {version}; this seam reads version {BUNDLE_VERSION}"
            )));
        }
        match postcard::take_from_bytes::<(NodeId, u64, AdminCommand)>(body) {
            Ok(((node_id, se_instance, command), [])) => Ok(Bundle {
                node_id,
                se_instance,
                command,
            }),
            Ok(_) => Err(Error::InvalidInput(
                "bundle has trailing bytes after its command".into(),
            )),
            Err(e) => Err(Error::InvalidInput(format!("bundle does not decode: {e}"))),
        }
    }

    pub fn se(&self) -> &str {
        &self.command.se
    }

    /// Relay the bundle to the SE on `client`'s node. The local checks only
    /// give a clearer message; the TA verifies the signature over its own node
    /// id, SE instance and counter whatever this side does.
    pub fn apply(&self, client: &mut Client) -> Result<Vec<AdminOutcome>> {
        let node = client.node()?;
        if node.node_id != self.node_id {
            return Err(Error::InvalidInput(format!(
                "this bundle is for node {}, this node is {}",
                hex::encode(self.node_id.0),
                hex::encode(node.node_id.0)
            )));
        }
        let info = client.se_info(self.se())?;
        if info.instance != self.se_instance {
            return Err(Error::InvalidInput(format!(
                "this bundle is for instance {} of SE `{}`, this node's is instance {} \
                 (the SE was retired and re-created since): it needs a new bundle",
                self.se_instance,
                self.se(),
                info.instance
            )));
        }
        client.send_admin(self.command.clone())
    }
}

/// A secret from hex (a PSK on the command line), wiped after use.
pub fn secret_from_hex(text: &str) -> Result<Zeroizing<Vec<u8>>> {
    let bytes = Zeroizing::new(
        hex::decode(text.trim())
            .map_err(|_| Error::InvalidInput("the PSK is not hex (two digits a byte)".into()))?,
    );
    if !(16..=64).contains(&bytes.len()) {
        return Err(Error::InvalidInput(format!(
            "the PSK is {} bytes; a secret is 16 to 64 bytes",
            bytes.len()
        )));
    }
    Ok(bytes)
}
