//! wasl's `web` engine: WhatsApp Web multi-device through the `whatsapp-rust` crate. This
//! part is its protocol store, kept encrypted in wasl's own database so that a session
//! survives restarts and can later move between nodes.
#![forbid(unsafe_code)]

pub mod store;

pub use store::WebStore;
/// Sealing at rest lives in the store, shared with webhook secrets.
pub use wasl_store::cipher::{Cipher, CipherError};
