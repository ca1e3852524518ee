//! Access that ends while it is in use. Each request checks its credential against the
//! database, so a removed user or key fails its next request by itself; a live events socket
//! makes no requests, so whoever ends access (deleting a user or a key, disabling or demoting
//! someone, changing a password, signing out) says so here, and every socket that may be
//! concerned checks its credential again at once and closes if it no longer holds.

use tokio::sync::broadcast;
use wasl_domain::{ApiKeyId, UserId};

/// What just lost (or may have lost) access.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Revoked {
    /// A user changed: removed, disabled, demoted or given a new password. Their tokens and
    /// the API keys they created may no longer hold.
    User(UserId),
    /// An API key was deleted.
    ApiKey(ApiKeyId),
    /// One sign-in token was signed out (its `jti`).
    Token(String),
}

#[derive(Debug, Clone)]
pub struct Revocations(broadcast::Sender<Revoked>);

impl Default for Revocations {
    fn default() -> Self {
        Revocations(broadcast::channel(1024).0)
    }
}

impl Revocations {
    pub fn publish(&self, revoked: Revoked) {
        // Nobody listening (no socket open) is fine: requests check by themselves.
        let _ = self.0.send(revoked);
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Revoked> {
        self.0.subscribe()
    }
}
