//! RabbitMQ: the topology every process declares, and a connection that
//! reconnects by itself (lapin does not) with publisher confirms.

mod broker;
mod job;
mod topology;

pub use broker::{Broker, PublishError};
pub use job::TurnJob;
pub use topology::{RetryDelay, Topology};
