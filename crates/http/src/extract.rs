//! Extractors that turn a request into trusted values, or into the error envelope: JSON bodies,
//! query strings, paging, the caller's identity and address.

use std::net::{IpAddr, SocketAddr};

use axum::body::Bytes;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::json;
use utoipa::IntoParams;
use wasl_app::accounts::Caller;
use wasl_app::records::{Cursor, PageRequest};
use wasl_domain::{Country, ParseError, PhoneNumber};

use super::error::{code, ApiError};
use super::i18n::Msg;
use super::state::AppState;

/// A JSON body whose failures answer with the envelope: malformed JSON 400 `INVALID_JSON`,
/// missing fields or wrong types 400 `VALIDATION_ERROR`, no JSON content type 415. A NUL
/// character anywhere in it is 400 `VALIDATION_ERROR`: no field means one, and PostgreSQL
/// cannot store one in text, so it is refused here, the same on both databases.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !json_content_type(req.headers()) {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                code::UNSUPPORTED_MEDIA_TYPE,
                Msg::UnsupportedMediaType,
            )
            .with_details(
                json!({ "reason": "Expected request with `Content-Type: application/json`" }),
            ));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            let details = json!({ "reason": rejection.body_text() });
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    code::PAYLOAD_TOO_LARGE,
                    Msg::PayloadTooLarge,
                )
            } else {
                ApiError::new(
                    StatusCode::BAD_REQUEST,
                    code::INVALID_JSON,
                    Msg::InvalidJson,
                )
            }
            .with_details(details)
        })?;
        // Every body wasl takes is an object; serde would also read a struct from an array.
        let object = bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{');
        if !object && serde_json::from_slice::<serde_json::Value>(&bytes).is_ok() {
            return Err(ParseError::new("body", "must be a JSON object").into());
        }
        if holds_nul(&bytes) {
            return Err(
                ParseError::new("body", "must not contain the NUL character (\\u0000)").into(),
            );
        }
        match axum::Json::<T>::from_bytes(&bytes) {
            Ok(axum::Json(value)) => Ok(ApiJson(value)),
            Err(rejection) => {
                // A type that refuses unknown fields can stop at one before serde reaches the
                // place where the JSON breaks; broken JSON is `INVALID_JSON` whatever the type.
                if let Err(e) = serde_json::from_slice::<serde::de::IgnoredAny>(&bytes) {
                    return Err(ApiError::new(
                        StatusCode::BAD_REQUEST,
                        code::INVALID_JSON,
                        Msg::InvalidJson,
                    )
                    .with_details(json!({ "reason": e.to_string() })));
                }
                Err(json_rejection(rejection))
            }
        }
    }
}

/// A JSON body that may be left out: no body and no content type is `None`; anything else is
/// read as [`ApiJson`] (with its errors).
pub struct MaybeJson<T>(pub Option<T>);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for MaybeJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let headers = req.headers();
        let declared_empty = headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim() == "0");
        let chunked = headers.contains_key(header::TRANSFER_ENCODING);
        if !headers.contains_key(header::CONTENT_TYPE)
            && (declared_empty || !headers.contains_key(header::CONTENT_LENGTH) && !chunked)
        {
            return Ok(MaybeJson(None));
        }
        ApiJson::<T>::from_request(req, state)
            .await
            .map(|ApiJson(value)| MaybeJson(Some(value)))
    }
}

/// `application/json` or any `application/…+json`, as axum's own `Json` decides it.
fn json_content_type(headers: &HeaderMap) -> bool {
    let Some(value) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let essence = value
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    match essence.split_once('/') {
        Some(("application", subtype)) => subtype == "json" || subtype.ends_with("+json"),
        _ => false,
    }
}

/// Whether a JSON text holds a NUL character. In valid JSON that can only be the escape
/// `\u0000` (strings cannot hold raw control characters), and every backslash starts an
/// escape, so one pass over the bytes finds it.
fn holds_nul(json: &[u8]) -> bool {
    let mut i = 0;
    while i < json.len() {
        if json[i] == b'\\' {
            if json.get(i + 1) == Some(&b'u') && json.get(i + 2..i + 6) == Some(b"0000".as_slice())
            {
                return true;
            }
            i += 2;
        } else {
            i += 1;
        }
    }
    false
}

fn json_rejection(rejection: JsonRejection) -> ApiError {
    let details = json!({ "reason": rejection.body_text() });
    match rejection {
        JsonRejection::JsonDataError(_) => ApiError::new(
            StatusCode::BAD_REQUEST,
            code::VALIDATION_ERROR,
            Msg::ValidationFailed,
        ),
        JsonRejection::JsonSyntaxError(_) => ApiError::new(
            StatusCode::BAD_REQUEST,
            code::INVALID_JSON,
            Msg::InvalidJson,
        ),
        JsonRejection::MissingJsonContentType(_) => ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            code::UNSUPPORTED_MEDIA_TYPE,
            Msg::UnsupportedMediaType,
        ),
        JsonRejection::BytesRejection(ref b) if b.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                code::PAYLOAD_TOO_LARGE,
                Msg::PayloadTooLarge,
            )
        }
        _ => ApiError::new(
            StatusCode::BAD_REQUEST,
            code::INVALID_JSON,
            Msg::InvalidJson,
        ),
    }
    .with_details(details)
}

/// A query string whose failures answer 400 `VALIDATION_ERROR`.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        // A NUL is no filter's value, and PostgreSQL cannot compare text with one.
        if parts.uri.query().is_some_and(|q| q.contains("%00")) {
            return Err(
                ParseError::new("query", "must not contain the NUL character (%00)").into(),
            );
        }
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(value)) => Ok(ApiQuery(value)),
            Err(rejection) => Err(query_rejection(rejection)),
        }
    }
}

fn query_rejection(rejection: QueryRejection) -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        code::VALIDATION_ERROR,
        Msg::ValidationFailed,
    )
    .with_details(json!({ "reason": rejection.body_text() }))
}

/// Answers 404 in the envelope for a path that cannot name anything wasl stores: one whose
/// percent-encoding decodes to bytes that are not UTF-8 (axum's `Path` would answer a plain
/// text 400) or to a NUL (which PostgreSQL cannot compare text with). Runs before the routes.
pub async fn nameable_path(req: Request, next: Next) -> Response {
    if !decodes_to_text(req.uri().path()) {
        return ApiError::not_found().into_response();
    }
    next.run(req).await
}

fn decodes_to_text(path: &str) -> bool {
    let bytes = path.as_bytes();
    let hex = |i: usize| bytes.get(i).and_then(|b| char::from(*b).to_digit(16));
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match (bytes[i], hex(i + 1), hex(i + 2)) {
            (b'%', Some(high), Some(low)) => {
                decoded.push(u8::try_from(high * 16 + low).unwrap_or(0));
                i += 3;
            }
            (b, _, _) => {
                decoded.push(b);
                i += 1;
            }
        }
    }
    !decoded.contains(&0) && std::str::from_utf8(&decoded).is_ok()
}

/// `?page=&limit=` of a listing: page ≥ 1 (default 1), limit 1–100 (default 50).
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Page number, from 1.
    pub(crate) page: Option<String>,
    /// Items per page, 1 to 100 (default 50).
    pub(crate) limit: Option<String>,
}

impl PageQuery {
    pub fn parse(&self) -> Result<PageRequest, ApiError> {
        let number =
            |field: &'static str, value: &Option<String>, default: u32, max: u32| match value
                .as_deref()
                // Spaces a client left around the number are forgiven; other white space (a
                // no-break space, say) is no part of a number.
                .map(|v| v.trim_matches(' '))
            {
                // Empty is the default too: a form that leaves the field blank sends it so.
                None | Some("") => Ok(default),
                Some(v) => v
                    .parse::<u32>()
                    .ok()
                    .filter(|n| (1..=max).contains(n))
                    .ok_or_else(|| {
                        ParseError::new(field, format!("must be a whole number from 1 to {max}"))
                    }),
            };
        use super::error::Validate;
        let (page, limit) = (
            number("page", &self.page, 1, 1_000_000),
            number("limit", &self.limit, 50, 100),
        )
            .validate()?;
        Ok(PageRequest::numbered(page, limit))
    }

    /// A page of a keyset listing: `cursor` (the `nextCursor` of the page before) when given,
    /// else the numbered page. The cursor says where the page starts, so `page` is then
    /// ignored.
    pub fn parse_after(&self, cursor: Option<&str>) -> Result<PageRequest, ApiError> {
        let mut page = self.parse()?;
        let Some(cursor) = cursor.filter(|c| !c.is_empty()) else {
            return Ok(page);
        };
        let after = Cursor::decode(cursor).ok_or_else(|| {
            ApiError::validation(&[ParseError::new(
                "cursor",
                "must be the nextCursor of a page of this listing",
            )])
        })?;
        page.page = 1;
        page.after = Some(after);
        Ok(page)
    }
}

pub use wasl_app::accounts::Credential;

/// The authenticated caller (see [`Caller`]): every use case a handler calls is scoped by
/// their organization, which is how one organization can never reach another's data.
#[derive(Debug, Clone)]
pub struct Auth(pub Caller);

impl std::ops::Deref for Auth {
    type Target = Caller;

    fn deref(&self) -> &Caller {
        &self.0
    }
}

impl FromRequestParts<AppState> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = bearer_token(parts)?;
        authenticate(state, token).await
    }
}

/// Checks a sign-in token or an API key and returns the caller. Also used by the live events
/// socket, whose token comes in the query string (browsers cannot set its headers).
pub async fn authenticate(state: &AppState, token: &str) -> Result<Auth, ApiError> {
    Ok(Auth(state.accounts.authenticate(token).await?))
}

fn bearer_token(parts: &Parts) -> Result<&str, ApiError> {
    let value = parts
        .headers
        .get(header::AUTHORIZATION)
        .ok_or_else(ApiError::unauthorized)?
        .to_str()
        .map_err(|_| ApiError::invalid_token())?;
    let (scheme, token) = value.split_once(' ').ok_or_else(ApiError::invalid_token)?;
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(ApiError::invalid_token());
    }
    Ok(token.trim())
}

/// The caller's address: the socket peer, or the first `X-Forwarded-For` hop when wasl is
/// configured to sit behind a trusted proxy.
pub struct ClientIp(pub IpAddr);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(ClientIp(client_address(
            &parts.headers,
            &parts.extensions,
            state.settings.trust_forwarded_for,
        )))
    }
}

/// The caller's address (see [`ClientIp`]), also for the request log.
pub fn client_address(
    headers: &HeaderMap,
    extensions: &axum::http::Extensions,
    trust_forwarded_for: bool,
) -> IpAddr {
    if trust_forwarded_for {
        let forwarded = headers
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .and_then(|v| v.trim().parse::<IpAddr>().ok());
        if let Some(ip) = forwarded {
            return ip;
        }
    }
    extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip())
        .unwrap_or(IpAddr::from([127, 0, 0, 1]))
}

/// What a listing's `search` looks for: the text as typed, or, when it is a phone number or
/// part of one however written (`0551112233`, `+966 55 111 2233`), the digits stored numbers
/// contain. `None` for an empty search.
pub fn search_terms(search: Option<String>, country: Option<Country>) -> Option<String> {
    let search = search
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())?;
    Some(PhoneNumber::search_digits(&search, country).unwrap_or(search))
}

/// For a field a PUT may leave out or clear: absent is `None` (leave it), `null` is
/// `Some(None)` (clear it).
pub fn absent_or_null<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}
