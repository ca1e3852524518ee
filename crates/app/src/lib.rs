//! wasl's use cases, between the HTTP layer and the store and engines: who is calling and what
//! they may do, sending and receiving messages, sessions and their engines, webhooks, and the
//! settings and clock they run by.

pub mod accounts;
pub mod auth;
pub mod automation;
pub mod broadcasts;
pub mod calendar;
pub mod clock;
pub mod contacts;
pub mod conversations;
pub mod error;
pub mod health;
mod job;
pub mod messaging;
pub mod private_files;
pub mod schedules;
mod secrets;
pub mod sessions;
pub mod settings;
pub mod webhooks;

pub use error::{AppError, AppResult, Conflict};

/// The store's records that use cases take and give (pages, filters, rows, the event
/// renderer), re-exported so that the HTTP layer renders them without depending on the store.
pub mod records {
    pub use wasl_store::{
        webhook_body, Attempt, Conflict as StoreConflict, ContactUpdate, Cursor, Delivery,
        EventRenderer, MessageFilter, Page, PageRequest, StoreError, StoredEvent, TemplateFilter,
        Webhook,
    };
}
