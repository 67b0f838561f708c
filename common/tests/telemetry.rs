//! What an operator's log shows, through the services' own subscriber set
//! up as in production (JSON), when the RabbitMQ client reports a broker
//! problem: a warning, never an ERROR to be paged for (issue 19). Its own
//! test binary: the subscriber is process-wide, and lapin logs from its
//! own thread.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use lapin::options::QueueDeclareOptions;
use lapin::types::{AMQPValue, FieldTable};
use serde_json::Value;
use todo_common::config::{ApiConfig, DEFAULT_RABBITMQ_URL};

/// Where the log lines go instead of stdout.
#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Buffer {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Buffer {
    fn lines(&self) -> Vec<Value> {
        String::from_utf8_lossy(&self.0.lock().unwrap())
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
            .collect()
    }
}

#[tokio::test]
async fn a_channel_the_broker_closes_is_logged_as_a_warning_not_an_error() {
    let vars: HashMap<String, String> = [("ENVIRONMENT", "test"), ("LOG_FORMAT", "json")]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let config = ApiConfig::from_vars(vars).unwrap();
    let buffer = Buffer::default();
    let writer = buffer.clone();
    let _guard = todo_common::telemetry::init_writing_to(
        &config.general,
        &config.observability,
        move || writer.clone(),
    );

    // A queue declared again with other arguments: RabbitMQ closes the
    // channel (PRECONDITION_FAILED), and lapin logs `Channel closed` at
    // ERROR, as it does for each channel a broker restart closes.
    let conn = lapin::Connection::connect(DEFAULT_RABBITMQ_URL, Default::default())
        .await
        .expect("RabbitMQ is up");
    let queue = format!("telemetry-{}", uuid::Uuid::new_v4().simple());
    let exclusive = QueueDeclareOptions {
        exclusive: true,
        ..Default::default()
    };
    let ch = conn.create_channel().await.unwrap();
    ch.queue_declare(queue.as_str().into(), exclusive, FieldTable::default())
        .await
        .unwrap();
    let mut other = FieldTable::default();
    other.insert("x-max-length".into(), AMQPValue::LongInt(10));
    let ch = conn.create_channel().await.unwrap();
    let refused = ch
        .queue_declare(queue.as_str().into(), exclusive, other)
        .await
        .expect_err("declared with other arguments");
    assert!(
        refused.to_string().contains("PRECONDITION_FAILED"),
        "{refused}"
    );
    // Ours stay what they are.
    tracing::error!("a failure of our own");

    let deadline = Instant::now() + Duration::from_secs(10);
    let closed = loop {
        let lines = buffer.lines();
        if let Some(line) = lines.iter().find(|l| {
            l["message"]
                .as_str()
                .is_some_and(|m| m.contains("Channel closed"))
        }) {
            break line.clone();
        }
        assert!(
            Instant::now() < deadline,
            "lapin never logged it: {lines:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(closed["level"], "WARN", "{closed}");
    assert_eq!(closed["target"], "lapin", "{closed}");
    assert_eq!(closed["lapin_target"], "lapin::channel", "{closed}");
    // What the broker said is kept.
    assert!(
        closed["message"]
            .as_str()
            .unwrap()
            .contains("PRECONDITION_FAILED"),
        "{closed}"
    );

    let _ = conn.close(200, "done".into()).await;
    let errors: Vec<Value> = buffer
        .lines()
        .into_iter()
        .filter(|l| l["level"] == "ERROR")
        .collect();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0]["message"], "a failure of our own");
}
