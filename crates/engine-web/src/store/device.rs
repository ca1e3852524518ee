//! The device itself (identity, noise and prekey key pairs, account) and per-message secrets.

use std::collections::HashMap;
use std::sync::Arc;

use wasl_store::{WebStateRow, WebStateSweep, WebStateWrite};
use whatsapp_rust::store::error::Result;
use whatsapp_rust::store::traits::{
    merge_msg_secret_expiry, merge_msg_secret_message_ts, DeviceStore, MsgSecretEntry,
    MsgSecretStore,
};
use whatsapp_rust::wacore::stats::StorageResourceReport;
use whatsapp_rust::wacore::store::device::DEVICE_PROPS;
use whatsapp_rust::wacore::store::Device;

use super::{compound, kind, WebStore};

/// A session has one device; its row's key.
const DEVICE_KEY: &str = "device";

/// The id `create` reports: one store holds one device.
const DEVICE_ID: i32 = 1;

#[whatsapp_rust::async_trait]
impl DeviceStore for WebStore {
    async fn save(&self, device: &Device) -> Result<()> {
        self.put(self.sealed_json(kind::DEVICE, DEVICE_KEY.to_owned(), device)?)
            .await
    }

    async fn load(&self) -> Result<Option<Device>> {
        let Some(mut device) = self.get_json::<Device>(kind::DEVICE, DEVICE_KEY).await? else {
            return Ok(None);
        };
        // `device_props` is `#[serde(skip)]`: without this it would come back empty and the
        // device would register with no OS, version or history-sync settings.
        device.device_props = Arc::new(DEVICE_PROPS.clone());
        Ok(Some(device))
    }

    async fn exists(&self) -> Result<bool> {
        Ok(self.row(kind::DEVICE, DEVICE_KEY).await?.is_some())
    }

    /// Materializes a fresh device (new keys) if there is none, like the reference store, so
    /// `exists` is true afterwards and `load` returns the keys a QR code will carry.
    async fn create(&self) -> Result<i32> {
        let _guard = self.rmw.lock().await;
        if !self.exists().await? {
            self.save(&Device::new()).await?;
        }
        Ok(DEVICE_ID)
    }

    /// The state lives in the database, not in this process.
    async fn resource_report(&self) -> StorageResourceReport {
        StorageResourceReport {
            memory_bytes: Some(0),
            ..StorageResourceReport::default()
        }
    }
}

fn msg_secret_key(chat: &str, sender: &str, msg_id: &str) -> String {
    compound(&[chat, sender, msg_id])
}

/// The merge state of one msg-secret row: `(secret, expires_at, message_ts)`, 0 = unset.
type Merged = ([u8; 32], i64, i64);

impl WebStore {
    /// `num` is the expiry (absent = never, so the sweep can skip it), `num2` the parent
    /// message time.
    fn msg_secret_row(&self, key: String, (secret, expires_at, message_ts): Merged) -> WebStateRow {
        WebStateRow {
            num: (expires_at != 0).then_some(expires_at),
            num2: Some(message_ts),
            ..self.sealed(kind::MSG_SECRET, key, &secret)
        }
    }
}

#[whatsapp_rust::async_trait]
impl MsgSecretStore for WebStore {
    /// Upserts with the crate's merge rules (a deadline never shrinks, a known parent time
    /// is never forgotten), reading the existing rows once for the whole batch.
    async fn put_msg_secrets(&self, entries: Vec<MsgSecretEntry>) -> Result<usize> {
        let stored = entries.len();
        let _guard = self.rmw.lock().await;
        let keys: Vec<String> = entries
            .iter()
            .map(|e| msg_secret_key(&e.chat, &e.sender, &e.msg_id))
            .collect();
        // (expires_at, message_ts) of the rows already stored.
        let mut existing: HashMap<String, (i64, i64)> = HashMap::with_capacity(keys.len());
        for row in self.get_many(kind::MSG_SECRET, &keys).await? {
            existing.insert(row.key, (row.num.unwrap_or(0), row.num2.unwrap_or(0)));
        }
        // A key twice in one batch merges like two calls in a row.
        let mut batch: HashMap<String, Merged> = HashMap::with_capacity(keys.len());
        for (key, entry) in keys.into_iter().zip(entries) {
            let prior = batch
                .get(&key)
                .map(|&(_, expires_at, message_ts)| (expires_at, message_ts))
                .or_else(|| existing.get(&key).copied());
            let state = match prior {
                Some((expires_at, message_ts)) => (
                    entry.secret,
                    merge_msg_secret_expiry(expires_at, entry.expires_at),
                    merge_msg_secret_message_ts(message_ts, entry.message_ts),
                ),
                None => (entry.secret, entry.expires_at, entry.message_ts),
            };
            batch.insert(key, state);
        }
        let writes = batch
            .into_iter()
            .map(|(key, state)| WebStateWrite::Put(self.msg_secret_row(key, state)))
            .collect();
        self.apply(writes).await?;
        Ok(stored)
    }

    async fn get_msg_secret(
        &self,
        chat: &str,
        sender: &str,
        msg_id: &str,
    ) -> Result<Option<Vec<u8>>> {
        self.get(kind::MSG_SECRET, &msg_secret_key(chat, sender, msg_id))
            .await
    }

    async fn get_msg_secret_with_ts(
        &self,
        chat: &str,
        sender: &str,
        msg_id: &str,
    ) -> Result<Option<(Vec<u8>, i64)>> {
        let Some(row) = self
            .row(kind::MSG_SECRET, &msg_secret_key(chat, sender, msg_id))
            .await?
        else {
            return Ok(None);
        };
        Ok(Some((self.open(&row)?, row.num2.unwrap_or(0))))
    }

    /// Deletes deadlines at or before the cutoff; rows that never expire have no `num`.
    async fn delete_expired_msg_secrets(&self, cutoff_timestamp: i64) -> Result<u32> {
        let sweep = WebStateSweep::NumBelow(cutoff_timestamp.saturating_add(1));
        self.store
            .web_state()
            .sweep(&self.session_id, kind::MSG_SECRET, sweep)
            .await
            .map(|n| u32::try_from(n).unwrap_or(u32::MAX))
            .map_err(super::db)
    }
}
