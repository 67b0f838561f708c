//! What every MCP request passes before rmcp sees it: the `Host` and
//! `Origin` checks the MCP transport spec asks of HTTP servers (a web page
//! reached through DNS rebinding must not drive a local server), then the
//! bearer token, verified exactly as REST verifies it, then the session's
//! owner. rmcp repeats the Host/Origin checks with the same lists; doing
//! them here first means a refused origin never reaches token checking.

use std::collections::HashMap;
use std::sync::Arc;

use crate::auth::{Identity, Revocations, TokenDigest};
use axum::Json;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use parking_lot::Mutex;
use serde_json::{Value, json};
use todo_common::domain::UserId;

use crate::error::ApiError;
use crate::extract::AuthToken;
use crate::live::{Full, Slot, StreamSlots};
use crate::state::AppState;
use todo_common::metric;

const SESSION_HEADER: &str = "mcp-session-id";
const METADATA_PATH: &str = "/.well-known/oauth-protected-resource";

/// Which user opened each session on this instance, and with which token.
/// A session id is a bearer secret of its own; binding it to the token's
/// user means another user's token cannot use (or listen on) a session that
/// leaked. The token is kept so the session ends with it (logout, expiry),
/// as an SSE stream does (issue 19, item 2). Each session also holds a place
/// in caps per user and per instance, the same mechanism as SSE streams in a
/// set of their own (issue 19, item 1): each holds a task and maybe a live
/// subscription, so an account must not open them without bound.
pub(super) struct SessionOwners {
    open: Mutex<HashMap<String, Opener>>,
    places: Arc<StreamSlots>,
}

struct Opener {
    identity: Identity,
    digest: TokenDigest,
    /// Freed when the session is forgotten.
    _place: Slot,
}

impl SessionOwners {
    pub(super) fn new(config: &todo_common::config::Mcp) -> Self {
        Self {
            open: Mutex::default(),
            places: StreamSlots::new(
                metric::MCP_SESSION_PLACES,
                config.max_sessions_per_user,
                config.max_sessions,
            ),
        }
    }

    fn owner(&self, session: &str) -> Option<UserId> {
        self.open
            .lock()
            .get(session)
            .map(|o| o.identity.user_id.clone())
    }

    fn insert(&self, session: String, identity: Identity, digest: TokenDigest, place: Slot) {
        let opener = Opener {
            identity,
            digest,
            _place: place,
        };
        self.open.lock().insert(session, opener);
    }

    fn remove(&self, session: &str) {
        self.open.lock().remove(session);
    }

    /// Keeps only the sessions still open.
    pub(super) fn retain(&self, open: &[String]) {
        self.open.lock().retain(|id, _| open.contains(id));
    }

    /// Forgets and returns the sessions whose opening token was revoked
    /// (here, or on another instance once the revocation sync brought it)
    /// or has expired: the caller closes them.
    pub(super) fn take_ended(&self, revocations: &Revocations) -> Vec<String> {
        let now = chrono::Utc::now();
        let mut ended = Vec::new();
        self.open.lock().retain(|id, opener| {
            let over = opener.identity.expires_at <= now
                || matches!(
                    revocations.check(&opener.digest, &opener.identity),
                    Err(todo_common::Error::Unauthenticated(_))
                );
            if over {
                ended.push(id.clone());
            }
            !over
        });
        ended
    }
}

#[derive(Clone)]
pub(super) struct Guard {
    app: AppState,
    owners: Arc<SessionOwners>,
}

impl Guard {
    pub(super) fn new(app: AppState, owners: Arc<SessionOwners>) -> Self {
        Self { app, owners }
    }

    /// The MCP endpoint as clients reach it: MCP_PUBLIC_URL, or this
    /// request's (allowed) Host.
    fn resource(&self, headers: &HeaderMap) -> String {
        match &self.app.config.mcp.public_url {
            Some(url) => url.clone(),
            None => format!("http://{}/mcp", host_of(headers).unwrap_or("localhost")),
        }
    }

    fn metadata_url(&self, headers: &HeaderMap) -> String {
        let resource = self.resource(headers);
        format!("{}{METADATA_PATH}", origin_of(&resource))
    }

    fn host_allowed(&self, host: &str) -> bool {
        let Ok(authority) = host.parse::<axum::http::uri::Authority>() else {
            return false;
        };
        let name = authority
            .host()
            .trim_start_matches('[')
            .trim_end_matches(']');
        self.app.config.mcp.allowed_hosts.iter().any(|allowed| {
            allowed.eq_ignore_ascii_case(name) || allowed.eq_ignore_ascii_case(authority.as_str())
        })
    }

    fn origin_allowed(&self, origin: &str) -> bool {
        let origin = origin.trim_end_matches('/');
        self.app
            .config
            .mcp
            .allowed_origins
            .iter()
            .any(|allowed| allowed.eq_ignore_ascii_case(origin))
    }
}

fn host_of(headers: &HeaderMap) -> Option<&str> {
    headers.get(header::HOST)?.to_str().ok()
}

/// `https://mcp.example.com/mcp` -> `https://mcp.example.com`
fn origin_of(url: &str) -> &str {
    let after_scheme = url.find("://").map_or(0, |i| i + 3);
    match url[after_scheme..].find('/') {
        Some(slash) => &url[..after_scheme + slash],
        None => url,
    }
}

fn forbidden(message: &'static str) -> Response {
    ApiError::Forbidden(message).into_response()
}

/// The middleware: Host, Origin, token, session owner.
pub(super) async fn check(State(guard): State<Guard>, req: Request, next: Next) -> Response {
    let host_ok = host_of(req.headers()).is_some_and(|h| guard.host_allowed(h));
    if !host_ok {
        metrics::counter!(metric::MCP_REQUESTS_REFUSED_TOTAL, "reason" => "host").increment(1);
        return forbidden("this Host is not served here (MCP_ALLOWED_HOSTS)");
    }
    if let Some(origin) = req.headers().get(header::ORIGIN) {
        let allowed = origin.to_str().is_ok_and(|o| guard.origin_allowed(o));
        if !allowed {
            metrics::counter!(metric::MCP_REQUESTS_REFUSED_TOTAL, "reason" => "origin")
                .increment(1);
            return forbidden("requests from this Origin are not allowed (MCP_ALLOWED_ORIGINS)");
        }
    }
    if req.uri().path().starts_with(METADATA_PATH) {
        return next.run(req).await;
    }

    let (mut parts, body) = req.into_parts();
    // Every request's own token is verified and checked against revocations
    // here, so a logged-out token is a 401 even on a session it opened.
    let (identity, digest) = match AuthToken::from_request_parts(&mut parts, &guard.app).await {
        Ok(AuthToken { identity, digest }) => (identity, digest),
        Err(e) => {
            let mut response = e.into_response();
            if response.status() == StatusCode::UNAUTHORIZED {
                metrics::counter!(metric::MCP_REQUESTS_REFUSED_TOTAL, "reason" => "token")
                    .increment(1);
                challenge(&mut response, &guard.metadata_url(&parts.headers));
            }
            return response;
        }
    };
    let session = parts
        .headers
        .get(SESSION_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    if let Some(session) = &session
        && guard
            .owners
            .owner(session)
            .is_some_and(|owner| owner != identity.user_id)
    {
        metrics::counter!(metric::MCP_REQUESTS_REFUSED_TOTAL, "reason" => "session").increment(1);
        return forbidden("this MCP session belongs to another user");
    }
    // A POST without a session is `initialize`, or a sessionless 2026-07-28
    // request, which holds its place while its answer is being sent.
    let place = match (&session, &parts.method) {
        (None, &Method::POST) => match guard.owners.places.acquire(&identity.user_id) {
            Ok(place) => Some(place),
            Err(full) => {
                metrics::counter!(metric::MCP_REQUESTS_REFUSED_TOTAL, "reason" => "sessions")
                    .increment(1);
                return too_many(full).into_response();
            }
        },
        _ => None,
    };
    let opener = identity.clone();
    let closing = parts.method == Method::DELETE;
    parts.extensions.insert(identity);
    // For subscriptions, which end with the token that made them.
    parts.extensions.insert(digest);
    let response = next.run(Request::from_parts(parts, body)).await;
    match (session, response.headers().get(SESSION_HEADER)) {
        // initialize: the session is born, and it is this user's.
        (None, Some(created)) => {
            if let (Ok(created), Some(place)) = (created.to_str(), place) {
                guard
                    .owners
                    .insert(created.to_owned(), opener, digest, place);
            }
        }
        // Sessionless (2026-07-28): the answer may be a long
        // `subscriptions/listen` stream, a watch like a session's; it holds
        // its place for as long as its body is being sent.
        (None, None) => {
            if let Some(place) = place {
                return hold_while_sent(response, place);
            }
        }
        (Some(session), _) if closing && response.status().is_success() => {
            guard.owners.remove(&session);
            // rmcp answers 202; the Python SDK expects 200 or 204 (and logs a
            // failure otherwise). The session is closed either way: say so.
            if response.status() == StatusCode::ACCEPTED {
                return StatusCode::NO_CONTENT.into_response();
            }
        }
        _ => {}
    }
    response
}

/// The same response, whose body keeps `place` until it is dropped (sent
/// to the end, or the client went away).
fn hold_while_sent(response: Response, place: Slot) -> Response {
    let (parts, body) = response.into_parts();
    let frames = body.into_data_stream().map(move |frame| {
        let _held = &place;
        frame
    });
    Response::from_parts(parts, axum::body::Body::from_stream(frames))
}

fn too_many(full: Full) -> ApiError {
    ApiError::TooManySessions(match full {
        Full::User(max) => format!(
            "this account already has {max} open MCP sessions here; close one (DELETE /mcp with its Mcp-Session-Id) or wait for an idle one to expire, then retry"
        ),
        Full::Instance(max) => {
            format!("this server is holding its maximum of {max} MCP sessions; retry shortly")
        }
    })
}

/// Adds `resource_metadata` to the Bearer challenge (MCP authorization
/// spec; RFC 9728 §5.1), so an OAuth-aware client can find where to log in.
fn challenge(response: &mut Response, metadata_url: &str) {
    let base = response
        .headers()
        .get(header::WWW_AUTHENTICATE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("Bearer")
        .to_owned();
    let value = format!("{base}, resource_metadata=\"{metadata_url}\"");
    if let Ok(value) = HeaderValue::from_str(&value) {
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, value);
    }
}

/// OAuth 2.0 Protected Resource Metadata (RFC 9728): this resource, and the
/// authorization server that issues its tokens when one is configured
/// (Better Auth's issuer with AUTH_JWKS_URL; else BETTER_AUTH_URL). Our own
/// `/api/auth/login` tokens need no authorization server to be found.
pub(super) async fn resource_metadata(
    State(guard): State<Guard>,
    headers: HeaderMap,
) -> Json<Value> {
    let config = &guard.app.config.auth;
    let issuer = match &config.jwks_url {
        Some(jwks) => config
            .jwt_issuer
            .clone()
            .or_else(|| config.better_auth_url.clone())
            .or_else(|| Some(origin_of(jwks).to_owned())),
        None => config.better_auth_url.clone(),
    };
    let mut metadata = json!({
        "resource": guard.resource(&headers),
        "resource_name": "Todo Chat",
        "bearer_methods_supported": ["header"],
    });
    if let Some(issuer) = issuer {
        metadata["authorization_servers"] = json!([issuer]);
    }
    Json(metadata)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_of_urls() {
        assert_eq!(
            origin_of("https://mcp.example.com/mcp"),
            "https://mcp.example.com"
        );
        assert_eq!(
            origin_of("http://127.0.0.1:5555/mcp"),
            "http://127.0.0.1:5555"
        );
        assert_eq!(origin_of("http://host"), "http://host");
    }
}
