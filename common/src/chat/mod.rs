//! Conversations and messages: what the API stores when a person writes,
//! what the worker claims and answers, and the outbox between them.

pub mod conversations;
pub mod messages;
pub mod outbox;
pub mod turns;

/// Longest chat message accepted, in characters after trimming.
pub const MAX_MESSAGE_CHARS: usize = 4000;
