//! Automation I (SPEC §13, §14): the organization's reusable content (templates, quick
//! replies, the media library) and what answers customers by itself (auto-replies and
//! opting out). Everything automation sends is an ordinary outgoing message of the outbox,
//! marked `metadata.automation`, and obeys the same rules as a person's send.

pub mod auto_replies;
mod decide;
pub mod library;
pub mod quick_replies;
pub(crate) mod reply;
pub mod templates;
mod worker;

pub use worker::AutomationWorker;

use wasl_store::{Conflict as StoreConflict, StoreError};

use crate::error::{AppError, Conflict};

/// A store conflict as the use case's: a name or short code taken, a file still in use.
fn conflict(e: StoreError) -> AppError {
    match e {
        StoreError::Conflict(StoreConflict::Template) => Conflict::TemplateExists.into(),
        StoreError::Conflict(StoreConflict::ShortCode) => Conflict::ShortCodeTaken.into(),
        StoreError::Conflict(StoreConflict::MediaInUse) => {
            Conflict::MediaInUse(vec!["quick reply".into()]).into()
        }
        e => e.into(),
    }
}
