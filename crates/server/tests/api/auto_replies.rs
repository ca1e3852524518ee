//! Auto-replies and opting out (SPEC §14), driven by the injected clock: rules answer by the
//! organization's local time, day and business hours (a period past midnight, a holiday, a
//! zone with daylight saving), the highest priority first, never in a loop or a flood, never
//! to a blocked contact or a chat an agent handles; stop words opt a customer out with one
//! confirmation, and marketing templates then stay away from them.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::calendar::move_clock_to;
use crate::helpers::{assert_error, TestApp};
use crate::messaging::{incoming, linked};
use crate::on_both_databases;

/// Waits until automation has considered every customer's message stored so far (its queue
/// is empty), reading the backlog gauge of `/metrics`.
pub async fn settled(app: &TestApp) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let text = app
            .client
            .get(app.url("/metrics"))
            .send()
            .await
            .expect("metrics")
            .text()
            .await
            .expect("text");
        if text.lines().any(|l| l == "wasl_automation_backlog 0") {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "automation never caught up: {}",
            text.lines()
                .filter(|l| l.starts_with("wasl_automation"))
                .collect::<Vec<_>>()
                .join("; ")
        );
        tokio::time::sleep(std::time::Duration::from_millis(15)).await;
    }
}

/// The messages sent to `phone`, oldest first.
pub async fn sent_to(app: &TestApp, token: &str, phone: &str) -> Vec<Value> {
    let (status, list) = app
        .get(
            &format!("/api/v1/whatsapp/messages?contact={phone}&direction=outgoing&limit=100"),
            token,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{list}");
    let mut messages = list["data"]["messages"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    messages.reverse();
    messages
}

/// The texts of the messages sent to `phone`, oldest first.
pub async fn texts_to(app: &TestApp, token: &str, phone: &str) -> Vec<String> {
    sent_to(app, token, phone)
        .await
        .iter()
        .map(|m| {
            m["content"]["text"]
                .as_str()
                .or(m["content"]["caption"].as_str())
                .unwrap_or_default()
                .to_owned()
        })
        .collect()
}

/// A customer writes; waits until automation has considered it.
pub async fn writes(app: &TestApp, token: &str, from: &str, text: &str) -> String {
    let id = incoming(
        app,
        token,
        json!({"from": from, "type": "text", "text": text}),
    )
    .await;
    settled(app).await;
    id
}

async fn rule(app: &TestApp, token: &str, body: Value) -> Value {
    let (status, created) = app.post("/api/v1/whatsapp/auto-replies", token, body).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    created["data"]["autoReply"].clone()
}

async fn test_rules(app: &TestApp, token: &str, body: Value) -> Value {
    let (status, result) = app
        .post("/api/v1/whatsapp/auto-replies/test", token, body.clone())
        .await;
    assert_eq!(status, StatusCode::OK, "{body}: {result}");
    result["data"].clone()
}

const WEEKDAYS: [&str; 5] = ["sunday", "monday", "tuesday", "wednesday", "thursday"];

on_both_databases! {
    async fn rules_answer_by_the_organizations_local_time_and_days(app: TestApp) {
        let owner = linked(&app, "auto-hours@acme.sa", "966500001701").await;
        let token = &owner.token;
        let hours = rule(&app, token, json!({
            "name": "أوقات العمل", "matchType": "any",
            "response": {"type": "text", "text": "أهلاً {{contact.name|عميلنا}}، كيف نخدمك؟"},
            "conditions": {"timeRange": {"start": "09:00", "end": "17:00"}, "days": WEEKDAYS},
            "awayResponse": {"type": "text", "text": "نحن خارج أوقات العمل، نعود غداً ٩ صباحاً"},
        })).await;
        assert_eq!(hours["cooldownMinutes"], json!(60), "{hours}");
        assert_eq!(hours["conditions"]["days"], json!(WEEKDAYS));

        // Sunday 2027-01-03, 10:00 in Riyadh.
        move_clock_to(&app, "2027-01-03T07:00:00Z");
        let asked = incoming(&app, token, json!({"from": "966551170001", "pushName": "أحمد", "type": "text", "text": "مرحبا"})).await;
        settled(&app).await;
        let answers = sent_to(&app, token, "966551170001").await;
        assert_eq!(answers.len(), 1, "{answers:?}");
        assert_eq!(answers[0]["content"]["text"], json!("أهلاً أحمد، كيف نخدمك؟"));
        let automation = &answers[0]["metadata"]["automation"];
        assert_eq!((automation["kind"].clone(), automation["id"].clone()), (json!("auto_reply"), hours["id"].clone()), "{}", answers[0]);
        let (_, stored) = app.get("/api/v1/whatsapp/messages?contact=966551170001&direction=incoming", token).await;
        assert_eq!(stored["data"]["messages"][0]["messageId"], json!(asked));
        assert_eq!(automation["incomingMessageId"], stored["data"]["messages"][0]["id"]);
        // It goes out like any message: sent, then delivered by the sandbox's phone.
        crate::messaging::wait_for_message(&app, token, answers[0]["id"].as_str().expect("id"), "delivered", |m| m["status"] == "delivered").await;

        // 18:00 the same Sunday: the away response. An unnamed customer gets the default.
        move_clock_to(&app, "2027-01-03T15:00:00Z");
        writes(&app, token, "966551170002", "السلام عليكم").await;
        assert_eq!(texts_to(&app, token, "966551170002").await, ["نحن خارج أوقات العمل، نعود غداً ٩ صباحاً"]);

        // A night shift on Thursday, 22:00–02:00, holds at 01:00 on Friday.
        let night = rule(&app, token, json!({
            "name": "طلبات الليل", "matchType": "contains", "trigger": "طلب", "priority": 10,
            "response": {"type": "text", "text": "فريق الليل يستلم طلبك"},
            "conditions": {"timeRange": {"start": "22:00", "end": "02:00"}, "days": ["thursday"]},
        })).await;
        move_clock_to(&app, "2027-01-07T22:00:00Z");
        writes(&app, token, "966551170003", "أريد طلب جديد").await;
        assert_eq!(texts_to(&app, token, "966551170003").await, ["فريق الليل يستلم طلبك"]);
        let at_one = test_rules(&app, token, json!({"text": "طلب", "at": "2027-01-07T22:00:00Z"})).await;
        assert_eq!((at_one["ruleId"].clone(), at_one["localTime"].clone()), (night["id"].clone(), json!("2027-01-08T01:00")), "{at_one}");
        // 02:00 Friday is past the shift, and Friday is no working day: the away response.
        let at_two = test_rules(&app, token, json!({"text": "طلب", "at": "2027-01-07T23:00:00Z"})).await;
        assert_eq!((at_two["ruleId"].clone(), at_two["away"].clone()), (hours["id"].clone(), json!(true)), "{at_two}");
        assert_eq!(at_two["rules"][0]["verdict"], json!("conditions_not_met"), "{at_two}");

        // Business hours with a holiday: a rule for "within business hours" is away all day.
        let (status, body) = app.put("/api/v1/organization/business-hours", token, json!({
            "weekly": {"sunday": [{"start": "09:00", "end": "17:00"}], "tuesday": [{"start": "09:00", "end": "17:00"}], "wednesday": [{"start": "09:00", "end": "17:00"}]},
            "holidays": ["2027-01-12"],
        })).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let (status, body) = app.put(&format!("/api/v1/whatsapp/auto-replies/{}", hours["id"].as_str().expect("id")), token,
            json!({"conditions": {"withinBusinessHours": true}})).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["data"]["autoReply"]["conditions"], json!({"days": [], "withinBusinessHours": true}), "only what changed: {body}");
        assert_eq!(body["data"]["autoReply"]["awayResponse"]["text"], json!("نحن خارج أوقات العمل، نعود غداً ٩ صباحاً"));
        let holiday = test_rules(&app, token, json!({"text": "مرحبا", "at": "2027-01-12T07:00:00Z"})).await;
        assert_eq!((holiday["away"].clone(), holiday["withinBusinessHours"].clone()), (json!(true), json!(false)), "{holiday}");
        let next_day = test_rules(&app, token, json!({"text": "مرحبا", "at": "2027-01-13T07:00:00Z"})).await;
        assert_eq!((next_day["away"].clone(), next_day["withinBusinessHours"].clone()), (json!(false), json!(true)), "{next_day}");
        move_clock_to(&app, "2027-01-12T07:00:00Z");
        writes(&app, token, "966551170004", "مرحبا").await;
        assert_eq!(texts_to(&app, token, "966551170004").await, ["نحن خارج أوقات العمل، نعود غداً ٩ صباحاً"], "the holiday is closed");

        // A zone with daylight saving keeps local times across the change (Berlin,
        // 2027-03-28): 09:30 is within 09:00–17:00 in winter time and in summer time.
        let (status, _) = app.put("/api/v1/organization", token, json!({"timezone": "Europe/Berlin"})).await;
        assert_eq!(status, StatusCode::OK);
        let (status, _) = app.put(&format!("/api/v1/whatsapp/auto-replies/{}", hours["id"].as_str().expect("id")), token,
            json!({"conditions": {"timeRange": {"start": "09:00", "end": "17:00"}}})).await;
        assert_eq!(status, StatusCode::OK);
        for (at, local, away) in [
            ("2027-03-26T08:30:00Z", "2027-03-26T09:30", false),
            ("2027-03-29T07:30:00Z", "2027-03-29T09:30", false),
            ("2027-03-26T15:30:00Z", "2027-03-26T16:30", false),
            ("2027-03-29T15:30:00Z", "2027-03-29T17:30", true),
            ("2027-03-29T06:30:00Z", "2027-03-29T08:30", true),
        ] {
            let result = test_rules(&app, token, json!({"text": "hello", "at": at})).await;
            assert_eq!((result["localTime"].clone(), result["away"].clone()), (json!(local), json!(away)), "{at}: {result}");
        }
    }

    async fn triggers_priorities_and_the_test_box(app: TestApp) {
        let owner = linked(&app, "auto-match@acme.sa", "966500001702").await;
        let token = &owner.token;
        let greeting = rule(&app, token, json!({"name": "ترحيب", "matchType": "any", "response": {"type": "text", "text": "أهلاً بك"}})).await;
        let hello = rule(&app, token, json!({"name": "مرحبا", "matchType": "exact", "trigger": "مرحبا", "priority": 5, "response": {"type": "text", "text": "مرحباً بك"}})).await;
        let prices = rule(&app, token, json!({"name": "الأسعار", "matchType": "contains", "trigger": "أسعار", "priority": 10, "response": {"type": "text", "text": "قائمة الأسعار: …"}})).await;
        let order = rule(&app, token, json!({"name": "رقم الطلب", "matchType": "startsWith", "trigger": "طلب رقم ١٢", "priority": 10, "response": {"type": "text", "text": "طلبك في الطريق"}})).await;
        let pattern = rule(&app, token, json!({"name": "order", "matchType": "regex", "trigger": "^(order|طلب)\\s*#?\\d+$", "priority": 20, "response": {"type": "text", "text": "tracking"}})).await;

        for (text, expected) in [
            ("مَرْحَباً!", &hello),
            ("MARHABA", &greeting),
            ("كم الاسعار عندكم؟", &prices),
            ("طلب رقم 12 وين وصل", &order),
            ("ORDER #٤٢", &pattern),
            ("طلب 42", &pattern),
            ("👍", &greeting),
        ] {
            let result = test_rules(&app, token, json!({"text": text})).await;
            assert_eq!(result["ruleId"], expected["id"], "{text}: {result}");
            assert_eq!(result["reason"], json!("answers"));
        }
        // The rules come in the order they are tried, each with its verdict.
        let result = test_rules(&app, token, json!({"text": "كم الأسعار"})).await;
        let verdicts: Vec<(Value, Value)> = result["rules"].as_array().expect("rules").iter().map(|r| (r["name"].clone(), r["verdict"].clone())).collect();
        assert_eq!(verdicts, vec![
            (json!("order"), json!("no_match")),
            (json!("الأسعار"), json!("answers")),
            (json!("رقم الطلب"), json!("not_reached")),
            (json!("مرحبا"), json!("not_reached")),
            (json!("ترحيب"), json!("not_reached")),
        ]);
        let (_, list) = app.get("/api/v1/whatsapp/auto-replies", token).await;
        let names: Vec<Value> = list["data"]["autoReplies"].as_array().expect("list").iter().map(|r| r["name"].clone()).collect();
        assert_eq!(names, vec![json!("order"), json!("الأسعار"), json!("رقم الطلب"), json!("مرحبا"), json!("ترحيب")]);

        // Switched off, a rule is passed over; the test box says so.
        let (status, body) = app.put(&format!("/api/v1/whatsapp/auto-replies/{}", prices["id"].as_str().expect("id")), token, json!({"isActive": false})).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let result = test_rules(&app, token, json!({"text": "الأسعار"})).await;
        assert_eq!((result["ruleId"].clone(), result["rules"][1]["verdict"].clone()), (greeting["id"].clone(), json!("inactive")), "{result}");

        // Mistakes are named before anything is saved.
        for (body, field, code) in [
            (json!({"name": "x", "matchType": "regex", "trigger": "(unclosed", "response": {"type": "text", "text": "x"}}), "trigger", "invalid_regex"),
            (json!({"name": "x", "matchType": "regex", "trigger": "\\w{1000}\\w{1000}", "response": {"type": "text", "text": "x"}}), "trigger", "invalid_regex"),
            (json!({"name": "x", "matchType": "exact", "trigger": "", "response": {"type": "text", "text": "x"}}), "trigger", "invalid"),
            (json!({"name": "x", "matchType": "like", "trigger": "a", "response": {"type": "text", "text": "x"}}), "matchType", "invalid"),
            (json!({"name": "x", "matchType": "any", "response": {"type": "text", "text": "طلبك {{order}}"}}), "response", "template_variable_missing"),
            (json!({"name": "x", "matchType": "any", "response": {"type": "text", "text": "{{contact.age}}"}}), "response", "invalid_variable"),
            (json!({"name": "x", "matchType": "any", "response": {"type": "template", "template": "no_such"}}), "response", "invalid"),
            (json!({"name": "x", "matchType": "any", "response": {"type": "media", "mediaId": "0190aaaa-0000-7000-8000-000000000000"}}), "response", "invalid"),
            (json!({"name": "x", "matchType": "any", "response": {"type": "text", "text": "x"}, "sessionName": "sales"}), "sessionName", "invalid"),
            (json!({"name": "x", "matchType": "any", "response": {"type": "text", "text": "x"}, "conditions": {"timeRange": {"start": "9", "end": "17:00"}}}), "conditions.timeRange", "invalid"),
            (json!({"name": "x", "matchType": "any", "response": {"type": "text", "text": "x"}, "conditions": {"days": ["someday"]}}), "conditions.days", "invalid"),
            (json!({"name": "x", "matchType": "any", "response": {"type": "text", "text": "x"}, "cooldownMinutes": -1}), "cooldownMinutes", "invalid"),
            (json!({"name": "x", "matchType": "any", "response": {"type": "text", "text": "x"}, "priority": 1001}), "priority", "invalid"),
        ] {
            let result = app.post("/api/v1/whatsapp/auto-replies", token, body.clone()).await;
            assert_error(&result, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
            let fields = &result.1["error"]["details"]["fields"];
            assert!(fields.as_array().expect("fields").iter().any(|f| f["field"] == field && f["code"] == code), "{body}: {}", result.1);
        }
        let (_, list) = app.get("/api/v1/whatsapp/auto-replies", token).await;
        assert_eq!(list["data"]["pagination"]["total"], json!(5), "nothing saved");

        // Agents read and try the rules; they do not write them.
        let agent = app.add_user(&owner, "auto-agent@acme.sa", "agent").await;
        let (status, _) = app.get("/api/v1/whatsapp/auto-replies", &agent.token).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(test_rules(&app, &agent.token, json!({"text": "مرحبا"})).await["ruleId"], hello["id"]);
        assert_error(&app.post("/api/v1/whatsapp/auto-replies", &agent.token, json!({"name": "x", "matchType": "any", "response": {"type": "text", "text": "x"}})).await, StatusCode::FORBIDDEN, "FORBIDDEN");
        assert_error(&app.delete(&format!("/api/v1/whatsapp/auto-replies/{}", hello["id"].as_str().expect("id")), &agent.token).await, StatusCode::FORBIDDEN, "FORBIDDEN");
        let (status, _) = app.delete(&format!("/api/v1/whatsapp/auto-replies/{}", hello["id"].as_str().expect("id")), token).await;
        assert_eq!(status, StatusCode::OK);
        assert_error(&app.get(&format!("/api/v1/whatsapp/auto-replies/{}", hello["id"].as_str().expect("id")), token).await, StatusCode::NOT_FOUND, "NOT_FOUND");
    }

    async fn no_loop_no_flood_no_answer_to_the_blocked_or_an_agents_chat(app: TestApp) {
        let owner = linked(&app, "auto-guard@acme.sa", "966500001703").await;
        let token = &owner.token;
        move_clock_to(&app, "2027-02-01T09:00:00Z");
        let welcome = rule(&app, token, json!({"name": "welcome", "matchType": "any", "response": {"type": "text", "text": "شكراً لرسالتك"}})).await;

        // Once per cooldown: three messages in a row get one answer.
        for text in ["مرحبا", "هل أنتم هنا؟", "؟"] {
            writes(&app, token, "966551170101", text).await;
        }
        assert_eq!(texts_to(&app, token, "966551170101").await.len(), 1);
        let result = test_rules(&app, token, json!({"text": "مرحبا", "from": "966551170101"})).await;
        assert_eq!(result["reason"], json!("cooldown"), "{result}");
        assert!(result["rules"][0]["cooldownUntil"].is_string(), "{result}");
        app.clock.advance(std::time::Duration::from_secs(61 * 60));
        writes(&app, token, "966551170101", "مرحبا مرة أخرى").await;
        assert_eq!(texts_to(&app, token, "966551170101").await.len(), 2, "after the cooldown");

        // Never more than five automated answers to a contact in an hour, whatever the rules.
        let (status, _) = app.put(&format!("/api/v1/whatsapp/auto-replies/{}", welcome["id"].as_str().expect("id")), token, json!({"cooldownMinutes": 0})).await;
        assert_eq!(status, StatusCode::OK);
        for i in 0..7 {
            writes(&app, token, "966551170102", &format!("رسالة {i}")).await;
        }
        assert_eq!(texts_to(&app, token, "966551170102").await.len(), 5);
        assert_eq!(test_rules(&app, token, json!({"text": "x", "from": "966551170102"})).await["reason"], json!("hourly_limit"));
        app.clock.advance(std::time::Duration::from_secs(61 * 60));
        writes(&app, token, "966551170102", "بعد ساعة").await;
        assert_eq!(texts_to(&app, token, "966551170102").await.len(), 6);

        // Nothing to a blocked contact.
        writes(&app, token, "966551170103", "أول رسالة").await;
        let (_, contacts) = app.get("/api/v1/whatsapp/contacts?search=966551170103", token).await;
        let contact_id = contacts["data"]["contacts"][0]["id"].as_str().expect("contact").to_owned();
        let (status, _) = app.put(&format!("/api/v1/whatsapp/contacts/{contact_id}"), token, json!({"isBlocked": true})).await;
        assert_eq!(status, StatusCode::OK);
        writes(&app, token, "966551170103", "رسالة وأنا محظور").await;
        assert_eq!(texts_to(&app, token, "966551170103").await.len(), 1, "only the answer from before the block");
        assert_eq!(test_rules(&app, token, json!({"text": "x", "from": "966551170103"})).await["reason"], json!("contact_blocked"));

        // Nothing in a conversation an agent handles; it answers again once resolved.
        writes(&app, token, "966551170104", "مرحبا").await;
        let (_, list) = app.get("/api/v1/whatsapp/conversations?search=966551170104", token).await;
        let conversation = list["data"]["conversations"][0]["id"].as_str().expect("conversation").to_owned();
        // The automated answer leaves the customer waiting for a person.
        assert!(list["data"]["conversations"][0]["waitingSince"].is_string(), "{list}");
        assert_eq!(list["data"]["conversations"][0]["firstResponseAt"], Value::Null, "{list}");
        let (status, body) = app.put(&format!("/api/v1/whatsapp/conversations/{conversation}"), token, json!({"assigneeId": owner.user_id})).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        writes(&app, token, "966551170104", "أين طلبي؟").await;
        assert_eq!(texts_to(&app, token, "966551170104").await.len(), 1, "the agent answers, not the rule");
        assert_eq!(test_rules(&app, token, json!({"text": "x", "from": "966551170104"})).await["reason"], json!("agent_handling"));
        // Resolved, the customer's next message reopens it for the same agent.
        let (status, _) = app.put(&format!("/api/v1/whatsapp/conversations/{conversation}"), token, json!({"status": "resolved"})).await;
        assert_eq!(status, StatusCode::OK);
        writes(&app, token, "966551170104", "شكراً").await;
        assert_eq!(texts_to(&app, token, "966551170104").await.len(), 1, "reopened, still the agent's");
        let (status, _) = app.put(&format!("/api/v1/whatsapp/conversations/{conversation}"), token, json!({"assigneeId": null})).await;
        assert_eq!(status, StatusCode::OK);
        writes(&app, token, "966551170104", "هل من أحد؟").await;
        assert_eq!(texts_to(&app, token, "966551170104").await.len(), 2, "unassigned: the rules answer again");

        // Our own messages are never answered: an outgoing message makes no answer.
        let (status, _) = app.post("/api/v1/whatsapp/messages/send", token, json!({"to": "966551170105", "text": "عرض اليوم"})).await;
        assert_eq!(status, StatusCode::CREATED);
        settled(&app).await;
        assert_eq!(texts_to(&app, token, "966551170105").await, ["عرض اليوم"]);
    }

    async fn stop_words_opt_a_customer_out_with_one_confirmation(app: TestApp) {
        let owner = linked(&app, "auto-optout@acme.sa", "966500001704").await;
        let token = &owner.token;
        let customer = "966551170201";
        let (status, hook) = app.post("/api/v1/webhooks", token, json!({"url": "http://127.0.0.1:9/hook", "events": ["contact.updated", "message.sent"]})).await;
        assert_eq!(status, StatusCode::CREATED, "{hook}");
        let hook = hook["data"]["webhook"]["id"].as_str().expect("hook").to_owned();
        for (name, category) in [("weekly_offer", "marketing"), ("order_ready", "utility")] {
            let (status, body) = app.post("/api/v1/whatsapp/templates", token, json!({"name": name, "category": category, "content": "طلبك جاهز يا {{contact.name|عميلنا}}"})).await;
            assert_eq!(status, StatusCode::CREATED, "{body}");
        }
        rule(&app, token, json!({"name": "any", "matchType": "any", "response": {"type": "text", "text": "وصلت رسالتك"}, "cooldownMinutes": 0})).await;

        writes(&app, token, customer, "مرحبا").await;
        writes(&app, token, customer, "إلغاء").await;
        let (_, contacts) = app.get(&format!("/api/v1/whatsapp/contacts?search={customer}"), token).await;
        let contact = &contacts["data"]["contacts"][0];
        assert_eq!(contact["optedOut"], json!(true), "{contact}");
        assert!(contact["optedOutAt"].is_string());
        let sent = sent_to(&app, token, customer).await;
        assert_eq!(sent.len(), 2, "the rule's answer, then one confirmation: {sent:?}");
        assert!(sent[1]["content"]["text"].as_str().expect("text").contains("تم إلغاء اشتراكك"), "{}", sent[1]);
        assert_eq!(sent[1]["metadata"]["automation"]["kind"], json!("opt_out"));
        assert_eq!(sent[1]["metadata"]["automation"]["id"], json!("stop"));

        // A second stop word: no second confirmation (and no auto-reply to it).
        writes(&app, token, customer, "STOP").await;
        assert_eq!(sent_to(&app, token, customer).await.len(), 2);

        // Marketing templates stay away; utility ones and agents' answers still go.
        let refused = app.post("/api/v1/whatsapp/messages/send-template", token, json!({"to": customer, "template": "weekly_offer"})).await;
        assert_error(&refused, StatusCode::CONFLICT, "CONTACT_OPTED_OUT");
        let (status, body) = app.post("/api/v1/whatsapp/messages/send-template", token, json!({"to": customer, "template": "order_ready"})).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let (status, body) = app.post("/api/v1/whatsapp/messages/send", token, json!({"to": customer, "text": "بخصوص طلبك"})).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        assert_eq!(test_rules(&app, token, json!({"text": "stop", "from": customer})).await["reason"], json!("already_opted_out"));

        // A start word subscribes them again, with its own confirmation.
        writes(&app, token, customer, "اشتراك").await;
        let (_, contacts) = app.get(&format!("/api/v1/whatsapp/contacts?search={customer}"), token).await;
        assert_eq!(contacts["data"]["contacts"][0]["optedOut"], json!(false));
        let texts = texts_to(&app, token, customer).await;
        assert_eq!(texts.last().map(String::as_str), Some("أهلاً بعودتك! تم تفعيل اشتراكك من جديد."), "{texts:?}");
        let (status, _) = app.post("/api/v1/whatsapp/messages/send-template", token, json!({"to": customer, "template": "weekly_offer"})).await;
        assert_eq!(status, StatusCode::CREATED);

        // Each change of subscription is a contact.updated for the CRM.
        let (_, deliveries) = app.get(&format!("/api/v1/webhooks/{hook}/deliveries?limit=100"), token).await;
        let updated = deliveries["data"]["deliveries"].as_array().expect("deliveries").iter().filter(|d| d["eventType"] == "contact.updated").count();
        assert_eq!(updated, 2, "{deliveries}");

        // The organization's own words, in English now.
        let (status, body) = app.put("/api/v1/organization", token, json!({"optOut": {"stopWords": ["توقف", "unsubscribe"], "startWords": ["عودة"]}, "defaultLanguage": "en"})).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["data"]["organization"]["optOut"], json!({"stopWords": ["توقف", "unsubscribe"], "startWords": ["عودة"]}));
        let other = "966551170202";
        writes(&app, token, other, "STOP").await;
        let (_, contacts) = app.get(&format!("/api/v1/whatsapp/contacts?search={other}"), token).await;
        assert_eq!(contacts["data"]["contacts"][0]["optedOut"], json!(false), "STOP is no stop word here");
        writes(&app, token, other, "Unsubscribe!").await;
        let (_, contacts) = app.get(&format!("/api/v1/whatsapp/contacts?search={other}"), token).await;
        assert_eq!(contacts["data"]["contacts"][0]["optedOut"], json!(true));
        let texts = texts_to(&app, token, other).await;
        assert!(texts.last().is_some_and(|t| t.contains("send \"عودة\"")), "{texts:?}");
        assert_error(&app.put("/api/v1/organization", token, json!({"optOut": {"stopWords": ["stop"], "startWords": ["STOP"]}})).await, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
        assert_error(&app.put("/api/v1/organization", token, json!({"optOut": {"stopWords": [], "startWords": ["x"]}})).await, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
    }
}
