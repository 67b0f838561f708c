//! CORS exactly as configured by ALLOWED_ORIGINS / CORS_ALLOW_CREDENTIALS /
//! CORS_ALLOW_METHODS.

use std::time::Duration;

use axum::http::{HeaderName, HeaderValue, Method, header};
use todo_common::config::AllowedOrigins;
use todo_common::config::Http;
use tower_http::cors::{AllowOrigin, CorsLayer};

pub fn layer(config: &Http) -> CorsLayer {
    let methods: Vec<Method> = config
        .cors_allow_methods
        .iter()
        .filter_map(|m| m.parse().ok())
        .collect();
    let mut credentials = config.cors_allow_credentials;
    let origin = match &config.allowed_origins {
        AllowedOrigins::Any => {
            if credentials {
                // Production refuses this combination at start; elsewhere we
                // drop credentials rather than reflect every origin.
                tracing::warn!("ALLOWED_ORIGINS=* with credentials: credentials disabled for CORS");
                credentials = false;
            }
            AllowOrigin::any()
        }
        AllowedOrigins::List(list) => AllowOrigin::list(
            list.iter()
                .filter_map(|o| HeaderValue::from_str(o).ok())
                .collect::<Vec<_>>(),
        ),
    };
    CorsLayer::new()
        .allow_origin(origin)
        .allow_methods(methods)
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::ACCEPT,
            HeaderName::from_static("x-request-id"),
            HeaderName::from_static("last-event-id"),
            HeaderName::from_static("prefer"),
        ])
        .expose_headers([
            HeaderName::from_static("x-request-id"),
            header::LOCATION,
            header::RETRY_AFTER,
        ])
        .allow_credentials(credentials)
        .max_age(Duration::from_secs(600))
}
