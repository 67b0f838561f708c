//! Extractors: authentication and input parsing, so handlers only see
//! verified users and well-formed values (and every rejection is our JSON).

mod auth;
mod client_ip;
mod idempotency;
mod input;
mod request_id;

pub use auth::{AuthToken, AuthUser, StreamScope, UserScope};
pub use client_ip::ClientIp;
pub use idempotency::{IdempotencyKeyHeader, mark_replayed};
pub use input::{ApiJson, ApiPath, ApiQuery, BODY_LIMIT, OptionalJson};
pub use request_id::RequestId;
