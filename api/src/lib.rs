//! The Todo Chat HTTP API.

pub mod accounts;
pub mod auth;
pub mod background;
pub mod error;
pub mod extract;
pub mod live;
pub mod mcp;
pub mod middleware;
pub mod openapi;
pub mod ops;
pub mod probe;
pub mod relay;
pub mod routes;
pub mod serve;
pub mod startup;
pub mod state;

pub use startup::{build_router, build_state, run};
