//! GET /api/{user_id}/events: the user's live event stream (SSE).
//!
//! Durable events carry `id:` = the user's event seq (gapless, commit
//! order). On connect with `Last-Event-ID` (header, or `?last_event_id=`)
//! the stream first replays what the client missed from PostgreSQL, then
//! continues live. Live and replay are the same code path: on every notice
//! the connection reads "events after the last id I sent", so the seam has
//! no gap and no duplicate by construction. Live, the hub reads a user's
//! new events once for all of that user's streams on this instance (issue
//! 19); a stream reads PostgreSQL itself only to catch up (a resume, or
//! after falling behind). Deltas (`message.delta`) are transient: no id, not
//! replayed.
//!
//! Streams are capped per user and per instance (`live::StreamSlots`), and
//! a stream ends with `session.expired` when its token expires or is
//! revoked: it never outlives the credentials that opened it.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;
use todo_common::error::ErrorChain;

use crate::auth::{Identity, Revocations, TokenDigest};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::stream::{self, Stream};
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use todo_common::Error;
use todo_common::domain::UserId;
use todo_common::events;
use tokio_util::sync::CancellationToken;
use utoipa::IntoParams;
use uuid::Uuid;

use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiQuery, StreamScope};
use crate::live::{Full, Live, Slot, Subscription, Wants};
use crate::openapi::{AuthErrors, BadInput, RateLimited, Resync, ServerErrors, SessionExpired};
use crate::state::AppState;
use todo_common::metric;

/// Events read from PostgreSQL per query.
const PAGE: i64 = 500;
/// How often a connection looks for revocations synced from other instances
/// (in memory; a lost notice is the hub's to make up).
const CHECK_EVERY: Duration = Duration::from_secs(15);

// The document's view of the stream's parameters (the token may come as
// `?access_token=`, a security scheme of its own).
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code)]
struct StreamPath {
    /// The token's user id.
    user_id: String,
}

#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
struct StreamQuery {
    /// Only this conversation's events (no `task.*` events then); empty: all.
    #[param(schema_with = conversation_filter)]
    conversation_id: Option<String>,
    /// Resume after this event id, for clients that cannot send the `Last-Event-ID` header.
    #[param(schema_with = event_id_schema)]
    last_event_id: Option<String>,
}

#[derive(IntoParams)]
#[into_params(parameter_in = Header)]
#[allow(dead_code)]
struct StreamHeaders {
    /// Resume after this event id (one this stream sent): the stream first replays what was missed.
    #[param(rename = "Last-Event-ID", schema_with = event_id_schema)]
    last_event_id: Option<String>,
}

fn conversation_filter() -> utoipa::openapi::Schema {
    use utoipa::openapi::schema::{AnyOfBuilder, KnownFormat, ObjectBuilder, SchemaFormat, Type};
    AnyOfBuilder::new()
        .item(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .format(Some(SchemaFormat::KnownFormat(KnownFormat::Uuid))),
        )
        .item(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .max_length(Some(0)),
        )
        .into()
}

fn event_id_schema() -> utoipa::openapi::Schema {
    todo_common::domain::schema::integer_or_blank(0, i64::MAX, 0)
}

#[derive(Deserialize, Default)]
pub struct StreamParams {
    conversation_id: Option<String>,
    last_event_id: Option<String>,
    #[allow(dead_code)]
    access_token: Option<String>,
}

#[utoipa::path(
    get,
    path = "/api/{user_id}/events",
    tag = "events",
    operation_id = "events_stream",
    summary = "Live changes (server-sent events)",
    description = "Streams the user's changes as `text/event-stream`: tasks, conversations, messages, tool calls, \
        and the answer as the model writes it. Every stored event has an `id:` that grows by one per user; \
        reconnect with `Last-Event-ID` to replay exactly what was missed. Keep-alive comments every 15 s, `retry: 3000`. \
        A browser's EventSource may pass the token as `?access_token=` instead of the header. \
        The events and their `data` are in the `ServerEvent` schema.",
    security(("bearer" = []), ("access_token" = [])),
    params(StreamPath, StreamQuery, StreamHeaders),
    responses(
        (status = 200, description = "The stream; it ends with `session.expired` when the token does.",
            content_type = "text/event-stream", body = crate::openapi::ServerEvent),
        BadInput,
        AuthErrors,
        RateLimited,
        ServerErrors,
    ),
)]
pub async fn stream(
    State(state): State<AppState>,
    StreamScope {
        scope,
        identity,
        digest,
    }: StreamScope,
    headers: HeaderMap,
    ApiQuery(params): ApiQuery<StreamParams>,
) -> ApiResult<Response> {
    let slot = state
        .streams
        .acquire(&scope.user_id)
        .map_err(|full| match full {
            Full::User(max) => ApiError::TooManyStreams(format!(
                "this account already has {max} open event streams here; close one (another tab?) and retry"
            )),
            Full::Instance(max) => ApiError::TooManyStreams(format!(
                "this server is serving its maximum of {max} event streams; retry shortly"
            )),
        })?;
    let conversation = params
        .conversation_id
        .as_deref()
        .filter(|s| !s.is_empty())
        .map(|s| {
            Uuid::parse_str(s).map_err(|_| Error::invalid("conversation_id", "must be a UUID"))
        })
        .transpose()?;
    // The header (what EventSource sends) wins over `?last_event_id=`; each
    // given form must be valid, so a typo is not silently a fresh start.
    let from_query = event_id(params.last_event_id.as_deref())?;
    let resume = match headers.get("last-event-id") {
        None => from_query,
        Some(v) => event_id(Some(v.to_str().map_err(|_| not_sent())?))?,
    };

    // Subscribe before reading, so nothing committed in between is missed.
    let subscription = state
        .hub
        .subscribe(&scope.user_id, Wants::Everything)
        .await?;
    let (newest, oldest_kept) = events::bounds(&state.pool, &scope.user_id).await?;
    let mut pending = VecDeque::new();
    let last = match resume {
        None => newest,
        // Ids only grow (users.last_event_seq), so one past the newest was
        // never sent: the client made it up (or kept it across a reset database).
        Some(id) if id > newest => {
            return Err(
                Error::invalid("last_event_id", "must be an event id this stream sent").into(),
            );
        }
        // Events after the client's id were pruned (EVENT_RETENTION): it
        // must re-fetch state rather than trust a partial replay.
        Some(id)
            if oldest_kept.is_some_and(|oldest| id < oldest.saturating_sub(1))
                || (oldest_kept.is_none() && id < newest) =>
        {
            let resync = Resync {
                reason: "events after your last id are no longer kept; re-fetch tasks and messages",
                last_event_id: newest,
            };
            pending.push_back(frame("resync", &resync));
            newest
        }
        Some(id) => id,
    };
    // The first frame tells the client where the stream starts, so a client
    // that drops before any event still resumes without a gap.
    pending.push_front(
        SseEvent::default()
            .id(last.to_string())
            .retry(Duration::from_secs(3))
            .comment("connected"),
    );
    metrics::counter!(metric::SSE_CONNECTIONS_TOTAL).increment(1);
    // The stream ends when its token does (clock skew aside, exp is when
    // any other request with it would be refused).
    let token_left = (identity.expires_at - chrono::Utc::now())
        .to_std()
        .unwrap_or_default();
    // What the hub hands out starts after `from`; the rest is this
    // stream's to read.
    let catch_up = last < subscription.from;
    let conn = Connection {
        _slot: slot,
        revocations: state.revocations.clone(),
        identity,
        digest,
        token_ends: Box::pin(tokio::time::sleep(token_left)),
        pool: state.pool.clone(),
        user: scope.user_id,
        conversation,
        last,
        pending,
        subscription,
        shutdown: state.shutdown.clone(),
        check: tokio::time::interval_at(tokio::time::Instant::now() + CHECK_EVERY, CHECK_EVERY),
        catch_up,
        opened_at: chrono::Utc::now(),
    };
    let mut response = Sse::new(events_of(conn))
        .keep_alive(
            KeepAlive::new()
                .interval(Duration::from_secs(15))
                .text("keep-alive"),
        )
        .into_response();
    let h = response.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert("x-accel-buffering", HeaderValue::from_static("no"));
    Ok(response)
}

/// The stream's own frames (not events of the user's).
fn frame(name: &str, data: &impl Serialize) -> SseEvent {
    SseEvent::default()
        .event(name)
        .data(serde_json::to_string(data).unwrap_or_default())
}

fn not_sent() -> Error {
    Error::invalid("last_event_id", "must be an event id this stream sent")
}

/// A `Last-Event-ID` as given: blank is none, else a whole number >= 0.
fn event_id(raw: Option<&str>) -> Result<Option<i64>, Error> {
    match raw.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => s
            .parse::<i64>()
            .ok()
            .filter(|n| *n >= 0)
            .map(Some)
            .ok_or_else(not_sent),
    }
}

struct Connection {
    /// Counts against the per-user and per-instance caps while open.
    _slot: Slot,
    revocations: Arc<Revocations>,
    identity: Identity,
    digest: TokenDigest,
    /// Fires at the token's expiry.
    token_ends: Pin<Box<tokio::time::Sleep>>,
    pool: PgPool,
    user: UserId,
    conversation: Option<Uuid>,
    /// The last durable id sent (or skipped as before the stream's start).
    last: i64,
    pending: VecDeque<SseEvent>,
    subscription: Subscription,
    shutdown: CancellationToken,
    check: tokio::time::Interval,
    /// Read after `last` from PostgreSQL before taking live events.
    catch_up: bool,
    /// Events recorded before this are replays: they count as sent but not
    /// in the delivery lag (a client back after an hour is not a slow path).
    opened_at: chrono::DateTime<chrono::Utc>,
}

impl Connection {
    /// Reads the events after `last` (a page); still catching up if full.
    async fn read(&mut self) -> Result<(), Error> {
        let batch =
            events::after(&self.pool, &self.user, self.last, self.conversation, PAGE).await?;
        self.catch_up = batch.len() as i64 == PAGE;
        for e in batch {
            self.send(e);
        }
        Ok(())
    }

    /// Queues events the hub read, those after `last` this stream wants.
    fn take(&mut self, batch: &[events::Stored]) {
        for e in batch {
            if e.seq > self.last
                && (self.conversation.is_none() || e.conversation_id == self.conversation)
            {
                self.send(e.clone());
            }
        }
    }

    fn send(&mut self, e: events::Stored) {
        self.last = e.seq;
        metrics::counter!(metric::SSE_EVENTS_SENT_TOTAL, "kind" => "durable").increment(1);
        if e.created_at >= self.opened_at {
            // From the recording transaction's start to the frame queued here.
            let lag = (chrono::Utc::now() - e.created_at)
                .to_std()
                .unwrap_or_default();
            metrics::histogram!(metric::SSE_DELIVERY_LAG_SECONDS).record(lag.as_secs_f64());
        }
        self.pending.push_back(
            SseEvent::default()
                .id(e.seq.to_string())
                .event(e.kind)
                .data(e.data.0.to_string()),
        );
    }

    /// The last frame of a stream whose token stopped being valid: the
    /// client must sign in again (or refresh its token) before reconnecting.
    fn session_ended(reason: &'static str) -> SseEvent {
        let expired = SessionExpired {
            reason,
            message: "sign in again, then reconnect",
        };
        frame("session.expired", &expired)
    }

    fn wants(&self, event: &events::Event) -> bool {
        self.conversation.is_none() || event.conversation_id() == self.conversation
    }
}

fn events_of(conn: Connection) -> impl Stream<Item = Result<SseEvent, Infallible>> {
    stream::unfold(Some(conn), |conn| async move {
        let mut conn = conn?;
        loop {
            if let Some(event) = conn.pending.pop_front() {
                return Some((Ok(event), Some(conn)));
            }
            if conn.subscription.fell_behind() {
                conn.catch_up = true;
            }
            if conn.catch_up {
                // Boxed: a query's state inline would make every idle
                // stream as large as the query it runs now and then.
                if let Err(e) = Box::pin(conn.read()).await {
                    // Database trouble: end the stream; the client resumes later.
                    tracing::warn!(error = %e.chain(), "event stream read failed; closing it");
                    return None;
                }
                continue;
            }
            // Logged out meanwhile: a logout wakes the user's streams here;
            // elsewhere this is seen at the next wake or check.
            if conn
                .revocations
                .check(&conn.digest, &conn.identity)
                .is_err()
            {
                return Some((Ok(Connection::session_ended("token revoked")), None));
            }
            tokio::select! {
                _ = conn.shutdown.cancelled() => return None,
                live = conn.subscription.rx.recv() => match live {
                    // Dropped by the hub (too slow) or shutting down.
                    None => return None,
                    Some(Live::Events(batch)) => conn.take(&batch),
                    // The revocation check comes at the top of the loop.
                    Some(Live::Sessions | Live::Changed | Live::Ended(_)) => {}
                    Some(Live::Transient(event)) => {
                        if conn.wants(&event) {
                            metrics::counter!(metric::SSE_EVENTS_SENT_TOTAL, "kind" => "transient").increment(1);
                            conn.pending.push_back(SseEvent::default().event(event.kind()).data(event.data().to_string()));
                        }
                    }
                },
                _ = conn.check.tick() => {}
                _ = &mut conn.token_ends => {
                    return Some((Ok(Connection::session_ended("token expired")), None));
                }
            }
        }
    })
}
