//! Conversations and their messages (polling with `after`).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};
use todo_common::Error;
use todo_common::chat::{conversations, messages};
use uuid::Uuid;

use crate::error::ApiResult;
use crate::extract::{ApiPath, ApiQuery, UserScope};
use crate::state::AppState;

#[derive(Deserialize)]
pub struct ConversationPath {
    #[allow(dead_code)]
    user_id: String,
    id: Uuid,
}

#[derive(Deserialize, Default)]
pub struct Paging {
    after: Option<String>,
    limit: Option<String>,
    cursor: Option<String>,
}

/// A number parameter within bounds, else a 400 naming it.
fn bounded(field: &str, raw: Option<&str>, default: i64, min: i64, max: i64) -> Result<i64, Error> {
    match raw.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(default),
        Some(raw) => raw
            .parse::<i64>()
            .ok()
            .filter(|n| (min..=max).contains(n))
            .ok_or_else(|| {
                Error::invalid(field, format!("must be a whole number from {min} to {max}"))
            }),
    }
}

/// `?limit=` (default 50, max 200) `&cursor=` (the previous page's `next_cursor`).
pub async fn list(
    State(state): State<AppState>,
    scope: UserScope,
    ApiQuery(paging): ApiQuery<Paging>,
) -> ApiResult<Json<conversations::Page>> {
    let limit = bounded("limit", paging.limit.as_deref(), 50, 1, 200)?;
    let cursor = paging.cursor.as_deref().filter(|c| !c.trim().is_empty());
    Ok(Json(
        conversations::list(&state.pool, &scope.user_id, limit, cursor).await?,
    ))
}

pub async fn get(
    State(state): State<AppState>,
    scope: UserScope,
    ApiPath(path): ApiPath<ConversationPath>,
) -> ApiResult<Json<conversations::Conversation>> {
    Ok(Json(
        conversations::get(&state.pool, &scope.user_id, path.id).await?,
    ))
}

pub async fn delete(
    State(state): State<AppState>,
    scope: UserScope,
    ApiPath(path): ApiPath<ConversationPath>,
) -> ApiResult<StatusCode> {
    conversations::delete(&state.pool, &scope.user_id, path.id).await?;
    state.broker.notify(&scope.user_id).await;
    Ok(StatusCode::NO_CONTENT)
}

/// `?after=<seq>&limit=` (default 100, max 500): messages in order; polling
/// with the last seen seq returns only what is new.
pub async fn messages(
    State(state): State<AppState>,
    scope: UserScope,
    ApiPath(path): ApiPath<ConversationPath>,
    ApiQuery(paging): ApiQuery<Paging>,
) -> ApiResult<Json<Value>> {
    let after = bounded("after", paging.after.as_deref(), 0, 0, i64::MAX)?;
    let limit = bounded("limit", paging.limit.as_deref(), 100, 1, 500)?;
    let items = messages::list(&state.pool, &scope.user_id, path.id, after, limit).await?;
    Ok(Json(json!({ "messages": items })))
}
