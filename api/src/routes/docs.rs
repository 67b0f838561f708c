//! `GET /openapi.json` (the document `routes::api` collected) and `GET /docs`
//! (Swagger UI). Swagger UI's files are compiled into the binary by
//! utoipa-swagger-ui's `vendored` feature: nothing is downloaded at build
//! time or fetched by the page at run time (its validator badge, which would
//! call validator.swagger.io, is off).

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::Path;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use utoipa::openapi::OpenApi;

use crate::error::ApiError;
use crate::state::AppState;

/// Where the document is served.
pub const DOCUMENT_PATH: &str = "/openapi.json";

/// Like the web app's, plus inline styles: Swagger UI inserts `<style>`
/// elements (tried without: the page is blocked). Scripts stay same-origin
/// only, and the page shows no user content.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

pub fn router(doc: &OpenApi) -> Router<AppState> {
    let json = Bytes::from(doc.to_pretty_json().expect("the document serialises"));
    let config = Arc::new(
        utoipa_swagger_ui::Config::new([DOCUMENT_PATH])
            // The default would send the document to validator.swagger.io.
            .validator_url("none")
            .display_operation_id(true)
            .try_it_out_enabled(false),
    );
    let ui = {
        let config = config.clone();
        move |file: Option<Path<String>>| {
            let config = config.clone();
            async move { swagger_file(file.as_ref().map_or("", |p| p.as_str()), config) }
        }
    };
    Router::new()
        .route(
            DOCUMENT_PATH,
            get(move || async move {
                (
                    [
                        (header::CONTENT_TYPE, "application/json"),
                        (header::CACHE_CONTROL, "no-cache"),
                    ],
                    json.clone(),
                )
            }),
        )
        // Swagger UI's page loads its files relative to itself: `/docs/`.
        .route("/docs", get(|| async { Redirect::to("/docs/") }))
        .route("/docs/", get(ui.clone()))
        .route("/docs/{*file}", get(ui))
}

fn swagger_file(
    path: &str,
    config: Arc<utoipa_swagger_ui::Config<'static>>,
) -> Result<Response, ApiError> {
    let file = utoipa_swagger_ui::serve(path, config)
        .map_err(|e| ApiError::Core(todo_common::Error::Internal(e.to_string())))?
        .ok_or(ApiError::RouteNotFound)?;
    let mut response = file.bytes.into_owned().into_response();
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&file.content_type) {
        headers.insert(header::CONTENT_TYPE, value);
    }
    if file.gzpipped {
        headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    // The files keep their names across builds: revalidate every time.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    Ok(response)
}
