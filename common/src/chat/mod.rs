//! Conversations and messages: what the API stores when a person writes,
//! what the worker claims and answers, and the outbox between them.

pub mod conversations;
pub mod messages;
pub mod outbox;
pub mod turns;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::domain::UserId;

/// The queue message that asks a worker to answer one user message. It
/// carries ids only: PostgreSQL holds the text. `v` versions the shape.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TurnJob {
    pub v: u32,
    pub message_id: Uuid,
    pub conversation_id: Uuid,
    pub user_id: UserId,
    #[serde(default)]
    pub request_id: Option<String>,
    /// Times a worker put this turn back because an earlier one was unfinished.
    #[serde(default)]
    pub deferrals: u32,
}

impl TurnJob {
    pub const VERSION: u32 = 1;
}

/// Longest chat message accepted, in characters after trimming.
pub const MAX_MESSAGE_CHARS: usize = 4000;
