//! The peer's own certificate chain, built the way WhatsApp's is: a root key signs an
//! intermediate certificate, the intermediate's key signs the leaf, and the leaf names the
//! server's static Noise key. The signatures are real XEdDSA signatures, by this peer's root,
//! not WhatsApp's: a client that checks the chain against WhatsApp's root key refuses it (a
//! release build of wasl), one built to trust test servers accepts it.

use std::time::{SystemTime, UNIX_EPOCH};

use whatsapp_rust::buffa::{Message as _, MessageField};
use whatsapp_rust::wacore::libsignal::protocol::KeyPair;
use whatsapp_rust::waproto::whatsapp::{self as wa, cert_chain::noise_certificate::Details};

/// What the server proves itself with during the handshake.
pub struct ServerIdentity {
    pub static_key: KeyPair,
    /// The encoded `CertChain` sent (encrypted) in the server hello.
    pub cert_chain: Vec<u8>,
    /// The public key of this peer's root: what a client would have to trust.
    pub root_public: [u8; 32],
}

impl ServerIdentity {
    pub fn generate() -> ServerIdentity {
        let mut rng = rand::rng();
        let root = KeyPair::generate(&mut rng);
        let intermediate = KeyPair::generate(&mut rng);
        let static_key = KeyPair::generate(&mut rng);
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        // Valid from an hour ago for a month: a returning client may use IK with it.
        let (not_before, not_after) = (now.saturating_sub(3600), now + 30 * 86_400);
        let intermediate_details = Details {
            serial: Some(1),
            issuer_serial: Some(0),
            key: Some(intermediate.public_key.public_key_bytes().to_vec()),
            not_before: Some(not_before),
            not_after: Some(not_after),
        }
        .encode_to_vec();
        let leaf_details = Details {
            serial: Some(2),
            issuer_serial: Some(1),
            key: Some(static_key.public_key.public_key_bytes().to_vec()),
            not_before: Some(not_before),
            not_after: Some(not_after),
        }
        .encode_to_vec();
        let sign = |key: &KeyPair, details: &[u8]| {
            key.private_key
                .calculate_signature(details, &mut rand::rng())
                .map(|s| s.to_vec())
                .unwrap_or_default()
        };
        let cert_chain = wa::CertChain {
            intermediate: MessageField::some(wa::cert_chain::NoiseCertificate {
                signature: Some(sign(&root, &intermediate_details)),
                details: Some(intermediate_details),
            }),
            leaf: MessageField::some(wa::cert_chain::NoiseCertificate {
                signature: Some(sign(&intermediate, &leaf_details)),
                details: Some(leaf_details),
            }),
        }
        .encode_to_vec();
        let mut root_public = [0u8; 32];
        root_public.copy_from_slice(root.public_key.public_key_bytes());
        ServerIdentity {
            static_key,
            cert_chain,
            root_public,
        }
    }
}
