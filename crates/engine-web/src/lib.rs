//! wasl's `web` engine: WhatsApp Web multi-device through the `whatsapp-rust` crate.
//!
//! [`WebEngine`] implements wasl's `Engine`: each connection attempt runs one whatsapp-rust
//! client on the session's protocol store ([`WebStore`]), kept encrypted in wasl's own
//! database so that a session survives restarts and can later move between nodes.
#![forbid(unsafe_code)]

mod connection;
mod durability;
mod engine;
pub mod events;
pub mod incoming;
mod media_http;
mod outgoing;
pub mod store;
mod transport;

pub use connection::{WebConnection, MAX_INCOMING_MEDIA};

/// Whether this build trusts test servers' certificate chains (`trust-test-peer`): then its
/// web sessions connect only to a configured stand-in, never to WhatsApp.
pub const TRUSTS_TEST_PEER: bool = cfg!(feature = "trust-test-peer");
pub use engine::{WebConfig, WebEngine};
pub use store::WebStore;
/// Sealing at rest lives in the store, shared with webhook secrets.
pub use wasl_store::cipher::{Cipher, CipherError};
