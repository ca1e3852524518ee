//! The tenant isolation sweep (SPEC §2: "no request can read or change another organization's
//! data: cross-tenant access answers 404"). Organization A gets real data of every kind; then
//! organization B calls every route of the served OpenAPI document, with A's ids, names and
//! numbers in the path, the query and the body, once with a sign-in token and once with an API
//! key. B must get 404 (403 where its role may not use the route, 401 on the platform admin's
//! routes), empty lists, and never any of A's data; afterwards A's data is exactly as it was.
//!
//! The routes come from the document itself, so a new route is swept without anyone
//! remembering it; a route whose path parameters, query parameters or body the sweep does not
//! know fails the test until the sweep is extended.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use hmac::{Hmac, Mac};
use reqwest::multipart::{Form, Part};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use sha2::Sha256;

use crate::helpers::{error_envelope_problem, Account, Reply, TestApp};
use crate::messaging::{linked, png_bytes};
use crate::on_both_databases;

const SESSION_PHONE: &str = "966500007001";
const CUSTOMER_IN: &str = "966551237001";
const CUSTOMER_OUT: &str = "966551237002";
const CONTACT_NAME: &str = "ليلى المطيري";
const TEXT_IN: &str = "سر المؤسسة أ: الطلب 7781 يصل الخميس";
const CAPTION_IN: &str = "صورة الإيصال السرية";
const TEXT_OUT: &str = "عرض خاص للمؤسسة أ بخصم 40٪";
const DOC_NAME: &str = "عقد-المؤسسة-أ.pdf";
const DOC_CAPTION: &str = "العقد الموقع مع ليلى";
const NOTES: &str = "ملاحظة سرية عن ليلى";
const TAG: &str = "vip-org-a";
const LINKED_CUSTOMER: &str = "crm-a-99117";
const HOOK_PATH: &str = "/crm/org-a-hook-5f1c";
const KEY_NAME: &str = "مفتاح نظام المؤسسة أ";
const TEMPLATE_NAME: &str = "org_a_secret_offer";
const TEMPLATE_TEXT: &str = "عرض سري للمؤسسة أ يا {{contact.name|عميلنا}}";
const QUICK_TEXT: &str = "رد جاهز سري للمؤسسة أ";
const AGENT_QUICK_TEXT: &str = "رد شخصي لوكيل المؤسسة أ";
const RULE_NAME: &str = "قاعدة المؤسسة أ السرية";
const RULE_TRIGGER: &str = "كلمة-سر-المؤسسة-أ";
const RULE_TEXT: &str = "جواب آلي سري للمؤسسة أ";
const SCHEDULED_TEXT: &str = "رسالة مجدولة سرية للمؤسسة أ";
const BROADCAST_NAME: &str = "بث المؤسسة أ السري";
const MEDIA_NAME: &str = "شعار-المؤسسة-أ.png";
const A_EMAIL: &str = "isolation-a@acme.sa";
const A_AGENT_EMAIL: &str = "agent-a@acme.sa";
const B_EMAIL: &str = "isolation-b@other.sa";
/// `TestApp::register` and `add_user` passwords.
const OWNER_PASSWORD: &str = "correct horse battery";
const AGENT_PASSWORD: &str = "agent password";

const PDF: &[u8] =
    b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";

fn mp4_bytes() -> Vec<u8> {
    let mut v = vec![0, 0, 0, 0x18];
    v.extend_from_slice(b"ftypmp42\0\0\0\0mp42isom");
    v.extend_from_slice(&[0; 64]);
    v
}

fn ogg_bytes() -> Vec<u8> {
    let mut v = b"OggS\0\x02".to_vec();
    v.extend_from_slice(&[0; 64]);
    v
}

/// A's webhook secret, chosen by the test so it can be looked for everywhere.
fn a_secret() -> String {
    let key: Vec<u8> = (0u8..32)
        .map(|i| i.wrapping_mul(37).wrapping_add(11))
        .collect();
    format!(
        "whsec_{}",
        base64::engine::general_purpose::STANDARD.encode(key)
    )
}

#[derive(Debug, Clone)]
struct Hit {
    path: String,
    id: String,
    timestamp: String,
    signature: String,
    body: String,
}

/// A CRM stand-in on loopback: records every request on any path and answers 200.
#[derive(Clone)]
struct Receiver {
    addr: SocketAddr,
    hits: Arc<Mutex<Vec<Hit>>>,
}

impl Receiver {
    async fn start() -> Self {
        let hits: Arc<Mutex<Vec<Hit>>> = Arc::default();
        let recorded = hits.clone();
        let app = axum::Router::new().fallback(
            move |uri: axum::http::Uri, headers: axum::http::HeaderMap, body: String| {
                let recorded = recorded.clone();
                async move {
                    let header = |name: &str| {
                        headers
                            .get(name)
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or("")
                            .to_owned()
                    };
                    recorded.lock().expect("lock").push(Hit {
                        path: uri.path().to_owned(),
                        id: header("webhook-id"),
                        timestamp: header("webhook-timestamp"),
                        signature: header("webhook-signature"),
                        body,
                    });
                    axum::http::StatusCode::OK
                }
            },
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move { axum::serve(listener, app).await.ok() });
        Receiver { addr, hits }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    fn hits(&self) -> Vec<Hit> {
        self.hits.lock().expect("lock").clone()
    }
}

/// Checks a Standard Webhooks signature with HMAC-SHA256 directly.
fn signed_with(secret: &str, hit: &Hit) -> bool {
    let key = base64::engine::general_purpose::STANDARD
        .decode(secret.trim_start_matches("whsec_"))
        .expect("base64 secret");
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).expect("key");
    mac.update(format!("{}.{}.{}", hit.id, hit.timestamp, hit.body).as_bytes());
    let expected = format!(
        "v1,{}",
        base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
    );
    hit.signature.split(' ').any(|s| s == expected)
}

/// Polls `probe` until it returns `Some`, failing after 20 s with `what`.
async fn eventually<T, F, Fut>(what: &str, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, String>>,
{
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        match probe().await {
            Ok(v) => return v,
            Err(last) => assert!(Instant::now() < deadline, "never {what}; last: {last}"),
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

fn str_of(v: &Value) -> String {
    v.as_str()
        .unwrap_or_else(|| panic!("a string: {v}"))
        .to_owned()
}

/// Everything organization A owns, and the strings that must never reach B.
struct OrgA {
    owner: Account,
    agent: Account,
    api_key: String,
    api_key_id: String,
    webhook_id: String,
    delivery_id: String,
    /// The customer who wrote, then the customer A wrote to.
    contact_ids: Vec<String>,
    /// Their conversations, in the same order.
    conversation_ids: Vec<String>,
    /// The incoming image, then the outgoing document.
    media_message_ids: Vec<String>,
    outgoing_whatsapp_id: String,
    image_url: String,
    template_id: String,
    /// The organization's quick reply, then the agent's own.
    quick_reply_ids: Vec<String>,
    media_id: String,
    auto_reply_id: String,
    scheduled_message_id: String,
    broadcast_id: String,
    markers: Vec<(String, String)>,
}

async fn multipart_send(
    app: &TestApp,
    token: &str,
    endpoint: &str,
    part: &str,
    bytes: Vec<u8>,
    filename: &str,
    fields: &[(&str, &str)],
) -> Reply {
    let mut form = Form::new().part(
        part.to_owned(),
        Part::bytes(bytes).file_name(filename.to_owned()),
    );
    for (k, v) in fields {
        form = form.text((*k).to_owned(), (*v).to_owned());
    }
    app.send_raw(
        app.client
            .post(app.url(endpoint))
            .bearer_auth(token)
            .multipart(form),
    )
    .await
}

async fn seed_a(app: &TestApp, receiver: &Receiver) -> OrgA {
    let owner = linked(app, A_EMAIL, SESSION_PHONE).await;
    let token = owner.token.clone();
    let all_events = [
        "message.received",
        "message.sent",
        "message.status",
        "session.status",
        "session.qr",
        "contact.created",
        "contact.updated",
    ];
    let (status, hook) = app
        .post(
            "/api/v1/webhooks",
            &token,
            json!({"url": receiver.url(HOOK_PATH), "events": all_events, "secret": a_secret()}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{hook}");
    let webhook_id = str_of(&hook["data"]["webhook"]["id"]);

    let incoming = |body: Value| {
        let token = token.clone();
        async move {
            let (status, res) = app
                .post("/api/v1/whatsapp/sandbox/default/incoming", &token, body)
                .await;
            assert_eq!(status, StatusCode::OK, "{res}");
        }
    };
    incoming(
        json!({"from": CUSTOMER_IN, "pushName": CONTACT_NAME, "type": "text", "text": TEXT_IN}),
    )
    .await;
    let png = base64::engine::general_purpose::STANDARD.encode(png_bytes());
    incoming(json!({"from": CUSTOMER_IN, "type": "image", "mediaBase64": png, "mimeType": "image/png", "caption": CAPTION_IN})).await;
    let (status, sent) = app
        .post(
            "/api/v1/whatsapp/messages/send",
            &token,
            json!({"to": CUSTOMER_OUT, "text": TEXT_OUT}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{sent}");
    let doc = multipart_send(
        app,
        &token,
        "/api/v1/whatsapp/messages/send-document",
        "document",
        PDF.to_vec(),
        DOC_NAME,
        &[("to", CUSTOMER_OUT), ("caption", DOC_CAPTION)],
    )
    .await;
    assert_eq!(doc.status, StatusCode::CREATED, "{}", doc.text());

    // All four stored, and the outgoing ones delivered, so nothing moves during the sweep.
    let messages = eventually("four messages, the outgoing ones delivered", || async {
        let (_, list) = app.get("/api/v1/whatsapp/messages?limit=100", &token).await;
        let ms = list["data"]["messages"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let settled = ms.len() == 4
            && ms
                .iter()
                .all(|m| m["direction"] == "incoming" || m["status"] == "delivered");
        if settled {
            Ok(ms)
        } else {
            Err(list.to_string())
        }
    })
    .await;
    let find = |pred: &dyn Fn(&Value) -> bool| -> Value {
        messages
            .iter()
            .find(|m| pred(m))
            .cloned()
            .unwrap_or_else(|| panic!("message in {messages:?}"))
    };
    let image = find(&|m| m["type"] == "image");
    let document = find(&|m| m["type"] == "document");
    let outgoing_text = find(&|m| m["type"] == "text" && m["direction"] == "outgoing");
    let incoming_text = find(&|m| m["type"] == "text" && m["direction"] == "incoming");
    let contact_in = str_of(&incoming_text["contactId"]);
    let contact_out = str_of(&outgoing_text["contactId"]);

    let (status, contact) = app
        .put(
            &format!("/api/v1/whatsapp/contacts/{contact_in}"),
            &token,
            json!({"tags": [TAG], "notes": NOTES, "linkedCustomer": LINKED_CUSTOMER}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{contact}");

    let (status, key) = app
        .post("/api/v1/api-keys", &token, json!({"name": KEY_NAME}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{key}");
    let api_key = str_of(&key["data"]["key"]);
    let api_key_id = str_of(&key["data"]["apiKey"]["id"]);
    let api_key_prefix = str_of(&key["data"]["apiKey"]["prefix"]);

    let agent = app.add_user(&owner, A_AGENT_EMAIL, "agent").await;

    // A's customer's conversation goes to A's agent.
    let (_, conversations) = app.get("/api/v1/whatsapp/conversations", &token).await;
    let conversations = conversations["data"]["conversations"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(conversations.len(), 2, "{conversations:?}");
    let conversation_of = |contact: &str| {
        conversations
            .iter()
            .find(|c| c["contact"]["id"] == contact)
            .map(|c| str_of(&c["id"]))
            .unwrap_or_else(|| panic!("a conversation with {contact}"))
    };
    let conversation_ids = vec![conversation_of(&contact_in), conversation_of(&contact_out)];
    let (status, assigned) = app
        .put(
            &format!("/api/v1/whatsapp/conversations/{}", conversation_ids[0]),
            &token,
            json!({"assigneeId": agent.user_id, "status": "pending"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{assigned}");

    // Every event written and delivered, and no more coming.
    let deliveries_url = format!("/api/v1/webhooks/{webhook_id}/deliveries?limit=100");
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut previous = String::new();
    let deliveries = loop {
        let (_, list) = app.get(&deliveries_url, &token).await;
        let ds = list["data"]["deliveries"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let now = list.to_string();
        if !ds.is_empty() && ds.iter().all(|d| d["status"] == "delivered") && now == previous {
            break ds;
        }
        assert!(
            Instant::now() < deadline,
            "A's deliveries never settled: {now}"
        );
        previous = now;
        tokio::time::sleep(Duration::from_millis(150)).await;
    };
    let delivery_id = str_of(&deliveries[0]["id"]);

    // A's reusable content: a file, a template showing it, quick replies (the organization's
    // and the agent's own) and an auto-reply nobody's message triggers during the sweep.
    let media = multipart_send(
        app,
        &token,
        "/api/v1/whatsapp/media",
        "file",
        png_bytes(),
        MEDIA_NAME,
        &[],
    )
    .await;
    assert_eq!(media.status, StatusCode::CREATED, "{}", media.text());
    let media_id = str_of(&media.json.expect("json")["data"]["mediaId"]);
    let (status, template) = app
        .post(
            "/api/v1/whatsapp/templates",
            &token,
            json!({"name": TEMPLATE_NAME, "category": "marketing",
            "header": {"type": "image", "mediaId": media_id}, "content": TEMPLATE_TEXT}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{template}");
    let template_id = str_of(&template["data"]["template"]["id"]);
    let (status, quick) = app
        .post("/api/v1/whatsapp/quick-replies", &token, json!({"shortCode": "a-secret", "content": QUICK_TEXT, "visibility": "organization", "mediaId": media_id}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{quick}");
    let (status, personal) = app
        .post(
            "/api/v1/whatsapp/quick-replies",
            &agent.token,
            json!({"shortCode": "a-mine", "content": AGENT_QUICK_TEXT}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{personal}");
    let quick_reply_ids = vec![
        str_of(&quick["data"]["quickReply"]["id"]),
        str_of(&personal["data"]["quickReply"]["id"]),
    ];
    let (status, rule) = app
        .post("/api/v1/whatsapp/auto-replies", &token, json!({"name": RULE_NAME, "matchType": "exact", "trigger": RULE_TRIGGER,
            "response": {"type": "text", "text": RULE_TEXT}, "awayResponse": {"type": "template", "template": TEMPLATE_NAME},
            "conditions": {"withinBusinessHours": true}}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{rule}");
    let auto_reply_id = str_of(&rule["data"]["autoReply"]["id"]);
    let (status, scheduled) = app
        .post(
            "/api/v1/whatsapp/scheduled-messages",
            &token,
            json!({"to": CUSTOMER_IN,
            "message": {"type": "text", "text": SCHEDULED_TEXT}, "scheduleAt": "2036-01-01T09:00",
            "repeat": {"frequency": "daily"}}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{scheduled}");
    let scheduled_message_id = str_of(&scheduled["data"]["scheduledMessage"]["id"]);
    let (status, broadcast) = app
        .post(
            "/api/v1/whatsapp/broadcasts",
            &token,
            json!({"name": BROADCAST_NAME,
            "sessionName": "default", "recipients": {"type": "list", "phones": [CUSTOMER_OUT]},
            "message": {"type": "text", "text": SCHEDULED_TEXT}}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{broadcast}");
    let broadcast_id = str_of(&broadcast["data"]["broadcast"]["id"]);

    let mut markers: Vec<(String, String)> = vec![
        ("A's organization id".into(), owner.org_id.clone()),
        ("A's owner id".into(), owner.user_id.clone()),
        ("A's agent id".into(), agent.user_id.clone()),
        ("A's owner e-mail".into(), A_EMAIL.into()),
        ("A's agent e-mail".into(), A_AGENT_EMAIL.into()),
        ("A's session phone".into(), SESSION_PHONE.into()),
        ("A's customer phone".into(), CUSTOMER_IN.into()),
        ("A's other customer phone".into(), CUSTOMER_OUT.into()),
        ("A's contact id".into(), contact_in.clone()),
        ("A's other contact id".into(), contact_out.clone()),
        ("A's contact name".into(), CONTACT_NAME.into()),
        ("A's contact notes".into(), NOTES.into()),
        ("A's contact tag".into(), TAG.into()),
        ("A's linked CRM customer".into(), LINKED_CUSTOMER.into()),
        ("A's incoming text".into(), TEXT_IN.into()),
        ("A's incoming caption".into(), CAPTION_IN.into()),
        ("A's outgoing text".into(), TEXT_OUT.into()),
        ("A's document name".into(), DOC_NAME.into()),
        ("A's document caption".into(), DOC_CAPTION.into()),
        ("A's webhook id".into(), webhook_id.clone()),
        ("A's webhook URL".into(), HOOK_PATH.into()),
        ("A's webhook secret".into(), a_secret()),
        (
            "A's webhook secret key".into(),
            a_secret().trim_start_matches("whsec_").to_owned(),
        ),
        ("A's API key".into(), api_key.clone()),
        ("A's API key id".into(), api_key_id.clone()),
        ("A's API key prefix".into(), api_key_prefix),
        ("A's API key name".into(), KEY_NAME.into()),
        ("A's conversation id".into(), conversation_ids[0].clone()),
        (
            "A's other conversation id".into(),
            conversation_ids[1].clone(),
        ),
        ("A's template id".into(), template_id.clone()),
        ("A's template name".into(), TEMPLATE_NAME.into()),
        ("A's template text".into(), "عرض سري للمؤسسة أ".into()),
        ("A's quick reply id".into(), quick_reply_ids[0].clone()),
        (
            "A's agent's quick reply id".into(),
            quick_reply_ids[1].clone(),
        ),
        ("A's quick reply text".into(), QUICK_TEXT.into()),
        (
            "A's agent's quick reply text".into(),
            AGENT_QUICK_TEXT.into(),
        ),
        ("A's file id".into(), media_id.clone()),
        ("A's file name".into(), MEDIA_NAME.into()),
        ("A's auto-reply id".into(), auto_reply_id.clone()),
        ("A's auto-reply name".into(), RULE_NAME.into()),
        ("A's auto-reply trigger".into(), RULE_TRIGGER.into()),
        ("A's auto-reply text".into(), RULE_TEXT.into()),
        (
            "A's scheduled message id".into(),
            scheduled_message_id.clone(),
        ),
        ("A's scheduled message text".into(), SCHEDULED_TEXT.into()),
        ("A's broadcast id".into(), broadcast_id.clone()),
        ("A's broadcast name".into(), BROADCAST_NAME.into()),
    ];
    for m in &messages {
        markers.push(("A's message id".into(), str_of(&m["id"])));
        markers.push(("A's WhatsApp message id".into(), str_of(&m["messageId"])));
    }
    for d in &deliveries {
        markers.push(("A's delivery id".into(), str_of(&d["id"])));
        markers.push(("A's event id".into(), str_of(&d["eventId"])));
    }
    OrgA {
        owner,
        agent,
        api_key,
        api_key_id,
        webhook_id,
        delivery_id,
        contact_ids: vec![contact_in, contact_out],
        conversation_ids,
        media_message_ids: vec![str_of(&image["id"]), str_of(&document["id"])],
        outgoing_whatsapp_id: str_of(&outgoing_text["messageId"]),
        image_url: str_of(&image["content"]["mediaUrl"]),
        template_id,
        quick_reply_ids,
        media_id,
        auto_reply_id,
        scheduled_message_id,
        broadcast_id,
        markers,
    }
}

/// What A sees, read with A's owner token: compared before and after the sweep.
async fn snapshot(app: &TestApp, a: &OrgA) -> Vec<(String, Value)> {
    let paths = [
        "/api/v1/auth/me".to_owned(),
        "/api/v1/users".to_owned(),
        format!("/api/v1/users/{}", a.agent.user_id),
        format!("/api/v1/users/{}", a.owner.user_id),
        "/api/v1/api-keys".to_owned(),
        "/api/v1/whatsapp/sessions".to_owned(),
        "/api/v1/whatsapp/sessions/default/status".to_owned(),
        "/api/v1/whatsapp/messages?limit=100".to_owned(),
        "/api/v1/whatsapp/contacts".to_owned(),
        "/api/v1/whatsapp/conversations".to_owned(),
        format!("/api/v1/whatsapp/conversations/{}", a.conversation_ids[0]),
        "/api/v1/whatsapp/stats".to_owned(),
        "/api/v1/webhooks".to_owned(),
        format!("/api/v1/webhooks/{}", a.webhook_id),
        format!("/api/v1/webhooks/{}/deliveries?limit=100", a.webhook_id),
        "/api/v1/whatsapp/templates".to_owned(),
        format!("/api/v1/whatsapp/templates/{}", a.template_id),
        "/api/v1/whatsapp/quick-replies".to_owned(),
        "/api/v1/whatsapp/media".to_owned(),
        format!("/api/v1/whatsapp/media/{}", a.media_id),
        "/api/v1/whatsapp/auto-replies".to_owned(),
        format!("/api/v1/whatsapp/auto-replies/{}", a.auto_reply_id),
        "/api/v1/whatsapp/scheduled-messages".to_owned(),
        format!(
            "/api/v1/whatsapp/scheduled-messages/{}",
            a.scheduled_message_id
        ),
        format!(
            "/api/v1/whatsapp/scheduled-messages/{}/occurrences",
            a.scheduled_message_id
        ),
        "/api/v1/whatsapp/broadcasts".to_owned(),
        format!("/api/v1/whatsapp/broadcasts/{}", a.broadcast_id),
        format!("/api/v1/whatsapp/broadcasts/{}/preview", a.broadcast_id),
        "/api/v1/organization".to_owned(),
    ];
    let mut out = Vec::new();
    for path in paths {
        let (status, body) = app.get(&path, &a.owner.token).await;
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
        out.push((path, body["data"].clone()));
    }
    out
}

/// A request's body.
enum Payload {
    None,
    Json(Value),
    Multipart {
        part: String,
        bytes: Vec<u8>,
        fields: Vec<(String, String)>,
    },
}

impl Payload {
    /// What the caller itself put in the request, so that an echo of it is not a leak.
    fn text(&self) -> String {
        match self {
            Payload::None => String::new(),
            Payload::Json(v) => v.to_string(),
            Payload::Multipart { fields, .. } => {
                fields.iter().map(|(k, v)| format!("{k}={v}\n")).collect()
            }
        }
    }
}

/// What B must get from a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// Not tenant-scoped by nature: any answer below 500 that holds none of A's data.
    Public,
    /// A listing or view of the caller's own organization: 200, and nothing in it.
    OwnView,
    /// A's thing, addressed by its id or name: 404, or 403 when B's role may not use the route.
    NotFound,
    /// The platform administrator's routes: B's credentials are refused (401/403).
    AdminOnly,
    /// Creates something of B's own: it must be B's, and must not touch A.
    CreateOwn,
    /// A send through the session name A uses: B has no such session.
    SendRefused,
}

/// Routes that are not tenant-scoped by nature. Keep this list small.
const PUBLIC: [&str; 5] = [
    "POST /api/v1/auth/register",
    "POST /api/v1/auth/login",
    "GET /health",
    "GET /ready",
    "GET /metrics",
];

/// Documented routes the sweep does not call, and why.
const SKIPPED: [(&str, &str); 5] = [
    (
        "GET /api/v1/events",
        "the WebSocket; webhooks.rs checks organizations are kept apart on it",
    ),
    (
        "POST /api/v1/auth/logout",
        "acts on the caller's own token only (access.rs); it would end the sweep's own sign-in",
    ),
    (
        "PUT /api/v1/auth/password",
        "acts on the caller's own password only (access.rs); it would end the sweep's own sign-in",
    ),
    (
        "PUT /api/v1/organization",
        "acts on the caller's own organization only (phones.rs checks another one keeps its setting)",
    ),
    (
        "PUT /api/v1/organization/business-hours",
        "acts on the caller's own organization only (calendar.rs checks another one keeps its hours)",
    ),
];

/// Routes that create something of the caller's own.
const CREATES: [&str; 10] = [
    "POST /api/v1/users",
    "POST /api/v1/api-keys",
    "POST /api/v1/webhooks",
    "POST /api/v1/whatsapp/sessions",
    "POST /api/v1/whatsapp/templates",
    "POST /api/v1/whatsapp/quick-replies",
    "POST /api/v1/whatsapp/media",
    "POST /api/v1/whatsapp/auto-replies",
    "POST /api/v1/whatsapp/scheduled-messages",
    "POST /api/v1/whatsapp/broadcasts",
];

/// Routes that work out something from the caller's own data alone.
const OWN_ANSWERS: [&str; 2] = [
    "POST /api/v1/whatsapp/auto-replies/test",
    "POST /api/v1/whatsapp/broadcasts/audience",
];

fn classify(key: &str, template: &str, op: &Value) -> Result<Expect, String> {
    if PUBLIC.contains(&key) {
        return Ok(Expect::Public);
    }
    let admin = op["security"]
        .as_array()
        .is_some_and(|s| s.iter().any(|r| r.get("admin").is_some()));
    if admin {
        return Ok(Expect::AdminOnly);
    }
    if template.contains('{') {
        return Ok(Expect::NotFound);
    }
    if key.starts_with("GET ") || OWN_ANSWERS.contains(&key) {
        return Ok(Expect::OwnView);
    }
    if template.starts_with("/api/v1/whatsapp/messages/send") {
        return Ok(Expect::SendRefused);
    }
    if CREATES.contains(&key) {
        return Ok(Expect::CreateOwn);
    }
    Err(format!(
        "{key}: the isolation sweep does not know what another organization should get here; extend it"
    ))
}

/// A's values for a path parameter, by the parameter's name and the segment before it.
fn path_values(a: &OrgA, param: &str, resource: &str) -> Option<Vec<String>> {
    Some(match (param, resource) {
        ("sessionName", _) => vec!["default".to_owned()],
        ("contactId", _) => a.contact_ids.clone(),
        // The read route also takes a contact's id, as the first release's clients send it.
        ("conversationId", _) => a
            .conversation_ids
            .iter()
            .chain(&a.contact_ids)
            .cloned()
            .collect(),
        ("deliveryId", _) => vec![a.delivery_id.clone()],
        ("id", "users") => vec![a.agent.user_id.clone(), a.owner.user_id.clone()],
        ("id", "api-keys") => vec![a.api_key_id.clone()],
        ("id", "webhooks") => vec![a.webhook_id.clone()],
        ("id", "contacts") => a.contact_ids.clone(),
        ("id", "messages") => a.media_message_ids.clone(),
        ("id", "organizations") => vec![a.owner.org_id.clone()],
        ("id", "templates") => vec![a.template_id.clone()],
        ("id", "quick-replies") => a.quick_reply_ids.clone(),
        ("id", "media") => vec![a.media_id.clone()],
        ("id", "auto-replies") => vec![a.auto_reply_id.clone()],
        ("id", "scheduled-messages") => vec![a.scheduled_message_id.clone()],
        ("id", "broadcasts") => vec![a.broadcast_id.clone()],
        _ => return None,
    })
}

/// Every concrete path for a template: each `{param}` replaced by each of A's values.
fn concrete_paths(a: &OrgA, template: &str) -> Result<Vec<String>, String> {
    let mut paths = vec![String::new()];
    let mut previous = "";
    for segment in template.split('/').skip(1) {
        let values = match segment
            .strip_prefix('{')
            .and_then(|s| s.strip_suffix('}'))
        {
            Some(param) => path_values(a, param, previous).ok_or_else(|| {
                format!("{template}: no substitution for the path parameter {{{param}}} after {previous:?}; extend the isolation sweep")
            })?,
            None => vec![segment.to_owned()],
        };
        paths = paths
            .iter()
            .flat_map(|p| values.iter().map(move |v| format!("{p}/{v}")))
            .collect();
        previous = segment;
    }
    Ok(paths)
}

/// A's value for a query parameter of a listing.
fn query_value(key: &str, name: &str) -> Option<&'static str> {
    Some(match name {
        // A's schedule is active.
        "status" if key.contains("scheduled-messages") => "active",
        "status" if key.contains("/recipients") => "queued",
        "status" if key.contains("broadcasts") => "draft",
        "page" => "1",
        "limit" => "100",
        "sessionName" => "default",
        "contact" => CUSTOMER_IN,
        "search" => CONTACT_NAME,
        "direction" => "incoming",
        "status" => "pending",
        "assignee" => "unassigned",
        "unread" => "true",
        // A word of A's own message text.
        "q" => "المؤسسة",
        // B deleting A's session for good.
        "purge" => "true",
        // Before every row: the whole listing.
        "cursor" => "9999999999999.z",
        "category" => "marketing",
        "language" => "ar",
        // The calendar's window, over A's schedule's first day.
        "from" => "2036-01-01",
        "days" => "2",
        _ => return None,
    })
}

/// A plausible, valid body for each route that takes JSON, aimed at A's things.
fn json_body(key: &str, a: &OrgA, pass: &str, receiver: &Receiver) -> Option<Value> {
    Some(match key {
        "POST /api/v1/auth/register" => json!({"organizationName": "مؤسسة ثالثة", "name": "زائر",
            "email": format!("third-{pass}@other.sa"), "password": "a long password"}),
        "POST /api/v1/auth/login" => json!({"email": B_EMAIL, "password": OWNER_PASSWORD}),
        "PUT /api/v1/admin/organizations/{id}/plan" => json!({"plan": "enterprise"}),
        "POST /api/v1/api-keys" => json!({"name": format!("B key {pass}"), "role": "admin"}),
        "POST /api/v1/users" => {
            json!({"name": "وكيل ب", "email": format!("agent-b-{pass}@other.sa"),
            "password": "agent b password", "role": "admin"})
        }
        "PUT /api/v1/users/{id}" => json!({"name": "مخترق", "role": "agent", "isActive": false,
            "password": "hijacked password", "skills": ["hijack"], "maxChats": 1}),
        "POST /api/v1/webhooks" => json!({"url": receiver.url(&format!("/org-b/{pass}")),
            "events": ["message.received", "message.sent", "contact.created", "contact.updated"]}),
        "PUT /api/v1/webhooks/{id}" => {
            json!({"url": receiver.url("/attacker"), "events": ["message.received"],
            "secret": "whsec_QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo=", "isActive": false})
        }
        "PUT /api/v1/whatsapp/contacts/{id}" => json!({"name": "مخترق", "tags": ["hijacked"],
            "notes": "changed by B", "linkedCustomer": "crm-b-1", "isBlocked": true}),
        "POST /api/v1/whatsapp/conversations/{conversationId}/read" => {
            json!({"sessionName": "default"})
        }
        "PUT /api/v1/whatsapp/conversations/{conversationId}" => {
            json!({"status": "resolved", "assigneeId": null})
        }
        "POST /api/v1/whatsapp/messages/send" => {
            json!({"to": CUSTOMER_IN, "text": "رسالة من المؤسسة ب", "sessionName": "default"})
        }
        "POST /api/v1/whatsapp/sandbox/{sessionName}/incoming" => {
            json!({"from": "966559990001", "pushName": "حقن",
            "type": "text", "text": "رسالة محقونة"})
        }
        "POST /api/v1/whatsapp/sandbox/{sessionName}/read" => {
            json!({"messageId": a.outgoing_whatsapp_id})
        }
        "POST /api/v1/whatsapp/messages/{id}/reaction" => json!({"emoji": "😡"}),
        "POST /api/v1/whatsapp/templates" => {
            json!({"name": format!("b_offer_{pass}"), "category": "marketing",
            "content": "عرض المؤسسة ب"})
        }
        "PUT /api/v1/whatsapp/templates/{id}" => {
            json!({"name": "hijacked", "content": "changed by B", "footer": null})
        }
        "POST /api/v1/whatsapp/messages/send-template" => {
            json!({"to": CUSTOMER_IN, "template": TEMPLATE_NAME,
            "sessionName": "default", "variables": {}})
        }
        "POST /api/v1/whatsapp/quick-replies" => {
            json!({"shortCode": format!("b-{pass}"), "content": "رد المؤسسة ب",
            "visibility": "organization"})
        }
        "PUT /api/v1/whatsapp/quick-replies/{id}" => {
            json!({"content": "changed by B", "mediaId": null})
        }
        "POST /api/v1/whatsapp/auto-replies" => json!({"name": "قاعدة ب", "matchType": "exact",
            "trigger": format!("b-only-{pass}"), "response": {"type": "text", "text": "ب"}}),
        "PUT /api/v1/whatsapp/auto-replies/{id}" => json!({"name": "hijacked", "isActive": false,
            "response": {"type": "text", "text": "changed by B"}}),
        "POST /api/v1/whatsapp/scheduled-messages" => json!({"to": CUSTOMER_IN,
            "message": {"type": "text", "text": "رسالة ب"}, "scheduleAt": "2036-01-01T10:00"}),
        "PUT /api/v1/whatsapp/scheduled-messages/{id}" => json!({"isActive": false,
            "message": {"type": "text", "text": "changed by B"}}),
        "POST /api/v1/whatsapp/broadcasts" => json!({"name": "بث ب", "sessionName": "default",
            "recipients": {"type": "list", "phones": [CUSTOMER_IN]},
            "message": {"type": "text", "text": "رسالة ب"}}),
        "POST /api/v1/whatsapp/broadcasts/audience" => {
            json!({"recipients": {"type": "filter", "filters": {}}})
        }
        "PUT /api/v1/whatsapp/broadcasts/{id}" => json!({"name": "hijacked",
            "message": {"type": "text", "text": "changed by B"}}),
        "POST /api/v1/whatsapp/auto-replies/test" => {
            json!({"text": RULE_TRIGGER, "from": CUSTOMER_IN,
            "sessionName": "default"})
        }
        "POST /api/v1/whatsapp/sandbox/{sessionName}/reaction" => {
            json!({"from": CUSTOMER_OUT, "messageId": a.outgoing_whatsapp_id, "emoji": "😡"})
        }
        "POST /api/v1/whatsapp/sandbox/{sessionName}/scan" => {
            json!({"phoneNumber": "966559990002"})
        }
        "POST /api/v1/whatsapp/sessions" => json!({"sessionName": "default", "engine": "sandbox"}),
        "POST /api/v1/whatsapp/sessions/{sessionName}/pairing-code" => {
            json!({"phoneNumber": "966559990003"})
        }
        _ => return None,
    })
}

/// A valid multipart body for a media send, from the endpoint's name (`send-image` → `image`),
/// or for an upload to the media library.
fn multipart_body(template: &str) -> Option<Payload> {
    if template == "/api/v1/whatsapp/media" {
        return Some(Payload::Multipart {
            part: "file".to_owned(),
            bytes: png_bytes(),
            fields: Vec::new(),
        });
    }
    let part = template.rsplit('/').next()?.strip_prefix("send-")?;
    let bytes = match part {
        "image" => png_bytes(),
        "document" => PDF.to_vec(),
        "video" => mp4_bytes(),
        "audio" => ogg_bytes(),
        _ => return None,
    };
    Some(Payload::Multipart {
        part: part.to_owned(),
        bytes,
        fields: vec![
            ("to".to_owned(), CUSTOMER_IN.to_owned()),
            ("sessionName".to_owned(), "default".to_owned()),
        ],
    })
}

fn payload_for(
    key: &str,
    template: &str,
    op: &Value,
    a: &OrgA,
    pass: &str,
    receiver: &Receiver,
) -> Result<Payload, String> {
    let Some(content) = op["requestBody"]["content"].as_object() else {
        return Ok(Payload::None);
    };
    if content.contains_key("application/json") {
        return json_body(key, a, pass, receiver)
            .map(Payload::Json)
            .ok_or_else(|| {
                format!(
                    "{key}: takes a JSON body the isolation sweep has none for; extend json_body"
                )
            });
    }
    if content.contains_key("multipart/form-data") {
        return multipart_body(template).ok_or_else(|| {
            format!("{key}: takes a multipart body the isolation sweep has none for; extend multipart_body")
        });
    }
    Err(format!(
        "{key}: takes a body of a type the isolation sweep does not know: {:?}",
        content.keys().collect::<Vec<_>>()
    ))
}

/// One call of the sweep, ready to send.
struct Call {
    key: String,
    expect: Expect,
    method: Method,
    path: String,
    payload: Payload,
}

/// Who B is in this pass.
struct Caller<'a> {
    label: &'a str,
    token: &'a str,
    org_id: &'a str,
    /// What B had before the sweep (its owner, its API key): allowed in B's listings.
    own_ids: &'a [String],
}

struct Sweep<'a> {
    app: &'a TestApp,
    a: &'a OrgA,
    requests: usize,
    /// How many answers of each status B got, for the summary.
    statuses: std::collections::BTreeMap<u16, usize>,
    failures: Vec<String>,
}

impl Sweep<'_> {
    async fn send(&mut self, caller: &Caller<'_>, call: &Call) -> Reply {
        self.requests += 1;
        let mut req = self
            .app
            .client
            .request(call.method.clone(), self.app.url(&call.path))
            .bearer_auth(caller.token);
        req = match &call.payload {
            Payload::None => req,
            Payload::Json(v) => req.json(v),
            Payload::Multipart {
                part,
                bytes,
                fields,
            } => {
                let mut form = Form::new().part(
                    part.clone(),
                    Part::bytes(bytes.clone()).file_name(format!("file.{part}")),
                );
                for (k, v) in fields {
                    form = form.text(k.clone(), v.clone());
                }
                req.multipart(form)
            }
        };
        let reply = self.app.send_raw(req).await;
        *self.statuses.entry(reply.status.as_u16()).or_default() += 1;
        reply
    }

    fn fail(&mut self, caller: &Caller<'_>, call: &Call, reply: &Reply, why: &str) {
        let mut text = reply.text();
        if text.len() > 600 {
            let cut = (0..=600)
                .rev()
                .find(|&i| text.is_char_boundary(i))
                .unwrap_or(0);
            text.truncate(cut);
            text.push('…');
        }
        self.failures.push(format!(
            "[{}] {} {} ({}): {why}\n    answered {}: {text}",
            caller.label, call.method, call.path, call.key, reply.status
        ));
    }

    /// Sends the call as B and checks the answer against what is expected of the route.
    async fn check(&mut self, caller: &Caller<'_>, call: &Call) -> Reply {
        let reply = self.send(caller, call).await;
        // Never any of A's data, except what B itself put in the request.
        let sent = format!("{} {}", call.path, call.payload.text());
        let seen = format!(
            "{}\n{}",
            reply.text(),
            reply
                .json
                .as_ref()
                .map(Value::to_string)
                .unwrap_or_default()
        );
        let leaked: Vec<String> = self
            .a
            .markers
            .iter()
            .filter(|(_, value)| !sent.contains(value.as_str()) && seen.contains(value.as_str()))
            .map(|(label, value)| format!("{label} ({value})"))
            .collect();
        if !leaked.is_empty() {
            self.fail(
                caller,
                call,
                &reply,
                &format!("LEAKS {}", leaked.join(", ")),
            );
        }
        let status = reply.status;
        if status.is_server_error() {
            self.fail(caller, call, &reply, "a server error");
            return reply;
        }
        if status.is_client_error() {
            match reply.json.as_ref().map(error_envelope_problem) {
                None => self.fail(caller, call, &reply, "a 4xx that is not JSON"),
                Some(Some(problem)) => self.fail(caller, call, &reply, &problem),
                Some(None) => {}
            }
        }
        let body = reply.json.clone().unwrap_or(Value::Null);
        let problem = match call.expect {
            Expect::Public => None,
            Expect::NotFound => (!matches!(status, StatusCode::NOT_FOUND | StatusCode::FORBIDDEN))
                .then(|| "expected 404 (or 403)".to_owned()),
            Expect::AdminOnly => {
                (!matches!(status, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN))
                    .then(|| "expected the admin route to refuse B (401/403)".to_owned())
            }
            Expect::SendRefused => (status != StatusCode::NOT_FOUND)
                .then(|| "expected 404: B has no session of that name".to_owned()),
            Expect::OwnView => own_view_problem(&call.path, status, &body, caller),
            Expect::CreateOwn => create_problem(&call.key, status, &body, caller.org_id),
        };
        if let Some(problem) = problem {
            self.fail(caller, call, &reply, &problem);
        }
        reply
    }
}

/// A listing or view of the caller's own organization must be B's and empty (its users list
/// holds only B's people).
fn own_view_problem(
    path: &str,
    status: StatusCode,
    body: &Value,
    b: &Caller<'_>,
) -> Option<String> {
    if status == StatusCode::NOT_FOUND && path.contains("sessionName=") {
        // Filtering by a session B does not have: 404, as documented.
        return None;
    }
    if status != StatusCode::OK {
        return Some("expected 200 with B's own (empty) data".into());
    }
    if body["success"] != json!(true) {
        return Some("a 200 that is not the success envelope".into());
    }
    let data = &body["data"];
    let Some(fields) = data.as_object() else {
        return Some("no data object".into());
    };
    for (name, value) in fields {
        let Some(items) = value.as_array() else {
            continue;
        };
        if name == "messagesPerDay" {
            continue;
        }
        let foreign = items.iter().find(|item| {
            let own = item["id"]
                .as_str()
                .is_some_and(|id| b.own_ids.iter().any(|o| o == id));
            !own || (name == "users" && item["organizationId"] != json!(b.org_id))
        });
        if let Some(item) = foreign {
            return Some(format!(
                "expected nothing but B's own in {name}, found {item}"
            ));
        }
    }
    if let Some(pagination) = data.get("pagination") {
        let listed = fields
            .iter()
            .filter(|(k, _)| *k != "pagination")
            .find_map(|(_, v)| v.as_array().map(Vec::len))
            .unwrap_or(0);
        if pagination["total"] != json!(listed) {
            return Some(format!(
                "pagination counts what it does not list: {pagination}"
            ));
        }
    }
    if path.starts_with("/api/v1/whatsapp/stats") {
        for field in [
            "totalSessions",
            "activeSessions",
            "totalMessages",
            "totalContacts",
            "messagesLast24h",
        ] {
            if data[field] != json!(0) {
                return Some(format!("B's stats count something: {field}"));
            }
        }
        let counted = data["messagesPerDay"].as_array().is_some_and(|days| {
            days.iter()
                .any(|d| d["incoming"] != json!(0) || d["outgoing"] != json!(0))
        });
        if counted {
            return Some("B's messages per day count something".into());
        }
    }
    if path.starts_with("/api/v1/auth/me") && data["organization"]["id"] != json!(b.org_id) {
        return Some("/me is not B's organization".into());
    }
    None
}

/// What B creates must be B's.
fn create_problem(key: &str, status: StatusCode, body: &Value, b_org: &str) -> Option<String> {
    if !status.is_success() {
        // B's API key may not mint keys, the free plan allows one session: refusals are fine.
        if matches!(status, StatusCode::FORBIDDEN | StatusCode::CONFLICT) {
            return None;
        }
        return Some("expected B's create to succeed or be refused with 403/409".into());
    }
    let data = &body["data"];
    let owner = match key {
        "POST /api/v1/users" => data["user"]["organizationId"].as_str().map(str::to_owned),
        "POST /api/v1/whatsapp/sessions" => {
            data["session"]["organization"].as_str().map(str::to_owned)
        }
        _ => Some(b_org.to_owned()),
    };
    if owner.as_deref() != Some(b_org) {
        return Some(format!("created for another organization: {data}"));
    }
    if key == "POST /api/v1/whatsapp/sessions"
        && data["sessionId"] != json!(format!("{b_org}_default"))
    {
        return Some("B's session is not B's own".into());
    }
    None
}

/// Every documented route as (key, template, method, operation), in the document's order.
fn documented_routes(doc: &Value) -> Vec<(String, String, Method, Value)> {
    let mut routes = Vec::new();
    for (template, item) in doc["paths"].as_object().expect("paths") {
        for method in ["get", "post", "put", "patch", "delete"] {
            if let Some(op) = item.get(method) {
                let upper = method.to_uppercase();
                routes.push((
                    format!("{upper} {template}"),
                    template.clone(),
                    Method::from_bytes(upper.as_bytes()).expect("method"),
                    op.clone(),
                ));
            }
        }
    }
    routes
}

/// The calls for one route: each concrete path, and for listings one call per query parameter
/// and one with them all.
fn calls_for(
    key: &str,
    template: &str,
    method: &Method,
    op: &Value,
    a: &OrgA,
    pass: &str,
    receiver: &Receiver,
) -> Result<Vec<Call>, String> {
    let expect = classify(key, template, op)?;
    let paths = concrete_paths(a, template)?;
    let mut queries = vec![String::new()];
    let params: Vec<&str> = op["parameters"]
        .as_array()
        .map(|ps| {
            ps.iter()
                .filter(|p| p["in"] == "query")
                .filter_map(|p| p["name"].as_str())
                .collect()
        })
        .unwrap_or_default();
    let mut all = Vec::new();
    for name in &params {
        let value = query_value(key, name).ok_or_else(|| {
            format!("{key}: no value for the query parameter {name:?}; extend the isolation sweep")
        })?;
        let pair = format!("{name}={}", urlencode(value));
        queries.push(format!("?{pair}"));
        if *name != "sessionName" {
            all.push(pair);
        }
    }
    if all.len() > 1 {
        queries.push(format!("?{}", all.join("&")));
    }
    let mut calls = Vec::new();
    for path in paths {
        for query in &queries {
            calls.push(Call {
                key: key.to_owned(),
                expect,
                method: method.clone(),
                path: format!("{path}{query}"),
                payload: payload_for(key, template, op, a, pass, receiver)?,
            });
        }
    }
    Ok(calls)
}

fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

on_both_databases! {
    async fn another_organization_reaches_none_of_a_organizations_data(app: TestApp) {
        let started = Instant::now();
        let receiver = Receiver::start().await;
        let a = seed_a(&app, &receiver).await;
        let before = snapshot(&app, &a).await;
        let (status, a_media) = {
            let r = app.send_raw(app.client.get(app.url(&a.image_url)).bearer_auth(&a.owner.token)).await;
            (r.status, r.bytes)
        };
        assert_eq!(status, StatusCode::OK);
        assert_eq!(a_media, png_bytes());

        let b = app.register(B_EMAIL).await;
        let (status, key) = app.post("/api/v1/api-keys", &b.token, json!({"name": "B's CRM"})).await;
        assert_eq!(status, StatusCode::CREATED, "{key}");
        let b_key = str_of(&key["data"]["key"]);
        let b_own = [b.user_id.clone(), str_of(&key["data"]["apiKey"]["id"])];
        let callers = [
            Caller { label: "B's owner token", token: &b.token, org_id: &b.org_id, own_ids: &b_own },
            Caller { label: "B's API key", token: &b_key, org_id: &b.org_id, own_ids: &b_own },
        ];

        let doc = app.send_raw(app.client.get(app.url("/api/v1/openapi.json"))).await;
        assert_eq!(doc.status, StatusCode::OK);
        let doc = doc.json.expect("the OpenAPI document is JSON");
        let routes = documented_routes(&doc);
        assert!(routes.len() > 40, "the document lists the API: {}", routes.len());

        let mut sweep = Sweep { app: &app, a: &a, requests: 0, statuses: Default::default(), failures: Vec::new() };
        // Plan every call first: a route the sweep cannot call fails the test.
        let mut plan: Vec<Vec<Call>> = vec![Vec::new(), Vec::new()];
        let mut creates: Vec<Vec<Call>> = vec![Vec::new(), Vec::new()];
        for (key, template, method, op) in &routes {
            if let Some((_, why)) = SKIPPED.iter().find(|(k, _)| k == key) {
                println!("isolation sweep skips {key}: {why}");
                continue;
            }
            for (pass, name) in ["token", "key"].into_iter().enumerate() {
                match calls_for(key, template, method, op, &a, name, &receiver) {
                    Ok(list) => {
                        for call in list {
                            if call.expect == Expect::CreateOwn {
                                creates[pass].push(call);
                            } else {
                                plan[pass].push(call);
                            }
                        }
                    }
                    Err(e) => {
                        if pass == 0 {
                            sweep.failures.push(e);
                        }
                    }
                }
            }
        }
        // Beyond the document: the pages the router serves without documenting them.
        for path in ["/api/v1/openapi.json", "/api/docs", "/dashboard/whatsapp", "/dashboard/whatsapp/chat"] {
            for calls in plan.iter_mut() {
                calls.push(Call { key: format!("GET {path}"), expect: Expect::Public, method: Method::GET, path: path.to_owned(), payload: Payload::None });
            }
        }

        // First B reads, changes and deletes with A's ids; then B creates its own things
        // (a session named like A's among them); then B sends through that name again.
        for (caller, calls) in callers.iter().zip(&plan) {
            for call in calls {
                sweep.check(caller, call).await;
            }
        }
        for (caller, calls) in callers.iter().zip(&creates) {
            // The session last, so B's sends above met no session of B's at all.
            let mut ordered: Vec<&Call> = calls.iter().collect();
            ordered.sort_by_key(|c| c.key == "POST /api/v1/whatsapp/sessions");
            for call in ordered {
                sweep.check(caller, call).await;
            }
        }
        for (caller, calls) in callers.iter().zip(&plan) {
            for call in calls.iter().filter(|c| c.expect == Expect::SendRefused) {
                // Now B has its own "default", not connected: the send must meet that one.
                let reply = sweep.send(caller, call).await;
                let code = reply.json.as_ref().map(|j| j["error"]["code"].clone());
                if reply.status != StatusCode::CONFLICT || code != Some(json!("SESSION_NOT_CONNECTED")) {
                    sweep.fail(caller, call, &reply, "expected 409 SESSION_NOT_CONNECTED from B's own session");
                }
            }
        }
        let requests = sweep.requests;
        let statuses = format!("{:?}", sweep.statuses);
        let failures = std::mem::take(&mut sweep.failures);
        assert!(failures.is_empty(), "{} problem(s) in the isolation sweep:\n{}", failures.len(), failures.join("\n"));

        // A's data is exactly as it was, and all of A's ways in still work.
        let after = snapshot(&app, &a).await;
        for ((path, was), (_, now)) in before.iter().zip(&after) {
            assert_eq!(was, now, "A's {path} changed during B's sweep");
        }
        let session = &after.iter().find(|(p, _)| p.ends_with("/status")).expect("status").1["session"];
        assert_eq!((session["status"].clone(), session["phoneNumber"].clone()), (json!("connected"), json!(SESSION_PHONE)));
        let (status, me) = app.get("/api/v1/auth/me", &a.api_key).await;
        assert_eq!(status, StatusCode::OK, "A's API key still works: {me}");
        assert_eq!(me["data"]["organization"]["id"], json!(a.owner.org_id));
        let (status, login) = app.login(A_AGENT_EMAIL, AGENT_PASSWORD).await;
        assert_eq!(status, StatusCode::OK, "A's agent still signs in with the same password: {login}");
        let (status, _) = app.get("/api/v1/auth/me", &a.agent.token).await;
        assert_eq!(status, StatusCode::OK, "A's agent's token still works");
        let (status, _) = app.login(A_EMAIL, OWNER_PASSWORD).await;
        assert_eq!(status, StatusCode::OK, "A's owner still signs in");
        let media = app.send_raw(app.client.get(app.url(&a.image_url)).bearer_auth(&a.owner.token)).await;
        assert_eq!((media.status, media.bytes), (StatusCode::OK, a_media), "A's media is intact");

        // A's webhook still delivers to A's URL, signed with A's own secret, and nothing of
        // A's reaches any URL B chose.
        let seen_before = receiver.hits().len();
        let (status, body) = app.post("/api/v1/whatsapp/sandbox/default/incoming", &a.owner.token,
            json!({"from": CUSTOMER_IN, "type": "text", "text": "بعد الجولة"})).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let hit = eventually("A's webhook delivering the new message", || async {
            receiver.hits().into_iter().skip(seen_before)
                .find(|h| h.path == HOOK_PATH && h.body.contains("بعد الجولة"))
                .ok_or_else(|| format!("{:?}", receiver.hits().len()))
        }).await;
        assert!(signed_with(&a_secret(), &hit), "signed with A's original secret: {hit:?}");
        tokio::time::sleep(Duration::from_millis(300)).await;
        for h in receiver.hits() {
            if h.path != HOOK_PATH {
                let leaked: Vec<&str> = a.markers.iter().filter(|(_, v)| h.body.contains(v.as_str())).map(|(l, _)| l.as_str()).collect();
                assert!(leaked.is_empty(), "a URL B chose ({}) received A's data {leaked:?}: {}", h.path, h.body);
            }
        }
        let (_, stats) = app.get("/api/v1/whatsapp/stats", &a.owner.token).await;
        assert_eq!(stats["data"]["totalMessages"], json!(5), "{stats}");
        println!(
            "isolation sweep: {} documented routes, {requests} requests as B (answers by status: {statuses}), {:.1} s in all",
            routes.len(),
            started.elapsed().as_secs_f64()
        );
    }
}
