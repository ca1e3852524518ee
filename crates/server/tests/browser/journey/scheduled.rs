//! The scheduled-messages step: a weekly reminder written in the Scheduled tab (the customer,
//! the message, a local date and time, weekly for four times), said back on its card with when
//! it comes next, shown in the month's calendar (a list of days on a phone), paused and
//! resumed in place; its history dialog opened.

use reqwest::{Method, StatusCode};
use serde_json::json;

use super::{Journey, CUSTOMER};

impl Journey {
    pub(super) async fn scheduled(&self) {
        let b = &self.browser;
        let text = if self.lang == "ar" {
            "تذكير: موعد صيانة جهازك غداً"
        } else {
            "Reminder: your device's service is tomorrow"
        };
        b.click("a[data-nav=automation]").await;
        b.click(".automation-tab[data-tab=scheduled]").await;
        b.wait_for(".automation-tab[data-tab=scheduled][aria-selected=true]")
            .await;
        b.wait_for("#scheduled-calendar[data-month]").await;

        // Next month's 15th at 10:30 local: always ahead, always in the calendar's next page.
        let when: String = b
            .exec(
                "const d = new Date(); d.setDate(1); d.setMonth(d.getMonth() + 1); \
                 return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-15T10:30`;",
                json!([]),
            )
            .await
            .as_str()
            .expect("a date")
            .to_owned();
        b.click("[data-action=new-scheduled]").await;
        b.wait_for("#scheduled-form").await;
        b.fill("#scheduled-form input[name=to]", CUSTOMER).await;
        b.fill("#scheduled-form textarea[name='message.text']", text)
            .await;
        b.exec(
            "const f = document.querySelector('#scheduled-form'); \
             const set = (el, v) => { el.value = v; el.dispatchEvent(new Event('input', {bubbles: true})); el.dispatchEvent(new Event('change', {bubbles: true})); }; \
             set(f.querySelector('input[name=scheduleAt]'), arguments[0]); \
             set(f.querySelector('select[name=\"repeat.frequency\"]'), 'weekly'); \
             set(f.querySelector('select[name=repeatEnd]'), 'count'); \
             set(f.querySelector('input[name=\"repeat.count\"]'), '4'); return true;",
            json!([when]),
        )
        .await;
        b.screenshot(&self.shot("scheduled-editor")).await;
        b.click("#scheduled-form button[type=submit]").await;
        let card = format!(".scheduled-card[data-to='{CUSTOMER}']");
        b.wait_for(&card).await;
        let said = b.text(&format!("{card} .rule-summary")).await;
        assert!(said.contains("10:30"), "the time said back: {said}");
        assert!(said.contains(text), "the message said back: {said}");
        let (status, list) = self
            .api(Method::GET, "/api/v1/whatsapp/scheduled-messages", None)
            .await;
        assert_eq!(status, StatusCode::OK, "{list}");
        let saved = &list["data"]["scheduledMessages"][0];
        assert_eq!(saved["scheduleAt"], json!(when), "{saved}");
        assert_eq!(
            saved["repeat"],
            json!({"frequency": "weekly", "interval": 1, "count": 4}),
            "{saved}"
        );
        assert_eq!(saved["message"]["text"], json!(text), "{saved}");

        // The calendar's next month shows it on the 15th.
        b.click("[data-action=calendar-next]").await;
        b.wait_until(
            "the occurrence in the calendar",
            "const g = document.querySelector('#scheduled-calendar'); \
             return !!g && g.dataset.month === arguments[0] && !!g.querySelector(`.calendar-day[data-day='${arguments[1]}'] .calendar-item`);",
            json!([&when[..7], &when[..10]]),
        )
        .await;
        b.screenshot(&self.shot("scheduled")).await;
        self.check_contrast(
            "the scheduled messages",
            &[
                ".rule-summary dt",
                ".rule-summary dd",
                ".badge",
                ".calendar-date",
                ".calendar-item",
                ".muted",
            ],
        )
        .await;

        // Paused and resumed in place.
        b.click(&format!("{card} [data-action=pause-scheduled]"))
            .await;
        b.wait_for(&format!("{card}.status-paused")).await;
        b.click(&format!("{card} [data-action=resume-scheduled]"))
            .await;
        b.wait_for(&format!("{card}.status-active")).await;
        b.click(&format!("{card} [data-action=history-scheduled]"))
            .await;
        b.wait_for("#occurrence-list .empty").await;
        b.click("dialog [data-action=close-dialog]").await;
    }
}
