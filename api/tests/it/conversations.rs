//! Listing conversations page by page.

use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::helpers::{TestApp, TestUser, expect_error};

async fn page(app: &TestApp, user: &TestUser, query: &str) -> Value {
    app.call_for_json(
        Method::GET,
        &format!("/api/{}/conversations{query}", user.id),
        Some(&user.token),
        None,
    )
    .await
}

#[tokio::test]
async fn conversations_page_by_cursor_newest_first_each_once() {
    let app = TestApp::spawn().await;
    let user = app.signup("pages@example.com").await;
    let other = app.signup("elsewhere@example.com").await;
    let mut started = Vec::new();
    for i in 0..5 {
        let (status, body) = app.chat(&user, &format!("add thing {i}"), None, None).await;
        assert_eq!(status, StatusCode::ACCEPTED);
        started.push(body["conversation_id"].as_str().unwrap().to_string());
    }
    app.chat(&other, "add not yours", None, None).await;

    let mut seen = Vec::new();
    let mut query = "?limit=2".to_string();
    let mut pages = 0;
    loop {
        let body = page(&app, &user, &query).await;
        pages += 1;
        let items = body["conversations"].as_array().unwrap();
        assert!(items.len() <= 2, "{body}");
        seen.extend(items.iter().map(|c| c["id"].as_str().unwrap().to_string()));
        match body["next_cursor"].as_str() {
            Some(cursor) => query = format!("?limit=2&cursor={cursor}"),
            None => break,
        }
        assert!(pages < 10, "paging ends");
    }
    assert_eq!(pages, 3);
    started.reverse();
    assert_eq!(seen, started, "every conversation once, most recent first");

    // A conversation started while paging does not shift the next page.
    let first = page(&app, &user, "?limit=2").await;
    app.chat(&user, "add latecomer", None, None).await;
    let cursor = first["next_cursor"].as_str().unwrap();
    let second = page(&app, &user, &format!("?limit=2&cursor={cursor}")).await;
    let ids: Vec<&str> = second["conversations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [started[2].as_str(), started[3].as_str()]);
}

#[tokio::test]
async fn bad_conversation_paging_is_a_clear_400() {
    let app = TestApp::spawn().await;
    let user = app.signup("badpages@example.com").await;
    // base64url of {"u":"yesterday","i":"x"}: well-formed, but no cursor of ours.
    let forged = "eyJ1IjoieWVzdGVyZGF5IiwiaSI6IngifQ";
    for (query, field) in [
        ("?cursor=garbage", "cursor"),
        (&format!("?cursor={forged}") as &str, "cursor"),
        ("?limit=0", "limit"),
        ("?limit=201", "limit"),
        ("?limit=ten", "limit"),
    ] {
        let res = app
            .call(
                Method::GET,
                &format!("/api/{}/conversations{query}", user.id),
                Some(&user.token),
            )
            .await;
        let body = expect_error(res, StatusCode::BAD_REQUEST, "validation_failed").await;
        assert_eq!(body["error"]["field"], field, "{query}: {body}");
    }
}
