//! Which shared-secret JWTs are sessions: ours name their issuer, audience
//! and use; others must come from BETTER_AUTH_URL when it is set; `nbf` and
//! a future `iat` are checked on every token.

use jsonwebtoken::Algorithm;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TEST_SECRET, TestApp, hs_token, now};

const AUTH_URL: &str = "https://auth.example.com";

async fn me_status(app: &TestApp, token: &str) -> StatusCode {
    app.call(Method::GET, "/api/auth/me", Some(token))
        .await
        .status()
}

fn decoded(part: &str) -> Value {
    use base64::Engine;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

#[tokio::test]
async fn our_tokens_name_their_issuer_audience_and_use() {
    let app = TestApp::spawn().await;
    let user = app.signup("typed@example.com").await;
    let parts: Vec<&str> = user.token.split('.').collect();
    let (header, claims) = (decoded(parts[0]), decoded(parts[1]));
    assert_eq!(header["typ"], "JWT");
    assert_eq!(claims["iss"], "todo-chat", "{claims}");
    assert_eq!(claims["aud"], "todo-chat-api", "{claims}");
    assert_eq!(claims["token_use"], "session", "{claims}");
    assert_eq!(me_status(&app, &user.token).await, StatusCode::OK);
}

#[tokio::test]
async fn with_better_auth_url_other_shared_secret_tokens_must_come_from_it() {
    let app = TestApp::spawn_with(&[("BETTER_AUTH_URL", AUTH_URL)]).await;
    let user = app.signup("ours@example.com").await;
    let base = || json!({"sub": "ba_user_1", "iat": now() - 5, "exp": now() + 600});
    let with = |extra: Value| {
        let mut claims = base();
        claims
            .as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        hs_token(Algorithm::HS256, TEST_SECRET, &claims)
    };

    // Any JWT made with the secret for another purpose is not a session.
    let bare = hs_token(Algorithm::HS256, TEST_SECRET, &base());
    assert_eq!(me_status(&app, &bare).await, StatusCode::UNAUTHORIZED);
    for (name, token) in [
        (
            "wrong issuer",
            with(json!({"iss": "https://evil.example.com", "aud": AUTH_URL})),
        ),
        ("no audience", with(json!({"iss": AUTH_URL}))),
        (
            "wrong audience",
            with(json!({"iss": AUTH_URL, "aud": "https://other.example.com"})),
        ),
        ("no issuer", with(json!({"aud": AUTH_URL}))),
        // Naming our issuer does not help without the rest of our claims.
        ("our issuer only", with(json!({"iss": "todo-chat"}))),
        (
            "our issuer, no use",
            with(json!({"iss": "todo-chat", "aud": "todo-chat-api"})),
        ),
        (
            "our issuer, other use",
            with(
                json!({"iss": "todo-chat", "aud": "todo-chat-api", "token_use": "email-verification"}),
            ),
        ),
    ] {
        assert_eq!(
            me_status(&app, &token).await,
            StatusCode::UNAUTHORIZED,
            "{name} must be refused"
        );
    }

    // Better Auth's own: iss and aud are its base URL.
    let better_auth = with(json!({"iss": AUTH_URL, "aud": AUTH_URL}));
    assert_eq!(me_status(&app, &better_auth).await, StatusCode::OK);
    let listed = with(json!({"iss": AUTH_URL, "aud": [AUTH_URL, "https://x.example.com"]}));
    assert_eq!(me_status(&app, &listed).await, StatusCode::OK);
    // And ours, of course.
    assert_eq!(me_status(&app, &user.token).await, StatusCode::OK);
}

#[tokio::test]
async fn not_yet_valid_and_future_dated_tokens_are_refused() {
    let app = TestApp::spawn().await;
    let token = |claims: Value| hs_token(Algorithm::HS256, TEST_SECRET, &claims);
    let exp = now() + 7200;

    let not_before =
        token(json!({"sub": "ba_user_2", "iat": now(), "nbf": now() + 3600, "exp": exp}));
    assert_eq!(me_status(&app, &not_before).await, StatusCode::UNAUTHORIZED);
    let future_iat = token(json!({"sub": "ba_user_2", "iat": now() + 3600, "exp": exp}));
    assert_eq!(me_status(&app, &future_iat).await, StatusCode::UNAUTHORIZED);

    // Within the 30 s leeway (clock skew, and the next-second `iat` of a
    // login right after "log out everywhere"), both are fine.
    let skewed = token(json!({"sub": "ba_user_2", "iat": now() + 2, "nbf": now() + 2, "exp": exp}));
    assert_eq!(me_status(&app, &skewed).await, StatusCode::OK);
    let past_nbf =
        token(json!({"sub": "ba_user_2", "iat": now() - 60, "nbf": now() - 60, "exp": exp}));
    assert_eq!(me_status(&app, &past_nbf).await, StatusCode::OK);
}
