//! The web app at `/`: embedded from `web/dist` at build time, cached by
//! name (hashed bundles for a year, the rest revalidated by ETag), sent
//! precompressed, under a same-origin-only Content-Security-Policy.

use std::path::PathBuf;

use reqwest::{Method, Response, StatusCode, header};

use crate::helpers::{TestApp, expect_error};

const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// The build the binary embedded (build.rs reruns when it changes).
fn dist(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("../web/dist{path}"))
}

fn text(res: &Response, name: header::HeaderName) -> &str {
    res.headers()
        .get(&name)
        .unwrap_or_else(|| panic!("no {name} header"))
        .to_str()
        .unwrap()
}

async fn get(app: &TestApp, path: &str, headers: &[(&str, &str)]) -> Response {
    let mut req = app.request(Method::GET, path, None);
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    let res = req.send().await.unwrap();
    if res.status() == StatusCode::SERVICE_UNAVAILABLE && path == "/" {
        let body = res.text().await.unwrap_or_default();
        panic!("web/dist is missing: run scripts/web.sh build (GET / said {body})");
    }
    res
}

/// The first `<script src="/assets/...">` of index.html.
async fn script_path(app: &TestApp) -> String {
    let html = get(app, "/", &[]).await.text().await.unwrap();
    let start = html
        .find("src=\"/assets/")
        .unwrap_or_else(|| panic!("no script under /assets/ in index.html:\n{html}"))
        + "src=\"".len();
    let end = start + html[start..].find('"').unwrap();
    html[start..end].to_string()
}

#[tokio::test]
async fn index_is_html_revalidated_by_etag_under_the_csp() {
    let app = TestApp::spawn().await;
    let res = get(&app, "/", &[]).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(text(&res, header::CONTENT_TYPE), "text/html; charset=utf-8");
    assert_eq!(text(&res, header::CACHE_CONTROL), "no-cache");
    assert_eq!(text(&res, header::CONTENT_SECURITY_POLICY), CSP);
    let etag = text(&res, header::ETAG).to_string();
    assert!(
        etag.starts_with('"') && etag.ends_with('"'),
        "strong ETag: {etag}"
    );
    let body = res.bytes().await.unwrap();
    assert_eq!(body, std::fs::read(dist("/index.html")).unwrap());

    let again = get(&app, "/", &[("if-none-match", &etag)]).await;
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(text(&again, header::ETAG), etag);
    assert_eq!(text(&again, header::CACHE_CONTROL), "no-cache");
    assert!(again.bytes().await.unwrap().is_empty());

    // Another version of the file is sent in full.
    let stale = get(&app, "/", &[("if-none-match", "\"0123\"")]).await;
    assert_eq!(stale.status(), StatusCode::OK);

    let named = get(&app, "/index.html", &[]).await;
    assert_eq!(named.status(), StatusCode::OK);
    assert_eq!(text(&named, header::ETAG), etag);

    let head = app.call(Method::HEAD, "/", None).await;
    assert_eq!(head.status(), StatusCode::OK);
    assert_eq!(text(&head, header::ETAG), etag);
}

#[tokio::test]
async fn other_top_level_files_are_served_by_name() {
    let app = TestApp::spawn().await;
    get(&app, "/", &[]).await;
    let mut served = 0;
    for entry in std::fs::read_dir(dist("")).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name().into_string().unwrap();
        let encoded = name.ends_with(".br") || name.ends_with(".gz");
        if name == "index.html" || encoded || !entry.file_type().unwrap().is_file() {
            continue;
        }
        let res = get(&app, &format!("/{name}"), &[]).await;
        assert_eq!(res.status(), StatusCode::OK, "/{name}");
        assert_eq!(text(&res, header::CACHE_CONTROL), "no-cache");
        assert!(res.headers().contains_key(header::ETAG), "/{name}");
        if name.ends_with(".svg") {
            assert_eq!(text(&res, header::CONTENT_TYPE), "image/svg+xml");
        }
        served += 1;
    }
    // The encoded copies are not files of their own.
    let res = get(&app, "/index.html.gz", &[]).await;
    expect_error(res, StatusCode::NOT_FOUND, "not_found").await;
    println!("{served} top-level files besides index.html");
}

#[tokio::test]
async fn hashed_assets_are_immutable_with_their_type() {
    let app = TestApp::spawn().await;
    let script = script_path(&app).await;
    let res = get(&app, &script, &[]).await;
    assert_eq!(res.status(), StatusCode::OK, "{script}");
    assert_eq!(
        text(&res, header::CONTENT_TYPE),
        "text/javascript; charset=utf-8"
    );
    assert_eq!(text(&res, header::CACHE_CONTROL), IMMUTABLE);
    assert_eq!(text(&res, header::CONTENT_SECURITY_POLICY), CSP);
    assert!(res.headers().get(header::CONTENT_ENCODING).is_none());
    let body = res.bytes().await.unwrap();
    assert_eq!(body, std::fs::read(dist(&script)).unwrap());

    // One route label for every bundle, never the file's own name.
    let metrics = app
        .call(Method::GET, "/metrics", None)
        .await
        .text()
        .await
        .unwrap();
    assert!(metrics.contains("route=\"/assets/{*file}\""), "{metrics}");
    assert!(!metrics.contains(&format!("route=\"{script}\"")));
}

#[tokio::test]
async fn brotli_then_gzip_by_accept_encoding() {
    let app = TestApp::spawn().await;
    let script = script_path(&app).await;
    let identity = std::fs::read(dist(&script)).unwrap();
    let has_br = dist(&format!("{script}.br")).is_file();

    let res = get(&app, &script, &[("accept-encoding", "gzip, deflate, br")]).await;
    assert_eq!(text(&res, header::VARY), "accept-encoding");
    let expected = if has_br { "br" } else { "gzip" };
    assert_eq!(text(&res, header::CONTENT_ENCODING), expected);
    let etag_compressed = text(&res, header::ETAG).to_string();
    let body = res.bytes().await.unwrap();
    assert_ne!(body, identity);
    assert_eq!(
        body,
        std::fs::read(dist(&format!("{script}.{}", &expected[..2]))).unwrap()
    );

    // br refused: gzip, whose trailer records the identity length.
    let res = get(&app, &script, &[("accept-encoding", "br;q=0, gzip")]).await;
    assert_eq!(text(&res, header::CONTENT_ENCODING), "gzip");
    assert_eq!(text(&res, header::VARY), "accept-encoding");
    let gz = res.bytes().await.unwrap();
    assert_eq!(&gz[..2], &[0x1f, 0x8b], "gzip magic");
    let isize = u32::from_le_bytes(gz[gz.len() - 4..].try_into().unwrap());
    assert_eq!(isize as usize, identity.len());

    // Nothing acceptable but identity.
    for accept in ["identity", "gzip;q=0, br;q=0", "*;q=0"] {
        let res = get(&app, &script, &[("accept-encoding", accept)]).await;
        assert!(
            res.headers().get(header::CONTENT_ENCODING).is_none(),
            "{accept}"
        );
        let etag = text(&res, header::ETAG).to_string();
        assert_ne!(etag, etag_compressed, "each encoding has its own ETag");
        assert_eq!(res.bytes().await.unwrap(), identity, "{accept}");
    }

    // index.html too, and its 304 matches the encoded variant's ETag.
    let res = get(&app, "/", &[("accept-encoding", "gzip")]).await;
    assert_eq!(text(&res, header::CONTENT_ENCODING), "gzip");
    let etag = text(&res, header::ETAG).to_string();
    let again = get(
        &app,
        "/",
        &[("accept-encoding", "gzip"), ("if-none-match", &etag)],
    )
    .await;
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(text(&again, header::VARY), "accept-encoding");
}

#[tokio::test]
async fn unknown_assets_are_the_json_404() {
    let app = TestApp::spawn().await;
    for path in [
        "/assets/missing-000000.js",
        "/assets/",
        "/missing.svg",
        "/nowhere",
    ] {
        let res = get(&app, path, &[]).await;
        expect_error(res, StatusCode::NOT_FOUND, "not_found").await;
    }
    let res = app.call(Method::POST, "/", None).await;
    expect_error(res, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed").await;
}

#[tokio::test]
async fn disabled_web_leaves_root_a_json_404() {
    let app = TestApp::spawn_with(&[("WEB_ENABLED", "false")]).await;
    for path in ["/", "/index.html", "/assets/app.js"] {
        let res = app.call(Method::GET, path, None).await;
        expect_error(res, StatusCode::NOT_FOUND, "not_found").await;
    }
}
