//! Whether wasl can do its work now (`/ready`): the database answers and takes writes, and
//! media files can be written. A full disk or a read-only directory makes it not ready until
//! it recovers.

use std::sync::Arc;

use wasl_store::Store;

use crate::clock::Clock;
use crate::messaging::media::MediaStore;

/// What cannot work right now, by part.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Problems {
    pub database: Option<&'static str>,
    pub media: Option<&'static str>,
}

impl Problems {
    pub fn is_empty(&self) -> bool {
        self.database.is_none() && self.media.is_none()
    }
}

pub struct Readiness {
    store: Store,
    media: MediaStore,
    clock: Arc<dyn Clock>,
}

impl Readiness {
    pub fn new(store: Store, media: MediaStore, clock: Arc<dyn Clock>) -> Self {
        Readiness {
            store,
            media,
            clock,
        }
    }

    /// How many customers' messages wait for automation to consider them (`/metrics`): a
    /// number that keeps growing means automation cannot keep up or cannot write.
    pub async fn automation_backlog(&self) -> Option<i64> {
        self.store.automation().waiting().await.ok()
    }

    /// Probes each part; logs what fails with its cause.
    pub async fn check(&self) -> Problems {
        let mut problems = Problems::default();
        if let Err(e) = self.store.ping().await {
            tracing::warn!(error = %e, "database not reachable");
            problems.database = Some("not reachable");
        } else if let Err(e) = self.store.probe_write(self.clock.now_millis()).await {
            tracing::warn!(error = %e, "the database does not take writes");
            problems.database = Some("does not take writes");
        }
        if let Err(e) = self.media.probe().await {
            tracing::warn!(error = %e, "media files cannot be written");
            problems.media = Some("cannot be written");
        }
        problems
    }
}
