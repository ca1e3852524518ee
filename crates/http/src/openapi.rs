//! Completes the OpenAPI document the routes generate, so that it says everything the server
//! does: every status an operation can answer (with the error envelope's schema), typed query
//! parameters, and the limits the server checks on each field. A client generated from it, or
//! a fuzzer such as schemathesis, then agrees with the server.
//!
//! What every route shares is added here once rather than on each handler: 401 on routes that
//! need a token, 400/413/415 on routes that take a body, 400 on routes with parameters, 503
//! (`STORAGE_UNAVAILABLE`) on routes that touch the store. The field limits live in one table
//! ([`FIELDS`]) next to the rules they state; a test checks that each entry still names a
//! field of the document.

use serde_json::{json, Map, Value};

/// No C0 or C1 control character anywhere (NUL included).
const NO_CONTROLS: &str = "^[^\\u0000-\\u001F\\u007F-\\u009F]*$";
/// Like [`NO_CONTROLS`], and not only whitespace: the server trims and then needs a character.
const SOME_TEXT: &str =
    "^[^\\u0000-\\u001F\\u007F-\\u009F]*[^\\s\\u0000-\\u001F\\u007F-\\u009F][^\\u0000-\\u001F\\u007F-\\u009F]*$";
/// Text of several lines (a template's body): no control character but the line feed, and
/// not only whitespace.
const SOME_LINES: &str = "^[^\\u0000-\\u0009\\u000B-\\u001F\\u007F-\\u009F]*[^\\s\\u0000-\\u001F\\u007F-\\u009F][^\\u0000-\\u0009\\u000B-\\u001F\\u007F-\\u009F]*$";
/// A message's text: anything but NUL, and not only whitespace.
const MESSAGE_TEXT: &str = "^[^\\u0000]*[^\\s\\u0000][^\\u0000]*$";
/// Free text that may span lines (notes): no control character but the line feed.
const LINES: &str = "^[^\\u0000-\\u0009\\u000B-\\u001F\\u007F-\\u009F]*$";
/// A phone number as people write it: an optional +, then 8 to 15 digits (Latin,
/// Arabic-Indic or Persian) among spaces, dashes, dots and brackets.
const PHONE: &str = "^\\s*\\+?[ ().-]*([0-9\\u0660-\\u0669\\u06F0-\\u06F9][ ().-]*){8,15}\\s*$";
/// A session's name.
const SESSION_NAME: &str = "^[a-z0-9_-]{1,32}$";
const MEDIA_TYPE: &str = "^[!-~]+/[!-~]+( *;[ -~]*)?$";
/// `whsec_` and the standard base64 (padded, no stray bits) of 16 to 64 bytes: five full
/// groups of four characters and a tail, up to twenty-one groups and at most a one-byte tail.
const WEBHOOK_SECRET: &str = "^\\s*whsec_(([A-Za-z0-9+/]{4}){5}([A-Za-z0-9+/][AQgw]==|[A-Za-z0-9+/]{2}[AEIMQUYcgkosw048]=)|([A-Za-z0-9+/]{4}){6,20}([A-Za-z0-9+/][AQgw]==|[A-Za-z0-9+/]{2}[AEIMQUYcgkosw048]=)?|([A-Za-z0-9+/]{4}){21}([A-Za-z0-9+/][AQgw]==)?)\\s*$";
/// Standard base64 of any length, padded, with no stray bits.
const BASE64: &str =
    "^\\s*([A-Za-z0-9+/]{4})*([A-Za-z0-9+/][AQgw]==|[A-Za-z0-9+/]{2}[AEIMQUYcgkosw048]=)?\\s*$";
/// A template's name: a-z, 0-9 and _.
const TEMPLATE_NAME: &str = "^\\s*[a-z0-9_]{1,512}\\s*$";
/// A template's language as Meta names them (`ar`, `en_US`).
const LANGUAGE: &str = "^\\s*[a-z]{2,3}(_[A-Z]{2,4})?\\s*$";
/// A file of the media library (its id).
const MEDIA_ID: &str = "^\\s*[A-Za-z0-9_-]{1,64}\\s*$";
/// A local date and time (`2027-03-15T09:00`), or one with an offset.
const LOCAL_TIME: &str =
    "^\\s*\\d{4}-\\d{2}-\\d{2}[T ]\\d{2}:\\d{2}(:\\d{2}(\\.\\d+)?)?(Z|[+-]\\d{2}:\\d{2})?\\s*$";
/// A time of day, `HH:MM`.
const CLOCK_TIME: &str = "^\\s*(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)\\s*$";
const WEEKDAYS: &[&str] = &[
    "sunday",
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
];
/// An `Idempotency-Key`: 1 to 255 printable ASCII characters.
const IDEMPOTENCY_KEY: &str = "^[ -~]*[!-~][ -~]*$";
const EVENTS: &[&str] = &[
    "message.received",
    "message.sent",
    "message.status",
    "message.reaction",
    "session.status",
    "session.qr",
    "contact.created",
    "contact.updated",
    "conversation.created",
    "conversation.updated",
    "scheduled_message.sent",
    "broadcast.progress",
    "broadcast.completed",
];

/// The file types a media endpoint takes (what its bytes must be), as the upload checks them.
fn accepted_types(kind: &str) -> &'static str {
    match kind {
        "image" => "image/jpeg, image/png, image/webp, image/gif",
        "video" => "video/mp4, video/3gpp, video/quicktime, video/webm, video/x-matroska",
        "audio" => {
            "audio/ogg, audio/mpeg, audio/mp4, audio/aac, audio/amr, audio/x-wav, audio/opus"
        }
        _ => "application/octet-stream",
    }
}

fn text(min: u64, max: u64, pattern: &str) -> Value {
    json!({"minLength": min, "maxLength": max, "pattern": pattern})
}

fn one_of(values: &[&str]) -> Value {
    json!({ "enum": values })
}

/// Constraints per (schema, property), as the server checks them.
fn fields() -> Vec<(&'static str, &'static str, Value)> {
    let name = || text(1, 100, SOME_TEXT);
    let email = || json!({"maxLength": 254, "format": "email"});
    let password = || json!({"minLength": 8, "maxLength": 128});
    let role = || one_of(&["owner", "admin", "agent"]);
    // The digits are bounded by the pattern; the spaces and dashes around them are not.
    let phone = || json!({"pattern": PHONE});
    let skills = || json!({"maxItems": 20, "items": text(1, 50, SOME_TEXT)});
    let events = || json!({"minItems": 1, "items": one_of(EVENTS)});
    let secret = || json!({"maxLength": 200, "pattern": WEBHOOK_SECRET});
    let url = || json!({"minLength": 1, "maxLength": 2048, "pattern": "^\\s*[hH][tT][tT][pP][sS]?://[^\\s@/?#]+([/?#]\\S*)?\\s*$"});
    vec![
        ("RegisterRequest", "organizationName", name()),
        ("RegisterRequest", "name", name()),
        ("RegisterRequest", "email", email()),
        ("RegisterRequest", "password", password()),
        ("ChangePasswordRequest", "newPassword", password()),
        ("CreateUserRequest", "name", name()),
        ("CreateUserRequest", "email", email()),
        ("CreateUserRequest", "password", password()),
        ("CreateUserRequest", "role", role()),
        ("CreateUserRequest", "skills", skills()),
        (
            "CreateUserRequest",
            "maxChats",
            json!({"minimum": 1, "maximum": 1000}),
        ),
        ("UpdateUserRequest", "name", name()),
        ("UpdateUserRequest", "role", role()),
        ("UpdateUserRequest", "skills", skills()),
        (
            "UpdateUserRequest",
            "maxChats",
            json!({"minimum": 1, "maximum": 1000}),
        ),
        ("UpdateUserRequest", "password", password()),
        ("CreateApiKeyRequest", "name", text(1, 100, SOME_TEXT)),
        ("CreateApiKeyRequest", "role", role()),
        (
            "SetPlanRequest",
            "plan",
            one_of(&["free", "basic", "pro", "enterprise"]),
        ),
        (
            "CreateSessionRequest",
            "sessionName",
            json!({"pattern": SESSION_NAME}),
        ),
        (
            "CreateSessionRequest",
            "engine",
            one_of(&["web", "sandbox"]),
        ),
        ("PairingCodeRequest", "phoneNumber", phone()),
        ("ScanRequest", "phoneNumber", phone()),
        ("SendTextRequest", "to", phone()),
        ("SendTextRequest", "text", text(1, 4096, MESSAGE_TEXT)),
        (
            "SendTextRequest",
            "sessionName",
            json!({"pattern": SESSION_NAME}),
        ),
        ("IncomingRequest", "from", phone()),
        (
            "IncomingRequest",
            "type",
            one_of(&["text", "image", "video", "audio", "document"]),
        ),
        ("IncomingRequest", "text", text(1, 4096, "^[^\\u0000]*$")),
        (
            "IncomingRequest",
            "mimeType",
            json!({"maxLength": 255, "pattern": MEDIA_TYPE}),
        ),
        (
            "IncomingRequest",
            "mediaBase64",
            json!({"contentEncoding": "base64", "pattern": BASE64}),
        ),
        ("IncomingRequest", "messageId", text(1, 128, SOME_TEXT)),
        (
            "ReadRequest",
            "messageId",
            json!({"minLength": 1, "maxLength": 128, "pattern": SOME_TEXT}),
        ),
        (
            "UpdateContactRequest",
            "name",
            json!({"maxLength": 100, "pattern": NO_CONTROLS}),
        ),
        (
            "UpdateContactRequest",
            "notes",
            json!({"maxLength": 2000, "pattern": LINES}),
        ),
        (
            "UpdateContactRequest",
            "relatedCustomer",
            json!({"maxLength": 128, "pattern": NO_CONTROLS}),
        ),
        (
            "UpdateContactRequest",
            "tags",
            json!({"maxItems": 30, "items": text(1, 50, SOME_TEXT)}),
        ),
        (
            "ReadConversationRequest",
            "sessionName",
            json!({"pattern": SESSION_NAME}),
        ),
        (
            "UpdateConversationRequest",
            "status",
            one_of(&["open", "pending", "resolved"]),
        ),
        (
            "UpdateConversationRequest",
            "assigneeId",
            json!({"pattern": "^\\s*[A-Za-z0-9-]{1,64}\\s*$"}),
        ),
        (
            "CreateTemplateRequest",
            "name",
            json!({"pattern": TEMPLATE_NAME}),
        ),
        (
            "CreateTemplateRequest",
            "category",
            one_of(&["marketing", "utility", "authentication"]),
        ),
        (
            "CreateTemplateRequest",
            "language",
            json!({"pattern": LANGUAGE}),
        ),
        (
            "CreateTemplateRequest",
            "content",
            text(1, 1024, SOME_LINES),
        ),
        (
            "CreateTemplateRequest",
            "footer",
            json!({"maxLength": 60, "pattern": LINES}),
        ),
        ("CreateTemplateRequest", "buttons", json!({"maxItems": 10})),
        (
            "UpdateTemplateRequest",
            "name",
            json!({"pattern": TEMPLATE_NAME}),
        ),
        (
            "UpdateTemplateRequest",
            "category",
            one_of(&["marketing", "utility", "authentication"]),
        ),
        (
            "UpdateTemplateRequest",
            "language",
            json!({"pattern": LANGUAGE}),
        ),
        (
            "UpdateTemplateRequest",
            "content",
            text(1, 1024, SOME_LINES),
        ),
        (
            "UpdateTemplateRequest",
            "footer",
            json!({"maxLength": 60, "pattern": LINES}),
        ),
        ("UpdateTemplateRequest", "buttons", json!({"maxItems": 10})),
        (
            "HeaderFields",
            "type",
            one_of(&["text", "image", "video", "document"]),
        ),
        (
            "HeaderFields",
            "text",
            json!({"maxLength": 60, "pattern": NO_CONTROLS}),
        ),
        ("HeaderFields", "mediaId", json!({"pattern": MEDIA_ID})),
        (
            "ButtonFields",
            "type",
            one_of(&["url", "call", "quick_reply"]),
        ),
        ("ButtonFields", "text", text(1, 25, SOME_TEXT)),
        ("ButtonFields", "phone", json!({"pattern": PHONE})),
        ("SendTemplateRequest", "to", phone()),
        (
            "SendTemplateRequest",
            "template",
            json!({"pattern": TEMPLATE_NAME}),
        ),
        (
            "SendTemplateRequest",
            "language",
            json!({"pattern": LANGUAGE}),
        ),
        (
            "SendTemplateRequest",
            "sessionName",
            json!({"pattern": SESSION_NAME}),
        ),
        (
            "SendTemplateRequest",
            "variables",
            json!({"maxProperties": 50, "additionalProperties": {"type": "string", "maxLength": 1024, "pattern": LINES}}),
        ),
        (
            "CreateQuickReplyRequest",
            "shortCode",
            json!({"pattern": "^/?[A-Za-z0-9_\\u0620-\\u064A\\u0660-\\u0669-]{1,32}$"}),
        ),
        (
            "CreateQuickReplyRequest",
            "content",
            json!({"maxLength": 4096}),
        ),
        (
            "CreateQuickReplyRequest",
            "visibility",
            one_of(&["organization", "personal"]),
        ),
        (
            "CreateQuickReplyRequest",
            "mediaId",
            json!({"pattern": MEDIA_ID}),
        ),
        (
            "UpdateQuickReplyRequest",
            "shortCode",
            json!({"pattern": "^/?[A-Za-z0-9_\\u0620-\\u064A\\u0660-\\u0669-]{1,32}$"}),
        ),
        (
            "UpdateQuickReplyRequest",
            "content",
            json!({"maxLength": 4096}),
        ),
        (
            "UpdateQuickReplyRequest",
            "visibility",
            one_of(&["organization", "personal"]),
        ),
        (
            "UpdateQuickReplyRequest",
            "mediaId",
            json!({"pattern": MEDIA_ID}),
        ),
        ("CreateAutoReplyRequest", "name", text(1, 100, SOME_TEXT)),
        (
            "CreateAutoReplyRequest",
            "trigger",
            json!({"maxLength": 500, "pattern": NO_CONTROLS}),
        ),
        (
            "CreateAutoReplyRequest",
            "matchType",
            one_of(&["exact", "contains", "startsWith", "regex", "any"]),
        ),
        (
            "CreateAutoReplyRequest",
            "sessionName",
            json!({"pattern": SESSION_NAME}),
        ),
        (
            "CreateAutoReplyRequest",
            "priority",
            json!({"minimum": 0, "maximum": 1000}),
        ),
        (
            "CreateAutoReplyRequest",
            "cooldownMinutes",
            json!({"minimum": 0, "maximum": 43200}),
        ),
        ("UpdateAutoReplyRequest", "name", text(1, 100, SOME_TEXT)),
        (
            "UpdateAutoReplyRequest",
            "trigger",
            json!({"maxLength": 500, "pattern": NO_CONTROLS}),
        ),
        (
            "UpdateAutoReplyRequest",
            "matchType",
            one_of(&["exact", "contains", "startsWith", "regex", "any"]),
        ),
        (
            "UpdateAutoReplyRequest",
            "sessionName",
            json!({"pattern": SESSION_NAME}),
        ),
        (
            "UpdateAutoReplyRequest",
            "priority",
            json!({"minimum": 0, "maximum": 1000}),
        ),
        (
            "UpdateAutoReplyRequest",
            "cooldownMinutes",
            json!({"minimum": 0, "maximum": 43200}),
        ),
        ("ReplyView", "type", one_of(&["text", "template", "media"])),
        ("ReplyView", "text", json!({"maxLength": 4096})),
        ("ReplyView", "template", json!({"pattern": TEMPLATE_NAME})),
        ("ReplyView", "language", json!({"pattern": LANGUAGE})),
        ("ReplyView", "mediaId", json!({"pattern": MEDIA_ID})),
        (
            "ReplyView",
            "variables",
            json!({"maxProperties": 50, "additionalProperties": {"type": "string", "maxLength": 1024, "pattern": NO_CONTROLS}}),
        ),
        (
            "AutomatedMessageView",
            "type",
            one_of(&["text", "template", "media"]),
        ),
        ("AutomatedMessageView", "text", json!({"maxLength": 4096})),
        (
            "AutomatedMessageView",
            "caption",
            json!({"maxLength": 1024}),
        ),
        (
            "AutomatedMessageView",
            "template",
            json!({"pattern": TEMPLATE_NAME}),
        ),
        (
            "AutomatedMessageView",
            "language",
            json!({"pattern": LANGUAGE}),
        ),
        (
            "AutomatedMessageView",
            "mediaId",
            json!({"pattern": MEDIA_ID}),
        ),
        (
            "AutomatedMessageView",
            "variables",
            json!({"maxProperties": 50, "additionalProperties": {"type": "string", "maxLength": 1024, "pattern": NO_CONTROLS}}),
        ),
        ("CreateBroadcastRequest", "name", text(1, 100, SOME_TEXT)),
        (
            "CreateBroadcastRequest",
            "sessionName",
            json!({"pattern": "^[a-z0-9_-]{1,32}$"}),
        ),
        ("UpdateBroadcastRequest", "name", text(1, 100, SOME_TEXT)),
        ("RecipientsView", "type", one_of(&["filter", "list"])),
        (
            "RecipientsView",
            "phones",
            json!({"minItems": 1, "maxItems": 100000, "items": {"maxLength": 64}}),
        ),
        (
            "FiltersView",
            "tags",
            json!({"maxItems": 30, "items": text(1, 50, SOME_TEXT)}),
        ),
        (
            "FiltersView",
            "excludeTags",
            json!({"maxItems": 30, "items": text(1, 50, SOME_TEXT)}),
        ),
        ("FiltersView", "tagsMode", one_of(&["any", "all"])),
        (
            "FiltersView",
            "lastMessageBefore",
            json!({"format": "date-time"}),
        ),
        (
            "FiltersView",
            "lastMessageAfter",
            json!({"format": "date-time"}),
        ),
        (
            "PacingView",
            "perMinute",
            json!({"minimum": 0, "maximum": 6000}),
        ),
        (
            "PacingView",
            "jitterPercent",
            json!({"minimum": 0, "maximum": 90}),
        ),
        ("ScheduleView", "sendAt", json!({"pattern": LOCAL_TIME})),
        ("CreateScheduledMessageRequest", "to", phone()),
        (
            "CreateScheduledMessageRequest",
            "scheduleAt",
            json!({"pattern": LOCAL_TIME}),
        ),
        (
            "CreateScheduledMessageRequest",
            "sessionName",
            json!({"pattern": "^([a-z0-9_-]{1,32})?$"}),
        ),
        ("UpdateScheduledMessageRequest", "to", phone()),
        (
            "UpdateScheduledMessageRequest",
            "scheduleAt",
            json!({"pattern": LOCAL_TIME}),
        ),
        (
            "RepeatView",
            "frequency",
            one_of(&["daily", "weekly", "monthly"]),
        ),
        (
            "RepeatView",
            "interval",
            json!({"minimum": 1, "maximum": 365}),
        ),
        (
            "RepeatView",
            "count",
            json!({"minimum": 1, "maximum": 10000}),
        ),
        (
            "RepeatView",
            "until",
            json!({"pattern": "^\\s*\\d{4}-\\d{2}-\\d{2}([T ]\\d{2}:\\d{2}(:\\d{2})?)?\\s*$"}),
        ),
        ("TimeRangeView", "start", json!({"pattern": CLOCK_TIME})),
        ("TimeRangeView", "end", json!({"pattern": CLOCK_TIME})),
        (
            "ConditionsView",
            "days",
            json!({"maxItems": 7, "items": one_of(WEEKDAYS)}),
        ),
        ("TestAutoReplyRequest", "text", json!({"maxLength": 4096})),
        (
            "TestAutoReplyRequest",
            "from",
            json!({"pattern": format!("^$|{PHONE}")}),
        ),
        ("TestAutoReplyRequest", "at", json!({"format": "date-time"})),
        (
            "TestAutoReplyRequest",
            "sessionName",
            json!({"pattern": "^([a-z0-9_-]{1,32})?$"}),
        ),
        (
            "OptOutView",
            "stopWords",
            json!({"minItems": 1, "maxItems": 20, "items": text(1, 50, SOME_TEXT)}),
        ),
        (
            "OptOutView",
            "startWords",
            json!({"minItems": 1, "maxItems": 20, "items": text(1, 50, SOME_TEXT)}),
        ),
        ("CreateWebhookRequest", "url", url()),
        ("CreateWebhookRequest", "events", events()),
        ("CreateWebhookRequest", "secret", secret()),
        ("UpdateWebhookRequest", "url", url()),
        ("UpdateWebhookRequest", "events", events()),
        ("UpdateWebhookRequest", "secret", secret()),
    ]
}

/// Constraints of query parameters, by name (the same everywhere they appear, but a listing's
/// `status`, which is its own things' statuses).
fn parameter(path: &str, name: &str) -> Option<Value> {
    Some(match name {
        "status" if path.ends_with("/recipients") => json!({"type": "string",
            "enum": ["queued", "sent", "delivered", "read", "failed", "skipped", "cancelled"]}),
        "status" if path.contains("/broadcasts") => json!({"type": "string",
            "enum": ["draft", "scheduled", "running", "paused", "completed", "cancelled"]}),
        "status" if path.contains("/scheduled-messages") => {
            json!({"type": "string", "enum": ["active", "paused", "completed", "cancelled"]})
        }
        // The calendar's first local day and how many days it shows.
        "from" => json!({"type": "string", "format": "date"}),
        "days" => json!({"type": "integer", "minimum": 1, "maximum": 62}),
        "page" => json!({"type": "integer", "minimum": 1, "maximum": 1_000_000}),
        "limit" => json!({"type": "integer", "minimum": 1, "maximum": 100}),
        // Empty means "all sessions", like leaving it out.
        "sessionName" => json!({"type": "string", "pattern": "^([a-z0-9_-]{1,32})?$"}),
        "direction" => json!({"type": "string", "enum": ["incoming", "outgoing"]}),
        // Empty means "every contact", like leaving it out.
        "contact" => json!({"type": "string", "pattern": format!("^$|{PHONE}")}),
        "search" => json!({"type": "string", "pattern": "^[^\\u0000]*$"}),
        "status" => json!({"type": "string", "enum": ["open", "pending", "resolved"]}),
        // Empty means "anyone's", like leaving it out.
        "assignee" => {
            json!({"type": "string", "pattern": "^\\s*(me|unassigned|[A-Za-z0-9-]{1,64})?\\s*$"})
        }
        _ => return None,
    })
}

/// The schema of every failed response.
fn error_envelope() -> Value {
    json!({
        "type": "object",
        "description": "Every failure: `success` false, a localized `message`, and a machine-readable `error.code`.",
        "required": ["success", "message", "data", "error"],
        "properties": {
            "success": {"type": "boolean", "enum": [false]},
            "message": {"type": "string", "description": "Localized: Arabic by default, English with `Accept-Language: en`."},
            "data": {"type": "null"},
            "error": {
                "type": "object",
                "required": ["code", "details"],
                "properties": {
                    "code": {"type": "string", "pattern": "^[A-Z][A-Z0-9_]*$", "description": "What went wrong, e.g. VALIDATION_ERROR, SESSION_NOT_CONNECTED."},
                    "details": {"description": "What the code needs said: the invalid fields, the time to wait…"}
                }
            }
        }
    })
}

fn default_description(status: &str) -> &'static str {
    match status {
        "400" => "VALIDATION_ERROR or INVALID_JSON: `details` says which field and why",
        "401" => "UNAUTHORIZED (no token) or INVALID_TOKEN (expired, revoked or unknown)",
        "403" => "FORBIDDEN: the caller's role may not do this",
        "404" => "NOT_FOUND: no such thing in the caller's organization",
        "409" => "The thing is not in a state that allows this",
        "413" => "PAYLOAD_TOO_LARGE or FILE_TOO_LARGE",
        "415" => "UNSUPPORTED_MEDIA_TYPE: the body is not of the type this route takes",
        "422" => "The request cannot be processed as it is",
        "429" => "RATE_LIMITED: wait for `Retry-After` seconds",
        "503" => "STORAGE_UNAVAILABLE: the storage cannot take writes now (nothing was saved); retry after `Retry-After` seconds",
        _ => "The error envelope",
    }
}

/// Applies everything above to the generated document.
pub fn complete(mut doc: Value) -> Value {
    if let Some(schemas) = doc
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    {
        schemas.insert("ErrorEnvelope".into(), error_envelope());
        for (schema, property, constraints) in fields() {
            if let Some(target) = schemas
                .get_mut(schema)
                .and_then(|s| s.pointer_mut(&format!("/properties/{property}")))
            {
                merge(target, &constraints);
                // An optional field may be null (it means "not given"): an `enum` says so too.
                let nullable = target
                    .get("type")
                    .and_then(Value::as_array)
                    .is_some_and(|t| t.iter().any(|t| t == "null"));
                if let (true, Some(values)) = (
                    nullable,
                    target.get_mut("enum").and_then(Value::as_array_mut),
                ) {
                    values.push(Value::Null);
                }
            }
        }
    }
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else {
        return doc;
    };
    for (path, item) in paths.iter_mut() {
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        for (_, op) in item.iter_mut() {
            complete_operation(path, op);
        }
    }
    for path in [
        "/paths/~1api~1v1~1whatsapp~1messages~1{id}~1media/get/responses/200",
        "/paths/~1api~1v1~1whatsapp~1media~1{id}~1content/get/responses/200",
    ] {
        if let Some(file) = doc.pointer_mut(path) {
            file["content"] = json!({"*/*": {"schema": {"type": "string", "format": "binary"}}});
        }
    }
    // An upload to the media library: the file, and optionally the kind to keep it as.
    if let Some(form) = doc.pointer_mut(
        "/paths/~1api~1v1~1whatsapp~1media/post/requestBody/content/multipart~1form-data",
    ) {
        form["schema"] = json!({"type": "object", "required": ["file"], "properties": {
            "file": {"type": "string", "format": "binary", "description": "The file, at most 16 MB; its type is read from its bytes"},
            "type": {"type": "string", "enum": ["image", "video", "audio", "document"]},
        }});
    }
    if let Some(body) = doc.pointer_mut("/paths/~1api~1v1~1whatsapp~1media/post/requestBody") {
        body["required"] = json!(true);
    }
    // Empty means no caption, like leaving it out.
    let caption = || json!({"caption": {"type": "string", "maxLength": 4096, "pattern": format!("^$|{MESSAGE_TEXT}")}});
    for (kind, extra) in [
        ("image", caption()),
        ("video", caption()),
        ("document", caption()),
        (
            "audio",
            json!({"ptt": {"type": "string", "enum": ["true", "false", "1", "0"], "description": "A voice note"}}),
        ),
    ] {
        let pointer = format!("/paths/~1api~1v1~1whatsapp~1messages~1send-{kind}/post/requestBody/content/multipart~1form-data");
        if let Some(form) = doc.pointer_mut(&pointer) {
            let mut properties = json!({
                "to": {"type": "string", "pattern": PHONE},
                // Empty means the "default" session, like leaving it out.
                "sessionName": {"type": "string", "pattern": "^([a-z0-9_-]{1,32})?$"},
                kind: {"type": "string", "format": "binary", "description": "The file, at most 16 MB; its type is read from its bytes"},
            });
            merge(&mut properties, &extra);
            form["schema"] =
                json!({"type": "object", "required": ["to", kind], "properties": properties});
            form["encoding"] = json!({ kind: {"contentType": accepted_types(kind)} });
        }
        let body = format!("/paths/~1api~1v1~1whatsapp~1messages~1send-{kind}/post/requestBody");
        if let Some(body) = doc.pointer_mut(&body) {
            body["required"] = json!(true);
        }
        let responses = format!("/paths/~1api~1v1~1whatsapp~1messages~1send-{kind}/post/responses");
        if let Some(responses) = doc.pointer_mut(&responses).and_then(Value::as_object_mut) {
            responses.entry("404").or_insert_with(|| {
                json!({"description": "NOT_FOUND: no session of that name",
                       "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorEnvelope"}}}})
            });
        }
    }
    // A message's fields depend on its type: a text needs its text, media its file and type.
    if let Some(incoming) = doc.pointer_mut("/components/schemas/IncomingRequest") {
        incoming["allOf"] = json!([
            {"if": {"properties": {"type": {"const": "text"}}},
             "then": {"required": ["text"], "properties": {"text": {"type": "string"}}}},
            {"if": {"properties": {"type": {"enum": ["image", "video", "audio", "document"]}}},
             "then": {"required": ["mediaBase64", "mimeType"],
                      "properties": {"mediaBase64": {"type": "string"}, "mimeType": {"type": "string"}}}},
        ]);
    }
    doc
}

fn merge(target: &mut Value, constraints: &Value) {
    let (Some(target), Some(constraints)) = (target.as_object_mut(), constraints.as_object())
    else {
        return;
    };
    for (k, v) in constraints {
        match (target.get_mut(k), v) {
            (Some(existing @ Value::Object(_)), Value::Object(_)) => merge(existing, v),
            _ => {
                target.insert(k.clone(), v.clone());
            }
        }
    }
}

fn complete_operation(path: &str, op: &mut Value) {
    let Some(op) = op.as_object_mut() else {
        return;
    };
    let security: Vec<String> = op
        .get("security")
        .and_then(Value::as_array)
        .map(|s| {
            s.iter()
                .filter_map(Value::as_object)
                .flat_map(|o| o.keys().cloned())
                .collect()
        })
        .unwrap_or_default();
    let body_types: Vec<String> = op
        .get("requestBody")
        .and_then(|b| b.get("content"))
        .and_then(Value::as_object)
        .map(|c| c.keys().cloned().collect())
        .unwrap_or_default();
    let has_params = op
        .get("parameters")
        .and_then(Value::as_array)
        .is_some_and(|p| !p.is_empty());
    if let Some(params) = op.get_mut("parameters").and_then(Value::as_array_mut) {
        for param in params.iter_mut() {
            let is_query = param["in"] == "query";
            let name = param["name"].as_str().unwrap_or("").to_owned();
            match (is_query, parameter(path, &name)) {
                (true, Some(schema)) => {
                    param["schema"] = schema;
                    if matches!(name.as_str(), "page" | "limit" | "from" | "days") {
                        // `?page=` is the first page, as leaving it out is (the calendar: today).
                        param["allowEmptyValue"] = json!(true);
                    }
                }
                _ if param["in"] == "header" && name == "Idempotency-Key" => {
                    param["schema"] = json!({"type": "string", "minLength": 1, "maxLength": 255, "pattern": IDEMPOTENCY_KEY});
                }
                _ if param["in"] == "path" && name == "sessionName" => {
                    param["schema"] = json!({"type": "string", "pattern": SESSION_NAME});
                }
                _ => {}
            }
        }
    }
    let mut added: Vec<&str> = Vec::new();
    if !security.is_empty() {
        added.push("401");
    }
    if security.iter().any(|s| s == "admin") {
        added.push("403");
    }
    if !body_types.is_empty() {
        added.extend(["400", "413", "415"]);
    }
    if has_params {
        added.push("400");
    }
    if path.starts_with("/api/v1/") {
        added.push("503");
    }
    let responses = op
        .entry("responses")
        .or_insert_with(|| Value::Object(Map::new()));
    let Some(responses) = responses.as_object_mut() else {
        return;
    };
    for status in added {
        responses
            .entry(status.to_owned())
            .or_insert_with(|| json!({"description": default_description(status)}));
    }
    for (status, response) in responses.iter_mut() {
        let failure = status.starts_with('4') || status.starts_with('5');
        let Some(response) = response.as_object_mut() else {
            continue;
        };
        if response
            .get("description")
            .and_then(Value::as_str)
            .is_none_or(str::is_empty)
        {
            response.insert(
                "description".into(),
                Value::String(
                    if failure {
                        default_description(status)
                    } else {
                        "Done"
                    }
                    .to_owned(),
                ),
            );
        }
        if failure && !response.contains_key("content") {
            response.insert(
                "content".into(),
                json!({"application/json": {"schema": {"$ref": "#/components/schemas/ErrorEnvelope"}}}),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every constraint still names a field of the document: renaming a request's field must
    /// not silently drop what the document says about it.
    #[test]
    fn every_field_constraint_names_a_documented_field() {
        let (_, openapi) = super::super::api();
        let doc: Value = serde_json::from_str(&openapi.to_json().expect("json")).expect("doc");
        for (schema, property, _) in fields() {
            assert!(
                doc.pointer(&format!(
                    "/components/schemas/{schema}/properties/{property}"
                ))
                .is_some(),
                "{schema}.{property} is not in the document"
            );
        }
    }

    /// The document's patterns accept what the parsers accept, and refuse what they refuse.
    #[test]
    fn patterns_agree_with_the_parsers() {
        use base64::Engine as _;
        // ECMA-262's \uXXXX is \x{XXXX} in Rust's regex syntax.
        let compile = |pattern: &str| {
            let mut rust = String::new();
            let mut rest = pattern;
            while let Some(at) = rest.find("\\u") {
                rust.push_str(&rest[..at]);
                rust.push_str(&format!("\\x{{{}}}", &rest[at + 2..at + 6]));
                rest = &rest[at + 6..];
            }
            rust.push_str(rest);
            regex::Regex::new(&rust).expect("a valid pattern")
        };
        let phone = compile(PHONE);
        for sample in [
            "+966 50-123-4567",
            "(20) 100 123 4567",
            "٩٦٦٥٠١٢٣٤٥٦٧",
            "966501234567",
            " 12345678 ",
            "",
            "1234567",
            "1234567890123456",
            "+966abc1234",
            "++966501234567",
            "96650123456@s.whatsapp.net",
        ] {
            assert_eq!(
                phone.is_match(sample),
                wasl_domain::PhoneNumber::parse("to", sample).is_ok(),
                "phone {sample:?}"
            );
        }
        let name = compile(SOME_TEXT);
        for sample in [
            "سارة",
            " سارة ",
            "   ",
            "",
            "a\u{7}b",
            "a\u{85}b",
            "Anna-Lena",
        ] {
            assert_eq!(
                name.is_match(sample),
                wasl_domain::PersonName::parse("name", sample).is_ok(),
                "name {sample:?}"
            );
        }
        let secret = compile(WEBHOOK_SECRET);
        for len in 14..=66 {
            let key = base64::engine::general_purpose::STANDARD.encode(vec![0xA5u8; len]);
            let sample = format!("whsec_{key}");
            assert_eq!(
                secret.is_match(&sample),
                wasl_app::webhooks::signature::secret_key(&sample).is_some(),
                "secret of {len} bytes"
            );
        }
        assert!(!secret.is_match("whsec_QR=="), "stray bits");
        let base64 = compile(BASE64);
        for sample in [
            "",
            "QQ==",
            "QUI=",
            "QUJD",
            "QR==",
            "QUJ",
            "Q===",
            "iVBORw0KGgo=",
        ] {
            assert_eq!(
                base64.is_match(sample),
                base64::engine::general_purpose::STANDARD
                    .decode(sample)
                    .is_ok(),
                "base64 {sample:?}"
            );
        }
        let session = compile(SESSION_NAME);
        for sample in ["default", "sales-2", "a_b", "", "Sales", &"x".repeat(33)] {
            assert_eq!(
                session.is_match(sample),
                wasl_domain::SessionName::parse(sample).is_ok(),
                "session {sample:?}"
            );
        }
        let template = compile(TEMPLATE_NAME);
        for sample in [
            "order_ready",
            " order_2 ",
            "",
            "Order",
            "order-ready",
            "طلب",
            "a b",
        ] {
            assert_eq!(
                template.is_match(sample),
                wasl_domain::template::TemplateName::parse("name", sample).is_ok(),
                "template name {sample:?}"
            );
        }
        let language = compile(LANGUAGE);
        for sample in [
            "ar", "en_US", "pt_BR", " en ", "fil", "EN", "english", "en-US", "", "en_",
        ] {
            assert_eq!(
                language.is_match(sample),
                wasl_domain::template::language("language", sample).is_ok(),
                "language {sample:?}"
            );
        }
        let clock = compile(CLOCK_TIME);
        for sample in [
            "09:00", " 23:59 ", "24:00", "00:00", "24:01", "9:00", "25:00", "12:60", "",
        ] {
            assert_eq!(
                clock.is_match(sample),
                wasl_domain::calendar::ClockTime::parse("start", sample).is_ok(),
                "time {sample:?}"
            );
        }
        let media = compile(MEDIA_ID);
        for sample in [
            "0190abcd-0000-7000-8000-000000000000",
            " x ",
            "",
            "a/b",
            &"x".repeat(65),
        ] {
            assert_eq!(
                media.is_match(sample),
                wasl_domain::automation::token("mediaId", sample).is_ok(),
                "media id {sample:?}"
            );
        }
    }
}
