//! HTTP routes, one module per resource.

mod auth;
mod chat;
mod conversations;
mod events;
mod health;
mod metrics;
mod tasks;
mod web;

use axum::Router;
use axum::routing::{get, patch, post};
use todo_common::Config;

use crate::error::ApiError;
use crate::state::AppState;

pub fn router(config: &Config) -> Router<AppState> {
    let api = Router::new()
        .route("/health", get(health::health))
        .route("/api/auth/signup", post(auth::signup))
        .route("/api/auth/login", post(auth::login))
        .route("/api/auth/me", get(auth::me))
        .route("/api/auth/logout", post(auth::logout))
        .route("/api/{user_id}/tasks", get(tasks::list).post(tasks::create))
        .route(
            "/api/{user_id}/tasks/{id}",
            get(tasks::get).put(tasks::update).delete(tasks::delete),
        )
        .route("/api/{user_id}/tasks/{id}/complete", patch(tasks::complete))
        .route("/api/{user_id}/chat", post(chat::post))
        .route("/api/{user_id}/chat/{message_id}", get(chat::status))
        .route("/api/{user_id}/events", get(events::stream))
        .route("/api/{user_id}/conversations", get(conversations::list))
        .route(
            "/api/{user_id}/conversations/{id}",
            get(conversations::get).delete(conversations::delete),
        )
        .route(
            "/api/{user_id}/conversations/{id}/messages",
            get(conversations::messages),
        );
    // With METRICS_PORT, /metrics is served on that listener only.
    let api = if config.metrics_port.is_none() {
        api.route("/metrics", get(metrics::render))
    } else {
        api
    };
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
