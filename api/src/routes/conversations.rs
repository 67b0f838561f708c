//! Conversations and their messages (polling with `after`).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use todo_common::Error;
use todo_common::chat::messages::ChatMessage;
use todo_common::chat::{conversations, messages};
use todo_common::domain::schema;
use todo_common::work::Work;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::error::ApiResult;
use crate::extract::{ApiPath, ApiQuery, UserScope};
use crate::openapi::{AuthErrors, BadInput, NotFound, ServerErrors};
use crate::state::AppState;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct ConversationPath {
    /// The token's user id.
    #[allow(dead_code)]
    user_id: String,
    /// The conversation.
    id: Uuid,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code)]
struct UserPath {
    /// The token's user id.
    user_id: String,
}

#[derive(Deserialize, Default)]
pub struct Paging {
    after: Option<String>,
    limit: Option<String>,
    cursor: Option<String>,
}

// The document's view of `Paging` for each route (each reads other fields).
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
struct ConversationPaging {
    /// Page size (default 50).
    #[param(schema_with = conversation_limit)]
    limit: Option<String>,
    /// The `next_cursor` of the previous page.
    #[param(value_type = String, required = false)]
    cursor: Option<String>,
}

fn conversation_limit() -> utoipa::openapi::Schema {
    schema::integer_or_blank(1, 200, 50)
}

fn after_seq() -> utoipa::openapi::Schema {
    schema::integer_or_blank(0, i64::MAX, 0)
}

fn message_limit() -> utoipa::openapi::Schema {
    schema::integer_or_blank(1, 500, 100)
}

#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
struct MessagePaging {
    /// Only messages after this `seq` (poll with the last one seen).
    #[param(schema_with = after_seq)]
    after: Option<String>,
    /// At most this many (default 100).
    #[param(schema_with = message_limit)]
    limit: Option<String>,
}

/// A conversation's messages, oldest first.
#[derive(Serialize, ToSchema)]
pub struct Messages {
    /// In order: user messages, the assistant's tool requests (`tool_calls`),
    /// tool results, final answers (`is_final`, `reply_to`).
    messages: Vec<ChatMessage>,
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
#[utoipa::path(
    get,
    path = "/api/{user_id}/conversations",
    tag = "conversations",
    operation_id = "conversations_list",
    summary = "List conversations",
    description = "Most recently active first, with a preview of the last message; pass `next_cursor` back as `cursor`.",
    security(("bearer" = [])),
    params(UserPath, ConversationPaging),
    responses(
        (status = 200, description = "One page.", body = conversations::Page),
        BadInput,
        AuthErrors,
        ServerErrors,
    ),
)]
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

#[utoipa::path(
    get,
    path = "/api/{user_id}/conversations/{id}",
    tag = "conversations",
    operation_id = "conversations_get",
    summary = "Get a conversation",
    security(("bearer" = [])),
    params(ConversationPath),
    responses(
        (status = 200, description = "The conversation.", body = conversations::Conversation),
        BadInput,
        AuthErrors,
        NotFound,
        ServerErrors,
    ),
)]
pub async fn get(
    State(state): State<AppState>,
    scope: UserScope,
    ApiPath(path): ApiPath<ConversationPath>,
) -> ApiResult<Json<conversations::Conversation>> {
    Ok(Json(
        conversations::get(&state.pool, &scope.user_id, path.id).await?,
    ))
}

#[utoipa::path(
    delete,
    path = "/api/{user_id}/conversations/{id}",
    tag = "conversations",
    operation_id = "conversations_delete",
    summary = "Delete a conversation with its messages",
    security(("bearer" = [])),
    params(ConversationPath),
    responses(
        (status = 204, description = "Deleted."),
        BadInput,
        AuthErrors,
        NotFound,
        ServerErrors,
    ),
)]
pub async fn delete(
    State(state): State<AppState>,
    scope: UserScope,
    ApiPath(path): ApiPath<ConversationPath>,
) -> ApiResult<StatusCode> {
    let mut work = Work::begin(&state.pool, &state.broker).await?;
    conversations::delete(&mut work, &scope.user_id, path.id).await?;
    work.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `?after=<seq>&limit=` (default 100, max 500): messages in order; polling
/// with the last seen seq returns only what is new.
#[utoipa::path(
    get,
    path = "/api/{user_id}/conversations/{id}/messages",
    tag = "conversations",
    operation_id = "conversations_messages",
    summary = "A conversation's messages",
    description = "Oldest first; poll with `after` set to the last `seq` seen to get only what is new.",
    security(("bearer" = [])),
    params(ConversationPath, MessagePaging),
    responses(
        (status = 200, description = "The messages.", body = Messages),
        BadInput,
        AuthErrors,
        NotFound,
        ServerErrors,
    ),
)]
pub async fn messages(
    State(state): State<AppState>,
    scope: UserScope,
    ApiPath(path): ApiPath<ConversationPath>,
    ApiQuery(paging): ApiQuery<Paging>,
) -> ApiResult<Json<Messages>> {
    let after = bounded("after", paging.after.as_deref(), 0, 0, i64::MAX)?;
    let limit = bounded("limit", paging.limit.as_deref(), 100, 1, 500)?;
    let items = messages::list(&state.pool, &scope.user_id, path.id, after, limit).await?;
    Ok(Json(Messages { messages: items }))
}
