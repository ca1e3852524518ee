//! The session manager: owns one supervised task per active session (see `supervisor`), knows
//! each session's live connection and current QR, and is how the API creates, links and logs
//! out sessions. Nothing outside this module starts or stops an engine connection.

mod backoff;
mod linking;
mod observer;
mod reason;
mod sandbox;
mod supervisor;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;
use wasl_domain::{EngineKind, Session, SessionId, SessionStatus};
use wasl_engine::{Capabilities, Connection, EngineRegistry};
use wasl_store::{SessionChange, Store};

pub use backoff::BackoffPolicy;
pub(crate) use linking::find_session;
pub use linking::Linking;
pub use observer::SessionObserver;
pub use reason::disconnect_code;

struct Live {
    /// Tells this supervisor apart from a newer one started for the same session.
    generation: u64,
    stop: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
    connection: Option<Arc<dyn Connection>>,
    qr: Option<String>,
}

pub(crate) struct Inner {
    store: Store,
    /// Stamps connections and disconnections.
    clock: Arc<dyn crate::clock::Clock>,
    backoff: BackoffPolicy,
    observer: Arc<dyn SessionObserver>,
    live: Mutex<HashMap<SessionId, Live>>,
    generations: std::sync::atomic::AtomicU64,
}

impl Inner {
    fn live(&self) -> std::sync::MutexGuard<'_, HashMap<SessionId, Live>> {
        self.live.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Writes a state change; a failed write is logged, and the supervisor goes on.
    async fn change(&self, id: &SessionId, change: SessionChange) -> Option<Session> {
        match self.store.sessions().change(id, &change).await {
            Ok(Some(session)) => {
                self.observer.status(&session).await;
                Some(session)
            }
            Ok(None) => None,
            Err(e) => {
                tracing::error!(session = %id, error = %e, "cannot record the session's state");
                None
            }
        }
    }

    fn set_connection(&self, id: &SessionId, connection: Option<Arc<dyn Connection>>) {
        if let Some(live) = self.live().get_mut(id) {
            live.connection = connection;
        }
    }

    fn set_qr(&self, id: &SessionId, qr: Option<String>) {
        if let Some(live) = self.live().get_mut(id) {
            live.qr = qr;
        }
    }

    /// A supervisor ended: forget its entry, unless a newer supervisor has taken over.
    fn finished(&self, id: &SessionId, generation: u64) {
        let mut live = self.live();
        if live.get(id).is_some_and(|l| l.generation == generation) {
            live.remove(id);
        }
    }
}

#[derive(Clone)]
pub struct SessionManager {
    inner: Arc<Inner>,
    engines: Arc<EngineRegistry>,
}

impl SessionManager {
    pub fn new(
        store: Store,
        engines: Arc<EngineRegistry>,
        backoff: BackoffPolicy,
        observer: Arc<dyn SessionObserver>,
        clock: Arc<dyn crate::clock::Clock>,
    ) -> Self {
        SessionManager {
            inner: Arc::new(Inner {
                store,
                clock,
                backoff,
                observer,
                live: Mutex::default(),
                generations: Default::default(),
            }),
            engines,
        }
    }

    pub fn engines(&self) -> &EngineRegistry {
        &self.engines
    }

    /// What the session's engine can do; an engine not enabled on this server is an error.
    pub(crate) fn capabilities(
        &self,
        engine: EngineKind,
    ) -> Result<Capabilities, crate::error::AppError> {
        self.engines
            .capabilities(engine)
            .ok_or(crate::error::AppError::EngineUnavailable(engine))
    }

    /// Starts (or restarts) the supervisor of a session.
    pub fn start(&self, session: &Session) -> Result<(), wasl_engine::EngineError> {
        let engine = self.engines.get(session.engine).ok_or_else(|| {
            wasl_engine::EngineError::InvalidState(format!(
                "the {} engine is not enabled",
                session.engine.as_str()
            ))
        })?;
        let mut live = self.inner.live();
        if let Some(old) = live.remove(&session.id) {
            let _ = old.stop.send(true);
        }
        let (stop, stop_rx) = watch::channel(false);
        let generation = self
            .inner
            .generations
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let task = tokio::spawn(supervisor::supervise(
            self.inner.clone(),
            session.id.clone(),
            generation,
            engine,
            stop_rx,
        ));
        live.insert(
            session.id.clone(),
            Live {
                generation,
                stop,
                task: Some(task),
                connection: None,
                qr: None,
            },
        );
        Ok(())
    }

    /// Resumes every active session at start-up. Linked sessions reconnect with their stored
    /// credentials, without a QR; sessions whose pairing was cut short wait for a person to
    /// ask for a new QR.
    pub async fn resume_all(&self) -> Result<usize, wasl_store::StoreError> {
        let mut resumed = 0;
        for session in self.inner.store.sessions().active().await? {
            if session.phone_number.is_some() {
                // The stored status is what the last run saw (a crash leaves `connected`).
                // Until the engine reports otherwise the honest answer is `connecting`, and it
                // is written before the API serves anyone.
                if session.status != SessionStatus::Connecting {
                    self.inner
                        .change(
                            &session.id,
                            SessionChange {
                                status: Some(SessionStatus::Connecting),
                                ..Default::default()
                            },
                        )
                        .await;
                }
                match self.start(&session) {
                    Ok(()) => resumed += 1,
                    Err(e) => {
                        tracing::warn!(session = %session.id, error = %e, "cannot resume the session")
                    }
                }
            } else if session.status != SessionStatus::Disconnected {
                self.inner
                    .change(
                        &session.id,
                        SessionChange {
                            status: Some(SessionStatus::Disconnected),
                            last_disconnect_reason: Some(Some(reason::PAIRING_INTERRUPTED.into())),
                            ..Default::default()
                        },
                    )
                    .await;
            }
        }
        Ok(resumed)
    }

    pub fn qr(&self, id: &SessionId) -> Option<String> {
        self.inner.live().get(id).and_then(|l| l.qr.clone())
    }

    pub fn connection(&self, id: &SessionId) -> Option<Arc<dyn Connection>> {
        self.inner.live().get(id).and_then(|l| l.connection.clone())
    }

    /// Logs the session out of WhatsApp and stops it. The record and its messages stay.
    pub async fn logout(
        &self,
        session: &Session,
    ) -> Result<Option<Session>, wasl_store::StoreError> {
        if let Some(connection) = self.connection(&session.id) {
            if let Err(e) = connection.logout().await {
                tracing::warn!(session = %session.id, error = %e, "log-out was not confirmed by the engine");
            }
        }
        self.stop(&session.id).await;
        if let Some(engine) = self.engines.get(session.engine) {
            if let Err(e) = engine.forget(&session.id).await {
                tracing::error!(session = %session.id, error = %e, "cannot forget the session's credentials");
            }
        }
        let change = SessionChange {
            status: Some(SessionStatus::LoggedOut),
            is_active: Some(false),
            last_disconnected: session
                .status
                .eq(&SessionStatus::Connected)
                .then(|| self.inner.clock.now_millis()),
            last_disconnect_reason: Some(Some(wasl_engine::DisconnectReason::LoggedOut.describe())),
            ..Default::default()
        };
        let updated = self
            .inner
            .store
            .sessions()
            .change(&session.id, &change)
            .await?;
        if let Some(s) = &updated {
            self.inner.observer.status(s).await;
        }
        Ok(updated)
    }

    async fn stop(&self, id: &SessionId) {
        let task = {
            let mut live = self.inner.live();
            live.remove(id).and_then(|mut l| {
                let _ = l.stop.send(true);
                l.task.take()
            })
        };
        if let Some(task) = task {
            if tokio::time::timeout(Duration::from_secs(10), task)
                .await
                .is_err()
            {
                tracing::warn!(session = %id, "the session's supervisor did not stop in time");
            }
        }
    }

    /// Closes every connection cleanly (without logging out), so the sessions resume on the
    /// next start.
    pub async fn shutdown(&self) {
        let tasks: Vec<JoinHandle<()>> = self
            .inner
            .live()
            .drain()
            .filter_map(|(_, mut live)| {
                let _ = live.stop.send(true);
                live.task.take()
            })
            .collect();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        for task in tasks {
            if tokio::time::timeout_at(deadline, task).await.is_err() {
                tracing::warn!("a session did not close in time");
            }
        }
    }
}
