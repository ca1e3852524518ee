//! A long history: a customer with 10,000 messages, read back to the very first by scrolling
//! up, one keyset page after another, with the rows rendered in order and nothing skipped.

use std::time::Instant;

use reqwest::{Method, StatusCode};
use serde_json::json;

use super::{Journey, SESSION};

const LONG_CUSTOMER: &str = "966509990000";
const MESSAGES: usize = 10_000;

impl Journey {
    /// The customer writes `MESSAGES` messages, the first alone so that it is the oldest.
    async fn seed_history(&self, first: &str) {
        let path = format!("/api/v1/whatsapp/sandbox/{SESSION}/incoming");
        let (status, body) = self
            .api(
                Method::POST,
                &path,
                Some(json!({"from": LONG_CUSTOMER, "type": "text", "text": first, "pushName": "Long History"})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let mut writers = tokio::task::JoinSet::new();
        const WRITERS: usize = 32;
        for w in 0..WRITERS {
            let (client, url, token) = (
                self.server.client.clone(),
                self.server.url(&path),
                self.token.clone(),
            );
            writers.spawn(async move {
                for i in (1 + w..MESSAGES).step_by(WRITERS) {
                    let res = client
                        .post(&url)
                        .bearer_auth(&token)
                        .json(&json!({"from": LONG_CUSTOMER, "type": "text", "text": format!("message {i}")}))
                        .send()
                        .await
                        .expect("sent");
                    assert_eq!(res.status(), StatusCode::OK, "message {i}");
                }
            });
        }
        while let Some(done) = writers.join_next().await {
            done.expect("a writer");
        }
    }

    pub(super) async fn long_history(&self) {
        let b = &self.browser;
        let first = "أول رسالة في السجل";
        let started = Instant::now();
        self.seed_history(first).await;
        eprintln!(
            "[{} {:?}] {MESSAGES} messages stored in {:?}",
            self.lang,
            self.viewport,
            started.elapsed()
        );
        self.leave_thread().await;
        b.click("a[data-nav=chat]").await;
        // The browser's timings from here on are this thread's.
        b.exec(
            "performance.clearMeasures('wasl:thread-render'); performance.clearResourceTimings();",
            json!([]),
        )
        .await;
        b.click(&format!(".conv-item[data-phone='{LONG_CUSTOMER}']"))
            .await;
        b.wait_for(".msg-row").await;
        let started = Instant::now();
        let state = "const s = document.querySelector('.messages'); \
                     return { rows: document.querySelectorAll('.msg-row').length, \
                              more: !!document.querySelector('.messages .list-more'), \
                              first: [...document.querySelectorAll('.msg-text')].some(p => p.textContent === arguments[0]) };";
        let mut pages = 0;
        loop {
            let now = b.exec(state, json!([first])).await;
            if now["first"] == json!(true) && now["more"] == json!(false) {
                assert_eq!(now["rows"], json!(MESSAGES), "every message, once: {now}");
                break;
            }
            let rows = now["rows"].as_u64().expect("rows");
            b.exec(
                "document.querySelector('.messages').scrollTop = 0;",
                json!([]),
            )
            .await;
            b.wait_until(
                "an older page to load at the top",
                "return document.querySelectorAll('.msg-row').length > arguments[0] || !document.querySelector('.messages .list-more');",
                json!([rows]),
            )
            .await;
            pages += 1;
            assert!(pages <= MESSAGES / 50, "more pages than the history has");
        }
        let timing = b
            .exec(
                "const r = performance.getEntriesByName('wasl:thread-render'); \
                 const n = performance.getEntriesByType('resource').filter(e => e.name.includes('/whatsapp/messages?')); \
                 return { firstRenderMs: Math.round(r[0]?.duration ?? -1), renders: r.length, renderMs: Math.round(r.reduce((s, e) => s + e.duration, 0)), \
                          slowestRenderMs: Math.round(Math.max(...r.map(e => e.duration))), \
                          reads: n.length, readMs: Math.round(n.reduce((s, e) => s + e.duration, 0)) };",
                json!([]),
            )
            .await;
        eprintln!(
            "[{} {:?}] scrolled to the first of {MESSAGES} messages in {pages} pages, {:?}: {timing}",
            self.lang,
            self.viewport,
            started.elapsed()
        );
        // The first at the top, and every message there once.
        let order = b
            .exec(
                "const t = [...document.querySelectorAll('.msg-text')].map(p => p.textContent); \
                 return [t[0], new Set(t).size];",
                json!([]),
            )
            .await;
        assert_eq!(order[0], json!(first), "{order}");
        assert_eq!(order[1], json!(MESSAGES), "{order}");
        b.screenshot(&self.shot("history")).await;
    }
}
