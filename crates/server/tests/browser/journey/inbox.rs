//! The inbox step: a conversation's own address opens it, a new conversation adds its row
//! without rebuilding the others, a conversation is resolved and reopened from the thread and
//! found under each status filter, and a dropped live connection replays what it missed.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use super::{Journey, Live, Viewport, CUSTOMER, SESSION};

const OTHER_CUSTOMER: &str = "966507654321";

impl Journey {
    async fn customer_conversation_id(&self) -> String {
        let (status, body) = self
            .api(Method::GET, "/api/v1/whatsapp/conversations?status=", None)
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["data"]["conversations"]
            .as_array()
            .and_then(|cs| {
                cs.iter()
                    .find(|c| c["contact"]["phoneNumber"] == CUSTOMER)
                    .and_then(|c| c["id"].as_str())
            })
            .unwrap_or_else(|| panic!("the customer's conversation in {body}"))
            .to_owned()
    }

    async fn wait_thread_open(&self, what: &str) {
        self.browser
            .wait_until(
                what,
                "const t = document.querySelector('.thread[data-phone=\"' + arguments[0] + '\"]'); \
                 return !!t && document.querySelector('.chat').dataset.view === 'thread' \
                     && !!t.querySelector('.bubble[data-direction=incoming]');",
                json!([CUSTOMER]),
            )
            .await;
    }

    /// The conversation's status as the API says it.
    async fn conversation_status(&self, id: &str) -> String {
        let (status, body) = self
            .api(
                Method::GET,
                &format!("/api/v1/whatsapp/conversations/{id}"),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["data"]["conversation"]["status"]
            .as_str()
            .unwrap_or_else(|| panic!("a status in {body}"))
            .to_owned()
    }

    /// A customer's text reaches the sandbox session; the API's answer.
    async fn customer_sends(&self, from: &str, text: &str) -> Value {
        let (status, body) = self
            .api(
                Method::POST,
                &format!("/api/v1/whatsapp/sandbox/{SESSION}/incoming"),
                Some(json!({"from": from, "type": "text", "text": text})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body
    }

    /// The live badge's state (on a phone the badge is in the hidden sidebar, so not its
    /// visibility).
    async fn live_badge(&self, state: &str) {
        self.browser
            .wait_until(
                &format!("the live badge to say {state}"),
                "return document.querySelector('.live-badge')?.dataset.live === arguments[0];",
                json!([state]),
            )
            .await;
    }

    /// On a phone, goes back from the thread to the list (the desktop shows both).
    async fn show_list(&self) {
        let in_thread = self
            .browser
            .exec(
                "return document.querySelector('.chat')?.dataset.view === 'thread';",
                json!([]),
            )
            .await;
        if self.viewport == Viewport::Phone && in_thread == json!(true) {
            self.browser.click("[data-action=back]").await;
            self.browser.wait_for(".conv-pane .status-tabs").await;
        }
    }

    pub(super) async fn inbox(&self) {
        let b = &self.browser;
        let item = format!(".conv-item[data-phone='{CUSTOMER}']");
        let id = self.customer_conversation_id().await;

        // A deep link opens that very conversation, on a fresh page load.
        b.goto(&self.server.url(&format!("/dashboard/whatsapp/chats/{id}")))
            .await;
        self.wait_thread_open("the linked conversation to open")
            .await;
        let path = b.exec("return location.pathname;", json!([])).await;
        assert_eq!(path, json!(format!("/dashboard/whatsapp/chats/{id}")));
        b.wait_for("[data-thread-status=open]").await;

        // A second customer writes: their row is added, the first row is the same element.
        self.show_list().await;
        b.wait_for(&item).await;
        b.exec(
            "document.querySelector(arguments[0]).__kept = true;",
            json!([item]),
        )
        .await;
        self.customer_sends(OTHER_CUSTOMER, self.words.first_message)
            .await;
        let other = format!(".conv-item[data-phone='{OTHER_CUSTOMER}']");
        b.wait_for(&other).await;
        let kept = b
            .exec(
                "return document.querySelector(arguments[0]).__kept === true;",
                json!([item]),
            )
            .await;
        assert_eq!(
            kept,
            json!(true),
            "a new conversation's row is added without rebuilding the others"
        );

        // Resolved from the thread: it leaves the open list and is found under "resolved".
        b.click(&item).await;
        self.wait_thread_open("the conversation to open from the list")
            .await;
        b.click("[data-action=resolve]").await;
        b.wait_for("[data-thread-status=resolved]").await;
        self.show_list().await;
        b.wait_until(
            "the resolved conversation to leave the open list",
            "return !document.querySelector(arguments[0]);",
            json!([item]),
        )
        .await;
        b.click("[data-filter=resolved]").await;
        b.wait_until(
            "the conversation under the resolved filter, marked resolved",
            "return !!document.querySelector(arguments[0] + '[data-status=resolved] [data-status-chip=resolved]');",
            json!([item]),
        )
        .await;
        b.screenshot(&self.shot("inbox-resolved")).await;
        assert_eq!(self.conversation_status(&id).await, "resolved");

        // Reopened from the thread.
        b.click(&item).await;
        b.wait_for("[data-action=reopen]").await;
        b.click("[data-action=reopen]").await;
        b.wait_for("[data-thread-status=open]").await;
        self.show_list().await;
        b.click("[data-filter=open]").await;
        b.wait_for(&format!("{item}[data-status=open]")).await;
        b.click("[data-filter=all]").await;
        b.wait_for(&other).await;
        b.click("[data-filter=open]").await;
        assert_eq!(self.conversation_status(&id).await, "open");

        if self.live == Live::Events {
            self.replay_after_reconnect(&item).await;
        }
        let errors = b.exec("return window.__waslErrors;", json!([])).await;
        assert_eq!(errors, json!([]), "uncaught errors in the page");
        b.screenshot(&self.shot("inbox")).await;
        self.show_list().await;
    }

    /// The browser goes offline: the socket closes and stays closed. A customer writes
    /// meanwhile. Back online, the socket reconnects asking for what came after its last
    /// event, and the message arrives as a replayed event (it was stored before the new
    /// socket opened, so nothing else could have sent it on the socket).
    async fn replay_after_reconnect(&self, item: &str) {
        let b = &self.browser;
        b.click(item).await;
        self.wait_thread_open("the conversation to open before the break")
            .await;
        b.exec("window.dispatchEvent(new Event('offline'));", json!([]))
            .await;
        self.live_badge("off").await;
        let missed = match self.lang {
            "ar" => "رسالة أثناء انقطاع الاتصال",
            _ => "A message while you were offline",
        };
        let body = self.customer_sends(CUSTOMER, missed).await;
        let message_id: Value = body["data"]["messageId"].clone();
        assert!(message_id.is_string(), "{body}");
        b.exec("window.dispatchEvent(new Event('online'));", json!([]))
            .await;
        self.live_badge("on").await;
        b.wait_until(
            "the missed message to be replayed on the new socket",
            "return window.__waslEvents.some(e => e.type === 'message.received' && e.messageId === arguments[0]);",
            json!([message_id]),
        )
        .await;
        b.wait_until(
            "the missed message in the thread",
            "return [...document.querySelectorAll('.bubble[data-direction=incoming]')].some(b => b.innerText.includes(arguments[0]));",
            json!([missed]),
        )
        .await;
    }
}
