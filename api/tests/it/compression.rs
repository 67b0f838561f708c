//! Answers over 1 KiB come gzip- or brotli-compressed when the client
//! accepts it (issue 23); small answers and event streams come as they are.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::TestApp;

#[tokio::test]
async fn a_long_list_comes_compressed_and_small_answers_and_streams_do_not() {
    let app = TestApp::spawn().await;
    let user = app.signup("gzip@example.com").await;
    for n in 0..40 {
        app.create_task(
            &user,
            json!({"title": format!("task number {n} with some words")}),
        )
        .await;
    }
    let list = format!("/api/{}/tasks?limit=50", user.id);
    let plain = app.call(Method::GET, &list, Some(&user.token)).await;
    assert_eq!(plain.headers().get("content-encoding"), None);
    let plain = plain.bytes().await.unwrap();
    assert!(plain.len() > 4096, "{} bytes", plain.len());

    for (accept, encoding) in [("gzip", "gzip"), ("br", "br"), ("br, gzip", "br")] {
        let res = app
            .request(Method::GET, &list, Some(&user.token))
            .header("accept-encoding", accept)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(res.headers()["content-encoding"], encoding, "{accept}");
        assert_eq!(res.headers()["vary"], "accept-encoding");
        let packed = res.bytes().await.unwrap();
        assert!(
            packed.len() * 4 < plain.len(),
            "{accept}: {} of {} bytes",
            packed.len(),
            plain.len()
        );
        if encoding == "gzip" {
            assert_eq!(packed.get(..2), Some(&[0x1f, 0x8b][..]), "gzip's magic");
        }
    }

    // Under 1 KiB: not worth it.
    let res = app
        .request(Method::GET, "/health", None)
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers().get("content-encoding"), None);

    // An event stream's events must leave at once: never compressed.
    let res = app
        .request(
            Method::GET,
            &format!("/api/{}/events", user.id),
            Some(&user.token),
        )
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    assert_eq!(res.headers().get("content-encoding"), None);
}
