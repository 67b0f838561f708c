//! POST /api/{user_id}/chat: store the message and hand it to the workers.
//! The API never calls the model.

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use todo_common::chat::{messages, outbox};
use uuid::Uuid;

use crate::error::ApiResult;
use crate::extract::{ApiJson, ApiPath, RequestId, UserScope};
use crate::state::AppState;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChatBody {
    message: String,
    #[serde(default)]
    conversation_id: Option<Uuid>,
}

/// Longest `Prefer: wait` honoured.
const MAX_WAIT: Duration = Duration::from_secs(60);

pub async fn post(
    State(state): State<AppState>,
    scope: UserScope,
    RequestId(request_id): RequestId,
    headers: HeaderMap,
    ApiJson(body): ApiJson<ChatBody>,
) -> ApiResult<Response> {
    let text = messages::parse_text(&body.message)?;
    let wait = prefer_wait(&headers);
    // Listen before anything happens, so the answer cannot slip by unseen.
    let mut subscription = match wait {
        Some(_) => Some(state.hub.subscribe(&scope.user_id).await),
        None => None,
    };
    let posted = messages::post(
        &state.pool,
        &scope.user_id,
        body.conversation_id,
        &text,
        Some(&request_id),
        state.config.chat_rate_limit_per_minute,
    )
    .await?;
    metrics::counter!("chat_messages_total").increment(1);
    state.broker.notify(&scope.user_id).await;

    // Publish now; if the broker is down or slow the record stays in the
    // outbox and the relay delivers it later. The client's answer is the same.
    match state.broker.publish_turn(&posted.job).await {
        Ok(()) => {
            if let Err(e) = outbox::delete(&state.pool, posted.outbox_id).await {
                tracing::warn!(error = %e, "published, but could not clear the outbox record; the relay will re-publish (harmless)");
            }
        }
        Err(e) => {
            metrics::counter!("outbox_deferred_total").increment(1);
            tracing::warn!(error = %e, message_id = %posted.job.message_id, "publish deferred to the outbox relay");
        }
    }

    let job = &posted.job;
    if let (Some(wait), Some(subscription)) = (wait, subscription.as_mut()) {
        // Event-driven: re-check the turn whenever this user's events move.
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let view = messages::turn(&state.pool, &scope.user_id, job.message_id).await?;
            if view.is_finished() {
                let mut response = (StatusCode::OK, Json(view)).into_response();
                response.headers_mut().insert(
                    "preference-applied",
                    HeaderValue::from_str(&format!("wait={}", wait.as_secs())).expect("ascii"),
                );
                return Ok(response);
            }
            tokio::select! {
                live = subscription.rx.recv() => if live.is_none() { break },
                _ = tokio::time::sleep_until(deadline) => break,
                _ = state.shutdown.cancelled() => break,
            }
        }
    }
    let location = format!("/api/{}/chat/{}", scope.user_id, job.message_id);
    let mut response = (
        StatusCode::ACCEPTED,
        Json(serde_json::json!({
            "conversation_id": job.conversation_id,
            "message_id": job.message_id,
            "status": "queued",
        })),
    )
        .into_response();
    if let Ok(value) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    Ok(response)
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

#[derive(Deserialize)]
pub struct TurnPath {
    #[allow(dead_code)]
    user_id: String,
    message_id: Uuid,
}

/// GET /api/{user_id}/chat/{message_id}: where a turn stands (the Location of a 202).
pub async fn status(
    State(state): State<AppState>,
    scope: UserScope,
    ApiPath(path): ApiPath<TurnPath>,
) -> ApiResult<Json<messages::TurnView>> {
    Ok(Json(
        messages::turn(&state.pool, &scope.user_id, path.message_id).await?,
    ))
}
