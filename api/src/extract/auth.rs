//! Who is calling. The user always comes from the verified token; a path's
//! `{user_id}` is only ever compared with it. Every extractor here turns a
//! token into an identity through [`identify`], which also refuses revoked
//! (logged-out) tokens.

use crate::auth::{Identity, TokenDigest};
use axum::extract::{FromRequestParts, RawPathParams};
use axum::http::{header, request::Parts};
use todo_common::domain::UserId;

use crate::error::ApiError;
use crate::state::AppState;

/// The caller of `/api/auth/me`: any valid token.
pub struct AuthUser(pub Identity);

/// The caller of `/api/auth/logout`: any valid token, and its digest so the
/// handler can revoke it.
pub struct AuthToken {
    pub identity: Identity,
    pub digest: TokenDigest,
}

/// The caller of an `/api/{user_id}/...` route: a valid token (else 401)
/// whose subject is that `{user_id}` (else 403). Users first seen through an
/// external token get their row here.
pub struct UserScope {
    pub user_id: UserId,
}

/// Signature, algorithm and expiry, then revocation (in memory, no query).
async fn identify(state: &AppState, token: &str) -> Result<(Identity, TokenDigest), ApiError> {
    let identity = state.tokens.verify(token).await?;
    let digest = TokenDigest::of(token);
    state.revocations.check(&digest, &identity)?;
    Ok((identity, digest))
}

impl FromRequestParts<AppState> for AuthToken {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = bearer_token(parts)?;
        let (identity, digest) = identify(state, token).await?;
        state.known_users.ensure(&state.pool, &identity).await?;
        Ok(Self { identity, digest })
    }
}

impl FromRequestParts<AppState> for AuthUser {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let AuthToken { identity, .. } = AuthToken::from_request_parts(parts, state).await?;
        Ok(Self(identity))
    }
}

impl FromRequestParts<AppState> for UserScope {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = bearer_token(parts)?.to_string();
        Self::check(parts, state, &token)
            .await
            .map(|(scope, ..)| scope)
    }
}

/// Like [`UserScope`], but the token may also come as `?access_token=`
/// (a browser's EventSource cannot set headers). Only the event stream
/// uses it; the query string is never logged. The stream outlives the
/// request, so it keeps the token's identity (its expiry ends the stream)
/// and digest (a logout ends it).
pub struct StreamScope {
    pub scope: UserScope,
    pub identity: Identity,
    pub digest: TokenDigest,
}

impl FromRequestParts<AppState> for StreamScope {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = match bearer_token(parts) {
            Ok(t) => t.to_string(),
            Err(missing) => query_token(parts).ok_or(missing)?,
        };
        let (scope, identity, digest) = UserScope::check(parts, state, &token).await?;
        Ok(Self {
            scope,
            identity,
            digest,
        })
    }
}

fn query_token(parts: &Parts) -> Option<String> {
    let query = parts.uri.query()?;
    query.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (k == "access_token" && !v.is_empty()).then(|| v.to_string())
    })
}

impl UserScope {
    async fn check(
        parts: &mut Parts,
        state: &AppState,
        token: &str,
    ) -> Result<(Self, Identity, TokenDigest), ApiError> {
        let (identity, digest) = identify(state, token).await?;
        let params = RawPathParams::from_request_parts(parts, state)
            .await
            .map_err(|_| ApiError::RouteNotFound)?;
        let path_user = params
            .iter()
            .find(|(name, _)| *name == "user_id")
            .map(|(_, value)| value)
            .ok_or(ApiError::RouteNotFound)?;
        if path_user != identity.user_id.as_str() {
            return Err(ApiError::Forbidden(
                "this token is not allowed to act for that user",
            ));
        }
        state.known_users.ensure(&state.pool, &identity).await?;
        let scope = Self {
            user_id: identity.user_id.clone(),
        };
        Ok((scope, identity, digest))
    }
}

fn bearer_token(parts: &Parts) -> Result<&str, ApiError> {
    let value = parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .ok_or(ApiError::MissingToken)?;
    let (scheme, token) = value.trim().split_once(' ').ok_or(ApiError::MissingToken)?;
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(ApiError::MissingToken);
    }
    Ok(token.trim())
}
