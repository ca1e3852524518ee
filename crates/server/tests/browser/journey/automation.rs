//! The automation step: an auto-reply written in the rule editor (trigger, answer, hours and
//! days, an away answer) and said back in a sentence, tried in the test box; a template
//! written beside its live preview and sent to the customer with its variable; a quick reply
//! saved and inserted in the composer with `/`; the rule answering the customer, its answer
//! marked automated in the thread; a customer opting out, marked in the contacts and in the
//! thread; the stop words in the settings.

use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::json;

use super::{Journey, Viewport, CUSTOMER, SESSION};

/// A customer who opts out during the step.
const LEAVING: &str = "966501239876";

struct Texts {
    rule: &'static str,
    trigger: &'static str,
    answer: &'static str,
    away: &'static str,
    question: &'static str,
    body: &'static str,
    footer: &'static str,
    choice: &'static str,
    order: &'static str,
    quick: &'static str,
}

fn texts(lang: &str) -> Texts {
    if lang == "ar" {
        Texts {
            rule: "الأسعار",
            trigger: "سعر",
            answer: "أهلاً {{contact.name|عميلنا}}، قائمة الأسعار في الطريق",
            away: "نحن خارج أوقات العمل، نعود غداً",
            question: "كم سعر الباقة؟",
            body: "مرحباً {{contact.name|عميلنا}}، طلبك رقم {{order}} جاهز للاستلام.",
            footer: "متجر الورد",
            choice: "سأستلمه اليوم",
            order: "٤٢",
            quick: "نعمل من ٩ صباحاً حتى ٥ مساءً",
        }
    } else {
        Texts {
            rule: "Prices",
            trigger: "price",
            answer: "Hi {{contact.name|there}}, the price list is on its way",
            away: "We are closed now, back tomorrow",
            question: "What is the price of the bouquet?",
            body: "Hi {{contact.name|there}}, your order {{order}} is ready for pickup.",
            footer: "Rose Shop",
            choice: "I'll pick it up today",
            order: "42",
            quick: "We are open from 9 am to 5 pm",
        }
    }
}

impl Journey {
    pub(super) async fn automation(&self) {
        let b = &self.browser;
        let x = texts(self.lang);
        self.leave_thread().await;
        b.click("a[data-nav=automation]").await;
        b.wait_for(".automation-tab[data-tab=auto-replies][aria-selected=true]")
            .await;
        b.wait_for("#auto-reply-test").await;

        // A rule, written in the editor.
        b.click("[data-action=new-rule]").await;
        b.wait_for("#rule-form").await;
        b.fill("#rule-form input[name=name]", x.rule).await;
        b.fill("#rule-form input[name=trigger]", x.trigger).await;
        b.fill("#rule-form textarea[name='response.text']", x.answer)
            .await;
        b.exec(
            "const f = document.querySelector('#rule-form'); \
             f.querySelector('input[name=useRange]').click(); \
             for (const d of ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday']) f.querySelector(`input[name='conditions.days'][value=${d}]`).click(); \
             f.querySelector('input[name=useAway]').click(); return true;",
            json!([]),
        )
        .await;
        b.fill("#rule-form textarea[name='awayResponse.text']", x.away)
            .await;
        b.screenshot(&self.shot("auto-reply-editor")).await;
        b.click("#rule-form button[type=submit]").await;
        let card = format!(".rule-card[data-name='{}']", x.rule);
        b.wait_for(&card).await;
        let summary = b.text(&format!("{card} .rule-summary")).await;
        assert!(
            summary.contains(x.trigger),
            "the trigger said back: {summary}"
        );
        assert!(
            summary.contains("09:00") && summary.contains("17:00"),
            "the hours said back: {summary}"
        );
        let (status, rules) = self
            .api(Method::GET, "/api/v1/whatsapp/auto-replies", None)
            .await;
        assert_eq!(status, StatusCode::OK, "{rules}");
        let rule = &rules["data"]["autoReplies"][0];
        assert_eq!(
            rule["conditions"],
            json!({"timeRange": {"start": "09:00", "end": "17:00"}, "days": ["sunday", "monday", "tuesday", "wednesday", "thursday"]}),
            "{rule}"
        );
        assert_eq!(rule["awayResponse"]["text"], json!(x.away), "{rule}");

        // The test box says which rule answers, with what.
        b.fill("#auto-reply-test textarea[name=testText]", x.question)
            .await;
        b.click("#auto-reply-test button[type=submit]").await;
        b.wait_until(
            "the test box's verdict",
            "const r = document.querySelector('#auto-reply-test-result'); return !!r && r.dataset.rule === arguments[0];",
            json!([rule["id"]]),
        )
        .await;
        let verdict = b.text("#auto-reply-test-result").await;
        assert!(
            verdict.contains(x.rule),
            "the answering rule named: {verdict}"
        );
        b.screenshot(&self.shot("auto-replies")).await;
        self.check_contrast(
            "the auto-replies",
            &[
                ".rule-summary dt",
                ".rule-summary dd",
                ".badge",
                ".test-verdict",
                ".muted",
                ".automation-tab",
            ],
        )
        .await;

        // A template, written beside its live preview.
        b.click(".automation-tab[data-tab=templates]").await;
        b.wait_for("[data-action=new-template]").await;
        b.click("[data-action=new-template]").await;
        b.wait_for("#template-form").await;
        b.fill("#template-form input[name=name]", "order_ready")
            .await;
        b.exec(
            "const f = document.querySelector('#template-form'); const s = f.querySelector('select[name=\"header.type\"]'); \
             s.value = 'text'; s.dispatchEvent(new Event('input', {bubbles: true})); return true;",
            json!([]),
        )
        .await;
        b.fill("#template-form input[name='header.text']", "#{{order}}")
            .await;
        b.fill("#template-form textarea[name=content]", x.body)
            .await;
        b.fill("#template-form input[name=footer]", x.footer).await;
        b.click("#template-form [data-action=add-button]").await;
        b.fill(
            "#template-form .button-row input[name='buttons.text']",
            x.choice,
        )
        .await;
        b.fill(".preview-pane input[name='sample.order']", x.order)
            .await;
        let preview = b
            .wait_until(
                "the preview filled with the sample value",
                "const p = document.querySelector('#template-preview'); return p && p.innerText.includes(arguments[0]) && p.innerText.includes(arguments[1]) ? p.innerText : false;",
                json!([x.order, x.choice]),
            )
            .await;
        assert!(
            preview.as_str().is_some_and(|p| p.contains(x.footer)),
            "the footer in the preview: {preview}"
        );
        b.screenshot(&self.shot("template-editor")).await;
        b.click("#template-form button[type=submit]").await;
        b.wait_for(".template-card[data-name=order_ready]").await;
        b.screenshot(&self.shot("templates")).await;

        // Sent to the customer with its variable; it goes as text with a numbered choice.
        b.click(".template-card[data-name=order_ready] [data-action=send-template]")
            .await;
        b.wait_for("#send-template-form").await;
        b.fill(
            "#send-template-form input[name=to]",
            &format!("+{CUSTOMER}"),
        )
        .await;
        b.fill("#send-template-form input[name='variables.order']", x.order)
            .await;
        b.click("#send-template-form button[type=submit]").await;
        let sent = self
            .eventually("the template sent to the customer", || async {
                let (_, list) = self.api(Method::GET, &format!("/api/v1/whatsapp/messages?contact={CUSTOMER}&direction=outgoing&limit=5"), None).await;
                list["data"]["messages"].as_array().and_then(|ms| ms.iter().find(|m| m["metadata"]["template"]["name"] == "order_ready").cloned())
            })
            .await;
        let text = sent["content"]["text"].as_str().unwrap_or_default();
        assert!(
            text.contains(&format!("*#{}*", x.order)) && text.contains(&format!("1. {}", x.choice)),
            "{text}"
        );

        // A quick reply, saved for the whole organization.
        b.click(".automation-tab[data-tab=quick-replies]").await;
        b.click("[data-action=new-quick-reply]").await;
        b.wait_for("#quick-reply-form").await;
        b.fill("#quick-reply-form input[name=shortCode]", "hours")
            .await;
        b.fill("#quick-reply-form textarea[name=content]", x.quick)
            .await;
        b.click("#quick-reply-form button[type=submit]").await;
        b.wait_for(".quick-row[data-code=hours]").await;
        b.screenshot(&self.shot("quick-replies")).await;

        // The media library: a file uploaded, shown as a thumbnail.
        b.click(".automation-tab[data-tab=media]").await;
        b.wait_for("[data-action=upload-media]").await;
        b.choose_file("#media-upload", &super::chat::small_png())
            .await;
        b.wait_until(
            "the uploaded image's thumbnail",
            "return !!document.querySelector('.media-tile[data-media] .media-thumb img');",
            json!([]),
        )
        .await;
        b.screenshot(&self.shot("media-library")).await;

        // In the chat, `/` opens the quick replies and Enter inserts one.
        b.click("a[data-nav=chat]").await;
        let item = format!(".conv-item[data-phone='{CUSTOMER}']");
        b.click(&item).await;
        b.wait_for("#composer-text").await;
        b.fill("#composer-text", "/ho").await;
        b.wait_for("#quick-pick .quick-option[data-code=hours]")
            .await;
        b.screenshot_as_is(&self.shot("quick-reply-picker")).await;
        b.send_keys(
            &b.find("#composer-text").await.expect("composer"),
            "\u{E007}",
        )
        .await
        .expect("Enter");
        b.wait_until(
            "the quick reply in the composer",
            "return document.querySelector('#composer-text').value === arguments[0];",
            json!([x.quick]),
        )
        .await;
        b.exec("const t = document.querySelector('#composer-text'); t.value = ''; t.dispatchEvent(new Event('input')); return true;", json!([]))
            .await;

        // The customer asks: within the rule's hours or not, an automated answer arrives
        // (its answer or its away answer), marked in the thread.
        let (status, body) = self
            .api(
                Method::POST,
                &format!("/api/v1/whatsapp/sandbox/{SESSION}/incoming"),
                Some(json!({"from": CUSTOMER, "type": "text", "text": x.question})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        b.wait_until(
            "the automated answer in the thread, marked",
            "return [...document.querySelectorAll('.bubble[data-direction=outgoing]')].some(b => !!b.querySelector('.automated[data-automation=auto_reply]'));",
            json!([]),
        )
        .await;
        b.screenshot(&self.shot("automated-answer")).await;

        // A customer who writes a stop word is marked opted out, in the contacts and the thread.
        let (status, body) = self
            .api(Method::POST, &format!("/api/v1/whatsapp/sandbox/{SESSION}/incoming"),
                Some(json!({"from": LEAVING, "pushName": "Laila", "type": "text", "text": if self.lang == "ar" { "إلغاء" } else { "STOP" }})))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        self.eventually("the customer opted out", || async {
            let (_, list) = self
                .api(
                    Method::GET,
                    &format!("/api/v1/whatsapp/contacts?search={LEAVING}"),
                    None,
                )
                .await;
            (list["data"]["contacts"][0]["optedOut"] == json!(true)).then_some(())
        })
        .await;
        self.leave_thread().await;
        b.click("a[data-nav=contacts]").await;
        b.wait_for(&format!(
            ".contact-row[data-phone='{LEAVING}'] [data-opted-out]"
        ))
        .await;
        b.click("a[data-nav=chat]").await;
        b.click(&format!(".conv-item[data-phone='{LEAVING}']"))
            .await;
        b.wait_for(".thread-who [data-opted-out]").await;
        b.wait_until(
            "the one confirmation in the thread",
            "return [...document.querySelectorAll('.bubble[data-direction=outgoing]')].filter(b => !!b.querySelector('.automated[data-automation=opt_out]')).length === 1;",
            json!([]),
        )
        .await;
        self.leave_thread().await;

        // The stop words are the organization's to change, in the settings.
        b.click("a[data-nav=settings]").await;
        b.wait_for("#opt-out-words input[name=stopWord]").await;
        b.fill(
            "#opt-out-words input[name=stopWord]",
            if self.lang == "ar" {
                "توقف"
            } else {
                "quit"
            },
        )
        .await;
        b.send_keys(
            &b.find("#opt-out-words input[name=stopWord]")
                .await
                .expect("input"),
            "\u{E007}",
        )
        .await
        .expect("Enter");
        b.click("#organization-form button[type=submit]").await;
        self.eventually("the stop word saved", || async {
            let (_, org) = self.api(Method::GET, "/api/v1/organization", None).await;
            let words = org["data"]["organization"]["optOut"]["stopWords"].clone();
            words
                .as_array()
                .is_some_and(|w| w.iter().any(|w| w == "توقف" || w == "quit"))
                .then_some(())
        })
        .await;
        if self.viewport == Viewport::Desktop {
            b.exec(
                "document.querySelector('#opt-out-words').scrollIntoView(); return true;",
                json!([]),
            )
            .await;
            b.screenshot(&self.shot("opt-out-words")).await;
        }
    }

    /// Polls `probe` until it gives something, failing after 15 s with `what`.
    async fn eventually<T, F, Fut>(&self, what: &str, mut probe: F) -> T
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Option<T>>,
    {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Some(found) = probe().await {
                return found;
            }
            assert!(Instant::now() < deadline, "never: {what}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}
