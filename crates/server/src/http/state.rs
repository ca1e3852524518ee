use std::sync::Arc;

use wasl_store::Store;

use crate::auth::limiter::LoginLimiter;
use crate::metrics::Metrics;
use crate::messaging::Messaging;
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
}
