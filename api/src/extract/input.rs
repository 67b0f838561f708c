//! JSON body, query and path extractors whose rejections are our 4xx errors.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::{HeaderMap, StatusCode, header, request::Parts};
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// Largest accepted request body (the API takes small JSON documents only).
pub const BODY_LIMIT: usize = 64 * 1024;

/// A JSON body: 415 without a JSON content type, 413 over [`BODY_LIMIT`],
/// 400 naming the field for anything that does not fit `T`.
pub struct ApiJson<T>(pub T);

/// Like [`ApiJson`], but an empty body, or JSON `null`, is `None` (for
/// endpoints whose body is optional).
pub struct OptionalJson<T>(pub Option<T>);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;
    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let (headers, body) = read_body(req, state).await?;
        parse_json(&headers, &body).map(Self)
    }
}

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for OptionalJson<T> {
    type Rejection = ApiError;
    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let (headers, body) = read_body(req, state).await?;
        if body.iter().all(u8::is_ascii_whitespace) {
            return Ok(Self(None));
        }
        parse_json::<Option<T>>(&headers, &body).map(Self)
    }
}

async fn read_body<S: Send + Sync>(
    req: Request,
    state: &S,
) -> Result<(HeaderMap, Bytes), ApiError> {
    let headers = req.headers().clone();
    let body = Bytes::from_request(req, state)
        .await
        .map_err(|e: BytesRejection| match e.status() {
            StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge(BODY_LIMIT),
            _ => ApiError::MalformedJson("could not read the request body".into()),
        })?;
    Ok((headers, body))
}

fn parse_json<T: DeserializeOwned>(headers: &HeaderMap, body: &[u8]) -> Result<T, ApiError> {
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|mime| {
            let mime = mime.trim().to_ascii_lowercase();
            mime == "application/json"
                || (mime.starts_with("application/") && mime.ends_with("+json"))
        })
        .unwrap_or(false);
    if !is_json {
        return Err(ApiError::UnsupportedMediaType);
    }
    // Syntax first, so a truncated document is "malformed" even when an
    // earlier value also has the wrong type; then the shape, with its path.
    let value: serde_json::Value = serde_json::from_slice(body)
        .map_err(|e| ApiError::MalformedJson(format!("malformed JSON: {e}")))?;
    // Every body is an object (or, where optional, null): serde would also
    // fill a struct from an array, by position.
    if value.is_array() {
        return Err(ApiError::BadBody {
            field: None,
            message: "the body must be a JSON object".into(),
        });
    }
    serde_path_to_error::deserialize(value).map_err(|err| {
        let path = err.path().to_string();
        ApiError::BadBody {
            field: (path != ".").then_some(path),
            message: err.into_inner().to_string(),
        }
    })
}

/// Query parameters; a malformed query string is a 400.
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(v)| Self(v))
            .map_err(|e| ApiError::BadBody {
                field: None,
                message: format!("invalid query string: {}", e.body_text()),
            })
    }
}

/// Path parameters; undecodable segments are a 400.
pub struct ApiPath<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        Path::<T>::from_request_parts(parts, state)
            .await
            .map(|Path(v)| Self(v))
            .map_err(|e| ApiError::BadBody {
                field: None,
                message: format!("invalid path: {}", e.body_text()),
            })
    }
}
