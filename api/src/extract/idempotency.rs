//! The `Idempotency-Key` request header (chat posts, task creation) and the
//! `Idempotent-Replayed` answer header, for every route that takes one.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderValue, header::HeaderName};
use axum::response::Response;
use todo_common::Error;
use todo_common::domain::IdempotencyKey;
use utoipa::IntoParams;

use crate::error::ApiError;

/// Set on an answer that replays an earlier request with the same key.
pub const REPLAYED: HeaderName = HeaderName::from_static("idempotent-replayed");

/// The `Idempotency-Key` header, checked: None when not sent; a 400 naming
/// the header when malformed or sent more than once.
#[derive(IntoParams)]
#[into_params(parameter_in = Header)]
pub struct IdempotencyKeyHeader {
    /// Any unique value per request (a UUID, say), sent again when the
    /// request is retried: the retry gets what the first one stored
    /// (`Idempotent-Replayed: true`) instead of storing it twice. 1 to 255
    /// visible ASCII characters; kept as long as what it stored is.
    #[param(rename = "Idempotency-Key", value_type = String, required = false,
        pattern = "^[!-~]{1,255}$", example = "0b0a8b0e-6f27-4c1f-9d55-0e7f2f0b3f4e")]
    pub key: Option<IdempotencyKey>,
}

impl<S: Send + Sync> FromRequestParts<S> for IdempotencyKeyHeader {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let field = IdempotencyKey::HEADER;
        let values: Vec<&HeaderValue> = parts.headers.get_all(field).iter().collect();
        let key = match values[..] {
            [] => None,
            // Not visible ASCII (to_str fails): refused by the parse, as empty.
            [value] => Some(IdempotencyKey::parse(
                field,
                value.to_str().unwrap_or_default(),
            )?),
            _ => return Err(Error::invalid(field, "send one key, not several").into()),
        };
        Ok(Self { key })
    }
}

/// Marks `response` as the answer to an earlier request with the same key.
pub fn mark_replayed(response: &mut Response) {
    response
        .headers_mut()
        .insert(REPLAYED, HeaderValue::from_static("true"));
}
