//! The path a new organization takes through the dashboard: register, link a sandbox number,
//! answer a customer with text and an image, watch receipts arrive, tag the contact, read the
//! stats. Each step says what it waits for, so a failure names the missing behaviour.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::server::{self, TestServer};
use crate::webdriver::Browser;

mod automation;
mod broadcasts;
mod chat;
mod history;
mod hours;
mod inbox;
mod replies;
mod scheduled;

/// How new messages reach the page: the live events WebSocket when the server offers it, or
/// polling when the browser cannot open one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Live {
    Events,
    Polling,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Viewport {
    Desktop,
    Phone,
}

const CUSTOMER: &str = "966501234567";
const SESSION: &str = "sales";
const ENTER: &str = "\u{E007}";

struct Words {
    org: &'static str,
    customer_name: &'static str,
    first_message: &'static str,
    reply: &'static str,
    customer_reply: &'static str,
    caption: &'static str,
    tag: &'static str,
}

fn words(lang: &str) -> Words {
    if lang == "ar" {
        Words {
            org: "متجر الورد",
            customer_name: "أحمد",
            first_message: "السلام عليكم، هل الورد الأحمر متوفر؟",
            reply: "وعليكم السلام! نعم متوفر، والتوصيل اليوم.",
            customer_reply: "ممتاز، شكراً جزيلاً",
            caption: "صورة الباقة",
            tag: "عميل",
        }
    } else {
        Words {
            org: "Rose Shop",
            customer_name: "Ahmed",
            first_message: "Hello, are the red roses in stock?",
            reply: "Hi! Yes they are, with delivery today.",
            customer_reply: "Great, thank you!",
            caption: "The bouquet",
            tag: "customer",
        }
    }
}

struct Journey {
    server: TestServer,
    browser: Browser,
    lang: &'static str,
    viewport: Viewport,
    words: Words,
    token: String,
    email: String,
    live: Live,
}

pub async fn run(lang: &'static str, viewport: Viewport, live: Live) {
    let server = server::spawn().await;
    let (w, h) = match viewport {
        Viewport::Desktop => (1280, 900),
        Viewport::Phone => (390, 844),
    };
    let browser = Browser::start(w, h, viewport == Viewport::Phone).await;
    if live == Live::Polling {
        browser.without_websocket().await;
    }
    let mut j = Journey {
        server,
        browser,
        lang,
        viewport,
        words: words(lang),
        token: String::new(),
        email: String::new(),
        live,
    };
    j.step("sign up").await;
    j.sign_up().await;
    j.step("link a sandbox session").await;
    j.link_session().await;
    j.step("a customer writes").await;
    j.customer_writes().await;
    j.step("chat").await;
    j.chat().await;
    j.step("replies, reactions and search").await;
    j.replies().await;
    j.step("inbox").await;
    j.inbox().await;
    j.step("contacts").await;
    j.contacts().await;
    j.step("stats").await;
    j.stats().await;
    j.step("settings").await;
    j.settings().await;
    j.step("business hours").await;
    j.business_hours().await;
    j.step("automation").await;
    j.automation().await;
    j.step("scheduled messages").await;
    j.scheduled().await;
    j.step("broadcasts").await;
    j.broadcasts().await;
    j.step("keyboard only").await;
    j.keyboard_only().await;
    if viewport == Viewport::Desktop {
        j.step("a 10,000-message history").await;
        j.long_history().await;
    }
    j.step("a chat list of 500 conversations").await;
    j.long_chat_list().await;
    j.step("disconnect").await;
    j.disconnect().await;
    j.step("change the password").await;
    j.change_password().await;
    j.step("translations").await;
    j.translations().await;
    j.step("sign out").await;
    j.sign_out().await;
    j.browser.quit().await;
}

impl Journey {
    async fn step(&self, name: &str) {
        eprintln!("[{} {:?}] {name}", self.lang, self.viewport);
    }

    fn shot(&self, page: &str) -> String {
        match self.viewport {
            Viewport::Desktop => format!("{page}-{}", self.lang),
            Viewport::Phone => format!("{page}-{}-mobile", self.lang),
        }
    }

    async fn api(&self, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        self.server
            .call(method, path, &self.token, body, self.lang)
            .await
    }

    async fn sign_up(&mut self) {
        let b = &self.browser;
        b.goto(&self.server.url("/")).await;
        b.wait_for("#login-form").await;
        let dir = b
            .exec("return document.documentElement.dir;", json!([]))
            .await;
        assert_eq!(dir, json!("rtl"), "Arabic, right to left, is the default");
        if self.lang == "en" {
            b.click("[data-action=toggle-lang]").await;
            b.wait_until(
                "the page to switch to English",
                "return document.documentElement.lang === 'en' && document.documentElement.dir === 'ltr' \
                 && !!document.querySelector('#login-form');",
                json!([]),
            )
            .await;
        }
        if self.viewport == Viewport::Phone {
            let width = b.exec("return window.innerWidth;", json!([])).await;
            assert!(
                width.as_i64().is_some_and(|w| w <= 400),
                "phone-sized window, got {width}"
            );
        }

        // A wrong password: the toast shows the API's own message in the UI's language.
        b.fill("#login-form input[name=email]", "nobody@example.com")
            .await;
        b.fill("#login-form input[name=password]", "not the password")
            .await;
        b.click("#login-form button[type=submit]").await;
        b.wait_for(".toast-error").await;
        let res = self
            .server
            .client
            .post(self.server.url("/api/v1/auth/login"))
            .header("accept-language", self.lang)
            .json(&json!({"email": "nobody@example.com", "password": "not the password"}))
            .send()
            .await
            .expect("login call");
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        let body: Value = res.json().await.expect("JSON");
        let expected = body["message"].as_str().expect("message").to_owned();
        let toasts = b.toasts().await;
        assert!(
            toasts.iter().any(|t| t.contains(&expected)),
            "the error toast shows the API's localized message {expected:?}; toasts: {toasts:?}"
        );
        b.screenshot(&self.shot("login")).await;

        b.click("[data-action=go-register]").await;
        b.wait_for("#register-form").await;
        b.fill(
            "#register-form input[name=organizationName]",
            self.words.org,
        )
        .await;
        b.fill(
            "#register-form input[name=name]",
            if self.lang == "ar" {
                "سارة"
            } else {
                "Sara"
            },
        )
        .await;
        let email = format!("owner-{}@example.com", uuid::Uuid::now_v7().simple());
        self.email = email.clone();
        b.fill("#register-form input[name=email]", &email).await;
        b.fill("#register-form input[name=password]", "a long password")
            .await;
        b.screenshot(&self.shot("register")).await;
        b.click("#register-form button[type=submit]").await;
        // Signing up lands on the chats, with nothing linked yet, and the wrong-password
        // error from before is gone.
        b.wait_for("a[data-nav=chat].active").await;
        b.wait_for("[data-action=go-link]").await;
        let stale = b.toasts().await;
        assert!(
            stale.is_empty(),
            "no toast left from before signing in: {stale:?}"
        );
        b.click("[data-action=go-link]").await;
        b.wait_for(".page-head [data-action=new-session]").await;
        let token = b
            .exec("return localStorage.getItem('wasl.token');", json!([]))
            .await;
        self.token = token.as_str().expect("a token in localStorage").to_owned();
        let lang = b
            .exec("return document.documentElement.lang;", json!([]))
            .await;
        assert_eq!(lang, json!(self.lang), "the language choice persists");
    }

    async fn link_session(&self) {
        let b = &self.browser;
        if self.live == Live::Polling {
            let mode = b
                .exec(
                    "return document.querySelector('.live-badge')?.dataset.live;",
                    json!([]),
                )
                .await;
            assert_eq!(mode, json!("off"), "without WebSocket the page polls");
        }
        b.wait_for(".session-grid .empty").await;
        b.click(".page-head [data-action=new-session]").await;
        b.fill("#new-session-form input[name=sessionName]", SESSION)
            .await;
        b.click("#new-session-form input[name=engine][value=sandbox]")
            .await;
        b.click("#new-session-form button[type=submit]").await;
        b.wait_until(
            "the pairing QR image",
            "const i = document.querySelector('#pair-qr img'); \
             return !!i && i.src.startsWith('data:image/png') && i.complete && i.naturalWidth > 0;",
            json!([]),
        )
        .await;
        b.screenshot(&self.shot("qr")).await;

        b.fill(
            "dialog form[data-form=sandbox-scan] input[name=phoneNumber]",
            "+966 55 000 1234",
        )
        .await;
        b.click("dialog form[data-form=sandbox-scan] button[type=submit]")
            .await;
        b.wait_until(
            "the dialog to show the connected number",
            "const p = document.querySelector('.pair[data-state=connected] .pair-phone'); \
             return !!p && p.innerText.replace(/\\D/g, '') === '966550001234';",
            json!([]),
        )
        .await;
        b.click("[data-action=pair-done]").await;
        b.wait_until(
            "the dialog to close",
            "return !document.querySelector('dialog[open]');",
            json!([]),
        )
        .await;
        b.wait_for(&format!(
            ".session-card[data-session={SESSION}][data-status=connected]"
        ))
        .await;
        let status = b
            .text(&format!(".session-card[data-session={SESSION}] .badge"))
            .await;
        assert!(
            status == "متصلة" || status == "Connected",
            "status badge: {status}"
        );
        b.screenshot(&self.shot("sessions")).await;

        // A second session is beyond the free plan: the error shows above the dialog that
        // asked for it, where it can be read and closed.
        b.click(".page-head [data-action=new-session]").await;
        b.fill("#new-session-form input[name=sessionName]", "second")
            .await;
        b.click("#new-session-form input[name=engine][value=sandbox]")
            .await;
        b.click("#new-session-form button[type=submit]").await;
        b.wait_for(".toast-error").await;
        let on_top = b
            .exec(
                "const toast = document.querySelector('.toast-error'); const r = toast.getBoundingClientRect(); \
                 const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2); \
                 return (!!document.querySelector('dialog[open]') && toast.contains(hit)) || `under ${hit?.tagName}`;",
                json!([]),
            )
            .await;
        assert_eq!(
            on_top,
            json!(true),
            "the plan-limit toast is above the open dialog"
        );
        b.screenshot_as_is(&self.shot("plan-limit")).await;
        b.exec("document.querySelector('dialog[open]').close();", json!([]))
            .await;
    }

    async fn customer_writes(&self) {
        let b = &self.browser;
        let form = format!(".session-card[data-session={SESSION}] form[data-form=simulate]");
        b.fill(&format!("{form} input[name=from]"), &format!("+{CUSTOMER}"))
            .await;
        b.fill(
            &format!("{form} input[name=pushName]"),
            self.words.customer_name,
        )
        .await;
        b.fill(
            &format!("{form} input[name=text]"),
            self.words.first_message,
        )
        .await;
        b.click(&format!("{form} button[type=submit]")).await;
        b.wait_for(".toast-success").await;
    }

    async fn contacts(&self) {
        let b = &self.browser;
        b.click("a[data-nav=contacts]").await;
        let row = format!(".contact-row[data-phone='{CUSTOMER}']");
        b.wait_for(&row).await;
        b.click(&row).await;
        b.wait_for("#contact-form").await;
        b.fill("#contact-form input[name=tag]", &format!("VIP{ENTER}"))
            .await;
        b.fill(
            "#contact-form input[name=tag]",
            &format!("{}{ENTER}", self.words.tag),
        )
        .await;
        b.fill("#contact-form input[name=relatedCustomer]", "CRM-1042")
            .await;
        b.click("#contact-form button[type=submit]").await;
        b.wait_until(
            "the tags on the contact's row",
            "const r = document.querySelector(arguments[0]); if (!r || document.querySelector('dialog[open]')) return false; \
             const chips = [...r.querySelectorAll('.chip')].map(c => c.innerText.trim()); \
             return chips.includes('VIP') && chips.includes(arguments[1]);",
            json!([row, self.words.tag]),
        )
        .await;
        let (status, body) = self.customer_contacts().await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let contact = &body["data"]["contacts"][0];
        assert_eq!(
            contact["tags"],
            json!(["VIP", self.words.tag]),
            "tags kept as typed: {body}"
        );
        assert_eq!(contact["relatedCustomer"], json!("CRM-1042"), "{body}");
        b.screenshot(&self.shot("contacts")).await;

        // Search by tag finds the contact.
        b.fill(".page-head .search-input", self.words.tag).await;
        b.wait_until(
            "the tag search to find the contact",
            "return document.querySelectorAll('.contact-row:not(.contact-header)').length === 1 \
             && !!document.querySelector(arguments[0]);",
            json!([row]),
        )
        .await;

        // A blocked contact's chat cannot send, and unblocks right there.
        let (_, body) = self.customer_contacts().await;
        let id = body["data"]["contacts"][0]["id"]
            .as_str()
            .expect("contact id")
            .to_owned();
        let path = format!("/api/v1/whatsapp/contacts/{id}");
        let (status, body) = self
            .api(Method::PUT, &path, Some(json!({"isBlocked": true})))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        // From the contact to its chat.
        b.click(&row).await;
        b.wait_for("#contact-form").await;
        b.click("dialog [data-action=open-chat]").await;
        b.wait_for(&format!(
            ".thread[data-phone='{CUSTOMER}'] .thread-banner [data-action=unblock]"
        ))
        .await;
        let disabled = b
            .exec(
                "return document.querySelector('#composer-text').disabled;",
                json!([]),
            )
            .await;
        assert_eq!(
            disabled,
            json!(true),
            "the composer is off for a blocked contact"
        );
        b.click(".thread-banner [data-action=unblock]").await;
        b.wait_until(
            "the composer to come back",
            "return !document.querySelector('#composer-text').disabled \
             && document.querySelector('.thread-banner').hidden;",
            json!([]),
        )
        .await;
        let (_, body) = self.customer_contacts().await;
        assert_eq!(
            body["data"]["contacts"][0]["isBlocked"],
            json!(false),
            "{body}"
        );
        // The contact beside the thread: its tags and CRM id, and blocking from there.
        b.click("[data-action=contact-info]").await;
        b.wait_until(
            "the contact panel with the tags and the CRM id",
            "const p = document.querySelector('.contact-panel:not([hidden])'); \
             return !!p && p.innerText.includes('VIP') && p.innerText.includes('CRM-1042');",
            json!([]),
        )
        .await;
        b.screenshot(&self.shot("contact-panel")).await;
        b.click(".contact-panel [data-action=panel-block]").await;
        b.wait_for(".contact-panel [data-action=panel-unblock]")
            .await;
        b.wait_for(".thread-banner [data-action=unblock]").await;
        b.click(".contact-panel [data-action=panel-unblock]").await;
        b.wait_for(".contact-panel [data-action=panel-block]").await;
        b.click(".contact-panel [data-action=close-contact]").await;
        self.leave_thread().await;
    }

    /// The organization's default country, chosen in the settings, reads a local number.
    async fn settings(&self) {
        let b = &self.browser;
        b.click("a[data-nav=settings]").await;
        b.wait_for("#organization-form select[name=defaultCountry]")
            .await;
        // The options are named in the UI's language, with their calling codes.
        let saudi = b
            .exec(
                "return document.querySelector('#organization-form option[value=SA]')?.textContent;",
                json!([]),
            )
            .await;
        let expected = if self.lang == "ar" {
            "السعودية"
        } else {
            "Saudi Arabia"
        };
        assert!(
            saudi
                .as_str()
                .is_some_and(|s| s.contains(expected) && s.contains("+966")),
            "Saudi Arabia's option: {saudi}"
        );
        b.exec(
            "const s = document.querySelector('#organization-form select[name=defaultCountry]'); \
             s.value = 'SA'; s.dispatchEvent(new Event('change', {bubbles: true}));",
            json!([]),
        )
        .await;
        b.screenshot(&self.shot("settings")).await;
        self.check_contrast(
            "the settings",
            &[
                ".field-hint",
                ".field-label",
                ".muted",
                ".page-head p",
                ".nav-item",
                "h2",
            ],
        )
        .await;
        b.click("#organization-form button[type=submit]").await;
        b.wait_for(".toast-success").await;
        let (status, body) = self.api(Method::GET, "/api/v1/organization", None).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(
            body["data"]["organization"]["defaultCountry"],
            json!("SA"),
            "{body}"
        );

        // A name the API refuses is shown beside its field, in the UI's language.
        b.exec(
            "document.querySelector('#organization-form input[name=name]').value = '   ';",
            json!([]),
        )
        .await;
        b.click("#organization-form button[type=submit]").await;
        let shown = b
            .wait_until(
                "the name's error beside its field",
                "const e = document.querySelector('[data-error-for=name]'); \
                 return e && e.textContent.trim() ? e.textContent : false;",
                json!([]),
            )
            .await;
        let own_language = if self.lang == "ar" {
            "الحقل"
        } else {
            "field"
        };
        assert!(
            shown.as_str().is_some_and(|s| s.contains(own_language)),
            "{shown}"
        );

        // A new chat to a number as a Saudi writes it reaches its E.164 form.
        self.new_chat("0551112233").await;
        b.fill("#composer-text", self.words.reply).await;
        b.click("[data-action=send]").await;
        b.wait_until(
            "the local number's message to be sent",
            "return !!document.querySelector('.bubble[data-direction=outgoing][data-status]:not([data-status=failed]):not([data-status=pending])');",
            json!([]),
        )
        .await;
        self.check_contrast(
            "a thread",
            &[
                ".meta time",
                ".tick",
                ".day-sep span",
                ".thread-who small",
                ".msg-text",
            ],
        )
        .await;
        // A phone shows the list or the thread: the list is checked once back on it.
        self.leave_thread().await;
        self.check_contrast(
            "the chat list",
            &[
                ".unread-badge",
                ".conv-time",
                ".conv-text",
                ".conv-name",
                ".status-tab",
                ".search-input",
            ],
        )
        .await;
        let (_, body) = self
            .api(
                Method::GET,
                "/api/v1/whatsapp/messages?contact=966551112233",
                None,
            )
            .await;
        assert_eq!(
            body["data"]["messages"].as_array().map(Vec::len),
            Some(1),
            "{body}"
        );

        // A send that fails stays, says why, and survives a reload until deleted.
        self.new_chat("12").await;
        b.fill("#composer-text", "x").await;
        b.click("[data-action=send]").await;
        b.wait_for(".msg-error [data-action=retry]").await;
        let reason = b.text(".msg-error").await;
        let expected = if self.lang == "ar" {
            "رقم الهاتف غير صالح"
        } else {
            "The phone number is not valid"
        };
        assert!(
            reason.contains(expected),
            "the failure says why: {reason:?}"
        );
        b.click(".msg-error [data-action=retry]").await;
        b.wait_for(".msg-error [data-action=retry]").await;
        b.goto(&self.server.url("/dashboard/whatsapp/chats")).await;
        self.new_chat("12").await;
        b.wait_for(".msg-error [data-action=discard]").await;
        b.click(".msg-error [data-action=discard]").await;
        b.wait_until(
            "the failed message to be deleted",
            "return !document.querySelector('.msg-error');",
            json!([]),
        )
        .await;
        let (_, body) = self
            .api(
                Method::GET,
                "/api/v1/whatsapp/messages?direction=outgoing&limit=100",
                None,
            )
            .await;
        assert!(
            body["data"]["messages"]
                .as_array()
                .expect("messages")
                .iter()
                .all(|m| m["to"] != json!("12")),
            "a refused send stored nothing: {body}"
        );
        self.leave_thread().await;
        self.dark_mode().await;
    }

    /// Dark mode, chosen in the settings: every page keeps AA contrast, and "follow the
    /// system" brings back what the system prefers (light, in this browser).
    async fn dark_mode(&self) {
        let b = &self.browser;
        let theme = || b.exec("return document.documentElement.dataset.theme;", json!([]));
        assert_eq!(
            theme().await,
            json!("light"),
            "the system's light theme by default"
        );
        b.click("a[data-nav=settings]").await;
        b.click("#appearance-settings input[value=dark]").await;
        assert_eq!(theme().await, json!("dark"));
        self.check_contrast(
            "the settings, dark",
            &[".field-label", ".muted", ".choice-title", ".nav-item", "h2"],
        )
        .await;
        b.click("a[data-nav=chat]").await;
        b.wait_for(".conv-item").await;
        self.check_contrast(
            "the chat list, dark",
            &[
                ".unread-badge",
                ".conv-time",
                ".conv-text",
                ".conv-name",
                ".status-tab",
            ],
        )
        .await;
        b.click(&format!(".conv-item[data-phone='{CUSTOMER}']"))
            .await;
        b.wait_for(".bubble[data-direction=incoming]").await;
        self.check_contrast(
            "a thread, dark",
            &[
                ".meta time",
                ".tick",
                ".day-sep span",
                ".msg-text",
                ".quote-who",
                ".quote-text",
                ".thread-who small",
            ],
        )
        .await;
        b.screenshot(&self.shot("chat-dark")).await;
        // Kept across a reload, in this browser.
        b.goto(&self.server.url("/dashboard/whatsapp/chats")).await;
        b.wait_for(".conv-item").await;
        assert_eq!(theme().await, json!("dark"));
        self.leave_thread().await;
        b.click("a[data-nav=settings]").await;
        b.click("#appearance-settings input[value=system]").await;
        assert_eq!(theme().await, json!("light"));
    }

    /// Every visible text (and tick) of `selectors` meets WCAG AA contrast against what is
    /// behind it, by the browser's computed colours: 4.5:1 for text, 3:1 for large text and
    /// for graphics such as the ticks.
    async fn check_contrast(&self, page: &str, selectors: &[&str]) {
        let failures = self
            .browser
            .exec(
                r#"
const parse = (c) => { const v = (c.match(/[\d.]+/g) || []).map(Number); return { r: v[0] ?? 0, g: v[1] ?? 0, b: v[2] ?? 0, a: v.length > 3 ? v[3] : 1 }; };
const over = (top, under) => ({ r: top.r * top.a + under.r * (1 - top.a), g: top.g * top.a + under.g * (1 - top.a), b: top.b * top.a + under.b * (1 - top.a), a: 1 });
const behind = (el) => {
  const layers = [];
  for (let e = el; e; e = e.parentElement) {
    const bg = parse(getComputedStyle(e).backgroundColor);
    if (bg.a > 0) layers.push(bg);
    if (bg.a >= 1) break;
  }
  return layers.reverse().reduce((under, top) => over(top, under), { r: 255, g: 255, b: 255, a: 1 });
};
const lum = ({ r, g, b }) => [r, g, b].map((v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; })
  .reduce((sum, v, i) => sum + v * [0.2126, 0.7152, 0.0722][i], 0);
const ratio = (a, b) => { const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p); return (x + 0.05) / (y + 0.05); };
const out = [];
const unseen = [];
for (const sel of arguments[0]) {
  let seen = 0;
  for (const el of document.querySelectorAll(sel)) {
    if (!el.getClientRects().length || getComputedStyle(el).visibility === 'hidden') continue;
    seen += 1;
    const style = getComputedStyle(el);
    const bg = behind(el);
    const fg = over(parse(style.color), bg);
    const size = parseFloat(style.fontSize), bold = Number(style.fontWeight) >= 700;
    const graphic = el.matches('.tick, svg');
    const need = graphic || size >= 24 || (bold && size >= 18.66) ? 3 : 4.5;
    const got = ratio(fg, bg);
    if (got < need) out.push(`${sel} "${(el.textContent || '').trim().slice(0, 30)}": ${got.toFixed(2)}:1 < ${need}:1 (${style.color} on rgb(${[bg.r, bg.g, bg.b].map(Math.round)}))`);
  }
  if (!seen) unseen.push(sel);
}
return { failures: [...new Set(out)], unseen };
"#,
                json!([selectors]),
            )
            .await;
        assert_eq!(
            failures["failures"],
            json!([]),
            "{page}: colours below WCAG AA"
        );
        // What the check is about must be on the page, or it checked nothing.
        assert_eq!(
            failures["unseen"],
            json!([]),
            "{page}: nothing to check for these selectors"
        );
    }

    /// The chat without a mouse: arrow keys walk the list, Enter opens a conversation with
    /// the composer focused, Enter sends.
    async fn keyboard_only(&self) {
        let b = &self.browser;
        self.leave_thread().await;
        b.click("a[data-nav=chat]").await;
        b.wait_for(".conv-item + .conv-item").await;
        let first = b.find(".conv-item").await.expect("a conversation");
        b.send_keys(&first, "\u{E015}").await.expect("arrow down");
        let moved = b
            .exec(
                "return document.activeElement === document.querySelectorAll('.conv-item')[1];",
                json!([]),
            )
            .await;
        assert_eq!(
            moved,
            json!(true),
            "the down arrow moves to the next conversation"
        );
        let focused = b
            .find(".conv-item:focus")
            .await
            .expect("the focused conversation");
        b.send_keys(&focused, ENTER).await.expect("enter");
        b.wait_until(
            "the composer to take the focus",
            "return document.activeElement?.id === 'composer-text';",
            json!([]),
        )
        .await;
        let composer = b.find("#composer-text").await.expect("the composer");
        let text = if self.lang == "ar" {
            "أرسلت من لوحة المفاتيح"
        } else {
            "sent from the keyboard"
        };
        b.send_keys(&composer, &format!("{text}{ENTER}"))
            .await
            .expect("type and send");
        b.wait_until(
            "the typed message to be sent",
            "return [...document.querySelectorAll('.bubble[data-direction=outgoing] .msg-text')].some(p => p.textContent === arguments[0]);",
            json!([text]),
        )
        .await;
        self.leave_thread().await;
    }

    /// The contacts the API finds by the customer's number.
    async fn customer_contacts(&self) -> (StatusCode, Value) {
        self.api(
            Method::GET,
            &format!("/api/v1/whatsapp/contacts?search={CUSTOMER}"),
            None,
        )
        .await
    }

    /// Back from a thread to the list: a phone shows one of them, and the thread hides the
    /// navigation.
    async fn leave_thread(&self) {
        let b = &self.browser;
        let in_thread = b
            .exec(
                "return document.body.classList.contains('in-thread');",
                json!([]),
            )
            .await;
        if self.viewport == Viewport::Phone && in_thread == json!(true) {
            b.click("[data-action=back]").await;
            b.wait_until(
                "the list to show",
                "return !document.body.classList.contains('in-thread');",
                json!([]),
            )
            .await;
        }
    }

    /// Opens a new chat from the chat page with a number as typed.
    async fn new_chat(&self, to: &str) {
        let b = &self.browser;
        self.leave_thread().await;
        b.click("a[data-nav=chat]").await;
        b.wait_for("[data-action=new-chat]").await;
        b.click("[data-action=new-chat]").await;
        b.fill("#new-chat-form input[name=to]", to).await;
        b.click("#new-chat-form button[type=submit]").await;
        b.wait_for("#composer-text").await;
    }

    async fn stats(&self) {
        let b = &self.browser;
        b.click("a[data-nav=stats]").await;
        let (status, body) = self.api(Method::GET, "/api/v1/whatsapp/stats", None).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let stats = &body["data"];
        // The customer of the chat step and the one who wrote in the inbox step.
        assert_eq!(stats["totalContacts"], json!(2), "{body}");
        assert!(
            stats["totalMessages"].as_i64().is_some_and(|n| n >= 4),
            "{body}"
        );
        for key in ["totalMessages", "totalContacts", "activeSessions"] {
            b.wait_until(
                &format!("the {key} card to show {}", stats[key]),
                "const v = document.querySelector(`.stat-card[data-stat=${arguments[0]}] .stat-value`); \
                 return !!v && v.innerText.trim() === String(arguments[1]);",
                json!([key, stats[key]]),
            )
            .await;
        }
        b.wait_until(
            "bars in the messages-per-day chart",
            "return document.querySelectorAll('svg.chart rect.bar').length > 0;",
            json!([]),
        )
        .await;
        b.screenshot(&self.shot("stats")).await;
    }

    async fn disconnect(&self) {
        let b = &self.browser;
        let card = format!(".session-card[data-session={SESSION}]");
        // The pages share what they know of the sessions: the sessions page shows the cards
        // as it opens, before any read of its own could have come back.
        let shown_at_once = b
            .exec(
                "document.querySelector('a[data-nav=sessions]').click(); \
                 return !!document.querySelector(arguments[0]);",
                json!([card]),
            )
            .await;
        assert_eq!(
            shown_at_once,
            json!(true),
            "the sessions page starts from the shared list of sessions"
        );
        b.click(&format!("{card} [data-action=disconnect]")).await;
        b.click("dialog [data-action=confirm]").await;
        b.wait_for(&format!(
            "{card}[data-status=logged_out] [data-action=relink]"
        ))
        .await;
        let (_, body) = self
            .api(
                Method::GET,
                &format!("/api/v1/whatsapp/sessions/{SESSION}/status"),
                None,
            )
            .await;
        // Why, in the UI's language (the engine's English words only in the tooltip).
        let session = &body["data"]["session"];
        assert_eq!(session["lastDisconnectCode"], json!("logged_out"), "{body}");
        let shown = b.text(&format!("{card} .reason")).await;
        let explained = if self.lang == "ar" {
            "خرج الرقم"
        } else {
            "was logged out"
        };
        assert!(
            shown.contains(explained),
            "the card explains why: {shown:?}"
        );
        assert!(
            !shown.contains("logged out") || self.lang == "en",
            "no raw English: {shown:?}"
        );

        // The chat with the session down: the composer says why and offers the way back.
        b.click("a[data-nav=chat]").await;
        let item = format!(".conv-item[data-phone='{CUSTOMER}']");
        b.wait_for(&item).await;
        b.click(&item).await;
        b.wait_for(".thread-banner [data-action=reconnect]").await;
        let disabled = b
            .exec("return document.querySelector('#composer-text').disabled && document.querySelector('[data-action=send]').disabled;", json!([]))
            .await;
        assert_eq!(
            disabled,
            json!(true),
            "nothing can be sent while the session is logged out"
        );
        b.screenshot(&self.shot("chat-session-down")).await;
        b.click(".thread-banner [data-action=reconnect]").await;
        b.wait_for(&format!("{card} [data-action=relink]")).await;

        // A logged-out session can be deleted for good, after saying what goes with it.
        b.click(&format!("{card} [data-action=delete-session]"))
            .await;
        let warning = b.text("dialog .dialog-text").await;
        assert!(
            warning.contains(SESSION),
            "the dialog names the session: {warning:?}"
        );
        b.click("dialog [data-action=confirm]").await;
        b.wait_until(
            "the deleted session's card to go",
            "return !document.querySelector(arguments[0]);",
            json!([card]),
        )
        .await;
        let (_, body) = self
            .api(Method::GET, "/api/v1/whatsapp/sessions", None)
            .await;
        assert_eq!(body["data"]["sessions"], json!([]), "{body}");
    }

    /// A new password from the dashboard: this page keeps working with the new token it gets,
    /// the sign-in of "another device" ends.
    async fn change_password(&mut self) {
        let b = &self.browser;
        let (status, other) = self
            .server
            .call(
                Method::POST,
                "/api/v1/auth/login",
                "",
                Some(json!({"email": self.email, "password": "a long password"})),
                self.lang,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{other}");
        let other_device = other["data"]["token"].as_str().expect("token").to_owned();
        let button = match self.viewport {
            Viewport::Desktop => "[data-action=change-password]",
            Viewport::Phone => "[data-action=change-password-compact]",
        };
        b.click(button).await;
        b.wait_for("#password-form").await;
        b.fill(
            "#password-form input[name=currentPassword]",
            "a long password",
        )
        .await;
        b.fill(
            "#password-form input[name=newPassword]",
            "an even longer password",
        )
        .await;
        b.screenshot(&self.shot("password")).await;
        b.click("#password-form button[type=submit]").await;
        b.wait_for(".toast-success").await;
        let token = b
            .exec("return localStorage.getItem('wasl.token');", json!([]))
            .await;
        let token = token.as_str().expect("a token").to_owned();
        assert_ne!(token, self.token, "the page got a new token");
        for (old, who) in [
            (&self.token, "this page's old token"),
            (&other_device, "another device"),
        ] {
            let (status, _) = self
                .server
                .call(Method::GET, "/api/v1/auth/me", old, None, self.lang)
                .await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{who} no longer works");
        }
        self.token = token;
        // The page goes on with the new token.
        b.click("a[data-nav=contacts]").await;
        b.wait_for("[data-route=contacts]").await;
        let (status, _) = self.api(Method::GET, "/api/v1/auth/me", None).await;
        assert_eq!(status, StatusCode::OK);
    }

    async fn sign_out(&self) {
        let b = &self.browser;
        let button = match self.viewport {
            Viewport::Desktop => "[data-action=logout]",
            Viewport::Phone => "[data-action=logout-compact]",
        };
        b.click(button).await;
        b.wait_for("#login-form").await;
        let token = b
            .exec("return localStorage.getItem('wasl.token');", json!([]))
            .await;
        assert_eq!(token, Value::Null, "signing out forgets the token");
        let (status, _) = self.api(Method::GET, "/api/v1/auth/me", None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "and the server ended it");
    }

    async fn translations(&self) {
        let v = self
            .browser
            .exec(
                "const i = window.__waslI18n; return {missing: [...i.missing], ar: i.keys.ar, en: i.keys.en};",
                json!([]),
            )
            .await;
        assert_eq!(v["missing"], json!([]), "labels without a translation");
        let mut ar: Vec<String> = serde_json::from_value(v["ar"].clone()).expect("keys");
        let mut en: Vec<String> = serde_json::from_value(v["en"].clone()).expect("keys");
        ar.sort();
        en.sort();
        assert_eq!(ar, en, "Arabic and English cover the same labels");
        let errors = self
            .browser
            .exec("return window.__waslErrors;", json!([]))
            .await;
        assert_eq!(
            errors,
            json!([]),
            "uncaught errors or Content-Security-Policy violations"
        );
    }
}
