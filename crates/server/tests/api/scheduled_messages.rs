//! Scheduled messages (SPEC §15), driven by the injected clock: a daily 09:00 in Berlin stays
//! 09:00 across the change to summer time, a monthly schedule on the 31st falls on the last
//! day of shorter months, `count` and `until` end a series, a short outage sends late once and
//! a long one marks occurrences missed, a paused schedule sends nothing, and a blocked
//! customer is skipped. Every occurrence is an ordinary outgoing message marked
//! `metadata.automation`.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::auto_replies::sent_to;
use crate::calendar::move_clock_to;
use crate::helpers::{assert_error, TestApp};
use crate::messaging::{incoming, linked};
use crate::on_both_databases;

const ROUTE: &str = "/api/v1/whatsapp/scheduled-messages";

async fn schedule(app: &TestApp, token: &str, body: Value) -> Value {
    let (status, created) = app.post(ROUTE, token, body).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    created["data"]["scheduledMessage"].clone()
}

async fn read(app: &TestApp, token: &str, id: &str) -> Value {
    let (status, body) = app.get(&format!("{ROUTE}/{id}"), token).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["data"]["scheduledMessage"].clone()
}

async fn occurrences(app: &TestApp, token: &str, id: &str) -> Vec<Value> {
    let (status, body) = app
        .get(&format!("{ROUTE}/{id}/occurrences?limit=100"), token)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let mut list = body["data"]["occurrences"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    list.reverse();
    list
}

/// Waits until the schedule has had `count` occurrences (the scheduler looks at least once a
/// second, and at once when a schedule is saved).
async fn wait_for_occurrences(app: &TestApp, token: &str, id: &str, count: usize) -> Vec<Value> {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let list = occurrences(app, token, id).await;
        if list.len() >= count {
            assert_eq!(
                list.len(),
                count,
                "more occurrences than expected: {list:?}"
            );
            return list;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{count} occurrences never came: {list:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn set_zone(app: &TestApp, token: &str, zone: &str) {
    let (status, body) = app
        .put("/api/v1/organization", token, json!({"timezone": zone}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

async fn scheduler_looked_again(app: &TestApp) {
    crate::helpers::looked_again(app, "wasl_scheduler_passes_total").await;
}

on_both_databases! {
    async fn nine_in_berlin_stays_nine_across_the_change_to_summer_time(app: TestApp) {
        let owner = linked(&app, "sched-dst@acme.sa", "966500007001").await;
        let token = &owner.token;
        set_zone(&app, token, "Europe/Berlin").await;
        move_clock_to(&app, "2027-03-26T06:00:00Z");
        let phone = "966551180001";
        let s = schedule(&app, token, json!({
            "to": phone,
            "message": {"type": "text", "text": "صباح الخير"},
            "scheduleAt": "2027-03-26T09:00",
            "repeat": {"frequency": "daily", "count": 4},
        })).await;
        let id = s["id"].as_str().expect("id").to_owned();
        assert_eq!(s["status"], "active");
        assert_eq!(s["scheduleAt"], "2027-03-26T09:00");
        // 09:00 CET is 08:00 UTC.
        assert_eq!(s["nextRunAt"], "2027-03-26T08:00:00.000Z");

        // Nothing before its time.
        move_clock_to(&app, "2027-03-26T07:59:00Z");
        scheduler_looked_again(&app).await;
        assert!(occurrences(&app, token, &id).await.is_empty(), "sent early");

        let expected = [
            ("2027-03-26T08:00:30Z", "2027-03-27T08:00:00.000Z"),
            // The clocks go forward on the night of the 27th: 09:00 CEST is 07:00 UTC.
            ("2027-03-27T08:00:30Z", "2027-03-28T07:00:00.000Z"),
            ("2027-03-28T07:00:30Z", "2027-03-29T07:00:00.000Z"),
        ];
        for (n, (at, next)) in expected.iter().enumerate() {
            move_clock_to(&app, at);
            wait_for_occurrences(&app, token, &id, n + 1).await;
            assert_eq!(read(&app, token, &id).await["nextRunAt"], *next, "after {at}");
        }
        move_clock_to(&app, "2027-03-29T07:00:30Z");
        let done = wait_for_occurrences(&app, token, &id, 4).await;
        let s = read(&app, token, &id).await;
        assert_eq!(s["status"], "completed", "{s}");
        assert_eq!(s["nextRunAt"], Value::Null);

        // 09:00 in Berlin each day: 08:00 UTC in winter time, 07:00 UTC in summer time.
        let due: Vec<&str> = done.iter().map(|o| o["dueAt"].as_str().unwrap_or_default()).collect();
        assert_eq!(due, ["2027-03-26T08:00:00.000Z", "2027-03-27T08:00:00.000Z", "2027-03-28T07:00:00.000Z", "2027-03-29T07:00:00.000Z"]);
        assert!(done.iter().all(|o| o["messageId"].is_string()), "{done:?}");
        let sent = sent_to(&app, token, phone).await;
        assert_eq!(sent.len(), 4, "one message per occurrence: {sent:?}");
        for m in &sent {
            assert_eq!(m["metadata"]["automation"]["kind"], "schedule", "{m}");
            assert_eq!(m["metadata"]["automation"]["id"], id.as_str(), "{m}");
            assert_eq!(m["content"]["text"], "صباح الخير");
        }

        // Autumn, by the calendar: 09:00 CEST is 07:00 UTC, 09:00 CET the next day 08:00 UTC.
        let autumn = schedule(&app, token, json!({
            "to": phone,
            "message": {"type": "text", "text": "hello"},
            "scheduleAt": "2027-10-30T09:00",
            "repeat": {"frequency": "daily"},
        })).await;
        let (status, cal) = app.get(&format!("{ROUTE}/calendar?from=2027-10-30&days=2"), token).await;
        assert_eq!(status, StatusCode::OK, "{cal}");
        assert_eq!(cal["data"]["timezone"], "Europe/Berlin");
        let times: Vec<(&str, &str)> = cal["data"]["occurrences"].as_array().expect("list").iter()
            .filter(|o| o["scheduledMessageId"] == autumn["id"])
            .map(|o| (o["at"].as_str().unwrap_or_default(), o["localTime"].as_str().unwrap_or_default()))
            .collect();
        assert_eq!(times, [("2027-10-30T07:00:00.000Z", "2027-10-30T09:00"), ("2027-10-31T08:00:00.000Z", "2027-10-31T09:00")]);
    }

    async fn monthly_on_the_31st_falls_on_the_last_day_until_its_end(app: TestApp) {
        let owner = linked(&app, "sched-monthly@acme.sa", "966500007002").await;
        let token = &owner.token;
        // Riyadh: UTC+3 all year.
        move_clock_to(&app, "2027-01-30T00:00:00Z");
        let s = schedule(&app, token, json!({
            "to": "+966 55 118 0002",
            "message": {"type": "text", "text": "فاتورة الشهر"},
            "scheduleAt": "2027-01-31T10:00",
            "repeat": {"frequency": "monthly", "until": "2027-04-30"},
        })).await;
        let id = s["id"].as_str().expect("id").to_owned();
        assert_eq!(s["to"], "966551180002", "the number in its one canonical form");
        assert_eq!(s["repeat"]["until"], "2027-04-30T23:59:59");
        let (_, cal) = app.get(&format!("{ROUTE}/calendar?from=2027-01-01&days=62"), token).await;
        let days: Vec<&str> = cal["data"]["occurrences"].as_array().expect("list").iter()
            .map(|o| o["localTime"].as_str().unwrap_or_default()).collect();
        assert_eq!(days, ["2027-01-31T10:00", "2027-02-28T10:00"]);

        for (n, at) in ["2027-01-31T07:00:30Z", "2027-02-28T07:00:30Z", "2027-03-31T07:00:30Z", "2027-04-30T07:00:30Z"].iter().enumerate() {
            move_clock_to(&app, at);
            wait_for_occurrences(&app, token, &id, n + 1).await;
        }
        let s = read(&app, token, &id).await;
        assert_eq!(s["status"], "completed", "May 31st is past until: {s}");
        let due: Vec<String> = occurrences(&app, token, &id).await.iter()
            .map(|o| o["dueAt"].as_str().unwrap_or_default()[..10].to_owned()).collect();
        assert_eq!(due, ["2027-01-31", "2027-02-28", "2027-03-31", "2027-04-30"]);
    }

    async fn a_short_outage_sends_late_once_and_a_long_one_misses(app: TestApp) {
        let mut app = app;
        let owner = linked(&app, "sched-outage@acme.sa", "966500007003").await;
        let token = owner.token.clone();
        move_clock_to(&app, "2027-01-01T05:00:00Z");
        let phone = "966551180003";
        let s = schedule(&app, &token, json!({
            "to": phone,
            "message": {"type": "text", "text": "تذكير يومي"},
            "scheduleAt": "2027-01-01T09:00",
            "repeat": {"frequency": "daily"},
        })).await;
        let id = s["id"].as_str().expect("id").to_owned();
        let clock = app.clock.clone();
        let to = |rfc3339: &str| {
            let clock = clock.clone();
            let target = chrono::DateTime::parse_from_rfc3339(rfc3339).expect("time").timestamp_millis();
            move |_: &std::path::Path| {
                use wasl::clock::Clock as _;
                let now = clock.now_millis();
                clock.advance(Duration::from_millis(u64::try_from(target - now).expect("ahead")));
            }
        };
        // Down over 09:00 (06:00 UTC), back 30 minutes later: sent late, once.
        app.restart_with(to("2027-01-01T06:30:00Z")).await;
        linked_again(&app, &token).await;
        let list = wait_for_occurrences(&app, &token, &id, 1).await;
        assert_ne!(list[0]["status"], "missed", "{list:?}");

        // Down for three days: the 2nd and 3rd are missed; the 4th, 20 minutes late, is sent.
        app.restart_with(to("2027-01-04T06:20:00Z")).await;
        linked_again(&app, &token).await;
        let list = wait_for_occurrences(&app, &token, &id, 4).await;
        let statuses: Vec<&str> = list.iter().map(|o| o["status"].as_str().unwrap_or_default()).collect();
        assert_eq!(statuses[1..3], ["missed", "missed"], "{list:?}");
        assert_ne!(statuses[3], "missed", "{list:?}");
        assert!(list[1]["messageId"].is_null());

        // Two hours late: missed, nothing sent.
        app.restart_with(to("2027-01-05T08:00:00Z")).await;
        let list = wait_for_occurrences(&app, &token, &id, 5).await;
        assert_eq!(list[4]["status"], "missed", "{list:?}");
        assert_eq!(read(&app, &token, &id).await["nextRunAt"], "2027-01-06T06:00:00.000Z");

        let sent = sent_to(&app, &token, phone).await;
        assert_eq!(sent.len(), 2, "the 1st and the 4th only: {sent:?}");
    }

    async fn paused_sends_nothing_resumed_goes_on_cancelled_ends(app: TestApp) {
        let owner = linked(&app, "sched-pause@acme.sa", "966500007004").await;
        let token = &owner.token;
        move_clock_to(&app, "2027-02-01T05:00:00Z");
        let s = schedule(&app, token, json!({
            "to": "966551180004",
            "message": {"type": "text", "text": "x"},
            "scheduleAt": "2027-02-01T09:00",
            "repeat": {"frequency": "weekly", "interval": 2},
        })).await;
        let id = s["id"].as_str().expect("id").to_owned();

        let (status, paused) = app.post(&format!("{ROUTE}/{id}/pause"), token, json!({})).await;
        assert_eq!(status, StatusCode::OK, "{paused}");
        assert_eq!(paused["data"]["scheduledMessage"]["status"], "paused");
        assert_eq!(paused["data"]["scheduledMessage"]["isActive"], false);
        assert_eq!(paused["data"]["scheduledMessage"]["nextRunAt"], Value::Null);
        move_clock_to(&app, "2027-02-01T07:00:00Z");
        scheduler_looked_again(&app).await;
        assert!(occurrences(&app, token, &id).await.is_empty(), "a paused schedule sent");

        // Resumed: from the next occurrence after now, two weeks on.
        let (status, resumed) = app.post(&format!("{ROUTE}/{id}/resume"), token, json!({})).await;
        assert_eq!(status, StatusCode::OK, "{resumed}");
        assert_eq!(resumed["data"]["scheduledMessage"]["nextRunAt"], "2027-02-15T06:00:00.000Z");
        move_clock_to(&app, "2027-02-15T06:00:10Z");
        wait_for_occurrences(&app, token, &id, 1).await;

        // A new time starts the series again; the list filters by status.
        let (status, changed) = app.put(&format!("{ROUTE}/{id}"), token, json!({"scheduleAt": "2027-03-10T18:30", "repeat": null})).await;
        assert_eq!(status, StatusCode::OK, "{changed}");
        assert_eq!(changed["data"]["scheduledMessage"]["repeat"], Value::Null);
        assert_eq!(changed["data"]["scheduledMessage"]["nextRunAt"], "2027-03-10T15:30:00.000Z");
        let (_, active) = app.get(&format!("{ROUTE}?status=active"), token).await;
        assert_eq!(active["data"]["pagination"]["total"], 1, "{active}");

        let (status, cancelled) = app.post(&format!("{ROUTE}/{id}/cancel"), token, json!({})).await;
        assert_eq!(status, StatusCode::OK, "{cancelled}");
        assert_eq!(cancelled["data"]["scheduledMessage"]["status"], "cancelled");
        assert_error(&app.post(&format!("{ROUTE}/{id}/resume"), token, json!({})).await, StatusCode::CONFLICT, "SCHEDULE_ENDED");
        assert_error(&app.put(&format!("{ROUTE}/{id}"), token, json!({"scheduleAt": "2027-04-01T09:00"})).await, StatusCode::CONFLICT, "SCHEDULE_ENDED");
        move_clock_to(&app, "2027-03-10T15:31:00Z");
        scheduler_looked_again(&app).await;
        assert_eq!(occurrences(&app, token, &id).await.len(), 1, "a cancelled schedule sent");

        let (status, _) = app.delete(&format!("{ROUTE}/{id}"), token).await;
        assert_eq!(status, StatusCode::OK);
        assert_error(&app.get(&format!("{ROUTE}/{id}"), token).await, StatusCode::NOT_FOUND, "NOT_FOUND");
    }

    async fn a_blocked_customer_is_skipped_and_the_rules_hold(app: TestApp) {
        let owner = linked(&app, "sched-rules@acme.sa", "966500007005").await;
        let token = &owner.token;
        move_clock_to(&app, "2027-05-01T05:00:00Z");
        let phone = "966551180005";
        incoming(&app, token, json!({"from": phone, "type": "text", "text": "مرحبا"})).await;
        let (_, contacts) = app.get(&format!("/api/v1/whatsapp/contacts?search={phone}"), token).await;
        let contact_id = contacts["data"]["contacts"][0]["id"].as_str().expect("contact").to_owned();
        let (status, _) = app.put(&format!("/api/v1/whatsapp/contacts/{contact_id}"), token, json!({"isBlocked": true})).await;
        assert_eq!(status, StatusCode::OK);
        let s = schedule(&app, token, json!({
            "to": phone,
            "message": {"type": "text", "text": "عرض"},
            "scheduleAt": "2027-05-01T09:00",
        })).await;
        let id = s["id"].as_str().expect("id").to_owned();
        move_clock_to(&app, "2027-05-01T06:00:05Z");
        let list = wait_for_occurrences(&app, token, &id, 1).await;
        assert_eq!(list[0]["status"], "skipped", "{list:?}");
        assert_eq!(list[0]["reason"], "blocked");
        assert!(sent_to(&app, token, phone).await.is_empty());
        assert_eq!(read(&app, token, &id).await["status"], "completed");

        // Bad input: each field named.
        let bad = app.post(ROUTE, token, json!({
            "to": "12", "message": {"type": "text", "text": "x"}, "scheduleAt": "tomorrow",
        })).await;
        assert_error(&bad, StatusCode::BAD_REQUEST, "INVALID_PHONE_NUMBER");
        let bad = app.post(ROUTE, token, json!({
            "to": phone, "message": {"type": "text", "text": "x"}, "scheduleAt": "tomorrow",
        })).await;
        assert_error(&bad, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
        let bad = app.post(ROUTE, token, json!({
            "to": phone, "message": {"type": "text", "text": "x"}, "scheduleAt": "2027-05-01T09:00",
            "repeat": {"frequency": "hourly", "interval": 0, "count": 0},
        })).await;
        let fields: Vec<&str> = bad.1["error"]["details"]["fields"].as_array().expect("fields").iter()
            .map(|f| f["field"].as_str().unwrap_or_default()).collect();
        assert_eq!(fields, ["repeat.frequency", "repeat.interval", "repeat.count"], "{}", bad.1);
        let past = app.post(ROUTE, token, json!({"to": phone, "message": {"type": "text", "text": "x"}, "scheduleAt": "2027-04-30T09:00"})).await;
        assert_error(&past, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
        let ended = app.post(ROUTE, token, json!({"to": phone, "message": {"type": "text", "text": "x"}, "scheduleAt": "2027-01-01T09:00", "repeat": {"frequency": "daily", "until": "2027-02-01"}})).await;
        assert_error(&ended, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
        let nowhere = app.post(ROUTE, token, json!({"to": phone, "sessionName": "nowhere", "message": {"type": "text", "text": "x"}, "scheduleAt": "2027-06-01T09:00"})).await;
        assert_error(&nowhere, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");

        // A template's variables are checked when it is scheduled.
        let (status, body) = app.post("/api/v1/whatsapp/templates", token, json!({
            "name": "order_ready", "language": "ar", "category": "utility",
            "content": "طلبك {{order}} جاهز",
        })).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let missing = app.post(ROUTE, token, json!({"to": "966551180006", "message": {"type": "template", "template": "order_ready"}, "scheduleAt": "2027-06-01T09:00"})).await;
        assert_error(&missing, StatusCode::BAD_REQUEST, "TEMPLATE_VARIABLE_MISSING");
        schedule(&app, token, json!({"to": "966551180006", "message": {"type": "template", "template": "order_ready", "variables": {"order": "A-17"}}, "scheduleAt": "2027-06-01T09:00"})).await;

        // Agents schedule; they change only their own.
        let agent = app.add_user(&owner, "sched-agent@acme.sa", "agent").await;
        let mine = schedule(&app, &agent.token, json!({"to": "966551180007", "message": {"type": "text", "text": "متابعة"}, "scheduleAt": "2027-06-02T09:00"})).await;
        let (status, _) = app.post(&format!("{ROUTE}/{}/pause", mine["id"].as_str().unwrap_or_default()), &agent.token, json!({})).await;
        assert_eq!(status, StatusCode::OK);
        assert_error(&app.post(&format!("{ROUTE}/{id}/cancel"), &agent.token, json!({})).await, StatusCode::FORBIDDEN, "FORBIDDEN");
    }
}

/// After a restart the sandbox session links again by itself; waits until it is connected.
async fn linked_again(app: &TestApp, token: &str) {
    app.wait_for_session(token, "default", "connected", |s| {
        s["status"] == "connected"
    })
    .await;
}
