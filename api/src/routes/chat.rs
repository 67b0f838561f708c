//! POST /api/{user_id}/chat: store the message and hand it to the workers.
//! The API never calls the model.

use std::time::Duration;
use todo_common::error::ErrorChain;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use todo_common::chat::{messages, outbox};
use todo_common::queue::{PublishError, TurnJob};
use todo_common::work::Work;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::error::ApiResult;
use crate::extract::{ApiJson, ApiPath, IdempotencyKeyHeader, RequestId, UserScope, mark_replayed};
use crate::live::{Live, Wants};
use crate::openapi::{AuthErrors, BadInput, BodyErrors, NotFound, RateLimited, ServerErrors};
use crate::state::AppState;
use todo_common::metric;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChatBody {
    /// What to tell the assistant.
    #[schema(schema_with = message_schema)]
    message: String,
    /// Continue this conversation; left out (or null), a new one starts.
    #[serde(default)]
    conversation_id: Option<Uuid>,
}

fn message_schema() -> utoipa::openapi::schema::Object {
    utoipa::openapi::schema::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .pattern(Some(todo_common::domain::schema::text_pattern(
            1,
            todo_common::chat::MAX_MESSAGE_CHARS,
            true,
        )))
        .description(Some(format!(
            "1 to {} characters once trimmed; may span lines.",
            todo_common::chat::MAX_MESSAGE_CHARS
        )))
        .examples(["add call mom tomorrow, high priority"])
        .build()
}

/// The answer to a chat message that is not finished yet.
#[derive(Serialize, ToSchema)]
pub struct Queued {
    conversation_id: Uuid,
    /// Poll `GET /api/{user_id}/chat/{message_id}` (the `Location`).
    message_id: Uuid,
    status: QueuedStatus,
}

/// Always `queued` here.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
enum QueuedStatus {
    Queued,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Header)]
#[allow(dead_code)]
struct PreferWait {
    /// RFC 7240 preferences; `wait=N` answers within N seconds (at most 60) with the finished
    /// turn, else 202 as without it. Other preferences are ignored, as the RFC asks.
    #[param(rename = "Prefer", value_type = String, required = false, example = "wait=30")]
    prefer: Option<String>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code)]
struct ChatPath {
    /// The token's user id.
    user_id: String,
}

/// Longest `Prefer: wait` honoured.
const MAX_WAIT: Duration = Duration::from_secs(60);
/// How often a waiter whose subscription ended re-reads its turn.
const WAIT_POLL: Duration = Duration::from_millis(250);

#[utoipa::path(
    post,
    path = "/api/{user_id}/chat",
    tag = "chat",
    operation_id = "chat_post",
    summary = "Send a message to the assistant",
    description = "Stores the message and hands it to the workers: 202 with `Location` to poll. \
        With `Prefer: wait=N` the answer comes in the response (200, `Preference-Applied`) if the turn \
        finishes within N seconds. Limited to `CHAT_RATE_LIMIT_PER_MINUTE` messages per user. \
        Send an `Idempotency-Key` to make retries safe: a post whose answer was lost (a dropped \
        connection, a 503) can be sent again without storing the message twice.",
    security(("bearer" = [])),
    params(ChatPath, PreferWait, IdempotencyKeyHeader),
    request_body = ChatBody,
    responses(
        (status = 200, description = "Finished within the `Prefer: wait` time (or before a replay of the post): \
            completed or failed.", body = messages::TurnView,
            headers(("Preference-Applied" = String, description = "`wait=N`, when it was asked for"),
                ("Idempotent-Replayed" = String, description = "`true` when an earlier post with this `Idempotency-Key` stored the message"))),
        (status = 202, description = "Queued; poll the `Location`.", body = Queued,
            headers(("Location" = String, description = "`/api/{user_id}/chat/{message_id}`"),
                ("Idempotent-Replayed" = String, description = "`true` when an earlier post with this `Idempotency-Key` stored the message"))),
        (status = 404, description = "`not_found`: no such conversation for this user.", body = crate::openapi::ErrorBody),
        (status = 422, description = "`idempotency_key_reused`: the `Idempotency-Key` came with another message \
            or conversation before.", body = crate::openapi::ErrorBody),
        BodyErrors,
        AuthErrors,
        RateLimited,
        ServerErrors,
    ),
)]
pub async fn post(
    State(state): State<AppState>,
    scope: UserScope,
    RequestId(request_id): RequestId,
    IdempotencyKeyHeader { key }: IdempotencyKeyHeader,
    headers: HeaderMap,
    ApiJson(body): ApiJson<ChatBody>,
) -> ApiResult<Response> {
    let text = messages::parse_text(&body.message)?;
    let wait = prefer_wait(&headers);
    // Listen before anything happens, so the answer cannot slip by unseen.
    // Only a turn's end wakes it: the streamed deltas of a busy user never
    // do (nor fill its buffer and get it cut off as slow, issue 24), and the
    // answer comes in that end event, not from re-reads (issues 19, 20).
    let mut subscription = match wait {
        Some(_) => Some(
            state
                .hub
                .subscribe_unplaced(&scope.user_id, Wants::TurnEnd)
                .await,
        ),
        None => None,
    };
    let new = messages::NewPost {
        conversation_id: body.conversation_id,
        text: &text,
        request_id: Some(&request_id),
        idempotency_key: key.as_ref(),
    };
    let mut work = Work::begin(&state.pool, &state.broker).await?;
    let posted = messages::post(
        &mut work,
        &scope.user_id,
        new,
        state.config.chat.rate_limit_per_minute,
    )
    .await?;
    let committed = work.commit().await?;
    let job = &posted.job;
    if let Some(subscription) = &mut subscription {
        subscription.only_turn(job.message_id);
        // The feed starts at this post's own events (none for a replay).
        subscription
            .place(committed.last_seq(&scope.user_id))
            .await?;
    }
    match posted.outbox_id {
        Some(outbox_id) => {
            metrics::counter!(metric::CHAT_MESSAGES_TOTAL).increment(1);
            hand_off(&state, job, outbox_id).await;
        }
        // Stored and handed off by the first post.
        None => metrics::counter!(metric::CHAT_POSTS_REPLAYED_TOTAL).increment(1),
    }

    // A replay of a finished turn answers with it, as a post that waited would.
    let finished_within = wait.or(posted.replayed().then_some(Duration::ZERO));
    if let Some(within) = finished_within {
        // Answered from the turn's end event when it comes (its tool calls
        // read once), re-read at the deadline. Should the subscription ever
        // end (the hub stopping), poll instead: a client that asked to wait
        // is never answered early. A new turn is known to be queued, so
        // only a replay is looked up first.
        let deadline = tokio::time::Instant::now() + within;
        let mut ended = None;
        let mut look = posted.replayed();
        loop {
            let view = match ended.take() {
                Some(event) => match messages::ended_view(&state.pool, &event).await? {
                    Some(view) => view,
                    None => messages::turn(&state.pool, &scope.user_id, job.message_id).await?,
                },
                None if look => messages::turn(&state.pool, &scope.user_id, job.message_id).await?,
                None => messages::TurnView::queued(job.conversation_id, job.message_id),
            };
            if view.is_finished() {
                let mut response = (StatusCode::OK, Json(view)).into_response();
                if let Some(wait) = wait {
                    response.headers_mut().insert(
                        "preference-applied",
                        HeaderValue::from_str(&format!("wait={}", wait.as_secs())).expect("ascii"),
                    );
                }
                return Ok(mark_replay(response, &posted));
            }
            if tokio::time::Instant::now() >= deadline {
                break;
            }
            let woken = async {
                match subscription.as_mut() {
                    Some(s) => match s.rx.recv().await {
                        Some(Live::Ended(event)) if event.ends_turn() == Some(job.message_id) => {
                            Some(Some(event))
                        }
                        Some(_) => Some(None),
                        None => None,
                    },
                    None => {
                        tokio::time::sleep(WAIT_POLL).await;
                        Some(None)
                    }
                }
            };
            look = true;
            tokio::select! {
                woken = woken => match woken {
                    Some(event) => ended = event.map(|e| *e),
                    None => subscription = None,
                },
                _ = tokio::time::sleep_until(deadline) => {}
                _ = state.shutdown.cancelled() => break,
            }
        }
    }
    let location = format!("/api/{}/chat/{}", scope.user_id, job.message_id);
    let mut response = (
        StatusCode::ACCEPTED,
        Json(Queued {
            conversation_id: job.conversation_id,
            message_id: job.message_id,
            status: QueuedStatus::Queued,
        }),
    )
        .into_response();
    if let Ok(value) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    Ok(mark_replay(response, &posted))
}

/// Publishes the turn now; if the broker is down or slow the record stays in
/// the outbox and the relay delivers it later. The client's answer is the same.
async fn hand_off(state: &AppState, job: &TurnJob, outbox_id: i64) {
    // A broker that stopped answering (a partition) would hold this request
    // until the confirm times out: hand the turn to the relay at once.
    let published = match state.broker.is_answering() {
        true => state.broker.publish_turn(job).await,
        false => Err(PublishError::Disconnected),
    };
    match published {
        // Forgotten with the others at the relay's next tick.
        Ok(()) => state.confirmed.add(outbox_id),
        Err(e) => {
            metrics::counter!(metric::OUTBOX_DEFERRED_TOTAL).increment(1);
            tracing::warn!(error = %e.chain(), message_id = %job.message_id, "publish deferred to the outbox relay");
            // Due at once: the relay publishes it as soon as the broker is
            // back, not after the grace meant for this very publish.
            if let Err(e) = outbox::due_now(&state.pool, outbox_id).await {
                tracing::warn!(error = %e.chain(), "could not hand the turn to the relay early; it is relayed after the grace period");
            }
        }
    }
}

/// A replayed post answers as the first did, and says it is a replay.
fn mark_replay(mut response: Response, posted: &messages::Posted) -> Response {
    if posted.replayed() {
        mark_replayed(&mut response);
    }
    response
}

/// `Prefer: wait=N` (RFC 7240), capped at 60 s; other preferences ignored.
fn prefer_wait(headers: &HeaderMap) -> Option<Duration> {
    headers
        .get_all("prefer")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split([',', ';']))
        .filter_map(|pref| {
            let (name, value) = pref.trim().split_once('=')?;
            name.trim()
                .eq_ignore_ascii_case("wait")
                .then(|| value.trim().trim_matches('"').parse::<u64>().ok())?
        })
        .next()
        .map(|secs| Duration::from_secs(secs).min(MAX_WAIT))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct TurnPath {
    /// The token's user id.
    #[allow(dead_code)]
    user_id: String,
    /// The user message that started the turn.
    message_id: Uuid,
}

/// GET /api/{user_id}/chat/{message_id}: where a turn stands (the Location of a 202).
#[utoipa::path(
    get,
    path = "/api/{user_id}/chat/{message_id}",
    tag = "chat",
    operation_id = "chat_status",
    summary = "Where a turn stands",
    description = "The `Location` of a 202: queued, processing, or finished with the answer and its tool calls.",
    security(("bearer" = [])),
    params(TurnPath),
    responses(
        (status = 200, description = "The turn.", body = messages::TurnView),
        BadInput,
        AuthErrors,
        NotFound,
        ServerErrors,
    ),
)]
pub async fn status(
    State(state): State<AppState>,
    scope: UserScope,
    ApiPath(path): ApiPath<TurnPath>,
) -> ApiResult<Json<messages::TurnView>> {
    Ok(Json(
        messages::turn(&state.pool, &scope.user_id, path.message_id).await?,
    ))
}
