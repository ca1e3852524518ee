//! At-least-once for customers' messages. WhatsApp drops a message from its offline queue
//! once the device acknowledges it; by default whatsapp-rust acknowledges as soon as it has
//! decrypted one, so a crash before wasl has stored it would lose it for good. This hook makes
//! the crate wait: each message of a batch is read (media downloaded), handed to wasl, and the
//! batch is confirmed only when wasl says every message is stored
//! ([`Connection::acknowledge`](wasl_engine::Connection::acknowledge)). A batch that is not
//! confirmed in time is refused, and WhatsApp offers it again on the next connection; wasl
//! stores a message id once, so a repeat is harmless.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::oneshot;
use wasl_engine::{EngineEvent, EventSender};
use whatsapp_rust::prelude::Client;
use whatsapp_rust::types::events::InboundMessage;
use whatsapp_rust::InboundDurabilityHook;

use crate::connection::{complete, complete_reaction};
use crate::incoming::{read_message, read_reaction};
use crate::WebStore;

/// How long a batch waits for wasl to store it before it is refused (and offered again).
const STORE_TIMEOUT: Duration = Duration::from_secs(30);
/// How many handed-over ids are remembered, so that the crate's event for the same batch
/// (dispatched after the hook) is not read and downloaded a second time.
const REMEMBERED: usize = 4_096;

/// Messages handed to wasl and not yet confirmed, shared by the hook and the connection.
#[derive(Default)]
pub(crate) struct Confirmations {
    waiting: Mutex<HashMap<String, oneshot::Sender<()>>>,
    handed: Mutex<(VecDeque<String>, HashSet<String>)>,
}

impl Confirmations {
    fn expect(&self, message_id: &str) -> oneshot::Receiver<()> {
        let (tx, rx) = oneshot::channel();
        self.waiting
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(message_id.to_owned(), tx);
        let mut handed = self.handed.lock().unwrap_or_else(|e| e.into_inner());
        if handed.1.insert(message_id.to_owned()) {
            handed.0.push_back(message_id.to_owned());
            while handed.0.len() > REMEMBERED {
                if let Some(old) = handed.0.pop_front() {
                    handed.1.remove(&old);
                }
            }
        }
        rx
    }

    /// wasl stored the message.
    pub(crate) fn confirm(&self, message_id: &str) {
        let waiting = self
            .waiting
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(message_id);
        if let Some(tx) = waiting {
            let _ = tx.send(());
        }
    }

    /// Whether the hook already handed this message over.
    pub(crate) fn was_handed(&self, message_id: &str) -> bool {
        self.handed
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .1
            .contains(message_id)
    }

    fn forget(&self, ids: &[String]) {
        let mut waiting = self.waiting.lock().unwrap_or_else(|e| e.into_inner());
        for id in ids {
            waiting.remove(id);
        }
    }
}

pub(crate) struct StoreFirst {
    pub store: Arc<WebStore>,
    pub events: EventSender,
    pub confirmations: Arc<Confirmations>,
}

#[whatsapp_rust::async_trait]
impl InboundDurabilityHook for StoreFirst {
    async fn on_messages(
        &self,
        client: Arc<Client>,
        batch: &[InboundMessage],
    ) -> whatsapp_rust::anyhow::Result<()> {
        let mut expected = Vec::new();
        let mut ids = Vec::new();
        for inbound in batch {
            // A customer's reaction is kept like a message: confirmed once stored.
            let (id, event) = if let Some(reaction) = read_reaction(inbound) {
                let Some(reaction) = complete_reaction(reaction, &self.store).await else {
                    continue;
                };
                (
                    reaction.reaction_id.clone(),
                    EngineEvent::Reaction(reaction),
                )
            } else {
                // Not a customer's message of the five kinds (a group, our own message
                // from the phone…): nothing for wasl to store, nothing to wait for.
                let Some(incoming) = read_message(inbound) else {
                    continue;
                };
                let Some(message) = complete(incoming, &client, &self.store).await else {
                    continue;
                };
                (message.message_id.clone(), EngineEvent::Message(message))
            };
            expected.push(self.confirmations.expect(&id));
            ids.push(id);
            if self.events.send(event).is_err() {
                self.confirmations.forget(&ids);
                whatsapp_rust::anyhow::bail!("the session is shutting down");
            }
        }
        let all = async {
            for confirmed in expected {
                confirmed.await?;
            }
            Ok::<(), oneshot::error::RecvError>(())
        };
        match tokio::time::timeout(STORE_TIMEOUT, all).await {
            Ok(Ok(())) => Ok(()),
            _ => {
                self.confirmations.forget(&ids);
                whatsapp_rust::anyhow::bail!(
                    "wasl did not confirm {} message(s) as stored; WhatsApp will offer them again",
                    ids.len()
                )
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_confirmation_reaches_its_waiter_once() {
        let confirmations = Confirmations::default();
        let mut rx = confirmations.expect("M1");
        assert!(confirmations.was_handed("M1"));
        assert!(!confirmations.was_handed("M2"));
        confirmations.confirm("M2");
        assert!(rx.try_recv().is_err(), "another id confirms nothing");
        confirmations.confirm("M1");
        assert!(rx.try_recv().is_ok());
        confirmations.confirm("M1");
    }

    #[test]
    fn handed_ids_are_bounded() {
        let confirmations = Confirmations::default();
        for i in 0..REMEMBERED + 5 {
            drop(confirmations.expect(&format!("M{i}")));
        }
        assert!(!confirmations.was_handed("M0"));
        assert!(confirmations.was_handed(&format!("M{}", REMEMBERED + 4)));
    }
}
