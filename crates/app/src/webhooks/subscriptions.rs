//! The organization's webhook subscriptions (SPEC §8): created with a signing secret shown
//! once and kept sealed, pointed only at public addresses, with their delivery log and replay
//! by hand. Owners and admins manage them.

use std::sync::Arc;

use wasl_domain::ParseError;
use wasl_store::cipher::Cipher;
use wasl_store::{Attempt, Delivery, Page, PageRequest, Store, Webhook};

use super::{secret_aad, signature, target};
use crate::accounts::Caller;
use crate::clock::Clock;
use crate::error::{AppError, AppResult, Conflict};

/// The events a webhook can subscribe to.
pub const EVENT_TYPES: [&str; 13] = [
    "message.received",
    "message.sent",
    "message.status",
    "message.reaction",
    "session.status",
    "session.qr",
    "contact.created",
    "contact.updated",
    "conversation.created",
    "conversation.updated",
    "scheduled_message.sent",
    "broadcast.progress",
    "broadcast.completed",
];

/// A new subscription, as checked at the edge.
pub struct NewWebhook {
    pub url: String,
    pub events: Vec<String>,
    /// `whsec_…`; generated when absent.
    pub secret: Option<String>,
    pub is_active: bool,
}

/// What to change of a subscription; `None` leaves it.
#[derive(Default)]
pub struct WebhookChanges {
    pub url: Option<String>,
    pub events: Option<Vec<String>>,
    pub secret: Option<String>,
    pub is_active: Option<bool>,
}

pub struct Subscriptions {
    store: Store,
    cipher: Arc<Cipher>,
    clock: Arc<dyn Clock>,
    /// Webhooks may point at private addresses (development only).
    allow_private: bool,
}

impl Subscriptions {
    pub fn new(
        store: Store,
        cipher: Arc<Cipher>,
        clock: Arc<dyn Clock>,
        allow_private: bool,
    ) -> Self {
        Subscriptions {
            store,
            cipher,
            clock,
            allow_private,
        }
    }

    /// Checks the URL's form, then where it points: a private address or another service's
    /// port is refused unless the operator allows private targets.
    async fn check_url(&self, url: &str) -> AppResult<String> {
        let url = url.trim().to_owned();
        let checked = match target::parse(&url) {
            Ok(_) => target::resolve(&url, self.allow_private).await.map(drop),
            Err(e) => Err(e),
        };
        match checked {
            Ok(()) => Ok(url),
            Err(e @ (target::TargetError::Private(_) | target::TargetError::Port(_))) => {
                Err(AppError::WebhookUrlNotAllowed(e.to_string()))
            }
            Err(e) => Err(ParseError::new("url", e.to_string()).into()),
        }
    }

    /// Subscribes a URL; the answer carries the signing secret, which is never shown again.
    pub async fn create(&self, caller: &Caller, new: NewWebhook) -> AppResult<(Webhook, String)> {
        caller.require_manager()?;
        let url = self.check_url(&new.url).await?;
        let secret = new.secret.unwrap_or_else(signature::generate_secret);
        let id = format!("wh_{}", uuid::Uuid::now_v7().simple());
        let now = crate::clock::now_millis();
        let webhook = Webhook {
            secret_sealed: self.cipher.seal(&secret_aad(&id), secret.as_bytes()),
            id,
            organization_id: caller.org_id.clone(),
            url,
            events: new.events,
            is_active: new.is_active,
            created_at: now,
            updated_at: now,
        };
        self.store.webhooks().create(&webhook).await?;
        Ok((webhook, secret))
    }

    pub async fn list(&self, caller: &Caller, page: PageRequest) -> AppResult<Page<Webhook>> {
        caller.require_manager()?;
        Ok(self.store.webhooks().list(&caller.org_id, page).await?)
    }

    pub async fn get(&self, caller: &Caller, id: &str) -> AppResult<Webhook> {
        caller.require_manager()?;
        self.store
            .webhooks()
            .get(&caller.org_id, id)
            .await?
            .ok_or(AppError::NotFound)
    }

    pub async fn update(
        &self,
        caller: &Caller,
        id: &str,
        changes: WebhookChanges,
    ) -> AppResult<Webhook> {
        let mut webhook = self.get(caller, id).await?;
        if let Some(url) = changes.url {
            webhook.url = self.check_url(&url).await?;
        }
        if let Some(events) = changes.events {
            webhook.events = events;
        }
        if let Some(secret) = changes.secret {
            webhook.secret_sealed = self
                .cipher
                .seal(&secret_aad(&webhook.id), secret.as_bytes());
        }
        if let Some(active) = changes.is_active {
            webhook.is_active = active;
        }
        webhook.updated_at = crate::clock::now_millis();
        self.store.webhooks().update(&webhook).await?;
        Ok(webhook)
    }

    pub async fn delete(&self, caller: &Caller, id: &str) -> AppResult<Webhook> {
        let webhook = self.get(caller, id).await?;
        self.store.webhooks().delete(&caller.org_id, id).await?;
        Ok(webhook)
    }

    /// Every delivery of the webhook, newest first, with each attempt.
    pub async fn deliveries(
        &self,
        caller: &Caller,
        id: &str,
        page: PageRequest,
    ) -> AppResult<Page<(Delivery, Vec<Attempt>)>> {
        self.get(caller, id).await?;
        Ok(self
            .store
            .webhooks()
            .deliveries(&caller.org_id, id, page)
            .await?)
    }

    /// Sends a delivered or dead delivery again now, with the same `webhook-id`. The time is the
    /// dispatcher's clock (a manual one in tests).
    pub async fn replay(&self, caller: &Caller, id: &str, delivery_id: &str) -> AppResult<Webhook> {
        let webhook = self.get(caller, id).await?;
        self.store
            .webhooks()
            .delivery(&caller.org_id, id, delivery_id)
            .await?
            .ok_or(AppError::NotFound)?;
        if !self
            .store
            .webhooks()
            .replay(&caller.org_id, id, delivery_id, self.clock.now_millis())
            .await?
        {
            return Err(Conflict::DeliveryPending.into());
        }
        Ok(webhook)
    }
}
