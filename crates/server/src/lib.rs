//! The wasl server: wires the store, the engines, the use cases (`wasl-app`) and the HTTP API
//! (`wasl-http`) together and runs them, started the same way by `main` and by the tests
//! ([`launch_with_tcp_listener`]).

mod memory;
pub mod telemetry;

pub use wasl_app::{auth, clock, messaging, private_files, sessions, settings, webhooks};
pub use wasl_http as http;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpListener;
use wasl_store::{Store, StoreError};

use crate::auth::limiter::Limits;
use crate::http::state::AppState;
use crate::messaging::{media::MediaStore, EventBus, Messaging, SendPace};
use crate::sessions::{BackoffPolicy, SessionManager};
use crate::settings::Settings;
use wasl_app::accounts::{Accounts, TokenSettings};
use wasl_app::automation::auto_replies::AutoReplies;
use wasl_app::automation::library::Library;
use wasl_app::automation::quick_replies::QuickReplies;
use wasl_app::automation::templates::Templates;
use wasl_app::automation::AutomationWorker;
use wasl_app::broadcasts::{BroadcastRunner, Broadcasts};
use wasl_app::calendar::Calendar;
use wasl_app::contacts::Contacts;
use wasl_app::conversations::Conversations;
use wasl_app::health::Readiness;
use wasl_app::schedules::{ScheduledMessages, Scheduler};
use wasl_app::webhooks::Subscriptions;
use wasl_engine::sandbox::{SandboxConfig, SandboxEngine, TransmissionLog};
use wasl_engine::EngineRegistry;
use wasl_engine_web::{WebConfig, WebEngine};
use wasl_store::cipher::Cipher;

#[derive(Debug, thiserror::Error)]
pub enum LaunchError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("server error: {0}")]
    Serve(#[from] std::io::Error),
    #[error("cannot prepare the database file {path}: {source}")]
    DatabaseFile {
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// What tests may replace when they start wasl.
pub struct LaunchOptions {
    pub clock: Arc<dyn clock::Clock>,
}

impl Default for LaunchOptions {
    fn default() -> Self {
        LaunchOptions {
            clock: Arc::new(clock::SystemClock),
        }
    }
}

/// Opens the store, serves the API on `listener` until `shutdown` resolves, then finishes the
/// requests in flight and closes the database cleanly.
pub async fn launch_with_tcp_listener(
    settings: Settings,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), LaunchError> {
    launch_with_options(settings, listener, shutdown, LaunchOptions::default()).await
}

/// [`launch_with_tcp_listener`] with a chosen clock.
pub async fn launch_with_options(
    settings: Settings,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
    options: LaunchOptions,
) -> Result<(), LaunchError> {
    keep_data_private(&settings)?;
    let store = Store::open(settings.database_url.expose()).await?;
    // Events are rendered as the API shows its models, for webhooks and sockets alike.
    let renderer: Arc<dyn wasl_store::EventRenderer> = Arc::new(http::views::ApiRenderer);
    let bus = EventBus::default();
    let media = MediaStore::new(&settings.data_dir);
    let cipher = Arc::new(wasl_store::cipher::Cipher::new(
        settings.master_key.expose(),
    ));
    let engines = Arc::new(engines(&settings, &store, &cipher));
    let messaging = Arc::new(Messaging::new(
        store.clone(),
        media.clone(),
        renderer.clone(),
        bus.clone(),
        engines.clone(),
        SendPace {
            interval: settings.send_interval,
        },
        options.clock.clone(),
    ));
    let sessions = SessionManager::new(
        store.clone(),
        engines,
        BackoffPolicy {
            base: settings.reconnect_base,
            max: settings.reconnect_max,
        },
        messaging.clone(),
        options.clock.clone(),
    );
    let dispatcher = webhooks::Dispatcher::new(
        store.clone(),
        cipher.clone(),
        options.clock.clone(),
        webhooks::WebhookSettings {
            allow_private: settings.webhook_allow_private,
            poll_interval: std::time::Duration::from_millis(200),
        },
    );
    let library = Arc::new(Library::new(
        store.clone(),
        media.clone(),
        options.clock.clone(),
    ));
    let templates = Arc::new(Templates::new(
        store.clone(),
        library.clone(),
        messaging.clone(),
        options.clock.clone(),
    ));
    let automation = AutomationWorker::new(
        store.clone(),
        messaging.clone(),
        templates.clone(),
        library.clone(),
        options.clock.clone(),
    );
    let scheduler = Scheduler::new(
        store.clone(),
        messaging.clone(),
        templates.clone(),
        library.clone(),
        options.clock.clone(),
        settings.schedule_grace,
    );
    let scheduled_messages = Arc::new(ScheduledMessages::new(
        store.clone(),
        templates.clone(),
        library.clone(),
        options.clock.clone(),
        &scheduler,
    ));
    let runner = BroadcastRunner::new(
        store.clone(),
        messaging.clone(),
        templates.clone(),
        library.clone(),
        options.clock.clone(),
        settings.broadcast_daily_cap,
    );
    let broadcasts = Arc::new(Broadcasts::new(
        store.clone(),
        templates.clone(),
        library.clone(),
        options.clock.clone(),
        &runner,
    ));
    let (stop_workers, workers_stop) = tokio::sync::watch::channel(false);
    let automation_task = tokio::spawn(automation.run(workers_stop.clone()));
    let scheduler_task = tokio::spawn(scheduler.run(workers_stop.clone()));
    let runner_task = tokio::spawn(runner.run(workers_stop.clone()));
    let trim_task = tokio::spawn(memory::release_freed_memory(workers_stop.clone()));
    let dispatcher_task = tokio::spawn(dispatcher.run(workers_stop, messaging.bus().subscribe()));
    let resumed = sessions.resume_all().await?;
    tracing::info!(resumed, "sessions resumed");
    let accounts = Arc::new(Accounts::new(
        store.clone(),
        TokenSettings {
            secret: settings.jwt_secret.expose().clone(),
            ttl_secs: settings.jwt_ttl_secs,
        },
        Limits {
            registrations_per_ip: settings.registrations_per_hour,
            ..Limits::default()
        },
        settings.admin_token.as_ref().map(|t| t.expose().clone()),
    ));
    let state = AppState {
        contacts: Arc::new(Contacts::new(
            store.clone(),
            renderer.clone(),
            bus.clone(),
            options.clock.clone(),
        )),
        calendar: Arc::new(Calendar::new(store.clone(), options.clock.clone())),
        auto_replies: Arc::new(AutoReplies::new(
            store.clone(),
            templates.clone(),
            library.clone(),
            options.clock.clone(),
        )),
        quick_replies: Arc::new(QuickReplies::new(store.clone(), options.clock.clone())),
        scheduled_messages,
        broadcasts,
        templates,
        library,
        conversations: Arc::new(Conversations::new(
            store.clone(),
            renderer,
            bus,
            options.clock.clone(),
        )),
        webhooks: Arc::new(Subscriptions::new(
            store.clone(),
            cipher,
            options.clock.clone(),
            settings.webhook_allow_private,
        )),
        readiness: Arc::new(Readiness::new(store.clone(), media, options.clock)),
        settings: Arc::new(settings),
        accounts,
        metrics: Arc::default(),
        sessions: sessions.clone(),
        messaging,
    };
    let app = http::app(state);
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await?;
    // Close every WhatsApp connection cleanly, without logging out, so they resume next start.
    sessions.shutdown().await;
    let _ = stop_workers.send(true);
    let _ = dispatcher_task.await;
    let _ = automation_task.await;
    let _ = scheduler_task.await;
    let _ = runner_task.await;
    let _ = trim_task.await;
    store.close().await;
    tracing::info!("wasl stopped");
    Ok(())
}

/// Makes the data dir and the SQLite database owner-only: the database file is created 0600
/// before SQLite opens it, and what is readable by others from an earlier run is fixed (the
/// media tree, which can hold millions of files, in the background).
fn keep_data_private(settings: &Settings) -> Result<(), LaunchError> {
    let mut changed = 0;
    if let Some(db) = private_files::sqlite_file(settings.database_url.expose()) {
        private_files::create_database_file(&db).map_err(|source| LaunchError::DatabaseFile {
            path: db.clone(),
            source,
        })?;
        changed += private_files::restrict_database(&db);
    }
    let data_dir = settings.data_dir.clone();
    let media = data_dir.join("media");
    if let Ok(entries) = std::fs::read_dir(&data_dir) {
        for entry in entries.filter_map(|e| e.ok()).filter(|e| e.path() != media) {
            changed += private_files::restrict_tree(&entry.path());
        }
    }
    changed += usize::from(private_files::restrict_one(&data_dir));
    if changed > 0 {
        tracing::warn!(changed, dir = %data_dir.display(), "files and directories that others could read were made readable by their owner only");
    }
    tokio::task::spawn_blocking(move || {
        let changed = private_files::restrict_tree(&media);
        if changed > 0 {
            tracing::warn!(changed, dir = %media.display(), "media files that others could read were made readable by their owner only");
        }
    });
    Ok(())
}

/// The engines this server runs, as the settings ask: one `register` line each. The web
/// engine keeps its protocol state in wasl's database, sealed with the master key.
fn engines(settings: &Settings, store: &Store, cipher: &Arc<Cipher>) -> EngineRegistry {
    let mut engines = EngineRegistry::new();
    if wasl_engine_web::TRUSTS_TEST_PEER {
        // Only test and benchmark builds are like this (a `--workspace` build unifies their
        // features into the binary); say it where an operator looks first.
        tracing::warn!(
            "this build of wasl trusts test servers' certificate chains (trust-test-peer): web \
             sessions connect only to WASL_WEB_SOCKET_URL, never to WhatsApp; build the product \
             with `cargo build --release` at the repository root"
        );
    }
    engines.register(Arc::new(WebEngine::new(
        store.clone(),
        cipher.clone(),
        WebConfig {
            socket_url: settings.web_socket_url.clone(),
        },
    )));
    if settings.sandbox_enabled {
        let config = SandboxConfig {
            delivery_delay: settings.sandbox_delivery_delay,
            ..SandboxConfig::default()
        };
        // What the sandbox transmits is kept in the data dir, so that it survives a crash
        // like a real number's history does.
        engines.register_sandbox(Arc::new(match TransmissionLog::open(&settings.data_dir) {
            Ok(log) => SandboxEngine::with_log(config, log),
            Err(e) => {
                tracing::error!(error = %e, "cannot open the sandbox transmission log; keeping it in memory");
                SandboxEngine::new(config)
            }
        }));
    }
    engines
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutdown requested: finishing requests in flight");
}
