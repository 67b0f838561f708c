//! Task routes: thin adapters over `todo_common::tasks`, the implementation
//! the chat tools and the MCP server share. After each change, the user's
//! live streams are told (the change's event is already committed).

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use todo_common::domain::TaskId;
use todo_common::tasks::{self, ListParams, NewTaskInput, Task, TaskPage, TaskPatchInput};

use crate::error::ApiResult;
use crate::extract::{ApiJson, ApiPath, ApiQuery, OptionalJson, UserScope};
use crate::state::AppState;

/// `/api/{user_id}/tasks/{id}`; the user part is checked by [`UserScope`].
#[derive(Deserialize)]
pub struct TaskPath {
    #[allow(dead_code)]
    user_id: String,
    id: String,
}

impl TaskPath {
    fn id(&self) -> ApiResult<TaskId> {
        Ok(TaskId::parse(&self.id)?)
    }
}

pub async fn list(
    State(state): State<AppState>,
    scope: UserScope,
    ApiQuery(params): ApiQuery<ListParams>,
) -> ApiResult<Json<TaskPage>> {
    let query = params.parse()?;
    Ok(Json(
        tasks::list(&state.pool, &scope.user_id, &query).await?,
    ))
}

pub async fn create(
    State(state): State<AppState>,
    scope: UserScope,
    ApiJson(input): ApiJson<NewTaskInput>,
) -> ApiResult<Response> {
    let task = tasks::create(&state.pool, &scope.user_id, input.parse()?).await?;
    state.broker.notify(&scope.user_id).await;
    let location = format!("/api/{}/tasks/{}", scope.user_id, task.id);
    let mut response = (StatusCode::CREATED, Json(task)).into_response();
    if let Ok(value) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    Ok(response)
}

pub async fn get(
    State(state): State<AppState>,
    scope: UserScope,
    ApiPath(path): ApiPath<TaskPath>,
) -> ApiResult<Json<Task>> {
    Ok(Json(
        tasks::get(&state.pool, &scope.user_id, path.id()?).await?,
    ))
}

pub async fn update(
    State(state): State<AppState>,
    scope: UserScope,
    ApiPath(path): ApiPath<TaskPath>,
    ApiJson(input): ApiJson<TaskPatchInput>,
) -> ApiResult<Json<Task>> {
    let id = path.id()?;
    let task = tasks::update(&state.pool, &scope.user_id, id, input.parse()?).await?;
    state.broker.notify(&scope.user_id).await;
    Ok(Json(task))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompleteBody {
    #[serde(default = "yes")]
    completed: bool,
}

fn yes() -> bool {
    true
}

/// Body `{"completed": bool}`, optional: no body means "mark done".
pub async fn complete(
    State(state): State<AppState>,
    scope: UserScope,
    ApiPath(path): ApiPath<TaskPath>,
    OptionalJson(body): OptionalJson<CompleteBody>,
) -> ApiResult<Json<Task>> {
    let id = path.id()?;
    let completed = body.is_none_or(|b| b.completed);
    let task = tasks::set_completed(&state.pool, &scope.user_id, id, completed).await?;
    state.broker.notify(&scope.user_id).await;
    Ok(Json(task))
}

pub async fn delete(
    State(state): State<AppState>,
    scope: UserScope,
    ApiPath(path): ApiPath<TaskPath>,
) -> ApiResult<StatusCode> {
    tasks::delete(&state.pool, &scope.user_id, path.id()?).await?;
    state.broker.notify(&scope.user_id).await;
    Ok(StatusCode::NO_CONTENT)
}
