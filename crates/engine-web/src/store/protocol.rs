//! Protocol state: sender-key distribution per device, LID↔phone mappings, base keys, device
//! lists, group metadata, trusted-contact tokens, sent messages kept for retries and the
//! pending-inbound buffer.

use wasl_store::{WebStateRow, WebStateSweep, WebStateWrite};
use whatsapp_rust::store::error::Result;
use whatsapp_rust::store::traits::{
    DeviceListRecord, LidPnMappingEntry, PendingInboundKey, PendingInboundRow, ProtocolStore,
    TcTokenEntry,
};

use super::{compound, db, kind, now_secs, WebStore};

fn count(n: u64) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

impl WebStore {
    fn lid_mapping_row(&self, entry: &LidPnMappingEntry) -> Result<WebStateRow> {
        Ok(WebStateRow {
            scope: entry.phone_number.clone(),
            num: Some(entry.updated_at),
            ..self.sealed_json(kind::LID_MAPPING, entry.lid.clone(), entry)?
        })
    }

    fn device_list_row(&self, record: &DeviceListRecord) -> Result<WebStateRow> {
        self.sealed_json(kind::DEVICE_LIST, record.user.clone(), record)
    }

    /// The timestamps stay visible for the expiry sweep: `num` is the received token's time
    /// (absent while the row is a byte-less placeholder), `num2` the sender bucket's.
    fn tc_token_row(&self, jid: &str, entry: &TcTokenEntry) -> Result<WebStateRow> {
        Ok(WebStateRow {
            num: (!entry.token.is_empty()).then_some(entry.token_timestamp),
            num2: entry.sender_timestamp,
            ..self.sealed_json(kind::TC_TOKEN, jid.to_owned(), entry)?
        })
    }

    fn pending_inbound_row(&self, row: &PendingInboundRow<'_>, now: i64) -> WebStateRow {
        WebStateRow {
            num: Some(now),
            ..self.sealed(
                kind::PENDING_INBOUND,
                compound(&[row.chat, row.sender, row.id]),
                row.message,
            )
        }
    }

    async fn sweep(&self, kind: &str, sweep: WebStateSweep) -> Result<u32> {
        self.store
            .web_state()
            .sweep(&self.session_id, kind, sweep)
            .await
            .map(count)
            .map_err(db)
    }
}

#[whatsapp_rust::async_trait]
impl ProtocolStore for WebStore {
    async fn get_sender_key_devices(&self, group_jid: &str) -> Result<Vec<(String, bool)>> {
        self.list(kind::SENDER_KEY_DEVICE, Some(group_jid))
            .await?
            .iter()
            .map(|row| Ok((row.member.clone(), self.open(row)? == [1])))
            .collect()
    }

    async fn set_sender_key_status(&self, group_jid: &str, entries: &[(&str, bool)]) -> Result<()> {
        let writes = entries
            .iter()
            .map(|(device, has_key)| {
                WebStateWrite::Put(WebStateRow {
                    scope: group_jid.to_owned(),
                    member: (*device).to_owned(),
                    ..self.sealed(
                        kind::SENDER_KEY_DEVICE,
                        compound(&[group_jid, device]),
                        &[u8::from(*has_key)],
                    )
                })
            })
            .collect();
        self.apply(writes).await
    }

    async fn clear_sender_key_devices(&self, group_jid: &str) -> Result<()> {
        self.apply(vec![WebStateWrite::DeleteScope {
            kind: kind::SENDER_KEY_DEVICE.to_owned(),
            scope: group_jid.to_owned(),
        }])
        .await
    }

    async fn delete_sender_key_device_rows(&self, device_jids: &[&str]) -> Result<()> {
        let writes = device_jids
            .iter()
            .map(|device| WebStateWrite::DeleteMember {
                kind: kind::SENDER_KEY_DEVICE.to_owned(),
                member: (*device).to_owned(),
            })
            .collect();
        self.apply(writes).await
    }

    async fn clear_all_sender_key_devices(&self) -> Result<()> {
        self.apply(vec![WebStateWrite::DeleteKind {
            kind: kind::SENDER_KEY_DEVICE.to_owned(),
        }])
        .await
    }

    async fn get_lid_mapping(&self, lid: &str) -> Result<Option<LidPnMappingEntry>> {
        self.get_json(kind::LID_MAPPING, lid).await
    }

    /// Rows are keyed by LID with the phone as scope, so a LID that moves to another phone
    /// leaves its old phone by itself; among several LIDs of one phone, the newest wins.
    async fn get_pn_mapping(&self, phone: &str) -> Result<Option<LidPnMappingEntry>> {
        self.store
            .web_state()
            .latest_in_scope(&self.session_id, kind::LID_MAPPING, phone)
            .await
            .map_err(db)?
            .map(|row| self.open_json(&row))
            .transpose()
    }

    async fn put_lid_mapping(&self, entry: &LidPnMappingEntry) -> Result<()> {
        self.put(self.lid_mapping_row(entry)?).await
    }

    async fn put_lid_mappings(&self, entries: &[LidPnMappingEntry]) -> Result<()> {
        let writes = entries
            .iter()
            .map(|entry| self.lid_mapping_row(entry).map(WebStateWrite::Put))
            .collect::<Result<_>>()?;
        self.apply(writes).await
    }

    async fn get_all_lid_mappings(&self) -> Result<Vec<LidPnMappingEntry>> {
        self.list(kind::LID_MAPPING, None)
            .await?
            .iter()
            .map(|row| self.open_json(row))
            .collect()
    }

    async fn save_base_key(&self, address: &str, message_id: &str, base_key: &[u8]) -> Result<()> {
        let key = compound(&[address, message_id]);
        self.put(self.sealed(kind::BASE_KEY, key, base_key)).await
    }

    async fn has_same_base_key(
        &self,
        address: &str,
        message_id: &str,
        current_base_key: &[u8],
    ) -> Result<bool> {
        let stored = self
            .get(kind::BASE_KEY, &compound(&[address, message_id]))
            .await?;
        Ok(stored.is_some_and(|stored| stored == current_base_key))
    }

    async fn delete_base_key(&self, address: &str, message_id: &str) -> Result<()> {
        self.delete(kind::BASE_KEY, compound(&[address, message_id]))
            .await
    }

    async fn update_device_list(&self, record: DeviceListRecord) -> Result<()> {
        self.put(self.device_list_row(&record)?).await
    }

    async fn update_device_lists(&self, records: Vec<DeviceListRecord>) -> Result<()> {
        let writes = records
            .iter()
            .map(|record| self.device_list_row(record).map(WebStateWrite::Put))
            .collect::<Result<_>>()?;
        self.apply(writes).await
    }

    async fn get_devices(&self, user: &str) -> Result<Option<DeviceListRecord>> {
        self.get_json(kind::DEVICE_LIST, user).await
    }

    async fn delete_devices(&self, user: &str) -> Result<()> {
        self.delete(kind::DEVICE_LIST, user.to_owned()).await
    }

    async fn get_group_metadata(&self, group_jid: &str) -> Result<Option<Vec<u8>>> {
        self.get(kind::GROUP_METADATA, group_jid).await
    }

    async fn put_group_metadata(&self, group_jid: &str, blob: &[u8]) -> Result<()> {
        self.put(self.sealed(kind::GROUP_METADATA, group_jid.to_owned(), blob))
            .await
    }

    async fn delete_group_metadata(&self, group_jid: &str) -> Result<()> {
        self.delete(kind::GROUP_METADATA, group_jid.to_owned())
            .await
    }

    async fn get_tc_token(&self, jid: &str) -> Result<Option<TcTokenEntry>> {
        self.get_json(kind::TC_TOKEN, jid).await
    }

    async fn put_tc_token(&self, jid: &str, entry: &TcTokenEntry) -> Result<()> {
        let _guard = self.rmw.lock().await;
        self.put(self.tc_token_row(jid, entry)?).await
    }

    async fn delete_tc_token(&self, jid: &str) -> Result<()> {
        self.delete(kind::TC_TOKEN, jid.to_owned()).await
    }

    async fn get_all_tc_token_jids(&self) -> Result<Vec<String>> {
        Ok(self
            .list(kind::TC_TOKEN, None)
            .await?
            .into_iter()
            .map(|row| row.key)
            .collect())
    }

    async fn delete_expired_tc_tokens(&self, token_cutoff: i64, sender_cutoff: i64) -> Result<u32> {
        let sweep = WebStateSweep::BothBelow {
            num: token_cutoff,
            num2: sender_cutoff,
        };
        self.sweep(kind::TC_TOKEN, sweep).await
    }

    /// Under the store's lock, so it cannot interleave with `put_tc_token` or a received
    /// token and drop the other writer's field.
    async fn touch_tc_token_sender_timestamp(
        &self,
        jid: &str,
        sender_timestamp: i64,
    ) -> Result<()> {
        let _guard = self.rmw.lock().await;
        let entry = match self.get_tc_token(jid).await? {
            Some(existing) => TcTokenEntry {
                sender_timestamp: Some(
                    existing
                        .sender_timestamp
                        .map_or(sender_timestamp, |e| e.max(sender_timestamp)),
                ),
                ..existing
            },
            None => TcTokenEntry {
                token: Vec::new(),
                token_timestamp: sender_timestamp,
                sender_timestamp: Some(sender_timestamp),
            },
        };
        self.put(self.tc_token_row(jid, &entry)?).await
    }

    /// Newer wins, under the store's lock (see `touch_tc_token_sender_timestamp`).
    async fn store_received_tc_token(
        &self,
        jid: &str,
        token: &[u8],
        token_timestamp: i64,
    ) -> Result<()> {
        let _guard = self.rmw.lock().await;
        let existing = self.get_tc_token(jid).await?;
        if let Some(existing) = &existing {
            if !existing.token.is_empty() && token_timestamp < existing.token_timestamp {
                return Ok(());
            }
        }
        let entry = TcTokenEntry {
            token: token.to_vec(),
            token_timestamp,
            sender_timestamp: existing.and_then(|existing| existing.sender_timestamp),
        };
        self.put(self.tc_token_row(jid, &entry)?).await
    }

    async fn store_sent_message(
        &self,
        chat_jid: &str,
        message_id: &str,
        payload: &[u8],
    ) -> Result<()> {
        let key = compound(&[chat_jid, message_id]);
        let row = WebStateRow {
            num: Some(now_secs()),
            ..self.sealed(kind::SENT_MESSAGE, key, payload)
        };
        self.put(row).await
    }

    /// One `DELETE … RETURNING`: a retry receipt consumes the message exactly once.
    async fn take_sent_message(&self, chat_jid: &str, message_id: &str) -> Result<Option<Vec<u8>>> {
        let key = compound(&[chat_jid, message_id]);
        self.store
            .web_state()
            .take(&self.session_id, kind::SENT_MESSAGE, &key)
            .await
            .map_err(db)?
            .map(|row| self.open(&row))
            .transpose()
    }

    async fn delete_expired_sent_messages(&self, cutoff_timestamp: i64) -> Result<u32> {
        self.sweep(
            kind::SENT_MESSAGE,
            WebStateSweep::NumBelow(cutoff_timestamp),
        )
        .await
    }

    async fn store_pending_inbound(
        &self,
        chat: &str,
        sender: &str,
        id: &str,
        message: &[u8],
    ) -> Result<()> {
        let row = PendingInboundRow {
            chat,
            sender,
            id,
            message,
        };
        self.put(self.pending_inbound_row(&row, now_secs())).await
    }

    async fn get_pending_inbound(
        &self,
        chat: &str,
        sender: &str,
        id: &str,
    ) -> Result<Option<Vec<u8>>> {
        self.get(kind::PENDING_INBOUND, &compound(&[chat, sender, id]))
            .await
    }

    async fn delete_pending_inbound(&self, chat: &str, sender: &str, id: &str) -> Result<()> {
        self.delete(kind::PENDING_INBOUND, compound(&[chat, sender, id]))
            .await
    }

    async fn delete_expired_pending_inbound(&self, cutoff_timestamp: i64) -> Result<u32> {
        self.sweep(
            kind::PENDING_INBOUND,
            WebStateSweep::NumBelow(cutoff_timestamp),
        )
        .await
    }

    async fn store_pending_inbound_batch(&self, rows: &[PendingInboundRow<'_>]) -> Result<()> {
        let now = now_secs();
        let writes = rows
            .iter()
            .map(|row| WebStateWrite::Put(self.pending_inbound_row(row, now)))
            .collect();
        self.apply(writes).await
    }

    async fn delete_pending_inbound_batch(&self, keys: &[PendingInboundKey<'_>]) -> Result<()> {
        let writes = keys
            .iter()
            .map(|key| WebStateWrite::Delete {
                kind: kind::PENDING_INBOUND.to_owned(),
                key: compound(&[key.chat, key.sender, key.id]),
            })
            .collect();
        self.apply(writes).await
    }
}
