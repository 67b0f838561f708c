//! Task routes: thin adapters over `todo_common::tasks::Tasks`, the
//! implementation the chat tools and the MCP server share (it records each
//! change's event and wakes the user's live streams).

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use todo_common::domain::TaskId;
use todo_common::tasks::{
    Created, DeleteScope, ListParams, NewTaskInput, Task, TaskPage, TaskPatchInput,
};
use utoipa::{IntoParams, ToSchema};

use crate::error::ApiResult;
use crate::extract::{
    ApiJson, ApiPath, ApiQuery, IdempotencyKeyHeader, OptionalJson, UserScope, mark_replayed,
};
use crate::openapi::{AuthErrors, BadInput, BodyErrors, NotFound, ServerErrors, TaskCreated};
use crate::state::AppState;

/// `/api/{user_id}/tasks/{id}`; the user part is checked by [`UserScope`].
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct TaskPath {
    /// The token's user id.
    #[allow(dead_code)]
    user_id: String,
    /// The task's number.
    #[param(value_type = i64, minimum = 1, maximum = 9223372036854775807i64)]
    id: String,
}

/// `/api/{user_id}/tasks`.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code)]
pub struct UserPath {
    /// The token's user id.
    user_id: String,
}

impl TaskPath {
    fn id(&self) -> ApiResult<TaskId> {
        Ok(TaskId::parse(&self.id)?)
    }
}

#[utoipa::path(
    get,
    path = "/api/{user_id}/tasks",
    tag = "tasks",
    operation_id = "tasks_list",
    summary = "List tasks",
    description = "Filtered and sorted, one page at a time (keyset pagination): pass `next_cursor` back as \
        `cursor` with the same `sort` and `order`.",
    security(("bearer" = [])),
    params(UserPath, ListParams),
    responses(
        (status = 200, description = "One page of tasks.", body = TaskPage),
        BadInput,
        AuthErrors,
        ServerErrors,
    ),
)]
pub async fn list(
    State(state): State<AppState>,
    scope: UserScope,
    ApiQuery(params): ApiQuery<ListParams>,
) -> ApiResult<Json<TaskPage>> {
    let query = params.parse()?;
    Ok(Json(state.tasks.list(&scope.user_id, &query).await?))
}

#[utoipa::path(
    post,
    path = "/api/{user_id}/tasks",
    tag = "tasks",
    operation_id = "tasks_create",
    summary = "Create a task",
    description = "Send an `Idempotency-Key` to make retries safe: a creation whose answer was lost \
        (a dropped connection, a 503) can be sent again without adding the task twice.",
    security(("bearer" = [])),
    params(UserPath, IdempotencyKeyHeader),
    request_body = NewTaskInput,
    responses(
        TaskCreated,
        BodyErrors,
        AuthErrors,
        ServerErrors,
    ),
)]
pub async fn create(
    State(state): State<AppState>,
    scope: UserScope,
    IdempotencyKeyHeader { key }: IdempotencyKeyHeader,
    ApiJson(input): ApiJson<NewTaskInput>,
) -> ApiResult<Response> {
    let created = state
        .tasks
        .create(&scope.user_id, input.parse()?, key.as_ref())
        .await?;
    Ok(created_response(&scope, created))
}

/// 201 with the task and its `Location`; a replay answers as the first
/// request did, marked `Idempotent-Replayed`.
pub(super) fn created_response(scope: &UserScope, created: Created) -> Response {
    let location = format!("/api/{}/tasks/{}", scope.user_id, created.task.id);
    let mut response = (StatusCode::CREATED, Json(created.task)).into_response();
    if let Ok(value) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    if created.replayed {
        mark_replayed(&mut response);
    }
    response
}

#[utoipa::path(
    get,
    path = "/api/{user_id}/tasks/{id}",
    tag = "tasks",
    operation_id = "tasks_get",
    summary = "Get a task",
    security(("bearer" = [])),
    params(TaskPath),
    responses(
        (status = 200, description = "The task.", body = Task),
        BadInput,
        AuthErrors,
        NotFound,
        ServerErrors,
    ),
)]
pub async fn get(
    State(state): State<AppState>,
    scope: UserScope,
    ApiPath(path): ApiPath<TaskPath>,
) -> ApiResult<Json<Task>> {
    Ok(Json(state.tasks.get(&scope.user_id, path.id()?).await?))
}

#[utoipa::path(
    put,
    path = "/api/{user_id}/tasks/{id}",
    tag = "tasks",
    operation_id = "tasks_update",
    summary = "Change a task",
    description = "Changes the fields present; `null` clears `description`, `due_at` and `tags`.",
    security(("bearer" = [])),
    params(TaskPath),
    request_body = TaskPatchInput,
    responses(
        (status = 200, description = "The changed task.", body = Task),
        BodyErrors,
        AuthErrors,
        NotFound,
        ServerErrors,
    ),
)]
pub async fn update(
    State(state): State<AppState>,
    scope: UserScope,
    ApiPath(path): ApiPath<TaskPath>,
    ApiJson(input): ApiJson<TaskPatchInput>,
) -> ApiResult<Json<Task>> {
    let id = path.id()?;
    let task = state
        .tasks
        .update(&scope.user_id, id, input.parse()?)
        .await?;
    Ok(Json(task))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CompleteBody {
    /// True (the default) marks it done, false pending again.
    #[serde(default = "yes")]
    #[schema(default = true)]
    completed: bool,
}

fn yes() -> bool {
    true
}

/// Body `{"completed": bool}`, optional: no body means "mark done".
#[utoipa::path(
    patch,
    path = "/api/{user_id}/tasks/{id}/complete",
    tag = "tasks",
    operation_id = "tasks_complete",
    summary = "Mark a task done (or pending)",
    description = "The body is optional: none marks the task done. Completing a completed task keeps its `completed_at`. \
        Completing a recurring task records the occurrence (a `task.completed` event) and moves the task to its \
        next one: after both this one and today, so missed occurrences never pile up.",
    security(("bearer" = [])),
    params(TaskPath),
    request_body(content = Option<CompleteBody>, content_type = "application/json"),
    responses(
        (status = 200, description = "The task.", body = Task),
        BodyErrors,
        AuthErrors,
        NotFound,
        ServerErrors,
    ),
)]
pub async fn complete(
    State(state): State<AppState>,
    scope: UserScope,
    ApiPath(path): ApiPath<TaskPath>,
    OptionalJson(body): OptionalJson<CompleteBody>,
) -> ApiResult<Json<Task>> {
    let id = path.id()?;
    let completed = body.is_none_or(|b| b.completed);
    let task = state
        .tasks
        .set_completed(&scope.user_id, id, completed)
        .await?;
    Ok(Json(task))
}

/// `?scope=`, for recurring tasks.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeleteParams {
    /// For a recurring task, required: `series` deletes the task and its
    /// whole series (one occurrence is skipped, not deleted: `POST .../skip`).
    /// Ignored for other tasks.
    #[param(schema_with = scope_schema)]
    scope: Option<String>,
}

fn scope_schema() -> utoipa::openapi::Schema {
    todo_common::domain::schema::enum_or_blank(&["series"])
}

#[utoipa::path(
    delete,
    path = "/api/{user_id}/tasks/{id}",
    tag = "tasks",
    operation_id = "tasks_delete",
    summary = "Delete a task",
    description = "A recurring task needs `scope=series`: without it the answer is 400 naming `scope` \
        (skip or delete the series?), and nothing changes. A DELETE that succeeds leaves nothing \
        behind; skipping one occurrence is `POST .../skip`.",
    security(("bearer" = [])),
    params(TaskPath, DeleteParams),
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
    ApiPath(path): ApiPath<TaskPath>,
    ApiQuery(params): ApiQuery<DeleteParams>,
) -> ApiResult<StatusCode> {
    let which = match params.scope.as_deref().map(str::trim) {
        None | Some("") => None,
        Some("series") => Some(DeleteScope::Series),
        Some("occurrence") => {
            return Err(todo_common::Error::invalid(
                "scope",
                "one occurrence is skipped, not deleted: POST /api/{user_id}/tasks/{id}/skip",
            )
            .into());
        }
        Some(_) => return Err(todo_common::Error::invalid("scope", "must be series").into()),
    };
    // Without `occurrence`, a delete that succeeds is a delete.
    state
        .tasks
        .delete(&scope.user_id, path.id()?, which)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    post,
    path = "/api/{user_id}/tasks/{id}/skip",
    tag = "tasks",
    operation_id = "tasks_skip",
    summary = "Skip this occurrence of a recurring task",
    description = "Moves the task to its next occurrence without recording this one done; at the end \
        of its series the task is done. 400 naming `task_id` for a task that does not repeat.",
    security(("bearer" = [])),
    params(TaskPath),
    responses(
        (status = 200, description = "The task, moved.", body = Task),
        BadInput,
        AuthErrors,
        NotFound,
        ServerErrors,
    ),
)]
pub async fn skip(
    State(state): State<AppState>,
    scope: UserScope,
    ApiPath(path): ApiPath<TaskPath>,
) -> ApiResult<Json<Task>> {
    Ok(Json(state.tasks.skip(&scope.user_id, path.id()?).await?))
}
