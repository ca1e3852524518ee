//! Broadcasts (SPEC §15): a draft previewed and started; its audience fixed at the start by
//! the filter (tags any/all, excluded tags) or the list (a number twice is one recipient, an
//! invalid one skipped), opted-out and blocked customers skipped with the reason; each
//! recipient sent to once, with the message's id and status; pacing between messages driven
//! by the injected clock, with pause, resume and cancel; a broadcast waiting for its
//! `sendAt`; `broadcast.completed`; and what owners alone may do.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::auto_replies::{sent_to, writes};
use crate::helpers::{assert_error, TestApp};
use crate::messaging::linked;
use crate::on_both_databases;

const ROUTE: &str = "/api/v1/whatsapp/broadcasts";

async fn draft(app: &TestApp, token: &str, body: Value) -> Value {
    let (status, created) = app.post(ROUTE, token, body).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    created["data"]["broadcast"].clone()
}

async fn read(app: &TestApp, token: &str, id: &str) -> Value {
    let (status, body) = app.get(&format!("{ROUTE}/{id}"), token).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["data"]["broadcast"].clone()
}

async fn act(app: &TestApp, token: &str, id: &str, action: &str) -> Value {
    let (status, body) = app
        .post(&format!("{ROUTE}/{id}/{action}"), token, json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{action}: {body}");
    body["data"]["broadcast"].clone()
}

async fn recipients(app: &TestApp, token: &str, id: &str) -> Vec<Value> {
    let (status, body) = app
        .get(&format!("{ROUTE}/{id}/recipients?limit=100"), token)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["data"]["recipients"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// Waits until the broadcast is `status`.
async fn until_status(app: &TestApp, token: &str, id: &str, status: &str) -> Value {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let b = read(app, token, id).await;
        if b["status"] == status {
            return b;
        }
        assert!(std::time::Instant::now() < deadline, "never {status}: {b}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn runner_looked_again(app: &TestApp) {
    crate::helpers::looked_again(app, "wasl_broadcast_runner_passes_total").await;
}

/// How many of the broadcast's recipients were handed to the outbox.
async fn handed(app: &TestApp, token: &str, id: &str) -> usize {
    recipients(app, token, id)
        .await
        .iter()
        .filter(|r| r["messageId"].is_string())
        .count()
}

async fn contact_id(app: &TestApp, token: &str, phone: &str) -> String {
    let (_, contacts) = app
        .get(&format!("/api/v1/whatsapp/contacts?search={phone}"), token)
        .await;
    contacts["data"]["contacts"][0]["id"]
        .as_str()
        .expect("contact")
        .to_owned()
}

async fn tag(app: &TestApp, token: &str, phone: &str, changes: Value) {
    let id = contact_id(app, token, phone).await;
    let (status, body) = app
        .put(&format!("/api/v1/whatsapp/contacts/{id}"), token, changes)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

on_both_databases! {
    async fn a_filtered_broadcast_reaches_each_recipient_once_and_skips_who_it_must(app: TestApp) {
        let owner = linked(&app, "bc-filter@acme.sa", "966500008001").await;
        let token = &owner.token;
        let phones: Vec<String> = (1..=7).map(|n| format!("96655120000{n}")).collect();
        for p in &phones {
            writes(&app, token, p, "مرحبا").await;
        }
        for p in &phones[..3] {
            tag(&app, token, p, json!({"tags": ["VIP"], "name": "ليلى"})).await;
        }
        tag(&app, token, &phones[3], json!({"tags": ["vip", "churned"]})).await;
        tag(&app, token, &phones[4], json!({"tags": ["vip"]})).await;
        writes(&app, token, &phones[4], "STOP").await;
        tag(&app, token, &phones[5], json!({"tags": ["vip"], "isBlocked": true})).await;
        let (status, hook) = app.post("/api/v1/webhooks", token, json!({"url": "http://127.0.0.1:9/hook", "events": ["broadcast.completed"]})).await;
        assert_eq!(status, StatusCode::CREATED, "{hook}");

        // The builder's live count, before anything is saved.
        let (status, count) = app.post(&format!("{ROUTE}/audience"), token, json!({"recipients": {"type": "filter", "filters": {"tags": ["vip"], "excludeTags": ["churned"]}}})).await;
        assert_eq!(status, StatusCode::OK, "{count}");
        assert_eq!(count["data"]["count"], 3, "{count}");
        let (_, all) = app.post(&format!("{ROUTE}/audience"), token, json!({"recipients": {"type": "filter", "filters": {"tags": ["VIP", "churned"], "tagsMode": "all"}}})).await;
        assert_eq!(all["data"]["count"], 1, "{all}");
        let b = draft(&app, token, json!({
            "name": "عرض الجمعة",
            "sessionName": "default",
            "recipients": {"type": "filter", "filters": {"tags": ["vip"], "excludeTags": ["churned"]}},
            "message": {"type": "text", "text": "عرض خاص لك يا {{contact.name|عميلنا}}"},
            "pacing": {"perMinute": 0},
        })).await;
        let id = b["id"].as_str().expect("id").to_owned();
        assert_eq!(b["status"], "draft");
        assert_eq!(b["total"], 0);

        let (status, preview) = app.get(&format!("{ROUTE}/{id}/preview"), token).await;
        assert_eq!(status, StatusCode::OK, "{preview}");
        assert_eq!(preview["data"]["count"], 3, "opted out and blocked not counted: {preview}");
        assert_eq!(preview["data"]["messages"][0]["text"], "عرض خاص لك يا ليلى");

        let started = act(&app, token, &id, "start").await;
        assert_eq!(started["total"], 5, "{started}");
        assert_eq!(started["skipped"], 2, "{started}");
        assert!(started["startedAt"].is_string());
        let done = until_status(&app, token, &id, "completed").await;
        assert_eq!(done["queued"], 0, "{done}");
        assert_eq!(done["sent"].as_i64().unwrap_or(0) + done["delivered"].as_i64().unwrap_or(0) + done["read"].as_i64().unwrap_or(0), 3, "{done}");
        assert!(done["finishedAt"].is_string());

        let list = recipients(&app, token, &id).await;
        let by_phone = |p: &str| list.iter().find(|r| r["phone"] == p).cloned().unwrap_or(Value::Null);
        assert_eq!(by_phone(&phones[4])["reason"], "opted_out", "{list:?}");
        assert_eq!(by_phone(&phones[5])["reason"], "blocked", "{list:?}");
        assert_eq!(by_phone(&phones[5])["status"], "skipped");
        assert_eq!(by_phone(&phones[3]), Value::Null, "excluded by its tag");
        assert_eq!(by_phone(&phones[6]), Value::Null, "not tagged");
        for p in &phones[..3] {
            let r = by_phone(p);
            assert!(r["messageId"].is_string(), "{r}");
            let sent: Vec<Value> = sent_to(&app, token, p).await.into_iter()
                .filter(|m| m["metadata"]["automation"]["kind"] == "broadcast").collect();
            assert_eq!(sent.len(), 1, "one message for {p}: {sent:?}");
            assert_eq!(sent[0]["id"], r["messageId"]);
            assert_eq!(sent[0]["metadata"]["automation"]["id"], id.as_str());
        }
        let (_, skipped) = app.get(&format!("{ROUTE}/{id}/recipients?status=skipped"), token).await;
        assert_eq!(skipped["data"]["pagination"]["total"], 2, "{skipped}");

        // broadcast.completed went to the webhook.
        let hook_id = hook["data"]["webhook"]["id"].as_str().expect("hook").to_owned();
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        loop {
            let (_, deliveries) = app.get(&format!("/api/v1/webhooks/{hook_id}/deliveries"), token).await;
            let found = deliveries["data"]["deliveries"].as_array().is_some_and(|d| d.iter().any(|d| d["eventType"] == "broadcast.completed"));
            if found {
                break;
            }
            assert!(std::time::Instant::now() < deadline, "no broadcast.completed delivery: {deliveries}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }

        assert_error(&app.post(&format!("{ROUTE}/{id}/start"), token, json!({})).await, StatusCode::CONFLICT, "BROADCAST_STARTED");
        assert_error(&app.put(&format!("{ROUTE}/{id}"), token, json!({"name": "x"})).await, StatusCode::CONFLICT, "BROADCAST_STARTED");
        let (status, _) = app.delete(&format!("{ROUTE}/{id}"), token).await;
        assert_eq!(status, StatusCode::OK);
    }

    async fn a_list_counts_a_number_once_and_skips_what_is_not_one(app: TestApp) {
        let owner = linked(&app, "bc-list@acme.sa", "966500008002").await;
        let token = &owner.token;
        let b = draft(&app, token, json!({
            "name": "list",
            "sessionName": "default",
            "recipients": {"type": "list", "phones": ["+966 55 130 0001", "966551300001", "not a number", "966551300002"]},
            "message": {"type": "text", "text": "تذكير"},
            "pacing": {"perMinute": 0},
        })).await;
        let id = b["id"].as_str().expect("id").to_owned();
        let (_, preview) = app.get(&format!("{ROUTE}/{id}/preview"), token).await;
        assert_eq!(preview["data"]["count"], 2, "{preview}");
        act(&app, token, &id, "start").await;
        until_status(&app, token, &id, "completed").await;
        let list = recipients(&app, token, &id).await;
        let shape: Vec<(String, String)> = list.iter().map(|r| (r["status"].as_str().unwrap_or_default().to_owned(), r["reason"].as_str().unwrap_or("").to_owned())).collect();
        assert_eq!(shape[1], ("skipped".to_owned(), "duplicate".to_owned()), "{list:?}");
        assert_eq!(shape[2], ("skipped".to_owned(), "invalid".to_owned()), "{list:?}");
        assert_ne!(shape[0].0, "skipped");
        assert_ne!(shape[3].0, "skipped");
        assert_eq!(sent_to(&app, token, "966551300001").await.len(), 1);
        assert_eq!(sent_to(&app, token, "966551300002").await.len(), 1);
    }

    async fn a_paced_broadcast_waits_between_messages_and_pauses_resumes_and_cancels(app: TestApp) {
        let owner = linked(&app, "bc-paced@acme.sa", "966500008003").await;
        let token = &owner.token;
        let phones: Vec<String> = (1..=4).map(|n| format!("96655140000{n}")).collect();
        let b = draft(&app, token, json!({
            "name": "paced",
            "sessionName": "default",
            "recipients": {"type": "list", "phones": phones},
            "message": {"type": "text", "text": "خبر"},
            "pacing": {"perMinute": 1, "jitterPercent": 0},
        })).await;
        let id = b["id"].as_str().expect("id").to_owned();
        assert_eq!(b["pacing"], json!({"perMinute": 1, "jitterPercent": 0}));
        act(&app, token, &id, "start").await;
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        while handed(&app, token, &id).await < 1 {
            assert!(std::time::Instant::now() < deadline, "the first message never went");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        // Half its minute: nobody else yet.
        app.clock.advance(Duration::from_secs(30));
        runner_looked_again(&app).await;
        assert_eq!(handed(&app, token, &id).await, 1, "sent before its pause was over");
        let b = read(&app, token, &id).await;
        assert!(b["estimatedFinishAt"].is_string(), "{b}");
        // The minute over: the next one.
        app.clock.advance(Duration::from_secs(31));
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        while handed(&app, token, &id).await < 2 {
            assert!(std::time::Instant::now() < deadline, "the second message never went");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }

        let paused = act(&app, token, &id, "pause").await;
        assert_eq!(paused["status"], "paused");
        app.clock.advance(Duration::from_secs(180));
        runner_looked_again(&app).await;
        assert_eq!(handed(&app, token, &id).await, 2, "a paused broadcast sent");
        act(&app, token, &id, "resume").await;
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        while handed(&app, token, &id).await < 3 {
            assert!(std::time::Instant::now() < deadline, "resumed, but nothing went");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let cancelled = act(&app, token, &id, "cancel").await;
        assert_eq!(cancelled["status"], "cancelled");
        assert_eq!(cancelled["cancelled"], 1, "{cancelled}");
        app.clock.advance(Duration::from_secs(60));
        runner_looked_again(&app).await;
        assert_eq!(handed(&app, token, &id).await, 3);
        assert!(sent_to(&app, token, &phones[3]).await.is_empty());
        assert_error(&app.post(&format!("{ROUTE}/{id}/resume"), token, json!({})).await, StatusCode::CONFLICT, "SCHEDULE_ENDED");
    }

    async fn a_broadcast_with_a_time_fixes_its_audience_when_it_starts(app: TestApp) {
        let owner = linked(&app, "bc-later@acme.sa", "966500008004").await;
        let token = &owner.token;
        writes(&app, token, "966551500001", "مرحبا").await;
        writes(&app, token, "966551500002", "مرحبا").await;
        tag(&app, token, "966551500001", json!({"tags": ["riyadh"]})).await;
        let at = chrono::Utc::now() + chrono::Duration::hours(2);
        let b = draft(&app, token, json!({
            "name": "later",
            "sessionName": "default",
            "recipients": {"type": "filter", "filters": {"tags": ["riyadh"]}},
            "message": {"type": "text", "text": "صباح الخير"},
            "schedule": {"sendAt": at.to_rfc3339()},
            "pacing": {"perMinute": 0},
        })).await;
        let id = b["id"].as_str().expect("id").to_owned();
        let scheduled = act(&app, token, &id, "start").await;
        assert_eq!(scheduled["status"], "scheduled", "{scheduled}");
        assert_eq!(scheduled["total"], 0, "not fixed before its time");
        // Tagged after it was started, before its time: in the audience.
        tag(&app, token, "966551500002", json!({"tags": ["Riyadh"]})).await;
        app.clock.advance(Duration::from_secs(2 * 3600 + 5));
        let done = until_status(&app, token, &id, "completed").await;
        assert_eq!(done["total"], 2, "{done}");

        // Owners and admins broadcast; an agent may not.
        let agent = app.add_user(&owner, "bc-agent@acme.sa", "agent").await;
        let body = json!({"name": "x", "sessionName": "default", "recipients": {"type": "list", "phones": ["966551500003"]}, "message": {"type": "text", "text": "x"}});
        assert_error(&app.post(ROUTE, &agent.token, body.clone()).await, StatusCode::FORBIDDEN, "FORBIDDEN");
        // Bad input names its field.
        let bad = app.post(ROUTE, token, json!({"name": "x", "sessionName": "default", "recipients": {"type": "everyone"}, "message": {"type": "text", "text": "x"}, "pacing": {"perMinute": -1}})).await;
        assert_error(&bad, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
        let fields: Vec<&str> = bad.1["error"]["details"]["fields"].as_array().expect("fields").iter().map(|f| f["field"].as_str().unwrap_or_default()).collect();
        assert_eq!(fields, ["recipients.type", "pacing.perMinute"], "{}", bad.1);
        let empty = app.post(ROUTE, token, json!({"name": "x", "sessionName": "default", "recipients": {"type": "list", "phones": []}, "message": {"type": "text", "text": "x"}})).await;
        assert_error(&empty, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
        // A draft may name a session still to be linked; starting it needs the session.
        let nowhere = draft(&app, token, json!({"name": "x", "sessionName": "nowhere", "recipients": {"type": "list", "phones": ["966551500003"]}, "message": {"type": "text", "text": "x"}})).await;
        let not_yet = app.post(&format!("{ROUTE}/{}/start", nowhere["id"].as_str().unwrap_or_default()), token, json!({})).await;
        assert_error(&not_yet, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
        let (status, body) = app.post("/api/v1/whatsapp/templates", token, json!({"name": "sale", "language": "ar", "category": "marketing", "content": "خصم {{percent}} على كل شيء"})).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let missing = app.post(ROUTE, token, json!({"name": "x", "sessionName": "default", "recipients": {"type": "list", "phones": ["966551500003"]}, "message": {"type": "template", "template": "sale"}})).await;
        assert_error(&missing, StatusCode::BAD_REQUEST, "TEMPLATE_VARIABLE_MISSING");
        let d = draft(&app, token, json!({"name": "sale", "sessionName": "default", "recipients": {"type": "list", "phones": ["966551500003"]}, "message": {"type": "template", "template": "sale", "variables": {"percent": "٢٠٪"}}})).await;
        assert_eq!(d["pacing"]["perMinute"], Value::Null, "the default: a random 6–15 s apart");
        assert_error(&app.post(&format!("{ROUTE}/{}/pause", d["id"].as_str().unwrap_or_default()), token, json!({})).await, StatusCode::CONFLICT, "BROADCAST_NOT_STARTED");
    }
}
