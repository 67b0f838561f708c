//! Request id, one log line per request, and the HTTP metrics.
//!
//! Metric labels use the route template (`/api/{user_id}/tasks`), never the
//! raw path, so ids cannot blow up the series count.

use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use todo_common::metric;
use tracing::Instrument;

pub static REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The matched route, carried from the inner (route) layer to the outer one.
#[derive(Clone)]
struct RouteTemplate(String);

/// Runs after routing (as a route layer), where the matched path is known.
pub async fn tag_route(req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned());
    let mut response = next.run(req).await;
    if let Some(route) = route {
        response.extensions_mut().insert(RouteTemplate(route));
    }
    response
}

/// Outermost layer: sees every request, including 404s and rejected bodies.
pub async fn observe(mut req: Request, next: Next) -> Response {
    let start = Instant::now();
    let request_id = req
        .headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|id| is_safe_id(id))
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let header_value =
        HeaderValue::from_str(&request_id).expect("checked to be a safe header value");
    req.headers_mut().insert(&REQUEST_ID, header_value.clone());
    let method = req.method().clone();

    let span = tracing::info_span!("request", request_id = %request_id, method = %method);
    let mut response = next.run(req).instrument(span.clone()).await;

    let route = response
        .extensions()
        .get::<RouteTemplate>()
        .map_or("unmatched", |r| r.0.as_str())
        .to_owned();
    let status = response.status().as_u16();
    let elapsed = start.elapsed();
    let labels = [
        ("method", method.to_string()),
        ("route", route.clone()),
        ("status", status.to_string()),
    ];
    metrics::counter!(metric::HTTP_REQUESTS_TOTAL, &labels).increment(1);
    metrics::histogram!(
        metric::HTTP_REQUEST_DURATION_SECONDS,
        "method" => method.to_string(),
        "route" => route.clone()
    )
    .record(elapsed.as_secs_f64());
    span.in_scope(|| {
        tracing::info!(
            route = %route,
            status,
            latency_ms = elapsed.as_secs_f64() * 1000.0,
            "request finished"
        );
    });
    response.headers_mut().insert(&REQUEST_ID, header_value);
    response
}

/// Accept a caller's id only if it is short and plain (it goes into logs and headers).
fn is_safe_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 128
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
}
