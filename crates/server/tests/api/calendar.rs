//! The organization's calendar (SPEC §11, §14): its time zone and default language, checked
//! against the real time-zone database, and business hours of several periods a day, a
//! period across midnight and holidays, read in the organization's zone by the injected clock.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};
use wasl::clock::Clock as _;

use crate::helpers::{assert_error, TestApp};
use crate::on_both_databases;

/// Moves the server's clock forward to `rfc3339` (tests only go forward in time).
pub fn move_clock_to(app: &TestApp, rfc3339: &str) {
    let target = chrono::DateTime::parse_from_rfc3339(rfc3339)
        .expect("a time")
        .timestamp_millis();
    let now = app.clock.now_millis();
    assert!(target > now, "{rfc3339} is in the past");
    app.clock.advance(Duration::from_millis(
        u64::try_from(target - now).expect("ahead"),
    ));
}

async fn now(app: &TestApp, token: &str) -> Value {
    let (status, body) = app
        .get("/api/v1/organization/business-hours/now", token)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["data"].clone()
}

fn field_codes(body: &Value) -> Vec<(String, String)> {
    body["error"]["details"]["fields"]
        .as_array()
        .map(|fields| {
            fields
                .iter()
                .map(|f| {
                    (
                        f["field"].as_str().unwrap_or_default().to_owned(),
                        f["code"].as_str().unwrap_or_default().to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

fn shop_hours() -> Value {
    let day = json!([{"start": "09:00", "end": "13:00"}, {"start": "16:00", "end": "22:00"}]);
    json!({
        "weekly": {
            "sunday": day, "monday": day, "tuesday": day, "wednesday": day,
            // Thursday evening runs on into the night.
            "thursday": [{"start": "09:00", "end": "13:00"}, {"start": "16:00", "end": "22:00"}, {"start": "22:00", "end": "02:00"}],
        },
        "holidays": ["2027-01-05"],
    })
}

on_both_databases! {
    async fn the_time_zone_and_language_are_checked_and_kept(app: TestApp) {
        let owner = app.register("calendar-zone@acme.sa").await;
        let (status, body) = app.get("/api/v1/organization", &owner.token).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["data"]["organization"]["timezone"], json!("Asia/Riyadh"));
        assert_eq!(body["data"]["organization"]["defaultLanguage"], json!("ar"));

        let bad = app.put("/api/v1/organization", &owner.token, json!({"timezone": "Mars/Olympus", "defaultLanguage": "fr"})).await;
        assert_error(&bad, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
        let codes = field_codes(&bad.1);
        assert!(codes.contains(&("timezone".into(), "invalid_time_zone".into())), "{codes:?}");
        assert!(codes.iter().any(|(f, _)| f == "defaultLanguage"), "{codes:?}");
        // A fixed offset is not a zone: it knows no daylight saving.
        assert_error(&app.put("/api/v1/organization", &owner.token, json!({"timezone": "+03:00"})).await, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
        let (_, body) = app.get("/api/v1/organization", &owner.token).await;
        assert_eq!(body["data"]["organization"]["timezone"], json!("Asia/Riyadh"), "nothing changed");

        let (status, body) = app.put("/api/v1/organization", &owner.token, json!({"timezone": "Europe/Berlin", "defaultLanguage": "en"})).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["data"]["organization"]["timezone"], json!("Europe/Berlin"));
        assert_eq!(body["data"]["organization"]["defaultLanguage"], json!("en"));
        let (_, body) = app.get("/api/v1/organization", &owner.token).await;
        assert_eq!(body["data"]["organization"]["timezone"], json!("Europe/Berlin"));
        // The name alone changes nothing else.
        let (status, body) = app.put("/api/v1/organization", &owner.token, json!({"name": "متجر الورد"})).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["data"]["organization"]["timezone"], json!("Europe/Berlin"));
        assert_eq!(body["data"]["organization"]["defaultLanguage"], json!("en"));
    }

    async fn business_hours_say_when_the_organization_is_open(app: TestApp) {
        let owner = app.register("calendar-hours@acme.sa").await;
        let other = app.register("calendar-other@acme.sa").await;

        // Nothing set: never open, and no change ahead.
        let (status, body) = app.get("/api/v1/organization/business-hours", &owner.token).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["data"]["businessHours"]["weekly"]["sunday"], json!([]));
        assert_eq!(body["data"]["businessHours"]["holidays"], json!([]));
        assert_eq!(body["data"]["timezone"], json!("Asia/Riyadh"));
        let open = now(&app, &owner.token).await;
        assert_eq!(open["open"], json!(false));
        assert_eq!(open["nextChange"], Value::Null);

        // Mistakes are named, and nothing is written.
        for (hours, code) in [
            (json!({"weekly": {"sunday": [{"start": "09:00", "end": "13:00"}, {"start": "12:00", "end": "14:00"}]}}), "overlapping_periods"),
            (json!({"weekly": {"sunday": [{"start": "25:00", "end": "26:00"}]}}), "invalid"),
            (json!({"weekly": {"sunday": [{"start": "9:00", "end": "13:00"}]}}), "invalid"),
            (json!({"weekly": {"sunday": [{"start": "10:00", "end": "10:00"}]}}), "invalid"),
            (json!({"weekly": {"funday": [{"start": "09:00", "end": "13:00"}]}}), "invalid"),
            (json!({"weekly": {}, "holidays": ["2027-02-30"]}), "invalid"),
            // Sunday night runs into Monday's morning.
            (json!({"weekly": {"sunday": [{"start": "22:00", "end": "03:00"}], "monday": [{"start": "02:00", "end": "10:00"}]}}), "overlapping_periods"),
        ] {
            let result = app.put("/api/v1/organization/business-hours", &owner.token, hours.clone()).await;
            assert_error(&result, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
            assert!(field_codes(&result.1).iter().any(|(_, c)| c == code), "{hours}: {}", result.1);
        }
        assert_error(&app.put("/api/v1/organization/business-hours", &owner.token, json!({"weekly": {}, "extra": 1})).await, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
        let (_, body) = app.get("/api/v1/organization/business-hours", &owner.token).await;
        assert_eq!(body["data"]["businessHours"]["weekly"]["sunday"], json!([]), "nothing written");

        let (status, body) = app.put("/api/v1/organization/business-hours", &owner.token, shop_hours()).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["data"]["businessHours"]["weekly"]["thursday"][2], json!({"start": "22:00", "end": "02:00"}));
        assert_eq!(body["data"]["businessHours"]["weekly"]["friday"], json!([]));
        assert_eq!(body["data"]["businessHours"]["holidays"], json!(["2027-01-05"]));

        // Sunday 2027-01-03, 10:00 in Riyadh (07:00 UTC): open until 13:00.
        move_clock_to(&app, "2027-01-03T07:00:00Z");
        let open = now(&app, &owner.token).await;
        assert_eq!(open["open"], json!(true), "{open}");
        assert_eq!(open["localTime"], json!("2027-01-03T10:00"));
        assert_eq!(open["nextChange"], json!("2027-01-03T10:00:00.000Z"), "13:00 local");
        // 14:00: the midday break, open again at 16:00.
        move_clock_to(&app, "2027-01-03T11:00:00Z");
        let open = now(&app, &owner.token).await;
        assert_eq!(open["open"], json!(false), "{open}");
        assert_eq!(open["nextChange"], json!("2027-01-03T13:00:00.000Z"));
        // Tuesday 2027-01-05 is a holiday: closed all day, open Wednesday at 09:00.
        move_clock_to(&app, "2027-01-05T07:00:00Z");
        let open = now(&app, &owner.token).await;
        assert_eq!(open["open"], json!(false), "{open}");
        assert_eq!(open["nextChange"], json!("2027-01-06T06:00:00.000Z"));
        // Thursday 23:00 and Friday 01:00 are the night shift; it ends at 02:00.
        move_clock_to(&app, "2027-01-07T20:00:00Z");
        assert_eq!(now(&app, &owner.token).await["open"], json!(true));
        move_clock_to(&app, "2027-01-07T22:00:00Z");
        let open = now(&app, &owner.token).await;
        assert_eq!(open["open"], json!(true), "{open}");
        assert_eq!(open["localTime"], json!("2027-01-08T01:00"));
        assert_eq!(open["nextChange"], json!("2027-01-07T23:00:00.000Z"));

        // The same hours read in another zone: local times stay, instants move.
        let (status, _) = app.put("/api/v1/organization", &owner.token, json!({"timezone": "Europe/Berlin"})).await;
        assert_eq!(status, StatusCode::OK);
        let open = now(&app, &owner.token).await;
        assert_eq!(open["localTime"], json!("2027-01-07T23:00"), "{open}");
        assert_eq!(open["open"], json!(true), "Thursday night in Berlin too");
        assert_eq!(open["nextChange"], json!("2027-01-08T01:00:00.000Z"), "02:00 in Berlin");

        // Agents read the hours and cannot change them.
        let agent = app.add_user(&owner, "calendar-agent@acme.sa", "agent").await;
        let (status, body) = app.get("/api/v1/organization/business-hours", &agent.token).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["data"]["businessHours"]["holidays"], json!(["2027-01-05"]));
        assert_error(&app.put("/api/v1/organization/business-hours", &agent.token, json!({"weekly": {}})).await, StatusCode::FORBIDDEN, "FORBIDDEN");
        assert_eq!(now(&app, &agent.token).await["open"], json!(true));

        // Another organization's calendar is its own.
        let (_, body) = app.get("/api/v1/organization/business-hours", &other.token).await;
        assert_eq!(body["data"]["businessHours"]["weekly"]["sunday"], json!([]));
        assert_eq!(now(&app, &other.token).await["open"], json!(false));
    }
}
