//! Quick add: a task typed in full ("call mom tomorrow at 5pm p1 #family"),
//! read by the offline assistant's grammar (`todo_assistant::quick_add`) so
//! the chat, the web app and any client read the same words the same way.
//! One route previews what it recognised (the web app's chips), one creates
//! the task; both on the user's wall clock.

use axum::Json;
use axum::extract::State;
use axum::response::Response;
use chrono::Utc;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use todo_common::Error;
use todo_common::domain::UserId;
use todo_common::tasks::NewTaskInput;
use utoipa::ToSchema;

use super::tasks::{UserPath, created_response};
use crate::error::ApiResult;
use crate::extract::{ApiJson, IdempotencyKeyHeader, UserScope};
use crate::openapi::{AuthErrors, BodyErrors, ErrorDetail, ServerErrors, TaskCreated};
use crate::state::AppState;

/// Longest text read: a title is at most 200 characters, the rest are dates,
/// tags and the like.
const MAX_TEXT_CHARS: usize = 1000;
/// Most dismissed chips in one request.
const MAX_KEEP: usize = 50;

/// A task as typed, with the parts the user chose to keep as words.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QuickAddInput {
    /// The task in words: title, and any of date, time, recurrence,
    /// priority (`p1`-`p4`, "urgent"), `#tags` and a reminder. Words in
    /// quotes are title. At most 1,000 characters.
    #[schema(example = "call mom tomorrow at 5pm p1 #family", max_length = 1000)]
    text: String,
    /// Ranges of `text` whose words stay in the title, unread: the chips
    /// the user dismissed, as `start` and `end` of a chip. Offsets count
    /// Unicode code points (what `Array.from(text)` counts in JavaScript);
    /// a range past the text's end is cut to it, an empty one keeps nothing.
    #[serde(default)]
    #[schema(max_items = 50)]
    keep: Vec<TextRange>,
}

/// `text[start..end]`, in Unicode code points.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TextRange {
    #[schema(value_type = i64, minimum = 0)]
    #[serde(deserialize_with = "offset")]
    start: usize,
    #[schema(value_type = i64, minimum = 0)]
    #[serde(deserialize_with = "offset")]
    end: usize,
}

/// A whole number from 0 to `i64::MAX` (the document's int64), also when
/// written `3.0` (JSON Schema's integers include it).
fn offset<'de, D: serde::Deserializer<'de>>(de: D) -> Result<usize, D::Error> {
    // 2^63 as a float: the first one past int64.
    const PAST_INT64: f64 = 9_223_372_036_854_775_808.0;
    // From 2^52 on a float has no fraction to speak of, and the parse may
    // be half a unit off ("4220703480596566.0" read as ...566.5); it is far
    // past any text's end anyway.
    const NO_FRACTION: f64 = 4_503_599_627_370_496.0;
    let n = serde_json::Number::deserialize(de)?;
    let whole = n.as_u64().or_else(|| {
        n.as_f64()
            .filter(|f| (0.0..PAST_INT64).contains(f) && (f.fract() == 0.0 || *f >= NO_FRACTION))
            .map(|f| f as u64)
    });
    whole
        .filter(|w| i64::try_from(*w).is_ok())
        // Past any text's end either way, where it is cut to the end.
        .map(|w| usize::try_from(w).unwrap_or(usize::MAX))
        .ok_or_else(|| {
            serde::de::Error::custom(format!(
                "expected a whole number from 0 to {}, got {n}",
                i64::MAX
            ))
        })
}

/// What a recognised part sets.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ChipKind {
    Date,
    Time,
    DateTime,
    Recurrence,
    Priority,
    Tag,
    Reminder,
}

/// A recognised part of the text.
#[derive(Serialize, ToSchema)]
pub struct Chip {
    kind: ChipKind,
    /// Where it stands in `text`, in Unicode code points; send it back in
    /// `keep` to dismiss it.
    start: usize,
    end: usize,
    /// The words, as typed.
    #[schema(example = "tomorrow at 5pm")]
    text: String,
    /// What they mean, on the user's clock.
    #[schema(example = "Tomorrow 17:00")]
    label: String,
}

/// What quick add would create, before it does.
#[derive(Serialize, ToSchema)]
pub struct QuickAddPreview {
    /// The title: the text without what was recognised (may be empty).
    #[schema(example = "call mom")]
    title: String,
    /// The task `POST /api/{user_id}/tasks/quick-add` with the same body
    /// creates now, in the shape `POST /api/{user_id}/tasks` takes; null
    /// when it could not be created (see `problem`).
    #[schema(value_type = Option<NewTaskInput>)]
    task: Option<Value>,
    /// The recognised parts, in the order they stand in the text.
    chips: Vec<Chip>,
    /// Why the task could not be created as it stands (an empty title, a
    /// tag too long), with the field at fault; null when it can.
    problem: Option<ErrorDetail>,
}

impl QuickAddInput {
    /// The keep ranges as byte ranges of `text`: one past the end is cut to
    /// it (a client's range from before an edit), an empty or reversed one
    /// keeps nothing. 400 naming `text` when it is too long.
    fn byte_ranges(&self) -> Result<Vec<(usize, usize)>, Error> {
        let chars = self.text.chars().count();
        if chars > MAX_TEXT_CHARS {
            return Err(Error::Invalid {
                field: "text".into(),
                message: format!("must be at most {MAX_TEXT_CHARS} characters (got {chars})"),
            });
        }
        if self.keep.len() > MAX_KEEP {
            return Err(Error::Invalid {
                field: "keep".into(),
                message: format!("at most {MAX_KEEP} ranges (got {})", self.keep.len()),
            });
        }
        let bytes = byte_offsets(&self.text);
        let at = |n: usize| bytes.get(n.min(chars)).copied().unwrap_or(self.text.len());
        Ok(self
            .keep
            .iter()
            .filter(|range| range.start < range.end.min(chars))
            .map(|range| (at(range.start), at(range.end)))
            .collect())
    }
}

/// The byte offset of each code point of `text`, and of its end.
fn byte_offsets(text: &str) -> Vec<usize> {
    text.char_indices()
        .map(|(i, _)| i)
        .chain([text.len()])
        .collect()
}

/// `input` read on `user`'s wall clock (what "tomorrow at 5pm" counts
/// from): the one reading both routes use.
async fn parse(
    state: &AppState,
    user: &UserId,
    input: &QuickAddInput,
) -> ApiResult<todo_assistant::QuickAdd> {
    let keep = input.byte_ranges()?;
    let now = state
        .tasks
        .time_zone(user)
        .await?
        .local(Utc::now())
        .naive_local();
    Ok(todo_assistant::quick_add(&input.text, now, &keep))
}

/// What `input` says, with its chips' offsets in code points.
async fn read(
    state: &AppState,
    user: &UserId,
    input: &QuickAddInput,
) -> ApiResult<QuickAddPreview> {
    let read = parse(state, user, input).await?;
    let bytes = byte_offsets(&input.text);
    let char_at = |byte: usize| bytes.partition_point(|&b| b < byte);
    let chips = read
        .chips
        .iter()
        .map(|chip| Chip {
            kind: match chip.kind {
                todo_assistant::ChipKind::Date => ChipKind::Date,
                todo_assistant::ChipKind::Time => ChipKind::Time,
                todo_assistant::ChipKind::DateTime => ChipKind::DateTime,
                todo_assistant::ChipKind::Recurrence => ChipKind::Recurrence,
                todo_assistant::ChipKind::Priority => ChipKind::Priority,
                todo_assistant::ChipKind::Tag => ChipKind::Tag,
                todo_assistant::ChipKind::Reminder => ChipKind::Reminder,
            },
            start: char_at(chip.start),
            end: char_at(chip.end),
            text: input
                .text
                .get(chip.start..chip.end)
                .unwrap_or_default()
                .to_string(),
            label: chip.label.clone(),
        })
        .collect();
    let title = read.title().to_string();
    let task = Value::Object(read.fields);
    let (task, problem) = match new_task(&task) {
        Ok(_) => (Some(task), None),
        Err(Error::Invalid { field, message } | Error::Unrecognised { field, message }) => (
            None,
            Some(ErrorDetail {
                code: "validation_failed",
                message: format!("{field}: {message}"),
                field: Some(field),
            }),
        ),
        Err(other) => return Err(other.into()),
    };
    Ok(QuickAddPreview {
        title,
        task,
        chips,
        problem,
    })
}

/// The preview's task as `POST /tasks` would take it.
fn new_task(task: &Value) -> Result<todo_common::tasks::NewTask, Error> {
    serde_json::from_value::<NewTaskInput>(task.clone())
        .map_err(|e| Error::Internal(format!("quick add wrote a task POST /tasks refuses: {e}")))?
        .parse()
}

#[utoipa::path(
    post,
    path = "/api/{user_id}/tasks/quick-add/preview",
    tag = "tasks",
    operation_id = "tasks_quick_add_preview",
    summary = "Read a task typed in words, without creating it",
    description = "What `tasks_quick_add` would create from the same body: the task, the recognised parts \
        (date, time, recurrence, priority, tags, reminder) with where they stand in the text, and why it could \
        not be created, if so. Dates are read on the user's clock (`time_zone`).",
    security(("bearer" = [])),
    params(UserPath),
    request_body = QuickAddInput,
    responses(
        (status = 200, description = "What the text says.", body = QuickAddPreview),
        BodyErrors,
        AuthErrors,
        ServerErrors,
    ),
)]
pub async fn preview(
    State(state): State<AppState>,
    scope: UserScope,
    ApiJson(input): ApiJson<QuickAddInput>,
) -> ApiResult<Json<QuickAddPreview>> {
    Ok(Json(read(&state, &scope.user_id, &input).await?))
}

#[utoipa::path(
    post,
    path = "/api/{user_id}/tasks/quick-add",
    tag = "tasks",
    operation_id = "tasks_quick_add",
    summary = "Create a task typed in words",
    description = "Creates the task `tasks_quick_add_preview` shows for the same body, as `tasks_create` \
        would (with `Idempotency-Key` the same way): \"call mom tomorrow at 5pm p1 #family\" is \"call mom\", \
        due tomorrow at 17:00 on the user's clock, urgent, tagged family.",
    security(("bearer" = [])),
    params(UserPath, IdempotencyKeyHeader),
    request_body = QuickAddInput,
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
    ApiJson(input): ApiJson<QuickAddInput>,
) -> ApiResult<Response> {
    let read = parse(&state, &scope.user_id, &input).await?;
    let created = state
        .tasks
        .create(
            &scope.user_id,
            new_task(&Value::Object(read.fields))?,
            key.as_ref(),
        )
        .await?;
    Ok(created_response(&scope, created))
}
