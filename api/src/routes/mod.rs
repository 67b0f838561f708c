//! HTTP routes, one module per resource.

mod auth;
mod chat;
mod conversations;
mod docs;
mod events;
mod health;
mod metrics;
mod quick_add;
mod tasks;
mod web;

use axum::Router;
use axum::routing::get;
use todo_common::config::Http;
use utoipa::OpenApi as _;
use utoipa::openapi::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::ApiError;
use crate::openapi::{self, ApiDoc};
use crate::state::AppState;

pub use docs::DOCUMENT_PATH;

/// Every route of the API with its documentation. `routes!` registers each
/// handler together with its `#[utoipa::path]`, so the router and the
/// OpenAPI document come from this one list; handlers sharing a path go in
/// one `routes!`.
pub fn api(config: &Http) -> OpenApiRouter<AppState> {
    let api = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(health::health))
        .routes(routes!(auth::signup))
        .routes(routes!(auth::login))
        .routes(routes!(auth::me, auth::update_me))
        .routes(routes!(auth::logout))
        .routes(routes!(tasks::list, tasks::create))
        .routes(routes!(tasks::get, tasks::update, tasks::delete))
        .routes(routes!(tasks::complete))
        .routes(routes!(tasks::skip))
        .routes(routes!(quick_add::create))
        .routes(routes!(quick_add::preview))
        .routes(routes!(chat::post))
        .routes(routes!(chat::status))
        .routes(routes!(events::stream))
        .routes(routes!(conversations::list))
        .routes(routes!(conversations::get, conversations::delete))
        .routes(routes!(conversations::messages));
    // With METRICS_PORT, /metrics is served on that listener only.
    if config.metrics_port.is_none() {
        api.routes(routes!(metrics::render))
    } else {
        api
    }
}

/// The OpenAPI document of what `router(config)` serves.
pub fn document(config: &Http) -> OpenApi {
    let mut doc = api(config).into_openapi();
    openapi::finish(&mut doc);
    doc
}

pub fn router(config: &Http) -> Router<AppState> {
    let (api, mut doc) = api(config).split_for_parts();
    openapi::finish(&mut doc);
    let api = api.merge(docs::router(&doc));
    // The web app at `/`; without it `/` stays the JSON 404 below.
    let router = if config.web_enabled {
        api.merge(web::router())
    } else {
        api
    };
    router
        .fallback(|| async { ApiError::RouteNotFound })
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
}

/// The METRICS_PORT listener's routes: /metrics and nothing else.
pub fn metrics_router() -> Router<AppState> {
    Router::new()
        .route("/metrics", get(metrics::render))
        .fallback(|| async { ApiError::RouteNotFound })
}
