//! The chat pipeline end to end: the real API, RabbitMQ, workers and
//! PostgreSQL; only the model is replaced, by mock-openai over HTTP (or the
//! built-in offline assistant).

mod alerts;
mod chat;
mod concurrency;
mod failures;
mod fairness;
mod hybrid;
mod kill;
mod limiter;
mod linked;
mod live;
mod models;
mod ordering;
mod outages;
mod procs;
mod recovery;
mod reminders;
mod scale;
mod startup;
mod undo;
