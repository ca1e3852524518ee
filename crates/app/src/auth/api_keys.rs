//! API keys for servers (a CRM, a script). A key is 32 random bytes, shown once; only its
//! SHA-256 is stored. A slow password hash is not needed: the key has full entropy, and a
//! fast hash lets every request be checked with one indexed lookup.

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine as _;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// Every key starts with this, so a key is recognisable in a config file or a leak scan.
pub const PREFIX: &str = "wasl_";

pub struct NewKey {
    pub key: String,
    pub hash: String,
    /// The first characters, listed so people can tell their keys apart.
    pub display_prefix: String,
}

pub fn generate() -> NewKey {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let key = format!("{PREFIX}{}", B64.encode(bytes));
    NewKey {
        hash: hash(&key),
        display_prefix: key.chars().take(PREFIX.len() + 6).collect(),
        key,
    }
}

pub fn hash(key: &str) -> String {
    Sha256::digest(key.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

pub fn looks_like_key(token: &str) -> bool {
    token.starts_with(PREFIX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_unique_and_hashed() {
        let a = generate();
        let b = generate();
        assert_ne!(a.key, b.key);
        assert!(looks_like_key(&a.key));
        assert_eq!(a.hash, hash(&a.key));
        assert_eq!(a.hash.len(), 64);
        assert!(a.key.starts_with(&a.display_prefix));
        assert!(!a.hash.contains(&a.key));
    }
}
