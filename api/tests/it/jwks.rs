//! Tokens signed by a key from AUTH_JWKS_URL (Better Auth's JWT plugin: EdDSA
//! by default, ES256 as configured).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::Router;
use axum::routing::get;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio::sync::RwLock;

use crate::helpers::{TestApp, now};

const KEY_A: &[u8] = include_bytes!("../fixtures/ed25519_a.pem");
const KEY_B: &[u8] = include_bytes!("../fixtures/ed25519_b.pem");
const X_A: &str = include_str!("../fixtures/ed25519_a.x");
const X_B: &str = include_str!("../fixtures/ed25519_b.x");
const P256_A: &[u8] = include_bytes!("../fixtures/p256_a.pem");
const P256_A_X: &str = include_str!("../fixtures/p256_a.x");
const P256_A_Y: &str = include_str!("../fixtures/p256_a.y");

fn jwk(kid: &str, x: &str) -> Value {
    json!({"kty": "OKP", "crv": "Ed25519", "x": x.trim(), "kid": kid, "alg": "EdDSA", "use": "sig"})
}

fn eddsa(kid: &str, pem: &[u8], sub: &str, exp: i64) -> String {
    let mut header = Header::new(Algorithm::EdDSA);
    header.kid = Some(kid.into());
    let claims = json!({"sub": sub, "iat": now(), "exp": exp, "email": format!("{sub}@example.com"),
                        "iss": "https://auth.example.com", "aud": "https://auth.example.com"});
    jsonwebtoken::encode(&header, &claims, &EncodingKey::from_ed_pem(pem).unwrap()).unwrap()
}

/// A JWKS endpoint on localhost whose key set the test can change.
struct KeyServer {
    url: String,
    keys: Arc<RwLock<Value>>,
    fetches: Arc<AtomicUsize>,
}

impl KeyServer {
    async fn start(keys: Value) -> Self {
        let keys = Arc::new(RwLock::new(keys));
        let fetches = Arc::new(AtomicUsize::new(0));
        let (k, f) = (keys.clone(), fetches.clone());
        let app = Router::new().route(
            "/api/auth/jwks",
            get(move || {
                let (k, f) = (k.clone(), f.clone());
                async move {
                    f.fetch_add(1, Ordering::SeqCst);
                    axum::Json(k.read().await.clone())
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/api/auth/jwks", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self { url, keys, fetches }
    }
}

async fn status(app: &TestApp, sub: &str, token: &str) -> StatusCode {
    app.call(Method::GET, &format!("/api/{sub}/tasks"), Some(token))
        .await
        .status()
}

#[tokio::test]
async fn eddsa_tokens_from_the_jwks_are_accepted_and_keys_rotate() {
    let server = KeyServer::start(json!({"keys": [jwk("key-a", X_A)]})).await;
    let app = TestApp::spawn_with(&[
        ("AUTH_JWKS_URL", server.url.as_str()),
        ("AUTH_JWT_ISSUER", "https://auth.example.com"),
        ("AUTH_JWT_AUDIENCE", "https://auth.example.com"),
    ])
    .await;

    let token = eddsa("key-a", KEY_A, "ba-user-1", now() + 600);
    assert_eq!(status(&app, "ba-user-1", &token).await, StatusCode::OK);
    // The user first seen through the token now has a row, and can own tasks.
    let res = app
        .send_json(
            Method::POST,
            "/api/ba-user-1/tasks",
            Some(&token),
            &json!({"title": "signed elsewhere"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let email: Option<String> =
        sqlx::query_scalar("SELECT email FROM users WHERE id = 'ba-user-1'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(email.as_deref(), Some("ba-user-1@example.com"));
    assert_eq!(server.fetches.load(Ordering::SeqCst), 1, "keys are cached");

    // A key the set does not hold is refused.
    let forged = eddsa("key-a", KEY_B, "ba-user-1", now() + 600);
    assert_eq!(
        status(&app, "ba-user-1", &forged).await,
        StatusCode::UNAUTHORIZED
    );
    // Expired, even with a good key.
    let expired = eddsa("key-a", KEY_A, "ba-user-1", now() - 3600);
    assert_eq!(
        status(&app, "ba-user-1", &expired).await,
        StatusCode::UNAUTHORIZED
    );
    // Another user's path with a good token: forbidden.
    assert_eq!(
        status(&app, "ba-user-2", &token).await,
        StatusCode::FORBIDDEN
    );

    // Rotation: the server starts signing with key B under a new kid; the
    // unknown kid makes the API fetch the set again.
    *server.keys.write().await = json!({"keys": [jwk("key-a", X_A), jwk("key-b", X_B)]});
    // Refetches are spaced at least 10 s apart, so poll with a deadline.
    let rotated = eddsa("key-b", KEY_B, "ba-user-1", now() + 600);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while status(&app, "ba-user-1", &rotated).await != StatusCode::OK {
        assert!(
            std::time::Instant::now() < deadline,
            "rotated key never accepted"
        );
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
    assert_eq!(server.fetches.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn jwks_tokens_must_match_issuer_and_audience_and_kid_spam_is_bounded() {
    let server = KeyServer::start(json!({"keys": [jwk("key-a", X_A)]})).await;
    let app = TestApp::spawn_with(&[
        ("AUTH_JWKS_URL", server.url.as_str()),
        ("AUTH_JWT_AUDIENCE", "https://other-app.example.com"),
    ])
    .await;
    let token = eddsa("key-a", KEY_A, "ba-user-3", now() + 600);
    assert_eq!(
        status(&app, "ba-user-3", &token).await,
        StatusCode::UNAUTHORIZED,
        "wrong audience"
    );

    // Many unknown key ids cause at most one refetch per refresh interval.
    for i in 0..20 {
        let t = eddsa(&format!("nope-{i}"), KEY_A, "ba-user-3", now() + 600);
        assert_eq!(
            status(&app, "ba-user-3", &t).await,
            StatusCode::UNAUTHORIZED
        );
    }
    assert!(
        server.fetches.load(Ordering::SeqCst) <= 2,
        "{}",
        server.fetches.load(Ordering::SeqCst)
    );
}

fn eddsa_with(kid: &str, pem: &[u8], claims: Value) -> String {
    let mut header = Header::new(Algorithm::EdDSA);
    header.kid = Some(kid.into());
    jsonwebtoken::encode(&header, &claims, &EncodingKey::from_ed_pem(pem).unwrap()).unwrap()
}

#[tokio::test]
async fn configured_issuer_and_audience_must_be_present() {
    let server = KeyServer::start(json!({"keys": [jwk("key-a", X_A)]})).await;
    let app = TestApp::spawn_with(&[
        ("AUTH_JWKS_URL", server.url.as_str()),
        ("AUTH_JWT_ISSUER", "https://auth.example.com"),
        ("AUTH_JWT_AUDIENCE", "https://api.example.com"),
    ])
    .await;
    let claims = |extra: Value| {
        let mut c = json!({"sub": "ba-user-4", "iat": now(), "exp": now() + 600});
        c.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        eddsa_with("key-a", KEY_A, c)
    };
    for (name, token) in [
        ("no iss, no aud", claims(json!({}))),
        ("no iss", claims(json!({"aud": "https://api.example.com"}))),
        ("no aud", claims(json!({"iss": "https://auth.example.com"}))),
    ] {
        assert_eq!(
            status(&app, "ba-user-4", &token).await,
            StatusCode::UNAUTHORIZED,
            "{name} must be refused"
        );
    }
    let good = claims(json!({"iss": "https://auth.example.com", "aud": "https://api.example.com"}));
    assert_eq!(status(&app, "ba-user-4", &good).await, StatusCode::OK);
}

#[tokio::test]
async fn the_key_set_is_not_fetched_through_redirects() {
    let server = KeyServer::start(json!({"keys": [jwk("key-a", X_A)]})).await;
    // A redirect to the real key set: following it would accept the token.
    let target = server.url.clone();
    let redirector = Router::new().route(
        "/jwks",
        get(move || {
            let target = target.clone();
            async move { axum::response::Redirect::temporary(&target) }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/jwks", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, redirector).await });

    let app = TestApp::spawn_with(&[("AUTH_JWKS_URL", url.as_str())]).await;
    let token = eddsa("key-a", KEY_A, "ba-user-5", now() + 600);
    let res = app
        .call(Method::GET, "/api/ba-user-5/tasks", Some(&token))
        .await;
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        server.fetches.load(Ordering::SeqCst),
        0,
        "redirect followed"
    );
}

fn p256_jwk(kid: &str) -> Value {
    json!({"kty": "EC", "crv": "P-256", "x": P256_A_X.trim(), "y": P256_A_Y.trim(),
           "kid": kid, "alg": "ES256", "use": "sig"})
}

fn es256(kid: &str, sub: &str) -> String {
    let mut header = Header::new(Algorithm::ES256);
    header.kid = Some(kid.into());
    let claims = json!({"sub": sub, "iat": now(), "exp": now() + 600});
    jsonwebtoken::encode(&header, &claims, &EncodingKey::from_ec_pem(P256_A).unwrap()).unwrap()
}

/// The same ES256 token with its other valid signature: ECDSA's (r, s) and
/// (r, n - s) both verify (n: the order of P-256), and nothing in the token
/// says which one the signer made.
fn high_s_twin(token: &str) -> String {
    const N: [u8; 32] = [
        0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
        0xFF, 0xBC, 0xE6, 0xFA, 0xAD, 0xA7, 0x17, 0x9E, 0x84, 0xF3, 0xB9, 0xCA, 0xC2, 0xFC, 0x63,
        0x25, 0x51,
    ];
    let (signed, signature) = token.rsplit_once('.').unwrap();
    let mut rs = URL_SAFE_NO_PAD.decode(signature).unwrap();
    assert_eq!(rs.len(), 64, "r || s, 32 bytes each");
    // s' = n - s, big-endian, byte by byte with a borrow (s < n, so none is left).
    let mut borrow = 0;
    for (s, n) in rs[32..].iter_mut().zip(N).rev() {
        let d = i16::from(n) - i16::from(*s) - borrow;
        borrow = i16::from(d < 0);
        *s = (d + 256 * borrow) as u8;
    }
    assert_eq!(borrow, 0);
    format!("{signed}.{}", URL_SAFE_NO_PAD.encode(rs))
}

#[tokio::test]
async fn a_logged_out_es256_token_stays_out_under_its_other_signature() {
    let server = KeyServer::start(json!({"keys": [p256_jwk("ec-a")]})).await;
    let app = TestApp::spawn_with(&[("AUTH_JWKS_URL", server.url.as_str())]).await;

    // The attack works on this backend: a token never logged out is
    // accepted under both signatures.
    let kept = es256("ec-a", "ba-user-6");
    let kept_twin = high_s_twin(&kept);
    assert_ne!(kept_twin, kept);
    assert_eq!(status(&app, "ba-user-6", &kept).await, StatusCode::OK);
    assert_eq!(status(&app, "ba-user-6", &kept_twin).await, StatusCode::OK);

    // Logged out, the token is refused under either signature, here and by
    // an instance that reads the revocation from the database.
    let token = es256("ec-a", "ba-user-7");
    assert_eq!(status(&app, "ba-user-7", &token).await, StatusCode::OK);
    let res = app
        .call(Method::POST, "/api/auth/logout", Some(&token))
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let twin = high_s_twin(&token);
    assert_eq!(
        status(&app, "ba-user-7", &token).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        status(&app, "ba-user-7", &twin).await,
        StatusCode::UNAUTHORIZED,
        "the re-signed token is the logged-out one"
    );
    let peer = app.spawn_peer().await;
    assert_eq!(
        status(&peer, "ba-user-7", &twin).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(status(&peer, "ba-user-6", &kept_twin).await, StatusCode::OK);
}
