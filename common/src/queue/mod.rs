//! RabbitMQ, behind one door: the topology every process declares, a
//! connection that reconnects by itself (lapin does not) with publisher
//! confirms, and typed receiving (turns with ack / retry later / refuse,
//! live messages per user, a probe for preflight). No other module uses the
//! client library.

mod broker;
mod consume;
mod job;
mod topology;

pub use broker::{Broker, PublishError};
pub use consume::{
    Incoming, LiveMessage, LiveQueue, LiveStream, Probe, QueueError, TurnDelivery, TurnSubscription,
};
pub use job::TurnJob;
pub use topology::{RetryDelay, Topology};
