//! The simulated phone: a WhatsApp account's primary device. It reads a companion's QR code,
//! and vouches for the companion the way a phone does: a device identity signed with the
//! account's identity key, wrapped in an HMAC keyed by the secret only the QR code carried.

use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use whatsapp_rust::buffa::Message as _;
use whatsapp_rust::wacore::adv::{validate_adv_with_identity_key, AdvValidation};
use whatsapp_rust::wacore::crypto::hkdf_sha256_into;
use whatsapp_rust::wacore::libsignal::crypto::aes_256_gcm_decrypt;
use whatsapp_rust::wacore::libsignal::protocol::{KeyPair, PublicKey};
use whatsapp_rust::wacore::pair_code::PairCodeUtils;
use whatsapp_rust::waproto::whatsapp as wa;

/// What a companion's QR code says: `ref,noise key,identity key,adv secret,client type`.
#[derive(Debug, Clone)]
pub struct Qr {
    pub reference: String,
    pub noise_key: [u8; 32],
    pub identity_key: [u8; 32],
    pub adv_secret: [u8; 32],
}

impl Qr {
    pub fn parse(text: &str) -> Result<Qr, String> {
        let body = text
            .strip_prefix("https://wa.me/settings/linked_devices#")
            .unwrap_or(text);
        let parts: Vec<&str> = body.split(',').collect();
        if parts.len() < 4 {
            return Err(format!("not a WhatsApp Web QR code: {text:?}"));
        }
        let key = |i: usize, what: &str| -> Result<[u8; 32], String> {
            base64::engine::general_purpose::STANDARD
                .decode(parts[i])
                .map_err(|e| format!("the QR code's {what}: {e}"))?
                .try_into()
                .map_err(|_| format!("the QR code's {what} is not 32 bytes"))
        };
        Ok(Qr {
            reference: parts[0].to_owned(),
            noise_key: key(1, "noise key")?,
            identity_key: key(2, "identity key")?,
            adv_secret: key(3, "secret")?,
        })
    }
}

/// A WhatsApp account as its phone holds it.
pub struct Account {
    /// The account's LID user (its privacy-preserving id), numeric like a phone number.
    pub lid: String,
    pub identity: KeyPair,
    next_device: u16,
}

impl Account {
    pub fn new(phone: &str) -> Account {
        Account {
            lid: format!("1{phone}"),
            identity: KeyPair::generate(&mut rand::rng()),
            next_device: 1,
        }
    }

    /// The next companion device id of this account (the phone itself is device 0).
    pub fn add_device(&mut self) -> u16 {
        let id = self.next_device;
        self.next_device += 1;
        id
    }

    /// The `<device-identity>` of `pair-success`: the phone's signature over the companion's
    /// details and identity key, in an HMAC container keyed by the QR code's secret.
    pub fn vouch_for(
        &self,
        companion_identity: &[u8; 32],
        adv_secret: &[u8; 32],
        now: u64,
    ) -> Vec<u8> {
        let details = wa::ADVDeviceIdentity {
            raw_id: Some(rand::random::<u32>()),
            timestamp: Some(now),
            key_index: Some(1),
            account_type: None,
            device_type: None,
        }
        .encode_to_vec();
        let mut signed_message = vec![6u8, 0];
        signed_message.extend_from_slice(&details);
        signed_message.extend_from_slice(companion_identity);
        let account_signature = self
            .identity
            .private_key
            .calculate_signature(&signed_message, &mut rand::rng())
            .map(|s| s.to_vec())
            .unwrap_or_default();
        let signed = wa::ADVSignedDeviceIdentity {
            details: Some(details),
            account_signature_key: Some(self.identity.public_key.public_key_bytes().to_vec()),
            account_signature: Some(account_signature),
            device_signature: None,
        }
        .encode_to_vec();
        let hmac = match Hmac::<Sha256>::new_from_slice(adv_secret) {
            Ok(mut mac) => {
                mac.update(&signed);
                mac.finalize().into_bytes().to_vec()
            }
            Err(_) => Vec::new(),
        };
        wa::ADVSignedDeviceIdentityHMAC {
            details: Some(signed),
            hmac: Some(hmac),
            account_type: None,
        }
        .encode_to_vec()
    }
}

/// Checks what the companion answered in `pair-device-sign`: our account signature kept,
/// and its own device signature over the details, valid for its identity key.
pub fn check_device_signature(
    device_identity: &[u8],
    companion_identity: &[u8; 32],
    account_identity: &[u8; 32],
) -> Result<(), String> {
    match validate_adv_with_identity_key(
        device_identity,
        companion_identity,
        Some(account_identity),
    ) {
        AdvValidation::Valid => Ok(()),
        other => Err(format!(
            "the companion's signed device identity does not verify: {other:?}"
        )),
    }
}

/// The phone's half of linking by pairing code: its ephemeral key pair, and the companion's
/// ephemeral key unwrapped with the code.
pub struct CodePairing {
    ephemeral: KeyPair,
    companion_ephemeral: [u8; 32],
}

impl CodePairing {
    pub fn start(code: &str, wrapped_companion_ephemeral: &[u8]) -> Result<CodePairing, String> {
        let companion_ephemeral =
            PairCodeUtils::decrypt_primary_ephemeral_pub(wrapped_companion_ephemeral, code)
                .map_err(|e| format!("the companion's wrapped key: {e:?}"))?;
        Ok(CodePairing {
            ephemeral: KeyPair::generate(&mut rand::rng()),
            companion_ephemeral,
        })
    }

    /// The phone's ephemeral key, wrapped with the code for the companion.
    pub fn wrapped_primary_ephemeral(&self, code: &str) -> [u8; 80] {
        let mut public = [0u8; 32];
        public.copy_from_slice(self.ephemeral.public_key.public_key_bytes());
        PairCodeUtils::encrypt_ephemeral_pub(&public, code)
    }

    /// Opens the companion's key bundle (`salt ‖ iv ‖ AES-GCM(companion identity ‖ phone
    /// identity ‖ random)`) and derives the secret both sides now share, which keys the
    /// `pair-success` HMAC.
    pub fn open_bundle(
        &self,
        wrapped: &[u8],
        companion_identity: &[u8; 32],
        account: &KeyPair,
    ) -> Result<[u8; 32], String> {
        if wrapped.len() < 32 + 12 + 16 {
            return Err("a key bundle too short".into());
        }
        let agree = |private: &KeyPair, public: &[u8; 32]| {
            PublicKey::from_djb_public_key_bytes(public)
                .and_then(|p| private.private_key.calculate_agreement(&p))
                .map_err(|e| format!("key agreement: {e:?}"))
        };
        let ephemeral_shared = agree(&self.ephemeral, &self.companion_ephemeral)?;
        let mut key = [0u8; 32];
        hkdf_sha256_into(
            &ephemeral_shared,
            Some(&wrapped[..32]),
            b"link_code_pairing_key_bundle_encryption_key",
            &mut key,
        )
        .map_err(|e| format!("bundle key: {e:?}"))?;
        let mut iv = [0u8; 12];
        iv.copy_from_slice(&wrapped[32..44]);
        let mut bundle = Vec::new();
        aes_256_gcm_decrypt(&key, &iv, b"", &wrapped[44..], &mut bundle)
            .map_err(|e| format!("the key bundle does not open: {e:?}"))?;
        if bundle.len() != 96 || bundle[..32] != companion_identity[..] {
            return Err("the key bundle does not name the companion's identity".into());
        }
        if bundle[32..64] != *account.public_key.public_key_bytes() {
            return Err("the key bundle does not name this phone's identity".into());
        }
        let identity_shared = agree(account, companion_identity)?;
        let mut secret_input = Vec::with_capacity(96);
        secret_input.extend_from_slice(&ephemeral_shared);
        secret_input.extend_from_slice(&identity_shared);
        secret_input.extend_from_slice(&bundle[64..96]);
        let mut adv_secret = [0u8; 32];
        hkdf_sha256_into(&secret_input, None, b"adv_secret", &mut adv_secret)
            .map_err(|e| format!("the shared secret: {e:?}"))?;
        Ok(adv_secret)
    }
}
