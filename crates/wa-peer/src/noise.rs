//! The server's half of WhatsApp's Noise handshakes, as the client expects them:
//! `Noise_XX_25519_AESGCM_SHA256` for a device the server does not know yet,
//! `Noise_IK_25519_AESGCM_SHA256` for a returning one that kept the server's static key, and
//! `Noise_XXfallback` when an IK attempt names a static key this server does not hold. The
//! prologue is the connection header `WA 6 3`. Once done, each direction has its own AES-GCM
//! key and a frame counter of its own, starting at zero.

use whatsapp_rust::buffa::{Message as _, MessageField};
use whatsapp_rust::wacore::libsignal::protocol::KeyPair;
use whatsapp_rust::wacore::noise::NoiseCipher;
use whatsapp_rust::wacore::noise::NoiseHandshake;
use whatsapp_rust::wacore_binary::consts::{
    NOISE_PATTERN_IK, NOISE_PATTERN_XX, NOISE_PATTERN_XXFALLBACK, WA_CONN_HEADER,
};
use whatsapp_rust::waproto::whatsapp::{self as wa, ClientPayload, HandshakeMessage};

use crate::cert::ServerIdentity;

/// What the client's first handshake message asks for.
pub enum Hello {
    /// A full handshake: the client's ephemeral key only.
    Xx { ephemeral: [u8; 32] },
    /// A returning device: ephemeral, and its static key and login payload encrypted to the
    /// server static key it remembers.
    Ik {
        ephemeral: [u8; 32],
        encrypted_static: Vec<u8>,
        encrypted_payload: Vec<u8>,
    },
}

pub fn parse_hello(frame: &[u8]) -> Result<Hello, String> {
    let msg =
        HandshakeMessage::decode_from_slice(frame).map_err(|e| format!("client hello: {e}"))?;
    let hello = msg
        .client_hello
        .into_option()
        .ok_or("a handshake message without a client hello")?;
    let ephemeral: [u8; 32] = hello
        .ephemeral
        .ok_or("a client hello without an ephemeral key")?
        .try_into()
        .map_err(|_| "an ephemeral key that is not 32 bytes")?;
    Ok(match (hello.r#static, hello.payload) {
        (Some(encrypted_static), Some(encrypted_payload)) => Hello::Ik {
            ephemeral,
            encrypted_static,
            encrypted_payload,
        },
        _ => Hello::Xx { ephemeral },
    })
}

/// The keys of an established connection, from the server's side.
pub struct Established {
    pub read: NoiseCipher,
    pub write: NoiseCipher,
    /// The client's static Noise key: the key its QR code shows, and how a returning device
    /// is recognized.
    pub client_static: [u8; 32],
    pub payload: ClientPayload,
    /// Which handshake it took, for the tests' assertions.
    pub pattern: Pattern,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pattern {
    Xx,
    Ik,
    XxFallback,
}

/// The server's answer to an XX (or fallback) hello, and the state that reads the client's
/// finish.
pub struct XxResponder {
    noise: NoiseHandshake,
    ephemeral: KeyPair,
    pattern: Pattern,
}

impl XxResponder {
    /// Builds the server hello: our ephemeral key, our static key encrypted, our certificate
    /// chain encrypted.
    pub fn start(
        identity: &ServerIdentity,
        client_ephemeral: &[u8; 32],
        fallback: bool,
    ) -> Result<(Vec<u8>, XxResponder), String> {
        let pattern_name = if fallback {
            NOISE_PATTERN_XXFALLBACK
        } else {
            NOISE_PATTERN_XX
        };
        let mut noise = NoiseHandshake::new(pattern_name, &WA_CONN_HEADER).map_err(e)?;
        noise.authenticate(client_ephemeral);
        let ephemeral = KeyPair::generate(&mut rand::rng());
        noise.authenticate(ephemeral.public_key.public_key_bytes());
        noise
            .mix_shared_secret(ephemeral.private_key.serialize(), client_ephemeral)
            .map_err(e)?;
        let encrypted_static = noise
            .encrypt(identity.static_key.public_key.public_key_bytes())
            .map_err(e)?;
        noise
            .mix_shared_secret(
                identity.static_key.private_key.serialize(),
                client_ephemeral,
            )
            .map_err(e)?;
        let encrypted_chain = noise.encrypt(&identity.cert_chain).map_err(e)?;
        let hello = server_hello(
            ephemeral.public_key.public_key_bytes(),
            Some(encrypted_static),
            encrypted_chain,
        );
        Ok((
            hello,
            XxResponder {
                noise,
                ephemeral,
                pattern: if fallback {
                    Pattern::XxFallback
                } else {
                    Pattern::Xx
                },
            },
        ))
    }

    /// Reads the client's finish: its static key and its payload (registration or login).
    pub fn finish(mut self, frame: &[u8]) -> Result<Established, String> {
        let msg = HandshakeMessage::decode_from_slice(frame)
            .map_err(|e| format!("client finish: {e}"))?;
        let finish = msg
            .client_finish
            .into_option()
            .ok_or("a handshake message without a client finish")?;
        let client_static: [u8; 32] = self
            .noise
            .decrypt(
                &finish
                    .r#static
                    .ok_or("a client finish without a static key")?,
            )
            .map_err(e)?
            .try_into()
            .map_err(|_| "a client static key that is not 32 bytes")?;
        self.noise
            .mix_shared_secret(self.ephemeral.private_key.serialize(), &client_static)
            .map_err(e)?;
        let payload = self
            .noise
            .decrypt(&finish.payload.ok_or("a client finish without a payload")?)
            .map_err(e)?;
        let payload = ClientPayload::decode_from_slice(&payload)
            .map_err(|e| format!("client payload: {e}"))?;
        let (initiator_write, initiator_read) = self.noise.finish().map_err(e)?;
        Ok(Established {
            read: initiator_write,
            write: initiator_read,
            client_static,
            payload,
            pattern: self.pattern,
        })
    }
}

/// Answers an IK hello when it was encrypted to our static key; `Err(None)` when it was not
/// (the client remembers another server's key), so the caller falls back to XX.
pub fn accept_ik(
    identity: &ServerIdentity,
    client_ephemeral: &[u8; 32],
    encrypted_static: &[u8],
    encrypted_payload: &[u8],
) -> Result<(Vec<u8>, Established), Option<String>> {
    let mut noise =
        NoiseHandshake::new(NOISE_PATTERN_IK, &WA_CONN_HEADER).map_err(|x| Some(e(x)))?;
    noise.authenticate(identity.static_key.public_key.public_key_bytes());
    noise.authenticate(client_ephemeral);
    noise
        .mix_shared_secret(
            identity.static_key.private_key.serialize(),
            client_ephemeral,
        )
        .map_err(|x| Some(e(x)))?;
    // Not our key: the client's static does not decrypt.
    let client_static: [u8; 32] = noise
        .decrypt(encrypted_static)
        .map_err(|_| None)?
        .try_into()
        .map_err(|_| Some("a client static key that is not 32 bytes".to_owned()))?;
    noise
        .mix_shared_secret(identity.static_key.private_key.serialize(), &client_static)
        .map_err(|x| Some(e(x)))?;
    let payload = noise.decrypt(encrypted_payload).map_err(|_| None)?;
    let payload = ClientPayload::decode_from_slice(&payload)
        .map_err(|x| Some(format!("client payload: {x}")))?;
    let ephemeral = KeyPair::generate(&mut rand::rng());
    noise.authenticate(ephemeral.public_key.public_key_bytes());
    noise
        .mix_shared_secret(ephemeral.private_key.serialize(), client_ephemeral)
        .map_err(|x| Some(e(x)))?;
    noise
        .mix_shared_secret(ephemeral.private_key.serialize(), &client_static)
        .map_err(|x| Some(e(x)))?;
    let encrypted_chain = noise
        .encrypt(&identity.cert_chain)
        .map_err(|x| Some(e(x)))?;
    let hello = server_hello(
        ephemeral.public_key.public_key_bytes(),
        None,
        encrypted_chain,
    );
    let (initiator_write, initiator_read) = noise.finish().map_err(|x| Some(e(x)))?;
    Ok((
        hello,
        Established {
            read: initiator_write,
            write: initiator_read,
            client_static,
            payload,
            pattern: Pattern::Ik,
        },
    ))
}

fn server_hello(ephemeral: &[u8], encrypted_static: Option<Vec<u8>>, payload: Vec<u8>) -> Vec<u8> {
    HandshakeMessage {
        server_hello: MessageField::some(wa::handshake_message::ServerHello {
            ephemeral: Some(ephemeral.to_vec()),
            r#static: encrypted_static,
            payload: Some(payload),
            ..Default::default()
        }),
        ..Default::default()
    }
    .encode_to_vec()
}

fn e(err: impl std::fmt::Display) -> String {
    format!("noise: {err}")
}
