//! wasl's use cases, between the HTTP layer and the store and engines: who is calling and what
//! they may do, sending and receiving messages, sessions and their engines, webhooks, and the
//! settings and clock they run by.

pub mod accounts;
pub mod auth;
pub mod clock;
pub mod error;
pub mod messaging;
pub mod private_files;
mod secrets;
pub mod sessions;
pub mod settings;
pub mod webhooks;

pub use error::{AppError, AppResult, Conflict};
