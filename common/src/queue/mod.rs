//! RabbitMQ: the topology every process declares, and a connection that
//! reconnects by itself (lapin does not) with publisher confirms.

mod broker;
mod topology;

pub use broker::{Broker, PublishError};
pub use topology::{RetryDelay, Topology};
