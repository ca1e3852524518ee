use std::sync::Arc;

use wasl_store::Store;

use crate::metrics::Metrics;
use wasl_app::accounts::Accounts;
use wasl_app::messaging::Messaging;
use wasl_app::sessions::SessionManager;
use wasl_app::settings::Settings;

/// What every handler can reach. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub settings: Arc<Settings>,
    /// Organizations, people, keys, sign-in; who a caller is.
    pub accounts: Arc<Accounts>,
    pub metrics: Arc<Metrics>,
    pub sessions: SessionManager,
    pub messaging: Arc<Messaging>,
    /// Seals secrets at rest (webhook secrets, engine credentials) under the master key.
    pub cipher: Arc<wasl_store::cipher::Cipher>,
    /// The time webhook schedules follow (a manual clock in tests).
    pub clock: Arc<dyn wasl_app::clock::Clock>,
}
