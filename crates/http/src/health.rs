//! Liveness, readiness and Prometheus metrics (SPEC §1).

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::error::{code, ApiError};
use super::i18n::Msg;
use super::response::{ApiOk, Envelope};
use super::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(health))
        .routes(routes!(ready))
        .routes(routes!(metrics))
}

#[derive(Serialize, ToSchema)]
pub struct HealthData {
    status: &'static str,
    version: &'static str,
}

/// The process is up.
#[utoipa::path(get, path = "/health", tag = "health", responses((status = 200, body = Envelope<HealthData>)))]
async fn health() -> ApiOk<HealthData> {
    ApiOk::ok(
        Msg::Healthy,
        HealthData {
            status: "ok",
            version: env!("CARGO_PKG_VERSION"),
        },
    )
}

/// wasl can do its work: the database answers and takes writes, and media files can be
/// written. A full disk or a read-only directory makes it not ready (503) until it recovers.
#[utoipa::path(get, path = "/ready", tag = "health",
    responses((status = 200, body = Envelope<HealthData>),
              (status = 503, description = "NOT_READY: `details` names what cannot work (database, media)")))]
async fn ready(State(state): State<AppState>) -> Result<ApiOk<HealthData>, ApiError> {
    let found = state.readiness.check().await;
    let mut problems = serde_json::Map::new();
    if let Some(problem) = found.database {
        problems.insert("database".into(), problem.into());
    }
    if let Some(problem) = found.media {
        problems.insert("media".into(), problem.into());
    }
    if !problems.is_empty() {
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            code::NOT_READY,
            Msg::NotReady,
        )
        .with_details(serde_json::Value::Object(problems)));
    }
    Ok(ApiOk::ok(
        Msg::Ready,
        HealthData {
            status: "ready",
            version: env!("CARGO_PKG_VERSION"),
        },
    ))
}

/// Prometheus text exposition.
#[utoipa::path(get, path = "/metrics", tag = "health", responses((status = 200, content_type = "text/plain")))]
async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    let mut text = state.metrics.render();
    if let Some(waiting) = state.readiness.automation_backlog().await {
        text.push_str(
            "# HELP wasl_automation_backlog Customers' messages automation has yet to consider.\n\
             # TYPE wasl_automation_backlog gauge\n",
        );
        text.push_str(&format!("wasl_automation_backlog {waiting}\n"));
    }
    if let Some(due) = state.scheduled_messages.due_now().await {
        text.push_str(
            "# HELP wasl_schedules_due Active scheduled messages due now and not fired yet.\n\
             # TYPE wasl_schedules_due gauge\n",
        );
        text.push_str(&format!("wasl_schedules_due {due}\n"));
    }
    text.push_str(&format!(
        "# HELP wasl_scheduler_passes_total Times the scheduler looked for what is due.\n\
         # TYPE wasl_scheduler_passes_total counter\n\
         wasl_scheduler_passes_total {}\n",
        state.scheduled_messages.scheduler_passes()
    ));
    text.push_str(&format!(
        "# HELP wasl_broadcast_runner_passes_total Times the broadcast runner looked for what to do.\n\
         # TYPE wasl_broadcast_runner_passes_total counter\n\
         wasl_broadcast_runner_passes_total {}\n",
        state.broadcasts.runner_passes()
    ));
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    )
}
