//! Live events for connected dashboards. The durable copy is in the store's event log; this
//! is only the fan-out to listeners that are connected right now, so a slow listener that
//! falls behind loses live frames (and is told so), never the stored events.

use tokio::sync::broadcast;
use wasl_store::StoredEvent;

#[derive(Clone)]
pub struct EventBus {
    sender: broadcast::Sender<StoredEvent>,
}

impl Default for EventBus {
    fn default() -> Self {
        let (sender, _) = broadcast::channel(4096);
        EventBus { sender }
    }
}

impl EventBus {
    pub fn publish(&self, events: impl IntoIterator<Item = StoredEvent>) {
        for event in events {
            // No listener is not an error: nobody is watching right now.
            let _ = self.sender.send(event);
        }
    }

    pub fn subscribe(&self) -> broadcast::Receiver<StoredEvent> {
        self.sender.subscribe()
    }
}
