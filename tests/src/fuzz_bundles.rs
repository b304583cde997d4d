//! Fuzzing bundles: valid bundles made with [`Bundle::create`] from
//! fuzzer-chosen keys and grants, then damaged (bytes flipped, cut short) or
//! not, and raw bytes, parsed and applied to one node, twice. The `bundles`
//! fuzz target runs [`run`]; the corpus replay test too.
//!
//! What must hold: a bundle whose bytes were changed is refused unless it
//! still decodes to the very same bundle; a refused bundle applies nothing;
//! an applied bundle is refused the second time (its counter is used).

use std::sync::{Arc, Mutex};

use arbitrary::{Arbitrary, Unstructured};
use seam::bundle::{Bundle, BundleGrant, BundleKey, Material, NodeDescriptor};
use seam::proto::{AclEntry, Ops};
use seam::{AdminKey, Client, Transport};
use zeroize::Zeroizing;

use crate::fuzz_requests::Actor;
use crate::fuzzing::{self, FuzzNode, ADMIN_SCALAR, SE};

struct Owner(Arc<Mutex<FuzzNode>>);

impl Transport for Owner {
    fn call(&mut self, request: &[u8]) -> seam::Result<Vec<u8>> {
        let mut node = self.0.lock().unwrap_or_else(|e| e.into_inner());
        Ok(node.process(&Actor::Owner.caller(), request))
    }

    fn name(&self) -> &'static str {
        "fuzz node"
    }
}

#[derive(Arbitrary, Debug)]
pub struct KeyChoice {
    name: u8,
    suid: u8,
    kind: u8,
    material: Vec<u8>,
}

#[derive(Arbitrary, Debug)]
pub struct GrantChoice {
    object: u8,
    who: Actor,
    ops: u16,
    suid: u8,
}

#[derive(Arbitrary, Debug)]
pub enum Input {
    Made {
        keys: Vec<KeyChoice>,
        grants: Vec<GrantChoice>,
        /// Added to the SE's counter (0 makes a stale bundle).
        ahead: u8,
        /// (position, xor) pairs applied to the bundle's bytes.
        flips: Vec<(u16, u8)>,
        cut: Option<u16>,
    },
    Raw(Vec<u8>),
}

fn object_name(i: u8) -> String {
    ["sig", "aes", "b1", "b2", "*"][usize::from(i) % 5].to_string()
}

fn key(k: &KeyChoice) -> BundleKey {
    let bytes = Zeroizing::new(k.material.clone());
    BundleKey {
        name: object_name(k.name),
        suid: crate::fuzz_requests::suid(k.suid),
        material: match k.kind % 3 {
            0 => Material::Secret(bytes),
            1 => Material::EcP256(bytes),
            _ => Material::Data(bytes),
        },
        attributes: Default::default(),
    }
}

fn grant(g: &GrantChoice) -> BundleGrant {
    let grantee = match g.who.caller() {
        seam_core::Caller::Client(id) => id,
        seam_core::Caller::Public => seam::proto::ClientId([0; 16]),
    };
    BundleGrant {
        object: object_name(g.object),
        entry: AclEntry {
            grantee,
            ops: Ops(g.ops & Ops::ALL.0),
            suid: seam::proto::Suid::new(g.suid).ok(),
        },
    }
}

/// Runs one input.
pub fn run(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let Ok(input) = Input::arbitrary(&mut u) else {
        return;
    };
    let node = Arc::new(Mutex::new(fuzzing::node()));
    let mut client = Client::new(Owner(node.clone()));
    let store = || {
        node.lock()
            .unwrap_or_else(|e| e.into_inner())
            .store_mut()
            .clone()
    };
    let (bytes, original) = match &input {
        Input::Raw(bytes) => (bytes.clone(), None),
        Input::Made {
            keys,
            grants,
            ahead,
            flips,
            cut,
        } => {
            let descriptor =
                NodeDescriptor::from_device(&mut client, Some(SE)).expect("descriptor");
            let admin = AdminKey::from_scalar(&ADMIN_SCALAR).expect("admin");
            let counter = descriptor.se.as_ref().map_or(0, |s| s.admin_counter) + u64::from(*ahead);
            let keys: Vec<BundleKey> = keys.iter().take(4).map(key).collect();
            let grants: Vec<BundleGrant> = grants.iter().take(4).map(grant).collect();
            let Ok(bundle) = Bundle::create(&admin, &descriptor, SE, counter, &keys, &grants)
            else {
                return;
            };
            let mut bytes = bundle.to_bytes().expect("a made bundle encodes");
            for (at, xor) in flips {
                if !bytes.is_empty() {
                    let i = usize::from(*at) % bytes.len();
                    bytes[i] ^= xor;
                }
            }
            if let Some(n) = cut {
                bytes.truncate(usize::from(*n));
            }
            (bytes, Some(bundle))
        }
    };
    let Ok(parsed) = Bundle::from_bytes(&bytes) else {
        return;
    };
    let before = store();
    let applied = parsed.apply(&mut client).is_ok();
    if applied {
        if let Some(original) = &original {
            assert_eq!(
                &parsed, original,
                "a bundle with changed bytes was applied and is not the bundle made"
            );
        }
        assert!(
            parsed.apply(&mut client).is_err(),
            "a bundle applied twice (its counter was not used up)"
        );
    } else {
        assert!(store() == before, "a refused bundle changed the store");
    }
}
