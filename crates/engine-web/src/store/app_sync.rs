//! App-state sync: sync keys, collection versions and mutation MACs.

use std::collections::HashMap;

use wasl_store::{WebStateRow, WebStateWrite};
use whatsapp_rust::store::error::Result;
use whatsapp_rust::store::traits::{AppStateSyncKey, AppSyncStore};
use whatsapp_rust::wacore::appstate::hash::HashState;
use whatsapp_rust::wacore::appstate::processor::AppStateMutationMAC;

use super::{compound, hex, kind, WebStore};

/// The one row of `LATEST_SYNC_KEY`.
const LATEST: &str = "latest";

/// A mutation MAC's key: its collection, then its index MAC.
fn mac_key(name: &str, index_mac: &[u8]) -> String {
    compound(&[name, &hex(index_mac)])
}

#[whatsapp_rust::async_trait]
impl AppSyncStore for WebStore {
    async fn get_sync_key(&self, key_id: &[u8]) -> Result<Option<AppStateSyncKey>> {
        self.get_json(kind::SYNC_KEY, &hex(key_id)).await
    }

    /// The key and the "latest" marker move together, so the latest id always has its key.
    async fn set_sync_key(&self, key_id: &[u8], key: AppStateSyncKey) -> Result<()> {
        let key_row = self.sealed_json(kind::SYNC_KEY, hex(key_id), &key)?;
        let latest_row = self.sealed(kind::LATEST_SYNC_KEY, LATEST.to_owned(), key_id);
        self.apply(vec![
            WebStateWrite::Put(key_row),
            WebStateWrite::Put(latest_row),
        ])
        .await
    }

    async fn get_version(&self, name: &str) -> Result<HashState> {
        Ok(self
            .get_json(kind::APP_STATE_VERSION, name)
            .await?
            .unwrap_or_default())
    }

    async fn set_version(&self, name: &str, state: HashState) -> Result<()> {
        let row = self.sealed_json(kind::APP_STATE_VERSION, name.to_owned(), &state)?;
        self.put(row).await
    }

    async fn put_mutation_macs(
        &self,
        name: &str,
        version: u64,
        mutations: &[AppStateMutationMAC],
    ) -> Result<()> {
        let version = i64::try_from(version).unwrap_or(i64::MAX);
        let writes = mutations
            .iter()
            .map(|m| {
                WebStateWrite::Put(WebStateRow {
                    scope: name.to_owned(),
                    num: Some(version),
                    ..self.sealed(
                        kind::MUTATION_MAC,
                        mac_key(name, &m.index_mac),
                        &m.value_mac,
                    )
                })
            })
            .collect();
        self.apply(writes).await
    }

    async fn get_mutation_mac(&self, name: &str, index_mac: &[u8]) -> Result<Option<Vec<u8>>> {
        self.get(kind::MUTATION_MAC, &mac_key(name, index_mac))
            .await
    }

    /// One query for the whole batch: app-state sync asks for every MAC of a patch at once.
    async fn get_mutation_macs(
        &self,
        name: &str,
        index_macs: &[[u8; 32]],
    ) -> Result<HashMap<[u8; 32], Vec<u8>>> {
        let wanted: HashMap<String, [u8; 32]> = index_macs
            .iter()
            .map(|index_mac| (mac_key(name, index_mac), *index_mac))
            .collect();
        let keys: Vec<String> = wanted.keys().cloned().collect();
        let mut out = HashMap::with_capacity(keys.len());
        for row in self.get_many(kind::MUTATION_MAC, &keys).await? {
            if let Some(index_mac) = wanted.get(&row.key) {
                out.insert(*index_mac, self.open(&row)?);
            }
        }
        Ok(out)
    }

    async fn delete_mutation_macs(&self, name: &str, index_macs: &[Vec<u8>]) -> Result<()> {
        let writes = index_macs
            .iter()
            .map(|index_mac| WebStateWrite::Delete {
                kind: kind::MUTATION_MAC.to_owned(),
                key: mac_key(name, index_mac),
            })
            .collect();
        self.apply(writes).await
    }

    async fn clear_mutation_macs(&self, name: &str) -> Result<()> {
        self.apply(vec![WebStateWrite::DeleteScope {
            kind: kind::MUTATION_MAC.to_owned(),
            scope: name.to_owned(),
        }])
        .await
    }

    async fn get_latest_sync_key_id(&self) -> Result<Option<Vec<u8>>> {
        self.get(kind::LATEST_SYNC_KEY, LATEST).await
    }
}
