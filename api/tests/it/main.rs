//! Integration tests: the real API against the real PostgreSQL of this machine.

mod auth;
mod compression;
mod conversations;
mod due_dates;
mod errors;
mod event_resume;
mod health;
mod helpers;
mod idempotency;
mod jwks;
mod limits;
mod mcp;
mod metrics_listener;
mod migrations;
mod observability;
mod openapi;
mod quick_add;
mod recurring;
mod reminders;
mod startup;
mod streams;
mod tasks;
mod time_zones;
mod tokens;
mod web;
mod web_types;
