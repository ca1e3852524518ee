use std::sync::Arc;

use crate::metrics::Metrics;
use wasl_app::accounts::Accounts;
use wasl_app::automation::auto_replies::AutoReplies;
use wasl_app::automation::library::Library;
use wasl_app::automation::quick_replies::QuickReplies;
use wasl_app::automation::templates::Templates;
use wasl_app::broadcasts::Broadcasts;
use wasl_app::calendar::Calendar;
use wasl_app::contacts::Contacts;
use wasl_app::conversations::Conversations;
use wasl_app::health::Readiness;
use wasl_app::messaging::Messaging;
use wasl_app::schedules::ScheduledMessages;
use wasl_app::sessions::SessionManager;
use wasl_app::settings::Settings;
use wasl_app::webhooks::Subscriptions;

/// What every handler can reach: the use cases, the settings and the metrics. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub settings: Arc<Settings>,
    /// Organizations, people, keys, sign-in; who a caller is.
    pub accounts: Arc<Accounts>,
    pub sessions: SessionManager,
    pub messaging: Arc<Messaging>,
    pub contacts: Arc<Contacts>,
    pub conversations: Arc<Conversations>,
    pub calendar: Arc<Calendar>,
    pub templates: Arc<Templates>,
    pub quick_replies: Arc<QuickReplies>,
    pub library: Arc<Library>,
    pub auto_replies: Arc<AutoReplies>,
    pub scheduled_messages: Arc<ScheduledMessages>,
    pub broadcasts: Arc<Broadcasts>,
    pub webhooks: Arc<Subscriptions>,
    pub readiness: Arc<Readiness>,
    pub metrics: Arc<Metrics>,
}
