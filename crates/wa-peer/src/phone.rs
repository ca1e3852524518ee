//! The simulated phone: a WhatsApp account's primary device. It reads a companion's QR code,
//! and vouches for the companion the way a phone does: a device identity signed with the
//! account's identity key, wrapped in an HMAC keyed by the secret only the QR code carried.

use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use whatsapp_rust::buffa::Message as _;
use whatsapp_rust::wacore::adv::{validate_adv_with_identity_key, AdvValidation};
use whatsapp_rust::wacore::libsignal::protocol::KeyPair;
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
