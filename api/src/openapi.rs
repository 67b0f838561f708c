//! The API's OpenAPI 3.1 document, served at `/openapi.json` and shown at
//! `/docs`. Operations come from the `#[utoipa::path]` attribute on each
//! handler, registered together with the handler itself (`routes::router`
//! uses utoipa-axum's `OpenApiRouter`), so a route cannot exist without its
//! documentation. This module adds what no single handler owns: the title,
//! the bearer scheme, the error body and the error responses the handlers
//! share, and the live events' payloads.

use std::collections::BTreeMap;

use serde::Serialize;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::link::LinkBuilder;
use utoipa::openapi::path::{Operation, PathItem};
use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Type};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, OpenApi, Ref, RefOr, Response, ResponseBuilder, Schema};
use utoipa::{IntoResponses, Modify, PartialSchema, ToSchema};

/// Every error: `{"error": {"code", "message", "field"?}}`.
#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable and machine-readable, e.g. `validation_failed`, `not_found`.
    #[schema(example = "validation_failed")]
    pub code: &'static str,
    /// For people; 5xx messages never carry internal details.
    #[schema(example = "must be at most 200 characters (got 250)")]
    pub message: String,
    /// The offending input (a body field's JSON path or a parameter), when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "title")]
    pub field: Option<String>,
}

#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "Todo Chat API",
        description = "Manage a to-do list over REST, or by chatting with an assistant that runs the task tools. \
            Every `/api/{user_id}/...` route needs `Authorization: Bearer <token>` (from sign-up or login) whose \
            subject is `{user_id}`. Errors are always `{\"error\": {\"code\", \"message\", \"field\"?}}`. \
            Lists are keyset-paginated: pass `next_cursor` back as `cursor`. Timestamps are RFC 3339.",
        license(name = "MIT", identifier = "MIT"),
    ),
    tags(
        (name = "auth", description = "Accounts and session tokens"),
        (name = "tasks", description = "The to-do list"),
        (name = "chat", description = "Messages to the assistant and where their turns stand"),
        (name = "conversations", description = "Chat history"),
        (name = "events", description = "Live changes as server-sent events"),
        (name = "operations", description = "Health and metrics"),
    ),
    components(schemas(ErrorBody, ServerEvent)),
    modifiers(&Document),
)]
pub struct ApiDoc;

/// The bearer scheme and the links between operations.
struct Document;

impl Modify for Document {
    fn modify(&self, doc: &mut OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "access_token",
            SecurityScheme::ApiKey(ApiKey::Query(ApiKeyValue::with_description(
                "access_token",
                "The same token in the query string, for clients that cannot set headers \
                 (a browser's EventSource); only `GET /api/{user_id}/events` takes it.",
            ))),
        );
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some(
                        "The `token` from `POST /api/auth/signup` or `/api/auth/login`.",
                    ))
                    .build(),
            ),
        );
    }
}

/// Completes the collected document: the links between operations (they
/// name each other by id, so they are added once all paths are in).
pub fn finish(doc: &mut OpenApi) {
    add_links(doc);
}

/// Adds the links from a created resource to the operations on it, so a
/// client (or a fuzzer's stateful phase) can follow them.
fn add_links(doc: &mut OpenApi) {
    let user = "$request.path.user_id";
    let task_links: Vec<LinkSpec> = ["get", "update", "complete", "delete"]
        .into_iter()
        .map(|op| {
            (
                op,
                op,
                vec![("user_id", user), ("id", "$response.body#/id")],
            )
        })
        .collect();
    link(
        doc,
        "/api/{user_id}/tasks",
        "post",
        "201",
        "tasks_",
        &task_links,
    );
    // The next page: real cursors, for clients and the fuzzer's stateful phase
    // (a cursor is only valid with the sort and order it was made for).
    for (path, prefix) in [
        ("/api/{user_id}/tasks", "tasks_"),
        ("/api/{user_id}/conversations", "conversations_"),
    ] {
        let next = vec![(
            "next_page",
            "list",
            vec![("user_id", user), ("cursor", "$response.body#/next_cursor")],
        )];
        link(doc, path, "get", "200", prefix, &next);
    }
    let turn = [
        (
            "turn",
            "status",
            vec![
                ("user_id", user),
                ("message_id", "$response.body#/message_id"),
            ],
        ),
        (
            "conversation",
            "get",
            vec![("user_id", user), ("id", "$response.body#/conversation_id")],
        ),
        (
            "messages",
            "messages",
            vec![("user_id", user), ("id", "$response.body#/conversation_id")],
        ),
        (
            "delete_conversation",
            "delete",
            vec![("user_id", user), ("id", "$response.body#/conversation_id")],
        ),
    ];
    for status in ["200", "202"] {
        let (chat, conversations): (Vec<_>, Vec<_>) =
            turn.iter().cloned().partition(|(name, ..)| *name == "turn");
        link(doc, "/api/{user_id}/chat", "post", status, "chat_", &chat);
        link(
            doc,
            "/api/{user_id}/chat",
            "post",
            status,
            "conversations_",
            &conversations,
        );
    }
}

type LinkSpec<'a> = (&'a str, &'a str, Vec<(&'a str, &'a str)>);

fn link(doc: &mut OpenApi, path: &str, method: &str, status: &str, prefix: &str, to: &[LinkSpec]) {
    let Some(op) = doc
        .paths
        .paths
        .get_mut(path)
        .and_then(|p| operation(p, method))
    else {
        return;
    };
    let Some(RefOr::T(response)) = op.responses.responses.get_mut(status) else {
        return;
    };
    for (name, target, params) in to {
        let mut builder = LinkBuilder::new().operation_id(format!("{prefix}{target}"));
        for (param, value) in params {
            builder = builder.parameter(*param, *value);
        }
        response
            .links
            .insert((*name).to_string(), RefOr::T(builder.build()));
    }
}

fn operation<'a>(item: &'a mut PathItem, method: &str) -> Option<&'a mut Operation> {
    match method {
        "get" => item.get.as_mut(),
        "post" => item.post.as_mut(),
        "put" => item.put.as_mut(),
        "patch" => item.patch.as_mut(),
        "delete" => item.delete.as_mut(),
        _ => None,
    }
}

// ---- Error responses the handlers share -------------------------------------

fn error(description: &str) -> ResponseBuilder {
    ResponseBuilder::new().description(description).content(
        "application/json",
        ContentBuilder::new()
            .schema(Some(Ref::from_schema_name("ErrorBody")))
            .build(),
    )
}

fn header(description: &str, ty: Type) -> utoipa::openapi::header::Header {
    HeaderBuilder::new()
        .schema(Some(ObjectBuilder::new().schema_type(ty)))
        .description(Some(description))
        .build()
}

fn responses(list: Vec<(&str, Response)>) -> BTreeMap<String, RefOr<Response>> {
    list.into_iter()
        .map(|(status, r)| (status.to_string(), RefOr::T(r)))
        .collect()
}

/// 500 `internal_error`, 503 `service_unavailable` (a dependency is down)
/// and 503 `transaction_conflict` (lost a race with a concurrent change).
pub struct ServerErrors;

impl IntoResponses for ServerErrors {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        responses(vec![
            (
                "500",
                error("`internal_error`: logged with the request id; the body says nothing more.")
                    .build(),
            ),
            (
                "503",
                error("`service_unavailable`: PostgreSQL or another dependency is unreachable; retry. `transaction_conflict`: the request collided with a concurrent change (deadlock or serialization failure) and nothing was applied; send it again.")
                    .header("Retry-After", header("Seconds to wait.", Type::Integer))
                    .build(),
            ),
        ])
    }
}

/// 401 without a valid token, 403 for another user's path.
pub struct AuthErrors;

impl IntoResponses for AuthErrors {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        let mut all = TokenErrors::responses();
        all.insert(
            "403".into(),
            RefOr::T(
                error("`forbidden`: the token's user is not the `{user_id}` of the path.").build(),
            ),
        );
        all
    }
}

/// 401 without a valid token (missing, expired, revoked, not ours).
pub struct TokenErrors;

impl IntoResponses for TokenErrors {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        responses(vec![(
            "401",
            error("`unauthorized`: no valid bearer token (missing, malformed, expired or logged out).")
                .header(
                    "WWW-Authenticate",
                    header("`Bearer realm=\"todo-chat\"`, with `error=\"invalid_token\"` for a bad one.", Type::String),
                )
                .build(),
        )])
    }
}

/// 400 for a query string or path that does not parse or breaks a rule.
pub struct BadInput;

impl IntoResponses for BadInput {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        responses(vec![(
            "400",
            error("`validation_failed` (with `field`) or `malformed_json`.").build(),
        )])
    }
}

/// 400, 413 and 415 for a JSON request body.
pub struct BodyErrors;

impl IntoResponses for BodyErrors {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        let mut all = BadInput::responses();
        all.extend(responses(vec![
            (
                "413",
                error("`payload_too_large`: bodies are at most 64 KiB.").build(),
            ),
            (
                "415",
                error("`unsupported_media_type`: send `Content-Type: application/json`.").build(),
            ),
        ]));
        all
    }
}

/// 201 with the task and its `Location`, and 422 for an `Idempotency-Key`
/// that came with another task: what every route that creates a task answers.
pub struct TaskCreated;

impl IntoResponses for TaskCreated {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        responses(vec![
            (
                "201",
                ResponseBuilder::new()
                    .description("Created (or, for a replay, created by the first request with this \
                        `Idempotency-Key`: the task as it is now).")
                    .content(
                        "application/json",
                        ContentBuilder::new()
                            .schema(Some(Ref::from_schema_name("Task")))
                            .build(),
                    )
                    .header("Location", header("`/api/{user_id}/tasks/{id}`", Type::String))
                    .header(
                        "Idempotent-Replayed",
                        header("`true` when an earlier request with this `Idempotency-Key` created the task", Type::String),
                    )
                    .build(),
            ),
            (
                "422",
                error("`idempotency_key_reused`: the `Idempotency-Key` came with another task before.")
                    .build(),
            ),
        ])
    }
}

/// 404 `not_found`: no such resource for this user.
pub struct NotFound;

impl IntoResponses for NotFound {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        responses(vec![(
            "404",
            error("`not_found`: no such resource for this user.").build(),
        )])
    }
}

/// 429 with Retry-After.
pub struct RateLimited;

impl IntoResponses for RateLimited {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        responses(vec![(
            "429",
            error("`rate_limited` (or `too_many_streams` for event streams): wait `Retry-After` seconds.")
                .header("Retry-After", header("Seconds to wait.", Type::Integer))
                .build(),
        )])
    }
}

// ---- Live events --------------------------------------------------------------

/// One server-sent event as a client parses it: `event` names the type and
/// `data` is a JSON document whose schema depends on it. Durable events
/// carry an `id` (the user's event number, gapless); `message.delta`,
/// `message.queued` and `message.restarted` are transient and carry none.
/// The stream's first frame carries only `id:` and `retry:` (no data), and
/// keep-alive comments come every 15 s.
pub struct ServerEvent;

impl ToSchema for ServerEvent {
    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        use todo_common::events::{
            ConversationDeleted, MessageDelta, MessageEnded, MessageProcessing, MessageQueued,
            MessageRestarted, ReminderDue, TaskCompleted, ToolCalled,
        };
        add::<todo_common::domain::Task>(schemas);
        add::<TaskCompleted>(schemas);
        add::<ReminderDue>(schemas);
        add::<todo_common::domain::Conversation>(schemas);
        add::<todo_common::domain::ChatMessage>(schemas);
        add::<ConversationDeleted>(schemas);
        add::<MessageProcessing>(schemas);
        add::<MessageDelta>(schemas);
        add::<MessageQueued>(schemas);
        add::<MessageRestarted>(schemas);
        add::<ToolCalled>(schemas);
        add::<MessageEnded>(schemas);
        add::<Resync>(schemas);
        add::<SessionExpired>(schemas);
    }
}

/// Registers `T` and the schemas it refers to.
fn add<T: ToSchema>(schemas: &mut Vec<(String, RefOr<Schema>)>) {
    schemas.push((T::name().into_owned(), T::schema()));
    T::schemas(schemas);
}

impl PartialSchema for ServerEvent {
    fn schema() -> RefOr<Schema> {
        // Every event type (todo_common::events::Event), then the frames the
        // stream itself sends.
        let mut one_of = OneOfBuilder::new();
        for (kind, data, durable, description) in todo_common::events::KINDS {
            one_of = one_of.item(event(kind, data, durable, description));
        }
        one_of = one_of.item(event(
            "resync",
            "Resync",
            false,
            "Events after your `Last-Event-ID` are no longer kept: re-fetch tasks and messages.",
        ));
        one_of = one_of.item(event(
            "session.expired",
            "SessionExpired",
            false,
            "The last frame of a stream whose token expired or was logged out.",
        ));
        one_of
            .description(Some(
                "One event of `GET /api/{user_id}/events` (`event:`, `id:` and `data:` lines). \
                 `data` is JSON of the schema named in `contentSchema`.",
            ))
            .into()
    }
}

fn event(kind: &str, data: &str, durable: bool, description: &str) -> ObjectBuilder {
    let mut object = ObjectBuilder::new()
        .title(Some(kind))
        .description(Some(description))
        .property(
            "event",
            ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some([kind])),
        )
        .required("event")
        .property(
            "data",
            ObjectBuilder::new()
                .schema_type(Type::String)
                .content_media_type("application/json")
                .content_schema(Some(Ref::from_schema_name(data))),
        )
        .required("data");
    if durable {
        object = object
            .property(
                "id",
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .pattern(Some("^[0-9]+$"))
                    .description(Some(
                        "The user's event number: send it back as `Last-Event-ID`.",
                    )),
            )
            .required("id");
    }
    object
}

// The frames the event stream itself sends (routes/events.rs).

/// `resync`: the events after the client's id are no longer kept.
#[derive(Serialize, ToSchema)]
pub struct Resync {
    pub reason: &'static str,
    /// Where the stream continues.
    pub last_event_id: i64,
}

/// `session.expired`: the stream's last frame.
#[derive(Serialize, ToSchema)]
pub struct SessionExpired {
    /// `token expired` or `token revoked`.
    pub reason: &'static str,
    pub message: &'static str,
}
