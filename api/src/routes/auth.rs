//! Sign-up, login, "who am I" and logout.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use todo_common::Error;
use todo_common::accounts::{self, User};
use todo_common::domain::{DisplayName, Email, Password};

use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiQuery, AuthToken, AuthUser, ClientIp};
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

/// `valid_after`: the user's last "log out everywhere", so the new token
/// is issued past it.
fn session(state: &AppState, user: User, valid_after: Option<DateTime<Utc>>) -> ApiResult<Session> {
    let issued = state.tokens.issue(&user.id, valid_after)?;
    Ok(Session {
        user,
        token: issued.token,
        expires_at: issued.expires_at,
    })
}

/// Throttled per client IP, then hashed within the hashing bound; a sign-up
/// refused as overloaded (503) does not count against the IP.
pub async fn signup(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiJson(body): ApiJson<SignupBody>,
) -> ApiResult<(StatusCode, Json<Session>)> {
    let email = Email::parse(&body.email)?;
    let password = Password::parse(&body.password)?;
    let name = match &body.name {
        Some(n) => DisplayName::parse(n)?,
        None => None,
    };
    let attempt = state.throttle.signup_attempt(&ip.to_string()).await?;
    let hash = match state.passwords.hash(password).await {
        Ok(hash) => hash,
        Err(busy @ Error::Overloaded { .. }) => {
            state.throttle.undo(attempt).await?;
            return Err(busy.into());
        }
        Err(e) => return Err(e.into()),
    };
    let user = accounts::create(&state.pool, &email, name.as_ref(), &hash).await?;
    tracing::info!(user_id = %user.id, "account created");
    Ok((StatusCode::CREATED, Json(session(&state, user, None)?)))
}

/// The attempt is counted before the password is checked (see
/// `todo_common::auth::AuthThrottle` for the policy); a success, or a check
/// refused as overloaded, gives it back.
pub async fn login(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiJson(body): ApiJson<LoginBody>,
) -> ApiResult<Json<Session>> {
    let email = Email::parse(&body.email)?;
    let attempt = state
        .throttle
        .login_attempt(&ip.to_string(), email.as_str())
        .await?;

    let found = accounts::find_for_login(&state.pool, &email).await?;
    let (user, stored) = match found {
        Some((user, hash)) => (Some(user), hash),
        None => (None, None),
    };
    // A password that breaks today's rules cannot match; it still costs a
    // hash and a failure so timing and counting do not tell it apart.
    let checked = match Password::parse(&body.password) {
        Ok(p) => state.passwords.verify(p, stored).await,
        Err(_) => {
            let filler = Password::parse("timing-filler").expect("valid literal");
            state.passwords.verify(filler, None).await
        }
    };
    let ok = match checked {
        Ok(ok) => ok,
        Err(busy @ Error::Overloaded { .. }) => {
            state.throttle.undo(attempt).await?;
            return Err(busy.into());
        }
        Err(e) => return Err(e.into()),
    };
    match user {
        Some(user) if ok => {
            state.throttle.undo(attempt).await?;
            let valid_after = state.revocations.valid_after(&user.id).await?;
            Ok(Json(session(&state, user, valid_after)?))
        }
        _ => {
            // The attempt is not given back: it counts as a failure.
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

#[derive(Deserialize)]
pub struct LogoutParams {
    /// Every token of the user issued so far, not only this one.
    #[serde(default)]
    all: bool,
}

/// Revokes the presented token (with `?all=true`, every token of its user
/// issued up to now): 204, after which the token gets 401 like any invalid
/// one, here at once and on other instances within a couple of seconds. So
/// a second logout with the same token is a 401.
pub async fn logout(
    State(state): State<AppState>,
    AuthToken { identity, digest }: AuthToken,
    ApiQuery(params): ApiQuery<LogoutParams>,
) -> ApiResult<StatusCode> {
    if params.all {
        state.revocations.revoke_all(&digest, &identity).await?;
        tracing::info!(user_id = %identity.user_id, "logged out everywhere");
    } else {
        state.revocations.revoke(&digest, &identity).await?;
    }
    // Wake the user's open event streams, so those of a revoked token end.
    state.broker.notify(&identity.user_id).await;
    Ok(StatusCode::NO_CONTENT)
}
