//! whatsapp-rust's protocol store (its `Backend`: Signal, app-state sync, protocol, message
//! secrets and the device) kept in wasl's own database, one [`WebStore`] per session.
//!
//! Every value is sealed with the master key before it reaches the database, bound to its
//! (session, kind, key); keys stay readable (addresses, ids, collection names) so that the
//! database can find rows, and hold no secret. The crate's `InMemoryBackend` is the reference
//! for what each method means; the conformance test holds both to the same story.

mod app_sync;
mod device;
mod protocol;
mod signal;

use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde::Serialize;
use wasl_domain::SessionId;
use wasl_store::{Store, WebStateRow, WebStateWrite};
use whatsapp_rust::store::error::{Result, StoreError};

use wasl_store::cipher::{Cipher, CipherError};

/// What a row is; the second column of the table's key. Stored in the database, so a value
/// here is never renamed.
pub(crate) mod kind {
    pub const IDENTITY: &str = "identity";
    pub const SESSION: &str = "session";
    pub const PREKEY: &str = "prekey";
    pub const SIGNED_PREKEY: &str = "signed_prekey";
    pub const SENDER_KEY: &str = "sender_key";
    pub const SYNC_KEY: &str = "sync_key";
    pub const LATEST_SYNC_KEY: &str = "latest_sync_key";
    pub const APP_STATE_VERSION: &str = "app_state_version";
    pub const MUTATION_MAC: &str = "mutation_mac";
    pub const SENDER_KEY_DEVICE: &str = "sender_key_device";
    pub const LID_MAPPING: &str = "lid_mapping";
    pub const BASE_KEY: &str = "base_key";
    pub const DEVICE_LIST: &str = "device_list";
    pub const GROUP_METADATA: &str = "group_metadata";
    pub const TC_TOKEN: &str = "tc_token";
    pub const SENT_MESSAGE: &str = "sent_message";
    pub const PENDING_INBOUND: &str = "pending_inbound";
    pub const MSG_SECRET: &str = "msg_secret";
    pub const DEVICE: &str = "device";
}

/// The web engine's protocol store for one session.
pub struct WebStore {
    store: Store,
    cipher: Arc<Cipher>,
    session_id: SessionId,
    /// Serializes this store's read-modify-write operations (tc tokens, msg-secret merges,
    /// device creation) so concurrent callers converge. One session runs on one node, so a
    /// process-local lock is enough.
    rmw: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for WebStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebStore")
            .field("session_id", &self.session_id)
            .finish_non_exhaustive()
    }
}

/// A stored value that does not open: wrong master key, or a row moved or altered.
#[derive(Debug, thiserror::Error)]
#[error("the stored {kind} value cannot be opened")]
struct SealedValueError {
    kind: String,
    #[source]
    source: CipherError,
}

fn db(e: wasl_store::StoreError) -> StoreError {
    StoreError::Database(Box::new(e))
}

fn serialization(e: serde_json::Error) -> StoreError {
    StoreError::Serialization(Box::new(e))
}

/// Unix seconds, the clock whatsapp-rust's sweeps compare against.
fn now_secs() -> i64 {
    wasl_domain::time::now_millis() / 1000
}

/// Joins the parts of a composite key unambiguously: every part but the last carries its
/// length, so `("a:b", "c")` and `("a", "b:c")` never collide.
fn compound(parts: &[&str]) -> String {
    let mut key = String::new();
    if let Some((last, init)) = parts.split_last() {
        for part in init {
            key.push_str(&format!("{}:{part}|", part.len()));
        }
        key.push_str(last);
    }
    key
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The user of a Signal address (`user@server` or `user:device@server`).
fn user_of(address: &str) -> &str {
    address
        .find([':', '@'])
        .map_or(address, |end| &address[..end])
}

impl WebStore {
    pub fn new(store: Store, cipher: Arc<Cipher>, session_id: SessionId) -> Self {
        Self {
            store,
            cipher,
            session_id,
            rmw: tokio::sync::Mutex::new(()),
        }
    }

    pub fn session_id(&self) -> &SessionId {
        &self.session_id
    }

    /// Associated data naming where a value lives, length-prefixed so no two places share it.
    fn aad(&self, kind: &str, key: &str) -> Vec<u8> {
        let mut aad = b"wasl/web-engine-state".to_vec();
        for part in [self.session_id.as_str(), kind, key] {
            aad.extend_from_slice(&(part.len() as u64).to_be_bytes());
            aad.extend_from_slice(part.as_bytes());
        }
        aad
    }

    /// A row with its value sealed; scope, member and numbers are set by the caller.
    fn sealed(&self, kind: &str, key: String, plaintext: &[u8]) -> WebStateRow {
        let value = self.cipher.seal(&self.aad(kind, &key), plaintext);
        WebStateRow {
            kind: kind.to_owned(),
            key,
            value,
            ..WebStateRow::default()
        }
    }

    fn sealed_json<T: Serialize>(&self, kind: &str, key: String, value: &T) -> Result<WebStateRow> {
        let json = serde_json::to_vec(value).map_err(serialization)?;
        Ok(self.sealed(kind, key, &json))
    }

    fn open(&self, row: &WebStateRow) -> Result<Vec<u8>> {
        self.cipher
            .open(&self.aad(&row.kind, &row.key), &row.value)
            .map_err(|source| {
                StoreError::Serialization(Box::new(SealedValueError {
                    kind: row.kind.clone(),
                    source,
                }))
            })
    }

    fn open_json<T: DeserializeOwned>(&self, row: &WebStateRow) -> Result<T> {
        serde_json::from_slice(&self.open(row)?).map_err(serialization)
    }

    async fn row(&self, kind: &str, key: &str) -> Result<Option<WebStateRow>> {
        self.store
            .web_state()
            .get(&self.session_id, kind, key)
            .await
            .map_err(db)
    }

    async fn get(&self, kind: &str, key: &str) -> Result<Option<Vec<u8>>> {
        self.row(kind, key)
            .await?
            .map(|row| self.open(&row))
            .transpose()
    }

    async fn get_json<T: DeserializeOwned>(&self, kind: &str, key: &str) -> Result<Option<T>> {
        self.row(kind, key)
            .await?
            .map(|row| self.open_json(&row))
            .transpose()
    }

    async fn get_many(&self, kind: &str, keys: &[String]) -> Result<Vec<WebStateRow>> {
        self.store
            .web_state()
            .get_many(&self.session_id, kind, keys)
            .await
            .map_err(db)
    }

    async fn list(&self, kind: &str, scope: Option<&str>) -> Result<Vec<WebStateRow>> {
        self.store
            .web_state()
            .list(&self.session_id, kind, scope)
            .await
            .map_err(db)
    }

    /// Applies the writes in one transaction; an error means none of them happened.
    async fn apply(&self, writes: Vec<WebStateWrite>) -> Result<()> {
        self.store
            .web_state()
            .apply(&self.session_id, &writes)
            .await
            .map_err(db)
    }

    async fn put(&self, row: WebStateRow) -> Result<()> {
        self.apply(vec![WebStateWrite::Put(row)]).await
    }

    async fn delete(&self, kind: &str, key: String) -> Result<()> {
        self.apply(vec![WebStateWrite::Delete {
            kind: kind.to_owned(),
            key,
        }])
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compound_keys_do_not_collide() {
        assert_ne!(compound(&["a:b", "c"]), compound(&["a", "b:c"]));
        assert_ne!(compound(&["a|", "b"]), compound(&["a", "|b"]));
        assert_eq!(compound(&["only"]), "only");
    }

    #[test]
    fn user_of_an_address() {
        assert_eq!(user_of("15551234567@s.whatsapp.net"), "15551234567");
        assert_eq!(user_of("15551234567:3@s.whatsapp.net"), "15551234567");
        assert_eq!(user_of("100000012345678@lid"), "100000012345678");
        assert_eq!(user_of("bare"), "bare");
    }
}
