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

/// RabbitMQ's frames are at most this large on our connections unless the
/// RABBITMQ_URL sets `frame_max` itself. lapin keeps two I/O buffers of 32
/// frames per connection: at the broker's default (128 KiB) that is 8 MiB
/// for messages of a few hundred bytes, at 16 KiB it is 1 MiB (issue 23,
/// docs/benchmarks.md "Sign-up storm"). Larger bodies are sent in several
/// frames, as AMQP allows.
const FRAME_MAX: u32 = 16 * 1024;

/// Opens a connection to `url` (one RabbitMQ address) with our frame size.
async fn connect(url: &str) -> lapin::Result<lapin::Connection> {
    let mut uri: lapin::uri::AMQPUri = url
        .parse()
        .map_err(|e: String| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
    uri.query.frame_max.get_or_insert(FRAME_MAX);
    lapin::Connection::connect_uri(uri, lapin::ConnectionProperties::default()).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::DEFAULT_RABBITMQ_URL;
    use lapin::options::{BasicGetOptions, BasicPublishOptions, QueueDeclareOptions};
    use lapin::types::FieldTable;

    #[tokio::test]
    async fn frames_are_16_kib_and_a_larger_message_arrives_whole() {
        let conn = connect(DEFAULT_RABBITMQ_URL).await.expect("RabbitMQ is up");
        assert_eq!(conn.configuration().frame_max(), FRAME_MAX);
        let channel = conn.create_channel().await.unwrap();
        let options = QueueDeclareOptions {
            exclusive: true,
            auto_delete: true,
            ..Default::default()
        };
        let queue = channel
            .queue_declare("".into(), options, FieldTable::default())
            .await
            .unwrap();
        // Five frames' worth, every byte different from its neighbours.
        let body: Vec<u8> = (0..5 * FRAME_MAX).map(|i| (i % 251) as u8).collect();
        channel
            .basic_publish(
                "".into(),
                queue.name().as_str().into(),
                BasicPublishOptions::default(),
                &body,
                lapin::BasicProperties::default(),
            )
            .await
            .unwrap();
        let got = loop {
            let get = BasicGetOptions { no_ack: true };
            if let Some(m) = channel.basic_get(queue.name().clone(), get).await.unwrap() {
                break m;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        };
        assert_eq!(got.delivery.data, body);
    }

    #[tokio::test]
    async fn a_url_that_sets_its_own_frame_max_keeps_it() {
        let url = format!("{DEFAULT_RABBITMQ_URL}?frame_max=8192");
        let conn = connect(&url).await.expect("RabbitMQ is up");
        assert_eq!(conn.configuration().frame_max(), 8192);
    }
}
