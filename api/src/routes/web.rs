//! The built web app at `/` (WEB_ENABLED), embedded at compile time by
//! `api/build.rs` from `web/dist`.
//!
//! Bundles under `/assets/` carry a content hash in their names, so they are
//! cached for a year. `index.html` and the other files keep their names across
//! builds: browsers revalidate them every time (`no-cache`) against a strong
//! ETag. Each file goes out as its precompressed `.br` or `.gz` copy when the
//! client accepts one; nothing is compressed per request.

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::Response;
use axum::routing::get;

use crate::error::ApiError;
use crate::state::AppState;

/// Everything the page loads comes from this origin; no inline scripts or
/// styles, no plugins, no framing.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// One file of `web/dist`, as `build.rs` found it.
pub(crate) struct WebFile {
    /// Request path, e.g. `/assets/index-BX3k9a.js`.
    path: &'static str,
    content_type: &'static str,
    /// Fingerprint of the identity bytes; each variant's ETag derives from it.
    hash: &'static str,
    identity: &'static [u8],
    br: Option<&'static [u8]>,
    gzip: Option<&'static [u8]>,
}

// `static FILES: &[WebFile]`, sorted by path.
include!(concat!(env!("OUT_DIR"), "/web_files.rs"));

/// The web app's routes, merged into the API's when WEB_ENABLED.
pub fn router() -> Router<AppState> {
    let mut router = Router::new()
        .route("/", get(index))
        .route("/index.html", get(index))
        // One template for every bundle keeps the metrics' route labels bounded.
        .route("/assets/{*file}", get(asset));
    // The other files (favicon.svg, robots.txt) get a route each, so any
    // other path still reaches the JSON 404 fallback.
    for file in FILES
        .iter()
        .filter(|f| f.path != "/index.html" && !f.path.starts_with("/assets/"))
    {
        router = router.route(
            file.path,
            get(move |headers: HeaderMap| async move { serve(file, &headers) }),
        );
    }
    router
}

async fn index(headers: HeaderMap) -> Result<Response, ApiError> {
    let file = find("/index.html").ok_or(ApiError::WebNotBuilt)?;
    Ok(serve(file, &headers))
}

async fn asset(uri: Uri, headers: HeaderMap) -> Result<Response, ApiError> {
    let file = find(uri.path()).ok_or(ApiError::RouteNotFound)?;
    Ok(serve(file, &headers))
}

fn find(path: &str) -> Option<&'static WebFile> {
    let i = FILES.binary_search_by(|f| f.path.cmp(path)).ok()?;
    Some(&FILES[i])
}

fn serve(file: &'static WebFile, request: &HeaderMap) -> Response {
    let accept = request
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let (coding, body) = match (file.br, file.gzip) {
        (Some(br), _) if accepts(accept, "br") => (Some("br"), br),
        (_, Some(gzip)) if accepts(accept, "gzip") => (Some("gzip"), gzip),
        _ => (None, file.identity),
    };
    // Each encoding is its own representation, so it needs its own strong ETag.
    let etag = match coding {
        Some(coding) => format!("\"{}.{coding}\"", file.hash),
        None => format!("\"{}\"", file.hash),
    };

    let mut headers = HeaderMap::new();
    let cache = if file.path.starts_with("/assets/") {
        IMMUTABLE
    } else {
        "no-cache"
    };
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    headers.insert(
        header::ETAG,
        HeaderValue::try_from(etag.as_str()).expect("a quoted hex hash is a valid header value"),
    );
    if file.br.is_some() || file.gzip.is_some() {
        headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    }
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );

    let if_none_match = request
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok());
    let mut response = if if_none_match.is_some_and(|tags| matches_etag(tags, &etag)) {
        let mut response = Response::new(Body::empty());
        *response.status_mut() = StatusCode::NOT_MODIFIED;
        response
    } else {
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(file.content_type),
        );
        if let Some(coding) = coding {
            headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static(coding));
        }
        Response::new(Body::from(body))
    };
    *response.headers_mut() = headers;
    response
}

/// Whether `Accept-Encoding` allows `coding`: listed (or covered by `*`)
/// with a quality above zero. No header at all means identity only.
fn accepts(accept_encoding: &str, coding: &str) -> bool {
    let mut wildcard = 0.0;
    for item in accept_encoding.split(',') {
        let mut parts = item.split(';');
        let name = parts.next().unwrap_or_default().trim();
        let quality = parts
            .find_map(|p| {
                let (key, value) = p.split_once('=')?;
                key.trim()
                    .eq_ignore_ascii_case("q")
                    .then(|| value.trim().parse::<f32>().unwrap_or(0.0))
            })
            .unwrap_or(1.0);
        if name.eq_ignore_ascii_case(coding)
            || (coding == "gzip" && name.eq_ignore_ascii_case("x-gzip"))
        {
            return quality > 0.0;
        }
        if name == "*" {
            wildcard = quality;
        }
    }
    wildcard > 0.0
}

/// `If-None-Match` uses the weak comparison (RFC 9110 13.1.2): `W/` is ignored.
fn matches_etag(if_none_match: &str, etag: &str) -> bool {
    if_none_match.trim() == "*"
        || if_none_match.split(',').any(|tag| {
            let tag = tag.trim();
            tag.strip_prefix("W/").unwrap_or(tag) == etag
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodings_are_chosen_by_what_the_client_accepts() {
        assert!(accepts("gzip, deflate, br, zstd", "br"));
        assert!(accepts("gzip, deflate, br", "gzip"));
        assert!(!accepts("gzip, br;q=0", "br"));
        assert!(accepts("gzip;q=0.5, br;q=0.1", "br"));
        assert!(!accepts("br;q=0.000", "br"));
        assert!(accepts("*", "br"));
        assert!(!accepts("*, br;q=0", "br"));
        assert!(!accepts("*;q=0, gzip", "br"));
        assert!(accepts("x-gzip", "gzip"));
        assert!(!accepts("", "gzip"));
        assert!(!accepts("identity", "gzip"));
    }

    #[test]
    fn if_none_match_compares_weakly_and_takes_lists() {
        assert!(matches_etag("\"a\"", "\"a\""));
        assert!(matches_etag("W/\"a\"", "\"a\""));
        assert!(matches_etag("\"x\", \"a\"", "\"a\""));
        assert!(matches_etag("*", "\"a\""));
        assert!(!matches_etag("\"a.br\"", "\"a\""));
    }

    #[test]
    fn the_table_is_sorted_and_lists_no_encoded_copy() {
        assert!(FILES.windows(2).all(|w| w[0].path < w[1].path));
        // `X.br` / `X.gz` are variants of `X`, not files of their own.
        let encoded = |p: &'static str| p.strip_suffix(".br").or(p.strip_suffix(".gz"));
        assert!(
            FILES
                .iter()
                .all(|f| encoded(f.path).is_none_or(|p| find(p).is_none()))
        );
    }
}
