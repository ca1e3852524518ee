//! Sealing secrets at rest (engine state, webhook secrets): AES-256-GCM under wasl's 32-byte master key.
//!
//! A sealed value is `version (1 byte) ‖ nonce (12 bytes) ‖ ciphertext ‖ tag (16 bytes)`.
//! Every value is sealed with associated data naming where it lives (session, kind, key), so a
//! row copied onto another key or another session fails to open instead of being trusted.

use aes_gcm::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};

/// Bumped if the format ever changes, so old rows can still be told apart and read.
const VERSION: u8 = 1;
const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CipherError {
    #[error("sealed value is too short")]
    Truncated,
    #[error("sealed value has unknown format version {0}")]
    UnknownVersion(u8),
    /// Wrong master key, a value moved to another row, or tampered bytes: GCM cannot tell
    /// these apart, and none of them may be trusted.
    #[error("sealed value failed authentication")]
    Authentication,
}

/// AES-256-GCM with a fresh random 96-bit nonce per value. Random nonces are safe here: the
/// birthday bound (2^32 values per key) is far above what a few sessions ever write.
pub struct Cipher {
    aead: Aes256Gcm,
}

impl std::fmt::Debug for Cipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Cipher(<redacted>)")
    }
}

impl Cipher {
    pub fn new(master_key: &[u8; 32]) -> Self {
        Self {
            aead: Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(master_key)),
        }
    }

    pub fn seal(&self, aad: &[u8], plaintext: &[u8]) -> Vec<u8> {
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let ciphertext = match self.aead.encrypt(
            &nonce,
            Payload {
                msg: plaintext,
                aad,
            },
        ) {
            Ok(ciphertext) => ciphertext,
            // aes-gcm only fails to encrypt past 64 GiB per message; a protocol record is
            // never near that, so this is unreachable in practice.
            Err(_) => unreachable_oversized(plaintext.len()),
        };
        let mut sealed = Vec::with_capacity(1 + NONCE_LEN + ciphertext.len());
        sealed.push(VERSION);
        sealed.extend_from_slice(&nonce);
        sealed.extend_from_slice(&ciphertext);
        sealed
    }

    pub fn open(&self, aad: &[u8], sealed: &[u8]) -> Result<Vec<u8>, CipherError> {
        let (&version, rest) = sealed.split_first().ok_or(CipherError::Truncated)?;
        if version != VERSION {
            return Err(CipherError::UnknownVersion(version));
        }
        if rest.len() < NONCE_LEN + TAG_LEN {
            return Err(CipherError::Truncated);
        }
        let (nonce, ciphertext) = rest.split_at(NONCE_LEN);
        self.aead
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad,
                },
            )
            .map_err(|_| CipherError::Authentication)
    }
}

#[cold]
fn unreachable_oversized(len: usize) -> ! {
    panic!("AES-GCM refused a {len}-byte plaintext (limit is 64 GiB)")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cipher(byte: u8) -> Cipher {
        Cipher::new(&[byte; 32])
    }

    #[test]
    fn round_trip() {
        let c = cipher(7);
        let sealed = c.seal(b"s1|session|a@b", b"ratchet state");
        assert_eq!(sealed[0], VERSION);
        assert_eq!(
            sealed.len(),
            1 + NONCE_LEN + b"ratchet state".len() + TAG_LEN
        );
        assert_eq!(
            c.open(b"s1|session|a@b", &sealed).expect("opens"),
            b"ratchet state"
        );
        assert_eq!(c.open(b"aad", &c.seal(b"aad", b"")).expect("opens"), b"");
    }

    #[test]
    fn nonces_differ() {
        let c = cipher(7);
        assert_ne!(c.seal(b"a", b"same"), c.seal(b"a", b"same"));
    }

    #[test]
    fn wrong_key_fails() {
        let sealed = cipher(7).seal(b"aad", b"secret");
        assert_eq!(
            cipher(8).open(b"aad", &sealed),
            Err(CipherError::Authentication)
        );
    }

    #[test]
    fn swapped_aad_fails() {
        let c = cipher(7);
        let sealed = c.seal(b"s1|session|a@b", b"secret");
        assert_eq!(
            c.open(b"s1|session|c@d", &sealed),
            Err(CipherError::Authentication)
        );
        assert_eq!(
            c.open(b"s2|session|a@b", &sealed),
            Err(CipherError::Authentication)
        );
    }

    #[test]
    fn tampered_byte_fails() {
        let c = cipher(7);
        let sealed = c.seal(b"aad", b"secret");
        for i in 1..sealed.len() {
            let mut bad = sealed.clone();
            bad[i] ^= 0x01;
            assert_eq!(
                c.open(b"aad", &bad),
                Err(CipherError::Authentication),
                "byte {i}"
            );
        }
        let mut bad = sealed.clone();
        bad[0] = 9;
        assert_eq!(c.open(b"aad", &bad), Err(CipherError::UnknownVersion(9)));
        assert_eq!(c.open(b"aad", &sealed[..20]), Err(CipherError::Truncated));
        assert_eq!(c.open(b"aad", &[]), Err(CipherError::Truncated));
    }
}
