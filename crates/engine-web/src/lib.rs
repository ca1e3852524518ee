//! wasl's `web` engine: WhatsApp Web multi-device through the `whatsapp-rust` crate. This
//! part is its protocol store, kept encrypted in wasl's own database so that a session
//! survives restarts and can later move between nodes.
#![forbid(unsafe_code)]

pub mod cipher;
pub mod store;

pub use cipher::{Cipher, CipherError};
pub use store::WebStore;
