//! The API's one error type and its mapping to HTTP, in one place.
//! 4xx bodies are stable JSON: `{"error":{"code","message"[,"field"]}}`.
//! 5xx bodies say nothing internal; the cause is logged with the request id.
//! The body's type ([`ErrorBody`]) is the one the OpenAPI document shows.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use todo_common::Error as CoreError;
use todo_common::error::ErrorChain;

use crate::openapi::{ErrorBody, ErrorDetail};

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error(transparent)]
    Core(#[from] CoreError),
    /// No Authorization header (or not a Bearer one).
    #[error("missing bearer token")]
    MissingToken,
    #[error("{0}")]
    Forbidden(&'static str),
    #[error("{0}")]
    MalformedJson(String),
    /// Well-formed JSON of the wrong shape; `field` is the JSON path when known.
    #[error("{message}")]
    BadBody {
        field: Option<String>,
        message: String,
    },
    #[error("request body is larger than {0} bytes")]
    PayloadTooLarge(usize),
    #[error("expected Content-Type: application/json")]
    UnsupportedMediaType,
    #[error("no route for this path")]
    RouteNotFound,
    #[error("method not allowed for this path")]
    MethodNotAllowed,
    /// Too many open event streams (SSE_MAX_STREAMS_PER_USER / SSE_MAX_STREAMS).
    #[error("{0}")]
    TooManyStreams(String),
    /// Too many open MCP sessions (MCP_MAX_SESSIONS_PER_USER / MCP_MAX_SESSIONS).
    #[error("{0}")]
    TooManySessions(String),
    /// WEB_ENABLED, but `web/dist` was missing when this binary was built.
    #[error("the web app was not built: run `scripts/web.sh build`, then rebuild todo-api")]
    WebNotBuilt,
}

impl ApiError {
    fn parts(&self) -> (StatusCode, &'static str) {
        use CoreError as C;
        match self {
            Self::Core(C::Invalid { .. }) => (StatusCode::BAD_REQUEST, "validation_failed"),
            Self::Core(C::Unrecognised { .. }) => {
                (StatusCode::UNPROCESSABLE_ENTITY, "unrecognised_value")
            }
            Self::Core(C::NotFound(_)) => (StatusCode::NOT_FOUND, "not_found"),
            Self::Core(C::Conflict { code, .. }) => (StatusCode::CONFLICT, code),
            Self::Core(C::IdempotencyKeyReused) => {
                (StatusCode::UNPROCESSABLE_ENTITY, "idempotency_key_reused")
            }
            Self::Core(C::Unauthenticated(_)) => (StatusCode::UNAUTHORIZED, "unauthorized"),
            Self::Core(C::TooManyRequests { .. }) => {
                (StatusCode::TOO_MANY_REQUESTS, "rate_limited")
            }
            Self::Core(C::Overloaded { .. }) => (StatusCode::SERVICE_UNAVAILABLE, "overloaded"),
            Self::Core(C::Unavailable(_) | C::DatabaseUnavailable(_)) => {
                (StatusCode::SERVICE_UNAVAILABLE, "service_unavailable")
            }
            Self::Core(C::TransactionConflict(_)) => {
                (StatusCode::SERVICE_UNAVAILABLE, "transaction_conflict")
            }
            Self::Core(C::Database(_) | C::Internal(_)) => {
                (StatusCode::INTERNAL_SERVER_ERROR, "internal_error")
            }
            Self::MissingToken => (StatusCode::UNAUTHORIZED, "unauthorized"),
            Self::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
            Self::MalformedJson(_) => (StatusCode::BAD_REQUEST, "malformed_json"),
            Self::BadBody { .. } => (StatusCode::BAD_REQUEST, "validation_failed"),
            Self::PayloadTooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"),
            Self::UnsupportedMediaType => {
                (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type")
            }
            Self::RouteNotFound => (StatusCode::NOT_FOUND, "not_found"),
            Self::MethodNotAllowed => (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed"),
            Self::WebNotBuilt => (StatusCode::SERVICE_UNAVAILABLE, "web_not_built"),
            Self::TooManyStreams(_) => (StatusCode::TOO_MANY_REQUESTS, "too_many_streams"),
            Self::TooManySessions(_) => (StatusCode::TOO_MANY_REQUESTS, "too_many_sessions"),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.parts();
        let message = if matches!(
            self,
            Self::WebNotBuilt | Self::Core(CoreError::Overloaded { .. })
        ) {
            // Nothing internal in them, and they say what to do. Overload is
            // counted (password_hashes_refused_total), not logged per request.
            self.to_string()
        } else if status.is_server_error() {
            if status == StatusCode::INTERNAL_SERVER_ERROR {
                // The chain goes to the log (with the request id from the span), never to the client.
                tracing::error!(error = %self.chain(), "request failed");
                "internal server error".to_string()
            } else if matches!(self, Self::Core(CoreError::TransactionConflict(_))) {
                // Not a fault, so not an ERROR; but frequent ones mean two
                // statements lock in opposite orders, and the cause names
                // the processes and the relation.
                tracing::warn!(error = %self.chain(), "transaction aborted by a concurrent one; the client may retry");
                self.to_string()
            } else {
                tracing::warn!(error = %self.chain(), "dependency unavailable");
                "the service is temporarily unavailable; try again shortly".to_string()
            }
        } else {
            self.to_string()
        };
        let field = match &self {
            Self::Core(
                CoreError::Invalid { field, .. } | CoreError::Unrecognised { field, .. },
            ) => Some(field.clone()),
            Self::BadBody { field, .. } => field.clone(),
            _ => None,
        };
        let body = ErrorBody {
            error: ErrorDetail {
                code,
                message,
                field,
            },
        };
        let mut response = (status, axum::Json(body)).into_response();
        let headers = response.headers_mut();
        match &self {
            Self::MissingToken => {
                headers.insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer realm=\"todo-chat\""),
                );
            }
            Self::Core(CoreError::Unauthenticated(_)) => {
                headers.insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer realm=\"todo-chat\", error=\"invalid_token\""),
                );
            }
            Self::Core(
                CoreError::TooManyRequests { retry_after } | CoreError::Overloaded { retry_after },
            ) => {
                headers.insert(
                    header::RETRY_AFTER,
                    HeaderValue::from(retry_after.as_secs().max(1)),
                );
            }
            Self::Core(CoreError::Unavailable(_) | CoreError::DatabaseUnavailable(_)) => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
            }
            // The other transaction has already gone on: an immediate
            // retry is the one expected to succeed.
            Self::Core(CoreError::TransactionConflict(_)) => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            }
            Self::TooManyStreams(_) | Self::TooManySessions(_) => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from_static("10"));
            }
            _ => {}
        }
        response
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
