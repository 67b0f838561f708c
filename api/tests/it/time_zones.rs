//! Each user's time zone (issue 21): given at sign-up, shown by "me",
//! changed with PATCH /api/auth/me, and refused by name when unknown.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TEST_SECRET, TestApp, expect_error, hs_token, now};

async fn signup(app: &TestApp, email: &str, zone: Option<&str>) -> reqwest::Response {
    let mut body = json!({"email": email, "password": "correct horse battery"});
    if let Some(zone) = zone {
        body["time_zone"] = json!(zone);
    }
    app.send_json(Method::POST, "/api/auth/signup", None, &body)
        .await
}

async fn me(app: &TestApp, token: &str) -> Value {
    app.call_for_json(Method::GET, "/api/auth/me", Some(token), None)
        .await
}

async fn set_zone(app: &TestApp, token: &str, body: &Value) -> reqwest::Response {
    app.send_json(Method::PATCH, "/api/auth/me", Some(token), body)
        .await
}

#[tokio::test]
async fn a_zone_given_at_sign_up_is_the_users_and_utc_is_the_default() {
    let app = TestApp::spawn().await;
    let res = signup(&app, "berlin@example.com", Some(" Europe/Berlin ")).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let session: Value = res.json().await.unwrap();
    assert_eq!(session["user"]["time_zone"], "Europe/Berlin");
    let token = session["token"].as_str().unwrap();
    assert_eq!(me(&app, token).await["user"]["time_zone"], "Europe/Berlin");

    let res = signup(&app, "nowhere@example.com", None).await;
    let session: Value = res.json().await.unwrap();
    assert_eq!(session["user"]["time_zone"], "UTC");

    // An unknown zone is refused by name, and no account is made.
    let res = signup(&app, "mars@example.com", Some("Mars/Olympus_Mons")).await;
    let body = expect_error(res, StatusCode::UNPROCESSABLE_ENTITY, "unrecognised_value").await;
    assert_eq!(body["error"]["field"], "time_zone", "{body}");
    let res = app
        .send_json(
            Method::POST,
            "/api/auth/login",
            None,
            &json!({"email": "mars@example.com", "password": "correct horse battery"}),
        )
        .await;
    assert_eq!(
        res.status(),
        StatusCode::UNAUTHORIZED,
        "no account was made"
    );
}

#[tokio::test]
async fn a_user_changes_their_zone_and_only_theirs() {
    let app = TestApp::spawn().await;
    let ada = app.signup("ada-tz@example.com").await;
    let bob = app.signup("bob-tz@example.com").await;

    let res = set_zone(&app, &ada.token, &json!({"time_zone": "Asia/Kolkata"})).await;
    assert_eq!(res.status(), StatusCode::OK);
    let changed: Value = res.json().await.unwrap();
    assert_eq!(changed["user"]["time_zone"], "Asia/Kolkata");
    assert_eq!(changed["user"]["id"], ada.id.as_str());
    assert_eq!(
        me(&app, &ada.token).await["user"]["time_zone"],
        "Asia/Kolkata"
    );
    assert_eq!(me(&app, &bob.token).await["user"]["time_zone"], "UTC");

    // Refused changes leave the zone as it was.
    for (body, status, code) in [
        (
            json!({"time_zone": "Asia/Calcutta_"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "unrecognised_value",
        ),
        (
            json!({"time_zone": ""}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "unrecognised_value",
        ),
        (
            json!({"time_zone": 5}),
            StatusCode::BAD_REQUEST,
            "validation_failed",
        ),
        (json!({}), StatusCode::BAD_REQUEST, "validation_failed"),
        (
            json!({"time_zone": "UTC", "email": "x@example.com"}),
            StatusCode::BAD_REQUEST,
            "validation_failed",
        ),
    ] {
        let res = set_zone(&app, &ada.token, &body).await;
        let error = expect_error(res, status, code).await;
        assert!(
            error["error"]["message"].as_str().unwrap().len() > 5,
            "{error}"
        );
    }
    assert_eq!(
        me(&app, &ada.token).await["user"]["time_zone"],
        "Asia/Kolkata"
    );

    // Without a valid token nothing changes.
    let res = set_zone(&app, "not-a-token", &json!({"time_zone": "UTC"})).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn better_auth_users_set_their_zone_the_same_way() {
    let app = TestApp::spawn().await;
    let token = hs_token(
        jsonwebtoken::Algorithm::HS256,
        TEST_SECRET,
        &json!({"sub": "ba_user_tz", "email": "tz@example.com", "iat": now(), "exp": now() + 600}),
    );
    let res = set_zone(&app, &token, &json!({"time_zone": "Pacific/Auckland"})).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        me(&app, &token).await["user"]["time_zone"],
        "Pacific/Auckland"
    );
}
