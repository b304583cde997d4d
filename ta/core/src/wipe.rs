//! Encoding into buffers that are wiped: records, requests and responses
//! carry secrets, and a `Vec` that grows leaves its old allocation behind
//! unwiped. [`encode`] writes through a postcard flavor that wipes every
//! buffer it outgrows, and returns one that is wiped on drop.

use alloc::vec::Vec;
use seam_proto::handshake::{HandshakeReply, StepReply};
use seam_proto::jose::JoseOp;
use seam_proto::{AdminOp, Op, Reply, Request};
use serde::Serialize;
use zeroize::{Zeroize, Zeroizing};

/// A postcard output that wipes each buffer before it lets it go.
struct WipingVec(Zeroizing<Vec<u8>>);

impl WipingVec {
    fn push_all(&mut self, data: &[u8]) {
        let needed = self.0.len() + data.len();
        if needed > self.0.capacity() {
            // Grow by hand: copy into a bigger buffer, then wipe the old
            // one (dropping the `Zeroizing` does), never `realloc`.
            let mut bigger = Vec::with_capacity(needed.max(2 * self.0.capacity()).max(64));
            bigger.extend_from_slice(&self.0);
            self.0 = Zeroizing::new(bigger);
        }
        self.0.extend_from_slice(data);
    }
}

impl postcard::ser_flavors::Flavor for WipingVec {
    type Output = Zeroizing<Vec<u8>>;

    fn try_extend(&mut self, data: &[u8]) -> postcard::Result<()> {
        self.push_all(data);
        Ok(())
    }

    fn try_push(&mut self, data: u8) -> postcard::Result<()> {
        self.push_all(&[data]);
        Ok(())
    }

    fn finalize(self) -> postcard::Result<Zeroizing<Vec<u8>>> {
        Ok(self.0)
    }
}

/// The postcard encoding of `value`, in a buffer wiped on drop; every
/// intermediate buffer was wiped too.
pub fn encode<T: Serialize + ?Sized>(value: &T) -> postcard::Result<Zeroizing<Vec<u8>>> {
    postcard::serialize_with_flavor(value, WipingVec(Zeroizing::new(Vec::new())))
}

/// Wipes `bytes` and frees it: for buffers the platform hands back.
pub fn wipe(mut bytes: Vec<u8>) {
    bytes.zeroize();
}

/// Wipes a buffer the platform keeps (a static one) for its next use.
pub fn wipe_slice(bytes: &mut [u8]) {
    bytes.zeroize();
}

/// Wipes what a decoded request holds of secrets: key material, data
/// objects, plaintext and messages.
pub fn wipe_request(request: &mut Request) {
    match &mut request.op {
        Op::Admin(cmd) => {
            for op in cmd.ops.iter_mut() {
                if let AdminOp::ImportPlaintext { material, .. } = op {
                    material.as_mut_slice().zeroize();
                }
            }
        }
        Op::SdoCreate { data, .. } | Op::SdoUpdate { data, .. } => data.as_mut_slice().zeroize(),
        Op::Encrypt { plaintext, .. } | Op::Jose(JoseOp::JweEncrypt { plaintext, .. }) => {
            plaintext.as_mut_slice().zeroize()
        }
        Op::Mac { message, .. } | Op::MacVerify { message, .. } => message.as_mut_slice().zeroize(),
        _ => {}
    }
}

/// Wipes what a reply holds of secrets once it is encoded: data objects,
/// plaintext, MACs, key blocks, traffic keys and exporter outputs.
pub fn wipe_reply(reply: &mut Reply) {
    match reply {
        Reply::Data(d) | Reply::Plaintext(d) => d.as_mut_slice().zeroize(),
        Reply::Mac(tag) => tag.0.zeroize(),
        Reply::Handshake(HandshakeReply::Steps(steps)) => {
            for step in steps.iter_mut() {
                wipe_step(step);
            }
        }
        Reply::Handshake(HandshakeReply::ClientFinished { key_block, .. })
        | Reply::Handshake(HandshakeReply::ServerFinished { key_block, .. }) => {
            key_block.as_mut_slice().zeroize()
        }
        _ => {}
    }
}

fn wipe_step(step: &mut StepReply) {
    match step {
        StepReply::KeyBlock(k) => k.as_mut_slice().zeroize(),
        StepReply::Exported(e) => e.as_mut_slice().zeroize(),
        StepReply::TrafficKeys { client, server } => {
            client.key.as_mut_slice().zeroize();
            server.key.as_mut_slice().zeroize();
        }
        StepReply::TrafficKey(k) => k.key.as_mut_slice().zeroize(),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_as_postcard_does() {
        let value: Vec<Vec<u8>> = (0u8..40).map(|i| alloc::vec![i; usize::from(i)]).collect();
        assert_eq!(
            encode(&value).unwrap().as_slice(),
            postcard::to_allocvec(&value).unwrap().as_slice()
        );
    }
}
