//! The OpenAPI document against the router: a route the app serves that the
//! document lacks, or an operation the document lists that the app does not
//! answer, fails here.
//!
//! Three views are compared: a fixed list of what the API is meant to
//! answer (below), `/openapi.json`, and the router itself (its paths read
//! from axum's `Debug` output, its methods found by asking each path with
//! every method and watching for 405).

use std::collections::BTreeSet;
use std::path::PathBuf;

use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::helpers::{TestApp, test_config};

/// Every (method, path) the API answers, with the default configuration.
const OPERATIONS: &[(&str, &str)] = &[
    ("GET", "/health"),
    ("GET", "/metrics"),
    ("POST", "/api/auth/signup"),
    ("POST", "/api/auth/login"),
    ("GET", "/api/auth/me"),
    ("PATCH", "/api/auth/me"),
    ("POST", "/api/auth/logout"),
    ("GET", "/api/{user_id}/tasks"),
    ("POST", "/api/{user_id}/tasks"),
    ("GET", "/api/{user_id}/tasks/{id}"),
    ("PUT", "/api/{user_id}/tasks/{id}"),
    ("DELETE", "/api/{user_id}/tasks/{id}"),
    ("PATCH", "/api/{user_id}/tasks/{id}/complete"),
    ("POST", "/api/{user_id}/tasks/{id}/skip"),
    ("POST", "/api/{user_id}/tasks/quick-add"),
    ("POST", "/api/{user_id}/tasks/quick-add/preview"),
    ("POST", "/api/{user_id}/chat"),
    ("GET", "/api/{user_id}/chat/{message_id}"),
    ("GET", "/api/{user_id}/events"),
    ("GET", "/api/{user_id}/conversations"),
    ("GET", "/api/{user_id}/conversations/{id}"),
    ("DELETE", "/api/{user_id}/conversations/{id}"),
    ("GET", "/api/{user_id}/conversations/{id}/messages"),
];

/// Served, and deliberately not part of the API's document: the web app
/// and the documentation itself.
const NOT_THE_API: &[&str] = &[
    "/",
    "/index.html",
    "/assets/{*file}",
    "/docs",
    "/docs/",
    "/docs/{*file}",
    "/openapi.json",
];

const METHODS: [&str; 5] = ["GET", "POST", "PUT", "PATCH", "DELETE"];

fn operations() -> BTreeSet<(String, String)> {
    OPERATIONS
        .iter()
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect()
}

fn documented(doc: &Value) -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in item.as_object().expect("a path item").keys() {
            if METHODS.contains(&method.to_uppercase().as_str()) {
                out.insert((method.to_uppercase(), path.clone()));
            }
        }
    }
    out
}

/// The web app's own files (favicon.svg, robots.txt), routed one by one.
fn is_web_file(path: &str) -> bool {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join(format!("../web/dist{path}"))
        .is_file()
}

/// The paths a router holds, from its `Debug` output (axum prints each
/// route's path; it has no other way to list them). Axum's private
/// fallback routes are left out.
fn router_paths(router: &axum::Router<todo_api::state::AppState>) -> BTreeSet<String> {
    let debug = format!("{router:?}");
    let paths: BTreeSet<String> = debug
        .split('"')
        .skip(1)
        .step_by(2)
        .filter(|s| s.starts_with('/') && !s.contains("__private__axum"))
        .map(str::to_owned)
        .collect();
    assert!(
        paths.contains("/api/{user_id}/tasks") && paths.contains("/health"),
        "axum's Debug output no longer lists the routes' paths; find another way to enumerate them:\n{debug}"
    );
    paths
}

/// A path of the template with real values, so extractors run.
fn concrete(template: &str, user: &str) -> String {
    template
        .replace("{user_id}", user)
        .replace("{message_id}", "0193a1b2-0000-7000-8000-000000000001")
        .replace(
            "{id}",
            if template.contains("conversations") {
                "0193a1b2-0000-7000-8000-000000000002"
            } else {
                "1"
            },
        )
}

#[tokio::test]
async fn the_document_lists_exactly_the_operations_the_router_serves() {
    let app = TestApp::spawn().await;
    let res = app.call(Method::GET, "/openapi.json", None).await;
    assert_eq!(res.status(), StatusCode::OK);
    let doc: Value = res.json().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1."));
    let in_doc = documented(&doc);
    assert_eq!(
        in_doc,
        operations(),
        "the document and the fixed list differ:\n only in the document: {:?}\n only in the list: {:?}",
        in_doc.difference(&operations()).collect::<Vec<_>>(),
        operations().difference(&in_doc).collect::<Vec<_>>(),
    );

    // The router's paths: each documented, or one of the deliberate others.
    let router = todo_api::routes::router(&app.config.http);
    let doc_paths: BTreeSet<String> = in_doc.iter().map(|(_, p)| p.clone()).collect();
    let served = router_paths(&router);
    let undocumented: Vec<&String> = served
        .iter()
        .filter(|p| {
            !doc_paths.contains(*p) && !NOT_THE_API.contains(&p.as_str()) && !is_web_file(p)
        })
        .collect();
    assert!(
        undocumented.is_empty(),
        "routes missing from the OpenAPI document: {undocumented:?} (register them with `routes!` in api/src/routes/mod.rs, or list them in NOT_THE_API with a reason)"
    );
    let unserved: Vec<&String> = doc_paths.difference(&served).collect();
    assert!(
        unserved.is_empty(),
        "documented but not routed: {unserved:?}"
    );

    // Each documented path answers exactly its documented methods: anything
    // else is a 405, and a documented one is neither 405 nor a routing 404.
    let user = app.signup("openapi@example.com").await;
    for path in &doc_paths {
        for method in METHODS {
            let url = concrete(path, &user.id);
            let res = app
                .request(method.parse().unwrap(), &url, Some(&user.token))
                .send()
                .await
                .unwrap();
            let status = res.status();
            let expected = in_doc.contains(&(method.to_string(), path.clone()));
            // Do not read an event stream's body: it does not end.
            let body = if status == StatusCode::OK && path.ends_with("/events") {
                String::new()
            } else {
                res.text().await.unwrap_or_default()
            };
            if expected {
                assert_ne!(
                    status,
                    StatusCode::METHOD_NOT_ALLOWED,
                    "{method} {path}: {body}"
                );
                assert!(
                    !body.contains("no route for this path"),
                    "{method} {path} fell through to the 404 fallback: {body}"
                );
            } else {
                assert_eq!(
                    status,
                    StatusCode::METHOD_NOT_ALLOWED,
                    "{method} {path} is answered but not documented: {body}"
                );
            }
        }
    }
}

#[tokio::test]
async fn with_metrics_on_their_own_port_the_document_leaves_them_out() {
    let config = test_config("unused", &[("METRICS_PORT", "9999")]);
    let doc = todo_api::routes::document(&config.http);
    assert!(!doc.paths.paths.contains_key("/metrics"));
    assert!(doc.paths.paths.contains_key("/health"));
    let router = todo_api::routes::router(&config.http);
    assert!(!router_paths(&router).contains("/metrics"));
}
