//! Sign-up, login and "who am I".

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use todo_common::Error;
use todo_common::accounts::{self, User};
use todo_common::auth::password;
use todo_common::domain::{DisplayName, Email, Password};

use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, AuthUser, ClientIp};
use crate::state::AppState;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignupBody {
    email: String,
    password: String,
    #[serde(default)]
    name: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginBody {
    email: String,
    password: String,
}

#[derive(Serialize)]
pub struct Session {
    user: User,
    token: String,
    expires_at: DateTime<Utc>,
}

fn session(state: &AppState, user: User) -> ApiResult<Session> {
    let issued = state.tokens.issue(&user.id)?;
    Ok(Session {
        user,
        token: issued.token,
        expires_at: issued.expires_at,
    })
}

pub async fn signup(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<SignupBody>,
) -> ApiResult<(StatusCode, Json<Session>)> {
    let email = Email::parse(&body.email)?;
    let password = Password::parse(&body.password)?;
    let name = match &body.name {
        Some(n) => DisplayName::parse(n)?,
        None => None,
    };
    let hash = password::hash(password).await?;
    let user = accounts::create(&state.pool, &email, name.as_ref(), &hash).await?;
    tracing::info!(user_id = %user.id, "account created");
    Ok((StatusCode::CREATED, Json(session(&state, user)?)))
}

pub async fn login(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiJson(body): ApiJson<LoginBody>,
) -> ApiResult<Json<Session>> {
    let email = Email::parse(&body.email)?;
    let keys = state.throttle.keys(&ip.to_string(), email.as_str());
    state.throttle.check(&keys).await?;

    let found = accounts::find_for_login(&state.pool, &email).await?;
    let (user, stored) = match found {
        Some((user, hash)) => (Some(user), hash),
        None => (None, None),
    };
    // A password that breaks today's rules cannot match; it still costs a
    // hash and a failure so timing and counting do not tell it apart.
    let ok = match Password::parse(&body.password) {
        Ok(p) => password::verify(p, stored).await,
        Err(_) => {
            let filler = Password::parse("timing-filler").expect("valid literal");
            password::verify(filler, None).await
        }
    };
    match user {
        Some(user) if ok => {
            state.throttle.record_success(&keys).await?;
            Ok(Json(session(&state, user)?))
        }
        _ => {
            state.throttle.record_failure(&keys).await?;
            tracing::info!(client_ip = %ip, "failed login");
            Err(Error::Unauthenticated("email or password is wrong".into()).into())
        }
    }
}

pub async fn me(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
) -> ApiResult<Json<serde_json::Value>> {
    let user = accounts::find(&state.pool, &who.user_id)
        .await?
        .ok_or_else(|| {
            ApiError::from(Error::Unauthenticated(
                "this account no longer exists".into(),
            ))
        })?;
    Ok(Json(serde_json::json!({ "user": user })))
}
