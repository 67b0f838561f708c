//! Workers as real processes (the `todo-worker` binary), for tests that
//! kill them or that need separate processes sharing only PostgreSQL and RabbitMQ.

use std::ops::{Deref, DerefMut};
use std::process::{Child, Command, Stdio};

use testkit::{Mock, TestApp};

/// A running `todo-worker`, SIGKILLed when dropped: a test that fails
/// half-way leaves no worker behind (one would keep its queues alive).
pub struct WorkerProcess(Child);

impl Deref for WorkerProcess {
    type Target = Child;
    fn deref(&self) -> &Child {
        &self.0
    }
}

impl DerefMut for WorkerProcess {
    fn deref_mut(&mut self) -> &mut Child {
        &mut self.0
    }
}

impl Drop for WorkerProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub fn worker_process(app: &TestApp, mock: &Mock, extra: &[(&str, &str)]) -> WorkerProcess {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_todo-worker"));
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("ENVIRONMENT", "test")
        .env("LOG_LEVEL", "error")
        .env("DATABASE_URL", app.config.database.url.expose())
        .env("RABBITMQ_PREFIX", &app.config.broker.prefix)
        .env("RABBITMQ_QUEUE_EXPIRES_SECONDS", "600")
        .env("OPENAI_BASE_URL", &mock.url)
        .env("OPENAI_API_KEY", "sk-test")
        // The model's path, as with testkit's workers.
        .env("ASSISTANT_MODE", "model")
        .env("WORKER_METRICS_PORT", "0");
    for (k, v) in extra {
        cmd.env(k, v);
    }
    WorkerProcess(
        cmd.current_dir(std::env::temp_dir())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start todo-worker"),
    )
}
