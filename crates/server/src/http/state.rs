use std::sync::Arc;

use wasl_store::Store;

use crate::auth::limiter::LoginLimiter;
use crate::messaging::Messaging;
use crate::metrics::Metrics;
use crate::sessions::SessionManager;
use crate::settings::Settings;

/// What every handler can reach. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub settings: Arc<Settings>,
    pub login_limiter: Arc<LoginLimiter>,
    pub metrics: Arc<Metrics>,
    pub sessions: SessionManager,
    pub messaging: Arc<Messaging>,
    /// Seals secrets at rest (webhook secrets, engine credentials) under the master key.
    pub cipher: Arc<wasl_store::cipher::Cipher>,
    /// The time webhook schedules follow (a manual clock in tests).
    pub clock: Arc<dyn crate::clock::Clock>,
    /// Tells open sockets that someone's access ended.
    pub revocations: crate::auth::revocation::Revocations,
}
