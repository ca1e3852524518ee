//! The success envelope `{success: true, message, data}` (SPEC §3).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use super::i18n::{current_lang, Msg};

/// What a handler returns on success: a status, a localized message and the data.
pub struct ApiOk<T> {
    status: StatusCode,
    msg: Msg,
    data: T,
}

impl<T: Serialize> ApiOk<T> {
    pub fn ok(msg: Msg, data: T) -> Self {
        ApiOk {
            status: StatusCode::OK,
            msg,
            data,
        }
    }

    pub fn created(msg: Msg, data: T) -> Self {
        ApiOk {
            status: StatusCode::CREATED,
            msg,
            data,
        }
    }
}

impl<T: Serialize> IntoResponse for ApiOk<T> {
    fn into_response(self) -> Response {
        let body = Envelope {
            success: true,
            message: self.msg.text(current_lang()).to_owned(),
            data: self.data,
        };
        (self.status, axum::Json(body)).into_response()
    }
}

/// The shape of every successful response.
#[derive(Serialize, ToSchema)]
pub struct Envelope<T> {
    pub success: bool,
    /// Localized: Arabic by default, English with `Accept-Language: en`.
    pub message: String,
    pub data: T,
}

/// Paging information beside the items of a listing. Listings that grow without end
/// (messages, conversations, contacts) also give `nextCursor`: pass it back as `cursor` for
/// the next page, which then neither skips nor repeats rows when new ones arrive meanwhile.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Pagination {
    pub page: u32,
    pub limit: u32,
    pub total: i64,
    pub pages: i64,
    /// Where the next page starts; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

impl Pagination {
    pub fn new(page: &wasl_app::records::PageRequest, total: i64) -> Self {
        let limit = i64::from(page.limit.max(1));
        Pagination {
            page: page.page,
            limit: page.limit,
            total,
            pages: (total + limit - 1) / limit,
            next_cursor: None,
        }
    }

    /// The paging of a keyset page, with where the next one starts.
    pub fn keyset<T>(
        page: &wasl_app::records::PageRequest,
        found: &wasl_app::records::Page<T>,
    ) -> Self {
        Pagination {
            next_cursor: found.next.as_ref().map(wasl_app::records::Cursor::encode),
            ..Pagination::new(page, found.total)
        }
    }
}
