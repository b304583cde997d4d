//! The typed Secure Environment API a CSE calls, one method per TS-0016
//! resource operation, over any [`Transport`].

use seam_proto::{
    AclEntry, AdminCommand, AdminOp, AdminOutcome, AdminPayload, AeadAlg, Digest, GrantTarget,
    HashAlg, IssuerCommand, IssuerOp, IssuerPayload, KeyAttributes, KeyRef, Name, NodeIdentity,
    NodeInfo, ObjectInfo, ObjectKind, Op, PublicKey, Reply, Request, Response, SeInfo, SignInput,
    Signature, Status, Suid, WrappedSecret, ADMIN_DOMAIN, ISSUER_DOMAIN, MAX_ADMIN_OPS,
    MAX_MESSAGE,
};

use crate::signer::CommandSigner;
use crate::transport::Transport;
use crate::{convert, Error, Result};

pub struct Client {
    transport: Box<dyn Transport>,
}

/// A successful answer: its status code and reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub status: Status,
    pub reply: Reply,
}

impl Client {
    pub fn new(transport: impl Transport + 'static) -> Self {
        Client {
            transport: Box::new(transport),
        }
    }

    pub fn backend(&self) -> &'static str {
        self.transport.name()
    }

    /// Send raw bytes and return raw bytes: for tests of the TA's own checks.
    pub fn call_raw(&mut self, request: &[u8]) -> Result<Vec<u8>> {
        self.transport.call(request)
    }

    /// Send one operation; a failure status becomes [`Error::Refused`].
    pub fn call(&mut self, op: Op) -> Result<Answer> {
        let request = postcard::to_allocvec(&Request::new(op))
            .map_err(|e| Error::InvalidInput(format!("request does not encode: {e}")))?;
        if request.len() > MAX_MESSAGE {
            return Err(Error::InvalidInput(format!(
                "request is {} bytes, the limit is {MAX_MESSAGE}",
                request.len()
            )));
        }
        let bytes = self.transport.call(&request)?;
        let response = decode_response(&bytes)?;
        match (Status::from_code(response.status), response.reply) {
            (_, Reply::Failed(reason)) => Err(Error::Refused {
                status: response.status,
                reason,
            }),
            (Some(status), reply) if status.is_success() => Ok(Answer { status, reply }),
            (_, reply) => Err(Error::Protocol(format!(
                "status {} with reply {reply:?}",
                response.status
            ))),
        }
    }

    fn reply(&mut self, op: Op) -> Result<Reply> {
        self.call(op).map(|a| a.reply)
    }

    // ---- node -------------------------------------------------------------

    pub fn node_info(&mut self) -> Result<NodeInfo> {
        match self.reply(Op::NodeInfo)? {
            Reply::NodeInfo(info) => Ok(info),
            other => Err(unexpected("NodeInfo", &other)),
        }
    }

    /// The node's identity, or an error if the node has no issuer yet.
    pub fn node(&mut self) -> Result<NodeIdentity> {
        self.node_info()?.node.ok_or(Error::Refused {
            status: seam_proto::Reason::NotInitialized.status().code(),
            reason: seam_proto::Reason::NotInitialized,
        })
    }

    /// Trust on first use: bind the node to the device issuer's public key.
    pub fn init_node(&mut self, issuer: &PublicKey) -> Result<NodeIdentity> {
        self.call(Op::InitNode { issuer: *issuer })?;
        self.node()
    }

    // ---- signed commands ------------------------------------------------------

    /// Sign and send an issuer command, with the next counter.
    pub fn issuer(&mut self, signer: &dyn CommandSigner, op: IssuerOp) -> Result<Status> {
        let node = self.node()?;
        let cmd = sign_issuer(signer, &node, node.issuer_counter + 1, op)?;
        self.send_issuer(cmd)
    }

    /// Send an issuer command signed elsewhere.
    pub fn send_issuer(&mut self, cmd: IssuerCommand) -> Result<Status> {
        self.call(Op::Issuer(cmd)).map(|a| a.status)
    }

    pub fn create_se(
        &mut self,
        issuer: &dyn CommandSigner,
        se: &str,
        admin: &PublicKey,
        allow_plaintext_import: bool,
    ) -> Result<SeInfo> {
        let op = IssuerOp::CreateSe {
            se: name(se)?,
            admin: *admin,
            allow_plaintext_import,
        };
        self.issuer(issuer, op)?;
        self.se_info(se)
    }

    pub fn retire_se(&mut self, issuer: &dyn CommandSigner, se: &str) -> Result<()> {
        self.issuer(issuer, IssuerOp::RetireSe { se: name(se)? })
            .map(|_| ())
    }

    /// Sign and send admin operations (applied all or none), with the next counter.
    pub fn admin(
        &mut self,
        signer: &dyn CommandSigner,
        se: &str,
        ops: Vec<AdminOp>,
    ) -> Result<Vec<AdminOutcome>> {
        let node = self.node()?;
        let info = self.se_info(se)?;
        let cmd = sign_admin(signer, &node, &info, info.admin_counter + 1, ops)?;
        self.send_admin(cmd)
    }

    /// Send an admin command signed elsewhere (e.g. from a provisioning bundle).
    pub fn send_admin(&mut self, cmd: AdminCommand) -> Result<Vec<AdminOutcome>> {
        match self.reply(Op::Admin(cmd))? {
            Reply::Admin(outcomes) => Ok(outcomes.into_iter().collect()),
            other => Err(unexpected("Admin", &other)),
        }
    }

    /// Generate a P-256 key pair inside the SE; returns its public key.
    pub fn generate_key_pair(
        &mut self,
        admin: &dyn CommandSigner,
        se: &str,
        object: &str,
        suid: Suid,
    ) -> Result<PublicKey> {
        self.generate_key_pair_with(admin, se, object, suid, KeyAttributes::default())
    }

    /// [`Client::generate_key_pair`] with a lifetime (a P-256 key is
    /// always `Operational`).
    pub fn generate_key_pair_with(
        &mut self,
        admin: &dyn CommandSigner,
        se: &str,
        object: &str,
        suid: Suid,
        attributes: KeyAttributes,
    ) -> Result<PublicKey> {
        let out = self.admin(
            admin,
            se,
            vec![AdminOp::GenerateKeyPair {
                object: name(object)?,
                suid,
                attributes,
            }],
        )?;
        match out.as_slice() {
            [AdminOutcome::PublicKey(pk)] => Ok(*pk),
            other => Err(Error::Protocol(format!(
                "expected a public key, got {other:?}"
            ))),
        }
    }

    /// Wrap `material` to this node for `se`/`object` and import it.
    pub fn import_wrapped(
        &mut self,
        admin: &dyn CommandSigner,
        se: &str,
        object: &str,
        suid: Suid,
        kind: ObjectKind,
        material: &[u8],
    ) -> Result<Vec<AdminOutcome>> {
        self.import_wrapped_with(
            admin,
            se,
            object,
            suid,
            kind,
            material,
            KeyAttributes::default(),
        )
    }

    /// [`Client::import_wrapped`] with a role and lifetime.
    #[allow(clippy::too_many_arguments)]
    pub fn import_wrapped_with(
        &mut self,
        admin: &dyn CommandSigner,
        se: &str,
        object: &str,
        suid: Suid,
        kind: ObjectKind,
        material: &[u8],
        attributes: KeyAttributes,
    ) -> Result<Vec<AdminOutcome>> {
        let node = self.node()?;
        let info = self.se_info(se)?;
        let wrapped = wrap_for(&node, &info, object, kind, suid, material)?;
        let op = AdminOp::Import {
            object: name(object)?,
            suid,
            kind,
            wrapped,
            attributes,
        };
        let cmd = sign_admin(admin, &node, &info, info.admin_counter + 1, vec![op])?;
        self.send_admin(cmd)
    }

    /// Import a P-256 public key the SE will trust (to verify tokens and
    /// signatures with, or to encrypt to): an admin decision, so an admin
    /// command.
    pub fn import_public_key(
        &mut self,
        admin: &dyn CommandSigner,
        se: &str,
        object: &str,
        suid: Suid,
        key: &PublicKey,
    ) -> Result<()> {
        let op = AdminOp::ImportPublicKey {
            object: name(object)?,
            suid,
            key: *key,
            attributes: Default::default(),
        };
        self.admin(admin, se, vec![op]).map(|_| ())
    }

    pub fn grant(
        &mut self,
        admin: &dyn CommandSigner,
        se: &str,
        object: &str,
        entry: AclEntry,
    ) -> Result<()> {
        self.admin(
            admin,
            se,
            vec![AdminOp::Grant {
                object: grant_target(object)?,
                entry,
            }],
        )
        .map(|_| ())
    }

    // ---- discovery ------------------------------------------------------------

    pub fn se_list(&mut self) -> Result<Vec<String>> {
        match self.reply(Op::SeList)? {
            Reply::SeList(names) => Ok(names.iter().map(|n| n.to_string()).collect()),
            other => Err(unexpected("SeList", &other)),
        }
    }

    pub fn se_info(&mut self, se: &str) -> Result<SeInfo> {
        match self.reply(Op::SeInfo { se: name(se)? })? {
            Reply::SeInfo(info) => Ok(info),
            other => Err(unexpected("SeInfo", &other)),
        }
    }

    pub fn object_list(&mut self, se: &str) -> Result<Vec<ObjectInfo>> {
        match self.reply(Op::ObjectList { se: name(se)? })? {
            Reply::Objects(list) => Ok(list.into_iter().collect()),
            other => Err(unexpected("Objects", &other)),
        }
    }

    pub fn object_info(&mut self, se: &str, object: &str) -> Result<ObjectInfo> {
        match self.reply(Op::ObjectInfo {
            se: name(se)?,
            object: name(object)?,
        })? {
            Reply::Object(info) => Ok(info),
            other => Err(unexpected("Object", &other)),
        }
    }

    pub fn acl_show(&mut self, se: &str, object: &str) -> Result<Vec<AclEntry>> {
        match self.reply(Op::AclShow {
            se: name(se)?,
            object: name(object)?,
        })? {
            Reply::Acl(list) => Ok(list.into_iter().collect()),
            other => Err(unexpected("Acl", &other)),
        }
    }

    // ---- <sensitiveDataObject> -----------------------------------------------

    pub fn sdo_create(&mut self, se: &str, object: &str, data: &[u8]) -> Result<()> {
        self.call(Op::SdoCreate {
            se: name(se)?,
            object: name(object)?,
            data: convert::data(data)?,
        })
        .map(|_| ())
    }

    pub fn sdo_retrieve(&mut self, se: &str, object: &str) -> Result<Vec<u8>> {
        match self.reply(Op::SdoRetrieve {
            se: name(se)?,
            object: name(object)?,
        })? {
            Reply::Data(d) => Ok(d.to_vec()),
            other => Err(unexpected("Data", &other)),
        }
    }

    pub fn sdo_update(&mut self, se: &str, object: &str, data: &[u8]) -> Result<()> {
        self.call(Op::SdoUpdate {
            se: name(se)?,
            object: name(object)?,
            data: convert::data(data)?,
        })
        .map(|_| ())
    }

    pub fn sdo_delete(&mut self, se: &str, object: &str) -> Result<()> {
        self.call(Op::SdoDelete {
            se: name(se)?,
            object: name(object)?,
        })
        .map(|_| ())
    }

    // ---- <signature>, <hash>, <rand> ------------------------------------------

    pub fn sign(&mut self, key: &KeyRef, message: &[u8]) -> Result<Signature> {
        self.sign_input(key, SignInput::Message(convert::data(message)?))
    }

    pub fn sign_digest(&mut self, key: &KeyRef, digest: &[u8; 32]) -> Result<Signature> {
        self.sign_input(key, SignInput::Digest(Digest(*digest)))
    }

    fn sign_input(&mut self, key: &KeyRef, input: SignInput) -> Result<Signature> {
        match self.reply(Op::Sign {
            key: key.clone(),
            input,
        })? {
            Reply::Signature(s) => Ok(s),
            other => Err(unexpected("Signature", &other)),
        }
    }

    pub fn verify(&mut self, key: &KeyRef, message: &[u8], signature: &Signature) -> Result<bool> {
        let op = Op::Verify {
            key: key.clone(),
            input: SignInput::Message(convert::data(message)?),
            signature: *signature,
        };
        match self.reply(op)? {
            Reply::Verified(v) => Ok(v),
            other => Err(unexpected("Verified", &other)),
        }
    }

    /// Verify a signature over a SHA-256 digest the caller computed.
    pub fn verify_digest(
        &mut self,
        key: &KeyRef,
        digest: &[u8; 32],
        signature: &Signature,
    ) -> Result<bool> {
        let op = Op::Verify {
            key: key.clone(),
            input: SignInput::Digest(Digest(*digest)),
            signature: *signature,
        };
        match self.reply(op)? {
            Reply::Verified(v) => Ok(v),
            other => Err(unexpected("Verified", &other)),
        }
    }

    pub fn hash(&mut self, message: &[u8]) -> Result<[u8; 32]> {
        match self.reply(Op::Hash {
            alg: HashAlg::Sha256,
            message: convert::data(message)?,
        })? {
            Reply::Digest(d) => Ok(d.0),
            other => Err(unexpected("Digest", &other)),
        }
    }

    pub fn random(&mut self, len: usize) -> Result<Vec<u8>> {
        let len = u16::try_from(len)
            .map_err(|_| Error::InvalidInput(format!("random length {len} too large")))?;
        match self.reply(Op::Random { len })? {
            Reply::Random(r) => Ok(r.to_vec()),
            other => Err(unexpected("Random", &other)),
        }
    }

    // ---- <cipher> ---------------------------------------------------------------

    /// Encrypts under a nonce of `nonce_len` bytes that the SE draws (12
    /// for GCM, 7..=13 for CCM); returns `(nonce, ciphertext ‖ tag)`.
    pub fn encrypt(
        &mut self,
        key: &KeyRef,
        alg: AeadAlg,
        nonce_len: u8,
        aad: &[u8],
        plaintext: &[u8],
    ) -> Result<(Vec<u8>, Vec<u8>)> {
        let op = Op::Encrypt {
            key: key.clone(),
            alg,
            nonce_len,
            aad: convert::bounded(aad, "associated data")?,
            plaintext: convert::data(plaintext)?,
        };
        match self.reply(op)? {
            Reply::Ciphertext { nonce, ciphertext } => Ok((nonce.to_vec(), ciphertext.to_vec())),
            other => Err(unexpected("Ciphertext", &other)),
        }
    }

    pub fn decrypt(
        &mut self,
        key: &KeyRef,
        alg: AeadAlg,
        nonce: &[u8],
        aad: &[u8],
        ciphertext: &[u8],
    ) -> Result<Vec<u8>> {
        let op = Op::Decrypt {
            key: key.clone(),
            alg,
            nonce: convert::bounded(nonce, "nonce")?,
            aad: convert::bounded(aad, "associated data")?,
            ciphertext: convert::bounded(ciphertext, "ciphertext")?,
        };
        match self.reply(op)? {
            Reply::Plaintext(p) => Ok(p.to_vec()),
            other => Err(unexpected("Plaintext", &other)),
        }
    }

    pub fn mac(&mut self, key: &KeyRef, message: &[u8]) -> Result<[u8; 32]> {
        match self.reply(Op::Mac {
            key: key.clone(),
            message: convert::data(message)?,
        })? {
            Reply::Mac(d) => Ok(d.0),
            other => Err(unexpected("Mac", &other)),
        }
    }

    pub fn mac_verify(&mut self, key: &KeyRef, message: &[u8], tag: &[u8; 32]) -> Result<bool> {
        let op = Op::MacVerify {
            key: key.clone(),
            message: convert::data(message)?,
            tag: Digest(*tag),
        };
        match self.reply(op)? {
            Reply::Verified(v) => Ok(v),
            other => Err(unexpected("Verified", &other)),
        }
    }
}

fn decode_response(bytes: &[u8]) -> Result<Response> {
    match postcard::take_from_bytes::<Response>(bytes) {
        Ok((r, [])) => Ok(r),
        Ok(_) => Err(Error::Protocol("trailing bytes after the response".into())),
        Err(e) => Err(Error::Protocol(format!(
            "response ({} bytes) does not decode: {e}",
            bytes.len()
        ))),
    }
}

fn unexpected(wanted: &str, got: &Reply) -> Error {
    Error::Protocol(format!("expected a {wanted} reply, got {got:?}"))
}

/// A name as the protocol carries it, or an error naming the problem.
pub fn name(text: &str) -> Result<Name> {
    Name::new(text).map_err(|e| Error::InvalidInput(format!("name `{text}`: {e}")))
}

/// What a grant or revoke applies to: an object's name, or `*` (the SE).
pub fn grant_target(text: &str) -> Result<GrantTarget> {
    GrantTarget::new(text).map_err(|e| Error::InvalidInput(format!("grant target `{text}`: {e}")))
}

/// A SUID seam accepts (TS-0004's table), or an error saying what is wrong.
pub fn suid(value: u8) -> Result<Suid> {
    Suid::new(value).map_err(|e| Error::InvalidInput(e.to_string()))
}

/// Build and sign an issuer command for `node` (no transport needed: offline).
pub fn sign_issuer(
    signer: &dyn CommandSigner,
    node: &NodeIdentity,
    counter: u64,
    op: IssuerOp,
) -> Result<IssuerCommand> {
    let payload = IssuerPayload {
        domain: ISSUER_DOMAIN,
        node_id: &node.node_id,
        counter,
        op: &op,
    };
    let bytes = postcard::to_allocvec(&payload).map_err(|e| Error::InvalidInput(e.to_string()))?;
    let signature = signer.sign(&bytes)?;
    Ok(IssuerCommand {
        counter,
        op,
        signature,
    })
}

/// Build and sign an admin command for one SE (offline-capable: it needs only
/// the node id, the SE's name and instance, and a counter).
pub fn sign_admin(
    signer: &dyn CommandSigner,
    node: &NodeIdentity,
    se: &SeInfo,
    counter: u64,
    ops: Vec<AdminOp>,
) -> Result<AdminCommand> {
    sign_admin_for(signer, &node.node_id, &se.name, se.instance, counter, ops)
}

pub fn sign_admin_for(
    signer: &dyn CommandSigner,
    node_id: &seam_proto::NodeId,
    se: &str,
    se_instance: u64,
    counter: u64,
    ops: Vec<AdminOp>,
) -> Result<AdminCommand> {
    if ops.is_empty() || ops.len() > MAX_ADMIN_OPS {
        return Err(Error::InvalidInput(format!(
            "an admin command carries 1 to {MAX_ADMIN_OPS} operations, not {}",
            ops.len()
        )));
    }
    let payload = AdminPayload {
        domain: ADMIN_DOMAIN,
        node_id,
        se,
        se_instance,
        counter,
        ops: &ops,
    };
    let bytes = postcard::to_allocvec(&payload).map_err(|e| Error::InvalidInput(e.to_string()))?;
    let signature = signer.sign(&bytes)?;
    let ops = heapless::Vec::from_slice(&ops)
        .map_err(|_| Error::InvalidInput("too many operations".into()))?;
    Ok(AdminCommand {
        se: name(se)?,
        counter,
        ops,
        signature,
    })
}

/// Wrap a secret to `node`'s key-agreement key, bound to `se`/`object`/kind/SUID.
pub fn wrap_for(
    node: &NodeIdentity,
    se: &SeInfo,
    object: &str,
    kind: ObjectKind,
    suid: Suid,
    material: &[u8],
) -> Result<WrappedSecret> {
    wrap_to(
        &node.node_id,
        &node.key_agreement,
        &se.name,
        se.instance,
        object,
        kind,
        suid,
        material,
    )
}

#[allow(clippy::too_many_arguments)]
pub fn wrap_to(
    node_id: &seam_proto::NodeId,
    node_key: &PublicKey,
    se: &str,
    se_instance: u64,
    object: &str,
    kind: ObjectKind,
    suid: Suid,
    material: &[u8],
) -> Result<WrappedSecret> {
    let binding = seam_crypto::wrap::binding(node_id, se, se_instance, object, kind, suid.get())
        .map_err(|e| Error::InvalidInput(format!("cannot encode the wrap binding: {e:?}")))?;
    let mut rng = crate::OsRng;
    let w = seam_crypto::wrap::wrap(&mut rng, node_key.as_bytes(), &binding, material)
        .map_err(|e| Error::InvalidInput(format!("cannot wrap to the node key: {e:?}")))?;
    Ok(WrappedSecret {
        ephemeral: PublicKey(w.ephemeral),
        nonce: w.nonce,
        ciphertext: convert::bounded(&w.ciphertext, "wrapped secret")?,
    })
}
