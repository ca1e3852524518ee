//! schemathesis (a property-based API fuzzer, from PyPI) against wasl's own OpenAPI document,
//! with every check: what it generates from the document must get the answers the document
//! promises, with the shapes it describes. The organization it works in has a linked sandbox
//! session, a user, a key, a webhook with a delivery and a message with media, so that
//! operations reach their logic rather than a 404.
//!
//! `.ci/run` installs schemathesis; where it is not installed this test says so and passes.
//! Its settings, and what it leaves out and why, are in `tests/schemathesis/schemathesis.toml`.

use std::process::Command;

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{spawn_app_with, Db, TestApp, ADMIN_TOKEN};
use crate::messaging::{linked, png_bytes, upload};

/// The schemathesis command: `WASL_SCHEMATHESIS`, else `st` on the PATH.
fn schemathesis() -> Option<String> {
    let command = std::env::var("WASL_SCHEMATHESIS").unwrap_or_else(|_| "st".to_owned());
    let found = Command::new(&command)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    found.then_some(command)
}

/// Creates what the operations address, and returns the environment the config reads.
async fn things(app: &TestApp) -> Vec<(&'static str, String)> {
    let owner = linked(app, "fuzz-owner@acme.sa", "966500000990").await;
    let (status, body) = app
        .put(
            &format!("/api/v1/admin/organizations/{}/plan", owner.org_id),
            ADMIN_TOKEN,
            json!({"plan": "enterprise"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let agent = app.add_user(&owner, "fuzz-agent@acme.sa", "agent").await;
    let (status, key) = app
        .post("/api/v1/api-keys", &owner.token, json!({"name": "fuzz"}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{key}");
    let (status, hook) = app
        .post(
            "/api/v1/webhooks",
            &owner.token,
            json!({"url": "http://127.0.0.1:9/hook", "events": ["message.received"]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{hook}");
    let webhook_id = hook["data"]["webhook"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let (status, sent) = upload(
        app,
        &owner.token,
        "send-image",
        "image",
        png_bytes(),
        "photo.png",
        &[("to", "966551000990")],
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{sent}");
    let (status, body) = app
        .post(
            "/api/v1/whatsapp/sandbox/default/incoming",
            &owner.token,
            json!({"from": "966551000991", "type": "text", "text": "مرحبا"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, contacts) = app.get("/api/v1/whatsapp/contacts", &owner.token).await;
    let contact_id = contacts["data"]["contacts"][0]["id"]
        .as_str()
        .expect("a contact")
        .to_owned();
    let (_, conversations) = app
        .get("/api/v1/whatsapp/conversations", &owner.token)
        .await;
    let conversation_id = conversations["data"]["conversations"][0]["id"]
        .as_str()
        .expect("a conversation")
        .to_owned();
    // The webhook's receiver does not answer: its first delivery is there to be replayed.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let delivery_id = loop {
        let (_, list) = app
            .get(
                &format!("/api/v1/webhooks/{webhook_id}/deliveries"),
                &owner.token,
            )
            .await;
        if let Some(id) = list["data"]["deliveries"][0]["id"].as_str() {
            break id.to_owned();
        }
        assert!(std::time::Instant::now() < deadline, "no delivery: {list}");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    };
    let content = crate::helpers::reusable_content(app, &owner.token).await;
    vec![
        ("WASL_ST_TEMPLATE_ID", content.template_id),
        ("WASL_ST_QUICK_REPLY_ID", content.quick_reply_id),
        ("WASL_ST_MEDIA_ID", content.media_id),
        ("WASL_ST_AUTO_REPLY_ID", content.auto_reply_id),
        ("WASL_ST_SCHEDULED_MESSAGE_ID", content.scheduled_message_id),
        ("WASL_ST_BROADCAST_ID", content.broadcast_id),
        ("WASL_ST_TOKEN", owner.token.clone()),
        ("WASL_ST_ADMIN_TOKEN", ADMIN_TOKEN.to_owned()),
        ("WASL_ST_ORG_ID", owner.org_id.clone()),
        ("WASL_ST_USER_ID", agent.user_id.clone()),
        (
            "WASL_ST_API_KEY_ID",
            key["data"]["apiKey"]["id"].as_str().expect("id").to_owned(),
        ),
        ("WASL_ST_WEBHOOK_ID", webhook_id),
        ("WASL_ST_DELIVERY_ID", delivery_id),
        (
            "WASL_ST_MESSAGE_ID",
            sent["data"]["message"]["id"]
                .as_str()
                .expect("id")
                .to_owned(),
        ),
        ("WASL_ST_CONTACT_ID", contact_id),
        ("WASL_ST_CONVERSATION_ID", conversation_id),
    ]
}

async fn run(db: Db) {
    let Some(command) = schemathesis() else {
        eprintln!(
            "skipped: schemathesis is not installed (pip install schemathesis; .ci/run does)"
        );
        return;
    };
    let app = spawn_app_with(db, &[]).await;
    let env = things(&app).await;
    let config = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/schemathesis/schemathesis.toml"
    );
    let report = std::env::temp_dir().join(format!("wasl-schemathesis-{}", uuid::Uuid::now_v7()));
    let url = app.url("/api/v1/openapi.json");
    std::fs::create_dir_all(&report).expect("a report dir");
    let dir = report.clone();
    // Run in a directory of its own: schemathesis keeps a cache where it runs.
    let output = tokio::task::spawn_blocking(move || {
        Command::new(command)
            .current_dir(&dir)
            .args(["--no-color", "--config-file", config, "run", &url])
            .args(["--report", "junit", "--report-dir"])
            .arg(&dir)
            .envs(env)
            .output()
    })
    .await
    .expect("schemathesis ran")
    .expect("schemathesis started");
    let text = String::from_utf8_lossy(&output.stdout);
    let summary = text
        .rsplit_once("SUMMARY")
        .map_or(text.as_ref(), |(_, s)| s);
    assert!(
        output.status.success(),
        "{db:?}: schemathesis found what the document does not say:\n{text}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    eprintln!("{db:?}: schemathesis{summary}");
    let _ = std::fs::remove_dir_all(&report);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schemathesis_finds_nothing_the_document_does_not_promise_on_sqlite() {
    run(Db::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schemathesis_finds_nothing_the_document_does_not_promise_on_postgres() {
    run(Db::Postgres).await;
}
