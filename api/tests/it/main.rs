//! Integration tests: the real API against the real PostgreSQL of this machine.

mod auth;
mod conversations;
mod errors;
mod health;
mod helpers;
mod jwks;
mod migrations;
mod observability;
mod startup;
mod tasks;
mod web;
