//! Sign-up, login, "who am I" and logout.

use crate::accounts::{self, User};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use todo_common::Error;
use todo_common::domain::{DisplayName, Email, Password, TimeZone, schema};
use utoipa::{IntoParams, ToSchema};

use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiQuery, AuthToken, AuthUser, ClientIp};
use crate::openapi::{BadInput, BodyErrors, ErrorBody, RateLimited, ServerErrors, TokenErrors};
use crate::state::AppState;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignupBody {
    /// An address of the form local@domain.tld (stored lower-cased).
    #[schema(format = Email, example = "ada@example.com")]
    email: String,
    #[schema(schema_with = schema::password)]
    password: String,
    #[serde(default)]
    #[schema(schema_with = schema::display_name)]
    name: Option<String>,
    /// The user's time zone (the web app sends the browser's); UTC when absent.
    #[serde(default)]
    #[schema(value_type = Option<TimeZone>)]
    time_zone: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginBody {
    #[schema(format = Email, example = "ada@example.com")]
    email: String,
    #[schema(example = "correct horse battery")]
    password: String,
}

/// A signed-in session: send `token` as `Authorization: Bearer <token>`.
#[derive(Serialize, ToSchema)]
pub struct Session {
    user: User,
    /// A JWT (HS256), valid until `expires_at` or logout.
    token: String,
    expires_at: DateTime<Utc>,
}

/// The token's user.
#[derive(Serialize, ToSchema)]
pub struct Me {
    user: User,
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
#[utoipa::path(
    post,
    path = "/api/auth/signup",
    tag = "auth",
    operation_id = "auth_signup",
    summary = "Create an account",
    description = "Creates an account and signs it in. Sign-ups are limited per client address (`SIGNUP_MAX_PER_IP`).",
    request_body = SignupBody,
    responses(
        (status = 201, description = "The account, signed in.", body = Session),
        (status = 409, description = "`email_taken`: an account with this email exists.", body = ErrorBody),
        (status = 422, description = "`unrecognised_value`: `time_zone` is not an IANA time zone.", body = ErrorBody),
        BodyErrors,
        RateLimited,
        ServerErrors,
    ),
)]
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
    let time_zone = match &body.time_zone {
        Some(zone) => TimeZone::parse(zone)?,
        None => TimeZone::UTC,
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
    let user = accounts::create(&state.pool, &email, name.as_ref(), time_zone, &hash).await?;
    tracing::info!(user_id = %user.id, "account created");
    Ok((StatusCode::CREATED, Json(session(&state, user, None)?)))
}

/// The attempt is counted before the password is checked (see
/// `crate::auth::AuthThrottle` for the policy); a success, or a check
/// refused as overloaded, gives it back.
#[utoipa::path(
    post,
    path = "/api/auth/login",
    tag = "auth",
    operation_id = "auth_login",
    summary = "Sign in",
    description = "Repeated failures from one address or for one email are refused for a while (429 with `Retry-After`).",
    request_body = LoginBody,
    responses(
        (status = 200, description = "Signed in.", body = Session),
        (status = 401, description = "`unauthorized`: the email or the password is wrong.", body = ErrorBody),
        BodyErrors,
        RateLimited,
        ServerErrors,
    ),
)]
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

#[utoipa::path(
    get,
    path = "/api/auth/me",
    tag = "auth",
    operation_id = "auth_me",
    summary = "The token's user",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The signed-in user.", body = Me),
        TokenErrors,
        ServerErrors,
    ),
)]
pub async fn me(State(state): State<AppState>, AuthUser(who): AuthUser) -> ApiResult<Json<Me>> {
    let user = accounts::find(&state.pool, &who.user_id).await?;
    Ok(Json(Me {
        user: still_there(user)?,
    }))
}

/// What a user may change about their account.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MeChanges {
    #[schema(value_type = TimeZone)]
    time_zone: String,
}

/// Also for users who sign in with Better Auth: their account row is made
/// on first use.
#[utoipa::path(
    patch,
    path = "/api/auth/me",
    tag = "auth",
    operation_id = "auth_me_update",
    summary = "Change the token's user",
    description = "Sets the user's time zone (an IANA name such as `Europe/Berlin`; \
        422 naming `time_zone` for an unknown one). Their \"today\", \"tomorrow at 5pm\" and \
        \"overdue\" follow it from the next chat turn on. Tasks due at a time keep their \
        instant, and their `due_date` becomes that instant's day in the new zone.",
    security(("bearer" = [])),
    request_body = MeChanges,
    responses(
        (status = 200, description = "The user as changed.", body = Me),
        (status = 422, description = "`unrecognised_value`: `time_zone` is not an IANA time zone.", body = ErrorBody),
        BodyErrors,
        TokenErrors,
        ServerErrors,
    ),
)]
pub async fn update_me(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    ApiJson(body): ApiJson<MeChanges>,
) -> ApiResult<Json<Me>> {
    let zone = TimeZone::parse(&body.time_zone)?;
    // The zone and the days of the user's timed tasks change together.
    let user = match state.tasks.set_time_zone(&who.user_id, zone).await? {
        true => accounts::find(&state.pool, &who.user_id).await?,
        false => None,
    };
    Ok(Json(Me {
        user: still_there(user)?,
    }))
}

/// A valid token whose account was deleted is no longer a session.
fn still_there(user: Option<User>) -> ApiResult<User> {
    user.ok_or_else(|| {
        ApiError::from(Error::Unauthenticated(
            "this account no longer exists".into(),
        ))
    })
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LogoutParams {
    /// Every token of the user issued so far, not only this one ("log out everywhere").
    #[serde(default)]
    #[param(default = false)]
    all: bool,
}

/// Revokes the presented token (with `?all=true`, every token of its user
/// issued up to now): 204, after which the token gets 401 like any invalid
/// one, here at once and on other instances within a couple of seconds. So
/// a second logout with the same token is a 401.
#[utoipa::path(
    post,
    path = "/api/auth/logout",
    tag = "auth",
    operation_id = "auth_logout",
    summary = "Revoke the token",
    description = "Revokes the presented token (with `all=true`, every token of its user issued so far). \
        The token then gets 401, so a second logout with it is a 401 too.",
    security(("bearer" = [])),
    params(LogoutParams),
    responses(
        (status = 204, description = "Revoked."),
        BadInput,
        TokenErrors,
        ServerErrors,
    ),
)]
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
    // Wake the user's open event streams, so those of a revoked token end
    // (MCP watches look at their token every second).
    state.broker.notify_sessions(&identity.user_id).await;
    Ok(StatusCode::NO_CONTENT)
}
