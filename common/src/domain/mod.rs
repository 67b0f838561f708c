//! Domain types. Each is built only through a parse that enforces its rules,
//! so a value that exists is valid wherever it travels (REST, chat tools, MCP).

pub mod chat;
pub mod due;
pub mod idempotency;
pub mod recurrence;
pub mod reminder;
pub mod schema;
pub mod task;
pub(crate) mod text;
pub mod user;
pub mod zone;

pub use chat::{ChatMessage, Conversation, MessageRole, MessageStatus};
pub use due::{Due, DueSpec};
pub use idempotency::IdempotencyKey;
pub use recurrence::{Anchor, Recurrence, RecurrenceInput, RecurrenceSpec};
pub use reminder::{Reminder, ReminderInput, ReminderSpec, Reminders};
pub use task::{Priority, Task, TaskDescription, TaskId, TaskTags, TaskTitle};
pub use user::{DisplayName, Email, Password, UserId};
pub use zone::TimeZone;
