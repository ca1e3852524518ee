//! The business hours step, in the settings: the weekly editor adds a period to a day and a
//! night shift that runs past midnight (marked "until the next day"), a holiday is added, the
//! whole is saved and read back from the API as it was entered; overlapping periods of one day
//! are refused beside the editor, in the UI's language; the time zone field names the zone's
//! time now.

use reqwest::{Method, StatusCode};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::Journey;

impl Journey {
    pub(super) async fn business_hours(&self) {
        let b = &self.browser;
        b.click("a[data-nav=settings]").await;
        b.wait_for("#business-hours-form fieldset[data-day=sunday]")
            .await;
        b.wait_for("#organization-form select[name=timezone]").await;
        let zone = b
            .exec(
                "return document.querySelector('#organization-form select[name=timezone]').value;",
                json!([]),
            )
            .await;
        assert_eq!(
            zone,
            json!("Asia/Riyadh"),
            "the organization's zone is chosen"
        );
        let hint = b.text("#org-timezone-hint").await;
        assert!(
            hint.chars().any(|c| c.is_ascii_digit()),
            "the zone's time now: {hint}"
        );

        // Sunday 09:00–17:00, then a night shift on Thursday.
        b.click("#business-hours-form fieldset[data-day=sunday] [data-action=add-period]")
            .await;
        b.click("#business-hours-form fieldset[data-day=thursday] [data-action=add-period]")
            .await;
        b.exec(
            "const set = (el, v) => { el.value = v; el.dispatchEvent(new Event('input', {bubbles: true})); }; \
             const day = document.querySelector('#business-hours-form fieldset[data-day=thursday]'); \
             set(day.querySelector('input[name$=start]'), '22:00'); \
             set(day.querySelector('input[name$=end]'), '02:00');",
            json!([]),
        )
        .await;
        let overnight = b
            .text("#business-hours-form fieldset[data-day=thursday] .hours-overnight")
            .await;
        let expected = if self.lang == "ar" {
            "التالي"
        } else {
            "next day"
        };
        assert!(
            overnight.contains(expected),
            "the night shift is marked: {overnight}"
        );
        b.exec(
            "document.querySelector('#business-hours-form input[name=holiday]').value = '2027-03-30';",
            json!([]),
        )
        .await;
        b.click("#business-hours-form [data-action=add-holiday]")
            .await;
        b.wait_for("#holiday-list li[data-date='2027-03-30']").await;
        b.screenshot(&self.shot("business-hours")).await;
        self.check_contrast(
            "the business hours",
            &[
                ".hours-day legend",
                ".hours-overnight",
                ".muted",
                ".hours-now",
                "h2",
                "h3",
            ],
        )
        .await;
        b.click("#business-hours-form button[type=submit]").await;
        let body = self
            .saved_hours(|hours| hours["holidays"] == json!(["2027-03-30"]))
            .await;
        let hours = &body["data"]["businessHours"];
        assert_eq!(
            hours["weekly"]["sunday"],
            json!([{"start": "09:00", "end": "17:00"}]),
            "{body}"
        );
        assert_eq!(
            hours["weekly"]["thursday"],
            json!([{"start": "22:00", "end": "02:00"}]),
            "{body}"
        );
        assert_eq!(hours["holidays"], json!(["2027-03-30"]), "{body}");
        let now = b
            .wait_until(
                "whether the organization is open now",
                "const s = document.querySelector('#hours-now'); return s && s.textContent.trim() ? s.textContent : false;",
                json!([]),
            )
            .await;
        assert!(now.as_str().is_some_and(|s| !s.is_empty()), "{now}");

        // A second Sunday period inside the first is refused, beside the editor.
        b.click("#business-hours-form fieldset[data-day=sunday] [data-action=add-period]")
            .await;
        b.exec(
            "const set = (el, v) => { el.value = v; el.dispatchEvent(new Event('input', {bubbles: true})); }; \
             const day = document.querySelector('#business-hours-form fieldset[data-day=sunday]'); \
             const starts = day.querySelectorAll('input[name$=start]'), ends = day.querySelectorAll('input[name$=end]'); \
             set(starts[1], '10:00'); set(ends[1], '11:00');",
            json!([]),
        )
        .await;
        b.click("#business-hours-form button[type=submit]").await;
        let refused = b
            .wait_until(
                "the overlap refused beside the editor",
                "const e = document.querySelector('#hours-error'); return e && e.textContent.trim() ? e.textContent : false;",
                json!([]),
            )
            .await;
        let expected = if self.lang == "ar" {
            "تتداخل"
        } else {
            "overlap"
        };
        assert!(
            refused.as_str().is_some_and(|s| s.contains(expected)),
            "{refused}"
        );
        // Removed again, and what is saved is still the first week.
        b.click("#business-hours-form fieldset[data-day=sunday] .hours-period:nth-child(2) [data-action=remove-period]").await;
        b.click("#business-hours-form button[type=submit]").await;
        b.wait_until(
            "the week saved again",
            "return !document.querySelector('#hours-error').textContent.trim() \
                 && document.querySelectorAll('#business-hours-form fieldset[data-day=sunday] .hours-period').length === 1;",
            json!([]),
        )
        .await;
        let body = self.saved_hours(|_| true).await;
        assert_eq!(
            body["data"]["businessHours"]["weekly"]["sunday"],
            json!([{"start": "09:00", "end": "17:00"}]),
            "{body}"
        );
    }

    /// The business hours as the API has them, once `saved` says the editor's save arrived.
    async fn saved_hours(&self, saved: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let (status, body) = self
                .api(Method::GET, "/api/v1/organization/business-hours", None)
                .await;
            assert_eq!(status, StatusCode::OK, "{body}");
            if saved(&body["data"]["businessHours"]) {
                return body;
            }
            assert!(
                Instant::now() < deadline,
                "the business hours were never saved: {body}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}
