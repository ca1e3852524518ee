//! The chat step: open the conversation, reply with text and an image, and watch receipts
//! and the customer's answer arrive without reloading.

use std::path::PathBuf;

use reqwest::{Method, StatusCode};
use serde_json::json;

use super::{Journey, Viewport, CUSTOMER, SESSION};

impl Journey {
    /// Waits for a bubble whose text contains `text`, with extra attribute conditions.
    async fn wait_bubble(&self, what: &str, selector: &str, text: &str) {
        self.browser
            .wait_until(
                what,
                "return [...document.querySelectorAll(arguments[0])].some(b => b.innerText.includes(arguments[1]));",
                json!([selector, text]),
            )
            .await;
    }

    pub(super) async fn chat(&self) {
        let b = &self.browser;
        let w = &self.words;
        b.click("a[data-nav=chat]").await;
        let item = format!(".conv-item[data-phone='{CUSTOMER}']");
        b.wait_until(
            "the conversation with one unread message",
            "const e = document.querySelector(arguments[0] + ' .unread-badge'); return !!e && e.innerText.trim() === '1';",
            json!([item]),
        )
        .await;
        b.click(&item).await;
        self.wait_bubble(
            "the customer's message in the thread",
            ".bubble[data-direction=incoming]",
            w.first_message,
        )
        .await;
        b.wait_until(
            "the conversation to be marked read",
            "return !document.querySelector(arguments[0] + ' .unread-badge');",
            json!([item]),
        )
        .await;
        if self.viewport == Viewport::Phone {
            let layout = b
                .exec(
                    "return [getComputedStyle(document.querySelector('.conv-pane')).display, \
                     getComputedStyle(document.querySelector('.thread-pane')).display];",
                    json!([]),
                )
                .await;
            assert_eq!(
                layout[0],
                json!("none"),
                "on a phone the open thread replaces the list"
            );
        }

        // A text reply: sent, then delivered by the sandbox's phone.
        b.fill("#composer-text", w.reply).await;
        b.click("[data-action=send]").await;
        let out_text = ".bubble[data-direction=outgoing][data-type=text]";
        self.wait_bubble("the reply in the thread", out_text, w.reply)
            .await;
        self.wait_bubble(
            "the reply's delivered ticks (✓✓ grey)",
            &format!("{out_text}[data-status=delivered]:has(.tick-delivered)"),
            w.reply,
        )
        .await;

        // An image from the composer, with a caption.
        let png = small_png();
        let png_bytes = std::fs::read(&png).expect("the PNG");
        b.choose_file("#composer-file", &png).await;
        b.wait_for(".attachment").await;
        b.fill("#composer-text", w.caption).await;
        b.click("[data-action=send]").await;
        let image = ".bubble[data-direction=outgoing][data-type=image]";
        b.wait_until(
            "the sent image to show",
            "const i = document.querySelector(arguments[0] + ' img'); \
             return !!i && i.src.startsWith('blob:') && i.complete && i.naturalWidth > 0 \
                 && !!document.querySelector(arguments[0] + ':not([data-status=pending]):not([data-status=failed])');",
            json!([image]),
        )
        .await;
        let _ = std::fs::remove_file(&png);

        // The customer answers: it appears without reloading.
        let (status, body) = self
            .api(
                Method::POST,
                &format!("/api/v1/whatsapp/sandbox/{SESSION}/incoming"),
                Some(json!({"from": CUSTOMER, "type": "text", "text": w.customer_reply})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        self.wait_bubble(
            "the customer's reply to appear live",
            ".bubble[data-direction=incoming]",
            w.customer_reply,
        )
        .await;

        // The customer reads the reply: the ticks turn blue.
        let message_id = b
            .exec(
                "return [...document.querySelectorAll(arguments[0])].find(b => b.innerText.includes(arguments[1]))?.dataset.messageId;",
                json!([out_text, w.reply]),
            )
            .await;
        let message_id = message_id.as_str().expect("the reply's WhatsApp id");
        assert!(!message_id.is_empty(), "the reply carries its messageId");
        let (status, body) = self
            .api(
                Method::POST,
                &format!("/api/v1/whatsapp/sandbox/{SESSION}/read"),
                Some(json!({ "messageId": message_id })),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        self.wait_bubble(
            "the reply's read ticks (✓✓ blue)",
            &format!("{out_text}[data-status=read]:has(.tick-read)"),
            w.reply,
        )
        .await;
        self.wait_bubble(
            "the image's delivered ticks",
            &format!("{image}[data-status=delivered]:has(.tick-delivered)"),
            w.caption,
        )
        .await;
        b.wait_until(
            "the conversation list to show the customer's reply as the last message",
            "const e = document.querySelector(arguments[0] + ' .conv-text'); return !!e && e.innerText.includes(arguments[1]);",
            json!([item, w.customer_reply]),
        )
        .await;
        let errors = b.exec("return window.__waslErrors;", json!([])).await;
        assert_eq!(errors, json!([]), "uncaught errors in the page");
        b.screenshot(&self.shot("chat")).await;

        // An emoji from the picker, found by its Arabic or English name, goes in at the caret.
        b.click("[data-action=emoji]").await;
        b.fill(
            ".emoji-search",
            if self.lang == "ar" {
                "وردة"
            } else {
                "rose"
            },
        )
        .await;
        b.click(".emoji-grid [data-emoji='🌹']").await;
        let typed = b
            .exec(
                "return document.querySelector('#composer-text').value;",
                json!([]),
            )
            .await;
        assert_eq!(typed, json!("🌹"), "the emoji is in the composer");
        b.exec("document.querySelector('.emoji-search').dispatchEvent(new KeyboardEvent('keydown', {key: 'Escape', bubbles: true}));", json!([])).await;
        b.exec("document.querySelector('#composer-text').value = ''; document.querySelector('#composer-text').dispatchEvent(new Event('input'));", json!([])).await;

        // An image pasted into the composer (a screenshot), then a document dropped on the
        // thread: each becomes the attachment and is sent.
        use base64::Engine as _;
        let pasted = base64::engine::general_purpose::STANDARD.encode(&png_bytes);
        b.exec(
            "const bytes = Uint8Array.from(atob(arguments[0]), c => c.charCodeAt(0)); \
             const dt = new DataTransfer(); dt.items.add(new File([bytes], 'pasted.png', {type: 'image/png'})); \
             document.querySelector('#composer-text').dispatchEvent(new ClipboardEvent('paste', {clipboardData: dt, bubbles: true, cancelable: true}));",
            json!([pasted]),
        )
        .await;
        b.wait_for(".attachment").await;
        b.click("[data-action=send]").await;
        b.wait_until(
            "the pasted image to be sent",
            "return document.querySelectorAll(arguments[0] + ':not([data-status=pending]):not([data-status=failed])').length === 2;",
            json!([image]),
        )
        .await;
        let pdf =
            "%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";
        b.exec(
            "const dt = new DataTransfer(); dt.items.add(new File([arguments[0]], 'فاتورة-1042.pdf', {type: 'application/pdf'})); \
             const thread = document.querySelector('.thread'); \
             thread.dispatchEvent(new DragEvent('dragenter', {dataTransfer: dt, bubbles: true, cancelable: true})); \
             thread.dispatchEvent(new DragEvent('drop', {dataTransfer: dt, bubbles: true, cancelable: true}));",
            json!([pdf]),
        )
        .await;
        b.wait_for(".attachment .file-name").await;
        b.click("[data-action=send]").await;
        let document = ".bubble[data-direction=outgoing][data-type=document]";
        b.wait_until(
            "the dropped document to be sent, its name read left to right, its type shown",
            "const d = document.querySelector(arguments[0] + ':not([data-status=pending]):not([data-status=failed])'); \
             const name = d?.querySelector('.file-name'); \
             return !!name && name.dir === 'ltr' && name.textContent === 'فاتورة-1042.pdf' \
               && d.querySelector('.doc-type')?.textContent === 'PDF';",
            json!([document]),
        )
        .await;
        b.wait_until(
            "the chat list's preview to show the file name left to right",
            "const n = document.querySelector(arguments[0] + ' .conv-text .file-name'); \
             return !!n && n.dir === 'ltr' && n.textContent === 'فاتورة-1042.pdf';",
            json!([item]),
        )
        .await;

        if self.viewport == Viewport::Desktop {
            // After a reload the image comes from the media endpoint, with the token.
            b.goto(&self.server.url("/dashboard/whatsapp/chat")).await;
            b.click(&item).await;
            b.wait_until(
                "the stored image to load from the media endpoint",
                "const i = document.querySelector(arguments[0] + ' img'); \
                 return !!i && i.src.startsWith('blob:') && i.complete && i.naturalWidth > 0;",
                json!([image]),
            )
            .await;
        } else {
            b.click("[data-action=back]").await;
            b.wait_for(&item).await;
            b.screenshot(&self.shot("chats")).await;
        }
    }
}

/// A real 48×48 PNG (a green square with a lighter band) in a fresh temp file.
pub(super) fn small_png() -> PathBuf {
    let path = std::env::temp_dir().join(format!("wasl-{}.png", uuid::Uuid::now_v7().simple()));
    let file = std::fs::File::create(&path).expect("create the PNG");
    let mut encoder = png::Encoder::new(std::io::BufWriter::new(file), 48, 48);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().expect("PNG header");
    let mut data = Vec::with_capacity(48 * 48 * 3);
    for y in 0..48u8 {
        for _ in 0..48 {
            if (16..32).contains(&y) {
                data.extend_from_slice(&[127, 211, 179]);
            } else {
                data.extend_from_slice(&[15, 122, 95]);
            }
        }
    }
    writer.write_image_data(&data).expect("PNG data");
    path
}
