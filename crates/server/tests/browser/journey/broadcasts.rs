//! The broadcasts step: a broadcast written in the builder (a list of two numbers, one of
//! them the customer, with the live count; the message beside its preview; no pause on the
//! sandbox), saved as a draft and opened on its page with its preview, started, and followed
//! live until it completes: the bar full, the counters, each recipient with its status.

use reqwest::{Method, StatusCode};
use serde_json::json;

use super::{Journey, CUSTOMER};

const OTHER: &str = "966501112299";

impl Journey {
    pub(super) async fn broadcasts(&self) {
        let b = &self.browser;
        let (name, text) = if self.lang == "ar" {
            ("عرض نهاية الأسبوع", "خصم ٢٠٪ على كل الباقات حتى السبت")
        } else {
            ("Weekend offer", "20% off every bouquet until Saturday")
        };
        b.click("a[data-nav=broadcasts]").await;
        b.wait_for("#broadcast-list").await;
        b.click("[data-action=new-broadcast]").await;
        b.wait_for("#broadcast-form").await;
        b.fill("#broadcast-form input[name=name]", name).await;
        b.exec(
            "const f = document.querySelector('#broadcast-form'); \
             const set = (el, v) => { el.value = v; el.dispatchEvent(new Event('input', {bubbles: true})); el.dispatchEvent(new Event('change', {bubbles: true})); }; \
             const list = f.querySelector('input[name=\"recipients.type\"][value=list]'); list.checked = true; list.dispatchEvent(new Event('change', {bubbles: true})); \
             set(f.querySelector('textarea[name=\"recipients.phones\"]'), arguments[0]); \
             set(f.querySelector('select[name=pacing]'), 'off'); return true;",
            json!([format!("+{CUSTOMER}\n+{OTHER}\n+{CUSTOMER}")]),
        )
        .await;
        b.fill("#broadcast-form textarea[name='message.text']", text)
            .await;
        b.wait_until(
            "the live count",
            "const c = document.querySelector('#audience-count'); return !!c && c.dataset.count === '2';",
            json!([]),
        )
        .await;
        b.screenshot(&self.shot("broadcast-builder")).await;
        b.click("#broadcast-form button[type=submit]").await;

        // Its page: the draft with its preview, then started and followed until complete.
        b.wait_for("#broadcast-preview [data-count='2']").await;
        b.wait_for("[data-action=start-broadcast]").await;
        b.click("[data-action=start-broadcast]").await;
        b.wait_until(
            "the broadcast completed",
            "const s = document.querySelector('.broadcast-head [data-status]'); return !!s && s.dataset.status === 'completed';",
            json!([]),
        )
        .await;
        b.wait_until(
            "the bar full",
            "const p = document.querySelector('#broadcast-progress'); return !!p && p.dataset.done === '2' && p.dataset.target === '2';",
            json!([]),
        )
        .await;
        b.wait_for("#broadcast-recipients tr[data-phone]").await;
        let (status, list) = self
            .api(Method::GET, "/api/v1/whatsapp/broadcasts", None)
            .await;
        assert_eq!(status, StatusCode::OK, "{list}");
        let saved = &list["data"]["broadcasts"][0];
        assert_eq!(saved["name"], json!(name), "{saved}");
        assert_eq!(saved["total"], 3, "{saved}");
        assert_eq!(saved["skipped"], 1, "the repeated number: {saved}");
        assert_eq!(saved["message"]["text"], json!(text), "{saved}");
        b.screenshot(&self.shot("broadcast")).await;
        self.check_contrast(
            "the broadcast",
            &[".counter span", ".counter b", ".badge", ".muted", ".bubble"],
        )
        .await;
        b.click("[data-action=back-to-broadcasts]").await;
        b.wait_for(&format!(".broadcast-card[data-name='{name}']"))
            .await;
    }
}
