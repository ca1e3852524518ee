//! Long lists: a customer with 10,000 messages, read back to the very first by scrolling up
//! one keyset page after another, and a chat list of hundreds of conversations read to its
//! end; both rendered as a window of rows, in order, with nothing skipped.

use std::time::Instant;

use reqwest::{Method, StatusCode};
use serde_json::json;

use super::{Journey, CUSTOMER, SESSION};

const LONG_CUSTOMER: &str = "966509990000";
const MESSAGES: usize = 10_000;
/// Five pages of the chat list, more than three windows of rows.
const CONVERSATIONS: usize = 500;

/// Walks the chat list from its top to its end, a window of rows at a time, waiting for the
/// next page where there is one; says who it saw, the most rows there were at once, steps that
/// did not overlap the one before, and windows with a row twice.
const WALK_CHAT_LIST: &str = "const s = document.querySelector('.conv-list'); s.scrollTop = 0; \
    const frame = () => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))); \
    const seen = new Set(); let most = 0; let gaps = 0; let duplicates = 0; \
    await frame(); \
    for (let step = 0; step < 2000; step += 1) { \
      const rendered = [...s.querySelectorAll('.conv-item')]; \
      most = Math.max(most, rendered.length); \
      const keys = rendered.map((r) => r.dataset.key); \
      if (new Set(keys).size !== keys.length) duplicates += 1; \
      let overlap = step === 0; \
      for (const r of rendered) { if (seen.has(r.dataset.phone)) overlap = true; else seen.add(r.dataset.phone); } \
      if (!overlap) gaps += 1; \
      if (s.scrollHeight - s.scrollTop - s.clientHeight < 2) { \
        if (!s.querySelector('.list-more')) break; \
        const height = s.scrollHeight; \
        for (let f = 0; f < 600 && s.scrollHeight === height && s.querySelector('.list-more'); f += 1) await frame(); \
        continue; \
      } \
      const last = rendered[rendered.length - 1]; \
      s.scrollTop += Math.max(last.getBoundingClientRect().top - s.getBoundingClientRect().top, 1); \
      await frame(); \
    } \
    return { seen: [...seen], most, gaps, duplicates };";

fn many_customer(i: usize) -> String {
    format!("9665077{i:05}")
}

impl Journey {
    /// Customers' messages `message(i)` for every `i` of `range`, through the sandbox, from
    /// `writers` concurrent clients; each must be taken.
    async fn customers_write(
        &self,
        writers: usize,
        range: std::ops::Range<usize>,
        message: fn(usize) -> serde_json::Value,
    ) {
        let url = self
            .server
            .url(&format!("/api/v1/whatsapp/sandbox/{SESSION}/incoming"));
        let mut tasks = tokio::task::JoinSet::new();
        for w in 0..writers {
            let (client, url, token) =
                (self.server.client.clone(), url.clone(), self.token.clone());
            let start = range.start + w;
            let end = range.end;
            tasks.spawn(async move {
                for i in (start..end).step_by(writers) {
                    let res = client
                        .post(&url)
                        .bearer_auth(&token)
                        .json(&message(i))
                        .send()
                        .await
                        .expect("sent");
                    assert_eq!(res.status(), StatusCode::OK, "message {i}");
                }
            });
        }
        while let Some(done) = tasks.join_next().await {
            done.expect("a writer");
        }
    }

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
        self.customers_write(
            32,
            1..MESSAGES,
            |i| json!({"from": LONG_CUSTOMER, "type": "text", "text": format!("message {i}")}),
        )
        .await;
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
        // Up to the first message, one older page after another; the thread renders a window
        // of rows, so a step is done when the top row is another one (or nothing is older).
        let state = "const row = document.querySelector('.messages .msg-row'); \
                     return { top: row?.dataset.id ?? null, \
                              more: !!document.querySelector('.messages .list-more'), \
                              first: row?.querySelector('.msg-text')?.textContent === arguments[0] };";
        let mut steps = 0;
        loop {
            let now = b.exec(state, json!([first])).await;
            if now["first"] == json!(true) && now["more"] == json!(false) {
                break;
            }
            b.exec(
                "document.querySelector('.messages').scrollTop = 0;",
                json!([]),
            )
            .await;
            b.wait_until(
                "another row at the top, or nothing older",
                "return document.querySelector('.messages .msg-row')?.dataset.id !== arguments[0] \
                        || !document.querySelector('.messages .list-more');",
                json!([now["top"]]),
            )
            .await;
            steps += 1;
            // A page is read in at most two steps: the window moving to the top, then the read.
            assert!(
                steps <= 2 * MESSAGES / 100 + 2,
                "more steps than the history has pages"
            );
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
            "[{} {:?}] scrolled to the first of {MESSAGES} messages in {steps} steps, {:?}: {timing}",
            self.lang,
            self.viewport,
            started.elapsed()
        );
        // Then down again, a window's worth at a time: every message is rendered once in
        // order, each window overlapping the one before (nothing skipped), and never more
        // than a window of rows in the page.
        let walk = b
            .exec(
                "const s = document.querySelector('.messages'); \
                 const frame = () => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))); \
                 const ids = new Set(); const texts = []; let most = 0; let gaps = 0; \
                 for (let step = 0; step < 1000; step += 1) { \
                   const rendered = [...s.querySelectorAll('.msg-row')]; \
                   most = Math.max(most, rendered.length); \
                   let overlap = step === 0; \
                   for (const r of rendered) { \
                     if (ids.has(r.dataset.id)) { overlap = true; continue; } \
                     ids.add(r.dataset.id); texts.push(r.querySelector('.msg-text')?.textContent); \
                   } \
                   if (!overlap) gaps += 1; \
                   if (s.scrollHeight - s.scrollTop - s.clientHeight < 2) break; \
                   const last = rendered[rendered.length - 1]; \
                   s.scrollTop += Math.max(last.getBoundingClientRect().top - s.getBoundingClientRect().top, 1); \
                   await frame(); \
                 } \
                 return { seen: ids.size, first: texts[0], last: texts[texts.length - 1], unique: new Set(texts).size, most, gaps };",
                json!([]),
            )
            .await;
        eprintln!("[{} {:?}] walked down: {walk}", self.lang, self.viewport);
        assert_eq!(walk["first"], json!(first), "{walk}");
        assert_eq!(walk["seen"], json!(MESSAGES), "every message, once: {walk}");
        assert_eq!(walk["unique"], json!(MESSAGES), "{walk}");
        assert_eq!(walk["gaps"], json!(0), "{walk}");
        assert!(
            walk["most"].as_u64().is_some_and(|n| n <= 200),
            "a window, not the whole history: {walk}"
        );
        // Back at the newest message, the thread is as it opened.
        b.wait_until(
            "the newest message at the bottom",
            "const s = document.querySelector('.messages'); return s.scrollHeight - s.scrollTop - s.clientHeight < 2;",
            json!([]),
        )
        .await;
        b.screenshot(&self.shot("history")).await;
    }

    /// `CONVERSATIONS` customers write once each; the chat list is read to its end, then the
    /// journey's first customer, far down by now, writes again and moves to the top in front
    /// of the reader there.
    pub(super) async fn long_chat_list(&self) {
        let b = &self.browser;
        let path = format!("/api/v1/whatsapp/sandbox/{SESSION}/incoming");
        self.customers_write(16, 0..CONVERSATIONS, |i| {
            json!({"from": many_customer(i), "type": "text", "text": format!("طلب رقم {i}"), "pushName": format!("عميل {i}")})
        })
        .await;
        self.leave_thread().await;
        b.click("a[data-nav=chat]").await;
        b.wait_for(".conv-item[data-phone^='9665077']").await;
        // Down the list a window at a time, pages read as its end comes near; again while the
        // list has not caught up with every customer (it polls where it has no live socket).
        let deadline = Instant::now() + std::time::Duration::from_secs(30);
        let walk = loop {
            let walk = b.exec(WALK_CHAT_LIST, json!([])).await;
            let seen: Vec<&str> = walk["seen"]
                .as_array()
                .expect("seen")
                .iter()
                .filter_map(|p| p.as_str())
                .collect();
            let missing: Vec<usize> = (0..CONVERSATIONS)
                .filter(|i| !seen.contains(&many_customer(*i).as_str()))
                .collect();
            eprintln!(
                "[{} {:?}] chat list walked: {} conversations, at most {} rows at once, {} customers not shown",
                self.lang,
                self.viewport,
                seen.len(),
                walk["most"],
                missing.len()
            );
            if missing.is_empty() {
                break walk;
            }
            assert!(
                Instant::now() < deadline,
                "customers never shown in the chat list: {missing:?}"
            );
        };
        assert_eq!(walk["gaps"], json!(0), "{}", walk["gaps"]);
        assert_eq!(walk["duplicates"], json!(0), "a row shown twice");
        assert!(
            walk["most"].as_u64().is_some_and(|n| n <= 200),
            "a window of rows, not the whole list: {}",
            walk["most"]
        );
        // At the top again, a customer from far down writes: the reader at the top sees it.
        b.exec(
            "document.querySelector('.conv-list').scrollTop = 0;",
            json!([]),
        )
        .await;
        let (status, body) = self
            .api(
                Method::POST,
                &path,
                Some(json!({"from": CUSTOMER, "type": "text", "text": "عدت مرة أخرى"})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        b.wait_until(
            "the customer who wrote again at the top",
            "const first = document.querySelector('.conv-item'); \
             return first?.dataset.phone === arguments[0] && document.querySelector('.conv-list').scrollTop === 0;",
            json!([CUSTOMER]),
        )
        .await;
        b.screenshot(&self.shot("chat-list-long")).await;
    }
}
