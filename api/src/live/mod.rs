//! Live delivery to this instance's SSE streams, MCP watches and waiting posts.
//!
//! Every API instance consumes the events exchange through its own
//! exclusive, auto-delete queue, bound only for the users that have a
//! subscriber here. A notice says "this user has new events" and carries
//! them as stored (unless large); the hub hands them to all of that user's
//! subscribers when they follow on from what it handed out, and otherwise
//! reads them from PostgreSQL (`todo_common::events`) once for all of them,
//! so it never matters which instance or process produced them, or in
//! which order notices arrive.

mod hub;
mod slots;

pub use hub::{Hub, Live, Subscription, Wants};
pub use slots::{Full, Slot, StreamSlots};
