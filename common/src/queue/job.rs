//! The message on the turn queue.

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
