//! Keyset paging of the listings that grow without end (messages, conversations, contacts):
//! following `nextCursor` visits every row once, in the listing's order, even when rows share
//! a timestamp and when new rows arrive between pages.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{assert_error, TestApp};
use crate::messaging::linked;
use crate::on_both_databases;

async fn customer_writes(app: &TestApp, token: &str, from: &str, text: &str) {
    let (status, body) = app
        .post(
            "/api/v1/whatsapp/sandbox/default/incoming",
            token,
            json!({"from": from, "type": "text", "text": text}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

/// The ids of a listing's rows, one page of `limit` at a time by cursor, with the pages'
/// sizes; `between` runs after the first page.
async fn walk(
    app: &TestApp,
    token: &str,
    path: &str,
    items: &str,
    limit: usize,
    between: impl AsyncFnOnce(),
) -> (Vec<String>, Vec<usize>) {
    let (mut ids, mut sizes) = (Vec::new(), Vec::new());
    let mut cursor: Option<String> = None;
    let mut between = Some(between);
    let separator = if path.contains('?') { '&' } else { '?' };
    loop {
        let mut url = format!("{path}{separator}limit={limit}");
        if let Some(c) = &cursor {
            url.push_str(&format!("&cursor={c}"));
        }
        let (status, body) = app.get(&url, token).await;
        assert_eq!(status, StatusCode::OK, "{url}: {body}");
        let page = body["data"][items].as_array().expect("items").clone();
        sizes.push(page.len());
        ids.extend(
            page.iter()
                .map(|row| row["id"].as_str().expect("id").to_owned()),
        );
        if let Some(run) = between.take() {
            run().await;
        }
        match &body["data"]["pagination"]["nextCursor"] {
            Value::String(next) => cursor = Some(next.clone()),
            Value::Null => break,
            other => panic!("nextCursor {other} in {body}"),
        }
        assert!(sizes.len() < 50, "paging does not end: {sizes:?}");
    }
    (ids, sizes)
}

async fn all_ids(app: &TestApp, token: &str, path: &str, items: &str) -> Vec<String> {
    let separator = if path.contains('?') { '&' } else { '?' };
    let (status, body) = app.get(&format!("{path}{separator}limit=100"), token).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["data"]["pagination"].get("nextCursor"),
        None,
        "one page: {body}"
    );
    body["data"][items]
        .as_array()
        .expect("items")
        .iter()
        .map(|row| row["id"].as_str().expect("id").to_owned())
        .collect()
}

on_both_databases! {
    async fn a_thread_is_read_page_by_page_without_a_gap_or_a_repeat(app: TestApp) {
        let owner = linked(&app, "pages@acme.sa", "966500000800").await;
        // Eleven messages; runs of them share a millisecond, so the id breaks the ties.
        for n in 0..11 {
            if n % 3 == 0 {
                app.clock.advance(Duration::from_secs(5));
            }
            customer_writes(&app, &owner.token, "966551230000", &format!("رسالة {n}")).await;
        }
        let path = "/api/v1/whatsapp/messages?contact=966551230000";
        let expected = all_ids(&app, &owner.token, path, "messages").await;
        assert_eq!(expected.len(), 11);

        // A message that arrives while the first pages are read is newer than every cursor:
        // the walk neither repeats a row nor skips an older one.
        let (ids, sizes) = walk(&app, &owner.token, path, "messages", 4, async || {
            app.clock.advance(Duration::from_secs(5));
            customer_writes(&app, &owner.token, "966551230000", "وصلت الآن").await;
        })
        .await;
        assert_eq!(sizes, vec![4, 4, 3], "{ids:?}");
        assert_eq!(ids, expected, "newest first, every message once");

        // The numbered first page and the first page by cursor agree on where page two starts.
        let (_, first) = app.get(&format!("{path}&limit=5"), &owner.token).await;
        assert_eq!(first["data"]["pagination"]["total"], json!(12), "{first}");
        let next = first["data"]["pagination"]["nextCursor"].as_str().expect("a next page").to_owned();
        let (_, second) = app.get(&format!("{path}&limit=5&cursor={next}"), &owner.token).await;
        let (_, numbered) = app.get(&format!("{path}&limit=5&page=2"), &owner.token).await;
        assert_eq!(second["data"]["messages"], numbered["data"]["messages"]);
        assert!(second["data"]["pagination"]["nextCursor"].is_string(), "{second}");
    }

    async fn conversations_and_contacts_are_paged_by_cursor_in_their_order(app: TestApp) {
        let owner = linked(&app, "inbox-pages@acme.sa", "966500000801").await;
        for n in 0..7 {
            if n % 2 == 0 {
                app.clock.advance(Duration::from_secs(3));
            }
            customer_writes(&app, &owner.token, &format!("96655123100{n}"), "مرحبا").await;
        }
        // And one the organization writes to first.
        let (status, body) = app
            .post("/api/v1/whatsapp/messages/send", &owner.token, json!({"to": "966551231099", "text": "أهلاً"}))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");

        let conversations = "/api/v1/whatsapp/conversations?status=open";
        let expected = all_ids(&app, &owner.token, conversations, "conversations").await;
        assert_eq!(expected.len(), 8);
        let (ids, sizes) = walk(&app, &owner.token, conversations, "conversations", 3, async || {}).await;
        assert_eq!((ids, sizes), (expected, vec![3, 3, 2]));

        let contacts = "/api/v1/whatsapp/contacts";
        let expected = all_ids(&app, &owner.token, contacts, "contacts").await;
        assert_eq!(expected.len(), 8);
        let (ids, sizes) = walk(&app, &owner.token, contacts, "contacts", 5, async || {}).await;
        assert_eq!((ids, sizes), (expected, vec![5, 3]));

        // A filter holds across pages: the search matches seven numbers.
        let search = "/api/v1/whatsapp/contacts?search=96655123100";
        let expected = all_ids(&app, &owner.token, search, "contacts").await;
        let (ids, _) = walk(&app, &owner.token, search, "contacts", 2, async || {}).await;
        assert_eq!(ids, expected);
        assert_eq!(ids.len(), 7, "{ids:?}");
    }

    async fn a_cursor_that_is_not_a_listings_is_refused(app: TestApp) {
        let owner = linked(&app, "bad-cursor@acme.sa", "966500000802").await;
        for path in ["/api/v1/whatsapp/messages", "/api/v1/whatsapp/conversations", "/api/v1/whatsapp/contacts"] {
            for cursor in ["abc", "12", "-1.x", "1.a%20b", "1.a'--"] {
                let result = app.get(&format!("{path}?cursor={cursor}"), &owner.token).await;
                assert_error(&result, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
                assert_eq!(result.1["error"]["details"]["fields"][0]["field"], json!("cursor"), "{}", result.1);
            }
            // The cursor says where the page starts; a page number beside it changes nothing.
            let (_, with_page) = app.get(&format!("{path}?cursor=9999999999999.z&page=2"), &owner.token).await;
            let (_, without) = app.get(&format!("{path}?cursor=9999999999999.z"), &owner.token).await;
            assert_eq!(with_page["data"], without["data"], "{with_page}");
            // A well-formed cursor past every row is an empty last page.
            let (status, body) = app.get(&format!("{path}?cursor=0.a"), &owner.token).await;
            assert_eq!(status, StatusCode::OK, "{body}");
            assert_eq!(body["data"]["pagination"].get("nextCursor"), None, "{body}");
        }
    }
}
