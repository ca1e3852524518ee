//! Signal state: identities, sessions, prekeys, signed prekeys and sender keys.
//!
//! Batch writes are one transaction each: the engine sends a message only after its ratchet
//! advance is durable, so a failed batch must leave nothing half-written and return `Err`.

use std::collections::HashMap;
use std::sync::Arc;

use wasl_store::{WebStateRow, WebStateWrite};
use whatsapp_rust::bytes::Bytes;
use whatsapp_rust::store::error::{Result, StoreError};
use whatsapp_rust::store::traits::SignalStore;

use super::{db, kind, user_of, WebStore};

impl WebStore {
    fn identity_row(&self, address: &str, key: &[u8; 32]) -> WebStateRow {
        WebStateRow {
            scope: user_of(address).to_owned(),
            ..self.sealed(kind::IDENTITY, address.to_owned(), key)
        }
    }

    fn session_row(&self, address: &str, session: &[u8]) -> WebStateRow {
        WebStateRow {
            scope: user_of(address).to_owned(),
            ..self.sealed(kind::SESSION, address.to_owned(), session)
        }
    }

    fn prekey_row(&self, id: u32, record: &[u8], uploaded: bool) -> WebStateRow {
        WebStateRow {
            num: Some(i64::from(id)),
            num2: Some(i64::from(uploaded)),
            ..self.sealed(kind::PREKEY, id.to_string(), record)
        }
    }

    fn sender_key_row(&self, address: &str, record: &[u8]) -> WebStateRow {
        self.sealed(kind::SENDER_KEY, address.to_owned(), record)
    }
}

fn prekey_id(row: &WebStateRow) -> Result<u32> {
    row.key
        .parse()
        .map_err(|_| StoreError::Validation(format!("prekey id {:?} is not a number", row.key)))
}

#[whatsapp_rust::async_trait]
impl SignalStore for WebStore {
    async fn put_identity(&self, address: &str, key: [u8; 32]) -> Result<()> {
        self.put(self.identity_row(address, &key)).await
    }

    async fn put_identities_batch(&self, identities: &[(Arc<str>, [u8; 32])]) -> Result<()> {
        let writes = identities
            .iter()
            .map(|(address, key)| WebStateWrite::Put(self.identity_row(address, key)))
            .collect();
        self.apply(writes).await
    }

    async fn load_identity(&self, address: &str) -> Result<Option<[u8; 32]>> {
        self.get(kind::IDENTITY, address)
            .await?
            .map(|bytes| {
                <[u8; 32]>::try_from(bytes.as_slice()).map_err(|_| {
                    StoreError::Validation(format!("identity key has {} bytes", bytes.len()))
                })
            })
            .transpose()
    }

    async fn delete_identity(&self, address: &str) -> Result<()> {
        self.delete(kind::IDENTITY, address.to_owned()).await
    }

    async fn get_session(&self, address: &str) -> Result<Option<Bytes>> {
        Ok(self.get(kind::SESSION, address).await?.map(Bytes::from))
    }

    async fn put_session(&self, address: &str, session: &[u8]) -> Result<()> {
        self.put(self.session_row(address, session)).await
    }

    async fn put_sessions_batch(&self, sessions: &[(Arc<str>, Bytes)]) -> Result<()> {
        let writes = sessions
            .iter()
            .map(|(address, session)| WebStateWrite::Put(self.session_row(address, session)))
            .collect();
        self.apply(writes).await
    }

    async fn delete_session(&self, address: &str) -> Result<()> {
        self.delete(kind::SESSION, address.to_owned()).await
    }

    async fn has_session(&self, address: &str) -> Result<bool> {
        Ok(self.row(kind::SESSION, address).await?.is_some())
    }

    /// Exact for users without `:` or `@` in them, which is every user part of a JID.
    async fn has_signal_state_for_user(&self, user: &str) -> Result<bool> {
        self.store
            .web_state()
            .scope_exists(&self.session_id, &[kind::SESSION, kind::IDENTITY], user)
            .await
            .map_err(db)
    }

    async fn store_prekey(&self, id: u32, record: &[u8], uploaded: bool) -> Result<()> {
        self.put(self.prekey_row(id, record, uploaded)).await
    }

    async fn store_prekeys_batch(&self, keys: &[(u32, Bytes)], uploaded: bool) -> Result<()> {
        let writes = keys
            .iter()
            .map(|(id, record)| WebStateWrite::Put(self.prekey_row(*id, record, uploaded)))
            .collect();
        self.apply(writes).await
    }

    async fn load_prekey(&self, id: u32) -> Result<Option<Bytes>> {
        Ok(self
            .get(kind::PREKEY, &id.to_string())
            .await?
            .map(Bytes::from))
    }

    async fn load_prekeys_batch(&self, ids: &[u32]) -> Result<Vec<(u32, Bytes)>> {
        let keys: Vec<String> = ids.iter().map(u32::to_string).collect();
        let mut found = HashMap::new();
        for row in self.get_many(kind::PREKEY, &keys).await? {
            found.insert(prekey_id(&row)?, Bytes::from(self.open(&row)?));
        }
        // In the order asked for, like the reference store.
        Ok(ids
            .iter()
            .filter_map(|id| found.get(id).map(|record| (*id, record.clone())))
            .collect())
    }

    async fn mark_prekeys_uploaded(&self, ids: &[u32]) -> Result<()> {
        let keys: Vec<String> = ids.iter().map(u32::to_string).collect();
        self.store
            .web_state()
            .set_num2(&self.session_id, kind::PREKEY, &keys, 1)
            .await
            .map_err(db)
    }

    async fn remove_prekey(&self, id: u32) -> Result<()> {
        self.delete(kind::PREKEY, id.to_string()).await
    }

    async fn get_max_prekey_id(&self) -> Result<u32> {
        let max = self
            .store
            .web_state()
            .max_num(&self.session_id, kind::PREKEY)
            .await
            .map_err(db)?;
        Ok(max.and_then(|n| u32::try_from(n).ok()).unwrap_or(0))
    }

    async fn store_signed_prekey(&self, id: u32, record: &[u8]) -> Result<()> {
        let row = WebStateRow {
            num: Some(i64::from(id)),
            ..self.sealed(kind::SIGNED_PREKEY, id.to_string(), record)
        };
        self.put(row).await
    }

    async fn load_signed_prekey(&self, id: u32) -> Result<Option<Vec<u8>>> {
        self.get(kind::SIGNED_PREKEY, &id.to_string()).await
    }

    async fn load_all_signed_prekeys(&self) -> Result<Vec<(u32, Vec<u8>)>> {
        self.list(kind::SIGNED_PREKEY, None)
            .await?
            .iter()
            .map(|row| Ok((prekey_id(row)?, self.open(row)?)))
            .collect()
    }

    async fn remove_signed_prekey(&self, id: u32) -> Result<()> {
        self.delete(kind::SIGNED_PREKEY, id.to_string()).await
    }

    async fn put_sender_key(&self, address: &str, record: &[u8]) -> Result<()> {
        self.put(self.sender_key_row(address, record)).await
    }

    async fn put_sender_keys_batch(&self, sender_keys: &[(Arc<str>, Bytes)]) -> Result<()> {
        let writes = sender_keys
            .iter()
            .map(|(address, record)| WebStateWrite::Put(self.sender_key_row(address, record)))
            .collect();
        self.apply(writes).await
    }

    async fn get_sender_key(&self, address: &str) -> Result<Option<Vec<u8>>> {
        self.get(kind::SENDER_KEY, address).await
    }

    async fn delete_sender_key(&self, address: &str) -> Result<()> {
        self.delete(kind::SENDER_KEY, address.to_owned()).await
    }
}
