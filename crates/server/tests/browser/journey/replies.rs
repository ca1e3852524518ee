//! Replies, reactions and message search in the chat: answer a message quoting it, react to
//! it, see the customer's reaction and quoted answer arrive live, and find messages within the
//! chat and across chats, each result opening its message in place.

use reqwest::{Method, StatusCode};
use serde_json::json;

use super::{Journey, CUSTOMER, SESSION};

impl Journey {
    /// The id of the row whose bubble holds `text`.
    async fn row_with(&self, what: &str, bubble: &str, text: &str) -> String {
        let id = self
            .browser
            .wait_until(
                what,
                "const b = [...document.querySelectorAll(arguments[0])].find(b => b.innerText.includes(arguments[1])); \
                 return b ? b.closest('.msg-row').dataset.id : null;",
                json!([bubble, text]),
            )
            .await;
        id.as_str().expect("a row id").to_owned()
    }

    /// Shows a row's actions (as hovering or tabbing to it does) and clicks one.
    async fn row_action(&self, row: &str, action: &str) {
        let selector = format!(".msg-row[data-id='{row}'] [data-action={action}]");
        self.browser
            .exec(
                "document.querySelector(arguments[0]).focus();",
                json!([selector]),
            )
            .await;
        self.browser.click(&selector).await;
    }

    pub(super) async fn replies(&self) {
        let b = &self.browser;
        let w = &self.words;
        let (quoted_reply, in_chat, across) = if self.lang == "ar" {
            ("نعم، الباقة الحمراء بـ 150 ريال", "الاحمر", "شكرا")
        } else {
            ("Yes, the red bouquet is 150 SAR", "roses", "thank")
        };
        // The words each search marks in its results, as the messages spell them.
        let (in_chat_mark, across_mark) = if self.lang == "ar" {
            ("الأحمر", "شكراً")
        } else {
            ("roses", "thank")
        };
        self.leave_thread().await;
        b.click("a[data-nav=chat]").await;
        b.click(&format!(".conv-item[data-phone='{CUSTOMER}']"))
            .await;
        let first = self
            .row_with(
                "the customer's first message",
                ".bubble[data-direction=incoming]",
                w.first_message,
            )
            .await;

        // Reply to it: the quote shows above the composer, then above the sent reply.
        self.row_action(&first, "reply").await;
        b.wait_until(
            "the message quoted above the composer",
            "const r = document.querySelector('.reply-bar'); \
             return !r.hidden && r.dataset.reply === arguments[0] && r.innerText.includes(arguments[1]);",
            json!([first, w.first_message]),
        )
        .await;
        b.fill("#composer-text", quoted_reply).await;
        b.click("[data-action=send]").await;
        let reply = self
            .row_with(
                "the reply, sent",
                ".bubble[data-direction=outgoing]:not([data-status=pending]):not([data-status=failed])",
                quoted_reply,
            )
            .await;
        b.wait_until(
            "the reply to quote the customer's message, the composer's quote gone",
            "const q = document.querySelector(`.msg-row[data-id='${arguments[0]}'] .quote`); \
             return !!q && q.dataset.quoted === arguments[1] && q.innerText.includes(arguments[2]) \
               && document.querySelector('.reply-bar').hidden;",
            json!([reply, first, w.first_message]),
        )
        .await;
        // The quote leads to the message it quotes.
        b.click(&format!(".msg-row[data-id='{reply}'] .quote"))
            .await;
        b.wait_for(&format!(".msg-row.flash[data-id='{first}']"))
            .await;

        // React to the customer's message; the same emoji again takes it back, another stays.
        for (emoji, shown) in [("👍", "👍"), ("👍", ""), ("🙏", "🙏")] {
            self.row_action(&first, "react").await;
            b.click(&format!(".react-menu [data-emoji='{emoji}']"))
                .await;
            b.wait_until(
                "the business's reaction on the bubble to follow",
                "const r = document.querySelector(`.msg-row[data-id='${arguments[0]}'] .reaction[data-by=business]`); \
                 return !document.querySelector('.react-menu') && (r ? r.textContent : '') === arguments[1];",
                json!([first, shown]),
            )
            .await;
        }

        // A voice note recorded here (a fake microphone's tone) goes as an Ogg Opus voice note.
        b.click("[data-action=record]").await;
        b.wait_until(
            "the recording to gather sound",
            "const r = document.querySelector('.recording'); return !r.hidden && Number(r.dataset.chunks) >= 2;",
            json!([]),
        )
        .await;
        b.click("[data-action=send-recording]").await;
        b.wait_until(
            "the voice note to be sent",
            "return !!document.querySelector('.bubble[data-direction=outgoing][data-type=audio]:not([data-status=pending]):not([data-status=failed])') \
               && document.querySelector('.recording').hidden;",
            json!([]),
        )
        .await;
        let (_, list) = self
            .api(
                Method::GET,
                "/api/v1/whatsapp/messages?limit=1&direction=outgoing",
                None,
            )
            .await;
        let voice = &list["data"]["messages"][0];
        assert_eq!(voice["type"], "audio", "{list}");
        assert_eq!(
            voice["content"]["mimeType"], "audio/ogg; codecs=opus",
            "{list}"
        );

        // The customer reacts to the reply and answers quoting it: both arrive live.
        let wa_id = b
            .exec(
                "return document.querySelector(`.msg-row[data-id='${arguments[0]}'] .bubble`).dataset.messageId;",
                json!([reply]),
            )
            .await;
        let wa_id = wa_id.as_str().expect("the reply's WhatsApp id").to_owned();
        let (status, body) = self
            .api(
                Method::POST,
                &format!("/api/v1/whatsapp/sandbox/{SESSION}/reaction"),
                Some(json!({"from": CUSTOMER, "messageId": wa_id, "emoji": "❤️"})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        b.wait_until(
            "the customer's reaction on the reply",
            "return document.querySelector(`.msg-row[data-id='${arguments[0]}'] .reaction[data-by=customer]`)?.textContent === '❤️';",
            json!([reply]),
        )
        .await;
        let answer = if self.lang == "ar" {
            "تمام، أرسلوها"
        } else {
            "Perfect, send it"
        };
        let (status, body) = self
            .api(
                Method::POST,
                &format!("/api/v1/whatsapp/sandbox/{SESSION}/incoming"),
                Some(json!({"from": CUSTOMER, "type": "text", "text": answer, "quotedMessageId": wa_id})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let answered = self
            .row_with(
                "the customer's quoted answer",
                ".bubble[data-direction=incoming]",
                answer,
            )
            .await;
        b.wait_until(
            "the answer to quote the reply",
            "const q = document.querySelector(`.msg-row[data-id='${arguments[0]}'] .quote`); \
             return !!q && q.dataset.quoted === arguments[1] && q.innerText.includes(arguments[2]);",
            json!([answered, reply, quoted_reply]),
        )
        .await;
        b.screenshot(&self.shot("reply")).await;

        // Search this chat without the hamza: the result shows its message in place.
        b.click("[data-action=search-chat]").await;
        b.fill("#chat-search", in_chat).await;
        b.wait_until(
            "the chat's search to find the first message",
            "return [...document.querySelectorAll('.search-panel .search-hit')].some(h => h.dataset.id === arguments[0]);",
            json!([first]),
        )
        .await;
        let marked = b
            .exec(
                "return [...document.querySelectorAll(`.search-panel .search-hit[data-id='${arguments[0]}'] mark`)].map(m => m.textContent);",
                json!([first]),
            )
            .await;
        assert_eq!(marked, json!([in_chat_mark]), "the word found, marked");
        b.screenshot(&self.shot("search-chat")).await;
        b.click(&format!(".search-panel .search-hit[data-id='{first}']"))
            .await;
        b.wait_for(&format!(".msg-row.flash[data-id='{first}']"))
            .await;
        b.exec(
            "const p = document.querySelector('.search-panel'); if (!p.hidden) p.dispatchEvent(new KeyboardEvent('keydown', {key: 'Escape', bubbles: true}));",
            json!([]),
        )
        .await;

        // Search across chats from the chat list (without tanwin): the message opens its chat.
        self.leave_thread().await;
        b.fill(".conv-pane .search-input", across).await;
        let hit = b
            .wait_until(
                "a message found across chats",
                "const h = [...document.querySelectorAll('.message-hits .search-hit')].find(h => h.innerText.includes(arguments[0])); \
                 return h ? h.dataset.id : null;",
                json!([w.customer_reply]),
            )
            .await;
        let hit = hit.as_str().expect("a hit").to_owned();
        let marked = b
            .exec(
                "return [...document.querySelectorAll(`.message-hits .search-hit[data-id='${arguments[0]}'] mark`)].map(m => m.textContent);",
                json!([hit]),
            )
            .await;
        assert_eq!(marked, json!([across_mark]), "the word found, marked");
        b.screenshot(&self.shot("search")).await;
        b.click(&format!(".message-hits .search-hit[data-id='{hit}']"))
            .await;
        b.wait_for(&format!(".msg-row.flash[data-id='{hit}']"))
            .await;
        let errors = b.exec("return window.__waslErrors;", json!([])).await;
        assert_eq!(errors, json!([]), "uncaught errors in the page");
        self.leave_thread().await;
        b.fill(".conv-pane .search-input", "").await;
        b.exec(
            "const s = document.querySelector('.conv-pane .search-input'); s.value = ''; s.dispatchEvent(new Event('input'));",
            json!([]),
        )
        .await;
        b.wait_until(
            "the full list back",
            "return !document.querySelector('.message-hits') && !!document.querySelector('.conv-item');",
            json!([]),
        )
        .await;
    }
}
